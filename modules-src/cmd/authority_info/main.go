// Command authority_info is the Ansible module stepfleet.smallstep.authority_info.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/authority"
)

func main() { ansible.Run("authority_info", authority.Spec(), authority.Run) }
