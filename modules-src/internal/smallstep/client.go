package smallstep

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/jsonnum"
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
	// retries is how many times a failed idempotent request is repeated,
	// retryTimeout the time all tries of one request may take.
	retries      int
	retryTimeout time.Duration
	sleep        func(time.Duration)
	http         Doer
	// Writes counts the requests that may change state, for idempotency
	// checks in tests; Retries counts the repeated tries.
	Writes  int
	Retries int
	// Warnings are things the user should know about the connection, such
	// as certificate checks being off.
	Warnings []string
	// baseChecked is set once a 404 was shown to mean absence (Absent).
	baseChecked bool
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
	if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("api_url %q has an empty port after the colon", raw)
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
	// Absent only when a caller builds params by hand (tests): use defaults.
	retries, retryTimeout := int64(DefaultRetries), int64(DefaultRetryTimeout)
	if p.Has("retries") {
		retries = p.Int("retries")
	}
	if p.Has("retry_timeout") {
		retryTimeout = p.Int("retry_timeout")
	}
	if retries < 0 || retries > 100 {
		return nil, fmt.Errorf("retries must be between 0 and 100, got %d", retries)
	}
	if retryTimeout <= 0 {
		return nil, fmt.Errorf("retry_timeout must be a positive number of seconds, got %d", retryTimeout)
	}
	var warnings []string
	if u.Scheme == "http" && !isLoopback(u.Hostname()) && !p.Bool("allow_http") {
		return nil, fmt.Errorf("api_url %s is plain http to a host that is not this machine: the token would cross the network unencrypted; use https, or set allow_http: true if you must", raw)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if validate, ok := p["validate_certs"].(bool); ok && !validate && u.Scheme == "https" {
		tlsConf.InsecureSkipVerify = true
		warnings = append(warnings, "validate_certs is false: the API server's certificate is not checked, so anyone on the path can read the API token")
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
		base:         u,
		token:        token,
		version:      version,
		timeout:      time.Duration(timeout) * time.Second,
		retries:      int(retries),
		retryTimeout: time.Duration(retryTimeout) * time.Second,
		sleep:        time.Sleep,
		Warnings:     warnings,
		http:         &http.Client{Transport: transport},
	}, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithSleep replaces the wait between retries, for tests.
func (c *Client) WithSleep(f func(time.Duration)) *Client { c.sleep = f; return c }

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
// as JSON. Any status outside 2xx becomes an *APIError. Idempotent requests
// (GET, PUT, DELETE) are retried on 429, 502, 503, 504, resets and
// timeouts, with backoff, within the retries and retry_timeout options.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	target := c.base.String() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("cannot encode the request body: %v", err)
		}
		payload = b
	}
	if method != http.MethodGet && method != http.MethodHead {
		c.Writes++
	}
	deadline := time.Now().Add(c.retryTimeout)
	for try := 1; ; try++ {
		resp, retryAfter, err := c.once(ctx, method, path, target, payload)
		if err == nil {
			return resp, nil
		}
		var ae *APIError
		if !errors.As(err, &ae) || !c.retryable(method, ae) || try > c.retries {
			if ae != nil && try > 1 {
				ae.Tries = try
			}
			return nil, err
		}
		wait := backoff(try, retryAfter)
		if time.Now().Add(wait).After(deadline) {
			ae.Tries = try
			ae.Message += fmt.Sprintf("; gave up: the next try would pass retry_timeout (%s)", c.retryTimeout)
			return nil, ae
		}
		c.Retries++
		c.sleep(wait)
	}
}

// once sends one try of a request; retryAfter is the server's Retry-After.
func (c *Client) once(ctx context.Context, method, path, target string, payload []byte) (*Response, time.Duration, error) {
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot build the request %s %s: %v", method, path, err)
	}
	reqID := newRequestID()
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Smallstep-Api-Version", c.version)
	req.Header.Set("X-Request-Id", reqID)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "stepfleet.smallstep-ansible")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, &APIError{Method: method, Path: path, RequestID: reqID, Message: c.redact(transportMessage(err, c.base.Host)),
			transient: transientTransport(err), unsent: unsent(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		reqID = id
	}
	if err != nil {
		return nil, 0, &APIError{Method: method, Path: path, Status: resp.StatusCode, RequestID: reqID,
			Message: c.redact("reading the response failed: " + err.Error()), transient: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Redact before serverMessage cuts the body: a cut through an
		// echoed token would leave its first part for redact to miss.
		return nil, retryAfter(resp.Header.Get("Retry-After")), &APIError{Method: method, Path: path, Status: resp.StatusCode, RequestID: reqID, Message: serverMessage([]byte(c.redact(string(data))))}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data, RequestID: reqID}, 0, nil
}

// retryable says whether a failed try may be repeated: only requests whose
// repetition cannot do more than the first would (POST may create twice),
// and only for failures that say "try again later".
func (c *Client) retryable(method string, e *APIError) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
	default:
		return false
	}
	switch e.Status {
	case 0:
		return e.transient
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	// A body cut short on a 2xx is as transient as a reset.
	return e.transient
}

// Backoff bounds: the first retry waits between baseDelay/2 and baseDelay,
// each next ceiling is twice as high, never more than maxDelay; a server's
// Retry-After wins.
const (
	baseDelay = 500 * time.Millisecond
	maxDelay  = 10 * time.Second
)

// backoff is exponential with jitter over the upper half of the ceiling, so
// that many hosts retrying the same gateway spread out instead of retrying
// in step, and none retries at once.
func backoff(try int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, time.Minute)
	}
	ceiling := baseDelay << min(try-1, 10)
	if ceiling > maxDelay {
		ceiling = maxDelay
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	jitter := time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(ceiling/2))
	return ceiling/2 + jitter
}

// retryAfter reads Retry-After, in seconds or as an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// JSON sends a request and decodes a JSON answer into out (when not nil).
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, body, out any) (*Response, error) {
	resp, err := c.Do(ctx, method, path, query, body)
	if err != nil || out == nil {
		return resp, err
	}
	if err := jsonnum.Unmarshal(resp.Body, out); err != nil {
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
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("the connection to %s was cut before the answer came: %v", host, err)
	}
	return fmt.Sprintf("cannot reach %s: %v", host, err)
}

// transientTransport says whether a failure below HTTP may pass on its own:
// a timeout, a reset or a connection cut mid-answer. A refused connection,
// a name that does not resolve or a bad certificate will not.
func transientTransport(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// unsent says whether a failure below HTTP came before the request left:
// no connection (refused, a name that does not resolve, a dial timeout) or
// no TLS session. Only then did a POST certainly make nothing.
func unsent(err error) bool {
	var op *net.OpError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var header tls.RecordHeaderError
	// Over TCP a TLS alert from the server (no common cipher, a client
	// certificate required) is an OpError "remote error": its handshake
	// failed, so it read no request.
	return (errors.As(err, &op) && (op.Op == "dial" || op.Op == "remote error")) ||
		errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &header)
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
	s := string(body)
	if strings.HasPrefix(strings.TrimSpace(s), "<") {
		// An error page of a proxy or another web server: its text only.
		s = html.UnescapeString(htmlTag.ReplaceAllString(s, " "))
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "..."
	}
	if s == "" {
		return "no message in the answer"
	}
	return s
}

var htmlTag = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>|<[^>]*>`)
