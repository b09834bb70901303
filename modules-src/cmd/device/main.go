// Command device is the Ansible module stepfleet.smallstep.device.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/device"
)

func main() { ansible.Run("device", device.Spec(), device.Run) }
