package authority

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewRootIsSelfSignedP256CA(t *testing.T) {
	root, err := NewRoot("demo Agents Root CA", time.Now())
	require.NoError(t, err)

	block, rest := pem.Decode([]byte(root))
	require.NotNil(t, block)
	require.Empty(t, rest)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)

	require.Equal(t, "demo Agents Root CA", cert.Subject.CommonName)
	require.True(t, cert.IsCA)
	require.NoError(t, cert.CheckSignatureFrom(cert))
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "public key is %T", cert.PublicKey)
	require.Equal(t, elliptic.P256(), pub.Curve)
}

func TestFingerprintIsSHA256OfDER(t *testing.T) {
	root, err := NewRoot("x", time.Now())
	require.NoError(t, err)
	block, _ := pem.Decode([]byte(root))
	sum := sha256.Sum256(block.Bytes)

	fp, err := Fingerprint(root)
	require.NoError(t, err)
	require.Equal(t, hex.EncodeToString(sum[:]), fp)
	require.Len(t, fp, 64)
}

func TestFingerprintRejectsNonCertificates(t *testing.T) {
	for name, in := range map[string]string{
		"empty":   "",
		"garbage": "not pem",
		"key":     "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Fingerprint(in)
			require.Error(t, err)
		})
	}
}
