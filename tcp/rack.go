package tcp

import "github.com/zocket/zocket/wire"

// RACK-TLP (RFC 8985), with SACK only (as Linux): time-based loss detection and tail loss
// probes. Its timers are the retransmission timer's deadline (rtxAt) with a kind, as Linux's
// icsk_retransmit_timer serves RTO, probe and reorder timeouts: arming one is setting a
// deadline, and the lazy wheel timer is touched only when it would fire too late.

// rtxKind says what the retransmission timer's deadline is for.
type rtxKind uint8

const (
	rtxRTO     rtxKind = iota // retransmission timeout (or the persist timer)
	rtxPTO                    // tail loss probe (RFC 8985 §7.2)
	rtxReorder                // RACK's reordering window closes on a segment (§6.2 step 5)
)

const (
	// minRTTWindow is how long a minimum RTT sample stands (Linux's tcp_min_rtt_wlen).
	minRTTWindow = 300_000_000_000
	// reoStepsMax bounds the D-SACK growth of the reordering window (min_RTT/4 steps; SRTT
	// caps it anyway).
	reoStepsMax = 64
	// tlpDelack is the probe timeout's allowance for a delayed ACK when one segment is in
	// flight: the minimum delayed-ACK timeout of Linux and of this stack (RFC 8985's
	// WCDelAckT is 200 ms, which at tcp_rto_min_ms's 200 ms would leave no room for a probe
	// before the RTO; a peer delaying longer gets a probe it D-SACKs).
	tlpDelack = delackNs
)

// sentAfter is RFC 8985's RACK_sent_after: whether the transmission at (t1, end s1) came after
// the one at (t2, s2), by time and then by sequence.
func sentAfter(t1 int64, s1 wire.Seq, t2 int64, s2 wire.Seq) bool {
	return t1 > t2 || t1 == t2 && s2.LessThan(s1)
}

// stamp is the time of a transmission (txSeg.sentAt): the stack's clock, made strictly
// increasing per connection, so that RACK orders the transmissions of one reactor turn (which
// read the same clock) as they happened rather than by sequence number: a segment pushed
// before a retransmission in the same turn does not make the retransmission look lost.
func (c *Conn) stamp() int64 {
	t := max(c.s.st.Now(), c.rec.lastTx+1)
	c.rec.lastTx = t
	return t
}

// rackDelivered takes a segment newly acknowledged, cumulatively or selectively (§6.2 steps 2
// and 3): RACK's most recently sent delivered segment and its RTT, the minimum RTT, and
// reordering (delivered below the highest end an earlier ACK delivered, without having been
// sent twice; the segments one ACK delivers count as delivered in sequence order).
func (c *Conn) rackDelivered(e *txSeg) {
	r := &c.rec
	end := e.end()
	if end.LessThan(r.priorFack) && !e.rexmit {
		r.reoSeen = true
	}
	if r.fack.LessThan(end) {
		r.fack = end
	}
	now := r.now
	rtt := max(now-e.sentAt, 1)
	if e.rexmit {
		if rtt < r.minRTT {
			return // ambiguous: most likely the original's ACK
		}
	} else if r.minRTT == 0 || rtt <= r.minRTT || now-r.minRTTAt > minRTTWindow {
		r.minRTT, r.minRTTAt = rtt, now
	}
	if sentAfter(e.sentAt, end, r.xmitTs, r.endSeq) {
		r.rtt, r.xmitTs, r.endSeq = rtt, e.sentAt, end
	}
}

// rackDSACK widens the reordering window by a step per round trip with a D-SACK, for 16
// recoveries (§6.2 step 4).
func (c *Conn) rackDSACK() {
	r := &c.rec
	if r.dsackRoundOn && c.sndUna.LessThan(r.dsackRound) {
		return
	}
	r.dsackRoundOn, r.dsackRound = true, c.sndMax
	r.reoSteps = min(r.reoSteps+1, reoStepsMax)
	r.reoPersist = 16
}

// rackRecoveryEnded counts a recovery towards the D-SACK widening's end.
func (c *Conn) rackRecoveryEnded() {
	r := &c.rec
	if r.reoPersist > 0 {
		r.reoPersist--
		if r.reoPersist == 0 {
			r.reoSteps = 0
		}
	}
}

// reoWnd is RACK's reordering window (§6.2 step 4): none while no reordering was seen and
// the connection is recovering or DupThresh segments are SACKed (DupThresh's behaviour),
// otherwise a quarter of the minimum RTT per step, at most SRTT (once there is one).
func (c *Conn) reoWnd() int64 {
	r := &c.rec
	if !r.reoSeen && (c.inRecovery || c.rtoRecover || r.sackedSegs >= dupThresh) {
		return 0
	}
	w := r.minRTT * int64(1+r.reoSteps) / 4
	if c.srtt > 0 {
		w = min(w, c.srtt)
	}
	return w
}

// detectLoss marks lost the sent segments the scoreboard shows lost: by RFC 6675's IsLost
// (DupThresh SACKed segments above, while no reordering was seen) and by RACK (§6.2 step 5:
// sent before the most recently delivered segment, at least RACK.rtt plus the reordering
// window ago; a retransmission in flight counts, so a lost retransmission is found). It
// reports whether it marked any, and how long until the next segment RACK waits for is lost
// (0: none waits).
func (c *Conn) detectLoss(now int64) (marked bool, wait int64) {
	r := &c.rec
	reo := c.reoWnd()
	above := 0
	for i := c.sentEnd(); i != c.sqHead; {
		i--
		e := c.seg(i)
		if e.sb&sbSacked != 0 {
			above++
			continue
		}
		if e.sb&(sbLost|sbRetrans) == sbLost {
			continue // due for retransmission already
		}
		lost := e.sb&sbLost == 0 && !r.reoSeen && above >= dupThresh
		if !lost && r.xmitTs != 0 && sentAfter(r.xmitTs, r.endSeq, e.sentAt, e.end()) {
			if left := e.sentAt + r.rtt + reo - now; left > 0 {
				wait = max(wait, left)
			} else {
				lost = true
				c.s.ctr.RACKLosses++
			}
		}
		if lost {
			c.markLost(e)
			marked = true
		}
	}
	return marked, wait
}

// armReorder sets the reorder timer for at, unless the retransmission timer is due earlier.
func (c *Conn) armReorder(at int64) {
	if c.rtxAt == 0 || at < c.rtxAt {
		c.setRtx(at, rtxReorder)
	}
}

// onReorderTimeout is the reorder timer: what RACK waited for is lost now; recovery starts
// (or goes on) and the retransmission timer comes back. PRR counts one segment delivered, as
// Linux's tcp_rack_reo_timeout does, so that the first retransmission can go.
func (c *Conn) onReorderTimeout() {
	c.armRTO()
	c.lossDetectedAck(c.mss)
	if c.sqNext != c.sqTail {
		c.push(false)
	}
}

// tlpArmable reports whether the next retransmission deadline is a tail loss probe (§7.2):
// SACK negotiated, an RTT measured, data in flight, nothing SACKed (RACK's reorder timer
// watches that), no recovery and no probe outstanding.
func (c *Conn) tlpArmable() bool {
	return c.sackOK && c.srtt > 0 && !c.inRecovery && !c.rtoRecover && !c.rec.tlpOn &&
		c.rec.sackedSegs == 0 && c.sndUna != c.sndMax && c.state.synchronized() &&
		c.state != StateTimeWait
}

// recoveryProbeArmable reports whether the next retransmission deadline is a recovery probe:
// a SACK recovery with data in flight, an RTT measured, and no probe sent since the last
// acceptable ACK. RFC 8985 (and Linux) probe only outside recovery, so a recovery whose last
// transmissions are all lost (a retransmission and everything sent after it, or the peer's
// ACKs of them) hears nothing until the RTO; a probe after PTO of silence gets an ACK whose
// SACK blocks let RACK find the lost retransmission (TestRecoveryProbe). It changes neither
// cwnd nor ssthresh: the recovery has reduced them already.
func (c *Conn) recoveryProbeArmable() bool {
	return c.sackOK && c.srtt > 0 && c.inRecovery && !c.rec.recProbed &&
		c.sndUna != c.sndMax && c.state.synchronized() && c.state != StateTimeWait
}

// pto is the probe timeout (§7.2): two SRTTs, plus the delayed-ACK allowance when a single
// segment is in flight, at most the RTO.
func (c *Conn) pto() int64 {
	p := 2 * c.srtt
	if c.sndUna.Size(c.sndMax) <= uint32(c.mss) {
		p += tlpDelack
	}
	return min(p, c.rto)
}

// onPTO is the probe timer (§7.3): one segment goes, new data if the peer's window allows it
// (past cwnd), otherwise the last segment sent again; the RTO follows. A timer that fires
// before a PTO has passed since the last transmission (push does not move it) moves to that
// time.
func (c *Conn) onPTO(now int64) {
	recovery := c.recoveryProbeArmable()
	if !recovery && !c.tlpArmable() {
		c.armRTO()
		return
	}
	r := &c.rec
	if r.lastTx != r.ptoTx {
		// Sent since the PTO was set: it runs from the last transmission.
		r.ptoTx = r.lastTx
		if at := r.lastTx + c.pto(); now < at {
			c.setRtx(at, rtxPTO)
			return
		}
	}
	if recovery {
		c.onRecoveryProbe(now)
		return
	}
	r.tlpOn, r.tlpRetrans = true, false
	sent := c.sqNext != c.sqTail && c.probeNewData()
	if !sent {
		last := c.sentEnd() - 1
		sent = c.seg(last).sb&sbSacked == 0 && c.resendSeg(last)
		r.tlpRetrans = sent
	}
	r.tlpOn = sent
	if !sent {
		c.setRtx(now+c.rto, rtxRTO) // nothing could go (no buffer, a full ring): the RTO's turn
		return
	}
	r.tlpEnd = c.sndMax
	c.s.ctr.TLPProbes++
	c.armRTO()
}

// onRecoveryProbe is the probe timer in a recovery: one segment goes, a lost one not yet
// resent or new data if the peer's window allows it (past cwnd), otherwise the highest sent
// segment not SACKed again; the RTO follows.
func (c *Conn) onRecoveryProbe(now int64) {
	c.rec.recProbed = true
	sent := c.sqNext != c.sqTail && c.probeNewData()
	for i := c.sentEnd(); !sent && i != c.sqHead; {
		i--
		if c.seg(i).sb&sbSacked == 0 {
			sent = c.resendSeg(i)
			break
		}
	}
	if !sent {
		c.setRtx(now+c.rto, rtxRTO)
		return
	}
	c.s.ctr.RecoveryProbes++
	c.armRTO()
}

// probeNewData sends one new segment as the probe: cwnd is lifted to what is in flight plus
// a segment for the one push.
func (c *Conn) probeNewData() bool {
	cwnd, ltx := c.cwnd, c.limitedTx
	c.cwnd, c.limitedTx = c.pipe()+uint32(c.mss), 0
	sent := c.push(true)
	c.cwnd, c.limitedTx = cwnd, ltx
	return sent > 0
}

// tlpAck is TLP's loss detection on each ACK (§7.4): once the ACK reaches the probe's end, a
// probe of new data, or a retransmission the peer D-SACKed (or answered with a bare duplicate)
// was no repair; an ACK beyond it without D-SACK means the probe repaired a loss, and cwnd
// is reduced for it (TLPRecoveries).
func (c *Conn) tlpAck(g *segment, advanced bool) {
	r := &c.rec
	if !r.tlpOn || g.ack.LessThan(r.tlpEnd) {
		return
	}
	switch {
	case !r.tlpRetrans, r.tlpDSACK:
		r.tlpOn = false
	case r.tlpEnd.LessThan(g.ack):
		r.tlpOn = false
		c.ssthresh = c.s.cc.onCongestion(c, false)
		c.cwnd = c.ssthresh
		c.s.ctr.TLPRecoveries++
	case !advanced && g.opts.NumSACK == 0:
		r.tlpOn = false
	}
}
