package stack_test

import (
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

// Frame builders for packet-script tests: each returns a whole Ethernet frame from the raw
// peer to the stack, which the test may then break in one place.

func ethTo(dst [6]byte, typ uint16, payload []byte) []byte {
	b := make([]byte, 14+len(payload))
	f := wire.EthernetFields{Dst: dst, Src: lab.PeerMAC, Type: typ}
	f.Encode(b)
	copy(b[14:], payload)
	return b
}

func arpFrame(op uint16, sha [6]byte, spa [4]byte, tha [6]byte, tpa [4]byte) []byte {
	a := make([]byte, wire.ARPSize)
	f := wire.ARPFields{Op: op, SenderMAC: sha, SenderIP: spa, TargetMAC: tha, TargetIP: tpa}
	f.Encode(a)
	return ethTo(wire.BroadcastMAC, wire.EtherTypeARP, a)
}

// ipFrame builds an IPv4 packet from the peer to dst with a correct header checksum.
func ipFrame(dst [4]byte, proto uint8, payload []byte) []byte {
	ip := make([]byte, 20+len(payload))
	f := wire.IPv4Fields{TotalLength: uint16(len(ip)), ID: 7, TTL: 64, Protocol: proto, Src: lab.PeerIP, Dst: dst}
	f.Encode(ip)
	copy(ip[20:], payload)
	return ethTo(lab.StackMAC, wire.EtherTypeIPv4, ip)
}

func echoRequest(dst [4]byte, id, seq uint16, data string) []byte {
	icmp := make([]byte, 8+len(data))
	f := wire.ICMPFields{Type: wire.ICMPEchoRequest, ID: id, Seq: seq}
	f.Encode(icmp)
	copy(icmp[8:], data)
	wire.ICMP(icmp).SetChecksum(0)
	wire.ICMP(icmp).SetChecksum(wire.ICMP(icmp).ComputeChecksum())
	return ipFrame(dst, wire.ProtoICMP, icmp)
}

// fixIPChecksum recomputes the header checksum of an IPv4 frame after a test edited it.
// The header length is taken from IHL, bounded by the frame, so broken headers get a valid
// checksum too and fail only for their one edit.
func fixIPChecksum(b []byte) []byte {
	hl := min(int(b[14]&0xf)*4, len(b)-14)
	b[24], b[25] = 0, 0
	c := wire.Checksum(b[14:14+hl], 0)
	b[24], b[25] = byte(c>>8), byte(c)
	return b
}
