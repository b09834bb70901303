package smallstep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// PageSize is the largest page the API serves.
const PageSize = 1000

// maxPages stops a server that never ends its cursor chain.
const maxPages = 10000

// List fetches every page of a list endpoint, following X-Next-Cursor, and
// hands each page's JSON array to fn.
func List(ctx context.Context, c *Client, path string, fn func(page json.RawMessage) error) error {
	after := ""
	for i := 0; i < maxPages; i++ {
		q := url.Values{"pagination[first]": {fmt.Sprint(PageSize)}}
		if after != "" {
			q.Set("pagination[after]", after)
		}
		resp, err := c.Do(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return err
		}
		if err := fn(resp.Body); err != nil {
			return &APIError{Method: http.MethodGet, Path: path, Status: resp.Status, RequestID: resp.RequestID,
				Message: "the answer is not the JSON list expected: " + err.Error()}
		}
		next := resp.Header.Get("X-Next-Cursor")
		if next == "" || next == after {
			return nil
		}
		after = next
	}
	return fmt.Errorf("GET %s: more than %d pages; the server's cursor does not end", path, maxPages)
}
