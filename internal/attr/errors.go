package attr

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/zocket/zocket/internal/redact"
)

// Error is an attribute error. It names the attribute, the value and where
// the pair came from, and unwraps to its Errno, so that
// errors.Is(err, syscall.EOVERFLOW) and the like work. The Errno values
// are those of zf_attr_*: ENOENT, EINVAL, EOVERFLOW and ENOMSG (see the
// package documentation).
type Error struct {
	// Where is "ZF_ATTR", "file:line", or "" for a direct call.
	Where string
	// Name is the attribute name as given.
	Name string
	// Value is the value as given, when setting.
	Value string
	// Reason says what is wrong, e.g. "out of range [64, 16777216]".
	Reason string
	// Errno is the error code.
	Errno syscall.Errno

	hasValue bool
}

// Error formats e as `[where: ][attr name[=value]: ]reason: errno text`; values are passed
// through redact.String.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	named := e.Name != "" || e.hasValue // errors from a file may withhold both
	if named {
		b.WriteString("attr ")
		b.WriteString(e.Name)
	}
	if e.hasValue {
		b.WriteByte('=')
		v := redact.String(e.Value)
		if v == "" || strings.ContainsFunc(v, func(r rune) bool {
			return r <= ' ' || r == 0x7f || r == '"'
		}) {
			b.WriteString(strconv.Quote(v))
		} else {
			b.WriteString(v)
		}
	}
	if e.Reason != "" {
		if named {
			b.WriteString(": ")
		}
		b.WriteString(e.Reason)
	}
	b.WriteString(": ")
	b.WriteString(e.Errno.Error())
	return b.String()
}

// Unwrap returns e.Errno.
func (e *Error) Unwrap() error { return e.Errno }

// setErr returns the error for setting name to value.
func setErr(name, value string, errno syscall.Errno, reason string) *Error {
	return &Error{Name: name, Value: value, Reason: reason, Errno: errno, hasValue: true}
}

// getErr returns the error for reading name.
func getErr(name string, errno syscall.Errno, reason string) *Error {
	return &Error{Name: name, Reason: reason, Errno: errno}
}
