package wire

// IPv4 and TCP options share one layout: kind 0 ends the list, kind 1 is a
// one-byte no-op, and every other kind is followed by a length byte that
// counts the kind and length bytes too (RFC 791 §3.1, RFC 9293 §3.1).
const (
	optEOL = 0
	optNOP = 1
)

// optionsWellFormed reports whether opts is a well-formed option list: no
// option length under 2, none running past the end. Bytes after an
// end-of-list option are padding and are not read.
func optionsWellFormed(opts []byte) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case optEOL:
			return true
		case optNOP:
			i++
		default:
			if i+1 >= len(opts) {
				return false
			}
			l := int(opts[i+1])
			if l < 2 || l > len(opts)-i {
				return false
			}
			i += l
		}
	}
	return true
}

// findOption returns the offset in opts of the first option of the given
// kind (not EOL or NOP), or -1. It stops at anything malformed, so it is
// safe on unchecked input.
func findOption(opts []byte, kind uint8) int {
	for i := 0; i < len(opts); {
		switch k := opts[i]; k {
		case optEOL:
			return -1
		case optNOP:
			i++
		default:
			if i+1 >= len(opts) {
				return -1
			}
			l := int(opts[i+1])
			if l < 2 || l > len(opts)-i {
				return -1
			}
			if k == kind {
				return i
			}
			i += l
		}
	}
	return -1
}
