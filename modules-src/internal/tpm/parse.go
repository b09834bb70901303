package tpm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// ekCert is what this package keeps of an EK certificate.
type ekCert struct {
	der       []byte // the certificate alone, without NV padding
	pub       crypto.PublicKey
	issuer    string
	notBefore time.Time
	notAfter  time.Time
}

// parseEKCert parses an EK certificate as read from NV.
//
// NV indexes are often larger than the certificate they hold, so bytes after
// the outer SEQUENCE are dropped first. Vendors' EK certificates also trip
// crypto/x509 (negative serial numbers, TPM-specific subjectAltName
// encodings, odd algorithm parameters), so when x509.ParseCertificate
// refuses one we read only the fields we need with encoding/asn1; the key is
// the part that identifies the device, not the certificate's polish.
func parseEKCert(b []byte) (*ekCert, error) {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(b, &outer); err != nil {
		return nil, fmt.Errorf("not a DER certificate: %w", err)
	}
	if outer.Class != asn1.ClassUniversal || outer.Tag != asn1.TagSequence || !outer.IsCompound {
		return nil, errors.New("not a DER certificate: does not start with a SEQUENCE")
	}
	der := outer.FullBytes

	if cert, err := x509.ParseCertificate(der); err == nil {
		pub, err := checkEKKey(cert.PublicKey)
		if err != nil {
			return nil, err
		}
		return &ekCert{
			der:       der,
			pub:       pub,
			issuer:    cert.Issuer.String(),
			notBefore: cert.NotBefore,
			notAfter:  cert.NotAfter,
		}, nil
	}
	return parseEKCertLenient(der)
}

// rawCertificate is RFC 5280 section 4.1 with every field this package does
// not use left as raw bytes, so nothing in them can make parsing fail.
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
	Validity           rawValidity
	Subject            asn1.RawValue
	PublicKey          asn1.RawValue
	IssuerUniqueID     asn1.RawValue `asn1:"optional,tag:1"`
	SubjectUniqueID    asn1.RawValue `asn1:"optional,tag:2"`
	Extensions         asn1.RawValue `asn1:"optional,explicit,tag:3"`
}

type rawValidity struct {
	NotBefore, NotAfter time.Time
}

func parseEKCertLenient(der []byte) (*ekCert, error) {
	var c rawCertificate
	if _, err := asn1.Unmarshal(der, &c); err != nil {
		return nil, fmt.Errorf("parsing the certificate: %w", err)
	}
	key, err := x509.ParsePKIXPublicKey(c.TBS.PublicKey.FullBytes)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate's public key: %w", err)
	}
	pub, err := checkEKKey(key)
	if err != nil {
		return nil, err
	}
	out := &ekCert{
		der:       der,
		pub:       pub,
		notBefore: c.TBS.Validity.NotBefore,
		notAfter:  c.TBS.Validity.NotAfter,
	}
	// The issuer is informational; an unreadable one is left empty.
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(c.TBS.Issuer.FullBytes, &rdn); err == nil {
		var name pkix.Name
		name.FillFromRDNSequence(&rdn)
		out.issuer = name.String()
	}
	return out, nil
}

// parsePublicArea turns a marshalled TPMT_PUBLIC (TPM 2.0 Part 2, section
// 12.2.4) into the public key it carries.
func parsePublicArea(b []byte) (crypto.PublicKey, error) {
	pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](b)
	if err != nil {
		return nil, fmt.Errorf("parsing the TPM public area: %w", err)
	}
	return publicKey(pub)
}

// publicKey returns the key of a TPM public area as a crypto.PublicKey,
// refusing anything that could not be an EK.
func publicKey(pub *tpm2.TPMTPublic) (crypto.PublicKey, error) {
	key, err := tpm2.Pub(*pub)
	if err != nil {
		return nil, fmt.Errorf("reading the key in the TPM public area: %w", err)
	}
	return checkEKKey(key)
}

// checkEKKey accepts the key types an EK can have (RSA or ECC, as in the
// TCG EK Credential Profile's templates) and checks that the key is usable, so
// that every key in a report has a well-defined ID.
func checkEKKey(key crypto.PublicKey) (crypto.PublicKey, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		// TCG templates use 2048 to 4096 bit keys; the bounds keep nonsense
		// out without judging key strength.
		if k.N == nil || k.N.BitLen() < 1024 || k.N.BitLen() > 16384 || k.N.Bit(0) == 0 {
			return nil, errors.New("RSA key has an invalid modulus")
		}
		if k.E < 3 || k.E%2 == 0 {
			return nil, fmt.Errorf("RSA key has an invalid exponent %d", k.E)
		}
		return k, nil
	case *ecdsa.PublicKey:
		// ECDH() checks that the point is on the curve.
		if k.Curve == nil || k.X == nil || k.Y == nil {
			return nil, errors.New("ECC key is incomplete")
		}
		if _, err := k.ECDH(); err != nil {
			return nil, fmt.Errorf("ECC key is invalid: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported EK key type %T", key)
	}
}

// describeKey returns the report's type and size fields for a key that
// passed checkEKKey.
func describeKey(key crypto.PublicKey) (typ string, bits int, curve string) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen(), ""
	case *ecdsa.PublicKey:
		return "ECC", 0, k.Curve.Params().Name
	}
	return "", 0, ""
}
