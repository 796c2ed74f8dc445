package stack

import (
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/zocket/zocket/eal"
)

// threadLock is a stack's hold on the OS thread of the goroutine that made it. New locks the
// goroutine to its thread (DESIGN.md §5: a stack is polled by one goroutine, on one thread,
// which keeps EAL's lcore identity and mempool cache when New started EAL there) and, with
// the cpu attribute, pins the thread to that CPU after saving its mask. Close restores the
// mask and unlocks. Locks nest (runtime.LockOSThread counts), so several stacks may share a
// goroutine; closed in reverse order, each restores the mask it found.
type threadLock struct {
	locked bool
	pinned bool
	saved  unix.CPUSet
}

// lock locks the calling goroutine to its thread and pins the thread to cpu unless cpu < 0.
// Errors: EINVAL for a CPU the machine does not have, or sched_setaffinity's errno; the
// goroutine is then left as it was.
func (l *threadLock) lock(cpu int) error {
	runtime.LockOSThread()
	l.locked = true
	if cpu < 0 {
		return nil
	}
	if err := unix.SchedGetaffinity(0, &l.saved); err != nil {
		l.unlock()
		return err
	}
	if err := eal.SetThreadCPU(cpu); err != nil {
		l.unlock()
		return err
	}
	l.pinned = true
	return nil
}

// unlock undoes lock; it is idempotent.
func (l *threadLock) unlock() {
	if l.pinned {
		_ = unix.SchedSetaffinity(0, &l.saved)
		l.pinned = false
	}
	if l.locked {
		runtime.UnlockOSThread()
		l.locked = false
	}
}
