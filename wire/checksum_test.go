package wire

import (
	"math/rand/v2"
	"testing"
)

// refSum is RFC 1071's reference loop: big-endian 16-bit words, a trailing
// odd byte padded with zero, carries folded at the end.
func refSum(b []byte) uint16 {
	var s uint64
	for i := 0; i+1 < len(b); i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint64(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// equiv reports whether two folded sums are the same ones-complement
// number (0 and 0xffff are both zero).
func equiv(a, b uint16) bool {
	return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0)
}

func TestSumRFC1071Example(t *testing.T) {
	// RFC 1071 §3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	eq(t, "Fold(Sum)", Fold(Sum(b, 0)), 0xddf2)
	eq(t, "Checksum", Checksum(b, 0), ^uint16(0xddf2))
}

func TestSumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1071))
	buf := make([]byte, 4096+3)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= 300; n++ {
		for off := 0; off < 3; off++ {
			b := buf[off : off+n]
			if got, want := Fold(Sum(b, 0)), refSum(b); !equiv(got, want) {
				t.Fatalf("len %d off %d: Fold(Sum) = %#04x, want %#04x", n, off, got, want)
			}
		}
	}
	for _, n := range []int{511, 1023, 1500, 4096} {
		if got, want := Fold(Sum(buf[:n], 0)), refSum(buf[:n]); !equiv(got, want) {
			t.Fatalf("len %d: Fold(Sum) = %#04x, want %#04x", n, got, want)
		}
	}
}

// TestSumToEndOfAllocation sums slices that end where their allocation ends, every length
// of each block size class: under -race (checkptr) a pointer stepped past the last byte fails
// even if it is never read.
func TestSumToEndOfAllocation(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 1071))
	for n := 1; n <= 200; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := Fold(Sum(b, 0)), refSum(b); !equiv(got, want) {
			t.Fatalf("len %d: Fold(Sum) = %#04x, want %#04x", n, got, want)
		}
	}
}

func TestSumCarries(t *testing.T) {
	// All-ones data makes every 64-bit add carry.
	ff := make([]byte, 65536)
	for i := range ff {
		ff[i] = 0xff
	}
	for _, n := range []int{0, 1, 2, 7, 8, 63, 64, 65, 1500, 65535, 65536} {
		if got, want := Fold(Sum(ff[:n], 0)), refSum(ff[:n]); !equiv(got, want) {
			t.Errorf("len %d: %#04x, want %#04x", n, got, want)
		}
		for _, init := range []uint32{0xffff, 0xffff_ffff, 0xffff_0000, 0x8000_0001} {
			want := refSum(append(ff[:n:n], byte(init>>24), byte(init>>16), byte(init>>8), byte(init)))
			if got := Fold(Sum(ff[:n], init)); n%2 == 0 && !equiv(got, want) {
				t.Errorf("len %d initial %#x: %#04x, want %#04x", n, init, got, want)
			}
		}
	}
}

func TestSumChaining(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 1624))
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.IntN(200))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		whole := Fold(Sum(b, 0))
		// Even split points chain with Sum.
		cut := r.IntN(len(b)+1) &^ 1
		if got := Fold(Sum(b[cut:], Sum(b[:cut], 0))); !equiv(got, whole) {
			t.Fatalf("Sum chain at %d of %d: %#04x, want %#04x", cut, len(b), got, whole)
		}
		// Any split points chain with SumAt.
		var s uint32
		for at := 0; at < len(b); {
			n := 1 + r.IntN(len(b)-at)
			s = SumAt(b[at:at+n], s, at)
			at += n
		}
		if got := Fold(s); !equiv(got, whole) {
			t.Fatalf("SumAt chain of %d bytes: %#04x, want %#04x", len(b), got, whole)
		}
	}
	// Odd prefix with plain Sum is wrong, as documented.
	b := []byte{0x01, 0x02, 0x03, 0x04}
	if Fold(Sum(b[1:], Sum(b[:1], 0))) == Fold(Sum(b, 0)) {
		t.Errorf("odd-length prefix chained with Sum should not equal the whole")
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		in   uint32
		want uint16
	}{
		{0, 0},
		{0xffff, 0xffff},
		{0x1_0000, 1},
		{0x1_fffe, 0xffff},
		{0xffff_ffff, 0xffff},
		{0xfffe_0001, 0xffff},
		{0x0001_fffe, 0xffff},
		{0x1234_5678, 0x68ac},
	}
	for _, tc := range tests {
		eq(t, "Fold", Fold(tc.in), tc.want)
	}
}

func TestPseudoHeaderSum(t *testing.T) {
	src, dst := [4]byte{192, 168, 1, 1}, [4]byte{10, 255, 0, 2}
	want := refSum([]byte{192, 168, 1, 1, 10, 255, 0, 2, 0, ProtoTCP, 0x05, 0xdc})
	eq(t, "Fold(PseudoHeaderSum)", Fold(PseudoHeaderSum(src, dst, ProtoTCP, 1500)), want)
	max := PseudoHeaderSum([4]byte{255, 255, 255, 255}, [4]byte{255, 255, 255, 255}, 255, 0xffff)
	eq(t, "max", max, 4*0xffff+255+0xffff)
}

func TestChecksumUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1624))
	for i := 0; i < 20000; i++ {
		h := make([]byte, 20)
		for j := range h {
			h[j] = byte(r.Uint32())
		}
		if r.IntN(8) == 0 {
			clear(h[:8]) // sums near zero
		}
		h[0] = 0x45
		ip := IPv4(h)
		ip.SetChecksum(ip.ComputeChecksum())
		if !ip.ChecksumValid() {
			t.Fatalf("ComputeChecksum does not verify: % x", h)
		}
		// 16-bit field: TTL+protocol word, or the ID.
		at := []int{ipID, ipTTL, ipTotalLength}[r.IntN(3)]
		old := uint16(h[at])<<8 | uint16(h[at+1])
		nw := uint16(r.Uint32())
		if r.IntN(4) == 0 {
			nw = []uint16{0, 0xffff, old, ^old}[r.IntN(4)]
		}
		h[at], h[at+1] = byte(nw>>8), byte(nw)
		ip.SetChecksum(ChecksumUpdate16(ip.Checksum(), old, nw))
		if !ip.ChecksumValid() {
			t.Fatalf("ChecksumUpdate16 %#04x→%#04x does not verify: % x", old, nw, h)
		}
		if got, want := ip.Checksum(), ip.ComputeChecksum(); got != want {
			t.Fatalf("ChecksumUpdate16 = %#04x, recomputed %#04x", got, want)
		}
		// 32-bit field: an address.
		at = []int{ipSrc, ipDst}[r.IntN(2)]
		old32 := uint32(h[at])<<24 | uint32(h[at+1])<<16 | uint32(h[at+2])<<8 | uint32(h[at+3])
		nw32 := r.Uint32()
		h[at], h[at+1], h[at+2], h[at+3] = byte(nw32>>24), byte(nw32>>16), byte(nw32>>8), byte(nw32)
		ip.SetChecksum(ChecksumUpdate32(ip.Checksum(), old32, nw32))
		if got, want := ip.Checksum(), ip.ComputeChecksum(); got != want {
			t.Fatalf("ChecksumUpdate32 = %#04x, recomputed %#04x", got, want)
		}
	}
}

func TestChecksumUpdateRFC1624(t *testing.T) {
	// RFC 1624 §4: checksum 0xdd2f, a field 0x5555 becomes 0x3285; the
	// result is 0x0000 (eqn. 3), not 0xffff as eqn. 2 would give.
	eq(t, "ChecksumUpdate16", ChecksumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000)
}
