// Package shape moves API objects between the API's camelCase JSON and the
// modules' snake_case options, and normalises them so that desired and
// current state compare the way the server means them.
package shape

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/stepfleet/smallstep/modules-src/internal/jsonnum"
)

// Snake turns an API field name into its option name: staticSANs becomes
// static_sans, tenantID tenant_id, forceCN force_cn.
func Snake(name string) string {
	r := []rune(name)
	lowerRun := func(k int) int {
		for k < len(r) && !unicode.IsUpper(r[k]) {
			k++
		}
		return k
	}
	var words []string
	for i := 0; i < len(r); {
		end := lowerRun(i)
		if unicode.IsUpper(r[i]) {
			j := i
			for j < len(r) && unicode.IsUpper(r[j]) {
				j++
			}
			switch {
			case j-i == 1:
				end = lowerRun(j) // an ordinary capitalised word
			case j < len(r) && r[j] == 's' && (j+1 == len(r) || unicode.IsUpper(r[j+1])):
				end = j + 1 // a plural acronym: SANs, IDs
			case j < len(r) && unicode.IsLower(r[j]):
				end = j - 1 // the acronym's last capital starts a word: XMLFile
			default:
				end = j
			}
		}
		words = append(words, strings.ToLower(string(r[i:end])))
		i = end
	}
	return strings.Join(words, "_")
}

// ToSnake converts the keys of an API object, recursively, to option names.
// Keys below a key listed in opaque (such as a device's data) are the
// user's own and stay as they are.
func ToSnake(v any, opaque ...string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if contains(opaque, k) {
				out[Snake(k)] = val
				continue
			}
			out[Snake(k)] = ToSnake(val, opaque...)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = ToSnake(val, opaque...)
		}
		return out
	}
	return v
}

// FromParams builds an API object from validated options: each API field
// whose option is set is copied, converted by the nested field lists in
// nested. Unset options are left out, never sent as null.
func FromParams(params map[string]any, fields []string, nested map[string][]string) map[string]any {
	if params == nil {
		return nil
	}
	out := map[string]any{}
	for _, f := range fields {
		v, ok := params[Snake(f)]
		if !ok || v == nil {
			continue
		}
		if sub, ok := nested[f]; ok {
			if m, ok := v.(map[string]any); ok {
				v = FromParams(m, sub, nested)
			}
		}
		out[f] = v
	}
	return out
}

// Normalize returns a copy of v in which the values the server treats as
// absent (null, false, "", empty lists and objects) are gone, strings are
// trimmed of surrounding white space, numbers are as jsonnum decodes them,
// and the lists
// named in sets are sorted, since their order carries no meaning.
func Normalize(v any, sets ...string) any {
	return normalize(Generic(v), "", sets)
}

func normalize(v any, key string, sets []string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			n := normalize(val, k, sets)
			if !isEmpty(n) {
				out[k] = n
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, val := range x {
			out = append(out, normalize(val, "", sets))
		}
		if contains(sets, key) {
			sort.Slice(out, func(i, j int) bool { return jsonString(out[i]) < jsonString(out[j]) })
		}
		return out
	case string:
		return strings.TrimSpace(x)
	}
	return v
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// Equal compares two normalised objects.
func Equal(a, b any) bool { return reflect.DeepEqual(Generic(a), Generic(b)) }

// Generic turns any JSON-encodable value into maps, slices, strings,
// numbers and bools, the form that decoded API answers have (see jsonnum).
func Generic(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	out, err := jsonnum.Decode(b)
	if err != nil {
		return v
	}
	return out
}

// Drop returns a copy of an object without the named top-level keys.
func Drop(obj map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if !contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

// WithDefaults fills in, recursively, the values the server sets when the
// client leaves them out, so that leaving a default out is no change.
func WithDefaults(obj map[string]any, defaults map[string]any) map[string]any {
	out := make(map[string]any, len(obj)+len(defaults))
	for k, v := range obj {
		out[k] = v
	}
	for k, d := range defaults {
		cur, ok := out[k]
		if !ok || cur == nil {
			out[k] = d
			continue
		}
		dm, dIsMap := d.(map[string]any)
		cm, cIsMap := cur.(map[string]any)
		if dIsMap && cIsMap {
			out[k] = WithDefaults(cm, dm)
		}
	}
	return out
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
