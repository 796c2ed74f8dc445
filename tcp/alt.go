package tcp

import (
	"encoding/binary"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// The TX-alternatives hook (package alts, TCPDirect's zf_alts.h): the narrow, exported way in
// which alts builds frames for a connection's sequence space and hands them back once sent.
// alts never reads or writes a Conn's fields; everything it needs is here:
//
//  1. AltStart, before the first frame of an alternative: the point of the sequence space the
//     alternative is built for (AltPoint: the end of everything the connection has queued, the
//     ACK and window at that moment).
//  2. AltSegment, once per frame: a complete frame (template, payload, checksums) for
//     sequence number p.Seq + offset, carrying p.Ack and p.Win.
//  3. AltReady, when the application picks the alternative: whether the frames may still go
//     (same sequence point, connection able to send, room in the send queue), the ACK and
//     window they must carry now, and how many of them the windows let leave at once.
//  4. AltCommit, after the burst: the frames become ordinary segments of the send queue
//     (unacknowledged, retransmitted if lost), the send sequence advances.
//
// Validity rule (TCPDirect's): an alternative's frames are built to start exactly where the
// connection's queued data ends. Anything that moves that point — Send or SendSingle queuing
// other data, ShutdownTx or Close queuing a FIN, another alternative committed — makes every
// alternative built for the old point stale: AltReady returns EINVAL and the application
// must cancel it (and may requeue the data). The point is compared by value (the sequence
// number after the last queued byte), so no generation counter is kept in the connection.

// AltPoint is the place in a connection's sequence space an alternative is built for: the
// first sequence number of its data and the ACK, window and timestamps its frames were built
// with, and where the frames' TCP header is.
type AltPoint struct {
	Seq wire.Seq
	Ack wire.Seq
	Win uint16
	// TS says whether the frames carry the timestamps option (negotiated on the connection);
	// TSVal and TSEcr are its values, at TCP header offsets 24 and 28. Send patches them to
	// AltTimestamps' like the ACK, so that a frame built long before does not fail the peer's
	// PAWS test.
	TS           bool
	TSVal, TSEcr uint32
	// TCPOff is the TCP header's offset in a frame (after Ethernet and IPv4).
	TCPOff int
}

// AltFrame is what AltCommit needs of a built frame besides its mbuf: its payload length and
// the payload's partial checksum (as AltSegment returned it).
type AltFrame struct {
	Len  uint16
	Psum uint32
}

// AltStart returns the sequence point for a new alternative on c.
//
// Errors: EINVAL when the connection is not in a state that sends (not established, shut
// down, closed); EAGAIN when the next hop's MAC address is not known yet.
func (c *Conn) AltStart() (AltPoint, error) {
	if !c.canSend() {
		return AltPoint{}, syscall.EINVAL
	}
	if !c.resolve() {
		return AltPoint{}, syscall.EAGAIN
	}
	p := AltPoint{Seq: c.sndQueuedEnd(), Ack: c.rcvNxt, Win: scaleWindow(c.rcvWindow(), c.rcvShift),
		TS: c.tcpOpt != 0, TCPOff: c.l2 + 20}
	if p.TS {
		p.TSVal, p.TSEcr = c.AltTimestamps()
	}
	return p, nil
}

// AltTimestamps returns the TSval and TSecr a segment of c would carry now (0, 0 without
// timestamps).
func (c *Conn) AltTimestamps() (val, ecr uint32) {
	if c.tcpOpt == 0 {
		return 0, 0
	}
	return c.tsNow(), c.tsRecent
}

// AltSegment writes into the empty buffer m a complete frame for the n payload bytes of iov:
// the header template, sequence number seq, ACK p.Ack, window p.Win, timestamps p.TSVal and
// p.TSEcr when p.TS, flags ACK|PSH, the IPv4 identification and both checksums (or the offload flags), padded to the Ethernet minimum.
// It returns the payload's partial checksum, for AltCommit.
//
// Errors: EINVAL when n is 0 or the connection no longer sends; EMSGSIZE when n exceeds the
// MSS or the buffer's room.
func (c *Conn) AltSegment(m *dpdk.Mbuf, p *AltPoint, seq wire.Seq, iov [][]byte, n int) (uint32, error) {
	if !c.canSend() || n <= 0 {
		return 0, syscall.EINVAL
	}
	if n > c.mss {
		return 0, syscall.EMSGSIZE
	}
	b := m.Append(c.hlen + n)
	if b == nil {
		return 0, syscall.EMSGSIZE
	}
	copy(b, c.tmpl[:c.hlen])
	r := iovReader{iov: iov}
	r.read(b[c.hlen:])
	psum := wire.Sum(b[c.hlen:], 0)
	fl := wire.TCPFlagAck | wire.TCPFlagPsh
	thl := 20 + c.tcpOpt
	ip := b[c.l2 : c.l2+20]
	tl := 20 + thl + n
	binary.BigEndian.PutUint16(ip[ipTotLen:], uint16(tl))
	c.ipID++
	binary.BigEndian.PutUint16(ip[ipIDOff:], c.ipID)
	t := b[c.l2+20 : c.l2+20+thl]
	binary.BigEndian.PutUint32(t[tcpSeqOff:], uint32(seq))
	binary.BigEndian.PutUint32(t[tcpAckOff:], uint32(p.Ack))
	t[tcpFlOff] = uint8(fl)
	binary.BigEndian.PutUint16(t[tcpWinOff:], p.Win)
	if p.TS {
		binary.BigEndian.PutUint32(t[24:], p.TSVal)
		binary.BigEndian.PutUint32(t[28:], p.TSEcr)
	}
	l4 := uint16(thl + n)
	if c.s.st.TxChecksumOffload() {
		m.SetOlFlags(dpdk.TxIPv4 | dpdk.TxIPChecksum | dpdk.TxTCPChecksum)
		m.SetTxOffload(c.l2, 20, thl)
		binary.BigEndian.PutUint16(t[tcpCsOff:], wire.Fold(c.phSum+uint32(l4)))
	} else {
		binary.BigEndian.PutUint16(ip[ipCsum:], ^wire.Fold(c.ipSum+uint32(tl)+uint32(c.ipID)))
		t[tcpCsOff], t[tcpCsOff+1] = 0, 0
		binary.BigEndian.PutUint16(t[tcpCsOff:], wire.Checksum(t, c.phSum+uint32(l4)+psum))
	}
	padFrame(m)
	return psum, nil
}

// AltReady decides whether an alternative built for p, holding the frames of meta (bytes of
// payload in all), can be sent now, and returns the ACK and window its frames must carry (the
// window is recorded as advertised) and how many of its frames may leave at once: all of them
// unless data queued before them has not left yet (a retransmission, a closed window) or the peer's window or the
// congestion window admits only a prefix (possibly none). Frames that may not leave at once
// still join the stream at AltCommit, and TCP sends them when the windows open, as it would
// the rest of a Send. rewind is tcp_alt_ack_rewind: how far the connection's receive sequence
// may have moved since p.Ack.
//
// Errors: EINVAL when the alternative is stale and must be cancelled (the connection no longer
// sends, the end of its queued data moved past p.Seq, or it received more than rewind bytes
// since p.Ack); EBUSY when the send queue (tcp_sndbuf / MSS segments, at least 64) has no
// room for the frames yet.
func (c *Conn) AltReady(p *AltPoint, meta []AltFrame, bytes int, rewind uint32) (ack wire.Seq, win uint16, now int, err error) {
	if !c.canSend() || c.sndQueuedEnd() != p.Seq || p.Ack.Size(c.rcvNxt) > rewind {
		return 0, 0, 0, syscall.EINVAL
	}
	if c.queued()+len(meta) > c.sqCap() {
		return 0, 0, 0, syscall.EBUSY
	}
	if c.sqNext == c.sqTail {
		room := int64(c.sendWindow()) - int64(c.sndUna.Size(p.Seq))
		if room >= int64(bytes) {
			return c.rcvNxt, uint16(c.advertise(wire.TCPFlagAck)), len(meta), nil
		}
		for _, f := range meta {
			if room -= int64(f.Len); room < 0 {
				break
			}
			now++
		}
	}
	return c.rcvNxt, uint16(c.advertise(wire.TCPFlagAck)), now, nil
}

// AltCommit takes the frames of an alternative that AltReady allowed into the send queue, in
// order from p.Seq, after the burst that sent the first sent of them: they become ordinary
// unacknowledged segments (their retransmission reference is the one the alternative held),
// and the rest ordinary segments not yet sent (their second reference, meant for the driver,
// is dropped here), which TCP sends as the windows allow. Sequence variables, RTT timing, the
// retransmission timer, the delayed ACK and the counters are updated as a push would.
func (c *Conn) AltCommit(p *AltPoint, frames []*dpdk.Mbuf, meta []AltFrame, sent int) {
	s := c.s
	seq := p.Seq
	var bytes uint64
	for i, m := range frames {
		f := meta[i]
		*c.seg(c.sqTail) = txSeg{m: m, seq: seq, len: f.Len, psum: f.Psum}
		c.sqTail++
		c.sqBytes += int(f.Len)
		if i < sent {
			c.seg(c.sqTail - 1).sentAt = s.st.Now()
			bytes += uint64(f.Len)
		} else {
			m.RefcntAdd(-1)
		}
		seq = seq.Add(uint32(f.Len))
		if i+1 == sent {
			c.sndNxt = seq
		}
	}
	c.more = false
	if sent > 0 {
		c.sqNext += uint32(sent)
		if c.sndMax.LessThan(c.sndNxt) {
			c.sndMax = c.sndNxt
		}
		s.ctr.TxSegments += uint64(sent)
		s.ctr.TxBytes += bytes
		c.ackSent()
		if c.rtxAt == 0 || c.persisting {
			c.armRTO()
		}
	}
	if sent < len(frames) {
		c.push(false)
	}
}

// Stack returns the stack the connection belongs to.
func (c *Conn) Stack() *stack.Stack { return c.s.st }
