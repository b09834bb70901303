package store

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireEncodesFaithfully checks that the cached encoding is the one a
// store without a cache writes for the same state, that the file holds it,
// and that it decodes to the state.
func requireEncodesFaithfully(t *testing.T, s *Store, path, step string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	got, err := s.encode()
	require.NoError(t, err)
	uncached := &Store{state: s.state, devEnc: map[string]*deviceCache{}}
	want, err := uncached.encode()
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "after %s", step)

	var generic, wantGeneric any
	require.NoError(t, json.Unmarshal(got, &generic), "after %s: %s", step, got)
	plain, err := json.Marshal(s.state)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(plain, &wantGeneric))
	require.Equal(t, wantGeneric, generic, "after %s", step)
	if s.state.Collections != nil {
		// Numbers and all: decoding gives the state back.
		back, err := decodeState(got)
		require.NoError(t, err)
		require.Equal(t, snapshot(&s.state), snapshot(&back), "after %s", step)
	}
	if path != "" {
		file, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(want), string(file), "state file after %s", step)
	}
}

func TestEncodeWithCacheIsFaithful(t *testing.T) {
	s, path := openTemp(t)
	requireEncodesFaithfully(t, s, "", "open")

	// Keys and values encoding/json escapes: quotes, HTML characters,
	// control characters, non-ASCII and line separators.
	odd := []string{`a"b`, "<&>", "tab\there", "ünï 🙂", "line\u2028sep", "urn:ek:sha256:ab/c+d="}
	steps := []struct {
		name string
		op   func() error
	}{
		{"authorities", func() error {
			return s.EnsureAuthorities(func() ([]Authority, error) {
				return []Authority{{ID: "a", Name: "<demo>", Root: "-----BEGIN-----\n"}}, nil
			})
		}},
		{"empty collection", func() error { _, err := s.PutDeviceCollection("c", collectionBody("tpm")); return err }},
		{"second collection", func() error {
			_, err := s.PutDeviceCollection("<&>", Object{"slug": "<&>", "deviceType": "tpm", "list": []any{}, "nested": Object{}})
			return err
		}},
		{"workload", func() error {
			_, err := s.PutWorkload("c", "w", Object{"n": json.Number("1.50"), "null": nil})
			return err
		}},
	}
	for i, id := range odd {
		steps = append(steps, struct {
			name string
			op   func() error
		}{fmt.Sprintf("device %q", id), func() error {
			_, err := s.PutDevice("c", id, Object{"i": json.Number(fmt.Sprint(i)), id: []any{id, true, nil}})
			return err
		}})
	}
	steps = append(steps, []struct {
		name string
		op   func() error
	}{
		{"replace a device", func() error { _, err := s.PutDevice("c", "<&>", Object{"changed": true}); return err }},
		{"delete a device", func() error { return s.DeleteDevice("c", "ünï 🙂") }},
		{"device in the second collection", func() error { _, err := s.PutDevice("<&>", "d", Object{}); return err }},
		{"purge the second collection", func() error { return s.DeleteDeviceCollection("<&>", true) }},
		{"recreate it", func() error { _, err := s.PutDeviceCollection("<&>", collectionBody("tpm")); return err }},
		{"a device in it again", func() error { _, err := s.PutDevice("<&>", "d", Object{"again": true}); return err }},
	}...)
	for _, step := range steps {
		require.NoError(t, step.op(), step.name)
		requireEncodesFaithfully(t, s, path, step.name)
	}

	// A failed save rolls back to the file, and the cache with it.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Mkdir(path, 0o700))
	_, err := s.PutDevice("c", "<&>", Object{"lost": true})
	require.ErrorIs(t, err, ErrPersist)
	require.NoError(t, os.Remove(path))
	_, err = s.PutDevice("c", "other", Object{})
	require.NoError(t, err)
	requireEncodesFaithfully(t, s, path, "rollback")
	dev, err := s.GetDevice("c", "<&>")
	require.NoError(t, err)
	require.Equal(t, Object{"changed": true, HostIDKey: dev.Data[HostIDKey]}, dev.Data)
}

func TestEncodeEmptyAndNilCollections(t *testing.T) {
	for name, cols := range map[string]map[string]*Collection{
		"nil":             nil,
		"empty":           {},
		"nil maps inside": {"c": {DeviceCollection: Object{"slug": "c"}}},
	} {
		t.Run(name, func(t *testing.T) {
			s := &Store{devEnc: map[string]*deviceCache{}, state: State{Version: stateVersion, Team: "t", Collections: cols}}
			requireEncodesFaithfully(t, s, "", name)
		})
	}
}

func TestEncodeLayout(t *testing.T) {
	s := &Store{devEnc: map[string]*deviceCache{}, state: State{Version: stateVersion, Team: "t", Collections: map[string]*Collection{
		"c": {DeviceCollection: Object{"slug": "c"}, Workloads: map[string]Object{}, Devices: map[string]Device{
			"b": {ID: "b", Data: Object{"k": "v"}, CreatedAt: "t0", UpdatedAt: "t1"},
			"a": {ID: "a", Data: Object{}, CreatedAt: "t0", UpdatedAt: "t0"},
		}, CreatedAt: "t0", UpdatedAt: "t1"},
	}}}
	got, err := s.encode()
	require.NoError(t, err)
	require.Equal(t, `{
  "version": 1,
  "team": "t",
  "authorities": null,
  "collections": {
    "c": {
      "deviceCollection": {
        "slug": "c"
      },
      "workloads": {},
      "devices": {
        "a": {"id":"a","data":{},"createdAt":"t0","updatedAt":"t0"},
        "b": {"id":"b","data":{"k":"v"},"createdAt":"t0","updatedAt":"t1"}
      },
      "createdAt": "t0",
      "updatedAt": "t1"
    }
  }
}`, string(got))
}
