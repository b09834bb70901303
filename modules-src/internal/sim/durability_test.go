package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/sim/store"
)

// buildSim builds the smallstep-sim command into a temporary directory.
// go test puts its own go command first on PATH.
func buildSim(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the simulator for this test")
	bin := filepath.Join(t.TempDir(), "smallstep-sim")
	out, err := exec.Command(goCmd, "build", "-o", bin, "github.com/stepfleet/smallstep/modules-src/cmd/smallstep-sim").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// simProcess is the simulator running as its own process.
type simProcess struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
}

func startSimProcess(t *testing.T, bin, tokenFile, state string) *simProcess {
	t.Helper()
	p := &simProcess{stderr: &syncBuffer{}}
	p.cmd = exec.Command(bin, "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--state", state)
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "stderr: %s", p.stderr.String())
	p.base = strings.TrimSpace(strings.TrimPrefix(line, "smallstep-sim listening on "))
	return p
}

func (p *simProcess) put(c *http.Client, path, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPut, p.base+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v any
	// Acknowledged means the whole answer arrived, not just its status.
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// readStateFile requires the state file to be a valid state and returns
// it.
func readStateFile(t *testing.T, path string) store.State {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, json.Valid(data), "the state file is valid JSON")
	var st store.State
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&st))
	return st
}

// TestAcknowledgedWritesSurviveSIGKILL hammers the real binary with
// concurrent PUTs from several clients, kills it with SIGKILL at a random
// moment, and checks that the state file is valid JSON holding every device
// whose PUT was answered with 200, and that the simulator restarts on it.
// Three rounds, each on the state the last one left.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the simulator and kills it three times")
	}
	bin := buildSim(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(testToken), 0o600))
	state := filepath.Join(dir, "state.json")

	const clients = 8
	acked := map[string]string{} // device ID -> the value of data.v it was acknowledged with
	for round := 0; round < 3; round++ {
		p := startSimProcess(t, bin, tokenFile, state)
		c := &http.Client{Timeout: 10 * time.Second}
		if round == 0 {
			status, err := p.put(c, "/device-collections/c", `{"slug":"c","displayName":"c","deviceType":"tpm","deviceTypeConfiguration":{}}`)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status)
		}

		var (
			mu         sync.Mutex
			unexpected []string
			wg         sync.WaitGroup
		)
		for g := 0; g < clients; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					id := fmt.Sprintf("r%d-c%d-%04d", round, g, i)
					v := fmt.Sprintf("%s-%d", id, rand.Int())
					status, err := p.put(c, "/collections/c/instances/"+id, `{"data":{"v":"`+v+`"}}`)
					if err != nil {
						return // killed
					}
					mu.Lock()
					if status == http.StatusOK {
						acked[id] = v
					} else {
						unexpected = append(unexpected, fmt.Sprintf("PUT %s: %d", id, status))
					}
					mu.Unlock()
				}
			}()
		}
		killAfter := time.Duration(50+rand.IntN(450)) * time.Millisecond
		time.Sleep(killAfter)
		require.NoError(t, p.cmd.Process.Kill()) // SIGKILL
		_ = p.cmd.Wait()
		wg.Wait()
		require.Empty(t, unexpected)
		require.NotContains(t, p.stderr.String(), testToken)

		st := readStateFile(t, state)
		devices := st.Collections["c"].Devices
		for id, v := range acked {
			require.Contains(t, devices, id, "round %d, killed after %s: acknowledged device lost", round, killAfter)
			require.Equal(t, v, devices[id].Data["v"], "round %d: device %s", round, id)
		}
		t.Logf("round %d: killed after %s; %d devices acknowledged so far, %d in the file", round, killAfter, len(acked), len(devices))
	}

	// The simulator starts on what the kills left and serves all of it.
	p := startSimProcess(t, bin, tokenFile, state)
	req, err := http.NewRequest(http.MethodGet, p.base+"/collections/c/items?pagination[first]=1000", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.NotContains(t, e.Name(), ".tmp-", "no temporary file is left once the simulator has started again")
	}
}
