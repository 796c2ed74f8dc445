package gonet

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/zocket/zocket/udp"
)

// txCacheSize is how many destinations a PacketConn keeps a transmit zocket for: udp's
// Transmitter has a fixed destination and a prebuilt header, so writing to one of the last
// txCacheSize destinations reuses its zocket as it is, and to another retargets the oldest
// (building a header, allocating nothing).
const txCacheSize = 8

// PacketConn is a UDP zocket of a gonet Stack: a net.PacketConn receiving on its bound port
// (the stack's address, and the multicast groups it joins) from any sender, and sending to any
// address from that port. Its methods are safe from any goroutine.
type PacketConn struct {
	s     *Stack
	r     *udp.Receiver // nil once closed
	w     *waiter
	laddr netip.AddrPort
	naddr *net.UDPAddr
	msg   *udp.Msg
	rmu   sync.Mutex // one read at a time
	deadlines
	tx     [txCacheSize]*udp.Transmitter
	txNext int // the cache entry replaced next
}

var _ net.PacketConn = (*PacketConn)(nil)

// ListenPacket opens a UDP zocket on address ("ip:port", ":port" or "0.0.0.0:port" for the
// stack's own address; port 0 picks an ephemeral one) on network "udp" or "udp4".
//
// Errors (*net.OpError): net.UnknownNetworkError or *net.AddrError for a bad network or address;
// net.ErrClosed after Close; EADDRINUSE when the port is bound already, EADDRNOTAVAIL when the
// address is not the stack's.
func (s *Stack) ListenPacket(network, address string) (net.PacketConn, error) {
	if err := s.lock(); err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	defer s.unlock()
	laddr, err := parseAddr(network, address, s.st.LocalAddr(), true, "udp", "udp4")
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	r, err := udp.NewReceiver(s.st, nil)
	if err != nil {
		return nil, opError("listen", network, udpAddr(laddr), nil, bare(err))
	}
	if laddr, err = r.Bind(laddr, netip.AddrPort{}); err != nil {
		r.Close()
		return nil, opError("listen", network, udpAddr(laddr), nil, bare(err))
	}
	c := &PacketConn{s: s, r: r, laddr: laddr, naddr: udpAddr(laddr), msg: udp.NewMsg(1)}
	if c.w, err = s.register(c, r.Waitable()); err != nil {
		r.Close()
		return nil, opError("listen", network, c.naddr, nil, bare(err))
	}
	c.deadlines.init(c.w.rd, c.w.wr)
	return c, nil
}

// enter takes the stack's lock for op. Errors: net.ErrClosed (as an OpError), the lock then not
// held.
func (c *PacketConn) enter(op string) error {
	if err := c.s.lock(); err != nil {
		return c.opError(op, nil, err)
	}
	if c.r == nil {
		c.s.unlock()
		return c.opError(op, nil, net.ErrClosed)
	}
	return nil
}

func (c *PacketConn) opError(op string, remote net.Addr, err error) error {
	return opError(op, "udp", c.naddr, remote, err)
}

// ReadFrom reads one datagram into b (its excess is dropped, as with a socket) and returns the
// bytes copied and the sender, a *net.UDPAddr.
//
// Errors (*net.OpError): os.ErrDeadlineExceeded, net.ErrClosed.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, udpAddr(from), nil
}

// ReadFromUDPAddrPort is ReadFrom returning the sender as a netip.AddrPort; it allocates
// nothing.
func (c *PacketConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if err := c.enter("read"); err != nil {
			return 0, netip.AddrPort{}, err
		}
		if c.rd.expired.Load() {
			c.s.unlock()
			return 0, netip.AddrPort{}, c.opError("read", nil, os.ErrDeadlineExceeded)
		}
		c.r.ZcRecv(c.msg)
		if len(c.msg.Iov) == 0 {
			block := c.rd.drainWake()
			c.s.unlock()
			if block {
				c.s.wait(c.w.rd)
			}
			continue
		}
		n := copy(b, c.msg.Iov[0])
		from := c.r.Source(c.msg)
		c.r.ZcRecvDone(c.msg)
		c.s.unlock()
		return n, from, nil
	}
}

// WriteTo sends b as one datagram to addr (a *net.UDPAddr, or any net.Addr whose String is
// "ip:port"), fragmented when it exceeds the MTU.
//
// Errors (*net.OpError): os.ErrDeadlineExceeded, net.ErrClosed, *net.AddrError for an address
// that is not IPv4, EMSGSIZE over udp.MaxDatagram, ENOBUFS without packet buffers, and the
// errors of udp.NewTransmitter and udp.Transmitter.Retarget for a new destination
// (EHOSTUNREACH off the subnet without a gateway).
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var to netip.AddrPort
	switch a := addr.(type) {
	case *net.UDPAddr:
		to = a.AddrPort()
	default:
		var err error
		if to, err = netip.ParseAddrPort(addr.String()); err != nil {
			return 0, c.opError("write", addr, &net.AddrError{Err: "not an ip:port address", Addr: addr.String()})
		}
	}
	n, err := c.WriteToUDPAddrPort(b, to)
	if err != nil {
		err.(*net.OpError).Addr = addr
	}
	return n, err
}

// WriteToUDPAddrPort is WriteTo for a netip.AddrPort; it allocates nothing (txCacheSize).
func (c *PacketConn) WriteToUDPAddrPort(b []byte, to netip.AddrPort) (int, error) {
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	if !to.Addr().Is4() {
		return 0, c.opError("write", nil, &net.AddrError{Err: "not an IPv4 address", Addr: to.String()})
	}
	for {
		if err := c.enter("write"); err != nil {
			return 0, err
		}
		if c.wd.expired.Load() {
			c.s.unlock()
			return 0, c.opError("write", nil, os.ErrDeadlineExceeded)
		}
		tx, err := c.transmitter(to)
		if err != nil {
			c.s.unlock()
			return 0, c.opError("write", nil, bare(err))
		}
		c.w.iov[0] = b
		n, err := tx.Send(c.w.iov[:], 0)
		c.w.iov[0] = nil
		c.s.unlock()
		if err == syscall.EAGAIN {
			time.Sleep(10 * time.Microsecond) // the transmit ring is full: the next turns drain it
			continue
		}
		if err != nil {
			return 0, c.opError("write", nil, err)
		}
		return n, nil
	}
}

// transmitter returns the transmit zocket for to: a cached one, else a new one while the cache
// has room, else the least recently made or retargeted one, retargeted (udp.Transmitter.Retarget,
// which allocates nothing). Under the lock.
func (c *PacketConn) transmitter(to netip.AddrPort) (*udp.Transmitter, error) {
	for _, tx := range c.tx {
		if tx != nil && tx.RemoteAddr() == to {
			return tx, nil
		}
	}
	tx := c.tx[c.txNext]
	if tx != nil {
		if err := tx.Retarget(to); err != nil {
			return nil, err
		}
	} else {
		var err error
		tx, err = udp.NewTransmitter(c.s.st, netip.AddrPortFrom(c.s.st.LocalAddr(), c.laddr.Port()), to, 0, nil)
		if err != nil {
			return nil, err
		}
		c.tx[c.txNext] = tx
	}
	c.txNext = (c.txNext + 1) % txCacheSize
	return tx, nil
}

// JoinGroup makes the zocket receive the datagrams sent to the IPv4 multicast group on its
// port (IGMP membership reports; the port's multicast filter).
//
// Errors (*net.OpError): net.ErrClosed; EINVAL when group is not a multicast address;
// EADDRINUSE when the group and port are bound already; ENOBUFS when the stack joined its
// maximum of groups.
func (c *PacketConn) JoinGroup(group netip.Addr) error {
	if err := c.enter("join"); err != nil {
		return err
	}
	defer c.s.unlock()
	if !group.Is4() || !group.IsMulticast() {
		return c.opError("join", nil, syscall.EINVAL)
	}
	if _, err := c.r.Bind(netip.AddrPortFrom(group, c.laddr.Port()), netip.AddrPort{}); err != nil {
		return c.opError("join", nil, bare(err))
	}
	return nil
}

// LeaveGroup undoes JoinGroup (an IGMP leave when no other zocket holds the group).
//
// Errors (*net.OpError): net.ErrClosed; EINVAL when the group is not joined.
func (c *PacketConn) LeaveGroup(group netip.Addr) error {
	if err := c.enter("leave"); err != nil {
		return err
	}
	defer c.s.unlock()
	if err := c.r.Unbind(netip.AddrPortFrom(group, c.laddr.Port()), netip.AddrPort{}); err != nil {
		return c.opError("leave", nil, bare(err))
	}
	return nil
}

// Close closes the zocket: its bound addresses, groups and transmit zockets; blocked calls
// return net.ErrClosed.
//
// Errors: net.ErrClosed when it is closed already.
func (c *PacketConn) Close() error {
	if err := c.enter("close"); err != nil {
		return err
	}
	c.closeLocked()
	c.s.unlock()
	return nil
}

func (c *PacketConn) closeLocked() {
	c.s.unregister(c.w, c.r.Waitable())
	for i, tx := range c.tx {
		if tx != nil {
			tx.Close()
			c.tx[i] = nil
		}
	}
	c.r.Close()
	c.r = nil
	c.deadlines.stop()
}

// LocalAddr returns the bound address, a *net.UDPAddr.
func (c *PacketConn) LocalAddr() net.Addr { return c.naddr }
