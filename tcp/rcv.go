package tcp

import (
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// eofBuf backs the empty iovec that marks the end of the stream.
var eofBuf [1]byte

// input processes a segment for a connection that is not LISTEN (RFC 9293 §3.10.7.3 and
// §3.10.7.4, with RFC 5961's rules for RST, SYN and ACK). It returns true when something
// user-visible happened.
func (c *Conn) input(g *segment) bool {
	c.lastRcv = c.s.st.Now()
	if c.state == StateSynSent {
		return c.synSentInput(g)
	}
	if g.flags&wire.TCPFlagSyn == 0 {
		g.wnd <<= c.sndShift // RFC 7323 §2.2: a SYN's window is never scaled
	}
	if c.predicted(g) {
		return c.fastInput(g) // fast.go
	}
	return c.process(g)
}

// process is input past SYN-SENT, with the segment's window scaled.
func (c *Conn) process(g *segment) bool {
	s := c.s
	fl := g.flags
	// A new SYN may reopen a connection in TIME-WAIT (twReopens).
	if c.state == StateTimeWait && fl&wire.TCPFlagSyn != 0 && fl&wire.TCPFlagAck == 0 && c.twReopens(g) {
		if l := s.listeners[c.lport]; l != nil {
			rip := c.rip
			c.closeDown()
			return l.input(g, rip)
		}
	}
	// Simultaneous open: our peer's SYN-ACK while we are in SYN-RECEIVED acknowledges our SYN
	// (Linux's tcp_validate_incoming does the same).
	if c.state == StateSynRecv && fl&(wire.TCPFlagSyn|wire.TCPFlagAck) == wire.TCPFlagSyn|wire.TCPFlagAck &&
		g.seq.Add(1) == c.rcvNxt && g.ack == c.sndNxt && c.l == nil {
		fl &^= wire.TCPFlagSyn
		g.flags = fl
		g.seq++
	}

	// PAWS (RFC 7323 §5.3): an old timestamp makes a segment unacceptable, a RST excepted.
	if fl&wire.TCPFlagRst == 0 && c.pawsOld(g) {
		if c.state.synchronized() {
			c.sendAck()
		}
		return s.drop(g.m, DropPAWS)
	}

	// 1. Sequence number: the four acceptability cases.
	wnd := c.rcvWindow()
	seglen := g.seglen()
	if !acceptable(g.seq, seglen, c.rcvNxt, wnd) {
		if wnd == 0 && seglen > 0 && g.seq == c.rcvNxt {
			// Zero window: keep the ACK, window and RST information; drop the text.
			g.plen = 0
			g.flags &^= wire.TCPFlagFin
			fl = g.flags
			c.ackNow = true
		} else {
			if g.plen > 0 && g.seq.Add(uint32(g.plen)).LessThanEq(c.rcvNxt) {
				c.sackDup(g.seq, g.seq.Add(uint32(g.plen))) // all of it old: D-SACK
			}
			if fl&wire.TCPFlagRst == 0 {
				if c.state == StateSynRecv {
					c.sendCtl(c.iss, wire.TCPFlagSyn|wire.TCPFlagAck)
				} else {
					c.sendAck()
				}
			}
			return s.drop(g.m, DropUnacceptable)
		}
	}
	c.updateTSRecent(g)

	// 2. RST (RFC 5961 §3): exactly RCV.NXT resets, elsewhere in the window a challenge ACK.
	if fl&wire.TCPFlagRst != 0 {
		if g.seq != c.rcvNxt {
			if c.state.synchronized() && c.challengeOK() {
				c.sendCtl(c.sndMax, wire.TCPFlagAck)
			}
			return s.drop(g.m, DropUnacceptable)
		}
		s.recycle(g.m)
		return c.onReset()
	}

	// 4. SYN in a synchronized state (RFC 5961 §4): challenge ACK, the connection stays.
	if fl&wire.TCPFlagSyn != 0 {
		if c.state == StateSynRecv {
			c.sendCtl(c.iss, wire.TCPFlagSyn|wire.TCPFlagAck)
		} else if c.challengeOK() {
			c.sendCtl(c.sndMax, wire.TCPFlagAck)
		}
		return s.drop(g.m, DropUnacceptable)
	}

	// Trim to the window: old bytes at the front, bytes past the window at the back.
	if g.seq.LessThan(c.rcvNxt) {
		d := int(g.seq.Size(c.rcvNxt))
		if d >= g.plen {
			d = g.plen
		}
		c.sackDup(g.seq, g.seq.Add(uint32(d)))
		g.off += d
		g.plen -= d
		g.seq = g.seq.Add(uint32(d))
	}
	if g.plen > 0 {
		if lim := int(c.rcvNxt.Size(g.seq.Add(uint32(g.plen)))); lim > int(wnd) {
			cut := lim - int(wnd)
			if cut > g.plen {
				cut = g.plen
			}
			g.plen -= cut
			g.flags &^= wire.TCPFlagFin
			fl = g.flags
			c.ackNow = true
		}
	}

	// 5. ACK.
	if fl&wire.TCPFlagAck == 0 {
		return s.drop(g.m, DropUnacceptable)
	}
	event := false
	if c.state == StateSynRecv {
		if !c.sndUna.LessThan(g.ack) || c.sndNxt.LessThan(g.ack) {
			s.sendReset(c.rip, c.rport, c.lport, g.ack, 0, wire.TCPFlagRst)
			return s.drop(g.m, DropOld)
		}
		c.established()
		event = true
	}
	if c.sndMax.LessThan(g.ack) {
		// RFC 5961 §5.2: an ACK for data not yet sent is answered with an ACK and dropped.
		c.sendCtl(c.sndMax, wire.TCPFlagAck)
		return s.drop(g.m, DropOld)
	}
	if g.ack.LessThan(c.sndUna.Add(-c.maxSndWnd)) && c.maxSndWnd > 0 {
		return s.drop(g.m, DropOld)
	}
	if c.processAck(g) {
		event = true
	}
	if c.state == StateClose {
		s.recycle(g.m)
		return true
	}

	finAcked := c.txShut && c.finSeq.LessThan(c.sndUna)
	switch c.state {
	case StateFinWait1:
		if finAcked {
			c.setState(StateFinWait2)
			c.armFinwait()
			event = true
		}
	case StateClosing:
		if finAcked {
			c.enterTimeWait()
			s.recycle(g.m)
			return true
		}
	case StateLastAck:
		if finAcked {
			s.recycle(g.m)
			c.closeDown()
			return true
		}
	case StateTimeWait:
		if fl&wire.TCPFlagFin != 0 {
			c.sendCtl(c.sndMax, wire.TCPFlagAck)
			c.enterTimeWait()
		}
		s.recycle(g.m)
		return event
	}

	// 7. Segment text.
	kept := false
	if g.plen > 0 {
		switch c.state {
		case StateEstablished, StateFinWait1, StateFinWait2:
			if c.appClosed {
				// Data for a connection the application closed: nobody will read it.
				s.recycle(g.m)
				c.sendRst()
				c.abort(0)
				return true
			}
			var ev bool
			kept, ev = c.queueData(g)
			event = event || ev
		}
	}

	// 8. FIN (a repeated one is acknowledged again).
	if fl&wire.TCPFlagFin != 0 && c.finRcvd {
		c.ackNow = true
	} else if fl&wire.TCPFlagFin != 0 {
		finSeq := g.seq.Add(uint32(g.plen))
		if finSeq == c.rcvNxt {
			c.onFin()
			event = true
		} else if c.rcvNxt.LessThan(finSeq) && (kept || g.plen == 0) {
			c.oooFin, c.oooFinSeq = true, finSeq
			c.ackNow = true
		}
	}
	if !kept {
		s.recycle(g.m)
	}

	c.afterInput(event)
	return event
}

// acceptable is RFC 9293's segment acceptability test (§3.10.7.4), except that a segment
// without data may also sit exactly at the window's right edge (RCV.NXT+RCV.WND), as Linux's
// tcp_sequence allows: a peer that filled our window and lost our ACKs sends its bare ACKs at
// SND.MAX, which is that edge; refusing them (both ends doing so) left two stacks dropping
// each other's ACKs until tcp_retries ran out (TestLossyLink, 30 % loss, seed 35).
func acceptable(seq wire.Seq, seglen uint32, rcvNxt wire.Seq, wnd uint32) bool {
	if seglen == 0 {
		if wnd == 0 {
			return seq == rcvNxt
		}
		return seq.InWindow(rcvNxt, wnd) || seq == rcvNxt.Add(wnd)
	}
	if wnd == 0 {
		return false
	}
	return seq.InWindow(rcvNxt, wnd) || seq.Add(seglen-1).InWindow(rcvNxt, wnd)
}

// processAck handles an acceptable ACK field: frees what it acknowledges, samples the RTT,
// grows cwnd (RFC 5681 slow start and congestion avoidance), hands SACK blocks, duplicate ACKs
// and recovery to recovery.go and updates the send window (RFC 9293 §3.10.7.4,
// SND.WL1/SND.WL2).
func (c *Conn) processAck(g *segment) bool {
	ack := g.ack
	event := false
	c.ackStart(g)
	if c.sndUna.LessThan(ack) {
		acked := c.sndUna.Size(ack)
		if c.sndUna == c.iss {
			acked-- // the SYN is no data: it does not open cwnd
		}
		rtt := c.ackRTT(g) // before the segments it acknowledges are freed (rtt.go)
		for c.sqHead != c.sqTail {
			e := c.seg(c.sqHead)
			end := e.seq.Add(uint32(e.len))
			if e.fin {
				end++
			}
			if !end.LessThanEq(ack) {
				break
			}
			c.sqBytes -= int(e.len)
			c.sbAcked(e)
			c.releaseBuf(e, true, ZCAcked)
			e.m = nil
			c.sqHead++
		}
		if int32(c.sqNext-c.sqHead) < 0 {
			c.sqNext = c.sqHead
		}
		c.sndUna = ack
		if c.sndNxt.LessThan(ack) {
			c.sndNxt = ack
		}
		if rtt > 0 {
			c.rttSample(rtt)
		}
		c.retries = 0
		if c.rtoRecover && c.recover.LessThanEq(ack) {
			c.rtoRecover = false
		}
		if c.inRecovery {
			c.recoveryAck(acked)
		} else {
			c.ccAck(acked)
		}
		c.dupAcks = 0
		c.limitedTx = 0
		if c.sndUna == c.sndMax {
			c.rtxAt = 0
		} else {
			c.armRTO()
		}
		event = true
	} else if ack == c.sndUna && g.plen == 0 && g.flags&wire.TCPFlagFin == 0 &&
		c.sndUna != c.sndMax && g.wnd == c.sndWnd {
		c.dupAck(g)
	}
	c.ackEnd(g)
	if c.sndWl1.LessThan(g.seq) || c.sndWl1 == g.seq && c.sndWl2.LessThanEq(ack) {
		if g.wnd > c.sndWnd {
			event = true
		}
		c.sndWnd = g.wnd
		c.sndWl1, c.sndWl2 = g.seq, ack
		if g.wnd > c.maxSndWnd {
			c.maxSndWnd = g.wnd
		}
	}
	return event
}

// queueData keeps the payload of an acceptable segment: in order it joins the receive queue
// (and pulls in what the out-of-order queue held behind it), ahead of RCV.NXT it goes to the
// out-of-order queue. It reports whether the buffer was kept and whether new data is readable.
func (c *Conn) queueData(g *segment) (kept, event bool) {
	s := c.s
	if g.seq != c.rcvNxt {
		return c.queueOOO(g), false
	}
	c.ackPending++
	if !c.appendInOrder(g.m, g.off, g.plen, &kept, true) {
		s.ctr.Drops[DropNoSpace]++
		c.ackPending--
		c.ackNow = true
		return false, false
	}
	c.rcvNxt = c.rcvNxt.Add(uint32(g.plen))
	s.ctr.RxBytes += uint64(g.plen)
	if c.nooo > 0 {
		c.pullOOO()
		c.sackAdvance()
		c.ackNow = true // a hole filled: ACK at once (RFC 5681 §4.2)
	}
	if c.oooFin && c.oooFinSeq == c.rcvNxt {
		c.oooFin = false
		c.onFin()
	}
	return kept, true
}

// appendInOrder adds payload to the receive queue. A payload that fits the tail buffer's
// room is copied there (small segments would otherwise use up buffers long before the window
// in bytes); a small one whose own buffer is shared with the sender (net_ring hands over the
// sender's buffer) is copied into a fresh buffer that later ones can join. The window counts
// slots of one MSS, so a peer sending small segments may need more buffers than slots: up to
// twice as many are allowed, then in-order data takes the last out-of-order buffer (renege,
// when allowed) or is refused. It returns false when refused; *kept is set when m itself was
// queued.
func (c *Conn) appendInOrder(m *dpdk.Mbuf, off, plen int, kept *bool, renege bool) bool {
	if c.rqTail != c.rqHead {
		t := &c.rq[(c.rqTail-1)&c.rqMask]
		if t.m.Refcnt() == 1 && !c.rqHeld(c.rqTail-1) {
			end := int(t.off) + int(t.len)
			if end+plen <= t.m.DataLen()+t.m.Tailroom() {
				t.m.SetLen(end)
				copy(t.m.Append(plen), m.Data()[off:off+plen])
				t.len += uint16(plen)
				c.rqBytes += plen
				return true
			}
		}
	}
	if int(c.rqTail-c.rqHead)+c.nooo >= c.maxBufs {
		if c.nooo == 0 || !renege {
			return false
		}
		// Renege on the last out-of-order buffer: in-order data always gets a buffer.
		c.nooo--
		c.s.recycle(c.ooo[c.nooo].m)
		c.ooo[c.nooo].m = nil
		c.sackRenege(c.ooo[c.nooo].seq)
		c.oooFin = false
		c.s.ctr.OOODropped++
	}
	if m.Refcnt() != 1 && plen < c.rcvMSS/2 {
		if nm := c.s.cache.Take(); nm != nil {
			if dst := nm.Append(plen); dst != nil {
				copy(dst, m.Data()[off:off+plen])
				c.rq[c.rqTail&c.rqMask] = rxEnt{m: nm, off: 0, len: uint16(plen)}
				c.rqTail++
				c.rqBytes += plen
				return true
			}
			c.s.cache.Put(nm)
		}
	}
	c.rq[c.rqTail&c.rqMask] = rxEnt{m: m, off: uint16(off), len: uint16(plen)}
	c.rqTail++
	c.rqBytes += plen
	*kept = true
	return true
}

// rqHeld reports whether receive-queue entry i is held by a ZcRecv not yet done.
func (c *Conn) rqHeld(i uint32) bool { return i-c.rqHead < c.held }

// queueOOO keeps a segment that arrived ahead of RCV.NXT, trimmed against what the queue holds
// already, in sequence order. It returns whether the buffer was kept.
func (c *Conn) queueOOO(g *segment) bool {
	s := c.s
	c.ackNow = true // duplicate ACK at once (RFC 5681 §4.2)
	seq, off, n := g.seq, g.off, g.plen
	end := seq.Add(uint32(n))
	i := 0
	if c.nooo > 0 && c.ooo[c.nooo-1].seq.Add(uint32(c.ooo[c.nooo-1].len)).LessThanEq(seq) {
		i = c.nooo // the common case: beyond everything held
	}
	for i < c.nooo && c.ooo[i].seq.Add(uint32(c.ooo[i].len)).LessThanEq(seq) {
		i++
	}
	// ooo[i] is the first entry ending after seq.
	if i < c.nooo {
		o := &c.ooo[i]
		if o.seq.LessThanEq(seq) {
			// Overlaps the front: keep only what lies beyond o.
			oe := o.seq.Add(uint32(o.len))
			if end.LessThanEq(oe) {
				s.ctr.OOODropped++
				c.sackDup(seq, end) // held already: D-SACK, and its block next
				c.sackNote(seq, end)
				return false
			}
			d := int(seq.Size(oe))
			seq, off, n = oe, off+d, n-d
			i++
		}
	}
	if i < c.nooo && c.ooo[i].seq.LessThan(end) {
		// Overlaps what follows: cut the back (the later entries stay as they are).
		n = int(seq.Size(c.ooo[i].seq))
		g.flags &^= wire.TCPFlagFin
	}
	if n <= 0 {
		return false
	}
	if c.nooo == len(c.ooo) || int(c.rqTail-c.rqHead)+c.nooo >= c.maxBufs-1 {
		s.ctr.Drops[DropOOOFull]++
		s.ctr.OOODropped++
		return false
	}
	copy(c.ooo[i+1:c.nooo+1], c.ooo[i:c.nooo])
	c.ooo[i] = oooEnt{seq: seq, rxEnt: rxEnt{m: g.m, off: uint16(off), len: uint16(n)}}
	c.nooo++
	s.ctr.OOOQueued++
	// From the segment's start (what lies before seq is held already) to what was kept: a
	// back cut by a later entry may have dropped bytes beyond that entry.
	c.sackNote(g.seq, seq.Add(uint32(n)))
	return true
}

// pullOOO moves the out-of-order entries that RCV.NXT reached into the receive queue.
func (c *Conn) pullOOO() {
	s := c.s
	k := 0
	for k < c.nooo {
		o := &c.ooo[k]
		if c.rcvNxt.LessThan(o.seq) {
			break
		}
		oe := o.seq.Add(uint32(o.len))
		if oe.LessThanEq(c.rcvNxt) {
			s.recycle(o.m)
			s.ctr.OOODropped++
			k++
			continue
		}
		d := int(o.seq.Size(c.rcvNxt))
		n := int(o.len) - d
		// The entry's slot moves to the receive queue.
		c.nooo--
		var kept bool
		ok := c.appendInOrder(o.m, int(o.off)+d, n, &kept, false)
		c.nooo++
		if !ok {
			break
		}
		if !kept {
			s.recycle(o.m)
		}
		c.rcvNxt = c.rcvNxt.Add(uint32(n))
		s.ctr.RxBytes += uint64(n)
		s.ctr.OOORemoved++
		k++
	}
	copy(c.ooo[:], c.ooo[k:c.nooo])
	for j := c.nooo - k; j < c.nooo; j++ {
		c.ooo[j].m = nil
	}
	c.nooo -= k
}

// onFin takes the peer's FIN, in order: RCV.NXT passes it, the state moves on and an ACK goes
// at once.
func (c *Conn) onFin() {
	c.rcvNxt++
	c.finRcvd = true
	c.ackNow = true
	switch c.state {
	case StateSynRecv, StateEstablished:
		c.setState(StateCloseWait)
	case StateFinWait1:
		if c.txShut && c.finSeq.LessThan(c.sndUna) {
			c.enterTimeWait()
		} else {
			c.setState(StateClosing)
		}
	case StateFinWait2:
		c.s.st.StopTimer(&c.waitT)
		c.enterTimeWait()
	}
}

// onReset handles an acceptable RST: SYN-RECEIVED from a listener goes quietly (the listener
// stays in LISTEN), TIME-WAIT ignores it (RFC 1337), CLOSING and LAST-ACK just close, and
// otherwise the connection aborts with ECONNREFUSED (still opening), EPIPE (the peer had
// closed gracefully) or ECONNRESET.
func (c *Conn) onReset() bool {
	s := c.s
	switch c.state {
	case StateTimeWait:
		return false
	case StateSynRecv:
		if c.l != nil {
			c.abort(0)
			return false
		}
		s.ctr.ResetsRcvd++
		c.abort(syscall.ECONNREFUSED)
	case StateClosing, StateLastAck:
		c.closeDown()
	default:
		s.ctr.ResetsRcvd++
		if c.finRcvd {
			c.abort(syscall.EPIPE)
		} else {
			c.abort(syscall.ECONNRESET)
		}
	}
	return true
}

// synSentInput is RFC 9293 §3.10.7.3 (SYN-SENT).
func (c *Conn) synSentInput(g *segment) bool {
	s := c.s
	fl := g.flags
	if fl&wire.TCPFlagAck != 0 && (g.ack.LessThanEq(c.iss) || c.sndMax.LessThan(g.ack)) {
		if fl&wire.TCPFlagRst == 0 {
			s.sendReset(c.rip, c.rport, c.lport, g.ack, 0, wire.TCPFlagRst)
		}
		return s.drop(g.m, DropOld)
	}
	if fl&wire.TCPFlagRst != 0 {
		s.recycle(g.m)
		if fl&wire.TCPFlagAck == 0 {
			return false // RFC 5961 §3: only a RST acknowledging our SYN is believed
		}
		s.ctr.ResetsRcvd++
		c.abort(syscall.ECONNREFUSED)
		return true
	}
	if fl&wire.TCPFlagSyn == 0 {
		return s.drop(g.m, DropUnacceptable)
	}
	o := &g.opts
	c.irs = g.seq
	c.rcvNxt = g.seq.Add(1)
	c.rcvAdv = c.rcvNxt
	c.negotiate(o)
	c.setMSS(o)
	c.sndWnd, c.maxSndWnd = g.wnd, g.wnd
	c.sndWl1, c.sndWl2 = g.seq, g.ack
	if fl&wire.TCPFlagAck == 0 {
		// Simultaneous open: SYN-RECEIVED, answer with a SYN-ACK of our ISN.
		c.setState(StateSynRecv)
		c.rcvAdv = c.rcvNxt.Add(c.rcvWindow())
		c.retries = 0
		c.sendCtl(c.iss, wire.TCPFlagSyn|wire.TCPFlagAck)
		c.armRTO()
		s.recycle(g.m)
		return false
	}
	c.sndUna = g.ack
	c.established()
	// Data or FIN riding on the SYN-ACK: step past the SYN and process it as in ESTABLISHED.
	if g.plen > 0 || fl&wire.TCPFlagFin != 0 {
		g.seq = g.seq.Add(1)
		g.flags &^= wire.TCPFlagSyn
		c.process(g)
		if c.ackPending > 0 || c.ackNow {
			c.sendAck()
		}
		return true
	}
	s.recycle(g.m)
	c.sendAck()
	return true
}

// setMSS sets the send MSS from the peer's option (RFC 9293 §3.7.1: 536 without one, an MSS of
// 0 ignored), at most our MTU less 40, less the option bytes every segment carries (Linux's
// mss_cache: 12 with timestamps), and at least 48 (Linux's TCP_MIN_SND_MSS less options).
func (c *Conn) setMSS(o *wire.TCPOptions) {
	mss := 536
	if o.HasMSS && o.MSS != 0 {
		mss = int(o.MSS)
	}
	mss = min(mss, c.rcvMSS) - c.tcpOpt
	c.mss = max(mss, 48)
	c.s.cc.start(c)
}

// established enters ESTABLISHED: the handshake's timer stops, the RTO starts afresh (3 s if
// the SYN was lost, RFC 6298 §5.7), and a passive connection joins its listener's accept queue.
func (c *Conn) established() {
	s := c.s
	c.setState(StateEstablished)
	c.rtxAt = 0
	c.retries = 0
	c.sndNxt = c.iss.Add(1)
	c.sndMax = c.sndNxt
	c.rcvAdv = c.rcvNxt.Add(c.rcvWindow())
	if c.synRetried && c.srtt == 0 {
		c.rto = synLossRTO
	}
	c.armKeepalive()
	if c.l != nil {
		s.ctr.PassiveOpens++
		c.l.onEstablished(c)
	} else {
		s.ctr.ActiveOpens++
	}
}

// ZcRecv fills msg with the in-order data received so far (zft_zc_recv): one iovec per
// buffer, viewed where it lies, up to cap(msg.Iov) entries, and PktsLeft with the buffers left
// behind. When the stream has ended (the peer's FIN, or an error) and every byte fits, an empty
// iovec follows the data; ZcRecvDone then tells EOF from error. It never blocks (call Perform
// to receive), never fails and never allocates.
//
// The buffers stay locked until ZcRecvDone or ZcRecvDoneSome; msg must not change in between.
func (c *Conn) ZcRecv(msg *Msg) {
	iov := msg.Iov[:0]
	n := uint32(0)
	for i := c.rqHead; i != c.rqTail && len(iov) < cap(iov); i++ {
		e := &c.rq[i&c.rqMask]
		iov = append(iov, e.m.Data()[e.off:int(e.off)+int(e.len)])
		n++
	}
	msg.eof = false
	if c.rqHead+n == c.rqTail && c.ended() && len(iov) < cap(iov) {
		iov = append(iov, eofBuf[:0])
		msg.eof = true
	}
	c.held = n
	msg.held = int(n)
	msg.Iov = iov
	msg.PktsLeft = int(c.rqTail - c.rqHead - n)
}

// ended reports whether no more data will arrive: FIN received, or the connection closed.
func (c *Conn) ended() bool { return c.finRcvd || c.state == StateClose }

// ZcRecvDone releases the buffers ZcRecv returned in msg (zft_zc_recv_done) and opens the
// receive window; the views become invalid. It returns 1 while the connection is receiving,
// 0 at end of stream, or the error that ended the stream: ECONNREFUSED (connect refused),
// ECONNRESET (reset by the peer), EPIPE (the peer closed but refused our data), ETIMEDOUT,
// EHOSTUNREACH. It never allocates.
func (c *Conn) ZcRecvDone(msg *Msg) (int, error) {
	for range msg.held {
		e := &c.rq[c.rqHead&c.rqMask]
		c.rqBytes -= int(e.len)
		c.s.recycle(e.m)
		e.m = nil
		c.rqHead++
	}
	msg.held = 0
	c.held = 0
	msg.Iov = msg.Iov[:0]
	c.readDone()
	return c.rxStatus(msg.eof)
}

// ZcRecvDoneSome releases the first n bytes of what ZcRecv returned in msg
// (zft_zc_recv_done_some); the rest stays queued and the next read returns it again. n must not
// exceed the bytes returned. Results are those of ZcRecvDone; end of stream counts only once
// every byte was consumed.
func (c *Conn) ZcRecvDoneSome(msg *Msg, n int) (int, error) {
	all := true
	for range msg.held {
		e := &c.rq[c.rqHead&c.rqMask]
		if n < int(e.len) {
			e.off += uint16(n)
			e.len -= uint16(n)
			c.rqBytes -= n
			all = false
			break
		}
		n -= int(e.len)
		c.rqBytes -= int(e.len)
		c.s.recycle(e.m)
		e.m = nil
		c.rqHead++
	}
	msg.held = 0
	c.held = 0
	msg.Iov = msg.Iov[:0]
	c.readDone()
	return c.rxStatus(msg.eof && all)
}

// rxStatus is the result of a read's completion: the error once the data before it is read, 0
// at EOF, 1 otherwise.
func (c *Conn) rxStatus(eof bool) (int, error) {
	if c.rqHead == c.rqTail && c.err != 0 {
		return 0, c.err
	}
	if eof {
		return 0, nil
	}
	return 1, nil
}

// Recv copies received data into the buffers of iov (zft_recv), filling them in order as far
// as data goes, and returns the byte count: fewer than the space given means no more data is
// queued. It returns 0 at end of stream (the peer's FIN, all data read).
//
// Errors (bare syscall.Errno; no allocation): EAGAIN when no data is queued and the connection
// is open; ENOTCONN while connecting; once the data is read, the error that ended the
// connection (as ZcRecvDone).
func (c *Conn) Recv(iov [][]byte) (int, error) {
	total := 0
	for _, dst := range iov {
		for len(dst) > 0 && c.rqHead != c.rqTail {
			e := &c.rq[c.rqHead&c.rqMask]
			k := copy(dst, e.m.Data()[e.off:int(e.off)+int(e.len)])
			dst = dst[k:]
			total += k
			c.rqBytes -= k
			if k == int(e.len) {
				c.s.recycle(e.m)
				e.m = nil
				c.rqHead++
			} else {
				e.off += uint16(k)
				e.len -= uint16(k)
			}
		}
	}
	if total > 0 {
		c.readDone()
		return total, nil
	}
	if c.err != 0 {
		return 0, c.err
	}
	switch {
	case c.finRcvd:
		return 0, nil
	case c.state == StateSynSent || c.state == StateSynRecv:
		return 0, syscall.ENOTCONN
	}
	return 0, syscall.EAGAIN
}

// readDone follows a read: readiness, then a window update if one is due.
func (c *Conn) readDone() {
	if c.rqHead == c.rqTail && !c.ended() && c.w.Readiness()&stack.EPOLLIN != 0 {
		c.w.NotReady(stack.EPOLLIN)
	}
	c.windowUpdate()
}

// windowUpdate sends an ACK when reading opened the window enough (SWS avoidance, RFC 9293
// §3.8.6.2.2): by at least min(MSS, half the largest window), and only while the window the
// peer knows is under half the largest (otherwise it is not waiting for one).
func (c *Conn) windowUpdate() {
	switch c.state {
	case StateEstablished, StateFinWait1, StateFinWait2:
	default:
		return
	}
	old := c.rcvNxt.Size(c.rcvAdv)
	if int32(old) < 0 {
		old = 0
	}
	full := min(uint32(c.slots*c.rcvMSS), c.maxRcvWindow())
	if old >= full/2 {
		return
	}
	if w := c.rcvWindow(); w >= old+min(uint32(c.rcvMSS), full/2) {
		c.sendAck()
	}
}
