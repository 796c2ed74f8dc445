package lab

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
)

// Feeder injects copies of one frame into a Raw stack and drains what the stack sends, with
// burst arrays in C memory, so that allocation counts and benchmarks measure the stack alone.
type Feeder struct {
	r     *Raw
	pool  *dpdk.Pool
	frame []byte
	in    []*dpdk.Mbuf
	out   []*dpdk.Mbuf
}

// NewFeeder makes a feeder of burst frames per Inject. With shared, its buffers come from the
// stack's own pool, as a PMD receives into it (received buffers are then recycled for sends);
// otherwise from a pool of its own, checked for leaks at the end of the test.
func (r *Raw) NewFeeder(t testing.TB, frame []byte, burst int, shared bool) *Feeder {
	t.Helper()
	pool := r.S.Pool()
	if !shared {
		var err error
		pool, err = dpdk.NewPool(Unique("feed"), 2047, 0, dpdk.DefaultDataRoom, -1)
		require.NoError(t, err)
	}
	f := &Feeder{r: r, pool: pool, frame: frame, in: dpdk.NewMbufArray(burst), out: dpdk.NewMbufArray(64)}
	t.Cleanup(func() {
		f.Drain()
		dpdk.FreeMbufArray(f.in)
		dpdk.FreeMbufArray(f.out)
		if !shared {
			assert.Zero(t, pool.InUse(), "feeder pool leaked")
			pool.Free()
		}
	})
	return f
}

// Inject puts burst copies of the frame on the wire to the stack (without performing it).
func (f *Feeder) Inject() {
	if f.pool.AllocBulk(f.in) != nil {
		panic("lab: feeder pool empty")
	}
	for _, m := range f.in {
		copy(m.Append(len(f.frame)), f.frame)
	}
	if n := f.r.Peer.TxBurst(0, f.in); n != len(f.in) {
		dpdk.FreeBulk(f.in[n:])
	}
}

// Drain frees what the stack sent and returns how many frames that was.
func (f *Feeder) Drain() int {
	total := 0
	for {
		n := f.r.Peer.RxBurst(0, f.out)
		if n == 0 {
			return total
		}
		total += n
		dpdk.FreeBulk(f.out[:n])
	}
}
