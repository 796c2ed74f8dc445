package udp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// DontFragment is Send's flag for "do not fragment" (ZFUT_FLAG_DONT_FRAGMENT, the value of
// IP_DF): the datagram must fit the MSS and leaves with the IP DF bit set.
const DontFragment = 0x4000

// MaxDatagram is the largest UDP payload an IPv4 datagram can carry (65535 − 20 − 8).
const MaxDatagram = 65535 - wire.IPv4MinimumSize - wire.UDPMinimumSize

// maxFrags is how many fragments the largest datagram needs at the smallest MTU (68: 48-byte
// fragments).
const maxFrags = (MaxDatagram+wire.UDPMinimumSize)/48 + 1

// bufRoom is the data room of a stack's packet buffer after the headroom.
const bufRoom = dpdk.DefaultDataRoom - dpdk.DefaultHeadroom

// recheckNs is how often (stack time) a transmitter checks its neighbour's MAC again.
const recheckNs = 1_000_000_000

// Preallocated errors: the hot path returns these without allocating.
var (
	errAgain   error = syscall.EAGAIN
	errNoBufs  error = syscall.ENOBUFS
	errMsgSize error = syscall.EMSGSIZE
	errClosed  error = syscall.EBADF
)

// Transmitter is a UDP transmit zocket (TCPDirect's zfut): fixed local and remote addresses and
// a prebuilt header. It belongs to one stack and is used from the goroutine that polls it.
type Transmitter struct {
	w   stack.Waitable
	s   *state
	st  *stack.Stack
	hdr [64]byte // Ethernet + IPv4 + UDP template
	l2  int      // Ethernet header length
	hl  int      // l2 + 28
	mss int
	// fragData is the IP payload of every fragment but the last: the MTU less the IP header,
	// rounded down to 8 bytes.
	fragData int

	laddr, raddr netip.AddrPort
	nexthop      [4]byte
	resolved     bool
	checked      int64 // stack time of the last neighbour check
	hostOnly     bool  // multicast_ttl 0
	ttl          uint8 // udp_ttl, for unicast destinations
	mcastTTL     uint8 // multicast_ttl, for multicast ones

	ipSum  uint32 // partial sum of the IPv4 header without length, id, flags and checksum
	udpSum uint32 // pseudo-header without length, plus the ports
	phSum  uint32 // pseudo-header without length (offloaded checksum)
	csumHW bool   // the port computes IPv4 and UDP checksums

	sent, sentBytes uint64 // datagrams handed to the port or to ARP, and their payload bytes

	one    []*dpdk.Mbuf // C memory, 1 entry
	frags  []*dpdk.Mbuf // C memory, maxFrags entries; allocated on first fragmented send
	closed bool
}

// NewTransmitter makes a UDP transmit zocket on st from laddr to raddr (zfut_alloc). laddr
// 0.0.0.0 takes the source address of the route to raddr (the stack's address); its port must
// not be 0. raddr may be unicast, multicast or broadcast. flags must be 0. a gives the zocket's
// attributes (udp_ttl, multicast_ttl); nil means the stack's. The destination's MAC is resolved
// through the stack's ARP; datagrams sent before the answer wait for it.
//
// Errors: EINVAL for a local port 0, a local address that is not the stack's, a remote address
// 0.0.0.0 or port 0, or non-zero flags; EAFNOSUPPORT for addresses that are not IPv4;
// EHOSTUNREACH when raddr is off the local subnet and no gateway is set; ENOBUFS when the stack
// already has max_udp_tx_endpoints transmitters.
func NewTransmitter(st *stack.Stack, laddr, raddr netip.AddrPort, flags int, a *stack.Attr) (*Transmitter, error) {
	s := stateOf(st)
	if flags != 0 {
		return nil, errorf(syscall.EINVAL, "new transmitter: flags %#x must be 0", flags)
	}
	if s.ntx >= s.maxTx {
		return nil, errorf(syscall.ENOBUFS, "new transmitter: max_udp_tx_endpoints=%d reached", s.maxTx)
	}
	lip, ok := ip4(laddr.Addr())
	if !laddr.IsValid() {
		return nil, errorf(syscall.EINVAL, "new transmitter %v → %v: missing address", laddr, raddr)
	}
	if !ok {
		return nil, errorf(syscall.EAFNOSUPPORT, "new transmitter %v → %v: not IPv4", laddr, raddr)
	}
	if laddr.Port() == 0 {
		return nil, errorf(syscall.EINVAL, "new transmitter %v: local port 0", laddr)
	}
	if wire.IsUnspecified4(lip) {
		lip = st.LocalIP4() // the stack has one address: every route's source
	} else if lip != st.LocalIP4() {
		return nil, errorf(syscall.EINVAL, "new transmitter %v: not the stack's address (%v)", laddr, st.LocalAddr())
	}
	if a == nil {
		a = st.Attr()
	}
	t := &Transmitter{
		s: s, st: st,
		laddr:    netip.AddrPortFrom(netip.AddrFrom4(lip), laddr.Port()),
		l2:       st.EthernetHeaderSize(),
		csumHW:   st.TxChecksumOffload(),
		ttl:      uint8(a.IntOf(attr.UDPTTL)),
		mcastTTL: uint8(a.IntOf(attr.MulticastTTL)),
	}
	t.hl = t.l2 + wire.IPv4MinimumSize + wire.UDPMinimumSize
	// A frame must fit one buffer of the stack's pool (2048 bytes of data room).
	t.mss = min(st.MTU(), bufRoom-t.l2) - wire.IPv4MinimumSize - wire.UDPMinimumSize
	t.fragData = (min(st.MTU(), bufRoom-t.l2) - wire.IPv4MinimumSize) &^ 7
	if err := t.target("new transmitter", raddr); err != nil {
		return nil, err
	}
	s.acquire()
	s.ntx++
	t.one = dpdk.NewMbufArray(1)
	t.w.Init(st)
	t.w.Ready(stack.EPOLLOUT)
	s.txs = stack.SlotAdd(s.txs, t)
	return t, nil
}

// Retarget points the zocket at a new remote address, as if it had been made for raddr with
// the same local address and attributes, without allocating: code that sends to many peers
// (net.PacketConn's WriteTo) keeps a few transmitters and retargets the least recently used
// rather than making one per destination. Datagrams already handed to the port are not
// affected; the new destination's MAC is resolved as NewTransmitter's is.
//
// Errors: EBADF after Close; EINVAL for a remote address 0.0.0.0 or port 0; EAFNOSUPPORT for an
// address that is not IPv4; EHOSTUNREACH when raddr is off the local subnet and no gateway is
// set. On error the zocket keeps its previous destination.
func (t *Transmitter) Retarget(raddr netip.AddrPort) error {
	if t.closed {
		return errClosed
	}
	return t.target("retarget", raddr)
}

// target checks raddr and builds the header template for it: Ethernet (the next hop's MAC when
// the stack's ARP knows it), IPv4 with the TTL for unicast or multicast, UDP, and the partial
// checksums. op names the caller in errors.
func (t *Transmitter) target(op string, raddr netip.AddrPort) error {
	rip, ok := ip4(raddr.Addr())
	if !raddr.IsValid() {
		return errorf(syscall.EINVAL, "%s %v → %v: missing address", op, t.laddr, raddr)
	}
	if !ok {
		return errorf(syscall.EAFNOSUPPORT, "%s %v → %v: not IPv4", op, t.laddr, raddr)
	}
	if wire.IsUnspecified4(rip) || raddr.Port() == 0 {
		return errorf(syscall.EINVAL, "%s → %v: no remote address or port", op, raddr)
	}
	nh, err := t.st.NextHop(rip)
	if err != nil {
		return errorf(syscall.EHOSTUNREACH, "%s → %v: %v", op, raddr, errors.Unwrap(err))
	}
	t.raddr = netip.AddrPortFrom(netip.AddrFrom4(rip), raddr.Port())
	t.nexthop = nh
	ttl := t.ttl
	t.hostOnly = false
	if wire.IsMulticast4(rip) {
		ttl = t.mcastTTL
		t.hostOnly = ttl == 0
	}
	var dst [6]byte
	t.resolved = false
	if mac, ok := t.st.Resolve(nh); ok {
		dst, t.resolved, t.checked = mac, true, t.st.Now()
	}
	lip, lport := t.laddr.Addr().As4(), t.laddr.Port()
	t.st.EncodeEthernet(t.hdr[:], dst, wire.EtherTypeIPv4)
	ipf := wire.IPv4Fields{TTL: ttl, Protocol: wire.ProtoUDP, Src: lip, Dst: rip}
	ipf.Encode(t.hdr[t.l2:])
	wire.IPv4(t.hdr[t.l2:]).SetChecksum(0)
	t.ipSum = wire.Sum(t.hdr[t.l2:t.l2+wire.IPv4MinimumSize], 0)
	uf := wire.UDPFields{SrcPort: lport, DstPort: raddr.Port()}
	uf.Encode(t.hdr[t.l2+wire.IPv4MinimumSize:])
	t.phSum = wire.PseudoHeaderSum(lip, rip, wire.ProtoUDP, 0)
	t.udpSum = t.phSum + uint32(lport) + uint32(raddr.Port())
	return nil
}

// Waitable returns the transmitter's waitable for a stack.Muxer (zfut_to_waitable). It is
// always ready for EPOLLOUT: a send that finds the transmit ring full fails with EAGAIN at once,
// and the next Perform frees room.
func (t *Transmitter) Waitable() *stack.Waitable { return &t.w }

// MSS is the largest payload SendSingle takes, and the largest Send sends unfragmented
// (zfut_get_mss): the MTU less the IPv4 and UDP headers. It is constant for a zocket.
func (t *Transmitter) MSS() int { return t.mss }

// HeaderSize is the size of all protocol headers of a datagram (zfut_get_header_size): a frame
// is exactly HeaderSize plus the payload (42 bytes, 46 with a VLAN tag).
func (t *Transmitter) HeaderSize() int { return t.hl }

// LocalAddr is the zocket's source address and port.
func (t *Transmitter) LocalAddr() netip.AddrPort { return t.laddr }

// RemoteAddr is the zocket's destination.
func (t *Transmitter) RemoteAddr() netip.AddrPort { return t.raddr }

// SendSingle sends buf as one datagram with the IP DF bit set (zfut_send_single) and returns
// len(buf).
//
// Errors (bare, no allocation): EMSGSIZE when len(buf) > MSS; EAGAIN when the port's transmit
// ring is full (call Perform until it returns non-zero and try again); ENOBUFS when no packet
// buffer is free; EBADF after Close.
func (t *Transmitter) SendSingle(buf []byte) (int, error) {
	if len(buf) > t.mss {
		return 0, errMsgSize
	}
	return t.send1(nil, buf, len(buf), true, false)
}

// SendSingleWarm runs SendSingle's path for buf — buffer, header, copy, checksums — without
// transmitting anything (zfut_send_single_warm), to keep that path in the CPU's caches while
// the application waits. It returns len(buf) and SendSingle's errors except EAGAIN.
func (t *Transmitter) SendSingleWarm(buf []byte) (int, error) {
	if len(buf) > t.mss {
		return 0, errMsgSize
	}
	return t.send1(nil, buf, len(buf), true, true)
}

// Send sends the concatenation of iov as one datagram (zfut_send) and returns its length. A
// datagram over the MSS is split into IPv4 fragments unless flags has DontFragment; with
// DontFragment the DF bit is set.
//
// Errors (bare, no allocation): EMSGSIZE when the datagram is over the MSS with DontFragment,
// or over MaxDatagram; EAGAIN when the port's transmit ring is full (nothing was sent; if a
// fragmented datagram's first fragments went and the ring filled before its last, the rest is
// dropped and counted as TxFragLost, and Send reports success, as a network loss would be);
// ENOBUFS when there are not enough packet buffers; EBADF after Close.
func (t *Transmitter) Send(iov [][]byte, flags int) (int, error) {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	if n <= t.mss {
		if len(iov) == 1 {
			return t.send1(nil, iov[0], n, flags&DontFragment != 0, false)
		}
		return t.send1(iov, nil, n, flags&DontFragment != 0, false)
	}
	if flags&DontFragment != 0 || n > MaxDatagram {
		return 0, errMsgSize
	}
	return t.sendFragments(iov, n)
}

// buffer returns a buffer with room for need bytes: one the stack gave back, or a fresh one.
func (t *Transmitter) buffer(need int) *dpdk.Mbuf {
	m := t.s.cache.Take()
	if m != nil && m.Tailroom() < need {
		t.s.recycle(m)
		return nil
	}
	return m
}

// send1 sends one frame whose payload is single or, when single is nil, the gather of iov.
func (t *Transmitter) send1(iov [][]byte, single []byte, n int, df, warm bool) (int, error) {
	if t.closed {
		return 0, errClosed
	}
	hl := t.hl
	m := t.buffer(hl + n)
	if m == nil {
		t.s.ctr.TxNoBufs++
		return 0, errNoBufs
	}
	frame := m.Append(hl + n)
	if hl == 42 { // untagged: a fixed-size copy in registers (an array copy calls memmove)
		copyHeader42((*[42]byte)(frame), (*[64]byte)(&t.hdr))
	} else {
		copy(frame[:hl], t.hdr[:hl])
	}
	payload := frame[hl:]
	if single != nil {
		copy(payload, single)
	} else {
		off := 0
		for _, b := range iov {
			off += copy(payload[off:], b)
		}
	}
	ipLen := uint32(wire.IPv4MinimumSize + wire.UDPMinimumSize + n)
	udpLen := uint32(wire.UDPMinimumSize + n)
	ip := frame[t.l2:]
	id := t.s.nextID()
	var ff uint32
	if df {
		ff = 0x4000
	}
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], uint16(ff))
	u := ip[wire.IPv4MinimumSize:]
	binary.BigEndian.PutUint16(u[4:], uint16(udpLen))
	if t.csumHW {
		m.SetOlFlags(dpdk.TxIPv4 | dpdk.TxIPChecksum | dpdk.TxUDPChecksum)
		m.SetTxOffload(t.l2, wire.IPv4MinimumSize, wire.UDPMinimumSize)
		binary.BigEndian.PutUint16(u[6:], wire.Fold(t.phSum+udpLen))
	} else {
		binary.BigEndian.PutUint16(ip[10:], ^wire.Fold(t.ipSum+ipLen+uint32(id)+ff))
		c := ^wire.Fold(wire.Sum(payload, t.udpSum+2*udpLen))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(u[6:], c)
	}
	if warm || t.hostOnly {
		if t.hostOnly && !warm {
			t.s.ctr.TxHostOnly++
		}
		t.s.recycle(m)
		return n, nil
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
		t.s.recycle(m)
		t.s.ctr.TxRingFull++
		return 0, errAgain
	}
	t.count(n)
	return n, nil
}

// copyHeader42 copies the 42-byte untagged Ethernet + IPv4 + UDP template in five 8-byte and
// one 2-byte moves.
func copyHeader42(d *[42]byte, h *[64]byte) {
	le := binary.LittleEndian
	le.PutUint64(d[0:8], le.Uint64(h[0:8]))
	le.PutUint64(d[8:16], le.Uint64(h[8:16]))
	le.PutUint64(d[16:24], le.Uint64(h[16:24]))
	le.PutUint64(d[24:32], le.Uint64(h[24:32]))
	le.PutUint64(d[32:40], le.Uint64(h[32:40]))
	le.PutUint16(d[40:42], le.Uint16(h[40:42]))
}

// count records a datagram of n payload bytes sent.
func (t *Transmitter) count(n int) {
	t.sent++
	t.sentBytes += uint64(n)
	t.s.ctr.TxDatagrams++
	t.s.ctr.TxBytes += uint64(n)
}

// resolve looks the next hop up in the stack's neighbour table and updates the template.
//
//go:noinline
func (t *Transmitter) resolve() bool {
	mac, ok := t.st.Resolve(t.nexthop)
	if !ok {
		t.resolved = false
		return false
	}
	copy(t.hdr[:6], mac[:])
	t.resolved, t.checked = true, t.st.Now()
	return true
}

// sendFragments sends a datagram of n payload bytes (over the MSS) as IPv4 fragments. The UDP
// checksum covers the whole datagram and is computed in software.
func (t *Transmitter) sendFragments(iov [][]byte, n int) (int, error) {
	if t.closed {
		return 0, errClosed
	}
	if t.frags == nil {
		t.frags = dpdk.NewMbufArray(maxFrags)
	}
	per := t.fragData
	dgram := wire.UDPMinimumSize + n
	k := (dgram + per - 1) / per
	ms := t.frags[:k]
	if !t.s.cache.TakeBulk(ms) {
		t.s.ctr.TxNoBufs++
		return 0, errNoBufs
	}
	id := t.s.nextID()
	l2, l3 := t.l2, t.l2+wire.IPv4MinimumSize
	udpLen := uint32(dgram)
	sum := t.udpSum + 2*udpLen
	var cur iovCursor
	cur.iov = iov
	for i, m := range ms {
		off := i * per
		chunk := min(per, dgram-off)
		frame := m.Append(l3 + chunk)
		copy(frame[:l3], t.hdr[:l3])
		data := frame[l3:]
		if i == 0 {
			copy(data[:wire.UDPMinimumSize], t.hdr[l3:t.hl])
			binary.BigEndian.PutUint16(data[4:], uint16(udpLen))
			data = data[wire.UDPMinimumSize:]
		}
		cur.read(data)
		sum = wire.Sum(data, sum) // every chunk but the last has an even length
		ip := wire.IPv4(frame[l2:])
		ip.SetTotalLength(uint16(wire.IPv4MinimumSize + chunk))
		ip.SetID(id)
		ip.SetFlagsFragment(false, i < k-1, uint16(off))
		ip.SetChecksum(0)
		ip.SetChecksum(ip.ComputeChecksum())
	}
	c := ^wire.Fold(sum)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(ms[0].Data()[l3+6:], c)
	if t.hostOnly {
		t.s.ctr.TxHostOnly++
		dpdk.FreeBulk(ms)
		return n, nil
	}
	if !t.resolved || t.st.Now()-t.checked > recheckNs {
		if !t.resolve() {
			for _, m := range ms {
				t.st.Output(m, t.nexthop)
			}
			t.s.ctr.TxFragments += uint64(k)
			t.count(n)
			return n, nil
		}
		for _, m := range ms {
			copy(m.Data()[:6], t.hdr[:6])
		}
	}
	sent := t.st.Transmit(ms)
	if sent == 0 {
		dpdk.FreeBulk(ms)
		t.s.ctr.TxRingFull++
		return 0, errAgain
	}
	t.count(n)
	t.s.ctr.TxFragments += uint64(sent)
	if sent < k {
		dpdk.FreeBulk(ms[sent:])
		t.s.ctr.TxFragLost++
	}
	return n, nil
}

// iovCursor reads the concatenation of an iovec in order.
type iovCursor struct {
	iov [][]byte
	i   int
	off int
}

func (c *iovCursor) read(dst []byte) {
	for len(dst) > 0 && c.i < len(c.iov) {
		n := copy(dst, c.iov[c.i][c.off:])
		dst = dst[n:]
		c.off += n
		if c.off == len(c.iov[c.i]) {
			c.i++
			c.off = 0
		}
	}
}

// Close releases the zocket (zfut_free). It is idempotent and returns nil.
func (t *Transmitter) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	t.w.Detach()
	t.w.NotReady(stack.EPOLLOUT)
	dpdk.FreeMbufArray(t.one)
	if t.frags != nil {
		dpdk.FreeMbufArray(t.frags)
	}
	stack.SlotRemove(t.s.txs, t)
	t.s.ntx--
	t.s.release()
	return nil
}
