// Package sim is a local simulator of the Smallstep API gateway for API
// version 2023-03-01: the endpoints the project's modules use, with the
// real gateway's status codes, headers, pagination and error bodies, plus
// inspection endpoints under /api/_sim/ for tests and seeded fault injection
// (error statuses, hangs, resets, truncated answers) to test clients'
// retries against.
package sim

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/stepfleet/smallstep/modules-src/internal/sim/authority"
	"github.com/stepfleet/smallstep/modules-src/internal/sim/store"
)

// APIVersion is the only API version the simulator speaks.
const APIVersion = "2023-03-01"

// BasePath is where the API lives, as on gateway.smallstep.com.
const BasePath = "/api"

const (
	headerRequestID  = "X-Request-Id"
	headerAPIVersion = "X-Smallstep-Api-Version"
	headerNextCursor = "X-Next-Cursor"
)

// Config configures New.
type Config struct {
	// Token is the API token clients must send as a bearer token. Required.
	Token string
	// Team names the team and its authorities; "demo" when empty.
	Team string
	// StatePath is the JSON file the state is loaded from and saved to after
	// every write; empty keeps the state in memory only.
	StatePath string
	// Log receives one line per request; nil discards them.
	Log io.Writer
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
	// Faults configures fault injection; the zero value injects none. PUT
	// /api/_sim/faults changes it while the server runs.
	Faults Faults
}

// Server is the simulator's HTTP handler.
type Server struct {
	// wantAuth is the digest of the expected Authorization header: comparing
	// fixed-size digests in constant time leaks neither the token nor its
	// length.
	wantAuth [sha256.Size]byte
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	faults   *faulter
	// startFaults are the settings New was given; PUT /api/_sim/faults
	// fills in what its body leaves out from them.
	startFaults Faults
	counters    counters

	// hangsEnd is closed by EndHangs.
	hangsEnd chan struct{}
	endHangs sync.Once
}

// New opens the state, generates the team's authorities when the state has
// none, and returns the handler.
func New(cfg Config) (*Server, error) {
	if cfg.Token == "" {
		return nil, errors.New("an API token is required")
	}
	if cfg.Team == "" {
		cfg.Team = "demo"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	faults, err := cfg.Faults.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("faults: %w", err)
	}
	st, err := store.Open(store.Options{Path: cfg.StatePath, Team: cfg.Team, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	if err := st.EnsureAuthorities(func() ([]store.Authority, error) {
		return newAuthorities(cfg.Team, cfg.Now())
	}); err != nil {
		return nil, fmt.Errorf("create authorities: %w", err)
	}
	return &Server{
		wantAuth:    sha256.Sum256([]byte("Bearer " + cfg.Token)),
		store:       st,
		log:         slog.New(slog.NewTextHandler(cfg.Log, nil)),
		now:         cfg.Now,
		faults:      newFaulter(faults),
		startFaults: faults,
		counters:    counters{byRoute: map[string]int64{}},
		hangsEnd:    make(chan struct{}),
	}, nil
}

// newAuthorities makes the team's agents authority, which clients look up
// by its domain to find the team name and the root fingerprint, and one
// ordinary authority so that they have to look it up rather than take the
// first.
func newAuthorities(team string, now time.Time) ([]store.Authority, error) {
	specs := []struct{ name, cn, domain, typ string }{
		{team + " agents", team + " Agents Root CA", "agents." + team + ".ca.smallstep.com", "managed"},
		{team + " ssh", team + " SSH Root CA", "ssh." + team + ".ca.smallstep.com", "devops"},
	}
	out := make([]store.Authority, 0, len(specs))
	for _, sp := range specs {
		root, err := authority.NewRoot(sp.cn, now)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Authority{
			ID:        store.NewID(),
			Name:      sp.name,
			Domain:    sp.domain,
			Type:      sp.typ,
			Root:      root,
			CreatedAt: now.UTC().Format(store.TimeFormat),
		})
	}
	return out, nil
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection, to flush it or
// take it over for a fault.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ServeHTTP counts and logs every request, decides whether it gets a fault
// (never under /api/_sim/) and serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := r.Header.Get(headerRequestID)
	if reqID == "" {
		reqID = store.NewID()
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rec.Header().Set(headerRequestID, reqID)
	rec.Header().Set(headerAPIVersion, APIVersion)
	var fault FaultKind
	defer func() {
		// The path is logged without the query and never with headers: no
		// token or enrollment token can reach the log.
		attrs := []any{"method", r.Method, "path", r.URL.EscapedPath(), "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond), "request_id", reqID}
		if fault != "" {
			attrs = append(attrs, "fault", string(fault))
		}
		s.log.Info("request", attrs...)
	}()

	segs, pathErr := splitPath(r.URL.EscapedPath())
	var hs handlers
	if pathErr == nil {
		hs = s.routes(segs)
	}
	if len(segs) > 0 && segs[0] == "_sim" {
		s.serve(rec, r, hs, pathErr)
		return
	}
	s.counters.request(routeKey(r.Method, hs))
	if d := s.faults.decide(); d.kind != "" {
		fault = d.kind
		s.inject(rec, r, d, func(w http.ResponseWriter) { s.serve(w, r, hs, pathErr) })
		return
	}
	s.serve(rec, r, hs, pathErr)
}

// serve checks what every request needs (bearer token, API version, an
// endpoint and method) and calls the endpoint's handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, hs handlers, pathErr *pathError) {
	if msg, ok := s.authorize(r); !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="smallstep-sim"`)
		writeError(w, http.StatusUnauthorized, msg)
		return
	}
	if v := r.Header.Get(headerAPIVersion); v != "" && v != APIVersion {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unsupported API version %q in %s; this server supports %s", v, headerAPIVersion, APIVersion))
		return
	}
	if pathErr != nil {
		writeError(w, pathErr.status, pathErr.msg)
		return
	}
	if hs == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.EscapedPath()))
		return
	}
	h, ok := hs[r.Method]
	if !ok {
		w.Header().Set("Allow", allowed(hs))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.EscapedPath(), allowed(hs)))
		return
	}
	switch r.Method {
	case http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch:
		if !strings.HasPrefix(h.route, "/_sim/") {
			s.counters.write()
		}
	}
	h.serve(w, r)
}

func (s *Server) authorize(r *http.Request) (string, bool) {
	got := r.Header.Get("Authorization")
	if got == "" {
		return "missing Authorization header; send Authorization: Bearer <API token>", false
	}
	sum := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(sum[:], s.wantAuth[:]) != 1 {
		return "invalid API token", false
	}
	return "", true
}

type pathError struct {
	status int
	msg    string
}

// splitPath splits the escaped path below BasePath into segments and
// percent-decodes each one on its own, so that an escaped "/" (%2F) inside
// an ID such as urn:ek:sha256:ab/c+d= stays part of that ID.
func splitPath(escaped string) ([]string, *pathError) {
	rest, ok := strings.CutPrefix(escaped, BasePath+"/")
	if !ok {
		return nil, &pathError{http.StatusNotFound, fmt.Sprintf("no such endpoint: %s is outside %s/", escaped, BasePath)}
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return nil, &pathError{http.StatusBadRequest, fmt.Sprintf("invalid percent-encoding in path segment %q", seg)}
		}
		// Names and IDs are kept as JSON strings, which would turn invalid
		// UTF-8 into U+FFFD: after a restart the object would have another
		// name.
		if !utf8.ValidString(dec) {
			return nil, &pathError{http.StatusBadRequest, fmt.Sprintf("path segment %q is not valid UTF-8 once decoded", seg)}
		}
		segs[i] = dec
	}
	return segs, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Messages quote paths and placeholders like <API token>; keep them
	// readable instead of \u003c-escaped.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = enc.Encode(errorBody{Message: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorBody is the API's error schema.
type errorBody struct {
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg})
}

// writeStoreError maps the store's error kinds onto the API's status codes.
func writeStoreError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, store.ErrNotEmpty):
		status = http.StatusUnprocessableEntity
	}
	writeError(w, status, err.Error())
}
