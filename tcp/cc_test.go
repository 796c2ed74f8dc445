package tcp

import (
	"fmt"
	"math"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Congestion control (scenario 32 of the test plan): CUBIC's curve, its regions, fast
// convergence and timeouts (RFC 9438), tcp_congestion, cwnd validation (RFC 7661) with the
// per-RTO decay, and the restart after idle (RFC 5681 §4.1). Packet scripts with explicit
// time: the peer acknowledges a whole flight with one ACK per round trip, so that each round's
// cwnd can be set against the formulas.

const ccMSS = 1460

// wCubic is RFC 9438's W_cubic(t) in segments (Figure 1), with K from W_max and cwnd_epoch
// (Figure 2); written from the RFC, apart from cubic.go.
func wCubic(t, wMax, cwndEpoch float64) float64 {
	k := math.Cbrt((wMax - cwndEpoch) / 0.4)
	return 0.4*math.Pow(t-k, 3) + wMax
}

// ccRun is a script connection whose peer acknowledges whole flights.
type ccRun struct {
	t  *testing.T
	sc *script
	c  *Conn
}

// newCCRun establishes a connection with an initial window of iw segments and an RTO floor of
// rtoMinMs (so that a round trip of a second does not count as idle).
func newCCRun(t *testing.T, iw int, rtoMinMs int, kv ...string) *ccRun {
	kv = append([]string{"tcp_initial_cwnd", strconv.Itoa(iw * ccMSS), "tcp_rto_min_ms", strconv.Itoa(rtoMinMs)}, kv...)
	sc := newScript(t, kv...)
	return &ccRun{t: t, sc: sc, c: sc.established()}
}

// offer queues as many whole segments as cwnd lets go (the peer's window permitting), so
// that the flight fills cwnd and nothing waits behind it, and returns how many left. The stack
// polls first, as an application's loop would (the stack's clock moves at each poll).
func (r *ccRun) offer() int {
	c := r.c
	r.sc.r.S.Perform()
	room := int(min(c.cwnd, c.sndWnd)) - int(c.sndUna.Size(c.sndMax))
	n := room / ccMSS
	require.Equal(r.t, n, r.queue(n))
	return n
}

// queue has the application send n whole segments and returns how many left at once.
func (r *ccRun) queue(n int) int {
	if n > 0 {
		w, err := r.c.SendSingle(make([]byte, n*ccMSS), 0)
		require.NoError(r.t, err)
		require.Equal(r.t, n*ccMSS, w)
	}
	return len(r.sc.emitted())
}

// ackAll advances the clock by rtt and acknowledges everything sent, returning the bytes
// acknowledged.
func (r *ccRun) ackAll(rtt time.Duration) uint32 {
	c := r.c
	r.sc.r.Clock.Advance(int64(rtt))
	acked := c.sndUna.Size(c.sndMax)
	r.sc.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndMax})
	return acked
}

// loss has the peer send three duplicate ACKs (a fast retransmit) and then, after rtt,
// acknowledge everything: the recovery ends with cwnd = ssthresh.
func (r *ccRun) loss(rtt time.Duration) {
	c := r.c
	dup := seg{flags: fA, seq: peerISN + 1, ack: c.sndUna}
	for range 3 {
		r.sc.send(dup)
	}
	r.sc.expect(flags(fPA), seqNum(c.sndUna))
	require.True(r.t, c.inRecovery)
	r.ackAll(rtt)
	require.False(r.t, c.inRecovery)
	require.Equal(r.t, c.ssthresh, c.cwnd)
}

// renoAlpha is RFC 9438 §4.3's α_cubic for β = 0.7.
const renoAlpha = 3 * (1 - 0.7) / (1 + 0.7)

// checkCubicRound checks cwnd after an ACK of acked bytes at t seconds into the stage against
// W_cubic one smoothed RTT ahead (§4.4, §4.5): target clamped to [cwnd, 1.5·cwnd]; cwnd grows
// by (target − cwnd)·acked/cwnd, which with a whole flight acknowledged lands within half an
// MSS below the target.
func checkCubicRound(t *testing.T, c *Conn, before uint32, acked uint32, tsec, wMax, cwndEpoch float64) {
	t.Helper()
	w := wCubic(tsec+float64(c.srtt)/1e9, wMax, cwndEpoch) * ccMSS
	target := min(max(w, float64(before)), 1.5*float64(before))
	want := float64(before) + (target-float64(before))*float64(acked)/float64(before)
	assert.InDelta(t, want, float64(c.cwnd), 1, "t=%.1f s: cwnd %d, W_cubic(t+RTT) %.0f", tsec, c.cwnd, w)
	assert.LessOrEqual(t, float64(c.cwnd), target+1)
	assert.GreaterOrEqual(t, float64(c.cwnd), target-ccMSS/2-1)
}

// CUBIC after a loss at W_max = 20 segments with a one-second round trip: cwnd follows
// W_cubic(t+RTT), concave (growth slowing) below W_max and convex (growth quickening) beyond;
// the first ACK of the stage, where W_cubic(0) = cwnd_epoch, is in the Reno-friendly region
// (cwnd = W_est). Idle time (nothing in flight) is kept out of t.
func TestCubicGrowthCurve(t *testing.T) {
	r := newCCRun(t, 20, 3000)
	c := r.c
	const rtt = time.Second
	require.Equal(t, 20, r.offer())
	r.loss(rtt)
	const wMax, epoch = 20.0, 14.0 // segments: ssthresh = 0.7 × FlightSize
	require.Equal(t, uint32(epoch*ccMSS), c.ssthresh)
	k := math.Cbrt((wMax - epoch) / 0.4)
	require.InDelta(t, 2.466, k, 0.001)

	// t = 0: W_cubic(0) = 14 < W_est = 14 + α·acked/cwnd.
	r.offer()
	before := c.cwnd
	acked := r.ackAll(rtt)
	assert.InDelta(t, float64(before)+renoAlpha*ccMSS*float64(acked)/float64(before), float64(c.cwnd), 1)

	var grew []float64
	tsec := 0.0
	for round := 1; round <= 5; round++ {
		if round == 4 { // the application pauses 1.5 s: nothing in flight, t stands still
			r.sc.r.Clock.Advance(int64(1500 * time.Millisecond))
		}
		r.offer()
		before := c.cwnd
		acked := r.ackAll(rtt)
		tsec += rtt.Seconds()
		checkCubicRound(t, c, before, acked, tsec, wMax, epoch)
		grew = append(grew, float64(c.cwnd)-float64(before))
		switch {
		case tsec+float64(c.srtt)/1e9 < k:
			assert.Less(t, float64(c.cwnd), wMax*ccMSS, "concave region below W_max")
		case tsec > k:
			assert.Greater(t, float64(c.cwnd), wMax*ccMSS, "convex region above W_max")
		}
		assert.Less(t, c.ccs.wEst, wCubic(tsec, wMax, epoch)*ccMSS, "cubic, not Reno-friendly, region")
	}
	assert.Greater(t, grew[0], grew[1], "concave: growth slows towards W_max")
	assert.Less(t, grew[2], grew[3], "convex: growth quickens past W_max")
	assert.Less(t, grew[3], grew[4], "convex: growth quickens past W_max")
	assert.Zero(t, StackCounters(r.sc.r.S).CwndRestarts, "a round trip is not idle")
	assert.Zero(t, StackCounters(r.sc.r.S).CwndDecays, "a cwnd-limited flow keeps its cwnd")
}

// Fast convergence (RFC 9438 §4.7): a loss below the last W_max lowers W_max to
// cwnd·(1+β)/2, one above it sets W_max = cwnd; the next stage's curve is built on that W_max.
func TestCubicFastConvergence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rounds int  // rounds of growth after the first loss at 20 segments
		below  bool // the second loss comes below W_max = 20 segments
	}{
		{"loss below W_max", 1, true},
		{"loss above W_max", 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newCCRun(t, 20, 3000)
			c := r.c
			const rtt = time.Second
			r.offer()
			r.loss(rtt)
			for range tc.rounds + 1 {
				r.offer()
				r.ackAll(rtt)
			}
			r.offer()
			cwnd := float64(c.cwnd)
			flight := c.sndUna.Size(c.sndMax)
			require.Equal(t, tc.below, cwnd < 20*ccMSS, "cwnd %v", cwnd)
			r.loss(rtt)
			wantMax := cwnd
			if tc.below {
				wantMax = cwnd * (1 + 0.7) / 2
			}
			assert.InDelta(t, wantMax, c.ccs.wMax, 0.01)
			assert.Equal(t, flight*7/10, c.ssthresh, "ssthresh = β·FlightSize")

			// The next stage: W_cubic with the new W_max.
			epoch := float64(c.cwnd) / ccMSS
			r.offer()
			r.ackAll(rtt) // t = 0: the stage starts
			r.offer()
			before := c.cwnd
			acked := r.ackAll(rtt)
			checkCubicRound(t, c, before, acked, 1, wantMax/ccMSS, epoch)
		})
	}
}

// ackEach advances the clock by rtt and acknowledges the flight one segment at a time.
func (r *ccRun) ackEach(rtt time.Duration) {
	c := r.c
	r.sc.r.Clock.Advance(int64(rtt))
	for end := c.sndMax; c.sndUna.LessThan(end); {
		r.sc.send(seg{flags: fA, seq: peerISN + 1, ack: c.sndUna.Add(min(ccMSS, c.sndUna.Size(end)))})
	}
}

// After a timeout (RFC 9438 §4.8) ssthresh is β·FlightSize, cwnd restarts from one segment
// in slow start, and the first congestion-avoidance stage grows from its own start: K = 0 and
// W_max = cwnd_epoch, so W_cubic(t) = cwnd_epoch + C·t³, convex at once.
func TestCubicAfterTimeout(t *testing.T) {
	r := newCCRun(t, 20, 3000)
	c := r.c
	const rtt = time.Second
	require.Equal(t, 20, r.offer())
	r.sc.r.Clock.Advance(int64(3100 * time.Millisecond))
	r.sc.expect(flags(fPA), seqNum(c.sndUna)) // the RTO: go back N with cwnd = 1 SMSS
	require.Equal(t, uint64(1), StackCounters(r.sc.r.S).RTOs)
	require.Equal(t, uint32(14*ccMSS), c.ssthresh, "β·FlightSize")
	require.Equal(t, uint32(ccMSS), c.cwnd)
	r.ackAll(rtt)
	for c.cwnd < c.ssthresh { // slow start back to ssthresh; the stage begins at its last ACKs
		r.offer()
		r.ackEach(rtt)
	}
	require.True(t, c.ccs.inEpoch)
	assert.Zero(t, c.ccs.k)
	const epoch = 14.0 // segments: cwnd when the stage began, ssthresh
	assert.Equal(t, epoch*ccMSS, c.ccs.wMax, "W_max = cwnd_epoch")
	for round := 1; round <= 4; round++ {
		r.offer()
		before := c.cwnd
		acked := r.ackAll(rtt)
		tsec := float64(round)
		assert.GreaterOrEqual(t, float64(c.cwnd), wCubic(tsec, epoch, epoch)*ccMSS, "t=%v", tsec)
		if round >= 2 { // past the Reno-friendly start
			checkCubicRound(t, c, before, acked, tsec, epoch, epoch)
		}
	}
}

// The Reno-friendly region (RFC 9438 §4.3): with a short round trip W_est (α_cubic per RTT
// up to cwnd_prior, then one segment per RTT) outgrows W_cubic, and cwnd follows W_est.
func TestCubicRenoFriendly(t *testing.T) {
	r := newCCRun(t, 20, 200)
	c := r.c
	const rtt = 10 * time.Millisecond
	r.offer()
	r.loss(rtt)
	west := float64(c.cwnd)
	const prior = 20 * ccMSS
	tsec := 0.0
	sawAlphaOne := false
	for round := 0; round < 25; round++ {
		r.offer()
		before := c.cwnd
		acked := r.ackAll(rtt)
		alpha := renoAlpha
		if west >= prior {
			alpha, sawAlphaOne = 1, true
		}
		west += alpha * ccMSS * float64(acked) / float64(before)
		assert.InDelta(t, west, float64(c.cwnd), 1, "round %d", round)
		assert.Less(t, wCubic(tsec, 20, 14)*ccMSS, west, "round %d: Reno-friendly region", round)
		tsec += rtt.Seconds()
	}
	assert.True(t, sawAlphaOne, "W_est passed cwnd_prior: α = 1")
	assert.Greater(t, c.cwnd, uint32(prior), "Reno's pace regains W_max in 25 round trips")
}

// tcp_congestion chooses the algorithm (default cubic): on a fast retransmit with 20
// segments in flight ssthresh is β·FlightSize, 0.7 for CUBIC and 0.5 for NewReno. Unknown
// names are refused by the attribute.
func TestCongestionChoice(t *testing.T) {
	for _, tc := range []struct {
		value, name  string
		ssthreshSegs uint32
	}{
		{"", "cubic", 14},
		{"cubic", "cubic", 14},
		{"newreno", "newreno", 10},
	} {
		t.Run(tc.name+"/"+tc.value, func(t *testing.T) {
			var kv []string
			if tc.value != "" {
				kv = []string{"tcp_congestion", tc.value}
			}
			r := newCCRun(t, 20, 200, kv...)
			assert.Equal(t, tc.name, r.sc.s.cc.name())
			r.offer()
			r.loss(10 * time.Millisecond)
			assert.Equal(t, tc.ssthreshSegs*ccMSS, r.c.ssthresh)
		})
	}
	for _, bad := range []string{"reno", "bbr", "Cubic", ""} {
		err := attr.NewDefault().Set("tcp_congestion", bad)
		var ae *attr.Error
		require.ErrorAs(t, err, &ae, bad)
		assert.Equal(t, "tcp_congestion", ae.Name)
		assert.ErrorIs(t, err, syscall.EINVAL)
	}
}

// Congestion-window validation (RFC 7661), the figure: a 64-byte ping-pong never fills
// cwnd, so however many round trips it makes cwnd stays at the initial window (it grew by
// 64 bytes a round trip, without bound, before), with either algorithm.
func TestAppLimitedPingPongCwndBounded(t *testing.T) {
	for _, cc := range []string{"cubic", "newreno"} {
		t.Run(cc, func(t *testing.T) {
			p := newPair(t, "tcp_congestion", cc)
			c, s, _ := p.connect(6100)
			iw := c.initialWindow()
			msg := NewMsg(8)
			payload := make([]byte, 64)
			rbuf := [][]byte{make([]byte, 256)}
			const rounds = 20000
			for i := 0; i < rounds; i++ {
				echoRound(t, p, c, s, msg, payload, rbuf)
				p.Clock.Advance(int64(20 * time.Microsecond))
			}
			assert.LessOrEqual(t, c.cwnd, 2*iw, "client cwnd after %d round trips", rounds)
			assert.LessOrEqual(t, s.cwnd, 2*iw, "server cwnd after %d round trips", rounds)
			assert.Equal(t, iw, c.cwnd)
			ctr := StackCounters(p.A)
			assert.Greater(t, ctr.CwndAppLimited, uint64(rounds/2))
			assert.Zero(t, ctr.CwndRestarts)
			p.A.SnapshotSync(func(sn *stack.Snapshot) { // what zfstackdump and the metrics read
				assert.Equal(t, ctr.CwndAppLimited, sn.Transport[stack.TCPCwndAppLimited])
				assert.Equal(t, "tcp_cwnd_app_limited", stack.TCPCwndAppLimited.Name())
			})
		})
	}
}

// Slow start still opens cwnd when the flight fills it: a bulk flight of 10 segments acked
// one by one doubles cwnd.
func TestCwndLimitedSlowStartGrows(t *testing.T) {
	r := newCCRun(t, 10, 200)
	c := r.c
	require.Equal(t, 10, r.offer())
	for i := 1; i <= 10; i++ {
		r.sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1 + wire.Seq(i*ccMSS)})
	}
	assert.Equal(t, uint32(20*ccMSS), c.cwnd)
	assert.Zero(t, StackCounters(r.sc.r.S).CwndAppLimited)
}

// Restart after idle (RFC 5681 §4.1): after more than an RTO without sending, with nothing in
// flight, the next flight starts from the restart window min(IW, cwnd) and ssthresh keeps 3/4
// of the old cwnd; a shorter pause keeps cwnd.
func TestIdleRestart(t *testing.T) {
	for _, cc := range []string{"cubic", "newreno"} {
		for _, tc := range []struct {
			idle    time.Duration
			restart bool
		}{
			{100 * time.Millisecond, false},
			{300 * time.Millisecond, true},
		} {
			t.Run(cc+"/"+tc.idle.String(), func(t *testing.T) {
				r := newCCRun(t, 10, 200, "tcp_congestion", cc)
				c := r.c
				// Slow start to 20 segments, then a flight of 20 acknowledged at once: 21.
				require.Equal(t, 10, r.offer())
				for i := 1; i <= 10; i++ {
					r.sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1 + wire.Seq(i*ccMSS)})
				}
				require.Equal(t, 20, r.offer())
				r.ackAll(time.Millisecond)
				grown := c.cwnd
				require.Greater(t, grown, uint32(20*ccMSS))
				require.Equal(t, c.sndUna, c.sndMax)
				require.Equal(t, int64(200*ms), c.rto)
				ssthresh := c.ssthresh

				r.sc.r.Clock.Advance(int64(tc.idle))
				r.sc.r.S.Perform()
				sent := r.queue(30)
				if tc.restart {
					assert.Equal(t, 10, sent, "restart window = IW")
					assert.Equal(t, c.initialWindow(), c.cwnd)
					assert.Equal(t, max(ssthresh, grown/4*3), c.ssthresh)
					assert.Equal(t, uint64(1), StackCounters(r.sc.r.S).CwndRestarts)
					r.sc.r.S.SnapshotSync(func(sn *stack.Snapshot) {
						assert.Equal(t, uint64(1), sn.Transport[stack.TCPCwndRestarts])
						assert.Equal(t, "tcp_cwnd_restarts", stack.TCPCwndRestarts.Name())
					})
				} else {
					assert.Equal(t, int(min(grown, c.sndWnd)/ccMSS), sent)
					assert.Equal(t, grown, c.cwnd)
					assert.Zero(t, StackCounters(r.sc.r.S).CwndRestarts)
				}
			})
		}
	}
}

// Congestion avoidance allocates nothing per ACK with either algorithm (CUBIC's curve is
// floating-point arithmetic on per-connection state): a bulk stream between two stacks with
// ssthresh at the initial window, so that every ACK goes through onAck's avoidance branch.
func TestCongestionAvoidanceAllocatesNothing(t *testing.T) {
	for i, cc := range []string{"cubic", "newreno"} {
		t.Run(cc, func(t *testing.T) {
			p := newPair(t, "tcp_congestion", cc, "tcp_delayed_ack", "0")
			c, s, _ := p.connect(uint16(6200 + i))
			c.ssthresh = c.cwnd
			data := make([]byte, 16384)
			msg := NewMsg(64)
			round := func() {
				for { // fill the send queue: the stream is never application-limited
					if _, err := c.SendSingle(data, 0); err == syscall.EAGAIN {
						break
					} else if err != nil {
						panic(err)
					}
				}
				p.Step()
				s.ZcRecv(msg)
				if len(msg.Iov) > 0 {
					s.ZcRecvDone(msg)
				}
				p.Step()
				p.Clock.Advance(int64(100 * time.Microsecond))
			}
			round()
			before := c.cwnd
			assert.Zero(t, testing.AllocsPerRun(500, round))
			assert.Greater(t, c.cwnd, before, "congestion avoidance opened cwnd")
			assert.Equal(t, cc == "cubic", c.ccs.inEpoch)
			require.Equal(t, StateEstablished, c.State())
		})
	}
}

// An application-limited connection lets cwnd decay (RFC 2861's rule as Linux keeps it): once
// an RTO has passed without the flight filling cwnd, cwnd halves towards the largest flight
// used (never below IW), again each RTO; a bulk phase's cwnd does not survive a long trickle.
func TestCwndDecaysWhenAppLimited(t *testing.T) {
	for _, cc := range []string{"cubic", "newreno"} {
		t.Run(cc, func(t *testing.T) {
			r := newCCRun(t, 10, 200, "tcp_congestion", cc)
			c := r.c
			iw := c.initialWindow()
			require.Equal(t, 10, r.offer())
			r.ackEach(time.Millisecond)
			require.Equal(t, 20, r.offer())
			r.ackEach(time.Millisecond) // slow start: 40 segments
			require.Equal(t, uint32(40*ccMSS), c.cwnd)
			require.Equal(t, int64(200*ms), c.rto)
			limitedAt := r.sc.r.Clock.T
			const rtt = 10 * time.Millisecond
			decays := func() uint64 { return StackCounters(r.sc.r.S).CwndDecays }
			for decays() == 0 {
				require.Less(t, r.sc.r.Clock.T-limitedAt, 300*ms, "no decay")
				require.Equal(t, uint32(40*ccMSS), c.cwnd, "cwnd neither grows nor falls before")
				r.sc.r.S.Perform()
				require.Equal(t, 2, r.queue(2)) // two segments a round trip: application-limited
				r.ackAll(rtt)
			}
			assert.GreaterOrEqual(t, r.sc.r.Clock.T-limitedAt, c.rto)
			assert.Equal(t, (40*ccMSS+iw)/2, c.cwnd, "halfway to max(used, IW)")
			for range 100 { // a second of trickle: five more RTOs
				r.sc.r.S.Perform()
				r.queue(2)
				r.ackAll(rtt)
			}
			assert.GreaterOrEqual(t, decays(), uint64(4))
			r.sc.r.S.SnapshotSync(func(sn *stack.Snapshot) {
				assert.Equal(t, decays(), sn.Transport[stack.TCPCwndDecays])
			})
			assert.GreaterOrEqual(t, c.cwnd, iw)
			assert.Less(t, c.cwnd, iw+ccMSS, "down to about IW")
		})
	}
}

// Both algorithms under the seeded fault shim (lossy_test.go runs the default, cubic): 1 MiB
// each way through loss, reordering and duplication, byte-exact, closed cleanly. The virtual
// time each took is logged for comparison.
func TestLossyLinkPerCongestion(t *testing.T) {
	for _, cc := range []string{"cubic", "newreno"} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", cc, seed), func(t *testing.T) {
				p := newPair(t, "tcp_congestion", cc, "tcp_timewait_ms", "1000")
				c, s, _ := p.connect(7400)
				f := stack.Faults{Drop: 0.03, Reorder: 0.05, Duplicate: 0.03}
				fa, fb := f, f
				fa.Seed, fb.Seed = seed, seed+0x5eed
				p.A.SetFaults(fa)
				p.B.SetFaults(fb)
				stall, took := duplex(t, p, c, s, 1<<20, seed)
				p.A.SetFaults(stack.Faults{})
				p.B.SetFaults(stack.Faults{})
				t.Logf("virtual %v, longest stall %v, RTOs %d/%d", time.Duration(took), time.Duration(stall),
					StackCounters(p.A).RTOs, StackCounters(p.B).RTOs)
			})
		}
	}
}
