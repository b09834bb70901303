// Command enrollment_token is the Ansible module
// stepfleet.smallstep.enrollment_token.
package main

import (
	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/enrollment"
)

func main() { ansible.Run("enrollment_token", enrollment.Spec(), enrollment.Run) }
