// Package wire speaks the TPM 2.0 command format (TPM 2.0 Part 1, section
// 18; Part 3) for the few read-only commands that reading endorsement keys
// takes: TPM2_GetCapability, TPM2_NV_ReadPublic, TPM2_NV_Read,
// TPM2_ReadPublic, TPM2_CreatePrimary and TPM2_FlushContext, with password
// authorization only.
//
// It replaces github.com/google/go-tpm in the module that runs on targets:
// go-tpm's tpm2 package brings in crypto/rsa, crypto/ecdsa and the rest of
// Go's FIPS module, which alone would take the binary past its 3 MiB budget
// (issue 3). The tests hold every command and structure byte for byte
// against go-tpm's.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// TPM sends one command and returns the TPM's response. go-tpm's
// transport.TPM has the same method, so either side's transports serve the
// other.
type TPM interface {
	Send(cmd []byte) ([]byte, error)
}

// Handle is a TPM_HANDLE (TPM 2.0 Part 2, section 7).
type Handle uint32

// Permanent handles (TPM 2.0 Part 2, section 7.4).
const (
	RHOwner       Handle = 0x40000001
	RSPW          Handle = 0x40000009 // the password authorization session
	RHEndorsement Handle = 0x4000000B
)

// AlgID is a TPM_ALG_ID (TPM 2.0 Part 2, section 6.3; TCG Algorithm
// Registry).
type AlgID uint16

// Algorithms this package names.
const (
	AlgRSA          AlgID = 0x0001
	AlgTDES         AlgID = 0x0003
	AlgSHA1         AlgID = 0x0004
	AlgHMAC         AlgID = 0x0005
	AlgAES          AlgID = 0x0006
	AlgMGF1         AlgID = 0x0007
	AlgKeyedHash    AlgID = 0x0008
	AlgXOR          AlgID = 0x000A
	AlgSHA256       AlgID = 0x000B
	AlgNull         AlgID = 0x0010
	AlgSM4          AlgID = 0x0013
	AlgRSASSA       AlgID = 0x0014
	AlgRSAES        AlgID = 0x0015
	AlgRSAPSS       AlgID = 0x0016
	AlgOAEP         AlgID = 0x0017
	AlgECDSA        AlgID = 0x0018
	AlgECDH         AlgID = 0x0019
	AlgECDAA        AlgID = 0x001A
	AlgSM2          AlgID = 0x001B
	AlgECSchnorr    AlgID = 0x001C
	AlgECMQV        AlgID = 0x001D
	AlgKDF1SP80056A AlgID = 0x0020
	AlgKDF2         AlgID = 0x0021
	AlgKDF1SP800108 AlgID = 0x0022
	AlgECC          AlgID = 0x0023
	AlgSymCipher    AlgID = 0x0025
	AlgCamellia     AlgID = 0x0026
	AlgCFB          AlgID = 0x0043
)

// ECC curves (TPM 2.0 Part 2, section 6.4).
const (
	ECCNistP256 uint16 = 0x0003
	ECCNistP384 uint16 = 0x0004
	ECCNistP521 uint16 = 0x0005
)

// Command codes (TPM 2.0 Part 2, section 6.5.2).
const (
	ccCreatePrimary uint32 = 0x00000131
	ccNVRead        uint32 = 0x0000014E
	ccFlushContext  uint32 = 0x00000165
	ccNVReadPublic  uint32 = 0x00000169
	ccReadPublic    uint32 = 0x00000173
	ccGetCapability uint32 = 0x0000017A
)

// Structure tags (TPM 2.0 Part 2, section 6.9).
const (
	stNoSessions uint16 = 0x8001
	stSessions   uint16 = 0x8002
)

// errTruncated is what a decoder reports when the bytes end early.
var errTruncated = errors.New("truncated")

// decoder reads TPM structures, which are big-endian with 16-bit size
// prefixes on variable-length buffers (TPM2B). The first failure sticks,
// so a structure is read in full and checked once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.err = errTruncated
		d.b = nil
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if b := d.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// tpm2b reads a TPM2B: a 16-bit size and that many bytes. The result is a
// copy, so callers may keep it.
func (d *decoder) tpm2b() []byte {
	n := int(d.u16())
	b := d.take(n)
	if d.err != nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

// encoder writes TPM structures.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }

func (e *encoder) tpm2b(b []byte) {
	e.u16(uint16(len(b)))
	e.b = append(e.b, b...)
}
