package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/sim/store"
)

// benchServer is a simulator whose state file holds a collection "c" with
// n devices; it is written directly, since n PUTs would each save.
func benchServer(b *testing.B, n int) *Server {
	b.Helper()
	mem, err := store.Open(store.Options{Team: "demo"})
	require.NoError(b, err)
	_, err = mem.PutDeviceCollection("c", store.Object{"slug": "c", "displayName": "c", "deviceType": "aws-vm",
		"deviceTypeConfiguration": store.Object{"accounts": []any{"123456789012"}}})
	require.NoError(b, err)
	for i := 0; i < n; i++ {
		_, err := mem.PutDevice("c", fmt.Sprintf("i-%05d", i), benchDevice(i))
		require.NoError(b, err)
	}
	data, err := json.MarshalIndent(mem.Snapshot(), "", "  ")
	require.NoError(b, err)
	path := filepath.Join(b.TempDir(), "state.json")
	require.NoError(b, os.WriteFile(path, data, 0o600))
	srv, err := New(Config{Token: testToken, StatePath: path})
	require.NoError(b, err)
	return srv
}

// benchDevice is device data of a typical size.
func benchDevice(i int) store.Object {
	return store.Object{"name": fmt.Sprintf("host-%05d.example.com", i), "os": "linux", "platform": "ubuntu 24.04",
		"tags": []any{"web", "eu-central-1"}, "serial": json.Number(fmt.Sprint(i))}
}

func benchPut(b *testing.B, srv *Server, i, n int) {
	data, _ := json.Marshal(map[string]any{"data": benchDevice(-i)})
	req := httptest.NewRequest(http.MethodPut, fmt.Sprintf("%s/collections/c/instances/i-%05d", BasePath, i%n), strings.NewReader(string(data)))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("PUT: %d %s", rec.Code, rec.Body)
	}
}

// BenchmarkPutDevice is the cost of one acknowledged PUT of a device, state
// file saved, with n devices present: the time a client waits.
func BenchmarkPutDevice(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			srv := benchServer(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				benchPut(b, srv, i, n)
			}
		})
	}
}

// BenchmarkPutDeviceParallel is the same from 20 clients at once (forks=20
// in ansible-playbook): grouped saves share their cost between the writes.
func BenchmarkPutDeviceParallel(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			srv := benchServer(b, n)
			var next atomic.Int64
			b.SetParallelism(10) // times GOMAXPROCS: 20 on two CPUs
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchPut(b, srv, int(next.Add(1)), n)
				}
			})
		})
	}
}
