package smallstep

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stepfleet/smallstep/modules-src/internal/ansible"
)

func TestCheckNonEmpty(t *testing.T) {
	p := ansible.Params{"slug": "fleet", "collection": " ", "unset": nil}
	require.NoError(t, CheckNonEmpty(p, "slug", "unset"))
	require.EqualError(t, CheckNonEmpty(p, "slug", "collection"), "collection must not be empty")
}
