package stack

import (
	"math/rand/v2"
	"syscall"
)

// Ephemeral port range, Linux's default (net.ipv4.ip_local_port_range).
const (
	EphemeralFirst = 32768
	EphemeralLast  = 60999
)

// PortSet is a transport's set of local ports in use on one stack, with randomised ephemeral
// port selection (RFC 6056 algorithm 1: a random start, then a linear probe), so that a peer
// cannot predict the next connection's port. A bitmap: 8 KiB per transport, O(1) reserve and
// release. Reference counts are the transport's business (a UDP receiver and transmitter may
// share a port); PortSet only answers "is it taken".
type PortSet struct {
	used [65536 / 64]uint64
	rng  *rand.Rand
}

// NewPortSet returns an empty set drawing ephemeral ports from a generator seeded by seed
// (use a random seed in production, a fixed one in tests).
func NewPortSet(seed uint64) *PortSet {
	return &PortSet{rng: rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908))}
}

// InUse reports whether port is taken.
func (p *PortSet) InUse(port uint16) bool { return p.used[port/64]&(1<<(port%64)) != 0 }

// Reserve takes port; EADDRINUSE when it is taken, EINVAL for port 0.
func (p *PortSet) Reserve(port uint16) error {
	if port == 0 {
		return syscall.EINVAL
	}
	if p.InUse(port) {
		return syscall.EADDRINUSE
	}
	p.used[port/64] |= 1 << (port % 64)
	return nil
}

// Release frees port.
func (p *PortSet) Release(port uint16) { p.used[port/64] &^= 1 << (port % 64) }

// Ephemeral reserves and returns a free port of the ephemeral range, or EADDRNOTAVAIL when
// the range is exhausted.
func (p *PortSet) Ephemeral() (uint16, error) {
	const n = EphemeralLast - EphemeralFirst + 1
	start := p.rng.IntN(n)
	for i := 0; i < n; i++ {
		port := uint16(EphemeralFirst + (start+i)%n)
		if !p.InUse(port) {
			p.used[port/64] |= 1 << (port % 64)
			return port, nil
		}
	}
	return 0, syscall.EADDRNOTAVAIL
}
