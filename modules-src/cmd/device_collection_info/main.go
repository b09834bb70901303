// Command device_collection_info is the Ansible module stepfleet.smallstep.device_collection_info.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/info"
)

func main() { ansible.Run("device_collection_info", info.CollectionSpec(), info.RunCollection) }
