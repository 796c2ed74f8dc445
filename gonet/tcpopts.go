package gonet

import (
	"net"
	"syscall"
	"time"

	"github.com/zocket/zocket/tcp"
)

// The socket options of *net.TCPConn that the stack has: no-delay (always), and keepalive per
// connection (tcp.Conn.SetKeepalive). A connection starts with the stack's tcp_keepalive*
// attributes (off, 2 h idle, 75 s interval, 9 probes by default: a Linux socket without
// SO_KEEPALIVE), not with net.Dialer's 15 s: Stack.Dial and Listen have no KeepAlive field,
// and SetKeepAlive(true) turns probes on with the idle time the connection has, as setsockopt
// SO_KEEPALIVE does on Linux.

// Go's defaults for zero fields of a net.KeepAliveConfig (net's defaultTCPKeepAliveIdle,
// defaultTCPKeepAliveInterval, defaultTCPKeepAliveCount).
const (
	defaultKeepAliveIdle     = 15 * time.Second
	defaultKeepAliveInterval = 15 * time.Second
	defaultKeepAliveCount    = 9
)

// SetNoDelay reports the stack's behaviour: zocket's TCP has no Nagle algorithm, every segment
// leaves as soon as the windows allow, so SetNoDelay(true) succeeds and does nothing.
//
// Errors: EOPNOTSUPP for SetNoDelay(false) (there is no Nagle to turn on).
func (c *TCPConn) SetNoDelay(noDelay bool) error {
	if !noDelay {
		return c.opError("set", syscall.EOPNOTSUPP)
	}
	return nil
}

// SetKeepAlive turns keepalive probes on or off for the connection, keeping its idle time,
// interval and count.
//
// Errors: net.ErrClosed; EINVAL when turning on a connection whose idle time or interval is 0
// (the stack's tcp_keepalive_time_ms or tcp_keepalive_intvl_ms 0, its "disabled", and no
// SetKeepAlivePeriod or SetKeepAliveConfig since).
func (c *TCPConn) SetKeepAlive(keepAlive bool) error {
	return c.setKeepalive(func(k *tcp.Keepalive) { k.On = keepAlive })
}

// SetKeepAlivePeriod sets how long the connection stays idle before the first keepalive probe
// (TCP_KEEPIDLE, which is what *net.TCPConn's sets); 0 means Go's 15 s, a negative d changes
// nothing. It does not turn keepalive on.
//
// Errors: net.ErrClosed; EINVAL for a period over 10 days when keepalive is on.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	return c.setKeepalive(func(k *tcp.Keepalive) { setField(&k.Idle, d, defaultKeepAliveIdle) })
}

// SetKeepAliveConfig sets the whole keepalive setting as *net.TCPConn's does: Enable turns it on
// or off; a zero Idle, Interval or Count means Go's default (15 s, 15 s, 9), a negative one
// leaves the connection's value.
//
// Errors: net.ErrClosed; EINVAL, naming the field, for values outside the tcp_keepalive*
// attributes' ranges (Idle up to 10 days, Interval up to 1 day, Count up to 127).
func (c *TCPConn) SetKeepAliveConfig(config net.KeepAliveConfig) error {
	return c.setKeepalive(func(k *tcp.Keepalive) {
		k.On = config.Enable
		setField(&k.Idle, config.Idle, defaultKeepAliveIdle)
		setField(&k.Interval, config.Interval, defaultKeepAliveInterval)
		setField(&k.Count, config.Count, defaultKeepAliveCount)
	})
}

// setField sets *f to v, to def when v is 0, and leaves it when v is negative (net's rule).
func setField[T time.Duration | int](f *T, v, def T) {
	switch {
	case v == 0:
		*f = def
	case v > 0:
		*f = v
	}
}

// setKeepalive changes the connection's keepalive setting with edit, under the lock.
func (c *TCPConn) setKeepalive(edit func(*tcp.Keepalive)) error {
	if err := c.enter("set"); err != nil {
		return err
	}
	k := c.tc.Keepalive()
	edit(&k)
	err := c.tc.SetKeepalive(k)
	c.s.unlock()
	if err != nil {
		return c.opError("set", err)
	}
	return nil
}
