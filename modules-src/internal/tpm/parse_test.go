package tpm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/require"
)

// testCA signs certificates for keys the test does not hold, as a TPM
// manufacturer certifies EKs.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test EK CA", Organization: []string{"stepfleet"}},
		NotBefore:             time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2044, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key}
}

// issue returns a DER EK certificate for pub; extra extensions let a test
// add the kind that crypto/x509 refuses to parse.
func (ca *testCA) issue(t testing.TB, pub crypto.PublicKey, extra ...pkix.Extension) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(2),
		NotBefore:       time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		NotAfter:        time.Date(2045, 1, 2, 3, 4, 5, 0, time.UTC),
		KeyUsage:        x509.KeyUsageKeyEncipherment,
		ExtraExtensions: extra,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	require.NoError(t, err)
	return der
}

// withNegativeSerial rewrites a certificate's serial number to -1, which
// some manufacturers' EK certificates carry and crypto/x509 refuses unless
// GODEBUG x509negativeserial=1 (the default while go.mod says go 1.22).
func withNegativeSerial(t testing.TB, der []byte) []byte {
	t.Helper()
	var c rawCertificate
	_, err := asn1.Unmarshal(der, &c)
	require.NoError(t, err)
	c.TBS.SerialNumber = asn1.RawValue{FullBytes: []byte{0x02, 0x01, 0xff}}
	out, err := asn1.Marshal(c)
	require.NoError(t, err)
	return out
}

func TestParseEKCert(t *testing.T) {
	ca := newTestCA(t)
	rsaKey := mustPublicKey(t, rsa2048PEM)
	p256Key := mustPublicKey(t, p256PEM)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	// basicConstraints whose value is not a SEQUENCE: crypto/x509 rejects
	// the whole certificate.
	badCritical := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: []byte{0x05, 0x00}}
	// An unknown critical extension: crypto/x509 parses it and only
	// refuses to verify a chain with it, which is not our business.
	unknownCritical := pkix.Extension{Id: asn1.ObjectIdentifier{2, 23, 133, 99, 1}, Critical: true, Value: []byte{0x05, 0x00}}

	rsaCert := ca.issue(t, rsaKey)
	badCriticalCert := ca.issue(t, p256Key, badCritical)
	_, err = x509.ParseCertificate(badCriticalCert)
	require.Error(t, err, "crypto/x509 should refuse this certificate, or the fallback goes untested")
	tests := []struct {
		name string
		der  []byte
		key  crypto.PublicKey
		err  string
	}{
		{name: "RSA", der: rsaCert, key: rsaKey},
		{name: "ECC P-256", der: ca.issue(t, p256Key), key: p256Key},
		{name: "NV padding after the certificate", der: append(append([]byte{}, rsaCert...), make([]byte, 300)...), key: rsaKey},
		{name: "0xFF padding after the certificate", der: append(append([]byte{}, rsaCert...), 0xff, 0xff, 0xff), key: rsaKey},
		{name: "unknown critical extension", der: ca.issue(t, p256Key, unknownCritical), key: p256Key},
		{name: "malformed critical extension (fallback)", der: badCriticalCert, key: p256Key},
		{name: "negative serial", der: withNegativeSerial(t, rsaCert), key: rsaKey},
		{name: "Ed25519 is not an EK", der: ca.issue(t, edPub), err: "unsupported EK key type"},
		{name: "empty", der: nil, err: "not a DER certificate"},
		{name: "erased NV", der: []byte{0xff, 0xff, 0xff, 0xff}, err: "not a DER certificate"},
		{name: "not a SEQUENCE", der: []byte{0x02, 0x01, 0x01}, err: "does not start with a SEQUENCE"},
		{name: "truncated", der: rsaCert[:len(rsaCert)/2], err: "not a DER certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseEKCert(tt.der)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, mustURI(t, tt.key), mustURI(t, c.pub))
			require.Equal(t, "CN=Test EK CA,O=stepfleet", c.issuer)
			require.Equal(t, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), c.notBefore.UTC())
			require.Equal(t, time.Date(2045, 1, 2, 3, 4, 5, 0, time.UTC), c.notAfter.UTC())
			// The stored certificate is the DER alone, without padding.
			var outer asn1.RawValue
			rest, err := asn1.Unmarshal(c.der, &outer)
			require.NoError(t, err)
			require.Empty(t, rest)

			// The fallback reads the same fields from every certificate.
			lenient, err := parseEKCertLenient(c.der)
			require.NoError(t, err)
			require.Equal(t, c, lenient)
		})
	}
}

func TestCheckEKKey(t *testing.T) {
	good := mustPublicKey(t, p256PEM).(*ecdsa.PublicKey)
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).Add(good.X, big.NewInt(1)), Y: good.Y}
	rsaKey := mustPublicKey(t, rsa2048PEM).(*rsa.PublicKey)

	tests := []struct {
		name string
		key  crypto.PublicKey
		err  string
	}{
		{"RSA 2048", rsaKey, ""},
		{"ECC P-256", good, ""},
		{"ECC point off the curve", offCurve, "ECC key is invalid"},
		{"ECC without a point", &ecdsa.PublicKey{Curve: elliptic.P256()}, "incomplete"},
		{"RSA even modulus", &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 2047), E: 65537}, "invalid modulus"},
		{"RSA tiny modulus", &rsa.PublicKey{N: big.NewInt(65), E: 65537}, "invalid modulus"},
		{"RSA even exponent", &rsa.PublicKey{N: rsaKey.N, E: 65536}, "invalid exponent"},
		{"Ed25519", ed25519.PublicKey(make([]byte, 32)), "unsupported EK key type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkEKKey(tt.key)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

// publicArea returns the marshalled TPMT_PUBLIC of an EK template carrying
// the given key, as TPM2_ReadPublic would return it.
func publicArea(t testing.TB, key crypto.PublicKey) []byte {
	t.Helper()
	switch k := key.(type) {
	case *rsa.PublicKey:
		pub := tpm2.RSAEKTemplate
		pub.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{Buffer: k.N.Bytes()})
		return tpm2.Marshal(&pub)
	case *ecdsa.PublicKey:
		pub := tpm2.ECCEKTemplate
		size := (k.Curve.Params().BitSize + 7) / 8
		pub.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
			X: tpm2.TPM2BECCParameter{Buffer: k.X.FillBytes(make([]byte, size))},
			Y: tpm2.TPM2BECCParameter{Buffer: k.Y.FillBytes(make([]byte, size))},
		})
		if k.Curve == elliptic.P384() {
			params, err := pub.Parameters.ECCDetail()
			require.NoError(t, err)
			p := *params
			p.CurveID = tpm2.TPMECCNistP384
			pub.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &p)
		}
		return tpm2.Marshal(&pub)
	}
	t.Fatalf("no public area for %T", key)
	return nil
}

func TestParsePublicArea(t *testing.T) {
	for _, pemKey := range []string{rsa2048PEM, p256PEM, p384PEM} {
		key := mustPublicKey(t, pemKey)
		got, err := parsePublicArea(publicArea(t, key))
		require.NoError(t, err)
		require.Equal(t, mustURI(t, key), mustURI(t, got))
	}

	good := publicArea(t, mustPublicKey(t, p256PEM))
	_, err := parsePublicArea(good[:len(good)-5])
	require.ErrorContains(t, err, "parsing the TPM public area")

	// A P-256 point that is not on the curve.
	bad := append([]byte{}, good...)
	bad[len(bad)-1] ^= 1
	_, err = parsePublicArea(bad)
	require.ErrorContains(t, err, "ECC key is invalid")
}

func TestDescribeKey(t *testing.T) {
	tests := []struct {
		pem   string
		typ   string
		bits  int
		curve string
		kind  string
	}{
		{rsa2048PEM, "RSA", 2048, "", "rsa2048"},
		{p256PEM, "ECC", 0, "P-256", "ecc-p256"},
		{p384PEM, "ECC", 0, "P-384", "ecc-p384"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			typ, bits, curve := describeKey(mustPublicKey(t, tt.pem))
			require.Equal(t, tt.typ, typ)
			require.Equal(t, tt.bits, bits)
			require.Equal(t, tt.curve, curve)
			e := EK{Type: typ, Bits: bits, Curve: curve}
			require.Equal(t, tt.kind, e.Kind())
		})
	}
}
