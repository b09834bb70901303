package workload

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const wlPath = "/device-collections/web/workloads/nginx"

// serverLike stands in for the server: it fills in its defaults and
// answers durations in Go's long form, as the API does.
func serverLike(_ string, body map[string]any) map[string]any {
	delete(body, "adminEmails") // never returned
	if _, ok := body["reloadInfo"]; !ok {
		body["reloadInfo"] = map[string]any{"method": "AUTOMATIC"}
	}
	ci, ok := body["certificateInfo"].(map[string]any)
	if !ok {
		ci = map[string]any{"type": "X509"}
		body["certificateInfo"] = ci
	}
	if d, ok := ci["duration"].(string); ok {
		dur, _ := time.ParseDuration(d)
		ci["duration"] = dur.String()
	}
	ki, ok := body["keyInfo"].(map[string]any)
	if !ok {
		ki = map[string]any{}
		body["keyInfo"] = ki
	}
	for _, k := range []string{"type", "format"} {
		if ki[k] == nil {
			ki[k] = "DEFAULT"
		}
	}
	return body
}

// withCollection is a fake API holding the device collection "web".
func withCollection(t *testing.T) *fakeAPI {
	t.Helper()
	f := newFake(t)
	f.OnPut = serverLike
	f.Store("/device-collections/web", map[string]any{"slug": "web", "displayName": "web", "deviceType": "tpm", "deviceTypeConfiguration": map[string]any{}})
	return f
}

func apply(t *testing.T, f *fakeAPI, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{}
	// The collection and slug unless given, under their names or aliases.
	if args["device_collection"] == nil {
		all["collection"] = "web"
	}
	if args["name"] == nil {
		all["slug"] = "nginx"
	}
	for k, v := range args {
		all[k] = v
	}
	return run(t, f, Spec(), Run, all)
}

func fullArgs() map[string]any {
	return map[string]any{
		"device_collection":        "web",
		"name":                     "nginx",
		"display_name":             "NGINX",
		"workload_type":            "nginx",
		"static_sans":              []any{"www.example.com", "example.com"},
		"device_metadata_key_sans": []any{"hostname", "ansible_host"},
		"certificate_info": map[string]any{"duration": "24h", "crt_file": "/etc/nginx/tls.crt", "key_file": "/etc/nginx/tls.key",
			"root_file": "/etc/nginx/root.crt", "uid": 33, "gid": "33", "mode": "0400"},
		"key_info":    map[string]any{"type": "ECDSA_P256", "format": "DER", "pub_file": "/etc/nginx/tls.pub"},
		"reload_info": map[string]any{"method": "SIGNAL", "pid_file": "/run/nginx.pid", "signal": 1},
		"hooks": map[string]any{"renew": map[string]any{"shell": "/bin/sh", "before": []any{"echo before"},
			"after": []any{"systemctl reload nginx"}, "on_error": []any{"logger failed"}}},
		"admin_emails": []any{"ops@example.com"},
	}
}

func TestPutBody(t *testing.T) {
	cases := []struct {
		name string
		args map[string]any
		body string
	}{
		{"minimal", map[string]any{"workload_type": "generic"},
			`{"slug":"nginx","displayName":"nginx","workloadType":"generic"}`},
		{"every option", fullArgs(), `{
			"slug":"nginx","displayName":"NGINX","workloadType":"nginx",
			"staticSANs":["www.example.com","example.com"],
			"deviceMetadataKeySANs":["hostname","ansible_host"],
			"certificateInfo":{"type":"X509","duration":"24h","crtFile":"/etc/nginx/tls.crt","keyFile":"/etc/nginx/tls.key",
				"rootFile":"/etc/nginx/root.crt","uid":33,"gid":33,"mode":256},
			"keyInfo":{"type":"ECDSA_P256","format":"DER","pubFile":"/etc/nginx/tls.pub"},
			"reloadInfo":{"method":"SIGNAL","pidFile":"/run/nginx.pid","signal":1},
			"hooks":{"renew":{"shell":"/bin/sh","before":["echo before"],"after":["systemctl reload nginx"],"onError":["logger failed"]}},
			"adminEmails":["ops@example.com"]}`},
		{"certificate_info alone gets its default type", map[string]any{"workload_type": "redis",
			"certificate_info": map[string]any{"mode": 256}},
			`{"slug":"nginx","displayName":"nginx","workloadType":"redis","certificateInfo":{"type":"X509","mode":256}}`},
		{"ssh certificate, dbus reload", map[string]any{"workload_type": "generic",
			"certificate_info": map[string]any{"type": "SSH_HOST"}, "reload_info": map[string]any{"method": "DBUS", "unit_name": "sshd.service"}},
			`{"slug":"nginx","displayName":"nginx","workloadType":"generic","certificateInfo":{"type":"SSH_HOST"},
			"reloadInfo":{"method":"DBUS","unitName":"sshd.service"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := withCollection(t)
			res := apply(t, f, tc.args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, true, res["changed"])
			require.Equal(t, []string{"GET " + wlPath, "GET /device-collections/web", "PUT " + wlPath}, f.Calls())
			require.JSONEq(t, tc.body, f.Writes()[0].Body)
			require.Equal(t, map[string]any{}, res["diff"].(map[string]any)["before"])

			// What the server stored, defaults and long durations included,
			// is what was asked for.
			res = apply(t, f, tc.args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"], "diff: %v", res["diff"])
			require.Len(t, f.Writes(), 1)
		})
	}
}

func TestResultIsSnakeCase(t *testing.T) {
	f := withCollection(t)
	res := apply(t, f, fullArgs())
	require.Nil(t, res["failed"], res["msg"])
	wl := res["workload"].(map[string]any)
	require.Equal(t, "NGINX", wl["display_name"])
	require.Equal(t, []any{"www.example.com", "example.com"}, wl["static_sans"])
	require.Equal(t, map[string]any{"type": "X509", "duration": "24h0m0s", "crt_file": "/etc/nginx/tls.crt", "key_file": "/etc/nginx/tls.key",
		"root_file": "/etc/nginx/root.crt", "uid": float64(33), "gid": float64(33), "mode": float64(256)}, wl["certificate_info"])
	require.Equal(t, map[string]any{"method": "SIGNAL", "pid_file": "/run/nginx.pid", "signal": float64(1)}, wl["reload_info"])
	require.NotContains(t, wl, "admin_emails")
}

func TestMode(t *testing.T) {
	cases := []struct {
		mode any
		want float64 // 0: an error naming certificate_info.mode
	}{
		{"0400", 256},
		{"400", 256},
		{" 0640 ", 416},
		{256, 256},
		{256.0, 256},
		{"0", 0},
		{"abc", 0},
		{"0999", 0},
		{"-1", 0},
		{-1, 0},
		{4096, 0},
		{"10000", 0},
		{1.5, 0},
		{true, 0},
		{[]any{"0400"}, 0},
	}
	for _, tc := range cases {
		f := withCollection(t)
		res := apply(t, f, map[string]any{"workload_type": "generic", "certificate_info": map[string]any{"mode": tc.mode}})
		if tc.want == 0 && tc.mode != "0" {
			require.Equal(t, true, res["failed"], "mode %#v", tc.mode)
			require.Contains(t, res["msg"], "certificate_info.mode", "mode %#v", tc.mode)
			require.Contains(t, res["msg"], "'0400'")
			require.Empty(t, f.Requests(), "mode %#v: no request before the options are checked", tc.mode)
			continue
		}
		require.Nil(t, res["failed"], "mode %#v: %v", tc.mode, res["msg"])
		ci := bodyOf(t, f.Writes()[0])["certificateInfo"].(map[string]any)
		require.Equal(t, tc.want, ci["mode"], "mode %#v", tc.mode)
	}
}

func TestDuration(t *testing.T) {
	stored := func(duration string) map[string]any {
		return jsonObj(t, `{"slug":"nginx","displayName":"nginx","workloadType":"generic",
			"certificateInfo":{"type":"X509","duration":"`+duration+`"},
			"keyInfo":{"type":"DEFAULT","format":"DEFAULT"},"reloadInfo":{"method":"AUTOMATIC"}}`)
	}
	cases := []struct {
		server, asked string
		changed       bool
	}{
		{"24h0m0s", "24h", false},
		{"24h0m0s", "1440m", false},
		{"24h0m0s", "24h0m0s", false},
		{"1h30m0s", "90m", false},
		{"24h0m0s", "12h", true},
	}
	for _, tc := range cases {
		f := withCollection(t)
		f.Store(wlPath, stored(tc.server))
		res := apply(t, f, map[string]any{"workload_type": "generic", "certificate_info": map[string]any{"duration": tc.asked}})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, tc.changed, res["changed"], "%s on the server, %s asked", tc.server, tc.asked)
		require.Len(t, f.Writes(), map[bool]int{false: 0, true: 1}[tc.changed])
	}

	f := withCollection(t)
	res := apply(t, f, map[string]any{"workload_type": "generic", "certificate_info": map[string]any{"duration": "1d"}})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], `certificate_info.duration "1d" is not a positive duration`)
	require.Empty(t, f.Requests())
}

func TestSANOrder(t *testing.T) {
	stored := `{"slug":"nginx","displayName":"nginx","workloadType":"nginx",
		"staticSANs":["www.example.com","example.com"],"deviceMetadataKeySANs":["hostname","ansible_host"],
		"certificateInfo":{"type":"X509"},"keyInfo":{"type":"DEFAULT","format":"DEFAULT"},"reloadInfo":{"method":"AUTOMATIC"}}`
	cases := []struct {
		name    string
		static  []any
		meta    []any
		changed bool
	}{
		{"same order", []any{"www.example.com", "example.com"}, []any{"hostname", "ansible_host"}, false},
		{"metadata keys reordered", []any{"www.example.com", "example.com"}, []any{"ansible_host", "hostname"}, false},
		{"static SANs reordered: the first is the Common Name", []any{"example.com", "www.example.com"}, []any{"hostname", "ansible_host"}, true},
		{"static SAN removed", []any{"www.example.com"}, []any{"hostname", "ansible_host"}, true},
		{"metadata key added", []any{"www.example.com", "example.com"}, []any{"hostname", "ansible_host", "ip"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := withCollection(t)
			f.Store(wlPath, jsonObj(t, stored))
			res := apply(t, f, map[string]any{"workload_type": "nginx", "static_sans": tc.static, "device_metadata_key_sans": tc.meta})
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, tc.changed, res["changed"])
			if !tc.changed {
				require.Empty(t, f.Writes())
				return
			}
			body := bodyOf(t, f.Writes()[0])
			require.Equal(t, tc.static, body["staticSANs"], "static SANs are sent in the order given")
			require.Equal(t, tc.meta, body["deviceMetadataKeySANs"])
		})
	}
}

func TestValidationNamesTheOption(t *testing.T) {
	cases := []struct {
		name string
		args map[string]any
		want string
	}{
		{"signal without pid_file", map[string]any{"workload_type": "nginx", "reload_info": map[string]any{"method": "SIGNAL", "signal": 1}},
			"method is SIGNAL but all of the following are missing: pid_file found in reload_info"},
		{"dbus without unit_name", map[string]any{"workload_type": "nginx", "reload_info": map[string]any{"method": "DBUS"}},
			"method is DBUS but all of the following are missing: unit_name found in reload_info"},
		{"reload_info without method", map[string]any{"workload_type": "nginx", "reload_info": map[string]any{"pid_file": "/run/x.pid"}},
			"missing required arguments: method found in reload_info"},
		{"unknown workload type", map[string]any{"workload_type": "apache"}, "value of workload_type must be one of: etcd, generic"},
		{"present without workload_type", map[string]any{}, "state is present but all of the following are missing: workload_type"},
		{"unknown certificate type", map[string]any{"workload_type": "nginx", "certificate_info": map[string]any{"type": "PGP"}},
			"value of certificate_info.type must be one of: X509, SSH_USER, SSH_HOST"},
		{"unknown hook option", map[string]any{"workload_type": "nginx", "hooks": map[string]any{"sign": map[string]any{"command": "x"}}},
			"Unsupported parameters for hooks.sign: command"},
		{"bad api_url", map[string]any{"workload_type": "nginx", "api_url": "localhost:8080"}, `api_url "localhost:8080" is not a valid http(s) URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := withCollection(t)
			res := apply(t, f, tc.args)
			require.Equal(t, true, res["failed"])
			require.Contains(t, res["msg"], tc.want)
			require.Empty(t, f.Requests())
		})
	}
}

func TestMissingCollection(t *testing.T) {
	f := newFake(t)
	res := apply(t, f, map[string]any{"collection": "nope", "workload_type": "nginx"})
	require.Equal(t, true, res["failed"])
	require.Equal(t, false, res["changed"])
	require.Equal(t, `device collection "nope" does not exist; create it first with stepfleet.smallstep.device_collection`, res["msg"])
	require.Equal(t, []string{"GET /device-collections/nope/workloads/nginx", "GET /device-collections/nope", "GET /authorities"}, f.Calls())
}

// In check mode the collection may be created by an earlier task of the
// play, so the workload is reported as a change, with a warning.
func TestMissingCollectionInCheckMode(t *testing.T) {
	f := newFake(t)
	res := apply(t, f, map[string]any{"collection": "nope", "workload_type": "nginx", "_ansible_check_mode": true})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Contains(t, fmt.Sprint(res["warnings"]), `device collection "nope" does not exist yet`)
	require.Empty(t, f.Writes())
}

func TestCheckModeAndDiff(t *testing.T) {
	f := withCollection(t)
	res := apply(t, f, map[string]any{"workload_type": "nginx", "static_sans": []any{"a.example.com"}, "_ansible_check_mode": true})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Empty(t, f.Writes())
	require.Equal(t, map[string]any{
		"before": map[string]any{},
		"after": map[string]any{"slug": "nginx", "display_name": "nginx", "workload_type": "nginx", "static_sans": []any{"a.example.com"},
			"certificate_info": map[string]any{"type": "X509"}, "key_info": map[string]any{"type": "DEFAULT", "format": "DEFAULT"},
			"reload_info": map[string]any{"method": "AUTOMATIC"}},
	}, res["diff"])
	require.Equal(t, res["diff"].(map[string]any)["after"], res["workload"])

	// An update in check mode: the server's display name is kept.
	f.Store(wlPath, jsonObj(t, `{"slug":"nginx","displayName":"Web","workloadType":"nginx","staticSANs":["a.example.com"]}`))
	res = apply(t, f, map[string]any{"workload_type": "nginx", "static_sans": []any{"b.example.com"}, "_ansible_check_mode": true})
	require.Equal(t, true, res["changed"])
	require.Empty(t, f.Writes())
	diff := res["diff"].(map[string]any)
	require.Equal(t, []any{"a.example.com"}, diff["before"].(map[string]any)["static_sans"])
	require.Equal(t, []any{"b.example.com"}, diff["after"].(map[string]any)["static_sans"])
	require.Equal(t, "Web", diff["after"].(map[string]any)["display_name"])
}

func TestAbsent(t *testing.T) {
	stored := `{"slug":"nginx","displayName":"nginx","workloadType":"nginx"}`
	cases := []struct {
		name       string
		collection bool
		workload   bool
		check      bool
		changed    bool
		calls      []string
	}{
		{name: "present workload", collection: true, workload: true, changed: true,
			calls: []string{"GET " + wlPath, "DELETE " + wlPath}},
		{name: "present workload, check mode", collection: true, workload: true, check: true, changed: true,
			calls: []string{"GET " + wlPath}},
		{name: "missing workload", collection: true,
			calls: []string{"GET " + wlPath, "GET /device-collections/web"}},
		{name: "missing collection",
			calls: []string{"GET " + wlPath, "GET /device-collections/web", "GET /authorities"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.collection {
				f.Store("/device-collections/web", map[string]any{"slug": "web"})
			}
			if tc.workload {
				f.Store(wlPath, jsonObj(t, stored))
			}
			res := apply(t, f, map[string]any{"state": "absent", "_ansible_check_mode": tc.check})
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, tc.changed, res["changed"])
			require.Equal(t, tc.calls, f.Calls())
			require.Equal(t, map[string]any{}, res["diff"].(map[string]any)["after"])
			if tc.workload {
				require.Equal(t, "nginx", res["diff"].(map[string]any)["before"].(map[string]any)["slug"])
			}
		})
	}
}

func TestRejectedPutIsNoChange(t *testing.T) {
	f := withCollection(t)
	f.On(http.MethodPut, wlPath, reply{Status: 400, Body: `{"message":"staticSANs: bad SAN"}`, Header: map[string]string{"X-Request-Id": "req-1"}})
	res := apply(t, f, map[string]any{"workload_type": "nginx", "static_sans": []any{"bad san"}})
	require.Equal(t, true, res["failed"])
	require.Equal(t, false, res["changed"], "the server refused the write")
	require.Equal(t, "PUT "+wlPath+" failed: HTTP 400 Bad Request: staticSANs: bad SAN (request ID req-1)", res["msg"])
	require.Equal(t, map[string]any{"method": "PUT", "path": wlPath, "status": float64(400), "message": "staticSANs: bad SAN", "request_id": "req-1"}, res["failure"])
}

func TestSlugsAreEscaped(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/a%20b", map[string]any{"slug": "a b"})
	res := apply(t, f, map[string]any{"collection": "a b", "slug": "x/y", "workload_type": "generic"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []string{"GET /device-collections/a%20b/workloads/x%2Fy", "GET /device-collections/a%20b", "PUT /device-collections/a%20b/workloads/x%2Fy"}, f.Calls())
}

func TestRejectedDeleteIsNoChange(t *testing.T) {
	f := withCollection(t)
	f.Store(wlPath, map[string]any{"slug": "nginx", "displayName": "nginx", "workloadType": "nginx"})
	f.On(http.MethodDelete, wlPath, reply{Status: 409, Body: `{"message":"workload in use"}`})
	res := apply(t, f, map[string]any{"state": "absent"})
	require.Equal(t, true, res["failed"])
	require.Equal(t, false, res["changed"])
	require.Contains(t, res["msg"], "DELETE "+wlPath+" failed: HTTP 409 Conflict: workload in use")
}
