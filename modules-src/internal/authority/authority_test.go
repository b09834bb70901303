package authority

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func authorityJSON(id, name, domain, fingerprint string) map[string]any {
	return map[string]any{"id": id, "name": name, "domain": domain, "type": "devops",
		"fingerprint": fingerprint, "root": "-----BEGIN CERTIFICATE-----\n" + id + "\n-----END CERTIFICATE-----\n",
		"createdAt": "2026-01-01T00:00:00.000Z"}
}

func TestAgents(t *testing.T) {
	ssh := authorityJSON("a1", "SSH", "ssh.demo.ca.smallstep.com", "11")
	agents := authorityJSON("a2", "Agents", "agents.demo.ca.smallstep.com", "22")
	cases := []struct {
		name        string
		authorities []map[string]any
		team        string // "" means no agents authority
		id          string
	}{
		{"agents among others", []map[string]any{ssh, agents}, "demo", "a2"},
		{"team with a hyphen", []map[string]any{authorityJSON("a3", "Agents", "agents.acme-corp.ca.smallstep.com", "33")}, "acme-corp", "a3"},
		{"the first agents authority wins", []map[string]any{agents, authorityJSON("a4", "Agents", "agents.other.ca.smallstep.com", "44")}, "demo", "a2"},
		{"none", []map[string]any{ssh}, "", ""},
		{"empty list", nil, "", ""},
		{"no team label", []map[string]any{authorityJSON("a5", "x", "agents.ca.smallstep.com", "55")}, "", ""},
		{"agents only as part of a label", []map[string]any{authorityJSON("a6", "x", "myagents.demo.ca.smallstep.com", "66")}, "", ""},
		{"agents not first", []map[string]any{authorityJSON("a7", "x", "demo.agents.ca.smallstep.com", "77")}, "", ""},
		{"domain missing or not a string", []map[string]any{{"id": "a8"}, {"id": "a9", "domain": 42}}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Agents(tc.authorities)
			if tc.team == "" {
				require.Nil(t, got)
				return
			}
			require.Equal(t, tc.team, got["team"])
			require.Equal(t, tc.id, got["id"])
			require.Equal(t, tc.id, got["authority_id"])
			for _, a := range tc.authorities {
				if a["id"] == tc.id {
					require.Equal(t, a["domain"], got["domain"])
					require.Equal(t, a["fingerprint"], got["fingerprint"])
					require.Equal(t, a["name"], got["name"])
					require.Equal(t, a["root"], got["root"])
				}
			}
		})
	}
}

func page(t *testing.T, items ...map[string]any) string {
	t.Helper()
	if items == nil {
		items = []map[string]any{}
	}
	b, err := json.Marshal(items)
	require.NoError(t, err)
	return string(b)
}

func apply(t *testing.T, f *fakeAPI, args map[string]any) map[string]any {
	t.Helper()
	return run(t, f, Spec(), Run, args)
}

const (
	firstPage = "/authorities?pagination%5Bfirst%5D=1000"
	afterC1   = "/authorities?pagination%5Bafter%5D=c1&pagination%5Bfirst%5D=1000"
	afterC2   = "/authorities?pagination%5Bafter%5D=c2&pagination%5Bfirst%5D=1000"
)

func TestRunFollowsPagesAndReportsTheAgentsAuthority(t *testing.T) {
	f := newFake(t)
	f.On(http.MethodGet, firstPage, reply{Status: 200, Body: page(t, authorityJSON("a1", "SSH", "ssh.demo.ca.smallstep.com", "11")),
		Header: map[string]string{"X-Next-Cursor": "c1"}})
	f.On(http.MethodGet, afterC1, reply{Status: 200, Body: page(t, authorityJSON("a2", "Web", "web.demo.ca.smallstep.com", "22")),
		Header: map[string]string{"X-Next-Cursor": "c2"}})
	f.On(http.MethodGet, afterC2, reply{Status: 200, Body: page(t, authorityJSON("a3", "Agents", "agents.demo.ca.smallstep.com", "ab12"))})

	for _, check := range []bool{false, true} {
		before := len(f.Requests())
		res := apply(t, f, map[string]any{"_ansible_check_mode": check})
		require.Nil(t, res["failed"], res["msg"])
		require.Equal(t, false, res["changed"])
		require.NotContains(t, res, "warnings")
		require.Equal(t, []string{"GET " + firstPage, "GET " + afterC1, "GET " + afterC2}, f.Calls()[before:])

		all := res["authorities"].([]any)
		require.Len(t, all, 3)
		require.Equal(t, map[string]any{"id": "a1", "name": "SSH", "domain": "ssh.demo.ca.smallstep.com", "type": "devops",
			"fingerprint": "11", "root": "-----BEGIN CERTIFICATE-----\na1\n-----END CERTIFICATE-----\n",
			"created_at": "2026-01-01T00:00:00.000Z"}, all[0], "snake_case keys")
		require.Equal(t, map[string]any{"team": "demo", "fingerprint": "ab12", "domain": "agents.demo.ca.smallstep.com",
			"id": "a3", "authority_id": "a3", "name": "Agents", "root": "-----BEGIN CERTIFICATE-----\na3\n-----END CERTIFICATE-----\n"},
			res["agents"])
	}
	require.Empty(t, f.Writes())
	for _, r := range f.Requests() {
		require.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
		require.Equal(t, "2023-03-01", r.Header.Get("X-Smallstep-Api-Version"))
	}
}

func TestRunWarnsWithoutAnAgentsAuthority(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		count string
	}{
		{"other authorities", page(t, authorityJSON("a1", "SSH", "ssh.demo.ca.smallstep.com", "11")), "1 authorities"},
		{"no authorities", page(t), "0 authorities"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.On(http.MethodGet, "/authorities", reply{Status: 200, Body: tc.body})
			res := apply(t, f, nil)
			require.Nil(t, res["failed"], res["msg"])
			require.Equal(t, false, res["changed"])
			require.Equal(t, map[string]any{}, res["agents"])
			require.NotNil(t, res["authorities"], "an empty list, not null")
			warnings := res["warnings"].([]any)
			require.Len(t, warnings, 1)
			require.Contains(t, warnings[0], "no agents authority (domain agents.<team>.ca.smallstep.com)")
			require.Contains(t, warnings[0], tc.count)
		})
	}
}

func TestRunReportsAPIFailures(t *testing.T) {
	cases := []struct {
		name string
		rep  reply
		want string
	}{
		{"unauthorised", reply{Status: 401, Body: `{"message":"invalid token"}`, Header: map[string]string{"X-Request-Id": "r-401"}},
			"GET /authorities failed: HTTP 401 Unauthorized: invalid token (request ID r-401); check api_token"},
		{"not a list", reply{Status: 200, Body: `{"message":"maintenance"}`},
			"GET /authorities failed: HTTP 200 OK: the answer is not the JSON list expected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.On(http.MethodGet, "/authorities", tc.rep)
			res := apply(t, f, nil)
			require.Equal(t, true, res["failed"])
			require.Contains(t, res["msg"], tc.want)
			failure := res["failure"].(map[string]any)
			require.Equal(t, "GET", failure["method"])
			require.Equal(t, "/authorities", failure["path"])
			require.NotEmpty(t, failure["request_id"])
		})
	}
}

func TestRunChecksOptionsBeforeAnyRequest(t *testing.T) {
	f := newFake(t)
	res := apply(t, f, map[string]any{"timeout": -1})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "timeout must be a positive number of seconds, got -1")

	res = apply(t, f, map[string]any{"api_token": nil})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "missing required arguments: api_token")

	res = apply(t, f, map[string]any{"slug": "x"})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "Unsupported parameters for (test) module: slug")
	require.Empty(t, f.Requests())
}
