package tcp

import "github.com/zocket/zocket/wire"

// The SACK scoreboard (RFC 6675 §3) lives in the send queue itself: each sent segment carries
// its marks (txSeg.sb) and Conn.rec keeps their byte totals, so that pipe is arithmetic rather
// than a walk. An ACK's blocks find their segments by binary search (the queue is in sequence
// order): an ACK costs O(log n) plus the segments it newly covers, and an ACK without blocks
// costs nothing. Only whole segments are marked; a block covering part of one leaves it as it
// was (the peer's receive buffers hold whole segments of ours, so this is rare).

// sbFlags are a sent segment's scoreboard marks.
type sbFlags uint8

const (
	sbSacked  sbFlags = 1 << iota // SACKed by the peer
	sbLost                        // deemed lost (RFC 6675's IsLost, RACK, an RTO); never with sbSacked
	sbRetrans                     // a retransmission is in flight (not SACKed, acked or lost since)
)

// dupThresh is RFC 6675's DupThresh: SACKed segments above a hole that make it lost.
const dupThresh = 3

// end is the sequence number after the segment (its payload and FIN).
func (e *txSeg) end() wire.Seq {
	end := e.seq.Add(uint32(e.len))
	if e.fin {
		end++
	}
	return end
}

// span is the sequence space the segment takes (its payload and FIN): what the scoreboard
// totals count.
func (e *txSeg) span() int {
	if e.fin {
		return int(e.len) + 1
	}
	return int(e.len)
}

// findSeg is the index of the first queued segment that ends after seq (sqTail if none).
func (c *Conn) findSeg(seq wire.Seq) uint32 {
	lo, hi := c.sqHead, c.sqTail
	for lo != hi {
		mid := lo + (hi-lo)/2
		if c.seg(mid).end().LessThanEq(seq) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// sentEnd is the index after the last segment sent (the first at or past SND.MAX): the
// scoreboard's range is [sqHead, sentEnd()). It is sqNext except while a go-back-N (an RTO
// without SACK, a PMTU drop) resends what had left already.
func (c *Conn) sentEnd() uint32 {
	lo, hi := c.sqHead, c.sqTail
	for lo != hi {
		mid := lo + (hi-lo)/2
		if c.seg(mid).seq.LessThan(c.sndMax) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// sackInput applies an ACK's SACK blocks to the scoreboard (RFC 6675 §5's Update()), before
// its cumulative acknowledgment: each block marks the segments it covers whole; a first block
// that is a D-SACK (RFC 2883 §4: below the cumulative ACK, or inside the second block) goes to
// onDSACK; other blocks outside [SND.UNA, SND.MAX], or empty, are ignored (SACKIgnored).
func (c *Conn) sackInput(g *segment) {
	o := &g.opts
	for k := range o.NumSACK {
		b := o.SACK[k]
		if k == 0 && (b.Left.LessThan(g.ack) ||
			o.NumSACK > 1 && o.SACK[1].Left.LessThanEq(b.Left) && b.Right.LessThanEq(o.SACK[1].Right)) {
			c.onDSACK(b)
			continue
		}
		if !b.Left.LessThan(b.Right) || b.Left.LessThan(c.sndUna) || c.sndMax.LessThan(b.Right) {
			c.s.ctr.SACKIgnored++
			continue
		}
		c.markSacked(b.Left, b.Right)
	}
}

// markSacked marks the unSACKed segments that [left, right) covers whole.
func (c *Conn) markSacked(left, right wire.Seq) {
	r := &c.rec
	for i := c.findSeg(left); i != c.sqTail; i++ {
		e := c.seg(i)
		if right.LessThan(e.end()) {
			break
		}
		if e.sb&sbSacked != 0 || e.seq.LessThan(left) {
			continue
		}
		c.sbUnmark(e)
		e.sb |= sbSacked
		r.sackedBytes += e.span()
		r.sackedSegs++
		c.rackDelivered(e)
	}
}

// sbUnmark takes away a segment's lost and in-flight retransmission marks with their totals.
func (c *Conn) sbUnmark(e *txSeg) {
	if e.sb&sbLost != 0 {
		c.rec.lostBytes -= e.span()
	}
	if e.sb&sbRetrans != 0 {
		c.rec.retransBytes -= e.span()
	}
	e.sb &^= sbLost | sbRetrans
}

// sbAcked accounts for a segment the cumulative ACK frees: its marks leave the totals, and one
// not SACKed before is delivered now (RACK, reordering detection).
func (c *Conn) sbAcked(e *txSeg) {
	if !c.sackOK {
		return
	}
	r := &c.rec
	if e.sb&sbSacked != 0 {
		r.sackedBytes -= e.span()
		r.sackedSegs--
		return
	}
	c.sbUnmark(e)
	c.rackDelivered(e)
}

// markLost marks a sent, unSACKed segment lost. A retransmission of it in flight is lost
// with it (LostRetransmits): the segment is due again.
func (c *Conn) markLost(e *txSeg) {
	r := &c.rec
	if e.sb&sbRetrans != 0 {
		e.sb &^= sbRetrans
		r.retransBytes -= e.span()
		c.s.ctr.LostRetransmits++
	}
	if e.sb&sbLost == 0 {
		e.sb |= sbLost
		r.lostBytes += e.span()
	}
}

// sbClear forgets every mark: after a PMTU drop (segments are cut anew), or a SACK reneging.
func (c *Conn) sbClear() {
	for i := c.sqHead; i != c.sqTail; i++ {
		c.seg(i).sb &^= sbSacked | sbLost | sbRetrans
	}
	r := &c.rec
	r.sackedBytes, r.sackedSegs, r.lostBytes, r.retransBytes = 0, 0, 0, 0
}

// pipe is RFC 6675's estimate of the bytes in the network: those sent and not acknowledged,
// less the SACKed and the lost, plus the retransmissions in flight.
func (c *Conn) pipe() uint32 {
	return uint32(max(int(c.sndUna.Size(c.sndMax))-c.pipeCredit(), 0))
}

// pipeCredit is what pipe takes off the bytes outstanding: SACKed and lost bytes, less the
// retransmissions in flight (negative when a retransmission of a segment not deemed lost, a
// TLP, is in flight beside the original).
func (c *Conn) pipeCredit() int {
	if !c.sackOK {
		return 0
	}
	r := &c.rec
	return r.sackedBytes + r.lostBytes - r.retransBytes
}

// onDSACK takes a D-SACK block (RFC 2883): the peer received [left, right) twice. A
// duplicate of data this episode retransmitted makes one retransmission fewer to explain
// (undo, RFC 3708's idea); a D-SACK widens RACK's reordering window (RFC 8985 §6.2 step 4);
// a D-SACK of the tail loss probe says it was not needed (§7.4).
func (c *Conn) onDSACK(b wire.SACKBlock) {
	s := c.s
	if !b.Left.LessThan(b.Right) || c.sndMax.LessThan(b.Right) || !b.Left.InRange(c.iss, c.sndMax) {
		s.ctr.SACKIgnored++
		return
	}
	s.ctr.DSACKs++
	r := &c.rec
	if r.undoValid && r.undoRetrans > 0 && r.undoMarker.LessThanEq(b.Left) {
		segs := max(int((b.Left.Size(b.Right)+uint32(c.mss)-1)/uint32(c.mss)), 1)
		r.undoRetrans = max(r.undoRetrans-segs, 0)
		r.undoNow = r.undoRetrans == 0
	}
	if r.tlpOn && r.tlpRetrans && b.Left.LessThan(r.tlpEnd) && r.tlpEnd.LessThanEq(b.Right) {
		r.tlpDSACK = true
	}
	c.rackDSACK()
}
