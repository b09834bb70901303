package info

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/fakeapi"
)

// ekURI is a TPM device ID holding '+', '/' and '=', and ekSegment the same
// escaped as one path segment.
const (
	ekURI     = "urn:ek:sha256:++++////++++////++++////++++////++++////+/8="
	ekSegment = "urn:ek:sha256:%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2F8%3D"
)

type module struct {
	spec func() *ansible.Spec
	run  ansible.Handler
	args map[string]any
}

var modules = map[string]module{
	"device_collection_info":      {CollectionSpec, RunCollection, map[string]any{"slug": "fleet"}},
	"device_collection_info list": {CollectionSpec, RunCollection, map[string]any{}},
	"workload_info":               {WorkloadSpec, RunWorkload, map[string]any{"collection": "fleet", "slug": "web"}},
	"device_info":                 {DeviceSpec, RunDevice, map[string]any{"collection": "fleet"}},
}

func TestCollectionFound(t *testing.T) {
	f := newFake(t)
	f.On("GET", "/device-collections/fleet", reply{Status: 200, Body: `{"slug":"fleet","displayName":"Fleet","deviceType":"tpm",
		"deviceTypeConfiguration":{"forceCN":true,"attestorRoots":"PEM"},"createdAt":"2026-01-01T00:00:00Z"}`})
	for _, check := range []bool{false, true} {
		res := run(t, f, CollectionSpec(), RunCollection, check, map[string]any{"name": "fleet"})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, false, res["changed"])
		require.Equal(t, true, res["exists"])
		require.Equal(t, map[string]any{
			"slug": "fleet", "display_name": "Fleet", "device_type": "tpm",
			"device_type_configuration": map[string]any{"force_cn": true, "attestor_roots": "PEM"},
			"created_at":                "2026-01-01T00:00:00Z",
		}, res["device_collection"])
		require.Nil(t, res["diff"], "a read-only module has no diff")
	}
	require.Equal(t, []string{"GET /device-collections/fleet", "GET /device-collections/fleet"}, f.Calls())
}

// teamCollections seeds f with a team whose collections take two pages:
// three device collections and a plain collection, which is no device
// collection and answers 404 at /device-collections/{slug}.
func teamCollections(f *fakeapi.API) {
	f.On("GET", "/collections?pagination%5Bfirst%5D=1000", reply{Status: 200,
		Body:   `[{"slug":"fleet-b","displayName":"Fleet B","instanceCount":2},{"slug":"plain","displayName":"Plain","instanceCount":0}]`,
		Header: map[string]string{"X-Next-Cursor": "c1"}})
	f.On("GET", "/collections?pagination%5Bafter%5D=c1&pagination%5Bfirst%5D=1000", reply{Status: 200,
		Body: `[{"slug":"aws web","displayName":"AWS","instanceCount":0},{"slug":"fleet-a","displayName":"Fleet A","instanceCount":1}]`})
	f.Store("/device-collections/fleet-a", map[string]any{"slug": "fleet-a", "displayName": "Fleet A", "deviceType": "tpm",
		"deviceTypeConfiguration": map[string]any{"forceCN": true}})
	f.Store("/device-collections/fleet-b", map[string]any{"slug": "fleet-b", "displayName": "Fleet B", "deviceType": "tpm",
		"deviceTypeConfiguration": map[string]any{}})
	f.Store("/device-collections/aws%20web", map[string]any{"slug": "aws web", "displayName": "AWS", "deviceType": "aws-vm",
		"deviceTypeConfiguration": map[string]any{"accounts": []any{"123456789012"}, "disableCustomSANs": false}})
}

func slugsOf(res map[string]any) []string {
	out := []string{}
	for _, dc := range res["device_collections"].([]any) {
		out = append(out, dc.(map[string]any)["slug"].(string))
	}
	return out
}

func TestCollectionListFollowsPagesAndSkipsPlainCollections(t *testing.T) {
	f := newFake(t)
	teamCollections(f)
	for _, check := range []bool{false, true} {
		res := run(t, f, CollectionSpec(), RunCollection, check, map[string]any{})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, false, res["changed"])
		require.Equal(t, []any{
			map[string]any{"slug": "aws web", "display_name": "AWS", "device_type": "aws-vm",
				"device_type_configuration": map[string]any{"accounts": []any{"123456789012"}, "disable_custom_sans": false}},
			map[string]any{"slug": "fleet-a", "display_name": "Fleet A", "device_type": "tpm",
				"device_type_configuration": map[string]any{"force_cn": true}},
			map[string]any{"slug": "fleet-b", "display_name": "Fleet B", "device_type": "tpm",
				"device_type_configuration": map[string]any{}},
		}, res["device_collections"], "sorted by slug, in device_collection's view, without the plain collection")
		require.Nil(t, res["exists"], "exists is for one slug")
		require.Nil(t, res["device_collection"], "device_collection is for one slug")
		require.Nil(t, res["warnings"])
		require.Nil(t, res["diff"], "a read-only module has no diff")
	}
	calls := f.Calls()
	require.Equal(t, []string{
		"GET /collections?pagination%5Bfirst%5D=1000",
		"GET /collections?pagination%5Bafter%5D=c1&pagination%5Bfirst%5D=1000",
	}, calls[:2], "the pages first, in order")
	reads := append([]string(nil), calls[2:6]...)
	sort.Strings(reads)
	require.Equal(t, []string{
		"GET /device-collections/aws%20web", "GET /device-collections/fleet-a",
		"GET /device-collections/fleet-b", "GET /device-collections/plain",
	}, reads, "one read of each collection, the slug escaped, and no GET /authorities: the list proved api_url")
	require.Len(t, calls, 12, "the same again in check mode")
	require.Empty(t, f.Writes())
}

func TestCollectionListDeviceType(t *testing.T) {
	f := newFake(t)
	teamCollections(f)
	for deviceType, want := range map[string][]string{
		"tpm":      {"fleet-a", "fleet-b"},
		"aws-vm":   {"aws web"},
		"azure-vm": {},
	} {
		t.Run(deviceType, func(t *testing.T) {
			res := run(t, f, CollectionSpec(), RunCollection, false, map[string]any{"device_type": deviceType})
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"])
			require.Equal(t, want, slugsOf(res))
		})
	}
}

func TestCollectionListOfTeamWithoutCollections(t *testing.T) {
	f := newFake(t)
	f.On("GET", "/collections", reply{Status: 200, Body: `[]`})
	res := run(t, f, CollectionSpec(), RunCollection, false, map[string]any{})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []any{}, res["device_collections"])
	require.Equal(t, []string{"GET /collections?pagination%5Bfirst%5D=1000"}, f.Calls())
}

// A 404 to the list itself is no empty team (that is an empty list): it
// fails, and says so when api_url is wrong.
func TestCollectionListNotFound(t *testing.T) {
	t.Run("the API answers", func(t *testing.T) {
		f := newFake(t)
		res := run(t, f, CollectionSpec(), RunCollection, false, map[string]any{})
		require.Equal(t, true, res["failed"])
		require.Contains(t, res["msg"], "GET /collections failed: HTTP 404")
		require.NotContains(t, res["msg"], "is not the Smallstep API")
		require.Equal(t, []string{"GET /collections?pagination%5Bfirst%5D=1000", "GET /authorities"}, f.Calls())
	})
	t.Run("a wrong api_url", func(t *testing.T) {
		f := newFake(t)
		f.On("GET", "/authorities", reply{Status: 404, Body: `{"message":"no such endpoint"}`})
		res := run(t, f, CollectionSpec(), RunCollection, false, map[string]any{})
		require.Equal(t, true, res["failed"])
		require.Contains(t, res["msg"], "is not the Smallstep API's base URL")
		require.Nil(t, res["device_collections"])
	})
}

func TestCollectionListFailureStopsAndNamesTheCollection(t *testing.T) {
	f := newFake(t)
	teamCollections(f)
	f.On("GET", "/device-collections/fleet-a", reply{Status: 403, Body: `{"message":"not allowed"}`})
	res := run(t, f, CollectionSpec(), RunCollection, false, map[string]any{})
	require.Equal(t, true, res["failed"])
	require.Equal(t, false, res["changed"])
	require.Contains(t, res["msg"], "GET /device-collections/fleet-a failed: HTTP 403")
	require.Contains(t, res["msg"], "not allowed")
	require.Contains(t, res["msg"], reqID)
	require.Nil(t, res["device_collections"], "no partial list")
}

func TestCollectionListBadItems(t *testing.T) {
	for name, body := range map[string]string{
		"not a list":   `{"slug":"fleet"}`,
		"without slug": `[{"displayName":"Fleet"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.On("GET", "/collections", reply{Status: 200, Body: body})
			res := run(t, f, CollectionSpec(), RunCollection, false, map[string]any{})
			require.Equal(t, true, res["failed"])
			require.Contains(t, res["msg"], "the answer is not the JSON list expected")
			require.Len(t, f.Calls(), 1, "no read follows a bad list")
		})
	}
}

// The reads of a long list overlap, but never more than listParallel.
func TestCollectionListBoundsConcurrency(t *testing.T) {
	const n = 40
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/collections" {
			items := make([]string, n)
			for i := range items {
				items[i] = fmt.Sprintf(`{"slug":"c%02d"}`, i)
			}
			_, _ = io.WriteString(w, "["+strings.Join(items, ",")+"]")
			return
		}
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); cur > p; p = peak.Load() {
			if peak.CompareAndSwap(p, cur) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		slug := strings.TrimPrefix(r.URL.Path, "/api/device-collections/")
		_, _ = fmt.Fprintf(w, `{"slug":%q,"deviceType":"tpm"}`, slug)
	}))
	t.Cleanup(srv.Close)
	res := run(t, newFake(t), CollectionSpec(), RunCollection, false, map[string]any{"api_url": srv.URL + "/api"})
	require.Nil(t, res["failed"], res["msg"])
	require.Len(t, res["device_collections"], n)
	require.LessOrEqual(t, int(peak.Load()), listParallel)
	require.Greater(t, int(peak.Load()), 1, "the reads overlap")
}

func TestMissingIsAnAnswerNotAFailure(t *testing.T) {
	cases := []struct {
		module string
		args   map[string]any
		key    string
	}{
		{"device_collection_info", map[string]any{"slug": "gone"}, "device_collection"},
		{"workload_info", map[string]any{"collection": "fleet", "slug": "gone"}, "workload"},
		{"device_info", map[string]any{"collection": "fleet", "instance_id": "gone"}, "device"},
	}
	for _, tc := range cases {
		t.Run(tc.module, func(t *testing.T) {
			f := newFake(t)
			mod := modules[tc.module]
			res := run(t, f, mod.spec(), mod.run, false, tc.args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"])
			require.Equal(t, false, res["exists"])
			require.Equal(t, map[string]any{}, res[tc.key])
			require.Nil(t, res["warnings"])
		})
	}
}

func TestWorkloadFound(t *testing.T) {
	f := newFake(t)
	f.On("GET", "/device-collections/fleet/workloads/web%20site", reply{Status: 200,
		Body: `{"slug":"web site","workloadType":"nginx","staticSANs":["www.example.com"],"certificateInfo":{"type":"X509","crtFile":"/etc/a.crt"}}`})
	res := run(t, f, WorkloadSpec(), RunWorkload, true, map[string]any{"device_collection": "fleet", "slug": "web site"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"])
	require.Equal(t, true, res["exists"])
	require.Equal(t, map[string]any{
		"slug": "web site", "workload_type": "nginx", "static_sans": []any{"www.example.com"},
		"certificate_info": map[string]any{"type": "X509", "crt_file": "/etc/a.crt"},
	}, res["workload"])
	require.Equal(t, []string{"GET /device-collections/fleet/workloads/web%20site"}, f.Calls())
}

func TestDeviceByID(t *testing.T) {
	f := newFake(t)
	f.On("GET", "/collections/fleet/instances/"+ekSegment, reply{Status: 200,
		Body: `{"id":"` + ekURI + `","data":{"hostName":"web1","smallstep:host:id":"h-1"},"createdAt":"2026-01-01T00:00:00Z"}`})
	res := run(t, f, DeviceSpec(), RunDevice, false, map[string]any{"collection": "fleet", "id": ekURI})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"])
	require.Equal(t, true, res["exists"])
	want := map[string]any{"id": ekURI, "data": map[string]any{"hostName": "web1", "smallstep:host:id": "h-1"}, "created_at": "2026-01-01T00:00:00Z"}
	require.Equal(t, want, res["device"], "data keys are the user's own and keep their case")
	require.Equal(t, []any{want}, res["devices"])
	require.Equal(t, []string{"GET /collections/fleet/instances/" + ekSegment}, f.Calls())
}

func TestDeviceListFollowsPagesAndFilters(t *testing.T) {
	f := newFake(t)
	f.On("GET", "/collections/fleet/items?pagination%5Bfirst%5D=1000", reply{Status: 200,
		Body:   `[{"id":"a","data":{"hostname":"web1","rack":3,"role":"web"}},{"id":"b","data":{"hostname":"db1","rack":4}}]`,
		Header: map[string]string{"X-Next-Cursor": "c1"}})
	f.On("GET", "/collections/fleet/items?pagination%5Bafter%5D=c1&pagination%5Bfirst%5D=1000", reply{Status: 200,
		Body: `[{"id":"c","data":{"hostname":"web2","rack":3,"role":"web"}},{"id":"d","data":{"rack":"5","managed":"true"}}]`})

	ids := func(res map[string]any) []string {
		var out []string
		for _, d := range res["devices"].([]any) {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		return out
	}
	cases := []struct {
		name    string
		filters map[string]any
		want    []string
	}{
		{"no filters: every device of every page", nil, []string{"a", "b", "c", "d"}},
		{"one key", map[string]any{"role": "web"}, []string{"a", "c"}},
		{"every key must match", map[string]any{"role": "web", "hostname": "web2"}, []string{"c"}},
		{"a number", map[string]any{"rack": 4}, []string{"b"}},
		{"a templated number arrives as a string", map[string]any{"rack": "3"}, []string{"a", "c"}},
		{"a number matches data that holds it as a string", map[string]any{"rack": 5}, []string{"d"}},
		{"so does a boolean", map[string]any{"managed": true}, []string{"d"}},
		{"a string that prints otherwise does not", map[string]any{"rack": "5.0"}, nil},
		{"a missing key matches nothing", map[string]any{"owner": "dale"}, nil},
		{"an empty dict is no filter", map[string]any{}, []string{"a", "b", "c", "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := map[string]any{"collection": "fleet"}
			if tc.filters != nil {
				args["filters"] = tc.filters
			}
			res := run(t, f, DeviceSpec(), RunDevice, false, args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"])
			require.Equal(t, tc.want, ids(res))
			require.Nil(t, res["exists"], "exists is for one device by ID")
		})
	}
}

func TestDeviceListOfMissingCollection(t *testing.T) {
	f := newFake(t)
	res := run(t, f, DeviceSpec(), RunDevice, false, map[string]any{"collection": "gone"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []any{}, res["devices"])
	require.Equal(t, []any{`device collection "gone" does not exist; it has no devices`}, res["warnings"])
	require.Equal(t, []string{"GET /collections/gone/items?pagination%5Bfirst%5D=1000", "GET /device-collections/gone", "GET /authorities"}, f.Calls())
}

// A device collection may have no instance collection until its first
// device: a 404 on its list is no device, and no warning.
func TestDeviceListOfCollectionWithoutInstanceCollection(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/fleet", map[string]any{"slug": "fleet", "deviceType": "tpm"})
	res := run(t, f, DeviceSpec(), RunDevice, false, map[string]any{"collection": "fleet"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []any{}, res["devices"])
	require.Nil(t, res["warnings"])
}

func TestBadInputFailsBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		module   string
		override map[string]any
		want     []string
	}{
		{"device_collection_info", map[string]any{"device_type": "tpm"}, []string{"mutually exclusive", "slug", "device_type"}},
		{"device_collection_info list", map[string]any{"device_type": "vmware"}, []string{"device_type must be one of: aws-vm, azure-vm, gcp-vm, tpm"}},
		{"device_collection_info", map[string]any{"slug": " "}, []string{"slug must not be empty"}},
		{"device_collection_info", map[string]any{"slug": ".."}, []string{"slug must not be", ".."}},
		{"device_collection_info", map[string]any{"state": "absent"}, []string{"Unsupported parameters", "state"}},
		{"workload_info", map[string]any{"collection": nil}, []string{"missing required arguments: collection"}},
		{"workload_info", map[string]any{"slug": "a\nb"}, []string{"slug holds a control character"}},
		{"device_info", map[string]any{"instance_id": "a", "filters": map[string]any{"x": "y"}}, []string{"mutually exclusive", "instance_id", "filters"}},
		{"device_info", map[string]any{"filters": []any{"role", "web"}}, []string{"filters", "dict"}},
		{"device_info", map[string]any{"instance_id": ""}, []string{"instance_id must not be empty"}},
		{"device_info", map[string]any{"timeout": 0}, []string{"timeout must be a positive number"}},
	}
	for _, tc := range cases {
		t.Run(tc.module+" "+tc.want[0], func(t *testing.T) {
			f := newFake(t)
			mod := modules[tc.module]
			args := map[string]any{}
			for k, v := range mod.args {
				args[k] = v
			}
			for k, v := range tc.override {
				if v == nil {
					delete(args, k)
				} else {
					args[k] = v
				}
			}
			res := run(t, f, mod.spec(), mod.run, false, args)
			require.Equal(t, true, res["failed"])
			for _, w := range tc.want {
				require.Contains(t, res["msg"], w)
			}
			require.Empty(t, f.Calls())
		})
	}
}

func TestAPIFailureNamesRequest(t *testing.T) {
	for name, mod := range modules {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			unauthorized := reply{Status: http.StatusUnauthorized, Body: `{"message":"invalid token"}`}
			f.On("GET", "/device-collections/fleet", unauthorized)
			f.On("GET", "/device-collections/fleet/workloads/web", unauthorized)
			f.On("GET", "/collections/fleet/items", unauthorized)
			f.On("GET", "/collections", unauthorized)
			res := run(t, f, mod.spec(), mod.run, false, mod.args)
			require.Equal(t, true, res["failed"])
			require.Equal(t, false, res["changed"])
			require.Contains(t, res["msg"], "HTTP 401")
			require.Contains(t, res["msg"], "invalid token")
			require.Contains(t, res["msg"], reqID)
			require.Equal(t, float64(401), res["failure"].(map[string]any)["status"])
			require.Len(t, f.Calls(), 1, "401 is not retried")
		})
	}
}
