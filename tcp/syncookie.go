package tcp

import (
	"encoding/binary"

	"github.com/zocket/zocket/wire"
)

// SYN cookies (RFC 4987 §3.6; Linux's net.ipv4.tcp_syncookies = 1). When a listener's
// max_tcp_syn_backlog half-open connections are all taken, a further SYN is answered with a
// SYN-ACK whose initial sequence number encodes what the connection needs, and nothing is kept:
// a flood of spoofed SYNs costs one reply each and no memory, and a real client's handshake ACK
// (which acknowledges the cookie) rebuilds the half-open connection, which the ACK then
// completes through the normal path. An ACK to a listener that carries no valid cookie is
// answered with a RST, as without cookies.
//
// The cookie, as Linux's: ISS = H1(4-tuple) + the peer's ISN + count<<24 +
// ((H2(4-tuple, count) + mssIndex) mod 2^24), where count is a 64 s clock (2^36 ns), H1 and H2
// keyed SipHash-2-4 (a key of its own, drawn at start), and mssIndex picks the peer's MSS from a
// table of four (rounded down). A cookie is valid for cookieMaxAge counts after the one it was
// made in, and only while the listener has sent cookies recently. Options: with timestamps (both
// sides), our TSval in the SYN-ACK carries the peer's window scale and SACK-permitted in its low
// six bits (Linux's encoding), which the ACK's TSecr echoes back; without timestamps the
// connection has neither (a window of at most 64 KiB, no SACK), the price of keeping no state.

const (
	cookieBits   = 24
	cookieMask   = 1<<cookieBits - 1
	cookieShift  = 36 // the count's period: 2^36 ns, about 69 s
	cookieMaxAge = 2  // counts a cookie stays valid after the one it was made in

	cookieTSBits  = 6 // TSval bits carrying options: window scale (4), SACK (1), spare (1)
	cookieTSMask  = 1<<cookieTSBits - 1
	cookieNoScale = 0xf  // window scale field: the SYN had none
	cookieSACK    = 0x10 // the SYN had SACK-permitted
)

// cookieMSS are the MSS values a cookie can carry, ascending: a peer's MSS is rounded down to
// one (Linux's msstab).
var cookieMSS = [4]uint16{536, 1300, 1440, 1460}

// cookieCount is the cookie clock now.
func (s *state) cookieCount() uint32 { return uint32(s.st.Now() >> cookieShift) }

// cookieHash is the keyed hash of a connection's addresses, ports and count (H1 uses count
// 0xffffffff, which the 32-bit clock never reaches in practice).
func (s *state) cookieHash(rip [4]byte, rport, lport uint16, count uint32) uint32 {
	return uint32(sipHash(s.cookieKey,
		uint64(binary.BigEndian.Uint32(s.ip[:]))<<32|uint64(binary.BigEndian.Uint32(rip[:])),
		uint64(count)<<32|uint64(lport)<<16|uint64(rport)))
}

// makeCookie returns the ISS of a SYN cookie for the connection from rip:rport to lport whose
// SYN had sequence number peerISN, carrying mssIndex.
func (s *state) makeCookie(rip [4]byte, rport, lport uint16, peerISN wire.Seq, mssIndex uint32) wire.Seq {
	count := s.cookieCount()
	h1 := s.cookieHash(rip, rport, lport, ^uint32(0))
	h2 := s.cookieHash(rip, rport, lport, count)
	return wire.Seq(h1 + uint32(peerISN) + count<<cookieBits + (h2+mssIndex)&cookieMask)
}

// checkCookie reports whether iss is a cookie this stack made for the connection, no older than
// cookieMaxAge counts, and returns the MSS index it carries.
func (s *state) checkCookie(rip [4]byte, rport, lport uint16, peerISN, iss wire.Seq) (mssIndex uint32, ok bool) {
	diff := uint32(iss) - s.cookieHash(rip, rport, lport, ^uint32(0)) - uint32(peerISN)
	now := s.cookieCount()
	age := (now - diff>>cookieBits) & (1<<(32-cookieBits) - 1)
	if age > cookieMaxAge {
		return 0, false
	}
	mssIndex = (diff - s.cookieHash(rip, rport, lport, now-age)) & cookieMask
	return mssIndex, mssIndex < uint32(len(cookieMSS))
}

// cookieTSval returns a TSval no later than now whose low bits are opts.
func cookieTSval(now, opts uint32) uint32 {
	ts := now&^cookieTSMask | opts
	if int32(ts-now) > 0 {
		ts -= 1 << cookieTSBits
	}
	return ts
}

// sendCookie answers a SYN that found the backlog full with a SYN cookie: a SYN-ACK from no
// connection, with the options the SYN offered and the attributes allow (window scale and SACK
// only with timestamps).
func (l *Listener) sendCookie(g *segment, rip [4]byte) {
	s := l.s
	peer := &g.opts
	peerMSS := uint16(536)
	if peer.HasMSS && peer.MSS != 0 {
		peerMSS = peer.MSS
	}
	idx := uint32(0)
	for i, m := range cookieMSS {
		if m <= peerMSS {
			idx = uint32(i)
		}
	}
	sport := g.tcp.SrcPort()
	iss := s.makeCookie(rip, sport, l.port, g.seq, idx)
	room := segRoom(s.st)
	o := wire.TCPOptions{HasMSS: true, MSS: uint16(room)}
	if peer.HasTimestamps && s.cfg.opt.ts {
		opts := uint32(cookieNoScale)
		if peer.HasWScale && s.cfg.opt.wscale {
			opts = uint32(min(peer.WScale, maxWScale))
			o.HasWScale, o.WScale = true, s.rcvWScale()
		}
		if peer.SACKPermitted && s.cfg.opt.sack {
			opts |= cookieSACK
			o.SACKPermitted = true
		}
		// The connection's clock, as its tsNow will run it (the ISS as offset, offerOptions).
		o.HasTimestamps = true
		o.TSVal = cookieTSval(s.tsClock(uint32(iss)), opts)
		o.TSEcr = peer.TSVal
	}
	var ob [wire.MaxTCPOptionsSize]byte
	n := o.Encode(ob[:])
	wnd := uint16(min(rcvSlots(s)*room, 65535)) // a SYN-ACK's window is never scaled
	if s.sendBare(rip, sport, l.port, iss, g.seq.Add(1), wire.TCPFlagSyn|wire.TCPFlagAck, wnd, ob[:n]) {
		s.ctr.SynCookiesSent++
		l.cookieAt = s.st.Now()
	}
}

// cookieAck rebuilds the half-open connection of a handshake ACK that acknowledges a valid
// cookie and feeds it the ACK, which establishes it. It reports handled false when g carries
// no valid cookie (or the listener sent none lately), and otherwise what input reports.
func (l *Listener) cookieAck(g *segment, rip [4]byte) (handled, visible bool) {
	s := l.s
	if l.cookieAt == 0 || s.st.Now()-l.cookieAt > (cookieMaxAge+1)<<cookieShift ||
		g.flags&(wire.TCPFlagSyn|wire.TCPFlagRst) != 0 {
		return false, false
	}
	sport := g.tcp.SrcPort()
	irs, iss := g.seq.Add(^uint32(0)), g.ack.Add(^uint32(0))
	idx, ok := s.checkCookie(rip, sport, l.port, irs, iss)
	if !ok {
		s.ctr.SynCookiesFailed++
		return false, false
	}
	// The SYN's options, as far as the cookie kept them.
	syn := wire.TCPOptions{HasMSS: true, MSS: cookieMSS[idx]}
	if g.opts.HasTimestamps && s.cfg.opt.ts {
		opts := g.opts.TSEcr & cookieTSMask
		syn.HasTimestamps, syn.TSVal = true, g.opts.TSVal
		if ws := uint8(opts & 0xf); ws != cookieNoScale {
			syn.HasWScale, syn.WScale = true, ws
		}
		syn.SACKPermitted = opts&cookieSACK != 0
	}
	c := l.passiveConn(g, rip)
	if c == nil {
		return true, false
	}
	s.ctr.SynCookiesRecv++
	l.openHalf(c, irs, iss, &syn, 0)
	visible = c.input(g)
	if c.state == StateSynRecv { // not taken after all: no SYN-ACK to retransmit, so go
		c.abort(0)
	}
	return true, visible
}
