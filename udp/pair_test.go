package udp_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
)

// Two stacks over a net_ring pair: A (198.18.0.1) and B (198.18.0.2).

func TestUnicastBothWays(t *testing.T) {
	p := lab.NewPair(t)
	rxB := newRx(t, p.B, nil)
	bind(t, rxB, ap(addrB, 5000), netip.AddrPort{})
	rxA := newRx(t, p.A, nil)
	bind(t, rxA, ap(addrA, 6000), netip.AddrPort{})
	txA := newTx(t, p.A, ap(addrA, 6000), ap(addrB, 5000), nil)
	txB := newTx(t, p.B, ap(addrB, 5000), ap(addrA, 6000), nil)

	// The first datagram waits for ARP and leaves with the reply.
	n, err := txA.SendSingle([]byte("ping 0"))
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	got := runUntil(t, p, rxB, 1)
	require.Len(t, got, 1)
	assert.Equal(t, "ping 0", string(got[0].data))
	assert.Equal(t, ap(addrA, 6000), got[0].src)
	assert.Equal(t, ap(addrB, 5000), got[0].dst)
	assert.True(t, got[0].ip.DF, "SendSingle sets DF")
	assert.Equal(t, uint8(64), got[0].ip.TTL, "udp_ttl default")

	for i := 1; i <= 5; i++ {
		_, err := txB.Send([][]byte{[]byte("pong "), []byte(fmt.Sprint(i))}, 0)
		require.NoError(t, err)
		got := runUntil(t, p, rxA, 1)
		require.Len(t, got, 1)
		assert.Equal(t, fmt.Sprintf("pong %d", i), string(got[0].data))
		assert.False(t, got[0].ip.DF, "Send without DontFragment leaves DF clear")
		_, err = txA.Send([][]byte{got[0].data}, udp.DontFragment)
		require.NoError(t, err)
		got = runUntil(t, p, rxB, 1)
		require.Len(t, got, 1)
		assert.True(t, got[0].ip.DF)
	}
	ca, cb := udp.StackCounters(p.A), udp.StackCounters(p.B)
	assert.Equal(t, uint64(6), ca.TxDatagrams)
	assert.Equal(t, uint64(5), ca.RxDatagrams)
	assert.Equal(t, uint64(6), cb.RxDatagrams)
	assert.Zero(t, cb.Drops)
	assert.Equal(t, uint64(6), rxB.Counters().Received)
	assert.Equal(t, uint64(6), rxB.Counters().Released)
}

func TestDgramsLeftAndOrder(t *testing.T) {
	p := lab.NewPair(t)
	rx := newRx(t, p.B, nil)
	bind(t, rx, ap(addrB, 5000), netip.AddrPort{})
	tx := newTx(t, p.A, ap(addrA, 1), ap(addrB, 5000), nil)
	p.Run(t, 20, time.Microsecond, func() bool { _, ok := p.A.Resolve(addrB.As4()); return ok })
	for i := 0; i < 5; i++ {
		_, err := tx.SendSingle([]byte{byte(i)})
		require.NoError(t, err)
	}
	settle(p)
	msg := udp.NewMsg(1)
	for i := 0; i < 5; i++ {
		rx.ZcRecv(msg)
		require.Len(t, msg.Iov, 1)
		assert.Equal(t, []byte{byte(i)}, msg.Iov[0])
		assert.Equal(t, 4-i, msg.DgramsLeft)
		rx.ZcRecvDone(msg)
		assert.Empty(t, msg.Iov)
	}
	rx.ZcRecv(msg)
	assert.Empty(t, msg.Iov)
	rx.ZcRecvDone(msg) // nothing held: a no-op
	_, _, err := rx.PacketHeader(msg, 0)
	assert.ErrorIs(t, err, syscall.EINVAL)
}

func TestEphemeralPortWrittenBack(t *testing.T) {
	p := lab.NewPair(t)
	r := newRx(t, p.B, nil)
	seen := map[uint16]bool{}
	for i := 0; i < 3; i++ {
		got := bind(t, r, ap(addrB, 0), netip.AddrPort{})
		assert.Equal(t, addrB, got.Addr())
		assert.GreaterOrEqual(t, got.Port(), uint16(stack.EphemeralFirst))
		assert.LessOrEqual(t, got.Port(), uint16(stack.EphemeralLast))
		assert.False(t, seen[got.Port()], "each bind gets its own port")
		seen[got.Port()] = true
	}
	assert.Len(t, r.LocalAddrs(), 3)
	// The port works: a datagram to it arrives.
	port := r.LocalAddrs()[1].Port()
	tx := newTx(t, p.A, ap(addrA, 9), ap(addrB, port), nil)
	_, err := tx.SendSingle([]byte("eph"))
	require.NoError(t, err)
	got := runUntil(t, p, r, 1)
	require.Len(t, got, 1)
	assert.Equal(t, port, got[0].dst.Port())
}

func TestBindErrors(t *testing.T) {
	p := lab.NewPair(t)
	other := newRx(t, p.B, nil)
	bind(t, other, ap(addrB, 7000), netip.AddrPort{})
	bind(t, other, ap(addrB, 7001), ap(addrA, 1234))
	tests := []struct {
		name         string
		laddr, raddr netip.AddrPort
		errno        syscall.Errno
	}{
		{"no local address", netip.AddrPort{}, netip.AddrPort{}, syscall.EFAULT},
		{"INADDR_ANY", ap(netip.IPv4Unspecified(), 7000), netip.AddrPort{}, syscall.EINVAL},
		{"IPv6 local", netip.MustParseAddrPort("[2001:db8::1]:7000"), netip.AddrPort{}, syscall.EAFNOSUPPORT},
		{"IPv6 remote", ap(addrB, 7002), netip.MustParseAddrPort("[2001:db8::1]:7000"), syscall.EAFNOSUPPORT},
		{"not the stack's address", ap(addrA, 7000), netip.AddrPort{}, syscall.EADDRNOTAVAIL},
		{"same local, any remote", ap(addrB, 7000), netip.AddrPort{}, syscall.EADDRINUSE},
		{"same local, same remote", ap(addrB, 7001), ap(addrA, 1234), syscall.EADDRINUSE},
		{"multicast remote", ap(addrB, 7003), netip.MustParseAddrPort("239.1.1.1:5"), syscall.EINVAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRx(t, p.B, nil)
			_, err := r.Bind(tc.laddr, tc.raddr)
			require.Error(t, err)
			var errno syscall.Errno
			require.True(t, errors.As(err, &errno), "%v", err)
			assert.Equal(t, tc.errno, errno, "%v", err)
			assert.Empty(t, r.LocalAddrs())
		})
	}
	// A more specific filter on a bound local address is not a clash.
	r := newRx(t, p.B, nil)
	bind(t, r, ap(addrB, 7000), ap(addrA, 99))
	require.NoError(t, r.Unbind(ap(addrB, 7000), netip.AddrPort{}))
	assert.ErrorIs(t, r.Unbind(ap(addrB, 7000), netip.AddrPort{}), syscall.EINVAL, "nothing left to unbind")
	require.NoError(t, r.Close())
	_, err := r.Bind(ap(addrB, 7009), netip.AddrPort{})
	assert.ErrorIs(t, err, syscall.EINVAL, "closed")
}

func TestRemoteFilterMostSpecificWins(t *testing.T) {
	p := lab.NewPair(t)
	any := newRx(t, p.B, nil)
	bind(t, any, ap(addrB, 5000), netip.AddrPort{})
	fromA := newRx(t, p.B, nil)
	bind(t, fromA, ap(addrB, 5000), ap(addrA, 0))
	exact := newRx(t, p.B, nil)
	bind(t, exact, ap(addrB, 5000), ap(addrA, 6000))
	ports := []uint16{6000, 6001, 6000}
	var txs []*udp.Transmitter
	for i, port := range ports[:2] {
		txs = append(txs, newTx(t, p.A, ap(addrA, port), ap(addrB, 5000), nil))
		_, err := txs[i].SendSingle([]byte("x"))
		require.NoError(t, err)
	}
	settle(p)
	assert.Len(t, recvAll(t, exact), 1, "full 4-tuple first")
	assert.Len(t, recvAll(t, fromA), 1, "then remote address with any port")
	assert.Empty(t, recvAll(t, any))
	// Without the specific binds, the wildcard gets everything.
	require.NoError(t, exact.Unbind(netip.AddrPort{}, netip.AddrPort{}))
	require.NoError(t, fromA.Close())
	for _, tx := range txs {
		_, err := tx.SendSingle([]byte("y"))
		require.NoError(t, err)
	}
	settle(p)
	assert.Len(t, recvAll(t, any), 2)
	assert.Empty(t, recvAll(t, exact))
	assert.Zero(t, udp.StackCounters(p.B).Drops[udp.DropNoEndpoint])
	// A filter on another sender refuses A's datagrams.
	other := newRx(t, p.B, nil)
	bind(t, other, ap(addrB, 5001), ap(netip.MustParseAddr("198.18.0.77"), 0))
	tx := newTx(t, p.A, ap(addrA, 6000), ap(addrB, 5001), nil)
	_, err := tx.SendSingle([]byte("z"))
	require.NoError(t, err)
	settle(p)
	assert.Empty(t, recvAll(t, other))
	assert.Equal(t, uint64(1), udp.StackCounters(p.B).Drops[udp.DropNoEndpoint])
}

func TestMulticastJoinReceiveLeave(t *testing.T) {
	p := lab.NewPair(t, "multicast_ttl", "4")
	group := netip.MustParseAddr("239.1.2.3")
	r := newRx(t, p.B, nil)
	bind(t, r, ap(group, 5000), netip.AddrPort{})
	assert.Equal(t, [][4]byte{group.As4()}, p.B.MulticastGroups())
	assert.Equal(t, uint64(1), p.B.IGMPCounters().TxReports, "membership report sent on join")
	// A second bind to the group holds a second reference: no new report.
	r2 := newRx(t, p.B, nil)
	bind(t, r2, ap(group, 5001), netip.AddrPort{})
	assert.Equal(t, uint64(1), p.B.IGMPCounters().TxReports)

	tx := newTx(t, p.A, ap(addrA, 4000), ap(group, 5000), nil)
	_, err := tx.SendSingle([]byte("to the group"))
	require.NoError(t, err, "multicast needs no ARP")
	got := runUntil(t, p, r, 1)
	require.Len(t, got, 1)
	assert.Equal(t, "to the group", string(got[0].data))
	assert.Equal(t, ap(group, 5000), got[0].dst)
	assert.Equal(t, uint8(4), got[0].ip.TTL, "multicast_ttl")

	require.NoError(t, r.Unbind(ap(group, 5000), netip.AddrPort{}))
	assert.Zero(t, p.B.IGMPCounters().TxLeaves, "r2 still holds the group")
	require.NoError(t, r2.Close())
	assert.Equal(t, uint64(1), p.B.IGMPCounters().TxLeaves)
	assert.Empty(t, p.B.MulticastGroups())
	before := p.B.Counters()
	_, err = tx.SendSingle([]byte("nobody listens"))
	require.NoError(t, err)
	settle(p)
	after := p.B.Counters()
	assert.Equal(t, before.Drops[stack.DropEthNotForUs]+1, after.Drops[stack.DropEthNotForUs], "group left: its MAC is filtered")
}

func TestFragmentationOnSend(t *testing.T) {
	p := lab.NewPair(t)
	r := newRx(t, p.B, nil)
	bind(t, r, ap(addrB, 5000), netip.AddrPort{})
	tx := newTx(t, p.A, ap(addrA, 4000), ap(addrB, 5000), nil)
	assert.Equal(t, 1472, tx.MSS())
	assert.Equal(t, 42, tx.HeaderSize())
	p.Run(t, 20, time.Microsecond, func() bool { _, ok := p.A.Resolve(addrB.As4()); return ok })

	big := bytes.Repeat([]byte("0123456789abcdef"), 250) // 4000 bytes: 3 fragments of ≤1480
	_, err := tx.Send([][]byte{big[:1000], big[1000:]}, udp.DontFragment)
	assert.ErrorIs(t, err, syscall.EMSGSIZE)
	_, err = tx.SendSingle(big[:1473])
	assert.ErrorIs(t, err, syscall.EMSGSIZE)
	_, err = tx.Send([][]byte{make([]byte, udp.MaxDatagram+1)}, 0)
	assert.ErrorIs(t, err, syscall.EMSGSIZE)
	n, err := tx.SendSingle(big[:1472])
	require.NoError(t, err)
	assert.Equal(t, 1472, n)

	n, err = tx.Send([][]byte{big[:1000], big[1000:]}, 0)
	require.NoError(t, err)
	assert.Equal(t, 4000, n)
	settle(p)
	assert.Equal(t, uint64(3), p.B.Counters().Drops[stack.DropIPFragment], "fragments are counted and dropped")
	assert.Equal(t, uint64(3), udp.StackCounters(p.A).TxFragments)
	got := recvAll(t, r)
	require.Len(t, got, 1, "only the unfragmented datagram arrives")
	assert.Len(t, got[0].data, 1472)
}

func TestQueueOverflowCounted(t *testing.T) {
	p := lab.NewPair(t)
	a := lab.Attr(t, "udp_rx_queue_len", "4")
	r := newRx(t, p.B, a)
	bind(t, r, ap(addrB, 5000), netip.AddrPort{})
	tx := newTx(t, p.A, ap(addrA, 4000), ap(addrB, 5000), nil)
	p.Run(t, 20, time.Microsecond, func() bool { _, ok := p.A.Resolve(addrB.As4()); return ok })
	for i := 0; i < 10; i++ {
		_, err := tx.SendSingle([]byte{byte(i)})
		require.NoError(t, err)
	}
	settle(p)
	c := r.Counters()
	assert.Equal(t, 4, c.Unread)
	assert.Equal(t, uint64(6), c.QDrops)
	assert.Equal(t, uint64(6), udp.StackCounters(p.B).Drops[udp.DropQueueFull])
	got := recvAll(t, r)
	require.Len(t, got, 4)
	for i, d := range got {
		assert.Equal(t, []byte{byte(i)}, d.data, "the first four are kept")
	}
	// Room again.
	_, err := tx.SendSingle([]byte("again"))
	require.NoError(t, err)
	assert.Len(t, runUntil(t, p, r, 1), 1)
}

func TestEndpointLimits(t *testing.T) {
	p := lab.NewPair(t, "max_udp_rx_endpoints", "2", "max_udp_tx_endpoints", "1")
	newRx(t, p.B, nil)
	r := newRx(t, p.B, nil)
	_, err := udp.NewReceiver(p.B, nil)
	assert.ErrorIs(t, err, syscall.ENOBUFS)
	require.NoError(t, r.Close())
	newRx(t, p.B, nil) // a closed one's slot is free again
	newTx(t, p.B, ap(addrB, 1), ap(addrA, 1), nil)
	_, err = udp.NewTransmitter(p.B, ap(addrB, 2), ap(addrA, 1), 0, nil)
	assert.ErrorIs(t, err, syscall.ENOBUFS)
}

func TestNewTransmitterErrors(t *testing.T) {
	p := lab.NewPair(t)
	tests := []struct {
		name         string
		laddr, raddr netip.AddrPort
		flags        int
		errno        syscall.Errno
	}{
		{"local port 0", ap(addrA, 0), ap(addrB, 1), 0, syscall.EINVAL},
		{"foreign local address", ap(addrB, 1), ap(addrB, 1), 0, syscall.EINVAL},
		{"remote 0.0.0.0", ap(addrA, 1), ap(netip.IPv4Unspecified(), 1), 0, syscall.EINVAL},
		{"remote port 0", ap(addrA, 1), ap(addrB, 0), 0, syscall.EINVAL},
		{"flags", ap(addrA, 1), ap(addrB, 1), 1, syscall.EINVAL},
		{"IPv6", ap(addrA, 1), netip.MustParseAddrPort("[2001:db8::1]:1"), 0, syscall.EAFNOSUPPORT},
		{"no route", ap(addrA, 1), netip.MustParseAddrPort("198.19.0.1:1"), 0, syscall.EHOSTUNREACH},
		{"no address", netip.AddrPort{}, ap(addrB, 1), 0, syscall.EINVAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := udp.NewTransmitter(p.A, tc.laddr, tc.raddr, tc.flags, nil)
			var errno syscall.Errno
			require.True(t, errors.As(err, &errno), "%v", err)
			assert.Equal(t, tc.errno, errno, "%v", err)
		})
	}
	// INADDR_ANY picks the route's source: the stack's address.
	tx := newTx(t, p.A, ap(netip.IPv4Unspecified(), 5), ap(addrB, 1), nil)
	assert.Equal(t, ap(addrA, 5), tx.LocalAddr())
	assert.Equal(t, ap(addrB, 1), tx.RemoteAddr())
}

// TestRetarget: a retargeted transmitter sends to its new destination (port and TTL of the new
// address kind), keeps its old one when refused, allocates nothing, and fails with EBADF once
// closed.
func TestRetarget(t *testing.T) {
	p := lab.NewPair(t, "udp_ttl", "33")
	r1, r2 := newRx(t, p.B, nil), newRx(t, p.B, nil)
	bind(t, r1, ap(addrB, 1), netip.AddrPort{})
	bind(t, r2, ap(addrB, 2), netip.AddrPort{})
	tx := newTx(t, p.A, ap(addrA, 9), ap(addrB, 1), nil)
	_, err := tx.SendSingle([]byte("one"))
	require.NoError(t, err)
	got := runUntil(t, p, r1, 1)
	require.Len(t, got, 1)
	assert.Equal(t, "one", string(got[0].data))

	require.NoError(t, tx.Retarget(ap(addrB, 2)))
	assert.Equal(t, ap(addrB, 2), tx.RemoteAddr())
	assert.Equal(t, ap(addrA, 9), tx.LocalAddr())
	_, err = tx.SendSingle([]byte("two"))
	require.NoError(t, err)
	got = runUntil(t, p, r2, 1)
	require.Len(t, got, 1)
	assert.Equal(t, "two", string(got[0].data))
	assert.Equal(t, ap(addrA, 9), got[0].src)
	assert.Equal(t, uint8(33), got[0].ip.TTL)
	assert.Empty(t, recvAll(t, r1))

	for _, bad := range []struct {
		raddr netip.AddrPort
		errno syscall.Errno
	}{
		{ap(netip.IPv4Unspecified(), 1), syscall.EINVAL},
		{ap(addrB, 0), syscall.EINVAL},
		{netip.MustParseAddrPort("[2001:db8::1]:1"), syscall.EAFNOSUPPORT},
		{netip.MustParseAddrPort("198.19.0.1:1"), syscall.EHOSTUNREACH},
	} {
		assert.ErrorIs(t, tx.Retarget(bad.raddr), bad.errno, "%v", bad.raddr)
		assert.Equal(t, ap(addrB, 2), tx.RemoteAddr(), "a refused retarget keeps the destination")
	}

	a, b := ap(addrB, 1), ap(addrB, 2)
	allocs := testing.AllocsPerRun(100, func() {
		if err := tx.Retarget(a); err != nil {
			panic(err)
		}
		a, b = b, a
	})
	assert.Zero(t, allocs, "Retarget")

	require.NoError(t, tx.Close())
	assert.ErrorIs(t, tx.Retarget(ap(addrB, 1)), syscall.EBADF)
}
