package tcp

import (
	"net/netip"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

const (
	fS  = wire.TCPFlagSyn
	fA  = wire.TCPFlagAck
	fF  = wire.TCPFlagFin
	fR  = wire.TCPFlagRst
	fP  = wire.TCPFlagPsh
	fSA = fS | fA
	fFA = fF | fA
	fRA = fR | fA
	fPA = fP | fA
)

// Scenario 1: an active open's SYN carries only the MSS option; ISNs differ per connection.
func TestScriptActiveOpen(t *testing.T) {
	sc := newScript(t)
	c := sc.connect()
	assert.Equal(t, 1460, c.mss)
	sc.s.isnHook = nil
	a := sc.s.isn([4]byte{1, 2, 3, 4}, 1, 2)
	b := sc.s.isn([4]byte{1, 2, 3, 4}, 1, 3)
	assert.NotEqual(t, a, b, "keyed hash over the 4-tuple")
}

// Scenario 2: with the options switched off (TCPDirect's bare headers), a SYN with window
// scale, timestamps, SACK-permitted and an unknown option gets a SYN-ACK with only the MSS
// option; a later timestamp option is ignored.
func TestScriptPassiveOpenIgnoresOptions(t *testing.T) {
	sc := newScript(t, "tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0")
	l := sc.listen()
	opts := []byte{
		wire.TCPOptionWindowScale, 3, 7,
		wire.TCPOptionSACKPermitted, 2,
		wire.TCPOptionTimestamps, 10, 0, 0, 0, 1, 0, 0, 0, 0,
		99, 4, 0xab, 0xcd, // unknown kind
	}
	sc.send(seg{flags: fS, seq: peerISN, mss: 1400, opts: opts})
	sc.expect(flags(fSA), seqNum(stackISN), ackNum(peerISN+1), onlyMSS(1460), window(uint16(min(rcvSlots(sc.s)*1460, 65535))))
	ts := []byte{wire.TCPOptionNOP, wire.TCPOptionNOP, wire.TCPOptionTimestamps, 10, 0, 0, 0, 2, 0, 0, 0, 1}
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1, opts: ts})
	c, err := l.Accept()
	require.NoError(t, err)
	assert.Equal(t, 1400, c.mss, "the peer's MSS, under ours")
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, opts: ts, data: "ts"})
	buf := make([]byte, 8)
	n, err := c.Recv([][]byte{buf})
	require.NoError(t, err)
	assert.Equal(t, "ts", string(buf[:n]))
}

// Scenario 22: MSS rules.
func TestScriptMSS(t *testing.T) {
	for _, tc := range []struct {
		name string
		mss  uint16
		none bool
		want int
	}{
		{"missing", 0, true, 536},
		{"zero ignored", 0, false, 536},
		{"tiny clamped", 10, false, 48},
		{"above the MTU", 9000, false, 1460},
		{"normal", 1200, false, 1200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			l := sc.listen()
			g := seg{flags: fS, seq: peerISN, mss: tc.mss}
			if !tc.none && tc.mss == 0 {
				g.opts = []byte{wire.TCPOptionMSS, 4, 0, 0}
			}
			sc.send(g)
			sc.expect(flags(fSA), onlyMSS(1460))
			sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1})
			c, err := l.Accept()
			require.NoError(t, err)
			mss, err := c.MSS()
			require.NoError(t, err)
			assert.Equal(t, tc.want, mss)
			// No segment exceeds it.
			_, err = c.SendSingle(make([]byte, 3000), 0)
			require.NoError(t, err)
			for _, o := range sc.emitted() {
				assert.LessOrEqual(t, len(o.tcp.Payload()), tc.want)
			}
		})
	}
}

// Scenario 25: a closed port answers a SYN with RST/ACK SEQ=0, a stray ACK with RST
// SEQ=SEG.ACK; a RST, SYN+FIN, SYN+RST and a segment without flags get nothing; nor does a
// bad checksum.
func TestScriptClosedPort(t *testing.T) {
	sc := newScript(t)
	sc.listen() // TCP installed; port 5001 is closed
	sc.send(seg{flags: fS, seq: 777, dport: 5001})
	sc.expect(flags(fRA), seqNum(0), ackNum(778))
	sc.send(seg{flags: fA, seq: 777, ack: 4242, dport: 5001})
	sc.expect(flags(fR), seqNum(4242))
	sc.send(seg{flags: fPA, seq: 777, ack: 4242, data: "abc", dport: 5001})
	sc.expect(flags(fR), seqNum(4242))
	sc.send(seg{flags: fS | fF, seq: 777, dport: 5001, data: "x"})
	sc.send(seg{flags: fFA, seq: 777, ack: 1, dport: 5001})
	sc.expect(flags(fR), seqNum(1))
	for _, g := range []seg{
		{flags: fR, seq: 777, dport: 5001},
		{flags: fRA, seq: 777, ack: 3, dport: 5001},
		{flags: fS | fF, seq: 777, dport: stackPort},
		{flags: fS | fR, seq: 777, dport: stackPort},
		{flags: 0, seq: 777, dport: stackPort},
		{flags: fS, seq: 777, dport: stackPort, badSum: true},
	} {
		sc.send(g)
		sc.expectNone()
	}
	cnt := StackCounters(sc.r.S)
	assert.Equal(t, uint64(4), cnt.Drops[DropFlags])
	assert.Equal(t, uint64(1), cnt.Drops[DropChecksum])
	// LISTEN: a stray ACK gets a RST; a RST nothing.
	sc.send(seg{flags: fA, seq: 1, ack: 99})
	sc.expect(flags(fR), seqNum(99))
	sc.send(seg{flags: fR, seq: 1})
	sc.expectNone()
}

// Scenario 8: in SYN-SENT a RST counts only if it acknowledges our SYN; a SYN-ACK with a bad
// ACK gets a RST.
func TestScriptSynSentReset(t *testing.T) {
	sc := newScript(t)
	sc.s.isnHook = func() wire.Seq { return stackISN }
	h, err := NewHandle(sc.r.S, nil)
	require.NoError(t, err)
	require.NoError(t, h.Bind(netip.AddrPortFrom(netip.AddrFrom4(lab.StackIP), stackPort)))
	c, err := h.Connect(netip.AddrPortFrom(netip.AddrFrom4(lab.PeerIP), peerPort))
	require.NoError(t, err)
	sc.expect(flags(fS), seqNum(stackISN), mssOption(1460), window(uint16(min(c.slots*1460, 65535))))
	sc.send(seg{flags: fSA, seq: peerISN, ack: stackISN + 7})
	sc.expect(flags(fR), seqNum(stackISN+7))
	sc.send(seg{flags: fRA, seq: peerISN, ack: stackISN + 7})
	sc.expectNone()
	sc.send(seg{flags: fR, seq: peerISN})
	sc.expectNone()
	assert.Equal(t, StateSynSent, c.State())
	sc.send(seg{flags: fRA, seq: 0, ack: stackISN + 1})
	sc.expectNone()
	assert.Equal(t, StateClose, c.State())
	assert.Equal(t, syscall.ECONNREFUSED, c.Err())
	c.Close()
	// The port is free again.
	h, err = NewHandle(sc.r.S, nil)
	require.NoError(t, err)
	require.NoError(t, h.Bind(netip.AddrPortFrom(netip.AddrFrom4(lab.StackIP), stackPort)))
	h.Close()
}

// Scenario 9: a RST in SYN-RECEIVED ends the passive open; the listener goes on listening.
func TestScriptSynRecvReset(t *testing.T) {
	sc := newScript(t)
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 1460})
	sc.expect(flags(fSA))
	assert.Equal(t, 1, l.halfOpen)
	sc.send(seg{flags: fR, seq: peerISN + 1})
	sc.expectNone()
	assert.Equal(t, 0, l.halfOpen)
	assert.Zero(t, sc.s.conns.n)
	_, err := l.Accept()
	assert.Equal(t, syscall.EAGAIN, err)
	c := sc.accept(l)
	assert.Equal(t, StateEstablished, c.State())
}

// Scenario 4: the handshake's last ACK is lost; the SYN-ACK is retransmitted; a data-bearing
// ACK completes the handshake and its data is kept.
func TestScriptLostFinalAck(t *testing.T) {
	sc := newScript(t)
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 1460})
	sc.expect(flags(fSA))
	sc.r.Clock.Advance(1000 * ms)
	sc.expect(flags(fSA), seqNum(stackISN), ackNum(peerISN+1))
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, data: "hello"})
	c, err := l.Accept()
	require.NoError(t, err)
	buf := make([]byte, 8)
	n, err := c.Recv([][]byte{buf})
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:n]))
}

// SYN-ACKs are retransmitted tcp_synack_retries times with backoff, then the half-open
// connection is dropped silently.
func TestScriptSynAckRetries(t *testing.T) {
	sc := newScript(t, "tcp_synack_retries", "2")
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 1460})
	sc.expect(flags(fSA))
	for _, wait := range []int64{1000, 2000} {
		sc.r.Clock.Advance(wait*ms - 1)
		sc.expectNone()
		sc.r.Clock.Advance(1)
		sc.expect(flags(fSA), seqNum(stackISN))
	}
	sc.r.Clock.Advance(4000 * ms)
	sc.expectNone()
	assert.Zero(t, l.halfOpen)
	assert.Zero(t, sc.s.conns.n)
}

// Scenario 3 (SYN side): SYNs are retransmitted tcp_syn_retries times with doubling RTO, then
// the connection fails with ETIMEDOUT.
func TestScriptSynRetriesTimeout(t *testing.T) {
	sc := newScript(t, "tcp_syn_retries", "3")
	sc.s.isnHook = func() wire.Seq { return stackISN }
	h, err := NewHandle(sc.r.S, nil)
	require.NoError(t, err)
	c, err := h.Connect(netip.AddrPortFrom(netip.AddrFrom4(lab.PeerIP), peerPort))
	require.NoError(t, err)
	sc.expect(flags(fS), seqNum(stackISN))
	for _, wait := range []int64{1000, 2000, 4000} {
		sc.r.Clock.Advance(wait*ms - 1)
		sc.expectNone()
		sc.r.Clock.Advance(1)
		sc.expect(flags(fS), seqNum(stackISN))
	}
	sc.r.Clock.Advance(8000 * ms)
	sc.expectNone()
	assert.Equal(t, StateClose, c.State())
	assert.Equal(t, syscall.ETIMEDOUT, c.Err())
	buf := make([]byte, 4)
	_, err = c.Recv([][]byte{buf})
	assert.Equal(t, syscall.ETIMEDOUT, err)
	c.Close()
}

// A next hop that never answers ARP fails the connect with EHOSTUNREACH.
func TestScriptHostUnreachable(t *testing.T) {
	sc := newScript(t)
	h, err := NewHandle(sc.r.S, nil)
	require.NoError(t, err)
	c, err := h.Connect(netip.MustParseAddrPort("198.18.0.77:80"))
	require.NoError(t, err)
	for i := 0; i < 20 && c.State() == StateSynSent; i++ {
		sc.r.Clock.Advance(100 * ms)
		sc.r.S.Perform()
	}
	sc.r.Drain()
	assert.Equal(t, syscall.EHOSTUNREACH, c.Err())
	c.Close()
	// Off-subnet without a gateway: refused at once.
	h, err = NewHandle(sc.r.S, nil)
	require.NoError(t, err)
	_, err = h.Connect(netip.MustParseAddrPort("203.0.113.1:80"))
	assert.ErrorIs(t, err, syscall.EHOSTUNREACH)
	h.Close()
}

// Scenario 10: RST in a synchronized state: exactly RCV.NXT aborts, elsewhere in the window a
// challenge ACK, outside it nothing.
func TestScriptResetRules(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	sc.send(seg{flags: fR, seq: peerISN + 1 + 100})
	sc.expect(flags(fA), seqNum(stackISN+1), ackNum(peerISN+1))
	sc.send(seg{flags: fR, seq: peerISN + 1 + 100000})
	sc.expectNone()
	sc.send(seg{flags: fR, seq: peerISN})
	sc.expectNone()
	assert.Equal(t, StateEstablished, c.State())
	sc.send(seg{flags: fR, seq: peerISN + 1})
	sc.expectNone()
	assert.Equal(t, StateClose, c.State())
	assert.Equal(t, syscall.ECONNRESET, c.Err())
	n, err := c.ZcRecvDone(NewMsg(1))
	assert.Zero(t, n)
	assert.Equal(t, syscall.ECONNRESET, err)
	_, err = c.SendSingle([]byte("x"), 0)
	assert.Equal(t, syscall.ENOTCONN, err)
	c.Close()
}

// Scenario 12: a SYN in ESTABLISHED gets a challenge ACK and the connection survives; challenge
// ACKs are rate-limited.
func TestScriptSynChallenge(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	sc.send(seg{flags: fS, seq: peerISN + 500})
	sc.expect(flags(fA), seqNum(stackISN+1), ackNum(peerISN+1))
	assert.Equal(t, StateEstablished, c.State())
	for i := 0; i < 100; i++ {
		sc.send(seg{flags: fS, seq: peerISN + 500})
		sc.expectNone()
	}
	cnt := StackCounters(sc.r.S)
	assert.Equal(t, uint64(1), cnt.ChallengeACKs)
	assert.Equal(t, uint64(100), cnt.ChallengeLimited)
	sc.r.Clock.Advance(500 * ms) // tcp_invalid_ratelimit_ms
	sc.send(seg{flags: fS, seq: peerISN + 500})
	sc.expect(flags(fA))
}

// Scenario 13: an ACK for data not yet sent is answered and dropped; a too-old ACK is dropped.
func TestScriptAckValidation(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	_, err := c.SendSingle([]byte("abcd"), 0)
	require.NoError(t, err)
	sc.expect(flags(fPA), seqNum(stackISN+1), payload("abcd"))
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 100, data: "zz"})
	sc.expect(flags(fA), seqNum(stackISN+5), ackNum(peerISN+1))
	assert.Equal(t, 0, int(c.rqTail-c.rqHead), "its data dropped too")
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN.Add(^uint32(199999))})
	sc.expectNone()
	assert.Equal(t, stackISN+1, c.sndUna)
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 5})
	sc.expectNone()
	assert.Equal(t, stackISN+5, c.sndUna)
	assert.Zero(t, c.sqTail-c.sqHead, "acknowledged segment freed")
}

// Scenario 14: acceptability incl. zero window, trimming at both edges, old duplicates ACKed.
func TestScriptAcceptability(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	w := uint16(c.rcvWindow())
	// Old duplicate: ACKed, dropped.
	sc.send(seg{flags: fPA, seq: peerISN - 10, ack: stackISN + 1, data: "old"})
	sc.expect(flags(fA), ackNum(peerISN+1), window(w))
	// Overlapping the left edge: the new part is kept.
	sc.send(seg{flags: fPA, seq: peerISN - 1, ack: stackISN + 1, data: "xxab"})
	sc.r.Clock.Advance(50 * ms) // delayed ACK
	sc.expect(flags(fA), ackNum(peerISN+3))
	// Beyond the right edge: trimmed to the window, and the peer told at once.
	seq := peerISN + 3
	left := int(w) - 2 // the window's edge did not move back when "ab" arrived
	full := string(make([]byte, 1460))
	for left > 1460 {
		sc.send(seg{flags: fPA, seq: seq, ack: stackISN + 1, data: full})
		seq += 1460
		left -= 1460
	}
	sc.emitted()
	edge := c.rcvAdv // the right edge last advertised
	left = int(seq.Size(edge))
	sc.send(seg{flags: fPA, seq: seq, ack: stackISN + 1, data: string(make([]byte, left+100))})
	sc.expect(flags(fA), ackNum(edge), window(0))
	// Zero window: data refused with an ACK, a bare ACK still processed.
	sc.send(seg{flags: fPA, seq: edge, ack: stackISN + 1, data: "no"})
	sc.expect(flags(fA), ackNum(edge), window(0))
	sc.send(seg{flags: fA, seq: edge, ack: stackISN + 1, wnd: 1234})
	sc.expectNone()
	assert.Equal(t, uint32(1234), c.sndWnd)
	msg := NewMsg(64)
	c.ZcRecv(msg)
	total := 0
	for _, b := range msg.Iov {
		total += len(b)
	}
	assert.Equal(t, int(peerISN.Add(1).Size(edge)), total)
	assert.Equal(t, "ab", string(msg.Iov[0][:2]))
	c.ZcRecvDone(msg)
	sc.expect(flags(fA), window(uint16(min(c.slots*1460, 65535))), ackNum(edge))
}

// Scenario 15 (part): out-of-order segments get immediate duplicate ACKs, are kept, and are
// delivered once the hole fills, with overlaps resolved.
func TestScriptOutOfOrder(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	base := peerISN + 1
	sc.send(seg{flags: fPA, seq: base + 6, ack: stackISN + 1, data: "ghij"})
	sc.expect(flags(fA), ackNum(base))
	sc.send(seg{flags: fPA, seq: base + 3, ack: stackISN + 1, data: "defgh"})
	sc.expect(flags(fA), ackNum(base))
	sc.send(seg{flags: fPA | fF, seq: base + 10, ack: stackISN + 1, data: "kl"})
	sc.expect(flags(fA), ackNum(base))
	sc.send(seg{flags: fPA, seq: base, ack: stackISN + 1, data: "abcd"})
	sc.expect(flags(fA), ackNum(base+13))
	assert.Equal(t, StateCloseWait, c.State())
	buf := make([]byte, 32)
	n, err := c.Recv([][]byte{buf})
	require.NoError(t, err)
	assert.Equal(t, "abcdefghijkl", string(buf[:n]))
	n, err = c.Recv([][]byte{buf})
	assert.NoError(t, err)
	assert.Zero(t, n)
}

// Scenario 11 and 24: TIME-WAIT ignores RST, answers a retransmitted FIN, and yields to a new
// SYN above RCV.NXT; it ends after tcp_timewait_ms.
func TestScriptTimeWait(t *testing.T) {
	sc := newScript(t, "tcp_timewait_ms", "1000")
	l := sc.listen()
	c := sc.accept(l)
	require.NoError(t, c.ShutdownTx())
	sc.expect(flags(fFA), seqNum(stackISN+1))
	sc.send(seg{flags: fFA, seq: peerISN + 1, ack: stackISN + 2})
	sc.expect(flags(fA), ackNum(peerISN+2))
	require.Equal(t, StateTimeWait, c.State())
	sc.send(seg{flags: fR, seq: peerISN + 2})
	sc.expectNone()
	assert.Equal(t, StateTimeWait, c.State(), "RFC 1337")
	sc.send(seg{flags: fFA, seq: peerISN + 1, ack: stackISN + 2})
	sc.expect(flags(fA), ackNum(peerISN+2))
	sc.r.Clock.Advance(999 * ms)
	sc.r.S.Perform()
	assert.Equal(t, StateTimeWait, c.State())
	// A new SYN above RCV.NXT reopens through the listener.
	sc.s.isnHook = func() wire.Seq { return stackISN + 5000 }
	sc.send(seg{flags: fS, seq: peerISN + 100000, mss: 1460})
	sc.expect(flags(fSA), seqNum(stackISN+5000), ackNum(peerISN+100001))
	assert.Equal(t, StateClose, c.State())
	c.Close()
}

// Scenario 7: FIN-WAIT-2 ends after tcp_finwait_ms once the application closed.
func TestScriptFinWait2Timeout(t *testing.T) {
	sc := newScript(t, "tcp_finwait_ms", "500")
	c := sc.established()
	require.NoError(t, c.Close())
	sc.expect(flags(fFA), seqNum(stackISN+1))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 2})
	sc.expectNone()
	assert.Equal(t, StateFinWait2, c.state)
	assert.Equal(t, 1, sc.s.nconns)
	sc.r.Clock.Advance(500 * ms)
	sc.expectNone()
	assert.Zero(t, sc.s.nconns, "freed")
	assert.Zero(t, sc.s.conns.n)
}

// Closing with unread data resets the connection (as Linux does); data arriving after Close
// resets it too.
func TestScriptCloseResets(t *testing.T) {
	sc := newScript(t)
	l := sc.listen()
	c := sc.accept(l)
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, data: "unread"})
	sc.r.Clock.Advance(50 * ms)
	sc.expect(flags(fA))
	c.Close()
	sc.expect(flags(fRA), seqNum(stackISN+1))
	assert.Equal(t, 0, sc.s.nconns)

	c = sc.accept(l)
	c.Close()
	sc.expect(flags(fFA))
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 2, data: "late"})
	sc.expect(flags(fRA))
	assert.Zero(t, sc.s.nconns)
}

// Closing a listener resets the connections not yet accepted, half-open or established.
func TestScriptListenerCloseResetsPending(t *testing.T) {
	sc := newScript(t)
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 1460})
	sc.expect(flags(fSA))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1})
	sc.send(seg{flags: fS, seq: 9000, mss: 1460, sport: peerPort + 1})
	sc.expect(flags(fSA))
	require.NoError(t, l.Close())
	segs := sc.emitted()
	require.Len(t, segs, 2)
	for _, o := range segs {
		assert.Equal(t, fRA.String(), o.tcp.Flags().String())
	}
	assert.Zero(t, sc.s.nconns)
	// The port is free again.
	l2 := sc.listen()
	l2.Close()
}

// Scenario 23: a SYN flood fills max_tcp_syn_backlog; more SYNs are answered with SYN cookies,
// without state or buffers kept; half-open entries expire and a legitimate connection succeeds
// afterwards.
func TestScriptSynBacklog(t *testing.T) {
	sc := newScript(t, "max_tcp_syn_backlog", "4", "tcp_synack_retries", "1")
	l := sc.listen()
	sc.send(seg{flags: fS, seq: 1, sport: 999, mss: 1460})
	sc.expect(flags(fSA))
	inUse := sc.r.S.Pool().InUse()
	for i := 0; i < 19; i++ {
		sc.send(seg{flags: fS, seq: wire.Seq(i * 1000), sport: uint16(1000 + i), mss: 1460})
		sc.expect(flags(fSA), ackNum(wire.Seq(i*1000+1)))
	}
	// 20 SYNs, a backlog of 4: 16 cookies.
	assert.Equal(t, uint64(16), StackCounters(sc.r.S).SynCookiesSent)
	assert.Zero(t, StackCounters(sc.r.S).Drops[DropBacklog])
	assert.Equal(t, 4, l.halfOpen)
	sc.r.Clock.Advance(1)
	assert.LessOrEqual(t, sc.r.S.Pool().InUse(), inUse+8)
	sc.r.Clock.Advance(1000 * ms)
	assert.Len(t, sc.emitted(), 4, "one retransmission each")
	sc.r.Clock.Advance(2000 * ms)
	sc.expectNone()
	assert.Zero(t, l.halfOpen)
	c := sc.accept(l)
	assert.Equal(t, StateEstablished, c.State())
}

// State × (FIN, RST, SYN): what each state does with each, where this issue defines it.
func TestScriptStateTable(t *testing.T) {
	type setup func(sc *script) *Conn
	establishedS := func(sc *script) *Conn { return sc.established() }
	finWait1 := func(sc *script) *Conn {
		c := sc.established()
		require.NoError(sc.t, c.ShutdownTx())
		sc.expect(flags(fFA))
		return c
	}
	finWait2 := func(sc *script) *Conn {
		c := finWait1(sc)
		sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 2})
		sc.expectNone()
		return c
	}
	closeWait := func(sc *script) *Conn {
		c := sc.established()
		sc.send(seg{flags: fFA, seq: peerISN + 1, ack: stackISN + 1})
		sc.expect(flags(fA), ackNum(peerISN+2))
		return c
	}
	lastAck := func(sc *script) *Conn {
		c := closeWait(sc)
		require.NoError(sc.t, c.ShutdownTx())
		sc.expect(flags(fFA))
		return c
	}
	closing := func(sc *script) *Conn {
		c := finWait1(sc)
		sc.send(seg{flags: fFA, seq: peerISN + 1, ack: stackISN + 1})
		sc.expect(flags(fA), ackNum(peerISN+2))
		return c
	}
	// After FIN states the peer's next sequence number is peerISN+2.
	tests := []struct {
		name  string
		setup setup
		state State
		next  wire.Seq // peer's RCV.NXT as the stack sees it
		fin   State    // state after the peer's FIN (0: FIN not applicable, a duplicate)
		rst   State
		rstE  error
	}{
		{"ESTABLISHED", establishedS, StateEstablished, peerISN + 1, StateCloseWait, StateClose, syscall.ECONNRESET},
		{"FIN_WAIT1", finWait1, StateFinWait1, peerISN + 1, StateClosing, StateClose, syscall.ECONNRESET},
		{"FIN_WAIT2", finWait2, StateFinWait2, peerISN + 1, StateTimeWait, StateClose, syscall.ECONNRESET},
		{"CLOSE_WAIT", closeWait, StateCloseWait, peerISN + 2, StateCloseWait, StateClose, syscall.EPIPE},
		{"LAST_ACK", lastAck, StateLastAck, peerISN + 2, StateLastAck, StateClose, nil},
		{"CLOSING", closing, StateClosing, peerISN + 2, StateClosing, StateClose, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/FIN", func(t *testing.T) {
			sc := newScript(t)
			c := tc.setup(sc)
			require.Equal(t, tc.state, c.State())
			if tc.next == peerISN+2 {
				sc.send(seg{flags: fFA, seq: peerISN + 1, ack: c.sndUna})
			} else {
				sc.send(seg{flags: fFA, seq: tc.next, ack: c.sndUna})
			}
			if tc.fin == tc.state && tc.next == peerISN+2 {
				// A duplicate FIN: old, answered with an ACK.
				sc.expect(flags(fA), ackNum(peerISN+2))
			} else {
				sc.expect(flags(fA), ackNum(tc.next+1))
			}
			assert.Equal(t, tc.fin, c.State())
		})
		t.Run(tc.name+"/RST", func(t *testing.T) {
			sc := newScript(t)
			c := tc.setup(sc)
			sc.send(seg{flags: fR, seq: tc.next})
			sc.expectNone()
			assert.Equal(t, tc.rst, c.State())
			if tc.rstE == nil {
				assert.NoError(t, c.Err())
			} else {
				assert.Equal(t, tc.rstE, c.Err())
			}
		})
		t.Run(tc.name+"/SYN", func(t *testing.T) {
			sc := newScript(t)
			c := tc.setup(sc)
			sc.send(seg{flags: fS, seq: tc.next + 10})
			sc.expect(flags(fA), ackNum(tc.next))
			assert.Equal(t, tc.state, c.State(), "challenge ACK, the connection stays")
		})
	}
}

// Scenario 26 (SYN-SENT part): an ICMP destination unreachable quoting our SYN aborts the
// connect (port unreachable: ECONNREFUSED; host unreachable: EHOSTUNREACH); one quoting another
// sequence number is ignored (RFC 5927).
func TestScriptICMPUnreachable(t *testing.T) {
	for _, tc := range []struct {
		code uint8
		want syscall.Errno
	}{{wire.ICMPPortUnreachable, syscall.ECONNREFUSED}, {wire.ICMPHostUnreachable, syscall.EHOSTUNREACH}} {
		sc := newScript(t)
		sc.s.isnHook = func() wire.Seq { return stackISN }
		h, err := NewHandle(sc.r.S, nil)
		require.NoError(t, err)
		c, err := h.Connect(netip.AddrPortFrom(netip.AddrFrom4(lab.PeerIP), peerPort))
		require.NoError(t, err)
		syn := sc.expect(flags(fS))
		sc.r.Inject(t, icmpError(syn.ip, wire.ICMPDestUnreachable, tc.code, stackISN+99, 0))
		assert.Equal(t, StateSynSent, c.State(), "wrong sequence number: ignored")
		sc.r.Inject(t, icmpError(syn.ip, wire.ICMPDestUnreachable, tc.code, stackISN, 0))
		assert.Equal(t, StateClose, c.State())
		assert.Equal(t, tc.want, c.Err())
		c.Close()
	}
}

// Scenario 3 (RTO part): after a SYN was retransmitted the connection starts with RTO = 3 s
// (RFC 6298 §5.7).
func TestScriptRTOAfterSynLoss(t *testing.T) {
	sc := newScript(t)
	sc.s.isnHook = func() wire.Seq { return stackISN }
	h, err := NewHandle(sc.r.S, nil)
	require.NoError(t, err)
	c, err := h.Connect(netip.AddrPortFrom(netip.AddrFrom4(lab.PeerIP), peerPort))
	require.NoError(t, err)
	sc.expect(flags(fS))
	sc.r.Clock.Advance(1000 * ms)
	sc.expect(flags(fS), seqNum(stackISN))
	sc.send(seg{flags: fSA, seq: peerISN, ack: stackISN + 1, mss: 1460, dport: c.lport})
	sc.expect(flags(fA))
	assert.Equal(t, int64(synLossRTO), c.rto)
}
