package tcp

import "github.com/zocket/zocket/stack"

// Readiness for the muxer (stack.Muxer): a connection is ready for EPOLLIN while data or the
// end of the stream waits to be read, EPOLLOUT while it can queue data, EPOLLHUP once closed
// in both directions, EPOLLERR once an error ended it; a listener is ready for EPOLLIN while a
// connection waits for Accept. Readiness is updated where it changes, so a muxer's Wait costs
// O(ready zockets).

// Waitable returns the connection's waitable (zft_to_waitable), for stack.Muxer.
func (c *Conn) Waitable() *stack.Waitable { return &c.w }

// Waitable returns the listener's waitable (zftl_to_waitable), for stack.Muxer.
func (l *Listener) Waitable() *stack.Waitable { return &l.w }

// updateReady recomputes the connection's readiness.
func (c *Conn) updateReady() {
	w := &c.w
	var on, off uint32
	if c.rqHead != c.rqTail || c.ended() {
		on |= stack.EPOLLIN
	} else {
		off |= stack.EPOLLIN
	}
	if c.canSend() && c.space() > 0 {
		on |= stack.EPOLLOUT
	} else {
		off |= stack.EPOLLOUT
	}
	if c.state == StateClose || c.finRcvd && c.txShut && c.state != StateFinWait1 && c.state != StateClosing && c.state != StateLastAck {
		on |= stack.EPOLLHUP
	} else {
		off |= stack.EPOLLHUP
	}
	if c.err != 0 {
		on |= stack.EPOLLERR
	}
	if off&w.Readiness() != 0 {
		w.NotReady(off)
	}
	if on&stack.EPOLLIN != 0 || on&^w.Readiness() != 0 {
		w.Ready(on)
	}
}

// readyAfterInput is updateReady for the common outcome of a segment, data queued or
// acknowledged, in an established connection: EPOLLIN raised (every arrival is an edge), EPOLLOUT
// raised when the queue has room again; anything else takes the full recomputation.
func (c *Conn) readyAfterInput() {
	if c.state != StateEstablished {
		c.updateReady()
		return
	}
	if c.rqHead != c.rqTail {
		c.w.Ready(stack.EPOLLIN)
	}
	if c.w.Readiness()&stack.EPOLLOUT == 0 && c.space() > 0 {
		c.w.Ready(stack.EPOLLOUT)
	}
}

// Quiescent reports whether no connection has anything left to send on its own: no
// unacknowledged data or FIN, no handshake in progress, and, with tcp_wait_for_time_wait, none
// in TIME-WAIT (stack.Quiescer). A quiescent TCP gives its cached buffers back to the pool, so
// that the stack can close while connections linger in TIME-WAIT.
func (s *state) Quiescent() bool {
	for _, e := range s.conns.ents {
		c := e.c
		if c == nil {
			continue
		}
		switch c.state {
		case StateSynSent, StateSynRecv, StateFinWait1, StateClosing, StateLastAck:
			return false
		case StateTimeWait:
			if s.cfg.waitTimeWait {
				return false
			}
		}
		if c.sndUna != c.sndMax || c.sqNext != c.sqTail {
			return false
		}
	}
	if s.cache != nil {
		s.cache.Flush()
	}
	return true
}
