package tcp

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Loss recovery, per state, with explicit time (scenarios 16–20 of the test plan): the stack
// faces a raw peer that acknowledges (or does not) exactly as each rule requires.

// pattern returns n bytes of a repeating alphabet, so that a segment's payload names its offset.
func pattern(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('a' + i%26))
	}
	return b.String()
}

// Scenario 16: fast retransmit on the third duplicate ACK and none at two; NewReno: inflation
// per further duplicate, a partial ACK retransmits the next hole and deflates, a full ACK ends
// the recovery (RFC 5681 §3.2, RFC 6582 §3.2); slow start and congestion avoidance growth.
func TestScriptFastRetransmitNewReno(t *testing.T) {
	sc := newScript(t, "tcp_congestion", "newreno")
	c := sc.established()
	const mss = 1460
	iss := stackISN + 1
	data := pattern(12 * mss)
	n, err := c.SendSingle([]byte(data), 0)
	require.NoError(t, err)
	require.Equal(t, len(data), n)
	segs := sc.emitted()
	require.Len(t, segs, 10, "initial cwnd = 10 segments (RFC 6928): %s", describe(segs))
	for i, o := range segs {
		require.Equal(t, iss.Add(uint32(i*mss)), o.tcp.Seq())
		require.Len(t, o.tcp.Payload(), mss)
	}
	assert.Equal(t, uint32(10*mss), c.cwnd)

	// Slow start: one ACK for one segment opens cwnd by one segment; two more leave.
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss.Add(mss)})
	segs = sc.emitted()
	require.Len(t, segs, 2, describe(segs))
	assert.Equal(t, iss.Add(10*mss), segs[0].tcp.Seq())
	assert.Equal(t, uint32(11*mss), c.cwnd)
	flight := uint32(11 * mss)
	require.Equal(t, flight, c.sndUna.Size(c.sndMax))

	// Segment 2 (iss+mss) is lost: two duplicate ACKs do nothing.
	dup := seg{flags: fA, seq: peerISN + 1, ack: iss.Add(mss)}
	sc.send(dup)
	sc.expectNone()
	sc.send(dup)
	sc.expectNone()
	assert.False(t, c.inRecovery)
	// The third: fast retransmit of the hole, ssthresh = FlightSize/2, cwnd = ssthresh + 3 MSS.
	sc.send(dup)
	sc.expect(flags(fPA), seqNum(iss.Add(mss)), payload(data[mss:2*mss]))
	assert.True(t, c.inRecovery)
	assert.Equal(t, flight/2, c.ssthresh)
	assert.Equal(t, flight/2+3*mss, c.cwnd)
	assert.Equal(t, c.sndMax, c.recover)
	// Each further duplicate inflates cwnd by one MSS (nothing new to send here).
	sc.send(dup)
	sc.expectNone()
	assert.Equal(t, flight/2+4*mss, c.cwnd)

	// Partial ACK (covers the retransmission and one more, not recover): the next hole goes at
	// once, cwnd deflates by what was acknowledged and gains one MSS back.
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss.Add(3 * mss)})
	sc.expect(flags(fPA), seqNum(iss.Add(3*mss)), payload(data[3*mss:4*mss]))
	assert.True(t, c.inRecovery)
	assert.Equal(t, flight/2+4*mss-2*mss+mss, c.cwnd)

	// Full ACK: recovery ends; cwnd = min(ssthresh, FlightSize + MSS).
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndMax})
	sc.expectNone()
	assert.False(t, c.inRecovery)
	assert.Equal(t, c.ssthresh, c.cwnd, "deflated to ssthresh")

	// Congestion avoidance (cwnd ≥ ssthresh after growth): about one MSS per RTT, once the
	// flight fills cwnd (RFC 7661).
	c.cwnd = c.ssthresh
	before := c.cwnd
	_, err = c.SendSingle([]byte(pattern(int(before/mss+1)*mss)), 0)
	require.NoError(t, err)
	require.Len(t, sc.emitted(), int(before/mss))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndMax})
	assert.Equal(t, before+mss*mss/before, c.cwnd)

	cnt := StackCounters(sc.r.S)
	assert.Equal(t, uint64(1), cnt.FastRetransmits)
	assert.Equal(t, uint64(1), cnt.PartialACKs)
	assert.Equal(t, uint64(4), cnt.DupACKs)
	assert.Equal(t, uint64(2), cnt.Retransmits)
	assert.Zero(t, cnt.RTOs)
}

// Scenario 16 (edge): duplicate ACKs that carry data, change the window, or arrive with
// nothing in flight are not duplicates; after an RTO, duplicates for data sent before it do
// not start a fast retransmit (RFC 6582 §4.1).
func TestScriptDupAckRules(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	iss := stackISN + 1
	_, err := c.SendSingle([]byte(pattern(4*1460)), 0)
	require.NoError(t, err)
	require.Len(t, sc.emitted(), 4)
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss, wnd: 60000})
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss, wnd: 50000})
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: iss, wnd: 50000, data: "x"})
	sc.emitted()
	assert.Zero(t, c.dupAcks, "window changes and data are not duplicates")
	// RTO: go-back-N, cwnd one segment.
	sc.r.Clock.Advance(c.rto)
	segs := sc.emitted() // the delayed ACK for "x", then the retransmission
	require.Len(t, segs, 2, describe(segs))
	assert.Equal(t, iss, segs[1].tcp.Seq())
	assert.Len(t, segs[1].tcp.Payload(), 1460)
	assert.Equal(t, uint32(1460), c.cwnd)
	for range 3 {
		sc.send(seg{flags: fA, seq: peerISN + 2, ack: iss, wnd: 50000})
	}
	sc.expectNone()
	assert.False(t, c.inRecovery, "no fast retransmit for data sent before the RTO")
	assert.Zero(t, StackCounters(sc.r.S).FastRetransmits)
}

// Scenario 17: RTO per RFC 6298: 1 s before any sample, doubling per timeout, Karn's rule (no
// sample from retransmitted data), SRTT/RTTVAR with α = 1/8, β = 1/4, K = 4, the
// tcp_rto_min_ms floor and tcp_rto_max_ms ceiling, cwnd = 1 SMSS and ssthresh after a timeout.
func TestScriptRTO(t *testing.T) {
	sc := newScript(t, "tcp_rto_min_ms", "200", "tcp_rto_max_ms", "3000")
	c := sc.established()
	iss := stackISN + 1
	_, err := c.SendSingle([]byte("first"), 0)
	require.NoError(t, err)
	sc.expect(flags(fPA), seqNum(iss), payload("first"))
	assert.Equal(t, int64(initialRTO), c.rto)
	sc.r.Clock.Advance(999 * ms)
	sc.expectNone()
	sc.r.Clock.Advance(1 * ms)
	sc.expect(flags(fPA), seqNum(iss), payload("first"))
	assert.Equal(t, 2000*ms, c.rto, "doubled")
	assert.Equal(t, uint32(1460), c.cwnd, "cwnd = 1 SMSS")
	assert.Equal(t, uint32(2*1460), c.ssthresh, "max(FlightSize/2, 2 SMSS)")
	sc.r.Clock.Advance(2000 * ms)
	sc.expect(flags(fPA), seqNum(iss))
	assert.Equal(t, 3000*ms, c.rto, "clamped to tcp_rto_max_ms")
	sc.r.Clock.Advance(3000 * ms)
	sc.expect(flags(fPA), seqNum(iss))
	// Karn: the ACK of retransmitted data gives no sample; the backed-off RTO stays.
	sc.r.Clock.Advance(10 * ms)
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 5})
	assert.Zero(t, c.srtt)
	assert.Equal(t, 3000*ms, c.rto)
	assert.False(t, c.rtxT.Armed() && c.rtxAt != 0, "nothing in flight, no timer")

	// First sample R = 50 ms: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR = 250 ms.
	_, err = c.SendSingle([]byte("second"), 0)
	require.NoError(t, err)
	sc.expect(flags(fPA), seqNum(iss+5))
	sc.r.Clock.Advance(50 * ms)
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 11})
	assert.Equal(t, 50*ms, c.srtt)
	assert.Equal(t, 25*ms, c.rttvar)
	assert.Equal(t, 150*ms+c.srtt, c.rto)
	// Second sample R' = 10 ms: RTTVAR = 3/4·25 + 1/4·40 = 28.75 ms, SRTT = 7/8·50 + 1/8·10 =
	// 45 ms, RTO = 45 + 115 = 160 ms → the 200 ms floor.
	_, err = c.SendSingle([]byte("third"), 0)
	require.NoError(t, err)
	sc.expect(flags(fPA))
	sc.r.Clock.Advance(10 * ms)
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 16})
	assert.Equal(t, 28750*int64(1000), c.rttvar)
	assert.Equal(t, 45*ms, c.srtt)
	assert.Equal(t, 200*ms, c.rto, "tcp_rto_min_ms")
	// The timer now fires at the floor.
	_, err = c.SendSingle([]byte("fourth"), 0)
	require.NoError(t, err)
	sc.expect(flags(fPA))
	sc.r.Clock.Advance(199 * ms)
	sc.expectNone()
	sc.r.Clock.Advance(1 * ms)
	sc.expect(flags(fPA), seqNum(iss+16), payload("fourth"))
	cnt := StackCounters(sc.r.S)
	assert.Equal(t, uint64(4), cnt.RTOs)
	assert.Equal(t, uint64(4), cnt.Retransmits)
}

// Scenario 18: tcp_retries retransmissions unanswered: a RST, ETIMEDOUT for the application
// (readable as an error), the send queue freed, the endpoint released at Close.
func TestScriptRetriesExhausted(t *testing.T) {
	sc := newScript(t, "tcp_retries", "3", "tcp_rto_max_ms", "120000")
	c := sc.established()
	_, err := c.SendSingle([]byte("data"), 0)
	require.NoError(t, err)
	sc.expect(flags(fPA))
	for i, d := range []int64{1000, 2000, 4000} {
		sc.r.Clock.Advance(d * ms)
		sc.expect(flags(fPA), seqNum(stackISN+1))
		require.Equal(t, StateEstablished, c.State(), "retry %d", i+1)
	}
	sc.r.Clock.Advance(8000 * ms)
	sc.expect(flags(fRA), seqNum(stackISN+5))
	assert.Equal(t, StateClose, c.State())
	assert.Equal(t, syscall.ETIMEDOUT, c.Err())
	_, err = c.Recv([][]byte{make([]byte, 4)})
	assert.Equal(t, syscall.ETIMEDOUT, err)
	assert.Equal(t, c.sqHead, c.sqTail, "send queue freed")
	_, err = c.SendSingle([]byte("x"), 0)
	assert.Equal(t, syscall.ENOTCONN, err)
	nconns := sc.s.nconns
	c.Close()
	assert.Equal(t, nconns-1, sc.s.nconns)
}

// Scenario 19: the peer's window is zero: probes back off and the connection is never aborted
// while they are answered (tcp_retries is 2 here and many more probes go); a lost window update
// is recovered by the next probe; a window too small for the segment is used only by the
// persist timer (sender SWS avoidance); a peer shrinking its window below data in flight gets
// the oldest segment on RTO anyway.
func TestScriptZeroWindowPersist(t *testing.T) {
	sc := newScript(t, "tcp_retries", "2", "tcp_rto_max_ms", "8000")
	c := sc.established()
	iss := stackISN + 1
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss, zeroWnd: true})
	sc.expectNone()
	_, err := c.SendSingle([]byte("hello"), 0)
	require.NoError(t, err)
	sc.expectNone()
	rto := c.rto
	for i := 0; i < 8; i++ {
		sc.r.Clock.Advance(rto - 1)
		sc.expectNone()
		sc.r.Clock.Advance(1)
		sc.expect(flags(fA), seqNum(iss-1), ackNum(peerISN+1)) // probe: one byte old, no data
		rto = min(2*rto, 8000*ms)
		assert.Equal(t, rto, c.rto, "probe %d backs off", i)
		// The peer answers, still closed.
		sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss, zeroWnd: true})
		sc.expectNone()
		require.Equal(t, StateEstablished, c.State())
	}
	assert.Equal(t, uint64(8), StackCounters(sc.r.S).WindowProbes)
	// The window update (3 bytes) is lost; it arrives only as the answer to the next probe.
	sc.r.Clock.Advance(rto)
	sc.expect(flags(fA), seqNum(iss-1))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss, wnd: 3})
	sc.expectNone() // 3 bytes < MSS and < half the largest window (65535): SWS avoidance
	sc.r.Clock.Advance(c.rto)
	sc.expect(flags(fPA), seqNum(iss), payload("hel")) // the persist timer sends what fits
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 3, wnd: 65535})
	sc.expect(flags(fPA), seqNum(iss+3), payload("lo"))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 5, wnd: 65535})
	sc.expectNone()

	// Shrinking: two segments in flight, the peer acknowledges none and closes its window.
	_, err = c.SendSingle([]byte(pattern(2*1460)), 0)
	require.NoError(t, err)
	require.Len(t, sc.emitted(), 2)
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 5, zeroWnd: true})
	sc.expectNone()
	sc.r.Clock.Advance(c.rto)
	sc.expect(flags(fPA), seqNum(iss+5)) // the oldest goes anyway; the answer carries the window
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 5 + 1460, wnd: 65535})
	sc.expect(flags(fPA), seqNum(iss+5+1460))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: iss + 5 + 2*1460, wnd: 65535})
	sc.expectNone()
	assert.Equal(t, StateEstablished, c.State())
}

// Scenario 20: our receive space fills: the window advertised falls to zero without its right
// edge ever moving back; data beyond it is dropped and answered; reading a little opens no
// window (receiver SWS avoidance), reading enough sends a window update.
func TestScriptOwnWindowFull(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	seq := peerISN + 1
	edge := seq.Add(c.rcvWindow())
	chunk := pattern(1460)
	for i := 0; i < 200; i++ {
		w := c.rcvWindow()
		if w == 0 {
			break
		}
		sc.send(seg{flags: fPA, seq: seq, ack: stackISN + 1, data: chunk[:min(1460, int(w))]})
		seq = seq.Add(uint32(min(1460, int(w))))
		for _, o := range sc.emitted() {
			right := o.tcp.Ack().Add(uint32(o.tcp.Window()))
			require.True(t, edge.LessThanEq(right), "right edge moved back")
			edge = right
		}
	}
	require.Zero(t, c.rcvWindow())
	sc.send(seg{flags: fA, seq: seq, ack: stackISN + 1})
	sc.emitted()
	// Beyond the window: dropped, answered with the zero window.
	sc.send(seg{flags: fPA, seq: seq, ack: stackISN + 1, data: "more"})
	sc.expect(flags(fA), ackNum(seq), window(0))
	// Read 100 bytes: no update (SWS).
	buf := make([]byte, 100)
	n, err := c.Recv([][]byte{buf})
	require.NoError(t, err)
	require.Equal(t, 100, n)
	sc.expectNone()
	// Read everything: a window update.
	big := make([]byte, 1<<20)
	_, err = c.Recv([][]byte{big})
	require.NoError(t, err)
	o := sc.expect(flags(fA), ackNum(seq))
	assert.GreaterOrEqual(t, int(o.tcp.Window()), 1460)
	// The peer's zero-window probe (old sequence) gets an ACK with the window.
	sc.send(seg{flags: fA, seq: seq - 1, ack: stackISN + 1})
	sc.expect(flags(fA), ackNum(seq))
	_ = wire.Seq(0)
}

// Scenario 23: a SYN flood (1000 spoofed SYNs) keeps at most max_tcp_syn_backlog half-open
// connections, the rest answered with SYN cookies; buffers stay bounded; an established
// connection keeps working; a legitimate handshake during the flood completes (its ACK brings
// the cookie back); half-open ones expire.
func TestScriptSynFlood(t *testing.T) {
	sc := newScript(t, "max_tcp_syn_backlog", "8", "tcp_synack_retries", "2")
	l := sc.listen()
	est := sc.accept(l)
	inUse := sc.r.S.Pool().InUse()
	for i := 0; i < 1000; i++ {
		sc.send(seg{flags: fS, seq: wire.Seq(i * 7919), sport: uint16(10000 + i), mss: 1460})
		if i%100 == 0 {
			sc.r.Drain()
			assert.LessOrEqual(t, sc.r.S.Pool().InUse(), inUse+16, "buffers bounded")
		}
	}
	sc.r.Drain()
	assert.Equal(t, 8, l.halfOpen)
	assert.Equal(t, uint64(1000-8), StackCounters(sc.r.S).SynCookiesSent)
	// The established connection is unaffected.
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, data: "ping"})
	sc.r.Clock.Advance(delackNs)
	sc.expect(flags(fA), ackNum(peerISN+5))
	buf := make([]byte, 8)
	n, err := est.Recv([][]byte{buf})
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf[:n]))
	// A legitimate handshake in the middle of the flood.
	sc.send(seg{flags: fS, seq: 777, sport: 5555, mss: 1460})
	cookie := sc.expect(flags(fSA), ackNum(778)).tcp.Seq()
	sc.send(seg{flags: fS, seq: 1, sport: 20000, mss: 1460}) // the flood goes on
	sc.r.Drain()
	sc.send(seg{flags: fA, seq: 778, ack: cookie + 1, sport: 5555})
	c, err := l.Accept()
	require.NoError(t, err)
	assert.Equal(t, uint16(5555), c.RemoteAddr().Port())
	// The half-open ones expire after tcp_synack_retries.
	for range 4 {
		sc.r.Clock.Advance(8000 * ms)
		sc.emitted()
	}
	assert.Zero(t, l.halfOpen)
	assert.Equal(t, StateEstablished, est.State())
	assert.Equal(t, 2, sc.s.nconns)
}

// Keepalive (off by default): after tcp_keepalive_time_ms idle, probes every
// tcp_keepalive_intvl_ms; an answer restarts the idle time; tcp_keepalive_probes unanswered
// abort with ETIMEDOUT and a RST.
func TestScriptKeepalive(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		sc := newScript(t)
		c := sc.established()
		sc.r.Clock.Advance(3 * 3600 * 1000 * ms)
		sc.expectNone()
		assert.Equal(t, StateEstablished, c.State())
	})
	sc := newScript(t, "tcp_keepalive", "1", "tcp_keepalive_time_ms", "10000",
		"tcp_keepalive_intvl_ms", "1000", "tcp_keepalive_probes", "3")
	c := sc.established()
	sc.r.Clock.Advance(9999 * ms)
	sc.expectNone()
	sc.r.Clock.Advance(1 * ms)
	sc.expect(flags(fA), seqNum(stackISN), ackNum(peerISN+1))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1}) // answered
	sc.r.Clock.Advance(1000 * ms)
	sc.expectNone()
	sc.r.Clock.Advance(9000 * ms)
	sc.expect(flags(fA), seqNum(stackISN)) // idle again from the answer
	for i := 0; i < 2; i++ {
		sc.r.Clock.Advance(1000 * ms)
		sc.expect(flags(fA), seqNum(stackISN))
	}
	sc.r.Clock.Advance(1000 * ms)
	sc.expect(flags(fRA))
	assert.Equal(t, StateClose, c.State())
	assert.Equal(t, syscall.ETIMEDOUT, c.Err())
	assert.Equal(t, uint64(4), StackCounters(sc.r.S).KeepaliveProbes)
}

// Scenario 14 (edge): a bare ACK exactly at the right edge of our window is accepted (Linux's
// rule; a peer whose ACKs were lost sends them at its SND.MAX, which is that edge), one past
// it is not.
func TestScriptAckAtWindowEdge(t *testing.T) {
	sc := newScript(t)
	c := sc.established()
	_, err := c.SendSingle([]byte("abc"), 0)
	require.NoError(t, err)
	sc.expect(flags(fPA))
	edge := c.rcvNxt.Add(c.rcvWindow())
	sc.send(seg{flags: fA, seq: edge + 1, ack: stackISN + 4})
	sc.expect(flags(fA), ackNum(peerISN+1)) // unacceptable: answered, ignored
	assert.Equal(t, stackISN+1, c.sndUna)
	sc.send(seg{flags: fA, seq: edge, ack: stackISN + 4})
	sc.expectNone()
	assert.Equal(t, stackISN+4, c.sndUna, "accepted")
}

// Timers: the stack is not quiescent while a FIN is unacknowledged; a connection in
// TIME-WAIT keeps it from quiescence only with tcp_wait_for_time_wait; TIME-WAIT lasts
// tcp_timewait_ms.
func TestTimeWaitQuiescence(t *testing.T) {
	for _, wait := range []string{"0", "1"} {
		t.Run("tcp_wait_for_time_wait="+wait, func(t *testing.T) {
			p := newPair(t, "tcp_wait_for_time_wait", wait, "tcp_timewait_ms", "500")
			c, s, _ := p.connect(7300)
			require.NoError(t, c.ShutdownTx())
			assert.False(t, p.A.IsQuiescent(), "FIN in flight")
			p.settle()
			require.NoError(t, s.ShutdownTx())
			p.settle()
			require.Equal(t, StateTimeWait, c.State())
			assert.Equal(t, wait == "0", p.A.IsQuiescent())
			p.Clock.Advance(499 * ms)
			p.Step()
			assert.Equal(t, StateTimeWait, c.State())
			p.Clock.Advance(1 * ms)
			p.Step()
			assert.Equal(t, StateClose, c.State())
			assert.True(t, p.A.IsQuiescent())
			c.Close()
			s.Close()
		})
	}
}

// Recovery from a single lost segment in a ping-pong (virtual time; the RTT here is a few
// 10 µs steps): without SACK, one RTO at its floor plus one round trip; with SACK, a tail
// loss probe after 2·SRTT plus the delayed-ACK allowance (one segment in flight), plus one
// round trip, and no RTO.
func TestPingPongSingleLossRecovery(t *testing.T) {
	for _, sack := range []string{"0", "1"} {
		t.Run("tcp_sack="+sack, func(t *testing.T) { pingPongSingleLoss(t, sack == "1") })
	}
}

func pingPongSingleLoss(t *testing.T, sack bool) {
	p := newPair(t, "tcp_rto_min_ms", "200", "tcp_sack", map[bool]string{false: "0", true: "1"}[sack])
	c, s, _ := p.connect(7400)
	msg := []byte("ping-pong-64-bytes-ping-pong-64-bytes-ping-pong-64-bytes-ping-po")
	buf := make([]byte, 128)
	round := func() int64 {
		t0 := p.Clock.T
		_, err := c.SendSingle(msg, 0)
		require.NoError(t, err)
		got := 0
		for steps := 0; got < len(msg); steps++ {
			require.Less(t, steps, 100000)
			p.lossyStep(false)
			if k, err := s.Recv([][]byte{buf}); err == nil {
				got += k
			}
		}
		_, err = s.SendSingle(msg, 0)
		require.NoError(t, err)
		got = 0
		for steps := 0; got < len(msg); steps++ {
			require.Less(t, steps, 100000)
			p.lossyStep(false)
			if k, err := c.Recv([][]byte{buf}); err == nil {
				got += k
			}
		}
		return p.Clock.T - t0
	}
	var rtt int64
	for range 50 {
		rtt = max(rtt, round())
	}
	require.Equal(t, 200*ms, c.rto, "the floor")
	// Lose the next ping once.
	p.A.SetFaults(stack.Faults{Seed: 1, Drop: 1})
	_, err := c.SendSingle(msg[:1], 0)
	require.NoError(t, err)
	p.A.SetFaults(stack.Faults{})
	t0 := p.Clock.T
	got := 0
	for steps := 0; got < 1; steps++ {
		require.Less(t, steps, 100000)
		p.lossyStep(false)
		if k, err := s.Recv([][]byte{buf}); err == nil {
			got += k
		}
	}
	took := p.Clock.T - t0
	t.Logf("RTT %v, recovery %v", time.Duration(rtt), time.Duration(took))
	cnt := StackCounters(p.A)
	if !sack {
		assert.LessOrEqual(t, took, 200*ms+rtt, "≤ RTO min + 1 RTT")
		assert.Equal(t, uint64(1), cnt.RTOs)
		return
	}
	assert.LessOrEqual(t, took, 2*c.srtt+tlpDelack+rtt, "≤ PTO + 1 RTT")
	assert.Zero(t, cnt.RTOs)
	assert.Equal(t, uint64(1), cnt.TLPProbes)
}
