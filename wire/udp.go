package wire

import "encoding/binary"

// UDPMinimumSize is the size of a UDP header.
const UDPMinimumSize = 8

const (
	udpSrcPort  = 0
	udpDstPort  = 2
	udpLength   = 4
	udpChecksum = 6
)

// UDP is a view of a UDP datagram: header and payload.
type UDP []byte

// CheckUDP checks a received UDP datagram; b is the IP payload. It returns
// ErrTruncated when b is under 8 bytes and ErrUDPLength when the length
// field is under 8 or over len(b). When the length is under len(b), the
// returned view is trimmed to it. Port 0 passes: it is the caller's to
// drop. The checksum is not verified: see [UDP.ChecksumValid].
//
// Once it returned nil, the accessors of the returned view do not panic.
func CheckUDP(b []byte) (UDP, error) {
	if len(b) < UDPMinimumSize {
		return nil, ErrTruncated
	}
	l := int(binary.BigEndian.Uint16(b[udpLength:]))
	if l < UDPMinimumSize || l > len(b) {
		return nil, ErrUDPLength
	}
	return UDP(b[:l]), nil
}

// SrcPort returns the source port.
func (b UDP) SrcPort() uint16 { return binary.BigEndian.Uint16(b[udpSrcPort:]) }

// DstPort returns the destination port.
func (b UDP) DstPort() uint16 { return binary.BigEndian.Uint16(b[udpDstPort:]) }

// Length returns the length field: header and payload.
func (b UDP) Length() uint16 { return binary.BigEndian.Uint16(b[udpLength:]) }

// Checksum returns the checksum field; 0 means none was computed.
func (b UDP) Checksum() uint16 { return binary.BigEndian.Uint16(b[udpChecksum:]) }

// Payload returns the data after the header, up to the end of the view.
func (b UDP) Payload() []byte { return b[UDPMinimumSize:] }

// SetSrcPort sets the source port.
func (b UDP) SetSrcPort(p uint16) { binary.BigEndian.PutUint16(b[udpSrcPort:], p) }

// SetDstPort sets the destination port.
func (b UDP) SetDstPort(p uint16) { binary.BigEndian.PutUint16(b[udpDstPort:], p) }

// SetLength sets the length field.
func (b UDP) SetLength(n uint16) { binary.BigEndian.PutUint16(b[udpLength:], n) }

// SetChecksum sets the checksum field.
func (b UDP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[udpChecksum:], c) }

// ChecksumValid reports whether the checksum verifies for a datagram from
// src to dst; a zero checksum means none was sent and is valid (RFC 768).
// b must be the view [CheckUDP] returned, so that len(b) is the length.
func (b UDP) ChecksumValid(src, dst [4]byte) bool {
	if b.Checksum() == 0 {
		return true
	}
	return Fold(Sum(b, PseudoHeaderSum(src, dst, ProtoUDP, uint16(len(b))))) == 0xffff
}

// ComputeChecksum returns the checksum of the datagram from src to dst,
// computed as if the checksum field were zero and over all of b (whose
// length is taken as the UDP length). A result of zero is returned as
// 0xffff, since zero means no checksum (RFC 768).
func (b UDP) ComputeChecksum(src, dst [4]byte) uint16 {
	s := Sum(b[:udpChecksum], PseudoHeaderSum(src, dst, ProtoUDP, uint16(len(b))))
	c := Checksum(b[udpChecksum+2:], s)
	if c == 0 {
		return 0xffff
	}
	return c
}

// Fields returns the header's fields.
func (b UDP) Fields() UDPFields {
	return UDPFields{
		SrcPort:  b.SrcPort(),
		DstPort:  b.DstPort(),
		Length:   b.Length(),
		Checksum: b.Checksum(),
	}
}

// UDPFields describes a UDP header to build.
type UDPFields struct {
	SrcPort, DstPort uint16
	// Length is header plus payload.
	Length uint16
	// Checksum is written as given: leave it 0 and store
	// [UDP.ComputeChecksum] once the payload is in place, or send none.
	Checksum uint16
}

// Encode writes the 8-byte header at the start of b and returns
// UDPMinimumSize.
func (f UDPFields) Encode(b []byte) int {
	_ = b[UDPMinimumSize-1]
	binary.BigEndian.PutUint16(b[udpSrcPort:], f.SrcPort)
	binary.BigEndian.PutUint16(b[udpDstPort:], f.DstPort)
	binary.BigEndian.PutUint16(b[udpLength:], f.Length)
	binary.BigEndian.PutUint16(b[udpChecksum:], f.Checksum)
	return UDPMinimumSize
}
