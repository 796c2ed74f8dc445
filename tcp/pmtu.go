package tcp

import "github.com/zocket/zocket/wire"

// Path MTU (RFC 1191, RFC 5927 §4.1). Every segment carries DF; an ICMP fragmentation needed
// whose quoted sequence number lies in [SND.UNA, SND.NXT) lowers the connection's MSS to the
// next-hop MTU less 40, never below pmtuFloor's, and what is in flight goes again at once at the
// new size, as Linux's tcp_simple_retransmit (no congestion response: the path said why).
// Quotes outside the range (RFC 5927's check against blind attacks; SND.NXT is SND.MAX here,
// since go-back-N rewinds SND.NXT) and MTUs below 68 (RFC 791's minimum; 0 from a router older
// than RFC 1191) are ignored and counted (ICMPIgnored). The MSS never grows back (no RFC 4821
// probing). Queued segments longer than the new MSS are split when the send queue has a free
// entry; when it has none, the oldest goes a piece at a time in buffers of their own, each
// ACK clocking the next, until acknowledged segments free entries.

// pmtuFloor is the smallest path MTU a frag-needed may set: Linux's min_pmtu (552), so that
// the MSS never falls below 512.
const pmtuFloor = 552

// pathMTU handles a frag-needed quoting sequence number seq with next-hop MTU mtu.
func (c *Conn) pathMTU(seq wire.Seq, mtu uint16) {
	s := c.s
	if seq.LessThan(c.sndUna) || !seq.LessThan(c.sndMax) || mtu < 68 {
		s.ctr.ICMPIgnored++
		return
	}
	mss := max(int(mtu), pmtuFloor) - 40 - c.tcpOpt
	if mss >= c.mss {
		return
	}
	c.mss = mss
	s.ctr.PMTUReductions++
	c.sbClear() // segments are cut anew
	c.sqNext = c.sqHead
	c.sndNxt = c.sndUna
	c.push(true)
}

// fitMSS makes queued segment i, longer than an MSS that a frag-needed lowered, fit: split at
// the MSS (push then sends the first part and goes on). Without a free queue entry, or for an
// oldest segment partly acknowledged, it sends the oldest segment's next piece if nothing of
// it is in flight and reports false: push stops there.
func (c *Conn) fitMSS(i uint32) bool {
	e := c.seg(i)
	head := i == c.sqHead
	if (!head || c.sndUna == e.seq) && c.queued() < c.sqCap() && (e.m.Refcnt() == 1 || c.unshare(e)) &&
		c.split(i, c.mss) {
		return true
	}
	if head && c.sndNxt == c.sndUna {
		c.sendPiece()
	}
	return false
}

// sendPiece sends the oldest segment's bytes from SND.UNA, at most an MSS and what the window
// allows (with its FIN if they reach its end), as a frame in a buffer of its own that the port
// frees: the segment stays queued whole until acknowledged.
func (c *Conn) sendPiece() {
	s := c.s
	e := c.seg(c.sqHead)
	off := 0
	if d := e.seq.Size(c.sndUna); int32(d) > 0 {
		off = min(int(d), int(e.len))
	}
	n := min(int(e.len)-off, c.mss, int(c.sendWindow()))
	fin := e.fin && off+n == int(e.len)
	if n <= 0 && !fin {
		return
	}
	m := s.cache.Take()
	if m == nil {
		s.ctr.TxNoBufs++
		return
	}
	b := m.Append(c.hlen + n)
	copy(b, c.tmpl[:c.hlen])
	copy(b[c.hlen:], e.m.Data()[c.hlen+off:c.hlen+off+n])
	fl := wire.TCPFlagAck
	if n > 0 {
		fl |= wire.TCPFlagPsh
	}
	if fin {
		fl |= wire.TCPFlagFin
	}
	seq := e.seq.Add(uint32(off))
	c.patch(m, b, seq, fl, n, wire.Sum(b[c.hlen:], 0), 0)
	padFrame(m)
	s.txv[0] = m
	if c.transmit(1) != 1 {
		s.recycle(m)
		return
	}
	end := seq.Add(uint32(n))
	if fin {
		end++
	}
	if seq.LessThan(c.sndMax) {
		s.ctr.Retransmits++
	} else {
		s.ctr.TxBytes += uint64(n)
	}
	s.ctr.TxSegments++
	c.sndNxt = end
	if c.sndMax.LessThan(end) {
		c.sndMax = end
	}
	e.sentAt = s.st.Now()
	e.rexmit = true // its RTT measures a piece
	c.ackSent()
	if c.rtxAt == 0 || c.persisting {
		c.armRTO()
	}
}
