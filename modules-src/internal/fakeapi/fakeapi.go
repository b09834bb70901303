// Package fakeapi is the Smallstep API as the modules' unit tests see it:
// an httptest server under /api that records every request and answers
// from a small store.
package fakeapi

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
// Reply registered with On wins over the store. Like the real API, it
// answers 401 to a request without the bearer Token, so every test also
// pins that the token is sent.
type API struct {
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []Seen
	objects map[string]any
	replies map[string]Reply
	lists   map[string]string // list path -> prefix of its items, both with /api
	// OnPut, when set, turns a PUT body into the stored object, or refuses
	// it with 400 by returning nil, as the API refuses a malformed body. It
	// runs with the store locked: read earlier objects with Peek.
	OnPut func(path string, body map[string]any) map[string]any
	// RequestID, when set, is the X-Request-Id of every answer, so that
	// tests can pin the ID that error messages must name.
	RequestID string
	// WriteDelay holds every write (not GET) this long before it is
	// answered, so that concurrent writes overlap and MaxWritesInFlight
	// shows how many a module sends at once.
	WriteDelay time.Duration

	inFlight, maxInFlight atomic.Int32
}

// New starts a fake API that stops with the test.
func New(t *testing.T) *API {
	t.Helper()
	// Every team has a list of authorities, which is how clients tell a
	// missing object from a wrong api_url (smallstep.Client.Absent).
	f := &API{objects: map[string]any{"/api/authorities": []any{}}, replies: map[string]Reply{}, lists: map[string]string{}}
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

// ClearReplies drops every canned reply: the server recovers, and answers
// from the store again.
func (f *API) ClearReplies() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = map[string]Reply{}
}

// List makes GET path (below /api) the paged list of the objects stored
// directly below prefix (below /api, ending in "/"), as the API's list
// endpoints are: pagination[first] items (1 to 1000; the client always
// sends it) in the order of their paths, after the cursor
// pagination[after], and X-Next-Cursor when more follow.
func (f *API) List(path, prefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists["/api"+path] = "/api" + prefix
}

// Under returns the paths (below /api) of the objects stored directly
// below prefix, sorted: the items List serves.
func (f *API) Under(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.under("/api" + prefix) {
		out = append(out, strings.TrimPrefix(p, "/api"))
	}
	return out
}

func (f *API) under(prefix string) []string {
	var out []string
	for p := range f.objects {
		if rest, ok := strings.CutPrefix(p, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// MaxWritesInFlight is the most writes the server was handling at once.
func (f *API) MaxWritesInFlight() int { return int(f.maxInFlight.Load()) }

// Requests returns every request so far, in the order they arrived.
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
	if r.Method != http.MethodGet {
		// Counted before the lock: writes waiting for it are in flight too.
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for m := f.maxInFlight.Load(); n > m; m = f.maxInFlight.Load() {
			if f.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(f.WriteDelay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, Seen{Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)})
	w.Header().Set("Content-Type", "application/json")
	if f.RequestID != "" {
		w.Header().Set("X-Request-Id", f.RequestID)
	}
	answer := func(status int, v any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Bearer "+Token {
		answer(http.StatusUnauthorized, map[string]string{"message": "invalid token"})
		return
	}
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
	switch r.Method {
	case http.MethodGet:
		if prefix, ok := f.lists[path]; ok {
			answer(f.page(w.Header(), r.URL.Query(), prefix))
			return
		}
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
		if obj == nil {
			answer(http.StatusBadRequest, map[string]string{"message": "body refused"})
			return
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

// page is one page of the objects below prefix, as status and answer; it
// sets X-Next-Cursor in h. The cursor is the last path served, encoded so
// that clients treat it as opaque.
func (f *API) page(h http.Header, q url.Values, prefix string) (int, any) {
	first, err := strconv.Atoi(q.Get("pagination[first]"))
	if err != nil || first < 1 || first > 1000 {
		return http.StatusBadRequest, map[string]string{"message": "pagination[first] must be 1 to 1000"}
	}
	after, err := base64.RawURLEncoding.DecodeString(q.Get("pagination[after]"))
	if err != nil {
		return http.StatusBadRequest, map[string]string{"message": "pagination[after] is not a cursor from X-Next-Cursor"}
	}
	var paths []string
	for _, p := range f.under(prefix) {
		if p > string(after) {
			paths = append(paths, p)
		}
	}
	items := []any{}
	for _, p := range paths[:min(first, len(paths))] {
		items = append(items, f.objects[p])
	}
	if len(paths) > first {
		h.Set("X-Next-Cursor", base64.RawURLEncoding.EncodeToString([]byte(paths[first-1])))
	}
	return http.StatusOK, items
}

// Run executes the module on args (connection options to the fake added,
// check mode off and diff mode on unless args say otherwise) and returns
// its result.
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
