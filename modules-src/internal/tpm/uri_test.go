package tpm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Fixed keys; the expected IDs were computed with
//
//	openssl pkey -pubin -in key.pem -outform DER | openssl dgst -sha256 -binary | base64
const (
	rsa2048PEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwqsk2blYk07hTmzw3UUr
7Z73pmF3p7+/mS0go+/BczKFwV4c8TH10fDYW4A0SlRGTluE2aqa3pk6NeRu7zm7
BmMmnbT/wF+tabTeHdFEsXAQN01qc+W5it03YJWPI53Lovot4kVhKLCr7MwnU9g/
l/7yR6Dr6OqxfaGApDgTV3mJDVEGgxVCxUzhxnwGRIqob1Nta1KQUjcNKNlYprQB
BsAbkz3nL60y6YnCVIuc/Fl6L95EpK9sMKHz363wP3zR7IRvucXMxqcN1cDl6/47
54I0sjKAmejnb3Tvz5IITVi7WgRF+rtkQEoiSFt6OXTNwGtmw5FcL1IMZgs/eiPR
LwIDAQAB
-----END PUBLIC KEY-----
`
	p256PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYjOtR5Ru11RnXINscuWDR0Gi2dbj
nG+M9omhd9hYIAxaw3wnE9U8U4FfNnOTAn4QRIjpS3Rj5wyjqf8BJIaRpw==
-----END PUBLIC KEY-----
`
	p384PEM = `-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEcUej/lhDk3o/OneaJ8auLGJ4Z/Rq78hF
5lT+Q9Mb9XML4lb8X1Qf8jeOEhn+vxAGIR2Dd5u9gf7/65yJkCq38WGDEgNjdeZ8
s4j3EGowJD5uncC8TV8tMsWVusnS0auT
-----END PUBLIC KEY-----
`
)

func mustPublicKey(t testing.TB, s string) crypto.PublicKey {
	t.Helper()
	pub, err := x509.ParsePKIXPublicKey(mustPKIX(t, s))
	require.NoError(t, err)
	return pub
}

// mustPKIX returns the DER of a PEM public key.
func mustPKIX(t testing.TB, s string) []byte {
	t.Helper()
	block, _ := pem.Decode([]byte(s))
	require.NotNil(t, block)
	return block.Bytes
}

func mustX509(t testing.TB, key crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	require.NoError(t, err)
	return der
}

func TestKeyIDs(t *testing.T) {
	tests := []struct {
		name        string
		key         []byte
		fingerprint string
		uri         string
		err         string
	}{
		{
			name:        "RSA 2048",
			key:         mustPKIX(t, rsa2048PEM),
			fingerprint: "sha256:7832d74583a50a585de726c12efd9dfb2db583c3c8c92a5e337bc2ca29fd82aa",
			uri:         "urn:ek:sha256:eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqo=",
		},
		{
			name:        "ECC P-256",
			key:         mustPKIX(t, p256PEM),
			fingerprint: "sha256:00dde904047fd21ec9721e1dc8d280ddb492693f43958c8fd2b5db20a047be39",
			uri:         "urn:ek:sha256:AN3pBAR/0h7Jch4dyNKA3bSSaT9DlYyP0rXbIKBHvjk=",
		},
		{
			name:        "ECC P-384",
			key:         mustPKIX(t, p384PEM),
			fingerprint: "sha256:01fec880b930d171a560d5660e0c62c6c60486ea82c892b5c3d63af2106cc954",
			uri:         "urn:ek:sha256:Af7IgLkw0XGlYNVmDgxixsYEhuqCyJK1w9Y68hBsyVQ=",
		},
		{
			name: "not a public key",
			key:  []byte("nope"),
			err:  "parsing the EK public key",
		},
		{
			name: "not an EK's key",
			key:  spki(t, asn1.ObjectIdentifier{1, 3, 101, 112}, nil, make([]byte, 32)),
			err:  "parsing the EK public key: unsupported EK key type",
		},
		{
			name: "an RSA key too small for an EK",
			key:  mustX509(t, rsaPublicKey(t, 512, 65537)),
			err:  "parsing the EK public key: RSA key has an invalid modulus",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp, uri, err := KeyIDs(tt.key)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.fingerprint, fp)
			require.Equal(t, tt.uri, uri)
			require.NoError(t, ParseURI(uri))

			alone, err := URIFromPublicKey(tt.key)
			require.NoError(t, err)
			require.Equal(t, tt.uri, alone)
		})
	}
}

// TestKeyIDsReencode checks that the ID is a digest of the canonical
// encoding, not of the bytes given: an RSA key's NULL parameters spelled
// with trailing bytes after the RSAPublicKey still give the key's ID.
func TestKeyIDsReencode(t *testing.T) {
	key := mustPublicKey(t, rsa2048PEM).(*rsa.PublicKey)
	pkcs1, err := asn1.Marshal(pkcs1PublicKey{N: key.N, E: key.E})
	require.NoError(t, err)
	odd := spki(t, asn1.ObjectIdentifier(oidRSAEncryption), asn1.NullBytes, append(pkcs1, 0, 0))
	require.NotEqual(t, mustPKIX(t, rsa2048PEM), odd)
	_, uri, err := KeyIDs(odd)
	require.NoError(t, err)
	require.Equal(t, "urn:ek:sha256:eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqo=", uri)
}

// TestURIMatchesOpenSSL checks a fresh key against openssl, so the fixed
// vectors above are not the only witness.
func TestURIMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH; the fixed vectors in TestKeyIDs still apply")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))

	require.Equal(t, opensslURI(t, path), mustURI(t, &key.PublicKey))
}

// opensslURI computes a device ID from a PEM public key file with openssl
// alone.
func opensslURI(t *testing.T, pemPath string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c",
		`openssl pkey -pubin -in "$1" -outform DER | openssl dgst -sha256 -binary | openssl base64 -A`,
		"sh", pemPath).Output()
	require.NoError(t, err)
	return URIPrefix + strings.TrimSpace(string(out))
}

// mustURI returns the device ID of a standard library key.
func mustURI(t testing.TB, key crypto.PublicKey) string {
	t.Helper()
	uri, err := URIFromPublicKey(mustX509(t, key))
	require.NoError(t, err)
	return uri
}

func TestParseURI(t *testing.T) {
	const good = "urn:ek:sha256:eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqo="
	tests := []struct {
		name string
		in   string
		err  string
	}{
		{"valid", good, ""},
		{"valid, all zero digest", "urn:ek:sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ""},
		{"empty", "", "must start with"},
		{"no prefix", "eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqo=", "must start with"},
		{"upper-case prefix", "URN:EK:SHA256:eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqo=", "must start with"},
		{"other hash", "urn:ek:sha384:eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqo=", "must start with"},
		{"hex instead of base64", "urn:ek:sha256:7832d74583a50a585de726c12efd9dfb2db583c3c8c92a5e337bc2ca29fd82aa", "in base64 (" + good + ")"},
		{"URL-safe alphabet", "urn:ek:sha256:eDLXRYOlClhd5ybBLv2d-y21g8PIySpeM3vCyin9gqo=", "not standard base64"},
		{"no padding", "urn:ek:sha256:eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqo", "not standard base64"},
		{"non-canonical last character", "urn:ek:sha256:eDLXRYOlClhd5ybBLv2d+y21g8PIySpeM3vCyin9gqp=", "not standard base64"},
		{"trailing space", good + " ", "not standard base64"},
		{"line break", "urn:ek:sha256:eDLXRYOlClhd5ybBLv2d+y21g8PI\nySpeM3vCyin9gqo=", "line break"},
		{"31 bytes", "urn:ek:sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "decodes to 31 bytes, want 32"},
		{"33 bytes", "urn:ek:sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "decodes to 33 bytes, want 32"},
		{"prefix only", "urn:ek:sha256:", "decodes to 0 bytes, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParseURI(tt.in)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}
