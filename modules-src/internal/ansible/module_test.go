package ansible

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestExecuteModes(t *testing.T) {
	spec := opts(map[string]*Option{"name": {}})
	cases := []struct {
		name      string
		args      map[string]any
		changed   bool
		wantCheck bool
		wantDiff  bool
		wantVerb  int
	}{
		{name: "plain run", args: map[string]any{}, changed: true},
		{name: "check mode", args: map[string]any{"_ansible_check_mode": true}, changed: true, wantCheck: true},
		{name: "check mode, nothing to do", args: map[string]any{"_ansible_check_mode": true}, wantCheck: true},
		{name: "diff mode", args: map[string]any{"_ansible_diff": true}, changed: true, wantDiff: true},
		{name: "diff mode off", args: map[string]any{"_ansible_diff": false}, changed: true},
		{name: "check and diff", args: map[string]any{"_ansible_check_mode": true, "_ansible_diff": true}, changed: true, wantCheck: true, wantDiff: true},
		{name: "verbosity", args: map[string]any{"_ansible_verbosity": 3}, wantVerb: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen *Module
			res := Execute("test_mod", spec, mustJSON(t, tc.args), envMap(nil), func(m *Module) error {
				seen = m
				m.SetChanged(tc.changed)
				m.SetDiff(map[string]any{"name": "old"}, map[string]any{"name": "new"})
				return nil
			})
			require.Equal(t, tc.wantCheck, seen.CheckMode)
			require.Equal(t, tc.wantDiff, seen.DiffMode)
			require.Equal(t, tc.wantVerb, seen.Verbosity)
			require.Equal(t, "test_mod", seen.Name)
			require.Equal(t, tc.changed, res["changed"])
			require.NotContains(t, res, "failed")
			require.NotContains(t, res, "invocation", "binary modules never report invocation")
			if tc.wantDiff {
				require.Equal(t, map[string]any{
					"before": map[string]any{"name": "old"},
					"after":  map[string]any{"name": "new"},
				}, res["diff"])
			} else {
				require.NotContains(t, res, "diff")
			}
		})
	}
}

func TestExecuteResultKeys(t *testing.T) {
	res := Execute("test_mod", opts(nil), []byte(`{}`), envMap(nil), func(m *Module) error {
		m.Set("device_collection", map[string]any{"slug": "c1"})
		m.SetFacts(map[string]any{"smallstep_device_id": "d1"})
		m.Warn("slug %q is deprecated", "old")
		m.Warn("second")
		return nil
	})
	require.Equal(t, map[string]any{
		"changed":           false,
		"device_collection": map[string]any{"slug": "c1"},
		"ansible_facts":     map[string]any{"smallstep_device_id": "d1"},
		"warnings":          []string{`slug "old" is deprecated`, "second"},
	}, res)
}

func TestExecuteNoDiffWithoutSetDiff(t *testing.T) {
	res := Execute("test_mod", opts(nil), []byte(`{"_ansible_diff": true}`), envMap(nil), func(*Module) error { return nil })
	require.NotContains(t, res, "diff")
	require.NotContains(t, res, "warnings")
}

// apiError is a FieldsError as the API client returns it.
type apiError struct {
	status    int
	requestID string
}

func (e *apiError) Error() string { return fmt.Sprintf("API returned %d", e.status) }
func (e *apiError) ResultFields() map[string]any {
	return map[string]any{"status": e.status, "request_id": e.requestID}
}

func TestExecuteHandlerErrors(t *testing.T) {
	cases := []struct {
		name    string
		handler Handler
		want    map[string]any // checked key by key
		absent  []string
	}{
		{
			name:    "plain error",
			handler: func(*Module) error { return errors.New("device collection c1 not found") },
			want:    map[string]any{"failed": true, "changed": false, "msg": "device collection c1 not found"},
			absent:  []string{"exception"},
		},
		{
			name: "error after a change keeps changed",
			handler: func(m *Module) error {
				m.SetChanged(true)
				m.Set("partial", "yes")
				return errors.New("second call failed")
			},
			want: map[string]any{"failed": true, "changed": true, "msg": "second call failed", "partial": "yes"},
		},
		{
			name:    "fields error merges its fields",
			handler: func(*Module) error { return &apiError{status: 409, requestID: "req-1"} },
			want:    map[string]any{"failed": true, "msg": "API returned 409", "status": 409.0, "request_id": "req-1"},
		},
		{
			name: "wrapped fields error merges its fields",
			handler: func(*Module) error {
				return fmt.Errorf("cannot update c1: %w", &apiError{status: 500, requestID: "req-2"})
			},
			want: map[string]any{"failed": true, "msg": "cannot update c1: API returned 500", "status": 500.0, "request_id": "req-2"},
		},
		{
			name:    "panic with a string",
			handler: func(*Module) error { panic("boom") },
			want:    map[string]any{"failed": true, "changed": false, "msg": "test_mod: internal error: boom (please report this with the task that caused it)"},
		},
		{
			name: "panic with a runtime error",
			handler: func(m *Module) error {
				var nilMap map[string]any
				nilMap["x"] = 1
				return nil
			},
			want: map[string]any{"failed": true, "changed": false},
		},
		{
			name: "panic after a change drops partial results",
			handler: func(m *Module) error {
				m.SetChanged(true)
				m.Set("partial", 1)
				panic(errors.New("nil client"))
			},
			want:   map[string]any{"failed": true, "changed": false, "msg": "test_mod: internal error: nil client (please report this with the task that caused it)"},
			absent: []string{"partial"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res map[string]any
			require.NotPanics(t, func() {
				res = Execute("test_mod", opts(nil), []byte(`{}`), envMap(nil), tc.handler)
			})
			// Compare as Ansible will see it, after JSON encoding.
			var decoded map[string]any
			require.NoError(t, json.Unmarshal(mustJSON(t, res), &decoded))
			for k, v := range tc.want {
				require.Equal(t, v, decoded[k], "key %s", k)
			}
			for _, k := range tc.absent {
				require.NotContains(t, decoded, k)
			}
		})
	}
}

func TestExecutePanicIsReadable(t *testing.T) {
	res := Execute("test_mod", opts(nil), []byte(`{}`), envMap(nil), func(*Module) error {
		var nilMap map[string]any
		nilMap["x"] = 1
		return nil
	})
	require.Equal(t, true, res["failed"])
	require.Contains(t, res["msg"], "test_mod: internal error: assignment to entry in nil map")
	require.Contains(t, res["exception"], "module_test.go", "the stack trace points at the panicking code")
}

const secret = "s3cr3t-T0ken-xyz"

// otherToken satisfies the required api_token where the secret under test
// is elsewhere; it shares no text with secret.
const otherToken = "QQQQ"

// secretSpec has a no_log option reachable in every way a value can arrive.
func secretSpec() *Spec {
	return opts(map[string]*Option{
		"api_token": {Required: true, NoLog: true, Aliases: []string{"token"}, EnvFallback: []string{"STEP_TOKEN"}},
		"name":      {},
		"creds": {Type: TypeDict, Options: opts(map[string]*Option{
			"user":     {},
			"password": {NoLog: true},
		})},
		"items": {Type: TypeList, Elements: TypeDict, Options: opts(map[string]*Option{
			"key": {NoLog: true},
		})},
		"headers": {Type: TypeDict, NoLog: true},
		"pin":     {Type: TypeInt, NoLog: true},
		"enabled": {Type: TypeBool, NoLog: true},
	})
}

// leaks is every way a handler can put a value into the result.
var leaks = map[string]Handler{
	"nothing": func(*Module) error { return nil },
	"error message": func(*Module) error {
		return fmt.Errorf("login with %s refused", secret)
	},
	"warning": func(m *Module) error {
		m.Warn("token %s expires soon", secret)
		return nil
	},
	"diff": func(m *Module) error {
		m.SetDiff(map[string]any{"token": "old"}, map[string]any{"token": secret})
		return nil
	},
	"nested struct": func(m *Module) error {
		type inner struct {
			Token string `json:"token"`
		}
		m.Set("nested", struct{ Inner []inner }{Inner: []inner{{Token: "Bearer " + secret}}})
		return nil
	},
	"map key": func(m *Module) error {
		m.Set("by_token", map[string]any{secret: "x"})
		m.Set("typed_by_token", map[string]int{secret: 1})
		return nil
	},
	"string list": func(m *Module) error {
		m.Set("list", []string{"a", secret})
		return nil
	},
	"facts": func(m *Module) error {
		m.SetFacts(map[string]any{"token": secret})
		return nil
	},
	"params echoed": func(m *Module) error {
		m.Set("params", m.Params)
		return nil
	},
	"fields error": func(*Module) error {
		return &secretFieldsError{}
	},
	"panic": func(*Module) error {
		panic("cannot use " + secret)
	},
	"json-unfriendly value": func(m *Module) error {
		m.Set("bad", map[string]any{"ch": make(chan int), "why": secret})
		m.Set("why", secret)
		return nil
	},
}

type secretFieldsError struct{}

func (secretFieldsError) Error() string { return "denied" }
func (secretFieldsError) ResultFields() map[string]any {
	return map[string]any{"details": map[string]any{"header": "Authorization: " + secret}}
}

func TestNoLogValueNeverInResult(t *testing.T) {
	inputs := []struct {
		name string
		args map[string]any
		env  map[string]string
	}{
		{name: "given directly", args: map[string]any{"api_token": secret}},
		{name: "given via alias", args: map[string]any{"token": secret}},
		{name: "given via env fallback", env: map[string]string{"STEP_TOKEN": secret}},
		{name: "in a sub-option", args: map[string]any{"api_token": otherToken, "creds": map[string]any{"user": "u", "password": secret}}},
		{name: "in a sub-option of a dict given as json", args: map[string]any{"api_token": otherToken, "creds": `{"password": "` + secret + `"}`}},
		{name: "in a sub-option of a dict given as k=v", args: map[string]any{"api_token": otherToken, "creds": "user=u password=" + secret}},
		{name: "in a sub-option of a list element", args: map[string]any{"api_token": otherToken, "items": []any{map[string]any{"key": otherToken}, map[string]any{"key": secret}}}},
		{name: "inside a no_log dict", args: map[string]any{"api_token": otherToken, "headers": map[string]any{"Authorization": secret}}},
		{name: "inside a no_log dict given as json", args: map[string]any{"api_token": otherToken, "headers": `{"Authorization": "` + secret + `"}`}},
	}
	for _, in := range inputs {
		for leakName, h := range leaks {
			t.Run(in.name+"/"+leakName, func(t *testing.T) {
				args := map[string]any{"_ansible_diff": true}
				for k, v := range in.args {
					args[k] = v
				}
				ran := false
				res := Execute("test_mod", secretSpec(), mustJSON(t, args), envMap(in.env), func(m *Module) error {
					ran = true
					return h(m)
				})
				require.True(t, ran, "args must be valid: %v", res["msg"])
				out := string(mustJSON(t, res))
				require.NotContains(t, out, secret)
				require.NotContains(t, out, "xyz", "no fragment of the secret")
				if leakName != "nothing" {
					require.Contains(t, out, Mask, "the leak path was exercised")
				}
			})
		}
	}
}

func TestNoLogValueNeverInValidationErrors(t *testing.T) {
	cases := []struct {
		name string
		spec *Spec
		args map[string]any
		env  map[string]string
		msg  string // a part of the msg that proves the error was reported
	}{
		{
			name: "choices",
			spec: opts(map[string]*Option{"token": {NoLog: true, Choices: []any{"a"}}}),
			args: map[string]any{"token": secret},
			msg:  "value of token must be one of: a, got: " + Mask,
		},
		{
			name: "type conversion",
			spec: opts(map[string]*Option{"pin": {Type: TypeInt, NoLog: true}}),
			args: map[string]any{"pin": secret},
			msg:  "'" + Mask + "' is not a valid integer",
		},
		{
			name: "type conversion via alias",
			spec: opts(map[string]*Option{"pin": {Type: TypeInt, NoLog: true, Aliases: []string{"code"}}}),
			args: map[string]any{"code": secret},
			msg:  "'" + Mask + "' is not a valid integer",
		},
		{
			name: "type conversion via env fallback",
			spec: opts(map[string]*Option{"pin": {Type: TypeInt, NoLog: true, EnvFallback: []string{"PIN"}}}),
			env:  map[string]string{"PIN": secret},
			msg:  "'" + Mask + "' is not a valid integer",
		},
		{
			name: "type conversion in a list element sub-option",
			spec: opts(map[string]*Option{"items": {Type: TypeList, Elements: TypeDict, Options: opts(map[string]*Option{
				"pin": {Type: TypeInt, NoLog: true},
			})}}),
			args: map[string]any{"items": []any{map[string]any{"pin": secret}}},
			msg:  "argument 'items[0].pin' is of type str and we were unable to convert to int: '" + Mask + "'",
		},
		{
			name: "element of a no_log list",
			spec: opts(map[string]*Option{"pins": {Type: TypeList, Elements: TypeInt, NoLog: true}}),
			args: map[string]any{"pins": []any{secret}},
			msg:  "'" + Mask + "' is not a valid integer",
		},
		{
			name: "default outside the choices",
			spec: opts(map[string]*Option{"token": {NoLog: true, Default: secret, Choices: []any{"a"}}}),
			msg:  "got: " + Mask,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := execute(t, tc.spec, tc.args, tc.env)
			require.Equal(t, true, res["failed"])
			require.Contains(t, res["msg"], tc.msg)
			require.NotContains(t, string(mustJSON(t, res)), secret)
		})
	}
}

func TestNoLogMasking(t *testing.T) {
	cases := []struct {
		name    string
		spec    *Spec
		args    map[string]any
		handler Handler
		want    map[string]any // checked key by key, after JSON encoding
	}{
		{
			name: "a no_log default is masked",
			spec: opts(map[string]*Option{"token": {NoLog: true, Default: secret}}),
			handler: func(m *Module) error {
				m.Set("echo", m.Params.Str("token"))
				return nil
			},
			want: map[string]any{"echo": Mask},
		},
		{
			name: "a number that spells a no_log value is masked whole",
			spec: opts(map[string]*Option{"pin": {Type: TypeInt, NoLog: true}}),
			args: map[string]any{"pin": "739215"},
			handler: func(m *Module) error {
				m.Set("pin", m.Params.Int("pin"))
				m.Set("pin_float", 739215.0)
				m.Set("bigger", int64(17392150))
				m.Set("other", 42)
				m.Set("msg", "pin 739215 set")
				return nil
			},
			want: map[string]any{"pin": Mask, "pin_float": Mask, "bigger": Mask, "other": 42.0, "msg": "pin " + Mask + " set"},
		},
		{
			name: "a secret containing a shorter secret is masked whole",
			spec: opts(map[string]*Option{"a": {NoLog: true}, "b": {NoLog: true}}),
			args: map[string]any{"a": "abc123", "b": "abc123xyz"},
			handler: func(m *Module) error {
				m.Set("msg", "b=abc123xyz a=abc123")
				return nil
			},
			want: map[string]any{"msg": "b=" + Mask + " a=" + Mask},
		},
		{
			name: "a no_log bool hides nothing, as in ansible",
			spec: opts(map[string]*Option{"flag": {Type: TypeBool, NoLog: true}}),
			args: map[string]any{"flag": true},
			handler: func(m *Module) error {
				m.Set("msg", "True story, False alarm")
				m.Set("flag", m.Params.Bool("flag"))
				return nil
			},
			want: map[string]any{"msg": "True story, False alarm", "flag": true},
		},
		{
			name: "an empty no_log value hides nothing",
			spec: opts(map[string]*Option{"token": {NoLog: true}}),
			args: map[string]any{"token": ""},
			handler: func(m *Module) error {
				m.Set("msg", "unchanged")
				return nil
			},
			want: map[string]any{"msg": "unchanged"},
		},
		{
			name: "values of options without no_log are shown",
			spec: opts(map[string]*Option{"name": {}}),
			args: map[string]any{"name": secret},
			handler: func(m *Module) error {
				m.Set("name", m.Params.Str("name"))
				return nil
			},
			want: map[string]any{"name": secret},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Execute("test_mod", tc.spec, mustJSON(t, tc.args), envMap(nil), tc.handler)
			var decoded map[string]any
			require.NoError(t, json.Unmarshal(mustJSON(t, res), &decoded))
			for k, v := range tc.want {
				require.Equal(t, v, decoded[k], "key %s", k)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	cases := []struct {
		name     string
		result   map[string]any
		wantCode int
		want     map[string]any
	}{
		{
			name:     "success",
			result:   map[string]any{"changed": true, "msg": "line one\nline two"},
			wantCode: 0,
			want:     map[string]any{"changed": true, "msg": "line one\nline two"},
		},
		{
			name:     "failed false",
			result:   map[string]any{"changed": false, "failed": false},
			wantCode: 0,
			want:     map[string]any{"changed": false, "failed": false},
		},
		{
			name:     "failure",
			result:   map[string]any{"changed": false, "failed": true, "msg": "no"},
			wantCode: 1,
			want:     map[string]any{"changed": false, "failed": true, "msg": "no"},
		},
		{
			name:     "unencodable result becomes a failure",
			result:   map[string]any{"changed": true, "ratio": math.NaN()},
			wantCode: 1,
			want:     map[string]any{"changed": false, "failed": true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			code := write(&buf, tc.result)
			require.Equal(t, tc.wantCode, code)
			out := buf.String()
			require.True(t, strings.HasSuffix(out, "\n"))
			require.Equal(t, 1, strings.Count(out, "\n"), "exactly one line: %q", out)
			var decoded map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &decoded), "exactly one JSON object")
			for k, v := range tc.want {
				require.Equal(t, v, decoded[k], "key %s", k)
			}
		})
	}
}

func TestWriteAfterExecute(t *testing.T) {
	// The pair Run uses: a validation failure prints failed JSON and exits 1.
	res := Execute("test_mod", opts(map[string]*Option{"name": {Required: true}}), []byte(`{}`), envMap(nil), func(*Module) error { return nil })
	var buf bytes.Buffer
	require.Equal(t, 1, write(&buf, res))
	require.JSONEq(t, `{"failed": true, "changed": false, "msg": "missing required arguments: name"}`, buf.String())
}

func TestParamsGetters(t *testing.T) {
	p := Params{
		"s": "str", "b": true, "i": int64(7), "f": 1.5,
		"l":     []any{"a", 1.0, "b"},
		"d":     map[string]any{"k": "v"},
		"pd":    Params{"k": "v"},
		"unset": nil,
	}
	require.True(t, p.Has("s"))
	require.False(t, p.Has("unset"))
	require.False(t, p.Has("missing"))
	require.Equal(t, "str", p.Str("s"))
	require.Equal(t, "", p.Str("unset"))
	require.Equal(t, "", p.Str("b"), "wrong type reads as unset")
	require.True(t, p.Bool("b"))
	require.False(t, p.Bool("unset"))
	require.Equal(t, int64(7), p.Int("i"))
	require.Equal(t, int64(0), p.Int("f"))
	require.Equal(t, 1.5, p.Float("f"))
	require.Equal(t, []any{"a", 1.0, "b"}, p.List("l"))
	require.Nil(t, p.List("unset"))
	require.Equal(t, []string{"a", "b"}, p.Strings("l"), "non-strings skipped")
	require.Nil(t, p.Strings("unset"))
	require.Equal(t, Params{"k": "v"}, p.Dict("d"))
	require.Equal(t, Params{"k": "v"}, p.Dict("pd"))
	require.Nil(t, p.Dict("unset"))
	require.Nil(t, p.Dict("s"))
}

func TestParamsFromExecute(t *testing.T) {
	spec := opts(map[string]*Option{
		"name": {}, "count": {Type: TypeInt}, "ratio": {Type: TypeFloat}, "on": {Type: TypeBool},
		"tags": {Type: TypeList, Elements: TypeStr}, "creds": {Type: TypeDict, Options: opts(map[string]*Option{"user": {}})},
		"dir": {Type: TypePath},
	})
	_, p := execute(t, spec, map[string]any{
		"name": "n", "count": "3", "ratio": "0.25", "on": "yes", "tags": "a,b", "creds": "user=u", "dir": "/d",
	}, nil)
	require.Equal(t, "n", p.Str("name"))
	require.Equal(t, int64(3), p.Int("count"))
	require.Equal(t, 0.25, p.Float("ratio"))
	require.True(t, p.Bool("on"))
	require.Equal(t, []string{"a", "b"}, p.Strings("tags"))
	require.Equal(t, "u", p.Dict("creds").Str("user"))
	require.Equal(t, "/d", p.Str("dir"))
}

// Compute Engine instance IDs pass 2^53: a float64 would round them.
func TestLargeIntegersKeepTheirDigits(t *testing.T) {
	spec := &Spec{Options: map[string]*Option{"id": {Type: TypeStr}, "n": {Type: TypeInt}, "data": {Type: TypeDict}}}
	res := Execute("m", spec, []byte(`{"id":16979701088048819,"n":16979701088048819,"data":{"big":12345678901234567890}}`),
		func(string) (string, bool) { return "", false }, func(m *Module) error {
			m.Set("id", m.Params.Str("id"))
			m.Set("n", m.Params.Int("n"))
			m.Set("data", m.Params.Dict("data"))
			return nil
		})
	out, err := json.Marshal(res)
	require.NoError(t, err)
	require.Contains(t, string(out), `"id":"16979701088048819"`)
	require.Contains(t, string(out), `"n":16979701088048819`)
	require.Contains(t, string(out), `"big":12345678901234567890`)
}
