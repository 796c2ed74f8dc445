package wire

import "strconv"

// Seq is a TCP sequence number. Comparisons are modulo 2^32 (RFC 9293
// §3.4, gVisor's seqnum): s is less than v when v lies in the 2^31 numbers
// after s, so any two numbers less than 2^31 apart compare correctly across
// the wrap from 2^32-1 to 0.
type Seq uint32

// LessThan reports whether s comes before v.
func (s Seq) LessThan(v Seq) bool {
	return int32(s-v) < 0
}

// LessThanEq reports whether s comes before v or equals it.
func (s Seq) LessThanEq(v Seq) bool {
	return int32(s-v) <= 0
}

// InRange reports whether a <= s < b, walking forward from a: the range is
// the b-a numbers starting at a, and is empty when a equals b.
func (s Seq) InRange(a, b Seq) bool {
	return uint32(s-a) < uint32(b-a)
}

// InWindow reports whether s lies in the size numbers starting at first:
// first <= s < first+size. A zero size window holds nothing.
func (s Seq) InWindow(first Seq, size uint32) bool {
	return uint32(s-first) < size
}

// Add returns s advanced by n, wrapping modulo 2^32.
func (s Seq) Add(n uint32) Seq {
	return s + Seq(n)
}

// Size returns the number of sequence numbers from s up to to (excluded),
// walking forward: to - s modulo 2^32.
func (s Seq) Size(to Seq) uint32 {
	return uint32(to - s)
}

// UpdateForward advances *s by n, wrapping modulo 2^32.
func (s *Seq) UpdateForward(n uint32) {
	*s += Seq(n)
}

// String returns s in decimal, for tests and logs; it allocates.
func (s Seq) String() string {
	return strconv.FormatUint(uint64(s), 10)
}
