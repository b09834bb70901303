package smallstep

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flaky answers with the given statuses in turn, then 200.
func flaky(t *testing.T, header http.Header, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(statuses[i])
			_, _ = w.Write([]byte(`{"message":"busy"}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func retryingClient(t *testing.T, url string, retries int64, sleeps *[]time.Duration) *Client {
	t.Helper()
	p := params(url)
	p["retries"] = retries
	c, err := New(p)
	require.NoError(t, err)
	return c.WithSleep(func(d time.Duration) { *sleeps = append(*sleeps, d) })
}

func TestIdempotentRequestsAreRetried(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		srv, n := flaky(t, nil, 503, 502, 504, 429)
		var sleeps []time.Duration
		c := retryingClient(t, srv.URL, 5, &sleeps)
		_, err := c.Do(context.Background(), method, "/x", nil, nil)
		require.NoError(t, err, method)
		require.Equal(t, int32(5), n.Load(), method)
		require.Equal(t, 4, c.Retries)
		require.Len(t, sleeps, 4)
		for i, d := range sleeps {
			ceiling := min(baseDelay<<i, maxDelay)
			require.GreaterOrEqual(t, d, ceiling/2, "backoff %d", i)
			require.Less(t, d, ceiling, "backoff %d", i)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv, _ := flaky(t, http.Header{"Retry-After": {"3"}}, 429)
	var sleeps []time.Duration
	c := retryingClient(t, srv.URL, 5, &sleeps)
	_, err := c.Do(context.Background(), http.MethodGet, "/x", nil, nil)
	require.NoError(t, err)
	require.Equal(t, []time.Duration{3 * time.Second}, sleeps)
}

func TestPostAndHardFailuresAreNotRetried(t *testing.T) {
	cases := []struct {
		method string
		status int
	}{
		{http.MethodPost, 503},
		{http.MethodPut, 500},
		{http.MethodGet, 404},
		{http.MethodPut, 400},
	}
	for _, tc := range cases {
		srv, n := flaky(t, nil, tc.status)
		var sleeps []time.Duration
		c := retryingClient(t, srv.URL, 5, &sleeps)
		_, err := c.Do(context.Background(), tc.method, "/x", nil, nil)
		require.Error(t, err)
		require.Equal(t, int32(1), n.Load(), "%s %d", tc.method, tc.status)
		require.NotContains(t, err.Error(), "tries")
	}
}

func TestLastTryNamesTheTries(t *testing.T) {
	srv, n := flaky(t, nil, 503, 503, 503, 503)
	var sleeps []time.Duration
	c := retryingClient(t, srv.URL, 2, &sleeps)
	_, err := c.Do(context.Background(), http.MethodPut, "/x", nil, map[string]any{"a": 1})
	require.Equal(t, int32(3), n.Load())
	require.ErrorContains(t, err, "PUT /x failed after 3 tries: HTTP 503 Service Unavailable: busy (request ID ")
	fields := err.(*APIError).ResultFields()["failure"].(map[string]any)
	require.Equal(t, 3, fields["tries"])
}

func TestRetryTimeoutBoundsTheTries(t *testing.T) {
	srv, n := flaky(t, http.Header{"Retry-After": {"30"}}, 503, 503)
	p := params(srv.URL)
	p["retries"] = int64(5)
	p["retry_timeout"] = int64(10)
	c, err := New(p)
	require.NoError(t, err)
	c.WithSleep(func(time.Duration) { t.Fatal("must not wait past retry_timeout") })
	_, err = c.Do(context.Background(), http.MethodGet, "/x", nil, nil)
	require.Equal(t, int32(1), n.Load())
	require.ErrorContains(t, err, "gave up: the next try would pass retry_timeout (10s)")
}

func TestPlainHTTPNeedsLoopbackOrOptIn(t *testing.T) {
	p := params("http://api.example.com/api")
	_, err := New(p)
	require.ErrorContains(t, err, "allow_http")
	require.NotContains(t, err.Error(), token)

	p["allow_http"] = true
	_, err = New(p)
	require.NoError(t, err)

	for _, u := range []string{"http://127.0.0.1:8080/api", "http://localhost/api", "http://[::1]:9/api"} {
		_, err := New(params(u))
		require.NoError(t, err, u)
	}
}

func TestValidateCertsOffWarns(t *testing.T) {
	p := params("https://gateway.example.com/api")
	p["validate_certs"] = false
	c, err := New(p)
	require.NoError(t, err)
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "validate_certs is false")

	c, err = New(params("https://gateway.example.com/api"))
	require.NoError(t, err)
	require.Empty(t, c.Warnings)
}

// A proxy page that echoes the request's headers must not leak the token,
// even where the message is cut short in the middle of it.
func TestEchoedTokenIsRedactedBeforeTheCut(t *testing.T) {
	for pad := 150; pad < 210; pad += 7 {
		body := strings.Repeat("x", pad) + " Authorization: Bearer " + token + " </html>"
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(body))
		}))
		c, err := New(params(srv.URL))
		require.NoError(t, err)
		_, err = c.Do(context.Background(), http.MethodGet, "/x", nil, nil)
		srv.Close()
		require.Error(t, err)
		for i := 0; i+8 <= len(token); i++ {
			require.NotContains(t, err.Error(), token[i:i+8], "pad %d", pad)
		}
	}
}
