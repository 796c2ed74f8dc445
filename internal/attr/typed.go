package attr

import (
	"net/netip"
	"strconv"
	"strings"
	"syscall"
)

// Typed views of the string attributes that hold addresses. Their values
// were checked when set, so these do not fail; ok is false when the
// attribute is unset.

// Neighbour is a static neighbour entry of arp_static.
type Neighbour struct {
	IP  netip.Addr
	MAC [6]byte
}

// LocalPrefix returns local_ip: the stack's address and its subnet.
func (a *Attr) LocalPrefix() (p netip.Prefix, ok bool) {
	s := a.strs[LocalIP]
	if s == "" {
		return netip.Prefix{}, false
	}
	p, _ = parsePrefix(s)
	return p, true
}

// GatewayAddr returns gateway.
func (a *Attr) GatewayAddr() (netip.Addr, bool) {
	s := a.strs[Gateway]
	if s == "" {
		return netip.Addr{}, false
	}
	g, _ := parseUnicast(s)
	return g, true
}

// MACAddr returns mac; ok false means "use the port's own address".
func (a *Attr) MACAddr() (m [6]byte, ok bool) {
	s := a.strs[MAC]
	if s == "" {
		return m, false
	}
	m, _ = parseMAC(s)
	return m, true
}

// Neighbours returns the entries of arp_static, in order (nil if none).
func (a *Attr) Neighbours() []Neighbour {
	ns, _ := parseNeighbours(a.strs[ARPStatic])
	return ns
}

// EALArgv returns eal_args split at white space, without the program name
// (argv[0]) that rte_eal_init expects first.
func (a *Attr) EALArgv() []string { return strings.Fields(a.strs[EALArgs]) }

// Validate checks the constraints between attributes that a single Set
// cannot (values are set one at a time, in any order): tcp_rto_min_ms ≤
// tcp_rto_max_ms, and a gateway inside local_ip's subnet and not the stack's
// own address. stack.New calls it. Errors wrap EINVAL.
func (a *Attr) Validate() error {
	if lo, hi := a.ints[TCPRTOMinMs], a.ints[TCPRTOMaxMs]; lo > hi {
		return setErr(defs[TCPRTOMinMs].name, strconv.FormatInt(lo, 10), syscall.EINVAL,
			"greater than tcp_rto_max_ms="+strconv.FormatInt(hi, 10))
	}
	if g, ok := a.GatewayAddr(); ok {
		p, ok := a.LocalPrefix()
		gw := a.strs[Gateway]
		switch {
		case !ok:
			return setErr(defs[Gateway].name, gw, syscall.EINVAL, "needs local_ip")
		case !p.Contains(g):
			return setErr(defs[Gateway].name, gw, syscall.EINVAL, "outside local_ip="+p.String())
		case p.Addr() == g:
			return setErr(defs[Gateway].name, gw, syscall.EINVAL, "is local_ip's own address")
		}
	}
	return nil
}
