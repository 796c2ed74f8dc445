package gonet_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/gonet"
	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
)

func TestMain(m *testing.M) { ealtest.Main(m, nil) }

// Addresses of the two stacks of a pair.
const (
	ipA = "198.18.0.1"
	ipB = "198.18.0.2"
)

// waitModes are both wait modes, for tests that run in each.
var waitModes = []gonet.WaitMode{gonet.Sleep, gonet.BusyPoll}

// pairAttrs are the attributes both stacks of a test pair get: short TIME-WAIT, room for the
// connections nettest makes, one poll per reactor turn.
var pairAttrs = []string{"tcp_timewait_ms", "100", "max_tcp_endpoints", "128"}

// open opens a gonet stack on port with local address ip, closed when the test ends.
func open(t testing.TB, port, ip, mac string, opts []gonet.Option, kv ...string) *gonet.Stack {
	t.Helper()
	a := lab.Attr(t, append([]string{"interface", port, "local_ip", ip + "/24", "mac", mac}, append(pairAttrs, kv...)...)...)
	s, err := gonet.Open(a, append([]gonet.Option{gonet.WithLinger(500 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// ringPair is two gonet stacks, A and B, over a net_ring port pair.
func ringPair(t testing.TB, opts ...gonet.Option) (a, b *gonet.Stack) {
	t.Helper()
	rp, err := dpdk.NewRingPair(lab.Unique("gonet"), 1024)
	require.NoError(t, err)
	t.Cleanup(func() { rp.Close() })
	a = open(t, rp.A.Name(), ipA, "02:00:00:00:00:01", opts)
	b = open(t, rp.B.Name(), ipB, "02:00:00:00:00:02", opts)
	return a, b
}

// memifPair is two gonet stacks, A (server role) and B, over a net_memif pair.
func memifPair(t testing.TB, opts ...gonet.Option) (a, b *gonet.Stack) {
	t.Helper()
	srv, cli := lab.MemifPorts(t)
	a = open(t, srv.Name(), ipA, "02:00:00:00:00:01", opts, "n_bufs", "8191")
	b = open(t, cli.Name(), ipB, "02:00:00:00:00:02", opts, "n_bufs", "8191")
	return a, b
}

// connPair dials from a to a listener of b and returns both ends.
func connPair(t testing.TB, a, b *gonet.Stack, l net.Listener) (c1, c2 net.Conn, err error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := l.Accept(); ch <- res{c, err} }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c1, err = a.Dial("tcp", l.Addr().String())
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // memif may still be connecting
	}
	if err != nil {
		return nil, nil, err
	}
	r := <-ch
	if r.err != nil {
		c1.Close()
		return nil, nil, r.err
	}
	return c1, r.c, nil
}
