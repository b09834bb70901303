package authority

import "github.com/stepfleet/smallstep/modules-src/internal/fakeapi"

// The fake Smallstep API is shared by the modules' tests: internal/fakeapi.
type (
	fakeAPI = fakeapi.API
	seen    = fakeapi.Seen
	reply   = fakeapi.Reply
)

const token = fakeapi.Token

var (
	newFake = fakeapi.New
	run     = fakeapi.Run
	bodyOf  = fakeapi.BodyOf
	jsonObj = fakeapi.JSONObj
)
