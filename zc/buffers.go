package zc

import (
	"syscall"
	"unsafe"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
	"github.com/zocket/zocket/wire"
)

// Kind is the header room a buffer keeps (ONLOAD_ZC_BUFFER_HDR_*).
type Kind uint8

// Buffer kinds.
const (
	HdrNone Kind = iota // no header room: the whole data room is payload (sent by copying)
	HdrUDP              // room for Ethernet, IPv4 and UDP headers
	HdrTCP              // room for Ethernet, IPv4 and TCP headers
)

// Handle names a zero-copy buffer (onload_zc_handle). The zero Handle names none.
type Handle struct {
	m    *dpdk.Mbuf
	kind Kind
}

// Valid reports whether h names a buffer.
func (h Handle) Valid() bool { return h.m != nil }

// IOVec is a buffer and the bytes of it to send or received (onload_zc_iovec). Buf may be
// resliced within the buffer (start and end) before sending.
type IOVec struct {
	Buf []byte
	H   Handle
}

// blk is how many buffers one bulk call allocates or frees.
const blk = 64

// state is zc's per-stack state.
type state struct {
	st   *stack.Stack
	pool *dpdk.Pool
	arr  []*dpdk.Mbuf // C memory, blk entries: bulk calls
	room int          // data room after the default headroom
	mtu  int

	views [][]byte // scratch for copying sends

	// SendZC notifications (sendzc.go).
	recs    []rec
	freeRec []uint32
	pending []uint32 // records waiting for the buffer's count to fall back
	frames  []uint32 // the buffers that are an outstanding SendZC's frame (frameSet)
	cq      CQ
	recvMsg RecvMsg
}

// stateOf finds st's zc state or makes it. The state lives with the stack: TCP keeps it for zc
// (tcp.ZCOwnerOf) in its per-stack state, which the stack's transport slot holds, so that
// stacks polled by different goroutines share nothing here. Two loads and two type checks; no
// allocation once made.
func stateOf(st *stack.Stack) *state {
	if s, ok := tcp.ZCOwnerOf(st).(*state); ok {
		return s
	}
	return newState(st)
}

func newState(st *stack.Stack) *state {
	s := &state{
		st: st, pool: st.Pool(), arr: dpdk.NewMbufArray(blk),
		room: dpdk.DefaultDataRoom - dpdk.DefaultHeadroom, mtu: st.MTU(),
		views: make([][]byte, 0, 64),
		recs:  make([]rec, NotifyCap), freeRec: make([]uint32, 0, NotifyCap), pending: make([]uint32, 0, NotifyCap),
		frames: make([]uint32, frameSlots),
	}
	for i := NotifyCap - 1; i >= 0; i-- {
		s.freeRec = append(s.freeRec, uint32(i))
	}
	s.cq.s = s
	s.cq.ring = make([]Completion, NotifyCap)
	tcp.SetZCOwner(st, s)
	return s
}

// Forget drops zc's state for st (call before closing st, after every notification was
// polled). It frees nothing the caller holds.
func Forget(st *stack.Stack) {
	s, ok := tcp.ZCOwnerOf(st).(*state)
	if !ok {
		return
	}
	tcp.SetZCOwner(st, nil)
	dpdk.FreeMbufArray(s.arr)
	s.arr = nil
}

// capacity is the payload room of a buffer of kind k.
func (s *state) capacity(k Kind) int {
	switch k {
	case HdrUDP:
		return min(s.room, s.mtu-wire.IPv4MinimumSize-wire.UDPMinimumSize)
	case HdrTCP:
		return min(s.room, s.mtu-40)
	}
	return dpdk.DefaultDataRoom
}

// AllocBuffers fills every entry of iov with a fresh buffer of st's pool of kind k
// (onload_zc_alloc_buffers): Buf covers the buffer's payload room (see the package doc for the
// sizes), H names it. The buffers come from TCP's send-path cache on st when it has one
// (where the buffers of acknowledged segments go back, still warm: no pool round trip), else
// from the pool in bulk (one cgo call per 64 buffers); all or nothing. The buffers are the
// caller's until sent or released.
//
// Errors: EINVAL for an unknown kind; ENOMEM when the pool cannot supply them all.
func AllocBuffers(st *stack.Stack, iov []IOVec, k Kind) error {
	if k > HdrTCP {
		return syscall.EINVAL
	}
	s := stateOf(st)
	for done := 0; done < len(iov); {
		n := min(blk, len(iov)-done)
		if !tcp.ZCTakeBuffers(st, s.arr[:n]) && s.pool.AllocBulk(s.arr[:n]) != nil {
			releaseIOV(s, iov[:done])
			return syscall.ENOMEM
		}
		for i, m := range s.arr[:n] {
			iov[done+i] = IOVec{Buf: s.view(m, k), H: Handle{m: m, kind: k}}
		}
		done += n
	}
	return nil
}

// view prepares m as an empty buffer of kind k and returns its payload room.
func (s *state) view(m *dpdk.Mbuf, k Kind) []byte {
	base(m, k)
	return m.Buffer()[:s.capacity(k)]
}

// headroomOf is the data offset of an empty buffer of kind k.
func headroomOf(k Kind) int {
	if k == HdrNone {
		return 0
	}
	return dpdk.DefaultHeadroom
}

// base puts m's data offset at its kind's headroom with no data and no offload flags.
func base(m *dpdk.Mbuf, k Kind) {
	want := headroomOf(k)
	m.SetLen(0)
	if h := m.Headroom(); h > want {
		m.Prepend(h - want)
	} else if h < want {
		m.Append(want - h)
		m.Adj(want - h)
	}
	m.SetLen(0)
	m.SetOlFlags(0)
}

// viewOff is the offset of b from the start of h's buffer (the mbuf's buf_addr, whatever its
// data offset is now), or -1 when b is not inside the buffer.
func viewOff(h Handle, b []byte) int {
	m := h.m
	start := uintptr(unsafe.Pointer(unsafe.SliceData(m.Buffer()))) - uintptr(m.Headroom())
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - start)
	if off < 0 || off+len(b) > m.Headroom()+m.DataLen()+m.Tailroom() {
		return -1
	}
	return off
}

// place makes m's data exactly the bytes of b (which must lie in m's room after its kind's
// headroom) and returns their length, or -1 when b is not inside the buffer.
func place(h Handle, b []byte) int {
	if cap(b) == 0 {
		base(h.m, h.kind)
		return 0
	}
	off := viewOff(h, b) - headroomOf(h.kind)
	if off < 0 {
		return -1
	}
	base(h.m, h.kind)
	h.m.SetLen(off + len(b))
	h.m.Adj(off)
	return len(b)
}

// ReleaseBuffers gives buffers back (onload_zc_release_buffers): unsent ones, those a Recv
// callback kept, and SendZC buffers whose notification came. Zero Handles are skipped. One
// cgo call per 64 buffers; no allocation.
func ReleaseBuffers(st *stack.Stack, hs []Handle) {
	s := stateOf(st)
	for len(hs) > 0 {
		n := 0
		for _, h := range hs[:min(blk, len(hs))] {
			if h.m != nil {
				s.arr[n] = h.m
				n++
			}
		}
		dpdk.FreeBulk(s.arr[:n])
		hs = hs[min(blk, len(hs)):]
	}
}

// ReleaseIOV is ReleaseBuffers for the handles of iov.
func ReleaseIOV(st *stack.Stack, iov []IOVec) { releaseIOV(stateOf(st), iov) }

func releaseIOV(s *state, iov []IOVec) {
	for len(iov) > 0 {
		n := 0
		for _, v := range iov[:min(blk, len(iov))] {
			if v.H.m != nil {
				s.arr[n] = v.H.m
				n++
			}
		}
		dpdk.FreeBulk(s.arr[:n])
		iov = iov[min(blk, len(iov)):]
	}
}

// AwaitStackSync performs st until the port has let go of every buffer zc handed to it for a
// SendZC (the transmit queue has cycled past them) and at least once, so that frames queued
// before the call have gone to the port (onload_zc_await_stack_sync). Notifications that
// wait for TCP acknowledgments are not waited for. It gives up after maxTurns turns.
//
// Errors: EAGAIN when the port still holds some after maxTurns.
func AwaitStackSync(st *stack.Stack, maxTurns int) error {
	s := stateOf(st)
	for i := 0; i < max(maxTurns, 1); i++ {
		st.Perform()
		if s.portHeld() == 0 {
			return nil
		}
	}
	return syscall.EAGAIN
}
