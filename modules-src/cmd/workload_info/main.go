// Command workload_info is the Ansible module stepfleet.smallstep.workload_info.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/info"
)

func main() { ansible.Run("workload_info", info.WorkloadSpec(), info.RunWorkload) }
