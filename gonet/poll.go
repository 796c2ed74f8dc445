package gonet

import (
	"errors"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zocket/zocket/stack"
)

// The poller's two loops. Both run one reactor turn under the lock, release it, and let
// waiting callers in (yield) before the next turn.
//
// Sleeping: after SpinBeforeSleep without an event, the poller primes the stack's waitable fd
// (stack.PrimeWaitFD: receive interrupt armed, a timerfd at the next stack timer) and blocks in
// epoll_wait on an epoll set of that fd and an eventfd of its own, which callers write (kick)
// when their call finds the poller asleep, since a call may queue frames or arm timers that the
// primed fd does not cover. PMDs without receive interrupts (net_ring, net_memif in DPDK 22.11,
// net_af_packet) have no waitable fd (WaitFD: ENOTSUP): the poller then naps instead, 20 µs
// doubling to 1 ms while nothing happens, woken early by a kick. Frames from the peer wait up to
// a nap there; timers are late by at most one.

const (
	napFirst = 20 * time.Microsecond
	napMax   = time.Millisecond
)

// yieldEvery is how many idle turns a busy-polling goroutine (the poller, or a caller in its
// place) runs between calls to runtime.Gosched, a few microseconds: the scheduler then runs
// other goroutines and fires timers. Without it, with GOMAXPROCS 1 (a container's single CPU)
// a spinning stack kept everything else off its P until the runtime's 10 ms preemption (a 1 ms
// time.Sleep took 20 ms; TestBusyPollLetsOthersRun).
const yieldEvery = 16

// sleeper is how the poller sleeps: on the epoll set of the stack's waitable fd and a kick
// eventfd, or, without a waitable fd, on a timer and a kick channel.
type sleeper struct {
	st      *stack.Stack
	epfd    int        // -1 without a waitable fd
	kickMu  sync.Mutex // kickfd against close: a caller's kick may race the poller's exit
	kickfd  int
	kickCh  chan struct{}
	timer   *time.Timer
	evs     [2]unix.EpollEvent
	kickBuf [8]byte // 1, the eventfd increment callers write (read-only after open)
	readBuf [8]byte // the poller's read of the eventfd counter
}

// open prepares the sleeper of st for mode. Errors: those of WaitFD other than ENOTSUP, and of
// epoll_create1, eventfd and epoll_ctl.
func (z *sleeper) open(st *stack.Stack, mode WaitMode) error {
	z.st, z.epfd, z.kickfd = st, -1, -1
	z.kickCh = make(chan struct{}, 1)
	z.kickBuf[0] = 1
	if mode != Sleep {
		return nil
	}
	wfd, err := st.WaitFD()
	if errors.Is(err, syscall.ENOTSUP) {
		z.timer = time.NewTimer(time.Hour)
		z.timer.Stop()
		return nil
	}
	if err != nil {
		return err
	}
	if z.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return err
	}
	if z.kickfd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		z.close()
		return err
	}
	for _, fd := range []int{wfd, z.kickfd} {
		if err := unix.EpollCtl(z.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			z.close()
			return err
		}
	}
	return nil
}

// close frees the sleeper's descriptors (the stack closes its own waitable fd).
func (z *sleeper) close() {
	z.kickMu.Lock()
	if z.kickfd >= 0 {
		unix.Close(z.kickfd)
		z.kickfd = -1
	}
	z.kickMu.Unlock()
	if z.epfd >= 0 {
		unix.Close(z.epfd)
		z.epfd = -1
	}
}

// kick wakes a sleeping poller (a no-op when it is not asleep: the wake-up is then taken at its
// next sleep, which it ends at once).
//
// Callers kick after releasing the Stack's lock, so a kick can race the poller's close: under
// kickMu it never writes to a closed (perhaps reused) descriptor.
func (z *sleeper) kick() {
	z.kickMu.Lock()
	if z.kickfd >= 0 {
		unix.Write(z.kickfd, z.kickBuf[:])
		z.kickMu.Unlock()
		return
	}
	z.kickMu.Unlock()
	wake(z.kickCh)
}

// sleep blocks until the stack has work or a caller kicks, for at most nap without a waitable
// fd. Called without the lock, after prime.
func (z *sleeper) sleep(nap time.Duration) {
	if z.epfd < 0 {
		z.timer.Reset(nap)
		select {
		case <-z.kickCh:
			z.timer.Stop()
		case <-z.timer.C:
		}
		return
	}
	for {
		_, err := unix.EpollWait(z.epfd, z.evs[:], -1)
		if err != syscall.EINTR {
			break
		}
	}
	unix.Read(z.kickfd, z.readBuf[:]) // drain the kick counter (EAGAIN when it was the stack)
}

// prime readies the stack's waitable fd before a sleep, under the lock. It reports false when
// the stack cannot sleep on it now (priming failed): the poller then naps.
func (z *sleeper) prime() bool {
	if z.epfd < 0 {
		return true
	}
	return z.st.PrimeWaitFD() == nil
}

// busyPoll runs the reactor without pause until Close, napping while a blocked caller polls
// in its place (wait).
func (s *Stack) busyPoll() {
	idle := 0
	for !s.stop.Load() {
		if s.spinner.Load() {
			time.Sleep(napMax)
			continue
		}
		s.mu.Lock()
		n := s.turn()
		s.mu.Unlock()
		s.yield()
		if idle++; n > 0 || idle == yieldEvery {
			// A woken caller is queued on this P (channel wake-ups go to the waker's P):
			// let it run now rather than at the next preemption.
			idle = 0
			runtime.Gosched()
		}
	}
}

// sleepPoll runs the reactor while it has work, sleeping once it has had none for the spin time.
func (s *Stack) sleepPoll() {
	idleSince := time.Now()
	nap := napFirst
	for !s.stop.Load() {
		s.mu.Lock()
		if s.turn() > 0 {
			s.mu.Unlock()
			idleSince, nap = time.Time{}, napFirst
			s.yield()
			runtime.Gosched() // as in busyPoll
			continue
		}
		now := time.Now()
		if idleSince.IsZero() {
			idleSince = now
		}
		if now.Sub(idleSince) < s.opt.spin {
			s.mu.Unlock()
			s.yield()
			continue
		}
		if !s.sleeper.prime() {
			s.mu.Unlock()
			continue
		}
		s.sleeping.Store(true)
		s.mu.Unlock()
		if !s.stop.Load() {
			s.sleeper.sleep(nap)
		}
		s.sleeping.Store(false)
		nap = min(2*nap, napMax)
	}
}

// handBack ends a caller's spinning. When other callers are parked, one of them is called to
// spin in its place (vacant), since nobody else polls for them: the poller naps, and waking it
// costs a hand-over of its locked thread. Before, a parked reader's wake-up waited for the rest
// of the poller's 1 ms nap (660 µs at the median).
func (s *Stack) handBack() {
	s.spinner.Store(false)
	if s.parked.Load() > 0 {
		wake(s.vacant)
	}
}

// wait blocks a caller of Read or Write until a wake-up arrives on ch. In busy-poll mode one
// blocked caller at a time polls the stack itself, between the turns of callers that want the
// lock, while the poller naps: the wake-up then needs no hand-over between goroutines (on a
// machine with few cores, the poller and the woken caller would compete for them). The others
// sleep on ch, woken by the spinning caller's turns as they would be by the poller's.
//
// Accept does not come here: a server keeps an Accept parked for the life of its listener, and
// that goroutine polling in the poller's place would leave the poller napping while it, on
// whatever thread and core the scheduler gives it, competes with the handlers it wakes (net/http
// over net_tap in busy-poll mode: 2,800 requests/s with a spinning Accept, 7,300 without).
func (s *Stack) wait(ch chan struct{}) {
	if s.opt.mode != BusyPoll {
		<-ch
		return
	}
	if !s.spinner.CompareAndSwap(false, true) {
		// Counted, then tried again before parking: a spinner leaving meanwhile either lets
		// this caller take its place or sees it parked (handBack).
		s.parked.Add(1)
		for !s.spinner.CompareAndSwap(false, true) {
			select {
			case <-ch:
				s.parked.Add(-1)
				return
			case <-s.vacant: // the spinner left: try to take its place
			}
		}
		s.parked.Add(-1)
	}
	defer s.handBack()
	for idle := 0; ; idle++ {
		select {
		case <-ch:
			return
		default:
		}
		if s.want.Load() > 0 || idle == yieldEvery || !s.mu.TryLock() {
			idle = 0
			runtime.Gosched()
			continue
		}
		if !s.closed {
			s.turn()
		}
		s.mu.Unlock()
	}
}
