package dpdk

import "testing"

// Arrays from NewMbufArray come from the region that burst calls pass to C as integers; Go
// slices do not, and take cgo's checked path.
func TestMbufArrayRegion(t *testing.T) {
	if arenaSize == 0 {
		t.Skip("no region reserved")
	}
	for _, n := range []int{1, 8, 32, 64, 512, 4096} {
		a := NewMbufArray(n)
		if _, ok := cArray(a); !ok {
			t.Fatalf("NewMbufArray(%d) not in the region", n)
		}
		if _, ok := cArray(a[n-1:]); !ok {
			t.Fatalf("NewMbufArray(%d)[n-1:] not in the region", n)
		}
		for i, m := range a {
			if m != nil {
				t.Fatalf("NewMbufArray(%d)[%d] not zeroed", n, i)
			}
		}
		a[0] = (*Mbuf)(nil)
		FreeMbufArray(a)
		// A freed block is reused for the next array of its size class, zeroed again.
		b := NewMbufArray(n)
		if &b[0] != &a[0] {
			t.Errorf("NewMbufArray(%d) did not reuse the freed block", n)
		}
		FreeMbufArray(b)
	}
	if _, ok := cArray(make([]*Mbuf, 4)); ok {
		t.Fatal("a Go slice is in the region")
	}
	var local [4]*Mbuf
	if _, ok := cArray(local[:]); ok {
		t.Fatal("a stack array is in the region")
	}
}
