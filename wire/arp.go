package wire

import "encoding/binary"

// ARPSize is the size of an ARP packet for IPv4 over Ethernet (RFC 826).
const ARPSize = 28

// ARP operations.
const (
	// ARPRequest asks who has the target IP address.
	ARPRequest = 1
	// ARPReply answers a request with the sender's MAC address.
	ARPReply = 2
)

const (
	arpHType = 0
	arpPType = 2
	arpHLen  = 4
	arpPLen  = 5
	arpOp    = 6
	arpSHA   = 8
	arpSPA   = 14
	arpTHA   = 18
	arpTPA   = 24

	arpFixedSize = 8 // htype, ptype, hlen, plen, op
)

// ARP is a view of an ARP packet for IPv4 over Ethernet.
type ARP []byte

// CheckARP checks a received ARP packet (the Ethernet payload, padding
// included). It returns ErrTruncated when b cannot hold the fixed part (8
// bytes), ErrARPFormat when the packet is not IPv4 over Ethernet (htype 1,
// ptype 0x0800, hlen 6, plen 4), ErrTruncated when b is then under 28 bytes,
// and ErrARPOp for an operation other than request or reply.
//
// Policy is the caller's: gratuitous ARP, sender 0.0.0.0 probes (RFC 5227)
// and broadcast or multicast sender addresses all pass the check.
//
// Once it returned nil, the accessors of ARP(b) do not panic.
func CheckARP(b []byte) error {
	if len(b) < arpFixedSize {
		return ErrTruncated
	}
	if binary.BigEndian.Uint16(b[arpHType:]) != 1 ||
		binary.BigEndian.Uint16(b[arpPType:]) != EtherTypeIPv4 ||
		b[arpHLen] != 6 || b[arpPLen] != 4 {
		return ErrARPFormat
	}
	if len(b) < ARPSize {
		return ErrTruncated
	}
	if op := binary.BigEndian.Uint16(b[arpOp:]); op != ARPRequest && op != ARPReply {
		return ErrARPOp
	}
	return nil
}

// Op returns the operation: ARPRequest or ARPReply.
func (b ARP) Op() uint16 { return binary.BigEndian.Uint16(b[arpOp:]) }

// SenderMAC returns the sender hardware address.
func (b ARP) SenderMAC() [6]byte { return [6]byte(b[arpSHA : arpSHA+6]) }

// SenderIP returns the sender protocol address.
func (b ARP) SenderIP() [4]byte { return [4]byte(b[arpSPA : arpSPA+4]) }

// TargetMAC returns the target hardware address.
func (b ARP) TargetMAC() [6]byte { return [6]byte(b[arpTHA : arpTHA+6]) }

// TargetIP returns the target protocol address.
func (b ARP) TargetIP() [4]byte { return [4]byte(b[arpTPA : arpTPA+4]) }

// SetOp sets the operation.
func (b ARP) SetOp(op uint16) { binary.BigEndian.PutUint16(b[arpOp:], op) }

// SetSenderMAC sets the sender hardware address.
func (b ARP) SetSenderMAC(mac [6]byte) { copy(b[arpSHA:arpSHA+6], mac[:]) }

// SetSenderIP sets the sender protocol address.
func (b ARP) SetSenderIP(ip [4]byte) { copy(b[arpSPA:arpSPA+4], ip[:]) }

// SetTargetMAC sets the target hardware address.
func (b ARP) SetTargetMAC(mac [6]byte) { copy(b[arpTHA:arpTHA+6], mac[:]) }

// SetTargetIP sets the target protocol address.
func (b ARP) SetTargetIP(ip [4]byte) { copy(b[arpTPA:arpTPA+4], ip[:]) }

// Fields returns the packet's fields. It assumes [CheckARP] accepted b.
func (b ARP) Fields() ARPFields {
	return ARPFields{
		Op:        b.Op(),
		SenderMAC: b.SenderMAC(),
		SenderIP:  b.SenderIP(),
		TargetMAC: b.TargetMAC(),
		TargetIP:  b.TargetIP(),
	}
}

// ARPFields describes an ARP packet for IPv4 over Ethernet to build.
type ARPFields struct {
	Op        uint16
	SenderMAC [6]byte
	SenderIP  [4]byte
	TargetMAC [6]byte
	TargetIP  [4]byte
}

// Encode writes the packet at the start of b, which must hold ARPSize
// bytes, and returns ARPSize.
func (f ARPFields) Encode(b []byte) int {
	_ = b[ARPSize-1]
	binary.BigEndian.PutUint16(b[arpHType:], 1)
	binary.BigEndian.PutUint16(b[arpPType:], EtherTypeIPv4)
	b[arpHLen] = 6
	b[arpPLen] = 4
	binary.BigEndian.PutUint16(b[arpOp:], f.Op)
	copy(b[arpSHA:arpSHA+6], f.SenderMAC[:])
	copy(b[arpSPA:arpSPA+4], f.SenderIP[:])
	copy(b[arpTHA:arpTHA+6], f.TargetMAC[:])
	copy(b[arpTPA:arpTPA+4], f.TargetIP[:])
	return ARPSize
}
