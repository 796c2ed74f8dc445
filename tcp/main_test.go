package tcp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// TestMain starts EAL once for the binary. Each stack the lab opens checks at its close that
// every buffer of its pool came back, which the tests' cleanups arrange by tearing down every
// TCP endpoint first (teardown).
func TestMain(m *testing.M) { ealtest.Main(m, nil) }

// teardown aborts every connection and listener left on st (no RST) and gives the buffer
// cache back, so that the stack can close with its pool whole.
func teardown(st *stack.Stack) {
	s, ok := st.Transport(wire.ProtoTCP).(*state)
	if !ok {
		return
	}
	for _, l := range s.listeners {
		for len(l.pending) > 0 {
			l.pending[0].abort(0)
		}
		l.Close()
	}
	for _, c := range s.liveConns() {
		c.orphan = true
		c.appClosed = true
		c.abort(0)
		c.free()
	}
	s.release()
}

// liveConns returns the connections taken from the pool and not yet freed.
func (s *state) liveConns() []*Conn {
	var cs []*Conn
	for i := range s.pool {
		if s.pool[i].live {
			cs = append(cs, &s.pool[i])
		}
	}
	return cs
}

// pair is two stacks over net_ring on one manual clock, with TCP torn down at the end.
type pair struct {
	*lab.Pair
	t testing.TB
}

var (
	ipA = netip.MustParseAddr("198.18.0.1")
	ipB = netip.MustParseAddr("198.18.0.2")
)

func newPair(t testing.TB, kv ...string) *pair { return tcpPair(t, lab.NewPair(t, kv...)) }

// tcpPair wraps a lab pair with TCP's teardown.
func tcpPair(t testing.TB, lp *lab.Pair) *pair {
	p := &pair{Pair: lp, t: t}
	t.Cleanup(func() {
		// Let frames in flight land, then drop every endpoint and let the resets settle.
		for i := 0; i < 4; i++ {
			p.Step()
		}
		teardown(p.A)
		teardown(p.B)
		for i := 0; i < 8; i++ {
			p.Step()
		}
		teardown(p.A)
		teardown(p.B)
	})
	return p
}

// run steps both stacks (the clock moves by tick after each step) until cond holds.
func (p *pair) run(max int, tick time.Duration, cond func() bool) {
	p.t.Helper()
	p.Run(p.t, max, tick, cond)
}

// settle steps both stacks until nothing happens for a few steps.
func (p *pair) settle() {
	idle := 0
	for i := 0; i < 10000 && idle < 4; i++ {
		if p.Step() == 0 {
			idle++
		} else {
			idle = 0
		}
	}
}

// connect makes a listener on B:port and a connection from A to it, and returns both ends
// established.
func (p *pair) connect(port uint16) (client, server *Conn, l *Listener) {
	t := p.t
	t.Helper()
	l, err := Listen(p.B, netip.AddrPortFrom(ipB, port), nil)
	require.NoError(t, err)
	h, err := NewHandle(p.A, nil)
	require.NoError(t, err)
	client, err = h.Connect(netip.AddrPortFrom(ipB, port))
	require.NoError(t, err)
	p.run(100, time.Microsecond, func() bool {
		if server == nil {
			server, _ = l.Accept()
		}
		return server != nil && client.State() == StateEstablished
	})
	return client, server, l
}

// debug describes a connection's sequence state for failure messages.
func (c *Conn) debug() string {
	return fmt.Sprintf("%v una=%d nxt=%d max=%d wnd=%d cwnd=%d sq=[%d,%d,%d) rcvNxt=%d adv=%d rq=[%d,%d) ooo=%d slots=%d rto=%d timer=%v persist=%v more=%v",
		c.state, c.sndUna-c.iss, c.sndNxt-c.iss, c.sndMax-c.iss, c.sndWnd, c.cwnd, c.sqHead, c.sqNext, c.sqTail,
		c.rcvNxt-c.irs, c.rcvAdv-c.irs, c.rqHead, c.rqTail, c.nooo, c.slots, c.rto, c.rtxT.Armed(), c.persisting, c.more)
}
