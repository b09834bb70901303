// Package ekinfo is the tpm_ek_info module: it reports the endorsement keys
// of the target's TPM and the device ID to register.
package ekinfo

import (
	"os"
	"strings"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
	"github.com/stepfleet/smallstep/modules-src/internal/tpm"
)

// EKTypes are the values of the ek_type option.
var EKTypes = []any{"rsa2048", "ecc-p256", "ecc-p384", "ecc-p521", "rsa3072", "rsa4096"}

// Spec is the module's argument spec.
func Spec() *ansible.Spec {
	return &ansible.Spec{Options: map[string]*ansible.Option{
		"tpm_path":        {Type: ansible.TypeStr},
		"ek_type":         {Type: ansible.TypeStr, Choices: EKTypes},
		"fail_if_missing": {Type: ansible.TypeBool, Default: true},
		"set_facts":       {Type: ansible.TypeBool, Default: true},
	}}
}

// Run is the module. It only reads, so check mode changes nothing about it.
func Run(m *ansible.Module) error {
	p := m.Params
	path := p.Str("tpm_path")
	if !p.Bool("fail_if_missing") && !present(path) {
		m.Set("found", false)
		m.Set("eks", []any{})
		m.Set("ek_uri", "")
		if p.Bool("set_facts") {
			m.SetFacts(map[string]any{"smallstep_tpm": map[string]any{"found": false, "ek_uri": "", "eks": []any{}}})
		}
		return nil
	}
	t, used, err := tpm.Open(path)
	if err != nil {
		return err
	}
	defer t.Close()
	report, err := tpm.ReadEKs(t)
	if err != nil {
		return err
	}
	for _, w := range report.Warnings {
		m.Warn("%s", w)
	}
	ek, err := tpm.SelectEK(report, p.Str("ek_type"))
	if err != nil {
		return err
	}
	m.Set("found", true)
	m.Set("tpm_path", used)
	m.Set("eks", report.EKs)
	m.Set("ek_uri", ek.URI)
	m.Set("ek", ek)
	if p.Bool("set_facts") {
		m.SetFacts(map[string]any{"smallstep_tpm": map[string]any{"found": true, "ek_uri": ek.URI, "eks": report.EKs, "tpm_path": used}})
	}
	return nil
}

// present reports whether a TPM could be at path: a device file, a swtpm
// socket, or for TCP always (only a connection tells).
func present(path string) bool {
	switch {
	case path == "":
		return exists(tpm.DeviceRM) || exists(tpm.DeviceRaw)
	case strings.HasPrefix(path, "unix:"):
		return exists(strings.TrimPrefix(path, "unix:"))
	case strings.HasPrefix(path, "tcp:"):
		return true
	}
	return exists(path)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
