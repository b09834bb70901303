package devices

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stepfleet/smallstep/modules-src/internal/fakeapi"
)

// token is the API token every test run uses; no result or error may show it.
const token = fakeapi.Token

// fleetAPI is the shared fake API (internal/fakeapi) holding device
// collections, with what the server does to a device on PUT: it takes
// only {"data": {...}}, adds its own data key on first registration and
// keeps it, with createdAt, on update. It hands out the calls since the
// last look, since most tests pin what one run sent.
type fleetAPI struct {
	*fakeapi.API
	hosts atomic.Int32 // host IDs handed out, for the server's data key
	taken int          // calls already handed out by requests
}

func newFake(t *testing.T) *fleetAPI {
	t.Helper()
	f := &fleetAPI{API: fakeapi.New(t)}
	f.RequestID = "req-1"
	f.OnPut = f.register
	return f
}

// instance is the path of a device as the client must send it, the ID one
// segment: the fake keeps objects by their path on the wire. The IDs here
// are TPM URIs, whose only characters to escape are '/', '+' and '='.
func instance(slug, id string) string {
	return "/collections/" + slug + "/instances/" + escapeID.Replace(id)
}

var escapeID = strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D")

// collection adds a device collection of the given type, with the paged
// list of its devices.
func (f *fleetAPI) collection(slug, typ string) {
	f.Store("/device-collections/"+slug, map[string]any{"slug": slug, "displayName": slug, "deviceType": typ, "deviceTypeConfiguration": map[string]any{}})
	f.List("/collections/"+slug+"/items", "/collections/"+slug+"/instances/")
}

// seed stores a device as the server would hold it after registration.
func (f *fleetAPI) seed(slug, id string, data map[string]any) {
	f.Store(instance(slug, id), f.registered(nil, id, data))
}

// register is the server's side of a device PUT. It refuses a device of a
// collection that does not exist, which is also what a path with an ID
// split in several segments looks like; the ID comes from the path, so a
// device written under a wrongly escaped one is listed under a wrong ID.
func (f *fleetAPI) register(p string, body map[string]any) map[string]any {
	dir, seg := path.Split(p)
	slug := strings.TrimSuffix(strings.TrimPrefix(dir, "/api/collections/"), "/instances/")
	data, ok := body["data"].(map[string]any)
	id, err := url.PathUnescape(seg)
	if !ok || err != nil || f.Peek("/api/device-collections/"+slug) == nil {
		return nil
	}
	prev, _ := f.Peek(p).(map[string]any)
	return f.registered(prev, id, data)
}

// registered is the device the server keeps after a PUT of data.
func (f *fleetAPI) registered(prev map[string]any, id string, data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		out[k] = v
	}
	created := "2026-01-01T00:00:00.000Z"
	if prev != nil {
		created = prev["createdAt"].(string)
		out["smallstep:host:id"] = prev["data"].(map[string]any)["smallstep:host:id"]
	} else {
		out["smallstep:host:id"] = fmt.Sprintf("host-%d", f.hosts.Add(1))
	}
	return map[string]any{"id": id, "data": out, "createdAt": created, "updatedAt": "2026-01-02T00:00:00.000Z"}
}

func (f *fleetAPI) device(slug, id string) map[string]any {
	d, _ := f.Stored(instance(slug, id)).(map[string]any)
	return d
}

func (f *fleetAPI) count(slug string) int {
	return len(f.Under("/collections/" + slug + "/instances/"))
}

// fail makes every request of method for device id of collection fleet
// fail with status and message, until ClearReplies.
func (f *fleetAPI) fail(method, id string, status int, message string) {
	b, _ := json.Marshal(map[string]string{"message": message})
	f.On(method, instance("fleet", id), fakeapi.Reply{Status: status, Body: string(b)})
}

// written is the body of the last request of method for device id of
// collection fleet.
func (f *fleetAPI) written(method, id string) string {
	reqs := f.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && reqs[i].Path == "/api"+instance("fleet", id) {
			return reqs[i].Body
		}
	}
	return ""
}

// requests returns the calls ("METHOD path?query", below /api) since the
// last time it was asked.
func (f *fleetAPI) requests() []string {
	all := f.Calls()
	out := all[f.taken:]
	f.taken = len(all)
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

// run executes the module with the connection options to the fake (check
// mode off, diff mode on, one try per request unless args say otherwise:
// the failure tests pin messages of a single try) and returns its result
// as Ansible reads it.
func run(t *testing.T, f *fleetAPI, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{"retries": 0}
	for k, v := range args {
		all[k] = v
	}
	return fakeapi.Run(t, f.API, Spec(), Run, all)
}
