package tpm

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// URIPrefix starts every TPM device ID: the EK's permanent identifier as
// Smallstep and the ACME device-attest-01 "tpm" format spell it.
const URIPrefix = "urn:ek:sha256:"

// FingerprintPrefix starts every EK fingerprint.
const FingerprintPrefix = "sha256:"

// KeyIDs returns both identifiers of an EK public key given as PKIX DER
// (a SubjectPublicKeyInfo, as in a "PUBLIC KEY" PEM block), derived from one
// SHA-256 digest over the key's PKIX DER encoding: the fingerprint
// "sha256:<hex>" and the device ID "urn:ek:sha256:<standard base64 with
// padding>".
//
// The key is parsed and re-encoded rather than hashed as given, so that a
// key read from a certificate and the same key read from the TPM give the
// same ID even when the certificate spells its SubjectPublicKeyInfo
// differently; the encoding is the one x509.MarshalPKIXPublicKey gives. Only
// the key types an EK can have are accepted: RSA, and ECC on P-256, P-384
// or P-521.
func KeyIDs(pkix []byte) (fingerprint, uri string, err error) {
	key, err := parsePKIX(pkix)
	if err == nil {
		key, err = checkEKKey(key)
	}
	if err != nil {
		return "", "", fmt.Errorf("parsing the EK public key: %w", err)
	}
	fingerprint, uri = keyIDs(marshalPKIX(key))
	return fingerprint, uri, nil
}

// keyIDs returns the fingerprint and device ID of a PKIX DER public key.
func keyIDs(der []byte) (fingerprint, uri string) {
	sum := sha256.Sum256(der)
	return FingerprintPrefix + hex.EncodeToString(sum[:]),
		URIPrefix + base64.StdEncoding.EncodeToString(sum[:])
}

// URIFromPublicKey returns the device ID ("urn:ek:sha256:...") of an EK
// public key given as PKIX DER; see KeyIDs.
func URIFromPublicKey(pkix []byte) (string, error) {
	_, uri, err := KeyIDs(pkix)
	return uri, err
}

// ParseURI checks that s is a well-formed TPM device ID: "urn:ek:sha256:"
// followed by the standard base64 encoding, with padding, of exactly 32
// bytes. It says what is wrong so that a caller can reject a typo before
// sending it to the API.
func ParseURI(s string) error {
	enc, ok := strings.CutPrefix(s, URIPrefix)
	if !ok {
		return fmt.Errorf("TPM device ID %q must start with %q", s, URIPrefix)
	}
	// The decoder skips CR and LF, which have no place in an ID.
	if strings.ContainsAny(enc, "\r\n") {
		return fmt.Errorf("TPM device ID %q contains a line break", s)
	}
	// Strict rejects non-canonical trailing bits, so each digest has exactly
	// one spelling and IDs can be compared as strings.
	sum, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return fmt.Errorf("TPM device ID %q: %q is not standard base64 with padding: %w", s, enc, err)
	}
	if len(sum) != 32 {
		// 64 hex digits are valid base64 too: the likeliest mix-up is a
		// fingerprint pasted in place of the ID.
		if raw, err := hex.DecodeString(enc); err == nil && len(raw) == 32 {
			return fmt.Errorf("TPM device ID %q has the digest in hex; the ID spells it in base64 (%s%s)",
				s, URIPrefix, base64.StdEncoding.EncodeToString(raw))
		}
		return fmt.Errorf("TPM device ID %q: decodes to %d bytes, want 32 (a SHA-256 digest)", s, len(sum))
	}
	return nil
}
