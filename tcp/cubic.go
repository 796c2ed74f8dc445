package tcp

import "math"

// CUBIC (RFC 9438), Linux's default congestion control: after a reduction the window follows
// W_cubic(t) = C·(t−K)³ + W_max, concave up to the window where the loss came (W_max) and
// convex beyond it, so that a long-delay path regains its window in time independent of the
// RTT; it never grows slower than Reno would (the Reno-friendly region, W_est). Windows are
// kept in bytes (W_cubic's segments times the current MSS) and time in the stack's clock.

const (
	cubicC     = 0.4                                   // segments / s³ (RFC 9438 §5.1)
	cubicBeta  = 0.7                                   // multiplicative decrease (§4.6)
	cubicAlpha = 3 * (1 - cubicBeta) / (1 + cubicBeta) // Reno-friendly additive increase (§4.3)
)

// cubicState is CUBIC's per-connection state (in ccState).
type cubicState struct {
	inEpoch    bool    // a congestion-avoidance stage is running (epochStart, k valid)
	afterRTO   bool    // the next stage follows a timeout: W_max = cwnd_epoch, K = 0 (§4.8)
	epochStart int64   // ns: when the stage began (shifted by idle time)
	k          float64 // s: when after epochStart W_cubic reaches W_max
	wMax       float64 // bytes: cwnd before the last reduction, lowered by fast convergence
	cwndPrior  float64 // bytes: cwnd before the last reduction
	wEst       float64 // bytes: the Reno-friendly estimate (§4.3)
	frac       float64 // bytes of growth below one byte, carried to the next ACK
}

// cubic is the congestionControl of RFC 9438, with RFC 5681's slow start (no HyStart++).
type cubic struct{}

func (cubic) name() string { return "cubic" }

func (cubic) start(c *Conn) { newReno{}.start(c) }

// window is W_cubic(t) in bytes for t seconds into the stage (RFC 9438 §4.2, Figure 1).
func (v *cubicState) window(t, mss float64) float64 {
	d := t - v.k
	return cubicC*mss*d*d*d + v.wMax
}

// beginEpoch starts a congestion-avoidance stage at cwnd (cwnd_epoch): K from the reduction
// (§4.2, Figure 2; negative when cwnd is already above W_max, which starts on the convex
// side), or after a timeout from the window itself (§4.8).
func (v *cubicState) beginEpoch(now int64, cwnd, mss float64) {
	v.inEpoch, v.epochStart, v.wEst, v.frac = true, now, cwnd, 0
	if v.afterRTO {
		v.wMax, v.k, v.afterRTO = cwnd, 0, false
		return
	}
	v.k = math.Cbrt((v.wMax - cwnd) / (cubicC * mss))
}

// onAck grows cwnd: slow start below ssthresh (§4.10), else towards W_cubic one RTT ahead,
// clamped to [cwnd, 1.5·cwnd] (§4.4, §4.5), or to W_est where that is larger (§4.3).
func (cubic) onAck(c *Conn, acked uint32) {
	if c.cwnd < c.ssthresh {
		c.cwnd += min(acked, uint32(c.mss))
		return
	}
	v := &c.ccs.cubicState
	now := c.s.st.Now()
	mss, cwnd, n := float64(c.mss), float64(c.cwnd), float64(acked)
	if !v.inEpoch {
		v.beginEpoch(now, cwnd, mss)
	}
	t := float64(now-v.epochStart) / 1e9
	alpha := cubicAlpha
	if v.wEst >= v.cwndPrior {
		alpha = 1 // §4.3: Reno's own increase once W_est has regained the old window
	}
	v.wEst += alpha * mss * n / cwnd
	if v.window(t, mss) < v.wEst {
		// Reno-friendly region: cwnd = W_est.
		if v.wEst > cwnd {
			c.cwnd = uint32(min(v.wEst, math.MaxUint32/2))
		}
		v.frac = 0
		return
	}
	target := min(max(v.window(t+float64(c.srtt)/1e9, mss), cwnd), 1.5*cwnd)
	grow := (target-cwnd)*n/cwnd + v.frac
	whole := math.Floor(grow)
	v.frac = grow - whole
	c.cwnd = uint32(min(cwnd+whole, math.MaxUint32/2))
}

// onCongestion notes W_max with fast convergence (§4.7: a loss below the last W_max means
// another flow is taking bandwidth, so this one lets go sooner) and returns ssthresh =
// β·FlightSize, at least 2·SMSS (§4.6). A timeout also marks the next stage as one after a
// timeout (§4.8).
func (cubic) onCongestion(c *Conn, timeout bool) uint32 {
	v := &c.ccs.cubicState
	cwnd := float64(c.cwnd)
	if cwnd < v.wMax {
		v.wMax = cwnd * (1 + cubicBeta) / 2
	} else {
		v.wMax = cwnd
	}
	v.cwndPrior = cwnd
	v.inEpoch = false
	v.afterRTO = timeout
	return max(uint32(uint64(c.sndUna.Size(c.sndMax))*7/10), uint32(2*c.mss)) // β = 0.7
}

// onIdle keeps idle time out of t (Linux's CA_EVENT_TX_START): the stage's start moves by the
// idle time, so that the curve resumes where it stopped. After a restart (cwnd back to the
// restart window) a new stage begins when slow start ends.
func (cubic) onIdle(c *Conn, idle int64, restart bool) {
	v := &c.ccs.cubicState
	switch {
	case restart:
		v.inEpoch = false
	case v.inEpoch:
		v.epochStart = min(v.epochStart+idle, c.s.st.Now())
	}
}
