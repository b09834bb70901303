package sim

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAuthorization(t *testing.T) {
	s := newTestSim(t, Config{})
	for name, tc := range map[string]struct {
		header string
		status int
	}{
		"missing":       {"", http.StatusUnauthorized},
		"wrong token":   {"Bearer nope", http.StatusUnauthorized},
		"token prefix":  {"Bearer " + testToken[:4], http.StatusUnauthorized},
		"not bearer":    {"Basic " + testToken, http.StatusUnauthorized},
		"correct token": {"Bearer " + testToken, http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.request(http.MethodGet, "/authorities", nil, map[string]string{"Authorization": tc.header})
			require.Equal(t, tc.status, r.status, "%s", r.body)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			if tc.status == http.StatusUnauthorized {
				require.NotEmpty(t, r.message(t))
				require.NotEmpty(t, r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestUnauthorisedRequestsChangeNothing(t *testing.T) {
	s := newTestSim(t, Config{})
	r := s.request(http.MethodPut, "/device-collections/aws", awsCollection("aws"), map[string]string{"Authorization": "Bearer wrong"})
	require.Equal(t, http.StatusUnauthorized, r.status)
	s.mustDo(http.StatusNotFound, http.MethodGet, "/device-collections/aws", nil)
}

func TestRequestIDIsEchoedOrGenerated(t *testing.T) {
	s := newTestSim(t, Config{})

	r := s.request(http.MethodGet, "/authorities", nil, map[string]string{"X-Request-Id": "req-123"})
	require.Equal(t, "req-123", r.header.Get("X-Request-Id"))

	// Errors carry it too: it belongs in every client error message.
	r = s.request(http.MethodGet, "/device-collections/none", nil, map[string]string{"X-Request-Id": "req-404"})
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "req-404", r.header.Get("X-Request-Id"))

	a := s.do(http.MethodGet, "/authorities", nil).header.Get("X-Request-Id")
	b := s.do(http.MethodGet, "/authorities", nil).header.Get("X-Request-Id")
	require.NotEmpty(t, a)
	require.NotEqual(t, a, b)
}

func TestAPIVersionHeader(t *testing.T) {
	s := newTestSim(t, Config{})
	for name, tc := range map[string]struct {
		version string
		status  int
	}{
		"absent":     {"", http.StatusOK},
		"supported":  {"2023-03-01", http.StatusOK},
		"newer":      {"2023-11-01", http.StatusBadRequest},
		"not a date": {"latest", http.StatusBadRequest},
		"older":      {"2022-06-10", http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.request(http.MethodGet, "/authorities", nil, map[string]string{headerAPIVersion: tc.version})
			require.Equal(t, tc.status, r.status, "%s", r.body)
			require.Equal(t, APIVersion, r.header.Get(headerAPIVersion))
			if tc.status == http.StatusBadRequest {
				require.Contains(t, r.message(t), "2023-03-01")
				require.Contains(t, r.message(t), tc.version)
			}
		})
	}
}

func TestDeviceCollectionLifecycle(t *testing.T) {
	s := newTestSim(t, Config{})
	body := map[string]any{
		"slug":                    "azure",
		"displayName":             "Azure VMs",
		"deviceType":              "azure-vm",
		"deviceTypeConfiguration": map[string]any{"tenantID": "t-1", "resourceGroups": []any{"rg"}},
		"adminEmails":             []any{"admin@example.com"},
	}

	created := s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/azure", body).object(t)
	want := map[string]any{
		"slug":        "azure",
		"displayName": "Azure VMs",
		"deviceType":  "azure-vm",
		"deviceTypeConfiguration": map[string]any{
			"tenantID":       "t-1",
			"resourceGroups": []any{"rg"},
			"audience":       "https://management.azure.com/", // server default
		},
	}
	require.Equal(t, want, created, "adminEmails is never returned")
	require.Equal(t, want, s.mustDo(http.StatusOK, http.MethodGet, "/device-collections/azure", nil).object(t))

	// The state dump keeps what the API hides, so tests can check it was sent.
	dump := s.mustDo(http.StatusOK, http.MethodGet, "/_sim/state", nil).object(t)
	stored := dump["collections"].(map[string]any)["azure"].(map[string]any)["deviceCollection"].(map[string]any)
	require.Equal(t, []any{"admin@example.com"}, stored["adminEmails"])

	// PUT replaces the whole body; an explicit audience is kept.
	body["displayName"] = "Renamed"
	body["deviceTypeConfiguration"] = map[string]any{"tenantID": "t-2", "resourceGroups": []any{}, "audience": "api://custom"}
	replaced := s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/azure", body).object(t)
	require.Equal(t, "Renamed", replaced["displayName"])
	require.Equal(t, map[string]any{"tenantID": "t-2", "resourceGroups": []any{}, "audience": "api://custom"}, replaced["deviceTypeConfiguration"])

	r := s.mustDo(http.StatusNoContent, http.MethodDelete, "/device-collections/azure", nil)
	require.Empty(t, r.body)
	s.mustDo(http.StatusNotFound, http.MethodGet, "/device-collections/azure", nil)
	s.mustDo(http.StatusNotFound, http.MethodDelete, "/device-collections/azure", nil)
}

func TestDeviceTypeCannotChange(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/fleet", awsCollection("fleet"))

	tpm := map[string]any{"slug": "fleet", "displayName": "x", "deviceType": "tpm", "deviceTypeConfiguration": map[string]any{}}
	r := s.mustDo(http.StatusConflict, http.MethodPut, "/device-collections/fleet", tpm)
	require.Contains(t, r.message(t), "deviceType")
	require.Contains(t, r.message(t), "aws-vm")

	got := s.mustDo(http.StatusOK, http.MethodGet, "/device-collections/fleet", nil).object(t)
	require.Equal(t, "aws-vm", got["deviceType"], "a refused PUT changes nothing")
}

func TestDeleteNonEmptyCollectionNeedsPurge(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c/workloads/web", workload("web"))
	s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/i-0123456789abcdef0", map[string]any{"data": map[string]any{}})

	for _, q := range []string{"", "?purge=false"} {
		r := s.mustDo(http.StatusUnprocessableEntity, http.MethodDelete, "/device-collections/c"+q, nil)
		require.Contains(t, r.message(t), "purge=true")
	}
	s.mustDo(http.StatusBadRequest, http.MethodDelete, "/device-collections/c?purge=maybe", nil)
	s.mustDo(http.StatusOK, http.MethodGet, "/device-collections/c/workloads/web", nil)

	s.mustDo(http.StatusNoContent, http.MethodDelete, "/device-collections/c?purge=true", nil)
	s.mustDo(http.StatusNotFound, http.MethodGet, "/device-collections/c", nil)
	s.mustDo(http.StatusNotFound, http.MethodGet, "/collections/c/items", nil)

	// A new collection of the same slug starts empty.
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	require.Equal(t, []any{}, s.mustDo(http.StatusOK, http.MethodGet, "/collections/c/items", nil).json(t))
	s.mustDo(http.StatusNotFound, http.MethodGet, "/device-collections/c/workloads/web", nil)
}

func TestEmptyCollectionDeletesWithoutPurge(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c/workloads/web", workload("web"))
	s.mustDo(http.StatusNoContent, http.MethodDelete, "/device-collections/c/workloads/web", nil)
	s.mustDo(http.StatusNoContent, http.MethodDelete, "/device-collections/c", nil)
}

func TestNotFound(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))

	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/device-collections/missing", nil},
		{http.MethodDelete, "/device-collections/missing", nil},
		{http.MethodGet, "/device-collections/c/workloads/missing", nil},
		{http.MethodDelete, "/device-collections/c/workloads/missing", nil},
		{http.MethodGet, "/device-collections/missing/workloads/web", nil},
		{http.MethodPut, "/device-collections/missing/workloads/web", workload("web")},
		{http.MethodGet, "/collections/c/instances/i-1", nil},
		{http.MethodDelete, "/collections/c/instances/i-1", nil},
		{http.MethodPut, "/collections/missing/instances/i-1", map[string]any{"data": map[string]any{}}},
		{http.MethodGet, "/collections/missing/items", nil},
		{http.MethodPost, "/device-collections/c/i-1/enrollment-token", nil},
		{http.MethodPost, "/device-collections/missing/i-1/enrollment-token", nil},
		{http.MethodGet, "/no-such-endpoint", nil},
		{http.MethodGet, "/device-collections/c/extra/segments/here/too", nil},
		{http.MethodGet, "/device-collections/", nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := s.mustDo(http.StatusNotFound, tc.method, tc.path, tc.body)
			require.NotEmpty(t, r.message(t))
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := newTestSim(t, Config{})
	r := s.mustDo(http.StatusMethodNotAllowed, http.MethodPost, "/device-collections/c", awsCollection("c"))
	require.Equal(t, "DELETE, GET, PUT", r.header.Get("Allow"))
	require.Contains(t, r.message(t), "POST")
}

func TestDeviceCollectionValidation(t *testing.T) {
	s := newTestSim(t, Config{})
	with := func(change func(m map[string]any)) map[string]any {
		m := awsCollection("c")
		change(m)
		return m
	}
	cfg := func(deviceType string, c map[string]any) map[string]any {
		return with(func(m map[string]any) {
			m["deviceType"] = deviceType
			m["deviceTypeConfiguration"] = c
		})
	}
	for name, tc := range map[string]struct {
		body any
		want string // part of the message
	}{
		"not JSON":                  {`{"slug":`, "not valid JSON"},
		"empty body":                {``, "empty"},
		"array body":                {`[]`, "must be a JSON object"},
		"trailing data":             {`{} {}`, "after the JSON object"},
		"missing slug":              {with(func(m map[string]any) { delete(m, "slug") }), "slug: required"},
		"null displayName":          {with(func(m map[string]any) { m["displayName"] = nil }), "displayName: required"},
		"missing deviceType":        {with(func(m map[string]any) { delete(m, "deviceType") }), "deviceType: required"},
		"missing configuration":     {with(func(m map[string]any) { delete(m, "deviceTypeConfiguration") }), "deviceTypeConfiguration: required"},
		"slug mismatch":             {with(func(m map[string]any) { m["slug"] = "other" }), `"other" does not match "c"`},
		"unknown deviceType":        {with(func(m map[string]any) { m["deviceType"] = "aws" }), "deviceType: must be one of aws-vm, azure-vm, gcp-vm, tpm"},
		"unknown top-level field":   {with(func(m map[string]any) { m["authorityID"] = "x" }), "authorityID: unknown field"},
		"displayName a number":      {with(func(m map[string]any) { m["displayName"] = 5 }), "displayName: must be a string, not a number"},
		"adminEmails a string":      {with(func(m map[string]any) { m["adminEmails"] = "a@b" }), "adminEmails: must be an array of strings"},
		"adminEmails item a number": {with(func(m map[string]any) { m["adminEmails"] = []any{"a@b", 1} }), "adminEmails[1]: must be a string"},
		"configuration a list":      {with(func(m map[string]any) { m["deviceTypeConfiguration"] = []any{} }), "deviceTypeConfiguration: must be an object"},
		"aws without accounts":      {cfg("aws-vm", map[string]any{}), "deviceTypeConfiguration.accounts: required"},
		"aws accounts a string":     {cfg("aws-vm", map[string]any{"accounts": "123"}), "deviceTypeConfiguration.accounts: must be an array of strings"},
		"aws with azure field":      {cfg("aws-vm", map[string]any{"accounts": []any{}, "tenantID": "t"}), "deviceTypeConfiguration.tenantID: unknown field (deviceType aws-vm)"},
		"aws disableCustomSANs":     {cfg("aws-vm", map[string]any{"accounts": []any{}, "disableCustomSANs": "yes"}), "disableCustomSANs: must be a boolean"},
		"azure without tenant":      {cfg("azure-vm", map[string]any{"resourceGroups": []any{}}), "deviceTypeConfiguration.tenantID: required"},
		"azure without groups":      {cfg("azure-vm", map[string]any{"tenantID": "t"}), "deviceTypeConfiguration.resourceGroups: required"},
		"gcp without either list":   {cfg("gcp-vm", map[string]any{"disableCustomSANs": true}), "at least one of projectIDs and serviceAccounts"},
		"gcp with empty lists":      {cfg("gcp-vm", map[string]any{"projectIDs": []any{}, "serviceAccounts": []any{}}), "at least one of projectIDs and serviceAccounts"},
		"tpm with aws field":        {cfg("tpm", map[string]any{"accounts": []any{}}), "deviceTypeConfiguration.accounts: unknown field"},
		"tpm forceCN a string":      {cfg("tpm", map[string]any{"forceCN": "true"}), "deviceTypeConfiguration.forceCN: must be a boolean"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.mustDo(http.StatusBadRequest, http.MethodPut, "/device-collections/c", tc.body)
			require.Contains(t, r.message(t), tc.want)
		})
	}
	s.mustDo(http.StatusNotFound, http.MethodGet, "/device-collections/c", nil)
}

func TestDeviceCollectionTypesAccepted(t *testing.T) {
	s := newTestSim(t, Config{})
	for deviceType, c := range map[string]map[string]any{
		"aws-vm":   {"accounts": []any{"1"}, "disableCustomSANs": true},
		"azure-vm": {"tenantID": "t", "resourceGroups": []any{"a"}, "audience": "x", "disableCustomSANs": false},
		"gcp-vm":   {"serviceAccounts": []any{"sa@p.iam.gserviceaccount.com"}},
		"tpm":      {},
	} {
		t.Run(deviceType, func(t *testing.T) {
			body := map[string]any{"slug": deviceType, "displayName": "d", "deviceType": deviceType, "deviceTypeConfiguration": c}
			got := s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/"+deviceType, body).object(t)
			require.Equal(t, body, got)
		})
	}
}

func TestWorkloadDefaultsAndRoundTrip(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))

	body := workload("web")
	body["adminEmails"] = []any{"a@example.com"}
	got := s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c/workloads/web", body).object(t)
	require.Equal(t, map[string]any{
		"slug":            "web",
		"displayName":     "Workload web",
		"workloadType":    "nginx",
		"certificateInfo": map[string]any{"type": "X509"},
		"keyInfo":         map[string]any{"type": "DEFAULT", "format": "DEFAULT"},
		"reloadInfo":      map[string]any{"method": "AUTOMATIC"},
	}, got)

	full := map[string]any{
		"slug":                  "db",
		"displayName":           "Postgres",
		"workloadType":          "postgres",
		"staticSANs":            []any{"db.internal"},
		"deviceMetadataKeySANs": []any{"dnsName"},
		"certificateInfo": map[string]any{"type": "X509", "duration": "24h0m0s", "crtFile": "/c", "keyFile": "/k",
			"rootFile": "/r", "uid": float64(999), "gid": float64(0), "mode": float64(256)},
		"keyInfo":    map[string]any{"type": "ECDSA_P256", "format": "PKCS8", "pubFile": "/p"},
		"reloadInfo": map[string]any{"method": "SIGNAL", "pidFile": "/run/pg.pid", "signal": float64(1)},
		"hooks": map[string]any{
			"sign":  map[string]any{"shell": "/bin/sh", "before": []any{"true"}, "after": []any{}, "onError": []any{"false"}},
			"renew": map[string]any{"after": []any{"systemctl reload postgresql"}},
		},
	}
	require.Equal(t, full, s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c/workloads/db", full).object(t))
	require.Equal(t, full, s.mustDo(http.StatusOK, http.MethodGet, "/device-collections/c/workloads/db", nil).object(t))

	// A partial keyInfo gets DEFAULT for what it leaves out.
	partial := workload("web")
	partial["keyInfo"] = map[string]any{"type": "RSA_2048"}
	got = s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c/workloads/web", partial).object(t)
	require.Equal(t, map[string]any{"type": "RSA_2048", "format": "DEFAULT"}, got["keyInfo"])
}

func TestWorkloadValidation(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	with := func(change func(m map[string]any)) map[string]any {
		m := workload("w")
		change(m)
		return m
	}
	for name, tc := range map[string]struct {
		body map[string]any
		want string
	}{
		"missing workloadType":    {with(func(m map[string]any) { delete(m, "workloadType") }), "workloadType: required"},
		"unknown workloadType":    {with(func(m map[string]any) { m["workloadType"] = "apache" }), "workloadType: must be one of etcd, generic"},
		"slug mismatch":           {with(func(m map[string]any) { m["slug"] = "x" }), `"x" does not match "w"`},
		"unknown field":           {with(func(m map[string]any) { m["sans"] = []any{} }), "sans: unknown field"},
		"staticSANs a string":     {with(func(m map[string]any) { m["staticSANs"] = "a" }), "staticSANs: must be an array of strings"},
		"certificateInfo no type": {with(func(m map[string]any) { m["certificateInfo"] = map[string]any{"crtFile": "/c"} }), "certificateInfo.type: required"},
		"certificateInfo type":    {with(func(m map[string]any) { m["certificateInfo"] = map[string]any{"type": "X.509"} }), "certificateInfo.type: must be one of X509, SSH_USER, SSH_HOST"},
		"mode a string":           {with(func(m map[string]any) { m["certificateInfo"] = map[string]any{"type": "X509", "mode": "0400"} }), "certificateInfo.mode: must be an integer, not a string"},
		"uid a fraction":          {with(func(m map[string]any) { m["certificateInfo"] = map[string]any{"type": "X509", "uid": 1.5} }), "certificateInfo.uid: must be an integer"},
		"keyInfo type":            {with(func(m map[string]any) { m["keyInfo"] = map[string]any{"type": "EC"} }), "keyInfo.type: must be one of DEFAULT"},
		"keyInfo format":          {with(func(m map[string]any) { m["keyInfo"] = map[string]any{"format": "PEM"} }), "keyInfo.format: must be one of DEFAULT, DER, OPENSSH, PKCS8"},
		"reloadInfo no method":    {with(func(m map[string]any) { m["reloadInfo"] = map[string]any{} }), "reloadInfo.method: required"},
		"reloadInfo method":       {with(func(m map[string]any) { m["reloadInfo"] = map[string]any{"method": "HUP"} }), "reloadInfo.method: must be one of AUTOMATIC, CUSTOM, SIGNAL, DBUS"},
		"SIGNAL without pidFile":  {with(func(m map[string]any) { m["reloadInfo"] = map[string]any{"method": "SIGNAL", "signal": 1} }), "reloadInfo.pidFile: required when reloadInfo.method is SIGNAL"},
		"SIGNAL without signal":   {with(func(m map[string]any) { m["reloadInfo"] = map[string]any{"method": "SIGNAL", "pidFile": "/p"} }), "reloadInfo.signal: required when reloadInfo.method is SIGNAL"},
		"signal a string": {with(func(m map[string]any) {
			m["reloadInfo"] = map[string]any{"method": "SIGNAL", "pidFile": "/p", "signal": "HUP"}
		}), "reloadInfo.signal: must be an integer"},
		"DBUS without unitName": {with(func(m map[string]any) { m["reloadInfo"] = map[string]any{"method": "DBUS"} }), "reloadInfo.unitName: required when reloadInfo.method is DBUS"},
		"hooks unknown key":     {with(func(m map[string]any) { m["hooks"] = map[string]any{"issue": map[string]any{}} }), "hooks.issue: unknown field"},
		"hook before a string":  {with(func(m map[string]any) { m["hooks"] = map[string]any{"sign": map[string]any{"before": "echo"}} }), "hooks.sign.before: must be an array of strings"},
		"hook a list":           {with(func(m map[string]any) { m["hooks"] = map[string]any{"renew": []any{}} }), "hooks.renew: must be an object, not an array"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.mustDo(http.StatusBadRequest, http.MethodPut, "/device-collections/c/workloads/w", tc.body)
			require.Contains(t, r.message(t), tc.want)
		})
	}
	s.mustDo(http.StatusNotFound, http.MethodGet, "/device-collections/c/workloads/w", nil)
}

func TestInstanceValidation(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	for name, tc := range map[string]struct {
		body any
		want string
	}{
		"no data":       {map[string]any{}, "data: required"},
		"null data":     {map[string]any{"data": nil}, "data: required"},
		"data a list":   {map[string]any{"data": []any{"x"}}, "data: must be an object, not an array"},
		"data a string": {map[string]any{"data": "x"}, "data: must be an object, not a string"},
		"unknown field": {map[string]any{"data": map[string]any{}, "id": "i-1"}, "id: unknown field"},
		"not an object": {`"data"`, "must be a JSON object"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.mustDo(http.StatusBadRequest, http.MethodPut, "/collections/c/instances/i-1", tc.body)
			require.Contains(t, r.message(t), tc.want)
		})
	}
}

// fakeClock hands out times a second apart so that replacements are
// visible in the millisecond timestamps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func TestInstanceCreateReplaceKeepsCreatedAtAndHostID(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC)}
	s := newTestSim(t, Config{Now: clock.Now})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))

	first := s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/i-1",
		map[string]any{"data": map[string]any{"name": "web-1", "roles": []any{"web"}, "n": 7}}).object(t)
	require.Equal(t, "i-1", first["id"])
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	require.Regexp(t, ms, first["createdAt"])
	require.Equal(t, first["createdAt"], first["updatedAt"])
	data := first["data"].(map[string]any)
	hostID, ok := data["smallstep:host:id"].(string)
	require.True(t, ok, "the server adds smallstep:host:id: %v", data)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, hostID)
	require.Equal(t, float64(7), data["n"])

	// The client leaves the server's key out (or changes it); the server keeps its own.
	second := s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/i-1",
		map[string]any{"data": map[string]any{"name": "web-1b", "smallstep:host:id": "mine"}}).object(t)
	require.Equal(t, first["createdAt"], second["createdAt"])
	require.NotEqual(t, first["updatedAt"], second["updatedAt"])
	require.Equal(t, map[string]any{"name": "web-1b", "smallstep:host:id": hostID}, second["data"])

	require.Equal(t, second, s.mustDo(http.StatusOK, http.MethodGet, "/collections/c/instances/i-1", nil).object(t))
	s.mustDo(http.StatusNoContent, http.MethodDelete, "/collections/c/instances/i-1", nil)
	s.mustDo(http.StatusNotFound, http.MethodGet, "/collections/c/instances/i-1", nil)

	// Registered again, it is a new device with a new host ID.
	third := s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/i-1", map[string]any{"data": map[string]any{}}).object(t)
	require.NotEqual(t, hostID, third["data"].(map[string]any)["smallstep:host:id"])
}

func TestEscapedInstanceIDs(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/tpm", map[string]any{
		"slug": "tpm", "displayName": "TPM", "deviceType": "tpm", "deviceTypeConfiguration": map[string]any{}})

	for _, id := range []string{
		"urn:ek:sha256:ab/c+d=",
		"urn:ek:sha256:/+/+//++==",
		"urn:ek:sha256:RC7lPkHgjMPTD6I1Q7y8XTU0kTIjLCsdD+2mLxdf/Ek=",
		"name with spaces & ?query#frag",
	} {
		t.Run(id, func(t *testing.T) {
			path := "/collections/tpm/instances/" + url.PathEscape(id)
			if strings.Contains(id, "/") {
				require.Contains(t, path, "%2F", "url.PathEscape escapes the slash")
			}
			got := s.mustDo(http.StatusOK, http.MethodPut, path, map[string]any{"data": map[string]any{"k": "v"}}).object(t)
			require.Equal(t, id, got["id"])
			require.Equal(t, id, s.mustDo(http.StatusOK, http.MethodGet, path, nil).object(t)["id"])

			tok := s.mustDo(http.StatusCreated, http.MethodPost, "/device-collections/tpm/"+url.PathEscape(id)+"/enrollment-token", nil).object(t)
			require.Equal(t, "Enrollment token for "+id, tok["title"])

			var ids []string
			for _, item := range s.mustDo(http.StatusOK, http.MethodGet, "/collections/tpm/items", nil).json(t).([]any) {
				ids = append(ids, item.(map[string]any)["id"].(string))
			}
			require.Contains(t, ids, id)

			s.mustDo(http.StatusNoContent, http.MethodDelete, path, nil)
			s.mustDo(http.StatusNotFound, http.MethodGet, path, nil)
		})
	}

	// A "+" sent unescaped in a path is a plus, not a space.
	got := s.mustDo(http.StatusOK, http.MethodPut, "/collections/tpm/instances/a+b", map[string]any{"data": map[string]any{}}).object(t)
	require.Equal(t, "a+b", got["id"])
}

func TestSplitPath(t *testing.T) {
	for _, tc := range []struct {
		escaped string
		want    []string
		status  int
	}{
		{"/api/collections/c/instances/urn:ek:sha256:ab%2Fc%2Bd=", []string{"collections", "c", "instances", "urn:ek:sha256:ab/c+d="}, 0},
		{"/api/collections/c/instances/a+b%20c", []string{"collections", "c", "instances", "a+b c"}, 0},
		{"/api/authorities", []string{"authorities"}, 0},
		{"/api/device-collections/", []string{"device-collections", ""}, 0},
		{"/api/collections/c/instances/bad%zz", nil, http.StatusBadRequest},
		{"/api/collections/c/instances/%C3%BCn%C3%AF", []string{"collections", "c", "instances", "ünï"}, 0},
		{"/api/collections/c/instances/bad%FFutf8", nil, http.StatusBadRequest},
		{"/api/device-collections/%C3", nil, http.StatusBadRequest},
		{"/api", nil, http.StatusNotFound},
		{"/v1/authorities", nil, http.StatusNotFound},
	} {
		t.Run(tc.escaped, func(t *testing.T) {
			got, err := splitPath(tc.escaped)
			if tc.status != 0 {
				require.NotNil(t, err)
				require.Equal(t, tc.status, err.status)
				return
			}
			require.Nil(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestPagination(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	want := map[string]bool{}
	for i := 0; i < 25; i++ {
		// IDs with "/" and "+" make sure cursors survive a query string.
		id := fmt.Sprintf("urn:ek:sha256:%02d/x+y=", i)
		want[id] = true
		s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/"+url.PathEscape(id), map[string]any{"data": map[string]any{"i": i}})
	}

	seen := map[string]int{}
	var sizes []int
	after := ""
	for page := 0; ; page++ {
		require.Less(t, page, 10, "the cursor chain must end")
		q := url.Values{"pagination[first]": {"10"}}
		if after != "" {
			q.Set("pagination[after]", after)
		}
		r := s.mustDo(http.StatusOK, http.MethodGet, "/collections/c/items?"+q.Encode(), nil)
		items := r.json(t).([]any)
		sizes = append(sizes, len(items))
		for _, item := range items {
			seen[item.(map[string]any)["id"].(string)]++
		}
		next, ok := r.header[http.CanonicalHeaderKey(headerNextCursor)]
		if !ok {
			break
		}
		require.NotEmpty(t, next[0])
		after = next[0]
	}
	require.Equal(t, []int{10, 10, 5}, sizes)
	require.Len(t, seen, len(want))
	for id := range want {
		require.Equal(t, 1, seen[id], "%s seen once", id)
	}

	// The default page is 100; an exact fit leaves no cursor.
	r := s.mustDo(http.StatusOK, http.MethodGet, "/collections/c/items", nil)
	require.Len(t, r.json(t), 25)
	require.Empty(t, r.header.Get(headerNextCursor))
	r = s.mustDo(http.StatusOK, http.MethodGet, "/collections/c/items?pagination%5Bfirst%5D=25", nil)
	require.Len(t, r.json(t), 25)
	require.Empty(t, r.header.Get(headerNextCursor))
	r = s.mustDo(http.StatusOK, http.MethodGet, "/collections/c/items?pagination[first]=1000&pagination[after]=", nil)
	require.Len(t, r.json(t), 25)
}

func TestPaginationParameterErrors(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	for name, tc := range map[string]struct{ query, want string }{
		"zero":          {"pagination[first]=0", "pagination[first]"},
		"negative":      {"pagination[first]=-1", "pagination[first]"},
		"too many":      {"pagination[first]=1001", "from 1 to 1000"},
		"not a number":  {"pagination[first]=ten", "pagination[first]"},
		"empty":         {"pagination[first]=", "pagination[first]"},
		"garbage after": {"pagination[after]=%21%21", "pagination[after]"},
		"foreign after": {"pagination[after]=MTIzNA", "pagination[after]"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.mustDo(http.StatusBadRequest, http.MethodGet, "/collections/c/items?"+tc.query, nil)
			require.Contains(t, r.message(t), tc.want)
		})
	}
}

// GET /collections lists the collection of every device collection, in
// the OpenAPI collection schema, paged like /collections/{slug}/items.
func TestListCollections(t *testing.T) {
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := newTestSim(t, Config{Now: func() time.Time { return clock }})
	r := s.mustDo(http.StatusOK, http.MethodGet, "/collections", nil)
	require.Equal(t, []any{}, r.json(t), "no collections is an empty list, not 404")
	require.Empty(t, r.header.Get(headerNextCursor))

	var want []string
	for i := 0; i < 25; i++ {
		// Slugs that need escaping make sure cursors survive a query string.
		slug := fmt.Sprintf("c%02d/x+y", i)
		want = append(want, slug)
		s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/"+url.PathEscape(slug), awsCollection(slug))
	}
	s.mustDo(http.StatusOK, http.MethodPut, "/collections/c03%2Fx+y/instances/i-1", map[string]any{"data": map[string]any{}})
	clock = clock.Add(time.Minute)
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c03%2Fx+y", awsCollection("c03/x+y"))

	var seen []string
	var sizes []int
	after := ""
	for page := 0; ; page++ {
		require.Less(t, page, 10, "the cursor chain must end")
		q := url.Values{"pagination[first]": {"10"}}
		if after != "" {
			q.Set("pagination[after]", after)
		}
		r := s.mustDo(http.StatusOK, http.MethodGet, "/collections?"+q.Encode(), nil)
		items := r.json(t).([]any)
		sizes = append(sizes, len(items))
		for _, item := range items {
			seen = append(seen, item.(map[string]any)["slug"].(string))
		}
		next, ok := r.header[http.CanonicalHeaderKey(headerNextCursor)]
		if !ok {
			break
		}
		require.NotEmpty(t, next[0])
		after = next[0]
	}
	require.Equal(t, []int{10, 10, 5}, sizes)
	require.Equal(t, want, seen, "each once, by slug")

	r = s.mustDo(http.StatusOK, http.MethodGet, "/collections?pagination%5Bfirst%5D=1&pagination%5Bafter%5D="+url.QueryEscape(encodeCursor("c02/x+y")), nil)
	require.Equal(t, []any{map[string]any{
		"slug":          "c03/x+y",
		"displayName":   "AWS c03/x+y",
		"instanceCount": float64(1),
		"createdAt":     "2026-03-01T12:00:00.000Z",
		"updatedAt":     "2026-03-01T12:01:00.000Z",
	}}, r.json(t), "the schema's required fields, and the PUT's time as updatedAt")

	// The default page is 100; an exact fit leaves no cursor.
	r = s.mustDo(http.StatusOK, http.MethodGet, "/collections", nil)
	require.Len(t, r.json(t), 25)
	require.Empty(t, r.header.Get(headerNextCursor))
	r = s.mustDo(http.StatusOK, http.MethodGet, "/collections?pagination%5Bfirst%5D=25", nil)
	require.Len(t, r.json(t), 25)
	require.Empty(t, r.header.Get(headerNextCursor))

	s.mustDo(http.StatusNoContent, http.MethodDelete, "/device-collections/c00%2Fx+y", nil)
	r = s.mustDo(http.StatusOK, http.MethodGet, "/collections", nil)
	require.Len(t, r.json(t), 24, "a deleted device collection takes its collection with it")

	// The simulator cannot create plain collections.
	r = s.mustDo(http.StatusMethodNotAllowed, http.MethodPost, "/collections", map[string]any{"slug": "plain", "displayName": "Plain"})
	require.Equal(t, "GET", r.header.Get("Allow"))
}

func TestListCollectionsPaginationErrors(t *testing.T) {
	s := newTestSim(t, Config{})
	for name, tc := range map[string]struct{ query, want string }{
		"zero":          {"pagination[first]=0", "pagination[first]"},
		"too many":      {"pagination[first]=1001", "from 1 to 1000"},
		"not a number":  {"pagination[first]=ten", "pagination[first]"},
		"garbage after": {"pagination[after]=%21%21", "pagination[after]"},
		"foreign after": {"pagination[after]=MTIzNA", "pagination[after]"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.mustDo(http.StatusBadRequest, http.MethodGet, "/collections?"+tc.query, nil)
			require.Contains(t, r.message(t), tc.want)
		})
	}
}

func TestEnrollmentToken(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/i-1", map[string]any{"data": map[string]any{}})

	a := s.mustDo(http.StatusCreated, http.MethodPost, "/device-collections/c/i-1/enrollment-token", nil).object(t)
	b := s.mustDo(http.StatusCreated, http.MethodPost, "/device-collections/c/i-1/enrollment-token", map[string]any{"title": "mine"}).object(t)
	require.NotEmpty(t, a["token"])
	require.Equal(t, a["token"], a["secret"])
	require.NotEqual(t, a["token"], b["token"])
	require.Equal(t, "Enrollment token for i-1", a["title"])
	require.Equal(t, "mine", b["title"])

	r := s.mustDo(http.StatusBadRequest, http.MethodPost, "/device-collections/c/i-1/enrollment-token", map[string]any{"title": 1})
	require.Contains(t, r.message(t), "title: must be a string")

	// Tokens are neither logged nor kept.
	dump := string(s.mustDo(http.StatusOK, http.MethodGet, "/_sim/state", nil).body)
	for _, tok := range []any{a["token"], b["token"]} {
		require.NotContains(t, s.log.String(), tok)
		require.NotContains(t, dump, tok)
	}

	// A device whose ID is "workloads" still gets its token.
	s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/workloads", map[string]any{"data": map[string]any{}})
	s.mustDo(http.StatusCreated, http.MethodPost, "/device-collections/c/workloads/enrollment-token", nil)
}

func TestAuthoritiesFingerprintIsSHA256OfRoot(t *testing.T) {
	s := newTestSim(t, Config{Team: "acme"})
	items := s.mustDo(http.StatusOK, http.MethodGet, "/authorities", nil).json(t).([]any)
	require.GreaterOrEqual(t, len(items), 2)

	byDomain := map[string]map[string]any{}
	for _, it := range items {
		a := it.(map[string]any)
		for _, f := range []string{"id", "name", "domain", "type", "createdAt", "fingerprint", "root"} {
			require.NotEmpty(t, a[f], "authority field %s", f)
		}
		block, _ := pem.Decode([]byte(a["root"].(string)))
		require.NotNil(t, block)
		sum := sha256.Sum256(block.Bytes)
		require.Equal(t, hex.EncodeToString(sum[:]), a["fingerprint"])
		byDomain[a["domain"].(string)] = a
	}

	agents := byDomain["agents.acme.ca.smallstep.com"]
	require.NotNil(t, agents, "the agents authority is found by its domain")
	require.Equal(t, "acme agents", agents["name"])
	require.Equal(t, "managed", agents["type"])
	block, _ := pem.Decode([]byte(agents["root"].(string)))
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, "acme Agents Root CA", cert.Subject.CommonName)

	other := byDomain["ssh.acme.ca.smallstep.com"]
	require.NotNil(t, other)
	require.Equal(t, "devops", other["type"])
	require.NotEqual(t, agents["fingerprint"], other["fingerprint"])
}

func TestStats(t *testing.T) {
	s := newTestSim(t, Config{})
	stats := func() map[string]any { return s.mustDo(http.StatusOK, http.MethodGet, "/_sim/stats", nil).object(t) }
	noFaults := map[string]any{"total": float64(0), "by_kind": map[string]any{
		"429": float64(0), "500": float64(0), "502": float64(0), "503": float64(0), "504": float64(0),
		"hang": float64(0), "reset": float64(0), "truncate": float64(0),
	}}
	require.Equal(t, map[string]any{"requests": float64(0), "writes": float64(0), "faults": noFaults, "by_route": map[string]any{}}, stats())

	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))             // write
	s.mustDo(http.StatusBadRequest, http.MethodPut, "/device-collections/c", `{}`)                   // failed write
	s.mustDo(http.StatusNotFound, http.MethodDelete, "/device-collections/x", nil)                   // failed write
	s.mustDo(http.StatusOK, http.MethodGet, "/device-collections/c", nil)                            // read
	s.mustDo(http.StatusNotFound, http.MethodPut, "/nowhere", `{}`)                                  // no handler
	s.mustDo(http.StatusMethodNotAllowed, http.MethodPatch, "/device-collections/c", `{}`)           // no handler
	s.request(http.MethodPut, "/device-collections/c", `{}`, map[string]string{"Authorization": ""}) // 401
	s.mustDo(http.StatusOK, http.MethodGet, "/_sim/faults", nil)                                     // not counted
	s.mustDo(http.StatusOK, http.MethodPut, "/_sim/faults", `{"rate":0}`)                            // not counted

	require.Equal(t, map[string]any{
		"requests": float64(7),
		"writes":   float64(3),
		"faults":   noFaults,
		"by_route": map[string]any{
			"PUT /device-collections/{slug}":    float64(3),
			"DELETE /device-collections/{slug}": float64(1),
			"GET /device-collections/{slug}":    float64(1),
			"PATCH /device-collections/{slug}":  float64(1),
			"PUT (no route)":                    float64(1),
		},
	}, stats())
	got := s.srv.Stats()
	require.Equal(t, int64(7), got.Requests)
	require.Equal(t, int64(3), got.Writes)
}

func TestConcurrentPuts(t *testing.T) {
	path := t.TempDir() + "/state.json"
	s := newTestSim(t, Config{StatePath: path})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))

	const n = 40
	var wg sync.WaitGroup
	errs := make(chan string, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Plain http calls: require must not be used off the test goroutine.
			for _, c := range []struct{ path, body string }{
				{fmt.Sprintf("/collections/c/instances/i-%03d", i), `{"data":{"i":1}}`},
				{fmt.Sprintf("/device-collections/c/workloads/w%d", i%5), fmt.Sprintf(`{"slug":"w%d","displayName":"d","workloadType":"generic"}`, i%5)},
				{"/device-collections/c", fmt.Sprintf(`{"slug":"c","displayName":"n%d","deviceType":"aws-vm","deviceTypeConfiguration":{"accounts":[]}}`, i)},
			} {
				req, _ := http.NewRequest(http.MethodPut, s.url+c.path, strings.NewReader(c.body))
				req.Header.Set("Authorization", "Bearer "+testToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Sprintf("PUT %s: %d", c.path, resp.StatusCode)
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	items := s.mustDo(http.StatusOK, http.MethodGet, "/collections/c/items?pagination[first]=1000", nil).json(t).([]any)
	require.Len(t, items, n)
	require.Equal(t, int64(1+3*n), s.srv.Stats().Writes)

	// The last save holds every write, whatever order they came in.
	restarted := newTestSim(t, Config{StatePath: path})
	require.Equal(t, s.mustDo(http.StatusOK, http.MethodGet, "/_sim/state", nil).object(t),
		restarted.mustDo(http.StatusOK, http.MethodGet, "/_sim/state", nil).object(t))
}

func TestStatePersistsAcrossRestarts(t *testing.T) {
	path := t.TempDir() + "/state.json"
	s := newTestSim(t, Config{StatePath: path, Team: "acme"})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c/workloads/web", workload("web"))
	big := `{"data":{"serial":12345678901234567890,"nested":{"a":[1,"x",null]}}}`
	dev := s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/i-1", big).body
	auths := s.mustDo(http.StatusOK, http.MethodGet, "/authorities", nil).body

	restarted := newTestSim(t, Config{StatePath: path, Team: "acme"})
	require.JSONEq(t, string(auths), string(restarted.mustDo(http.StatusOK, http.MethodGet, "/authorities", nil).body),
		"roots and fingerprints survive a restart")
	require.Equal(t, string(dev), string(restarted.mustDo(http.StatusOK, http.MethodGet, "/collections/c/instances/i-1", nil).body),
		"device data round-trips exactly, large integers included")
	require.Contains(t, string(dev), "12345678901234567890")
	restarted.mustDo(http.StatusOK, http.MethodGet, "/device-collections/c/workloads/web", nil)

	_, err := New(Config{Token: testToken, StatePath: path, Team: "other"})
	require.ErrorContains(t, err, `belongs to team "acme"`)
}

func TestRequestLog(t *testing.T) {
	s := newTestSim(t, Config{})
	s.request(http.MethodGet, "/device-collections/x", nil, map[string]string{"X-Request-Id": "log-me"})
	s.request(http.MethodGet, "/authorities", nil, map[string]string{"Authorization": "Bearer wrong-token-value"})

	lines := strings.Split(strings.TrimSpace(s.log.String()), "\n")
	require.Len(t, lines, 2, "one line per request")
	for _, part := range []string{"method=GET", "path=/api/device-collections/x", "status=404", "duration=", "request_id=log-me", "time="} {
		require.Contains(t, lines[0], part)
	}
	require.Contains(t, lines[1], "status=401")
	require.NotContains(t, s.log.String(), testToken)
	require.NotContains(t, s.log.String(), "wrong-token-value")
	require.NotContains(t, s.log.String(), "Bearer")
}
