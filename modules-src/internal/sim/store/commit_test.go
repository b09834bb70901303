package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// heldSaves makes the store's saves wait for the test: each save reports
// on entered and then waits for a result on release (nil writes the file).
type heldSaves struct {
	entered chan struct{}
	release chan error
	mu      sync.Mutex
	calls   int
}

func holdSaves(s *Store) *heldSaves {
	h := &heldSaves{entered: make(chan struct{}, 10), release: make(chan error)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeFile = func(path string, data []byte) error {
		h.mu.Lock()
		h.calls++
		h.mu.Unlock()
		h.entered <- struct{}{}
		if err := <-h.release; err != nil {
			return err
		}
		return WriteFileAtomic(path, data)
	}
	return h
}

func (h *heldSaves) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// devicesInMemory counts c's devices, saved or not.
func devicesInMemory(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.state.Collections["c"].Devices)
}

// startGroup puts d1 and holds its save, then puts d2 and d3 while it is
// held and starts a read of d2; it returns their results as they come.
func startGroup(t *testing.T, s *Store, h *heldSaves) (first chan error, during chan error, read chan error) {
	t.Helper()
	first, during, read = make(chan error, 1), make(chan error, 2), make(chan error, 1)
	go func() { _, err := s.PutDevice("c", "d1", Object{}); first <- err }()
	<-h.entered
	for _, id := range []string{"d2", "d3"} {
		go func() { _, err := s.PutDevice("c", id, Object{}); during <- err }()
	}
	require.Eventually(t, func() bool { return devicesInMemory(s) == 3 }, 5*time.Second, time.Millisecond,
		"the writes during the save are applied in memory")
	go func() { _, err := s.GetDevice("c", "d2"); read <- err }()
	select {
	case err := <-during:
		t.Fatalf("a write returned before any save could hold it: %v", err)
	case err := <-read:
		t.Fatalf("a read of an unsaved write returned: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	return first, during, read
}

func TestWritesDuringASaveAreSavedTogether(t *testing.T) {
	s, path := openTemp(t)
	_, err := s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	h := holdSaves(s)

	first, during, read := startGroup(t, s, h)
	h.release <- nil
	require.NoError(t, <-first)
	<-h.entered // the second save, with both writes that came meanwhile
	h.release <- nil
	require.NoError(t, <-during)
	require.NoError(t, <-during)
	require.NoError(t, <-read)
	require.Equal(t, 2, h.count(), "three writes, two saves")

	loaded, err := Open(Options{Path: path, Team: "demo"})
	require.NoError(t, err)
	require.Len(t, loaded.Snapshot().Collections["c"].Devices, 3)
}

func TestFailedSaveFailsTheWritesThatCameDuringIt(t *testing.T) {
	s, path := openTemp(t)
	_, err := s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	h := holdSaves(s)

	first, during, read := startGroup(t, s, h)
	h.release <- errors.New("disk full")
	for _, err := range []error{<-first, <-during, <-during} {
		require.ErrorIs(t, err, ErrPersist)
		require.ErrorContains(t, err, "disk full")
	}
	require.ErrorIs(t, <-read, ErrNotFound, "the read looks again after the rollback")
	require.Equal(t, 0, devicesInMemory(s))
	require.Equal(t, 1, h.count(), "the writes that came during the failed save are not saved on their own")

	loaded, err := Open(Options{Path: path, Team: "demo"})
	require.NoError(t, err)
	require.Empty(t, loaded.Snapshot().Collections["c"].Devices)
}

func TestOpenRemovesTemporaryFilesOfKilledSaves(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for name, content := range map[string]string{
		".state.json.tmp-123": `{"half`,
		".other.json.tmp-1":   "not ours",
		"state.json.bak":      "not ours",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	_, err := Open(Options{Path: path, Team: "demo"})
	require.NoError(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{".other.json.tmp-1", "state.json.bak"}, names)
}

func TestConcurrentWritesAllSaved(t *testing.T) {
	s, path := openTemp(t)
	_, err := s.PutDeviceCollection("c", collectionBody("tpm"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := s.PutDevice("c", fmt.Sprintf("g%d-%d", g, i), Object{"i": true}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	loaded, err := Open(Options{Path: path, Team: "demo"})
	require.NoError(t, err)
	require.Equal(t, s.Snapshot(), loaded.Snapshot())
	require.Len(t, loaded.Snapshot().Collections["c"].Devices, 200)
}
