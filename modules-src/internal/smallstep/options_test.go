package smallstep

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

func TestCheckNames(t *testing.T) {
	cases := []struct {
		value, err string
	}{
		{"fleet", ""},
		{"Flotte Süd", ""},
		{" ", "slug must not be empty"},
		{"a\nb", "slug holds a control character or invalid UTF-8 at byte 1; use printable text"},
		{"bad\xff", "slug holds a control character or invalid UTF-8 at byte 3; use printable text"},
		{strings.Repeat("x", 256), "slug is 256 characters long; at most 255 are accepted"},
		{"..", `slug must not be ".."`},
		{".", `slug must not be "."`},
		{" fleet", `slug " fleet" starts or ends with white space`},
	}
	for _, c := range cases {
		err := CheckNames(ansible.Params{"slug": c.value, "unset": nil}, "slug", "unset")
		if c.err == "" {
			require.NoError(t, err, c.value)
		} else {
			require.EqualError(t, err, c.err)
		}
	}
}

func TestCheckCollectionSlugs(t *testing.T) {
	cases := []struct {
		value, err string
	}{
		{"fleet-web_2", ""},
		{"flotte-süd", ""},
		{"2024", ""},
		{"Fleet", `collection "Fleet" has capital letters; a device collection's slug is lowercase: "fleet"`},
		{"FLOTTE-SÜD", `collection "FLOTTE-SÜD" has capital letters; a device collection's slug is lowercase: "flotte-süd"`},
		{"a/b", `collection "a/b" holds a '/'; a device collection's slug is one lowercase name, such as "a-b"`},
		{"..", `collection must not be ".."`},
		{"", "collection must not be empty"},
	}
	for _, c := range cases {
		err := CheckCollectionSlugs(ansible.Params{"collection": c.value, "unset": nil}, "collection", "unset")
		if c.err == "" {
			require.NoError(t, err, c.value)
		} else {
			require.EqualError(t, err, c.err)
		}
	}
}
