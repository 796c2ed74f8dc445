package dpdk

/*
#cgo LDFLAGS: -rdynamic -ldl
#include "memif.h"
*/
import "C"

// memif's workarounds: zero-copy and EAL's memory files; closing on the interrupt thread.
//
// memif zero-copy and EAL's memory files.
//
// A memif client with zero-copy=yes shares EAL's hugepage memory with its server: for each
// memory segment list it takes the list's file from EAL (rte_memseg_get_fd) and sends it over
// the control socket. DPDK 22.11's memif_connect then closes that descriptor — EAL's own, not
// a copy. From then on EAL's descriptor number is stale: EAL fails to grow its memory
// (rte_pktmbuf_pool_create: ENOMEM with free hugepages), and the next zero-copy connect in the
// process sends whatever file now has that number — typically the eventfd memif has just
// made for a queue, which the server cannot map ("memif_connect(): mmap failed: No such
// device", ENODEV). That was the one-in-ten link failure: a client that restarted its port
// (zfapp's retry), or a second memif pair in the process.
//
// memif.c interposes rte_memseg_get_fd so that memif receives a duplicate, and its close
// leaves EAL's descriptor alone. The binary is linked with -rdynamic for that (the PMD is
// loaded at EAL init and binds to the executable's definition first).

// MemsegFDsClosed counts EAL memory segments whose file descriptor has been closed under EAL
// (0 when memif zero-copy left them alone, as it now does). A test hook; not for the hot path.
func MemsegFDsClosed() int { return int(C.zk_memseg_fds_closed()) }

// Closing a memif port (Port.Close, zk_port_close in zk.c) happens on EAL's interrupt thread,
// as an alarm callback, where memif's control channel runs. When two memif ports of one
// process face each other (the test lab's pairs), closing one sends the other a disconnect that
// the interrupt thread handles (memif_disconnect: the regions freed) while the caller goes on
// to close the other too (memif_disconnect again, in dev_stop and dev_close): DPDK 22.11 frees
// the regions twice or under the handler, and the interrupt thread faults in EAL's heap,
// killing the process (SIGSEGV on a thread Go does not own; seen with another test binary
// loading both CPUs, TestMemifPairCloseUnderLoad). On the interrupt thread the close runs
// between control messages, never inside one.
