// Command device_info is the Ansible module stepfleet.smallstep.device_info.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/info"
)

func main() { ansible.Run("device_info", info.DeviceSpec(), info.RunDevice) }
