package stack_test

import (
	"errors"
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

func TestARPResolutionBothWays(t *testing.T) {
	p := lab.NewPair(t)
	ipB := [4]byte{198, 18, 0, 2}
	ipA := [4]byte{198, 18, 0, 1}
	_, ok := p.A.Resolve(ipB)
	require.False(t, ok, "nothing is known before ARP")
	p.Run(t, 10, time.Microsecond, func() bool { _, ok := p.A.Resolve(ipB); return ok })
	mac, _ := p.A.Resolve(ipB)
	assert.Equal(t, p.B.MAC(), mac)
	// B learnt A from A's request (it was the target): no request of its own needed.
	mac, ok = p.B.Neighbour(netip.AddrFrom4(ipA))
	assert.True(t, ok)
	assert.Equal(t, p.A.MAC(), mac)
	assert.Equal(t, uint64(1), p.A.Counters().TxARPRequests)
	assert.Equal(t, uint64(0), p.B.Counters().TxARPRequests)
	assert.Equal(t, uint64(1), p.B.Counters().TxARPReplies)
}

func TestARPRetriesThenFails(t *testing.T) {
	r := lab.NewRaw(t, "arp_reply_timeout", "1000")
	ghost := [4]byte{198, 18, 0, 77}
	_, ok := r.S.Resolve(ghost)
	require.False(t, ok)
	for i := 0; i < 10; i++ {
		r.Clock.Advance(int64(time.Millisecond))
		r.S.Perform()
	}
	frames := r.Emitted()
	require.Len(t, frames, 3, "three requests, then it gives up")
	for _, f := range frames {
		eth := wire.Ethernet(f)
		assert.Equal(t, wire.BroadcastMAC, eth.Dst())
		a := wire.ARP(f[14:])
		assert.Equal(t, uint16(wire.ARPRequest), a.Op())
		assert.Equal(t, ghost, a.TargetIP())
		assert.Equal(t, lab.StackIP, a.SenderIP())
		assert.Len(t, f, 60, "padded to the Ethernet minimum")
	}
	assert.True(t, r.S.NeighbourFailed(ghost))
}

func TestHeldPacketsLeaveAfterResolution(t *testing.T) {
	r := lab.NewRaw(t)
	_, ok := r.S.Resolve(lab.PeerIP)
	require.False(t, ok)
	// Three frames wait for the peer's MAC.
	for i := 0; i < 3; i++ {
		m := r.S.Pool().Alloc()
		require.NotNil(t, m)
		b := m.Append(14 + 20)
		r.S.EncodeEthernet(b, [6]byte{}, wire.EtherTypeIPv4)
		f := wire.IPv4Fields{TotalLength: 20, TTL: 64, Protocol: 253, Src: lab.StackIP, Dst: lab.PeerIP, ID: uint16(i)}
		f.Encode(b[14:])
		r.S.Output(m, lab.PeerIP)
	}
	r.S.Perform()
	req := r.Emitted()
	require.Len(t, req, 1, "only the request leaves before the reply")
	r.Inject(t, arpFrame(wire.ARPReply, lab.PeerMAC, lab.PeerIP, lab.StackMAC, lab.StackIP))
	out := r.Emitted()
	require.Len(t, out, 3)
	for i, f := range out {
		assert.Equal(t, lab.PeerMAC, wire.Ethernet(f).Dst())
		assert.Equal(t, uint16(i), wire.IPv4(f[14:]).ID(), "held frames keep their order")
	}
}

func TestARPPolicy(t *testing.T) {
	other := [6]byte{2, 0, 0, 0, 0, 0x99}
	stranger := [4]byte{198, 18, 0, 50}
	tests := []struct {
		name      string
		frame     []byte
		reply     bool
		learn     [4]byte // entry expected afterwards (zero: none)
		learnMAC  [6]byte
		dropped   stack.DropReason
		wantDrops uint64
	}{
		{name: "request for us is answered and learnt", frame: arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP),
			reply: true, learn: lab.PeerIP, learnMAC: lab.PeerMAC},
		{name: "request for another host is not answered nor learnt", frame: arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, stranger),
			dropped: stack.DropARPNotForUs, wantDrops: 1},
		{name: "gratuitous ARP does not create an entry", frame: arpFrame(wire.ARPRequest, other, stranger, [6]byte{}, stranger),
			dropped: stack.DropARPNotForUs, wantDrops: 1},
		{name: "probe for our address is answered, nothing learnt", frame: arpFrame(wire.ARPRequest, lab.PeerMAC, [4]byte{}, [6]byte{}, lab.StackIP),
			reply: true},
		{name: "broadcast sender MAC", frame: arpFrame(wire.ARPRequest, wire.BroadcastMAC, lab.PeerIP, [6]byte{}, lab.StackIP),
			dropped: stack.DropARPSender, wantDrops: 1},
		{name: "sender claims our address", frame: arpFrame(wire.ARPRequest, other, lab.StackIP, [6]byte{}, lab.StackIP),
			dropped: stack.DropARPSender, wantDrops: 1},
		{name: "opcode 3", frame: func() []byte { f := arpFrame(3, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP); return f }(),
			dropped: stack.DropARPOp, wantDrops: 1},
		{name: "htype 6", frame: func() []byte {
			f := arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP)
			f[15] = 6
			return f
		}(), dropped: stack.DropARPFormat, wantDrops: 1},
		{name: "hlen 8", frame: func() []byte {
			f := arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP)
			f[18] = 8
			return f
		}(), dropped: stack.DropARPFormat, wantDrops: 1},
		{name: "truncated", frame: arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP)[:30],
			dropped: stack.DropARPTruncated, wantDrops: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			r.Inject(t, tc.frame)
			out := r.Emitted()
			if tc.reply {
				require.Len(t, out, 1)
				a := wire.ARP(out[0][14:])
				assert.Equal(t, uint16(wire.ARPReply), a.Op())
				assert.Equal(t, lab.StackMAC, a.SenderMAC())
				assert.Equal(t, lab.StackIP, a.SenderIP())
				assert.Equal(t, wire.Ethernet(tc.frame).Src(), wire.Ethernet(out[0]).Dst())
			} else {
				assert.Empty(t, out)
			}
			if tc.learn != ([4]byte{}) {
				mac, ok := r.S.Neighbour(netip.AddrFrom4(tc.learn))
				assert.True(t, ok)
				assert.Equal(t, tc.learnMAC, mac)
			}
			_, ok := r.S.Neighbour(netip.AddrFrom4(stranger))
			assert.False(t, ok, "strangers never enter the table")
			if tc.wantDrops > 0 {
				assert.Equal(t, tc.wantDrops, r.S.Counters().Drops[tc.dropped], tc.dropped.Name())
			}
		})
	}
}

func TestUnsolicitedReplyRefreshesOnlyKnownEntries(t *testing.T) {
	r := lab.NewRaw(t)
	newMAC := [6]byte{2, 0, 0, 0, 0, 0x42}
	r.Inject(t, arpFrame(wire.ARPReply, newMAC, lab.PeerIP, lab.StackMAC, [4]byte{198, 18, 0, 3}))
	_, ok := r.S.Neighbour(netip.AddrFrom4(lab.PeerIP))
	assert.False(t, ok, "an unsolicited reply to someone else creates nothing")
	r.Inject(t, arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP))
	r.Drain()
	r.Inject(t, arpFrame(wire.ARPRequest, newMAC, lab.PeerIP, [6]byte{}, lab.PeerIP)) // gratuitous
	mac, ok := r.S.Neighbour(netip.AddrFrom4(lab.PeerIP))
	assert.True(t, ok)
	assert.Equal(t, newMAC, mac, "gratuitous ARP updates an existing entry")
}

func TestStaticNeighbourNeverOverwritten(t *testing.T) {
	r := lab.NewRaw(t, "arp_static", "198.18.0.9=02:00:00:00:00:ee")
	mac, ok := r.S.Resolve(lab.PeerIP)
	require.True(t, ok)
	assert.Equal(t, lab.PeerMAC, mac)
	r.Inject(t, arpFrame(wire.ARPRequest, [6]byte{2, 0, 0, 0, 0, 0x66}, lab.PeerIP, [6]byte{}, lab.StackIP))
	r.Drain()
	mac, _ = r.S.Resolve(lab.PeerIP)
	assert.Equal(t, lab.PeerMAC, mac)
}

func TestEchoReply(t *testing.T) {
	r := lab.NewRaw(t)
	req := echoRequest(lab.StackIP, 0x1234, 7, "zocket ping payload")
	// Ethernet padding after the IP datagram must not be echoed.
	r.Inject(t, append(req, 0, 0, 0, 0, 0, 0))
	out := r.Emitted()
	require.Len(t, out, 1)
	f := out[0]
	require.Len(t, f, len(req))
	eth := wire.Ethernet(f)
	assert.Equal(t, lab.PeerMAC, eth.Dst())
	assert.Equal(t, lab.StackMAC, eth.Src())
	require.NoError(t, wire.CheckIPv4(f[14:]))
	ip := wire.IPv4(f[14:])
	assert.True(t, ip.ChecksumValid())
	assert.Equal(t, lab.StackIP, ip.Src())
	assert.Equal(t, lab.PeerIP, ip.Dst())
	require.NoError(t, wire.CheckICMP(ip.Payload()))
	icmp := wire.ICMP(ip.Payload())
	assert.Equal(t, uint8(wire.ICMPEchoReply), icmp.Type())
	assert.Equal(t, uint16(0x1234), icmp.ID())
	assert.Equal(t, uint16(7), icmp.Seq())
	assert.Equal(t, "zocket ping payload", string(icmp.Payload()))
	assert.Equal(t, uint64(1), r.S.Counters().TxEchoReplies)
}

// TestMalformedFramesCountedAndDropped feeds one broken frame per row and checks that exactly
// that reason was counted, nothing was sent, and no buffer leaked (the lab checks the pool).
func TestMalformedFramesCountedAndDropped(t *testing.T) {
	good := func() []byte { return echoRequest(lab.StackIP, 1, 1, "abcdefgh") }
	edit := func(f func(b []byte)) []byte { b := good(); f(b); return b }
	tests := []struct {
		name   string
		frame  []byte
		reason stack.DropReason
	}{
		{"runt frame", good()[:10], stack.DropEthRunt},
		{"not our MAC", edit(func(b []byte) { b[5] = 0x77 }), stack.DropEthNotForUs},
		{"unknown ethertype", edit(func(b []byte) { b[12], b[13] = 0x88, 0xb5 }), stack.DropEthType},
		{"VLAN 5 tag", func() []byte {
			b := good()
			tagged := append(append(append([]byte{}, b[:12]...), 0x81, 0x00, 0x00, 0x05), b[12:]...)
			return tagged
		}(), stack.DropVLAN},
		{"truncated IP header", good()[:14+12], stack.DropIPTruncated},
		{"IP version 6", fixIPChecksum(edit(func(b []byte) { b[14] = 0x65 })), stack.DropIPVersion},
		{"IHL 4", fixIPChecksum(edit(func(b []byte) { b[14] = 0x44 })), stack.DropIPIHL},
		{"IHL beyond total length", fixIPChecksum(edit(func(b []byte) { b[14] = 0x4f })), stack.DropIPIHL},
		{"total length beyond frame", fixIPChecksum(edit(func(b []byte) { b[16], b[17] = 0x05, 0xdc })), stack.DropIPLength},
		{"bad IP checksum", edit(func(b []byte) { b[24] ^= 0xff }), stack.DropIPChecksum},
		{"fragment", fixIPChecksum(edit(func(b []byte) { b[20] = 0x20 })), stack.DropIPFragment},
		{"TTL 0", fixIPChecksum(edit(func(b []byte) { b[22] = 0 })), stack.DropIPTTL},
		{"source broadcast", fixIPChecksum(edit(func(b []byte) { copy(b[26:30], []byte{255, 255, 255, 255}) })), stack.DropIPSource},
		{"source multicast", fixIPChecksum(edit(func(b []byte) { copy(b[26:30], []byte{224, 0, 0, 1}) })), stack.DropIPSource},
		{"source 0.0.0.0", fixIPChecksum(edit(func(b []byte) { copy(b[26:30], []byte{0, 0, 0, 0}) })), stack.DropIPSource},
		{"source loopback", fixIPChecksum(edit(func(b []byte) { copy(b[26:30], []byte{127, 0, 0, 1}) })), stack.DropIPSource},
		{"source is us", fixIPChecksum(edit(func(b []byte) { copy(b[26:30], lab.StackIP[:]) })), stack.DropIPSource},
		{"not our IP", fixIPChecksum(edit(func(b []byte) { b[33] = 99 })), stack.DropIPNotForUs},
		{"unknown protocol", fixIPChecksum(edit(func(b []byte) { b[23] = 253 })), stack.DropIPProtocol},
		{"ICMP too short", func() []byte {
			return ipFrame(lab.StackIP, wire.ProtoICMP, []byte{8, 0, 0})
		}(), stack.DropICMPTruncated},
		{"bad ICMP checksum", edit(func(b []byte) { b[len(b)-1] ^= 1 }), stack.DropICMPChecksum},
		{"echo to broadcast", fixIPChecksum(edit(func(b []byte) { b[33] = 255 })), stack.DropICMPBroadcastEcho},
		{"source route option", func() []byte {
			icmp := good()[34:]
			ip := make([]byte, 24+len(icmp))
			f := wire.IPv4Fields{TotalLength: uint16(len(ip)), TTL: 64, Protocol: wire.ProtoICMP, Src: lab.PeerIP, Dst: lab.StackIP}
			f.Encode(ip)
			ip[0] = 0x46
			copy(ip[20:], []byte{0x83, 3, 4, 0}) // LSRR, length 3
			copy(ip[24:], icmp)
			return fixIPChecksum(ethTo(lab.StackMAC, wire.EtherTypeIPv4, ip))
		}(), stack.DropIPOptions},
		{"option length 0", func() []byte {
			icmp := good()[34:]
			ip := make([]byte, 24+len(icmp))
			f := wire.IPv4Fields{TotalLength: uint16(len(ip)), TTL: 64, Protocol: wire.ProtoICMP, Src: lab.PeerIP, Dst: lab.StackIP}
			f.Encode(ip)
			ip[0] = 0x46
			copy(ip[20:], []byte{0x07, 0, 0, 0})
			copy(ip[24:], icmp)
			return fixIPChecksum(ethTo(lab.StackMAC, wire.EtherTypeIPv4, ip))
		}(), stack.DropIPOptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			before := r.S.Counters()
			r.Inject(t, tc.frame)
			after := r.S.Counters()
			assert.Empty(t, r.Emitted(), "nothing is sent in reply")
			assert.Equal(t, before.Drops[tc.reason]+1, after.Drops[tc.reason], "reason %s", tc.reason.Name())
			assert.Equal(t, before.Dropped()+1, after.Dropped(), "exactly one drop")
		})
	}
	// The unbroken frame is answered, so each row above fails for its one edit.
	r := lab.NewRaw(t)
	r.Inject(t, good())
	assert.Len(t, r.Emitted(), 1)
}

func TestPriorityTaggedFrameAccepted(t *testing.T) {
	r := lab.NewRaw(t)
	b := echoRequest(lab.StackIP, 1, 1, "x")
	tagged := append(append(append([]byte{}, b[:12]...), 0x81, 0x00, 0x60, 0x00), b[12:]...)
	r.Inject(t, tagged)
	assert.Len(t, r.Emitted(), 1)
}

func TestNewRefusesBadAttributes(t *testing.T) {
	tests := []struct {
		kv    []string
		errno syscall.Errno
		name  string
	}{
		{[]string{"interface", "net_ring_nope"}, syscall.EINVAL, "local_ip"},
		{[]string{"local_ip", "198.18.0.1/24", "interface", ""}, syscall.EINVAL, "interface"},
		{[]string{"local_ip", "198.18.0.1/24", "interface", "net_bogusdrv0"}, syscall.ENODEV, "interface"},
		{[]string{"local_ip", "198.18.0.1/24", "gateway", "198.18.1.1", "interface", "x"}, syscall.EINVAL, "gateway"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.kv, "="), func(t *testing.T) {
			a := lab.Attr(t)
			for i := 0; i < len(tc.kv); i += 2 {
				require.NoError(t, a.Set(tc.kv[i], tc.kv[i+1]))
			}
			_, err := stack.New(a)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.name)
			assert.ErrorIs(t, err, tc.errno)
		})
	}
}

func TestNoRouteOffSubnet(t *testing.T) {
	r := lab.NewRaw(t)
	_, err := r.S.NextHop([4]byte{198, 19, 0, 1})
	assert.True(t, errors.Is(err, syscall.ENETUNREACH), "got %v", err)
	assert.Contains(t, err.Error(), "gateway", "says what to set")
	// Every hostile off-subnet packet a transport answers asks: no allocation per packet.
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.S.NextHop([4]byte{198, 19, 0, 1}) }))
	nh, err := r.S.NextHop(lab.PeerIP)
	require.NoError(t, err)
	assert.Equal(t, lab.PeerIP, nh)
}

func TestGatewayRoute(t *testing.T) {
	r := lab.NewRaw(t, "gateway", "198.18.0.254")
	nh, err := r.S.NextHop([4]byte{8, 8, 8, 8})
	require.NoError(t, err)
	assert.Equal(t, [4]byte{198, 18, 0, 254}, nh)
}

func TestFaultShimIsSeededAndCounts(t *testing.T) {
	run := func(seed uint64) (stack.FaultCounters, int) {
		r := lab.NewRaw(t)
		r.S.SetFaults(stack.Faults{Seed: seed, Drop: 0.2, Duplicate: 0.2, Reorder: 0.2, Corrupt: 0.2})
		for i := 0; i < 200; i++ {
			r.Inject(t, echoRequest(lab.StackIP, 1, uint16(i), "payload"))
		}
		r.S.Perform()
		return r.S.Counters().Faults, len(r.Emitted())
	}
	f1, n1 := run(42)
	f2, n2 := run(42)
	assert.Equal(t, f1, f2, "same seed, same faults")
	assert.Equal(t, n1, n2)
	assert.NotZero(t, f1.Dropped)
	assert.NotZero(t, f1.Duplicated)
	assert.NotZero(t, f1.Reordered)
	assert.NotZero(t, f1.Corrupted)
	assert.Equal(t, 200-int(f1.Dropped)+int(f1.Duplicated), n1, "every reply but the dropped, plus the duplicates")
}

func TestKernelPingIsAnswered(t *testing.T) {
	k := lab.NewKernel(t, 7)
	a := lab.Attr(t, "local_ip", k.StackIP+"/24")
	port, err := dpdk.Probe(k.Device())
	require.NoError(t, err)
	s := lab.NewStack(t, port, a)
	ping := k.Command("ping", "-c", "5", "-i", "0.05", "-W", "1", k.StackIP)
	var out strings.Builder
	ping.Stdout, ping.Stderr = &out, &out
	require.NoError(t, ping.Start())
	done := make(chan error, 1)
	go func() { done <- ping.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.Perform()
		select {
		case err := <-done:
			require.NoError(t, err, "ping failed:\n%s", out.String())
			assert.Contains(t, out.String(), "5 received")
			assert.GreaterOrEqual(t, s.Counters().TxEchoReplies, uint64(5))
			assert.GreaterOrEqual(t, s.Counters().TxARPReplies, uint64(1), "the kernel resolved us by ARP")
			// And the other way: the stack resolves the kernel.
			kernel := netip.MustParseAddr(k.KernelIP).As4()
			for i := 0; i < 1_000_000; i++ {
				if _, ok := s.Resolve(kernel); ok {
					return
				}
				s.Perform()
			}
			t.Fatal("stack never resolved the kernel's MAC")
		default:
		}
		if time.Now().After(deadline) {
			ping.Process.Kill()
			t.Fatalf("ping did not finish: %s", out.String())
		}
	}
}

var _ = exec.Command
