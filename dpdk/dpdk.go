// Package dpdk is zocket's thin, batched binding to DPDK 22.11: packet-buffer pools, mbufs and
// ethdev ports with their receive and transmit bursts.
//
// The binding follows go-dpdk's habits. An *Mbuf is a handle on DPDK's own struct rte_mbuf, not a
// wrapper: its fields (buf_addr, data_off, data_len, pkt_len, refcnt, nb_segs, next, ol_flags)
// are read and written from Go with no cgo call, and Data returns a []byte view of the packet
// bytes inside the buffer without copying. Calls into C are batched: RxBurst, TxBurst, TxRx,
// AllocBulk and FreeBulk each move a whole burst in one cgo call (~21 ns here), so the hot path
// makes about one call per reactor turn. Static-inline DPDK functions are reached through small
// wrappers in zk.c.
//
// Every failing C call becomes an *Error naming the call and carrying the errno, so
// errors.Is(err, syscall.ENOMEM) works. Hot-path calls (bursts, bulk alloc/free) return counts or
// preallocated errnos and never allocate.
//
// Mbuf reference counts are updated without atomics: all holders of an mbuf must be on one
// thread (see Mbuf.Refcnt).
//
// EAL (package eal) must be initialised before anything here is used.
package dpdk

/*
#cgo pkg-config: libdpdk
#cgo LDFLAGS: -lrte_net_ring -lrte_bus_vdev
#include "zk.h"
*/
import "C"

import (
	"fmt"
	"syscall"
)

// Error is a DPDK call that failed.
type Error struct {
	Call  string
	Errno syscall.Errno
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Call, e.Errno) }

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Errno }

// callErr turns a negative errno return (or rte_errno when ret is -1 and rte_errno is set)
// into an *Error naming call.
func callErr(call string, ret C.int) error {
	e := -ret
	if ret == -1 {
		if re := C.zk_errno(); re > 0 {
			e = re
		}
	}
	if e <= 0 {
		e = C.int(syscall.EIO)
	}
	return &Error{Call: call, Errno: syscall.Errno(e)}
}

// errnoErr wraps rte_errno after a call that signals failure by a NULL return.
func errnoErr(call string) error {
	e := C.zk_errno()
	if e <= 0 {
		e = C.int(syscall.EIO)
	}
	return &Error{Call: call, Errno: syscall.Errno(e)}
}

// TSC reads the CPU's time-stamp counter (rte_rdtsc) through one cgo call.
func TSC() uint64 { return uint64(C.zk_tsc()) }

// TSCHz returns the time-stamp counter's frequency as EAL measured it.
func TSCHz() uint64 { return uint64(C.zk_tsc_hz()) }
