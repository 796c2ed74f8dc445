package gonet

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/zocket/zocket/tcp"
)

// TCPConn is a TCP connection of a gonet Stack: a net.Conn, with CloseWrite, SetNoDelay,
// SetKeepAlive, SetKeepAlivePeriod and SetKeepAliveConfig as *net.TCPConn has them
// (tcpopts.go). Its methods are safe from any goroutine; concurrent Reads (and concurrent
// Writes) are serialised, so a Write's bytes are never interleaved with another's.
type TCPConn struct {
	s     *Stack
	tc    *tcp.Conn // nil once closed: the tcp package reuses a closed Conn's memory
	w     *waiter
	laddr *net.TCPAddr
	raddr *net.TCPAddr
	rmu   sync.Mutex // one Read at a time
	wmu   sync.Mutex // one Write at a time
	deadlines
	riov    [1][]byte
	wiov    [1][]byte
	wclosed bool // CloseWrite was called (under the stack's lock)
}

var _ net.Conn = (*TCPConn)(nil)

// newConn wraps tc and registers it with the poller; under the lock. On error tc is closed.
func (s *Stack) newConn(tc *tcp.Conn) (*TCPConn, error) {
	c := &TCPConn{s: s, tc: tc, laddr: tcpAddr(tc.LocalAddr()), raddr: tcpAddr(tc.RemoteAddr())}
	w, err := s.register(c, tc.Waitable())
	if err != nil {
		tc.Close()
		return nil, err
	}
	c.w = w
	c.deadlines.init(w.rd, w.wr)
	return c, nil
}

// enter takes the stack's lock for operation op. Errors: net.ErrClosed (as an OpError) when the
// connection or the stack is closed; the lock is not held then.
func (c *TCPConn) enter(op string) error {
	if err := c.s.lock(); err != nil {
		return c.opError(op, err)
	}
	if c.tc == nil {
		c.s.unlock()
		return c.opError(op, net.ErrClosed)
	}
	return nil
}

func (c *TCPConn) opError(op string, err error) error {
	return opError(op, "tcp", c.laddr, c.raddr, err)
}

// Read reads into b, blocking until data, the end of the stream, an error or the read deadline.
// It returns io.EOF once the peer's FIN and every byte before it were read.
//
// Errors (*net.OpError): os.ErrDeadlineExceeded, net.ErrClosed, or the errno that ended the
// connection (ECONNRESET, ETIMEDOUT, EPIPE, …).
func (c *TCPConn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if err := c.enter("read"); err != nil {
			return 0, err
		}
		if c.rd.expired.Load() {
			c.s.unlock()
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if len(b) == 0 {
			c.s.unlock()
			return 0, nil
		}
		c.riov[0] = b
		n, err := c.tc.Recv(c.riov[:])
		c.riov[0] = nil
		if err == syscall.EAGAIN {
			block := c.rd.drainWake()
			c.s.unlock()
			if block {
				c.s.wait(c.w.rd)
			}
			continue
		}
		c.s.unlock()
		switch {
		case err != nil:
			return 0, c.opError("read", err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write writes b, blocking while the send queue is full, until every byte is queued, an error
// or the write deadline. Bytes are copied once, into the connection's send queue.
//
// Errors (*net.OpError, with the count of bytes queued): os.ErrDeadlineExceeded, net.ErrClosed,
// EPIPE after CloseWrite, or the errno that ended the connection.
func (c *TCPConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	for {
		if err := c.enter("write"); err != nil {
			return done, err
		}
		if c.wd.expired.Load() {
			c.s.unlock()
			return done, c.opError("write", os.ErrDeadlineExceeded)
		}
		if done == len(b) {
			c.s.unlock()
			return done, nil
		}
		c.wiov[0] = b[done:]
		n, err := c.tc.Send(c.wiov[:], 0)
		c.wiov[0] = nil
		done += n
		switch err {
		case nil:
			c.s.unlock()
			continue
		case syscall.EAGAIN, syscall.ENOMEM:
			// Full queue: tcp cleared EPOLLOUT, and the ACK that frees room raises it, which
			// wakes us. No buffers: the next turns free some.
			block := c.wd.drainWake()
			c.s.unlock()
			if err == syscall.ENOMEM {
				time.Sleep(20 * time.Microsecond)
			} else if block {
				c.s.wait(c.w.wr)
			}
			continue
		}
		if e := c.tc.Err(); e != nil {
			err = e
		} else if c.wclosed || err == syscall.ENOTCONN {
			err = syscall.EPIPE
		}
		c.s.unlock()
		return done, c.opError("write", err)
	}
}

// Close closes the connection (gracefully: a FIN after the queued data, or a RST when received
// data was left unread, as Linux does) and wakes its blocked calls, which return net.ErrClosed.
//
// Errors: net.ErrClosed when it is closed already.
func (c *TCPConn) Close() error {
	if err := c.enter("close"); err != nil {
		return err
	}
	c.closeLocked()
	c.s.unlock()
	return nil
}

// closeLocked closes the connection under the lock.
func (c *TCPConn) closeLocked() {
	c.s.unregister(c.w, c.tc.Waitable())
	c.tc.Close()
	c.tc = nil
	c.deadlines.stop()
}

// CloseWrite shuts the sending direction down (a FIN after the queued data); reading goes on.
//
// Errors: net.ErrClosed; ENOTCONN when it is shut down already or the connection ended.
func (c *TCPConn) CloseWrite() error {
	if err := c.enter("close"); err != nil {
		return err
	}
	err := c.tc.ShutdownTx()
	c.wclosed = true
	c.s.unlock()
	if err != nil {
		return c.opError("close", bare(err))
	}
	return nil
}

// LocalAddr returns the local address, a *net.TCPAddr.
func (c *TCPConn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the peer's address, a *net.TCPAddr.
func (c *TCPConn) RemoteAddr() net.Addr { return c.raddr }
