package store

import (
	"crypto/rand"
	"fmt"
	"sort"
)

// NewID returns a random (version 4) UUID, the form the API uses for IDs.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Team returns the team the state belongs to.
func (s *Store) Team() string {
	var team string
	_ = s.read(func(st *State) error {
		team = st.Team
		return nil
	})
	return team
}

// EnsureAuthorities calls generate and saves its result when the state has
// no authorities yet; a loaded state keeps its roots and fingerprints.
func (s *Store) EnsureAuthorities(generate func() ([]Authority, error)) error {
	return s.write(func(st *State) error {
		if len(st.Authorities) > 0 {
			return nil
		}
		auths, err := generate()
		if err != nil {
			return err
		}
		st.Authorities = auths
		return nil
	})
}

// Authorities returns the team's authorities in a stable order.
func (s *Store) Authorities() []Authority {
	var out []Authority
	_ = s.read(func(st *State) error {
		out = append([]Authority(nil), st.Authorities...)
		return nil
	})
	return out
}

// Snapshot returns a deep copy of the whole state.
func (s *Store) Snapshot() State {
	var out State
	_ = s.read(func(st *State) error {
		out = snapshot(st)
		return nil
	})
	return out
}

func snapshot(st *State) State {
	out := State{
		Version:     st.Version,
		Team:        st.Team,
		Authorities: append([]Authority(nil), st.Authorities...),
		Collections: make(map[string]*Collection, len(st.Collections)),
	}
	for slug, c := range st.Collections {
		cc := &Collection{
			DeviceCollection: copyObject(c.DeviceCollection),
			Workloads:        make(map[string]Object, len(c.Workloads)),
			Devices:          make(map[string]Device, len(c.Devices)),
			CreatedAt:        c.CreatedAt,
			UpdatedAt:        c.UpdatedAt,
		}
		for k, w := range c.Workloads {
			cc.Workloads[k] = copyObject(w)
		}
		for k, d := range c.Devices {
			cc.Devices[k] = copyDevice(d)
		}
		out.Collections[slug] = cc
	}
	return out
}

func collection(st *State, slug string) (*Collection, error) {
	c, ok := st.Collections[slug]
	if !ok {
		return nil, fail(ErrNotFound, "device collection %q not found", slug)
	}
	return c, nil
}

// GetDeviceCollection returns the stored device collection.
func (s *Store) GetDeviceCollection(slug string) (Object, error) {
	var out Object
	err := s.read(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		out = copyObject(c.DeviceCollection)
		return nil
	})
	return out, err
}

// PutDeviceCollection creates the device collection or replaces its body,
// keeping its workloads, devices and createdAt. The deviceType of an existing
// collection cannot change (ErrConflict): its devices were registered under
// the old type's identity.
func (s *Store) PutDeviceCollection(slug string, body Object) (Object, error) {
	body = copyObject(body)
	err := s.write(func(st *State) error {
		stamp := s.now().UTC().Format(TimeFormat)
		c, ok := st.Collections[slug]
		if !ok {
			st.Collections[slug] = &Collection{
				DeviceCollection: body,
				Workloads:        map[string]Object{},
				Devices:          map[string]Device{},
				CreatedAt:        stamp,
				UpdatedAt:        stamp,
			}
			return nil
		}
		if was, now := c.DeviceCollection["deviceType"], body["deviceType"]; was != now {
			return fail(ErrConflict, "device collection %q has deviceType %v, which cannot be changed to %v; delete the collection (with ?purge=true) and create it again",
				slug, was, now)
		}
		c.DeviceCollection = body
		c.UpdatedAt = stamp
		return nil
	})
	if err != nil {
		return nil, err
	}
	return copyObject(body), nil
}

// DeleteDeviceCollection removes the device collection. A collection that
// still holds workloads or devices is removed only when purge is set
// (otherwise ErrNotEmpty), and then together with them.
func (s *Store) DeleteDeviceCollection(slug string, purge bool) error {
	return s.write(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		if !purge && (len(c.Workloads) > 0 || len(c.Devices) > 0) {
			return fail(ErrNotEmpty, "device collection %q still holds %d devices and %d workloads; delete them first or pass ?purge=true",
				slug, len(c.Devices), len(c.Workloads))
		}
		delete(st.Collections, slug)
		delete(s.devEnc, slug)
		return nil
	})
}

// GetWorkload returns one workload of a device collection.
func (s *Store) GetWorkload(slug, workload string) (Object, error) {
	var out Object
	err := s.read(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		w, ok := c.Workloads[workload]
		if !ok {
			return fail(ErrNotFound, "workload %q not found in device collection %q", workload, slug)
		}
		out = copyObject(w)
		return nil
	})
	return out, err
}

// PutWorkload creates or replaces a workload of an existing device
// collection.
func (s *Store) PutWorkload(slug, workload string, body Object) (Object, error) {
	body = copyObject(body)
	err := s.write(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		c.Workloads[workload] = body
		return nil
	})
	if err != nil {
		return nil, err
	}
	return copyObject(body), nil
}

// DeleteWorkload removes a workload.
func (s *Store) DeleteWorkload(slug, workload string) error {
	return s.write(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		if _, ok := c.Workloads[workload]; !ok {
			return fail(ErrNotFound, "workload %q not found in device collection %q", workload, slug)
		}
		delete(c.Workloads, workload)
		return nil
	})
}

// GetDevice returns one device of the collection.
func (s *Store) GetDevice(slug, id string) (Device, error) {
	var out Device
	err := s.read(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		d, ok := c.Devices[id]
		if !ok {
			return fail(ErrNotFound, "instance %q not found in collection %q", id, slug)
		}
		out = copyDevice(d)
		return nil
	})
	return out, err
}

// PutDevice registers a device or replaces its data. Like the real server
// it adds HostIDKey to data on first registration and keeps that value on
// later replacements whatever the client sends; createdAt is kept too.
func (s *Store) PutDevice(slug, id string, data Object) (Device, error) {
	data = copyObject(data)
	var out Device
	err := s.write(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		now := s.now().UTC().Format(TimeFormat)
		d, ok := c.Devices[id]
		if !ok {
			d = Device{ID: id, CreatedAt: now}
			data[HostIDKey] = NewID()
		} else {
			data[HostIDKey] = d.Data[HostIDKey]
		}
		d.Data = data
		d.UpdatedAt = now
		c.Devices[id] = d
		s.forgetDevice(slug, id, !ok)
		out = copyDevice(d)
		return nil
	})
	return out, err
}

// DeleteDevice removes a device from the collection.
func (s *Store) DeleteDevice(slug, id string) error {
	return s.write(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		if _, ok := c.Devices[id]; !ok {
			return fail(ErrNotFound, "instance %q not found in collection %q", id, slug)
		}
		delete(c.Devices, id)
		s.forgetDevice(slug, id, true)
		return nil
	})
}

// ListDevices returns up to first devices whose IDs sort after the ID
// after ("" starts at the beginning), and whether more follow. Ordering by
// ID keeps paging stable while devices are added or removed between pages.
func (s *Store) ListDevices(slug, after string, first int) ([]Device, bool, error) {
	var (
		page []Device
		more bool
	)
	err := s.read(func(st *State) error {
		c, err := collection(st, slug)
		if err != nil {
			return err
		}
		var ids []string
		ids, more = pageOf(sortedKeys(c.Devices), after, first)
		page = make([]Device, 0, len(ids))
		for _, id := range ids {
			page = append(page, copyDevice(c.Devices[id]))
		}
		return nil
	})
	return page, more, err
}

// CollectionSummary is a collection as GET /collections lists it. Every
// device collection has the collection of its devices under the same slug,
// and the simulator has no other collections.
type CollectionSummary struct {
	Slug          string `json:"slug"`
	DisplayName   string `json:"displayName"`
	InstanceCount int    `json:"instanceCount"`
	CreatedAt     string `json:"createdAt"`
	UpdatedAt     string `json:"updatedAt"`
}

// ListCollections returns up to first collections whose slugs sort after
// after ("" starts at the beginning), and whether more follow; ordered by
// slug, as ListDevices orders by ID, so that paging stays stable.
func (s *Store) ListCollections(after string, first int) ([]CollectionSummary, bool) {
	var (
		page []CollectionSummary
		more bool
	)
	_ = s.read(func(st *State) error {
		var slugs []string
		slugs, more = pageOf(sortedKeys(st.Collections), after, first)
		page = make([]CollectionSummary, 0, len(slugs))
		for _, slug := range slugs {
			c := st.Collections[slug]
			name, _ := c.DeviceCollection["displayName"].(string)
			page = append(page, CollectionSummary{Slug: slug, DisplayName: name, InstanceCount: len(c.Devices),
				CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
		}
		return nil
	})
	return page, more
}

// pageOf returns up to first of the sorted keys that sort after after, and
// whether more follow. after need not be a key: one removed since it was
// handed out as a cursor still pages on from where it stood.
func pageOf(keys []string, after string, first int) ([]string, bool) {
	i := sort.SearchStrings(keys, after)
	if i < len(keys) && keys[i] == after {
		i++
	}
	end := min(i+first, len(keys))
	return keys[i:end], end < len(keys)
}

func copyDevice(d Device) Device {
	d.Data = copyObject(d.Data)
	return d
}

// copyObject deep-copies a decoded JSON object so that callers can never
// change the stored state behind the mutex.
func copyObject(o Object) Object {
	if o == nil {
		return nil
	}
	out := make(Object, len(o))
	for k, v := range o {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyObject(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	default:
		return v
	}
}
