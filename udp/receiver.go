package udp

import (
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Msg is a zero-copy receive message (TCPDirect's zfur_msg): the caller sizes Iov once (its
// capacity is how many entries ZcRecv may fill, like zfur_msg's iovcnt on input) and reuses the
// Msg, so that receiving allocates nothing.
type Msg struct {
	// Iov is, on return from ZcRecv, the payload of one datagram as a view into the packet
	// buffer (one entry: see ZcRecv).
	// Its capacity is the caller's array; ZcRecv reslices it (to length 0 when nothing was
	// received). The views are valid until ZcRecvDone.
	Iov [][]byte
	// DgramsLeft is, on return from ZcRecv, how many datagrams are still queued.
	DgramsLeft int
	// Flags is reserved.
	Flags int

	m      *dpdk.Mbuf // the datagram held until ZcRecvDone
	l3, l4 uint16
}

// NewMsg returns a Msg whose Iov can hold n entries (n ≥ 1; one is all ZcRecv fills today, more
// leaves room for datagrams in buffer chains, as TCPDirect's iovec array does).
func NewMsg(n int) *Msg { return &Msg{Iov: make([][]byte, 0, max(n, 1))} }

// rxEntry is a queued datagram: the mbuf, a view of its payload and where its IPv4 and UDP
// headers start in the frame.
type rxEntry struct {
	m       *dpdk.Mbuf
	payload []byte
	l3, l4  uint16
}

// Receiver is a UDP receive zocket (TCPDirect's zfur). It belongs to one stack and is used from
// the goroutine that polls it.
type Receiver struct {
	w      stack.Waitable
	s      *state
	ring   []rxEntry
	mask   uint32
	qlen   uint32
	head   uint32 // next to read
	tail   uint32 // next to write
	binds  []*bind
	closed bool

	received, qdrops, released uint64
}

// ReceiverCounters are one receiver's counters (zf_stackdump's "udp rx").
type ReceiverCounters struct {
	Received uint64 // datagrams queued
	Unread   int    // datagrams queued and not yet returned by ZcRecv
	Released uint64 // datagrams given back by ZcRecvDone (release_n)
	QDrops   uint64 // datagrams dropped because the queue was full (q_drops)
}

// NewReceiver makes a UDP receive zocket on st (zfur_alloc). a gives the zocket's attributes
// (udp_rx_queue_len); nil means the stack's. The zocket receives nothing until bound.
//
// Errors: ENOBUFS when the stack already has max_udp_rx_endpoints receivers.
func NewReceiver(st *stack.Stack, a *stack.Attr) (*Receiver, error) {
	s := stateOf(st)
	if s.nrx >= s.maxRx {
		return nil, errorf(syscall.ENOBUFS, "new receiver: max_udp_rx_endpoints=%d reached", s.maxRx)
	}
	if a == nil {
		a = st.Attr()
	}
	qlen := uint32(a.IntOf(attr.UDPRxQueueLen))
	size := uint32(1)
	for size < qlen {
		size <<= 1
	}
	s.acquire()
	s.nrx++
	r := &Receiver{s: s, ring: make([]rxEntry, size), mask: size - 1, qlen: qlen}
	r.w.Init(st)
	s.rxs = stack.SlotAdd(s.rxs, r)
	return r, nil
}

// Waitable returns the receiver's waitable for a stack.Muxer (zfur_to_waitable): EPOLLIN while
// datagrams are queued, with an edge for every datagram that arrives.
func (r *Receiver) Waitable() *stack.Waitable { return &r.w }

// Bind makes the receiver accept datagrams to laddr, from raddr only when raddr is valid
// (zfur_addr_bind). laddr is the stack's address, a multicast group or a broadcast address;
// port 0 allocates an ephemeral port. A multicast laddr joins the group (IGMP membership
// reports, the port's multicast filter) until Unbind or Close. A receiver may be bound several
// times. In raddr, address 0.0.0.0 or port 0 match any. Bind returns the bound local address,
// with the port filled in.
//
// Errors: EFAULT when laddr is the zero AddrPort (no address); EINVAL for laddr 0.0.0.0
// (INADDR_ANY is refused, as in TCPDirect), a remote multicast or broadcast address, or a
// closed receiver; EAFNOSUPPORT for an address that is not IPv4; EADDRNOTAVAIL for a unicast
// laddr that is not the stack's; EADDRINUSE when the same local and remote filter is bound
// already (by any receiver of the stack) or no ephemeral port is free; the stack's error when
// joining the group fails (ENOBUFS: too many groups).
func (r *Receiver) Bind(laddr, raddr netip.AddrPort) (netip.AddrPort, error) {
	if r.closed {
		return laddr, errorf(syscall.EINVAL, "bind %v: receiver closed", laddr)
	}
	if !laddr.IsValid() {
		return laddr, errorf(syscall.EFAULT, "bind: no local address")
	}
	lip, ok := ip4(laddr.Addr())
	if !ok {
		return laddr, errorf(syscall.EAFNOSUPPORT, "bind %v: not IPv4", laddr)
	}
	st := r.s.st
	switch {
	case wire.IsUnspecified4(lip):
		return laddr, errorf(syscall.EINVAL, "bind %v: INADDR_ANY is not allowed, bind the stack's address", laddr)
	case lip == st.LocalIP4(), wire.IsMulticast4(lip), wire.IsBroadcast4(lip), lip == directedBroadcast(st):
	default:
		return laddr, errorf(syscall.EADDRNOTAVAIL, "bind %v: not the stack's address (%v)", laddr, st.LocalAddr())
	}
	b := &bind{r: r, local: localKey{ip: lip, port: laddr.Port()}}
	if raddr.IsValid() {
		rip, ok := ip4(raddr.Addr())
		if !ok {
			return laddr, errorf(syscall.EAFNOSUPPORT, "bind %v: remote %v not IPv4", laddr, raddr)
		}
		if wire.IsMulticast4(rip) || wire.IsBroadcast4(rip) {
			return laddr, errorf(syscall.EINVAL, "bind %v: remote %v is not a unicast address", laddr, raddr)
		}
		b.rip, b.rport = rip, raddr.Port()
	}
	p, err := r.s.reservePort(b.local.port)
	if err != nil {
		return laddr, errorf(syscall.EADDRINUSE, "bind %v: no free ephemeral port", laddr)
	}
	b.local.port = p
	bound := netip.AddrPortFrom(netip.AddrFrom4(lip), b.local.port)
	if err := r.s.insert(b); err != nil {
		r.s.releasePort(p)
		return bound, errorf(syscall.EADDRINUSE, "bind %v remote %v", bound, raddr)
	}
	if wire.IsMulticast4(lip) {
		if err := st.JoinMulticast(lip); err != nil {
			r.s.remove(b)
			r.s.releasePort(p)
			return bound, err
		}
		b.group = true
	}
	r.binds = append(r.binds, b)
	return bound, nil
}

func directedBroadcast(st *stack.Stack) [4]byte {
	p := st.Prefix()
	a := p.Addr().As4()
	host := ^uint32(0) >> p.Bits()
	if p.Bits() >= 31 {
		return [4]byte{255, 255, 255, 255}
	}
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// Unbind removes the receiver's binds that match laddr and raddr (zfur_addr_unbind): the zero
// AddrPort matches any address, port 0 any port. Leaving a multicast bind leaves the group
// (an IGMP leave goes out when no other bind holds it). Datagrams already queued stay queued.
//
// Errors: EINVAL when no bind of this receiver matches.
func (r *Receiver) Unbind(laddr, raddr netip.AddrPort) error {
	var lip, rip [4]byte
	if laddr.IsValid() {
		lip, _ = ip4(laddr.Addr())
	}
	if raddr.IsValid() {
		rip, _ = ip4(raddr.Addr())
	}
	n := 0
	for i := 0; i < len(r.binds); {
		b := r.binds[i]
		match := (!laddr.IsValid() || (b.local.ip == lip && (laddr.Port() == 0 || laddr.Port() == b.local.port))) &&
			(!raddr.IsValid() || (b.rip == rip && (raddr.Port() == 0 || raddr.Port() == b.rport)))
		if !match {
			i++
			continue
		}
		r.unbind(b)
		r.binds = append(r.binds[:i], r.binds[i+1:]...)
		n++
	}
	if n == 0 {
		return errorf(syscall.EINVAL, "unbind %v remote %v: not bound", laddr, raddr)
	}
	return nil
}

func (r *Receiver) unbind(b *bind) {
	r.s.remove(b)
	r.s.releasePort(b.local.port)
	if b.group {
		_ = r.s.st.LeaveMulticast(b.local.ip)
	}
}

// LocalAddrs lists the receiver's bound local addresses, in bind order.
func (r *Receiver) LocalAddrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(r.binds))
	for i, b := range r.binds {
		out[i] = netip.AddrPortFrom(netip.AddrFrom4(b.local.ip), b.local.port)
	}
	return out
}

// ZcRecv returns the next queued datagram in msg without copying (zfur_zc_recv): msg.Iov is
// resliced to a view of the payload inside the packet buffer, and msg.DgramsLeft says how many
// more are queued. With nothing queued msg.Iov has length 0. A datagram is always one entry:
// the stack reads a frame's first buffer segment only, so a datagram spread over a chain never
// gets this far (it is dropped as udp_length; with the stack's 2 KiB buffers no Ethernet frame
// needs a chain).
//
// The buffer is locked until ZcRecvDone(msg); msg must not be changed in between. Further
// ZcRecv calls with other Msgs may hold further datagrams meanwhile. ZcRecv does not poll the
// stack: call Perform first. It never fails and never allocates.
func (r *Receiver) ZcRecv(msg *Msg) {
	iov := msg.Iov[:0]
	if r.head == r.tail || cap(iov) == 0 {
		msg.Iov = iov
		msg.DgramsLeft = int(r.tail - r.head)
		return
	}
	e := &r.ring[r.head&r.mask]
	r.head++
	m := e.m
	iov = append(iov, e.payload)
	e.m, e.payload = nil, nil
	msg.Iov = iov
	msg.DgramsLeft = int(r.tail - r.head)
	msg.m, msg.l3, msg.l4 = m, e.l3, e.l4
	if r.head == r.tail {
		r.w.NotReady(stack.EPOLLIN)
	}
}

// ZcRecvDone releases the datagram ZcRecv returned in msg (zfur_zc_recv_done); its views
// become invalid. Called on a Msg that holds nothing (ZcRecv returned no datagram) it does
// nothing. It never allocates; buffers are given back in bulk.
func (r *Receiver) ZcRecvDone(msg *Msg) {
	m := msg.m
	if m == nil {
		return
	}
	msg.m = nil
	msg.Iov = msg.Iov[:0]
	r.released++
	r.s.recycle(m)
}

// PacketHeader returns the IPv4 and UDP headers of the datagram in msg (zfur_pkt_get_header),
// for receivers that accept many senders; i is the index of an entry of msg.Iov. The views are
// valid until ZcRecvDone.
//
// Errors: EINVAL when msg holds no datagram or i is out of range.
func (r *Receiver) PacketHeader(msg *Msg, i int) (wire.IPv4, wire.UDP, error) {
	if msg.m == nil || i < 0 || i >= len(msg.Iov) {
		return nil, nil, syscall.EINVAL
	}
	data := msg.m.Data()
	return wire.IPv4(data[msg.l3:msg.l4]), wire.UDP(data[msg.l4 : msg.l4+wire.UDPMinimumSize]), nil
}

// Source returns the sender's address of the datagram in msg (from PacketHeader), or the zero
// AddrPort when msg holds none.
func (r *Receiver) Source(msg *Msg) netip.AddrPort {
	ip, u, err := r.PacketHeader(msg, 0)
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom4(ip.Src()), u.SrcPort())
}

// Counters returns the receiver's counters.
func (r *Receiver) Counters() ReceiverCounters {
	return ReceiverCounters{Received: r.received, Unread: int(r.tail - r.head), Released: r.released, QDrops: r.qdrops}
}

// Close unbinds every address (leaving joined groups), frees the datagrams still queued and
// releases the zocket (zfur_free). Datagrams held by ZcRecv must be given back with ZcRecvDone
// first. Close is idempotent and returns nil.
func (r *Receiver) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.w.Detach()
	r.w.NotReady(stack.EPOLLIN)
	for _, b := range r.binds {
		r.unbind(b)
	}
	r.binds = nil
	for r.head != r.tail {
		e := &r.ring[r.head&r.mask]
		r.s.recycle(e.m)
		e.m = nil
		r.head++
	}
	stack.SlotRemove(r.s.rxs, r)
	r.s.nrx--
	r.s.release()
	return nil
}
