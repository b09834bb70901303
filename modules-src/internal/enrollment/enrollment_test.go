package enrollment

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/fakeapi"
)

const (
	// jwt is the enrollment token the fake hands out.
	jwt     = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkZXZpY2UifQ.c2lnbmF0dXJl"
	ekURI   = "urn:ek:sha256:++++////++++////++++////++++////++++////+/8="
	ekPath  = "/device-collections/fleet/urn:ek:sha256:%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2B%2B%2B%2F%2F%2F%2F%2B%2F8%3D/enrollment-token"
	reqID   = "req-7"
	created = `{"id":"a94fa793","title":"Enrollment token for web1","secret":"` + jwt + `"}`
)

// newFake is the shared fake API answering the token request with status
// and body.
func newFake(t *testing.T, status int, body string) *fakeapi.API {
	t.Helper()
	f := fakeapi.New(t)
	f.RequestID = reqID
	f.On(http.MethodPost, ekPath, fakeapi.Reply{Status: status, Body: body})
	return f
}

// run executes the module for device ekURI of collection fleet unless args
// say otherwise (nil drops an option) and returns its result as Ansible
// reads it.
func run(t *testing.T, f *fakeapi.API, check bool, args map[string]any) map[string]any {
	t.Helper()
	all := map[string]any{"collection": "fleet", "instance_id": ekURI, "_ansible_check_mode": check}
	for k, v := range args {
		if v == nil {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	return fakeapi.Run(t, f, Spec(), Run, all)
}

// outsideToken is the result without its token field, as JSON: where the
// enrollment token must never be.
func outsideToken(t *testing.T, res map[string]any) string {
	t.Helper()
	rest := map[string]any{}
	for k, v := range res {
		if k != "token" {
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	require.NoError(t, err)
	return string(b)
}

func TestGeneratesATokenReturnedOnlyInToken(t *testing.T) {
	f := newFake(t, http.StatusCreated, created)
	res := run(t, f, false, map[string]any{"title": "Enrollment token for web1"})
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Equal(t, jwt, res["token"])
	require.Equal(t, map[string]any{"id": "a94fa793", "title": "Enrollment token for web1", "collection": "fleet", "instance_id": ekURI}, res["enrollment_token"])
	require.NotContains(t, outsideToken(t, res), jwt, "the token is only in the token field")
	require.Equal(t, map[string]any{"before": map[string]any{}, "after": map[string]any{"collection": "fleet", "instance_id": ekURI, "title": "Enrollment token for web1"}}, res["diff"])

	require.Equal(t, []string{"POST " + ekPath}, f.Calls(), "the device ID is one escaped segment")
	require.JSONEq(t, `{"title":"Enrollment token for web1"}`, f.Requests()[0].Body)
}

func TestEveryRunIsANewToken(t *testing.T) {
	f := newFake(t, http.StatusCreated, created)
	for i := 0; i < 2; i++ {
		res := run(t, f, false, nil)
		require.Equal(t, true, res["changed"], "a token is never the same twice: not idempotent by nature")
	}
	require.Len(t, f.Requests(), 2)
	require.JSONEq(t, `{}`, f.Requests()[0].Body, "without title the server picks one")
}

func TestTokenFieldOfOtherServers(t *testing.T) {
	f := newFake(t, http.StatusCreated, `{"id":"x","title":"t","token":"`+jwt+`"}`)
	res := run(t, f, false, nil)
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, jwt, res["token"])
}

func TestCheckModeSendsNothing(t *testing.T) {
	f := newFake(t, http.StatusCreated, created)
	res := run(t, f, true, nil)
	require.Nil(t, res["failed"], res["msg"])
	require.Equal(t, true, res["changed"])
	require.Nil(t, res["token"])
	require.Contains(t, res["msg"], "check mode")
	require.Contains(t, res["msg"], "no request was sent")
	require.Empty(t, f.Requests())
}

func TestRefusedRequestsAreNotChangesAndNotRetried(t *testing.T) {
	cases := []struct {
		status int
		want   []string
	}{
		{http.StatusNotFound, []string{"HTTP 404", "Register it first with stepfleet.smallstep.device", ekURI, "fleet"}},
		{http.StatusUnauthorized, []string{"HTTP 401", "check api_token"}},
		{http.StatusServiceUnavailable, []string{"HTTP 503"}},
		{http.StatusTooManyRequests, []string{"HTTP 429"}},
		{http.StatusNotImplemented, []string{"HTTP 501"}},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newFake(t, tc.status, `{"message":"no"}`)
			// A client that retried would do so at once: the count shows it.
			f.On(http.MethodPost, ekPath, fakeapi.Reply{Status: tc.status, Body: `{"message":"no"}`, Header: map[string]string{"Retry-After": "0"}})
			res := run(t, f, false, nil)
			require.Equal(t, true, res["failed"])
			require.Equal(t, false, res["changed"], "the server refused: no token exists")
			for _, w := range tc.want {
				require.Contains(t, res["msg"], w)
			}
			require.Contains(t, res["msg"], reqID)
			require.Equal(t, float64(tc.status), res["failure"].(map[string]any)["status"])
			require.Equal(t, 1, posts(f), "POST is never retried: it could make two tokens")
		})
	}
}

func posts(f *fakeapi.API) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

func TestBadAnswersNeverShowTheBody(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"not JSON", jwt, "is not JSON"},
		{"wrong shape", `{"secret":["` + jwt + `"]}`, "is not the enrollment token object expected"},
		{"no token", `{"id":"x"}`, "holds no token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, http.StatusCreated, tc.body)
			res := run(t, f, false, nil)
			require.Equal(t, true, res["failed"])
			require.Contains(t, res["msg"], tc.want)
			require.Contains(t, res["msg"], reqID)
			require.NotContains(t, outsideToken(t, res), jwt)
			require.Nil(t, res["token"])
		})
	}
}

// A request that never left (no connection, no TLS session) made nothing.
func TestUnsentRequestIsNoChange(t *testing.T) {
	closed := newFake(t, http.StatusCreated, created)
	closed.Close()
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the request passed an untrusted certificate")
	}))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(untrusted.Close)

	// Servers that want a client certificate, which the module has not:
	// the handshake fails, with TLS 1.2 before the request is written, with
	// TLS 1.3 after it but before the server reads it.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	wantsCert := map[string]string{}
	for name, max := range map[string]uint16{"TLS 1.2 server wants a client certificate": tls.VersionTLS12, "TLS 1.3 server wants a client certificate": tls.VersionTLS13} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			t.Error("the request passed a failed handshake")
		}))
		srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert, MaxVersion: max}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		// httptest's servers share one certificate.
		require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
		wantsCert[name] = srv.URL + "/api"
	}

	cases := map[string]map[string]any{
		"refused":               {"api_url": closed.URL()},
		"untrusted certificate": {"api_url": untrusted.URL + "/api"},
	}
	for name, u := range wantsCert {
		cases[name] = map[string]any{"api_url": u, "ca_path": caFile}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			args["timeout"] = 2
			res := run(t, closed, false, args)
			require.Equal(t, true, res["failed"])
			require.Equal(t, false, res["changed"], "%v", res["msg"])
			require.NotContains(t, res["msg"], "may have been generated")
		})
	}
}

// A connection cut after the request was sent may come after the server
// made the token.
func TestCutConnectionMayHaveMadeAToken(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"reset before the answer": func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		},
		"answer cut short": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"a94f`)
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			var posts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				h(w, r)
			}))
			t.Cleanup(srv.Close)
			f := newFake(t, http.StatusCreated, created)
			res := run(t, f, false, map[string]any{"api_url": srv.URL + "/api", "timeout": 2})
			require.Equal(t, true, res["failed"])
			require.Equal(t, true, res["changed"], "%v", res["msg"])
			require.Contains(t, res["msg"], "a token may have been generated")
			require.Equal(t, int32(1), posts.Load(), "POST is never retried")
		})
	}
}

func TestBadInputFailsBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"instance_id": nil}, []string{"missing required arguments: instance_id"}},
		{map[string]any{"collection": nil}, []string{"missing required arguments: collection"}},
		{map[string]any{"collection": ""}, []string{"collection must not be empty"}},
		{map[string]any{"instance_id": ".."}, []string{"instance_id must not be"}},
		{map[string]any{"title": "a\x00b"}, []string{"title holds a control character"}},
		{map[string]any{"title": ""}, []string{"title must not be empty"}},
		{map[string]any{"state": "present"}, []string{"Unsupported parameters", "state"}},
		{map[string]any{"api_url": "http://example.com/api"}, []string{"plain http", "allow_http"}},
	}
	for _, tc := range cases {
		t.Run(tc.want[0], func(t *testing.T) {
			f := newFake(t, http.StatusCreated, created)
			res := run(t, f, false, tc.args)
			require.Equal(t, true, res["failed"])
			for _, w := range tc.want {
				require.Contains(t, res["msg"], w)
			}
			require.Empty(t, f.Requests())
		})
	}
}

func TestAPITokenIsMasked(t *testing.T) {
	// A proxy that echoes the request's headers in its error page.
	f := newFake(t, http.StatusBadGateway, "upstream failed; Authorization: Bearer "+fakeapi.Token)
	res := run(t, f, false, nil)
	require.Equal(t, true, res["failed"])
	require.True(t, strings.Contains(res["msg"].(string), ansible.Mask))
}

// A 500, 502 or 504 may come after the server made the token: the run
// must not claim that nothing changed.
func TestServerFailureMayHaveMadeAToken(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout} {
		f := newFake(t, status, `{"message":"boom"}`)
		res := run(t, f, false, nil)
		require.Equal(t, true, res["failed"])
		require.Equal(t, true, res["changed"], "status %d", status)
		require.Contains(t, res["msg"], "a token may have been generated")
		require.Len(t, f.Requests(), 1, "POST is never retried")
	}
}
