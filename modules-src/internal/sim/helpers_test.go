package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const testToken = "test-token-3f9a"

// syncBuffer is a log sink that the server may write to from many
// goroutines while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testSim is a simulator behind httptest with a client that authenticates.
type testSim struct {
	t   *testing.T
	srv *Server
	url string
	log *syncBuffer
}

func newTestSim(t *testing.T, cfg Config) *testSim {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	logs := &syncBuffer{}
	cfg.Log = logs
	srv, err := New(cfg)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testSim{t: t, srv: srv, url: ts.URL + BasePath, log: logs}
}

// response is what a test needs of an answer: status, headers, body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t *testing.T) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.json(t).(map[string]any)
	require.True(t, ok, "body is not an object: %s", r.body)
	return m
}

func (r response) message(t *testing.T) string {
	t.Helper()
	msg, ok := r.object(t)["message"].(string)
	require.True(t, ok, "no message in %s", r.body)
	return msg
}

// request sends method path with body (a string is sent as is, anything
// else as JSON) and the given headers; "Authorization" and the version
// header are added unless the headers set them (to "" to leave them out).
func (s *testSim) request(method, path string, body any, headers map[string]string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(s.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	require.NoError(s.t, err)
	h := map[string]string{"Authorization": "Bearer " + testToken, headerAPIVersion: APIVersion}
	for k, v := range headers {
		h[k] = v
	}
	for k, v := range h {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (s *testSim) do(method, path string, body any) response {
	s.t.Helper()
	return s.request(method, path, body, nil)
}

// mustDo sends the request and requires the status.
func (s *testSim) mustDo(status int, method, path string, body any) response {
	s.t.Helper()
	r := s.do(method, path, body)
	require.Equal(s.t, status, r.status, "%s %s: %s", method, path, r.body)
	return r
}

func awsCollection(slug string) map[string]any {
	return map[string]any{
		"slug":                    slug,
		"displayName":             "AWS " + slug,
		"deviceType":              "aws-vm",
		"deviceTypeConfiguration": map[string]any{"accounts": []any{"123456789012"}},
	}
}

func workload(slug string) map[string]any {
	return map[string]any{"slug": slug, "displayName": "Workload " + slug, "workloadType": "nginx"}
}
