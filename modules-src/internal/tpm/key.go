package tpm

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/der"
	"github.com/stepfleet/smallstep/modules-src/internal/tpm/wire"
)

// This file is what the package needs of crypto/rsa, crypto/ecdsa and
// crypto/x509 for EK public keys: reading them from a TPM public area or a
// SubjectPublicKeyInfo, checking them, and encoding them as PKIX DER, the
// bytes device IDs are digests of. Importing those packages would add
// crypto/rsa's and crypto/ecdsa's FIPS self-tests to the target-side module
// and take it past its 3 MiB budget (issue 3). The tests hold every result
// against the standard library's.

// publicKey is an EK public key: RSA, or ECC on P-256, P-384 or P-521.
type publicKey struct {
	// n and e are an RSA key's modulus and public exponent.
	n *big.Int
	e int
	// curve is an ECC key's curve, nil for RSA; x and y are its point.
	curve *curve
	x, y  *big.Int
}

// curve is a NIST prime curve y² = x³ - 3x + b over GF(p) (FIPS 186-4,
// appendix D.1.2).
type curve struct {
	name  string // as crypto/elliptic names it: "P-256"
	tpmID uint16 // TPM_ECC_CURVE
	oid   der.OID
	size  int // bytes per coordinate
	p, b  *big.Int
}

func hexInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("bad curve constant " + s)
	}
	return n
}

// curves are the NIST curves of the TCG EK templates (RFC 5480, section
// 2.1.1.1, for the OIDs).
var curves = []*curve{
	{
		name: "P-256", tpmID: wire.ECCNistP256, oid: der.OID{1, 2, 840, 10045, 3, 1, 7}, size: 32,
		p: hexInt("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
		b: hexInt("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"),
	},
	{
		name: "P-384", tpmID: wire.ECCNistP384, oid: der.OID{1, 3, 132, 0, 34}, size: 48,
		p: hexInt("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff"),
		b: hexInt("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef"),
	},
	{
		name: "P-521", tpmID: wire.ECCNistP521, oid: der.OID{1, 3, 132, 0, 35}, size: 66,
		p: hexInt("01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
		b: hexInt("0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00"),
	},
}

// onCurve reports whether (x, y) is a point of c: both coordinates reduced
// modulo p and y² = x³ - 3x + b. (The point at infinity has no affine
// coordinates, so it cannot be given.)
func (c *curve) onCurve(x, y *big.Int) bool {
	if x.Sign() < 0 || x.Cmp(c.p) >= 0 || y.Sign() < 0 || y.Cmp(c.p) >= 0 {
		return false
	}
	rhs := new(big.Int).Mul(x, x)
	rhs.Mul(rhs, x)
	rhs.Sub(rhs, new(big.Int).Lsh(x, 1))
	rhs.Sub(rhs, x)
	rhs.Add(rhs, c.b)
	rhs.Mod(rhs, c.p)
	lhs := new(big.Int).Mul(y, y)
	lhs.Mod(lhs, c.p)
	return lhs.Cmp(rhs) == 0
}

// Object identifiers of RFC 3279, section 2.3.1 (rsaEncryption), and RFC
// 5480, section 2.1.1 (id-ecPublicKey).
var (
	oidRSAEncryption = der.OID{1, 2, 840, 113549, 1, 1, 1}
	oidECPublicKey   = der.OID{1, 2, 840, 10045, 2, 1}
)

// parsePublicArea turns a marshalled TPMT_PUBLIC (TPM 2.0 Part 2, section
// 12.2.4) into the public key it carries.
func parsePublicArea(b []byte) (*publicKey, error) {
	pub, err := wire.UnmarshalPublic(b)
	if err != nil {
		return nil, fmt.Errorf("parsing the TPM public area: %w", err)
	}
	return publicAreaKey(pub)
}

// publicAreaKey returns the key of a TPM public area, refusing anything
// that could not be an EK.
func publicAreaKey(pub *wire.Public) (*publicKey, error) {
	var k *publicKey
	switch pub.Type {
	case wire.AlgRSA:
		k = &publicKey{n: new(big.Int).SetBytes(pub.Unique), e: int(pub.Exponent)}
		// TPM 2.0 Part 2, section 12.2.3.5: zero means 2^16 + 1.
		if k.e == 0 {
			k.e = 65537
		}
	case wire.AlgECC:
		for _, c := range curves {
			if c.tpmID == pub.CurveID {
				k = &publicKey{curve: c, x: new(big.Int).SetBytes(pub.X), y: new(big.Int).SetBytes(pub.Y)}
			}
		}
		if k == nil {
			return nil, fmt.Errorf("reading the key in the TPM public area: unsupported ECC curve 0x%04x", pub.CurveID)
		}
	default:
		return nil, fmt.Errorf("reading the key in the TPM public area: unsupported public key type 0x%04x", uint16(pub.Type))
	}
	return checkEKKey(k)
}

// checkEKKey accepts the keys an EK can have (RSA or ECC, as in the TCG EK
// Credential Profile's templates) if they are usable, so that every key in
// a report has a well-defined ID.
func checkEKKey(k *publicKey) (*publicKey, error) {
	if k.curve != nil {
		if k.x == nil || k.y == nil {
			return nil, errors.New("ECC key is incomplete")
		}
		if !k.curve.onCurve(k.x, k.y) {
			return nil, fmt.Errorf("ECC key is invalid: the point is not on %s", k.curve.name)
		}
		return k, nil
	}
	// TCG templates use 2048 to 4096 bit keys; the bounds keep nonsense out
	// without judging key strength.
	if k.n == nil || k.n.BitLen() < 1024 || k.n.BitLen() > 16384 || k.n.Bit(0) == 0 {
		return nil, errors.New("RSA key has an invalid modulus")
	}
	if k.e < 3 || k.e%2 == 0 {
		return nil, fmt.Errorf("RSA key has an invalid exponent %d", k.e)
	}
	return k, nil
}

// describeKey returns the report's type and size fields for a key that
// passed checkEKKey.
func describeKey(k *publicKey) (typ string, bits int, curve string) {
	if k.curve != nil {
		return "ECC", 0, k.curve.name
	}
	return "RSA", k.n.BitLen(), ""
}

// marshalPKIX returns the DER SubjectPublicKeyInfo (RFC 5280, section
// 4.1.2.7) of a key that passed checkEKKey: for RSA, rsaEncryption with
// NULL parameters around a PKCS #1 RSAPublicKey; for ECC, id-ecPublicKey
// with the curve's OID around the uncompressed point. Byte for byte what
// x509.MarshalPKIXPublicKey returns.
func marshalPKIX(k *publicKey) []byte {
	var alg, key []byte
	if k.curve != nil {
		alg = der.AppendOID(der.AppendOID(nil, oidECPublicKey), k.curve.oid)
		key = make([]byte, 1+2*k.curve.size)
		key[0] = 4 // uncompressed (SEC 1, section 2.3.3)
		k.x.FillBytes(key[1 : 1+k.curve.size])
		k.y.FillBytes(key[1+k.curve.size:])
	} else {
		alg = der.Append(der.AppendOID(nil, oidRSAEncryption), der.IDNull, nil)
		e := big.NewInt(int64(k.e))
		key = der.Append(nil, der.IDSequence, der.AppendUnsigned(der.AppendUnsigned(nil, k.n.Bytes()), e.Bytes()))
	}
	spki := der.Append(nil, der.IDSequence, alg)
	spki = der.Append(spki, der.IDBitString, append([]byte{0}, key...))
	return der.Append(nil, der.IDSequence, spki)
}

// parsePKIX parses a DER SubjectPublicKeyInfo holding an RSA key or an ECC
// key on P-256, P-384 or P-521, by the rules of crypto/x509's
// ParsePKIXPublicKey; bytes after the SubjectPublicKeyInfo are an error.
// The key is not checked: that is checkEKKey's job.
func parsePKIX(b []byte) (*publicKey, error) {
	spki, rest, err := der.ReadTagged(b, der.TagSequence)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data after the SubjectPublicKeyInfo")
	}
	return parseSPKIContent(spki.Content)
}

// parseSPKIContent reads the contents of a SubjectPublicKeyInfo: an
// AlgorithmIdentifier and a BIT STRING, then anything, which is ignored as
// crypto/x509 ignores it.
func parseSPKIContent(b []byte) (*publicKey, error) {
	alg, b, err := der.ReadTagged(b, der.TagSequence)
	if err != nil {
		return nil, fmt.Errorf("algorithm: %w", err)
	}
	bits, _, err := der.ReadTagged(b, der.TagBitString)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	data, err := der.ParseBitString(bits.Content)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	oidElement, params, err := der.ReadTagged(alg.Content, der.TagOID)
	if err != nil {
		return nil, fmt.Errorf("algorithm: %w", err)
	}
	oid, err := der.ParseOID(oidElement.Content)
	if err != nil {
		return nil, fmt.Errorf("algorithm: %w", err)
	}
	// The parameters are the one element after the OID, if any.
	var param der.Element
	if len(params) != 0 {
		if param, _, err = der.Read(params); err != nil {
			return nil, fmt.Errorf("algorithm parameters: %w", err)
		}
	}
	switch {
	case oid.Equal(oidRSAEncryption):
		// RFC 3279, section 2.3.1: the parameters MUST be NULL.
		if !param.Is(der.TagNull) || len(param.Content) != 0 {
			return nil, errors.New("RSA key without NULL parameters")
		}
		return parseRSAPublicKey(data)
	case oid.Equal(oidECPublicKey):
		// RFC 5480, section 2.1.1: a namedCurve; explicit curve parameters
		// are not allowed in PKIX.
		if !param.Is(der.TagOID) {
			return nil, errors.New("invalid ECC parameters: not a named curve")
		}
		curveOID, err := der.ParseOID(param.Content)
		if err != nil {
			return nil, fmt.Errorf("invalid ECC parameters: %w", err)
		}
		for _, c := range curves {
			if c.oid.Equal(curveOID) {
				return parsePoint(c, data)
			}
		}
		return nil, fmt.Errorf("unsupported elliptic curve %s", curveOID)
	}
	return nil, fmt.Errorf("unsupported EK key type: public key algorithm %s", oid)
}

// parseRSAPublicKey reads a PKCS #1 RSAPublicKey (RFC 8017, appendix
// A.1.1); as crypto/x509 does, it ignores what follows the exponent.
func parseRSAPublicKey(b []byte) (*publicKey, error) {
	seq, _, err := der.ReadTagged(b, der.TagSequence)
	if err != nil {
		return nil, fmt.Errorf("invalid RSA public key: %w", err)
	}
	nElement, rest, err := der.ReadTagged(seq.Content, der.TagInteger)
	if err != nil {
		return nil, fmt.Errorf("invalid RSA modulus: %w", err)
	}
	eElement, _, err := der.ReadTagged(rest, der.TagInteger)
	if err != nil {
		return nil, fmt.Errorf("invalid RSA public exponent: %w", err)
	}
	n, err := der.ParseInteger(nElement.Content)
	if err != nil {
		return nil, fmt.Errorf("invalid RSA modulus: %w", err)
	}
	e, err := der.ParseInt64(eElement.Content)
	if err != nil {
		return nil, fmt.Errorf("invalid RSA public exponent: %w", err)
	}
	if e <= 0 || int64(int(e)) != e {
		return nil, errors.New("invalid RSA public exponent: not a positive int")
	}
	return &publicKey{n: new(big.Int).SetBytes(n), e: int(e)}, nil
}

// parsePoint reads an uncompressed point (SEC 1, section 2.3.4) and checks
// that it lies on the curve, as crypto/x509 does.
func parsePoint(c *curve, b []byte) (*publicKey, error) {
	if len(b) != 1+2*c.size || b[0] != 4 {
		return nil, errors.New("invalid ECC public key: not an uncompressed point of the curve's size")
	}
	k := &publicKey{curve: c, x: new(big.Int).SetBytes(b[1 : 1+c.size]), y: new(big.Int).SetBytes(b[1+c.size:])}
	if !c.onCurve(k.x, k.y) {
		return nil, fmt.Errorf("invalid ECC public key: the point is not on %s", c.name)
	}
	return k, nil
}
