package sim

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func decisions(f *faulter, n int) []FaultKind {
	out := make([]FaultKind, n)
	for i := range out {
		out[i] = f.decide().kind
	}
	return out
}

func TestFaultDecisionsRepeatForASeed(t *testing.T) {
	cfg, err := Faults{Rate: 0.3, Seed: 7, Kinds: AllFaultKinds}.withDefaults()
	require.NoError(t, err)
	first := decisions(newFaulter(cfg), 1000)
	require.Equal(t, first, decisions(newFaulter(cfg), 1000), "same seed, same faults")

	f := newFaulter(cfg)
	decisions(f, 10)
	f.set(cfg)
	require.Equal(t, first, decisions(f, 1000), "setting the seed again restarts the decisions")

	cfg.Seed = 8
	require.NotEqual(t, first, decisions(newFaulter(cfg), 1000), "another seed, other faults")

	byKind := map[FaultKind]int{}
	for _, k := range first {
		byKind[k]++
	}
	require.InDelta(t, 700, byKind[""], 60, "about 30%% of requests get a fault")
	for _, k := range AllFaultKinds {
		require.Greater(t, byKind[k], 15, "every kind is chosen: %s", k)
	}
}

func TestFaultRateBounds(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want int
	}{{0, 0}, {1, 500}} {
		cfg, err := Faults{Rate: tc.rate}.withDefaults()
		require.NoError(t, err)
		n := 0
		for _, k := range decisions(newFaulter(cfg), 500) {
			if k != "" {
				n++
			}
		}
		require.Equal(t, tc.want, n, "rate %v", tc.rate)
	}
}

func TestFaultsWhatIsApplied(t *testing.T) {
	for _, tc := range []struct {
		kind    FaultKind
		applied []FaultKind
		want    bool
	}{
		{FaultTooManyRequests, nil, false},
		{FaultUnavailable, nil, false},
		{FaultReset, nil, false},
		{FaultInternal, nil, false},
		{FaultBadGateway, nil, false},
		{FaultGatewayTimeout, nil, false},
		{FaultHang, nil, false},
		{FaultTruncate, nil, true},
		{FaultInternal, []FaultKind{FaultInternal}, true},
		{FaultBadGateway, []FaultKind{FaultBadGateway}, true},
		{FaultGatewayTimeout, []FaultKind{FaultGatewayTimeout}, true},
		{FaultHang, []FaultKind{FaultHang}, true},
		{FaultBadGateway, []FaultKind{FaultHang}, false},
	} {
		cfg, err := Faults{Rate: 1, Kinds: []FaultKind{tc.kind}, Applied: tc.applied}.withDefaults()
		require.NoError(t, err)
		d := newFaulter(cfg).decide()
		require.Equal(t, tc.kind, d.kind)
		require.Equal(t, tc.want, d.applied, "%s with applied %v", tc.kind, tc.applied)
	}
}

func TestFaultsConfigDefaultsAndErrors(t *testing.T) {
	cfg, err := Faults{}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, Faults{Kinds: DefaultFaultKinds, HangFor: DefaultHangFor, Applied: nil}, cfg)

	for name, tc := range map[string]struct {
		cfg  Faults
		want string
	}{
		"rate above 1":     {Faults{Rate: 1.5}, "rate: must be from 0 to 1, not 1.5"},
		"negative rate":    {Faults{Rate: -0.1}, "rate: must be from 0 to 1"},
		"unknown kind":     {Faults{Kinds: []FaultKind{"418"}}, `kinds: unknown fault "418"; choose from 429, 500, 502, 503, 504, hang, reset, truncate`},
		"kind twice":       {Faults{Kinds: []FaultKind{"503", "503"}}, `kinds: fault "503" given twice`},
		"negative hang":    {Faults{HangFor: -time.Second}, "hang for: must be positive"},
		"429 applied":      {Faults{Applied: []FaultKind{"429"}}, `applied: unknown fault "429"; choose from 500, 502, 504, hang`},
		"truncate applied": {Faults{Applied: []FaultKind{"truncate"}}, `applied: unknown fault "truncate"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.cfg.withDefaults()
			require.ErrorContains(t, err, tc.want)
			_, err = New(Config{Token: testToken, Faults: tc.cfg})
			require.ErrorContains(t, err, "faults: "+tc.want)
		})
	}
}

// freshClient opens a new connection for every request: on a reused one,
// net/http itself would silently retry a GET after a reset.
func freshClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

// rawDo sends one request with the token through c and returns the
// response and the error reading its body, or the error of the request.
func (s *testSim) rawDo(c *http.Client, method, path, body string) (*http.Response, []byte, error, error) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, nil, err
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(resp.Body)
	return resp, data, readErr, nil
}

func (s *testSim) setFaults(body string) map[string]any {
	s.t.Helper()
	return s.mustDo(http.StatusOK, http.MethodPut, "/_sim/faults", body).object(s.t)
}

func TestEachFaultFromAClientsView(t *testing.T) {
	const device = "/collections/c/instances/d1"
	for _, tc := range []struct {
		name    string
		faults  string
		method  string
		check   func(t *testing.T, resp *http.Response, body []byte, readErr, err error)
		applied bool
	}{
		{"429", `{"rate":1,"kinds":["429"]}`, http.MethodPut, func(t *testing.T, resp *http.Response, body []byte, readErr, err error) {
			require.NoError(t, err)
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			require.Equal(t, "1", resp.Header.Get("Retry-After"))
			requireJSONError(t, resp, body, "rate limit exceeded")
		}, false},
		{"500", `{"rate":1,"kinds":["500"]}`, http.MethodPut, statusWithJSON(http.StatusInternalServerError), false},
		{"500 applied", `{"rate":1,"kinds":["500"],"applied":["500"]}`, http.MethodPut, statusWithJSON(http.StatusInternalServerError), true},
		{"502", `{"rate":1,"kinds":["502"]}`, http.MethodPut, badGatewayHTML, false},
		{"502 applied", `{"rate":1,"kinds":["502"],"applied":["502"]}`, http.MethodPut, badGatewayHTML, true},
		{"503", `{"rate":1,"kinds":["503"]}`, http.MethodPut, statusWithJSON(http.StatusServiceUnavailable), false},
		{"504", `{"rate":1,"kinds":["504"]}`, http.MethodPut, statusWithJSON(http.StatusGatewayTimeout), false},
		{"504 applied", `{"rate":1,"kinds":["504"],"applied":["504"]}`, http.MethodPut, statusWithJSON(http.StatusGatewayTimeout), true},
		{"hang", `{"rate":1,"kinds":["hang"],"hang_for":"200ms"}`, http.MethodPut, statusWithJSON(http.StatusGatewayTimeout), false},
		{"hang applied", `{"rate":1,"kinds":["hang"],"hang_for":"200ms","applied":["hang"]}`, http.MethodPut, statusWithJSON(http.StatusGatewayTimeout), true},
		{"reset", `{"rate":1,"kinds":["reset"]}`, http.MethodPut, func(t *testing.T, resp *http.Response, body []byte, readErr, err error) {
			require.ErrorIs(t, err, syscall.ECONNRESET, "a TCP RST, not an answer")
		}, false},
		{"truncate", `{"rate":1,"kinds":["truncate"]}`, http.MethodPut, func(t *testing.T, resp *http.Response, body []byte, readErr, err error) {
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, "the status and headers arrive")
			require.ErrorIs(t, readErr, io.ErrUnexpectedEOF, "the body does not")
			require.NotEmpty(t, body)
			require.Greater(t, resp.ContentLength, int64(len(body)))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSim(t, Config{})
			s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
			s.setFaults(tc.faults)
			start := time.Now()
			resp, body, readErr, err := s.rawDo(freshClient(10*time.Second), tc.method, device, `{"data":{"k":"v"}}`)
			s.setFaults(`{"rate":0}`)
			tc.check(t, resp, body, readErr, err)
			if strings.HasPrefix(tc.name, "hang") {
				require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
			}

			status := http.StatusNotFound
			if tc.applied {
				status = http.StatusOK
			}
			s.mustDo(status, http.MethodGet, device, nil)
			kind := strings.Fields(tc.name)[0]
			stats := s.srv.Stats()
			require.Equal(t, int64(1), stats.Faults.Total)
			require.Equal(t, int64(1), stats.Faults.ByKind[FaultKind(kind)])
			require.Equal(t, int64(1), stats.ByRoute["PUT /collections/{slug}/instances/{id}"], "faulted requests are counted")
			writes := int64(1) // the collection
			if tc.applied {
				writes++
			}
			require.Equal(t, writes, stats.Writes, "a write counts once it reaches its handler")
			// The faulted request's log line is written when its handler
			// returns, which for a cut or reset answer can be after the
			// client has seen the end of it.
			require.Eventually(t, func() bool {
				return strings.Contains(s.log.String(), "path=/api"+device) && strings.Contains(s.log.String(), "fault="+kind)
			}, 5*time.Second, 10*time.Millisecond, "log: %s", s.log.String())
		})
	}
}

func statusWithJSON(status int) func(t *testing.T, resp *http.Response, body []byte, readErr, err error) {
	return func(t *testing.T, resp *http.Response, body []byte, readErr, err error) {
		require.NoError(t, err)
		require.NoError(t, readErr)
		require.Equal(t, status, resp.StatusCode, "%s", body)
		requireJSONError(t, resp, body, "fault injected by smallstep-sim")
	}
}

func requireJSONError(t *testing.T, resp *http.Response, body []byte, want string) {
	t.Helper()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	msg := response{status: resp.StatusCode, header: resp.Header, body: body}.message(t)
	require.Contains(t, msg, want)
	require.NotEmpty(t, resp.Header.Get(headerRequestID), "faults carry the request ID too")
}

func badGatewayHTML(t *testing.T, resp *http.Response, body []byte, readErr, err error) {
	require.NoError(t, err)
	require.NoError(t, readErr)
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	require.Equal(t, "text/html", resp.Header.Get("Content-Type"))
	require.Equal(t, "<html><body><h1>502 Bad Gateway</h1></body></html>\n", string(body))
}

func TestTruncatedDeleteIsAppliedAndUnanswered(t *testing.T) {
	s := newTestSim(t, Config{})
	s.mustDo(http.StatusOK, http.MethodPut, "/device-collections/c", awsCollection("c"))
	s.mustDo(http.StatusOK, http.MethodPut, "/collections/c/instances/d1", `{"data":{}}`)
	s.setFaults(`{"rate":1,"kinds":["truncate"]}`)
	_, _, _, err := s.rawDo(freshClient(10*time.Second), http.MethodDelete, "/collections/c/instances/d1", "")
	s.setFaults(`{"rate":0}`)
	require.Error(t, err, "a 204 has no body to cut short, so no answer comes at all")
	require.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	s.mustDo(http.StatusNotFound, http.MethodGet, "/collections/c/instances/d1", nil)
}

func TestHangEndsWhenTheClientGivesUp(t *testing.T) {
	s := newTestSim(t, Config{})
	s.setFaults(`{"rate":1,"kinds":["hang"],"hang_for":"1m"}`)
	_, _, _, err := s.rawDo(freshClient(300*time.Millisecond), http.MethodPut, "/device-collections/c", `{"slug":"c"}`)
	require.ErrorContains(t, err, "Client.Timeout exceeded")
	require.Eventually(t, func() bool { return strings.Contains(s.log.String(), "fault=hang") }, 5*time.Second, 10*time.Millisecond,
		"the handler returns (and logs) once the client has gone, long before --hang-for")
}

func TestEndHangs(t *testing.T) {
	s := newTestSim(t, Config{})
	s.setFaults(`{"rate":1,"kinds":["hang"],"hang_for":"1m"}`)
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/authorities", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := freshClient(time.Minute).Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return s.srv.Stats().Faults.Total == 1 }, 5*time.Second, time.Millisecond, "the request hangs")
	s.srv.EndHangs()
	s.srv.EndHangs()
	select {
	case status := <-done:
		require.Equal(t, http.StatusGatewayTimeout, status)
	case <-time.After(5 * time.Second):
		t.Fatal("the hang did not end")
	}
}

func TestFaultsNeverHitSimEndpoints(t *testing.T) {
	s := newTestSim(t, Config{Faults: Faults{Rate: 1, Kinds: AllFaultKinds}})
	for i := 0; i < 20; i++ {
		s.mustDo(http.StatusOK, http.MethodGet, "/_sim/stats", nil)
		s.mustDo(http.StatusOK, http.MethodGet, "/_sim/state", nil)
		s.mustDo(http.StatusOK, http.MethodGet, "/_sim/faults", nil)
	}
	require.Equal(t, int64(0), s.srv.Stats().Faults.Total)
}

// statuses sends n GET /authorities one after another and returns what
// each got: a status or "error".
func (s *testSim) statuses(n int) []string {
	out := make([]string, n)
	c := freshClient(10 * time.Second)
	for i := range out {
		resp, _, _, err := s.rawDo(c, http.MethodGet, "/authorities", "")
		if err != nil {
			out[i] = "error"
			continue
		}
		out[i] = fmt.Sprint(resp.StatusCode)
	}
	return out
}

func TestFaultSequenceRepeatsOverHTTP(t *testing.T) {
	const settings = `{"rate":0.4,"kinds":["429","500","502","503","504","reset"],"seed":42}`
	s := newTestSim(t, Config{})
	s.setFaults(settings)
	first := s.statuses(60)
	s.setFaults(settings)
	require.Equal(t, first, s.statuses(60), "the same seed and order give the same faults")

	other := newTestSim(t, Config{Faults: Faults{Rate: 0.4, Kinds: []FaultKind{"429", "500", "502", "503", "504", "reset"}, Seed: 42}})
	require.Equal(t, first, other.statuses(60), "flags and the control endpoint decide alike")

	seen := map[string]int{}
	for _, st := range first {
		seen[st]++
	}
	for _, want := range []string{"200", "429", "500", "502", "503", "504", "error"} {
		require.Positive(t, seen[want], "%s in %v", want, first)
	}
	stats := s.srv.Stats()
	require.Equal(t, int64(120), stats.Requests)
	require.Equal(t, int64(120), stats.ByRoute["GET /authorities"])
	require.Equal(t, int64(2*(60-seen["200"])), stats.Faults.Total)
	require.Equal(t, int64(2*seen["error"]), stats.Faults.ByKind[FaultReset])
}

func TestFaultControlEndpoint(t *testing.T) {
	s := newTestSim(t, Config{Faults: Faults{HangFor: 3 * time.Second, Applied: []FaultKind{"502"}}})
	got := s.mustDo(http.StatusOK, http.MethodGet, "/_sim/faults", nil).object(t)
	noFaults := map[string]any{"total": float64(0), "by_kind": map[string]any{
		"429": float64(0), "500": float64(0), "502": float64(0), "503": float64(0), "504": float64(0),
		"hang": float64(0), "reset": float64(0), "truncate": float64(0),
	}}
	require.Equal(t, map[string]any{
		"rate": float64(0), "kinds": []any{"429", "502", "503", "504", "reset"}, "seed": float64(0),
		"hang_for": "3s", "applied": []any{"502"}, "faults": noFaults,
	}, got)

	got = s.setFaults(`{"rate":0.25,"kinds":["503","reset"],"seed":7}`)
	want := map[string]any{
		"rate": 0.25, "kinds": []any{"503", "reset"}, "seed": float64(7),
		"hang_for": "3s", "applied": []any{"502"}, "faults": noFaults,
	}
	require.Equal(t, want, got, "what the body leaves out keeps its start value")
	require.Equal(t, want, s.mustDo(http.StatusOK, http.MethodGet, "/_sim/faults", nil).object(t))

	got = s.setFaults(`{"rate":1,"kinds":["503"],"hang_for":"1s","applied":[]}`)
	require.Equal(t, "1s", got["hang_for"])
	require.Equal(t, []any{}, got["applied"])
	require.Equal(t, float64(0), got["seed"], "the start seed, not the last one set")
	s.mustDo(http.StatusServiceUnavailable, http.MethodGet, "/authorities", nil)
	got = s.setFaults(`{"rate":0}`)
	require.Equal(t, float64(1), got["faults"].(map[string]any)["total"], "counts carry on")
	s.mustDo(http.StatusOK, http.MethodGet, "/authorities", nil)

	require.Contains(t, s.log.String(), "faults set")
	require.NotContains(t, s.log.String(), testToken)
}

func TestFaultControlRefusesBadBodies(t *testing.T) {
	s := newTestSim(t, Config{})
	for name, tc := range map[string]struct{ body, want string }{
		"empty":          {``, "request body is empty"},
		"not JSON":       {`rate=1`, "invalid character"},
		"not an object":  {`[1]`, "cannot unmarshal array"},
		"trailing data":  {`{"rate":1} {}`, "data after the JSON object"},
		"unknown field":  {`{"rate":1,"kind":["503"]}`, `unknown field "kind"`},
		"no rate":        {`{"kinds":["503"]}`, "rate: required"},
		"rate null":      {`{"rate":null}`, "rate: required"},
		"rate too big":   {`{"rate":1.5}`, "rate: must be from 0 to 1, not 1.5"},
		"negative rate":  {`{"rate":-0.5}`, "rate: must be from 0 to 1"},
		"rate a string":  {`{"rate":"0.1"}`, "cannot unmarshal string"},
		"no kinds":       {`{"rate":0.1,"kinds":[]}`, "kinds: give at least one"},
		"unknown kind":   {`{"rate":0.1,"kinds":["418"]}`, `kinds: unknown fault "418"`},
		"kind a number":  {`{"rate":0.1,"kinds":[503]}`, "cannot unmarshal number"},
		"kind twice":     {`{"rate":0.1,"kinds":["503","503"]}`, `kinds: fault "503" given twice`},
		"seed fraction":  {`{"rate":0.1,"seed":1.5}`, "cannot unmarshal number 1.5"},
		"bad hang_for":   {`{"rate":0.1,"hang_for":"soon"}`, `hang_for: must be a positive duration such as "5s", not "soon"`},
		"zero hang_for":  {`{"rate":0.1,"hang_for":"0s"}`, "hang_for: must be a positive duration"},
		"429 applied":    {`{"rate":0.1,"applied":["429"]}`, `applied: unknown fault "429"; choose from 500, 502, 504, hang`},
		"reset applied":  {`{"rate":0.1,"applied":["reset"]}`, `applied: unknown fault "reset"`},
		"applied a word": {`{"rate":0.1,"applied":"502"}`, "cannot unmarshal string"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.mustDo(http.StatusBadRequest, http.MethodPut, "/_sim/faults", tc.body)
			require.Contains(t, r.message(t), "invalid fault settings: ")
			require.Contains(t, r.message(t), tc.want)
		})
	}
	require.Equal(t, float64(0), s.mustDo(http.StatusOK, http.MethodGet, "/_sim/faults", nil).object(t)["rate"],
		"refused settings change nothing")

	r := s.request(http.MethodPut, "/_sim/faults", `{"rate":1}`, map[string]string{"Authorization": "Bearer wrong"})
	require.Equal(t, http.StatusUnauthorized, r.status, "the token is needed as everywhere")
	s.mustDo(http.StatusMethodNotAllowed, http.MethodPost, "/_sim/faults", `{"rate":1}`)
}

func TestFaultControlIsForLoopbackClientsOnly(t *testing.T) {
	s := newTestSim(t, Config{})
	for _, tc := range []struct {
		remote string
		status int
	}{
		{"127.0.0.1:40000", http.StatusOK},
		{"127.1.2.3:40000", http.StatusOK},
		{"[::1]:40000", http.StatusOK},
		{"[::ffff:127.0.0.1]:40000", http.StatusOK},
		{"192.0.2.1:40000", http.StatusForbidden},
		{"10.0.0.1:40000", http.StatusForbidden},
		{"[2001:db8::1]:40000", http.StatusForbidden},
		{"[::ffff:192.0.2.1]:40000", http.StatusForbidden},
		{"0.0.0.0:40000", http.StatusForbidden},
		{"localhost:40000", http.StatusForbidden}, // names are not addresses
		{"garbage", http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			req := httptest.NewRequest(method, BasePath+"/_sim/faults", strings.NewReader(`{"rate":1}`))
			req.RemoteAddr = tc.remote
			req.Header.Set("Authorization", "Bearer "+testToken)
			rec := httptest.NewRecorder()
			s.srv.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, "%s from %q: %s", method, tc.remote, rec.Body)
			if tc.status == http.StatusForbidden {
				require.Contains(t, rec.Body.String(), "loopback")
			}
		}
		// Leave faults off for the next remote address.
		s.setFaults(`{"rate":0}`)
	}
}
