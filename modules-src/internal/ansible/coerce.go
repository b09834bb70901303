package ansible

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stepfleet/smallstep/modules-src/internal/jsonnum"
)

var (
	trueStrings  = []string{"y", "yes", "on", "1", "true", "t"}
	falseStrings = []string{"n", "no", "off", "0", "false", "f"}
)

// coerce converts v to the named type with Ansible's conversions: "yes" is
// a bool, "42" an int, "a,b" a list, a JSON or k=v string a dict.
func coerce(typ string, v any) (any, error) {
	switch typ {
	case TypeStr:
		s, err := toStr(v)
		if err != nil {
			return nil, err
		}
		return s, nil
	case TypePath:
		s, err := toStr(v)
		if err != nil {
			return nil, err
		}
		return expandPath(s), nil
	case TypeBool:
		return toBool(v)
	case TypeInt:
		return toInt(v)
	case TypeFloat:
		return toFloat(v)
	case TypeList:
		return toList(v)
	case TypeDict:
		return toDict(v)
	case TypeRaw:
		return v, nil
	}
	return nil, fmt.Errorf("unknown type %q in the module's argument spec", typ)
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "str"
	case bool:
		return "bool"
	case float64, int, int64, json.Number:
		return "number"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func toStr(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		// Python's str(True), which is what Ansible would send on.
		if x {
			return "True", nil
		}
		return "False", nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case json.Number:
		return string(x), nil
	}
	return "", fmt.Errorf("a %s cannot be used as a string", typeName(v))
}

// expandPath is Python's expanduser(expandvars(s)), which Ansible applies
// to path options: unset variables and a lone $ stay as written, unlike
// os.ExpandEnv, which would drop them.
func expandPath(s string) string {
	s = expandVars(s)
	if s == "~" || strings.HasPrefix(s, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			s = strings.TrimRight(home, "/") + s[1:]
			if s == "" {
				s = "/"
			}
		}
	}
	return s
}

// expandVars is Python's posixpath.expandvars: $name (word characters) and
// ${name} are replaced when set. It is written out rather than a regexp,
// which would add a quarter MiB to the target-side binary.
func expandVars(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		var name, ref string
		if i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			name, ref = s[i+2:i+2+end], s[i:i+3+end]
		} else {
			j := i + 1
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				j += size
			}
			name, ref = s[i+1:j], s[i:j]
		}
		if val, ok := os.LookupEnv(name); ok && name != "" {
			b.WriteString(val)
		} else {
			b.WriteString(ref)
		}
		i += len(ref)
	}
	return b.String()
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		l := strings.ToLower(strings.TrimSpace(x))
		for _, t := range trueStrings {
			if l == t {
				return true, nil
			}
		}
		for _, f := range falseStrings {
			if l == f {
				return false, nil
			}
		}
	case float64:
		if x == 1 {
			return true, nil
		}
		if x == 0 {
			return false, nil
		}
	case int64:
		if x == 1 {
			return true, nil
		}
		if x == 0 {
			return false, nil
		}
	}
	return nil, fmt.Errorf("%s is not a valid boolean; valid booleans include: %s",
		quote(v), strings.Join(append(append([]string{}, trueStrings...), falseStrings...), ", "))
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return i, nil
		}
	}
	return nil, fmt.Errorf("%s is not a valid integer", quote(v))
}

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f, nil
		}
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s is not a valid float", quote(v))
}

func toList(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case string:
		// Ansible splits a comma-separated string into a list.
		if x == "" {
			return []any{}, nil
		}
		parts := strings.Split(x, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case float64, int, int64, json.Number:
		s, _ := toStr(x)
		return []any{s}, nil
	}
	return nil, fmt.Errorf("a %s cannot be used as a list", typeName(v))
}

func toDict(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "{") {
			var m map[string]any
			if err := jsonnum.Unmarshal([]byte(s), &m); err != nil {
				return nil, fmt.Errorf("the string is not valid JSON: %v", err)
			}
			return m, nil
		}
		// k1=v1 k2=v2, or k1=v1,k2=v2, as Ansible accepts.
		m := map[string]any{}
		for _, field := range keyValueFields(s) {
			k, val, ok := strings.Cut(field, "=")
			if !ok {
				return nil, fmt.Errorf("%q is not a key=value pair", field)
			}
			m[k] = val
		}
		return m, nil
	}
	return nil, fmt.Errorf("a %s cannot be used as a dict", typeName(v))
}

// keyValueFields splits on commas and spaces outside quotes, with backslash
// escapes, as Ansible's check_type_dict does: name='my host' is one field.
func keyValueFields(s string) []string {
	var fields []string
	var field strings.Builder
	var quote rune
	escaped := false
	for _, c := range s {
		switch {
		case escaped:
			field.WriteRune(c)
			escaped = false
		case c == '\\':
			escaped = true
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == ',' || c == ' '):
			if field.Len() > 0 {
				fields = append(fields, field.String())
				field.Reset()
			}
		default:
			field.WriteRune(c)
		}
	}
	if field.Len() > 0 {
		fields = append(fields, field.String())
	}
	return fields
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return "'" + s + "'"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
