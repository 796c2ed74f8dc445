package tcp

import (
	"syscall"

	"github.com/zocket/zocket/wire"
)

// Timers run on the stack's tick wheel (stack.ArmTimer), never a goroutine. Each connection has
// these: retransmission (SYN, SYN-ACK, data and FIN, or zero-window probes), delayed ACK, the
// wait timer (FIN-WAIT-2 or TIME-WAIT) and keepalive (keepalive.go). Each has its own handler type over *Conn so that
// arming one converts a pointer to an interface and allocates nothing.

const (
	initialRTO = 1_000_000_000 // RFC 6298 §2.1
	synLossRTO = 3_000_000_000 // RFC 6298 §5.7: after a retransmitted SYN
	delackNs   = 40_000_000    // Linux's TCP_DELACK_MIN
)

type rtxHandler Conn
type delackHandler Conn
type waitHandler Conn

// The retransmission and delayed-ACK timers are lazy (as Linux's are): the connection keeps
// the deadline it wants (rtxAt, delackAt; 0 for none) and touches the wheel only when the
// wheel's timer would fire too late. Stopping is clearing the deadline; a timer that fires
// early re-arms itself for the deadline, one that fires with none does nothing. A ping-pong
// exchange thus arms each wheel timer about once per RTO, not once per segment.

// Expire handles the retransmission timer.
func (h *rtxHandler) Expire(now int64) {
	c := (*Conn)(h)
	switch {
	case c.rtxAt == 0:
	case now < c.rtxAt:
		c.s.st.ArmTimer(&c.rtxT, c.rtxAt, h)
	default:
		c.rtxAt = 0
		switch c.rec.rtxKind {
		case rtxPTO:
			c.onPTO(now)
		case rtxReorder:
			c.onReorderTimeout()
		default:
			c.onRTO()
		}
	}
}

// Expire sends the delayed ACK.
func (h *delackHandler) Expire(now int64) {
	c := (*Conn)(h)
	switch {
	case c.delackAt == 0:
	case now < c.delackAt:
		c.s.st.ArmTimer(&c.delackT, c.delackAt, h)
	default:
		c.delackAt = 0
		if c.ackPending > 0 || c.ackNow {
			c.sendAck()
		}
	}
}

// setRtx sets the retransmission deadline and what it is for.
func (c *Conn) setRtx(at int64, kind rtxKind) {
	c.rtxAt = at
	c.rec.rtxKind = kind
	if !c.rtxT.Armed() || c.rtxT.When() > at {
		c.s.st.ArmTimer(&c.rtxT, at, (*rtxHandler)(c))
	}
}

// Expire ends FIN-WAIT-2 or TIME-WAIT.
func (h *waitHandler) Expire(now int64) { (*Conn)(h).closeDown() }

// armRTO (re)starts the retransmission timer for the data in flight: a tail loss probe's
// timeout (rack.go) when one is allowed, else the RTO.
func (c *Conn) armRTO() {
	c.persisting = false
	if c.tlpArmable() || c.recoveryProbeArmable() {
		c.setRtx(c.s.st.Now()+c.pto(), rtxPTO)
		c.rec.ptoTx = c.rec.lastTx
		return
	}
	c.setRtx(c.s.st.Now()+c.rto, rtxRTO)
}

// armPersist starts probing a window too small for the next segment while nothing is in
// flight (RFC 9293 §3.8.6.1), backing off like the RTO.
func (c *Conn) armPersist() {
	if c.sndUna != c.sndMax || c.sqNext == c.sqTail || c.rtxAt != 0 {
		return
	}
	if c.more && c.sqNext+1 == c.sqTail {
		return // held by MsgMore, not by the window
	}
	c.persisting = true
	c.setRtx(c.s.st.Now()+c.rto, rtxRTO)
}

func (c *Conn) armDelack() {
	if c.delackAt != 0 {
		return
	}
	c.delackAt = c.s.st.Now() + delackNs
	if !c.delackT.Armed() || c.delackT.When() > c.delackAt {
		c.s.st.ArmTimer(&c.delackT, c.delackAt, (*delackHandler)(c))
	}
}

// backoff doubles the RTO up to tcp_rto_max_ms.
func (c *Conn) backoff() {
	c.rto *= 2
	if c.rto > c.s.cfg.rtoMax {
		c.rto = c.s.cfg.rtoMax
	}
}

// onRTO is the retransmission timer: SYN or SYN-ACK again (up to tcp_syn_retries /
// tcp_synack_retries), a window probe (up to tcp_retries unanswered), or the oldest data again
// with go-back-N (up to tcp_retries, then ETIMEDOUT; tcp_orphan_retries for both once the
// application closed the connection); the RTO doubles and cwnd falls to one segment (RFC 5681
// §3.1).
func (c *Conn) onRTO() {
	s := c.s
	switch c.state {
	case StateSynSent:
		if s.st.NeighbourFailed(c.nexthop) {
			c.abort(syscall.EHOSTUNREACH)
			return
		}
		if c.retries >= s.cfg.synRetries {
			c.abort(syscall.ETIMEDOUT)
			return
		}
		c.retries++
		c.synRetried = true
		c.backoff()
		s.ctr.Retransmits++
		c.sendCtl(c.iss, wire.TCPFlagSyn)
		c.armRTO()
		return
	case StateSynRecv:
		if c.retries >= s.cfg.synackRetries {
			if c.l != nil {
				c.abort(0)
			} else {
				c.abort(syscall.ETIMEDOUT)
			}
			return
		}
		c.retries++
		c.synRetried = true
		c.backoff()
		s.ctr.Retransmits++
		c.sendCtl(c.iss, wire.TCPFlagSyn|wire.TCPFlagAck)
		c.armRTO()
		return
	case StateClose, StateTimeWait:
		return
	}
	if c.sndUna == c.sndMax {
		// Nothing in flight: a window probe (one byte before sndUna, which the peer ACKs with
		// its current window), unless the window opened meanwhile.
		c.persisting = false
		c.probe = true
		sent := c.push(false)
		c.probe = false
		if sent > 0 || c.sqNext == c.sqTail {
			return
		}
		// RFC 9293 §3.8.6.1 allows probing for ever; as Linux (tcp_probe_timer), probes the
		// peer leaves unanswered count, and the retry limit ends the connection. Any segment
		// from the peer since the last probe resets the count.
		if c.lastRcv >= c.probeAt {
			c.probes = 0
		}
		lim, ctr := c.retryLimit(&s.ctr.PersistTimeouts)
		if c.probes >= lim {
			c.timeout(ctr)
			return
		}
		c.probes++
		c.probeAt = s.st.Now()
		s.ctr.WindowProbes++
		c.sendCtl(c.sndUna.Add(^uint32(0)), wire.TCPFlagAck)
		c.backoff()
		c.persisting = true
		c.setRtx(s.st.Now()+c.rto, rtxRTO)
		return
	}
	if lim, ctr := c.retryLimit(&s.ctr.RetriesTimeouts); c.retries >= lim {
		c.timeout(ctr)
		return
	}
	c.retries++
	s.ctr.RTOs++
	if c.sackOK && !c.inRecovery && !c.rtoRecover {
		c.undoStart() // an RTO the D-SACKs show spurious is undone too
	}
	if c.retries == 1 {
		// RFC 5681 §3.1 eq. (4); a repeated timeout for the same data keeps ssthresh.
		c.ssthresh = s.cc.onCongestion(c, true)
	}
	c.cwnd = uint32(c.mss)
	c.inRecovery = false
	c.rtoRecover, c.recover = true, c.sndMax
	c.dupAcks = 0
	c.limitedTx = 0
	c.backoff()
	if c.sackOK {
		c.sackRTO() // only what is not SACKed goes again (recovery.go)
		return
	}
	c.sqNext = c.sqHead
	c.sndNxt = c.sndUna
	c.armRTO()
	if c.push(true) == 0 && c.sndNxt == c.sndUna {
		// The peer's window shrank below the oldest segment: send it anyway, as Linux does,
		// so that the peer's answer carries its window; retries still count.
		c.retransmitFirstAnyway()
	}
}

// retryLimit is how many retransmissions of the same data, or window probes, may go
// unanswered, and the counter of the connections that reach it: tcp_retries (Linux's
// tcp_retries2) and ctr, or, once the application closed the connection (an orphan in
// FIN-WAIT-1, CLOSING or LAST-ACK, or with data a zero window holds), tcp_orphan_retries and
// OrphanTimeouts, so that a peer that vanished does not keep the endpoint and its buffers.
func (c *Conn) retryLimit(ctr *uint64) (int, *uint64) {
	if c.appClosed {
		return c.s.cfg.orphanRetries, &c.s.ctr.OrphanTimeouts
	}
	return c.s.cfg.retries, ctr
}

// timeout ends the connection when a timer's retries ran out, counting it in ctr: a RST for
// the peer, should it still be there, and ETIMEDOUT for the application; the queues are freed,
// and so is an orphan.
func (c *Conn) timeout(ctr *uint64) {
	*ctr++
	c.sendRst()
	c.abort(syscall.ETIMEDOUT)
}

// rttSample updates SRTT, RTTVAR and RTO from a measurement of r ns (RFC 6298 §2: α = 1/8,
// β = 1/4, K = 4), clamped to tcp_rto_min_ms..tcp_rto_max_ms.
func (c *Conn) rttSample(r int64) {
	if r < 1 {
		r = 1
	}
	if c.srtt == 0 {
		c.srtt = r
		c.rttvar = r / 2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	rto := c.srtt + max(4*c.rttvar, 1_000_000)
	c.rto = min(max(rto, c.s.cfg.rtoMin), c.s.cfg.rtoMax)
}

// enterTimeWait stops the other timers and holds the connection for tcp_timewait_ms (2·MSL);
// 0 closes at once.
func (c *Conn) enterTimeWait() {
	c.setState(StateTimeWait)
	st := c.s.st
	st.StopTimer(&c.rtxT)
	st.StopTimer(&c.delackT)
	st.StopTimer(&c.kaT)
	c.rtxAt, c.delackAt = 0, 0
	if c.s.cfg.timewait == 0 {
		c.closeDown()
		return
	}
	st.ArmTimer(&c.waitT, st.Now()+c.s.cfg.timewait, (*waitHandler)(c))
	c.s.tw.add(c)
}

// armFinwait bounds FIN-WAIT-2 by tcp_finwait_ms once the application has closed (Linux's
// tcp_fin_timeout applies to orphaned sockets only: a half-closed one may wait for its peer's
// data as long as it likes).
func (c *Conn) armFinwait() {
	if c.state == StateFinWait2 && c.appClosed && c.s.cfg.finwait > 0 && !c.waitT.Armed() {
		c.s.st.ArmTimer(&c.waitT, c.s.st.Now()+c.s.cfg.finwait, (*waitHandler)(c))
	}
}
