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

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/der"
)

// The package reads keys and certificates without crypto/rsa,
// crypto/ecdsa, crypto/x509 or crypto/sha256 (see key.go); these tests
// hold its results against those packages', which test binaries may use.

// fromCrypto converts a standard library key to this package's.
func fromCrypto(t testing.TB, key crypto.PublicKey) *publicKey {
	t.Helper()
	switch k := key.(type) {
	case *rsa.PublicKey:
		return &publicKey{n: k.N, e: k.E}
	case *ecdsa.PublicKey:
		for _, c := range curves {
			if c.name == k.Curve.Params().Name {
				return &publicKey{curve: c, x: k.X, y: k.Y}
			}
		}
	}
	t.Fatalf("no publicKey for %T", key)
	return nil
}

// toCrypto converts a key to the standard library's, by way of its PKIX
// encoding.
func toCrypto(t testing.TB, k *publicKey) crypto.PublicKey {
	t.Helper()
	pub, err := x509.ParsePKIXPublicKey(marshalPKIX(k))
	require.NoError(t, err)
	return pub
}

// keyURI returns the device ID of a key.
func keyURI(k *publicKey) string {
	_, uri := keyIDs(marshalPKIX(k))
	return uri
}

func requireSameKey(t testing.TB, want crypto.PublicKey, got *publicKey) {
	t.Helper()
	require.True(t, want.(interface{ Equal(crypto.PublicKey) bool }).Equal(toCrypto(t, got)), "want %v, got %+v", want, got)
}

// rsaPublicKey returns an RSA public key with a random odd modulus of the
// given size. Encoding needs no private key, and generating a 4096-bit one
// under the race detector takes seconds.
func rsaPublicKey(t testing.TB, bits, e int) *rsa.PublicKey {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	require.NoError(t, err)
	n.SetBit(n, bits-1, 1)
	n.SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: e}
}

func ecdsaPublicKey(t testing.TB, c elliptic.Curve) *ecdsa.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return &k.PublicKey
}

// shortXKey returns a P-256 key whose X has a leading zero byte, which the
// encoding must keep.
func shortXKey(t testing.TB) *ecdsa.PublicKey {
	t.Helper()
	for {
		k := ecdsaPublicKey(t, elliptic.P256())
		if k.X.BitLen() <= 248 {
			return k
		}
	}
}

// ekKeys are keys of every type an EK can have.
func ekKeys(t testing.TB) map[string]crypto.PublicKey {
	return map[string]crypto.PublicKey{
		"RSA 2048":           rsaPublicKey(t, 2048, 65537),
		"RSA 3072":           rsaPublicKey(t, 3072, 65537),
		"RSA 4096":           rsaPublicKey(t, 4096, 65537),
		"RSA 2048, e=3":      rsaPublicKey(t, 2048, 3),
		"RSA 2048, big e":    rsaPublicKey(t, 2048, 1<<31-1),
		"RSA 2048, fixed":    mustPublicKey(t, rsa2048PEM),
		"ECC P-256":          ecdsaPublicKey(t, elliptic.P256()),
		"ECC P-256, short X": shortXKey(t),
		"ECC P-384":          ecdsaPublicKey(t, elliptic.P384()),
		"ECC P-521":          ecdsaPublicKey(t, elliptic.P521()),
	}
}

func TestCurvesMatchCryptoElliptic(t *testing.T) {
	for _, std := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		p := std.Params()
		var c *curve
		for _, cc := range curves {
			if cc.name == p.Name {
				c = cc
			}
		}
		require.NotNil(t, c, p.Name)
		require.Zero(t, c.p.Cmp(p.P), p.Name)
		require.Zero(t, c.b.Cmp(p.B), p.Name)
		require.Equal(t, (p.BitSize+7)/8, c.size, p.Name)
		require.True(t, c.onCurve(p.Gx, p.Gy), p.Name)
		require.False(t, c.onCurve(p.Gx, new(big.Int).Add(p.Gy, big.NewInt(1))), p.Name)
		require.False(t, c.onCurve(new(big.Int).Add(p.Gx, p.P), p.Gy), "%s: x not reduced", p.Name)
		require.False(t, c.onCurve(big.NewInt(-1), p.Gy), "%s: negative x", p.Name)
		oid, err := asn1.Marshal(asn1.ObjectIdentifier(c.oid))
		require.NoError(t, err)
		k := ecdsaPublicKey(t, std)
		spki, err := x509.MarshalPKIXPublicKey(k)
		require.NoError(t, err)
		require.Contains(t, string(spki), string(oid), "%s: OID", p.Name)
		require.True(t, c.onCurve(k.X, k.Y))
	}
}

func TestMarshalPKIXMatchesX509(t *testing.T) {
	for name, key := range ekKeys(t) {
		t.Run(name, func(t *testing.T) {
			want, err := x509.MarshalPKIXPublicKey(key)
			require.NoError(t, err)
			k, err := checkEKKey(fromCrypto(t, key))
			require.NoError(t, err)
			require.Equal(t, want, marshalPKIX(k))

			back, err := parsePKIX(want)
			require.NoError(t, err)
			requireSameKey(t, key, back)
		})
	}
}

func TestCheckEKKey(t *testing.T) {
	good := fromCrypto(t, mustPublicKey(t, p256PEM))
	offCurve := &publicKey{curve: good.curve, x: new(big.Int).Add(good.x, big.NewInt(1)), y: good.y}
	rsaKey := fromCrypto(t, mustPublicKey(t, rsa2048PEM))

	tests := []struct {
		name string
		key  *publicKey
		err  string
	}{
		{"RSA 2048", rsaKey, ""},
		{"ECC P-256", good, ""},
		{"ECC point off the curve", offCurve, "ECC key is invalid: the point is not on P-256"},
		{"ECC without a point", &publicKey{curve: good.curve}, "incomplete"},
		{"RSA even modulus", &publicKey{n: new(big.Int).Lsh(big.NewInt(1), 2047), e: 65537}, "invalid modulus"},
		{"RSA tiny modulus", &publicKey{n: big.NewInt(65), e: 65537}, "invalid modulus"},
		{"RSA without modulus", &publicKey{e: 65537}, "invalid modulus"},
		{"RSA even exponent", &publicKey{n: rsaKey.n, e: 65536}, "invalid exponent 65536"},
		{"RSA exponent 1", &publicKey{n: rsaKey.n, e: 1}, "invalid exponent 1"},
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

// spki encodes a SubjectPublicKeyInfo from its parts, for keys that no
// encoder would produce.
func spki(t testing.TB, alg asn1.ObjectIdentifier, params []byte, key []byte) []byte {
	t.Helper()
	ai := pkix.AlgorithmIdentifier{Algorithm: alg}
	if params != nil {
		ai.Parameters = asn1.RawValue{FullBytes: params}
	}
	der, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{ai, asn1.BitString{Bytes: key, BitLength: 8 * len(key)}})
	require.NoError(t, err)
	return der
}

type pkcs1PublicKey struct {
	N *big.Int
	E int
}

func TestParsePKIX(t *testing.T) {
	rsaKey := rsaPublicKey(t, 2048, 65537)
	pkcs1, err := asn1.Marshal(pkcs1PublicKey{N: rsaKey.N, E: rsaKey.E})
	require.NoError(t, err)
	negative, err := asn1.Marshal(pkcs1PublicKey{N: new(big.Int).Neg(rsaKey.N), E: 65537})
	require.NoError(t, err)
	zeroE, err := asn1.Marshal(pkcs1PublicKey{N: rsaKey.N, E: 0})
	require.NoError(t, err)
	p256 := ecdsaPublicKey(t, elliptic.P256())
	point := append([]byte{4}, append(p256.X.FillBytes(make([]byte, 32)), p256.Y.FillBytes(make([]byte, 32))...)...)
	compressed := append([]byte{byte(2 + p256.Y.Bit(0))}, p256.X.FillBytes(make([]byte, 32))...)
	offCurve := append([]byte{}, point...)
	offCurve[len(offCurve)-1] ^= 1
	curveOID := func(oid asn1.ObjectIdentifier) []byte {
		b, err := asn1.Marshal(oid)
		require.NoError(t, err)
		return b
	}
	oidRSA, oidEC := asn1.ObjectIdentifier(oidRSAEncryption), asn1.ObjectIdentifier(oidECPublicKey)
	oidP256, oidP384 := asn1.ObjectIdentifier(curves[0].oid), asn1.ObjectIdentifier(curves[1].oid)
	good, err := x509.MarshalPKIXPublicKey(p256)
	require.NoError(t, err)

	tests := []struct {
		name string
		der  []byte
		err  string // "" means that crypto/x509 reads it too
	}{
		{"RSA", spki(t, oidRSA, asn1.NullBytes, pkcs1), ""},
		{"RSA with bytes after the RSAPublicKey", spki(t, oidRSA, asn1.NullBytes, append(append([]byte{}, pkcs1...), 1, 2)), ""},
		{"RSA without parameters", spki(t, oidRSA, nil, pkcs1), "RSA key without NULL parameters"},
		{"RSA negative modulus", spki(t, oidRSA, asn1.NullBytes, negative), "invalid RSA modulus: negative integer"},
		{"RSA zero exponent", spki(t, oidRSA, asn1.NullBytes, zeroE), "invalid RSA public exponent"},
		{"RSA key not a SEQUENCE", spki(t, oidRSA, asn1.NullBytes, []byte{2, 1, 1}), "invalid RSA public key"},
		{"ECC P-256", spki(t, oidEC, curveOID(oidP256), point), ""},
		{"ECC without parameters", spki(t, oidEC, nil, point), "not a named curve"},
		{"ECC explicit parameters", spki(t, oidEC, []byte{0x30, 0}, point), "not a named curve"},
		{"ECC P-224", spki(t, oidEC, curveOID(asn1.ObjectIdentifier{1, 3, 132, 0, 33}), point), "unsupported elliptic curve 1.3.132.0.33"},
		{"ECC compressed point", spki(t, oidEC, curveOID(oidP256), compressed), "invalid ECC public key"},
		{"ECC point off the curve", spki(t, oidEC, curveOID(oidP256), offCurve), "invalid ECC public key: the point is not on P-256"},
		{"ECC point for another curve", spki(t, oidEC, curveOID(oidP384), point), "invalid ECC public key"},
		{"Ed25519", spki(t, asn1.ObjectIdentifier{1, 3, 101, 112}, nil, make([]byte, 32)), "unsupported EK key type: public key algorithm 1.3.101.112"},
		{"trailing data", append(append([]byte{}, good...), 0), "trailing data"},
		{"empty", nil, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePKIX(tt.der)
			want, xerr := x509.ParsePKIXPublicKey(tt.der)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.NoError(t, xerr)
			requireSameKey(t, want, got)
		})
	}
}

// FuzzParsePKIX holds the SubjectPublicKeyInfo parser to crypto/x509's:
// for RSA and for ECC on P-256, P-384 and P-521 they accept the same
// inputs and read the same keys, and a key that passes checkEKKey encodes
// back to what crypto/x509 would encode.
func FuzzParsePKIX(f *testing.F) {
	for _, key := range ekKeys(f) {
		der, err := x509.MarshalPKIXPublicKey(key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	for _, key := range []crypto.PublicKey{edPub, ecdsaPublicKey(f, elliptic.P224())} {
		der, err := x509.MarshalPKIXPublicKey(key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}

	f.Fuzz(func(t *testing.T, der []byte) {
		got, err := parsePKIX(der)
		want, xerr := x509.ParsePKIXPublicKey(der)
		if xerr == nil && supportedKey(want) && err != nil {
			t.Fatalf("crypto/x509 reads %T, this parser fails: %v", want, err)
		}
		if err != nil {
			return
		}
		if xerr != nil {
			t.Fatalf("this parser reads %+v, crypto/x509 fails: %v", got, xerr)
		}
		if _, err := checkEKKey(got); err != nil {
			return
		}
		theirs, err := x509.MarshalPKIXPublicKey(want)
		if err != nil {
			t.Fatal(err)
		}
		if mine := marshalPKIX(got); string(mine) != string(theirs) {
			t.Fatalf("encodings differ:\n%x\n%x", mine, theirs)
		}
	})
}

// supportedKey reports whether crypto/x509 read a key of a type this
// package reads too.
func supportedKey(key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return true
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256() || k.Curve == elliptic.P384() || k.Curve == elliptic.P521()
	}
	return false
}

// requireSameAsX509 checks a parsed certificate against what crypto/x509
// reads from it, when crypto/x509 reads it at all, and says whether it did.
func requireSameAsX509(t testing.TB, c *ekCert) bool {
	t.Helper()
	want, err := x509.ParseCertificate(c.der)
	if err != nil {
		return false
	}
	requireSameKey(t, want.PublicKey, c.pub)
	require.Equal(t, want.Issuer.String(), c.issuer, "issuer")
	require.True(t, want.NotBefore.Equal(c.notBefore), "notBefore: x509 %s, this package %s", want.NotBefore, c.notBefore)
	require.True(t, want.NotAfter.Equal(c.notAfter), "notAfter: x509 %s, this package %s", want.NotAfter, c.notAfter)
	return true
}

// atv is an AttributeTypeAndValue with the value left raw, to spell names
// the way manufacturers' CAs do.
type atv struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// rdnSET is a SET OF atv (encoding/asn1 takes a type whose name ends in
// SET for one).
type rdnSET []atv

// rawName encodes a Name whose CN value has the given tag.
func rawName(t testing.TB, tag int, value []byte) []byte {
	t.Helper()
	cn := atv{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: tag, Bytes: value}}
	o := atv{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("stepfleet")}}
	der, err := asn1.Marshal([]rdnSET{{o}, {cn}})
	require.NoError(t, err)
	return der
}

// issueWithIssuer returns a certificate for pub whose issuer is the given
// DER Name, valid from notBefore to notAfter.
func (ca *testCA) issueWithIssuer(t testing.TB, pub crypto.PublicKey, issuer []byte, notBefore, notAfter time.Time) []byte {
	t.Helper()
	parent := *ca.cert
	parent.RawSubject = issuer
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, pub, ca.key)
	require.NoError(t, err)
	return der
}

func TestParseEKCertMatchesX509(t *testing.T) {
	ca := newTestCA(t)
	p256 := ecdsaPublicKey(t, elliptic.P256())
	utc := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	generalized := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) // as swtpm writes notAfter
	bmp := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r>>8), byte(r))
		}
		return b
	}

	// Every EK key type, with the test CA's name.
	for name, key := range ekKeys(t) {
		t.Run(name, func(t *testing.T) {
			c, err := parseEKCert(ca.issue(t, key))
			require.NoError(t, err)
			require.True(t, requireSameAsX509(t, c))
		})
	}

	names := []struct {
		name   string
		issuer []byte
		want   string
	}{
		{"UTF8String", rawName(t, asn1.TagUTF8String, []byte("Zürich EK CA")), "CN=Zürich EK CA,O=stepfleet"},
		{"T61String is Latin-1", rawName(t, asn1.TagT61String, []byte("Z\xfcrich EK CA")), "CN=Zürich EK CA,O=stepfleet"},
		{"BMPString", rawName(t, asn1.TagBMPString, bmp("Zürich EK CA")), "CN=Zürich EK CA,O=stepfleet"},
		{"BMPString with terminator", rawName(t, asn1.TagBMPString, append(bmp("EK CA"), 0, 0)), "CN=EK CA,O=stepfleet"},
		{"IA5String", rawName(t, asn1.TagIA5String, []byte("EK CA")), "CN=EK CA,O=stepfleet"},
		{"PrintableString with & and *", rawName(t, asn1.TagPrintableString, []byte("R&D *")), "CN=R&D *,O=stepfleet"},
		{"NumericString", rawName(t, asn1.TagNumericString, []byte("12 34")), "CN=12 34,O=stepfleet"},
		{"escaped characters", rawName(t, asn1.TagUTF8String, []byte(" #EK, CA+1; \"<x>\" ")), `CN=\ #EK\, CA\+1\; \"\<x\>\"\ ,O=stepfleet`},
		{"leading #", rawName(t, asn1.TagUTF8String, []byte("#1 CA")), `CN=\#1 CA,O=stepfleet`},
		{"empty CN", rawName(t, asn1.TagUTF8String, nil), "O=stepfleet"},
	}
	for _, n := range names {
		t.Run("issuer "+n.name, func(t *testing.T) {
			c, err := parseEKCert(ca.issueWithIssuer(t, p256, n.issuer, utc, generalized))
			require.NoError(t, err)
			require.Equal(t, n.want, c.issuer)
			require.Equal(t, utc, c.notBefore.UTC())
			require.Equal(t, generalized, c.notAfter.UTC())
			require.True(t, requireSameAsX509(t, c), "crypto/x509 should read this certificate")
		})
	}

	// Values crypto/x509 refuses: it rejects the whole certificate; this
	// package reads the rest of it and leaves the issuer empty.
	refused := []struct {
		name   string
		issuer []byte
	}{
		{"INTEGER value", rawName(t, asn1.TagInteger, []byte{0x2a})},
		{"UTF8String not UTF-8", rawName(t, asn1.TagUTF8String, []byte{0xff})},
		{"PrintableString with @", rawName(t, asn1.TagPrintableString, []byte("a@b"))},
		{"BMPString of odd length", rawName(t, asn1.TagBMPString, []byte{0, 'a', 0})},
		{"BMPString with a surrogate", rawName(t, asn1.TagBMPString, []byte{0xd8, 0x00})},
		{"IA5String with 8-bit characters", rawName(t, asn1.TagIA5String, []byte{0xe9})},
		{"NumericString with letters", rawName(t, asn1.TagNumericString, []byte("12a"))},
	}
	for _, n := range refused {
		t.Run("issuer "+n.name, func(t *testing.T) {
			der := ca.issueWithIssuer(t, p256, n.issuer, utc, generalized)
			_, err := x509.ParseCertificate(der)
			require.Error(t, err)
			c, err := parseEKCert(der)
			require.NoError(t, err)
			require.Empty(t, c.issuer)
			requireSameKey(t, p256, c.pub)
		})
	}
}

// FuzzNameString holds the issuer formatting to pkix.Name.String() over
// every Name that crypto/x509 reads.
func FuzzNameString(f *testing.F) {
	seed := func(rdns ...[]atv) {
		var seq []rdnSET
		for _, r := range rdns {
			seq = append(seq, r)
		}
		b, err := asn1.Marshal(seq)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	str := func(oid asn1.ObjectIdentifier, tag int, v string) atv {
		return atv{Type: oid, Value: asn1.RawValue{Tag: tag, Bytes: []byte(v)}}
	}
	cn, o, ou, c, serial := asn1.ObjectIdentifier{2, 5, 4, 3}, asn1.ObjectIdentifier{2, 5, 4, 10}, asn1.ObjectIdentifier{2, 5, 4, 11}, asn1.ObjectIdentifier{2, 5, 4, 6}, asn1.ObjectIdentifier{2, 5, 4, 5}
	email := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	seed([]atv{str(c, asn1.TagPrintableString, "DE")}, []atv{str(o, asn1.TagUTF8String, "Infineon Technologies AG")},
		[]atv{str(ou, asn1.TagUTF8String, "OPTIGA(TM)")}, []atv{str(cn, asn1.TagUTF8String, "Infineon OPTIGA(TM) RSA Manufacturing CA 063")})
	seed([]atv{str(cn, asn1.TagPrintableString, "a"), str(o, asn1.TagPrintableString, "b")}, []atv{str(o, asn1.TagPrintableString, "c")},
		[]atv{str(email, asn1.TagIA5String, "ca@example.com")}, []atv{str(serial, asn1.TagPrintableString, "42")}, []atv{str(cn, asn1.TagPrintableString, "z")})
	seed([]atv{str(asn1.ObjectIdentifier{2, 23, 133, 2, 1}, asn1.TagUTF8String, "id:49465800")}, []atv{}, []atv{str(cn, asn1.TagT61String, "\xe9")})

	ca := newTestCA(f)
	key := ecdsaPublicKey(f, elliptic.P256())
	day := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		name, rest, err := der.Read(b)
		if err != nil || len(rest) != 0 {
			return
		}
		got := nameString(name)
		// crypto/x509 reads a Name only inside a certificate: make one.
		parent := *ca.cert
		parent.RawSubject = b
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), NotBefore: day, NotAfter: day}
		certDER, err := x509.CreateCertificate(rand.Reader, tmpl, &parent, key, ca.key)
		if err != nil {
			return
		}
		cert, err := x509.ParseCertificate(certDER)
		if err != nil {
			if got != "" {
				t.Fatalf("crypto/x509 refuses issuer %x (%v), this package reads %q", b, err, got)
			}
			return
		}
		if want := cert.Issuer.String(); got != want {
			t.Fatalf("issuer %x: crypto/x509 %q, this package %q", b, want, got)
		}
	})
}
