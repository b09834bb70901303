package devices

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// uri is the well-formed TPM device ID of host i.
func uri(i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("host-%d", i)))
	return "urn:ek:sha256:" + base64.StdEncoding.EncodeToString(sum[:])
}

// fleet lists n devices with the data each would be registered with.
func fleet(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"instance_id": uri(i), "data": map[string]any{"hostname": fmt.Sprintf("host-%d", i), "rack": int64(i % 7)}}
	}
	return out
}

func ints(res map[string]any, keys ...string) []int {
	out := make([]int, len(keys))
	for i, k := range keys {
		n, _ := res[k].(float64)
		out[i] = int(n)
	}
	return out
}

func ids(res map[string]any, outcome string) []string {
	var out []string
	for _, v := range res["ids"].(map[string]any)[outcome].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func counts(res map[string]any) []int { return ints(res, "created", "updated", "removed", "unchanged") }

func withFleetCollection(t *testing.T) *fleetAPI {
	t.Helper()
	f := newFake(t)
	f.collection("fleet", "tpm")
	return f
}

func TestPagingOver2500Devices(t *testing.T) {
	f := withFleetCollection(t)
	for i, d := range fleet(2500) {
		f.seed("fleet", uri(i), d.(map[string]any)["data"].(map[string]any))
	}
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(2500), "device_type": "tpm"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"])
	require.Equal(t, []int{0, 0, 0, 2500}, counts(res))
	calls := f.requests()
	require.Len(t, calls, 4, "the collection, then three pages")
	require.Equal(t, "GET /device-collections/fleet", calls[0])
	require.Equal(t, "GET /collections/fleet/items?pagination%5Bfirst%5D=1000", calls[1])
	for _, c := range calls[2:] {
		require.Contains(t, c, "pagination%5Bafter%5D=")
	}
	require.Len(t, ids(res, "unchanged"), 2500)
}

func TestRequestBudget(t *testing.T) {
	for _, n := range []int{1, 1000, 1001} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := withFleetCollection(t)
			args := map[string]any{"collection": "fleet", "devices": fleet(n), "device_type": "tpm"}
			res := run(t, f, args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, true, res["changed"])
			require.Equal(t, []int{n, 0, 0, 0}, counts(res))
			require.Equal(t, map[string]int{
				"GET /device-collections/fleet":         1,
				"GET /collections/fleet/items":          1,
				"PUT /collections/fleet/instances/{id}": n,
			}, byRoute(f.requests()), "first run: two reads and one write per device")
			require.Equal(t, n, f.count("fleet"))

			res = run(t, f, args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"])
			require.Equal(t, []int{0, 0, 0, n}, counts(res))
			calls := f.requests()
			require.Empty(t, writesOf(calls))
			require.LessOrEqual(t, len(calls), (n+999)/1000+1, "rerun: at most ceil(N/1000)+1 requests")
		})
	}
}

func TestParallelBound(t *testing.T) {
	for _, parallel := range []int{1, 3, 8, 64} {
		t.Run(fmt.Sprint(parallel), func(t *testing.T) {
			f := withFleetCollection(t)
			f.WriteDelay = 10 * time.Millisecond
			args := map[string]any{"collection": "fleet", "devices": fleet(40)}
			if parallel != DefaultParallel {
				args["parallel"] = parallel
			}
			res := run(t, f, args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, 40, f.count("fleet"))
			peak := f.MaxWritesInFlight()
			require.LessOrEqual(t, peak, parallel, "never more writes in flight than parallel")
			// With every write held for a while, the workers overlap. How
			// far depends on the machine's load, so only overlap is pinned.
			if parallel > 1 {
				require.GreaterOrEqual(t, peak, 2, "writes must overlap")
			}
		})
	}
}

func TestExclusiveCheckModeThenRemoval(t *testing.T) {
	f := withFleetCollection(t)
	for i, d := range fleet(5) {
		f.seed("fleet", uri(i), d.(map[string]any)["data"].(map[string]any))
	}
	// Keep 0 and 1 as they are, change 2, drop 3 and 4, add 5.
	list := fleet(6)
	list = []any{list[0], list[1], list[2], list[5]}
	list[2] = map[string]any{"instance_id": uri(2), "data": map[string]any{"hostname": "renamed"}}
	args := map[string]any{"collection": "fleet", "devices": list, "exclusive": true}

	check := map[string]any{"_ansible_check_mode": true}
	for k, v := range args {
		check[k] = v
	}
	res := run(t, f, check)
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Equal(t, []int{1, 1, 2, 2}, counts(res))
	gone := []string{uri(3), uri(4)}
	sort.Strings(gone)
	require.Equal(t, gone, ids(res, "removed"), "check mode shows what it would remove")
	require.Empty(t, writesOf(f.requests()), "check mode writes nothing")
	require.Equal(t, 5, f.count("fleet"))
	before := res["diff"].(map[string]any)["before"].(map[string]any)
	after := res["diff"].(map[string]any)["after"].(map[string]any)
	require.Contains(t, before, uri(3))
	require.NotContains(t, after, uri(3))

	res = run(t, f, args)
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []int{1, 1, 2, 2}, counts(res))
	require.Equal(t, 4, f.count("fleet"))
	require.Nil(t, f.device("fleet", uri(3)))
	require.Equal(t, map[string]int{
		"GET /device-collections/fleet":            1,
		"GET /collections/fleet/items":             1,
		"PUT /collections/fleet/instances/{id}":    2,
		"DELETE /collections/fleet/instances/{id}": 2,
	}, byRoute(f.requests()))

	res = run(t, f, args)
	require.Equal(t, false, res["changed"])
	require.Equal(t, []int{0, 0, 0, 4}, counts(res))
}

func TestWithoutExclusiveOthersStay(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(99), map[string]any{"hostname": "other"})
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(2)})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []int{2, 0, 0, 0}, counts(res))
	require.NotNil(t, f.device("fleet", uri(99)))
}

func TestCheckModeWritesNothing(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(0), map[string]any{"hostname": "old"})
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(3), "_ansible_check_mode": true})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Equal(t, []int{2, 1, 0, 0}, counts(res))
	require.Equal(t, []string{uri(1), uri(2)}, ids(res, "created"))
	require.Equal(t, []string{uri(0)}, ids(res, "updated"))
	require.Empty(t, writesOf(f.requests()))
	require.Equal(t, 1, f.count("fleet"))
}

func TestDiffShowsOnlyChangedDevices(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(0), map[string]any{"hostname": "host-0", "rack": int64(0)})
	f.seed("fleet", uri(1), map[string]any{"hostname": "old"})
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(3)})
	require.Nil(t, res["failed"], res["msg"])
	diff := res["diff"].(map[string]any)
	before, after := diff["before"].(map[string]any), diff["after"].(map[string]any)
	require.Equal(t, map[string]any{
		uri(1): map[string]any{"id": uri(1), "data": map[string]any{"hostname": "old", "smallstep:host:id": "host-2"},
			"created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-02T00:00:00.000Z"},
	}, before)
	require.Equal(t, map[string]any{
		uri(1): map[string]any{"id": uri(1), "data": map[string]any{"hostname": "host-1", "rack": float64(1), "smallstep:host:id": "host-2"},
			"created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-02T00:00:00.000Z"},
		uri(2): map[string]any{"id": uri(2), "data": map[string]any{"hostname": "host-2", "rack": float64(2)}},
	}, after, "the unchanged device is left out; the update keeps the server's key and times")

	res = run(t, f, map[string]any{"collection": "fleet", "devices": fleet(3), "_ansible_diff": false})
	require.Nil(t, res["diff"], "no diff outside diff mode")
}

func TestUpdateKeepsServerKeys(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(0), map[string]any{"hostname": "old"})
	host := f.device("fleet", uri(0))["data"].(map[string]any)["smallstep:host:id"]
	res := run(t, f, map[string]any{"collection": "fleet", "devices": []any{
		map[string]any{"id": uri(0), "data": map[string]any{"hostname": "new", "smallstep:host:id": "forged"}},
	}})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []int{0, 1, 0, 0}, counts(res))
	require.JSONEq(t, fmt.Sprintf(`{"data":{"hostname":"new","smallstep:host:id":%q}}`, host), f.written(http.MethodPut, uri(0)))
	require.Len(t, res["warnings"], 1)
	require.Contains(t, res["warnings"].([]any)[0], "devices[0]")
}

func TestDataLeftOutKeepsData(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(0), map[string]any{"hostname": "kept"})
	res := run(t, f, map[string]any{"collection": "fleet", "devices": []any{
		map[string]any{"instance_id": uri(0)},
		map[string]any{"instance_id": uri(1)},
	}})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []int{1, 0, 0, 1}, counts(res))
	require.Equal(t, "kept", f.device("fleet", uri(0))["data"].(map[string]any)["hostname"])
	require.JSONEq(t, `{"data":{}}`, f.written(http.MethodPut, uri(1)))
}

func TestStateAbsent(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(0), nil)
	f.seed("fleet", uri(1), nil)
	f.seed("fleet", uri(2), nil)
	args := map[string]any{"collection": "fleet", "state": "absent", "devices": []any{
		map[string]any{"instance_id": uri(0)}, map[string]any{"instance_id": uri(1)}, map[string]any{"instance_id": uri(7)},
	}}
	res := run(t, f, args)
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Equal(t, []int{0, 0, 2, 1}, counts(res), "a listed device that is not there is unchanged")
	require.Equal(t, 1, f.count("fleet"))
	f.requests()
	res = run(t, f, args)
	require.Equal(t, false, res["changed"])
	require.Empty(t, writesOf(f.requests()))
}

func TestDuplicatesFailBeforeAnyRequest(t *testing.T) {
	f := withFleetCollection(t)
	list := fleet(4)
	list = append(list, map[string]any{"id": uri(1)})
	res := run(t, f, map[string]any{"collection": "fleet", "devices": list})
	require.Equal(t, true, res["failed"])
	require.Equal(t, fmt.Sprintf("devices[1] and devices[4] both have instance_id %q; list each device once", uri(1)), res["msg"])
	require.Empty(t, f.requests())
}

func TestBadInputFailsBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"parallel zero", map[string]any{"parallel": 0}, []string{"parallel must be between 1 and 64", "got 0"}},
		{"parallel too high", map[string]any{"parallel": 65}, []string{"parallel must be between 1 and 64", "got 65"}},
		{"parallel not an int", map[string]any{"parallel": "many"}, []string{"parallel", "int"}},
		{"bad device_type", map[string]any{"device_type": "vmware"}, []string{"device_type must be one of: aws-vm, azure-vm, gcp-vm, tpm"}},
		{"bad state", map[string]any{"state": "gone"}, []string{"value of state must be one of: present, absent, got: gone"}},
		{"exclusive with absent", map[string]any{"exclusive": true, "state": "absent"}, []string{"exclusive", "state=present"}},
		{"devices missing", map[string]any{"devices": nil}, []string{"missing required arguments: devices"}},
		{"devices not a list of dicts", map[string]any{"devices": []any{"x"}}, []string{"devices", "dict"}},
		{"device without an ID", map[string]any{"devices": []any{map[string]any{"data": map[string]any{}}}}, []string{"missing required arguments: instance_id found in devices[0]"}},
		{"unknown device key", map[string]any{"devices": []any{map[string]any{"instance_id": uri(0), "dta": map[string]any{}}}}, []string{"dta", "devices[0]"}},
		{"malformed TPM URI", map[string]any{"devices": []any{map[string]any{"instance_id": uri(0)}, map[string]any{"instance_id": "urn:ek:sha256:abc"}}}, []string{"devices[1].instance_id", "base64"}},
		{"EC2 ID in a tpm list", map[string]any{"device_type": "tpm", "devices": []any{map[string]any{"instance_id": "i-0d460b88a96dfdd08"}}}, []string{"devices[0].instance_id", "urn:ek:sha256:"}},
		{"bad EC2 ID", map[string]any{"device_type": "aws-vm", "devices": []any{map[string]any{"instance_id": "i-XYZ"}}}, []string{"devices[0].instance_id", "EC2 instance ID"}},
		{"empty ID", map[string]any{"devices": []any{map[string]any{"instance_id": ""}}}, []string{"devices[0].instance_id", "empty"}},
		{"dot-dot ID", map[string]any{"devices": []any{map[string]any{"instance_id": ".."}}}, []string{`devices[0].instance_id must not be ".."`}},
		{"data not a dict", map[string]any{"devices": []any{map[string]any{"instance_id": uri(0), "data": []any{1}}}}, []string{"devices[0].data", "dict"}},
		{"data too large", map[string]any{"devices": []any{map[string]any{"instance_id": uri(0), "data": map[string]any{"blob": strings.Repeat("x", 2<<20)}}}}, []string{"devices[0].data is", "bytes as JSON"}},
		{"empty collection", map[string]any{"collection": ""}, []string{"collection must not be empty"}},
		{"token with a newline", map[string]any{"api_token": token + "\nX: 1"}, []string{"api_token is empty or holds whitespace"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := withFleetCollection(t)
			args := map[string]any{"collection": "fleet", "devices": fleet(2)}
			for k, v := range tc.args {
				args[k] = v
			}
			res := run(t, f, args)
			require.Equal(t, true, res["failed"], res)
			require.Equal(t, false, res["changed"])
			for _, w := range tc.want {
				require.Contains(t, res["msg"], w)
			}
			require.Empty(t, f.requests(), "no request may be sent")
		})
	}
}

func TestCollectionOfAnotherTypeFailsBeforeWriting(t *testing.T) {
	f := newFake(t)
	f.collection("fleet", "aws-vm")
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(2), "device_type": "tpm"})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], `device collection "fleet" holds aws-vm devices, not tpm`)
	require.Equal(t, []string{"GET /device-collections/fleet"}, f.requests())
}

func TestMissingCollection(t *testing.T) {
	f := newFake(t)
	res := run(t, f, map[string]any{"collection": "nowhere", "devices": fleet(2)})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], `device collection "nowhere" does not exist`)

	res = run(t, f, map[string]any{"collection": "nowhere", "devices": fleet(2), "_ansible_check_mode": true})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Equal(t, []int{2, 0, 0, 0}, counts(res))
	require.Contains(t, res["warnings"].([]any)[0], "nowhere")
	require.Empty(t, writesOf(f.requests()))

	// Removing from a collection that is not there has nothing to do (the
	// role's bulk deregistration after the collection was deleted).
	for _, check := range []bool{false, true} {
		res = run(t, f, map[string]any{"collection": "nowhere", "devices": fleet(2), "state": "absent", "_ansible_check_mode": check})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, false, res["changed"])
		require.Equal(t, []int{0, 0, 0, 2}, counts(res))
		require.Nil(t, res["warnings"])
		require.Empty(t, writesOf(f.requests()))
	}
}

// A device collection may have no instance collection until its first
// device: a 404 on its list is no device, not a failure.
func TestCollectionWithoutInstanceCollection(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/fleet", map[string]any{"slug": "fleet", "deviceType": "tpm"})
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(2), "_ansible_check_mode": true})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []int{2, 0, 0, 0}, counts(res))
	require.Nil(t, res["warnings"])
	require.Contains(t, f.requests(), "GET /collections/fleet/items?pagination%5Bfirst%5D=1000")
}

func TestPartialFailure(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(9), nil)
	f.fail(http.MethodPut, uri(1), http.StatusServiceUnavailable, "try later")
	f.fail(http.MethodPut, uri(3), http.StatusUnprocessableEntity, "data rejected")
	f.fail(http.MethodDelete, uri(9), http.StatusInternalServerError, "boom")
	args := map[string]any{"collection": "fleet", "devices": fleet(6), "exclusive": true}
	res := run(t, f, args)
	require.Equal(t, true, res["failed"])
	require.Equal(t, true, res["changed"], "the other devices were written")
	require.Equal(t, []int{4, 0, 0, 0}, counts(res), "counts are of what was done")
	require.ElementsMatch(t, []string{uri(1), uri(3), uri(9)}, ids(res, "failed"))
	require.Equal(t, 4, f.count("fleet")-1, "the four others are registered")
	msg := res["msg"].(string)
	require.True(t, strings.HasPrefix(msg, "3 of 7 devices failed; the others were done (created 4, updated 0, removed 0, unchanged 0)"), msg)
	require.Contains(t, msg, uri(1)+": create PUT: HTTP 503 Service Unavailable: try later (request ID req-")
	require.Contains(t, msg, uri(3)+": create PUT: HTTP 422 Unprocessable Entity: data rejected (request ID req-")
	require.Contains(t, msg, uri(9)+": remove DELETE: HTTP 500 Internal Server Error: boom (request ID req-")
	failures := res["failures"].([]any)
	require.Len(t, failures, 3)
	first := failures[0].(map[string]any)
	require.Equal(t, float64(503), first["status"])
	require.NotEmpty(t, first["request_id"])

	// The rerun converges, writing only what failed.
	f.requests()
	f.ClearReplies()
	res = run(t, f, args)
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []int{2, 0, 1, 4}, counts(res))
	require.Len(t, writesOf(f.requests()), 3)
	res = run(t, f, args)
	require.Equal(t, false, res["changed"])
}

func TestOnlyRefusedWritesMeanNoChange(t *testing.T) {
	f := withFleetCollection(t)
	f.fail(http.MethodPut, uri(0), http.StatusBadRequest, "no")
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(1)})
	require.Equal(t, true, res["failed"])
	require.Equal(t, false, res["changed"], "the server refused the only write")
}

func TestManyFailuresAreCutInTheMessage(t *testing.T) {
	f := withFleetCollection(t)
	for i := 0; i < 150; i++ {
		f.fail(http.MethodPut, uri(i), http.StatusServiceUnavailable, "down")
	}
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(150)})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "; and 50 more, listed in failures")
	require.Len(t, res["failures"], 150)
}

func TestSecretsStayOut(t *testing.T) {
	f := withFleetCollection(t)
	// A server that echoes the token in its error message.
	f.fail(http.MethodPut, uri(0), http.StatusBadGateway, "upstream saw Authorization: Bearer "+token)
	res := run(t, f, map[string]any{"collection": "fleet", "devices": fleet(2)}) // run checks the token is absent
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "Bearer ********")

	res = run(t, f, map[string]any{"collection": "fleet", "devices": fleet(2), "api_token": "wrong-token-123"})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "401")
	require.NotContains(t, fmt.Sprint(res), "wrong-token-123")
}

func TestDeleteOfAnAlreadyGoneDeviceCountsAsRemoved(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(0), nil)
	f.fail(http.MethodDelete, uri(0), http.StatusNotFound, "instance not found")
	res := run(t, f, map[string]any{"collection": "fleet", "devices": []any{map[string]any{"instance_id": uri(0)}}, "state": "absent"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []int{0, 0, 1, 0}, counts(res))
}

func TestEmptyListIsNoChange(t *testing.T) {
	f := withFleetCollection(t)
	f.seed("fleet", uri(0), nil)
	res := run(t, f, map[string]any{"collection": "fleet", "devices": []any{}})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"])
	require.Equal(t, []any{}, res["ids"].(map[string]any)["created"])
	require.Equal(t, 1, f.count("fleet"))
}
