package wire

import "testing"

func TestSeqCompare(t *testing.T) {
	const top = Seq(1<<32 - 1)
	tests := []struct {
		a, b         Seq
		less, lessEq bool
	}{
		{0, 0, false, true},
		{0, 1, true, true},
		{1, 0, false, false},
		{top, 0, true, true}, // across the wrap
		{0, top, false, false},
		{top - 10, 5, true, true},
		{5, top - 10, false, false},
		{0, 1<<31 - 1, true, true},
		// Exactly 2^31 apart the order is ambiguous: each is "less" than
		// the other (as in gVisor); a stack never gets there.
		{0, 1 << 31, true, true},
		{1 << 31, 0, true, true},
		{top, top, false, true},
		{1<<31 - 1, 1 << 31, true, true},
	}
	for _, tc := range tests {
		eq(t, tc.a.String()+".LessThan("+tc.b.String()+")", tc.a.LessThan(tc.b), tc.less)
		eq(t, tc.a.String()+".LessThanEq("+tc.b.String()+")", tc.a.LessThanEq(tc.b), tc.lessEq)
	}
}

func TestSeqRange(t *testing.T) {
	const top = Seq(1<<32 - 1)
	tests := []struct {
		s, a, b Seq
		in      bool
	}{
		{5, 5, 10, true},
		{9, 5, 10, true},
		{10, 5, 10, false},
		{4, 5, 10, false},
		{5, 5, 5, false}, // empty
		{top, top - 1, 2, true},
		{0, top - 1, 2, true},
		{1, top - 1, 2, true},
		{2, top - 1, 2, false},
		{top - 2, top - 1, 2, false},
		{1 << 31, 0, 1<<32 - 1, true}, // huge range
		{top, 0, top, false},
	}
	for _, tc := range tests {
		eq(t, tc.s.String()+".InRange("+tc.a.String()+","+tc.b.String()+")", tc.s.InRange(tc.a, tc.b), tc.in)
		eq(t, tc.s.String()+".InWindow", tc.s.InWindow(tc.a, tc.a.Size(tc.b)), tc.in)
	}
	eq(t, "zero window", Seq(7).InWindow(7, 0), false)
	eq(t, "largest window, last", Seq(5).InWindow(7, 1<<32-1), true)
	eq(t, "largest window, one short", Seq(6).InWindow(7, 1<<32-1), false)
	eq(t, "window at wrap", Seq(3).InWindow(top-5, 10), true)
	eq(t, "past window at wrap", Seq(4).InWindow(top-5, 10), false)
}

func TestSeqArithmetic(t *testing.T) {
	const top = Seq(1<<32 - 1)
	eq(t, "Add wraps", top.Add(2), Seq(1))
	eq(t, "Size across wrap", top.Size(5), uint32(6))
	eq(t, "Size backwards", Seq(5).Size(top), uint32(1<<32-6))
	s := top - 1
	s.UpdateForward(3)
	eq(t, "UpdateForward", s, Seq(1))
	eq(t, "Add(0)", Seq(42).Add(0), Seq(42))
	// Add and Size are inverse across the wrap.
	for _, a := range []Seq{0, 1, 1 << 31, top - 3, top} {
		for _, n := range []uint32{0, 1, 7, 1 << 31, 1<<32 - 1} {
			eq(t, "Size(Add)", a.Size(a.Add(n)), n)
		}
	}
}
