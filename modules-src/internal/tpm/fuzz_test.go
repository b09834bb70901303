package tpm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// FuzzParseEKCert feeds NV contents to the certificate parser: whatever a
// TPM holds, parsing must not panic, a key it accepts must have an ID, and
// where crypto/x509 reads the certificate and its key is an EK's, the parser
// must read it too, with the same key, issuer and validity.
func FuzzParseEKCert(f *testing.F) {
	ca := newTestCA(f)
	rsaCert := ca.issue(f, mustPublicKey(f, rsa2048PEM))
	f.Add(rsaCert)
	f.Add(ca.issue(f, mustPublicKey(f, p384PEM)))
	f.Add(withNegativeSerial(f, rsaCert))
	f.Add(append(append([]byte{}, rsaCert...), 0, 0, 0, 0))
	f.Add(ca.issueWithIssuer(f, mustPublicKey(f, p256PEM), rawName(f, asn1.TagT61String, []byte("Z\xfcrich")),
		time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Add([]byte{0xff, 0xff})

	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseEKCert(b)
		var outer asn1.RawValue
		if _, aerr := asn1.Unmarshal(b, &outer); aerr == nil {
			if want, xerr := x509.ParseCertificate(outer.FullBytes); xerr == nil && supportedKey(want.PublicKey) {
				if _, kerr := checkEKKey(fromCrypto(t, want.PublicKey)); kerr == nil && err != nil {
					t.Fatalf("crypto/x509 reads the certificate, this parser fails: %v", err)
				}
			}
		}
		if err != nil {
			return
		}
		if _, _, err := KeyIDs(marshalPKIX(c.pub)); err != nil {
			t.Fatalf("accepted a key without an ID: %v", err)
		}
		requireSameAsX509(t, c)
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
		if _, _, err := KeyIDs(marshalPKIX(key)); err != nil {
			t.Fatalf("accepted a key without an ID: %v", err)
		}
		// go-tpm reads the same key, or a key that is no EK.
		if pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](b); err == nil {
			if want, err := tpm2.Pub(*pub); err == nil {
				requireSameKey(t, want, key)
			}
		}
	})
}
