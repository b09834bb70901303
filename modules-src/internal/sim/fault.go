package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// FaultKind names a fault the simulator can inject into an API request.
type FaultKind string

// The faults, each as a client sees it. Whether the request is applied
// before the fault fires decides what a client must do next: a fault that
// never applies it can simply be retried, one that does (truncate) leaves
// a write done although the client saw an error, so the client must read
// again and converge.
const (
	// FaultTooManyRequests answers 429 with Retry-After: 1 and a JSON
	// error body; the request is not applied.
	FaultTooManyRequests FaultKind = "429"
	// FaultInternal answers 500 with a JSON error body; applied only when
	// listed in Faults.Applied.
	FaultInternal FaultKind = "500"
	// FaultBadGateway answers 502 with an HTML page, as a proxy in front of
	// the API would; applied only when listed in Faults.Applied.
	FaultBadGateway FaultKind = "502"
	// FaultUnavailable answers 503 with a JSON error body; the request is
	// not applied.
	FaultUnavailable FaultKind = "503"
	// FaultGatewayTimeout answers 504 with a JSON error body; applied only
	// when listed in Faults.Applied.
	FaultGatewayTimeout FaultKind = "504"
	// FaultHang answers nothing for Faults.HangFor, or until the client
	// goes away, and then 504; applied only when listed in Faults.Applied.
	FaultHang FaultKind = "hang"
	// FaultReset resets the connection (a TCP RST) before any answer; the
	// request is not applied.
	FaultReset FaultKind = "reset"
	// FaultTruncate applies the request, then sends its answer with the
	// full Content-Length but only half the body, and closes the
	// connection. An answer without a body (204) is not sent at all.
	FaultTruncate FaultKind = "truncate"
)

// AllFaultKinds lists every fault kind, in the order stats show them.
var AllFaultKinds = []FaultKind{
	FaultTooManyRequests, FaultInternal, FaultBadGateway, FaultUnavailable, FaultGatewayTimeout,
	FaultHang, FaultReset, FaultTruncate,
}

// DefaultFaultKinds are the faults injected when none are chosen: the ones
// a client should retry on.
var DefaultFaultKinds = []FaultKind{FaultTooManyRequests, FaultBadGateway, FaultUnavailable, FaultGatewayTimeout, FaultReset}

// ApplicableFaultKinds are the faults that can apply the request before
// they fire, as Faults.Applied chooses.
var ApplicableFaultKinds = []FaultKind{FaultInternal, FaultBadGateway, FaultGatewayTimeout, FaultHang}

// DefaultHangFor is how long a hang lasts unless told otherwise: longer
// than a client's timeout.
const DefaultHangFor = 60 * time.Second

// Faults configures fault injection. The zero value injects none.
type Faults struct {
	// Rate is the share of API requests, from 0 to 1, that get a fault.
	Rate float64
	// Kinds are the faults to choose from, each equally likely;
	// empty means DefaultFaultKinds.
	Kinds []FaultKind
	// Seed seeds the decisions: the same seed and the same order of
	// requests give the same faults.
	Seed int64
	// HangFor is how long FaultHang lasts; zero means DefaultHangFor.
	HangFor time.Duration
	// Applied lists the kinds of ApplicableFaultKinds that apply the
	// request before they fire; the others among them do not.
	Applied []FaultKind
}

// withDefaults fills in the defaults and checks every field, naming it.
func (f Faults) withDefaults() (Faults, error) {
	if err := checkFaultRate(f.Rate); err != nil {
		return f, fmt.Errorf("rate: %w", err)
	}
	if len(f.Kinds) == 0 {
		f.Kinds = DefaultFaultKinds
	}
	if err := checkFaultKinds(f.Kinds, AllFaultKinds); err != nil {
		return f, fmt.Errorf("kinds: %w", err)
	}
	if f.HangFor == 0 {
		f.HangFor = DefaultHangFor
	}
	if f.HangFor < 0 {
		return f, fmt.Errorf("hang for: must be positive, not %s", f.HangFor)
	}
	if err := checkFaultKinds(f.Applied, ApplicableFaultKinds); err != nil {
		return f, fmt.Errorf("applied: %w", err)
	}
	f.Kinds = slices.Clone(f.Kinds)
	f.Applied = slices.Clone(f.Applied)
	return f, nil
}

func checkFaultRate(rate float64) error {
	if math.IsNaN(rate) || rate < 0 || rate > 1 {
		return fmt.Errorf("must be from 0 to 1, not %v", rate)
	}
	return nil
}

func checkFaultKinds(kinds, allowed []FaultKind) error {
	for i, k := range kinds {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unknown fault %q; choose from %s", k, joinKinds(allowed))
		}
		if slices.Contains(kinds[:i], k) {
			return fmt.Errorf("fault %q given twice", k)
		}
	}
	return nil
}

// ParseFaultKinds turns a list such as the --fault-kinds flag's into
// fault kinds, refusing unknown and repeated ones.
func ParseFaultKinds(list []string, allowed []FaultKind) ([]FaultKind, error) {
	out := make([]FaultKind, 0, len(list))
	for _, s := range list {
		out = append(out, FaultKind(strings.TrimSpace(s)))
	}
	if err := checkFaultKinds(out, allowed); err != nil {
		return nil, err
	}
	return out, nil
}

func joinKinds(kinds []FaultKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// FaultCounts counts the faults injected, in total and by kind; every kind
// is listed, with 0 when it has not happened.
type FaultCounts struct {
	Total  int64               `json:"total"`
	ByKind map[FaultKind]int64 `json:"by_kind"`
}

// faulter decides which requests get a fault. One mutex guards the
// settings, the PRNG and the counts, so that decisions follow the order in
// which requests arrive and a seed repeats.
type faulter struct {
	mu     sync.Mutex
	cfg    Faults
	rng    *rand.Rand
	counts map[FaultKind]int64
}

func newFaulter(cfg Faults) *faulter {
	f := &faulter{counts: map[FaultKind]int64{}}
	f.set(cfg)
	return f
}

// set replaces the settings and restarts the decisions from the seed; cfg
// has its defaults filled in. The counts carry on.
func (f *faulter) set(cfg Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	f.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), 0))
}

// settings returns a copy of the current settings.
func (f *faulter) settings() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg := f.cfg
	cfg.Kinds = slices.Clone(cfg.Kinds)
	cfg.Applied = slices.Clone(cfg.Applied)
	return cfg
}

// decision is what decide chose for one request.
type decision struct {
	kind    FaultKind // "" for no fault
	applied bool      // apply the request before the fault fires
	hangFor time.Duration
}

// decide draws the fault, if any, for the next request and counts it.
func (f *faulter) decide() decision {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg.Rate <= 0 || f.rng.Float64() >= f.cfg.Rate {
		return decision{}
	}
	k := f.cfg.Kinds[f.rng.IntN(len(f.cfg.Kinds))]
	f.counts[k]++
	return decision{
		kind:    k,
		applied: k == FaultTruncate || slices.Contains(f.cfg.Applied, k),
		hangFor: f.cfg.HangFor,
	}
}

func (f *faulter) count() FaultCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := FaultCounts{ByKind: make(map[FaultKind]int64, len(AllFaultKinds))}
	for _, k := range AllFaultKinds {
		out.ByKind[k] = f.counts[k]
		out.Total += f.counts[k]
	}
	return out
}
