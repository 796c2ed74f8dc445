package tcp

import (
	"encoding/binary"

	"github.com/zocket/zocket/wire"
)

// Header prediction (Van Jacobson's, as in Linux's tcp_rcv_established and TCPDirect's
// tcp_fast.c): in an established connection almost every segment is the next one in order,
// with nothing unusual about it. predicted recognises such a segment with a few compares, and
// fastInput handles it without process's general rules, which it would pass through anyway:
//
//   - the connection is ESTABLISHED, has received no FIN (nor one beyond a hole) and the
//     application has not closed it;
//   - the flags are ACK, or ACK and PSH;
//   - the segment starts at RCV.NXT, and its payload ends within the window we advertised (so
//     that nothing is trimmed, and the receive queue has the room: see appendInOrder);
//   - it passes PAWS, when timestamps are on (and carries them), and holds no SACK blocks;
//   - its ACK is new or repeats SND.UNA with data (not a duplicate ACK), does not pass SND.MAX,
//     and its window equals the send window we hold (no window update to examine);
//   - no loss recovery is under way (fast recovery, RTO recovery, SACK marks, lost segments),
//     and no out-of-order data is held (nothing to merge, no SACK blocks to send).
//
// Whatever fails a test takes process, unchanged; the segment is handled the same either way
// (tests in fast_test.go run both paths on the same segments), and FastPathSegments counts
// those that took the short one.
func (c *Conn) predicted(g *segment) bool {
	if c.state != StateEstablished || g.flags&^wire.TCPFlagPsh != wire.TCPFlagAck ||
		g.seq != c.rcvNxt || c.finRcvd || c.appClosed || c.nooo != 0 || c.oooFin {
		return false
	}
	if c.inRecovery || c.rtoRecover || c.dupAcks != 0 || c.rec.sackedSegs != 0 || c.rec.lostBytes != 0 ||
		g.opts.NumSACK != 0 || c.sackDue {
		return false
	}
	if c.tsOK && (!g.opts.HasTimestamps || int32(g.opts.TSVal-c.tsRecent) < 0) {
		return false
	}
	if g.wnd != c.sndWnd || c.sndMax.LessThan(g.ack) || g.ack.LessThan(c.sndUna) ||
		g.ack == c.sndUna && g.plen == 0 {
		return false
	}
	return g.plen == 0 || g.seq.Add(uint32(g.plen)).LessThanEq(c.rcvAdv) &&
		int(c.rqTail-c.rqHead) < c.maxBufs
}

// fastInput is process for a predicted segment (the list above says why each rule of process
// has nothing to do): TS.Recent, the ACK, the send window's record, the payload in order, then
// the same sends and ACK decision as process.
func (c *Conn) fastInput(g *segment) bool {
	s := c.s
	s.ctr.FastPathSegments++
	c.updateTSRecent(g)
	// processAck's duplicate-ACK branch cannot run (ACK = SND.UNA only with data), and its
	// window update only records the segment (the window is unchanged).
	event := c.processAck(g)
	if c.state == StateClose {
		s.recycle(g.m) // a completion callback closed it (zc)
		return true
	}
	kept := false
	if g.plen > 0 {
		var ev bool
		kept, ev = c.queueData(g) // in order, nothing out of order held: the append alone
		event = event || ev
	}
	if !kept {
		s.recycle(g.m)
	}
	c.afterInput(event)
	return event
}

// afterInput ends the processing of a segment: it sends what the ACK made room for, reports
// readiness, and acknowledges what arrived (at once, or by the delayed-ACK rule).
func (c *Conn) afterInput(event bool) {
	s := c.s
	if c.sqNext != c.sqTail || c.finOwed {
		c.push(false)
	}
	if event {
		c.readyAfterInput()
	}
	if c.ackNow || c.sackDue {
		c.sendAck()
	} else if c.ackPending > 0 {
		if !s.cfg.delayedAck || c.ackPending >= 2 {
			c.sendAck()
		} else {
			c.armDelack()
		}
	}
}

// alignedTimestamps reads the option list that every segment of a connection with timestamps
// carries, in the layout that Linux, TCPDirect and zocket send (NOP, NOP, timestamps: RFC 7323
// Appendix A), without the general parser (Linux's tcp_parse_aligned_timestamp). It reports
// false for any other list.
func alignedTimestamps(opts []byte) (val, ecr uint32, ok bool) {
	if len(opts) != 12 || binary.BigEndian.Uint32(opts) != alignedTSWord {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(opts[4:]), binary.BigEndian.Uint32(opts[8:]), true
}

// alignedTSWord is the first word of the aligned timestamps option: NOP, NOP, kind 8, length 10.
const alignedTSWord = uint32(wire.TCPOptionNOP)<<24 | uint32(wire.TCPOptionNOP)<<16 |
	uint32(wire.TCPOptionTimestamps)<<8 | wire.TCPOptionTimestampsLength
