// Package eal starts and stops DPDK's Environment Abstraction Layer and places OS threads on CPUs.
//
// EAL is process-global: Init may succeed once per process; a second call returns an error wrapping
// EALREADY instead of crashing (rte_eal_init itself refuses a second call). Cleanup is idempotent.
//
// rte_eal_init pins the OS thread that calls it to the main lcore's CPU. Go starts its runtime
// threads (sysmon, GC workers, idle Ps) from whatever thread needs one, and a new thread inherits
// the creator's affinity, so a pinned main thread would crowd every runtime thread onto the
// polling core. Init therefore restores the calling thread's original CPU mask after EAL returns;
// polling threads pin themselves explicitly with PinThread (the `cpu` attribute).
//
// The package locks the main goroutine to the main OS thread in init, so a program (or a test
// binary's TestMain) that calls Init from the main goroutine keeps EAL's main lcore identity
// (and its mempool cache) on the goroutine that polls. Init from another goroutine is safe too
// (see Init).
package eal

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

static int zk_errno(void) { return rte_errno; }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	// Keep the main goroutine on the main OS thread: EAL binds its main lcore to the thread
	// that runs rte_eal_init.
	runtime.LockOSThread()
}

var (
	mu          sync.Mutex
	initialized bool
	cleaned     bool
)

// Error is an EAL call that failed, with the errno it reported.
type Error struct {
	Call  string
	Errno syscall.Errno
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Call, e.Errno) }

// Unwrap returns the errno, so errors.Is(err, syscall.EALREADY) works.
func (e *Error) Unwrap() error { return e.Errno }

func cerr(call string, errno C.int) error {
	if errno < 0 {
		errno = -errno
	}
	return &Error{Call: call, Errno: syscall.Errno(errno)}
}

// Init starts EAL with args (argv[1:] of rte_eal_init; the program name is supplied). A second
// call, or a call after Cleanup, fails with EALREADY. The calling thread's CPU affinity is
// restored afterwards (see the package doc).
//
// Init may be called from any goroutine. It locks the goroutine to its OS thread for the call,
// so that the mask it saves and restores is the mask of the thread rte_eal_init pinned. EAL's
// main lcore identity (lcore id, mempool cache) belongs to that OS thread afterwards: a
// goroutine that should keep it must already be locked to its thread when it calls Init, as
// the main goroutine is (this package's init) and as stack.New's is (New locks before it starts
// EAL). Other goroutines are LCORE_ID_ANY threads — correct, without a mempool cache — unless
// they RegisterThread.
func Init(args []string) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mu.Lock()
	defer mu.Unlock()
	if initialized || cleaned {
		return &Error{Call: "rte_eal_init", Errno: syscall.EALREADY}
	}
	var saved unix.CPUSet
	haveMask := unix.SchedGetaffinity(0, &saved) == nil

	argv := append([]string{"zocket"}, args...)
	// EAL keeps pointers into argv: allocate it in C memory and never free it.
	cargv := (*[1 << 16]*C.char)(C.malloc(C.size_t(len(argv)+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	for i, a := range argv {
		cargv[i] = C.CString(a)
	}
	cargv[len(argv)] = nil
	ret := C.rte_eal_init(C.int(len(argv)), &cargv[0])
	if haveMask {
		_ = unix.SchedSetaffinity(0, &saved)
	}
	if ret < 0 {
		e := C.zk_errno()
		if e == 0 {
			e = C.int(syscall.EINVAL)
		}
		if syscall.Errno(e) == syscall.EALREADY {
			initialized = true
		}
		return cerr("rte_eal_init", e)
	}
	initialized = true
	return nil
}

// Initialized reports whether Init succeeded and Cleanup has not run.
func Initialized() bool {
	mu.Lock()
	defer mu.Unlock()
	return initialized && !cleaned
}

// Cleanup releases EAL's resources (rte_eal_cleanup). It is safe to call more than once and
// before Init (both no-ops). Ports and pools must be closed first.
func Cleanup() error {
	mu.Lock()
	defer mu.Unlock()
	if !initialized || cleaned {
		return nil
	}
	cleaned = true
	if r := C.rte_eal_cleanup(); r < 0 {
		return cerr("rte_eal_cleanup", r)
	}
	return nil
}

// ErrNotInitialized is returned by calls that need EAL before Init succeeded.
var ErrNotInitialized = errors.New("eal: not initialized")

// PinThread locks the calling goroutine to its OS thread and binds that thread to cpu. The
// goroutine stays locked; call runtime.UnlockOSThread to release it.
func PinThread(cpu int) error {
	if cpu < 0 || cpu >= runtime.NumCPU() {
		return fmt.Errorf("eal: pin to cpu %d: %w", cpu, syscall.EINVAL)
	}
	runtime.LockOSThread()
	return SetThreadCPU(cpu)
}

// SetThreadCPU binds the calling OS thread to cpu without locking the goroutine to it: the
// caller has locked it (runtime.LockOSThread), or the binding may land on any thread.
// Errors: EINVAL for a CPU the machine does not have, or sched_setaffinity's errno.
func SetThreadCPU(cpu int) error {
	if cpu < 0 || cpu >= runtime.NumCPU() {
		return fmt.Errorf("eal: pin to cpu %d: %w", cpu, syscall.EINVAL)
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("eal: sched_setaffinity(cpu %d): %w", cpu, err)
	}
	return nil
}

// ThreadCPUs returns the CPUs the calling OS thread may run on.
func ThreadCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// LcoreID returns the calling thread's lcore id, or LcoreAny for a thread EAL does not know.
func LcoreID() uint32 { return uint32(C.rte_lcore_id()) }

// LcoreAny is the lcore id of threads that are not EAL lcores (LCORE_ID_ANY).
const LcoreAny = uint32(C.LCORE_ID_ANY)

// MainLcore returns the main lcore's id.
func MainLcore() uint32 { return uint32(C.rte_get_main_lcore()) }

// LcoreCount returns the number of lcores EAL enabled.
func LcoreCount() int { return int(C.rte_lcore_count()) }

// SocketID returns the NUMA socket of the calling thread (0 when unknown).
func SocketID() int {
	s := int(C.rte_socket_id())
	if s < 0 || uint32(s) == LcoreAny {
		return 0
	}
	return s
}

// RegisterThread gives the calling OS thread an lcore id (rte_thread_register), so it gets a
// mempool cache. The goroutine is locked to its thread first. Unregister with UnregisterThread.
func RegisterThread() error {
	runtime.LockOSThread()
	if C.rte_thread_register() < 0 {
		return cerr("rte_thread_register", C.zk_errno())
	}
	return nil
}

// UnregisterThread releases the calling thread's lcore id.
func UnregisterThread() { C.rte_thread_unregister() }
