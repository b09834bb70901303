package smallstep

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

// token is the API token every test run uses; no result or error may show it.
const token = "tok-Secret-4f9c2a"

// seen is one request as the fake API received it.
type seen struct {
	Method string
	Path   string // escaped, exactly as on the wire, without the query
	Query  url.Values
	Header http.Header
	Body   string
}

// reply is a canned answer.
type reply struct {
	Status int
	Body   string
	Header map[string]string
}

// fakeAPI is an httptest server under /api that records every request and
// answers from a small store: PUT stores the JSON body under the escaped
// path (through onPut, standing in for server-side defaults) and answers
// it, GET answers the stored object or 404, DELETE removes it. A canned
// reply registered with on wins over the store.
type fakeAPI struct {
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []seen
	objects map[string]any
	replies map[string]reply
	onPut   func(path string, body map[string]any) map[string]any
}

func newFake(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{objects: map[string]any{}, replies: map[string]reply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// url is the api_url the modules are given.
func (f *fakeAPI) url() string { return f.srv.URL + "/api" }

// store seeds the object at path (an escaped path below /api).
func (f *fakeAPI) store(path string, obj any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects["/api"+path] = obj
}

// stored returns the object at path (below /api), nil when there is none.
func (f *fakeAPI) stored(path string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects["/api"+path]
}

// on makes "METHOD path" answer r. path is below /api, with or without a
// query; one with the query wins.
func (f *fakeAPI) on(method, path string, r reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[method+" /api"+path] = r
}

func (f *fakeAPI) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// writes are the requests other than GET.
func (f *fakeAPI) writes() []seen {
	var out []seen
	for _, r := range f.requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// calls lists the requests as "METHOD path?query", for compact assertions.
func (f *fakeAPI) calls() []string {
	var out []string
	for _, r := range f.requests() {
		s := r.Method + " " + strings.TrimPrefix(r.Path, "/api")
		if len(r.Query) > 0 {
			s += "?" + r.Query.Encode()
		}
		out = append(out, s)
	}
	return out
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, _, _ := strings.Cut(r.RequestURI, "?")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, seen{Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
	w.Header().Set("Content-Type", "application/json")
	rep, ok := f.replies[r.Method+" "+r.RequestURI]
	if !ok {
		rep, ok = f.replies[r.Method+" "+path]
	}
	if ok {
		for k, v := range rep.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.Status)
		_, _ = io.WriteString(w, rep.Body)
		return
	}
	answer := func(status int, v any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch r.Method {
	case http.MethodGet:
		if obj, ok := f.objects[path]; ok {
			answer(http.StatusOK, obj)
			return
		}
	case http.MethodPut:
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			answer(http.StatusBadRequest, map[string]string{"message": "body is not a JSON object"})
			return
		}
		if f.onPut != nil {
			obj = f.onPut(path, obj)
		}
		f.objects[path] = obj
		answer(http.StatusOK, obj)
		return
	case http.MethodDelete:
		if _, ok := f.objects[path]; ok {
			delete(f.objects, path)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	answer(http.StatusNotFound, map[string]string{"message": "not found"})
}

// run executes the module on args (connection options to the fake added,
// check and diff mode off unless args say otherwise) and returns its result.
func run(t *testing.T, f *fakeAPI, spec *ansible.Spec, h ansible.Handler, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{"api_url": f.url(), "api_token": token, "_ansible_check_mode": false, "_ansible_diff": true}
	for k, v := range args {
		all[k] = v
	}
	b, err := json.Marshal(all)
	require.NoError(t, err)
	res := ansible.Execute("test", spec, b, func(string) (string, bool) { return "", false }, h)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.NotContains(t, string(out), token, "the token leaked into the result")
	// Back through JSON, as Ansible reads it.
	var generic map[string]any
	require.NoError(t, json.Unmarshal(out, &generic))
	return generic
}

// bodyOf decodes a request's JSON body.
func bodyOf(t *testing.T, r seen) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), "body %q", r.Body)
	return v
}

// jsonObj decodes a JSON literal, for expected values.
func jsonObj(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}
