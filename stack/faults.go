package stack

import (
	"math/rand/v2"
	"time"

	"github.com/zocket/zocket/dpdk"
)

// Faults configures the fault shim between the stack and its port: each transmitted frame is
// dropped, duplicated, held back behind later frames (reordered) or corrupted (one byte after
// the Ethernet header flipped, so that a checksum catches it) with the given probabilities,
// drawn from a PRNG seeded with Seed so that a run can be replayed. A frame a transport still
// holds (refcnt > 1) is copied before it is corrupted, and a duplicate is always a copy, so
// that the shim never alters a transport's retransmission buffer. Tests put a shim on each
// of two stacks to impair both directions.
//
// The frames that come through then cross an emulated link (linkemu.go) when Delay, Jitter or
// Rate is set: a router queue of Queue bytes drained at Rate, then a wire of one-way Delay
// plus up to Jitter, in the stack's time (Stack.Now, that of the current or last reactor turn:
// a ManualClock in tests), so that a bandwidth-delay-product test runs deterministically and
// in milliseconds. Frames keep their order on the link; only Reorder reorders.
type Faults struct {
	Seed      uint64
	Drop      float64
	Duplicate float64
	Reorder   float64
	Corrupt   float64

	// Delay is the one-way propagation delay: a frame leaves the shim Delay after the link
	// finished serializing it.
	Delay time.Duration
	// Jitter adds to each frame's delay a uniform draw in [0, Jitter] (from a PRNG of its
	// own, seeded by Seed, so that jitter leaves the draws of the faults above unchanged). A
	// frame never leaves before the one ahead of it, so jitter bunches frames, never
	// reorders them.
	Jitter time.Duration
	// Rate is the link's rate in bits per second (0: unlimited): a frame of b bytes (the
	// Ethernet frame without preamble, FCS or gap) occupies the link for b×8/Rate seconds
	// after the frames ahead of it.
	Rate uint64
	// Queue is the router buffer ahead of the rate limit, in bytes: a frame that would find
	// more than Queue bytes waiting, counting itself, is dropped and counted as
	// FaultCounters.TailDropped. 0 means one round trip at the rate (Rate × 2 × (Delay +
	// Jitter), the classic one-BDP buffer for a symmetric path), and at least 64 KiB. It
	// applies only with a Rate.
	Queue int
}

type faultShim struct {
	active bool
	cfg    Faults
	rng    *rand.Rand
	hold   [8]*dpdk.Mbuf
	held   int
	link   linkEmu
}

// SetFaults installs (or, with the zero Faults, removes) the fault shim. Frames the shim still
// holds (reordered, or on the emulated link) are freed: they are lost. It allocates (the
// PRNGs, and the link's ring when it has to grow: room for every buffer of the pool); a frame
// through the shim allocates nothing.
func (s *Stack) SetFaults(f Faults) {
	s.faults.flush()
	s.faults.cfg = f
	s.faults.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	s.faults.link.configure(s, &f)
	s.faults.active = f.Drop > 0 || f.Duplicate > 0 || f.Reorder > 0 || f.Corrupt > 0 || s.faults.link.on
}

// apply passes m through the shim. It returns true when the shim took the frame (dropped or
// held); otherwise the caller queues it.
func (f *faultShim) apply(s *Stack, m *dpdk.Mbuf) bool {
	c := &f.cfg
	if f.rng.Float64() < c.Drop {
		s.ctr.Faults.Dropped++
		m.Free()
		return true
	}
	if f.rng.Float64() < c.Corrupt {
		if b := m.Data(); len(b) > 14 {
			at, x := 14+f.rng.IntN(len(b)-14), byte(1+f.rng.IntN(255))
			if m.Refcnt() > 1 {
				// A transport still holds the frame (TCP keeps it for retransmission): corrupt
				// a copy, or the retransmission would carry the damage too.
				d := s.pool.Alloc()
				if d == nil {
					s.ctr.Faults.Dropped++
					m.Free()
					return true
				}
				copy(d.Append(len(b)), b)
				m.Free()
				m, b = d, d.Data()
			}
			b[at] ^= x
			s.ctr.Faults.Corrupted++
		}
	}
	if f.rng.Float64() < c.Duplicate {
		if d := s.pool.Alloc(); d != nil {
			copy(d.Append(m.DataLen()), m.Data())
			s.ctr.Faults.Duplicated++
			f.forward(s, d)
		}
	}
	if f.held < len(f.hold) && f.rng.Float64() < c.Reorder {
		f.hold[f.held] = m
		f.held++
		s.setTxPending(true)
		s.ctr.Faults.Reordered++
		return true
	}
	f.forward(s, m)
	f.release(s)
	return true
}

// forward passes a frame the faults let through on: onto the emulated link when there is one,
// to the transmit queue otherwise.
func (f *faultShim) forward(s *Stack, m *dpdk.Mbuf) {
	if f.link.on {
		f.link.send(s, m)
		return
	}
	s.push(m)
}

// release forwards the frames held back; they leave behind whatever was forwarded before them.
func (f *faultShim) release(s *Stack) {
	for _, m := range f.hold[:f.held] {
		f.forward(s, m)
	}
	f.held = 0
}

// holding reports whether the shim holds frames still to send (reordered, or on the link).
func (f *faultShim) holding() bool { return f.held > 0 || f.link.n > 0 }

func (f *faultShim) flush() {
	dpdk.FreeBulk(f.hold[:f.held])
	f.held = 0
	f.link.flush()
}
