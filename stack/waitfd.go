package stack

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// The waitable fd (zf_waitable_fd_get / zf_waitable_fd_prime) lets an application block in
// Linux epoll_wait, alongside its other descriptors, until the stack has work. It is an epoll
// fd gathering three sources:
//   - the port's receive-queue interrupt fd (rte_eth_dev_rx_intr_ctl_q_get_fd), armed by
//     PrimeWaitFD and disarmed by the next Perform, so that the peer PMD (memif writes an
//     eventfd per burst while interrupts are on) pays nothing while we poll;
//   - a timerfd set to the stack's next timer (TCP retransmits, ARP retries);
//   - an eventfd the stack signals itself when work is already pending at prime time.
//
// The interrupt fd is drained (read) by PrimeWaitFD only when it is an eventfd (VFIO MSI-X
// vectors, vdevs that signal through one): reading an eventfd takes just its counter. Any other
// fd is never read: net_tap's is the queue's own tap fd, where a read would take a frame off
// the queue, and it is level-triggered, so it stops being readable once Perform empties the
// queue.
//
// PrimeWaitFD closes the race between the last poll and arming the interrupt by polling once
// more after arming: anything that arrived in between is processed, and the fd is made
// readable, so the application's next muxer wait finds it.
//
// PMDs without receive interrupts have no fd to give: WaitFD fails with ENOTSUP and says so;
// such stacks are polled (Perform, Muxer.Wait). Here that is net_ring, net_af_packet, net_pcap
// and — against expectation — net_memif: DPDK 22.11's memif keeps its per-queue eventfds
// private (rte_eth_dev_rx_intr_ctl_q_get_fd answers "Rx Intr vector unset"). net_tap has them
// (its queue fd, level-triggered, so no enable call), and so do physical NICs with VFIO MSI-X. Waking through the fd costs a system
// call and a scheduler wake-up on top of the poll, which is why spinning stays the low-latency
// default. BenchmarkWaitFDWakeup measures it with Linux's ping over net_tap on this 2-core VM:
// average round trip 8–12 µs with the stack spinning, 47 µs with it asleep on the fd between
// packets, so a wake-up costs about 35 µs here (go test ./stack -run '^$' -bench WaitFDWakeup
// -benchtime 1x).
type waitFD struct {
	epfd, timerfd, eventfd, rxfd int
	drainRx                      bool // rxfd is an eventfd: PrimeWaitFD reads it
	armed                        bool
}

// isEventfd reports whether fd is an eventfd (its /proc/self/fd link reads anon_inode:[eventfd]).
func isEventfd(fd int) bool {
	var buf [32]byte
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf[:])
	return err == nil && string(buf[:n]) == "anon_inode:[eventfd]"
}

// WaitFD returns the stack's waitable fd, creating it on first use. The stack closes it in
// Close; the caller must not. Errors: ENOTSUP when the port has no receive interrupts, or the
// system call's errno.
func (s *Stack) WaitFD() (int, error) {
	if s.wfd.epfd > 0 {
		return s.wfd.epfd, nil
	}
	rxfd, err := -1, error(syscall.ENOTSUP)
	if s.rxIntr {
		rxfd, err = s.port.RxIntrFD(s.queue)
	}
	if err != nil {
		return -1, fmt.Errorf("stack %s: interface %s (driver %s) has no receive interrupts (%v); poll with Perform or Muxer.Wait: %w",
			s.name, s.port.Name(), s.info.Driver, err, syscall.ENOTSUP)
	}
	w := waitFD{rxfd: rxfd, drainRx: isEventfd(rxfd)}
	if w.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return -1, fmt.Errorf("stack: epoll_create1: %w", err)
	}
	if w.timerfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		unix.Close(w.epfd)
		return -1, fmt.Errorf("stack: timerfd_create: %w", err)
	}
	if w.eventfd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		unix.Close(w.epfd)
		unix.Close(w.timerfd)
		return -1, fmt.Errorf("stack: eventfd: %w", err)
	}
	for _, fd := range []int{w.rxfd, w.timerfd, w.eventfd} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			w.close()
			return -1, fmt.Errorf("stack: epoll_ctl(add %d): %w", fd, err)
		}
	}
	s.wfd = w
	return w.epfd, nil
}

// PrimeWaitFD readies the waitable fd before the application blocks on it
// (zf_waitable_fd_prime): it drains old wake-ups, arms the receive interrupt and the timer, and
// polls once more; if work is already there, the fd is readable at once. Call it every time
// before blocking. Errors: EINVAL before WaitFD, or a system call's errno.
func (s *Stack) PrimeWaitFD() error {
	w := &s.wfd
	if w.epfd <= 0 {
		return fmt.Errorf("stack: PrimeWaitFD before WaitFD: %w", syscall.EINVAL)
	}
	var buf [8]byte
	for _, fd := range [...]int{w.rxfd, w.timerfd, w.eventfd} {
		if fd == w.rxfd && !w.drainRx {
			continue
		}
		for {
			if _, err := unix.Read(fd, buf[:]); err != nil {
				break
			}
		}
	}
	// Some PMDs (net_tap) have no enable: their fd is the queue's own, always armed.
	if err := s.port.RxIntrEnable(s.queue); err != nil && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	w.armed = true
	// Poll once more with the interrupt armed: what arrived before it was armed raised none.
	events, busy := s.turn()
	if events > 0 || busy || s.ntx > 0 {
		one := [8]byte{1}
		_, err := unix.Write(w.eventfd, one[:])
		return err
	}
	spec := unix.ItimerSpec{}
	if next := s.timers.nextCheck(); next != 1<<63-1 {
		d := next - s.readClock()
		if d < 1000 {
			d = 1000
		}
		spec.Value = unix.NsecToTimespec(d)
	}
	return unix.TimerfdSettime(w.timerfd, 0, &spec, nil)
}

// disarm turns the receive interrupt off again once the application polls.
func (s *Stack) disarm() {
	s.wfd.armed = false
	_ = s.port.RxIntrDisable(s.queue)
}

func (w *waitFD) close() {
	for _, fd := range []int{w.eventfd, w.timerfd, w.epfd} {
		if fd > 0 {
			unix.Close(fd)
		}
	}
	*w = waitFD{}
}
