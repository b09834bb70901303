package info

import (
	"testing"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/fakeapi"
)

// The fake Smallstep API is shared by the modules' tests: internal/fakeapi.
type reply = fakeapi.Reply

// reqID is the request ID of every answer; error messages must name it.
const reqID = "req-1"

func newFake(t *testing.T) *fakeapi.API {
	t.Helper()
	f := fakeapi.New(t)
	f.RequestID = reqID
	return f
}

// run executes a module on args against f, in check mode when check is
// true, and returns the result as Ansible reads it.
func run(t *testing.T, f *fakeapi.API, spec *ansible.Spec, h ansible.Handler, check bool, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{"_ansible_check_mode": check}
	for k, v := range args {
		all[k] = v
	}
	return fakeapi.Run(t, f, spec, h, all)
}
