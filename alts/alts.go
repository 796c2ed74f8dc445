package alts

import (
	"sync"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

// MaxPackets is how many packets one alternative holds at most: a connection's send queue
// takes at least 64 segments (tcp_sndbuf may allow more), so an alternative of up to 64 can
// always be sent.
const MaxPackets = 64

// Alt is an alternative queue (TCPDirect's zf_althandle), from Alloc. It belongs to its
// stack's polling goroutine.
type Alt struct {
	s     *state
	id    int
	inUse bool

	conn   *tcp.Conn
	pt     tcp.AltPoint
	frames []*dpdk.Mbuf // C memory: the burst array
	meta   []tcp.AltFrame
	n      int // packets queued
	bytes  int // payload bytes queued
	usage  int // frame bytes charged to alt_buf_size
	tcpOff int // offset of the TCP header in a frame
}

// Counters are a stack's alternatives counters (reported through the stack's Dumper as
// stack.AltsQueued, AltsSent, AltsCancelled).
type Counters struct {
	Queued    uint64 // messages queued
	Sent      uint64 // alternatives sent
	Cancelled uint64 // alternatives cancelled or released with messages queued
	SentPkts  uint64 // packets sent by alternatives
	Stale     uint64 // Send refused with EINVAL (stale alternative)
	Busy      uint64 // Send refused with EBUSY (transient)
}

// state is a stack's alternatives: alt_count queues, the shared alt_buf_size budget, a buffer
// cache. It exists while at least one alternative is allocated.
type state struct {
	st     *stack.Stack
	alts   []Alt
	nalloc int
	budget int
	used   int
	rewind uint32
	txCsum bool
	cache  *stack.BufCache
	ctr    Counters
}

// stacks finds a stack's alternatives state on the set-up paths (Alloc, Release,
// StackCounters); the data path goes through the Alt. Stacks polled by different goroutines
// may allocate concurrently, hence the mutex.
var (
	stacksMu sync.Mutex
	stacks   = map[*stack.Stack]*state{}
)

func stateOf(st *stack.Stack) *state {
	stacksMu.Lock()
	defer stacksMu.Unlock()
	return stacks[st]
}

// Alloc acquires an alternative queue on st (zf_alternatives_alloc). a is the attributes
// requested for the alternative; as in TCPDirect they are unused (nil is accepted). The
// number of alternatives is the stack's alt_count attribute (default 0).
//
// Errors: ENOMEM when all alt_count alternatives are allocated (or alt_count is 0).
func Alloc(st *stack.Stack, a *stack.Attr) (*Alt, error) {
	_ = a
	s := stateOf(st)
	if s == nil {
		sa := st.Attr()
		n := int(sa.IntOf(attr.AltCount))
		if n == 0 {
			return nil, syscall.ENOMEM
		}
		s = &state{
			st:     st,
			alts:   make([]Alt, n),
			budget: int(sa.IntOf(attr.AltBufSize)),
			rewind: uint32(sa.IntOf(attr.TCPAltAckRewind)),
			txCsum: st.TxChecksumOffload(),
			cache:  stack.NewBufCache(st, 2*MaxPackets),
		}
		for i := range s.alts {
			s.alts[i] = Alt{s: s, id: i}
		}
		stacksMu.Lock()
		stacks[st] = s
		stacksMu.Unlock()
		st.AddDumper(s)
	}
	for i := range s.alts {
		alt := &s.alts[i]
		if alt.inUse {
			continue
		}
		if alt.frames == nil {
			alt.frames = dpdk.NewMbufArray(MaxPackets)
			alt.meta = make([]tcp.AltFrame, MaxPackets)
		}
		alt.inUse = true
		s.nalloc++
		return alt, nil
	}
	return nil, syscall.ENOMEM
}

// Release gives an alternative back (zf_alternatives_release); messages still queued on it
// are dropped without being sent. When it was the stack's last alternative, the stack's
// alternatives state (cache, arrays, Dumper) is freed too.
//
// Errors: EINVAL when alt is not an allocated alternative of st.
func Release(st *stack.Stack, alt *Alt) error {
	if !alt.of(st) {
		return syscall.EINVAL
	}
	s := alt.s
	alt.drop()
	alt.inUse = false
	dpdk.FreeMbufArray(alt.frames)
	alt.frames, alt.meta = nil, nil
	s.nalloc--
	if s.nalloc == 0 {
		s.cache.Close()
		st.RemoveDumper(s)
		stacksMu.Lock()
		delete(stacks, st)
		stacksMu.Unlock()
	}
	return nil
}

// of reports whether alt is allocated on st.
func (alt *Alt) of(st *stack.Stack) bool {
	return alt != nil && alt.s != nil && alt.s.st == st && alt.inUse
}

// Queue builds one TCP message (the bytes of iov, one packet) onto alternative alt for
// connection c, ready to be sent by Send (zft_alternatives_queue). The first message fixes the
// alternative's connection and sequence point (see the package comment); later ones follow
// it. iov may hold several buffers (TCPDirect requires one); flags must be 0.
//
// Errors (bare syscall.Errno, no allocation): EINVAL for flags ≠ 0, an empty message, an
// alternative not allocated on c's stack, one holding messages of another connection, a stale
// alternative (cancel it first), or a connection that does not send (not established, shut
// down); EAGAIN when the next hop's address is not resolved yet; EMSGSIZE when the message
// exceeds the connection's MSS; ENOBUFS when the alternative already holds MaxPackets
// packets; ENOMEM when the frame (headers and payload) exceeds FreeSpace, or no packet buffer
// is left.
func Queue(c *tcp.Conn, alt *Alt, iov [][]byte, flags int) error {
	if flags != 0 || !alt.of(c.Stack()) {
		return syscall.EINVAL
	}
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	if n == 0 {
		return syscall.EINVAL
	}
	pt, err := c.AltStart()
	if err != nil {
		return err
	}
	if alt.n == 0 {
		alt.conn, alt.pt, alt.tcpOff = c, pt, pt.TCPOff
	} else if alt.conn != c || pt.Seq != alt.pt.Seq {
		return syscall.EINVAL
	}
	if alt.n == MaxPackets {
		return syscall.ENOBUFS
	}
	s := alt.s
	need := c.HeaderSize() + n
	if need > s.budget-s.used {
		return syscall.ENOMEM
	}
	m := s.cache.Take()
	if m == nil {
		return syscall.ENOMEM
	}
	psum, err := c.AltSegment(m, &alt.pt, alt.pt.Seq.Add(uint32(alt.bytes)), iov, n)
	if err != nil {
		s.cache.Put(m)
		return err
	}
	m.SetRefcnt(2) // the driver's, and the retransmission queue's once sent
	alt.frames[alt.n] = m
	alt.meta[alt.n] = tcp.AltFrame{Len: uint16(n), Psum: psum}
	alt.n++
	alt.bytes += n
	alt.usage += need
	s.used += need
	s.ctr.Queued++
	return nil
}

// Cancel drops the messages queued on alt without sending them (zf_alternatives_cancel); the
// alternative is empty and reusable at once, for any connection of its stack.
//
// Errors: EINVAL when alt is not an allocated alternative of st.
func Cancel(st *stack.Stack, alt *Alt) error {
	if !alt.of(st) {
		return syscall.EINVAL
	}
	alt.drop()
	return nil
}

// drop gives the queued frames back to the cache and empties the alternative.
func (alt *Alt) drop() {
	if alt.n == 0 {
		return
	}
	s := alt.s
	for _, m := range alt.frames[:alt.n] {
		m.SetRefcnt(1)
		s.cache.Put(m)
	}
	s.ctr.Cancelled++
	alt.reset()
}

// reset empties the alternative's bookkeeping (its frames are someone else's now).
func (alt *Alt) reset() {
	alt.s.used -= alt.usage
	alt.n, alt.bytes, alt.usage = 0, 0, 0
	alt.conn = nil
}

// FreeSpace returns how many bytes a message's frame may take on alt at this moment
// (zf_alternatives_free_space): what is left of the stack's alt_buf_size, which all its
// alternatives share. The value includes the headers: the largest payload Queue accepts is
// FreeSpace less the connection's HeaderSize (and at most its MSS). 0 for an alternative not
// allocated on st.
func FreeSpace(st *stack.Stack, alt *Alt) int {
	if !alt.of(st) {
		return 0
	}
	return max(alt.s.budget-alt.s.used, 0)
}

// Len returns how many messages are queued on alt.
func (alt *Alt) Len() int { return alt.n }

// Overhead is the per-packet buffer usage of TCP alternatives (ef_vi_transmit_alt_overhead):
// a message of n payload bytes uses Usage(n) = round_up(PreRound + n, Rounding) + PostRound
// bytes of alt_buf_size.
type Overhead struct {
	PreRound  int
	Rounding  int
	PostRound int
}

// Usage is the buffer space a message of n payload bytes takes (ef_vi_transmit_alt_usage).
func (o Overhead) Usage(n int) int {
	r := max(o.Rounding, 1)
	return (o.PreRound+n+r-1)/r*r + o.PostRound
}

// QueryOverheadTCP returns connection c's per-packet overhead on alternatives
// (zf_alternatives_query_overhead_tcp): its headers (Ethernet, VLAN tag if any, IPv4, TCP),
// rounding 1, nothing after. It assumes the message fits one packet.
//
// Errors: EINVAL when c's stack has no alternatives (alt_count 0).
func QueryOverheadTCP(c *tcp.Conn) (Overhead, error) {
	if c.Stack().Attr().IntOf(attr.AltCount) == 0 {
		return Overhead{}, syscall.EINVAL
	}
	return Overhead{PreRound: c.HeaderSize(), Rounding: 1}, nil
}

// StackCounters returns st's alternatives counters (zero when no alternative is allocated:
// the counters live with the stack's alternatives state). Call it on the stack's polling
// goroutine; other goroutines read them from snapshots (stack.AltsQueued…).
func StackCounters(st *stack.Stack) Counters {
	if s := stateOf(st); s != nil {
		return s.ctr
	}
	return Counters{}
}
