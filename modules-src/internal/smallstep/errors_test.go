package smallstep

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type tlsFake struct {
	url   string
	caPEM []byte
}

// newTLSFake is an HTTPS server that answers [] to everything.
func newTLSFake(t *testing.T) tlsFake {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "[]")
	}))
	// The untrusting client's handshake failure is expected; keep the log quiet.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return tlsFake{url: srv.URL + "/api", caPEM: ca}
}

func TestAPIErrorNamesWhatFailed(t *testing.T) {
	path := Path("device-collections", "web", "workloads", "nginx")
	cases := []struct {
		name   string
		status int // 0: nothing listens, a transport error
		body   string
		echoID string // X-Request-Id the server answers with; "" means it echoes none
		want   []string
	}{
		{"400", 400, `{"message":"workloadType is required"}`, "",
			[]string{"PUT " + path + " failed: HTTP 400 Bad Request: workloadType is required"}},
		{"401", 401, `{"message":"invalid token"}`, "",
			[]string{"HTTP 401 Unauthorized: invalid token", "check api_token (or SMALLSTEP_API_TOKEN)"}},
		{"403", 403, `{"message":"forbidden"}`, "",
			[]string{"HTTP 403 Forbidden: forbidden", "the token lacks the permission"}},
		{"404", 404, `{"message":"device collection not found"}`, "",
			[]string{"HTTP 404 Not Found: device collection not found"}},
		{"409", 409, `{"message":"deviceType cannot change"}`, "",
			[]string{"HTTP 409 Conflict: deviceType cannot change"}},
		{"422", 422, `{"message":"collection has devices"}`, "",
			[]string{"HTTP 422 Unprocessable Entity: collection has devices"}},
		{"500 with the server's request ID", 500, `{"message":"internal"}`, "srv-req-42",
			[]string{"HTTP 500 Internal Server Error: internal", "(request ID srv-req-42)"}},
		{"an HTML page: its text on one line", 502, "<html><head><style>p {}</style><title>502</title></head>\n<body>\n<p>Bad &amp; gone</p>\n</body></html>\n", "",
			[]string{"HTTP 502 Bad Gateway: 502 Bad & gone (request ID"}},
		{"plain text: on one line", 502, "Bad\n  Gateway\n", "",
			[]string{"HTTP 502 Bad Gateway: Bad Gateway (request ID"}},
		{"empty body", 503, "", "",
			[]string{"HTTP 503 Service Unavailable: no message in the answer"}},
		{"long body is cut", 500, strings.Repeat("x", 500), "",
			[]string{"HTTP 500 Internal Server Error: " + strings.Repeat("x", 200) + "..."}},
		{"server echoes the token", 400, `{"message":"bad header Authorization: Bearer ` + token + `"}`, "",
			[]string{"bad header Authorization: Bearer ********"}},
		{name: "transport error",
			want: []string{"PUT " + path + " failed: cannot reach 127.0.0.1:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			hdr := map[string]string{}
			if tc.echoID != "" {
				hdr["X-Request-Id"] = tc.echoID
			}
			f.On(http.MethodPut, path, reply{Status: tc.status, Body: tc.body, Header: hdr})
			c := client(t, f)
			if tc.status == 0 {
				f.Close()
			}

			_, err := c.Do(context.Background(), http.MethodPut, path, nil, map[string]any{"slug": "nginx"})
			require.Error(t, err)
			msg := err.Error()
			for _, w := range tc.want {
				require.Contains(t, msg, w)
			}
			wantID := tc.echoID
			if tc.status == 0 {
				require.NotContains(t, msg, "HTTP")
				require.Regexp(t, `\(request ID [0-9a-f-]{36}\)$`, msg)
				wantID = regexp.MustCompile(`request ID ([0-9a-f-]{36})`).FindStringSubmatch(msg)[1]
			} else if wantID == "" {
				wantID = f.Requests()[0].Header.Get("X-Request-Id")
			}
			require.Contains(t, msg, "(request ID "+wantID+")")
			require.NotContains(t, msg, token)
			require.Equal(t, tc.status, StatusOf(err))
			require.Equal(t, tc.status == 404, IsNotFound(err))

			var ae *APIError
			require.ErrorAs(t, err, &ae)
			failure := ae.ResultFields()["failure"].(map[string]any)
			require.Equal(t, http.MethodPut, failure["method"])
			require.Equal(t, path, failure["path"])
			require.Equal(t, tc.status, failure["status"])
			require.Equal(t, wantID, failure["request_id"])
			require.NotEmpty(t, failure["message"])
			require.NotContains(t, failure["message"], token)
		})
	}
}

func TestTimeoutSaysSo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	p := params(srv.URL + "/api")
	p["timeout"] = int64(1)
	c, err := New(p)
	require.NoError(t, err)

	start := time.Now()
	_, err = c.Do(context.Background(), http.MethodGet, "/authorities", nil, nil)
	require.Less(t, time.Since(start), 5*time.Second)
	require.ErrorContains(t, err, "GET /authorities failed: no answer from "+srv.Listener.Addr().String()+" within the timeout; raise timeout")
}

func TestUnexpectedJSONKeepsTheRequestID(t *testing.T) {
	f := newFake(t)
	f.On(http.MethodGet, "/device-collections/web", reply{Status: 200, Body: "<html>login page</html>"})
	c := client(t, f)

	var out map[string]any
	_, err := c.JSON(context.Background(), http.MethodGet, "/device-collections/web", nil, nil, &out)
	require.ErrorContains(t, err, "GET /device-collections/web failed: HTTP 200 OK: the answer is not the JSON expected")
	require.Contains(t, err.Error(), "(request ID "+f.Requests()[0].Header.Get("X-Request-Id")+")")
}
