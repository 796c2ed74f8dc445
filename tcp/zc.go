package tcp

import (
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Hooks for package zc (zero-copy sends in the style of Onload's onload_zc_send and io_uring's
// send_zc). They are exported for zc only; applications use zc.

// ZCReason says why TCP gave up its reference to a zero-copy buffer (ZCOwner).
type ZCReason uint8

// Reasons a zero-copy buffer leaves the send queue.
const (
	ZCAcked   ZCReason = iota // every byte in it was acknowledged
	ZCCopied                  // the driver still held it when it had to be sent again: TCP copied it and let go
	ZCAborted                 // the connection was reset or closed down before its bytes were acknowledged
)

// ZCOwner is package zc's per-stack state as TCP sees it. TCP keeps it in its own per-stack
// state, which the stack's transport slot holds, so that zc's state lives with the stack
// rather than in a table shared by all stacks.
type ZCOwner interface {
	// ZCReleased is told when a segment sent by ZCSend with a non-zero tag leaves the send
	// queue: TCP's reference to the buffer is handed over to it instead of being recycled
	// (the driver may still hold one of its own).
	ZCReleased(m *dpdk.Mbuf, tag uint32, why ZCReason)
}

// SetZCOwner installs o as st's zero-copy owner (nil removes it). One per stack; zc installs
// it when it first serves st.
func SetZCOwner(st *stack.Stack, o ZCOwner) { stateOf(st).zc = o }

// ZCOwnerOf returns st's zero-copy owner, or nil. It makes no TCP state and allocates nothing.
func ZCOwnerOf(st *stack.Stack) ZCOwner {
	if s, ok := st.Transport(wire.ProtoTCP).(*state); ok {
		return s.zc
	}
	return nil
}

// ZCFlags modify ZCSend.
type ZCFlags uint8

// ZCSend flags.
const (
	// ZCWarm builds and patches the segment and restores the headroom; nothing is queued or
	// sent and m stays the caller's.
	ZCWarm ZCFlags = 1 << iota
	// ZCMore queues the segment without pushing it: it leaves with the next ZCSend without
	// ZCMore (one transmit burst for a batch of buffers), a Send, or an ACK's push.
	ZCMore
)

// ZCSend queues the n payload bytes that start at m's data offset as one segment, without
// copying them: the connection's header template is written into m's headroom (at least
// HeaderSize bytes) and m becomes the segment's frame in the send queue, patched and sent as
// the windows allow, kept for retransmission and released when acknowledged. tag 0 means the
// buffer is the stack's from then on (recycled on ACK, onload_zc_send); another tag hands it
// to the stack's ZCOwner when it leaves the queue (zc.SendZC). The queue is pushed at once
// unless flags has ZCMore; with ZCWarm nothing is queued (see ZCFlags). The payload is summed
// once for its checksum (retransmissions reuse the sum), and not at all when the port
// computes TCP checksums.
//
// On success m is TCP's. On error m is unchanged and the caller's. Errors (bare): ENOTCONN
// when the connection does not send; EMSGSIZE when n exceeds the MSS or the headroom is under
// HeaderSize; EAGAIN when the send queue is full.
func (c *Conn) ZCSend(m *dpdk.Mbuf, n int, tag uint32, flags ZCFlags) (int, error) {
	if !c.canSend() {
		return 0, syscall.ENOTCONN
	}
	if n > c.mss || m.Headroom() < c.hlen || n > m.DataLen()+m.Tailroom() {
		return 0, syscall.EMSGSIZE
	}
	if n == 0 {
		if flags&ZCMore == 0 {
			c.ZCPush()
		}
		return 0, nil
	}
	if c.queued() == c.sqCap() {
		return 0, syscall.EAGAIN
	}
	m.SetLen(n)
	var psum uint32
	if !c.s.st.TxChecksumOffload() {
		psum = wire.Sum(m.Data(), 0)
	}
	b := m.Prepend(c.hlen)
	copy(b, c.tmpl[:c.hlen])
	if flags&ZCWarm != 0 {
		id, adv := c.ipID, c.rcvAdv
		c.patch(m, b, c.sndNxt, wire.TCPFlagAck|wire.TCPFlagPsh, n, psum, 0)
		c.ipID, c.rcvAdv = id, adv
		m.Adj(c.hlen)
		m.SetOlFlags(0)
		return n, nil
	}
	e := c.seg(c.sqTail)
	*e = txSeg{m: m, seq: c.sndQueuedEnd(), len: uint16(n), psum: psum, zc: tag}
	c.sqTail++
	c.sqBytes += n
	if flags&ZCMore == 0 {
		c.ZCPush()
	}
	return n, nil
}

// ZCPush sends what ZCSend queued with ZCMore, as the windows allow (one transmit burst).
func (c *Conn) ZCPush() {
	c.more = false
	c.push(false)
	if c.queued() == c.sqCap() && c.w.Readiness()&stack.EPOLLOUT != 0 {
		c.w.NotReady(stack.EPOLLOUT)
	}
}

// ZCTakeBuffers fills ms with empty buffers from the TCP send path's buffer cache on st —
// where acknowledged segments' buffers go back, still warm — all or none. It returns false
// when st has no TCP endpoint (no cache) or the pool cannot supply them all.
func ZCTakeBuffers(st *stack.Stack, ms []*dpdk.Mbuf) bool {
	s, ok := st.Transport(wire.ProtoTCP).(*state)
	return ok && s.cache != nil && s.cache.TakeBulk(ms)
}

// ZCSpace is how many more segments ZCSend can queue now.
func (c *Conn) ZCSpace() int { return c.sqCap() - c.queued() }

// releaseBuf gives up the send queue's reference to a segment's buffer: a zero-copy buffer
// with a tag goes to the stack's ZCOwner, any other is recycled (or freed, when recycle
// is false).
func (c *Conn) releaseBuf(e *txSeg, recycle bool, why ZCReason) {
	if e.zc != 0 && c.s.zc != nil {
		tag := e.zc
		e.zc = 0
		c.s.zc.ZCReleased(e.m, tag, why)
		return
	}
	e.zc = 0
	if recycle {
		c.s.recycle(e.m)
	} else {
		e.m.Free()
	}
}
