// Package fakeapi is the Smallstep API as the modules' unit tests see it:
// an httptest server under /api that records every request and answers
// from a small store.
package fakeapi

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

// Token is the API token every test run uses; no result or error may show it.
const Token = "tok-Secret-4f9c2a"

// Seen is one request as the fake API received it.
type Seen struct {
	Method string
	Path   string // escaped, exactly as on the wire, without the query
	Query  url.Values
	Header http.Header
	Body   string
}

// Reply is a canned answer.
type Reply struct {
	Status int
	Body   string
	Header map[string]string
}

// API is an httptest server under /api that records every request and
// answers from a small store: PUT stores the JSON body under the escaped
// path (through OnPut, standing in for server-side defaults) and answers
// it, GET answers the stored object or 404, DELETE removes it. A canned
// Reply registered with On wins over the store.
type API struct {
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []Seen
	objects map[string]any
	replies map[string]Reply
	// OnPut, when set, turns a PUT body into the stored object. It runs
	// with the store locked: read earlier objects with Peek.
	OnPut func(path string, body map[string]any) map[string]any
}

// New starts a fake API that stops with the test.
func New(t *testing.T) *API {
	t.Helper()
	f := &API{objects: map[string]any{}, replies: map[string]Reply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the api_url the modules are given.
func (f *API) URL() string { return f.srv.URL + "/api" }

// Close stops the server, to test a connection that fails.
func (f *API) Close() { f.srv.Close() }

// Peek returns the object stored at a full path (with /api), for OnPut.
func (f *API) Peek(fullPath string) any { return f.objects[fullPath] }

// Store seeds the object at path (an escaped path below /api).
func (f *API) Store(path string, obj any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects["/api"+path] = obj
}

// Stored returns the object at path (below /api), nil when there is none.
func (f *API) Stored(path string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects["/api"+path]
}

// On makes "METHOD path" answer r. path is below /api, with or without a
// query; one with the query wins.
func (f *API) On(method, path string, r Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[method+" /api"+path] = r
}

func (f *API) Requests() []Seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Seen(nil), f.reqs...)
}

// Writes are the requests other than GET.
func (f *API) Writes() []Seen {
	var out []Seen
	for _, r := range f.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// Calls lists the requests as "METHOD path?query", for compact assertions.
func (f *API) Calls() []string {
	var out []string
	for _, r := range f.Requests() {
		s := r.Method + " " + strings.TrimPrefix(r.Path, "/api")
		if len(r.Query) > 0 {
			s += "?" + r.Query.Encode()
		}
		out = append(out, s)
	}
	return out
}

func (f *API) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, _, _ := strings.Cut(r.RequestURI, "?")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, Seen{Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
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
		if f.OnPut != nil {
			obj = f.OnPut(path, obj)
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

// Run executes the module on args (connection options to the fake added,
// check and diff mode off unless args say otherwise) and returns its result.
func Run(t *testing.T, f *API, spec *ansible.Spec, h ansible.Handler, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{"api_url": f.URL(), "api_token": Token, "_ansible_check_mode": false, "_ansible_diff": true}
	for k, v := range args {
		all[k] = v
	}
	b, err := json.Marshal(all)
	require.NoError(t, err)
	res := ansible.Execute("test", spec, b, func(string) (string, bool) { return "", false }, h)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.NotContains(t, string(out), Token, "the token leaked into the result")
	// Back through JSON, as Ansible reads it.
	var generic map[string]any
	require.NoError(t, json.Unmarshal(out, &generic))
	return generic
}

// BodyOf decodes a request's JSON body.
func BodyOf(t *testing.T, r Seen) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), "body %q", r.Body)
	return v
}

// JSONObj decodes a JSON literal, for expected values.
func JSONObj(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}
