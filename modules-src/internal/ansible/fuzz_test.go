package ansible

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzExecute feeds arbitrary args files to a module with a spec that uses
// every feature: the result is always one JSON object, failed or not, and
// the secret never shows.
func FuzzExecute(f *testing.F) {
	spec := &Spec{
		Options: map[string]*Option{
			"name":   {Type: TypeStr, Required: true, Aliases: []string{"slug"}},
			"token":  {Type: TypeStr, NoLog: true},
			"count":  {Type: TypeInt, Default: 1},
			"ratio":  {Type: TypeFloat},
			"on":     {Type: TypeBool},
			"tags":   {Type: TypeList, Elements: TypeStr},
			"mode":   {Type: TypeRaw},
			"where":  {Type: TypePath},
			"state":  {Type: TypeStr, Choices: []any{"present", "absent"}, Default: "present"},
			"nested": {Type: TypeDict, Options: &Spec{Options: map[string]*Option{"key": {Type: TypeStr, Required: true}, "pw": {Type: TypeStr, NoLog: true}}}},
			"items":  {Type: TypeList, Elements: TypeDict, Options: &Spec{Options: map[string]*Option{"id": {Type: TypeInt}}}},
		},
		MutuallyExclusive: [][]string{{"ratio", "count"}},
		RequiredIf:        []RequiredIf{{Key: "state", Value: "absent", Requires: []string{"tags"}}},
	}
	const secret = "fuzz-secret-9f8e"
	for _, seed := range []string{
		`{"name":"a","token":"fuzz-secret-9f8e"}`,
		`{"slug":"a","count":"3","on":"yes","tags":"a,b","nested":{"key":"k","pw":"fuzz-secret-9f8e"}}`,
		`{"name":1,"items":[{"id":"2"},{"id":"x"}],"state":"absent"}`,
		`{"name":"fuzz-secret-9f8e","token":"fuzz-secret-9f8e","_ansible_check_mode":true,"_ansible_diff":true}`,
		`[]`, `null`, `{"name":{"deep":[1,2,{"x":null}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, args []byte) {
		res := Execute("fuzz", spec, args, func(string) (string, bool) { return "", false }, func(m *Module) error {
			m.Set("echo", map[string]any(m.Params))
			return nil
		})
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
		if _, ok := res["changed"]; !ok {
			t.Fatalf("result without changed: %s", out)
		}
		if strings.Contains(string(args), secret) && strings.Contains(string(out), secret) {
			// The secret may legitimately appear only if it was never a
			// no_log value; with this spec it is masked wherever it is one.
			var raw map[string]any
			if json.Unmarshal(args, &raw) == nil && (raw["token"] == secret || nestedPW(raw) == secret) {
				t.Fatalf("secret leaked: %s", out)
			}
		}
	})
}

func nestedPW(raw map[string]any) any {
	if n, ok := raw["nested"].(map[string]any); ok {
		return n["pw"]
	}
	return nil
}
