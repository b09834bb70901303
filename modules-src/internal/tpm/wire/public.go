package wire

import "fmt"

// ObjectAttributes is TPMA_OBJECT (TPM 2.0 Part 2, section 8.3).
type ObjectAttributes uint32

// Object attributes.
const (
	AttrFixedTPM            ObjectAttributes = 1 << 1
	AttrSTClear             ObjectAttributes = 1 << 2
	AttrFixedParent         ObjectAttributes = 1 << 4
	AttrSensitiveDataOrigin ObjectAttributes = 1 << 5
	AttrUserWithAuth        ObjectAttributes = 1 << 6
	AttrAdminWithPolicy     ObjectAttributes = 1 << 7
	AttrNoDA                ObjectAttributes = 1 << 10
	AttrRestricted          ObjectAttributes = 1 << 16
	AttrDecrypt             ObjectAttributes = 1 << 17
	AttrSignEncrypt         ObjectAttributes = 1 << 18
)

// Public is TPMT_PUBLIC (TPM 2.0 Part 2, section 12.2.4) for the four
// object types, with the type-specific unions flattened: each field says
// for which types it is used.
type Public struct {
	Type       AlgID
	NameAlg    AlgID
	Attributes ObjectAttributes
	AuthPolicy []byte
	// Symmetric is the symmetric definition of an RSA, ECC or
	// symmetric-cipher key (TPMT_SYM_DEF_OBJECT).
	Symmetric SymDef
	// Scheme is the scheme of an RSA, ECC or keyed-hash key.
	Scheme Scheme
	// KeyBits and Exponent are an RSA key's size and public exponent (0
	// means 65537).
	KeyBits  uint16
	Exponent uint32
	// CurveID and KDF are an ECC key's curve and key derivation scheme.
	CurveID uint16
	KDF     Scheme
	// Unique is an RSA key's modulus, or the digest that identifies a
	// keyed-hash or symmetric-cipher object.
	Unique []byte
	// X and Y are an ECC key's public point.
	X, Y []byte
}

// SymDef is TPMT_SYM_DEF_OBJECT (TPM 2.0 Part 2, section 11.1.7). For XOR,
// KeyBits holds the hash algorithm and Mode is unused.
type SymDef struct {
	Algorithm AlgID
	KeyBits   uint16
	Mode      AlgID
}

// Scheme is any of TPMT_RSA_SCHEME, TPMT_ECC_SCHEME, TPMT_KDF_SCHEME and
// TPMT_KEYEDHASH_SCHEME (TPM 2.0 Part 2, sections 11.2): the scheme and its
// hash algorithm, plus the count of ECDAA or the KDF of XOR in Extra.
type Scheme struct {
	Scheme AlgID
	Hash   AlgID
	Extra  uint16
}

// UnmarshalPublic reads a TPMT_PUBLIC from the start of b; bytes after it
// are ignored, as NV indexes may be larger than the template they hold.
func UnmarshalPublic(b []byte) (*Public, error) {
	d := &decoder{b: b}
	p := decodePublic(d)
	if d.err != nil {
		return nil, fmt.Errorf("TPMT_PUBLIC: %w", d.err)
	}
	return p, nil
}

// decodePublic2B reads a TPM2B_PUBLIC: a size and a TPMT_PUBLIC.
func decodePublic2B(d *decoder) *Public {
	inner := &decoder{b: d.tpm2b()}
	if d.err != nil {
		return nil
	}
	p := decodePublic(inner)
	if inner.err != nil {
		d.fail("TPM2B_PUBLIC: %w", inner.err)
		return nil
	}
	return p
}

func decodePublic(d *decoder) *Public {
	p := &Public{
		Type:       AlgID(d.u16()),
		NameAlg:    AlgID(d.u16()),
		Attributes: ObjectAttributes(d.u32()),
		AuthPolicy: d.tpm2b(),
	}
	switch p.Type {
	case AlgKeyedHash:
		p.Scheme = decodeKeyedHashScheme(d)
		p.Unique = d.tpm2b()
	case AlgSymCipher:
		p.Symmetric = decodeSymDef(d)
		p.Unique = d.tpm2b()
	case AlgRSA:
		p.Symmetric = decodeSymDef(d)
		p.Scheme = decodeAsymScheme(d)
		p.KeyBits = d.u16()
		p.Exponent = d.u32()
		p.Unique = d.tpm2b()
	case AlgECC:
		p.Symmetric = decodeSymDef(d)
		p.Scheme = decodeAsymScheme(d)
		p.CurveID = d.u16()
		p.KDF = decodeKDFScheme(d)
		p.X = d.tpm2b()
		p.Y = d.tpm2b()
	default:
		d.fail("unsupported object type 0x%04x", uint16(p.Type))
	}
	if d.err != nil {
		return nil
	}
	return p
}

func decodeSymDef(d *decoder) SymDef {
	s := SymDef{Algorithm: AlgID(d.u16())}
	switch s.Algorithm {
	case AlgNull:
	case AlgAES, AlgSM4, AlgCamellia, AlgTDES:
		s.KeyBits = d.u16()
		s.Mode = AlgID(d.u16())
	case AlgXOR:
		s.KeyBits = d.u16()
	default:
		d.fail("unsupported symmetric algorithm 0x%04x", uint16(s.Algorithm))
	}
	return s
}

// decodeAsymScheme reads the scheme of an RSA or ECC key (TPMU_ASYM_SCHEME).
func decodeAsymScheme(d *decoder) Scheme {
	s := Scheme{Scheme: AlgID(d.u16())}
	switch s.Scheme {
	case AlgNull, AlgRSAES:
	case AlgRSASSA, AlgRSAPSS, AlgOAEP, AlgECDSA, AlgECDH, AlgECMQV, AlgSM2, AlgECSchnorr:
		s.Hash = AlgID(d.u16())
	case AlgECDAA:
		s.Hash = AlgID(d.u16())
		s.Extra = d.u16()
	default:
		d.fail("unsupported key scheme 0x%04x", uint16(s.Scheme))
	}
	return s
}

func decodeKDFScheme(d *decoder) Scheme {
	s := Scheme{Scheme: AlgID(d.u16())}
	switch s.Scheme {
	case AlgNull:
	case AlgMGF1, AlgKDF1SP80056A, AlgKDF2, AlgKDF1SP800108, AlgECDH:
		s.Hash = AlgID(d.u16())
	default:
		d.fail("unsupported KDF scheme 0x%04x", uint16(s.Scheme))
	}
	return s
}

func decodeKeyedHashScheme(d *decoder) Scheme {
	s := Scheme{Scheme: AlgID(d.u16())}
	switch s.Scheme {
	case AlgNull:
	case AlgHMAC:
		s.Hash = AlgID(d.u16())
	case AlgXOR:
		s.Hash = AlgID(d.u16())
		s.Extra = d.u16()
	default:
		d.fail("unsupported keyed-hash scheme 0x%04x", uint16(s.Scheme))
	}
	return s
}

// Marshal returns the TPMT_PUBLIC encoding of p. Buffers longer than a
// TPM2B holds (64 KiB) cannot come from a TPM and are not checked for.
func (p *Public) Marshal() []byte {
	e := &encoder{}
	e.u16(uint16(p.Type))
	e.u16(uint16(p.NameAlg))
	e.u32(uint32(p.Attributes))
	e.tpm2b(p.AuthPolicy)
	switch p.Type {
	case AlgKeyedHash:
		encodeScheme(e, p.Scheme)
		e.tpm2b(p.Unique)
	case AlgSymCipher:
		encodeSymDef(e, p.Symmetric)
		e.tpm2b(p.Unique)
	case AlgRSA:
		encodeSymDef(e, p.Symmetric)
		encodeScheme(e, p.Scheme)
		e.u16(p.KeyBits)
		e.u32(p.Exponent)
		e.tpm2b(p.Unique)
	case AlgECC:
		encodeSymDef(e, p.Symmetric)
		encodeScheme(e, p.Scheme)
		e.u16(p.CurveID)
		encodeScheme(e, p.KDF)
		e.tpm2b(p.X)
		e.tpm2b(p.Y)
	}
	return e.b
}

func encodeSymDef(e *encoder, s SymDef) {
	e.u16(uint16(s.Algorithm))
	switch s.Algorithm {
	case AlgAES, AlgSM4, AlgCamellia, AlgTDES:
		e.u16(s.KeyBits)
		e.u16(uint16(s.Mode))
	case AlgXOR:
		e.u16(s.KeyBits)
	}
}

// encodeScheme writes any of the schemes: which fields follow the
// scheme's ID depends on the ID alone.
func encodeScheme(e *encoder, s Scheme) {
	e.u16(uint16(s.Scheme))
	switch s.Scheme {
	case AlgNull, AlgRSAES:
	case AlgECDAA:
		e.u16(uint16(s.Hash))
		e.u16(s.Extra)
	case AlgXOR:
		e.u16(uint16(s.Hash))
		e.u16(s.Extra)
	default:
		e.u16(uint16(s.Hash))
	}
}

// ekPolicy is the authorization policy of the TCG EK templates,
// TPM2_PolicySecret(TPM_RH_ENDORSEMENT) (TCG EK Credential Profile for TPM
// Family 2.0, annex B.3.2).
var ekPolicy = []byte{
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8,
	0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
	0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64,
	0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
}

// ekAttributes are the TCG EK templates' object attributes.
const ekAttributes = AttrFixedTPM | AttrFixedParent | AttrSensitiveDataOrigin | AttrAdminWithPolicy | AttrRestricted | AttrDecrypt

// RSAEKTemplate returns the TCG default template of the RSA 2048 EK (TCG
// EK Credential Profile, annex B.3.3, template L-1), as go-tpm's
// tpm2.RSAEKTemplate. Each call returns fresh buffers.
func RSAEKTemplate() Public {
	return Public{
		Type:       AlgRSA,
		NameAlg:    AlgSHA256,
		Attributes: ekAttributes,
		AuthPolicy: append([]byte{}, ekPolicy...),
		Symmetric:  SymDef{Algorithm: AlgAES, KeyBits: 128, Mode: AlgCFB},
		Scheme:     Scheme{Scheme: AlgNull},
		KeyBits:    2048,
		Unique:     make([]byte, 256),
	}
}

// ECCEKTemplate returns the TCG default template of the ECC P-256 EK (TCG
// EK Credential Profile, annex B.3.4, template L-2), as go-tpm's
// tpm2.ECCEKTemplate. Each call returns fresh buffers.
func ECCEKTemplate() Public {
	return Public{
		Type:       AlgECC,
		NameAlg:    AlgSHA256,
		Attributes: ekAttributes,
		AuthPolicy: append([]byte{}, ekPolicy...),
		Symmetric:  SymDef{Algorithm: AlgAES, KeyBits: 128, Mode: AlgCFB},
		Scheme:     Scheme{Scheme: AlgNull},
		CurveID:    ECCNistP256,
		KDF:        Scheme{Scheme: AlgNull},
		X:          make([]byte, 32),
		Y:          make([]byte, 32),
	}
}

// NVAttributes is TPMA_NV (TPM 2.0 Part 2, section 13.4).
type NVAttributes uint32

// NV attributes this package reads.
const (
	NVOwnerRead  NVAttributes = 1 << 17
	NVAuthRead   NVAttributes = 1 << 18
	NVReadLocked NVAttributes = 1 << 28
	NVWritten    NVAttributes = 1 << 29
)

// NT returns the index type, TPM_NT (TPM 2.0 Part 2, section 13.4):
// 0 is an ordinary index.
func (a NVAttributes) NT() uint8 { return uint8(a>>4) & 0xF }

// NVPublic is TPMS_NV_PUBLIC (TPM 2.0 Part 2, section 13.5).
type NVPublic struct {
	Index      Handle
	NameAlg    AlgID
	Attributes NVAttributes
	AuthPolicy []byte
	DataSize   uint16
}
