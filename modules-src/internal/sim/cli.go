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
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on; port 0 picks a free port")
	token := fs.String("token", "", "API token that clients must send as 'Authorization: Bearer <token>'")
	tokenFile := fs.String("token-file", "", "file holding the API token (surrounding whitespace is trimmed); keeps it off the command line")
	statePath := fs.String("state", "", "JSON file to load the state from and save it to after every write (default: memory only)")
	team := fs.String("team", "demo", "team name, as in agents.<team>.ca.smallstep.com")
	urlFile := fs.String("url-file", "", "also write the base URL into this file (removed again on exit)")
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

	srv, err := New(Config{Token: tok, Team: *team, StatePath: *statePath, Log: stderr})
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
