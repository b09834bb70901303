package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/stepfleet/smallstep/modules-src/internal/sim/store"
)

// shutdownGrace is how long in-flight requests get after SIGTERM or SIGINT.
const shutdownGrace = 5 * time.Second

// Main runs the smallstep-sim command until ctx is cancelled (main cancels
// it on SIGTERM and SIGINT) and returns the exit code. Once it listens it
// writes exactly one line to stdout,
//
//	smallstep-sim listening on http://HOST:PORT/api
//
// which tests and scripts parse for the base URL; the request log and all
// errors go to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("smallstep-sim", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on; port 0 picks a free port")
	token := fs.String("token", "", "API token that clients must send as 'Authorization: Bearer <token>'")
	tokenFile := fs.String("token-file", "", "file holding the API token (surrounding whitespace is trimmed); keeps it off the command line")
	statePath := fs.String("state", "", "JSON file to load the state from and save it to after every write (default: memory only)")
	team := fs.String("team", "demo", "team name, as in agents.<team>.ca.smallstep.com")
	urlFile := fs.String("url-file", "", "also write the base URL into this file (removed again on exit)")
	faultRate := fs.Float64("fault-rate", 0, "share of API requests, 0 to 1, that get an injected fault (see below)")
	faultKinds := fs.StringSlice("fault-kinds", kindStrings(DefaultFaultKinds), "comma-separated faults to choose from, each equally likely: 429, 500, 502, 503, 504, hang, reset, truncate")
	faultSeed := fs.Int64("fault-seed", 1, "seed of the fault decisions: the same seed and order of requests give the same faults")
	hangFor := fs.Duration("hang-for", DefaultHangFor, "how long a hang fault waits before its 504; longer than a client's timeout")
	faultApplied := fs.StringSlice("fault-applied", nil, "comma-separated faults among 500, 502, 504 and hang that apply the request before they fire (default none)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
		fmt.Fprint(stderr, usageFaults)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "smallstep-sim: %v (see --help)\n", err)
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "smallstep-sim: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	tok, err := resolveToken(*token, *tokenFile)
	if err != nil {
		return fail(2, "%v", err)
	}
	faults, err := faultFlags(*faultRate, *faultKinds, *faultSeed, *hangFor, *faultApplied)
	if err != nil {
		return fail(2, "%v", err)
	}

	srv, err := New(Config{Token: tok, Team: *team, StatePath: *statePath, Log: stderr, Faults: faults})
	if err != nil {
		return fail(1, "%v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(1, "listen: %v", err)
	}
	base := baseURL(ln.Addr())
	if *urlFile != "" {
		// Atomic, so a script polling for the file never reads half a URL.
		if err := store.WriteFileAtomic(*urlFile, []byte(base+"\n")); err != nil {
			_ = ln.Close()
			return fail(1, "write --url-file: %v", err)
		}
		defer os.Remove(*urlFile)
	}

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	// Hanging requests end at shutdown instead of holding it for --hang-for.
	hs.RegisterOnShutdown(srv.EndHangs)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "smallstep-sim listening on %s\n", base)
	if f, ok := stdout.(interface{ Sync() error }); ok {
		_ = f.Sync() // best effort: a pipe cannot be synced, and needs no flush
	}

	select {
	case err := <-served:
		return fail(1, "serve: %v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fail(1, "shutdown: %v", err)
	}
	return 0
}

const usageHead = `Usage: smallstep-sim [flags]

A local simulator of the Smallstep API gateway (API version 2023-03-01) for
tests and demos. Once it listens it prints one line to stdout,
"smallstep-sim listening on http://HOST:PORT/api"; its request log goes to
stderr and never holds a token.

Flags:
`

const usageFaults = `
Fault injection:
  With --fault-rate above 0, that share of API requests gets a fault drawn
  from --fault-kinds. Decisions come from a PRNG seeded with --fault-seed, so
  the same seed and order of requests give the same faults. Requests under
  /api/_sim/ never get one. The kinds, and whether the request is applied
  (the write done) before the fault fires:
    429       Retry-After: 1 and a JSON error body; never applied
    500       JSON error body; applied if listed in --fault-applied
    502       an HTML page, as from a proxy; applied if listed in --fault-applied
    503       JSON error body; never applied
    504       JSON error body; applied if listed in --fault-applied
    hang      no answer for --hang-for (or until the client goes away), then
              504; applied if listed in --fault-applied
    reset     the connection is reset (TCP RST) before any answer; never applied
    truncate  always applied; the answer's Content-Length is the whole body
              but only half is sent before the connection closes (an answer
              without a body is not sent at all)

Endpoints for tests (bearer token as for the API):
  GET /api/_sim/stats   {"requests", "writes", "faults": {"total", "by_kind"},
                        "by_route": {"PUT /collections/{slug}/instances/{id}": N, ...}}
  GET /api/_sim/state   the whole state
  GET /api/_sim/faults  the fault settings and counts (loopback clients only)
  PUT /api/_sim/faults  change them during a run (loopback clients only), e.g.
                        {"rate":0.1,"kinds":["503"],"seed":7}; also "hang_for"
                        ("5s") and "applied" (["502"]). "rate" is required; what
                        is left out takes the value of its flag. The decisions
                        restart from the seed; the counts carry on.
`

// faultFlags checks the fault flags and turns them into Faults.
func faultFlags(rate float64, kinds []string, seed int64, hangFor time.Duration, applied []string) (Faults, error) {
	if err := checkFaultRate(rate); err != nil {
		return Faults{}, fmt.Errorf("--fault-rate: %w", err)
	}
	if len(kinds) == 0 {
		return Faults{}, fmt.Errorf("--fault-kinds: give at least one of %s", joinKinds(AllFaultKinds))
	}
	k, err := ParseFaultKinds(kinds, AllFaultKinds)
	if err != nil {
		return Faults{}, fmt.Errorf("--fault-kinds: %w", err)
	}
	if hangFor <= 0 {
		return Faults{}, fmt.Errorf("--hang-for: must be positive, not %s", hangFor)
	}
	a, err := ParseFaultKinds(applied, ApplicableFaultKinds)
	if err != nil {
		return Faults{}, fmt.Errorf("--fault-applied: %w", err)
	}
	return Faults{Rate: rate, Kinds: k, Seed: seed, HangFor: hangFor, Applied: a}, nil
}

func kindStrings(kinds []FaultKind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// resolveToken returns the API token from exactly one of --token and
// --token-file.
func resolveToken(token, file string) (string, error) {
	switch {
	case token != "" && file != "":
		return "", errors.New("give only one of --token and --token-file")
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read --token-file: %w", err)
		}
		token = strings.TrimSpace(string(data))
		if token == "" {
			return "", fmt.Errorf("--token-file %s is empty", file)
		}
		return token, nil
	case token != "":
		return token, nil
	}
	return "", errors.New("an API token is required: give --token or --token-file")
}

// baseURL is the API's URL on addr. A wildcard listen address is not a
// place to connect to, so it is shown as the loopback address instead.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + BasePath
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if ip.To4() != nil {
			host = "127.0.0.1"
		} else {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port) + BasePath
}
