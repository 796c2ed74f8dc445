package gonet

import (
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zocket/zocket/stack"
)

// WaitMode is how a Stack's poller waits when the stack has nothing to do.
type WaitMode int

const (
	// Sleep makes the poller spin for SpinBeforeSleep after the last event, then sleep on the
	// stack's waitable fd (or, on PMDs without receive interrupts, in short naps): near-zero
	// CPU when idle, a wake-up's latency on the first packet after a pause.
	Sleep WaitMode = iota
	// BusyPoll makes the poller run the reactor without pause: the lowest latency, one core.
	BusyPoll
)

// Option configures Open.
type Option func(*options)

type options struct {
	mode   WaitMode
	spin   time.Duration
	linger time.Duration
}

// WithWaitMode chooses how the poller waits (default Sleep).
func WithWaitMode(m WaitMode) Option { return func(o *options) { o.mode = m } }

// WithSpinBeforeSleep sets how long a sleeping-mode poller keeps polling after the last event
// before it sleeps (default 50 µs).
func WithSpinBeforeSleep(d time.Duration) Option { return func(o *options) { o.spin = d } }

// WithLinger bounds how long Close waits for queued data and FINs to be acknowledged
// (default 5 s; 0 waits as long as TCP's retry limits allow).
func WithLinger(d time.Duration) Option { return func(o *options) { o.linger = d } }

// Stack is a zocket stack driven by a goroutine of its own (the poller), with net.Conn,
// net.Listener and net.PacketConn on top. Its methods are safe from any goroutine.
type Stack struct {
	mu      sync.Mutex    // held by the poller for one reactor turn, by callers for one zocket call
	want    atomic.Int32  // callers waiting for mu: the poller lets them in before its next turn
	spinner atomic.Bool   // a blocked caller polls the stack in the poller's place (busy-poll mode)
	parked  atomic.Int32  // blocked callers of Read and Write, the spinner aside (busy-poll mode)
	vacant  chan struct{} // the leaving spinner's call to a parked caller to spin (busy-poll mode)
	st      *stack.Stack
	mux     *stack.Muxer
	opt     options

	closed bool      // Close began (under mu)
	slots  []*waiter // registered zockets, indexed by their muxer event's Data (under mu)
	free   []int     // unused indexes of slots (under mu)
	events []stack.Event

	sleeper  sleeper     // how the poller sleeps (poll.go)
	sleeping atomic.Bool // the poller is, or is about to be, asleep: callers wake it
	stop     atomic.Bool // Close asks the poller to finish
	done     chan struct{}
	closeErr error
}

// zocket is what a registered waiter belongs to: Stack.Close closes it under the lock.
type zocket interface {
	closeLocked()
}

// waiter is a zocket's registration: its muxer slot and the channels its blocked readers and
// writers sleep on. The channels hold one wake-up each; a spurious wake-up only makes the
// caller look again.
type waiter struct {
	slot   int
	rd, wr chan struct{}
	z      zocket
	iov    [1][]byte // a one-entry iovec for the zocket's sends (under the lock)
}

// wake posts a wake-up on ch without blocking.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// drain takes a stale wake-up off ch, before its owner checks its condition under the lock.
func drain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// Open opens the stack that a describes on a new poller goroutine, which owns it: it makes the
// stack (stack.New, so that the poller's thread is the one the cpu attribute pins), runs its
// reactor and closes it in Close. Callers' zocket calls run on their own goroutines under the
// Stack's lock, which the poller releases between reactor turns.
//
// Errors: those of stack.New (EINVAL for a bad local_ip or interface, the DPDK call's error),
// and of the stack's waitable fd other than ENOTSUP in Sleep mode.
func Open(a *stack.Attr, opts ...Option) (*Stack, error) {
	s := &Stack{
		opt:    options{mode: Sleep, spin: 50 * time.Microsecond, linger: 5 * time.Second},
		events: make([]stack.Event, 64),
		done:   make(chan struct{}),
		vacant: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(&s.opt)
	}
	ready := make(chan error, 1)
	go s.run(a, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return s, nil
}

// run is the poller goroutine: it makes the stack, polls it until Close and frees it.
func (s *Stack) run(a *stack.Attr, ready chan<- error) {
	defer close(s.done)
	st, err := stack.New(a)
	if err != nil {
		ready <- err
		return
	}
	s.st, s.mux = st, stack.NewMuxer(st)
	if err := s.sleeper.open(st, s.opt.mode); err != nil {
		s.mux.Close()
		st.Close()
		ready <- err
		return
	}
	ready <- nil
	if s.opt.mode == BusyPoll {
		s.busyPoll()
	} else {
		s.sleepPoll()
	}
	s.mu.Lock()
	s.mux.Close()
	s.closeErr = stack.Shutdown(st, s.opt.linger)
	s.sleeper.close()
	s.mu.Unlock()
	runtime.UnlockOSThread() // stack.Close did it if this is still New's goroutine; harmless
}

// Close closes every zocket of the stack (TCP connections gracefully: their queued data and a
// FIN), waits for the peers to acknowledge them within the linger (WithLinger), stops the
// poller and frees the stack. Blocked calls return net.ErrClosed.
//
// Errors: net.ErrClosed when the stack is closed already; otherwise those of stack.Shutdown
// (ETIMEDOUT past the linger, EBUSY when packet buffers were still out).
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return &net.OpError{Op: "close", Net: "zocket", Err: net.ErrClosed}
	}
	s.closed = true
	for _, w := range s.slots {
		if w != nil {
			w.z.closeLocked()
		}
	}
	s.mu.Unlock()
	s.stop.Store(true)
	s.sleeper.kick()
	<-s.done
	return s.closeErr
}

// Stack returns the zocket stack underneath, for code that mixes gonet with the zf API. It
// belongs to the poller: touch it only inside Do (or before Open returns nothing else).
func (s *Stack) Stack() *stack.Stack { return s.st }

// Do runs f with the stack under the lock, between reactor turns, so that f may call anything of
// stack, tcp and udp on it (zf-API zockets of its own included: polled by the poller's Perform,
// read by the caller in a later Do). f must not block, nor call gonet methods of this Stack.
//
// Errors: net.ErrClosed after Close.
func (s *Stack) Do(f func(st *stack.Stack)) error {
	if err := s.lock(); err != nil {
		return err
	}
	f(s.st)
	s.unlock()
	return nil
}

// lock takes the stack's lock for a caller, ahead of the poller's next turn.
// Errors: net.ErrClosed (the lock is then not held).
func (s *Stack) lock() error {
	s.want.Add(1)
	s.mu.Lock()
	s.want.Add(-1)
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	return nil
}

// unlock releases a caller's lock, waking a sleeping poller: the call may have queued frames or
// armed timers that the poller's sleep does not cover.
func (s *Stack) unlock() {
	s.mu.Unlock()
	if s.sleeping.Load() {
		s.sleeper.kick()
	}
}

// register gives z a muxer slot for waitable sw, with interest in every event.
func (s *Stack) register(z zocket, sw *stack.Waitable) (*waiter, error) {
	w := &waiter{rd: make(chan struct{}, 1), wr: make(chan struct{}, 1), z: z}
	if n := len(s.free); n > 0 {
		w.slot, s.free = s.free[n-1], s.free[:n-1]
		s.slots[w.slot] = w
	} else {
		w.slot = len(s.slots)
		s.slots = append(s.slots, w)
	}
	ev := stack.Event{Events: stack.EPOLLIN | stack.EPOLLOUT | stack.EPOLLHUP | stack.EPOLLERR, Data: uint64(w.slot)}
	if err := s.mux.Add(sw, ev); err != nil {
		s.unregister(w, nil)
		return nil, err
	}
	return w, nil
}

// unregister frees w's slot and wakes its blocked callers, before its zocket is closed.
func (s *Stack) unregister(w *waiter, sw *stack.Waitable) {
	if sw != nil {
		_ = s.mux.Del(sw)
	}
	s.slots[w.slot] = nil
	s.free = append(s.free, w.slot)
	wake(w.rd)
	wake(w.wr)
}

// turn runs one reactor turn under the lock and wakes the waiters of the zockets that became
// ready. It returns the number of ready zockets.
func (s *Stack) turn() int {
	n := s.mux.Wait(s.events, 0)
	for _, ev := range s.events[:n] {
		if int(ev.Data) >= len(s.slots) {
			continue
		}
		w := s.slots[ev.Data]
		if w == nil {
			continue
		}
		if ev.Events&(stack.EPOLLIN|stack.EPOLLHUP|stack.EPOLLERR) != 0 {
			wake(w.rd)
		}
		if ev.Events&(stack.EPOLLOUT|stack.EPOLLHUP|stack.EPOLLERR) != 0 {
			wake(w.wr)
		}
	}
	return n
}

// yield lets callers waiting for the lock take it before the poller's next turn.
func (s *Stack) yield() {
	for s.want.Load() > 0 {
		runtime.Gosched()
	}
}
