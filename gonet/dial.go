package gonet

import (
	"context"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/zocket/zocket/tcp"
)

// Dial connects to address ("ip:port", an IPv4 literal) on network "tcp" or "tcp4", from the
// stack's address and an ephemeral port, and blocks until the connection is established.
//
// Errors (*net.OpError): net.UnknownNetworkError or *net.AddrError for a bad network or address;
// net.ErrClosed after Close; ECONNREFUSED, ETIMEDOUT (tcp_syn_retries SYNs unanswered),
// EHOSTUNREACH (no ARP answer or no route), ENOBUFS (max_tcp_endpoints zockets exist),
// EADDRNOTAVAIL (no ephemeral port).
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// DialContext is Dial with a context: its deadline or cancellation interrupts the connection
// attempt (os.ErrDeadlineExceeded, context.Canceled inside the *net.OpError), and the attempt is
// abandoned. The context does not apply to the connection once it is established.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	raddr, err := parseAddr(network, address, netip.Addr{}, false, "tcp", "tcp4")
	if err != nil {
		return nil, opError("dial", network, nil, nil, err)
	}
	ra := tcpAddr(raddr)
	if err := s.lock(); err != nil {
		return nil, opError("dial", network, nil, ra, err)
	}
	h, err := tcp.NewHandle(s.st, nil)
	if err != nil {
		s.unlock()
		return nil, opError("dial", network, nil, ra, bare(err))
	}
	tc, err := h.Connect(raddr)
	if err != nil {
		h.Close()
		s.unlock()
		return nil, opError("dial", network, nil, ra, bare(err))
	}
	c, err := s.newConn(tc)
	s.unlock()
	if err != nil {
		return nil, opError("dial", network, nil, ra, bare(err))
	}
	for {
		if err := c.enter("dial"); err != nil {
			return nil, err
		}
		st, cerr := c.tc.State(), c.tc.Err()
		switch {
		case cerr != nil:
			c.closeLocked()
			c.s.unlock()
			return nil, c.opError("dial", cerr)
		case st != tcp.StateSynSent && st != tcp.StateSynRecv:
			c.s.unlock()
			return c, nil
		}
		drain(c.w.wr)
		c.s.unlock()
		select {
		case <-c.w.wr:
		case <-ctx.Done():
			c.Close()
			return nil, c.opError("dial", ctxError(ctx.Err()))
		}
	}
}

// Listener is a listening TCP zocket of a gonet Stack: a net.Listener whose Accept returns
// *TCPConn.
type Listener struct {
	s     *Stack
	tl    *tcp.Listener // nil once closed
	w     *waiter
	laddr *net.TCPAddr
	amu   sync.Mutex // one Accept at a time
	dl    deadline
}

var _ net.Listener = (*Listener)(nil)

// Listen listens on address ("ip:port", ":port" or "0.0.0.0:port" for the stack's own
// address; port 0 picks an ephemeral one) on network "tcp" or "tcp4".
//
// Errors (*net.OpError): net.UnknownNetworkError or *net.AddrError for a bad network or address;
// net.ErrClosed after Close; EADDRINUSE when the port is taken, EADDRNOTAVAIL when the address
// is not the stack's, ENOBUFS when max_tcp_listen_endpoints listeners exist.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	if err := s.lock(); err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	defer s.unlock()
	laddr, err := parseAddr(network, address, s.st.LocalAddr(), true, "tcp", "tcp4")
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	tl, err := tcp.Listen(s.st, laddr, nil)
	if err != nil {
		return nil, opError("listen", network, tcpAddr(laddr), nil, bare(err))
	}
	l := &Listener{s: s, tl: tl, laddr: tcpAddr(tl.LocalAddr())}
	if l.w, err = s.register(l, tl.Waitable()); err != nil {
		tl.Close()
		return nil, opError("listen", network, l.laddr, nil, bare(err))
	}
	l.dl.init(l.w.rd)
	return l, nil
}

// Accept waits for the next connection and returns it (a *TCPConn).
//
// Errors (*net.OpError): net.ErrClosed after Close; os.ErrDeadlineExceeded past SetDeadline;
// ENOBUFS when the poller cannot register more zockets.
func (l *Listener) Accept() (net.Conn, error) {
	l.amu.Lock()
	defer l.amu.Unlock()
	for {
		if err := l.s.lock(); err != nil {
			return nil, l.opError(err)
		}
		if l.tl == nil {
			l.s.unlock()
			return nil, l.opError(net.ErrClosed)
		}
		if l.dl.expired.Load() {
			l.s.unlock()
			return nil, l.opError(os.ErrDeadlineExceeded)
		}
		tc, err := l.tl.Accept()
		if err == syscall.EAGAIN {
			block := l.dl.drainWake()
			l.s.unlock()
			if block {
				<-l.w.rd // never in the poller's place: see Stack.wait
			}
			continue
		}
		if err != nil {
			l.s.unlock()
			return nil, l.opError(bare(err))
		}
		c, err := l.s.newConn(tc)
		l.s.unlock()
		if err != nil {
			return nil, l.opError(bare(err))
		}
		return c, nil
	}
}

func (l *Listener) opError(err error) error { return opError("accept", "tcp", l.laddr, nil, err) }

// SetDeadline sets the deadline for Accept (the zero time: none), as *net.TCPListener does.
// It never fails.
func (l *Listener) SetDeadline(t time.Time) error { l.dl.set(t); return nil }

// Close stops listening; connections not yet accepted are reset, accepted ones are not
// affected. A blocked Accept returns net.ErrClosed.
//
// Errors: net.ErrClosed when it is closed already.
func (l *Listener) Close() error {
	if err := l.s.lock(); err != nil {
		return opError("close", "tcp", l.laddr, nil, err)
	}
	defer l.s.unlock()
	if l.tl == nil {
		return opError("close", "tcp", l.laddr, nil, net.ErrClosed)
	}
	l.closeLocked()
	return nil
}

func (l *Listener) closeLocked() {
	l.s.unregister(l.w, l.tl.Waitable())
	l.tl.Close()
	l.tl = nil
	l.dl.stop()
}

// Addr returns the listening address, a *net.TCPAddr.
func (l *Listener) Addr() net.Addr { return l.laddr }
