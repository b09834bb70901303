// Package der reads and writes the few DER (ITU-T X.690) encodings an EK
// certificate and a SubjectPublicKeyInfo take: elements, INTEGER, BIT
// STRING, OBJECT IDENTIFIER, UTCTime and GeneralizedTime.
//
// It stands in for encoding/asn1 and crypto/x509 in the module that runs on
// targets, which must stay under 3 MiB (issue 3); encoding/asn1 and
// crypto/x509/pkix alone cost a quarter of a MiB. Each reader accepts what
// golang.org/x/crypto/cryptobyte, and so crypto/x509, accepts; the tests
// hold them side by side.
package der

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Classes of a tag (X.690, section 8.1.2.2).
const (
	ClassUniversal       = 0
	ClassContextSpecific = 2
)

// Universal tags (X.680, section 8.4).
const (
	TagInteger         = 2
	TagBitString       = 3
	TagNull            = 5
	TagOID             = 6
	TagUTF8String      = 12
	TagSequence        = 16
	TagSet             = 17
	TagNumericString   = 18
	TagPrintableString = 19
	TagT61String       = 20
	TagIA5String       = 22
	TagUTCTime         = 23
	TagGeneralizedTime = 24
	TagBMPString       = 30
)

// Element is one DER element.
type Element struct {
	Class       int
	Constructed bool
	Tag         int
	// Content is the element's contents octets; Full is the whole element.
	Content, Full []byte
}

// Is reports whether e is a universal element with the given tag, primitive
// or constructed as the tag requires (SEQUENCE and SET are constructed).
func (e Element) Is(tag int) bool {
	return e.Class == ClassUniversal && e.Tag == tag && e.Constructed == (tag == TagSequence || tag == TagSet)
}

var errTruncated = errors.New("truncated element")

// Read reads one element from the start of b and returns the bytes after
// it. Lengths must be definite and minimal, as DER demands.
func Read(b []byte) (Element, []byte, error) {
	if len(b) < 2 {
		return Element{}, nil, errTruncated
	}
	id, off := b[0], 1
	e := Element{Class: int(id >> 6), Constructed: id&0x20 != 0, Tag: int(id & 0x1f)}
	if e.Tag == 0x1f {
		// High tag number form: base 128, minimal, at least 31.
		tag, n, err := base128(b[off:])
		if err != nil {
			return Element{}, nil, fmt.Errorf("tag: %w", err)
		}
		if tag < 0x1f {
			return Element{}, nil, errors.New("tag: high tag number form for a low tag")
		}
		e.Tag, off = tag, off+n
	}
	if off >= len(b) {
		return Element{}, nil, errTruncated
	}
	length := int(b[off])
	off++
	if length&0x80 != 0 {
		n := length & 0x7f
		if n == 0 {
			return Element{}, nil, errors.New("indefinite length")
		}
		if n > 4 || off+n > len(b) {
			return Element{}, nil, errTruncated
		}
		if b[off] == 0 {
			return Element{}, nil, errors.New("length with a leading zero")
		}
		length = 0
		for _, c := range b[off : off+n] {
			length = length<<8 | int(c)
		}
		off += n
		if length < 0x80 {
			return Element{}, nil, errors.New("long form for a short length")
		}
	}
	if length > len(b)-off {
		return Element{}, nil, errTruncated
	}
	e.Content, e.Full = b[off:off+length:off+length], b[:off+length:off+length]
	return e, b[off+length:], nil
}

// ReadTagged reads one element and checks that it is a universal one with
// the given tag (see Element.Is).
func ReadTagged(b []byte, tag int) (Element, []byte, error) {
	e, rest, err := Read(b)
	if err != nil {
		return Element{}, nil, err
	}
	if !e.Is(tag) {
		return Element{}, nil, fmt.Errorf("element with tag %d where %d belongs", e.Tag, tag)
	}
	return e, rest, nil
}

// base128 reads a base-128 number as OIDs and high tag numbers are
// written, of at most 31 bits, and returns it and its length.
func base128(b []byte) (int, int, error) {
	v := 0
	for i, c := range b {
		if i == 5 || v >= 1<<(31-7) {
			return 0, 0, errors.New("base 128 number too large")
		}
		if i == 0 && c == 0x80 {
			return 0, 0, errors.New("non-minimal base 128 number")
		}
		v = v<<7 | int(c&0x7f)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errTruncated
}

// OID is an object identifier's arcs.
type OID []int

// ParseOID reads the contents of an OBJECT IDENTIFIER.
func ParseOID(b []byte) (OID, error) {
	if len(b) == 0 {
		return nil, errors.New("empty object identifier")
	}
	v, n, err := base128(b)
	if err != nil {
		return nil, fmt.Errorf("object identifier: %w", err)
	}
	// The first number packs two arcs, 40*first+second, first at most 2.
	oid := OID{2, v - 80}
	if v < 80 {
		oid = OID{v / 40, v % 40}
	}
	for b = b[n:]; len(b) > 0; b = b[n:] {
		if v, n, err = base128(b); err != nil {
			return nil, fmt.Errorf("object identifier: %w", err)
		}
		oid = append(oid, v)
	}
	return oid, nil
}

// Equal reports whether two OIDs are the same.
func (o OID) Equal(p OID) bool {
	if len(o) != len(p) {
		return false
	}
	for i := range o {
		if o[i] != p[i] {
			return false
		}
	}
	return true
}

// String returns the dotted form, "2.5.4.3".
func (o OID) String() string {
	var s strings.Builder
	for i, v := range o {
		if i > 0 {
			s.WriteByte('.')
		}
		s.WriteString(strconv.Itoa(v))
	}
	return s.String()
}

// ParseBitString reads the contents of a BIT STRING and returns its bits
// right-aligned in whole bytes, as crypto/x509 reads a key from one.
func ParseBitString(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("empty bit string")
	}
	pad, bits := uint(b[0]), b[1:]
	if pad > 7 || len(bits) == 0 && pad != 0 || len(bits) > 0 && bits[len(bits)-1]&(1<<pad-1) != 0 {
		return nil, errors.New("invalid bit string padding")
	}
	if pad == 0 {
		return bits, nil
	}
	out := make([]byte, len(bits))
	out[0] = bits[0] >> pad
	for i := 1; i < len(bits); i++ {
		out[i] = bits[i-1]<<(8-pad) | bits[i]>>pad
	}
	return out, nil
}

// ParseInteger checks the contents of an INTEGER and returns the
// magnitude of a positive one, big-endian without leading zeros; zero and
// negative values are refused.
func ParseInteger(b []byte) ([]byte, error) {
	if err := checkInteger(b); err != nil {
		return nil, err
	}
	if b[0]&0x80 != 0 {
		return nil, errors.New("negative integer")
	}
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return nil, errors.New("zero integer")
	}
	return b, nil
}

// ParseInt64 reads the contents of an INTEGER that fits in 64 bits.
func ParseInt64(b []byte) (int64, error) {
	if err := checkInteger(b); err != nil {
		return 0, err
	}
	if len(b) > 8 {
		return 0, errors.New("integer too large")
	}
	v := int64(int8(b[0])) // sign extension
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

// checkInteger checks that an INTEGER's contents are minimal two's
// complement.
func checkInteger(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("empty integer")
	case len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0):
		return errors.New("integer not minimally encoded")
	}
	return nil
}

// ParseTime reads a UTCTime or GeneralizedTime element (RFC 5280, section
// 4.1.2.5, with the latitude encoding/asn1 and cryptobyte allow: UTCTime
// without seconds, time zone offsets, GeneralizedTime fractions).
func ParseTime(e Element) (time.Time, error) {
	if e.Class != ClassUniversal || e.Constructed {
		return time.Time{}, errors.New("not a time")
	}
	s := string(e.Content)
	switch e.Tag {
	case TagUTCTime:
		format := "060102150405Z0700"
		t, err := time.Parse(format, s)
		if err != nil {
			format = "0601021504Z0700"
			t, err = time.Parse(format, s)
		}
		if err != nil || t.Format(format) != s {
			return time.Time{}, fmt.Errorf("invalid UTCTime %q", s)
		}
		// RFC 5280, section 4.1.2.5.1: two-digit years from 50 are 19xx.
		if t.Year() >= 2050 {
			t = t.AddDate(-100, 0, 0)
		}
		return t, nil
	case TagGeneralizedTime:
		const format = "20060102150405.999999999Z0700"
		t, err := time.Parse(format, s)
		if err != nil || t.Format(format) != s {
			return time.Time{}, fmt.Errorf("invalid GeneralizedTime %q", s)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("element with tag %d where a time belongs", e.Tag)
}

// Append appends an element with a one-byte identifier (universal class,
// or any tag below 31) and the given contents.
func Append(dst []byte, id byte, content []byte) []byte {
	dst = append(dst, id)
	switch n := len(content); {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}

// Identifier octets of the universal types this package writes.
const (
	IDInteger   = 0x02
	IDBitString = 0x03
	IDNull      = 0x05
	IDOID       = 0x06
	IDSequence  = 0x30
)

// AppendUnsigned appends an INTEGER holding a non-negative number given as
// big-endian bytes.
func AppendUnsigned(dst, magnitude []byte) []byte {
	for len(magnitude) > 0 && magnitude[0] == 0 {
		magnitude = magnitude[1:]
	}
	if len(magnitude) == 0 || magnitude[0]&0x80 != 0 {
		magnitude = append([]byte{0}, magnitude...)
	}
	return Append(dst, IDInteger, magnitude)
}

// AppendOID appends an OBJECT IDENTIFIER; o has at least two arcs, the
// first at most 2.
func AppendOID(dst []byte, o OID) []byte {
	content := appendBase128(nil, o[0]*40+o[1])
	for _, v := range o[2:] {
		content = appendBase128(content, v)
	}
	return Append(dst, IDOID, content)
}

func appendBase128(dst []byte, v int) []byte {
	n := 1
	for t := v >> 7; t > 0; t >>= 7 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		c := byte(v>>(7*i)) & 0x7f
		if i > 0 {
			c |= 0x80
		}
		dst = append(dst, c)
	}
	return dst
}
