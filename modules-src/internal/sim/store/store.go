// Package store owns the simulator's state: the team's authorities and its
// device collections with their workloads and devices. Every operation takes
// one mutex, so concurrent requests see a consistent state, and every write
// is saved to the state file (when there is one) before it is acknowledged.
//
// Saves are grouped: writes that arrive while a save runs are applied in
// memory and saved together by the next one, and each returns only once
// the save that holds it has. Reads, too, return only once every write they
// could have seen is saved, so that nothing is answered that a crash could
// take back.
package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// stateVersion is written into state files so that a later, incompatible
// layout is refused instead of misread.
const stateVersion = 1

// TimeFormat is RFC 3339 with milliseconds, the form the real API uses for
// createdAt and updatedAt.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// HostIDKey is the key the server adds to a device's data on first
// registration. Clients must ignore keys under the "smallstep:" prefix when
// they compare data, and the simulator adds it so that they have to.
const HostIDKey = "smallstep:host:id"

// Object is a JSON object as decoded from a request body.
type Object = map[string]any

// Device is one instance of a device collection, in the shape of the API's
// collectionInstance.
type Device struct {
	ID        string `json:"id"`
	Data      Object `json:"data"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// Authority is one of the team's certificate authorities. Only the root
// certificate is kept (no private key): it is all the API ever returns, and
// keeping it keeps the fingerprint stable across restarts.
type Authority struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Domain    string `json:"domain"`
	Type      string `json:"type"`
	Root      string `json:"root"`
	CreatedAt string `json:"createdAt"`
}

// Collection is a device collection together with what it owns: its
// workloads and the devices of the instance collection of the same slug.
type Collection struct {
	// DeviceCollection is the validated PUT body with server defaults,
	// including fields the API never returns (adminEmails).
	DeviceCollection Object            `json:"deviceCollection"`
	Workloads        map[string]Object `json:"workloads"`
	Devices          map[string]Device `json:"devices"`
	// CreatedAt and UpdatedAt are when the device collection was created
	// and last put, which GET /collections must return. State files
	// written before they were kept get the time they are loaded.
	CreatedAt string `json:"createdAt,omitempty"`
	UpdatedAt string `json:"updatedAt,omitempty"`
}

// State is everything the simulator knows; it is also the layout of the
// state file and of the /_sim/state dump.
type State struct {
	Version     int                    `json:"version"`
	Team        string                 `json:"team"`
	Authorities []Authority            `json:"authorities"`
	Collections map[string]*Collection `json:"collections"`
}

// Options configure Open.
type Options struct {
	// Path is the state file; empty keeps the state in memory only.
	Path string
	// Team is the team the state belongs to; a state file of another team
	// is refused rather than mixed with this one.
	Team string
	// Now is the clock for createdAt and updatedAt; nil means time.Now.
	Now func() time.Time
}

// Store is the simulator's state behind one mutex.
type Store struct {
	mu sync.Mutex
	// saveDone is broadcast (with mu) whenever a save ends.
	saveDone *sync.Cond
	// saving is set while a save writes the file with mu released; inflight
	// is the batch it saves. pending collects the writes applied since, for
	// the next save.
	saving   bool
	inflight *batch
	pending  *batch

	path string
	// writeFile is WriteFileAtomic; tests replace it to hold or fail a save.
	writeFile func(path string, data []byte) error
	now       func() time.Time
	state     State
	// saved is the last state written to path; a failed save restores it so
	// that memory never runs ahead of the file.
	saved []byte
	// devEnc caches each device's encoding in the state file by collection
	// slug and device ID, so that a save re-encodes only the devices that
	// changed. Every change to a device must drop its entry (forgetDevice).
	devEnc map[string]*deviceCache
}

// Open loads the state file named in opts (a missing file is an empty
// state) and returns the store.
func Open(opts Options) (*Store, error) {
	s := &Store{path: opts.Path, writeFile: WriteFileAtomic, now: opts.Now, devEnc: map[string]*deviceCache{}}
	s.saveDone = sync.NewCond(&s.mu)
	if s.now == nil {
		s.now = time.Now
	}
	s.state = State{Version: stateVersion, Team: opts.Team, Collections: map[string]*Collection{}}
	if opts.Path == "" {
		return s, nil
	}
	removeStaleTemps(opts.Path)
	data, err := os.ReadFile(opts.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		data, err = json.Marshal(s.state)
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("read state file: %w", err)
	default:
		st, err := decodeState(data)
		if err != nil {
			return nil, fmt.Errorf("state file %s: %w", opts.Path, err)
		}
		if st.Team != opts.Team {
			return nil, fmt.Errorf("state file %s belongs to team %q, not %q: pass --team %s or use another state file",
				opts.Path, st.Team, opts.Team, st.Team)
		}
		stampUndated(st, s.now().UTC().Format(TimeFormat))
		s.state = st
	}
	s.saved = data
	return s, nil
}

// removeStaleTemps removes the temporary files of saves that a killed
// simulator left half-written; the state file itself is never one of them.
func removeStaleTemps(path string) {
	dir := filepath.Dir(path)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix(path)) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// tempPrefix starts the names of WriteFileAtomic's temporary files.
func tempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp-"
}

func decodeState(data []byte) (State, error) {
	var st State
	dec := json.NewDecoder(bytes.NewReader(data))
	// Numbers stay json.Number so that device data round-trips exactly.
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil {
		return State{}, fmt.Errorf("not valid JSON: %w", err)
	}
	if st.Version != stateVersion {
		return State{}, fmt.Errorf("unsupported state version %d (want %d)", st.Version, stateVersion)
	}
	if st.Collections == nil {
		st.Collections = map[string]*Collection{}
	}
	for slug, c := range st.Collections {
		if c == nil || c.DeviceCollection == nil {
			return State{}, fmt.Errorf("collection %q has no deviceCollection", slug)
		}
		if c.Workloads == nil {
			c.Workloads = map[string]Object{}
		}
		if c.Devices == nil {
			c.Devices = map[string]Device{}
		}
	}
	return st, nil
}

// stampUndated gives the collections of an older state file, which kept
// no timestamps, the time now: the API's collection always has both.
func stampUndated(st State, now string) {
	for _, c := range st.Collections {
		if c.CreatedAt == "" {
			c.CreatedAt = now
		}
		if c.UpdatedAt == "" {
			c.UpdatedAt = c.CreatedAt
		}
	}
}

// batch is a group of writes saved together; each of their writers waits
// for done and returns err.
type batch struct {
	done bool
	err  error
}

// read runs fn under the lock and returns once what fn saw is saved.
func (s *Store) read(fn func(st *State) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		err := fn(&s.state)
		if s.settle() {
			return err
		}
		// fn saw writes that were then rolled back: look again.
	}
}

// write runs fn under the lock and returns once the result is saved. fn
// must check everything before it changes anything: its error means
// "nothing changed".
func (s *Store) write(fn func(st *State) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := fn(&s.state); err != nil {
			if s.settle() {
				return err
			}
			// The refusal rested on writes that were rolled back.
			continue
		}
		if s.path == "" {
			return nil
		}
		if s.pending == nil {
			s.pending = &batch{}
		}
		return s.await(s.pending)
	}
}

// settle waits until every write applied so far is saved or rolled back
// and reports whether they were saved. mu is held.
func (s *Store) settle() bool {
	b := s.pending
	if b == nil {
		b = s.inflight
	}
	return b == nil || s.await(b) == nil
}

// await waits until b is saved or failed and returns its error; when no
// save runs, it runs the one that saves b. mu is held.
func (s *Store) await(b *batch) error {
	for !b.done {
		if s.saving {
			s.saveDone.Wait()
			continue
		}
		// No save runs and b is not done, so b is still the pending batch.
		s.save()
	}
	return b.err
}

// save writes the state, with every pending write, to the file. mu is held
// on entry and on return but released while the file is written, so that
// writes arriving meanwhile gather into the next batch.
func (s *Store) save() {
	b := s.pending
	s.pending = nil
	s.saving, s.inflight = true, b
	data, err := s.encode()
	if err == nil {
		s.mu.Unlock()
		err = s.writeFile(s.path, data)
		s.mu.Lock()
	}
	s.saving, s.inflight = false, nil
	if err == nil {
		s.saved = data
	} else {
		// Memory must never run ahead of the file: go back to the last save.
		// That also undoes the writes applied during this one, so they fail
		// with it.
		if prev, derr := decodeState(s.saved); derr == nil {
			s.state = prev
		}
		s.devEnc = map[string]*deviceCache{}
		perr := &Error{kind: ErrPersist, msg: fmt.Sprintf("save state file: %v; the change was rolled back", err)}
		if s.pending != nil {
			s.pending.done, s.pending.err = true, perr
			s.pending = nil
		}
		b.err = perr
	}
	b.done = true
	s.saveDone.Broadcast()
}

// WriteFileAtomic replaces path with data (mode 0600) so that a reader, or
// a crash, sees either the old file or the new one and never a mix: it
// writes a temporary file in the same directory, fsyncs it, renames it over
// path and fsyncs the directory.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// The rename is durable only once the directory is; some filesystems
	// cannot fsync a directory, and the rename has happened regardless.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Errors returned by the store; match them with errors.Is. The error's text
// is a message fit for the API's {"message": ...} body.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrNotEmpty = errors.New("not empty")
	ErrPersist  = errors.New("state not saved")
)

// Error is a store failure of one of the kinds above with a message that
// names the object involved.
type Error struct {
	kind error
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.kind }

func fail(kind error, format string, args ...any) error {
	return &Error{kind: kind, msg: fmt.Sprintf(format, args...)}
}
