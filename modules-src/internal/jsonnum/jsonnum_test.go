package jsonnum

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIntegersKeepEveryDigit(t *testing.T) {
	v, err := Decode([]byte(`{"gce":16979701088048819,"big":12345678901234567890,"f":1.5,"i":3.0,"l":[1,-2]}`))
	require.NoError(t, err)
	m := v.(map[string]any)
	require.Equal(t, int64(16979701088048819), m["gce"])
	require.Equal(t, json.Number("12345678901234567890"), m["big"])
	require.Equal(t, 1.5, m["f"])
	require.Equal(t, int64(3), m["i"])
	require.Equal(t, []any{int64(1), int64(-2)}, m["l"])

	out, err := json.Marshal(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"gce":16979701088048819,"big":12345678901234567890,"f":1.5,"i":3,"l":[1,-2]}`, string(out))
}

func TestUnmarshalTargets(t *testing.T) {
	var m map[string]any
	require.NoError(t, Unmarshal([]byte(`{"a":16979701088048819}`), &m))
	require.Equal(t, int64(16979701088048819), m["a"])

	var items []map[string]any
	require.NoError(t, Unmarshal([]byte(`[{"id":"x"},{"n":2}]`), &items))
	require.Equal(t, int64(2), items[1]["n"])

	require.Error(t, Unmarshal([]byte(`[1]`), &m), "a list is not an object")
	require.Error(t, Unmarshal([]byte(`{"a":1} trailing`), &m))

	var s struct{ A int }
	require.NoError(t, Unmarshal([]byte(`{"A":2}`), &s))
	require.Equal(t, 2, s.A)
}
