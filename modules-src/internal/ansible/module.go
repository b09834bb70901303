package ansible

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/stepfleet/smallstep/modules-src/internal/jsonnum"
)

// Module is one run of a module: its validated parameters, the modes Ansible
// asked for, and the result being built.
type Module struct {
	Name      string
	Params    Params
	CheckMode bool
	DiffMode  bool
	Verbosity int

	changed  bool
	result   map[string]any
	warnings []string
	diff     map[string]any
}

// FieldsError is an error that adds structured keys to the failed result,
// such as an API failure's status and request ID.
type FieldsError interface {
	error
	ResultFields() map[string]any
}

// SetChanged records whether the module changed (or, in check mode, would
// change) something.
func (m *Module) SetChanged(changed bool) { m.changed = changed }

// Set adds a key to the result.
func (m *Module) Set(key string, value any) { m.result[key] = value }

// Warn adds a warning that Ansible shows after the task.
func (m *Module) Warn(format string, args ...any) {
	m.warnings = append(m.warnings, fmt.Sprintf(format, args...))
}

// SetDiff records the before and after state; it reaches the result only in
// diff mode, as Ansible expects.
func (m *Module) SetDiff(before, after any) {
	m.diff = map[string]any{"before": before, "after": after}
}

// SetFacts adds facts that Ansible merges into the host's variables.
func (m *Module) SetFacts(facts map[string]any) { m.result["ansible_facts"] = facts }

// Handler does a module's work; a returned error fails the task.
type Handler func(m *Module) error

// Run is the whole life of a module binary: read os.Args[1], validate, call
// h, print one JSON result on stdout and exit. Nothing else in a module may
// write to stdout.
func Run(name string, spec *Spec, h Handler) {
	var args []byte
	var err error
	if len(os.Args) == 2 && os.Args[1] == "--argspec" {
		// For the test that keeps the docs in step with the spec.
		b, _ := json.MarshalIndent(spec.Describe(), "", "  ")
		fmt.Println(string(b))
		os.Exit(0)
	}
	if len(os.Args) < 2 {
		err = errors.New("no args file: Ansible runs a binary module as '<module> <args file>'")
	} else {
		args, err = os.ReadFile(os.Args[1])
	}
	var result map[string]any
	if err != nil {
		result = map[string]any{"failed": true, "changed": false, "msg": fmt.Sprintf("%s: cannot read the args file: %v", name, err)}
	} else {
		result = Execute(name, spec, args, osGetenv, h)
	}
	code := write(os.Stdout, result)
	os.Exit(code)
}

// Execute runs a module on the JSON args and returns its result, masked.
// It never panics.
func Execute(name string, spec *Spec, args []byte, getenv func(string) (string, bool), h Handler) (result map[string]any) {
	v := &validator{module: name, getenv: getenv}
	m := &Module{Name: name, result: map[string]any{}}
	defer func() {
		if r := recover(); r != nil {
			result = map[string]any{
				"failed":    true,
				"changed":   false,
				"msg":       fmt.Sprintf("%s: internal error: %v (please report this with the task that caused it)", name, r),
				"exception": string(debug.Stack()),
			}
		}
		// Longest first, so a secret that contains a shorter one is not
		// left half visible.
		sort.SliceStable(v.secrets, func(i, j int) bool { return len(v.secrets[i]) > len(v.secrets[j]) })
		result = maskResult(result, v.secrets)
	}()

	var raw map[string]any
	if err := jsonnum.Unmarshal(args, &raw); err != nil {
		return map[string]any{"failed": true, "changed": false, "msg": fmt.Sprintf("%s: the args file is not a JSON object: %v", name, err)}
	}
	m.CheckMode, _ = raw["_ansible_check_mode"].(bool)
	m.DiffMode, _ = raw["_ansible_diff"].(bool)
	if n, ok := raw["_ansible_verbosity"].(int64); ok {
		m.Verbosity = int(n)
	}
	v.strConv, _ = raw["_ansible_string_conversion_action"].(string)
	m.Params = v.validate(spec, raw, "")
	m.warnings = append(m.warnings, v.conversionWarnings()...)
	if len(v.errs) > 0 {
		return map[string]any{"failed": true, "changed": false, "msg": strings.Join(v.errs, ". ")}
	}

	err := h(m)
	out := m.result
	out["changed"] = m.changed
	if m.DiffMode && m.diff != nil {
		out["diff"] = m.diff
	}
	if len(m.warnings) > 0 {
		out["warnings"] = m.warnings
	}
	if err != nil {
		out["failed"] = true
		out["msg"] = err.Error()
		var fe FieldsError
		if errors.As(err, &fe) {
			for k, val := range fe.ResultFields() {
				out[k] = val
			}
		}
	}
	return out
}

func write(w io.Writer, result map[string]any) int {
	b, err := json.Marshal(result)
	failed, _ := result["failed"].(bool)
	if err != nil {
		failed = true
		b, _ = json.Marshal(map[string]any{"failed": true, "changed": false, "msg": "cannot encode the module result: " + err.Error()})
	}
	fmt.Fprintln(w, string(b))
	if failed {
		return 1
	}
	return 0
}

// Mask is the word that replaces a no_log value, as in Ansible.
const Mask = "********"

// mask replaces every occurrence of a secret in strings and keys of v.
// protocolKeys are the result keys Ansible reads; a short secret that
// happens to be part of one must not rename it.
var protocolKeys = map[string]bool{
	"changed": true, "failed": true, "msg": true, "diff": true, "warnings": true,
	"deprecations": true, "ansible_facts": true, "skipped": true, "exception": true,
}

// maskResult masks a whole result, keeping its protocol keys and the
// before/after keys of its diff.
func maskResult(result map[string]any, secrets []string) map[string]any {
	out := make(map[string]any, len(result))
	for k, val := range result {
		key := k
		if !protocolKeys[k] {
			key = mask(k, secrets).(string)
		}
		if k == "diff" {
			if d, ok := val.(map[string]any); ok {
				masked := make(map[string]any, len(d))
				for dk, dv := range d {
					masked[dk] = mask(dv, secrets)
				}
				out[key] = masked
				continue
			}
		}
		out[key] = mask(val, secrets)
	}
	return out
}

func mask(v any, secrets []string) any {
	if len(secrets) == 0 {
		return v
	}
	switch x := v.(type) {
	case string:
		for _, s := range secrets {
			x = strings.ReplaceAll(x, s, Mask)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[mask(k, secrets).(string)] = mask(val, secrets)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = mask(val, secrets)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = mask(val, secrets)
		}
		return out
	default:
		// Structs and typed maps: go through JSON so nothing escapes masking.
		if v == nil {
			return nil
		}
		switch x := v.(type) {
		case bool:
			return v
		case int, int64, float64, json.Number:
			// A number that spells a secret (a no_log PIN) is masked whole,
			// as Ansible's remove_values does.
			s, _ := toStr(x)
			for _, secret := range secrets {
				if strings.Contains(s, secret) {
					return Mask
				}
			}
			return v
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("unencodable value: %v", mask(err.Error(), secrets))
		}
		generic, err := jsonnum.Decode(b)
		if err != nil {
			return nil
		}
		return mask(generic, secrets)
	}
}
