package stack_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

// feeder injects copies of one frame into a Raw stack and collects its replies without
// allocating, so that allocation counts and benchmarks measure the stack alone.
type feeder struct {
	r     *lab.Raw
	pool  *dpdk.Pool
	frame []byte
	in    []*dpdk.Mbuf
	out   []*dpdk.Mbuf
}

func newFeeder(t testing.TB, r *lab.Raw, frame []byte, burst int) *feeder {
	pool, err := dpdk.NewPool(lab.Unique("feed"), 2047, 0, dpdk.DefaultDataRoom, -1)
	require.NoError(t, err)
	f := &feeder{r: r, pool: pool, frame: frame, in: dpdk.NewMbufArray(burst), out: dpdk.NewMbufArray(64)}
	t.Cleanup(func() {
		f.drain()
		dpdk.FreeMbufArray(f.in)
		dpdk.FreeMbufArray(f.out)
		assert.Zero(t, pool.InUse())
		pool.Free()
	})
	return f
}

// inject puts len(f.in) copies of the frame on the wire to the stack.
func (f *feeder) inject() {
	if f.pool.AllocBulk(f.in) != nil {
		panic("feeder pool empty")
	}
	for _, m := range f.in {
		copy(m.Append(len(f.frame)), f.frame)
	}
	if n := f.r.Peer.TxBurst(0, f.in); n != len(f.in) {
		dpdk.FreeBulk(f.in[n:])
	}
}

// drain frees what the stack sent and returns how many frames that was.
func (f *feeder) drain() int {
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

func TestPerformAllocatesNothing(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		replies int
	}{
		{"idle", nil, 0},
		{"echo request", echoRequest(lab.StackIP, 1, 2, "0123456789abcdef0123456789abcdef"), 1},
		{"ARP request", arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP), 1},
		{"dropped frame", echoRequest([4]byte{198, 18, 0, 99}, 1, 2, "x"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			f := newFeeder(t, r, tc.frame, 1)
			replies := 0
			allocs := testing.AllocsPerRun(1000, func() {
				if tc.frame != nil {
					f.inject()
				}
				r.S.Perform()
				replies += f.drain()
			})
			assert.Zero(t, allocs)
			assert.Equal(t, 1001*tc.replies, replies, "each frame handled")
		})
	}
}

func BenchmarkPerformIdle(b *testing.B) {
	r := lab.NewRaw(b, "reactor_spin_count", "1")
	r.S.SetClock(nil)
	b.ReportAllocs()
	for b.Loop() {
		r.S.Perform()
	}
}

func benchmarkFrames(b *testing.B, frame []byte, burst int) {
	r := lab.NewRaw(b)
	r.S.SetClock(nil)
	f := newFeeder(b, r, frame, burst)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		f.inject()
		b.StartTimer()
		r.S.Perform()
		b.StopTimer()
		f.drain()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/pkt")
}

func BenchmarkPerformEcho(b *testing.B) {
	benchmarkFrames(b, echoRequest(lab.StackIP, 1, 2, "0123456789abcdef0123456789abcdef"), 32)
}

func BenchmarkPerformARP(b *testing.B) {
	benchmarkFrames(b, arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP), 32)
}
