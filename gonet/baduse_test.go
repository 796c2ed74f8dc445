package gonet_test

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/gonet"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

// TestBadUse checks the errors of bad calls: each is a *net.OpError wrapping what net would
// (an UnknownNetworkError, an AddrError) or the stack's errno.
func TestBadUse(t *testing.T) {
	a, b := ringPair(t)
	l, err := b.Listen("tcp", ":7100")
	require.NoError(t, err)
	defer l.Close()
	pc, err := b.ListenPacket("udp", ":7100")
	require.NoError(t, err)
	defer pc.Close()

	var unknown net.UnknownNetworkError
	var addrErr *net.AddrError
	for _, tc := range []struct {
		name string
		call func() error
		is   error
		as   any
	}{
		{"dial unknown network", func() error { _, err := a.Dial("tcp6", ipB+":7100"); return err }, nil, &unknown},
		{"dial unix", func() error { _, err := a.Dial("unix", "/tmp/x"); return err }, nil, &unknown},
		{"listen udp as tcp", func() error { _, err := a.Listen("udp", ":1"); return err }, nil, &unknown},
		{"listenpacket tcp", func() error { _, err := a.ListenPacket("tcp", ":1"); return err }, nil, &unknown},
		{"dial no port", func() error { _, err := a.Dial("tcp", ipB); return err }, nil, &addrErr},
		{"dial bad ip", func() error { _, err := a.Dial("tcp", "300.1.2.3:80"); return err }, nil, &addrErr},
		{"dial name", func() error { _, err := a.Dial("tcp", "example.com:80"); return err }, nil, &addrErr},
		{"dial ipv6", func() error { _, err := a.Dial("tcp", "[::1]:80"); return err }, nil, &addrErr},
		{"dial bad port", func() error { _, err := a.Dial("tcp", ipB+":99999"); return err }, nil, &addrErr},
		{"listen port in use", func() error { _, err := b.Listen("tcp", ":7100"); return err }, syscall.EADDRINUSE, nil},
		{"listenpacket port in use", func() error { _, err := b.ListenPacket("udp", ipB+":7100"); return err }, syscall.EADDRINUSE, nil},
		{"listen other address", func() error { _, err := b.Listen("tcp", ipA+":7101"); return err }, syscall.EADDRNOTAVAIL, nil},
		{"dial refused", func() error { _, err := a.Dial("tcp", ipB+":7199"); return err }, syscall.ECONNREFUSED, nil},
		{"dial timeout", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := a.DialContext(ctx, "tcp", "198.18.0.77:80") // nobody answers ARP
			return err
		}, os.ErrDeadlineExceeded, nil},
		{"dial cancelled", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			_, err := a.DialContext(ctx, "tcp", "198.18.0.77:80")
			return err
		}, context.Canceled, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			var op *net.OpError
			require.ErrorAs(t, err, &op, "%v", err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			if tc.as != nil {
				assert.ErrorAs(t, err, tc.as)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				assert.True(t, op.Timeout())
			}
		})
	}
}

// TestClosed checks net.ErrClosed after a conn's, a listener's and the stack's Close, also for
// calls blocked when the close came.
func TestClosed(t *testing.T) {
	a, b := ringPair(t)
	l, err := b.Listen("tcp", ":7200")
	require.NoError(t, err)
	c1, _, err := connPair(t, a, b, l)
	require.NoError(t, err)
	_, c2, err := connPair(t, a, b, l)
	require.NoError(t, err)

	blocked := make(chan error, 1)
	go func() { _, err := c1.Read(make([]byte, 8)); blocked <- err }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, c1.Close())
	assert.ErrorIs(t, <-blocked, net.ErrClosed)
	_, err = c1.Write([]byte("x"))
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.ErrorIs(t, c1.Close(), net.ErrClosed)

	go func() { _, err := l.Accept(); blocked <- err }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, l.Close())
	assert.ErrorIs(t, <-blocked, net.ErrClosed)

	go func() { _, err := c2.Read(make([]byte, 8)); blocked <- err }()
	time.Sleep(20 * time.Millisecond)
	pc, err := b.ListenPacket("udp", ":7200")
	require.NoError(t, err)
	require.NoError(t, b.Close())
	err = <-blocked
	assert.True(t, errors.Is(err, net.ErrClosed), "%v", err)
	_, _, err = pc.ReadFrom(make([]byte, 8))
	assert.ErrorIs(t, err, net.ErrClosed)
	for _, err := range []error{
		func() error { _, err := b.Dial("tcp", ipA+":1"); return err }(),
		func() error { _, err := b.Listen("tcp", ":1"); return err }(),
		func() error { _, err := b.ListenPacket("udp", ":1"); return err }(),
		b.Close(),
	} {
		var op *net.OpError
		assert.ErrorAs(t, err, &op)
		assert.ErrorIs(t, err, net.ErrClosed)
	}
}

// TestConnOptions checks CloseWrite (half-close: the peer reads EOF and can still answer),
// SetNoDelay against the stack's behaviour, and the keepalive options.
func TestConnOptions(t *testing.T) {
	a, b := ringPair(t)
	l, err := b.Listen("tcp", ":7300")
	require.NoError(t, err)
	defer l.Close()
	c1, c2, err := connPair(t, a, b, l)
	require.NoError(t, err)
	tc := c1.(*gonet.TCPConn)
	require.NoError(t, tc.SetNoDelay(true))
	assert.ErrorIs(t, tc.SetNoDelay(false), syscall.EOPNOTSUPP)
	checkKeepalive(t, a, tc)

	_, err = c1.Write([]byte("req"))
	require.NoError(t, err)
	require.NoError(t, tc.CloseWrite())
	_, err = c1.Write([]byte("more"))
	assert.ErrorIs(t, err, syscall.EPIPE)
	buf := make([]byte, 8)
	n, err := c2.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "req", string(buf[:n]))
	_, err = c2.Read(buf)
	assert.Equal(t, "EOF", err.Error())
	_, err = c2.Write([]byte("resp"))
	require.NoError(t, err)
	n, err = c1.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "resp", string(buf[:n]))
	assert.Equal(t, c1.LocalAddr().String(), c2.RemoteAddr().String())
	assert.Equal(t, ipB+":7300", c1.RemoteAddr().String())
	c1.Close()
	c2.Close()
}

// checkKeepalive turns keepalive on for tc alone (its stack's tcp_keepalive is off): probes go
// out and the peer's answers keep the connection up; off again, they stop; bad values are
// refused by name.
func checkKeepalive(t *testing.T, s *gonet.Stack, tc *gonet.TCPConn) {
	probes := func() uint64 {
		var n uint64
		require.NoError(t, s.Do(func(st *stack.Stack) { n = tcp.StackCounters(st).KeepaliveProbes }))
		return n
	}
	require.NoError(t, tc.SetKeepAlive(false))
	require.NoError(t, tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 20 * time.Millisecond, Interval: 10 * time.Millisecond, Count: 2}))
	require.Eventually(t, func() bool { return probes() >= 3 }, 5*time.Second, 5*time.Millisecond,
		"answered probes, idle 20 ms")
	require.NoError(t, tc.SetKeepAlive(false))
	time.Sleep(30 * time.Millisecond) // a probe in flight lands
	n := probes()
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, n, probes(), "no probes once off")
	require.NoError(t, tc.SetKeepAlivePeriod(time.Hour))

	err := tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Count: 200})
	var op *net.OpError
	assert.ErrorAs(t, err, &op)
	assert.ErrorIs(t, err, syscall.EINVAL)
	assert.ErrorContains(t, err, "Count")
	assert.NoError(t, tc.SetKeepAlivePeriod(-1), "negative: unchanged")
}
