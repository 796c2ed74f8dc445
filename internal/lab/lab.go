// Package lab is zocket's test lab (DESIGN.md §6): stacks joined by net_ring port pairs in one
// process, driven from one goroutine on a manual clock; a raw peer port for injecting frames and
// asserting the frames a stack emits; and Linux kernel peers in network namespaces the test
// creates and removes. Every helper registers its cleanup with the test, and the stack helpers
// fail the test when a pool's in-use count does not return to where it started.
//
// EAL itself is started once per test binary by internal/ealtest.Main.
package lab

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
)

var seq atomic.Uint32

// Unique returns a name unique in this process, for rings, pools and interfaces.
func Unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

// Attr returns default attributes (ZF_ATTR ignored) with name=value pairs applied.
func Attr(t testing.TB, kv ...string) *stack.Attr {
	t.Helper()
	a, err := stack.NewAttr()
	require.NoError(t, err)
	a.ResetAll()
	require.NoError(t, a.Set("n_bufs", "2047"))
	require.NoError(t, a.Set("reactor_spin_count", "1"))
	require.Zero(t, len(kv)%2, "Attr takes name, value pairs")
	for i := 0; i < len(kv); i += 2 {
		require.NoError(t, a.Set(kv[i], kv[i+1]))
	}
	return a
}

// NewStack opens a stack on an existing port (by its ethdev name) and closes it at the end of
// the test, failing the test if any of its buffers is still in use then.
func NewStack(t testing.TB, port dpdk.Port, a *stack.Attr) *stack.Stack {
	t.Helper()
	require.NoError(t, a.Set("interface", port.Name()))
	s, err := stack.New(a)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, s.Close(), "stack %s: buffers leaked", s.Name())
	})
	return s
}

// Pair is two stacks joined back to back by a net_ring port pair, on one manual clock.
type Pair struct {
	A, B  *stack.Stack
	Clock *stack.ManualClock
	rings *dpdk.RingPair
}

// NewPair makes A (198.18.0.1/24) and B (198.18.0.2/24) on a fresh ring pair; extra attributes
// apply to both.
func NewPair(t testing.TB, kv ...string) *Pair {
	t.Helper()
	return NewPairRing(t, 1024, kv...)
}

// NewPairRing is NewPair on rings of the given size (a power of two): a ring holds size-1
// frames, so a small one makes a stack's transmit burst take fewer frames than it is given
// while the peer does not poll.
func NewPairRing(t testing.TB, size int, kv ...string) *Pair {
	t.Helper()
	rp, err := dpdk.NewRingPair(Unique("lab"), size)
	require.NoError(t, err)
	t.Cleanup(func() { rp.Close() })
	p := &Pair{rings: rp, Clock: &stack.ManualClock{T: 1_000_000_000}}
	p.A = NewStack(t, rp.A, Attr(t, append([]string{"local_ip", "198.18.0.1/24", "mac", "02:00:00:00:00:01", "name", "A"}, kv...)...))
	p.B = NewStack(t, rp.B, Attr(t, append([]string{"local_ip", "198.18.0.2/24", "mac", "02:00:00:00:00:02", "name", "B"}, kv...)...))
	p.A.SetClock(p.Clock)
	p.B.SetClock(p.Clock)
	return p
}

// Step performs each stack once and returns the sum of their events.
func (p *Pair) Step() int { return p.A.Perform() + p.B.Perform() }

// Run performs both stacks until cond holds, advancing the clock by tick after every step,
// and fails the test if it does not hold within max steps.
func (p *Pair) Run(t testing.TB, max int, tick time.Duration, cond func() bool) {
	t.Helper()
	for i := 0; i < max; i++ {
		if cond() {
			return
		}
		p.Step()
		p.Clock.Advance(int64(tick))
	}
	require.True(t, cond(), "condition not reached in %d steps", max)
}

// Raw is a stack whose peer is a bare port the test drives: inject any frame, read back every
// frame the stack emits. It is gVisor's test context, on DPDK.
type Raw struct {
	S     *stack.Stack
	Peer  dpdk.Port
	Clock *stack.ManualClock
	pool  *dpdk.Pool
	rx    []*dpdk.Mbuf
}

// PeerMAC and PeerIP are the raw peer's addresses; the stack is StackIP with StackMAC.
var (
	PeerMAC  = [6]byte{2, 0, 0, 0, 0, 0xee}
	StackMAC = [6]byte{2, 0, 0, 0, 0, 1}
	PeerIP   = [4]byte{198, 18, 0, 9}
	StackIP  = [4]byte{198, 18, 0, 1}
)

// NewRaw makes a stack (198.18.0.1/24) facing a raw peer port.
func NewRaw(t testing.TB, kv ...string) *Raw {
	t.Helper()
	rp, err := dpdk.NewRingPair(Unique("raw"), 1024)
	require.NoError(t, err)
	t.Cleanup(func() { rp.Close() })
	a := Attr(t, append([]string{"local_ip", "198.18.0.1/24", "mac", "02:00:00:00:00:01"}, kv...)...)
	mtu, err := a.Int("mtu")
	require.NoError(t, err)
	pool, err := dpdk.NewPool(Unique("rawpool"), 1023, 0, stack.DataRoom(int(mtu)), -1) // frames of the stack's MTU fit
	require.NoError(t, err)
	r := &Raw{Peer: rp.B, Clock: &stack.ManualClock{T: 1_000_000_000}, pool: pool, rx: dpdk.NewMbufArray(64)}
	require.NoError(t, rp.B.Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 512, TxDesc: 512, Pool: pool}))
	require.NoError(t, rp.B.Start())
	r.S = NewStack(t, rp.A, a)
	r.S.SetClock(r.Clock)
	t.Cleanup(func() {
		r.Drain()
		dpdk.FreeMbufArray(r.rx)
		rp.B.Stop()
		require.Zero(t, pool.InUse(), "raw peer pool leaked")
		pool.Free()
	})
	return r
}

// Inject sends one frame (a copy of b) to the stack and performs the stack once.
func (r *Raw) Inject(t testing.TB, b []byte) {
	t.Helper()
	m := r.pool.Alloc()
	require.NotNil(t, m)
	copy(m.Append(len(b)), b)
	ms := []*dpdk.Mbuf{m}
	require.Equal(t, 1, r.Peer.TxBurst(0, ms))
	r.S.Perform()
}

// Emitted returns copies of the frames the stack has sent since the last call.
func (r *Raw) Emitted() [][]byte {
	var out [][]byte
	for {
		n := r.Peer.RxBurst(0, r.rx)
		if n == 0 {
			return out
		}
		for _, m := range r.rx[:n] {
			out = append(out, append([]byte(nil), m.Data()...))
		}
		dpdk.FreeBulk(r.rx[:n])
	}
}

// Drain discards what the stack has sent.
func (r *Raw) Drain() { r.Emitted() }

// Loop calls step again and again on a goroutine of its own (a stack's poller, a scraper)
// until the returned stop is called or the test ends; stop returns once step has returned for
// the last time, and may be called more than once.
func Loop(t testing.TB, step func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
				step()
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit) }); <-done }
	t.Cleanup(stop)
	return stop
}
