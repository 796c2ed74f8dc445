package udp

import (
	"encoding/binary"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Hooks for package zc (zero-copy send and callback receive in the style of Onload's
// onload_zc_*). They are exported for zc only; applications use zc.

// ZCSend sends the n payload bytes that start at m's data offset as one datagram without
// copying them: the header template is written into m's headroom (at least HeaderSize bytes),
// patched, and m itself goes to the port. hold adds a reference to m before the burst, so that
// the caller keeps m after the driver's free (zc.SendZC's completion watches the count fall
// back). With warm the frame is built and the headroom restored, nothing is sent and m stays
// the caller's (ONLOAD_MSG_WARM).
//
// On success the port (or the ARP queue) owns m's frame reference. On error m is unchanged and
// the caller's. Errors (bare): EBADF after Close; EMSGSIZE when n exceeds the MSS (zero-copy
// datagrams are never fragmented) or the headroom is too small; EAGAIN when the transmit ring
// is full.
func (t *Transmitter) ZCSend(m *dpdk.Mbuf, n int, hold, warm bool) (int, error) {
	if t.closed {
		return 0, errClosed
	}
	hl := t.hl
	if n > t.mss || m.Headroom() < hl || n > m.DataLen()+m.Tailroom() {
		return 0, errMsgSize
	}
	m.SetLen(n)
	frame := m.Prepend(hl)
	copy(frame[:hl], t.hdr[:hl])
	ipLen := uint32(wire.IPv4MinimumSize + wire.UDPMinimumSize + n)
	udpLen := uint32(wire.UDPMinimumSize + n)
	ip := frame[t.l2:]
	id := t.s.nextID()
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], 0x4000)
	u := ip[wire.IPv4MinimumSize:]
	binary.BigEndian.PutUint16(u[4:], uint16(udpLen))
	if t.csumHW {
		m.SetOlFlags(dpdk.TxIPv4 | dpdk.TxIPChecksum | dpdk.TxUDPChecksum)
		m.SetTxOffload(t.l2, wire.IPv4MinimumSize, wire.UDPMinimumSize)
		binary.BigEndian.PutUint16(u[6:], wire.Fold(t.phSum+udpLen))
	} else {
		binary.BigEndian.PutUint16(ip[10:], ^wire.Fold(t.ipSum+ipLen+uint32(id)+0x4000))
		c := ^wire.Fold(wire.Sum(m.Data()[hl:], t.udpSum+2*udpLen))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(u[6:], c)
	}
	if warm || t.hostOnly {
		m.Adj(hl)
		m.SetOlFlags(0)
		if t.hostOnly && !warm {
			// multicast_ttl 0: "sent" to this host only, which has no loopback; the frame
			// reference goes as if the port had sent it.
			t.s.ctr.TxHostOnly++
			if !hold {
				m.Free()
			}
		}
		return n, nil
	}
	if hold {
		m.RefcntAdd(1)
	}
	if !t.resolved || t.st.Now()-t.checked > recheckNs {
		if !t.resolve() {
			t.st.Output(m, t.nexthop) // waits for ARP
			t.count(n)
			return n, nil
		}
		copy(frame[:6], t.hdr[:6])
	}
	t.one[0] = m
	if t.st.Transmit(t.one) == 0 {
		if hold {
			m.RefcntAdd(-1)
		}
		m.Adj(hl)
		m.SetOlFlags(0)
		t.s.ctr.TxRingFull++
		return 0, errAgain
	}
	t.count(n)
	return n, nil
}

// ZCNext takes the next queued datagram off the receive ring for zc.Recv: its buffer, a view
// of its payload and how many datagrams are left. m is nil when none is queued. The buffer is
// the caller's from then on: give it back with ZCRelease (or free it).
func (r *Receiver) ZCNext() (m *dpdk.Mbuf, payload []byte, left int) {
	if r.head == r.tail {
		return nil, nil, 0
	}
	e := &r.ring[r.head&r.mask]
	r.head++
	m, payload = e.m, e.payload
	e.m, e.payload = nil, nil
	if r.head == r.tail {
		r.w.NotReady(stack.EPOLLIN)
	}
	r.released++
	return m, payload, int(r.tail - r.head)
}

// ZCRelease gives back a buffer ZCNext returned (to the stack's buffer cache).
func (r *Receiver) ZCRelease(m *dpdk.Mbuf) { r.s.recycle(m) }
