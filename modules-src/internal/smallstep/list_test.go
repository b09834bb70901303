package smallstep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// pagedServer serves /api/items in pages: pages[cursor] is the page asked
// for with pagination[after]=cursor ("" for the first), next[cursor] the
// X-Next-Cursor it answers with.
func pagedServer(t *testing.T, pages map[string]string, next map[string]string) (*httptest.Server, *[]url.Values) {
	t.Helper()
	var mu sync.Mutex
	var queries []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Query())
		mu.Unlock()
		after := r.URL.Query().Get("pagination[after]")
		page, ok := pages[after]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"message":"unknown cursor %s"}`, after)
			return
		}
		if n := next[after]; n != "" {
			w.Header().Set("X-Next-Cursor", n)
		}
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	return srv, &queries
}

func collect(t *testing.T, srvURL string) ([]string, error) {
	t.Helper()
	c, err := New(params(srvURL + "/api"))
	require.NoError(t, err)
	var ids []string
	err = List(context.Background(), c, "/items", func(page json.RawMessage) error {
		var items []struct{ ID string }
		if err := json.Unmarshal(page, &items); err != nil {
			return err
		}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return nil
	})
	return ids, err
}

func TestListFollowsTheCursorAndStops(t *testing.T) {
	srv, queries := pagedServer(t,
		map[string]string{"": `[{"id":"a"},{"id":"b"}]`, "c1": `[{"id":"c"}]`, "c2": `[{"id":"d"}]`},
		map[string]string{"": "c1", "c1": "c2"})
	ids, err := collect(t, srv.URL)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c", "d"}, ids)
	require.Len(t, *queries, 3, "one request per page, none after the page without a cursor")
	for i, after := range []string{"", "c1", "c2"} {
		q := (*queries)[i]
		require.Equal(t, "1000", q.Get("pagination[first]"))
		require.Equal(t, after, q.Get("pagination[after]"))
		require.Equal(t, after != "", q.Has("pagination[after]"), "the first page has no cursor")
	}
}

func TestListStopsOnARepeatedCursor(t *testing.T) {
	srv, queries := pagedServer(t,
		map[string]string{"": `[{"id":"a"}]`, "same": `[{"id":"b"}]`},
		map[string]string{"": "same", "same": "same"})
	ids, err := collect(t, srv.URL)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, ids)
	require.Len(t, *queries, 2)
}

func TestListReportsABadPage(t *testing.T) {
	srv, _ := pagedServer(t, map[string]string{"": `{"not":"a list"}`}, nil)
	_, err := collect(t, srv.URL)
	require.ErrorContains(t, err, "GET /items failed: HTTP 200 OK: the answer is not the JSON list expected")
	require.Regexp(t, `\(request ID [0-9a-f-]{36}\)`, err.Error())
}

func TestListReportsAFailedPage(t *testing.T) {
	srv, _ := pagedServer(t, map[string]string{"": `[{"id":"a"}]`}, map[string]string{"": "gone"})
	_, err := collect(t, srv.URL)
	require.ErrorContains(t, err, "GET /items failed: HTTP 400 Bad Request: unknown cursor gone")
}
