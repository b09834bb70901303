// Command workload is the Ansible module stepfleet.smallstep.workload.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/workload"
)

func main() { ansible.Run("workload", workload.Spec(), workload.Run) }
