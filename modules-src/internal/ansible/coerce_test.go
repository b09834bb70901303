package ansible

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// coerceCase is one conversion: in, as JSON decoding gives it (numbers are
// float64), to want, or an error containing errContains.
type coerceCase struct {
	name        string
	typ         string
	in          any
	want        any
	errContains string
}

func runCoerceCases(t *testing.T, cases []coerceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := coerce(tc.typ, tc.in)
			if tc.errContains != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.errContains)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCoerceBool(t *testing.T) {
	const valid = "valid booleans include: y, yes, on, 1, true, t, n, no, off, 0, false, f"
	runCoerceCases(t, []coerceCase{
		{name: "yes", typ: TypeBool, in: "yes", want: true},
		{name: "no", typ: TypeBool, in: "no", want: false},
		{name: "on", typ: TypeBool, in: "on", want: true},
		{name: "off", typ: TypeBool, in: "off", want: false},
		{name: "string 1", typ: TypeBool, in: "1", want: true},
		{name: "string 0", typ: TypeBool, in: "0", want: false},
		{name: "y and n", typ: TypeBool, in: "y", want: true},
		{name: "t", typ: TypeBool, in: "t", want: true},
		{name: "f", typ: TypeBool, in: "f", want: false},
		{name: "True any case", typ: TypeBool, in: "True", want: true},
		{name: "FALSE any case", typ: TypeBool, in: "FALSE", want: false},
		{name: "surrounding spaces", typ: TypeBool, in: " Yes ", want: true},
		{name: "number 1", typ: TypeBool, in: 1.0, want: true},
		{name: "number 0", typ: TypeBool, in: 0.0, want: false},
		{name: "json true", typ: TypeBool, in: true, want: true},
		{name: "json false", typ: TypeBool, in: false, want: false},
		{name: "invalid word", typ: TypeBool, in: "maybe", errContains: "'maybe' is not a valid boolean; " + valid},
		{name: "number 2", typ: TypeBool, in: 2.0, errContains: "2 is not a valid boolean"},
		{name: "empty string", typ: TypeBool, in: "", errContains: "'' is not a valid boolean"},
		{name: "list", typ: TypeBool, in: []any{"yes"}, errContains: "is not a valid boolean"},
	})
}

func TestCoerceInt(t *testing.T) {
	runCoerceCases(t, []coerceCase{
		{name: "string", typ: TypeInt, in: "42", want: int64(42)},
		{name: "negative string", typ: TypeInt, in: "-7", want: int64(-7)},
		{name: "string with spaces", typ: TypeInt, in: " 8 ", want: int64(8)},
		{name: "whole json number", typ: TypeInt, in: 42.0, want: int64(42)},
		{name: "go int from a spec default", typ: TypeInt, in: 3, want: int64(3)},
		{name: "int64", typ: TypeInt, in: int64(5), want: int64(5)},
		{name: "fraction", typ: TypeInt, in: 4.5, errContains: "4.5 is not a valid integer"},
		{name: "fraction as string", typ: TypeInt, in: "4.5", errContains: "'4.5' is not a valid integer"},
		{name: "word", typ: TypeInt, in: "x", errContains: "'x' is not a valid integer"},
		{name: "beyond exact float range", typ: TypeInt, in: 1e20, errContains: "is not a valid integer"},
		{name: "bool", typ: TypeInt, in: true, errContains: "true is not a valid integer"},
	})
}

func TestCoerceFloat(t *testing.T) {
	runCoerceCases(t, []coerceCase{
		{name: "number", typ: TypeFloat, in: 1.5, want: 1.5},
		{name: "string", typ: TypeFloat, in: "2.25", want: 2.25},
		{name: "exponent", typ: TypeFloat, in: "1e3", want: 1000.0},
		{name: "go int", typ: TypeFloat, in: 2, want: 2.0},
		{name: "word", typ: TypeFloat, in: "abc", errContains: "'abc' is not a valid float"},
		{name: "bool", typ: TypeFloat, in: false, errContains: "false is not a valid float"},
	})
}

func TestCoerceStr(t *testing.T) {
	runCoerceCases(t, []coerceCase{
		{name: "string", typ: TypeStr, in: "abc", want: "abc"},
		{name: "true as python prints it", typ: TypeStr, in: true, want: "True"},
		{name: "false as python prints it", typ: TypeStr, in: false, want: "False"},
		{name: "whole number", typ: TypeStr, in: 42.0, want: "42"},
		{name: "fraction", typ: TypeStr, in: 1.5, want: "1.5"},
		{name: "list", typ: TypeStr, in: []any{"a"}, errContains: "a list cannot be used as a string"},
		{name: "dict", typ: TypeStr, in: map[string]any{}, errContains: "a dict cannot be used as a string"},
	})
}

func TestCoerceList(t *testing.T) {
	runCoerceCases(t, []coerceCase{
		{name: "list", typ: TypeList, in: []any{"a", 1.0}, want: []any{"a", 1.0}},
		{name: "comma separated", typ: TypeList, in: "a,b", want: []any{"a", "b"}},
		{name: "spaces kept as python split does", typ: TypeList, in: "a, b", want: []any{"a", " b"}},
		{name: "single word", typ: TypeList, in: "a", want: []any{"a"}},
		{name: "empty string", typ: TypeList, in: "", want: []any{}},
		{name: "number", typ: TypeList, in: 3.0, want: []any{"3"}},
		{name: "dict", typ: TypeList, in: map[string]any{"a": 1.0}, errContains: "a dict cannot be used as a list"},
		{name: "bool", typ: TypeList, in: true, errContains: "a bool cannot be used as a list"},
	})
}

func TestCoerceDict(t *testing.T) {
	runCoerceCases(t, []coerceCase{
		{name: "dict", typ: TypeDict, in: map[string]any{"a": 1.0}, want: map[string]any{"a": 1.0}},
		{name: "json string", typ: TypeDict, in: `{"a": 1, "b": {"c": "d"}}`, want: map[string]any{"a": int64(1), "b": map[string]any{"c": "d"}}},
		{name: "json string with leading space", typ: TypeDict, in: ` {"a": "b"}`, want: map[string]any{"a": "b"}},
		{name: "k=v with spaces", typ: TypeDict, in: "a=1 b=2", want: map[string]any{"a": "1", "b": "2"}},
		{name: "k=v with commas", typ: TypeDict, in: "a=1,b=2", want: map[string]any{"a": "1", "b": "2"}},
		{name: "k=v value holding =", typ: TypeDict, in: "q=x=y", want: map[string]any{"q": "x=y"}},
		{name: "k=v with quoted spaces", typ: TypeDict, in: `name='my host' env="prod, eu"`, want: map[string]any{"name": "my host", "env": "prod, eu"}},
		{name: "k=v with escaped space", typ: TypeDict, in: `x=a\ b`, want: map[string]any{"x": "a b"}},
		{name: "empty string", typ: TypeDict, in: "", want: map[string]any{}},
		{name: "invalid json", typ: TypeDict, in: `{"a": `, errContains: "the string is not valid JSON"},
		{name: "json array is not a dict", typ: TypeDict, in: `{"a"}`, errContains: "the string is not valid JSON"},
		{name: "word without =", typ: TypeDict, in: "a=1 junk", errContains: `"junk" is not a key=value pair`},
		{name: "list", typ: TypeDict, in: []any{"a=1"}, errContains: "a list cannot be used as a dict"},
	})
}

func TestCoercePath(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	t.Setenv("SMALLSTEP_TEST_DIR", "/srv/step")
	t.Setenv("SMALLSTEP_TEST_TILDE", "~/from-env")
	runCoerceCases(t, []coerceCase{
		{name: "plain", typ: TypePath, in: "/etc/step", want: "/etc/step"},
		{name: "tilde", typ: TypePath, in: "~", want: "/home/tester"},
		{name: "tilde slash", typ: TypePath, in: "~/.step/config", want: "/home/tester/.step/config"},
		{name: "tilde with trailing slash kept", typ: TypePath, in: "~/", want: "/home/tester/"},
		{name: "tilde not leading", typ: TypePath, in: "a/~/b", want: "a/~/b"},
		{name: "dollar var", typ: TypePath, in: "$SMALLSTEP_TEST_DIR/certs", want: "/srv/step/certs"},
		{name: "braced var", typ: TypePath, in: "${SMALLSTEP_TEST_DIR}x", want: "/srv/stepx"},
		{name: "vars then tilde, as python does", typ: TypePath, in: "$SMALLSTEP_TEST_TILDE", want: "/home/tester/from-env"},
		{name: "unset var kept", typ: TypePath, in: "/tmp/$SMALLSTEP_TEST_UNSET/${SMALLSTEP_TEST_UNSET}", want: "/tmp/$SMALLSTEP_TEST_UNSET/${SMALLSTEP_TEST_UNSET}"},
		{name: "double dollar kept", typ: TypePath, in: "/tmp/pa$$word", want: "/tmp/pa$$word"},
		{name: "lone dollar kept", typ: TypePath, in: "/tmp/$", want: "/tmp/$"},
		{name: "not cleaned", typ: TypePath, in: "/a/../b//c", want: "/a/../b//c"},
		{name: "number", typ: TypePath, in: 42.0, want: "42"},
		{name: "list", typ: TypePath, in: []any{}, errContains: "a list cannot be used as a string"},
	})
}

func TestCoerceRawAndUnknownType(t *testing.T) {
	runCoerceCases(t, []coerceCase{
		{name: "raw dict", typ: TypeRaw, in: map[string]any{"a": 1.0}, want: map[string]any{"a": 1.0}},
		{name: "raw number", typ: TypeRaw, in: 1.5, want: 1.5},
		{name: "raw string", typ: TypeRaw, in: "yes", want: "yes"},
		{name: "unknown type", typ: "strr", in: "a", errContains: `unknown type "strr" in the module's argument spec`},
	})
}
