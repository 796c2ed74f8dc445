package tcp

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// RACK-TLP (RFC 8985; scenario 31 of the test plan) on packet scripts with a manual clock: the
// link's RTT is 10 ms, each ACK arriving 10 ms after what it acknowledges.

// RACK's reordering window: a segment SACKed past a hole opens a window of min_RTT/4; a hole
// that fills within it (reordering) is never retransmitted and teaches RACK that the path
// reorders; one that does not is lost exactly when the window closes.
func TestRACKReorderingWindow(t *testing.T) {
	for _, arrives := range []bool{true, false} {
		name := map[bool]string{true: "reordered", false: "lost"}[arrives]
		t.Run(name, func(t *testing.T) {
			ss := newSACKScript(t, 10, 10)
			c := ss.c
			ss.r.Clock.Advance(10 * ms)
			ss.ack(1)
			require.Equal(t, 10*ms, c.srtt)
			require.Equal(t, 10*ms, c.rec.minRTT)
			// Segment 1 is missing, 2 arrives.
			ss.ack(1, ss.blk(2, 3))
			ss.expectNone()
			assert.Equal(t, rtxReorder, c.rec.rtxKind)
			at := c.rtxAt // transmissions are stamped a nanosecond apart
			assert.InDelta(t, ss.r.Clock.T+10*ms/4, at, 10, "the window: min_RTT/4")
			if arrives {
				ss.r.Clock.Advance(at - ss.r.Clock.T - 1)
				ss.ack(3)
				assert.True(t, c.rec.reoSeen, "reordering seen")
				ss.r.Clock.Advance(10 * ms)
				ss.expectNone()
				assert.Zero(t, StackCounters(ss.r.S).Retransmits)
				assert.False(t, c.inRecovery)
				return
			}
			ss.r.Clock.Advance(at - ss.r.Clock.T - 1)
			ss.expectNone()
			ss.r.Clock.Advance(1)
			assert.Equal(t, []int{1}, ss.seqs(ss.emitted()))
			cnt := StackCounters(ss.r.S)
			assert.Equal(t, uint64(1), cnt.RACKLosses)
			assert.Equal(t, uint64(1), cnt.SACKRecoveries)
			assert.True(t, c.inRecovery)
			// The counters reach zfstackdump and Prometheus through the snapshot.
			ss.r.S.SnapshotSync(func(sn *stack.Snapshot) {
				assert.Equal(t, uint64(1), sn.Transport[stack.TCPRACKLosses])
				assert.Equal(t, uint64(1), sn.Transport[stack.TCPSACKRecoveries])
			})
		})
	}
}

// RACK finds a lost retransmission: a segment sent after the retransmission is SACKed, the
// retransmission is not acknowledged an RTT later, so it is lost too and goes again (without
// SACK only the duplicate-ACK count, or the RTO, could tell).
func TestRACKLostRetransmission(t *testing.T) {
	ss := newSACKScript(t, 20, 10)
	ss.r.Clock.Advance(10 * ms)
	ss.ack(1)
	require.Equal(t, []int{10, 11}, ss.seqs(ss.emitted()))
	ss.ack(1, ss.blk(2, 3))
	ss.ack(1, ss.blk(2, 4))
	ss.emitted()
	ss.r.Clock.Advance(1 * ms)
	ss.ack(1, ss.blk(2, 5)) // DupThresh: segment 1 goes again
	require.Equal(t, []int{1}, ss.seqs(ss.emitted()))
	var sent []int
	for k := 6; k <= 10; k++ {
		ss.ack(1, ss.blk(2, k))
		sent = append(sent, ss.seqs(ss.emitted())...)
	}
	require.NotEmpty(t, sent, "PRR lets new data go after the retransmission")
	first := sent[0]
	// The retransmission is lost; the first segment sent after it arrives.
	ss.r.Clock.Advance(10 * ms)
	ss.ack(1, ss.blk(2, first+1))
	resent := ss.seqs(ss.emitted())
	require.NotEmpty(t, resent)
	assert.Equal(t, 1, resent[0], "resent again, first")
	cnt := StackCounters(ss.r.S)
	assert.Equal(t, uint64(1), cnt.LostRetransmits)
	assert.Zero(t, cnt.RTOs)
}

// A recovery whose retransmission and everything sent after it are lost hears nothing: no
// ACK comes to let RACK find the loss, and before the recovery probe the RTO (200 ms here)
// repaired it. The probe goes after PTO of silence (new data when some is left, else the
// highest segment not SACKed again), its SACK lets RACK find the retransmission lost, and it
// goes again, long before the RTO.
func TestRecoveryProbe(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queued int // segments queued: 12 are all sent before the losses, 20 leave new data
	}{{"last segment again", 12}, {"new data", 20}} {
		t.Run(tc.name, func(t *testing.T) {
			ss := newSACKScript(t, tc.queued, 10)
			c := ss.c
			ss.r.Clock.Advance(10 * ms)
			ss.ack(1)
			require.Equal(t, []int{10, 11}, ss.seqs(ss.emitted()))
			ss.ack(1, ss.blk(2, 3))
			ss.ack(1, ss.blk(2, 4))
			ss.emitted()
			ss.r.Clock.Advance(1 * ms)
			ss.ack(1, ss.blk(2, 5))
			require.Equal(t, []int{1}, ss.seqs(ss.emitted()))
			for k := 6; k <= 10; k++ {
				ss.ack(1, ss.blk(2, k))
				ss.emitted()
			}
			require.True(t, c.inRecovery)
			// Segment 1's retransmission and all that followed are lost: silence.
			t0 := ss.r.Clock.T
			var probe []int
			for ss.r.Clock.T-t0 < c.rto && len(probe) == 0 {
				ss.r.Clock.Advance(ms)
				probe = ss.seqs(ss.emitted())
			}
			require.Len(t, probe, 1, "one probe")
			took := ss.r.Clock.T - t0
			t.Logf("probe %v ms into the silence (SRTT %v ms, RTO %v ms)", took/ms, c.srtt/ms, c.rto/ms)
			assert.LessOrEqual(t, took, c.pto()+ms, "after PTO")
			want := 11
			if tc.queued > 12 {
				want = int(ss.iss.Size(c.sndMax))/smss - 1
			}
			assert.Equal(t, want, probe[0])
			cnt := StackCounters(ss.r.S)
			assert.Equal(t, uint64(1), cnt.RecoveryProbes)
			assert.Zero(t, cnt.RTOs)
			assert.Equal(t, rtxRTO, c.rec.rtxKind, "the RTO follows the probe")
			// The probe arrives: RACK finds the retransmission lost.
			ss.r.Clock.Advance(10 * ms)
			ss.ack(1, ss.blk(probe[0], probe[0]+1), ss.blk(2, 10))
			resent := ss.seqs(ss.emitted())
			require.NotEmpty(t, resent)
			assert.Equal(t, 1, resent[0], "the lost retransmission goes again")
			cnt = StackCounters(ss.r.S)
			assert.Equal(t, uint64(1), cnt.LostRetransmits)
			assert.Zero(t, cnt.RTOs)
		})
	}
}

// TLP (RFC 8985 §7): a tail loss is probed after PTO = 2·SRTT (plus the delayed-ACK allowance
// when one segment is in flight) rather than repaired by an RTO: the last segment again when
// nothing new may go, new data when the peer's window allows it. The probe's answer repairs
// the loss in about two RTTs: a repaired single loss reduces cwnd once the ACK passes it.
func TestTLPTailLoss(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sent    int  // segments of the request (after the first, which measured the RTT)
		acked   int  // of which the peer acknowledges the first acked
		cwnd    int  // segments cwnd allows (0: as it is)
		delack  bool // one segment in flight: PTO includes the delayed-ACK allowance
		probe   int  // the probe's segment (a request index)
		recover bool // the probe's SACK lets RACK find the rest
	}{
		{"last of three", 3, 2, 0, true, 2, false},
		{"last two of four", 4, 2, 0, false, 3, true},
		{"new data past cwnd", 3, 0, 2, false, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := newSACKScript(t, 1, 1)
			c := ss.c
			ss.r.Clock.Advance(10 * ms)
			ss.ack(1)
			require.Equal(t, 10*ms, c.srtt)
			if tc.cwnd > 0 {
				c.cwnd = uint32(tc.cwnd * smss)
			}
			_, err := c.SendSingle([]byte(pattern(tc.sent*smss)), 0)
			require.NoError(t, err)
			want := tc.sent
			if tc.cwnd > 0 {
				want = tc.cwnd
			}
			require.Len(t, ss.emitted(), want)
			t0 := ss.r.Clock.T
			if tc.acked > 0 {
				ss.r.Clock.Advance(10 * ms)
				ss.ack(1 + tc.acked)
				ss.expectNone()
			}
			pto := 2 * c.srtt
			if tc.delack {
				pto += tlpDelack
			}
			require.Less(t, pto, c.rto)
			assert.Equal(t, rtxPTO, c.rec.rtxKind)
			ss.r.Clock.Advance(pto - 1)
			ss.expectNone()
			ss.r.Clock.Advance(1)
			assert.Equal(t, []int{1 + tc.probe}, ss.seqs(ss.emitted()), "the probe")
			assert.Equal(t, uint64(1), StackCounters(ss.r.S).TLPProbes)
			ss.r.S.SnapshotSync(func(sn *stack.Snapshot) { assert.Equal(t, uint64(1), sn.Transport[stack.TCPTLPProbes]) })
			assert.Equal(t, rtxRTO, c.rec.rtxKind, "the RTO follows the probe")
			// The peer receives the probe 5 ms later and answers at once.
			ss.r.Clock.Advance(10 * ms)
			if tc.recover {
				ss.ack(1+tc.acked, ss.blk(1+tc.probe, 2+tc.probe))
				resent := ss.seqs(ss.emitted())
				require.NotEmpty(t, resent)
				assert.Equal(t, 1+tc.acked, resent[0], "RACK: the rest of the tail")
				assert.True(t, c.inRecovery)
				ss.r.Clock.Advance(10 * ms)
				ss.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndMax})
				ss.emitted()
			} else {
				ss.ack(1 + tc.sent)
				ss.expectNone()
			}
			assert.Equal(t, c.sndMax, c.sndUna, "repaired")
			took := ss.r.Clock.T - t0
			t.Logf("tail repaired %v ms after it was sent (RTO %v ms)", took/ms, c.rto/ms)
			assert.Less(t, took, c.rto, "before the RTO would even have fired")
			cnt := StackCounters(ss.r.S)
			assert.Zero(t, cnt.RTOs)
			if !tc.recover {
				// The ACK of new data past the probe concludes: the probe repaired a loss.
				ssthresh := c.ssthresh
				_, err = c.SendSingle([]byte("more"), 0)
				require.NoError(t, err)
				ss.emitted()
				ss.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndMax})
				assert.Equal(t, uint64(1), StackCounters(ss.r.S).TLPRecoveries)
				assert.Less(t, c.ssthresh, ssthresh)
			}
		})
	}
}

// A probe the peer did not need (the original arrived) comes back as a D-SACK: no
// congestion response.
func TestTLPSpuriousProbe(t *testing.T) {
	ss := newSACKScript(t, 1, 1)
	c := ss.c
	ss.r.Clock.Advance(10 * ms)
	ss.ack(1)
	_, err := c.SendSingle([]byte(pattern(2*smss)), 0)
	require.NoError(t, err)
	require.Len(t, ss.emitted(), 2)
	ss.r.Clock.Advance(2 * c.srtt)
	require.Equal(t, []int{2}, ss.seqs(ss.emitted()), "the probe: the last segment again")
	cwnd, ssthresh := c.cwnd, c.ssthresh
	ss.ack(3)
	ss.ack(3, ss.blk(2, 3)) // the duplicate
	ss.emitted()
	_, err = c.SendSingle([]byte("more"), 0)
	require.NoError(t, err)
	ss.emitted()
	ss.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndMax})
	cnt := StackCounters(ss.r.S)
	assert.Equal(t, uint64(1), cnt.DSACKs)
	assert.Zero(t, cnt.TLPRecoveries)
	assert.False(t, c.rec.tlpOn)
	assert.Equal(t, ssthresh, c.ssthresh)
	assert.GreaterOrEqual(t, c.cwnd, cwnd)
}

// SACK recovery allocates nothing: SACK blocks, the scoreboard, RACK, PRR, retransmissions
// and the full ACK, round after round (ACKs handed to processAck directly, so that the
// script's frame building does not count).
func TestSACKRecoveryAllocatesNothing(t *testing.T) {
	ss := newSACKScript(t, 1, 1)
	c := ss.c
	ss.ack(1)
	data := make([]byte, 10*smss)
	drain := dpdk.NewMbufArray(64)
	t.Cleanup(func() { dpdk.FreeMbufArray(drain) })
	flush := func() {
		for n := ss.r.Peer.RxBurst(0, drain); n > 0; n = ss.r.Peer.RxBurst(0, drain) {
			dpdk.FreeBulk(drain[:n])
		}
	}
	round := func() {
		c.cwnd = 10 * smss
		if _, err := c.SendSingle(data, 0); err != nil {
			panic(err)
		}
		flush()
		una := c.sndUna
		ss.r.Clock.Advance(10 * ms)
		g := segment{flags: wire.TCPFlagAck, seq: c.sndWl1, ack: una, wnd: c.sndWnd}
		g.opts.NumSACK = 1
		for k := 2; k <= 10; k++ {
			g.opts.SACK[0] = wire.SACKBlock{Left: una.Add(smss), Right: una.Add(uint32(k * smss))}
			c.processAck(&g)
			c.push(false)
		}
		g.opts.NumSACK = 0
		g.ack = c.sndMax
		c.processAck(&g)
		flush()
		if c.inRecovery || c.sndUna != c.sndMax {
			panic("not recovered")
		}
	}
	round()
	allocs := testing.AllocsPerRun(200, round)
	assert.Zero(t, allocs)
	assert.Greater(t, StackCounters(ss.r.S).SACKRecoveries, uint64(200))
}

// Loss recovery between two stacks allocates nothing either: a bulk transfer each way through
// 5 % loss with SACK (the peer's SACK blocks, the scoreboard, RACK, PRR, tail loss probes and
// RTOs), step after step of a millisecond of virtual time.
func TestLossyRecoveryAllocatesNothing(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(6100)
	require.True(t, c.sackOK && s.sackOK)
	p.A.SetFaults(stack.Faults{Seed: 7, Drop: 0.05})
	p.B.SetFaults(stack.Faults{Seed: 8, Drop: 0.05})
	t.Cleanup(func() {
		p.A.SetFaults(stack.Faults{})
		p.B.SetFaults(stack.Faults{})
	})
	data := make([]byte, 16384)
	iov := [][]byte{data}
	mc, mm := NewMsg(64), NewMsg(64)
	step := func() {
		_, _ = c.Send(iov, 0)
		_, _ = s.Send(iov, 0)
		p.Step()
		for _, x := range []struct {
			c *Conn
			m *Msg
		}{{c, mc}, {s, mm}} {
			x.c.ZcRecv(x.m)
			if _, err := x.c.ZcRecvDone(x.m); err != nil {
				panic(err)
			}
		}
		p.Clock.Advance(1 * ms)
	}
	for range 1000 {
		step()
	}
	allocs := testing.AllocsPerRun(3000, step)
	assert.Zero(t, allocs)
	ca, cb := StackCounters(p.A), StackCounters(p.B)
	t.Logf("A %d recoveries, %d RACK losses, %d probes, %d RTOs; B %d, %d, %d, %d", ca.SACKRecoveries,
		ca.RACKLosses, ca.TLPProbes, ca.RTOs, cb.SACKRecoveries, cb.RACKLosses, cb.TLPProbes, cb.RTOs)
	assert.NotZero(t, ca.SACKRecoveries+cb.SACKRecoveries)
	require.Equal(t, StateEstablished, c.State())
}

// The probe timer is lazy like the RTO it replaces: a ping-pong with SACK (so with a PTO
// armed on every request) moves the wheel timer about once per PTO, not once per round trip.
func TestTLPTimerLazy(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(6200)
	require.True(t, c.sackOK)
	msg := make([]byte, 64)
	buf := make([]byte, 128)
	rearms, last, kinds := 0, int64(0), map[rtxKind]int{}
	const rounds = 2000
	t0 := p.Clock.T
	for range rounds {
		_, err := c.SendSingle(msg, 0)
		require.NoError(t, err)
		kinds[c.rec.rtxKind]++
		for got := 0; got < len(msg); {
			p.Step()
			p.Clock.Advance(10_000)
			if k, err := s.Recv([][]byte{buf}); err == nil {
				got += k
			}
		}
		_, err = s.SendSingle(msg, 0)
		require.NoError(t, err)
		for got := 0; got < len(msg); {
			p.Step()
			p.Clock.Advance(10_000)
			if k, err := c.Recv([][]byte{buf}); err == nil {
				got += k
			}
		}
		if w := c.rtxT.When(); c.rtxT.Armed() && w != last {
			rearms++
			last = w
		}
	}
	pto, took := 2*c.srtt+tlpDelack, p.Clock.T-t0
	t.Logf("%d rounds in %v µs, PTO %v µs: the wheel timer moved %d times", rounds, took/1000, pto/1000, rearms)
	assert.GreaterOrEqual(t, kinds[rtxPTO], rounds-1, "every request once an RTT is known arms a probe")
	assert.LessOrEqual(t, rearms, int(took/pto)+2)
	assert.Zero(t, StackCounters(p.A).TLPProbes, "no probe without loss")
}

// TestMeasurePingPongTLP is the ping-pong measurement at default attributes (the
// 200 ms tcp_rto_min_ms) over net_memif with 0.1 % loss, without SACK (a lost message waits
// for the RTO) and with it (a tail loss probe repairs it). ZOCKET_MEASURE=1 (measure_test.go).
func TestMeasurePingPongTLP(t *testing.T) {
	measuring(t)
	const iters = 20000
	for j, sack := range []string{"0", "1"} {
		a, b := memifPair(t, "tcp_sack", sack)
		for i, loss := range []float64{0, 0.001} {
			l := pingpong(t, a, b, uint16(7300+10*j+i), loss, iters)
			fmt.Printf("ping-pong 64 B over net_memif, default attributes, tcp_sack=%s, loss %.1f%%: p50 %v p99 %v p99.9 %v max %v\n",
				sack, loss*100, pct(l, 0.5), pct(l, 0.99), pct(l, 0.999), l[len(l)-1])
		}
	}
}

// TestMeasureGoodputSACK is goodput over net_memif, 128 MiB one way with 1 % deterministic
// loss both ways, at default attributes, without SACK (NewReno) and with it (RFC 6675 with
// PRR, RACK-TLP); three runs each. ZOCKET_MEASURE=1 (measure_test.go).
func TestMeasureGoodputSACK(t *testing.T) {
	measuring(t)
	const n = 128 << 20
	for j, sack := range []string{"0", "1"} {
		a, b := memifPair(t, "tcp_sack", sack)
		for i := range 3 {
			before := StackCounters(a)
			g, ctr := goodput(t, a, b, uint16(7400+10*j+i), 0.01, n)
			fmt.Printf("goodput over net_memif, %d MiB one way, 1%% loss, tcp_sack=%s: %.2f Gbit/s; sender: rtx %d rto %d fast %d sack recoveries %d RACK losses %d probes %d\n",
				n>>20, sack, g, ctr.Retransmits, ctr.RTOs, ctr.FastRetransmits, // goodput counts these for the run
				ctr.SACKRecoveries-before.SACKRecoveries, ctr.RACKLosses-before.RACKLosses, ctr.TLPProbes-before.TLPProbes)
		}
	}
}
