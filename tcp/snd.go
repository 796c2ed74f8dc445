package tcp

import (
	"encoding/binary"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Offsets in the IPv4 and TCP headers that the send path patches.
const (
	ipTotLen  = 2
	ipIDOff   = 4
	ipCsum    = 10
	tcpSeqOff = 4
	tcpAckOff = 8
	tcpOffOff = 12
	tcpFlOff  = 13
	tcpWinOff = 14
	tcpCsOff  = 16
)

// buildTemplate writes the connection's header template: Ethernet (destination filled once ARP
// answers), IPv4 (DF, TTL 64, no options) and a 20-byte TCP header.
func (c *Conn) buildTemplate() {
	st := c.s.st
	c.l2 = st.EthernetHeaderSize()
	c.hlen = c.l2 + 40
	b := c.tmpl[:]
	st.EncodeEthernet(b, [6]byte{}, wire.EtherTypeIPv4)
	ipf := wire.IPv4Fields{TotalLength: 40, DF: true, TTL: 64, Protocol: wire.ProtoTCP, Src: c.s.ip, Dst: c.rip}
	ipf.Encode(b[c.l2:])
	tf := wire.TCPFields{SrcPort: c.lport, DstPort: c.rport}
	tf.Encode(b[c.l2+20:])
	c.phSum = wire.PseudoHeaderSum(c.s.ip, c.rip, wire.ProtoTCP, 0)
	// The constant parts of both checksums: the IP header without length and identification
	// (the template has them 0, and a 0 checksum), the pseudo-header and the ports.
	var iph [20]byte
	copy(iph[:], b[c.l2:c.l2+20])
	iph[ipTotLen], iph[ipTotLen+1], iph[ipIDOff], iph[ipIDOff+1], iph[ipCsum], iph[ipCsum+1] = 0, 0, 0, 0, 0, 0
	c.ipSum = uint32(wire.Fold(wire.Sum(iph[:], 0)))
	c.tcpSum = c.phSum + uint32(c.lport) + uint32(c.rport)
	c.resolve()
}

// resolve fills the template's destination MAC when the neighbour table knows it.
func (c *Conn) resolve() bool {
	if c.macOK {
		c.s.st.ConfirmNeighbour(c.nexthop)
		return true
	}
	if mac, ok := c.s.st.Resolve(c.nexthop); ok {
		wire.Ethernet(c.tmpl[:]).SetDst(mac)
		c.macOK = true
	}
	return c.macOK
}

// patch fills in the fields that change per transmission of frame b (headers from the
// template, then opt option bytes of its own, then plen payload bytes with partial sum psum):
// IPv4 identification and checksum, TCP sequence, acknowledgment, data offset, flags, window,
// the timestamps' values and the checksum. A SYN carries only its own options (opt), not the
// template's.
func (c *Conn) patch(m *dpdk.Mbuf, b []byte, seq wire.Seq, fl wire.TCPFlags, plen int, psum uint32, opt int) {
	if c.macOK {
		copy(b[0:6], c.tmpl[0:6])
	}
	thl := 20 + opt
	if fl&wire.TCPFlagSyn == 0 {
		thl += c.tcpOpt
	}
	ip := b[c.l2 : c.l2+20]
	tl := 20 + thl + plen
	binary.BigEndian.PutUint16(ip[ipTotLen:], uint16(tl))
	c.ipID++
	binary.BigEndian.PutUint16(ip[ipIDOff:], c.ipID)
	ip[ipCsum], ip[ipCsum+1] = 0, 0
	t := b[c.l2+20 : c.l2+20+thl]
	binary.BigEndian.PutUint32(t[tcpSeqOff:], uint32(seq))
	if fl&wire.TCPFlagAck != 0 {
		binary.BigEndian.PutUint32(t[tcpAckOff:], uint32(c.rcvNxt))
	} else {
		binary.BigEndian.PutUint32(t[tcpAckOff:], 0)
	}
	t[tcpOffOff] = uint8(thl/4) << 4
	t[tcpFlOff] = uint8(fl)
	win := c.advertise(fl)
	binary.BigEndian.PutUint16(t[tcpWinOff:], win)
	var tsVal, tsEcr uint32
	if c.tcpOpt != 0 && fl&wire.TCPFlagSyn == 0 {
		tsVal, tsEcr = c.putTimestamps(t)
	}
	t[tcpCsOff], t[tcpCsOff+1] = 0, 0
	l4 := uint16(thl + plen)
	if c.s.st.TxChecksumOffload() {
		m.SetOlFlags(dpdk.TxIPv4 | dpdk.TxIPChecksum | dpdk.TxTCPChecksum)
		m.SetTxOffload(c.l2, 20, thl)
		binary.BigEndian.PutUint16(t[tcpCsOff:], wire.Fold(c.phSum+uint32(l4)))
		return
	}
	binary.BigEndian.PutUint16(ip[ipCsum:], ^wire.Fold(c.ipSum+uint32(tl)+uint32(c.ipID)))
	if opt != 0 || fl&wire.TCPFlagSyn != 0 {
		// A SYN's own options or SACK blocks: summed from the bytes.
		binary.BigEndian.PutUint16(t[tcpCsOff:], wire.Checksum(t, c.phSum+uint32(l4)+psum))
		return
	}
	// The header's sum from its fields rather than its bytes: every field is a whole number of
	// 16-bit words, the template's timestamps option too (NOP, NOP, kind, length, TSval, TSecr).
	sq, ak := uint32(seq), binary.BigEndian.Uint32(t[tcpAckOff:])
	sum := c.tcpSum + uint32(l4) + psum + sq>>16 + sq&0xffff + ak>>16 + ak&0xffff +
		uint32(t[tcpOffOff])<<8 + uint32(fl) + uint32(win)
	if thl != 20 {
		sum += alignedTSWord>>16 + alignedTSWord&0xffff + tsVal>>16 + tsVal&0xffff + tsEcr>>16 + tsEcr&0xffff
	}
	binary.BigEndian.PutUint16(t[tcpCsOff:], ^wire.Fold(sum))
}

// advertise returns the window field of an outgoing segment and records the window's right
// edge. A SYN's window is not relative to anything yet, nor scaled (RFC 7323 §2.2); other
// windows are scaled by our shift: rounded down when that keeps the right edge where it was
// advertised, otherwise up (RFC 7323 §2.4: the edge never moves back), which offers less than
// 2^shift bytes more than the free buffers hold, as Linux's tcp_select_window does; the
// buffers' slack (twice the slots may be held) absorbs it.
func (c *Conn) advertise(fl wire.TCPFlags) uint16 {
	w := c.rcvWindow()
	if fl&wire.TCPFlagSyn != 0 {
		return uint16(min(w, 0xffff))
	}
	f := uint16(min(w>>c.rcvShift, 0xffff))
	if c.rcvNxt.Add(uint32(f) << c.rcvShift).LessThan(c.rcvAdv) {
		f = scaleWindow(w, c.rcvShift)
	}
	if fl&wire.TCPFlagAck != 0 {
		c.rcvAdv = c.rcvNxt.Add(uint32(f) << c.rcvShift)
	}
	return f
}

// scaleWindow is the window field for w bytes at shift, rounded up: at most 65535.
func scaleWindow(w uint32, shift uint8) uint16 {
	return uint16(min((uint64(w)+(1<<shift)-1)>>shift, 0xffff))
}

// rcvWindow is the receive window in bytes: the free receive slots times the MSS we announced,
// at most what the window field can carry at our shift (65535 << shift), and never less than
// what was advertised already (RFC 9293 §3.8.6: the right edge does not move back).
func (c *Conn) rcvWindow() uint32 {
	free := c.slots - int(c.rqTail-c.rqHead) - c.nooo
	w := uint32(0)
	if free > 0 {
		w = uint32(free * c.rcvMSS)
	}
	lim := c.maxRcvWindow()
	w = min(w, lim)
	if c.state.synchronized() || c.state == StateSynRecv {
		if adv := c.rcvAdv; c.rcvNxt.Add(w).LessThan(adv) {
			w = min(c.rcvNxt.Size(adv), lim)
		}
	}
	return w
}

// maxRcvWindow is the largest window the field can carry at our shift.
func (c *Conn) maxRcvWindow() uint32 { return 0xffff << c.rcvShift }

// Segments without data (ACKs, challenge ACKs, RSTs) carry SND.MAX, the highest sequence number
// sent, rather than SND.NXT: after an RTO rewinds SND.NXT for go-back-N, SND.NXT can lie below
// the peer's RCV.NXT, and a peer drops a bare ACK there as unacceptable (RFC 9293 §3.10.7.4).
// Two ends both rewound would then drop each other's ACKs for ever (Linux's
// tcp_acceptable_seq keeps snd_nxt for the same reason: it never rewinds it).

// sendCtl sends a segment without payload from the template: SYN and SYN-ACK (with their
// options), ACK (with SACK blocks when we hold out-of-order data or saw a duplicate), RST. It
// is queued for the end of the reactor turn.
func (c *Conn) sendCtl(seq wire.Seq, fl wire.TCPFlags) {
	s := c.s
	m := s.takeBuf()
	if m == nil {
		s.ctr.TxNoBufs++
		return
	}
	var opts [wire.MaxTCPOptionsSize]byte
	hdr, opt, nblk := c.hlen, 0, 0
	switch {
	case fl&wire.TCPFlagSyn != 0:
		hdr = c.l2 + 40
		opt = c.synOptions(opts[:], fl&wire.TCPFlagAck != 0)
	case fl&wire.TCPFlagRst == 0:
		nblk = c.sackBlocks()
		if nblk > 0 {
			opt = 4 + 8*nblk
		}
	}
	b := m.Append(hdr + opt)
	if b == nil {
		s.cache.Put(m)
		s.ctr.TxNoBufs++
		return
	}
	copy(b, c.tmpl[:hdr])
	if nblk > 0 {
		c.putSACK(b[hdr:], nblk)
	} else {
		copy(b[hdr:], opts[:opt])
	}
	c.patch(m, b, seq, fl, 0, 0, opt)
	padFrame(m)
	s.ctr.TxSegments++
	if fl&wire.TCPFlagAck != 0 {
		c.ackSent()
	}
	c.resolve()
	s.st.Output(m, c.nexthop)
}

// sendRst sends a RST for this connection (abort, data after close).
func (c *Conn) sendRst() {
	c.s.ctr.Resets++
	c.sendCtl(c.sndMax, wire.TCPFlagRst|wire.TCPFlagAck)
}

// ackSent records that an ACK for everything received went out.
func (c *Conn) ackSent() {
	c.lastAckSent = c.rcvNxt
	c.ackPending = 0
	c.ackNow = false
	c.delackAt = 0
}

// sendAck acknowledges now: with held or window-blocked data if it can go, else (or also, when
// SACK blocks are due: data segments do not carry them) a bare ACK.
func (c *Conn) sendAck() {
	if c.state.synchronized() && c.push(true) > 0 && !c.sackDue {
		return
	}
	c.sendCtl(c.sndMax, wire.TCPFlagAck)
}

// canSend reports whether the state lets the application queue data.
func (c *Conn) canSend() bool {
	return (c.state == StateEstablished || c.state == StateCloseWait) && !c.txShut
}

// queued is the number of segments in the send queue.
func (c *Conn) queued() int { return int(c.sqTail - c.sqHead) }

// tailRoom is how many bytes the last queued segment can still take: it must not have left
// yet, nor carry a FIN, nor be a zc.SendZC buffer (the caller's memory), and it is filled up
// to the MSS.
func (c *Conn) tailRoom() int {
	if c.sqTail == c.sqNext {
		return 0
	}
	e := c.seg(c.sqTail - 1)
	if e.fin || e.zc != 0 || int(e.len) >= c.mss || e.m.Refcnt() != 1 {
		return 0
	}
	return c.mss - int(e.len)
}

// SendSpace returns the space in the send queue in bytes (zft_send_space): what the free
// segments of the queue hold at the MSS, plus the room left in a last segment not yet sent.
// Many small sends use more of the queue than one large one.
//
// Errors: ENOTCONN when the connection is not in a state that sends.
func (c *Conn) SendSpace() (int, error) {
	if !c.canSend() {
		return 0, syscall.ENOTCONN
	}
	return c.space(), nil
}

func (c *Conn) space() int {
	return (c.sqCap()-c.queued())*c.mss + c.fillRoom()
}

// fillRoom is tailRoom bounded by what the last segment's buffer really holds past its
// payload (the MSS bounds it for the stack's own buffers; a zero-copy buffer may hold less).
func (c *Conn) fillRoom() int {
	room := c.tailRoom()
	if room > 0 {
		e := c.seg(c.sqTail - 1)
		room = min(room, e.m.DataLen()+e.m.Tailroom()-c.hlen-int(e.len))
	}
	return room
}

// Send queues the bytes of iov and sends what the windows allow (zft_send). It returns how many
// bytes it took: all of them, or fewer when the send queue filled (a partial send: the rest is
// the caller's to send again). The caller may reuse its buffers at once.
//
// With flags MsgMore, a last segment not filled to the MSS is held back, to be completed by the
// next Send; it leaves with a later Send without MsgMore (the only guaranteed flush), when
// further data fills it, or when the stack sends an ACK for received data. A partial send is
// queued as if MsgMore were set. Zero bytes are a no-op.
//
// Errors (bare syscall.Errno; no allocation): EINVAL for flags other than 0 or MsgMore;
// ENOTCONN when not connected or shut down for sending; EAGAIN when the send queue is full;
// ENOMEM when the packet buffers ran out (nothing is queued then; buffers are taken a burst
// of 64 segments at a time, and when a later burst finds none the send is partial instead).
func (c *Conn) Send(iov [][]byte, flags int) (int, error) {
	total := 0
	for _, b := range iov {
		total += len(b)
	}
	return c.send(iov, total, flags)
}

// SendSingle is Send for one buffer (zft_send_single); same results and errors.
func (c *Conn) SendSingle(buf []byte, flags int) (int, error) {
	var one [1][]byte
	one[0] = buf
	return c.send(one[:], len(buf), flags)
}

func (c *Conn) send(iov [][]byte, total, flags int) (int, error) {
	if flags&^MsgMore != 0 {
		return 0, syscall.EINVAL
	}
	if !c.canSend() {
		return 0, syscall.ENOTCONN
	}
	if total == 0 {
		return 0, nil
	}
	room := c.fillRoom()
	n := min(total, (c.sqCap()-c.queued())*c.mss+room)
	if n == 0 {
		if c.w.Readiness()&stack.EPOLLOUT != 0 {
			c.w.NotReady(stack.EPOLLOUT) // EPOLLOUT only while data can be queued (ready.go)
		}
		return 0, syscall.EAGAIN
	}
	fill := min(n, room)
	s := c.s
	if fill == 0 && n <= c.mss {
		// One segment, the common case of a latency application: one buffer from the
		// cache, no burst array.
		if !c.queueOne(iov, n) {
			s.ctr.SendENOMEM++
			return 0, syscall.ENOMEM
		}
		return c.sendQueued(n, total, flags), nil
	}
	// Buffers come in bulks of at most a burst: the first is taken before anything is
	// written (all or nothing: ENOMEM), a later one that fails ends the send short.
	nseg := min((n-fill+c.mss-1)/c.mss, len(s.freev))
	if nseg > 0 && !s.cache.TakeBulk(s.freev[:nseg]) {
		s.ctr.SendENOMEM++
		return 0, syscall.ENOMEM
	}
	r := iovReader{iov: iov}
	if fill > 0 {
		e := c.seg(c.sqTail - 1)
		at := c.hlen + int(e.len)
		e.m.SetLen(at)
		dst := e.m.Append(fill) // fill ≤ room: never nil
		r.read(dst)
		e.psum = wire.SumAt(dst, e.psum, int(e.len))
		e.len += uint16(fill)
		c.sqBytes += fill
	}
	left := n - fill
	for nseg > 0 {
		q := c.queueSegments(&r, s.freev[:nseg], left)
		left -= q
		if left == 0 || q < nseg*c.mss {
			break
		}
		nseg = min((left+c.mss-1)/c.mss, len(s.freev))
		if !s.cache.TakeBulk(s.freev[:nseg]) {
			s.ctr.SendENOMEM++
			break
		}
	}
	n -= left
	if n == 0 {
		s.ctr.SendENOMEM++
		return 0, syscall.ENOMEM
	}
	return c.sendQueued(n, total, flags), nil
}

// sendQueued ends a Send that queued n of its total bytes: it pushes them (a partial send as
// with MsgMore) and clears EPOLLOUT when the queue is full, also when this Send filled it
// exactly. It returns n.
func (c *Conn) sendQueued(n, total, flags int) int {
	c.more = flags&MsgMore != 0 || n < total
	c.push(false)
	if (n < total || c.space() == 0) && c.w.Readiness()&stack.EPOLLOUT != 0 {
		c.w.NotReady(stack.EPOLLOUT)
	}
	return n
}

// queueSegments fills the buffers bufs with up to left bytes from r, one segment of at most
// the MSS each, and appends them to the send queue; it returns the bytes queued. Buffers left
// over go back to the cache.
func (c *Conn) queueSegments(r *iovReader, bufs []*dpdk.Mbuf, left int) int {
	s := c.s
	seq := c.sndQueuedEnd()
	queued := 0
	for i, m := range bufs {
		k := min(left-queued, c.mss)
		var b []byte
		if k > 0 {
			b = m.Append(c.hlen + k)
		}
		if b == nil {
			// Nothing left, or a buffer smaller than a segment (the MSS is capped at one
			// buffer, so this does not happen): the rest goes back.
			for _, m := range bufs[i:] {
				s.cache.Put(m)
			}
			break
		}
		copy(b, c.tmpl[:c.hlen])
		r.read(b[c.hlen:])
		*c.seg(c.sqTail) = txSeg{m: m, seq: seq, len: uint16(k), psum: wire.Sum(b[c.hlen:], 0)}
		c.sqTail++
		c.sqBytes += k
		seq = seq.Add(uint32(k))
		queued += k
	}
	return queued
}

// queueOne queues the first n (≤ MSS) bytes of iov as one new segment: queueSegments for a
// single buffer, taken alone from the cache. It reports false when no buffer is left.
func (c *Conn) queueOne(iov [][]byte, n int) bool {
	m := c.s.cache.Take()
	if m == nil {
		return false
	}
	b := m.Append(c.hlen + n)
	if b == nil {
		c.s.cache.Put(m)
		return false
	}
	copy(b, c.tmpl[:c.hlen])
	p := b[c.hlen:]
	if len(iov) == 1 {
		copy(p, iov[0])
	} else {
		r := iovReader{iov: iov}
		r.read(p)
	}
	*c.seg(c.sqTail) = txSeg{m: m, seq: c.sndQueuedEnd(), len: uint16(n), psum: wire.Sum(p, 0)}
	c.sqTail++
	c.sqBytes += n
	return true
}

// sndQueuedEnd is the sequence number after the last queued byte.
func (c *Conn) sndQueuedEnd() wire.Seq {
	if c.sqTail == c.sqHead {
		return c.sndNxt
	}
	e := c.seg(c.sqTail - 1)
	end := e.seq.Add(uint32(e.len))
	if e.fin {
		end++
	}
	return end
}

// iovReader copies from an iovec array in order.
type iovReader struct {
	iov [][]byte
	i   int
	off int
}

func (r *iovReader) read(dst []byte) {
	for len(dst) > 0 {
		src := r.iov[r.i][r.off:]
		k := copy(dst, src)
		dst = dst[k:]
		r.off += k
		if r.off == len(r.iov[r.i]) {
			r.i++
			r.off = 0
		}
	}
}

// SendSingleWarm runs the send path for buf without sending anything (TCPDirect's
// zft_send_single_warm): a segment is built in a scratch buffer, checksummed and dropped, so
// that the code and data of a later SendSingle are warm in the CPU caches. It returns what
// SendSingle would have taken, or its error.
func (c *Conn) SendSingleWarm(buf []byte) (int, error) {
	if !c.canSend() {
		return 0, syscall.ENOTCONN
	}
	n := min(len(buf), c.mss, c.space())
	if n == 0 {
		return 0, syscall.EAGAIN
	}
	m := c.s.cache.Take()
	if m == nil {
		return 0, syscall.ENOMEM
	}
	b := m.Append(c.hlen + n)
	if b == nil {
		c.s.cache.Put(m)
		return 0, syscall.ENOMEM
	}
	copy(b, c.tmpl[:c.hlen])
	copy(b[c.hlen:], buf[:n])
	id, adv := c.ipID, c.rcvAdv
	c.patch(m, b, c.sndNxt, wire.TCPFlagAck|wire.TCPFlagPsh, n, wire.Sum(b[c.hlen:], 0), 0)
	c.ipID, c.rcvAdv = id, adv
	c.s.cache.Put(m)
	return n, nil
}

// queueFin queues our FIN after the data, whatever the send queue holds: a FIN needs no
// payload room. Its sequence number is fixed at once (no data can follow it); it rides on the
// last segment if that has not left yet, otherwise it takes a segment of its own. When that is
// not possible now (the queue full, no buffer), the FIN is owed (finOwed) and push attaches it
// as soon as an ACK frees a slot, or the transmit-retry timer once a buffer is back.
func (c *Conn) queueFin() {
	c.finSeq = c.sndQueuedEnd()
	c.finOwed = !c.attachFin()
}

// attachFin puts the FIN at finSeq into the send queue and reports whether it could.
func (c *Conn) attachFin() bool {
	if c.sqTail != c.sqNext {
		e := c.seg(c.sqTail - 1)
		if e.m.Refcnt() == 1 {
			e.fin = true
			return true
		}
	}
	if c.queued() == c.sqCap() {
		return false // an ACK frees a slot: push tries again
	}
	m := c.s.cache.Take()
	if m == nil {
		c.s.ctr.SendENOMEM++
		c.retryTx(true)
		return false
	}
	b := m.Append(c.hlen)
	if b == nil {
		c.s.cache.Put(m)
		c.retryTx(true)
		return false
	}
	copy(b, c.tmpl[:c.hlen])
	*c.seg(c.sqTail) = txSeg{m: m, seq: c.finSeq, fin: true}
	c.sqTail++
	return true
}

// sendWindow is how far past sndUna we may send: the peer's window, limited by cwnd (plus up
// to two segments of limited transmit, RFC 3042) counted against pipe, not the bytes
// outstanding, when SACK shows some of them delivered or lost (RFC 6675).
func (c *Conn) sendWindow() uint32 {
	return min(c.sndWnd, uint32(max(int(c.cwnd+c.limitedTx*uint32(c.mss))+c.pipeCredit(), 0)))
}

// push sends queued segments while the windows allow, one burst, and returns how many went.
// A partial last segment is held while MsgMore is in force unless flush is set. Segments that
// a previous burst left with the port are copied before being sent again.
//
// Only what the port took counts as sent: SND.NXT, SND.MAX, RTT timing and the counters move
// after the burst, for the frames it took. Segments the burst refused (a full transmit ring)
// stay unsent, and the transmit-retry timer sends them at the next reactor turn: nothing
// else may come to push them (no data in flight, no ACK to wait for). Data, FINs and the
// frames of alternatives that did not leave all take this path.
func (c *Conn) push(flush bool) int {
	if c.finOwed {
		c.finOwed = !c.attachFin()
	}
	if !c.state.synchronized() || c.sqNext == c.sqTail {
		return 0
	}
	s := c.s
	c.ccBeforePush()
	start := c.sqNext
	wnd := c.sendWindow()
	n := 0
	for i := start; i != c.sqTail && n < txBurst; i++ {
		e := c.seg(i)
		if i+1 == c.sqTail && c.more && !flush && !e.fin && int(e.len) < c.mss {
			break
		}
		if int(e.len) > c.mss && !c.fitMSS(i) {
			break // longer than an MSS a frag-needed lowered (pmtu.go)
		}
		if e.len > 0 {
			used := c.sndUna.Size(e.seq)
			if int32(used) < 0 {
				used = 0 // partly acknowledged already: the peer has its front
			}
			if used+uint32(e.len) > wnd {
				// Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a piece of a segment goes only
				// when it is at least an MSS or half the largest window the peer offered, or
				// as the persist timer's probe.
				avail := int(wnd) - int(used)
				if avail <= 0 || avail < c.mss && uint32(avail) < c.maxSndWnd/2 && !c.probe ||
					!c.split(i, avail) {
					break
				}
			}
		}
		if e.m.Refcnt() != 1 && !c.unshare(e) {
			break
		}
		c.patch(e.m, e.m.Data(), e.seq, segFlags(e), int(e.len), e.psum, 0)
		padFrame(e.m)
		e.m.RefcntAdd(1)
		s.txv[n] = e.m
		n++
	}
	if n == 0 {
		c.ccAfterPush(0)
		c.armPersist()
		return 0
	}
	sent := c.transmit(n)
	for _, m := range s.txv[sent:n] {
		m.RefcntAdd(-1)
	}
	for i := start; i != start+uint32(sent); i++ {
		c.sentSeg(c.seg(i))
	}
	c.sqNext = start + uint32(sent)
	if sent < n {
		c.retryTx(flush)
	}
	if sent > 0 {
		s.ctr.TxSegments += uint64(sent)
		c.ackSent()
		if c.rtxAt == 0 || c.persisting {
			c.armRTO()
		}
	}
	c.ccAfterPush(sent)
	return sent
}

// sentSeg accounts for queued segment e having left: SND.NXT passes it, SND.MAX too when it
// was new data (then counted), a retransmission counted and marked; the time is noted.
func (c *Conn) sentSeg(e *txSeg) {
	s := c.s
	end := e.seq.Add(uint32(e.len))
	if e.fin {
		end++
	}
	e.sentAt = c.stamp()
	if e.seq.LessThan(c.sndMax) {
		s.ctr.Retransmits++
		e.rexmit = true
	} else {
		s.ctr.TxBytes += uint64(e.len)
	}
	c.sndNxt = end
	if c.sndMax.LessThan(end) {
		c.sndMax = end
	}
}

// txRetryHandler is the transmit-retry timer: a push that the port refused (full ring) again.
type txRetryHandler Conn

// retryTx arms the transmit-retry timer for the next reactor turn; flush is the refused
// push's.
func (c *Conn) retryTx(flush bool) {
	c.retryFlush = c.retryFlush || flush
	if !c.txT.Armed() {
		c.s.st.ArmTimer(&c.txT, c.s.st.Now(), (*txRetryHandler)(c))
	}
}

// Expire pushes the segments a full transmit ring refused.
func (h *txRetryHandler) Expire(int64) {
	c := (*Conn)(h)
	flush := c.retryFlush
	c.retryFlush = false
	c.push(flush)
}

// transmit hands the first n frames of the burst array to the port (or, while ARP resolves,
// to the neighbour queue) and returns how many it took.
func (c *Conn) transmit(n int) int {
	s := c.s
	if !c.resolve() {
		for _, m := range s.txv[:n] {
			s.st.Output(m, c.nexthop)
		}
		return n
	}
	return s.st.Transmit(s.txv[:n])
}

// unshare replaces a segment's buffer that the port still holds (sent before, not yet
// transmitted or freed by the driver) with a private copy, so that patching it cannot change
// the frame in flight.
func (c *Conn) unshare(e *txSeg) bool {
	m := c.s.cache.Take()
	if m == nil {
		return false
	}
	d := e.m.Data()
	n := c.hlen + int(e.len)
	b := m.Append(n)
	if b == nil {
		c.s.cache.Put(m)
		return false
	}
	copy(b, d[:n])
	c.releaseBuf(e, false, ZCCopied)
	e.m = m
	return true
}

// split cuts the unsent segment at index i after n payload bytes, so that its first part fits
// the send window; the rest becomes the next segment. It fails when the queue is full or no
// buffer is left.
func (c *Conn) split(i uint32, n int) bool {
	e := c.seg(i)
	if n <= 0 || c.queued() == c.sqCap() || e.m.Refcnt() != 1 {
		return false
	}
	m := c.s.cache.Take()
	if m == nil {
		return false
	}
	rest := int(e.len) - n
	src := e.m.Data()[c.hlen+n : c.hlen+int(e.len)]
	b := m.Append(c.hlen + rest)
	if b == nil {
		c.s.cache.Put(m)
		return false
	}
	copy(b, c.tmpl[:c.hlen])
	copy(b[c.hlen:], src)
	ne := txSeg{m: m, seq: e.seq.Add(uint32(n)), len: uint16(rest), fin: e.fin, psum: wire.Sum(b[c.hlen:], 0)}
	e.m.SetLen(c.hlen + n)
	e.len = uint16(n)
	e.fin = false
	e.psum = wire.Sum(e.m.Data()[c.hlen:], 0)
	for j := c.sqTail; j != i+1; j-- {
		*c.seg(j) = *c.seg(j - 1)
	}
	*c.seg(i + 1) = ne
	c.sqTail++
	return true
}

// segFlags are a queued segment's flags: ACK, PSH with data, FIN on the last.
func segFlags(e *txSeg) wire.TCPFlags {
	fl := wire.TCPFlagAck
	if e.len > 0 {
		fl |= wire.TCPFlagPsh
	}
	if e.fin {
		fl |= wire.TCPFlagFin
	}
	return fl
}
