package ansible

// Has reports whether the option is set (given or defaulted).
func (p Params) Has(k string) bool { return p[k] != nil }

// Str returns a str or path option, "" when unset.
func (p Params) Str(k string) string { s, _ := p[k].(string); return s }

// Bool returns a bool option, false when unset.
func (p Params) Bool(k string) bool { b, _ := p[k].(bool); return b }

// Int returns an int option, 0 when unset.
func (p Params) Int(k string) int64 { i, _ := p[k].(int64); return i }

// Float returns a float option, 0 when unset.
func (p Params) Float(k string) float64 { f, _ := p[k].(float64); return f }

// List returns a list option, nil when unset.
func (p Params) List(k string) []any { l, _ := p[k].([]any); return l }

// Strings returns a list option whose elements are str.
func (p Params) Strings(k string) []string {
	l := p.List(k)
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Dict returns a dict option (or the sub-options of one), nil when unset.
func (p Params) Dict(k string) Params {
	switch d := p[k].(type) {
	case map[string]any:
		return Params(d)
	case Params:
		return d
	}
	return nil
}
