package udp

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// localKey is a bound local address and port.
type localKey struct {
	ip   [4]byte
	port uint16
}

// bind is one (local, remote) filter of a receiver. rip 0.0.0.0 and rport 0 are wildcards.
type bind struct {
	local localKey
	rip   [4]byte
	rport uint16
	r     *Receiver
	group bool // local is a multicast group joined for this bind
}

// bucket holds the binds of one local address and port.
type bucket struct {
	key   localKey
	binds []*bind
}

// linearMax is how many local buckets are scanned linearly before the map is used.
const linearMax = 8

// cacheLen is the size of the per-stack buffer cache (ZcRecvDone → Send).
const cacheLen = 64

// state is a stack's UDP: the demultiplexer, the endpoint counts, the buffer cache and the
// counters. It is the stack.Transport installed for protocol 17.
type state struct {
	st       *stack.Stack
	buckets  []*bucket
	byLocal  map[localKey]*bucket // used when len(buckets) > linearMax
	nrx, ntx int
	maxRx    int
	maxTx    int
	ports    *stack.PortSet // local ports bound by receivers, for ephemeral selection
	portRefs map[uint16]int // binds per port
	ipID     uint16
	cache    *stack.BufCache // nil while no zocket exists
	rxs      []*Receiver     // slot tables, for snapshots
	txs      []*Transmitter
	ctr      Counters
}

// stateOf returns st's UDP state, installing it the first time.
func stateOf(st *stack.Stack) *state {
	if s, ok := st.Transport(wire.ProtoUDP).(*state); ok {
		return s
	}
	a := st.Attr()
	s := &state{
		st:       st,
		maxRx:    int(a.IntOf(attr.MaxUDPRxEndpoints)),
		maxTx:    int(a.IntOf(attr.MaxUDPTxEndpoints)),
		ports:    stack.NewPortSet(rand.Uint64()),
		portRefs: map[uint16]int{},
		ipID:     uint16(rand.Uint32()),
	}
	st.SetTransport(wire.ProtoUDP, s)
	return s
}

// acquire is called when a zocket is made; the first one makes the buffer cache.
func (s *state) acquire() {
	if s.cache == nil {
		s.cache = stack.NewBufCache(s.st, cacheLen)
	}
}

// release is called when a zocket is closed; the last one gives the cached buffers back, so
// that the stack can close with its pool whole.
func (s *state) release() {
	if s.nrx+s.ntx > 0 || s.cache == nil {
		return
	}
	s.cache.Close()
	s.cache = nil
}

// recycle takes back a buffer the stack or an application is done with: into the cache for
// the next send while zockets exist (which frees it if it is not plain, and frees the cache's
// older half in one bulk call when full), else straight back to its pool.
func (s *state) recycle(m *dpdk.Mbuf) {
	if s.cache == nil {
		m.Free()
		return
	}
	s.cache.Put(m)
}

func (s *state) nextID() uint16 {
	s.ipID++
	return s.ipID
}

// Deliver is the stack's entry point for a received UDP datagram (stack.Transport). The
// header checks are wire.CheckUDP's, inline.
func (s *state) Deliver(p *stack.Packet) bool {
	b := p.L4
	if len(b) < wire.UDPMinimumSize {
		return s.drop(p.Mbuf, DropTruncated)
	}
	l := int(binary.BigEndian.Uint16(b[4:6]))
	if l < wire.UDPMinimumSize || l > len(b) {
		return s.drop(p.Mbuf, DropLength)
	}
	u := wire.UDP(b[:l])
	if !p.L4ChecksumOK && u.Checksum() != 0 &&
		wire.Fold(wire.Sum(u, wire.PseudoHeaderSum(p.Src, p.Dst, wire.ProtoUDP, uint16(l)))) != 0xffff {
		return s.drop(p.Mbuf, DropChecksum)
	}
	dport := u.DstPort()
	if dport == 0 {
		return s.drop(p.Mbuf, DropPort0)
	}
	bd := s.lookup(localKey{p.Dst, dport}, p.Src, u.SrcPort())
	if bd == nil {
		return s.drop(p.Mbuf, DropNoEndpoint)
	}
	r := bd.r
	if r.tail-r.head >= r.qlen {
		r.qdrops++
		return s.drop(p.Mbuf, DropQueueFull)
	}
	l3 := len(p.Mbuf.Data()) - len(p.IP)
	l4 := l3 + p.IP.HeaderLength()
	e := &r.ring[r.tail&r.mask]
	e.m, e.payload, e.l3, e.l4 = p.Mbuf, u[wire.UDPMinimumSize:], uint16(l3), uint16(l4)
	r.tail++
	r.received++
	r.w.Ready(stack.EPOLLIN)
	s.ctr.RxDatagrams++
	s.ctr.RxBytes += uint64(l - wire.UDPMinimumSize)
	return true
}

func (s *state) drop(m *dpdk.Mbuf, r DropReason) bool {
	s.ctr.Drops[r]++
	s.recycle(m)
	return false
}

// lookup finds the most specific bind for a datagram to local from rip:rport.
func (s *state) lookup(local localKey, rip [4]byte, rport uint16) *bind {
	var bk *bucket
	if s.byLocal == nil {
		for _, c := range s.buckets {
			if c.key == local {
				bk = c
				break
			}
		}
	} else {
		bk = s.byLocal[local]
	}
	if bk == nil {
		return nil
	}
	var best *bind
	bestScore := -1
	for _, b := range bk.binds {
		score := 0
		if b.rip != ([4]byte{}) {
			if b.rip != rip {
				continue
			}
			score += 2
		}
		if b.rport != 0 {
			if b.rport != rport {
				continue
			}
			score++
		}
		if score > bestScore {
			best, bestScore = b, score
		}
	}
	return best
}

func (s *state) bucketOf(k localKey) *bucket {
	if s.byLocal != nil {
		return s.byLocal[k]
	}
	for _, c := range s.buckets {
		if c.key == k {
			return c
		}
	}
	return nil
}

// insert adds a bind, failing with EADDRINUSE when the same filter exists.
func (s *state) insert(b *bind) error {
	bk := s.bucketOf(b.local)
	if bk == nil {
		bk = &bucket{key: b.local}
		s.buckets = append(s.buckets, bk)
		if s.byLocal != nil || len(s.buckets) > linearMax {
			if s.byLocal == nil {
				s.byLocal = make(map[localKey]*bucket)
				for _, c := range s.buckets {
					s.byLocal[c.key] = c
				}
			}
			s.byLocal[bk.key] = bk
		}
	}
	for _, o := range bk.binds {
		if o.rip == b.rip && o.rport == b.rport {
			return syscall.EADDRINUSE
		}
	}
	bk.binds = append(bk.binds, b)
	return nil
}

func (s *state) remove(b *bind) {
	bk := s.bucketOf(b.local)
	if bk == nil {
		return
	}
	for i, o := range bk.binds {
		if o == b {
			bk.binds = append(bk.binds[:i], bk.binds[i+1:]...)
			break
		}
	}
	if len(bk.binds) > 0 {
		return
	}
	for i, c := range s.buckets {
		if c == bk {
			s.buckets = append(s.buckets[:i], s.buckets[i+1:]...)
			break
		}
	}
	if s.byLocal != nil {
		delete(s.byLocal, bk.key)
		if len(s.buckets) <= linearMax/2 {
			s.byLocal = nil
		}
	}
}

// reservePort takes a reference on a local port; port 0 picks a free ephemeral one
// (stack.EphemeralFirst..EphemeralLast, randomised as RFC 6056 says).
func (s *state) reservePort(port uint16) (uint16, error) {
	if port == 0 {
		p, err := s.ports.Ephemeral()
		if err != nil {
			return 0, err
		}
		s.portRefs[p] = 1
		return p, nil
	}
	if s.portRefs[port] == 0 {
		_ = s.ports.Reserve(port)
	}
	s.portRefs[port]++
	return port, nil
}

// releasePort drops a reference taken by reservePort.
func (s *state) releasePort(port uint16) {
	if s.portRefs[port]--; s.portRefs[port] <= 0 {
		delete(s.portRefs, port)
		s.ports.Release(port)
	}
}

// errorf wraps an errno with the call and address that failed (set-up paths only).
func errorf(errno syscall.Errno, format string, args ...any) error {
	return fmt.Errorf("udp: "+format+": %w", append(args, errno)...)
}

// ip4 checks that a is an IPv4 address (IPv4-mapped IPv6 accepted) and returns its bytes.
func ip4(a netip.Addr) ([4]byte, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return [4]byte{}, false
	}
	return a.As4(), true
}
