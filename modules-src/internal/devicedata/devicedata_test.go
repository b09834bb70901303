package devicedata

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBodyKeepsServerKeysAndReplacesUserKeys(t *testing.T) {
	current := map[string]any{"smallstep:host:id": "h1", "old": 1}
	desired := map[string]any{"new": 2, "smallstep:host:id": "evil"}
	require.Equal(t, map[string]any{"smallstep:host:id": "h1", "new": 2}, Body(current, desired))
	require.Equal(t, map[string]any{"new": 2}, User(desired))
	require.Equal(t, map[string]any{"new": 2}, Body(nil, desired))
}
