package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/stepfleet/smallstep/modules-src/internal/sim/store"
)

// Stats counts requests for tests. Requests counts every API request
// (authorised or not, faults included), Writes the PUT, POST, DELETE and
// PATCH requests that reached an endpoint's handler, failed ones included
// (a fault that does not apply the request keeps it from the handler).
// Faults counts the injected faults and ByRoute the API requests by method
// and route template, e.g. "PUT /collections/{slug}/instances/{id}", with
// "(no route)" for paths that are no endpoint; its values add up to
// Requests. Requests to /_sim/ are not counted, so reading the stats does
// not change them.
type Stats struct {
	Requests int64            `json:"requests"`
	Writes   int64            `json:"writes"`
	Faults   FaultCounts      `json:"faults"`
	ByRoute  map[string]int64 `json:"by_route"`
}

// counters are the request counts of Stats, under one mutex so that a
// snapshot of them adds up.
type counters struct {
	mu       sync.Mutex
	requests int64
	writes   int64
	byRoute  map[string]int64
}

func (c *counters) request(route string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.byRoute[route]++
}

func (c *counters) write() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
}

// Stats returns the counters served at /api/_sim/stats.
func (s *Server) Stats() Stats {
	s.counters.mu.Lock()
	out := Stats{Requests: s.counters.requests, Writes: s.counters.writes, ByRoute: maps.Clone(s.counters.byRoute)}
	s.counters.mu.Unlock()
	out.Faults = s.faults.count()
	return out
}

func (s *Server) simStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// stateDump is the body of /api/_sim/state: the whole state, including
// fields the API never returns (adminEmails), so that tests can check what a
// client sent. There are no tokens in it: the API token is not state and
// enrollment tokens are not kept.
type stateDump struct {
	Team        string                       `json:"team"`
	Authorities []authorityView              `json:"authorities"`
	Collections map[string]*store.Collection `json:"collections"`
}

func (s *Server) simState(w http.ResponseWriter, r *http.Request) {
	snap := s.store.Snapshot()
	views, err := s.authorityViews()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "authority root: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, stateDump{Team: snap.Team, Authorities: views, Collections: snap.Collections})
}

// loopbackOnly refuses requests that do not come from a loopback address:
// the fault controls let whoever can reach them break every client of the
// simulator, so they are for tests on the same machine only, on top of the
// bearer token every endpoint needs.
func loopbackOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			writeError(w, http.StatusForbidden, fmt.Sprintf("%s is only served to clients on this machine (a loopback address), not %s", r.URL.EscapedPath(), r.RemoteAddr))
			return
		}
		h(w, r)
	}
}

// faultsView is the body of GET and PUT /api/_sim/faults: the settings and
// the counts.
type faultsView struct {
	Rate    float64     `json:"rate"`
	Kinds   []FaultKind `json:"kinds"`
	Seed    int64       `json:"seed"`
	HangFor string      `json:"hang_for"`
	Applied []FaultKind `json:"applied"`
	Faults  FaultCounts `json:"faults"`
}

func (s *Server) faultsView() faultsView {
	cfg := s.faults.settings()
	return faultsView{
		Rate:    cfg.Rate,
		Kinds:   cfg.Kinds,
		Seed:    cfg.Seed,
		HangFor: cfg.HangFor.String(),
		Applied: append([]FaultKind{}, cfg.Applied...),
		Faults:  s.faults.count(),
	}
}

func (s *Server) getFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.faultsView())
}

// faultsBody is the body of PUT /api/_sim/faults. rate is required; the
// other fields, when left out, take the values the server started with
// (its flags), so that a test can turn faults on and off with the rate
// alone.
type faultsBody struct {
	Rate    *float64  `json:"rate"`
	Kinds   *[]string `json:"kinds"`
	Seed    *int64    `json:"seed"`
	HangFor *string   `json:"hang_for"`
	Applied *[]string `json:"applied"`
}

// putFaults replaces the fault settings and restarts the decisions from
// the seed, so that what follows repeats; the counts carry on.
func (s *Server) putFaults(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.parseFaults(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid fault settings: "+err.Error())
		return
	}
	s.faults.set(cfg)
	s.log.Info("faults set", "rate", cfg.Rate, "kinds", joinKinds(cfg.Kinds), "seed", cfg.Seed,
		"hang_for", cfg.HangFor, "applied", joinKinds(cfg.Applied))
	writeJSON(w, http.StatusOK, s.faultsView())
}

func (s *Server) parseFaults(w http.ResponseWriter, r *http.Request) (Faults, error) {
	data, err := readBody(w, r)
	if err != nil {
		return Faults{}, err
	}
	var body faultsBody
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		if errors.Is(err, io.EOF) {
			return Faults{}, errors.New(`request body is empty; expected a JSON object such as {"rate":0.1,"kinds":["503"],"seed":7}`)
		}
		return Faults{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Faults{}, errors.New("request body has data after the JSON object")
	}
	if body.Rate == nil {
		return Faults{}, errors.New("rate: required, from 0 to 1 (0 turns faults off)")
	}
	cfg := s.startFaults
	cfg.Rate = *body.Rate
	if body.Kinds != nil {
		if len(*body.Kinds) == 0 {
			return Faults{}, fmt.Errorf("kinds: give at least one of %s", joinKinds(AllFaultKinds))
		}
		if cfg.Kinds, err = ParseFaultKinds(*body.Kinds, AllFaultKinds); err != nil {
			return Faults{}, fmt.Errorf("kinds: %w", err)
		}
	}
	if body.Seed != nil {
		cfg.Seed = *body.Seed
	}
	if body.HangFor != nil {
		d, err := time.ParseDuration(*body.HangFor)
		if err != nil || d <= 0 {
			return Faults{}, fmt.Errorf("hang_for: must be a positive duration such as \"5s\", not %q", *body.HangFor)
		}
		cfg.HangFor = d
	}
	if body.Applied != nil {
		if cfg.Applied, err = ParseFaultKinds(*body.Applied, ApplicableFaultKinds); err != nil {
			return Faults{}, fmt.Errorf("applied: %w", err)
		}
	}
	return cfg.withDefaults()
}
