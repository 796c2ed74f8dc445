package tcp

import (
	"syscall"
	"time"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Keepalive is a connection's keepalive setting, Linux's SO_KEEPALIVE, TCP_KEEPIDLE,
// TCP_KEEPINTVL and TCP_KEEPCNT in one: when On, after Idle without a segment from the peer a
// probe goes (an ACK one byte below SND.UNA, which the peer must answer) every Interval, and
// Count probes unanswered end the connection with ETIMEDOUT (KeepaliveTimeouts). Any segment
// received restarts the idle time.
type Keepalive struct {
	On       bool
	Idle     time.Duration
	Interval time.Duration
	Count    int
}

// Limits of a Keepalive, those of the tcp_keepalive* attributes.
const (
	maxKeepaliveIdle     = 10 * 24 * time.Hour // tcp_keepalive_time_ms
	maxKeepaliveInterval = 24 * time.Hour      // tcp_keepalive_intvl_ms
	maxKeepaliveCount    = 127                 // tcp_keepalive_probes
)

// StackKeepalive is the setting a stack's connections start with: its tcp_keepalive,
// tcp_keepalive_time_ms, tcp_keepalive_intvl_ms and tcp_keepalive_probes attributes (On only
// when tcp_keepalive is 1 and both times are non-zero, which is how the attributes say "off").
// Idle, Interval and Count keep the attributes' values when it is off, so that turning keepalive
// on for one connection (Conn.SetKeepalive) can take them.
func StackKeepalive(a *stack.Attr) Keepalive {
	k := Keepalive{
		Idle:     time.Duration(a.IntOf(attr.TCPKeepaliveTimeMs)) * time.Millisecond,
		Interval: time.Duration(a.IntOf(attr.TCPKeepaliveIntvlMs)) * time.Millisecond,
		Count:    int(a.IntOf(attr.TCPKeepaliveProbes)),
	}
	k.On = a.IntOf(attr.TCPKeepalive) != 0 && k.Idle > 0 && k.Interval > 0
	return k
}

// Keepalive returns the connection's keepalive setting: the stack's (StackKeepalive) until
// SetKeepalive changes it.
func (c *Conn) Keepalive() Keepalive { return c.ka }

// SetKeepalive replaces the connection's keepalive setting, at once: on an established
// connection the idle time counts from now (the next probe is due Idle from now, as Linux's
// setsockopt does it), off stops the probes; before establishment the setting waits for it.
// When On, the fields must be within the tcp_keepalive* attributes' ranges.
//
// Errors: EINVAL, naming the field, for an Idle outside 1 ms..10 days, an Interval outside
// 1 ms..1 day or a Count outside 1..127 when On; the setting is then unchanged.
func (c *Conn) SetKeepalive(k Keepalive) error {
	switch {
	case !k.On:
	case k.Idle < time.Millisecond || k.Idle > maxKeepaliveIdle:
		return errorf(syscall.EINVAL, "set keepalive: Idle %v outside 1ms..%v", k.Idle, maxKeepaliveIdle)
	case k.Interval < time.Millisecond || k.Interval > maxKeepaliveInterval:
		return errorf(syscall.EINVAL, "set keepalive: Interval %v outside 1ms..%v", k.Interval, maxKeepaliveInterval)
	case k.Count < 1 || k.Count > maxKeepaliveCount:
		return errorf(syscall.EINVAL, "set keepalive: Count %d outside 1..%d", k.Count, maxKeepaliveCount)
	}
	c.ka = k
	c.kaSent = 0
	if !c.kaLive() {
		return nil
	}
	if !k.On {
		c.s.st.StopTimer(&c.kaT)
		return nil
	}
	c.s.st.ArmTimer(&c.kaT, c.s.st.Now()+int64(k.Idle), (*keepaliveHandler)(c))
	return nil
}

// kaLive reports whether the connection is in a state that keepalive watches.
func (c *Conn) kaLive() bool {
	switch c.state {
	case StateEstablished, StateCloseWait, StateFinWait1, StateFinWait2:
		return true
	}
	return false
}

// keepaliveHandler is the keepalive timer's handler.
type keepaliveHandler Conn

// armKeepalive starts the keepalive timer when keepalive is on (at establishment).
func (c *Conn) armKeepalive() {
	if c.ka.On {
		c.lastRcv = c.s.st.Now()
		c.s.st.ArmTimer(&c.kaT, c.lastRcv+int64(c.ka.Idle), (*keepaliveHandler)(c))
	}
}

// Expire is the keepalive timer (Keepalive): after Idle without a segment from the peer, a
// probe every Interval; after Count unanswered, the connection aborts with ETIMEDOUT
// (KeepaliveTimeouts). While data is in flight the retransmission timer watches the peer
// instead; a window probe does not stop keepalive probes (both are the same ACK), so a zero
// window cannot keep them off.
func (h *keepaliveHandler) Expire(now int64) {
	c := (*Conn)(h)
	s := c.s
	if !c.ka.On || !c.kaLive() {
		return
	}
	idle, intvl := int64(c.ka.Idle), int64(c.ka.Interval)
	if now-c.lastRcv < idle {
		c.kaSent = 0
		s.st.ArmTimer(&c.kaT, c.lastRcv+idle, h)
		return
	}
	if c.sndUna != c.sndMax {
		s.st.ArmTimer(&c.kaT, now+intvl, h)
		return
	}
	if c.kaSent >= c.ka.Count {
		c.timeout(&s.ctr.KeepaliveTimeouts)
		return
	}
	c.kaSent++
	s.ctr.KeepaliveProbes++
	c.sendCtl(c.sndUna.Add(^uint32(0)), wire.TCPFlagAck)
	s.st.ArmTimer(&c.kaT, now+intvl, h)
}
