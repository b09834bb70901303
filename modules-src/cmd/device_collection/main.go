// Command device_collection is the Ansible module stepfleet.smallstep.device_collection.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/collection"
)

func main() { ansible.Run("device_collection", collection.Spec(), collection.Run) }
