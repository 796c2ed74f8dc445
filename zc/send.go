package zc

import (
	"math"
	"syscall"

	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
	"github.com/zocket/zocket/udp"
)

// Zocket is a zocket zc sends on: *tcp.Conn or *udp.Transmitter.
type Zocket interface {
	Waitable() *stack.Waitable
}

// Send flags.
const (
	// MsgWarm runs the send path without sending (ONLOAD_MSG_WARM): buffers stay the caller's
	// and nothing reaches the wire.
	MsgWarm = 0x10000
	// MsgDontWait is accepted for Onload compatibility; sends never block.
	MsgDontWait = 0x40
)

// MMsg is one message of a Send (onload_zc_mmsg): a zocket and the buffers to send on it.
type MMsg struct {
	Zocket Zocket
	Iov    []IOVec
	// Rc is set by Send: the bytes sent, or −errno.
	Rc int
}

// Err returns the message's error (nil when Rc ≥ 0), as a bare syscall.Errno.
func (m *MMsg) Err() error {
	if m.Rc >= 0 {
		return nil
	}
	return syscall.Errno(-m.Rc)
}

// Send sends msgs, each on its own zocket, in order (onload_zc_send), and returns how many of
// their Rc it set (len(msgs) but for an application error). Every buffer must have been
// allocated on the stack of its message's zocket.
//
// A TCP message goes buffer by buffer, one segment each, until the send queue is full: Rc is
// the bytes of the buffers taken, whose buffers now belong to the stack; the rest stay the
// caller's (−EAGAIN when none was taken). A UDP message is one datagram of all its buffers,
// sent or not. Per-message errors (Rc): ENOTCONN (TCP not connected), EMSGSIZE (a buffer over
// the MSS or without header room), EAGAIN (queue or ring full), ENOMEM/ENOBUFS (a copy found no
// buffer), EBADF (closed transmitter), EINVAL (a buffer view outside its buffer, or a zocket of
// another type).
//
// Errors (the call's): EINVAL for unknown flags. No allocation.
func Send(msgs []MMsg, flags int) (int, error) {
	if flags&^(MsgWarm|MsgDontWait) != 0 {
		return 0, syscall.EINVAL
	}
	warm := flags&MsgWarm != 0
	for i := range msgs {
		msg := &msgs[i]
		switch z := msg.Zocket.(type) {
		case *tcp.Conn:
			msg.Rc = sendTCP(z, msg.Iov, warm)
		case *udp.Transmitter:
			msg.Rc = sendUDP(z, msg.Iov, warm)
		default:
			msg.Rc = -int(syscall.EINVAL)
		}
	}
	return len(msgs), nil
}

func errRc(err error) int {
	if e, ok := err.(syscall.Errno); ok {
		return -int(e)
	}
	return -int(syscall.EIO)
}

// mss is c's send MSS, or no limit when c does not send (ZCSend then says why).
func mss(c *tcp.Conn) int {
	if m, err := c.MSS(); err == nil {
		return m
	}
	return math.MaxInt
}

// sendTCP queues iov's buffers as segments and pushes them once, in one transmit burst (the
// copied fallback pushes its own).
func sendTCP(c *tcp.Conn, iov []IOVec, warm bool) int {
	rc, queued := queueTCP(c, iov, warm)
	if queued {
		c.ZCPush()
	}
	return rc
}

// queueTCP is sendTCP without the push; it also reports whether it queued a segment.
func queueTCP(c *tcp.Conn, iov []IOVec, warm bool) (rc int, queued bool) {
	fl := tcp.ZCMore
	if warm {
		fl = tcp.ZCWarm
	}
	total := 0
	for i := range iov {
		v := &iov[i]
		var err error
		if v.H.m != nil && v.H.kind != HdrNone && len(v.Buf) <= mss(c) {
			n := place(v.H, v.Buf)
			if n < 0 {
				err = syscall.EINVAL
			} else if n > 0 {
				_, err = c.ZCSend(v.H.m, n, 0, fl)
				queued = queued || err == nil && !warm
			}
		} else {
			// No header room, not a zc buffer, or over the MSS (a HdrTCP buffer holds MTU − 40
			// bytes; timestamps take 12 of a segment): copied, whole or not at all.
			if space, e := c.SendSpace(); e != nil {
				err = e
			} else if space < len(v.Buf) {
				err = syscall.EAGAIN
			} else if !warm {
				_, err = c.SendSingle(v.Buf, 0)
				if err == nil && v.H.m != nil {
					v.H.m.Free() // sent (copied): the stack's, and nothing refers to it
				}
			}
		}
		if err != nil {
			if total == 0 {
				return errRc(err), queued
			}
			return total, queued
		}
		total += len(v.Buf)
	}
	return total, queued
}

func sendUDP(t *udp.Transmitter, iov []IOVec, warm bool) int {
	if len(iov) == 1 && iov[0].H.m != nil && iov[0].H.kind != HdrNone {
		v := &iov[0]
		n := place(v.H, v.Buf)
		if n < 0 {
			return -int(syscall.EINVAL)
		}
		if _, err := t.ZCSend(v.H.m, n, false, warm); err != nil {
			return errRc(err)
		}
		return n
	}
	// Several buffers (or none with header room): gathered by copying into one datagram.
	s := stateOf(t.Waitable().Stack())
	views := s.views[:0]
	for i := range iov {
		views = append(views, iov[i].Buf)
	}
	s.views = views[:0]
	if warm {
		n := 0
		for _, b := range views {
			n += len(b)
		}
		if n > t.MSS() {
			return -int(syscall.EMSGSIZE)
		}
		return n
	}
	n, err := t.Send(views, udp.DontFragment)
	clear(views)
	if err != nil {
		return errRc(err)
	}
	releaseIOV(s, iov) // sent: the buffers are the stack's, and nothing refers to them
	return n
}
