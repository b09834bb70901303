// Command load measures the Smallstep API simulator's own throughput and
// latency: a number of clients send requests back to back for a while,
// first PUTs of devices, then GETs of the same devices, and it prints one
// JSON object with the figures of each phase. The API token is read from a
// file so that it never appears in a process's arguments.
//
//	load -url http://127.0.0.1:PORT/api -token-file FILE [-clients 16] [-duration 5s]
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// phase is what one phase measured.
type phase struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	PerSecond  float64 `json:"per_second"`
	P50Millis  float64 `json:"p50_ms"`
	P99Millis  float64 `json:"p99_ms"`
	Clients    int     `json:"clients"`
	DurationMs int64   `json:"duration_ms"`
}

// devicesPerClient is how many distinct devices each client cycles over.
const devicesPerClient = 200

func main() {
	base := flag.String("url", "", "the simulator's API URL, http://127.0.0.1:PORT/api")
	tokenFile := flag.String("token-file", "", "file holding the API token")
	clients := flag.Int("clients", 16, "concurrent clients")
	duration := flag.Duration("duration", 5*time.Second, "how long each phase lasts")
	collection := flag.String("collection", "bench-load", "device collection to create and fill")
	flag.Parse()
	raw, err := os.ReadFile(*tokenFile)
	if err != nil || *base == "" {
		fmt.Fprintln(os.Stderr, "load: give -url and a readable -token-file")
		os.Exit(2)
	}
	token := strings.TrimSpace(string(raw))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients}, Timeout: 30 * time.Second}
	do := func(method, path string, body any) (int, error) {
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(context.Background(), method, *base+path, r)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Smallstep-Api-Version", "2023-03-01")
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if status, err := do(http.MethodPut, "/device-collections/"+*collection, map[string]any{
		"slug": *collection, "displayName": *collection, "deviceType": "tpm", "deviceTypeConfiguration": map[string]any{},
	}); err != nil || status != http.StatusOK {
		fmt.Fprintf(os.Stderr, "load: cannot create the collection: %d %v\n", status, err)
		os.Exit(1)
	}
	path := func(client, i int) string {
		sum := sha256.Sum256([]byte(fmt.Sprintf("load-%d-%d", client, i)))
		id := "urn:ek:sha256:" + base64.StdEncoding.EncodeToString(sum[:])
		return "/collections/" + *collection + "/instances/" + url.PathEscape(id)
	}
	run := func(method string) phase {
		var mu sync.Mutex
		var lat []time.Duration
		errs := 0
		var wg sync.WaitGroup
		start := time.Now()
		stop := start.Add(*duration)
		for c := 0; c < *clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				var mine []time.Duration
				bad := 0
				for i := 0; time.Now().Before(stop); i++ {
					var body any
					if method == http.MethodPut {
						body = map[string]any{"data": map[string]any{"hostname": fmt.Sprintf("load-%d-%d", c, i), "n": i}}
					}
					t0 := time.Now()
					status, err := do(method, path(c, i%devicesPerClient), body)
					mine = append(mine, time.Since(t0))
					if err != nil || status != http.StatusOK {
						bad++
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				errs += bad
				mu.Unlock()
			}(c)
		}
		wg.Wait()
		elapsed := time.Since(start)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
		}
		return phase{Requests: len(lat), Errors: errs, PerSecond: float64(len(lat)) / elapsed.Seconds(),
			P50Millis: pct(0.50), P99Millis: pct(0.99), Clients: *clients, DurationMs: elapsed.Milliseconds()}
	}
	out := map[string]phase{"put": run(http.MethodPut), "get": run(http.MethodGet)}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
