package deviceid

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	good := "urn:ek:sha256:" + "RUIxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA="
	cases := []struct {
		typ, id string
		ok      bool
	}{
		{"tpm", good, true},
		{"", good, true},
		{"tpm", "urn:ek:sha256:abc", false},
		{"", "urn:ek:sha256:" + "RUIxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA", false}, // no padding
		{"", "urn:ek:sha1:AAAA", false},
		{"", "URN:EK:SHA256:RUIxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", false},
		{"", " " + good, false},
		{"tpm", "i-0d460b88a96dfdd08", false},
		{"aws-vm", "i-0d460b88a96dfdd08", true},
		{"aws-vm", "i-0d460b88", true},
		{"aws-vm", "i-0D460B88", false},
		{"azure-vm", "4510f372-f4ba-4dc7-b6c2-ad22fdaaadb1", true},
		{"azure-vm", "4510f372", false},
		{"gcp-vm", "16979701088048819", true},
		{"gcp-vm", "vm-1", false},
		{"", "laptop-0012", true},
		{"", "", false},
		{"vmware", "x", false},
	}
	for _, c := range cases {
		err := Check(c.typ, c.id)
		if c.ok {
			require.NoError(t, err, "%s %s", c.typ, c.id)
		} else {
			require.Error(t, err, "%s %s", c.typ, c.id)
		}
	}
}
