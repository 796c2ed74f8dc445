package stack

import (
	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/wire"
)

// ICMPHandler is a transport that wants ICMP errors quoting its packets (destination
// unreachable, fragmentation needed). A Transport implements it optionally.
type ICMPHandler interface {
	// ICMPError is called with the error's type and code, the quoted IPv4 header and at least
	// 8 bytes of its payload (validated), and the next-hop MTU for fragmentation needed.
	ICMPError(typ, code uint8, quoted wire.IPv4, mtu uint16)
}

var icmpCheckDrops = [wire.NumErrors]DropReason{
	wire.ErrTruncated: DropICMPTruncated,
	wire.ErrChecksum:  DropICMPChecksum,
}

// icmpInput answers echo requests in place and passes errors to the transport they quote. It
// never answers an ICMP error or a broadcast, and sends no ICMP errors of its own.
func (s *Stack) icmpInput(m *dpdk.Mbuf, frame []byte, l2 int, ip wire.IPv4, toGroup bool) {
	b := ip.Payload()
	if err := wire.CheckICMP(b); err != nil {
		s.drop(m, icmpCheckDrops[err.(wire.Error)])
		return
	}
	s.ctr.RxICMP++
	icmp := wire.ICMP(b)
	switch {
	case icmp.Type() == wire.ICMPEchoRequest:
		if toGroup {
			s.drop(m, DropICMPBroadcastEcho)
			return
		}
		s.echoReply(m, frame, l2, ip, icmp)
	case icmp.IsError():
		q, err := icmp.Quoted()
		if err != nil {
			s.drop(m, DropICMPTruncated)
			return
		}
		if h, ok := s.transport[q.Protocol()].(ICMPHandler); ok && q.Src() == s.ip {
			h.ICMPError(icmp.Type(), icmp.Code(), q, icmp.MTU())
			s.discard(m)
			return
		}
		s.drop(m, DropICMPUnhandled)
	default:
		s.drop(m, DropICMPUnhandled)
	}
}

// echoReply turns the request's buffer into the reply: MACs and addresses swapped, type 0,
// checksums patched incrementally, Ethernet padding cut.
func (s *Stack) echoReply(m *dpdk.Mbuf, frame []byte, l2 int, ip wire.IPv4, icmp wire.ICMP) {
	eth := wire.Ethernet(frame)
	eth.SetDst(eth.Src())
	eth.SetSrc(s.mac)
	src := ip.Src()
	ip.SetDst(src)
	ip.SetSrc(s.ip)
	ip.SetTTL(64)
	ip.SetChecksum(0)
	ip.SetChecksum(ip.ComputeChecksum())
	icmp.SetType(wire.ICMPEchoReply)
	icmp.SetChecksum(wire.ChecksumUpdate16(icmp.Checksum(), uint16(wire.ICMPEchoRequest)<<8, uint16(wire.ICMPEchoReply)<<8))
	m.SetLen(l2 + int(ip.TotalLength()))
	s.ctr.TxEchoReplies++
	s.enqueue(m)
}
