package sim

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMainServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("  file-token\n"), 0o600))
	urlFile := filepath.Join(dir, "url")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--listen", "127.0.0.1:0", "--token-file", tokenFile,
			"--state", filepath.Join(dir, "state.json"), "--team", "acme", "--url-file", urlFile}, outW, stderr)
		outW.Close()
	}()

	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	m := regexp.MustCompile(`^smallstep-sim listening on (http://127\.0\.0\.1:\d+/api)\n$`).FindStringSubmatch(line)
	require.NotNil(t, m, "stdout line %q", line)
	base := m[1]

	written, err := os.ReadFile(urlFile)
	require.NoError(t, err)
	require.Equal(t, base+"\n", string(written))

	req, err := http.NewRequest(http.MethodGet, base+"/authorities", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer file-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Contains(t, string(body), "agents.acme.ca.smallstep.com")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, "stderr: %s", stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not stop after cancel")
	}
	rest, _ := io.ReadAll(outR)
	require.Empty(t, rest, "exactly one line on stdout")
	_, err = os.Stat(urlFile)
	require.ErrorIs(t, err, os.ErrNotExist, "the URL file goes away with the server")
	require.FileExists(t, filepath.Join(dir, "state.json"), "authorities are saved at start")
	require.NotContains(t, stderr.String(), "file-token")
}

func TestMainRefusesBadInvocations(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte(" \n"), 0o600))
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no token":        {[]string{}, 2, "--token or --token-file"},
		"both tokens":     {[]string{"--token", "a", "--token-file", empty}, 2, "only one of --token and --token-file"},
		"empty file":      {[]string{"--token-file", empty}, 2, "is empty"},
		"missing file":    {[]string{"--token-file", filepath.Join(dir, "nope")}, 2, "read --token-file"},
		"unknown flag":    {[]string{"--token", "a", "--port", "1"}, 2, "unknown flag"},
		"extra argument":  {[]string{"--token", "a", "serve"}, 2, "unexpected arguments: serve"},
		"bad listen":      {[]string{"--token", "a", "--listen", "nonsense"}, 1, "listen"},
		"bad state file":  {[]string{"--token", "a", "--state", empty}, 1, "state file"},
		"state dir gone":  {[]string{"--token", "a", "--state", filepath.Join(dir, "no", "such", "dir", "s.json")}, 1, "create authorities"},
		"url file no dir": {[]string{"--token", "a", "--listen", "127.0.0.1:0", "--url-file", filepath.Join(dir, "no", "u")}, 1, "--url-file"},
		"fault rate > 1":  {[]string{"--token", "a", "--fault-rate", "1.5"}, 2, "--fault-rate: must be from 0 to 1, not 1.5"},
		"fault rate word": {[]string{"--token", "a", "--fault-rate", "often"}, 2, "--fault-rate"},
		"unknown kind":    {[]string{"--token", "a", "--fault-kinds", "503,418"}, 2, `--fault-kinds: unknown fault "418"`},
		"no kinds":        {[]string{"--token", "a", "--fault-kinds", ""}, 2, "--fault-kinds: give at least one"},
		"bad seed":        {[]string{"--token", "a", "--fault-seed", "x"}, 2, "--fault-seed"},
		"zero hang":       {[]string{"--token", "a", "--hang-for", "0s"}, 2, "--hang-for: must be positive"},
		"429 applied":     {[]string{"--token", "a", "--fault-applied", "429"}, 2, `--fault-applied: unknown fault "429"; choose from 500, 502, 504, hang`},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout strings.Builder
			stderr := &syncBuffer{}
			code := Main(context.Background(), tc.args, &stdout, stderr)
			require.Equal(t, tc.code, code, "stderr: %s", stderr.String())
			require.Contains(t, stderr.String(), tc.want)
			require.Empty(t, stdout.String(), "nothing on stdout unless listening")
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	var stdout strings.Builder
	stderr := &syncBuffer{}
	require.Equal(t, 0, Main(context.Background(), []string{"--help"}, &stdout, stderr))
	for _, flag := range []string{"--listen", "--token", "--token-file", "--state", "--team", "--url-file",
		"--fault-rate", "--fault-kinds", "--fault-seed", "--hang-for", "--fault-applied", "/api/_sim/faults", "/api/_sim/stats"} {
		require.Contains(t, stderr.String(), flag)
	}
	require.Contains(t, stderr.String(), "(default [429,502,503,504,reset])")
	require.Contains(t, stderr.String(), "(default 1m0s)")
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080/api"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 1}, "http://127.0.0.1:1/api"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 2}, "http://[::1]:2/api"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 3}, "http://[fe80::1]:3/api"},
	} {
		require.Equal(t, tc.want, baseURL(tc.addr))
	}
}

// startMain runs Main with args in the background and returns its base URL
// and a function that stops it and returns its exit code.
func startMain(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"--listen", "127.0.0.1:0", "--token", testToken}, args...), outW, stderr)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("Main did not stop after cancel")
			return -1
		}
	}
	t.Cleanup(func() { cancel() })
	return strings.TrimSpace(strings.TrimPrefix(line, "smallstep-sim listening on ")), stop
}

func TestMainInjectsFaultsFromFlags(t *testing.T) {
	base, stop := startMain(t, "--fault-rate", "1", "--fault-kinds", "503", "--fault-seed", "9")
	req, err := http.NewRequest(http.MethodGet, base+"/authorities", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	req, err = http.NewRequest(http.MethodGet, base+"/_sim/faults", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.JSONEq(t, `{"rate":1,"kinds":["503"],"seed":9,"hang_for":"1m0s","applied":[],
		"faults":{"total":1,"by_kind":{"429":0,"500":0,"502":0,"503":1,"504":0,"hang":0,"reset":0,"truncate":0}}}`, string(body))
	require.Equal(t, 0, stop())
}

func TestShutdownEndsHangingRequests(t *testing.T) {
	base, stop := startMain(t, "--fault-rate", "1", "--fault-kinds", "hang", "--hang-for", "10m")
	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/authorities", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, base+"/_sim/stats", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), `"requests":1`)
	}, 5*time.Second, 10*time.Millisecond, "the request hangs")
	start := time.Now()
	require.Equal(t, 0, stop(), "a clean shutdown, not one that gave up on a hanging request")
	require.Less(t, time.Since(start), shutdownGrace)
	require.Equal(t, http.StatusGatewayTimeout, <-status)
}
