package zc

import (
	"syscall"

	"github.com/zocket/zocket/udp"
)

// Action is a Recv callback's answer (enum onload_zc_callback_rc): Continue or Terminate,
// optionally with Keep.
type Action int

// Callback answers.
const (
	Continue  Action = 0 // release the buffer, go on with the next datagram (ONLOAD_ZC_CONTINUE)
	Terminate Action = 1 // release the buffer (unless Keep) and return (ONLOAD_ZC_TERMINATE)
	Keep      Action = 2 // the buffer is the caller's until ReleaseBuffers (ONLOAD_ZC_KEEP)
)

// Flags set by the stack for the callback, and Recv's flag.
const (
	EndOfBurst = 1 << 0 // the last datagram queued now (ONLOAD_ZC_END_OF_BURST)
	Shared     = 1 << 1 // the buffer has other references: read only (ONLOAD_ZC_MSG_SHARED)
	DontWait   = 0x40   // Recv returns at once when nothing is queued (ONLOAD_MSG_DONTWAIT)
)

// RecvMsg is a received datagram as the callback sees it (onload_zc_msg): Iov[0] is the
// payload, a view into the buffer H, valid until the callback returns (or, with Keep, until
// ReleaseBuffers).
type RecvMsg struct {
	Iov [1]IOVec
	// DgramsLeft is how many more datagrams are queued.
	DgramsLeft int
}

// Recv calls cb for each datagram queued on rx, zero-copy, in the caller's goroutine
// (onload_zc_recv), and returns how many it delivered. cb's msg is reused between calls (keep
// the Handle, not the msg). Without DontWait, Recv performs rx's stack until at least one
// datagram came; with it, Recv returns 0 and EAGAIN when none is queued. It stops when cb says
// Terminate or the queue is empty.
//
// Errors (bare, no allocation): EINVAL for unknown flags; EAGAIN (DontWait, none queued).
func Recv(rx *udp.Receiver, cb func(msg *RecvMsg, flags int) Action, flags int) (int, error) {
	if flags&^DontWait != 0 || cb == nil {
		return 0, syscall.EINVAL
	}
	st := rx.Waitable().Stack()
	s := stateOf(st)
	msg := &s.recvMsg
	n := 0
	for {
		m, payload, left := rx.ZCNext()
		if m == nil {
			if n > 0 {
				return n, nil
			}
			if flags&DontWait != 0 {
				return 0, syscall.EAGAIN
			}
			st.Perform()
			continue
		}
		n++
		f := 0
		if left == 0 {
			f |= EndOfBurst
		}
		if m.Refcnt() > 1 {
			f |= Shared
		}
		msg.Iov[0] = IOVec{Buf: payload, H: Handle{m: m, kind: HdrNone}}
		msg.DgramsLeft = left
		a := cb(msg, f)
		msg.Iov[0] = IOVec{}
		if a&Keep == 0 {
			rx.ZCRelease(m)
		}
		if a&Terminate != 0 {
			return n, nil
		}
	}
}
