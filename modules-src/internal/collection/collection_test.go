package collection

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

const azureAudience = "https://management.azure.com/"

// serverDefaultsOnPut stands in for the server filling in azure audience.
func serverDefaultsOnPut(_ string, body map[string]any) map[string]any {
	delete(body, "adminEmails") // never returned
	if body["deviceType"] == "azure-vm" {
		cfg := body["deviceTypeConfiguration"].(map[string]any)
		if _, ok := cfg["audience"]; !ok {
			cfg["audience"] = azureAudience
		}
	}
	return body
}

func apply(t *testing.T, f *fakeAPI, args map[string]any) map[string]any {
	t.Helper()
	return run(t, f, Spec(), Run, args)
}

var typeCases = []struct {
	name string
	args map[string]any
	body string // the exact PUT body
}{
	{
		name: "aws-vm",
		args: map[string]any{"slug": "web", "device_type": "aws-vm", "aws_vm": map[string]any{"accounts": []any{"123456789012"}}},
		body: `{"slug":"web","displayName":"web","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["123456789012"]}}`,
	},
	{
		name: "aws-vm with every option",
		args: map[string]any{"name": "web", "display_name": "Web servers", "device_type": "aws-vm",
			"aws_vm":       map[string]any{"accounts": []any{"1", "2"}, "disable_custom_sans": true},
			"admin_emails": []any{"ops@example.com"}},
		body: `{"slug":"web","displayName":"Web servers","deviceType":"aws-vm",
			"deviceTypeConfiguration":{"accounts":["1","2"],"disableCustomSANs":true},"adminEmails":["ops@example.com"]}`,
	},
	{
		name: "azure-vm",
		args: map[string]any{"slug": "az", "device_type": "azure-vm",
			"azure_vm": map[string]any{"tenant_id": "t-1", "resource_groups": []any{"rg-b", "rg-a"}}},
		body: `{"slug":"az","displayName":"az","deviceType":"azure-vm","deviceTypeConfiguration":{"tenantID":"t-1","resourceGroups":["rg-b","rg-a"]}}`,
	},
	{
		name: "gcp-vm",
		args: map[string]any{"slug": "gce", "device_type": "gcp-vm",
			"gcp_vm": map[string]any{"project_ids": []any{"p1"}, "service_accounts": []any{"sa@p1.iam.gserviceaccount.com"}, "disable_custom_sans": false}},
		body: `{"slug":"gce","displayName":"gce","deviceType":"gcp-vm",
			"deviceTypeConfiguration":{"projectIDs":["p1"],"serviceAccounts":["sa@p1.iam.gserviceaccount.com"],"disableCustomSANs":false}}`,
	},
	{
		name: "tpm with options",
		args: map[string]any{"slug": "metal", "device_type": "tpm",
			"tpm": map[string]any{"attestor_roots": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "force_cn": true, "require_eab": true}},
		body: `{"slug":"metal","displayName":"metal","deviceType":"tpm",
			"deviceTypeConfiguration":{"attestorRoots":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","forceCN":true,"requireEAB":true}}`,
	},
	{
		name: "tpm without options",
		args: map[string]any{"slug": "metal", "device_type": "tpm"},
		body: `{"slug":"metal","displayName":"metal","deviceType":"tpm","deviceTypeConfiguration":{}}`,
	},
}

func TestCreateSendsTheExactBodyAndASecondRunChangesNothing(t *testing.T) {
	for _, tc := range typeCases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.OnPut = serverDefaultsOnPut
			slug := tc.args["slug"]
			if slug == nil {
				slug = tc.args["name"]
			}
			path := "/device-collections/" + slug.(string)

			res := apply(t, f, tc.args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, true, res["changed"])
			require.Equal(t, []string{"GET " + path, "PUT " + path}, f.Calls())
			require.JSONEq(t, tc.body, f.Requests()[1].Body)
			coll := res["device_collection"].(map[string]any)
			require.Equal(t, slug, coll["slug"])
			require.Equal(t, tc.args["device_type"], coll["device_type"])
			diff := res["diff"].(map[string]any)
			require.Equal(t, map[string]any{}, diff["before"])
			require.Equal(t, slug, diff["after"].(map[string]any)["slug"])

			// The server now answers what it stored, with its defaults.
			before := len(f.Requests())
			res = apply(t, f, tc.args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"])
			require.Equal(t, []string{"GET " + path}, f.Calls()[before:], "a second run only reads")
			diff = res["diff"].(map[string]any)
			require.Equal(t, diff["before"], diff["after"])
			require.Equal(t, diff["before"], res["device_collection"])
		})
	}
}

func TestAzureAudienceDefaultIsNoChange(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/az", jsonObj(t, `{"slug":"az","displayName":"az","deviceType":"azure-vm",
		"deviceTypeConfiguration":{"tenantID":"t-1","resourceGroups":["rg"],"audience":"`+azureAudience+`"}}`))
	for _, audience := range []any{nil, azureAudience} {
		azure := map[string]any{"tenant_id": "t-1", "resource_groups": []any{"rg"}}
		if audience != nil {
			azure["audience"] = audience
		}
		res := apply(t, f, map[string]any{"slug": "az", "device_type": "azure-vm", "azure_vm": azure})
		require.Equal(t, false, res["changed"], "audience %v", audience)
	}
	res := apply(t, f, map[string]any{"slug": "az", "device_type": "azure-vm",
		"azure_vm": map[string]any{"tenant_id": "t-1", "resource_groups": []any{"rg"}, "audience": "api://custom"}})
	require.Equal(t, true, res["changed"])
	require.Len(t, f.Writes(), 1)
	require.Equal(t, "api://custom", bodyOf(t, f.Writes()[0])["deviceTypeConfiguration"].(map[string]any)["audience"])
}

func TestSetListsInAnotherOrderAreNoChange(t *testing.T) {
	cases := []struct {
		name   string
		stored string
		args   map[string]any
	}{
		{"aws accounts", `{"slug":"c","displayName":"c","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1","2","3"]}}`,
			map[string]any{"device_type": "aws-vm", "aws_vm": map[string]any{"accounts": []any{"3", "1", "2"}}}},
		{"azure resource groups", `{"slug":"c","displayName":"c","deviceType":"azure-vm",
			"deviceTypeConfiguration":{"tenantID":"t","resourceGroups":["a","b"],"audience":"` + azureAudience + `"}}`,
			map[string]any{"device_type": "azure-vm", "azure_vm": map[string]any{"tenant_id": "t", "resource_groups": []any{"b", "a"}}}},
		{"gcp projects and service accounts", `{"slug":"c","displayName":"c","deviceType":"gcp-vm",
			"deviceTypeConfiguration":{"projectIDs":["p1","p2"],"serviceAccounts":["s1","s2"]}}`,
			map[string]any{"device_type": "gcp-vm", "gcp_vm": map[string]any{"project_ids": []any{"p2", "p1"}, "service_accounts": []any{"s2", "s1"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.Store("/device-collections/c", jsonObj(t, tc.stored))
			tc.args["slug"] = "c"
			res := apply(t, f, tc.args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"])
			require.Empty(t, f.Writes())
		})
	}
}

func TestChanges(t *testing.T) {
	stored := `{"slug":"web","displayName":"Web","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1"]}}`
	cases := []struct {
		name    string
		args    map[string]any
		changed bool
		put     string // the PUT body when changed
	}{
		{"display_name left out keeps the server's",
			map[string]any{"aws_vm": map[string]any{"accounts": []any{"1"}}}, false, ""},
		{"display_name change",
			map[string]any{"display_name": "Web tier", "aws_vm": map[string]any{"accounts": []any{"1"}}}, true,
			`{"slug":"web","displayName":"Web tier","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1"]}}`},
		{"account added keeps the server's name",
			map[string]any{"aws_vm": map[string]any{"accounts": []any{"1", "2"}}}, true,
			`{"slug":"web","displayName":"Web","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1","2"]}}`},
		{"disable_custom_sans false is the server's absent",
			map[string]any{"aws_vm": map[string]any{"accounts": []any{"1"}, "disable_custom_sans": false}}, false, ""},
		{"disable_custom_sans true",
			map[string]any{"aws_vm": map[string]any{"accounts": []any{"1"}, "disable_custom_sans": true}}, true,
			`{"slug":"web","displayName":"Web","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1"],"disableCustomSANs":true}}`},
		{"admin_emails are never returned, so never a change",
			map[string]any{"aws_vm": map[string]any{"accounts": []any{"1"}}, "admin_emails": []any{"a@example.com"}}, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.Store("/device-collections/web", jsonObj(t, stored))
			tc.args["slug"] = "web"
			tc.args["device_type"] = "aws-vm"
			res := apply(t, f, tc.args)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, tc.changed, res["changed"])
			if !tc.changed {
				require.Empty(t, f.Writes())
				return
			}
			require.Equal(t, []string{"GET /device-collections/web", "PUT /device-collections/web"}, f.Calls())
			require.JSONEq(t, tc.put, f.Writes()[0].Body)
		})
	}
}

func TestDiffShowsBeforeAndAfter(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/web", jsonObj(t, `{"slug":"web","displayName":"Web","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1"]}}`))
	res := apply(t, f, map[string]any{"slug": "web", "display_name": "Web tier", "device_type": "aws-vm",
		"aws_vm": map[string]any{"accounts": []any{"2", "1"}}, "_ansible_check_mode": true})
	require.Equal(t, true, res["changed"])
	require.Equal(t, map[string]any{
		"before": map[string]any{"slug": "web", "display_name": "Web", "device_type": "aws-vm",
			"device_type_configuration": map[string]any{"accounts": []any{"1"}}},
		"after": map[string]any{"slug": "web", "display_name": "Web tier", "device_type": "aws-vm",
			"device_type_configuration": map[string]any{"accounts": []any{"1", "2"}}},
	}, res["diff"])

	// Without diff mode, no diff.
	res = apply(t, f, map[string]any{"slug": "web", "display_name": "Web tier", "device_type": "aws-vm",
		"aws_vm": map[string]any{"accounts": []any{"1"}}, "_ansible_check_mode": true, "_ansible_diff": false})
	require.NotContains(t, res, "diff")
}

func TestCheckModeReportsButDoesNotWrite(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		f := newFake(t)
		res := apply(t, f, map[string]any{"slug": "web", "device_type": "aws-vm",
			"aws_vm": map[string]any{"accounts": []any{"1"}}, "_ansible_check_mode": true})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, true, res["changed"])
		require.Empty(t, f.Writes())
		require.Equal(t, "web", res["device_collection"].(map[string]any)["display_name"])
	})
	t.Run("update", func(t *testing.T) {
		f := newFake(t)
		f.Store("/device-collections/web", jsonObj(t, `{"slug":"web","displayName":"web","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1"]}}`))
		res := apply(t, f, map[string]any{"slug": "web", "display_name": "New", "device_type": "aws-vm",
			"aws_vm": map[string]any{"accounts": []any{"1"}}, "_ansible_check_mode": true})
		require.Equal(t, true, res["changed"])
		require.Empty(t, f.Writes())
		require.Equal(t, "New", res["device_collection"].(map[string]any)["display_name"])
	})
	t.Run("delete", func(t *testing.T) {
		f := newFake(t)
		f.Store("/device-collections/web", jsonObj(t, `{"slug":"web","displayName":"web","deviceType":"tpm","deviceTypeConfiguration":{}}`))
		res := apply(t, f, map[string]any{"slug": "web", "state": "absent", "purge": true, "_ansible_check_mode": true})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, true, res["changed"])
		require.Empty(t, f.Writes())
	})
}

func TestDeviceTypeCannotChange(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/web", jsonObj(t, `{"slug":"web","displayName":"web","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":["1"]}}`))
	for _, check := range []bool{false, true} {
		res := apply(t, f, map[string]any{"slug": "web", "device_type": "tpm", "_ansible_check_mode": check})
		require.Equal(t, true, res["failed"])
		require.Equal(t, false, res["changed"])
		require.Contains(t, res["msg"], `device collection "web" has device_type aws-vm; the API cannot change it to tpm`)
		require.Contains(t, res["msg"], "state: absent, purge: true")
	}
	require.Empty(t, f.Writes())
}

func TestMismatchedTypeOptionFailsBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name string
		args map[string]any
		want string
	}{
		{"aws_vm with tpm", map[string]any{"device_type": "tpm", "aws_vm": map[string]any{"accounts": []any{"1"}}},
			"aws_vm is set but device_type is tpm; use the option tpm for device_type tpm"},
		{"tpm with gcp-vm", map[string]any{"device_type": "gcp-vm", "gcp_vm": map[string]any{"project_ids": []any{"p"}}, "tpm": map[string]any{"force_cn": true}},
			"parameters are mutually exclusive: aws_vm|azure_vm|gcp_vm|tpm"},
		{"aws-vm without aws_vm", map[string]any{"device_type": "aws-vm"},
			"device_type is aws-vm but all of the following are missing: aws_vm"},
		{"present without device_type", map[string]any{},
			"state is present but all of the following are missing: device_type"},
		{"gcp_vm without projects or accounts", map[string]any{"device_type": "gcp-vm", "gcp_vm": map[string]any{"disable_custom_sans": true}},
			"one of the following is required: project_ids, service_accounts found in gcp_vm"},
		{"azure_vm without tenant", map[string]any{"device_type": "azure-vm", "azure_vm": map[string]any{"resource_groups": []any{"rg"}}},
			"missing required arguments: tenant_id found in azure_vm"},
		{"bad timeout", map[string]any{"device_type": "tpm", "timeout": 0},
			"timeout must be a positive number of seconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			tc.args["slug"] = "web"
			res := apply(t, f, tc.args)
			require.Equal(t, true, res["failed"])
			require.Contains(t, res["msg"], tc.want)
			require.Empty(t, f.Requests())
		})
	}
}

func TestAbsent(t *testing.T) {
	stored := `{"slug":"web","displayName":"web","deviceType":"tpm","deviceTypeConfiguration":{}}`
	cases := []struct {
		name    string
		exists  bool
		items   string // answer of GET /collections/web/items; "" means 404
		purge   bool
		calls   []string
		changed bool
		fail    string
	}{
		// A 404 is taken as "nothing to remove" once /authorities shows that
		// api_url is the API's.
		{name: "missing", calls: []string{"GET /device-collections/web", "GET /authorities"}},
		{name: "empty", exists: true, items: `[]`, changed: true,
			calls: []string{"GET /device-collections/web", "GET /collections/web/items?pagination%5Bfirst%5D=1", "DELETE /device-collections/web"}},
		{name: "no instance collection yet", exists: true, changed: true,
			calls: []string{"GET /device-collections/web", "GET /collections/web/items?pagination%5Bfirst%5D=1", "DELETE /device-collections/web"}},
		{name: "devices and no purge", exists: true, items: `[{"id":"i-0123456789abcdef0","data":{}}]`,
			calls: []string{"GET /device-collections/web", "GET /collections/web/items?pagination%5Bfirst%5D=1"},
			fail:  `device collection "web" still holds devices or workloads; set purge: true`},
		{name: "devices and purge", exists: true, items: `[{"id":"i-0123456789abcdef0","data":{}}]`, purge: true, changed: true,
			calls: []string{"GET /device-collections/web", "DELETE /device-collections/web?purge=true"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.exists {
				f.Store("/device-collections/web", jsonObj(t, stored))
			}
			if tc.items != "" {
				f.On(http.MethodGet, "/collections/web/items", reply{Status: 200, Body: tc.items})
			}
			res := apply(t, f, map[string]any{"slug": "web", "state": "absent", "purge": tc.purge})
			if tc.fail != "" {
				require.Equal(t, true, res["failed"])
				require.Contains(t, res["msg"], tc.fail)
			} else {
				require.Nil(t, res["failed"], res["msg"])
			}
			require.Equal(t, tc.changed, res["changed"])
			require.Equal(t, tc.calls, f.Calls())
			if tc.exists {
				require.Equal(t, tc.changed, f.Stored("/device-collections/web") == nil, "deleted")
			}
			diff := res["diff"].(map[string]any)
			require.Equal(t, map[string]any{}, diff["after"])
		})
	}
}

func TestDelete422IsTranslated(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/web", jsonObj(t, `{"slug":"web","displayName":"web","deviceType":"tpm","deviceTypeConfiguration":{}}`))
	f.On(http.MethodGet, "/collections/web/items", reply{Status: 200, Body: `[]`})
	f.On(http.MethodDelete, "/device-collections/web", reply{Status: 422, Body: `{"message":"collection has workloads"}`,
		Header: map[string]string{"X-Request-Id": "req-422"}})

	res := apply(t, f, map[string]any{"slug": "web", "state": "absent"})
	require.Equal(t, true, res["failed"])
	require.Equal(t, false, res["changed"])
	msg := res["msg"].(string)
	require.Contains(t, msg, `device collection "web" still holds devices or workloads; set purge: true to delete them with it, or remove them first`)
	require.Contains(t, msg, "DELETE /device-collections/web failed: HTTP 422 Unprocessable Entity: collection has workloads (request ID req-422)")
	require.Equal(t, map[string]any{"method": "DELETE", "path": "/device-collections/web", "status": float64(422),
		"message": "collection has workloads", "request_id": "req-422"}, res["failure"])
}

func TestAPIFailureIsReported(t *testing.T) {
	f := newFake(t)
	f.On(http.MethodGet, "/device-collections/web", reply{Status: 500, Body: `{"message":"database down"}`,
		Header: map[string]string{"X-Request-Id": "req-500"}})
	res := apply(t, f, map[string]any{"slug": "web", "device_type": "tpm"})
	require.Equal(t, true, res["failed"])
	require.Equal(t, "GET /device-collections/web failed: HTTP 500 Internal Server Error: database down (request ID req-500)", res["msg"])
	require.Equal(t, map[string]any{"method": "GET", "path": "/device-collections/web", "status": float64(500),
		"message": "database down", "request_id": "req-500"}, res["failure"])
	require.Empty(t, f.Writes())
}

func TestSlugIsEscaped(t *testing.T) {
	f := newFake(t)
	res := apply(t, f, map[string]any{"slug": "a+b c", "device_type": "tpm"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, []string{"GET /device-collections/a%2Bb%20c", "PUT /device-collections/a%2Bb%20c"}, f.Calls())
}

func TestSlugThatIsNotLowercaseIsRefusedBeforeAnyRequest(t *testing.T) {
	for _, slug := range []string{"Fleet", "a/b"} {
		f := newFake(t)
		res := apply(t, f, map[string]any{"slug": slug, "device_type": "tpm"})
		require.Equal(t, true, res["failed"], slug)
		require.Contains(t, res["msg"], "a device collection's slug is", slug)
		require.Empty(t, f.Calls(), slug)
	}
}

func TestEmptyAzureAudienceIsTheServerDefault(t *testing.T) {
	// The server fills in the default audience when it is absent or empty,
	// as a templated "{{ audience | default('') }}" sends it.
	f := newFake(t)
	f.OnPut = func(path string, body map[string]any) map[string]any {
		cfg := body["deviceTypeConfiguration"].(map[string]any)
		if a, _ := cfg["audience"].(string); a == "" {
			cfg["audience"] = azureAudience
		}
		return body
	}
	args := map[string]any{"slug": "az", "device_type": "azure-vm",
		"azure_vm": map[string]any{"tenant_id": "t", "resource_groups": []any{"rg"}, "audience": ""}}
	res := apply(t, f, args)
	require.Equal(t, true, res["changed"])
	res = apply(t, f, args)
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, false, res["changed"], "diff: %v", res["diff"])
	require.Len(t, f.Writes(), 1)
}

func TestRejectedPutIsNoChange(t *testing.T) {
	f := newFake(t)
	f.On(http.MethodPut, "/device-collections/web", reply{Status: 400, Body: `{"message":"deviceTypeConfiguration.accounts: not an AWS account ID"}`,
		Header: map[string]string{"X-Request-Id": "req-400"}})
	res := apply(t, f, map[string]any{"slug": "web", "device_type": "aws-vm", "aws_vm": map[string]any{"accounts": []any{"x"}}})
	require.Equal(t, true, res["failed"])
	require.Equal(t, false, res["changed"], "the server refused the write")
	require.Equal(t, "PUT /device-collections/web failed: HTTP 400 Bad Request: deviceTypeConfiguration.accounts: not an AWS account ID (request ID req-400)", res["msg"])
	require.Equal(t, "req-400", res["failure"].(map[string]any)["request_id"])
}

// Leaving out the type option keeps an existing collection's configuration,
// as leaving out display_name keeps its name: a rename must not wipe the
// attestor roots.
func TestOmittedTypeOptionKeepsTheConfiguration(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/fleet", map[string]any{"slug": "fleet", "displayName": "Fleet", "deviceType": "tpm",
		"deviceTypeConfiguration": map[string]any{"attestorRoots": "PEM", "forceCN": true}})
	res := apply(t, f, map[string]any{"slug": "fleet", "device_type": "tpm", "display_name": "Renamed"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	writes := f.Writes()
	require.Len(t, writes, 1)
	require.JSONEq(t, `{"slug":"fleet","displayName":"Renamed","deviceType":"tpm","deviceTypeConfiguration":{"attestorRoots":"PEM","forceCN":true}}`, writes[0].Body)
}
