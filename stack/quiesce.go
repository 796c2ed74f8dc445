package stack

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Quiescer is a transport that may still have packets to send on its own (unacknowledged
// data, a FIN, connections in TIME-WAIT when tcp_wait_for_time_wait is set). A Transport
// implements it optionally; the stack asks it in IsQuiescent.
type Quiescer interface {
	Quiescent() bool
}

// IsQuiescent reports whether the stack will send nothing more except in response to external
// stimuli or API calls (zf_stack_is_quiescent): no frame queued, held for ARP or by the fault
// shim, and every transport quiescent.
func (s *Stack) IsQuiescent() bool {
	if s.ntx > 0 || s.faults.holding() || s.neigh.holding() {
		return false
	}
	for _, p := range s.protos {
		if q, ok := s.transport[p].(Quiescer); ok && !q.Quiescent() {
			return false
		}
	}
	return true
}

// Waitable returns the stack's own waitable (zf_stack_to_waitable): ready for EPOLLSTACKHUP
// while the stack is quiescent.
func (s *Stack) Waitable() *Waitable { return &s.self }

func (s *Stack) initSelf() {
	s.self.Init(s)
	s.self.poll = func(w *Waitable) {
		if w.stack.IsQuiescent() {
			w.Ready(EPOLLSTACKHUP)
		} else {
			w.NotReady(EPOLLSTACKHUP)
		}
	}
}

// Shutdown is the graceful end every command uses: it closes the zockets, runs the reactor
// until the stack is quiescent (their data and FINs sent and acknowledged, or TCP gave up by
// its retry limits) and frees the stack. A timeout > 0 bounds the wait (a linger): past it,
// Shutdown frees the stack anyway and returns ETIMEDOUT saying what was still unsent; 0 waits
// for as long as the transports need. It joins the errors of the closes and of Stack.Close.
func Shutdown(s *Stack, timeout time.Duration, zockets ...interface{ Close() error }) error {
	var errs []error
	for _, z := range zockets {
		if z != nil {
			errs = append(errs, z.Close())
		}
	}
	deadline := time.Now().Add(timeout)
	for !s.IsQuiescent() {
		if timeout > 0 && time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("stack %s: not quiescent after %v (%d frames queued; or a frame waiting "+
				"for ARP, or a connection's data or FIN unacknowledged), closed anyway: %w",
				s.name, timeout, s.ntx, syscall.ETIMEDOUT))
			break
		}
		s.Perform() // one turn between checks: no polling once quiescent (a peer may be gone)
	}
	errs = append(errs, s.Close())
	return errors.Join(errs...)
}
