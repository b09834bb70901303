package ekinfo

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

func run(t *testing.T, args map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(args)
	require.NoError(t, err)
	return ansible.Execute("tpm_ek_info", Spec(), b, func(string) (string, bool) { return "", false }, Run)
}

func TestMissingTPMIsNotFoundWhenAllowed(t *testing.T) {
	sock := "unix:" + filepath.Join(t.TempDir(), "absent.sock")
	res := run(t, map[string]any{"tpm_path": sock, "fail_if_missing": false})
	require.Nil(t, res["failed"])
	require.Equal(t, false, res["found"])
	facts := res["ansible_facts"].(map[string]any)["smallstep_tpm"].(map[string]any)
	require.Equal(t, false, facts["found"])
}

func TestMissingTPMFailsByDefault(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "absent.sock")
	res := run(t, map[string]any{"tpm_path": "unix:" + sock})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], sock)
}

func TestBadEKTypeNamesChoices(t *testing.T) {
	res := run(t, map[string]any{"ek_type": "rsa1024"})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "ek_type")
	require.Contains(t, res["msg"], "rsa2048")
}
