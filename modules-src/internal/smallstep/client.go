package smallstep

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

// Doer sends one HTTP request; *http.Client is one, tests may use another.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client talks to one Smallstep API endpoint with one token.
type Client struct {
	base    *url.URL
	token   string
	version string
	timeout time.Duration
	http    Doer
	// Writes counts the requests that may change state, for idempotency
	// checks in tests.
	Writes int
}

// New checks the connection options up front, so that a bad URL or CA file
// fails before any request, and returns a client.
func New(p ansible.Params) (*Client, error) {
	raw := p.Str("api_url")
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("api_url %q is not a valid http(s) URL such as %s", raw, DefaultURL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// Request paths are appended to the URL: a query or fragment would
		// swallow them and send every request to the base URL itself.
		return nil, fmt.Errorf("api_url %q must not hold a query or fragment; give the API's base URL such as %s", raw, DefaultURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	token := p.Str("api_token")
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("api_token is empty or holds whitespace; set it (or SMALLSTEP_API_TOKEN) to the token from the Smallstep dashboard")
	}
	version := p.Str("api_version")
	if version == "" {
		version = DefaultVersion
	}
	timeout := p.Int("timeout")
	if timeout <= 0 {
		return nil, fmt.Errorf("timeout must be a positive number of seconds, got %d", timeout)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if validate, ok := p["validate_certs"].(bool); ok && !validate {
		tlsConf.InsecureSkipVerify = true
	}
	if ca := p.Str("ca_path"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("ca_path: cannot read %s: %v", ca, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_path: %s holds no PEM certificate", ca)
		}
		tlsConf.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConf
	return &Client{
		base:    u,
		token:   token,
		version: version,
		timeout: time.Duration(timeout) * time.Second,
		http:    &http.Client{Transport: transport},
	}, nil
}

// WithDoer replaces the HTTP client, for tests.
func (c *Client) WithDoer(d Doer) *Client { c.http = d; return c }

// Path joins segments into a URL path, escaping each as one segment: a TPM
// device ID holds '/' and '+', which must not split or change the path.
func Path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(escapeSegment(s))
	}
	return b.String()
}

func escapeSegment(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// Response is what a request returned on success.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// RequestID is the server's X-Request-Id, else the one the client sent.
	RequestID string
}

// Do sends one request. path is built with Path; body, when not nil, is sent
// as JSON. Any status outside 2xx becomes an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	target := c.base.String() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("cannot encode the request body: %v", err)
		}
		reader = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, fmt.Errorf("cannot build the request %s %s: %v", method, path, err)
	}
	reqID := newRequestID()
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Smallstep-Api-Version", c.version)
	req.Header.Set("X-Request-Id", reqID)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "stepfleet.smallstep-ansible")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && method != http.MethodHead {
		c.Writes++
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &APIError{Method: method, Path: path, RequestID: reqID, Message: c.redact(transportMessage(err, c.base.Host))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, &APIError{Method: method, Path: path, Status: resp.StatusCode, RequestID: reqID, Message: c.redact("reading the response failed: " + err.Error())}
	}
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		reqID = id
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &APIError{Method: method, Path: path, Status: resp.StatusCode, RequestID: reqID, Message: c.redact(serverMessage(data))}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data, RequestID: reqID}, nil
}

// JSON sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, body, out any) (*Response, error) {
	resp, err := c.Do(ctx, method, path, query, body)
	if err != nil || out == nil {
		return resp, err
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return resp, &APIError{Method: method, Path: path, Status: resp.Status, RequestID: resp.RequestID,
			Message: "the answer is not the JSON expected: " + err.Error()}
	}
	return resp, nil
}

// redact hides the token in text that came from elsewhere, such as a proxy
// that echoes the request's headers in its error page.
func (c *Client) redact(s string) string {
	return strings.ReplaceAll(s, c.token, ansible.Mask)
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// transportMessage says what went wrong below HTTP, without the URL's query
// or anything from the request headers.
func transportMessage(err error, host string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer from %s within the timeout; raise timeout or check the network", host)
	}
	return fmt.Sprintf("cannot reach %s: %v", host, err)
}

// serverMessage takes the message out of an error body, {"message": "..."}
// by the API's schema, or the start of whatever else came back.
func serverMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return "no message in the answer"
	}
	return s
}
