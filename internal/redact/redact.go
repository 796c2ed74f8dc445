// Package redact hides secrets in the configuration strings zocket shows: device arguments
// such as memif's secret=, in the control info (Prometheus labels, zfstackdump), the dump's
// attributes, log lines and error messages. Every place that prints an interface, eal_args or
// attribute string passes it through String.
package redact

import "strings"

// Mark replaces a secret value.
const Mark = "REDACTED"

// String returns s with the value of every key=value pair whose key contains "secret",
// "password", "passwd" or "key" (any case) replaced by Mark. A key is the run of letters,
// digits, '_', '-' and '.' before an '='; its value runs to the next ',', ';', white space or
// the end. So "net_memif0,role=client,secret=abc" becomes "net_memif0,role=client,
// secret=REDACTED", in an attribute string ("interface=…;eal_args=…") or an EAL argument
// ("--vdev=net_memif0,secret=abc") alike. A string with nothing to hide is returned as it is,
// without allocating.
func String(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b (when b is in use)
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		k := i
		for k > 0 && isKeyByte(s[k-1]) {
			k--
		}
		end := i + 1
		for end < len(s) && !isSep(s[end]) {
			end++
		}
		if !secretKey(s[k:i]) || end == i+1 {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[done : i+1])
		b.WriteString(Mark)
		done = end
		i = end - 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func isSep(c byte) bool {
	return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "secret") || strings.Contains(k, "password") ||
		strings.Contains(k, "passwd") || strings.Contains(k, "key")
}
