package udp_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
	"github.com/zocket/zocket/wire"
)

// Packet scripts: a stack facing a raw port (lab.NewRaw); the test injects frames and checks
// what the stack emits. The peer is 198.18.0.9 at 02:00:00:00:00:ee, statically resolved.

func newRaw(t *testing.T, kv ...string) *lab.Raw {
	return lab.NewRaw(t, append([]string{"arp_static", "198.18.0.9=02:00:00:00:00:ee"}, kv...)...)
}

// udpFrame builds a whole frame from the peer's port sport to dst:dport with a correct UDP
// checksum.
func udpFrame(dst [4]byte, sport, dport uint16, payload []byte) []byte {
	b := make([]byte, 14+20+8+len(payload))
	eth := wire.EthernetFields{Dst: lab.StackMAC, Src: lab.PeerMAC, Type: wire.EtherTypeIPv4}
	if wire.IsMulticast4(dst) {
		eth.Dst = wire.MulticastMAC(dst)
	}
	eth.Encode(b)
	ip := wire.IPv4Fields{TotalLength: uint16(28 + len(payload)), ID: 1, TTL: 64, Protocol: wire.ProtoUDP, Src: lab.PeerIP, Dst: dst}
	ip.Encode(b[14:])
	u := wire.UDPFields{SrcPort: sport, DstPort: dport, Length: uint16(8 + len(payload))}
	u.Encode(b[34:])
	copy(b[42:], payload)
	wire.UDP(b[34:]).SetChecksum(wire.UDP(b[34:]).ComputeChecksum(lab.PeerIP, dst))
	return b
}

func fixIP(b []byte) []byte {
	ip := wire.IPv4(b[14:])
	ip.SetChecksum(0)
	ip.SetChecksum(ip.ComputeChecksum())
	return b
}

func TestReceivedDatagramChecks(t *testing.T) {
	payload := []byte("zocket payload")
	good := func() []byte { return udpFrame(lab.StackIP, 4000, 5000, payload) }
	edit := func(f func(b []byte)) []byte { b := good(); f(b); return b }
	tests := []struct {
		name    string
		frame   []byte
		deliver string            // payload expected, "" for a drop
		udpDrop udp.DropReason    // counted when deliver is ""
		ipDrop  *stack.DropReason // or this stack reason
	}{
		{name: "good", frame: good(), deliver: string(payload)},
		{name: "zero checksum means none", frame: edit(func(b []byte) { b[40], b[41] = 0, 0 }), deliver: string(payload)},
		{name: "Ethernet padding ignored", frame: append(good(), 0, 0, 0, 0), deliver: string(payload)},
		{name: "UDP length under the IP payload trims it", frame: func() []byte {
			b := udpFrame(lab.StackIP, 4000, 5000, append(append([]byte{}, payload...), "junk"...))
			binary.BigEndian.PutUint16(b[38:], uint16(8+len(payload)))
			u := wire.UDP(b[34 : 42+len(payload)])
			u.SetChecksum(0)
			u.SetChecksum(u.ComputeChecksum(lab.PeerIP, lab.StackIP))
			return b
		}(), deliver: string(payload)},
		{name: "source port 0 is legal", frame: func() []byte {
			return udpFrame(lab.StackIP, 0, 5000, payload)
		}(), deliver: string(payload)},
		{name: "bad checksum", frame: edit(func(b []byte) { b[len(b)-1] ^= 0x55 }), udpDrop: udp.DropChecksum},
		{name: "UDP length under 8", frame: edit(func(b []byte) { b[38], b[39] = 0, 7 }), udpDrop: udp.DropLength},
		{name: "UDP length beyond the IP payload", frame: edit(func(b []byte) { b[38], b[39] = 0, 200 }), udpDrop: udp.DropLength},
		{name: "truncated UDP header", frame: func() []byte {
			b := good()[:14+20+6]
			binary.BigEndian.PutUint16(b[16:], 26)
			return fixIP(b)
		}(), udpDrop: udp.DropTruncated},
		{name: "destination port 0", frame: udpFrame(lab.StackIP, 4000, 0, payload), udpDrop: udp.DropPort0},
		{name: "no endpoint", frame: udpFrame(lab.StackIP, 4000, 5001, payload), udpDrop: udp.DropNoEndpoint},
		{name: "broadcast nobody bound", frame: func() []byte {
			b := udpFrame([4]byte{198, 18, 0, 255}, 4000, 5000, payload)
			copy(b[0:6], wire.BroadcastMAC[:])
			return b
		}(), udpDrop: udp.DropNoEndpoint},
		{name: "first fragment", frame: fixIP(edit(func(b []byte) { b[20] = 0x20 })), ipDrop: ptr(stack.DropIPFragment)},
		{name: "later fragment", frame: fixIP(edit(func(b []byte) { b[21] = 0xb9 })), ipDrop: ptr(stack.DropIPFragment)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRaw(t)
			rx := newRx(t, r.S, nil)
			bind(t, rx, ap(netip.AddrFrom4(lab.StackIP), 5000), netip.AddrPort{})
			before, ubefore := r.S.Counters(), udp.StackCounters(r.S)
			r.Inject(t, tc.frame)
			after, uafter := r.S.Counters(), udp.StackCounters(r.S)
			got := recvAll(t, rx)
			assert.Empty(t, r.Emitted(), "UDP sends no ICMP errors")
			if tc.deliver != "" {
				require.Len(t, got, 1)
				assert.Equal(t, tc.deliver, string(got[0].data))
				assert.Zero(t, uafter.Drops)
				return
			}
			assert.Empty(t, got)
			if tc.ipDrop != nil {
				assert.Equal(t, before.Drops[*tc.ipDrop]+1, after.Drops[*tc.ipDrop], tc.ipDrop.Name())
				return
			}
			assert.Equal(t, ubefore.Drops[tc.udpDrop]+1, uafter.Drops[tc.udpDrop], tc.udpDrop.Name())
			var total uint64
			for _, d := range uafter.Drops {
				total += d
			}
			assert.Equal(t, uint64(1), total, "exactly one drop")
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestBroadcastBind(t *testing.T) {
	r := newRaw(t)
	rx := newRx(t, r.S, nil)
	bind(t, rx, netip.MustParseAddrPort("255.255.255.255:67"), netip.AddrPort{})
	bind(t, rx, netip.MustParseAddrPort("198.18.0.255:68"), netip.AddrPort{})
	for _, f := range [][]byte{udpFrame([4]byte{255, 255, 255, 255}, 1, 67, []byte("a")), udpFrame([4]byte{198, 18, 0, 255}, 1, 68, []byte("b"))} {
		copy(f[0:6], wire.BroadcastMAC[:])
		r.Inject(t, f)
	}
	got := recvAll(t, rx)
	require.Len(t, got, 2)
	assert.Equal(t, "a", string(got[0].data))
	assert.Equal(t, "b", string(got[1].data))
}

// TestEmittedDatagram checks every header field of a sent datagram, for the software checksum
// path and the TTL attributes.
func TestEmittedDatagram(t *testing.T) {
	r := newRaw(t, "udp_ttl", "9")
	tx := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 4000), ap(peer, 5000), nil)
	_, err := tx.Send([][]byte{[]byte("hello, "), {}, []byte("world")}, 0)
	require.NoError(t, err)
	out := r.Emitted()
	require.Len(t, out, 1)
	f := out[0]
	require.Len(t, f, tx.HeaderSize()+12, "a frame is exactly HeaderSize plus the payload")
	eth := wire.Ethernet(f)
	assert.Equal(t, lab.PeerMAC, eth.Dst())
	assert.Equal(t, lab.StackMAC, eth.Src())
	require.NoError(t, wire.CheckIPv4(f[14:]))
	ip := wire.IPv4(f[14:])
	assert.True(t, ip.ChecksumValid())
	assert.Equal(t, uint8(9), ip.TTL())
	assert.Equal(t, uint16(40), ip.TotalLength())
	assert.False(t, ip.IsFragment())
	u, err := wire.CheckUDP(ip.Payload())
	require.NoError(t, err)
	assert.True(t, u.ChecksumValid(lab.StackIP, lab.PeerIP))
	assert.NotZero(t, u.Checksum())
	assert.Equal(t, uint16(4000), u.SrcPort())
	assert.Equal(t, uint16(5000), u.DstPort())
	assert.Equal(t, "hello, world", string(u.Payload()))

	// The attribute given to the zocket wins over the stack's.
	tx2 := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 4001), ap(peer, 5000), lab.Attr(t, "udp_ttl", "200"))
	_, err = tx2.SendSingle([]byte("x"))
	require.NoError(t, err)
	out = r.Emitted()
	require.Len(t, out, 1)
	assert.Equal(t, uint8(200), wire.IPv4(out[0][14:]).TTL())
}

// TestFragmentsOnTheWire reassembles what the stack emits for a datagram over the MSS and checks
// offsets, flags, identification and the UDP checksum over the whole datagram.
func TestFragmentsOnTheWire(t *testing.T) {
	for _, size := range []int{1473, 2952, 2953, 4000, 65507} {
		r := newRaw(t)
		tx := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 4000), ap(peer, 5000), nil)
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		n, err := tx.Send([][]byte{data[:size/3], data[size/3 : size/2], data[size/2:]}, 0)
		require.NoError(t, err)
		require.Equal(t, size, n)
		var out [][]byte
		for len(out) < (size+8+1479)/1480 {
			got := r.Emitted()
			require.NotEmpty(t, got, "size %d: %d frames", size, len(out))
			out = append(out, got...)
		}
		require.Len(t, out, (size+8+1479)/1480, "size %d", size)
		whole := make([]byte, 8+size)
		var id uint16
		for i, f := range out {
			require.NoError(t, wire.CheckIPv4(f[14:]))
			ip := wire.IPv4(f[14:])
			assert.True(t, ip.ChecksumValid())
			if i == 0 {
				id = ip.ID()
			}
			assert.Equal(t, id, ip.ID(), "one identification for all fragments")
			assert.Equal(t, i < len(out)-1, ip.MoreFragments())
			assert.False(t, ip.DontFragment())
			off := int(ip.FragmentOffset())
			assert.Equal(t, i*1480, off)
			pl := ip.Payload()
			if i < len(out)-1 {
				assert.Len(t, pl, 1480)
			}
			copy(whole[off:], pl)
			assert.LessOrEqual(t, len(f)-14, 1500, "no frame over the MTU")
		}
		u, err := wire.CheckUDP(whole)
		require.NoError(t, err)
		assert.True(t, u.ChecksumValid(lab.StackIP, lab.PeerIP), "size %d", size)
		assert.True(t, bytes.Equal(data, u.Payload()), "size %d", size)
	}
}

func TestSendErrorsAgainAndNoBufs(t *testing.T) {
	r := newRaw(t, "n_bufs", "4095")
	tx := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 4000), ap(peer, 5000), nil)
	// The peer reads nothing: the ring fills and sends are refused with EAGAIN.
	var again int
	for i := 0; i < 1100; i++ {
		if _, err := tx.SendSingle([]byte("fill")); err != nil {
			require.ErrorIs(t, err, syscall.EAGAIN)
			again++
		}
	}
	assert.Equal(t, 1100-1023, again, "a 1024-slot rte_ring holds 1023")
	assert.Equal(t, uint64(again), udp.StackCounters(r.S).TxRingFull)
	r.Drain()
	_, err := tx.SendSingle([]byte("room again"))
	require.NoError(t, err)
	r.Drain()

	// Every buffer taken: ENOBUFS, for single datagrams and fragments alike.
	pool := r.S.Pool()
	held := make([]*dpdk.Mbuf, pool.Available())
	require.NoError(t, pool.AllocBulk(held))
	_, err = tx.SendSingle([]byte("x"))
	assert.ErrorIs(t, err, syscall.ENOBUFS)
	_, err = tx.Send([][]byte{make([]byte, 3000)}, 0)
	assert.ErrorIs(t, err, syscall.ENOBUFS)
	assert.Equal(t, uint64(2), udp.StackCounters(r.S).TxNoBufs)
	dpdk.FreeBulk(held)
	_, err = tx.SendSingle([]byte("x"))
	assert.NoError(t, err)
}

func TestSendSingleWarmSendsNothing(t *testing.T) {
	r := newRaw(t)
	tx := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 4000), ap(peer, 5000), nil)
	for i := 0; i < 10; i++ {
		n, err := tx.SendSingleWarm([]byte("warm"))
		require.NoError(t, err)
		assert.Equal(t, 4, n)
	}
	r.S.Perform()
	assert.Empty(t, r.Emitted())
	assert.Zero(t, udp.StackCounters(r.S).TxDatagrams)
	assert.Zero(t, r.S.Counters().TxPackets)
	_, err := tx.SendSingleWarm(make([]byte, tx.MSS()+1))
	assert.ErrorIs(t, err, syscall.EMSGSIZE)
}

func TestMulticastTTLZeroStaysHome(t *testing.T) {
	r := newRaw(t, "multicast_ttl", "0")
	tx := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 4000), netip.MustParseAddrPort("239.9.9.9:5000"), nil)
	_, err := tx.SendSingle([]byte("local only"))
	require.NoError(t, err)
	assert.Empty(t, r.Emitted())
	assert.Equal(t, uint64(1), udp.StackCounters(r.S).TxHostOnly)
}

func TestSendBeforeARPWaitsForTheReply(t *testing.T) {
	r := lab.NewRaw(t) // no static entry
	tx := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 4000), ap(peer, 5000), nil)
	for i := 0; i < 3; i++ {
		_, err := tx.SendSingle([]byte{byte(i)})
		require.NoError(t, err)
	}
	r.S.Perform()
	out := r.Emitted()
	require.Len(t, out, 1, "only the ARP request")
	assert.Equal(t, uint16(wire.EtherTypeARP), wire.Ethernet(out[0]).Type())
	reply := make([]byte, 14+wire.ARPSize)
	ef := wire.EthernetFields{Dst: lab.StackMAC, Src: lab.PeerMAC, Type: wire.EtherTypeARP}
	ef.Encode(reply)
	af := wire.ARPFields{Op: wire.ARPReply, SenderMAC: lab.PeerMAC, SenderIP: lab.PeerIP, TargetMAC: lab.StackMAC, TargetIP: lab.StackIP}
	af.Encode(reply[14:])
	r.Inject(t, reply)
	out = r.Emitted()
	require.Len(t, out, 3)
	for i, f := range out {
		assert.Equal(t, lab.PeerMAC, wire.Ethernet(f).Dst())
		assert.Equal(t, byte(i), f[len(f)-1], "in order")
	}
	// Later sends go straight out with the learnt MAC.
	_, err := tx.SendSingle([]byte("direct"))
	require.NoError(t, err)
	out = r.Emitted()
	require.Len(t, out, 1)
	assert.Equal(t, lab.PeerMAC, wire.Ethernet(out[0]).Dst())
}
