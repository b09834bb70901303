// Command tpm_ek_info is the Ansible module stepfleet.smallstep.tpm_ek_info,
// run on the target.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/ekinfo"
)

func main() { ansible.Run("tpm_ek_info", ekinfo.Spec(), ekinfo.Run) }
