package tcp

import (
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Listener is a listening TCP zocket (TCPDirect's zftl). It belongs to its stack's polling
// goroutine.
type Listener struct {
	s        *state
	port     uint16
	halfOpen int     // connections in SYN-RECEIVED
	cookieAt int64   // stack time of the last SYN cookie sent (syncookie.go); 0: never
	pending  []*Conn // connections not yet accepted, half-open or established, oldest first
	closed   bool
	w        stack.Waitable
}

// Listen makes a listening zocket on laddr, which must be the stack's own address with a
// port (zftl_listen): port 0 picks an ephemeral one. Passive opens are answered with a SYN-ACK
// carrying the MSS option and those of SACK-permitted, timestamps and window scale that the SYN
// offered and the attributes allow (tcp_sack, tcp_timestamps, tcp_window_scaling), retransmitted up to tcp_synack_retries times; at most
// max_tcp_syn_backlog of them are half-open at a time per listener (a further SYN is answered
// with a SYN cookie, syncookie.go, or dropped with tcp_syncookies 0), and every connection,
// accepted or not, takes one of max_tcp_endpoints (beyond it SYNs are dropped and counted as
// DropBacklog, once no closed connection in TIME-WAIT can give its endpoint).
//
// Errors: EAFNOSUPPORT when laddr is not IPv4; EOPNOTSUPP for 0.0.0.0 (INADDR_ANY);
// EADDRNOTAVAIL when laddr is not the stack's address; EADDRINUSE when the port is taken;
// ENOBUFS when max_tcp_listen_endpoints listeners exist. a is accepted for zftl_listen's
// signature: the TCP attributes are the stack's.
func Listen(st *stack.Stack, laddr netip.AddrPort, a *stack.Attr) (*Listener, error) {
	s := stateOf(st)
	ip, ok := ip4(laddr.Addr())
	if !ok {
		return nil, errorf(syscall.EAFNOSUPPORT, "listen %v", laddr)
	}
	if ip == ([4]byte{}) {
		return nil, errorf(syscall.EOPNOTSUPP, "listen %v: INADDR_ANY", laddr)
	}
	if ip != s.ip {
		return nil, errorf(syscall.EADDRNOTAVAIL, "listen %v: not the stack's address %v", laddr, st.LocalAddr())
	}
	if s.nlisten >= s.cfg.maxListen {
		return nil, errorf(syscall.ENOBUFS, "listen %v: max_tcp_listen_endpoints=%d", laddr, s.cfg.maxListen)
	}
	port := laddr.Port()
	if port == 0 {
		p, err := s.ephemeralPort()
		if err != nil {
			return nil, errorf(err.(syscall.Errno), "listen %v: no ephemeral port", laddr)
		}
		port = p
	} else if err := s.reservePort(port); err != nil {
		return nil, errorf(err.(syscall.Errno), "listen %v", laddr)
	}
	// Room for every connection it may hold (all endpoints), so that a SYN does not grow it.
	l := &Listener{s: s, port: port, pending: make([]*Conn, 0, s.cfg.maxConns)}
	l.w.Init(st)
	s.listeners[port] = l
	s.nlisten++
	s.acquire()
	return l, nil
}

// LocalAddr returns the address and port the listener accepts on (zftl_getname).
func (l *Listener) LocalAddr() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(l.s.ip), l.port)
}

// Accept returns the oldest established connection not yet accepted (zftl_accept). It does
// not poll the stack: call Perform first.
//
// Errors: EAGAIN when no connection is waiting; EBADF after Close.
func (l *Listener) Accept() (*Conn, error) {
	if l.closed {
		return nil, syscall.EBADF
	}
	for i, c := range l.pending {
		if c.state == StateSynRecv {
			continue
		}
		l.pending = append(l.pending[:i], l.pending[i+1:]...)
		c.accepted = true
		c.orphan = false
		c.l = nil
		if l.Pending() == 0 {
			l.w.NotReady(stack.EPOLLIN)
		}
		return c, nil
	}
	return nil, syscall.EAGAIN
}

// Pending reports how many connections are established and waiting for Accept.
func (l *Listener) Pending() int {
	n := 0
	for _, c := range l.pending {
		if c.state != StateSynRecv {
			n++
		}
	}
	return n
}

// Close stops listening and frees the listener (zftl_free); connections not yet accepted,
// half-open or established, are reset. Accepted connections are not affected. Close is
// idempotent and returns nil.
func (l *Listener) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	l.w.Detach()
	s := l.s
	for len(l.pending) > 0 {
		c := l.pending[len(l.pending)-1]
		c.sendRst()
		c.abort(0)
	}
	delete(s.listeners, l.port)
	s.releasePort(l.port)
	s.nlisten--
	s.release()
	return nil
}

// input handles a segment for the listener's port that matched no connection
// (RFC 9293 §3.10.7.2): RST ignored; ACK answered with a RST unless it brings a SYN cookie back
// (syncookie.go); SYN opens a half-open connection if the backlog has room, and is answered
// with a SYN cookie if not.
func (l *Listener) input(g *segment, rip [4]byte) bool {
	s := l.s
	fl := g.flags
	if fl&wire.TCPFlagRst != 0 {
		return s.drop(g.m, DropNoEndpoint)
	}
	if fl&wire.TCPFlagAck != 0 {
		if handled, visible := l.cookieAck(g, rip); handled {
			return visible
		}
		s.sendReset(rip, g.tcp.SrcPort(), l.port, g.ack, 0, wire.TCPFlagRst)
		return s.drop(g.m, DropNoEndpoint)
	}
	if fl&wire.TCPFlagSyn == 0 {
		return s.drop(g.m, DropNoEndpoint)
	}
	if wire.IsBroadcast4(rip) || wire.IsMulticast4(rip) {
		return s.drop(g.m, DropNoEndpoint)
	}
	if l.halfOpen >= s.cfg.synBacklog {
		if s.cfg.synCookies {
			l.sendCookie(g, rip)
			s.recycle(g.m)
			return false
		}
		return s.drop(g.m, DropBacklog)
	}
	c := l.passiveConn(g, rip)
	if c == nil {
		return false
	}
	l.openHalf(c, g.seq, s.isn(rip, c.rport, c.lport), &g.opts, g.wnd)
	c.sendCtl(c.iss, wire.TCPFlagSyn|wire.TCPFlagAck)
	c.armRTO()
	s.recycle(g.m) // data on a SYN is not kept (no TCP Fast Open): the peer sends it again
	return false
}

// passiveConn takes a connection for a passive open from rip: an endpoint (tcp/timewait.go's
// haveEndpoint) and the route back. Without one it drops g (DropBacklog, DropNoEndpoint) and
// returns nil.
func (l *Listener) passiveConn(g *segment, rip [4]byte) *Conn {
	s := l.s
	if !s.haveEndpoint() {
		s.drop(g.m, DropBacklog)
		return nil
	}
	nh, err := s.st.NextHop(rip)
	if err != nil {
		s.drop(g.m, DropNoEndpoint)
		return nil
	}
	c := newConn(s, rip, g.tcp.SrcPort(), l.port, nh)
	if c == nil {
		s.drop(g.m, DropBacklog)
	}
	return c
}

// openHalf makes c a half-open connection of the listener (SYN-RECEIVED) for a SYN with
// sequence number irs, options syn and window wnd, answered with our ISS iss: options agreed,
// in the table, counted in the backlog, queued for Accept.
func (l *Listener) openHalf(c *Conn, irs, iss wire.Seq, syn *wire.TCPOptions, wnd uint32) {
	s := l.s
	c.l = l
	c.orphan = true // nobody holds it until Accept
	c.irs = irs
	c.rcvNxt = irs.Add(1)
	c.rcvAdv = c.rcvNxt
	c.iss = iss
	c.offerOptions()
	c.negotiate(syn) // a SYN-ACK offers only what the SYN offered
	c.setMSS(syn)
	c.sndWnd, c.maxSndWnd = wnd, wnd
	c.sndWl1, c.sndWl2 = irs, 0
	c.sndUna, c.sndNxt, c.sndMax = iss, iss.Add(1), iss.Add(1)
	c.setState(StateSynRecv)
	s.nconns++
	s.insert(c)
	l.halfOpen++
	l.pending = append(l.pending, c)
	c.rcvAdv = c.rcvNxt.Add(c.rcvWindow())
}

// onEstablished moves a passive connection from half-open to waiting for Accept.
func (l *Listener) onEstablished(c *Conn) {
	l.halfOpen--
	l.w.Ready(stack.EPOLLIN)
}

// forget drops a connection that closed before it was accepted.
func (l *Listener) forget(c *Conn) {
	for i, p := range l.pending {
		if p == c {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			if c.state == StateSynRecv {
				l.halfOpen--
			}
			break
		}
	}
	c.l = nil
}
