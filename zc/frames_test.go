package zc

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
)

// TestFrameSet: random enters and removals of up to NotifyCap real buffers keep the frame set
// equal to a plain set (removals in the middle of probe runs included), with no allocation.
func TestFrameSet(t *testing.T) {
	p := lab.NewPair(t)
	s := stateOf(p.A)
	t.Cleanup(func() { Forget(p.A) })
	iov := make([]IOVec, NotifyCap)
	require.NoError(t, AllocBuffers(p.A, iov, HdrTCP))
	defer ReleaseIOV(p.A, iov)
	recOf := make([]int, len(iov)) // record + 1 of each buffer entered, 0: not in the set
	r := rand.New(rand.NewPCG(1, 2))
	drop := func(k int) {
		i := uint32(recOf[k] - 1)
		s.dropFrame(i)
		s.recs[i] = rec{}
		s.freeRec = append(s.freeRec, i)
		recOf[k] = 0
	}
	step := func() {
		k := r.IntN(len(iov))
		if recOf[k] != 0 {
			drop(k)
			return
		}
		i := s.takeRec(iov[k].H.m, 0, false)
		s.addFrame(i)
		recOf[k] = int(i) + 1
	}
	for n := 0; n < 20000; n++ {
		step()
		if n%97 == 0 || n > 19000 {
			for k, v := range iov {
				require.Equal(t, recOf[k] != 0, s.framed(v.H.m), "step %d, buffer %d", n, k)
			}
		}
	}
	require.Zero(t, testing.AllocsPerRun(1000, step))
	for k := range iov { // empty the set
		if recOf[k] != 0 {
			drop(k)
		}
	}
	for _, v := range s.frames {
		require.Zero(t, v)
	}
}
