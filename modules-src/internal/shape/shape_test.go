package shape

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSnake(t *testing.T) {
	cases := map[string]string{
		"slug":                  "slug",
		"displayName":           "display_name",
		"staticSANs":            "static_sans",
		"deviceMetadataKeySANs": "device_metadata_key_sans",
		"disableCustomSANs":     "disable_custom_sans",
		"tenantID":              "tenant_id",
		"projectIDs":            "project_ids",
		"forceCN":               "force_cn",
		"requireEAB":            "require_eab",
		"onError":               "on_error",
		"crtFile":               "crt_file",
		"pidFile":               "pid_file",
		"createdAt":             "created_at",
		"uid":                   "uid",
		"XMLFile":               "xml_file",
	}
	for in, want := range cases {
		require.Equal(t, want, Snake(in), in)
	}
}

func TestFromParamsLeavesUnsetOut(t *testing.T) {
	got := FromParams(map[string]any{"tenant_id": "t", "audience": nil, "resource_groups": []any{"a"}},
		[]string{"tenantID", "resourceGroups", "audience", "disableCustomSANs"}, nil)
	require.Equal(t, map[string]any{"tenantID": "t", "resourceGroups": []any{"a"}}, got)
}

func TestNormalizeTreatsEmptyAsAbsentAndSetsAsUnordered(t *testing.T) {
	a := map[string]any{"accounts": []any{"2", "1"}, "disableCustomSANs": false, "x": "", "staticSANs": []any{"b", "a"}}
	b := map[string]any{"accounts": []any{"1", "2"}, "staticSANs": []any{"b", "a"}}
	require.True(t, Equal(Normalize(a, "accounts"), Normalize(b, "accounts")))

	reordered := map[string]any{"accounts": []any{"1", "2"}, "staticSANs": []any{"a", "b"}}
	require.False(t, Equal(Normalize(a, "accounts"), Normalize(reordered, "accounts")), "staticSANs order is meaningful")
}

func TestWithDefaultsMergesNested(t *testing.T) {
	got := WithDefaults(map[string]any{"keyInfo": map[string]any{"type": "RSA_2048"}},
		map[string]any{"keyInfo": map[string]any{"type": "DEFAULT", "format": "DEFAULT"}, "reloadInfo": map[string]any{"method": "AUTOMATIC"}})
	require.Equal(t, map[string]any{
		"keyInfo":    map[string]any{"type": "RSA_2048", "format": "DEFAULT"},
		"reloadInfo": map[string]any{"method": "AUTOMATIC"},
	}, got)
}

func TestToSnakeKeepsOpaqueKeys(t *testing.T) {
	got := ToSnake(map[string]any{"createdAt": "t", "data": map[string]any{"myKey": 1}}, "data")
	require.Equal(t, map[string]any{"created_at": "t", "data": map[string]any{"myKey": 1}}, got)
}
