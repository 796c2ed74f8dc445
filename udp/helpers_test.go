package udp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
	"github.com/zocket/zocket/wire"
)

// Addresses of lab.NewPair's stacks and of lab.NewRaw's stack and peer.
var (
	addrA = netip.MustParseAddr("198.18.0.1")
	addrB = netip.MustParseAddr("198.18.0.2")
	peer  = netip.AddrFrom4(lab.PeerIP)
)

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// newRx makes a receiver closed at the end of the test (before its stack, as cleanups run in
// reverse order).
func newRx(t testing.TB, st *stack.Stack, a *stack.Attr) *udp.Receiver {
	t.Helper()
	r, err := udp.NewReceiver(st, a)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func bind(t testing.TB, r *udp.Receiver, laddr, raddr netip.AddrPort) netip.AddrPort {
	t.Helper()
	got, err := r.Bind(laddr, raddr)
	require.NoError(t, err)
	return got
}

func newTx(t testing.TB, st *stack.Stack, laddr, raddr netip.AddrPort, a *stack.Attr) *udp.Transmitter {
	t.Helper()
	tx, err := udp.NewTransmitter(st, laddr, raddr, 0, a)
	require.NoError(t, err)
	t.Cleanup(func() { tx.Close() })
	return tx
}

// dgram is a received datagram, copied out of its buffer.
type dgram struct {
	data []byte
	src  netip.AddrPort
	dst  netip.AddrPort
	ip   wire.IPv4Fields
}

// recvAll takes every queued datagram off r, copies it and gives the buffer back.
func recvAll(t testing.TB, r *udp.Receiver) []dgram {
	t.Helper()
	var out []dgram
	msg := udp.NewMsg(4)
	for {
		r.ZcRecv(msg)
		if len(msg.Iov) == 0 {
			require.Zero(t, msg.DgramsLeft)
			return out
		}
		var d dgram
		for _, b := range msg.Iov {
			d.data = append(d.data, b...)
		}
		ip, u, err := r.PacketHeader(msg, 0)
		require.NoError(t, err)
		d.src = netip.AddrPortFrom(netip.AddrFrom4(ip.Src()), u.SrcPort())
		d.dst = netip.AddrPortFrom(netip.AddrFrom4(ip.Dst()), u.DstPort())
		d.ip = ip.Fields()
		require.Equal(t, d.src, r.Source(msg))
		r.ZcRecvDone(msg)
		out = append(out, d)
	}
}

// runUntil performs both stacks until r has want datagrams queued (or fails the test) and
// returns them.
func runUntil(t testing.TB, p *lab.Pair, r *udp.Receiver, want int) []dgram {
	t.Helper()
	p.Run(t, 200, time.Microsecond, func() bool { return r.Counters().Unread >= want })
	return recvAll(t, r)
}

// settle performs both stacks a few times so that anything in flight lands.
func settle(p *lab.Pair) {
	for i := 0; i < 10; i++ {
		p.Step()
		p.Clock.Advance(int64(time.Microsecond))
	}
}
