package stack

import (
	"github.com/zocket/zocket/dpdk"
)

// Perform runs the reactor (zf_reactor_perform): it flushes queued transmissions, polls the
// port, handles every received frame, runs due timers and sends what they produced. When
// nothing user-visible happens it polls again, up to reactor_spin_count times. It returns the
// number of user-visible events (packets delivered to zockets, state changes); 0 means
// nothing happened.
//
// In steady state a turn is one cgo call (transmit + receive + TSC read) and allocates nothing.
func (s *Stack) Perform() int {
	if s.wfd.armed {
		s.disarm()
	}
	if s.obs.snap.req.Load() != s.obs.snap.done {
		s.serveSnapshot() // a reader asked for a snapshot (snapshot.go)
	}
	for spin := s.spin; ; {
		events, busy := s.turn()
		if events > 0 {
			return events
		}
		if spin--; spin <= 0 || busy {
			return 0
		}
	}
}

// turn is one reactor iteration. busy reports that frames moved although no user-visible
// event resulted (ARP, ICMP), so that Perform returns rather than spinning on.
func (s *Stack) turn() (events int, busy bool) {
	sent, n, tsc := s.port.TxRx(s.queue, s.txq[:s.ntx], s.rx)
	s.ctr.Polls++
	if sent > 0 {
		s.txDone(sent)
	}
	if s.clock == nil {
		s.now = s.tscToNs(tsc)
	} else {
		s.now = s.clock.Now()
	}
	if n > 0 {
		s.ctr.BusyPolls++
		if s.obs.capture != nil {
			s.obs.capture.rx(s.rx[:n], tsc)
		}
		for _, m := range s.rx[:n] {
			if s.input(m) {
				events++
			}
		}
		busy = true
	}
	if s.timers.count > 0 {
		if s.timers.run(s.now) > 0 {
			busy = true
		}
		s.nextTimer.Store(s.timers.nextCheck())
	}
	if s.faults.held > 0 {
		s.faults.release(s)
	}
	if s.ntx > 0 {
		s.flush()
	}
	if s.ndrop > 0 {
		s.freeDiscarded()
	}
	s.setTxPending(s.ntx > 0 || s.faults.held > 0)
	return events, busy
}

// setTxPending publishes whether frames wait to be sent, for HasPendingWork. It stores only
// on a change: a turn pays one plain load.
func (s *Stack) setTxPending(p bool) {
	if s.txPending.Load() != p {
		s.txPending.Store(p)
	}
}

// txDone drops the first sent entries of the transmit queue after a burst took them.
func (s *Stack) txDone(sent int) {
	s.ctr.TxPackets += uint64(sent)
	copy(s.txq, s.txq[sent:s.ntx])
	s.ntx -= sent
}

// flush sends the transmit queue now (one cgo call); what the port refuses waits for the next
// turn.
func (s *Stack) flush() {
	sent := s.port.TxBurst(s.queue, s.txq[:s.ntx])
	if sent < s.ntx {
		s.ctr.TxRingFull += uint64(s.ntx - sent)
	}
	s.txDone(sent)
}

// busy notes that the stack is sending, so not quiescent at this moment: the stack waitable
// drops EPOLLSTACKHUP, and the next muxer look re-evaluates it (a new edge once quiet again).
func (s *Stack) busy() {
	if s.self.ready != 0 {
		s.self.NotReady(EPOLLSTACKHUP)
	}
}

// HasPendingWork reports whether a call to Perform would find something to do: a frame waiting
// in the port's receive queue, a frame queued for transmission (sent by the next turn), or a
// timer due (zf_stack_has_pending_work). It is safe to call from any goroutine and allocates
// nothing. Where the PMD cannot count its receive queue it answers true.
func (s *Stack) HasPendingWork() bool {
	if s.txPending.Load() || s.readClock() >= s.nextTimer.Load() {
		return true
	}
	n, err := s.port.RxQueueCount(s.queue)
	return err != nil || n > 0
}

// enqueue queues an outgoing frame for the end of the current turn (replies the stack itself
// makes: ARP, ICMP). Frames beyond the queue's capacity are dropped and counted.
func (s *Stack) enqueue(m *dpdk.Mbuf) {
	if s.faults.active && s.faults.apply(s, m) {
		return
	}
	s.push(m)
}

func (s *Stack) push(m *dpdk.Mbuf) {
	s.busy()
	if s.ntx == len(s.txq) {
		s.flush()
		if s.ntx == len(s.txq) {
			s.ctr.Drops[DropTxNoBufs]++
			s.discard(m) // freed with the turn's other drops, in one call
			return
		}
	}
	s.ctr.TxBytes += uint64(m.PktLen())
	if s.obs.capture != nil {
		s.obs.capture.tx(m)
	}
	s.txq[s.ntx] = m
	if s.ntx++; s.ntx == 1 {
		s.setTxPending(true)
	}
}

// Transmit sends frames now, in one burst with anything already queued, and returns how many
// of ms the port took. Those not taken stay the caller's (a transport turns that into EAGAIN).
// The frames must be complete Ethernet frames (see Stack.FillEthernet).
func (s *Stack) Transmit(ms []*dpdk.Mbuf) int {
	s.busy()
	if s.faults.active {
		for _, m := range ms {
			s.enqueue(m)
		}
		s.flush()
		return len(ms)
	}
	if s.ntx > 0 {
		s.flush()
		if s.ntx > 0 {
			s.ctr.TxRingFull += uint64(len(ms))
			return 0
		}
	}
	// Lengths are read before the burst: once sent, a frame may already be another's.
	var bytes uint64
	for _, m := range ms {
		bytes += uint64(m.PktLen())
	}
	var sent int
	if s.obs.capture == nil {
		sent = s.port.TxBurst(s.queue, ms)
	} else {
		sent = s.captureTransmit(ms)
	}
	if sent < len(ms) {
		for _, m := range ms[sent:] {
			bytes -= uint64(m.PktLen())
		}
		s.ctr.TxRingFull += uint64(len(ms) - sent)
	}
	s.ctr.TxPackets += uint64(sent)
	s.ctr.TxBytes += bytes
	return sent
}
