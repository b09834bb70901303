package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/stepfleet/smallstep/modules-src/internal/sim/authority"
	"github.com/stepfleet/smallstep/modules-src/internal/sim/store"
)

// handler serves one method of an endpoint; route is the endpoint's path
// template below BasePath, as Stats.ByRoute names it.
type handler struct {
	route string
	serve http.HandlerFunc
}

// handlers maps HTTP methods to the handlers of one endpoint.
type handlers map[string]handler

func methods(h handlers) []string {
	out := make([]string, 0, len(h))
	for m := range h {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func allowed(h handlers) string {
	return strings.Join(methods(h), ", ")
}

// noRoute stands for every path that is no endpoint in Stats.ByRoute, so
// that its keys stay few whatever clients send.
const noRoute = "(no route)"

// routeKey is the request's key in Stats.ByRoute: the method and the
// endpoint's route template, e.g. "PUT /collections/{slug}/instances/{id}".
// A method the endpoint does not have is counted under the endpoint.
func routeKey(method string, hs handlers) string {
	if h, ok := hs[method]; ok {
		return method + " " + h.route
	}
	if len(hs) > 0 {
		return method + " " + hs[methods(hs)[0]].route
	}
	return method + " " + noRoute
}

// routes returns the endpoint for the decoded path segments below BasePath,
// or nil when there is none.
func (s *Server) routes(seg []string) handlers {
	for _, p := range seg {
		if p == "" {
			return nil
		}
	}
	switch {
	case match(seg, "authorities"):
		return handlers{http.MethodGet: {"/authorities", s.listAuthorities}}
	case match(seg, "_sim", "stats"):
		return handlers{http.MethodGet: {"/_sim/stats", s.simStats}}
	case match(seg, "_sim", "state"):
		return handlers{http.MethodGet: {"/_sim/state", s.simState}}
	case match(seg, "_sim", "faults"):
		return handlers{
			http.MethodGet: {"/_sim/faults", loopbackOnly(s.getFaults)},
			http.MethodPut: {"/_sim/faults", loopbackOnly(s.putFaults)},
		}
	case match(seg, "device-collections", "*"):
		const route = "/device-collections/{slug}"
		slug := seg[1]
		return handlers{
			http.MethodGet:    {route, func(w http.ResponseWriter, r *http.Request) { s.getDeviceCollection(w, slug) }},
			http.MethodPut:    {route, func(w http.ResponseWriter, r *http.Request) { s.putDeviceCollection(w, r, slug) }},
			http.MethodDelete: {route, func(w http.ResponseWriter, r *http.Request) { s.deleteDeviceCollection(w, r, slug) }},
		}
	case match(seg, "device-collections", "*", "*", "*"):
		slug := seg[1]
		h := handlers{}
		if seg[2] == "workloads" {
			const route = "/device-collections/{slug}/workloads/{workloadSlug}"
			name := seg[3]
			h[http.MethodGet] = handler{route, func(w http.ResponseWriter, r *http.Request) { s.getWorkload(w, slug, name) }}
			h[http.MethodPut] = handler{route, func(w http.ResponseWriter, r *http.Request) { s.putWorkload(w, r, slug, name) }}
			h[http.MethodDelete] = handler{route, func(w http.ResponseWriter, r *http.Request) { s.deleteWorkload(w, slug, name) }}
		}
		// Workloads have no POST, so a device whose ID is "workloads" can
		// still get an enrollment token.
		if seg[3] == "enrollment-token" {
			const route = "/device-collections/{slug}/{id}/enrollment-token"
			id := seg[2]
			h[http.MethodPost] = handler{route, func(w http.ResponseWriter, r *http.Request) { s.postEnrollmentToken(w, r, slug, id) }}
		}
		if len(h) == 0 {
			return nil
		}
		return h
	case match(seg, "collections"):
		return handlers{http.MethodGet: {"/collections", s.listCollections}}
	case match(seg, "collections", "*", "instances", "*"):
		const route = "/collections/{slug}/instances/{id}"
		slug, id := seg[1], seg[3]
		return handlers{
			http.MethodGet:    {route, func(w http.ResponseWriter, r *http.Request) { s.getInstance(w, slug, id) }},
			http.MethodPut:    {route, func(w http.ResponseWriter, r *http.Request) { s.putInstance(w, r, slug, id) }},
			http.MethodDelete: {route, func(w http.ResponseWriter, r *http.Request) { s.deleteInstance(w, slug, id) }},
		}
	case match(seg, "collections", "*", "items"):
		slug := seg[1]
		return handlers{http.MethodGet: {"/collections/{slug}/items", func(w http.ResponseWriter, r *http.Request) { s.listInstances(w, r, slug) }}}
	}
	return nil
}

// match reports whether seg has the shape of pattern, where "*" stands for
// any one segment.
func match(seg []string, pattern ...string) bool {
	if len(seg) != len(pattern) {
		return false
	}
	for i, p := range pattern {
		if p != "*" && p != seg[i] {
			return false
		}
	}
	return true
}

// withoutNeverReturned drops the fields the API accepts but never returns.
func withoutNeverReturned(o store.Object) store.Object {
	delete(o, "adminEmails")
	return o
}

func (s *Server) getDeviceCollection(w http.ResponseWriter, slug string) {
	dc, err := s.store.GetDeviceCollection(slug)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, withoutNeverReturned(dc))
}

func (s *Server) putDeviceCollection(w http.ResponseWriter, r *http.Request, slug string) {
	body, err := decodeObject(w, r)
	if err == nil {
		err = prepareDeviceCollection(slug, body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid device collection: "+err.Error())
		return
	}
	dc, err := s.store.PutDeviceCollection(slug, body)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, withoutNeverReturned(dc))
}

func (s *Server) deleteDeviceCollection(w http.ResponseWriter, r *http.Request, slug string) {
	purge := false
	if v, ok := r.URL.Query()["purge"]; ok {
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			writeError(w, http.StatusBadRequest, "purge: must be true or false, not "+strconv.Quote(v[0]))
			return
		}
		purge = b
	}
	if err := s.store.DeleteDeviceCollection(slug, purge); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getWorkload(w http.ResponseWriter, slug, name string) {
	wl, err := s.store.GetWorkload(slug, name)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, withoutNeverReturned(wl))
}

func (s *Server) putWorkload(w http.ResponseWriter, r *http.Request, slug, name string) {
	body, err := decodeObject(w, r)
	if err == nil {
		err = prepareWorkload(name, body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid workload: "+err.Error())
		return
	}
	wl, err := s.store.PutWorkload(slug, name, body)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, withoutNeverReturned(wl))
}

func (s *Server) deleteWorkload(w http.ResponseWriter, slug, name string) {
	if err := s.store.DeleteWorkload(slug, name); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getInstance(w http.ResponseWriter, slug, id string) {
	d, err := s.store.GetDevice(slug, id)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) putInstance(w http.ResponseWriter, r *http.Request, slug, id string) {
	body, err := decodeObject(w, r)
	var data map[string]any
	if err == nil {
		data, err = prepareInstance(body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid instance: "+err.Error())
		return
	}
	d, err := s.store.PutDevice(slug, id, data)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) deleteInstance(w http.ResponseWriter, slug, id string) {
	if err := s.store.DeleteDevice(slug, id); err != nil {
		writeStoreError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Page sizes of the list endpoints (GET /collections and
// /collections/{slug}/items), from the OpenAPI document.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// cursorPrefix marks the simulator's cursors so that anything not copied
// from X-Next-Cursor is refused instead of silently starting elsewhere.
const cursorPrefix = "after:"

func encodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + id))
}

func decodeCursor(c string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(raw), cursorPrefix)
}

// pagination reads a list request's page size and the key its page starts
// after, or answers 400 and returns ok false.
func pagination(w http.ResponseWriter, r *http.Request) (first int, after string, ok bool) {
	q := r.URL.Query()
	first = defaultPageSize
	if v, given := q["pagination[first]"]; given {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPageSize {
			writeError(w, http.StatusBadRequest, "pagination[first]: must be an integer from 1 to 1000, not "+strconv.Quote(v[0]))
			return 0, "", false
		}
		first = n
	}
	if c := q.Get("pagination[after]"); c != "" {
		key, valid := decodeCursor(c)
		if !valid {
			writeError(w, http.StatusBadRequest, "pagination[after]: not a cursor from X-Next-Cursor: "+strconv.Quote(c))
			return 0, "", false
		}
		after = key
	}
	return first, after, true
}

func (s *Server) listInstances(w http.ResponseWriter, r *http.Request, slug string) {
	first, after, ok := pagination(w, r)
	if !ok {
		return
	}
	page, more, err := s.store.ListDevices(slug, after, first)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	if more {
		w.Header().Set(headerNextCursor, encodeCursor(page[len(page)-1].ID))
	}
	writeJSON(w, http.StatusOK, page)
}

// listCollections is GET /collections: the collection of every device
// collection, by slug. The simulator has no other collections, so a client
// that skips plain collections is tested with the fake API instead.
func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	first, after, ok := pagination(w, r)
	if !ok {
		return
	}
	page, more := s.store.ListCollections(after, first)
	if more {
		w.Header().Set(headerNextCursor, encodeCursor(page[len(page)-1].Slug))
	}
	writeJSON(w, http.StatusOK, page)
}

// enrollmentToken is the 201 body of POST .../enrollment-token. It carries
// the token both as "secret" (the OpenAPI enrollmentToken schema) and as
// "token", so clients written against either shape work.
type enrollmentToken struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Secret string `json:"secret"`
	Token  string `json:"token"`
}

var enrollmentRule = object(prop{"title", optString})

func (s *Server) postEnrollmentToken(w http.ResponseWriter, r *http.Request, slug, id string) {
	title := "Enrollment token for " + id
	data, err := readBody(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// The body is optional: an empty one asks for the default title.
	if len(bytes.TrimSpace(data)) > 0 {
		body, err := parseObject(data)
		if err == nil {
			err = check("", body, enrollmentRule)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid enrollment token request: "+err.Error())
			return
		}
		if t, ok := body["title"].(string); ok && t != "" {
			title = t
		}
	}
	// Tokens are for registered devices only: pre-registration comes first.
	if _, err := s.store.GetDevice(slug, id); err != nil {
		writeStoreError(w, err)
		return
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		writeError(w, http.StatusInternalServerError, "generate token: "+err.Error())
		return
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	writeJSON(w, http.StatusCreated, enrollmentToken{ID: store.NewID(), Title: title, Secret: tok, Token: tok})
}

// authorityView is an item of GET /authorities.
type authorityView struct {
	store.Authority
	Fingerprint string `json:"fingerprint"`
}

func (s *Server) authorityViews() ([]authorityView, error) {
	auths := s.store.Authorities()
	out := make([]authorityView, 0, len(auths))
	for _, a := range auths {
		// Computed from the PEM on every read so that it cannot disagree
		// with the root it is returned beside.
		fp, err := authority.Fingerprint(a.Root)
		if err != nil {
			return nil, err
		}
		out = append(out, authorityView{Authority: a, Fingerprint: fp})
	}
	return out, nil
}

func (s *Server) listAuthorities(w http.ResponseWriter, r *http.Request) {
	views, err := s.authorityViews()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "authority root: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, views)
}
