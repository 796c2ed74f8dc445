package stack

import (
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/zocket/zocket/dpdk"
)

// linkEmu is the emulated link behind the fault shim (Faults.Delay, Jitter, Rate, Queue): a
// router queue drained at Rate, then a wire of one-way Delay plus Jitter, all in the stack's
// time (Stack.Now), so that a manual clock runs a 20 ms path in microseconds of real time.
//
// A frame accepted at time now (the stack's time: that of the current or last reactor turn)
// finishes serialization at done = max(now, free) + bits/Rate (free: when the link finishes the
// frames accepted before it) and leaves the shim, to the port, at max(done + Delay + jitter,
// the departure of the frame ahead of it): jitter bunches frames but never reorders them. A
// frame that would find more than the queue limit's bytes ahead of it, counting itself, is
// tail-dropped (FaultCounters.TailDropped).
//
// Frames wait in ring, in departure order. SetFaults makes it with room for as many frames as
// the stack's pool has buffers; a frame that finds it full (possible only with buffers from
// elsewhere, such as a net_ring peer's echo request turned into the reply) is tail-dropped
// too. A stack timer (timer) is armed for the head's departure, so that the reactor releases
// each frame when it is due (HasPendingWork sees it as any timer: from the end of the 1 ms
// tick it falls in); NextLinkRelease tells tests driving a ManualClock the exact instant.
// Nothing is allocated per frame.
type linkEmu struct {
	on      bool
	delay   int64  // ns
	jitter  int64  // ns; a frame's extra delay is uniform in [0, jitter]
	rate    uint64 // bits per second; 0: serialization takes no time
	queueNs int64  // the queue limit, as the time the link takes to send it
	rng     *rand.Rand

	free int64  // when the link finishes serializing the frames it accepted
	rem  uint64 // bits×1e9 mod rate of the frames so far: carried, N frames take N×bits/rate
	last int64  // departure time of the frame queued last

	ring    []linkFrame // len a power of two
	head, n int
	timer   Timer
	stack   *Stack
}

// linkFrame is a frame on the emulated link and the time it leaves the shim.
type linkFrame struct {
	m   *dpdk.Mbuf
	due int64
}

// defaultQueueMin is the smallest default queue limit: 64 KiB, a window of today's TCP.
const defaultQueueMin = 64 << 10

// configure sets the link from f, allocating the ring if it has to grow.
func (l *linkEmu) configure(s *Stack, f *Faults) {
	l.on = f.Delay > 0 || f.Jitter > 0 || f.Rate > 0
	l.delay, l.jitter, l.rate = max(int64(f.Delay), 0), max(int64(f.Jitter), 0), f.Rate
	l.free, l.rem, l.last = 0, 0, 0
	l.rng = rand.New(rand.NewPCG(f.Seed^0x6a09e667f3bcc908, f.Seed+0xbb67ae8584caa73b))
	l.stack = s
	if !l.on {
		return
	}
	if l.rate > 0 {
		if f.Queue > 0 {
			l.queueNs = int64(min(float64(f.Queue)*8e9/float64(l.rate), math.MaxInt64/4))
		} else {
			l.queueNs = max(2*(l.delay+l.jitter), int64(min(defaultQueueMin*8e9/float64(l.rate), math.MaxInt64/4)))
		}
	}
	need := 64
	if s.pool != nil {
		need = max(need, 1<<bits.Len(uint(s.pool.Size())))
	}
	if len(l.ring) < need {
		l.ring = make([]linkFrame, need)
	}
}

// send puts m on the link, or tail-drops it.
func (l *linkEmu) send(s *Stack, m *dpdk.Mbuf) {
	now := s.now
	done, rem := now, l.rem
	if l.rate > 0 {
		start := max(now, l.free)
		if start > l.free {
			rem = 0 // the link was idle: nothing to carry
		}
		num := uint64(m.PktLen())*8*1e9 + rem
		ser := int64(num / l.rate)
		if start-now+ser > l.queueNs {
			s.ctr.Faults.TailDropped++
			m.Free()
			return
		}
		done, rem = start+ser, num%l.rate
	}
	due := done + l.delay
	if l.jitter > 0 {
		due += l.rng.Int64N(l.jitter + 1)
	}
	due = max(due, l.last)
	if l.n == len(l.ring) {
		s.ctr.Faults.TailDropped++
		m.Free()
		return
	}
	l.free, l.rem, l.last = done, rem, due
	if l.n == 0 && due <= now {
		s.push(m)
		return
	}
	l.ring[(l.head+l.n)&(len(l.ring)-1)] = linkFrame{m, due}
	if l.n++; l.n == 1 {
		s.ArmTimer(&l.timer, due, l)
	}
}

// Expire releases, to the transmit queue, every frame due at now, and re-arms the timer for
// the next one (the link's TimerHandler).
func (l *linkEmu) Expire(now int64) {
	mask := len(l.ring) - 1
	for l.n > 0 && l.ring[l.head].due <= now {
		m := l.ring[l.head].m
		l.ring[l.head].m = nil
		l.head = (l.head + 1) & mask
		l.n--
		l.stack.push(m)
	}
	if l.n > 0 {
		l.stack.ArmTimer(&l.timer, l.ring[l.head].due, l)
	}
}

// next is the departure time of the next frame on the link, 0 when it holds none.
func (l *linkEmu) next() int64 {
	if l.n == 0 {
		return 0
	}
	return l.ring[l.head].due
}

// flush frees the frames on the link and stops its timer.
func (l *linkEmu) flush() {
	for ; l.n > 0; l.n-- {
		l.ring[l.head].m.Free()
		l.ring[l.head].m = nil
		l.head = (l.head + 1) & (len(l.ring) - 1)
	}
	l.head = 0
	if l.stack != nil {
		l.stack.StopTimer(&l.timer)
	}
}

// NextLinkRelease returns the time (ns on the stack's clock) at which the link emulator
// (Faults.Delay, Jitter, Rate) releases its next frame to the port, or 0 when it holds none.
// The stack's timer releases it by itself; tests that drive a ManualClock jump there when
// nothing else is due.
func (s *Stack) NextLinkRelease() int64 { return s.faults.link.next() }
