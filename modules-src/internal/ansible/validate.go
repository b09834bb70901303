package ansible

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
)

// Params holds validated option values: every declared option is present,
// nil when neither set nor defaulted. Types are string, bool, int64,
// float64, []any and map[string]any.
type Params map[string]any

// validator walks a spec and its sub-specs, collecting every error the way
// Ansible does, and the values of no_log options for masking.
type validator struct {
	module  string
	errs    []string
	secrets []string
	getenv  func(string) (string, bool)
	// strConv is what to do when a str option is given a number or a
	// bool: "warn" (Ansible's default), "error" or "ignore", as the task's
	// _ansible_string_conversion_action says.
	strConv string
	// conversions are the numbers and bools converted to strings, by
	// option path with list indices left out, so that a list of a thousand
	// numeric IDs gives one warning, not a thousand.
	conversions map[string]*conversion
	convOrder   []string
}

// conversion is the first value converted at one option path, and how many
// were.
type conversion struct {
	first string
	count int
}

// validate checks raw against spec and returns the normalised parameters.
// where names the enclosing option for sub-options ("" at the top).
func (v *validator) validate(spec *Spec, raw map[string]any, where string) Params {
	suffix := ""
	if where != "" {
		suffix = " found in " + where
	}
	errsBefore := len(v.errs)
	in := make(map[string]any, len(raw))
	for k, val := range raw {
		in[k] = val
	}
	v.collectSecrets(spec, in)

	// Aliases: move an alias's value to its option, refusing both at once.
	aliasOf := map[string]string{}
	for name, o := range spec.Options {
		for _, a := range o.Aliases {
			aliasOf[a] = name
		}
	}
	for _, k := range sortedKeys(in) {
		name, ok := aliasOf[k]
		if !ok {
			continue
		}
		if _, both := in[name]; both {
			v.errf("both option %s and its alias %s are set%s", name, k, suffix)
		}
		in[name] = in[k]
		delete(in, k)
	}

	var unknown []string
	for _, k := range sortedKeys(in) {
		if _, ok := spec.Options[k]; !ok && !strings.HasPrefix(k, "_ansible_") {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		var valid []string
		for _, name := range sortedKeys(spec.Options) {
			valid = append(valid, name)
			valid = append(valid, spec.Options[name].Aliases...)
		}
		v.errf("Unsupported parameters for %s: %s. Supported parameters include: %s.",
			orDefault(where, "("+v.module+") module"), strings.Join(unknown, ", "), strings.Join(valid, ", "))
	}

	isSet := func(k string) bool { return in[k] != nil }
	for _, group := range spec.MutuallyExclusive {
		if countSet(group, isSet) > 1 {
			v.errf("parameters are mutually exclusive: %s%s", strings.Join(group, "|"), suffix)
		}
	}

	// Environment fallbacks count as set for the required check, like Ansible.
	for _, name := range sortedKeys(spec.Options) {
		o := spec.Options[name]
		if isSet(name) {
			continue
		}
		for _, env := range o.EnvFallback {
			if val, ok := v.getenv(env); ok {
				in[name] = val
				if o.NoLog {
					v.addSecret(val)
				}
				break
			}
		}
	}

	var missing []string
	for _, name := range sortedKeys(spec.Options) {
		if spec.Options[name].Required && !isSet(name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		// Ansible's own message stops at the names; an operator who keeps
		// the token in the environment needs to know which variable.
		var hints []string
		for _, name := range missing {
			if env := spec.Options[name].EnvFallback; len(env) > 0 {
				hints = append(hints, fmt.Sprintf("; %s can also come from the environment variable %s", name, strings.Join(env, " or ")))
			}
		}
		v.errf("missing required arguments: %s%s%s", strings.Join(missing, ", "), suffix, strings.Join(hints, ""))
	}

	out := Params{}
	for _, name := range sortedKeys(spec.Options) {
		o := spec.Options[name]
		val, ok := in[name]
		if !ok || val == nil {
			continue
		}
		out[name] = v.convert(name, o, val, where)
	}

	// Defaults before the dependency checks, as Ansible applies them: a
	// defaulted state: present triggers required_if like a given one.
	for _, name := range sortedKeys(spec.Options) {
		o := spec.Options[name]
		if _, ok := out[name]; ok || o.Default == nil {
			continue
		}
		out[name] = v.convert(name, o, o.Default, where)
	}
	present := func(k string) bool { return isSet(k) || out[k] != nil }

	for _, group := range spec.RequiredTogether {
		if n := countSet(group, present); n > 0 && n < len(group) {
			v.errf("parameters are required together: %s%s", strings.Join(group, ", "), suffix)
		}
	}
	for _, group := range spec.RequiredOneOf {
		if countSet(group, present) == 0 {
			v.errf("one of the following is required: %s%s", strings.Join(group, ", "), suffix)
		}
	}
	for _, ri := range spec.RequiredIf {
		want := ri.Value
		if o, ok := spec.Options[ri.Key]; ok {
			// Value: 3 in a spec must match the int64 an int option holds.
			if c, err := coerce(o.typ(), want); err == nil {
				want = c
			}
		}
		if got, ok := out[ri.Key]; !ok || !reflect.DeepEqual(got, want) {
			continue
		}
		var absent []string
		for _, r := range ri.Requires {
			if !present(r) {
				absent = append(absent, r)
			}
		}
		if (ri.Any && len(absent) == len(ri.Requires)) || (!ri.Any && len(absent) > 0) {
			which := "all"
			if ri.Any {
				which = "any"
			}
			v.errf("%s is %v but %s of the following are missing: %s%s",
				ri.Key, ri.Value, which, strings.Join(absent, ", "), suffix)
		}
	}

	for name := range spec.Options {
		if _, ok := out[name]; !ok {
			out[name] = nil
		}
	}
	if len(v.errs) > errsBefore {
		return nil
	}
	return out
}

func (v *validator) convert(name string, o *Option, val any, where string) any {
	label := name
	if where != "" {
		label = where + "." + name
	}
	if o.typ() == TypeStr && !v.strConversionAllowed(label, o, val) {
		return nil
	}
	conv, err := coerce(o.typ(), val)
	if err != nil {
		v.errf("argument '%s' is of type %s and we were unable to convert to %s: %v", label, typeName(val), o.typ(), err)
		return nil
	}
	if o.NoLog {
		// The converted value too: a dict given as a JSON string, a default.
		v.addSecret(conv)
	}
	if len(o.Choices) > 0 && !v.checkChoices(label, o, conv) {
		return nil
	}
	switch o.typ() {
	case TypeList:
		list := conv.([]any)
		if o.Elements == "" {
			return list
		}
		elems := make([]any, 0, len(list))
		for i, e := range list {
			if o.Elements == TypeStr && !v.strConversionAllowed(fmt.Sprintf("%s[%d]", label, i), o, e) {
				continue
			}
			ce, err := coerce(o.Elements, e)
			if err != nil {
				v.errf("elements of argument '%s' are of type %s and we were unable to convert to %s: %v", label, typeName(e), o.Elements, err)
				continue
			}
			if o.Elements == TypeDict && o.Options != nil {
				ce = map[string]any(v.validate(o.Options, ce.(map[string]any), fmt.Sprintf("%s[%d]", label, i)))
			}
			elems = append(elems, ce)
		}
		return elems
	case TypeDict:
		if o.Options != nil {
			return map[string]any(v.validate(o.Options, conv.(map[string]any), label))
		}
	}
	return conv
}

func (v *validator) checkChoices(label string, o *Option, val any) bool {
	items := []any{val}
	if l, ok := val.([]any); ok {
		items = l
	}
	for _, it := range items {
		ok := false
		for _, c := range o.Choices {
			if fmt.Sprint(c) == fmt.Sprint(it) {
				ok = true
				break
			}
		}
		if !ok {
			choices := make([]string, len(o.Choices))
			for i, c := range o.Choices {
				choices[i] = fmt.Sprint(c)
			}
			v.errf("value of %s must be one of: %s, got: %v", label, strings.Join(choices, ", "), it)
			return false
		}
	}
	return true
}

// collectSecrets records the raw values of no_log options before anything
// else runs, so that even a conversion error cannot print them.
func (v *validator) collectSecrets(spec *Spec, in map[string]any) {
	for name, o := range spec.Options {
		if !o.NoLog {
			continue
		}
		for _, k := range append([]string{name}, o.Aliases...) {
			v.addSecret(in[k])
		}
	}
}

// addSecret records the strings of a no_log value as Ansible's
// _return_datastructure_name does: strings and numbers, also inside lists
// and dicts; booleans and null hide nothing.
func (v *validator) addSecret(val any) {
	switch x := val.(type) {
	case nil, bool:
	case string:
		if x != "" {
			v.secrets = append(v.secrets, x)
		}
	case []any:
		for _, e := range x {
			v.addSecret(e)
		}
	case map[string]any:
		for _, e := range x {
			v.addSecret(e)
		}
	case Params:
		v.addSecret(map[string]any(x))
	default:
		if s, err := toStr(x); err == nil {
			v.secrets = append(v.secrets, s)
		}
	}
}

// strConversionAllowed applies the string conversion action to a number or
// bool given for a string, as Ansible does for its own modules: YAML turns
// an unquoted 0123 into 83 and 2024_01 into 202401, and a slug or ID made
// from that would name something else. The value of a no_log option is
// never shown.
func (v *validator) strConversionAllowed(label string, o *Option, val any) bool {
	switch val.(type) {
	case nil, string:
		return true
	case bool, float64, int, int64, json.Number:
	default:
		return true // not convertible at all: coerce says so
	}
	kind := "number"
	if _, ok := val.(bool); ok {
		kind = "bool"
	}
	shown := "a " + kind
	if !o.NoLog {
		str, _ := toStr(val)
		shown = "the " + kind + " " + str
	}
	if v.strConv == "ignore" {
		return true
	}
	path := withoutIndices(label)
	c := v.conversions[path]
	if v.strConv == "error" {
		// One error per option path, as for the warnings.
		if c == nil {
			v.errf("argument '%s' is of type %s and we were unable to convert to str: quote the value, so that YAML keeps it as written", label, typeName(val))
			v.noteConversion(path, shown)
		}
		return false
	}
	v.noteConversion(path, shown)
	return true
}

// noteConversion counts a conversion at path, keeping the first value shown.
func (v *validator) noteConversion(path, shown string) {
	c := v.conversions[path]
	if c == nil {
		if v.conversions == nil {
			v.conversions = map[string]*conversion{}
		}
		c = &conversion{first: shown}
		v.conversions[path] = c
		v.convOrder = append(v.convOrder, path)
	}
	c.count++
}

// withoutIndices turns "devices[12].instance_id" into
// "devices[].instance_id". Not regexp: it would grow the target-side
// binary, which links this package too.
func withoutIndices(label string) string {
	var b strings.Builder
	for i := 0; i < len(label); i++ {
		b.WriteByte(label[i])
		if label[i] != '[' {
			continue
		}
		j := i + 1
		for j < len(label) && label[j] >= '0' && label[j] <= '9' {
			j++
		}
		if j > i+1 && j < len(label) && label[j] == ']' {
			i = j - 1
		}
	}
	return b.String()
}

// conversionWarnings words the conversions as Ansible warns of its own.
func (v *validator) conversionWarnings() []string {
	var out []string
	for _, path := range v.convOrder {
		c := v.conversions[path]
		what := c.first + " given for " + path + " was converted to a string"
		if c.count > 1 {
			what = fmt.Sprintf("%d numbers or bools given for %s were converted to strings, the first %s", c.count, path, c.first)
		}
		out = append(out, what+"; if that is not what you meant, quote the value in the task (YAML reads an unquoted 0123 as 83 and 2024_01 as 202401)")
	}
	return out
}

func (v *validator) errf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func countSet(group []string, isSet func(string) bool) int {
	n := 0
	for _, k := range group {
		if isSet(k) {
			n++
		}
	}
	return n
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func osGetenv(k string) (string, bool) { return os.LookupEnv(k) }
