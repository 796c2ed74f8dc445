package tcp

import (
	"encoding/binary"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// optConfig is what the stack's attributes say about TCP options and buffers.
type optConfig struct {
	sack, ts, wscale bool // tcp_sack, tcp_timestamps, tcp_window_scaling
	rcvbuf, sndbuf   int  // tcp_rcvbuf, tcp_sndbuf (bytes)
}

// readOptConfig reads the options' and buffers' attributes.
func readOptConfig(a *stack.Attr) optConfig {
	return optConfig{
		sack:   a.IntOf(attr.TCPSack) != 0,
		ts:     a.IntOf(attr.TCPTimestamps) != 0,
		wscale: a.IntOf(attr.TCPWindowScaling) != 0,
		rcvbuf: int(a.IntOf(attr.TCPRcvbuf)),
		sndbuf: int(a.IntOf(attr.TCPSndbuf)),
	}
}

// maxWScale is the largest window-scale shift (RFC 7323 §2.3).
const maxWScale = 14

// tsOptLen is the size of the timestamps option as every segment carries it: NOP, NOP, kind,
// length, TSval, TSecr (RFC 7323 Appendix A's layout, Linux's).
const tsOptLen = 12

// wscaleFor is the smallest shift that lets a window of n bytes fit the 16-bit field, at most
// maxWScale (RFC 7323 §2.3).
func wscaleFor(n int) uint8 {
	s := uint8(0)
	for s < maxWScale && n>>s > 0xffff {
		s++
	}
	return s
}

// offerOptions sets what our SYN offers (the attributes), before the peer's SYN is seen.
func (c *Conn) offerOptions() {
	o := &c.s.cfg.opt
	c.sackOK, c.tsOK, c.wsOK = o.sack, o.ts, o.wscale
	c.sndShift, c.rcvShift = 0, 0
	if c.wsOK {
		c.rcvShift = c.s.rcvWScale()
	}
	c.tsOff = uint32(c.iss)
}

// negotiate keeps of what we offered what the peer's SYN (or SYN-ACK) o offers too, as Linux
// does: an option is on only when both SYNs carried it. A window scale above 14 is taken as 14
// (RFC 7323 §2.3) and logged (a warning of TCP-connection). With timestamps, the template
// gains the option every segment carries and TS.Recent starts from the SYN's TSval.
func (c *Conn) negotiate(o *wire.TCPOptions) {
	c.sackOK = c.sackOK && o.SACKPermitted
	c.wsOK = c.wsOK && o.HasWScale
	if c.wsOK {
		c.sndShift = o.WScale
		if c.sndShift > maxWScale {
			if st := c.s.st; st.LogEnabled(stack.LogTCPConn, stack.LogWarn) {
				st.Logger(stack.LogTCPConn).Warn("window scale above 14 taken as 14 (RFC 7323 §2.3)",
					"peer", c.RemoteAddr(), "wscale", c.sndShift)
			}
			c.sndShift = maxWScale
		}
	} else {
		c.sndShift, c.rcvShift = 0, 0
	}
	c.tsOK = c.tsOK && o.HasTimestamps
	if c.tsOK {
		c.tsRecent, c.tsRecentAt = o.TSVal, c.s.st.Now()
		c.setTemplateOptions(tsOptLen)
	} else {
		c.setTemplateOptions(0)
	}
}

// setTemplateOptions gives the header template n option bytes (0, or the timestamps' 12): their
// fixed bytes and the data offset; patch fills in the values.
func (c *Conn) setTemplateOptions(n int) {
	c.tcpOpt = n
	c.hlen = c.l2 + 40 + n
	t := c.tmpl[c.l2+20:]
	t[tcpOffOff] = uint8((20+n)/4) << 4
	if n != 0 {
		t[20], t[21] = wire.TCPOptionNOP, wire.TCPOptionNOP
		t[22], t[23] = wire.TCPOptionTimestamps, wire.TCPOptionTimestampsLength
	}
}

// synOptions writes the options of our SYN or SYN-ACK into b (MaxTCPOptionsSize bytes) and
// returns their length: MSS, and what offerOptions and negotiate left on. A SYN-ACK echoes the
// SYN's TSval; a SYN's TSecr is 0.
func (c *Conn) synOptions(b []byte, synAck bool) int {
	o := wire.TCPOptions{
		HasMSS: true, MSS: uint16(c.rcvMSS),
		SACKPermitted: c.sackOK,
		HasTimestamps: c.tsOK, TSVal: c.tsNow(),
		HasWScale: c.wsOK, WScale: c.rcvShift,
	}
	if synAck {
		o.TSEcr = c.tsRecent
	}
	return o.Encode(b)
}

// tsNow is our TSval: a 1 ms clock (Linux's tick; RFC 7323 §5.4 allows 1 ms to 1 s) plus a
// per-connection offset (the ISN), so that the stack's uptime does not show.
func (c *Conn) tsNow() uint32 { return c.s.tsClock(c.tsOff) }

// tsClock is the TSval of a connection whose offset is off (tsNow; a SYN cookie's SYN-ACK,
// which has no connection yet, uses the ISS as its connection will).
func (s *state) tsClock(off uint32) uint32 { return uint32(s.st.Now()/1e6) + off }

// rcvWScale is the window scale we offer: the shift that carries a whole receive window
// (rcvSlots segments of segRoom), the same for every connection of the stack.
func (s *state) rcvWScale() uint8 { return wscaleFor(rcvSlots(s) * segRoom(s.st)) }

// putTimestamps writes TSval and TSecr into the template's timestamps option at t (the TCP
// header of a frame built from the template) and returns them.
func (c *Conn) putTimestamps(t []byte) (val, ecr uint32) {
	val, ecr = c.tsNow(), c.tsRecent
	binary.BigEndian.PutUint32(t[24:], val)
	binary.BigEndian.PutUint32(t[28:], ecr)
	return val, ecr
}

// pawsIdle is how long TS.Recent stays valid without being updated (RFC 7323 §5.5: 24 days,
// well within the 2^31 ms that a 1 ms clock takes to wrap half its space).
const pawsIdle = 24 * 24 * 3600 * int64(1e9)

// pawsOld reports whether the segment fails PAWS (RFC 7323 §5.3 R1): it carries a TSval older
// than TS.Recent while TS.Recent is valid (updated within pawsIdle). A RST is exempt (the
// caller's rule: RFC 7323 §5.3 R1 and Linux accept it); so is a segment without timestamps,
// which Linux accepts too (RFC 7323 §3.2 says SHOULD drop).
func (c *Conn) pawsOld(g *segment) bool {
	return c.tsOK && g.opts.HasTimestamps && int32(g.opts.TSVal-c.tsRecent) < 0 &&
		c.s.st.Now()-c.tsRecentAt <= pawsIdle
}

// updateTSRecent takes the segment's TSval as TS.Recent when it is not older (or TS.Recent is
// no longer valid, RFC 7323 §5.5) and the segment starts at or before Last.ACK.sent (RFC 7323
// §4.3 (2)), so that the echo goes to the segment that makes the peer's RTT sample right.
func (c *Conn) updateTSRecent(g *segment) {
	if !c.tsOK || !g.opts.HasTimestamps {
		return
	}
	now := c.s.st.Now()
	newer := int32(g.opts.TSVal-c.tsRecent) >= 0 || now-c.tsRecentAt > pawsIdle
	if newer && g.seq.LessThanEq(c.lastAckSent) {
		c.tsRecent, c.tsRecentAt = g.opts.TSVal, now
	}
}
