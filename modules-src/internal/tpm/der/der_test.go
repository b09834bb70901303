package der

import (
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// encoding/asn1 applies the same DER rules as crypto/x509's cryptobyte to
// the types this package reads, and test binaries may use it: it is the
// reference here.

func TestRead(t *testing.T) {
	long := make([]byte, 300)
	tests := []struct {
		name string
		in   []byte
		want Element
		rest []byte
		err  string
	}{
		{name: "SEQUENCE", in: []byte{0x30, 0x03, 0x02, 0x01, 0x05, 0xff}, want: Element{Constructed: true, Tag: TagSequence, Content: []byte{0x02, 0x01, 0x05}, Full: []byte{0x30, 0x03, 0x02, 0x01, 0x05}}, rest: []byte{0xff}},
		{name: "context-specific [3]", in: []byte{0xa3, 0x00}, want: Element{Class: ClassContextSpecific, Constructed: true, Tag: 3, Content: []byte{}, Full: []byte{0xa3, 0x00}}, rest: []byte{}},
		{name: "long form length", in: append([]byte{0x04, 0x82, 0x01, 0x2c}, long...), want: Element{Tag: 4, Content: long, Full: append([]byte{0x04, 0x82, 0x01, 0x2c}, long...)}, rest: []byte{}},
		{name: "high tag number", in: []byte{0x9f, 0x81, 0x00, 0x00}, want: Element{Class: ClassContextSpecific, Tag: 128, Content: []byte{}, Full: []byte{0x9f, 0x81, 0x00, 0x00}}, rest: []byte{}},
		{name: "empty", in: nil, err: "truncated"},
		{name: "content beyond the end", in: []byte{0x30, 0x05, 0x00}, err: "truncated"},
		{name: "indefinite length", in: []byte{0x30, 0x80, 0x00, 0x00}, err: "indefinite"},
		{name: "long form for a short length", in: []byte{0x04, 0x81, 0x01, 0x00}, err: "long form for a short length"},
		{name: "length with a leading zero", in: append([]byte{0x04, 0x82, 0x00, 0x80}, long[:128]...), err: "leading zero"},
		{name: "five length bytes", in: []byte{0x04, 0x85, 0x01, 0, 0, 0, 0}, err: "truncated"},
		{name: "high tag form for a low tag", in: []byte{0x9f, 0x1e, 0x00}, err: "high tag number form for a low tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, err := Read(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.rest, rest)
		})
	}
}

func TestParseOID(t *testing.T) {
	for _, oid := range []asn1.ObjectIdentifier{{2, 5, 4, 3}, {1, 2, 840, 113549, 1, 1, 1}, {1, 3, 132, 0, 35}, {2, 999, 3}, {0, 39}, {2, 23, 133, 2, 1}, {1, 2, 2147483647}} {
		b, err := asn1.Marshal(oid)
		require.NoError(t, err)
		e, _, err := ReadTagged(b, TagOID)
		require.NoError(t, err)
		got, err := ParseOID(e.Content)
		require.NoError(t, err)
		require.Equal(t, oid.String(), got.String())
		require.True(t, got.Equal(OID(oid)))
		require.Equal(t, b, AppendOID(nil, got))
	}
	for _, bad := range [][]byte{{}, {0x80, 0x01}, {0x2a, 0x86}, {0x2a, 0x88, 0x80, 0x80, 0x80, 0x00}} {
		_, err := ParseOID(bad)
		require.Error(t, err, "%x", bad)
	}
	require.False(t, OID{1, 2}.Equal(OID{1, 2, 3}))
	require.False(t, OID{1, 2}.Equal(OID{1, 3}))
}

func TestAppend(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536, 1 << 24} {
		content := make([]byte, n)
		want, err := asn1.Marshal(content)
		require.NoError(t, err)
		require.Equal(t, want, Append(nil, 0x04, content), "length %d", n)
	}
	for _, v := range []string{"0", "1", "127", "128", "255", "256", "65537", "2147483647", "340282366920938463463374607431768211457"} {
		n, _ := new(big.Int).SetString(v, 10)
		want, err := asn1.Marshal(n)
		require.NoError(t, err)
		require.Equal(t, want, AppendUnsigned(nil, n.Bytes()), v)
		require.Equal(t, want, AppendUnsigned(nil, append([]byte{0, 0}, n.Bytes()...)), v+" with leading zeros")
	}
}

func TestParseInteger(t *testing.T) {
	tests := []struct {
		in   []byte
		want []byte
		i64  int64
		err  string
	}{
		{in: []byte{0x01}, want: []byte{0x01}, i64: 1},
		{in: []byte{0x00, 0x80}, want: []byte{0x80}, i64: 128},
		{in: []byte{0x7f, 0xff}, want: []byte{0x7f, 0xff}, i64: 32767},
		{in: []byte{0x00}, err: "zero", i64: 0},
		{in: []byte{0xff}, err: "negative", i64: -1},
		{in: []byte{0x80, 0x00}, err: "negative", i64: -32768},
		{in: []byte{0x00, 0x01}, err: "not minimally encoded"},
		{in: []byte{0xff, 0x80}, err: "not minimally encoded"},
		{in: []byte{}, err: "empty"},
	}
	for _, tt := range tests {
		got, err := ParseInteger(tt.in)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, "%x", tt.in)
		} else {
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		}
		i, err := ParseInt64(tt.in)
		if tt.err == "" || tt.err == "zero" || tt.err == "negative" {
			require.NoError(t, err, "%x", tt.in)
			require.Equal(t, tt.i64, i)
		} else {
			require.Error(t, err)
		}
	}
	_, err := ParseInt64([]byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0})
	require.ErrorContains(t, err, "too large")
}

func TestParseBitString(t *testing.T) {
	got, err := ParseBitString([]byte{0x00, 0xab, 0xcd})
	require.NoError(t, err)
	require.Equal(t, []byte{0xab, 0xcd}, got)
	got, err = ParseBitString([]byte{0x04, 0xab, 0xc0})
	require.NoError(t, err)
	require.Equal(t, asn1.BitString{Bytes: []byte{0xab, 0xc0}, BitLength: 12}.RightAlign(), got)
	for _, bad := range [][]byte{{}, {0x08, 0x00}, {0x01}, {0x01, 0x01}} {
		_, err := ParseBitString(bad)
		require.Error(t, err, "%x", bad)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		tag  int
		in   string
		want time.Time
		err  bool
	}{
		{TagUTCTime, "250102030405Z", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), false},
		{TagUTCTime, "500102030405Z", time.Date(1950, 1, 2, 3, 4, 5, 0, time.UTC), false},
		{TagUTCTime, "2501020304Z", time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC), false},
		{TagUTCTime, "250102030405+0100", time.Date(2025, 1, 2, 2, 4, 5, 0, time.UTC), false},
		{TagGeneralizedTime, "99991231235959Z", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{TagGeneralizedTime, "20250102030405.5Z", time.Date(2025, 1, 2, 3, 4, 5, 5e8, time.UTC), false},
		{TagUTCTime, "250132030405Z", time.Time{}, true},
		{TagUTCTime, "25010203040Z", time.Time{}, true},
		{TagGeneralizedTime, "20250102030405.50Z", time.Time{}, true},
		{TagGeneralizedTime, "250102030405Z", time.Time{}, true},
		{TagInteger, "1", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(Element{Tag: tt.tag, Content: []byte(tt.in)})
		if tt.err {
			require.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.True(t, tt.want.Equal(got), "%s: %s", tt.in, got)
		var ref time.Time
		_, err = asn1.Unmarshal(Append(nil, byte(tt.tag), []byte(tt.in)), &ref)
		require.NoError(t, err)
		require.True(t, ref.Equal(got), "encoding/asn1 reads %s as %s", tt.in, ref)
	}
}

// FuzzDER holds each reader to encoding/asn1 on the same bytes: what one
// accepts, the other accepts, with the same result.
func FuzzDER(f *testing.F) {
	for _, v := range []any{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, big.NewInt(65537), asn1.BitString{Bytes: []byte{0xa0}, BitLength: 3},
		time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(9999, 1, 2, 3, 4, 5, 0, time.UTC), []int{1, 2}, "text"} {
		b, err := asn1.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, rest, err := Read(b)
		var raw asn1.RawValue
		arest, aerr := asn1.Unmarshal(b, &raw)
		if (err == nil) != (aerr == nil) {
			t.Fatalf("Read: %v, encoding/asn1: %v", err, aerr)
		}
		if err != nil {
			return
		}
		if e.Class != raw.Class || e.Tag != raw.Tag || e.Constructed != raw.IsCompound || string(e.Content) != string(raw.Bytes) || len(rest) != len(arest) {
			t.Fatalf("Read: %+v, encoding/asn1: %+v", e, raw)
		}
		switch {
		case e.Is(TagOID):
			oid, err := ParseOID(e.Content)
			var ref asn1.ObjectIdentifier
			_, aerr := asn1.Unmarshal(e.Full, &ref)
			if (err == nil) != (aerr == nil) || err == nil && oid.String() != ref.String() {
				t.Fatalf("ParseOID: %v %v, encoding/asn1: %v %v", oid, err, ref, aerr)
			}
		case e.Is(TagInteger):
			mag, err := ParseInteger(e.Content)
			ref := new(big.Int)
			_, aerr := asn1.Unmarshal(e.Full, &ref)
			if aerr == nil && ref.Sign() > 0 {
				if err != nil || string(mag) != string(ref.Bytes()) {
					t.Fatalf("ParseInteger: %x %v, encoding/asn1: %v", mag, err, ref)
				}
			} else if err == nil {
				t.Fatalf("ParseInteger: %x, encoding/asn1: %v %v", mag, ref, aerr)
			}
			i, err := ParseInt64(e.Content)
			var ref64 int64
			_, aerr = asn1.Unmarshal(e.Full, &ref64)
			if (err == nil) != (aerr == nil) || i != ref64 {
				t.Fatalf("ParseInt64: %d %v, encoding/asn1: %d %v", i, err, ref64, aerr)
			}
		case e.Is(TagBitString):
			got, err := ParseBitString(e.Content)
			var ref asn1.BitString
			_, aerr := asn1.Unmarshal(e.Full, &ref)
			if (err == nil) != (aerr == nil) || err == nil && string(got) != string(ref.RightAlign()) {
				t.Fatalf("ParseBitString: %x %v, encoding/asn1: %x %v", got, err, ref.RightAlign(), aerr)
			}
		case e.Is(TagUTCTime) || e.Is(TagGeneralizedTime):
			got, err := ParseTime(e)
			var ref time.Time
			_, aerr := asn1.Unmarshal(e.Full, &ref)
			if (err == nil) != (aerr == nil) || err == nil && !got.Equal(ref) {
				t.Fatalf("ParseTime: %v %v, encoding/asn1: %v %v", got, err, ref, aerr)
			}
		}
	})
}
