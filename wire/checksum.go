package wire

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The Internet checksum (RFC 1071) is the ones-complement of the
// ones-complement sum of the data taken as big-endian 16-bit words. The sum
// does not depend on byte order (RFC 1071 §2(B)), so sum64 adds the data as
// little-endian 64-bit words, the native load on the machines zocket runs on,
// with end-around carry, and swaps the folded result once at the end.

// sum returns initial plus the ones-complement sum of b as big-endian
// words starting at an even offset, folded to 16 bits. A trailing odd byte
// counts as if followed by a zero byte. The exported functions wrap it so
// that they inline and the call costs one jump.
//
// It walks b with a base pointer, an offset and a count rather than by reslicing (each
// b = b[k:] costs several instructions for the capacity arithmetic); every load is in bounds
// by the count. The offset is added at each load, never to the pointer ahead of time: a
// pointer advanced to the end of b's allocation is invalid under Go's unsafe.Pointer rules
// even if never read (checkptr, which -race enables, fails it). The 8-byte loads are
// little-endian (binary.LittleEndian on an array pointer: one MOV on amd64 and arm64).
func sum(b []byte, initial uint32) uint32 {
	n := len(b)
	if n == 0 {
		return uint32(Fold(initial))
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	var acc, c uint64
	i := 0
	for ; n >= 64; n -= 64 {
		q := (*[64]byte)(unsafe.Add(p, i))
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[8:16]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[16:24]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[24:32]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[32:40]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[40:48]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[48:56]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[56:64]), c)
		i += 64
	}
	if n&32 != 0 {
		q := (*[32]byte)(unsafe.Add(p, i))
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[8:16]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[16:24]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[24:32]), c)
		i += 32
	}
	if n&16 != 0 {
		q := (*[16]byte)(unsafe.Add(p, i))
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[0:8]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(q[8:16]), c)
		i += 16
	}
	if n&8 != 0 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:]), c)
		i += 8
	}
	if n&7 != 0 {
		var w uint64
		if n&4 != 0 {
			w = uint64(binary.LittleEndian.Uint32((*[4]byte)(unsafe.Add(p, i))[:]))
			i += 4
		}
		if n&2 != 0 {
			w |= uint64(binary.LittleEndian.Uint16((*[2]byte)(unsafe.Add(p, i))[:])) << (n & 4 * 8)
			i += 2
		}
		if n&1 != 0 {
			w |= uint64(*(*byte)(unsafe.Add(p, i))) << (n & 6 * 8)
		}
		acc, c = bits.Add64(acc, w, c)
	}
	// Fold the last carry back in: if it carries out again acc is 0 and
	// adding 1 cannot overflow.
	acc, c = bits.Add64(acc, 0, c)
	acc += c
	// 2^32 ≡ 1 (mod 0xffff): fold 64 → 32 bits with end-around carry.
	acc = acc&0xffffffff + acc>>32     // < 2^33
	s := uint32(acc) + uint32(acc>>32) // no carry out: acc < 2^33 − 1 when its top half is 1
	// The words were added little-endian: the big-endian sum is the little-endian one times
	// 2^8 (mod 0xffff), which is what reversing all four bytes gives (2^16 ≡ 1).
	return uint32(Fold(add32(initial, bits.ReverseBytes32(s))))
}

// add32 adds two partial sums with end-around carry. The result is
// congruent to a+b modulo 0xffff, which is all a ones-complement sum needs.
func add32(a, b uint32) uint32 {
	s, c := bits.Add32(a, b, 0)
	return s + c // s ≤ 2^32-2 when c is 1: no second carry
}

// Sum returns the partial ones-complement sum of b as big-endian 16-bit
// words, added to initial. The result is not complemented: pass it on as
// the initial value of another Sum or [Checksum], or to [Fold].
//
// Overflow: initial may be any uint32: a previous Sum, a [PseudoHeaderSum],
// or a few of them added as plain uint32 (up to 65537 values below 2^16
// cannot overflow). Carries are folded back in and the result is congruent
// to the true sum modulo 0xffff, so Sum chains any number of times. (This
// implementation returns a value folded to 16 bits; callers should still
// pass it through Fold and not count on that.)
//
// A trailing odd byte counts as the high byte of a word whose low byte is
// zero (RFC 1071). So chaining Sum(b, Sum(a, 0)) equals Sum of a followed by b
// only when len(a) is even; for a part that starts at an odd offset in the
// message, use [SumAt].
func Sum(b []byte, initial uint32) uint32 {
	return sum(b, initial)
}

// SumAt is [Sum] for a part b that starts at byte offset in the message:
// when offset is odd, b[0] is the low byte of a 16-bit word and the sum of b
// is byte-swapped (RFC 1071 §2(B)). Only the parity of offset matters.
// Chaining SumAt over consecutive parts of any lengths, each with its own
// offset, equals Sum over the whole.
func SumAt(b []byte, initial uint32, offset int) uint32 {
	s := sum(b, 0) // folded: ≤ 0xffff
	if offset&1 != 0 {
		s = uint32(bits.ReverseBytes16(uint16(s)))
	}
	return add32(initial, s)
}

// Fold folds the carries of a partial sum into 16 bits. The result is not
// complemented; a received message whose checksum field is included
// verifies when Fold of its sum is 0xffff.
func Fold(sum uint32) uint16 {
	sum = sum&0xffff + sum>>16   // ≤ 0x1fffe
	return uint16(sum + sum>>16) // low 16 bits ≤ 0xfffe + 1 when it carries
}

// Checksum returns the Internet checksum of b given the partial sum
// initial: ^Fold(Sum(b, initial)). For a header with its checksum field
// zeroed, the result is the value to store in it.
func Checksum(b []byte, initial uint32) uint16 {
	return ^uint16(sum(b, initial)) // sum is folded already
}

// PseudoHeaderSum returns the partial sum of the IPv4 pseudo-header that
// TCP and UDP checksums cover (RFC 793 §3.1, RFC 768): the addresses, the
// protocol and the TCP or UDP length. Pass it as the initial value of [Sum]
// or [Checksum] over the segment.
func PseudoHeaderSum(src, dst [4]byte, proto uint8, length uint16) uint32 {
	return uint32(binary.BigEndian.Uint16(src[0:2])) + uint32(binary.BigEndian.Uint16(src[2:4])) +
		uint32(binary.BigEndian.Uint16(dst[0:2])) + uint32(binary.BigEndian.Uint16(dst[2:4])) +
		uint32(proto) + uint32(length)
}

// ChecksumUpdate16 returns checksum csum updated for a 16-bit field (at an
// even offset) that changed from old to new, without summing the data
// again: RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m').
func ChecksumUpdate16(csum, old, new uint16) uint16 {
	return ^Fold(uint32(^csum) + uint32(^old) + uint32(new))
}

// ChecksumUpdate32 is [ChecksumUpdate16] for a 32-bit field at an even
// offset, such as an IPv4 address or a TCP sequence number.
func ChecksumUpdate32(csum uint16, old, new uint32) uint16 {
	return ^Fold(uint32(^csum) +
		uint32(^uint16(old>>16)) + uint32(^uint16(old)) +
		new>>16 + new&0xffff)
}
