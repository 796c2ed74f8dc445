package dpdk

/*
#include <stdlib.h>
#include <rte_mbuf.h>
#include "zk.h"
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// Pool is a pktmbuf mempool (struct rte_mempool).
type Pool C.struct_rte_mempool

// DefaultDataRoom is RTE_MBUF_DEFAULT_BUF_SIZE: 2048 bytes of data plus the headroom.
const DefaultDataRoom = int(C.RTE_MBUF_DEFAULT_BUF_SIZE)

// DefaultHeadroom is RTE_PKTMBUF_HEADROOM.
const DefaultHeadroom = int(C.RTE_PKTMBUF_HEADROOM)

// NewPool creates a pktmbuf pool of n buffers with a per-lcore cache of cache buffers and
// dataRoom bytes of data room each (headroom included), on NUMA socket (use -1 for any).
func NewPool(name string, n, cache, dataRoom, socket int) (*Pool, error) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if cache > int(C.RTE_MEMPOOL_CACHE_MAX_SIZE) {
		cache = int(C.RTE_MEMPOOL_CACHE_MAX_SIZE)
	}
	p := C.rte_pktmbuf_pool_create(cn, C.uint(n), C.uint(cache), 0, C.uint16_t(dataRoom), C.int(socket))
	if p == nil {
		return nil, errnoErr("rte_pktmbuf_pool_create")
	}
	return (*Pool)(p), nil
}

func (p *Pool) c() *C.struct_rte_mempool { return (*C.struct_rte_mempool)(p) }

// Free destroys the pool (rte_mempool_free). Every mbuf must be back in it.
func (p *Pool) Free() { C.rte_mempool_free(p.c()) }

// Size is the number of mbufs the pool was created with.
func (p *Pool) Size() int { return int(C.zk_pool_size(p.c())) }

// InUse counts the mbufs currently allocated (rte_mempool_in_use_count; a cgo call that walks
// the per-lcore caches, not for the hot path).
func (p *Pool) InUse() int { return int(C.zk_pool_in_use(p.c())) }

// Available counts the mbufs that can be allocated (rte_mempool_avail_count).
func (p *Pool) Available() int { return int(C.zk_pool_avail(p.c())) }

// Name is the pool's name.
func (p *Pool) Name() string { return C.GoString(&p.c().name[0]) }

// errNoBufs is returned by AllocBulk; preallocated so the hot path does not allocate.
var errNoBufs error = syscall.ENOBUFS

// AllocBulk fills every entry of ms with a freshly reset mbuf in one cgo call
// (rte_pktmbuf_alloc_bulk). It is all or nothing: on failure nothing is allocated and the error
// is ENOBUFS.
func (p *Pool) AllocBulk(ms []*Mbuf) error {
	if len(ms) == 0 {
		return nil
	}
	if a, ok := cArray(ms); ok {
		if C.zk_alloc_bulk_u(p.c(), C.uintptr_t(a), C.uint(len(ms))) != 0 {
			return errNoBufs
		}
		return nil
	}
	if C.zk_alloc_bulk(p.c(), (**C.struct_rte_mbuf)(unsafe.Pointer(&ms[0])), C.uint(len(ms))) != 0 {
		return errNoBufs
	}
	return nil
}

// Alloc returns one reset mbuf, or nil when the pool is empty.
func (p *Pool) Alloc() *Mbuf {
	return (*Mbuf)(C.zk_alloc(p.c()))
}
