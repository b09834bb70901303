// Package authority makes the self-signed root certificates that the
// simulator's GET /authorities returns, and computes their fingerprints the
// way the Smallstep agent checks them.
package authority

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// rootValidity is long enough that a state file never outlives its roots.
const rootValidity = 10 * 365 * 24 * time.Hour

// NewRoot generates a self-signed ECDSA P-256 CA certificate with the given
// common name and returns it PEM encoded. The private key is discarded: the
// simulator never signs anything, it only has to hand out a real root whose
// fingerprint a client can verify.
func NewRoot(commonName string, now time.Time) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate root key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", fmt.Errorf("generate serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute), // tolerate small clock skew
		NotAfter:              now.Add(rootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", fmt.Errorf("self-sign root %q: %w", commonName, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// Fingerprint returns the lowercase hex SHA-256 of the DER certificate in
// the first PEM block of root: the value step-agent expects as `fingerprint`.
func Fingerprint(root string) (string, error) {
	block, _ := pem.Decode([]byte(root))
	if block == nil || block.Type != "CERTIFICATE" {
		return "", errors.New("root is not a PEM encoded certificate")
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:]), nil
}
