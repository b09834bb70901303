package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := Open(Options{Path: path, Team: "demo"})
	require.NoError(t, err)
	return s, path
}

func collectionBody(deviceType string) Object {
	return Object{"slug": "c", "deviceType": deviceType}
}

func TestMissingStateFileIsEmpty(t *testing.T) {
	s, path := openTemp(t)
	require.Empty(t, s.Snapshot().Collections)
	require.Empty(t, s.Authorities())
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "opening does not write")
}

func TestSaveRoundTrip(t *testing.T) {
	s, path := openTemp(t)
	require.NoError(t, s.EnsureAuthorities(func() ([]Authority, error) {
		return []Authority{{ID: "a1", Name: "demo agents", Root: "PEM"}}, nil
	}))
	_, err := s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	_, err = s.PutWorkload("c", "w", Object{"slug": "w", "mode": json.Number("256")})
	require.NoError(t, err)
	dev, err := s.PutDevice("c", "urn:ek:sha256:a/b+c=", Object{"n": json.Number("12345678901234567890")})
	require.NoError(t, err)

	loaded, err := Open(Options{Path: path, Team: "demo"})
	require.NoError(t, err)
	require.Equal(t, s.Snapshot(), loaded.Snapshot())
	got, err := loaded.GetDevice("c", "urn:ek:sha256:a/b+c=")
	require.NoError(t, err)
	require.Equal(t, dev, got)
	require.Equal(t, json.Number("12345678901234567890"), got.Data["n"], "numbers are not rounded through float64")

	// Authorities are generated once; a loaded state keeps its own.
	require.NoError(t, loaded.EnsureAuthorities(func() ([]Authority, error) {
		return nil, errors.New("must not be called")
	}))
	require.Equal(t, "a1", loaded.Authorities()[0].ID)
}

func TestSaveLeavesNoTemporaryFiles(t *testing.T) {
	s, path := openTemp(t)
	for i := 0; i < 5; i++ {
		_, err := s.PutDeviceCollection(fmt.Sprintf("c%d", i), collectionBody("tpm"))
		require.NoError(t, err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "state.json", entries[0].Name())
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestFailedSaveRollsBack(t *testing.T) {
	s, path := openTemp(t)
	_, err := s.PutDeviceCollection("kept", collectionBody("tpm"))
	require.NoError(t, err)

	// A directory where the file should be: the rename fails after the
	// temporary file is written.
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Mkdir(path, 0o700))

	_, err = s.PutDeviceCollection("lost", collectionBody("tpm"))
	require.ErrorIs(t, err, ErrPersist)
	require.Contains(t, err.Error(), "rolled back")

	_, err = s.GetDeviceCollection("lost")
	require.ErrorIs(t, err, ErrNotFound, "memory never runs ahead of the file")
	_, err = s.GetDeviceCollection("kept")
	require.NoError(t, err)

	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "the temporary file is removed")
}

func TestOpenRefusesBadStateFiles(t *testing.T) {
	for name, tc := range map[string]struct{ content, want string }{
		"not JSON":      {"{", "not valid JSON"},
		"empty":         {"", "not valid JSON"},
		"wrong version": {`{"version":2,"team":"demo"}`, "unsupported state version 2"},
		"other team":    {`{"version":1,"team":"acme"}`, `belongs to team "acme"`},
		"no collection": {`{"version":1,"team":"demo","collections":{"c":{}}}`, `collection "c" has no deviceCollection`},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			_, err := Open(Options{Path: path, Team: "demo"})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestDeviceTypeConflict(t *testing.T) {
	s, _ := openTemp(t)
	_, err := s.PutDeviceCollection("c", collectionBody("aws-vm"))
	require.NoError(t, err)
	_, err = s.PutDeviceCollection("c", collectionBody("gcp-vm"))
	require.ErrorIs(t, err, ErrConflict)
	got, err := s.GetDeviceCollection("c")
	require.NoError(t, err)
	require.Equal(t, "aws-vm", got["deviceType"])
}

func TestReturnedObjectsAreCopies(t *testing.T) {
	s, _ := openTemp(t)
	body := Object{"slug": "c", "deviceType": "tpm", "cfg": Object{"a": []any{"x"}}}
	out, err := s.PutDeviceCollection("c", body)
	require.NoError(t, err)
	body["slug"] = "changed by caller"
	out["cfg"].(Object)["a"].([]any)[0] = "changed too"

	got, err := s.GetDeviceCollection("c")
	require.NoError(t, err)
	require.Equal(t, "c", got["slug"])
	require.Equal(t, "x", got["cfg"].(Object)["a"].([]any)[0])
}

func TestListDevicesPages(t *testing.T) {
	s, _ := openTemp(t)
	_, err := s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	for _, id := range []string{"d", "b", "e", "a", "c"} {
		_, err := s.PutDevice("c", id, Object{})
		require.NoError(t, err)
	}
	ids := func(ds []Device) []string {
		out := []string{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	for _, tc := range []struct {
		after string
		first int
		want  []string
		more  bool
	}{
		{"", 2, []string{"a", "b"}, true},
		{"b", 2, []string{"c", "d"}, true},
		{"d", 2, []string{"e"}, false},
		{"", 5, []string{"a", "b", "c", "d", "e"}, false},
		{"bb", 1, []string{"c"}, true}, // a deleted cursor device still pages on
		{"e", 3, []string{}, false},
	} {
		page, more, err := s.ListDevices("c", tc.after, tc.first)
		require.NoError(t, err)
		require.Equal(t, tc.want, ids(page), "after %q first %d", tc.after, tc.first)
		require.Equal(t, tc.more, more, "after %q first %d", tc.after, tc.first)
	}
	_, _, err = s.ListDevices("missing", "", 1)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestListCollectionsPages(t *testing.T) {
	s, _ := openTemp(t)
	for _, slug := range []string{"d", "b", "e", "a", "c"} {
		_, err := s.PutDeviceCollection(slug, Object{"slug": slug, "displayName": "Name " + slug, "deviceType": "tpm"})
		require.NoError(t, err)
	}
	for _, id := range []string{"x", "y"} {
		_, err := s.PutDevice("b", id, Object{})
		require.NoError(t, err)
	}
	slugs := func(cs []CollectionSummary) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Slug)
		}
		return out
	}
	for _, tc := range []struct {
		after string
		first int
		want  []string
		more  bool
	}{
		{"", 2, []string{"a", "b"}, true},
		{"b", 2, []string{"c", "d"}, true},
		{"d", 2, []string{"e"}, false},
		{"", 5, []string{"a", "b", "c", "d", "e"}, false},
		{"bb", 1, []string{"c"}, true}, // a deleted cursor collection still pages on
		{"e", 3, []string{}, false},
	} {
		page, more := s.ListCollections(tc.after, tc.first)
		require.Equal(t, tc.want, slugs(page), "after %q first %d", tc.after, tc.first)
		require.Equal(t, tc.more, more, "after %q first %d", tc.after, tc.first)
	}
	page, _ := s.ListCollections("a", 1)
	require.Equal(t, "Name b", page[0].DisplayName)
	require.Equal(t, 2, page[0].InstanceCount, "the devices of the collection")
	require.NotEmpty(t, page[0].CreatedAt)
	require.Equal(t, page[0].CreatedAt, page[0].UpdatedAt)
}

func TestCollectionTimestamps(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := Open(Options{Path: path, Team: "demo", Now: func() time.Time { return clock }})
	require.NoError(t, err)
	_, err = s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	clock = clock.Add(time.Hour)
	_, err = s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	c := s.Snapshot().Collections["c"]
	require.Equal(t, "2026-01-02T03:04:05.000Z", c.CreatedAt, "a replacement keeps createdAt")
	require.Equal(t, "2026-01-02T04:04:05.000Z", c.UpdatedAt)

	// A state file from before the timestamps were kept gets the time it
	// is loaded, since the API's collection always has both.
	old := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(old, []byte(`{"version":1,"team":"demo","collections":{"c":{"deviceCollection":{"slug":"c"}}}}`), 0o600))
	loaded, err := Open(Options{Path: old, Team: "demo", Now: func() time.Time { return clock }})
	require.NoError(t, err)
	page, _ := loaded.ListCollections("", 1)
	require.Equal(t, []CollectionSummary{{Slug: "c", CreatedAt: "2026-01-02T04:04:05.000Z", UpdatedAt: "2026-01-02T04:04:05.000Z"}}, page)
}

func TestPurgeRemovesEverything(t *testing.T) {
	s, _ := openTemp(t)
	_, err := s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	_, err = s.PutDevice("c", "d", Object{})
	require.NoError(t, err)

	require.ErrorIs(t, s.DeleteDeviceCollection("c", false), ErrNotEmpty)
	require.NoError(t, s.DeleteDeviceCollection("c", true))
	require.ErrorIs(t, s.DeleteDeviceCollection("c", true), ErrNotFound)
	_, err = s.GetDevice("c", "d")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestNewIDIsVersion4UUID(t *testing.T) {
	a, b := NewID(), NewID()
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a)
	require.NotEqual(t, a, b)
}
