package gonet

import (
	"net"
	"net/netip"
	"strconv"
)

// parseAddr parses address ("host:port") for network, which must be one of nets. The host is an
// IPv4 literal (the stack resolves no names); an empty host or 0.0.0.0 means the stack's own
// address when wildcard is set (listening), and is an error otherwise. The error is a
// net.UnknownNetworkError or a *net.AddrError, for the caller to wrap.
func parseAddr(network, address string, self netip.Addr, wildcard bool, nets ...string) (netip.AddrPort, error) {
	known := false
	for _, n := range nets {
		known = known || n == network
	}
	if !known {
		return netip.AddrPort{}, errUnknownNetwork(network)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, &net.AddrError{Err: err.(*net.AddrError).Err, Addr: address}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, &net.AddrError{Err: "invalid port", Addr: address}
	}
	var ip netip.Addr
	switch {
	case host == "" || host == "0.0.0.0":
		if !wildcard {
			return netip.AddrPort{}, &net.AddrError{Err: "no host (the stack resolves no names)", Addr: address}
		}
		ip = self
	default:
		if ip, err = netip.ParseAddr(host); err != nil {
			return netip.AddrPort{}, &net.AddrError{Err: "not an IPv4 address (the stack resolves no names)", Addr: address}
		}
		ip = ip.Unmap()
		if !ip.Is4() {
			return netip.AddrPort{}, &net.AddrError{Err: "not an IPv4 address", Addr: address}
		}
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

// tcpAddr and udpAddr convert an address of the stack into net's types.
func tcpAddr(ap netip.AddrPort) *net.TCPAddr { return net.TCPAddrFromAddrPort(ap) }
func udpAddr(ap netip.AddrPort) *net.UDPAddr { return net.UDPAddrFromAddrPort(ap) }
