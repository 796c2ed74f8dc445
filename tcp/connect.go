package tcp

import (
	"math/rand/v2"
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Handle is a TCP zocket not yet connected (TCPDirect's zft_handle): bind it, then Connect
// turns it into a Conn.
type Handle struct {
	s      *state
	port   uint16
	bound  bool
	closed bool
}

// NewHandle allocates an active-open zocket on st (zft_alloc). a is accepted for zft_alloc's
// signature: the TCP attributes are the stack's.
//
// Errors: ENOBUFS when max_tcp_endpoints zockets (handles and connections, those still closing
// included) exist.
func NewHandle(st *stack.Stack, a *stack.Attr) (*Handle, error) {
	s := stateOf(st)
	if !s.haveEndpoint() {
		return nil, errorf(syscall.ENOBUFS, "new handle: max_tcp_endpoints=%d", s.cfg.maxConns)
	}
	s.nconns++
	s.acquire()
	return &Handle{s: s}, nil
}

// Bind binds the handle to a local address (zft_addr_bind): the stack's address or 0.0.0.0,
// with a port, or port 0 for an ephemeral one.
//
// Errors: EINVAL when already bound or closed; EAFNOSUPPORT when laddr is not IPv4;
// EADDRNOTAVAIL when laddr is not the stack's address (or no ephemeral port is free);
// EADDRINUSE when the port is taken.
func (h *Handle) Bind(laddr netip.AddrPort) error {
	if h.closed || h.bound {
		return errorf(syscall.EINVAL, "bind %v: already bound", laddr)
	}
	s := h.s
	ip, ok := ip4(laddr.Addr())
	if !ok {
		return errorf(syscall.EAFNOSUPPORT, "bind %v", laddr)
	}
	if ip != ([4]byte{}) && ip != s.ip {
		return errorf(syscall.EADDRNOTAVAIL, "bind %v: not the stack's address %v", laddr, s.st.LocalAddr())
	}
	port := laddr.Port()
	if port == 0 {
		p, err := s.ephemeralPort()
		if err != nil {
			return errorf(err.(syscall.Errno), "bind %v: no ephemeral port", laddr)
		}
		port = p
	} else if err := s.reservePort(port); err != nil {
		return errorf(err.(syscall.Errno), "bind %v", laddr)
	}
	h.port, h.bound = port, true
	return nil
}

// LocalAddr returns the bound address (zft_handle_getname); the port is 0 before Bind.
func (h *Handle) LocalAddr() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(h.s.ip), h.port)
}

// Connect starts connecting to raddr and returns the connection (zft_connect); the handle is
// consumed and must not be used again. It does not block: the SYN leaves (after ARP, if the
// next hop is not known yet) and Perform completes the handshake. Until then reads fail with
// ENOTCONN; a failure shows later in reads, ZcRecvDone and Err: ECONNREFUSED, ETIMEDOUT
// (tcp_syn_retries SYNs unanswered), EHOSTUNREACH (no ARP reply). An unbound handle gets an
// ephemeral port.
//
// Errors: EINVAL when the handle is closed, or raddr has port 0 or is not a unicast address;
// EAFNOSUPPORT when raddr is not IPv4; EHOSTUNREACH when no route leads to raddr (off-subnet
// without a gateway); EADDRNOTAVAIL when no ephemeral port is free; EADDRINUSE when the
// connection (both addresses and ports) exists already.
func (h *Handle) Connect(raddr netip.AddrPort) (*Conn, error) {
	if h.closed {
		return nil, errorf(syscall.EINVAL, "connect %v: handle closed", raddr)
	}
	s := h.s
	rip, ok := ip4(raddr.Addr())
	if !ok {
		return nil, errorf(syscall.EAFNOSUPPORT, "connect %v", raddr)
	}
	if raddr.Port() == 0 || rip == ([4]byte{}) || wire.IsBroadcast4(rip) || wire.IsMulticast4(rip) || rip == s.ip {
		return nil, errorf(syscall.EINVAL, "connect %v: not a unicast peer", raddr)
	}
	nh, err := s.st.NextHop(rip)
	if err != nil {
		return nil, errorf(syscall.EHOSTUNREACH, "connect %v", raddr)
	}
	if !h.bound {
		p, err := s.ephemeralPort()
		if err != nil {
			return nil, errorf(err.(syscall.Errno), "connect %v: no ephemeral port", raddr)
		}
		h.port, h.bound = p, true
	}
	if s.conns.get(connKey(rip, raddr.Port(), h.port)) != nil {
		return nil, errorf(syscall.EADDRINUSE, "connect %v from port %d", raddr, h.port)
	}
	c := newConn(s, rip, raddr.Port(), h.port, nh)
	if c == nil {
		return nil, errorf(syscall.ENOBUFS, "connect %v: max_tcp_endpoints=%d", raddr, s.cfg.maxConns)
	}
	h.closed = true
	c.ownPort = true
	c.iss = s.isn(rip, c.rport, c.lport)
	c.sndUna, c.sndNxt, c.sndMax = c.iss, c.iss.Add(1), c.iss.Add(1)
	c.offerOptions()
	c.mss = 536
	c.setState(StateSynSent)
	s.insert(c)
	c.sendCtl(c.iss, wire.TCPFlagSyn)
	c.armRTO()
	return c, nil
}

// Close releases a handle that was not connected (zft_handle_free). It is idempotent and
// returns nil.
func (h *Handle) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	s := h.s
	if h.bound {
		s.releasePort(h.port)
	}
	s.nconns--
	s.release()
	return nil
}

// newConn takes a connection from the pool and sets it up for the given peer: template,
// receive queue, initial RTO. It allocates nothing; it returns nil when the pool is empty
// (which the endpoint count prevents: every connection holds one of max_tcp_endpoints).
func newConn(s *state, rip [4]byte, rport, lport uint16, nexthop [4]byte) *Conn {
	n := len(s.free)
	if n == 0 {
		return nil
	}
	c := s.free[n-1]
	s.free = s.free[:n-1]
	rq, sq, ooo := c.rq, c.sq, c.ooo
	*c = Conn{s: s, rip: rip, rport: rport, lport: lport, nexthop: nexthop, live: true, rq: rq, sq: sq, ooo: ooo, ka: s.cfg.ka}
	c.key = connKey(rip, rport, lport)
	c.w.Init(s.st)
	// The MSS is capped so that a whole segment (headers and payload) fits one packet buffer:
	// no segment is ever chained, whatever the MTU.
	c.rcvMSS = segRoom(s.st)
	c.slots = rcvSlots(s)
	c.maxBufs = 2 * c.slots
	c.rqMask = uint32(len(rq) - 1)
	c.sqMask = uint32(len(sq) - 1)
	c.rto = initialRTO
	c.buildTemplate()
	return c
}

// initConns makes the connection pool when the stack's TCP is set up: max_tcp_endpoints
// connections, their receive rings (twice their receive slots), out-of-order queues (a
// window's worth of entries) and send queues, one allocation for each kind, so that neither a
// SYN nor a Connect allocates (a SYN flood does not keep the garbage collector busy). The cost
// is paid up front: with the default attributes about 7 KiB per endpoint (Conn, 2 KiB of
// receive ring, 1.5 KiB of out-of-order queue, 2.5 KiB of send queue), growing with
// tcp_rcvbuf and tcp_sndbuf where the pool allows.
func (s *state) initConns() {
	s.cfg.opt = readOptConfig(s.st.Attr())
	n := s.cfg.maxConns
	slots := rcvSlots(s)
	rql := pow2(2 * slots)
	sql := sndSlots(s)
	s.pool = make([]Conn, n)
	s.free = make([]*Conn, n)
	rqs := make([]rxEnt, n*rql)
	oqs := make([]oooEnt, n*slots)
	sqs := make([]txSeg, n*sql)
	for i := range s.pool {
		s.pool[i].rq = rqs[i*rql : (i+1)*rql : (i+1)*rql]
		s.pool[i].ooo = oqs[i*slots : (i+1)*slots : (i+1)*slots]
		s.pool[i].sq = sqs[i*sql : (i+1)*sql : (i+1)*sql]
		s.free[n-1-i] = &s.pool[i]
	}
	s.conns.init(n, rand.Uint64())
}

// putConn gives a freed connection back to the pool; it may be handed out again by the next
// SYN or Connect.
func (s *state) putConn(c *Conn) {
	c.live = false
	s.free = append(s.free, c) // never beyond the pool: cap(s.free) == len(s.pool)
}

// poolShare is how many packet buffers one connection's receive window (or send queue) may
// take: half the pool shared by every endpoint, at least 8.
func poolShare(s *state) int {
	return max(s.st.Pool().Size()/(2*max(s.cfg.maxConns, 1)), 8)
}

// segRoom is the largest segment payload a packet buffer holds: the MSS we announce.
func segRoom(st *stack.Stack) int {
	return min(st.MTU(), st.FrameRoom()-st.EthernetHeaderSize()) - 40
}

// rcvSlots is how many receive buffers of one MSS the window is made of: tcp_rcvbuf in whole
// segments, at most the connection's share of the pool (poolShare), at least 2.
func rcvSlots(s *state) int {
	return max(min(s.cfg.opt.rcvbuf/segRoom(s.st), poolShare(s)), 2)
}

// sndSlots is the send queue's length in segments: tcp_sndbuf in segments of our MSS (rounded
// up), at most the connection's share of the pool, at least 64 (TCPDirect's queue), rounded
// up to a power of two.
func sndSlots(s *state) int {
	mss := segRoom(s.st)
	return pow2(max(min((s.cfg.opt.sndbuf+mss-1)/mss, poolShare(s)), 64))
}

// pow2 is the smallest power of two not below n.
func pow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
