// Command smallstep-sim is a local simulator of the Smallstep API gateway
// (API version 2023-03-01) for tests and demos. Run it with --help for its
// flags; it prints "smallstep-sim listening on http://HOST:PORT/api" once
// it is ready.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stepfleet/smallstep/modules-src/internal/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := sim.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
