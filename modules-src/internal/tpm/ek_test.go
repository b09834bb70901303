package tpm

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSelectEK(t *testing.T) {
	rsaLow := EK{Type: "RSA", Bits: 2048, URI: "rsa-low", Source: "nv:0x01c00002"}
	rsaHigh := EK{Type: "RSA", Bits: 2048, URI: "rsa-high", Source: "nv:0x01c00012"}
	p256 := EK{Type: "ECC", Curve: "P-256", URI: "p256", Source: "template"}
	p384 := EK{Type: "ECC", Curve: "P-384", URI: "p384", Source: "nv:0x01c00016"}
	rsa3072 := EK{Type: "RSA", Bits: 3072, URI: "rsa3072", Source: "nv:0x01c0001c"}

	tests := []struct {
		name   string
		eks    []EK
		ekType string
		want   string
		err    string
	}{
		{"default prefers RSA 2048", []EK{p256, rsaLow, p384}, "", "rsa-low", ""},
		{"default falls back to ECC P-256", []EK{p384, p256}, "", "p256", ""},
		{"default falls back to the first", []EK{p384, rsa3072}, "", "p384", ""},
		{"first of a type wins", []EK{rsaLow, rsaHigh}, "rsa2048", "rsa-low", ""},
		{"by type", []EK{rsaLow, p256, p384}, "ecc-p384", "p384", ""},
		{"type is case-insensitive", []EK{rsaLow, p256}, "ECC-P256", "p256", ""},
		{"RSA 3072", []EK{rsaLow, rsa3072}, "rsa3072", "rsa3072", ""},
		{"missing type", []EK{rsaLow, p256}, "ecc-p384", "", "this TPM has no ecc-p384 endorsement key; it has rsa2048, ecc-p256"},
		{"unknown type", []EK{rsaLow}, "ecc", "", `unknown EK type "ecc"; use one of rsa2048, ecc-p256, ecc-p384, ecc-p521, rsa3072, rsa4096`},
		{"empty report", nil, "", "", "the TPM report lists no endorsement key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectEK(&Report{EKs: tt.eks}, tt.ekType)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.URI)
		})
	}

	_, err := SelectEK(nil, "")
	require.Error(t, err)
}

// TestReportJSONNames pins the field names, which are the Ansible module's
// return values.
func TestReportJSONNames(t *testing.T) {
	full := Report{
		EKs: []EK{{
			Type: "ECC", Bits: 1, Curve: "P-256", PublicKeyPEM: "p", Fingerprint: "f", URI: "u",
			CertificatePEM: "c", Issuer: "i", NotBefore: "nb", NotAfter: "na", Source: "s", VerifiedBy: "v",
		}},
		EKURI:    "u",
		Warnings: []string{},
	}
	b, err := json.Marshal(full)
	require.NoError(t, err)
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &top))
	require.Equal(t, []string{"ek_uri", "eks", "warnings"}, keys(top))
	require.JSONEq(t, "[]", string(top["warnings"]))

	var eks []map[string]any
	require.NoError(t, json.Unmarshal(top["eks"], &eks))
	require.Equal(t, []string{
		"bits", "certificate_pem", "curve", "fingerprint", "issuer", "not_after", "not_before",
		"public_key_pem", "source", "type", "uri", "verified_by",
	}, keys(eks[0]))

	// A key without a certificate leaves the certificate fields out.
	b, err = json.Marshal(EK{Type: "RSA", Bits: 2048, PublicKeyPEM: "p", Fingerprint: "f", URI: "u", Source: "template"})
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"RSA","bits":2048,"public_key_pem":"p","fingerprint":"f","uri":"u","source":"template"}`, string(b))
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
