package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// This module is copied to and run on every target, so it has a size
// budget (issue 3, point 5). These tests build it as `make modules` does
// and keep out of its dependencies the packages that would blow the budget.

// sizeBudget is the most the module may weigh on any architecture.
const sizeBudget = 3 << 20 // 3 MiB

// buildFlags are the Makefile's GOFLAGS_BUILD, as exec arguments.
var buildFlags = []string{"-trimpath", "-ldflags", "-s -w -buildid="}

// makefileFlags is how the Makefile spells buildFlags.
const makefileFlags = `GOFLAGS_BUILD := -trimpath -ldflags "-s -w -buildid="`

func goTool(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH, so the module cannot be built here (make puts /usr/local/go/bin on PATH)")
	}
	return goBin
}

func TestMakefileFlags(t *testing.T) {
	mk, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Skipf("no Makefile to compare the build flags with: %v", err)
	}
	for _, line := range strings.Split(string(mk), "\n") {
		if strings.HasPrefix(line, "GOFLAGS_BUILD ") {
			require.Equal(t, makefileFlags, line, "the Makefile builds modules with other flags than TestBinarySize: update buildFlags")
			return
		}
	}
	t.Fatal("the Makefile has no GOFLAGS_BUILD line")
}

func TestBinarySize(t *testing.T) {
	goBin := goTool(t)
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "tpm_ek_info_linux_"+arch)
			cmd := exec.Command(goBin, append(append([]string{"build"}, buildFlags...), "-o", out, ".")...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
			msg, err := cmd.CombinedOutput()
			require.NoError(t, err, "go build: %s", msg)
			fi, err := os.Stat(out)
			require.NoError(t, err)
			require.Less(t, fi.Size(), int64(sizeBudget),
				"tpm_ek_info for linux/%s is %d bytes, over its 3 MiB budget; see which package grew with go tool nm -size -sort size on an unstripped build", arch, fi.Size())
			t.Logf("linux/%s: %d bytes, %d under the budget", arch, fi.Size(), sizeBudget-fi.Size())
		})
	}
}

// forbidden are packages that must not be linked into the module, and
// what each would cost; "/..." covers a package and those under it.
var forbidden = map[string]string{
	"net":                          "the resolver and poller: use syscall sockets (internal/tpm/socket.go)",
	"crypto/x509":                  "about 1 MiB with net and the FIPS module: read certificates with internal/tpm/der",
	"crypto/x509/pkix":             "encoding/asn1 and pkix cost 0.25 MiB: internal/tpm formats names itself",
	"encoding/asn1":                "0.15 MiB: use internal/tpm/der",
	"crypto/rsa":                   "its FIPS self-tests cost 0.25 MiB: keys are internal/tpm's publicKey",
	"crypto/ecdsa":                 "its FIPS self-tests cost 0.5 MiB: keys are internal/tpm's publicKey",
	"crypto/ecdh":                  "pulls in the FIPS module",
	"crypto/elliptic":              "pulls in the FIPS module",
	"github.com/google/go-tpm/...": "imports crypto/rsa, crypto/ecdsa and net: use internal/tpm/wire",
}

func TestDependencies(t *testing.T) {
	goBin := goTool(t)
	cmd := exec.Command(goBin, "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.Output()
	require.NoError(t, err, "go list -deps")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/stepfleet/smallstep/modules-src/internal/tpm", "go list lists no dependencies")
	for _, dep := range deps {
		for pkg, why := range forbidden {
			if dep == pkg || strings.HasSuffix(pkg, "/...") && strings.HasPrefix(dep+"/", strings.TrimSuffix(pkg, "...")) {
				t.Errorf("tpm_ek_info depends on %s, which must stay out of the target-side module: %s", dep, why)
			}
		}
	}
}
