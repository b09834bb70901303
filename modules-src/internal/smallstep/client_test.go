package smallstep

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

// params are the connection options as the module validator leaves them.
func params(apiURL string) ansible.Params {
	return ansible.Params{
		"api_url":        apiURL,
		"api_token":      token,
		"api_version":    DefaultVersion,
		"validate_certs": true,
		"ca_path":        nil,
		"timeout":        int64(DefaultTimeout),
		// Retries are pinned by retry_test.go; elsewhere one try keeps
		// the failure tests fast and their request IDs exact.
		"retries":       int64(0),
		"retry_timeout": int64(DefaultRetryTimeout),
	}
}

func client(t *testing.T, f *fakeAPI) *Client {
	t.Helper()
	c, err := New(params(f.URL()))
	require.NoError(t, err)
	return c
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestEveryRequestCarriesTheHeaders(t *testing.T) {
	f := newFake(t)
	f.Store("/device-collections/a", map[string]any{"slug": "a"})
	c := client(t, f)
	ctx := context.Background()

	_, err := c.Do(ctx, http.MethodGet, Path("device-collections", "a"), nil, nil)
	require.NoError(t, err)
	_, err = c.Do(ctx, http.MethodPut, Path("device-collections", "a"), nil, map[string]any{"slug": "a"})
	require.NoError(t, err)
	_, err = c.Do(ctx, http.MethodDelete, Path("device-collections", "a"), nil, nil)
	require.NoError(t, err)
	_, err = c.Do(ctx, http.MethodGet, Path("device-collections", "a"), nil, nil)
	require.True(t, IsNotFound(err), "GET after DELETE: %v", err)

	reqs := f.Requests()
	require.Len(t, reqs, 4)
	ids := map[string]bool{}
	for _, r := range reqs {
		require.Equal(t, "Bearer "+token, r.Header.Get("Authorization"), r.Method)
		require.Equal(t, "2023-03-01", r.Header.Get("X-Smallstep-Api-Version"), r.Method)
		require.Equal(t, "application/json", r.Header.Get("Accept"), r.Method)
		id := r.Header.Get("X-Request-Id")
		require.Regexp(t, uuidV4, id, r.Method)
		require.False(t, ids[id], "request ID %s sent twice", id)
		ids[id] = true
	}
	require.Equal(t, "application/json", reqs[1].Header.Get("Content-Type"), "a body is JSON")
	require.JSONEq(t, `{"slug":"a"}`, reqs[1].Body)
	require.Empty(t, reqs[0].Header.Get("Content-Type"), "no body, no content type")
	require.Equal(t, 2, c.Writes, "PUT and DELETE are writes, GET is not")
}

func TestAPIVersionIsSent(t *testing.T) {
	f := newFake(t)
	p := params(f.URL())
	p["api_version"] = "2023-11-01"
	c, err := New(p)
	require.NoError(t, err)
	_, _ = c.Do(context.Background(), http.MethodGet, "/authorities", nil, nil)
	require.Equal(t, "2023-11-01", f.Requests()[0].Header.Get("X-Smallstep-Api-Version"))
}

func TestPathEscapesEachSegment(t *testing.T) {
	cases := []struct {
		segments []string
		want     string
	}{
		{[]string{"device-collections", "web"}, "/device-collections/web"},
		{[]string{"collections", "c", "instances", "urn:ek:sha256:ab/c+d="}, "/collections/c/instances/urn:ek:sha256:ab%2Fc%2Bd%3D"},
		{[]string{"collections", "c", "instances", "i-0d460b88a96dfdd08"}, "/collections/c/instances/i-0d460b88a96dfdd08"},
		{[]string{"a b", "50%", "x?y#z", "é"}, "/a%20b/50%25/x%3Fy%23z/%C3%A9"},
		{[]string{"user@host", "a~b_c.d"}, "/user@host/a~b_c.d"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, Path(tc.segments...), "%q", tc.segments)
	}
}

func TestEscapedPathReachesTheServerAsOneSegment(t *testing.T) {
	f := newFake(t)
	id := "urn:ek:sha256:ab/c+d="
	path := Path("collections", "tpms", "instances", id)
	f.Store(path, map[string]any{"id": id})
	c := client(t, f)

	var got map[string]any
	_, err := c.JSON(context.Background(), http.MethodGet, path, nil, nil, &got)
	require.NoError(t, err)
	require.Equal(t, id, got["id"])
	require.Equal(t, "/api/collections/tpms/instances/urn:ek:sha256:ab%2Fc%2Bd%3D", f.Requests()[0].Path)
}

func TestTrailingSlashOfTheURLIsDropped(t *testing.T) {
	f := newFake(t)
	c, err := New(params(f.URL() + "/"))
	require.NoError(t, err)
	_, _ = c.Do(context.Background(), http.MethodGet, "/authorities", nil, nil)
	require.Equal(t, "/api/authorities", f.Requests()[0].Path)
}

func TestNewRejectsBadOptionsBeforeAnyRequest(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))

	cases := []struct {
		name string
		set  map[string]any
		want string
	}{
		{"no scheme", map[string]any{"api_url": "gateway.smallstep.com/api"}, `api_url "gateway.smallstep.com/api" is not a valid http(s) URL`},
		{"other scheme", map[string]any{"api_url": "ftp://gateway.smallstep.com/api"}, "api_url"},
		{"no host", map[string]any{"api_url": "https:///api"}, "api_url"},
		{"unparsable", map[string]any{"api_url": "https://gate way/api"}, "api_url"},
		{"query in url", map[string]any{"api_url": f.URL() + "?team=x"}, "must not hold a query or fragment"},
		{"empty query in url", map[string]any{"api_url": f.URL() + "?"}, "must not hold a query or fragment"},
		{"fragment in url", map[string]any{"api_url": f.URL() + "#top"}, "must not hold a query or fragment"},
		{"empty token", map[string]any{"api_token": ""}, "api_token is empty"},
		{"token with a newline", map[string]any{"api_token": "abc\ndef"}, "api_token is empty or holds whitespace"},
		{"zero timeout", map[string]any{"timeout": int64(0)}, "timeout must be a positive number of seconds, got 0"},
		{"negative timeout", map[string]any{"timeout": int64(-5)}, "got -5"},
		{"missing ca file", map[string]any{"ca_path": filepath.Join(dir, "nope.pem")}, "ca_path: cannot read " + filepath.Join(dir, "nope.pem")},
		{"ca file without PEM", map[string]any{"ca_path": notPEM}, "ca_path: " + notPEM + " holds no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := params(f.URL())
			for k, v := range tc.set {
				p[k] = v
			}
			c, err := New(p)
			require.Nil(t, c)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), token)
		})
	}
	require.Empty(t, f.Requests(), "no request may be sent with bad options")
}

func TestCAPathIsTrusted(t *testing.T) {
	srv := newTLSFake(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, srv.caPEM, 0o600))

	// Without the CA, the server's certificate is not trusted...
	c, err := New(params(srv.url))
	require.NoError(t, err)
	_, err = c.Do(context.Background(), http.MethodGet, "/authorities", nil, nil)
	require.ErrorContains(t, err, "certificate")

	// ...with ca_path it is, and validate_certs: false skips the check.
	p := params(srv.url)
	p["ca_path"] = caFile
	c, err = New(p)
	require.NoError(t, err)
	_, err = c.Do(context.Background(), http.MethodGet, "/authorities", nil, nil)
	require.NoError(t, err)

	p = params(srv.url)
	p["validate_certs"] = false
	c, err = New(p)
	require.NoError(t, err)
	_, err = c.Do(context.Background(), http.MethodGet, "/authorities", nil, nil)
	require.NoError(t, err)
}
