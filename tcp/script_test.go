package tcp

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

// The packet-script context (gVisor's tcp test context, smoltcp's send!/recv!): a stack facing a
// raw port; the test injects a segment in one line and asserts the one the stack emits in
// another. The peer is lab.PeerIP:peerPort with a static ARP entry, so no ARP frame interferes.

const (
	peerPort  = 40000
	stackPort = 5000
)

// script is one test's context.
type script struct {
	t testing.TB
	r *lab.Raw
	s *state
}

func newScript(t testing.TB, kv ...string) *script {
	t.Helper()
	kv = append([]string{"arp_static", "198.18.0.9=02:00:00:00:00:ee"}, kv...)
	r := lab.NewRaw(t, kv...)
	sc := &script{t: t, r: r, s: stateOf(r.S)}
	t.Cleanup(func() {
		teardown(r.S)
		r.S.Perform()
		r.Drain()
	})
	return sc
}

// seg is a segment the peer sends.
type seg struct {
	flags   wire.TCPFlags
	seq     wire.Seq
	ack     wire.Seq
	wnd     uint16 // 0 means 65535 unless zeroWnd
	zeroWnd bool
	data    string
	mss     uint16
	opts    []byte // raw options (after MSS if any), padded to 4 bytes
	sport   uint16 // 0: peerPort
	dport   uint16 // 0: stackPort
	badSum  bool
}

// frame builds the peer's frame.
func (g seg) frame() []byte {
	sport, dport := g.sport, g.dport
	if sport == 0 {
		sport = peerPort
	}
	if dport == 0 {
		dport = stackPort
	}
	wnd := g.wnd
	if wnd == 0 && !g.zeroWnd {
		wnd = 65535
	}
	var opts []byte
	if g.mss != 0 {
		opts = append(opts, wire.TCPOptionMSS, 4, byte(g.mss>>8), byte(g.mss))
	}
	opts = append(opts, g.opts...)
	for len(opts)%4 != 0 {
		opts = append(opts, wire.TCPOptionNOP)
	}
	tl := 20 + len(opts) + len(g.data)
	b := make([]byte, 14+20+tl)
	wire.EthernetFields{Dst: lab.StackMAC, Src: lab.PeerMAC, Type: wire.EtherTypeIPv4}.Encode(b)
	wire.IPv4Fields{TotalLength: uint16(20 + tl), TTL: 64, Protocol: wire.ProtoTCP, Src: lab.PeerIP, Dst: lab.StackIP}.Encode(b[14:])
	t := wire.TCP(b[34:])
	wire.TCPFields{SrcPort: sport, DstPort: dport, Seq: g.seq, Ack: g.ack, Flags: g.flags, Window: wnd}.Encode(t)
	t[12] = uint8((20+len(opts))/4) << 4
	copy(t[20:], opts)
	copy(t[20+len(opts):], g.data)
	t.SetChecksum(t.ComputeChecksum(lab.PeerIP, lab.StackIP))
	if g.badSum {
		t.SetChecksum(t.Checksum() ^ 0x5555)
	}
	return b
}

// send injects a segment and performs the stack once.
func (sc *script) send(g seg) {
	sc.t.Helper()
	sc.r.Inject(sc.t, g.frame())
}

// out is an emitted segment.
type out struct {
	tcp  wire.TCP
	ip   wire.IPv4
	opts wire.TCPOptions
}

// emitted returns the TCP segments the stack sent since the last call (other frames fail).
func (sc *script) emitted() []out {
	sc.t.Helper()
	sc.r.S.Perform()
	var res []out
	for _, f := range sc.r.Emitted() {
		require.GreaterOrEqual(sc.t, len(f), 54)
		require.Equal(sc.t, uint16(wire.EtherTypeIPv4), wire.Ethernet(f).Type(), "not IPv4")
		ip := wire.IPv4(f[14:])
		require.NoError(sc.t, wire.CheckIPv4(ip))
		require.True(sc.t, ip.ChecksumValid())
		require.Equal(sc.t, uint8(wire.ProtoTCP), ip.Protocol())
		t := wire.TCP(ip.Payload())
		require.NoError(sc.t, wire.CheckTCP(t))
		require.True(sc.t, t.ChecksumValid(ip.Src(), ip.Dst()), "TCP checksum")
		o, err := wire.ParseTCPOptions(t.Options())
		require.NoError(sc.t, err)
		res = append(res, out{tcp: t, ip: ip, opts: o})
	}
	return res
}

// check asserts one property of an emitted segment (gVisor's checker.TCP options).
type check func(t testing.TB, o out)

func flags(f wire.TCPFlags) check {
	return func(t testing.TB, o out) {
		t.Helper()
		require.Equal(t, f.String(), o.tcp.Flags().String(), "flags")
	}
}
func seqNum(s wire.Seq) check {
	return func(t testing.TB, o out) { t.Helper(); require.Equal(t, s, o.tcp.Seq(), "seq") }
}
func ackNum(a wire.Seq) check {
	return func(t testing.TB, o out) { t.Helper(); require.Equal(t, a, o.tcp.Ack(), "ack") }
}
func window(w uint16) check {
	return func(t testing.TB, o out) { t.Helper(); require.Equal(t, w, o.tcp.Window(), "window") }
}
func payload(p string) check {
	return func(t testing.TB, o out) { t.Helper(); require.Equal(t, p, string(o.tcp.Payload()), "payload") }
}
func onlyMSS(m uint16) check {
	return func(t testing.TB, o out) {
		t.Helper()
		require.Equal(t, 24, o.tcp.DataOffset(), "only the MSS option")
		require.True(t, o.opts.HasMSS)
		require.Equal(t, m, o.opts.MSS, "mss")
	}
}
func mssOption(m uint16) check {
	return func(t testing.TB, o out) {
		t.Helper()
		require.True(t, o.opts.HasMSS)
		require.Equal(t, m, o.opts.MSS, "mss")
	}
}
func noOptions() check {
	return func(t testing.TB, o out) { t.Helper(); require.Equal(t, 20, o.tcp.DataOffset(), "no options") }
}

// expect asserts that exactly one segment was emitted and that it passes every check.
func (sc *script) expect(checks ...check) out {
	sc.t.Helper()
	segs := sc.emitted()
	require.Len(sc.t, segs, 1, "segments emitted: %s", describe(segs))
	for _, c := range checks {
		c(sc.t, segs[0])
	}
	return segs[0]
}

// expectNone asserts that nothing was emitted.
func (sc *script) expectNone() {
	sc.t.Helper()
	segs := sc.emitted()
	require.Empty(sc.t, segs, "segments emitted: %s", describe(segs))
}

func describe(segs []out) string {
	s := ""
	for _, o := range segs {
		s += fmt.Sprintf("%v seq=%d ack=%d win=%d len=%d; ", o.tcp.Flags(), o.tcp.Seq(), o.tcp.Ack(), o.tcp.Window(), len(o.tcp.Payload()))
	}
	return s
}

// Fixed ISNs for scripts: the stack's and the peer's.
const (
	stackISN = wire.Seq(1000)
	peerISN  = wire.Seq(50000)
)

// listen makes a listener on the stack with a fixed ISN.
func (sc *script) listen() *Listener {
	sc.t.Helper()
	sc.s.isnHook = func() wire.Seq { return stackISN }
	l, err := Listen(sc.r.S, netip.AddrPortFrom(netip.AddrFrom4(lab.StackIP), stackPort), nil)
	require.NoError(sc.t, err)
	return l
}

// accept runs a passive open from the peer and returns the accepted connection: SYN, SYN-ACK,
// ACK. Sequence numbers: the stack's next is stackISN+1, the peer's peerISN+1.
func (sc *script) accept(l *Listener) *Conn {
	sc.t.Helper()
	return sc.acceptFrom(l, peerPort)
}

// acceptFrom is accept with the peer's source port sport.
func (sc *script) acceptFrom(l *Listener, sport uint16) *Conn {
	sc.t.Helper()
	sc.send(seg{flags: wire.TCPFlagSyn, seq: peerISN, mss: 1460, sport: sport})
	sc.expect(flags(wire.TCPFlagSyn|wire.TCPFlagAck), seqNum(stackISN), ackNum(peerISN+1), onlyMSS(1460))
	sc.send(seg{flags: wire.TCPFlagAck, seq: peerISN + 1, ack: stackISN + 1, sport: sport})
	sc.expectNone()
	c, err := l.Accept()
	require.NoError(sc.t, err)
	require.Equal(sc.t, StateEstablished, c.State())
	return c
}

// established returns an accepted connection on a fresh listener.
func (sc *script) established() *Conn {
	sc.t.Helper()
	return sc.accept(sc.listen())
}

// connect runs an active open to the peer: SYN, SYN-ACK, ACK.
func (sc *script) connect() *Conn {
	sc.t.Helper()
	sc.s.isnHook = func() wire.Seq { return stackISN }
	h, err := NewHandle(sc.r.S, nil)
	require.NoError(sc.t, err)
	require.NoError(sc.t, h.Bind(netip.AddrPortFrom(netip.AddrFrom4(lab.StackIP), stackPort)))
	c, err := h.Connect(netip.AddrPortFrom(netip.AddrFrom4(lab.PeerIP), peerPort))
	require.NoError(sc.t, err)
	sc.expect(flags(wire.TCPFlagSyn), seqNum(stackISN), mssOption(1460))
	sc.send(seg{flags: wire.TCPFlagSyn | wire.TCPFlagAck, seq: peerISN, ack: stackISN + 1, mss: 1460})
	sc.expect(flags(wire.TCPFlagAck), seqNum(stackISN+1), ackNum(peerISN+1), noOptions())
	require.Equal(sc.t, StateEstablished, c.State())
	return c
}
