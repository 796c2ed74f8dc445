package zc

import (
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
	"github.com/zocket/zocket/udp"
)

// CopyThreshold is the payload size under which SendZC copies rather than sending the buffer
// itself: copying a few hundred bytes into a cached frame costs about what the notification's
// bookkeeping does, and pins no buffer of the caller's (a design value, not yet tuned by
// measurement; BenchmarkMemifSend measures 1 KiB and up). The notification then follows at
// once, with the copied mark.
const CopyThreshold = 512

// NotifyCap is how many SendZC notifications a stack can have outstanding (sent and not yet
// polled); SendZC fails with ENOMEM beyond it.
const NotifyCap = 1024

// SendZC flags.
const (
	// ReportUsage asks the notification to say whether the data was copied
	// (IORING_SEND_ZC_REPORT_USAGE): Completion.Res is NotifUsageCopied then.
	ReportUsage = 1
	// SendMore (TCP; MSG_MORE's role for a batch) queues the segment without sending it: it
	// leaves with the next SendZC or zc.Send without SendMore on the connection, in one
	// transmit burst with the others, or with an ACK's push. UDP ignores it.
	SendMore = 2
)

// NotifUsageCopied is a notification's Res when ReportUsage was given and the data was
// copied (IORING_NOTIF_USAGE_ZC_COPIED).
const NotifUsageCopied = int32(-1 << 31)

// Completion is a notification (io_uring's notification CQE, IORING_CQE_F_NOTIF): the buffer
// sent with User may be reused.
type Completion struct {
	User uint64 // the user data given to SendZC
	// Res is 0, or NotifUsageCopied when the send had ReportUsage and the data was copied.
	Res int32
	// Copied says whether the data was copied (whatever the flags).
	Copied bool
	// Aborted says that the connection ended before every byte was acknowledged.
	Aborted bool
}

// rec is one outstanding SendZC.
type rec struct {
	m        *dpdk.Mbuf
	user     uint64
	copied   bool
	report   bool
	aborted  bool
	inTCP    bool // TCP's send queue still has it
	busy     bool
	portOnly bool // UDP: only the port's reference is awaited
	framed   bool // sent without a copy: m is in the frame set (frames.go) until posted
}

// CQ is a stack's completion queue of SendZC notifications.
type CQ struct {
	s          *state
	ring       []Completion
	head, tail uint32
}

// Completions returns st's completion queue.
func Completions(st *stack.Stack) *CQ { return &stateOf(st).cq }

// Poll moves notifications that became due (buffers the port and TCP have let go of) into the
// queue and copies up to len(out) of them into out, oldest first; it returns how many. It does
// not perform the stack. No allocation.
func (q *CQ) Poll(out []Completion) int {
	q.s.reap()
	n := 0
	for n < len(out) && q.head != q.tail {
		out[n] = q.ring[q.head%uint32(len(q.ring))]
		q.head++
		n++
	}
	return n
}

// Outstanding is how many SendZC notifications are not yet polled.
func (q *CQ) Outstanding() int { return NotifyCap - len(q.s.freeRec) }

// post queues a notification for record i and frees the record.
func (s *state) post(i uint32) {
	r := &s.recs[i]
	c := Completion{User: r.user, Copied: r.copied, Aborted: r.aborted}
	if r.copied && r.report {
		c.Res = NotifUsageCopied
	}
	q := &s.cq
	q.ring[q.tail%uint32(len(q.ring))] = c
	q.tail++
	if r.framed {
		s.dropFrame(i)
	}
	*r = rec{}
	s.freeRec = append(s.freeRec, i)
}

// reap posts the notifications whose buffers are back to zc's reference alone.
func (s *state) reap() {
	k := 0
	for _, i := range s.pending {
		r := &s.recs[i]
		if r.m.Refcnt() == 1 {
			s.post(i)
			continue
		}
		s.pending[k] = i
		k++
	}
	s.pending = s.pending[:k]
}

// portHeld counts the UDP buffers the port still holds.
func (s *state) portHeld() int {
	n := 0
	for _, i := range s.pending {
		if r := &s.recs[i]; r.portOnly && r.m.Refcnt() != 1 {
			n++
		}
	}
	return n
}

// ZCReleased is TCP's hook (tcp.ZCOwner): the send queue let go of a SendZC buffer (tag =
// record + 1). TCP's reference becomes zc's; the notification waits until the port has let go
// too.
func (s *state) ZCReleased(m *dpdk.Mbuf, tag uint32, why tcp.ZCReason) {
	i := tag - 1
	r := &s.recs[i]
	r.inTCP = false
	switch why {
	case tcp.ZCCopied:
		r.copied = true
	case tcp.ZCAborted:
		r.aborted = true
	}
	s.pending = append(s.pending, i)
}

// SendZC sends the bytes of v on z (a *tcp.Conn or *udp.Transmitter) without copying them
// (io_uring_prep_send_zc) and returns the bytes queued. Later a notification with user comes
// through Completions(st): the buffer may be reused (TCP: every byte acknowledged and the port
// done with it; UDP: the port has freed it). The buffer stays the caller's throughout: it is
// not released by the stack, and the caller must not write to it until the notification.
// flags: 0, ReportUsage, SendMore (a batch: one transmit burst for all of it).
//
// v.H may be zero (any memory, including Go memory): the payload is then copied, as are
// payloads under CopyThreshold, HdrNone buffers, views that do not start their buffer's
// payload room, and buffers that are already an outstanding SendZC's frame (see the package
// doc: several SendZC may be outstanding on one buffer); the notification is queued at once
// and says Copied; so is a TCP payload over the connection's MSS (a HdrTCP buffer holds
// MTU − 40 bytes, timestamps take 12 of a segment), sent as segments. A UDP payload must fit
// the transmitter's MSS (sent with DF).
//
// Errors (bare, no allocation): EINVAL for unknown flags, a zocket of another type or a view
// outside its buffer; ENOMEM when the pool cannot supply a buffer for a copy, or NotifyCap
// notifications are outstanding; the zocket's errors (ENOTCONN, EMSGSIZE, EAGAIN, EBADF). On
// error no notification follows.
func SendZC(z Zocket, v IOVec, flags int, user uint64) (int, error) {
	if flags&^(ReportUsage|SendMore) != 0 || z == nil {
		return 0, syscall.EINVAL
	}
	s := stateOf(z.Waitable().Stack())
	if len(s.freeRec) == 0 {
		return 0, syscall.ENOMEM
	}
	report := flags&ReportUsage != 0
	if h := v.H; h.m != nil && h.kind != HdrNone && cap(v.Buf) > 0 && viewOff(h, v.Buf) < headroomOf(h.kind) {
		return 0, syscall.EINVAL
	}
	if !s.zeroCopy(v) || overMSS(z, v.Buf) {
		n, err := copySend(z, v.Buf)
		if err != nil {
			return 0, err
		}
		i := s.takeRec(v.H.m, user, report)
		s.recs[i].copied = true
		s.post(i)
		return n, nil
	}
	n := place(v.H, v.Buf)
	i := s.takeRec(v.H.m, user, report)
	r := &s.recs[i]
	var err error
	switch z := z.(type) {
	case *tcp.Conn:
		// The buffer's one reference is TCP's while the segment is queued (so that TCP's
		// "count is 1: nobody else holds the frame" tests hold, and its first transmission is
		// not copied); when TCP lets go, the hook (ZCReleased) hands that reference back here
		// instead of to the pool.
		r.inTCP = true
		fl := tcp.ZCFlags(0)
		if flags&SendMore != 0 {
			fl = tcp.ZCMore
		}
		_, err = z.ZCSend(v.H.m, n, i+1, fl)
	case *udp.Transmitter:
		r.portOnly = true
		_, err = z.ZCSend(v.H.m, n, true, false)
		if err == nil {
			s.pending = append(s.pending, i)
		}
	default:
		err = syscall.EINVAL
	}
	if err != nil {
		*r = rec{}
		s.freeRec = append(s.freeRec, i)
		return 0, err
	}
	s.addFrame(i)
	return n, nil
}

// overMSS reports whether b is a TCP payload over its connection's MSS: copied, as segments.
func overMSS(z Zocket, b []byte) bool {
	c, ok := z.(*tcp.Conn)
	return ok && len(b) > mss(c)
}

// zeroCopy reports whether SendZC sends v's buffer itself as the frame: v is a HdrUDP or HdrTCP
// buffer's view of at least CopyThreshold bytes that starts its payload room (the headers then
// go into the headroom, not over bytes of the caller's in front of the view), and the buffer is
// no other outstanding SendZC's frame (one buffer is one frame at a time). Any other view is
// copied.
func (s *state) zeroCopy(v IOVec) bool {
	h := v.H
	return h.m != nil && h.kind != HdrNone && len(v.Buf) >= CopyThreshold &&
		viewOff(h, v.Buf) == headroomOf(h.kind) && !s.framed(h.m)
}

func (s *state) takeRec(m *dpdk.Mbuf, user uint64, report bool) uint32 {
	i := s.freeRec[len(s.freeRec)-1]
	s.freeRec = s.freeRec[:len(s.freeRec)-1]
	s.recs[i] = rec{m: m, user: user, report: report, busy: true}
	return i
}

// copySend sends b by copying, on z.
func copySend(z Zocket, b []byte) (int, error) {
	switch z := z.(type) {
	case *tcp.Conn:
		return z.SendSingle(b, 0)
	case *udp.Transmitter:
		n, err := z.SendSingle(b)
		if err == syscall.ENOBUFS {
			err = syscall.ENOMEM
		}
		return n, err
	}
	return 0, syscall.EINVAL
}

// Registered is a set of buffers registered once for SendZCFixed (io_uring_register_buffers):
// the caller writes into Bufs[i] and sends a slice of it by index.
type Registered struct {
	st   *stack.Stack
	Bufs []IOVec
}

// RegisterBuffers allocates n buffers of kind k for SendZCFixed.
//
// Errors: AllocBuffers'.
func RegisterBuffers(st *stack.Stack, n int, k Kind) (*Registered, error) {
	r := &Registered{st: st, Bufs: make([]IOVec, n)}
	if err := AllocBuffers(st, r.Bufs, k); err != nil {
		return nil, err
	}
	return r, nil
}

// Unregister releases the registered buffers; none may have a notification outstanding.
func (r *Registered) Unregister() { ReleaseIOV(r.st, r.Bufs); r.Bufs = nil }

// SendZCFixed is SendZC of bytes [off, off+n) of registered buffer idx
// (io_uring_prep_send_zc_fixed). Errors: SendZC's; EFAULT when the range is outside the
// buffer or idx out of range.
func SendZCFixed(z Zocket, r *Registered, idx, off, n, flags int, user uint64) (int, error) {
	if idx < 0 || idx >= len(r.Bufs) || off < 0 || n < 0 || off+n > len(r.Bufs[idx].Buf) {
		return 0, syscall.EFAULT
	}
	v := r.Bufs[idx]
	v.Buf = v.Buf[off : off+n]
	return SendZC(z, v, flags, user)
}
