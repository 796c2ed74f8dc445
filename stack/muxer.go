package stack

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Readiness events (epoll's values, as muxer.h uses them).
const (
	EPOLLIN  = uint32(unix.EPOLLIN)
	EPOLLOUT = uint32(unix.EPOLLOUT)
	EPOLLERR = uint32(unix.EPOLLERR)
	EPOLLHUP = uint32(unix.EPOLLHUP)
	// EPOLLSTACKHUP is the stack waitable's event: the stack is quiescent (zf_stack.h).
	EPOLLSTACKHUP = uint32(unix.EPOLLRDHUP)
)

// Event is what Muxer.Wait reports (struct epoll_event): the events the waitable is ready for
// among those asked, and the caller's data.
type Event struct {
	Events uint32
	Data   uint64
}

// Waitable is the readiness of one multiplexable object: a zocket, or the stack itself
// (TCPDirect's zf_waitable). Zockets embed one, initialise it with Init and report readiness
// changes with Ready and NotReady; the muxer is told of edges at the moment they happen, so
// Muxer.Wait costs O(ready waitables), not O(members).
type Waitable struct {
	stack   *Stack
	ready   uint32 // events the object is ready for now
	mux     *Muxer
	event   Event  // interest and data, as added or modified
	pending uint32 // edges not yet reported
	queued  bool   // on mux's ready list
	next    *Waitable
	// poll, when set, refreshes readiness before a Wait looks at it (the stack waitable).
	poll func(w *Waitable)
}

// Init ties w to its stack. A zocket calls it once, when it is made.
func (w *Waitable) Init(s *Stack) { w.stack = s }

// Stack is the stack the waitable belongs to.
func (w *Waitable) Stack() *Stack { return w.stack }

// Readiness returns the events the object is ready for now (level, not edge).
func (w *Waitable) Readiness() uint32 { return w.ready }

// Ready records that the object is ready for ev. Events newly ready are edges, and EPOLLIN is
// an edge every time (new data always is, as muxer.h defines it).
func (w *Waitable) Ready(ev uint32) {
	edge := ev &^ w.ready
	edge |= ev & EPOLLIN
	w.ready |= ev
	if edge != 0 && w.mux != nil {
		w.raise(edge)
	}
}

// NotReady records that the object is no longer ready for ev.
func (w *Waitable) NotReady(ev uint32) {
	w.ready &^= ev
	w.pending &^= ev
}

func (w *Waitable) raise(edge uint32) {
	w.pending |= edge
	if w.pending&w.interest() != 0 && !w.queued {
		w.queued = true
		w.next = w.mux.head
		w.mux.head = w
	}
}

// interest is the set asked for. HUP and ERR are reported only when asked (unlike epoll).
func (w *Waitable) interest() uint32 { return w.event.Events }

// Event returns the event descriptor in use (zf_waitable_event): the interest and data last
// given to Add or Mod. Mod(w, w.Event()) re-arms a waitable for level-triggered use.
func (w *Waitable) Event() Event { return w.event }

// Muxer is an epoll-like set of waitables of one stack (zf_muxer_set), edge-triggered.
type Muxer struct {
	stack   *Stack
	head    *Waitable // ready list
	members int
	closed  bool
}

// NewMuxer returns an empty set on stack s (zf_muxer_alloc).
func NewMuxer(s *Stack) *Muxer { return &Muxer{stack: s} }

// Add puts w in the set with interest ev.Events (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR,
// EPOLLSTACKHUP) and user data ev.Data. If w is ready for some of them already, the next Wait
// reports it.
//
// Errors: EXDEV, w belongs to another stack; EALREADY, w is in this set; EBUSY, w is in another
// set; EINVAL, the set is closed or w was never initialised.
func (m *Muxer) Add(w *Waitable, ev Event) error {
	switch {
	case w.stack == nil || m.closed:
		return syscall.EINVAL
	case w.stack != m.stack:
		return syscall.EXDEV
	case w.mux == m:
		return syscall.EALREADY
	case w.mux != nil:
		return syscall.EBUSY
	}
	w.mux, w.event, w.pending, w.queued = m, ev, 0, false
	m.members++
	if w.ready != 0 {
		w.raise(w.ready)
	}
	return nil
}

// Mod replaces w's interest and data and re-arms it: if it is ready for any of the new interest,
// the next Wait reports it. EINVAL when w is in no set.
func (m *Muxer) Mod(w *Waitable, ev Event) error {
	if w.mux != m {
		return syscall.EINVAL
	}
	w.event = ev
	if w.ready != 0 {
		w.raise(w.ready)
	}
	return nil
}

// Del removes w from the set (not for fast paths). EINVAL when w is not in this set.
func (m *Muxer) Del(w *Waitable) error {
	if w.mux != m {
		return syscall.EINVAL
	}
	if w.queued {
		for p := &m.head; *p != nil; p = &(*p).next {
			if *p == w {
				*p = w.next
				break
			}
		}
	}
	w.mux, w.queued, w.next, w.pending = nil, false, nil, 0
	m.members--
	return nil
}

// Close frees the set (zf_muxer_free). Its members stay attached until each is removed with
// Del (a closed set reports nothing); a zocket's Close removes it too.
func (m *Muxer) Close() { m.closed = true }

// Wait runs the reactor and fills events with the waitables that became ready since they were
// last reported, returning how many. timeout 0 polls once; a negative timeout waits forever; a
// positive one spins Perform in a tight loop until an event or the deadline.
func (m *Muxer) Wait(events []Event, timeout time.Duration) int {
	var deadline int64
	for first := true; ; first = false {
		m.stack.Perform()
		if n := m.collect(events); n > 0 || timeout == 0 {
			return n
		}
		if timeout > 0 {
			if first {
				deadline = m.stack.Now() + int64(timeout)
			} else if m.stack.Now() >= deadline {
				return 0
			}
		}
	}
}

// collect moves up to len(events) ready waitables off the list.
func (m *Muxer) collect(events []Event) int {
	if m.closed {
		return 0
	}
	if s := m.stack; s.self.mux == m {
		s.self.poll(&s.self)
	}
	n := 0
	for n < len(events) && m.head != nil {
		w := m.head
		m.head, w.next, w.queued = w.next, nil, false
		got := w.pending & w.interest() & w.ready
		w.pending &^= got
		if got != 0 {
			events[n] = Event{Events: got, Data: w.event.Data}
			n++
		}
	}
	return n
}
