package smallstep

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// FuzzResponses answers the client with arbitrary status codes, headers
// and bodies (proxy error pages, cut JSON, binary junk): it never panics,
// every failure names the request ID, and the token never shows.
func FuzzResponses(f *testing.F) {
	var status atomic.Int32
	var body atomic.Value
	var cursor atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, _ := cursor.Load().(string); c != "" && r.URL.Query().Get("pagination[after]") == "" {
			w.Header().Set("X-Next-Cursor", c)
		}
		w.WriteHeader(int(status.Load()))
		b, _ := body.Load().([]byte)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	p := params(srv.URL)
	c, err := New(p)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"slug":"x"}`}, {200, `[{"id":"a"}]`}, {404, `{"message":"not found"}`},
		{502, `<html><body><h1>502 Bad Gateway</h1></body></html>`}, {500, `{"message":`},
		{401, "Bearer " + token}, {200, "\xff\xfe\x00"}, {422, `{"message":123}`}, {204, ``},
	} {
		f.Add(s.status, []byte(s.body), "next")
	}
	f.Fuzz(func(t *testing.T, st int, b []byte, next string) {
		if st < 200 || st > 599 || st == 429 || st == 502 || st == 503 || st == 504 {
			st = 200 + (st%400+400)%400 // keep it a valid, non-retried status
			if st == 429 || st == 502 || st == 503 || st == 504 {
				st = 500
			}
		}
		status.Store(int32(st))
		body.Store(b)
		cursor.Store(strings.Map(func(r rune) rune {
			if r < 0x21 || r > 0x7e {
				return -1
			}
			return r
		}, next))
		var out map[string]any
		_, err := c.JSON(context.Background(), http.MethodGet, "/x", nil, nil, &out)
		check(t, err)
		err = List(context.Background(), c, "/items", func(page json.RawMessage) error {
			var items []map[string]any
			return json.Unmarshal(page, &items)
		})
		check(t, err)
	})
}

func check(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), token) {
		t.Fatalf("token in error: %v", err)
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.RequestID == "" {
		t.Fatalf("no request ID in %v", err)
	}
}
