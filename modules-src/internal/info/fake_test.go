package info

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

// token is the API token every test run uses; no result may show it.
const token = "tok-Secret-7b1e90"

// reply is a canned answer.
type reply struct {
	Status int
	Body   string
	Header map[string]string
}

// fakeAPI is an httptest server under /api that answers canned replies by
// "METHOD path?query" (the escaped path as on the wire; the reply without
// a query matches any query), 404 otherwise, and records every request.
type fakeAPI struct {
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []string
	replies map[string]reply
}

func newFake(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{replies: map[string]reply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// on makes "METHOD target" answer status and body; target is below /api.
func (f *fakeAPI) on(method, target string, status int, body string, header ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := reply{Status: status, Body: body, Header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header[header[i]] = header[i+1]
	}
	f.replies[method+" /api"+target] = r
}

// requests lists the requests as "METHOD path?query", below /api.
func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+strings.TrimPrefix(r.RequestURI, "/api"))
	path, _, _ := strings.Cut(r.RequestURI, "?")
	rep, ok := f.replies[r.Method+" "+r.RequestURI]
	if !ok {
		rep, ok = f.replies[r.Method+" "+path]
	}
	if !ok {
		rep = reply{Status: http.StatusNotFound, Body: `{"message":"not found"}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req-1")
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.Status)
	_, _ = w.Write([]byte(rep.Body))
}

// run executes a module on args with the fake's URL and the token, in check
// mode when check is true, and returns the result as Ansible reads it.
func run(t *testing.T, f *fakeAPI, spec *ansible.Spec, h ansible.Handler, check bool, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{"api_url": f.srv.URL + "/api", "api_token": token, "_ansible_check_mode": check, "_ansible_diff": true}
	for k, v := range args {
		all[k] = v
	}
	b, err := json.Marshal(all)
	require.NoError(t, err)
	res := ansible.Execute("test", spec, b, func(string) (string, bool) { return "", false }, h)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.NotContains(t, string(out), token, "the token leaked into the result")
	var generic map[string]any
	require.NoError(t, json.Unmarshal(out, &generic))
	return generic
}
