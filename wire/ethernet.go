package wire

import "encoding/binary"

// Ethernet sizes.
const (
	// EthernetMinimumSize is the size of an untagged Ethernet II header.
	EthernetMinimumSize = 14
	// VLANTagSize is the size of one 802.1Q tag.
	VLANTagSize = 4
)

// EtherTypes this package knows.
const (
	// EtherTypeIPv4 is the EtherType of IPv4.
	EtherTypeIPv4 = 0x0800
	// EtherTypeARP is the EtherType of ARP.
	EtherTypeARP = 0x0806
	// EtherTypeVLAN is the TPID of an 802.1Q tag.
	EtherTypeVLAN = 0x8100
)

const (
	ethDst   = 0
	ethSrc   = 6
	ethType  = 12
	ethTCI   = 14 // in a tagged frame
	ethType2 = 16 // the inner EtherType of a tagged frame
)

// Ethernet is a view of an Ethernet II header: destination, source,
// EtherType. Its accessors read the outer header only; [ParseEthernet] reads
// an 802.1Q tag too.
type Ethernet []byte

// Dst returns the destination MAC address.
func (b Ethernet) Dst() [6]byte {
	return [6]byte(b[ethDst : ethDst+6])
}

// Src returns the source MAC address.
func (b Ethernet) Src() [6]byte {
	return [6]byte(b[ethSrc : ethSrc+6])
}

// Type returns the outer EtherType (EtherTypeVLAN for a tagged frame).
func (b Ethernet) Type() uint16 {
	return binary.BigEndian.Uint16(b[ethType:])
}

// SetDst sets the destination MAC address.
func (b Ethernet) SetDst(mac [6]byte) {
	copy(b[ethDst:ethDst+6], mac[:])
}

// SetSrc sets the source MAC address.
func (b Ethernet) SetSrc(mac [6]byte) {
	copy(b[ethSrc:ethSrc+6], mac[:])
}

// SetType sets the outer EtherType.
func (b Ethernet) SetType(t uint16) {
	binary.BigEndian.PutUint16(b[ethType:], t)
}

// Fields returns the header's fields, with the tag when the frame carries
// one. It assumes [ParseEthernet] accepted b.
func (b Ethernet) Fields() EthernetFields {
	f := EthernetFields{Dst: b.Dst(), Src: b.Src(), Type: b.Type()}
	if f.Type == EtherTypeVLAN && len(b) >= EthernetMinimumSize+VLANTagSize {
		f.VLAN = true
		f.TCI = binary.BigEndian.Uint16(b[ethTCI:])
		f.Type = binary.BigEndian.Uint16(b[ethType2:])
	}
	return f
}

// EthernetInfo is what [ParseEthernet] found in a frame's header.
type EthernetInfo struct {
	// Type is the EtherType of the payload, after the tag if there is one.
	Type uint16
	// VLAN reports an 802.1Q tag.
	VLAN bool
	// TCI is the tag control information (PCP, DEI, VLAN ID) when VLAN.
	TCI uint16
	// HeaderLen is where the payload starts: 14, or 18 with a tag.
	HeaderLen int
}

// ParseEthernet checks a received frame's Ethernet header and returns its
// EtherType and header length, reading one 802.1Q tag. It returns
// ErrTruncated for a runt under 14 bytes, or under 18 bytes with a tag.
// A second tag (QinQ) is not read: Type is then EtherTypeVLAN, which a
// stack drops as an EtherType it does not handle. Frames with an 802.3
// length instead of an EtherType are returned as is (Type < 0x0600).
//
// Once it returned nil, the accessors of Ethernet(b) do not panic.
func ParseEthernet(b []byte) (eth EthernetInfo, err error) {
	if len(b) < EthernetMinimumSize {
		return eth, ErrTruncated
	}
	eth.Type = binary.BigEndian.Uint16(b[ethType:])
	eth.HeaderLen = EthernetMinimumSize
	if eth.Type == EtherTypeVLAN {
		if len(b) < EthernetMinimumSize+VLANTagSize {
			return EthernetInfo{}, ErrTruncated
		}
		eth.VLAN = true
		eth.TCI = binary.BigEndian.Uint16(b[ethTCI:])
		eth.Type = binary.BigEndian.Uint16(b[ethType2:])
		eth.HeaderLen = EthernetMinimumSize + VLANTagSize
	}
	return eth, nil
}

// EthernetFields describes an Ethernet header to build.
type EthernetFields struct {
	Dst, Src [6]byte
	// VLAN adds an 802.1Q tag carrying TCI.
	VLAN bool
	TCI  uint16
	// Type is the payload's EtherType (inside the tag when VLAN).
	Type uint16
}

// Encode writes the header at the start of b and returns its length: 14,
// or 18 with a tag. b must be long enough.
func (f EthernetFields) Encode(b []byte) int {
	_ = b[EthernetMinimumSize-1]
	copy(b[ethDst:ethDst+6], f.Dst[:])
	copy(b[ethSrc:ethSrc+6], f.Src[:])
	if !f.VLAN {
		binary.BigEndian.PutUint16(b[ethType:], f.Type)
		return EthernetMinimumSize
	}
	binary.BigEndian.PutUint16(b[ethType:], EtherTypeVLAN)
	binary.BigEndian.PutUint16(b[ethTCI:], f.TCI)
	binary.BigEndian.PutUint16(b[ethType2:], f.Type)
	return EthernetMinimumSize + VLANTagSize
}

// BroadcastMAC is ff:ff:ff:ff:ff:ff. Do not modify it.
var BroadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsBroadcastMAC reports whether mac is ff:ff:ff:ff:ff:ff.
func IsBroadcastMAC(mac [6]byte) bool {
	return mac == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
}

// IsMulticastMAC reports whether mac is a group address (the I/G bit, the
// low bit of the first byte, is set). The broadcast address is one too.
func IsMulticastMAC(mac [6]byte) bool {
	return mac[0]&1 != 0
}

// MulticastMAC returns the Ethernet group address of IPv4 multicast group
// ip: 01:00:5e followed by the low 23 bits of ip (RFC 1112 §6.4).
func MulticastMAC(ip [4]byte) [6]byte {
	return [6]byte{0x01, 0x00, 0x5e, ip[1] & 0x7f, ip[2], ip[3]}
}
