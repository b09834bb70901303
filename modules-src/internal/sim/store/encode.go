package store

import (
	"bytes"
	"encoding/json"
	"sort"
)

// Indentation of the state file, as json.MarshalIndent(state, "", "  ")
// writes it down to the devices: the members of a collection sit three
// levels deep and its devices four.
const (
	indent         = "  "
	collectionsPad = indent + indent
	collectionPad  = collectionsPad + indent
	devicePad      = collectionPad + indent
)

// encode returns the state file's content: the state as
// json.MarshalIndent(s.state, "", "  ") writes it, except that each device
// is one compact line, which keeps the file small (a save writes all of
// it) and easy to grep. It is built from the cached encoding of every
// device that has not changed since the last save: re-encoding thousands
// of devices on every write would make each write cost as much as the
// whole state.
func (s *Store) encode() ([]byte, error) {
	st := &s.state
	var b bytes.Buffer
	// The last save is the best guess at this one's size.
	b.Grow(len(s.saved) + 4096)
	b.WriteString("{\n" + indent)
	// Everything above the collections is small: encode it as it comes.
	head, err := json.MarshalIndent(struct {
		Version     int         `json:"version"`
		Team        string      `json:"team"`
		Authorities []Authority `json:"authorities"`
	}{st.Version, st.Team, st.Authorities}, "", indent)
	if err != nil {
		return nil, err
	}
	// Drop the braces around the three members to splice them in.
	head = bytes.TrimSuffix(bytes.TrimPrefix(head, []byte("{\n"+indent)), []byte("\n}"))
	b.Write(head)
	b.WriteString(",\n" + indent + `"collections": `)
	if st.Collections == nil {
		b.WriteString("null\n}")
		return b.Bytes(), nil
	}
	if len(st.Collections) == 0 {
		b.WriteString("{}\n}")
		return b.Bytes(), nil
	}
	b.WriteString("{")
	for i, slug := range sortedKeys(st.Collections) {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n" + collectionsPad)
		if err := writeKey(&b, slug); err != nil {
			return nil, err
		}
		if err := s.encodeCollection(&b, slug, st.Collections[slug]); err != nil {
			return nil, err
		}
	}
	b.WriteString("\n" + indent + "}\n}")
	return b.Bytes(), nil
}

func (s *Store) encodeCollection(b *bytes.Buffer, slug string, c *Collection) error {
	if c == nil {
		b.WriteString("null")
		return nil
	}
	dc, err := json.MarshalIndent(c.DeviceCollection, collectionPad, indent)
	if err != nil {
		return err
	}
	wl, err := json.MarshalIndent(c.Workloads, collectionPad, indent)
	if err != nil {
		return err
	}
	b.WriteString("{\n" + collectionPad + `"deviceCollection": `)
	b.Write(dc)
	b.WriteString(",\n" + collectionPad + `"workloads": `)
	b.Write(wl)
	b.WriteString(",\n" + collectionPad + `"devices": `)
	switch {
	case c.Devices == nil:
		b.WriteString("null")
	case len(c.Devices) == 0:
		b.WriteString("{}")
	default:
		cache := s.devEnc[slug]
		if cache == nil {
			cache = &deviceCache{enc: make(map[string][]byte, len(c.Devices))}
			s.devEnc[slug] = cache
		}
		if cache.ids == nil {
			cache.ids = sortedKeys(c.Devices)
		}
		b.WriteString("{")
		for i, id := range cache.ids {
			if i > 0 {
				b.WriteString(",")
			}
			enc, ok := cache.enc[id]
			if !ok {
				var err error
				if enc, err = encodeDevice(id, c.Devices[id]); err != nil {
					return err
				}
				cache.enc[id] = enc
			}
			b.Write(enc)
		}
		b.WriteString("\n" + collectionPad + "}")
	}
	// In the order of Collection's fields, left out when empty (omitempty).
	for _, f := range []struct{ key, value string }{{"createdAt", c.CreatedAt}, {"updatedAt", c.UpdatedAt}} {
		if f.value == "" {
			continue
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return err
		}
		b.WriteString(",\n" + collectionPad)
		if err := writeKey(b, f.key); err != nil {
			return err
		}
		b.Write(v)
	}
	b.WriteString("\n" + collectionsPad + "}")
	return nil
}

// deviceCache is what encode keeps of one collection's devices between
// saves.
type deviceCache struct {
	// ids are the devices' IDs in order; nil after one came or went.
	ids []string
	// enc holds each device as a member of the devices object: newline,
	// padding, key and compact value.
	enc map[string][]byte
}

// forgetDevice drops the cached encoding of a device that changed;
// added says whether it came or went, which changes the set of IDs.
func (s *Store) forgetDevice(slug, id string, addedOrRemoved bool) {
	c := s.devEnc[slug]
	if c == nil {
		return
	}
	delete(c.enc, id)
	if addedOrRemoved {
		c.ids = nil
	}
}

func encodeDevice(id string, d Device) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("\n" + devicePad)
	if err := writeKey(&b, id); err != nil {
		return nil, err
	}
	v, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	b.Write(v)
	return b.Bytes(), nil
}

// writeKey writes an object key, escaped as encoding/json escapes it.
func writeKey(b *bytes.Buffer, key string) error {
	k, err := json.Marshal(key)
	if err != nil {
		return err
	}
	b.Write(k)
	b.WriteString(": ")
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
