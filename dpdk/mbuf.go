package dpdk

/*
#include <stdlib.h>
#include "zk.h"
*/
import "C"

import "unsafe"

// Mbuf is DPDK's packet buffer (struct rte_mbuf). Pointers to it come from a Pool or from
// RxBurst; its fields are C memory, read and written here without cgo calls.
type Mbuf C.struct_rte_mbuf

// Offload flags (ol_flags) this project uses.
const (
	RxIPChecksumGood = uint64(C.RTE_MBUF_F_RX_IP_CKSUM_GOOD)
	RxIPChecksumBad  = uint64(C.RTE_MBUF_F_RX_IP_CKSUM_BAD)
	RxL4ChecksumGood = uint64(C.RTE_MBUF_F_RX_L4_CKSUM_GOOD)
	RxL4ChecksumBad  = uint64(C.RTE_MBUF_F_RX_L4_CKSUM_BAD)
	RxVLANStripped   = uint64(C.RTE_MBUF_F_RX_VLAN_STRIPPED)
	TxIPv4           = uint64(C.RTE_MBUF_F_TX_IPV4)
	TxIPChecksum     = uint64(C.RTE_MBUF_F_TX_IP_CKSUM)
	TxUDPChecksum    = uint64(C.RTE_MBUF_F_TX_UDP_CKSUM)
	TxTCPChecksum    = uint64(C.RTE_MBUF_F_TX_TCP_CKSUM)
)

// MbufSize is sizeof(struct rte_mbuf).
const MbufSize = int(unsafe.Sizeof(C.struct_rte_mbuf{}))

func (m *Mbuf) c() *C.struct_rte_mbuf { return (*C.struct_rte_mbuf)(m) }

// Data returns a view of the first segment's packet bytes (buf_addr + data_off, data_len long).
// The view aliases the buffer: it is valid until the mbuf is freed.
func (m *Mbuf) Data() []byte {
	c := m.c()
	return unsafe.Slice((*byte)(unsafe.Add(c.buf_addr, uintptr(c.data_off))), int(c.data_len))
}

// Buffer returns a view of the whole data room after data_off (data_len plus the tailroom), for
// writing a packet before its length is known.
func (m *Mbuf) Buffer() []byte {
	c := m.c()
	return unsafe.Slice((*byte)(unsafe.Add(c.buf_addr, uintptr(c.data_off))), int(c.buf_len)-int(c.data_off))
}

// DataLen is the first segment's data length.
func (m *Mbuf) DataLen() int { return int(m.c().data_len) }

// PktLen is the whole packet's length over all segments.
func (m *Mbuf) PktLen() int { return int(m.c().pkt_len) }

// SetLen sets a single-segment packet's data_len and pkt_len to n (n must not exceed the
// tailroom plus the current length).
func (m *Mbuf) SetLen(n int) {
	c := m.c()
	c.data_len = C.uint16_t(n)
	c.pkt_len = C.uint32_t(n)
}

// SetDataLen sets this segment's data_len only (chains keep pkt_len on the head).
func (m *Mbuf) SetDataLen(n int) { m.c().data_len = C.uint16_t(n) }

// SetPktLen sets the head's pkt_len.
func (m *Mbuf) SetPktLen(n int) { m.c().pkt_len = C.uint32_t(n) }

// Headroom is the free space before the data.
func (m *Mbuf) Headroom() int { return int(m.c().data_off) }

// Tailroom is the free space after the data in this segment.
func (m *Mbuf) Tailroom() int {
	c := m.c()
	return int(c.buf_len) - int(c.data_off) - int(c.data_len)
}

// Prepend grows the data at the front by n bytes and returns a view of the new bytes, or nil
// when the headroom is too small (rte_pktmbuf_prepend).
func (m *Mbuf) Prepend(n int) []byte {
	c := m.c()
	if n > int(c.data_off) {
		return nil
	}
	c.data_off -= C.uint16_t(n)
	c.data_len += C.uint16_t(n)
	c.pkt_len += C.uint32_t(n)
	return unsafe.Slice((*byte)(unsafe.Add(c.buf_addr, uintptr(c.data_off))), n)
}

// Append grows this single segment's data at the end by n bytes and returns a view of them, or
// nil when the tailroom is too small (rte_pktmbuf_append for one segment).
func (m *Mbuf) Append(n int) []byte {
	if n > m.Tailroom() {
		return nil
	}
	c := m.c()
	off := int(c.data_off) + int(c.data_len)
	c.data_len += C.uint16_t(n)
	c.pkt_len += C.uint32_t(n)
	return unsafe.Slice((*byte)(unsafe.Add(c.buf_addr, uintptr(off))), n)
}

// Adj removes n bytes from the front (rte_pktmbuf_adj); false when the segment is shorter.
func (m *Mbuf) Adj(n int) bool {
	c := m.c()
	if n > int(c.data_len) {
		return false
	}
	c.data_off += C.uint16_t(n)
	c.data_len -= C.uint16_t(n)
	c.pkt_len -= C.uint32_t(n)
	return true
}

// Trim removes n bytes from the end of this segment (rte_pktmbuf_trim for one segment).
func (m *Mbuf) Trim(n int) bool {
	c := m.c()
	if n > int(c.data_len) {
		return false
	}
	c.data_len -= C.uint16_t(n)
	c.pkt_len -= C.uint32_t(n)
	return true
}

// Refcnt is the buffer's reference count.
func (m *Mbuf) Refcnt() uint16 { return uint16(m.c().refcnt) }

// Reference counts are read and written here with plain loads and stores, not atomics: every
// holder of an mbuf must run on one thread. That holds for zocket's uses: a stack is polled
// by one goroutine locked to its thread (DESIGN.md §5), its transports' references (TCP's
// retransmission queue, zero-copy receives) are taken and dropped on that thread, and the PMD
// drops its own reference there too, inside the transmit burst that frees sent buffers. An
// mbuf shared by stacks polled from different threads is not supported: for example, the two
// ports of a RingPair hand each other the very mbufs they send, so the stacks on them must be
// polled from one goroutine (as the test lab does). DPDK's own rte_pktmbuf_free, which the
// other thread would run, updates the count atomically, but that does not make these plain
// updates safe against it.

// SetRefcnt sets the reference count with a plain store (rte_mbuf_refcnt_set does the same);
// see the note above Refcnt on threads.
func (m *Mbuf) SetRefcnt(n uint16) { m.c().refcnt = C.uint16_t(n) }

// RefcntAdd adds d (may be negative) to this segment's reference count and returns the new value.
// Counts are per segment, as in DPDK: freeing a chain drops one reference of every segment. It
// is a plain read-modify-write, not atomic: every holder must be on one thread (see the note
// above Refcnt).
func (m *Mbuf) RefcntAdd(d int) uint16 {
	c := m.c()
	c.refcnt = C.uint16_t(int(c.refcnt) + d)
	return uint16(c.refcnt)
}

// Next is the next segment of a chain, or nil.
func (m *Mbuf) Next() *Mbuf { return (*Mbuf)(m.c().next) }

// SetNext links seg behind m (nb_segs and pkt_len of the head are the caller's to update, or use
// Chain).
func (m *Mbuf) SetNext(seg *Mbuf) { m.c().next = (*C.struct_rte_mbuf)(seg) }

// NbSegs is the number of segments in the chain headed by m.
func (m *Mbuf) NbSegs() int { return int(m.c().nb_segs) }

// Chain appends the chain tail behind the last segment of the chain head, updating the head's
// nb_segs and pkt_len (rte_pktmbuf_chain without the segment limit check beyond 65535).
func (m *Mbuf) Chain(tail *Mbuf) bool {
	c := m.c()
	t := tail.c()
	if int(c.nb_segs)+int(t.nb_segs) > 65535 {
		return false
	}
	last := c
	for last.next != nil {
		last = last.next
	}
	last.next = t
	c.nb_segs += t.nb_segs
	c.pkt_len += t.pkt_len
	return true
}

// OlFlags returns the offload flags.
func (m *Mbuf) OlFlags() uint64 { return uint64(m.c().ol_flags) }

// SetOlFlags sets the offload flags.
func (m *Mbuf) SetOlFlags(f uint64) { m.c().ol_flags = C.uint64_t(f) }

// SetTxOffload sets the l2_len and l3_len TX offload fields that checksum offloads read.
func (m *Mbuf) SetTxOffload(l2, l3, l4 int) {
	// tx_offload packs l2_len:7, l3_len:9, l4_len:8 from bit 0.
	p := (*uint64)(unsafe.Add(unsafe.Pointer(m), txOffloadOffset))
	*p = uint64(l2) | uint64(l3)<<7 | uint64(l4)<<16
}

// Port is the port the packet arrived on.
func (m *Mbuf) Port() uint16 { return uint16(m.c().port) }

// Pool is the mempool the mbuf belongs to.
func (m *Mbuf) Pool() *Pool { return (*Pool)(m.c().pool) }

// Reset puts a single-segment mbuf back to its freshly-allocated state (rte_pktmbuf_reset).
// It is a cgo call; allocation through AllocBulk already returns reset mbufs.
func (m *Mbuf) Reset() { C.zk_mbuf_reset(m.c()) }

// Free returns the mbuf chain to its pool (rte_pktmbuf_free: refcnt-aware, every segment).
func (m *Mbuf) Free() { C.zk_free(m.c()) }

// FreeBulk returns every mbuf of ms (chains included) to their pools in one cgo call
// (rte_pktmbuf_free_bulk). nil entries are skipped.
func FreeBulk(ms []*Mbuf) {
	if len(ms) == 0 {
		return
	}
	if a, ok := cArray(ms); ok {
		C.zk_free_bulk_u(C.uintptr_t(a), C.uint(len(ms)))
		return
	}
	C.zk_free_bulk((**C.struct_rte_mbuf)(unsafe.Pointer(&ms[0])), C.uint(len(ms)))
}

const txOffloadOffset = uintptr(C.ZK_TX_OFFLOAD_OFF)

// NewMbufArray returns a slice of n mbuf pointers whose backing array lives in C memory. Burst
// calls given such a slice skip cgo's pointer check, which otherwise costs ~100 instructions per
// pointer argument (and scans a Go-allocated array element by element): the arrays come from
// one reserved region (zk.c), so one comparison tells a burst call that its array is C memory,
// and it passes the address as an integer. Free it with FreeMbufArray.
func NewMbufArray(n int) []*Mbuf {
	p := C.zk_array_alloc(C.size_t(n) * C.size_t(unsafe.Sizeof((*Mbuf)(nil))))
	if p == nil {
		panic("dpdk: calloc failed")
	}
	return unsafe.Slice((**Mbuf)(p), n)
}

// FreeMbufArray releases an array from NewMbufArray (not the mbufs in it).
func FreeMbufArray(a []*Mbuf) {
	if cap(a) > 0 {
		C.zk_array_free(unsafe.Pointer(unsafe.SliceData(a[:1])))
	}
}

// The region NewMbufArray's arrays come from: [arenaBase, arenaBase+arenaSize).
var (
	arenaBase = uintptr(C.zk_arena_init())
	arenaSize = uintptr(C.zk_arena_size())
)

// cArray returns the address of ms's first element and whether ms's array is in NewMbufArray's
// region, so that it can go to C as an integer (no cgo pointer check). ms must not be empty.
func cArray(ms []*Mbuf) (uintptr, bool) {
	a := uintptr(unsafe.Pointer(unsafe.SliceData(ms)))
	return a, a-arenaBase < arenaSize
}
