package stack

import (
	"math/rand/v2"

	"github.com/zocket/zocket/dpdk"
)

// Faults configures the fault shim between the stack and its port: each transmitted frame is
// dropped, duplicated, held back behind later frames (reordered) or corrupted (one byte after
// the Ethernet header flipped, so that a checksum catches it) with the given probabilities,
// drawn from a PRNG seeded with Seed so that a run can be replayed. A frame a transport still
// holds (refcnt > 1) is copied before it is corrupted, and a duplicate is always a copy, so
// that the shim never alters a transport's retransmission buffer. Tests put a shim on each
// of two stacks to impair both directions.
type Faults struct {
	Seed      uint64
	Drop      float64
	Duplicate float64
	Reorder   float64
	Corrupt   float64
}

type faultShim struct {
	active bool
	cfg    Faults
	rng    *rand.Rand
	hold   [8]*dpdk.Mbuf
	held   int
}

// SetFaults installs (or, with the zero Faults, removes) the fault shim.
func (s *Stack) SetFaults(f Faults) {
	s.faults.flush()
	s.faults.cfg = f
	s.faults.active = f.Drop > 0 || f.Duplicate > 0 || f.Reorder > 0 || f.Corrupt > 0
	s.faults.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
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
			s.push(d)
		}
	}
	if f.held < len(f.hold) && f.rng.Float64() < c.Reorder {
		f.hold[f.held] = m
		f.held++
		s.setTxPending(true)
		s.ctr.Faults.Reordered++
		return true
	}
	s.push(m)
	f.release(s)
	return true
}

// release queues the frames held back; they leave behind whatever was queued before them.
func (f *faultShim) release(s *Stack) {
	for _, m := range f.hold[:f.held] {
		s.push(m)
	}
	f.held = 0
}

func (f *faultShim) flush() {
	dpdk.FreeBulk(f.hold[:f.held])
	f.held = 0
}
