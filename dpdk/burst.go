package dpdk

/*
#include "burst.h"
*/
import "C"

import "unsafe"

// The calls below are whole turns of a forwarder, a traffic generator and a sink, each in one
// cgo call: what testpmd's io/macswap, txonly and rxonly engines do per burst. Give them
// arrays from NewMbufArray (a Go-allocated array costs a cgocheck scan per call).

// Turn is what one of these calls did.
type Turn struct {
	Sent      int    // packets the transmitting port took
	Received  int    // packets received
	Bytes     int    // TxDropRx, TxDropAlloc: bytes of the packets sent; RxDrop: bytes received
	Allocated bool   // TxDropAlloc: next was filled
	TSC       uint64 // time-stamp counter read after the last DPDK operation of the call
}

func mbufs(ms []*Mbuf) **C.struct_rte_mbuf {
	if len(ms) == 0 {
		return nil
	}
	return (**C.struct_rte_mbuf)(unsafe.Pointer(&ms[0]))
}

func turnOf(f C.struct_zk_fwd) Turn {
	return Turn{Sent: int(f.sent), Received: int(f.received), Bytes: int(f.bytes),
		Allocated: f.allocated != 0, TSC: uint64(f.tsc)}
}

// TxDropRx is one forwarding turn: it transmits tx on (txPort, txq), frees the packets that
// port did not take (a forwarder's drops: len(tx) - Sent), receives up to len(rx) packets from
// queue q of p into rx and reads the TSC after the receive.
func (p Port) TxDropRx(q uint16, txPort Port, txq uint16, tx, rx []*Mbuf) Turn {
	return turnOf(C.zk_tx_drop_rx(C.uint16_t(txPort), C.uint16_t(txq), mbufs(tx), C.uint16_t(len(tx)),
		C.uint16_t(p), C.uint16_t(q), mbufs(rx), C.uint16_t(len(rx))))
}

// RxDrop is one sink turn: it receives up to len(rx) packets from queue q into rx, adds up
// their pkt_len, frees them all and reads the TSC. The pointers left in rx are stale.
func (p Port) RxDrop(q uint16, rx []*Mbuf) Turn {
	return turnOf(C.zk_rx_drop(C.uint16_t(p), C.uint16_t(q), mbufs(rx), C.uint16_t(len(rx))))
}

// TxDropAlloc is one generator turn: it transmits tx on queue q, frees the packets the port did
// not take, then fills every entry of next from pool (all or nothing: Allocated is false and
// next is untouched when the pool is short) and reads the TSC.
func (p Port) TxDropAlloc(q uint16, tx []*Mbuf, pool *Pool, next []*Mbuf) Turn {
	return turnOf(C.zk_tx_drop_alloc(C.uint16_t(p), C.uint16_t(q), mbufs(tx), C.uint16_t(len(tx)),
		pool.c(), mbufs(next), C.uint16_t(len(next))))
}
