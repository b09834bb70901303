package tpm

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/der"
)

// ekCert is what this package keeps of an EK certificate.
type ekCert struct {
	der       []byte // the certificate alone, without NV padding
	pub       *publicKey
	issuer    string
	notBefore time.Time
	notAfter  time.Time
}

// parseEKCert parses an EK certificate as read from NV.
//
// NV indexes are often larger than the certificate they hold, so bytes after
// the outer SEQUENCE are dropped first. Then only the fields this package
// reports are read (RFC 5280, section 4.1), and the others are skipped
// unread: vendors' EK certificates carry negative serial numbers,
// TPM-specific subjectAltName encodings and odd algorithm parameters that
// trip crypto/x509, and the key is the part that identifies the device, not
// the certificate's polish. Whatever crypto/x509 reads, this reads the same
// way; the tests hold the two side by side.
func parseEKCert(b []byte) (*ekCert, error) {
	outer, _, err := der.Read(b)
	if err != nil {
		return nil, fmt.Errorf("not a DER certificate: %w", err)
	}
	if !outer.Is(der.TagSequence) {
		return nil, errors.New("not a DER certificate: does not start with a SEQUENCE")
	}
	c, err := readCertificate(outer.Content)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate: %w", err)
	}
	key, err := parseSPKIContent(c.spki.Content)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate's public key: %w", err)
	}
	pub, err := checkEKKey(key)
	if err != nil {
		return nil, err
	}
	return &ekCert{
		der:       outer.Full,
		pub:       pub,
		issuer:    nameString(c.issuer),
		notBefore: c.notBefore,
		notAfter:  c.notAfter,
	}, nil
}

// certificate holds the fields of a certificate this package reads.
type certificate struct {
	issuer              der.Element
	notBefore, notAfter time.Time
	spki                der.Element
}

// readCertificate reads the contents of a Certificate: a TBSCertificate,
// then the signature algorithm and value, which must be there but are not
// read. Of the TBSCertificate it reads the issuer, the validity and the
// SubjectPublicKeyInfo and skips the rest: version, serial number,
// signature algorithm, subject, unique IDs and extensions.
func readCertificate(b []byte) (*certificate, error) {
	tbs, rest, err := der.ReadTagged(b, der.TagSequence)
	if err != nil {
		return nil, fmt.Errorf("TBSCertificate: %w", err)
	}
	for _, field := range []string{"signature algorithm", "signature"} {
		if _, rest, err = der.Read(rest); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
	}

	// version [0] EXPLICIT (optional), serialNumber, signature, issuer,
	// validity, subject, subjectPublicKeyInfo; what follows is not read.
	var fields [6]der.Element
	b = tbs.Content
	for i, read := 0, 0; i < len(fields); read++ {
		e, rest, err := der.Read(b)
		if err != nil {
			return nil, fmt.Errorf("TBSCertificate field %d: %w", read+1, err)
		}
		b = rest
		if read == 0 && e.Class == der.ClassContextSpecific && e.Tag == 0 {
			continue // the version
		}
		fields[i] = e
		i++
	}
	c := &certificate{issuer: fields[2], spki: fields[5]}
	validity := fields[3]
	if !validity.Is(der.TagSequence) {
		return nil, errors.New("validity: not a SEQUENCE")
	}
	notBefore, rest, err := der.Read(validity.Content)
	if err != nil {
		return nil, fmt.Errorf("notBefore: %w", err)
	}
	notAfter, _, err := der.Read(rest)
	if err != nil {
		return nil, fmt.Errorf("notAfter: %w", err)
	}
	if c.notBefore, err = der.ParseTime(notBefore); err != nil {
		return nil, fmt.Errorf("notBefore: %w", err)
	}
	if c.notAfter, err = der.ParseTime(notAfter); err != nil {
		return nil, fmt.Errorf("notAfter: %w", err)
	}
	if !c.spki.Is(der.TagSequence) {
		return nil, errors.New("subjectPublicKeyInfo: not a SEQUENCE")
	}
	return c, nil
}

// attribute is one AttributeTypeAndValue of a Name with a string value.
type attribute struct {
	oid   der.OID
	value string
}

// nameString returns a Name (RFC 5280, section 4.1.2.4) in the form
// crypto/x509 gives it, pkix.Name.String(): "CN=...,O=...". The issuer is
// informational, so one that crypto/x509 would not read (an attribute value
// that is not a string, say) is left empty.
func nameString(name der.Element) string {
	if !name.Is(der.TagSequence) {
		return ""
	}
	var rdns [][]attribute
	for b := name.Content; len(b) > 0; {
		set, rest, err := der.ReadTagged(b, der.TagSet)
		if err != nil {
			return ""
		}
		b = rest
		var rdn []attribute
		for s := set.Content; len(s) > 0; {
			atv, rest, err := der.ReadTagged(s, der.TagSequence)
			if err != nil {
				return ""
			}
			s = rest
			oid, rest, err := der.ReadTagged(atv.Content, der.TagOID)
			if err != nil {
				return ""
			}
			value, _, err := der.Read(rest)
			if err != nil {
				return ""
			}
			a := attribute{}
			if a.oid, err = der.ParseOID(oid.Content); err != nil {
				return ""
			}
			if a.value, err = decodeString(value); err != nil {
				return ""
			}
			rdn = append(rdn, a)
		}
		rdns = append(rdns, rdn)
	}
	return formatName(rdns)
}

// attributeNames are the short names pkix.Name.String() uses, by the last
// arc of their OIDs, 2.5.4.x (X.520).
var attributeNames = map[int]string{
	3: "CN", 5: "SERIALNUMBER", 6: "C", 7: "L", 8: "ST", 9: "STREET", 10: "O", 11: "OU", 17: "POSTALCODE",
}

// namedAttribute returns the short name of a 2.5.4.x attribute pkix.Name
// has a field for.
func namedAttribute(oid der.OID) (string, bool) {
	if len(oid) != 4 || oid[0] != 2 || oid[1] != 5 || oid[2] != 4 {
		return "", false
	}
	name, ok := attributeNames[oid[3]]
	return name, ok
}

// formatName is pkix.Name's FillFromRDNSequence then String: the
// attributes without a pkix.Name field come first, one to an RDN, then C,
// ST, L, STREET, POSTALCODE, O and OU (each one RDN of all its values), the
// last CN and the last SERIALNUMBER; and the RDNs are written in reverse.
func formatName(rdns [][]attribute) string {
	var out [][]attribute
	fields := map[int][]string{}
	for _, rdn := range rdns {
		for _, a := range rdn {
			if _, ok := namedAttribute(a.oid); !ok {
				out = append(out, []attribute{a})
				continue
			}
			last := a.oid[3]
			if last == 3 || last == 5 {
				fields[last] = []string{a.value}
			} else {
				fields[last] = append(fields[last], a.value)
			}
		}
	}
	for _, last := range []int{6, 8, 7, 9, 17, 10, 11, 3, 5} {
		values := fields[last]
		if len(values) == 0 || (last == 3 || last == 5) && values[0] == "" {
			continue
		}
		rdn := make([]attribute, len(values))
		for i, v := range values {
			rdn[i] = attribute{oid: der.OID{2, 5, 4, last}, value: v}
		}
		out = append(out, rdn)
	}

	var s strings.Builder
	for i := len(out) - 1; i >= 0; i-- {
		if i < len(out)-1 {
			s.WriteByte(',')
		}
		for j, a := range out[i] {
			if j > 0 {
				s.WriteByte('+')
			}
			name, ok := namedAttribute(a.oid)
			if !ok {
				// Unknown types are written as the DER of the value, as
				// encoding/asn1 would encode the string.
				s.WriteString(a.oid.String() + "=#" + hex.EncodeToString(marshalString(a.value)))
				continue
			}
			s.WriteString(name + "=" + escapeValue(a.value))
		}
	}
	return s.String()
}

// escapeValue escapes a value as pkix.RDNSequence.String() does.
func escapeValue(v string) string {
	var s strings.Builder
	for k, c := range v {
		escape := false
		switch c {
		case ',', '+', '"', '\\', '<', '>', ';':
			escape = true
		case ' ':
			escape = k == 0 || k == len(v)-1
		case '#':
			escape = k == 0
		}
		if escape {
			s.WriteByte('\\')
		}
		s.WriteRune(c)
	}
	return s.String()
}

// marshalString encodes a string as encoding/asn1 does by default: a
// PrintableString if every character may be in one (without the '*' and
// '&' it tolerates when reading), else a UTF8String.
func marshalString(v string) []byte {
	tag := byte(der.TagPrintableString)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '*' || c == '&' || !isPrintable(c) {
			tag = der.TagUTF8String
			break
		}
	}
	return der.Append(nil, tag, []byte(v))
}

// decodeString decodes a DirectoryString or similar attribute value as
// crypto/x509 does (parseASN1String): T61String as Latin-1, BMPString as
// UCS-2, the restricted types checked.
func decodeString(v der.Element) (string, error) {
	if v.Class != der.ClassUniversal || v.Constructed {
		return "", errors.New("not a string")
	}
	b := v.Content
	switch v.Tag {
	case der.TagT61String:
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), nil
	case der.TagPrintableString:
		for _, c := range b {
			if !isPrintable(c) {
				return "", errors.New("invalid PrintableString")
			}
		}
		return string(b), nil
	case der.TagUTF8String:
		if !utf8.Valid(b) {
			return "", errors.New("invalid UTF8String")
		}
		return string(b), nil
	case der.TagBMPString:
		if len(b)%2 != 0 {
			return "", errors.New("invalid BMPString")
		}
		if l := len(b); l >= 2 && b[l-1] == 0 && b[l-2] == 0 {
			b = b[:l-2] // a terminator
		}
		s := make([]uint16, 0, len(b)/2)
		for ; len(b) > 0; b = b[2:] {
			p := uint16(b[0])<<8 | uint16(b[1])
			// Noncharacters and surrogates have no place in UCS-2.
			if p == 0xfffe || p == 0xffff || p >= 0xfdd0 && p <= 0xfdef || p >= 0xd800 && p <= 0xdfff {
				return "", errors.New("invalid BMPString")
			}
			s = append(s, p)
		}
		return string(utf16.Decode(s)), nil
	case der.TagIA5String:
		for _, c := range b {
			if c >= utf8.RuneSelf {
				return "", errors.New("invalid IA5String")
			}
		}
		return string(b), nil
	case der.TagNumericString:
		for _, c := range b {
			if !('0' <= c && c <= '9' || c == ' ') {
				return "", errors.New("invalid NumericString")
			}
		}
		return string(b), nil
	}
	return "", fmt.Errorf("unsupported string type %d", v.Tag)
}

// isPrintable reports whether c may appear in a PrintableString, with the
// '*' and '&' that crypto/x509 tolerates because real certificates use them.
func isPrintable(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		'\'' <= c && c <= ')' || '+' <= c && c <= '/' ||
		c == ' ' || c == ':' || c == '=' || c == '?' || c == '*' || c == '&'
}
