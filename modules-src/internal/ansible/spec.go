// Package ansible speaks Ansible's binary-module protocol: it reads the args
// file, validates it against a declared argument spec the way Ansible's own
// AnsibleModule does, and prints exactly one JSON result.
package ansible

// Option types, named as in Ansible's argument specs.
const (
	TypeStr   = "str"
	TypeBool  = "bool"
	TypeInt   = "int"
	TypeFloat = "float"
	TypeList  = "list"
	TypeDict  = "dict"
	TypePath  = "path"
	TypeRaw   = "raw"
)

// Option declares one module option, as an entry of Ansible's argument_spec.
type Option struct {
	Type     string // one of the Type constants; "" means str
	Required bool
	Default  any
	Choices  []any
	Aliases  []string
	Elements string // type of list elements
	// Options holds sub-options of a dict option, or of each element of a
	// list option whose Elements is dict.
	Options *Spec
	// EnvFallback lists environment variables read, in order, when the option
	// is not set (Ansible's fallback=(env_fallback, [...])).
	EnvFallback []string
	// NoLog marks a secret: its value is masked everywhere in the result.
	NoLog bool
}

// RequiredIf is one entry of Ansible's required_if: when Key equals Value,
// all of Requires must be set (or any of them when Any is true).
type RequiredIf struct {
	Key      string
	Value    any
	Requires []string
	Any      bool
}

// Spec is a whole argument spec, for a module or for the sub-options of one
// dict option.
type Spec struct {
	Options           map[string]*Option
	MutuallyExclusive [][]string
	RequiredTogether  [][]string
	RequiredOneOf     [][]string
	RequiredIf        []RequiredIf
}

// Merge returns a copy of s with the options of others added, so shared
// options (such as the API connection) are declared once.
func (s *Spec) Merge(others map[string]*Option) *Spec {
	out := *s
	out.Options = make(map[string]*Option, len(s.Options)+len(others))
	for k, v := range s.Options {
		out.Options[k] = v
	}
	for k, v := range others {
		out.Options[k] = v
	}
	return &out
}

func (o *Option) typ() string {
	if o.Type == "" {
		return TypeStr
	}
	return o.Type
}

// Describe returns the spec in the shape of Ansible's argument_spec (names,
// types, required, default, choices, aliases, elements, sub-options), so a
// test can compare it with the module's documentation.
func (s *Spec) Describe() map[string]any {
	out := map[string]any{}
	for name, o := range s.Options {
		d := map[string]any{"type": o.typ(), "required": o.Required}
		if o.Default != nil {
			d["default"] = o.Default
		}
		if len(o.Choices) > 0 {
			d["choices"] = o.Choices
		}
		if len(o.Aliases) > 0 {
			d["aliases"] = o.Aliases
		}
		if o.Elements != "" {
			d["elements"] = o.Elements
		}
		if o.NoLog {
			d["no_log"] = true
		}
		if o.Options != nil {
			d["options"] = o.Options.Describe()
		}
		out[name] = d
	}
	return out
}
