package zc_test

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ealargs"
	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
	"github.com/zocket/zocket/udp"
	"github.com/zocket/zocket/zc"
)

// TestMain starts EAL once; every lab stack checks at its close that its pool is whole, so a
// leaked buffer fails the test that leaked it.
//
// On hugepages EAL's memory is reserved up front (-m): memif's zero-copy client describes each
// memory segment list to its server as one region as long as the list's allocated segments
// (DPDK 22.11's memif_region_init_zc adds up their lengths from the list's base), so once a
// closed stack's pool has left a hole in the list, buffers past it lie outside the server's
// mapping and its receive copy faults (SIGSEGV). Memory reserved at EAL init is never given
// back, so the lists stay without holes for the pairs these tests start one after another.
func TestMain(m *testing.M) {
	if args, prefix := ealargs.For("zkt", 0); prefix == "" && os.Getenv("ZOCKET_EAL_ARGS") == "" {
		_ = os.Setenv("ZOCKET_EAL_ARGS", strings.Join(append(args, "-m", "1024"), " "))
	}
	ealtest.Main(m, nil)
}

var (
	addrA = netip.MustParseAddr("198.18.0.1")
	addrB = netip.MustParseAddr("198.18.0.2")
)

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// env is a lab pair with zc state forgotten before the stacks close.
type env struct {
	*lab.Pair
	t testing.TB
}

func newEnv(t testing.TB, kv ...string) *env {
	e := &env{Pair: lab.NewPair(t, append([]string{"tcp_timewait_ms", "10"}, kv...)...), t: t}
	t.Cleanup(func() {
		e.idle()
		zc.Forget(e.A)
		zc.Forget(e.B)
	})
	e.Run(t, 50, time.Microsecond, func() bool { _, ok := e.A.Resolve(addrB.As4()); return ok })
	return e
}

// idle steps both stacks, 1 ms apart, until nothing happens for a few steps.
func (e *env) idle() {
	quiet := 0
	for i := 0; i < 20000 && quiet < 8; i++ {
		if e.Step() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		e.Clock.Advance(int64(time.Millisecond))
	}
}

// steps performs both stacks n times without moving the clock.
func (e *env) steps(n int) {
	for i := 0; i < n; i++ {
		e.Step()
	}
}

func (e *env) udp(port uint16) (*udp.Transmitter, *udp.Receiver) {
	t := e.t
	rx, err := udp.NewReceiver(e.B, nil)
	require.NoError(t, err)
	_, err = rx.Bind(ap(addrB, port), netip.AddrPort{})
	require.NoError(t, err)
	tx, err := udp.NewTransmitter(e.A, ap(addrA, port), ap(addrB, port), 0, nil)
	require.NoError(t, err)
	t.Cleanup(func() { tx.Close(); rx.Close() })
	return tx, rx
}

// tcp connects A to a listener on B:port and returns both ends; they are closed gracefully at
// the end of the test and the stacks run until TIME-WAIT is over.
func (e *env) tcp(port uint16) (client, server *tcp.Conn) {
	t := e.t
	l, err := tcp.Listen(e.B, ap(addrB, port), nil)
	require.NoError(t, err)
	h, err := tcp.NewHandle(e.A, nil)
	require.NoError(t, err)
	client, err = h.Connect(ap(addrB, port))
	require.NoError(t, err)
	e.Run(t, 200, time.Microsecond, func() bool {
		if server == nil {
			server, _ = l.Accept()
		}
		return server != nil && client.State() == tcp.StateEstablished
	})
	t.Cleanup(func() {
		drain(server)
		client.Close()
		server.Close()
		l.Close()
		for i := 0; i < 500; i++ {
			drain(server)
			e.Step()
			e.Clock.Advance(int64(time.Millisecond))
		}
	})
	return client, server
}

// drain reads and discards what c has received.
func drain(c *tcp.Conn) {
	var b [4096]byte
	for {
		if n, err := c.Recv([][]byte{b[:]}); err != nil || n == 0 {
			return
		}
	}
}

// readAll reads from c while performing the pair until want bytes came or max steps passed.
func (e *env) readAll(c *tcp.Conn, want int) []byte {
	out := make([]byte, 0, want)
	var b [65536]byte
	for i := 0; i < 20000 && len(out) < want; i++ {
		e.Step()
		e.Clock.Advance(int64(10 * time.Microsecond))
		for {
			n, err := c.Recv([][]byte{b[:]})
			if err != nil || n == 0 {
				break
			}
			out = append(out, b[:n]...)
		}
	}
	return out
}

func inUse(st *stack.Stack) int { return st.Pool().InUse() }
