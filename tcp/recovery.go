package tcp

import "github.com/zocket/zocket/wire"

// Loss recovery. With SACK (c.sackOK): the scoreboard (sack.go) and RACK (rack.go) find the
// lost segments, RFC 6675's recovery retransmits them, lost ones first and then new data,
// while pipe is under cwnd, with PRR (prr.go) sizing cwnd; it starts on DupThresh or a RACK
// loss and ends when the cumulative ACK reaches the recovery point, with cwnd = ssthresh. An
// RTO marks everything outstanding and not SACKed lost and resends it the same way, from one
// segment up.
// D-SACKs that show every retransmission of an episode spurious undo its reduction. Without
// SACK: NewReno (RFC 6582) on three duplicate ACKs, go-back-N on an RTO.

// recovery is a connection's loss-recovery state (Conn.rec).
type recovery struct {
	// Scoreboard totals (sack.go): bytes and segments SACKed, bytes lost, bytes of
	// retransmissions in flight.
	sackedBytes, sackedSegs int
	lostBytes, retransBytes int

	// The ACK being processed: when, SND.UNA and SACKed bytes before it, what it reported.
	now         int64
	priorUna    wire.Seq
	priorSacked int
	tlpDSACK    bool // a D-SACK of the tail loss probe
	undoNow     bool // its D-SACKs explained the episode's last retransmission

	// PRR (prr.go).
	prrDelivered, prrOut, recoverFS int
	prrMax                          wire.Seq // SND.MAX when prrOut last counted new data

	// Undo (RFC 3708's idea, as Linux's undo_marker): the episode's start, its
	// retransmissions not yet shown spurious, and cwnd and ssthresh before it.
	undoValid              bool
	undoMarker             wire.Seq
	undoRetrans            int
	undoCwnd, undoSsthresh uint32

	// RACK (rack.go): the most recently sent segment delivered (RACK.xmit_ts, end_seq) and
	// its RTT, the minimum RTT and when it was taken, the highest end delivered (RACK.fack),
	// reordering, the D-SACK widening of the window.
	xmitTs, rtt, minRTT, minRTTAt int64
	endSeq, fack, priorFack       wire.Seq
	fackOn, reoSeen, dsackRoundOn bool
	reoSteps, reoPersist          int
	dsackRound                    wire.Seq

	lastTx int64 // the last transmission's stamp (rack.go)
	ptoTx  int64 // lastTx when the PTO was set

	// TLP (rack.go): a probe is outstanding up to tlpEnd; it was a retransmission.
	tlpOn, tlpRetrans bool
	tlpEnd            wire.Seq

	recProbed bool // a recovery probe went since the last acceptable ACK (rack.go)

	rtxKind rtxKind // what rtxAt is for
}

// ackStart readies the recovery state for an acceptable ACK and applies its SACK blocks.
func (c *Conn) ackStart(g *segment) {
	if !c.sackOK {
		return
	}
	r := &c.rec
	if !r.fackOn {
		r.fack, r.fackOn = c.sndUna, true
	}
	r.priorUna, r.priorSacked, r.priorFack = c.sndUna, r.sackedBytes, r.fack
	r.now = c.s.st.Now()
	r.tlpDSACK, r.undoNow, r.recProbed = false, false, false
	if g.opts.NumSACK > 0 {
		c.sackInput(g)
	}
}

// recoveryAck is an ACK of new data during a fast recovery: a full ACK (the recovery point
// reached) ends it with cwnd = ssthresh (RFC 6675 §5, RFC 6582 §3.2 step 3, the RFC's second
// option, as Linux; the burst it may allow is bounded by txBurst); a partial ACK without SACK
// retransmits the next hole, deflates by what was acknowledged and adds one segment back
// (RFC 6582 §3.2 step 5). With SACK, PRR sizes cwnd (ackEnd).
func (c *Conn) recoveryAck(acked uint32) {
	if c.recover.LessThanEq(c.sndUna) {
		c.inRecovery = false
		c.cwnd = c.ssthresh
		if c.sackOK {
			c.rackRecoveryEnded()
		}
		return
	}
	if c.sackOK {
		return
	}
	c.s.ctr.PartialACKs++
	if c.cwnd > acked {
		c.cwnd -= acked
	} else {
		c.cwnd = 0
	}
	if acked >= uint32(c.mss) {
		c.cwnd += uint32(c.mss)
	}
	c.cwnd = max(c.cwnd, uint32(c.mss))
	c.dupAcks = 0
	c.retransmitHole()
}

// dupAck counts a duplicate ACK (RFC 5681 §2). Limited transmit (RFC 3042): each of the first
// two lets one new segment go beyond cwnd, so that a small window still yields three
// duplicates (not after an RTO: what would go is go-back-N, not new data; with SACK, only for
// a duplicate without blocks: SACKed bytes leave pipe by themselves). With SACK the rest is
// the scoreboard's (ackEnd); without, NewReno.
func (c *Conn) dupAck(g *segment) {
	s := c.s
	c.dupAcks++
	s.ctr.DupACKs++
	if c.sackOK {
		if c.dupAcks < dupThresh && !c.inRecovery && !c.rtoRecover && g.opts.NumSACK == 0 {
			c.limitedTx = uint32(c.dupAcks)
		}
		return
	}
	switch {
	case c.dupAcks < 3 && !c.inRecovery && !c.rtoRecover:
		c.limitedTx = uint32(c.dupAcks)
	case c.inRecovery:
		c.cwnd += uint32(c.mss) // RFC 6582 §3.2 step 4: inflate per duplicate ACK
		if c.dupAcks > c.holeDupLimit {
			// More duplicates than segments were in flight past the hole when it was
			// retransmitted: later segments overtook the retransmission, which was lost.
			// Send it again now rather than wait for the RTO (RFC 6582 has no such
			// rule; without SACK it is the only sign of a lost retransmission).
			s.ctr.LostRetransmits++
			c.retransmitHole()
		}
	case c.dupAcks == 3 && (!c.rtoRecover || c.cwnd > uint32(c.mss)):
		// Fast retransmit (RFC 5681 §3.2, RFC 6582 §3.2 step 2). After an RTO, duplicates
		// start a recovery only by RFC 6582 §4.2's ACK heuristic (cwnd above one
		// segment: the go-back-N has been acknowledged for a while, so the duplicates
		// are for a new hole rather than for segments sent twice).
		c.ssthresh = s.cc.onCongestion(c, false)
		c.cwnd = c.ssthresh + uint32(3*c.mss)
		c.inRecovery, c.recover = true, c.sndMax
		c.rtoRecover = false
		c.limitedTx = 0
		s.ctr.FastRetransmits++
		c.retransmitHole()
	}
}

// ackEnd finishes an ACK with SACK: TLP's and D-SACK's conclusions, loss detection, and what
// recovery sends now.
func (c *Conn) ackEnd(g *segment) {
	if !c.sackOK {
		return
	}
	r := &c.rec
	advanced := r.priorUna.LessThan(c.sndUna)
	delivered := r.sackedBytes - r.priorSacked
	if advanced {
		delivered += int(r.priorUna.Size(c.sndUna))
	}
	c.tlpAck(g, advanced)
	if r.undoNow && r.undoValid {
		c.undo()
	}
	if c.dupAcks >= dupThresh && g.opts.NumSACK == 0 && c.sqHead != c.sqTail {
		// Duplicates without blocks (a peer that offered SACK but sends none): the oldest is
		// lost by DupThresh.
		if e := c.seg(c.sqHead); e.sb&(sbSacked|sbLost) == 0 && e.seq.LessThan(c.sndMax) {
			c.markLost(e)
		}
	}
	if r.sackedSegs > 0 || r.lostBytes > 0 || c.inRecovery || c.rtoRecover {
		c.lossDetectedAck(delivered)
	}
}

// lossDetectedAck runs loss detection for an ACK, then recovery's sending with PRR.
func (c *Conn) lossDetectedAck(delivered int) {
	now := c.s.st.Now()
	marked, wait := c.detectLoss(now)
	if (marked || c.rec.lostBytes > 0) && !c.inRecovery && !c.rtoRecover {
		c.enterRecovery()
	}
	if c.inRecovery {
		c.prrAck(delivered)
	}
	if c.inRecovery || c.rtoRecover {
		c.retransmitLost()
	}
	if wait > 0 {
		c.armReorder(now + wait)
	}
}

// enterRecovery starts a SACK recovery (RFC 6675 §5 step 4): ssthresh from the congestion
// control, the recovery point at SND.MAX, PRR from zero; the PTO gives way to the RTO.
func (c *Conn) enterRecovery() {
	s := c.s
	c.undoStart()
	c.ssthresh = s.cc.onCongestion(c, false)
	c.inRecovery, c.recover = true, c.sndMax
	c.limitedTx = 0
	c.rec.tlpOn = false
	c.prrStart()
	s.ctr.SACKRecoveries++
	c.armRTO()
}

// undoStart records what an episode that starts now may have to undo.
func (c *Conn) undoStart() {
	r := &c.rec
	r.undoValid, r.undoMarker, r.undoRetrans = true, c.sndUna, 0
	r.undoCwnd, r.undoSsthresh = c.cwnd, c.ssthresh
}

// undo reverts an episode whose every retransmission the peer reported as a duplicate: cwnd
// and ssthresh come back (never lower than now), the recovery ends, the marks of segments
// deemed lost go (they were not), and the episode is taken as reordering (RACK then waits).
func (c *Conn) undo() {
	r := &c.rec
	c.cwnd = max(c.cwnd, r.undoCwnd)
	c.ssthresh = max(c.ssthresh, r.undoSsthresh)
	if c.inRecovery {
		c.rackRecoveryEnded()
	}
	c.inRecovery, c.rtoRecover = false, false
	r.undoValid = false
	r.reoSeen = true
	for i := c.sqHead; i != c.sqTail; i++ {
		c.seg(i).sb &^= sbLost
	}
	r.lostBytes = 0
	c.s.ctr.SpuriousUndone++
}

// sackRTO is an RTO with SACK (RFC 6675 §5.1, as Linux's tcp_enter_loss): everything sent and
// not SACKed is lost and goes again, oldest first, from the one segment cwnd now allows; the
// rest follows as ACKs open cwnd. An oldest segment SACKed but not acknowledged means the peer
// reneged (RFC 2018 §8): every SACK mark goes.
func (c *Conn) sackRTO() {
	if c.sqHead != c.sqTail && c.seg(c.sqHead).sb&sbSacked != 0 {
		c.sbClear()
	}
	r := &c.rec
	end := c.sentEnd()
	for i := c.sqHead; i != end; i++ {
		e := c.seg(i)
		if e.sb&sbSacked != 0 {
			continue
		}
		if e.sb&sbRetrans != 0 {
			e.sb &^= sbRetrans
			r.retransBytes -= e.span()
		}
		c.markLost(e)
	}
	r.tlpOn = false
	c.armRTO()
	c.retransmitLost()
}

// retransmitLost sends again, oldest first, the segments deemed lost and not yet resent
// (RFC 6675's NextSeg rule 1) while pipe is under cwnd. Retransmissions ignore the peer's
// window: they lie inside what it offered before.
func (c *Conn) retransmitLost() {
	if c.rec.lostBytes == 0 {
		return
	}
	end := c.sentEnd()
	for i := c.sqHead; i != end && c.pipe() < c.cwnd; i++ {
		if c.seg(i).sb&(sbSacked|sbLost|sbRetrans) == sbLost && !c.resendSeg(i) {
			return
		}
	}
}

// retransmitFirst sends the oldest unacknowledged segment again (fast retransmit, NewReno
// partial ACKs).
func (c *Conn) retransmitFirst() {
	if c.sqHead == c.sqTail || c.sqHead == c.sqNext {
		return
	}
	c.resendSeg(c.sqHead)
}

// retransmitHole retransmits the oldest segment in recovery and notes how many duplicate ACKs
// may still come for segments sent before it: one per segment in flight past it, plus two for
// reordering and duplication. More than that means the retransmission itself was lost.
func (c *Conn) retransmitHole() {
	c.retransmitFirst()
	past := uint32(0)
	if c.sqHead != c.sqTail {
		e := c.seg(c.sqHead)
		if end := e.seq.Add(uint32(e.len)); end.LessThan(c.sndMax) {
			past = (end.Size(c.sndMax) + uint32(c.mss) - 1) / uint32(c.mss)
		}
	}
	c.holeDupLimit = c.dupAcks + int(past) + 2
}

// retransmitFirstAnyway sends the oldest queued segment after an RTO that the window kept
// push from sending: it then counts as sent (SND.NXT passes it).
func (c *Conn) retransmitFirstAnyway() {
	if c.sqHead == c.sqTail || c.sqHead != c.sqNext || !c.state.synchronized() {
		return
	}
	e := c.seg(c.sqHead)
	if !e.seq.LessThan(c.sndMax) {
		return // never sent: the persist timer handles it
	}
	if c.resendSeg(c.sqHead) {
		c.sqNext++
		c.sndNxt = e.end()
	}
}

// resendSeg transmits sent segment i again and reports whether the port took it. The oldest,
// when longer than an MSS a frag-needed lowered (pmtu.go), goes a piece at a time instead;
// a later one that long waits.
func (c *Conn) resendSeg(i uint32) bool {
	s := c.s
	e := c.seg(i)
	if int(e.len) > c.mss {
		if i == c.sqHead {
			c.sendPiece()
		}
		return false
	}
	if e.m.Refcnt() != 1 && !c.unshare(e) {
		return false
	}
	c.patch(e.m, e.m.Data(), e.seq, segFlags(e), int(e.len), e.psum, 0)
	padFrame(e.m)
	e.m.RefcntAdd(1)
	s.txv[0] = e.m
	if c.transmit(1) != 1 {
		e.m.RefcntAdd(-1)
		return false
	}
	e.sentAt = c.stamp()
	s.ctr.Retransmits++
	s.ctr.TxSegments++
	c.ackSent()
	e.rexmit = true
	if c.sackOK {
		c.sbResent(e)
	}
	return true
}

// sbResent marks a segment resent: its retransmission is in flight, counted by PRR and by
// the episode's undo.
func (c *Conn) sbResent(e *txSeg) {
	r := &c.rec
	if e.sb&sbRetrans == 0 {
		e.sb |= sbRetrans
		r.retransBytes += e.span()
	}
	if c.inRecovery {
		r.prrOut += e.span()
	}
	if r.undoValid && (c.inRecovery || c.rtoRecover) {
		r.undoRetrans++
	}
}
