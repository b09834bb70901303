package devices

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// token is the API token every test run uses; no result or error may show it.
const token = "tok-Secret-77d1e0"

// fault is a canned failure for the writes to one device.
type fault struct {
	Status  int
	Message string
}

// fakeAPI is an httptest server that behaves like the API for device
// collections and their devices: the collection, the paged device list
// (ordered by ID, X-Next-Cursor), and PUT, GET and DELETE of one device,
// with the server's own data key added on first registration. It counts
// requests per route and the writes in flight at once.
type fakeAPI struct {
	srv *httptest.Server

	mu          sync.Mutex
	collections map[string]map[string]any
	devices     map[string]map[string]map[string]any // slug -> id -> device
	faults      map[string]fault                     // "METHOD id" -> failure
	calls       []string                             // "METHOD path?query", path escaped
	bodies      map[string]string                    // last body written per "METHOD id"
	delay       time.Duration                        // added to every write
	nextHostID  int

	inFlight    atomic.Int32
	maxInFlight atomic.Int32
}

func newFake(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{
		collections: map[string]map[string]any{},
		devices:     map[string]map[string]map[string]any{},
		faults:      map[string]fault{},
		bodies:      map[string]string{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) url() string { return f.srv.URL + "/api" }

// collection adds a device collection of the given type.
func (f *fakeAPI) collection(slug, typ string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.collections[slug] = map[string]any{"slug": slug, "displayName": slug, "deviceType": typ, "deviceTypeConfiguration": map[string]any{}}
	f.devices[slug] = map[string]map[string]any{}
}

// seed stores a device as the server would hold it after registration.
func (f *fakeAPI) seed(slug, id string, data map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devices[slug][id] = f.registered(nil, id, data)
}

// registered is the device the server keeps after a PUT of data.
func (f *fakeAPI) registered(prev map[string]any, id string, data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		out[k] = v
	}
	created := "2026-01-01T00:00:00.000Z"
	if prev != nil {
		created = prev["createdAt"].(string)
		out["smallstep:host:id"] = prev["data"].(map[string]any)["smallstep:host:id"]
	} else {
		f.nextHostID++
		out["smallstep:host:id"] = fmt.Sprintf("host-%d", f.nextHostID)
	}
	return map[string]any{"id": id, "data": out, "createdAt": created, "updatedAt": "2026-01-02T00:00:00.000Z"}
}

func (f *fakeAPI) device(slug, id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.devices[slug][id]
}

func (f *fakeAPI) count(slug string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.devices[slug])
}

func (f *fakeAPI) fail(method, id string, status int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method+" "+id] = fault{status, message}
}

func (f *fakeAPI) clearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = map[string]fault{}
}

// requests returns the calls so far and forgets them.
func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// byRoute counts calls per method and route, device IDs replaced by {id}.
func byRoute(calls []string) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		c, _, _ = strings.Cut(c, "?")
		method, path, _ := strings.Cut(c, " ")
		seg := strings.Split(path, "/")
		if len(seg) == 5 && seg[3] == "instances" {
			seg[4] = "{id}"
		}
		out[method+" "+strings.Join(seg, "/")]++
	}
	return out
}

func writesOf(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	raw, query, _ := strings.Cut(r.RequestURI, "?")
	path := strings.TrimPrefix(raw, "/api")
	call := r.Method + " " + path
	if query != "" {
		call += "?" + query
	}
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if v != nil {
			_ = json.NewEncoder(w).Encode(v)
		}
	}
	w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(int(time.Now().UnixNano()%1e9)))
	if r.Header.Get("Authorization") != "Bearer "+token {
		answer(http.StatusUnauthorized, map[string]string{"message": "invalid token"})
		return
	}
	var seg []string
	for _, s := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			answer(http.StatusBadRequest, map[string]string{"message": "bad escape"})
			return
		}
		seg = append(seg, u)
	}
	if r.Method != http.MethodGet {
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for {
			m := f.maxInFlight.Load()
			if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		if f.delay > 0 {
			time.Sleep(f.delay)
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	switch {
	case len(seg) == 2 && seg[0] == "device-collections" && r.Method == http.MethodGet:
		if c, ok := f.collections[seg[1]]; ok {
			answer(http.StatusOK, c)
			return
		}
	case len(seg) == 3 && seg[0] == "collections" && seg[2] == "items" && r.Method == http.MethodGet:
		devs, ok := f.devices[seg[1]]
		if !ok {
			break
		}
		q := r.URL.Query()
		first, err := strconv.Atoi(q.Get("pagination[first]"))
		if err != nil || first < 1 || first > 1000 {
			answer(http.StatusBadRequest, map[string]string{"message": "pagination[first] must be 1 to 1000"})
			return
		}
		after := ""
		if c := q.Get("pagination[after]"); c != "" {
			b, err := base64.RawURLEncoding.DecodeString(c)
			if err != nil {
				answer(http.StatusBadRequest, map[string]string{"message": "bad cursor"})
				return
			}
			after = string(b)
		}
		ids := make([]string, 0, len(devs))
		for id := range devs {
			if id > after {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		page := []any{}
		for _, id := range ids[:min(first, len(ids))] {
			page = append(page, devs[id])
		}
		if len(ids) > first {
			w.Header().Set("X-Next-Cursor", base64.RawURLEncoding.EncodeToString([]byte(ids[first-1])))
		}
		answer(http.StatusOK, page)
		return
	case len(seg) == 4 && seg[0] == "collections" && seg[2] == "instances":
		devs, ok := f.devices[seg[1]]
		if !ok {
			break
		}
		id := seg[3]
		if r.Method != http.MethodGet {
			f.bodies[r.Method+" "+id] = string(body)
		}
		if ft, ok := f.faults[r.Method+" "+id]; ok {
			answer(ft.Status, map[string]string{"message": ft.Message})
			return
		}
		switch r.Method {
		case http.MethodGet:
			if d, ok := devs[id]; ok {
				answer(http.StatusOK, d)
				return
			}
		case http.MethodPut:
			var in struct {
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(body, &in); err != nil || in.Data == nil {
				answer(http.StatusBadRequest, map[string]string{"message": "body must be {\"data\": {...}}"})
				return
			}
			devs[id] = f.registered(devs[id], id, in.Data)
			answer(http.StatusOK, devs[id])
			return
		case http.MethodDelete:
			if _, ok := devs[id]; ok {
				delete(devs, id)
				answer(http.StatusNoContent, nil)
				return
			}
		}
	}
	answer(http.StatusNotFound, map[string]string{"message": "not found"})
}

// run executes the module with the connection options to the fake (check
// mode off, diff mode on unless args say otherwise) and returns its result
// as Ansible reads it.
func run(t *testing.T, f *fakeAPI, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{"api_url": f.url(), "api_token": token, "retries": 0, "_ansible_check_mode": false, "_ansible_diff": true}
	for k, v := range args {
		all[k] = v
	}
	b, err := json.Marshal(all)
	require.NoError(t, err)
	res := ansible.Execute("devices", Spec(), b, func(string) (string, bool) { return "", false }, Run)
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.NotContains(t, string(out), token, "the token leaked into the result")
	var generic map[string]any
	require.NoError(t, json.Unmarshal(out, &generic))
	return generic
}
