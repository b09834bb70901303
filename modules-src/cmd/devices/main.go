// Command devices is the Ansible module stepfleet.smallstep.devices.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/devices"
)

func main() { ansible.Run("devices", devices.Spec(), devices.Run) }
