package conformance

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWrongBaseURLFails points every API module, in each state that
// takes a 404 as "nothing there", at a server that answers 404 to
// everything, as the gateway does to an api_url without /api. Each must
// fail and say why, without writing: a removal or read that "succeeds"
// there would hide that nothing was done.
func TestWrongBaseURLFails(t *testing.T) {
	cases := []struct {
		module   string
		override map[string]any
		// wrongBase: the message names the base URL; otherwise another
		// clear failure (the write itself answering 404, or the
		// authorities list being what was asked for) is enough.
		wrongBase bool
	}{
		{"device_collection", map[string]any{"state": "absent"}, true},
		{"device_collection", nil, false},
		{"device_collection", map[string]any{"_ansible_check_mode": true}, true},
		{"workload", map[string]any{"_ansible_check_mode": true}, true},
		{"device", map[string]any{"_ansible_check_mode": true}, true},
		{"devices", map[string]any{"_ansible_check_mode": true}, true},
		{"workload", map[string]any{"state": "absent"}, true},
		{"workload", nil, true},
		{"device", map[string]any{"state": "absent"}, true},
		{"device", nil, true},
		{"devices", nil, true},
		{"devices", map[string]any{"state": "absent"}, true},
		{"device_collection_info", nil, true},
		{"device_collection_info", map[string]any{"slug": nil}, true},
		{"workload_info", nil, true},
		{"device_info", nil, true},
		{"device_info", map[string]any{"instance_id": goodURI}, true},
		{"authority_info", nil, false},
		// Its POST is the request; the 404 to it is then traced to api_url.
		{"enrollment_token", nil, true},
	}
	for _, tc := range cases {
		name := tc.module
		if s, ok := tc.override["state"]; ok {
			name += "/" + s.(string)
		}
		if _, ok := tc.override["instance_id"]; ok {
			name += "/instance_id"
		}
		if s, ok := tc.override["slug"]; ok && s == nil {
			name += "/list"
		}
		if _, ok := tc.override["_ansible_check_mode"]; ok {
			name += "/check_mode"
		}
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var writes []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet {
					mu.Lock()
					writes = append(writes, r.Method+" "+r.URL.Path)
					mu.Unlock()
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"message":"no such endpoint"}`))
			}))
			t.Cleanup(srv.Close)

			res := run(t, tc.module, modules[tc.module], srv.URL, tc.override)
			require.Equal(t, true, res["failed"], "a 404 from everywhere passed as success: %v", res)
			msg, _ := res["msg"].(string)
			if tc.wrongBase {
				require.Contains(t, msg, "is not the Smallstep API's base URL")
				require.Contains(t, msg, srv.URL)
				if tc.module != "enrollment_token" {
					require.Empty(t, writes, "wrote to a wrong api_url")
				}
				require.Equal(t, false, res["changed"])
			}
			require.NotContains(t, msg, secret)
		})
	}
}
