package stack

import (
	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/wire"
)

// Packet is a received IPv4 packet on its way to a transport. The stack fills one Packet per
// frame in place (no allocation); a transport must not keep the *Packet, only the mbuf.
type Packet struct {
	Mbuf *dpdk.Mbuf // owns the frame: the transport frees it or keeps it
	IP   wire.IPv4  // the validated IPv4 header and payload, viewed inside Mbuf
	L4   []byte     // the IP payload (trimmed to the IP total length)
	Src  [4]byte
	Dst  [4]byte
	// L4ChecksumOK is true when the port already verified the TCP/UDP checksum.
	L4ChecksumOK bool
}

// Transport is a protocol above IPv4 (UDP, TCP). The stack knows protocols only through this
// interface: udp and tcp install theirs with SetTransport the first time a zocket of theirs is
// made on a stack, so that stack never imports them.
type Transport interface {
	// Deliver takes the packet: the transport frees p.Mbuf or keeps it. It returns true when
	// something user-visible happened (data queued, a state change), which makes Perform
	// return non-zero.
	Deliver(p *Packet) bool
}

// SetTransport installs t for IP protocol proto (wire.ProtoUDP, wire.ProtoTCP).
func (s *Stack) SetTransport(proto uint8, t Transport) {
	if s.transport[proto] == nil {
		s.protos = append(s.protos, proto)
	}
	s.transport[proto] = t
}

// Transport returns the transport installed for proto, or nil.
func (s *Stack) Transport(proto uint8) Transport { return s.transport[proto] }
