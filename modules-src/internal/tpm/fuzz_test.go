package tpm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/google/go-tpm/tpm2"
)

// FuzzParseEKCert feeds NV contents to the certificate parser: whatever a
// TPM holds, parsing must not panic, and a key it accepts must have an ID.
func FuzzParseEKCert(f *testing.F) {
	ca := newTestCA(f)
	rsaCert := ca.issue(f, mustPublicKey(f, rsa2048PEM))
	f.Add(rsaCert)
	f.Add(ca.issue(f, mustPublicKey(f, p384PEM)))
	f.Add(withNegativeSerial(f, rsaCert))
	f.Add(append(append([]byte{}, rsaCert...), 0, 0, 0, 0))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Add([]byte{0xff, 0xff})

	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseEKCert(b)
		if err != nil {
			return
		}
		if _, _, err := KeyIDs(c.pub); err != nil {
			t.Fatalf("accepted a key without an ID: %v", err)
		}
	})
}

// FuzzParsePublic feeds TPMT_PUBLIC bytes (as TPM2_ReadPublic and
// TPM2_CreatePrimary return them, and as NV EK templates hold them) to the
// public area parser.
func FuzzParsePublic(f *testing.F) {
	f.Add(publicArea(f, mustPublicKey(f, rsa2048PEM)))
	f.Add(publicArea(f, mustPublicKey(f, p256PEM)))
	f.Add(publicArea(f, mustPublicKey(f, p384PEM)))
	f.Add(tpm2.Marshal(&tpm2.RSAEKTemplate))
	f.Add(tpm2.Marshal(&tpm2.ECCEKTemplate))
	k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(publicArea(f, &k.PublicKey))
	f.Add([]byte{0x00, 0x01, 0x00, 0x0b})

	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := parsePublicArea(b)
		if err != nil {
			return
		}
		if _, _, err := KeyIDs(key); err != nil {
			t.Fatalf("accepted a key without an ID: %v", err)
		}
	})
}
