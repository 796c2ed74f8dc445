package alts_test

import (
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/tcp"
)

// TestMain starts EAL once; every stack checks at its close (lab) that its pool is whole.
func TestMain(m *testing.M) { ealtest.Main(m, nil) }

var ipB = netip.MustParseAddr("198.18.0.2")

// env is two stacks over net_ring; A has alternatives. Connections made with connect are
// closed at the end of the test and the stacks run until every endpoint is gone.
type env struct {
	*lab.Pair
	t     testing.TB
	conns []*tcp.Conn
	lis   []*tcp.Listener
}

func newEnv(t testing.TB, kv ...string) *env {
	t.Helper()
	return newEnvRing(t, 1024, kv...)
}

// newEnvRing is newEnv on rings of the given size (lab.NewPairRing).
func newEnvRing(t testing.TB, size int, kv ...string) *env {
	t.Helper()
	base := []string{"alt_count", "8", "tcp_timewait_ms", "1", "tcp_finwait_ms", "1"}
	e := &env{Pair: lab.NewPairRing(t, size, append(base, kv...)...), t: t}
	t.Cleanup(e.teardown)
	return e
}

func (e *env) teardown() {
	for _, c := range e.conns {
		_ = c.Close()
	}
	for _, l := range e.lis {
		_ = l.Close()
	}
	for i := 0; i < 20000; i++ {
		e.Step()
		e.Clock.Advance(int64(time.Millisecond))
		if i > 100 && e.A.IsQuiescent() && e.B.IsQuiescent() && i%50 == 0 {
			break
		}
	}
	for i := 0; i < 3000; i++ { // TIME-WAIT and FIN-WAIT-2 end, the endpoints are freed
		e.Step()
		e.Clock.Advance(int64(time.Millisecond))
	}
}

// connect makes a connection from A to a listener on B:port and returns both ends.
func (e *env) connect(port uint16) (client, server *tcp.Conn) {
	t := e.t
	t.Helper()
	l, err := tcp.Listen(e.B, netip.AddrPortFrom(ipB, port), nil)
	require.NoError(t, err)
	e.lis = append(e.lis, l)
	h, err := tcp.NewHandle(e.A, nil)
	require.NoError(t, err)
	client, err = h.Connect(netip.AddrPortFrom(ipB, port))
	require.NoError(t, err)
	e.Run(t, 200, time.Microsecond, func() bool {
		if server == nil {
			server, _ = l.Accept()
		}
		return server != nil && client.State() == tcp.StateEstablished
	})
	e.conns = append(e.conns, client, server)
	return client, server
}

// settle steps both stacks (1 µs apart) until nothing happens for a few steps.
func (e *env) settle() {
	idle := 0
	for i := 0; i < 10000 && idle < 4; i++ {
		if e.Step() == 0 {
			idle++
		} else {
			idle = 0
		}
		e.Clock.Advance(int64(time.Microsecond))
	}
}

// drain reads everything c has received into out.
func drain(c *tcp.Conn, out *[]byte) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Recv([][]byte{buf})
		if err != nil || n == 0 {
			return
		}
		*out = append(*out, buf[:n]...)
	}
}

// readAll settles the pair and returns what c received.
func (e *env) readAll(c *tcp.Conn) string {
	var out []byte
	for i := 0; i < 50; i++ {
		e.settle()
		n := len(out)
		drain(c, &out)
		if len(out) == n && i > 2 {
			break
		}
	}
	return string(out)
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return err.(syscall.Errno)
}
