package alts

import (
	"encoding/binary"
	"syscall"

	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// burstHook, when set (BenchmarkDecisionToWire), runs right after the burst returns, so that
// the decision-to-wire time can be taken without the bookkeeping that follows.
var burstHook func()

// Offsets in the TCP header that Send patches.
const (
	tcpAckOff   = 8
	tcpWinOff   = 14
	tcpCsOff    = 16
	tcpTSValOff = 24 // the timestamps option's values, when the connection negotiated it
	tcpTSEcrOff = 28
)

// Send selects alternative alt and sends its messages (zf_alternatives_send): the frames get
// the connection's current ACK and window, and leave in one burst; they then become ordinary
// unacknowledged segments of the connection (retransmitted if lost), and alt is empty and
// reusable. When the peer's window or the congestion window admits only part of them, or
// data queued before them has still to leave (a retransmission), what cannot leave at once
// joins the connection's send queue and TCP sends it when it can: the messages are committed
// to the stream either way. Other alternatives queued for the same connection are stale from then on: cancel
// them. Sending an empty alternative does nothing.
//
// Errors (bare syscall.Errno, no allocation): EINVAL when alt is not an allocated alternative
// of st, or is stale — the connection no longer sends, sent other data (or another
// alternative) after the first message was queued, or received more than tcp_alt_ack_rewind
// bytes since —, and must be cancelled; EBUSY when the connection's send queue (at least 64
// segments) has no room for its packets yet: it stays queued and valid, retry after Perform.
func Send(st *stack.Stack, alt *Alt) error {
	if !alt.of(st) {
		return syscall.EINVAL
	}
	if alt.n == 0 {
		return nil
	}
	ack, win, k, err := alt.conn.AltReady(&alt.pt, alt.meta[:alt.n], alt.bytes, alt.s.rewind)
	if err != nil {
		alt.refused(err)
		return err
	}
	sent := 0
	if k > 0 {
		var val, ecr uint32
		if alt.pt.TS {
			val, ecr = alt.conn.AltTimestamps()
		}
		if ack != alt.pt.Ack || win != alt.pt.Win || val != alt.pt.TSVal || ecr != alt.pt.TSEcr {
			alt.fixup(ack, win, val, ecr, k)
		}
		sent = st.Transmit(alt.frames[:k])
		if burstHook != nil {
			burstHook()
		}
	}
	alt.sent(sent)
	return nil
}

// fixup writes ack and win, and the timestamps val and ecr when the frames carry them, into
// the first k frames and updates the TCP checksum for the change (RFC 1624); with checksum
// offload the field holds only the pseudo-header sum, which none of them is part of.
func (alt *Alt) fixup(ack wire.Seq, win uint16, val, ecr uint32, k int) {
	a0, a1 := uint32(alt.pt.Ack), uint32(ack)
	d := uint32(^uint16(a0>>16)) + uint32(^uint16(a0)) + uint32(^alt.pt.Win) +
		a1>>16 + a1&0xffff + uint32(win)
	hl := 20
	if alt.pt.TS {
		d += sumChange(alt.pt.TSVal, val) + sumChange(alt.pt.TSEcr, ecr)
		hl = 32
	}
	csum := !alt.s.txCsum
	off := alt.tcpOff
	for _, m := range alt.frames[:k] {
		t := m.Data()[off : off+hl]
		binary.BigEndian.PutUint32(t[tcpAckOff:], a1)
		binary.BigEndian.PutUint16(t[tcpWinOff:], win)
		if alt.pt.TS {
			binary.BigEndian.PutUint32(t[tcpTSValOff:], val)
			binary.BigEndian.PutUint32(t[tcpTSEcrOff:], ecr)
		}
		if csum {
			cs := binary.BigEndian.Uint16(t[tcpCsOff:])
			binary.BigEndian.PutUint16(t[tcpCsOff:], ^wire.Fold(uint32(^cs)+d))
		}
	}
}

// sumChange is the one's-complement sum that turns 32-bit field old into new in a checksum
// (RFC 1624: ~old + new, per 16-bit word).
func sumChange(old, new uint32) uint32 {
	return uint32(^uint16(old>>16)) + uint32(^uint16(old)) + new>>16 + new&0xffff
}

// sent is the bookkeeping after the burst that took n of the frames: they join the
// connection's send queue (AltCommit) and the alternative is empty again.
//
//go:noinline
func (alt *Alt) sent(n int) {
	alt.conn.AltCommit(&alt.pt, alt.frames[:alt.n], alt.meta[:alt.n], n)
	c := &alt.s.ctr
	c.Sent++
	c.SentPkts += uint64(n)
	alt.reset()
}

// refused counts a Send that AltReady turned down.
//
//go:noinline
func (alt *Alt) refused(err error) {
	if err == syscall.EINVAL {
		alt.s.ctr.Stale++
	} else {
		alt.s.ctr.Busy++
	}
}
