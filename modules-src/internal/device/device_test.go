package device

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ekURI is a well-formed TPM device ID whose base64 holds '+', '/' and '='.
var ekURI = func() string {
	sum := make([]byte, 32)
	copy(sum, []byte{0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff})
	return "urn:ek:sha256:" + base64.StdEncoding.EncodeToString(sum)
}()

// ekPath is the instance path of ekURI in collection "metal", escaped as
// one segment.
var ekPath = "/collections/metal/instances/" + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(ekURI)

// serverLike stands in for the server: it answers the instance with its
// id and times, and adds its own data key on first registration.
func serverLike(f *fakeAPI) func(string, map[string]any) map[string]any {
	return func(p string, body map[string]any) map[string]any {
		id, _ := url.PathUnescape(path.Base(p))
		data := body["data"].(map[string]any)
		created := "2026-01-01T00:00:00.000Z"
		if prev, ok := f.Peek(p).(map[string]any); ok {
			created = prev["createdAt"].(string)
		}
		if _, ok := data["smallstep:host:id"]; !ok {
			data["smallstep:host:id"] = "host-1"
		}
		return map[string]any{"id": id, "data": data, "createdAt": created, "updatedAt": "2026-01-02T00:00:00.000Z"}
	}
}

// withCollection is a fake API holding the device collection "metal".
func withCollection(t *testing.T) *fakeAPI {
	t.Helper()
	f := newFake(t)
	f.OnPut = serverLike(f)
	f.Store("/device-collections/metal", map[string]any{"slug": "metal", "displayName": "metal", "deviceType": "tpm", "deviceTypeConfiguration": map[string]any{}})
	return f
}

func apply(t *testing.T, f *fakeAPI, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{}
	// The collection and ID unless given, under their names or aliases.
	if args["device_collection"] == nil {
		all["collection"] = "metal"
	}
	if args["id"] == nil {
		all["instance_id"] = ekURI
	}
	for k, v := range args {
		all[k] = v
	}
	return run(t, f, Spec(), Run, all)
}

func TestBadIDFailsBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name string
		typ  string
		id   string
		want string
	}{
		{"TPM URI too short", "", "urn:ek:sha256:YWJj", "is not a TPM EK URI"},
		{"TPM URI without padding", "tpm", strings.TrimSuffix(ekURI, "="), "standard base64 (with padding) of a 32-byte SHA-256"},
		{"TPM URI in URL-safe base64", "tpm", strings.NewReplacer("+", "-", "/", "_").Replace(ekURI), "is not a TPM EK URI"},
		{"TPM type with an EC2 ID", "tpm", "i-0123456789abcdef0", "must start with urn:ek:sha256:"},
		{"TPM URI of another hash", "", "urn:ek:sha1:AAAA", "must start with urn:ek:sha256:"},
		{"EC2 ID with capitals", "aws-vm", "i-0123456789ABCDEF0", "is not an EC2 instance ID"},
		{"Azure ID not a UUID", "azure-vm", "vm-1", "is not an Azure managed identity principal object ID"},
		{"GCE ID not decimal", "gcp-vm", "instance-1", "is not a Compute Engine instance ID"},
		{"empty ID", "", "", "instance_id: the instance ID is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := withCollection(t)
			args := map[string]any{"instance_id": tc.id, "data": map[string]any{"a": "b"}}
			if tc.typ != "" {
				args["device_type"] = tc.typ
			}
			res := apply(t, f, args)
			require.Equal(t, true, res["failed"])
			require.Contains(t, res["msg"], "instance_id: ")
			require.Contains(t, res["msg"], tc.want)
			require.Empty(t, f.Requests())
		})
	}
}

func TestGoodIDsAreAccepted(t *testing.T) {
	cases := []struct{ typ, id, path string }{
		{"tpm", ekURI, ekPath},
		{"", ekURI, ekPath},
		{"aws-vm", "i-0d460b88a96dfdd08", "/collections/metal/instances/i-0d460b88a96dfdd08"},
		{"azure-vm", "0f8fad5b-d9cb-469f-a165-70867728950e", "/collections/metal/instances/0f8fad5b-d9cb-469f-a165-70867728950e"},
		{"gcp-vm", "16979701088048819", "/collections/metal/instances/16979701088048819"},
		{"", "host with spaces", "/collections/metal/instances/host%20with%20spaces"},
	}
	for _, tc := range cases {
		f := withCollection(t)
		args := map[string]any{"instance_id": tc.id}
		if tc.typ != "" {
			args["device_type"] = tc.typ
			f.Store("/device-collections/metal", map[string]any{"slug": "metal", "displayName": "metal", "deviceType": tc.typ, "deviceTypeConfiguration": map[string]any{}})
		}
		res := apply(t, f, args)
		require.Nil(t, res["failed"], "%s %s: %v", tc.typ, tc.id, res["msg"])
		require.Equal(t, []string{"GET " + tc.path, "GET /device-collections/metal", "PUT " + tc.path}, f.Calls(), tc.id)
		require.Equal(t, tc.id, res["device"].(map[string]any)["id"])
	}
}

func TestCreate(t *testing.T) {
	f := withCollection(t)
	data := map[string]any{"hostname": "node1", "groups": []any{"web", "tpm"}, "myKey": 1}
	res := apply(t, f, map[string]any{"device_collection": "metal", "id": ekURI, "data": data, "device_type": "tpm"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Equal(t, []string{"GET " + ekPath, "GET /device-collections/metal", "PUT " + ekPath}, f.Calls())
	require.Equal(t, ekPath, strings.TrimPrefix(f.Writes()[0].Path, "/api"), "the ID is one escaped segment on the wire")
	require.JSONEq(t, `{"data":{"hostname":"node1","groups":["web","tpm"],"myKey":1}}`, f.Writes()[0].Body)
	require.Equal(t, map[string]any{
		"id":         ekURI,
		"data":       map[string]any{"hostname": "node1", "groups": []any{"web", "tpm"}, "myKey": float64(1), "smallstep:host:id": "host-1"},
		"created_at": "2026-01-01T00:00:00.000Z",
		"updated_at": "2026-01-02T00:00:00.000Z",
	}, res["device"], "data keys are the user's and keep their spelling")
	diff := res["diff"].(map[string]any)
	require.Equal(t, map[string]any{}, diff["before"])
	require.Equal(t, map[string]any{"id": ekURI, "data": map[string]any{"hostname": "node1", "groups": []any{"web", "tpm"}, "myKey": float64(1)}}, diff["after"])

	// The server added smallstep:host:id; the same data is still no change.
	res = apply(t, f, map[string]any{"data": data})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"])
	require.Len(t, f.Writes(), 1)
	require.Equal(t, "host-1", res["device"].(map[string]any)["data"].(map[string]any)["smallstep:host:id"])
}

func TestDataComparison(t *testing.T) {
	stored := map[string]any{"id": ekURI, "createdAt": "t0", "updatedAt": "t0",
		"data": map[string]any{"hostname": "node1", "groups": []any{"web"}, "smallstep:host:id": "host-1", "smallstep:agent:version": "0.9"}}
	cases := []struct {
		name    string
		data    any // nil: option not given
		changed bool
		put     string
	}{
		{name: "same data", data: map[string]any{"hostname": "node1", "groups": []any{"web"}}},
		{name: "data left out keeps the device's"},
		{name: "smallstep: keys in the task are ignored",
			data: map[string]any{"hostname": "node1", "groups": []any{"web"}, "smallstep:host:id": "mine"}},
		{name: "value changed", data: map[string]any{"hostname": "node2", "groups": []any{"web"}}, changed: true,
			put: `{"data":{"hostname":"node2","groups":["web"],"smallstep:host:id":"host-1","smallstep:agent:version":"0.9"}}`},
		{name: "key removed", data: map[string]any{"hostname": "node1"}, changed: true,
			put: `{"data":{"hostname":"node1","smallstep:host:id":"host-1","smallstep:agent:version":"0.9"}}`},
		{name: "list order is data", data: map[string]any{"hostname": "node1", "groups": []any{"web", "db"}}, changed: true,
			put: `{"data":{"hostname":"node1","groups":["web","db"],"smallstep:host:id":"host-1","smallstep:agent:version":"0.9"}}`},
		{name: "empty data clears the user's keys only", data: map[string]any{}, changed: true,
			put: `{"data":{"smallstep:host:id":"host-1","smallstep:agent:version":"0.9"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := withCollection(t)
			f.Store(ekPath, stored)
			args := map[string]any{}
			if tc.data != nil {
				args["data"] = tc.data
			}
			res := apply(t, f, args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, tc.changed, res["changed"])
			if !tc.changed {
				require.Equal(t, []string{"GET " + ekPath}, f.Calls())
				diff := res["diff"].(map[string]any)
				require.Equal(t, diff["before"], diff["after"])
				return
			}
			require.Equal(t, []string{"GET " + ekPath, "PUT " + ekPath}, f.Calls())
			require.JSONEq(t, tc.put, f.Writes()[0].Body, "the server's smallstep: keys are kept")
		})
	}
}

func TestCheckMode(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		f := withCollection(t)
		res := apply(t, f, map[string]any{"data": map[string]any{"hostname": "n"}, "_ansible_check_mode": true})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, true, res["changed"])
		require.Empty(t, f.Writes())
		require.Equal(t, map[string]any{"id": ekURI, "data": map[string]any{"hostname": "n"}}, res["device"])
	})
	t.Run("update", func(t *testing.T) {
		f := withCollection(t)
		f.Store(ekPath, map[string]any{"id": ekURI, "data": map[string]any{"hostname": "a", "smallstep:host:id": "h"}})
		res := apply(t, f, map[string]any{"data": map[string]any{"hostname": "b"}, "_ansible_check_mode": true})
		require.Equal(t, true, res["changed"])
		require.Empty(t, f.Writes())
		require.Equal(t, map[string]any{
			"before": map[string]any{"id": ekURI, "data": map[string]any{"hostname": "a", "smallstep:host:id": "h"}},
			"after":  map[string]any{"id": ekURI, "data": map[string]any{"hostname": "b", "smallstep:host:id": "h"}},
		}, res["diff"])
	})
	t.Run("missing collection is a change with a warning", func(t *testing.T) {
		f := newFake(t)
		res := apply(t, f, map[string]any{"collection": "nope", "_ansible_check_mode": true})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, true, res["changed"])
		require.Contains(t, fmt.Sprint(res["warnings"]), `device collection "nope" does not exist yet`)
		require.Empty(t, f.Writes())
	})
	t.Run("delete", func(t *testing.T) {
		f := withCollection(t)
		f.Store(ekPath, map[string]any{"id": ekURI, "data": map[string]any{}})
		res := apply(t, f, map[string]any{"state": "absent", "_ansible_check_mode": true})
		require.Equal(t, true, res["changed"])
		require.Empty(t, f.Writes())
	})
}

func TestAbsent(t *testing.T) {
	f := withCollection(t)
	f.Store(ekPath, map[string]any{"id": ekURI, "data": map[string]any{"hostname": "n"}})
	res := apply(t, f, map[string]any{"state": "absent"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Equal(t, []string{"GET " + ekPath, "DELETE " + ekPath}, f.Calls())
	require.Equal(t, map[string]any{"before": map[string]any{"id": ekURI, "data": map[string]any{"hostname": "n"}}, "after": map[string]any{}}, res["diff"])

	res = apply(t, f, map[string]any{"state": "absent"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"])
	require.Len(t, f.Writes(), 1)

	// A missing collection is nothing to delete either.
	res = apply(t, f, map[string]any{"state": "absent", "collection": "nope"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"])
	require.Len(t, f.Writes(), 1)
}

func TestAPIFailures(t *testing.T) {
	t.Run("rejected PUT", func(t *testing.T) {
		f := withCollection(t)
		f.On(http.MethodPut, ekPath, reply{Status: 422, Body: `{"message":"data too large"}`, Header: map[string]string{"X-Request-Id": "r-1"}})
		res := apply(t, f, map[string]any{"data": map[string]any{"a": "b"}})
		require.Equal(t, true, res["failed"])
		require.Equal(t, false, res["changed"])
		require.Equal(t, "PUT "+ekPath+" failed: HTTP 422 Unprocessable Entity: data too large (request ID r-1)", res["msg"])
		require.Equal(t, map[string]any{"method": "PUT", "path": ekPath, "status": float64(422), "message": "data too large", "request_id": "r-1"}, res["failure"])
	})
	t.Run("rejected DELETE", func(t *testing.T) {
		f := withCollection(t)
		f.Store(ekPath, map[string]any{"id": ekURI, "data": map[string]any{}})
		f.On(http.MethodDelete, ekPath, reply{Status: 403, Body: `{"message":"read-only token"}`})
		res := apply(t, f, map[string]any{"state": "absent"})
		require.Equal(t, true, res["failed"])
		require.Equal(t, false, res["changed"])
		require.Contains(t, res["msg"], "DELETE "+ekPath+" failed: HTTP 403 Forbidden: read-only token")
	})
	t.Run("unauthorised GET", func(t *testing.T) {
		f := withCollection(t)
		f.On(http.MethodGet, ekPath, reply{Status: 401, Body: `{"message":"invalid token"}`})
		res := apply(t, f, map[string]any{})
		require.Equal(t, true, res["failed"])
		require.Contains(t, res["msg"], "HTTP 401 Unauthorized: invalid token")
		require.Contains(t, res["msg"], "check api_token")
		require.Empty(t, f.Writes())
	})
}

// The role passes device_type tpm: registering a TPM into a cloud
// collection must fail, without a write.
func TestDeviceTypeMustMatchTheCollection(t *testing.T) {
	f := withCollection(t)
	f.Store("/device-collections/metal", map[string]any{"slug": "metal", "displayName": "metal", "deviceType": "azure-vm", "deviceTypeConfiguration": map[string]any{}})
	res := apply(t, f, map[string]any{"instance_id": ekURI, "device_type": "tpm"})
	require.Equal(t, true, res["failed"])
	require.Equal(t, `device collection "metal" holds azure-vm devices, not tpm; use a collection of device_type tpm, or fix device_type`, res["msg"])
	require.Empty(t, f.Writes())
}

// An update's diff shows only the data changing, not the timestamps going.
func TestUpdateDiffKeepsTheTimestamps(t *testing.T) {
	f := withCollection(t)
	f.Store(ekPath, map[string]any{"id": ekURI, "data": map[string]any{"hostname": "a"}, "createdAt": "t0", "updatedAt": "t1"})
	res := apply(t, f, map[string]any{"data": map[string]any{"hostname": "b"}, "_ansible_check_mode": true, "_ansible_diff": true})
	diff := res["diff"].(map[string]any)
	require.Equal(t, "t0", diff["after"].(map[string]any)["created_at"])
	require.Equal(t, ekURI, diff["after"].(map[string]any)["id"])
}
