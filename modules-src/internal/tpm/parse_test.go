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

// rawCertificate is RFC 5280 section 4.1 with the fields left raw, for
// tests to rewrite certificates.
type rawCertificate struct {
	TBS                rawTBSCertificate
	SignatureAlgorithm asn1.RawValue
	Signature          asn1.RawValue
}

type rawTBSCertificate struct {
	Version            int `asn1:"optional,explicit,default:0,tag:0"`
	SerialNumber       asn1.RawValue
	SignatureAlgorithm asn1.RawValue
	Issuer             asn1.RawValue
	Validity           asn1.RawValue
	Subject            asn1.RawValue
	PublicKey          asn1.RawValue
	Extensions         asn1.RawValue `asn1:"optional,explicit,tag:3"`
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

// mutate returns a copy of a certificate with its TBSCertificate changed
// by f, as a vendor's odd certificate might be.
func mutate(t testing.TB, der []byte, f func(*rawTBSCertificate)) []byte {
	t.Helper()
	var c rawCertificate
	_, err := asn1.Unmarshal(der, &c)
	require.NoError(t, err)
	f(&c.TBS)
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
	require.Error(t, err, "crypto/x509 should refuse this certificate, or the test shows no tolerance beyond it")
	// Fields this package does not read, spoiled in ways crypto/x509 and
	// encoding/asn1 refuse.
	junkAfterKey := mutate(t, rsaCert, func(c *rawTBSCertificate) {
		c.Extensions = asn1.RawValue{FullBytes: []byte{0xa3, 0x03, 0x30, 0x05, 0x00}}
	})
	oddIssuer := mutate(t, rsaCert, func(c *rawTBSCertificate) { c.Issuer = asn1.RawValue{FullBytes: []byte{0x05, 0x00}} })
	noVersion := mutate(t, rsaCert, func(c *rawTBSCertificate) { c.Version = 0 })

	tests := []struct {
		name   string
		der    []byte
		key    crypto.PublicKey
		issuer string
		err    string
	}{
		{name: "RSA", der: rsaCert, key: rsaKey},
		{name: "ECC P-256", der: ca.issue(t, p256Key), key: p256Key},
		{name: "NV padding after the certificate", der: append(append([]byte{}, rsaCert...), make([]byte, 300)...), key: rsaKey},
		{name: "0xFF padding after the certificate", der: append(append([]byte{}, rsaCert...), 0xff, 0xff, 0xff), key: rsaKey},
		{name: "unknown critical extension", der: ca.issue(t, p256Key, unknownCritical), key: p256Key},
		{name: "malformed critical extension", der: badCriticalCert, key: p256Key},
		{name: "negative serial", der: withNegativeSerial(t, rsaCert), key: rsaKey},
		{name: "malformed bytes after the key", der: junkAfterKey, key: rsaKey},
		{name: "version 1, without the version field", der: noVersion, key: rsaKey},
		{name: "issuer not a Name", der: oddIssuer, key: rsaKey, issuer: "-"},
		{name: "Ed25519 is not an EK", der: ca.issue(t, edPub), err: "unsupported EK key type"},
		{name: "empty", der: nil, err: "not a DER certificate"},
		{name: "erased NV", der: []byte{0xff, 0xff, 0xff, 0xff}, err: "not a DER certificate"},
		{name: "not a SEQUENCE", der: []byte{0x02, 0x01, 0x01}, err: "does not start with a SEQUENCE"},
		{name: "truncated", der: rsaCert[:len(rsaCert)/2], err: "not a DER certificate"},
		{name: "no signature", der: []byte{0x30, 0x02, 0x30, 0x00}, err: "parsing the certificate: signature algorithm"},
		{name: "short TBSCertificate", der: []byte{0x30, 0x08, 0x30, 0x02, 0x02, 0x00, 0x05, 0x00, 0x05, 0x00}, err: "parsing the certificate: TBSCertificate field 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseEKCert(tt.der)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, mustURI(t, tt.key), keyURI(c.pub))
			switch tt.issuer {
			case "":
				require.Equal(t, "CN=Test EK CA,O=stepfleet", c.issuer)
			case "-":
				require.Empty(t, c.issuer)
			}
			require.Equal(t, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), c.notBefore.UTC())
			require.Equal(t, time.Date(2045, 1, 2, 3, 4, 5, 0, time.UTC), c.notAfter.UTC())
			// The stored certificate is the DER alone, without padding.
			var outer asn1.RawValue
			rest, err := asn1.Unmarshal(c.der, &outer)
			require.NoError(t, err)
			require.Empty(t, rest)

			// Where crypto/x509 reads the certificate, it reads the same.
			requireSameAsX509(t, c)
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
		params, err := pub.Parameters.RSADetail()
		require.NoError(t, err)
		p := *params
		p.KeyBits = tpm2.TPMKeyBits(k.N.BitLen())
		if k.E != 65537 {
			p.Exponent = uint32(k.E)
		}
		pub.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &p)
		pub.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{Buffer: k.N.Bytes()})
		return tpm2.Marshal(&pub)
	case *ecdsa.PublicKey:
		pub := tpm2.ECCEKTemplate
		size := (k.Curve.Params().BitSize + 7) / 8
		pub.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
			X: tpm2.TPM2BECCParameter{Buffer: k.X.FillBytes(make([]byte, size))},
			Y: tpm2.TPM2BECCParameter{Buffer: k.Y.FillBytes(make([]byte, size))},
		})
		params, err := pub.Parameters.ECCDetail()
		require.NoError(t, err)
		p := *params
		p.CurveID = map[elliptic.Curve]tpm2.TPMECCCurve{
			elliptic.P256(): tpm2.TPMECCNistP256, elliptic.P384(): tpm2.TPMECCNistP384, elliptic.P521(): tpm2.TPMECCNistP521,
		}[k.Curve]
		pub.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &p)
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
		require.Equal(t, mustURI(t, key), keyURI(got))
	}

	good := publicArea(t, mustPublicKey(t, p256PEM))
	_, err := parsePublicArea(good[:len(good)-5])
	require.ErrorContains(t, err, "parsing the TPM public area")

	// A P-256 point that is not on the curve.
	bad := append([]byte{}, good...)
	bad[len(bad)-1] ^= 1
	_, err = parsePublicArea(bad)
	require.ErrorContains(t, err, "ECC key is invalid")

	// Keys that no EK has.
	p224 := tpm2.ECCEKTemplate
	p224.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{CurveID: tpm2.TPMECCNistP224})
	_, err = parsePublicArea(tpm2.Marshal(&p224))
	require.EqualError(t, err, "reading the key in the TPM public area: unsupported ECC curve 0x0002")
	hmac := tpm2.TPMTPublic{Type: tpm2.TPMAlgKeyedHash, NameAlg: tpm2.TPMAlgSHA256,
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{}),
		Unique:     tpm2.NewTPMUPublicID(tpm2.TPMAlgKeyedHash, &tpm2.TPM2BDigest{})}
	_, err = parsePublicArea(tpm2.Marshal(&hmac))
	require.EqualError(t, err, "reading the key in the TPM public area: unsupported public key type 0x0008")
}

// TestPublicAreaMatchesGoTPM holds the key read from a TPM public area to
// go-tpm's tpm2.Pub.
func TestPublicAreaMatchesGoTPM(t *testing.T) {
	for name, key := range ekKeys(t) {
		t.Run(name, func(t *testing.T) {
			b := publicArea(t, key)
			pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](b)
			require.NoError(t, err)
			want, err := tpm2.Pub(*pub)
			require.NoError(t, err)
			got, err := parsePublicArea(b)
			require.NoError(t, err)
			requireSameKey(t, want, got)
		})
	}
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
			typ, bits, curve := describeKey(fromCrypto(t, mustPublicKey(t, tt.pem)))
			require.Equal(t, tt.typ, typ)
			require.Equal(t, tt.bits, bits)
			require.Equal(t, tt.curve, curve)
			e := EK{Type: typ, Bits: bits, Curve: curve}
			require.Equal(t, tt.kind, e.Kind())
		})
	}
}
