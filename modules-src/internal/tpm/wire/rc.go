package wire

import "fmt"

// RC is a TPM response code, TPM_RC (TPM 2.0 Part 2, section 6.6). A
// command that fails returns its RC as the error; errors.Is matches a
// format-1 code against its canonical value, whatever handle, parameter or
// session it names.
type RC uint32

// Bits of a response code (TPM 2.0 Part 2, section 6.6.2).
const (
	rcVer1 = 0x00000100
	rcFmt1 = 0x00000080
	rcWarn = 0x00000900
	rcP    = 0x00000040
	rcS    = 0x00000800
)

// fmt1 splits a format-1 code into its canonical value and what it
// names: "handle", "parameter" or "session", and which one.
func (r RC) fmt1() (ok bool, canonical RC, subject string, index int) {
	if r&rcFmt1 != rcFmt1 {
		return false, 0, "", 0
	}
	subject = "handle"
	switch {
	case r&rcP == rcP:
		subject = "parameter"
		r ^= rcP
	case r&rcS == rcS:
		subject = "session"
		r ^= rcS
	}
	return true, r & 0xFFFFF0FF, subject, int(r&0xF00) >> 8
}

// Error names the code as the spec does, with what it names and a hint
// where there is one: "TPM_RC_AUTH_FAIL (session 1): a wrong password; ...".
func (r RC) Error() string {
	withHint := func(code RC, s string) string {
		if h, ok := hints[code]; ok {
			return s + ": " + h
		}
		return s
	}
	if ok, canonical, subject, index := r.fmt1(); ok {
		name, known := fmt1Descs[canonical]
		if !known {
			return fmt.Sprintf("unknown format-1 error: %s %d (%x)", subject, index, uint32(canonical))
		}
		return withHint(canonical, fmt.Sprintf("%s (%s %d)", name, subject, index))
	}
	switch {
	case r&rcVer1 == rcVer1 && r&rcWarn != rcWarn:
		name, known := fmt0Descs[r]
		if !known {
			return fmt.Sprintf("unknown format-0 error code (0x%x)", uint32(r))
		}
		return withHint(r, name)
	case r&rcVer1 == rcVer1 && r&rcWarn == rcWarn:
		name, known := warnDescs[r]
		if !known {
			return fmt.Sprintf("unknown warning (0x%x)", uint32(r))
		}
		return withHint(r, name)
	}
	return fmt.Sprintf("unrecognized error code (0x%x)", uint32(r))
}

// Is reports whether target is the same code, comparing a format-1 code by
// its canonical value.
func (r RC) Is(target error) bool {
	t, ok := target.(RC)
	if !ok {
		return false
	}
	if ok, canonical, _, _ := r.fmt1(); ok {
		return canonical == t
	}
	return r == t
}
