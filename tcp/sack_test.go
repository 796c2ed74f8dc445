package tcp

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/wire"
)

// Sender-side SACK (scenarios 30 and 31 of the test plan): the scoreboard, RFC 6675 recovery
// with PRR, D-SACK undo. The peer is a packet script that SACKs exactly as each case needs.

// acceptSACK runs a passive open whose SYN offers SACK-permitted (and no other option but
// the MSS): the connection sends plain headers and reads SACK blocks.
func (sc *script) acceptSACK(l *Listener) *Conn {
	sc.t.Helper()
	perm := []byte{wire.TCPOptionNOP, wire.TCPOptionNOP, wire.TCPOptionSACKPermitted, wire.TCPOptionSACKPermittedLength}
	sc.send(seg{flags: wire.TCPFlagSyn, seq: peerISN, mss: 1460, opts: perm})
	o := sc.expect(flags(wire.TCPFlagSyn|wire.TCPFlagAck), seqNum(stackISN), ackNum(peerISN+1))
	require.True(sc.t, o.opts.SACKPermitted, "SYN-ACK offers SACK")
	sc.send(seg{flags: wire.TCPFlagAck, seq: peerISN + 1, ack: stackISN + 1})
	sc.expectNone()
	c, err := l.Accept()
	require.NoError(sc.t, err)
	require.True(sc.t, c.sackOK, "SACK negotiated")
	return c
}

// sackOpt encodes a SACK option with blocks, for seg.opts.
func sackOpt(blocks ...wire.SACKBlock) []byte {
	o := wire.TCPOptions{NumSACK: len(blocks)}
	copy(o.SACK[:], blocks)
	b := make([]byte, wire.MaxTCPOptionsSize)
	return b[:o.Encode(b)]
}

// sackScript is an established connection with SACK on that has sent n full segments.
type sackScript struct {
	*script
	c   *Conn
	iss wire.Seq
}

const smss = 1460

func newSACKScript(t *testing.T, queued, sent int, kv ...string) *sackScript {
	sc := newScript(t, kv...)
	c := sc.acceptSACK(sc.listen())
	ss := &sackScript{script: sc, c: c, iss: stackISN + 1}
	n, err := c.SendSingle([]byte(pattern(queued*smss)), 0)
	require.NoError(t, err)
	require.Equal(t, queued*smss, n)
	require.Len(t, sc.emitted(), sent)
	return ss
}

// at is the first sequence number of segment k.
func (ss *sackScript) at(k int) wire.Seq { return ss.iss.Add(uint32(k * smss)) }

// blk is the SACK block of segments [from, to).
func (ss *sackScript) blk(from, to int) wire.SACKBlock {
	return wire.SACKBlock{Left: ss.at(from), Right: ss.at(to)}
}

// ack sends the peer's ACK of everything before segment k with blocks.
func (ss *sackScript) ack(k int, blocks ...wire.SACKBlock) {
	ss.send(seg{flags: fA, seq: peerISN + 1, ack: ss.at(k), opts: sackOpt(blocks...)})
}

// sacked lists the indices of the queued segments marked SACKed.
func (ss *sackScript) marked(f sbFlags) []int {
	var res []int
	c := ss.c
	for i := c.sqHead; i != c.sqTail; i++ {
		if e := c.seg(i); e.sb&f != 0 {
			res = append(res, int(ss.iss.Size(e.seq))/smss)
		}
	}
	return res
}

// seqs are the segment indices of emitted segments.
func (ss *sackScript) seqs(segs []out) []int {
	res := []int{}
	for _, o := range segs {
		res = append(res, int(ss.iss.Size(o.tcp.Seq()))/smss)
	}
	return res
}

// The scoreboard: blocks mark whole segments, a block covering part of one leaves it; blocks
// outside [SND.UNA, SND.MAX] and empty ones are ignored and counted; a first block below the
// cumulative ACK or inside the second is a D-SACK (RFC 2883 §4) and marks nothing; the
// cumulative ACK takes SACKed segments out of the totals.
func TestSACKScoreboard(t *testing.T) {
	ss := newSACKScript(t, 10, 10)
	c := ss.c
	half := wire.SACKBlock{Left: ss.at(6), Right: ss.at(7) - 1}
	steps := []struct {
		name    string
		ack     int
		blocks  []wire.SACKBlock
		sacked  []int
		ignored uint64
		dsacks  uint64
	}{
		// Two SACKed segments are no evidence of loss yet (RACK waits its window).
		{"one block", 0, []wire.SACKBlock{ss.blk(2, 4)}, []int{2, 3}, 0, 0},
		{"part of a segment", 0, []wire.SACKBlock{half, ss.blk(2, 4)}, []int{2, 3}, 0, 0},
		// DupThresh SACKed above: 0 and 1 are lost and go again (the scoreboard is unchanged).
		{"three blocks", 0, []wire.SACKBlock{ss.blk(8, 9), ss.blk(5, 6), ss.blk(2, 4)}, []int{2, 3, 5, 8}, 0, 0},
		{"beyond SND.MAX", 0, []wire.SACKBlock{{Left: ss.at(9), Right: ss.at(11)}}, []int{2, 3, 5, 8}, 1, 0},
		{"empty", 0, []wire.SACKBlock{{Left: ss.at(9), Right: ss.at(9)}}, []int{2, 3, 5, 8}, 2, 0},
		{"D-SACK inside the second block", 0, []wire.SACKBlock{ss.blk(5, 6), ss.blk(5, 7)}, []int{2, 3, 5, 6, 8}, 2, 1},
		{"cumulative ACK past SACKed", 4, []wire.SACKBlock{ss.blk(5, 7), ss.blk(8, 9)}, []int{5, 6, 8}, 2, 1},
		{"D-SACK below the ACK", 4, []wire.SACKBlock{ss.blk(1, 2), ss.blk(5, 7)}, []int{5, 6, 8}, 2, 2},
		{"below SND.UNA, not first", 4, []wire.SACKBlock{ss.blk(5, 7), ss.blk(1, 2)}, []int{5, 6, 8}, 3, 2},
	}
	for _, st := range steps {
		ss.ack(st.ack, st.blocks...)
		ss.emitted()
		assert.Equal(t, st.sacked, ss.marked(sbSacked), st.name)
		assert.Equal(t, len(st.sacked)*smss, c.rec.sackedBytes, st.name)
		assert.Equal(t, len(st.sacked), c.rec.sackedSegs, st.name)
		cnt := StackCounters(ss.r.S)
		assert.Equal(t, st.ignored, cnt.SACKIgnored, st.name)
		assert.Equal(t, st.dsacks, cnt.DSACKs, st.name)
		if len(st.sacked) < dupThresh {
			assert.Empty(t, ss.marked(sbLost|sbRetrans), "%s: nothing lost without evidence", st.name)
		}
	}
	// Everything acknowledged: the totals are back at zero.
	ss.ack(10)
	assert.Zero(t, c.rec.sackedBytes)
	assert.Zero(t, c.rec.sackedSegs)
	assert.Zero(t, c.pipe())
}

// RFC 6675: three holes in one window are all retransmitted within the round trip that
// reports them, each once, as the SACKs arrive (NewReno would take one RTT per hole); the
// full ACK ends the recovery with cwnd = ssthresh.
func TestSACKRecoveryHolesInOneRTT(t *testing.T) {
	ss := newSACKScript(t, 14, 10)
	c := ss.c
	ss.r.Clock.Advance(10 * ms)
	// Segments 1, 4 and 7 are lost; the peer acknowledges 0 and SACKs the rest as it arrives.
	ss.ack(1)
	require.Equal(t, []int{10, 11}, ss.seqs(ss.emitted()), "slow start")
	var rtx []int
	arrive := [][]wire.SACKBlock{
		{ss.blk(2, 3)},
		{ss.blk(2, 4)},
		{ss.blk(5, 6), ss.blk(2, 4)},
		{ss.blk(5, 7), ss.blk(2, 4)},
		{ss.blk(8, 9), ss.blk(5, 7), ss.blk(2, 4)},
		{ss.blk(8, 10), ss.blk(5, 7), ss.blk(2, 4)},
		{ss.blk(8, 11), ss.blk(5, 7), ss.blk(2, 4)},
	}
	for _, b := range arrive {
		ss.ack(1, b...)
		for _, k := range ss.seqs(ss.emitted()) {
			if k < 10 {
				rtx = append(rtx, k)
			}
		}
	}
	assert.Equal(t, []int{1, 4, 7}, rtx, "every hole once, within the round trip")
	assert.True(t, c.inRecovery)
	cnt := StackCounters(ss.r.S)
	assert.Equal(t, uint64(1), cnt.SACKRecoveries)
	assert.Equal(t, uint64(3), cnt.Retransmits)
	assert.Zero(t, cnt.FastRetransmits, "not NewReno")
	// The retransmissions arrive: the full ACK ends the recovery.
	ss.r.Clock.Advance(10 * ms)
	ss.ack(11)
	ss.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndMax})
	ss.emitted()
	assert.False(t, c.inRecovery)
	assert.Equal(t, c.ssthresh, c.cwnd)
	assert.Zero(t, StackCounters(ss.r.S).RTOs)
}

// PRR (RFC 6937, PRR-SSRB): with one hole, cwnd after each ACK of the recovery is pipe plus
// sndcnt: proportional (ssthresh/RecoverFS of what was delivered, less what was sent) while
// pipe is above ssthresh, then the slow-start reduction bound; whole segments go.
func TestSACKRecoveryPRR(t *testing.T) {
	// NewReno's ssthresh (half the flight) keeps the hand-computed PRR steps below simple.
	ss := newSACKScript(t, 20, 10, "tcp_congestion", "newreno")
	c := ss.c
	ss.r.Clock.Advance(10 * ms)
	// Segment 0 is lost. Before recovery, each SACK takes a segment out of pipe: one new
	// segment per ACK (10, 11).
	ss.ack(0, ss.blk(1, 2))
	require.Equal(t, []int{10}, ss.seqs(ss.emitted()))
	ss.ack(0, ss.blk(1, 3))
	require.Equal(t, []int{11}, ss.seqs(ss.emitted()))
	require.False(t, c.inRecovery)
	// The third SACKed segment: DupThresh. FlightSize 12 segments: ssthresh 6, RecoverFS 12.
	const m = smss
	steps := []struct {
		to   int   // SACKed up to segment
		cwnd int   // bytes
		sent []int // segments emitted
	}{
		// (pipe in segments, before sending.) pipe 8 > ssthresh 6: sndcnt = ⌈1·6/12⌉ = ½ → 1 segment: the hole.
		{4, 8*m + m, []int{0}},
		// ⌈2·6/12⌉ − 1 = 0.
		{5, 8 * m, []int{}},
		// ⌈3·6/12⌉ − 1 = ½ → 1: new data.
		{6, 7*m + m, []int{12}},
		// ⌈4·6/12⌉ − 2 = 0.
		{7, 7 * m, []int{}},
		// pipe 6 = ssthresh: SSRB, min(ssthresh − pipe, …) = 0.
		{8, 6 * m, []int{}},
		// pipe 5: min(1, max(6 − 2, 1) + 1) = 1.
		{9, 5*m + m, []int{13}},
	}
	for i, st := range steps {
		ss.ack(0, ss.blk(1, st.to))
		sent := ss.seqs(ss.emitted())
		assert.True(t, c.inRecovery, "step %d", i)
		assert.Equal(t, st.cwnd, int(c.cwnd), "step %d: cwnd", i)
		assert.Equal(t, st.sent, sent, "step %d: sent", i)
	}
	assert.Equal(t, uint32(6*m), c.ssthresh)
	assert.Equal(t, 12*m, c.rec.recoverFS)
}

// D-SACK undo (RFC 2883, RFC 3708's idea): a hole that was only reordered is retransmitted;
// once the peer's D-SACK shows the retransmission was a duplicate, cwnd and ssthresh come back
// (SpuriousUndone). With two retransmissions and one D-SACK, nothing is undone.
func TestSACKSpuriousUndo(t *testing.T) {
	for _, tc := range []struct {
		name  string
		holes []int
		undo  bool
	}{
		{"every retransmission spurious", []int{0}, true},
		{"one of two spurious", []int{0, 5}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := newSACKScript(t, 10, 10)
			c := ss.c
			ss.r.Clock.Advance(10 * ms)
			cwnd, ssthresh := c.cwnd, c.ssthresh
			// The peer SACKs everything but the holes.
			var blocks []wire.SACKBlock
			from := 1
			for _, h := range tc.holes[1:] {
				blocks = append([]wire.SACKBlock{ss.blk(from, h)}, blocks...)
				from = h + 1
			}
			blocks = append([]wire.SACKBlock{ss.blk(from, 10)}, blocks...)
			ss.ack(0, blocks...)
			assert.Equal(t, tc.holes, ss.seqs(ss.emitted()), "the holes go again")
			require.True(t, c.inRecovery)
			require.Less(t, c.cwnd, cwnd)
			// The originals arrive after all: everything is acknowledged, then the
			// retransmission of segment 0 is reported as a duplicate.
			ss.ack(10)
			assert.False(t, c.inRecovery)
			ss.ack(10, ss.blk(0, 1))
			ss.emitted()
			cnt := StackCounters(ss.r.S)
			assert.Equal(t, uint64(1), cnt.DSACKs)
			if tc.undo {
				assert.Equal(t, uint64(1), cnt.SpuriousUndone)
				assert.Equal(t, cwnd, c.cwnd, "cwnd restored")
				assert.Equal(t, ssthresh, c.ssthresh, "ssthresh restored")
				assert.True(t, c.rec.reoSeen)
				// RFC 8985 §6.2: the D-SACK widens RACK's window by a step of min_RTT/4.
				assert.Equal(t, 1, c.rec.reoSteps)
				assert.InDelta(t, 10*ms, c.rec.minRTT, 100) // stamps are a nanosecond apart
				assert.InDelta(t, 5*ms, c.reoWnd(), 100)
			} else {
				assert.Zero(t, cnt.SpuriousUndone)
				assert.Equal(t, c.ssthresh, c.cwnd, "the reduction stands")
				assert.Less(t, c.ssthresh, ssthresh)
			}
		})
	}
}

// An RTO with SACK resends only what the peer has not SACKed, oldest first from one segment;
// an oldest segment SACKed but never acknowledged means the peer reneged: every mark goes
// and everything is resent (RFC 2018 §8).
func TestSACKRTO(t *testing.T) {
	for _, tc := range []struct {
		name  string
		held  int   // the segment the peer SACKs, one RTT after the burst
		rack  []int // resent when RACK's window closes (then lost)
		rto   []int // resent at the RTO
		ack   int   // the peer's cumulative ACK for that
		after []int // resent after it
	}{
		{"SACKed kept", 1, []int{0}, []int{0}, 2, []int{2}},
		{"reneged", 0, []int{}, []int{0}, 1, []int{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := newSACKScript(t, 3, 3)
			c := ss.c
			ss.r.Clock.Advance(10 * ms)
			ss.ack(0, ss.blk(tc.held, tc.held+1))
			ss.expectNone()
			ss.r.Clock.Advance(10 * ms / 4)
			assert.Equal(t, tc.rack, ss.seqs(ss.emitted()), "RACK")
			ss.r.Clock.Advance(c.rto)
			assert.Equal(t, tc.rto, ss.seqs(ss.emitted()), "RTO")
			assert.Equal(t, uint32(smss), c.cwnd)
			ss.ack(tc.ack)
			assert.Equal(t, tc.after, ss.seqs(ss.emitted()), "after the ACK")
			assert.Equal(t, uint64(1), StackCounters(ss.r.S).RTOs)
			assert.Zero(t, StackCounters(ss.r.S).SpuriousUndone)
		})
	}
}

// Arbitrary SACK blocks (inverted, empty, beyond SND.MAX, below SND.UNA, across the wrap of
// the sequence space, D-SACKs for anything) never panic, and the scoreboard's totals always
// equal what its marks add up to, through cumulative ACKs, recoveries, RTOs and new data.
func TestSACKScoreboardRandom(t *testing.T) {
	ss := newSACKScript(t, 40, 10)
	c := ss.c
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(step int) {
		var sacked, segs, lost, retrans int
		for i := c.sqHead; i != c.sqTail; i++ {
			e := c.seg(i)
			if e.sb&sbSacked != 0 {
				sacked += e.span()
				segs++
				require.Zero(t, e.sb&(sbLost|sbRetrans), "step %d: SACKed and lost or in flight", step)
			}
			if e.sb&sbLost != 0 {
				lost += e.span()
			}
			if e.sb&sbRetrans != 0 {
				retrans += e.span()
			}
		}
		r := &c.rec
		require.Equal(t, [4]int{sacked, segs, lost, retrans},
			[4]int{r.sackedBytes, r.sackedSegs, r.lostBytes, r.retransBytes}, "step %d", step)
	}
	for step := 0; step < 1500; step++ {
		span := c.sndUna.Size(c.sndMax)
		pick := func() wire.Seq {
			switch rng.IntN(4) {
			case 0:
				return wire.Seq(rng.Uint32()) // anywhere
			case 1:
				return c.sndUna.Add(uint32(rng.IntN(int(span)+3000)) - 1500) // near the window
			default:
				return c.sndUna.Add(uint32(rng.IntN(int(span)/smss+1) * smss)) // segment edges
			}
		}
		blocks := make([]wire.SACKBlock, rng.IntN(5))
		for k := range blocks {
			blocks[k] = wire.SACKBlock{Left: pick(), Right: pick()}
		}
		ack := c.sndUna
		if rng.IntN(6) == 0 {
			ack = c.sndUna.Add(uint32(rng.IntN(int(span)/smss+1) * smss))
		}
		ss.send(seg{flags: fA, seq: peerISN + 1, ack: ack, opts: sackOpt(blocks...)})
		if rng.IntN(50) == 0 {
			ss.r.Clock.Advance(c.rto)
		} else {
			ss.r.Clock.Advance(int64(rng.IntN(3)) * ms)
		}
		ss.r.Drain()
		check(step)
		if c.sndUna == c.sndMax && c.sqNext == c.sqTail {
			_, err := c.SendSingle([]byte(pattern(10*smss)), 0)
			require.NoError(t, err)
		}
		require.Equal(t, StateEstablished, c.State())
	}
	cnt := StackCounters(ss.r.S)
	t.Logf("ignored %d, D-SACKs %d, recoveries %d, RTOs %d, probes %d", cnt.SACKIgnored, cnt.DSACKs,
		cnt.SACKRecoveries, cnt.RTOs, cnt.TLPProbes)
	assert.NotZero(t, cnt.SACKIgnored)
	assert.NotZero(t, cnt.SACKRecoveries)
}
