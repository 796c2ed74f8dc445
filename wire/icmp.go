package wire

import "encoding/binary"

// ICMPMinimumSize is the size of an ICMP header.
const ICMPMinimumSize = 8

// ICMP message types (RFC 792).
const (
	// ICMPEchoReply is the type of an echo reply.
	ICMPEchoReply = 0
	// ICMPDestUnreachable is the type of a destination unreachable error.
	ICMPDestUnreachable = 3
	// ICMPSourceQuench is the type of a source quench error (deprecated).
	ICMPSourceQuench = 4
	// ICMPRedirect is the type of a redirect error.
	ICMPRedirect = 5
	// ICMPEchoRequest is the type of an echo request.
	ICMPEchoRequest = 8
	// ICMPTimeExceeded is the type of a time exceeded error.
	ICMPTimeExceeded = 11
	// ICMPParamProblem is the type of a parameter problem error.
	ICMPParamProblem = 12
)

// ICMP destination unreachable codes.
const (
	// ICMPNetUnreachable is the code for an unreachable network.
	ICMPNetUnreachable = 0
	// ICMPHostUnreachable is the code for an unreachable host.
	ICMPHostUnreachable = 1
	// ICMPProtoUnreachable is the code for an unsupported protocol.
	ICMPProtoUnreachable = 2
	// ICMPPortUnreachable is the code for a closed UDP port.
	ICMPPortUnreachable = 3
	// ICMPFragmentationNeeded is the code for a datagram with DF set that
	// needs fragmenting; [ICMP.MTU] holds the next-hop MTU (RFC 1191).
	ICMPFragmentationNeeded = 4
	// ICMPSourceRouteFailed is the code for a failed source route.
	ICMPSourceRouteFailed = 5
)

const (
	icmpType     = 0
	icmpCode     = 1
	icmpChecksum = 2
	icmpID       = 4
	icmpSeq      = 6
	icmpMTU      = 6
)

// ICMP is a view of an ICMPv4 message: the IP payload.
type ICMP []byte

// CheckICMP checks a received ICMP message; b is the IP payload. It
// returns ErrTruncated under 8 bytes and ErrChecksum when the checksum over
// the whole message does not verify (NICs do not offload it). Types are
// not checked: echo to a broadcast address and errors about errors are the
// caller's policy.
//
// Once it returned nil, the accessors of ICMP(b) do not panic.
func CheckICMP(b []byte) error {
	if len(b) < ICMPMinimumSize {
		return ErrTruncated
	}
	if Fold(Sum(b, 0)) != 0xffff {
		return ErrChecksum
	}
	return nil
}

// Type returns the message type.
func (b ICMP) Type() uint8 { return b[icmpType] }

// Code returns the message code.
func (b ICMP) Code() uint8 { return b[icmpCode] }

// Checksum returns the checksum field.
func (b ICMP) Checksum() uint16 { return binary.BigEndian.Uint16(b[icmpChecksum:]) }

// ID returns the identifier of an echo request or reply.
func (b ICMP) ID() uint16 { return binary.BigEndian.Uint16(b[icmpID:]) }

// Seq returns the sequence number of an echo request or reply.
func (b ICMP) Seq() uint16 { return binary.BigEndian.Uint16(b[icmpSeq:]) }

// MTU returns the next-hop MTU of a fragmentation-needed message (RFC 1191
// §4), or 0 from a router that predates it.
func (b ICMP) MTU() uint16 { return binary.BigEndian.Uint16(b[icmpMTU:]) }

// Payload returns what follows the 8-byte header: echo data, or the quoted
// datagram of an error.
func (b ICMP) Payload() []byte { return b[ICMPMinimumSize:] }

// IsError reports whether the message is an error: destination
// unreachable, source quench, redirect, time exceeded or parameter
// problem. RFC 1122 §3.2.2 forbids answering one with an error.
func (b ICMP) IsError() bool {
	switch b[icmpType] {
	case ICMPDestUnreachable, ICMPSourceQuench, ICMPRedirect, ICMPTimeExceeded, ICMPParamProblem:
		return true
	}
	return false
}

// Quoted returns the IPv4 header quoted by an error message and the first
// 8 bytes of its payload (enough for the ports, and TCP's sequence number).
// It returns ErrICMPType when the message is not an error; ErrTruncated
// when the quote is shorter than its own header plus 8 bytes; ErrVersion,
// ErrIHL or ErrOptions for a malformed quoted header; and ErrTotalLength
// when the quoted total length is under the header plus 8 bytes.
//
// ip ends where the quote or the quoted datagram ends, whichever comes
// first; its accessors do not panic, and its Payload holds at least 8
// bytes. The quoted header's checksum is not verified.
func (b ICMP) Quoted() (ip IPv4, err error) {
	if !b.IsError() {
		return nil, ErrICMPType
	}
	q := b[ICMPMinimumSize:]
	hl, err := checkIPv4Header(q)
	if err != nil {
		return nil, err
	}
	if len(q) < hl+8 {
		return nil, ErrTruncated
	}
	tl := int(binary.BigEndian.Uint16(q[ipTotalLength:]))
	if tl < hl+8 {
		return nil, ErrTotalLength
	}
	return IPv4(q[:min(tl, len(q))]), nil
}

// ComputeChecksum returns the checksum of the whole message, computed as
// if the checksum field were zero.
func (b ICMP) ComputeChecksum() uint16 {
	return Checksum(b[icmpChecksum+2:], Sum(b[:icmpChecksum], 0))
}

// SetType sets the message type.
func (b ICMP) SetType(t uint8) { b[icmpType] = t }

// SetCode sets the message code.
func (b ICMP) SetCode(c uint8) { b[icmpCode] = c }

// SetChecksum sets the checksum field.
func (b ICMP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[icmpChecksum:], c) }

// SetID sets the echo identifier.
func (b ICMP) SetID(id uint16) { binary.BigEndian.PutUint16(b[icmpID:], id) }

// SetSeq sets the echo sequence number.
func (b ICMP) SetSeq(seq uint16) { binary.BigEndian.PutUint16(b[icmpSeq:], seq) }

// Fields returns the header's fields. It assumes [CheckICMP] accepted b.
func (b ICMP) Fields() ICMPFields {
	return ICMPFields{Type: b.Type(), Code: b.Code(), ID: b.ID(), Seq: b.Seq()}
}

// ICMPFields describes an ICMP header to build. For errors, ID and Seq are
// the rest-of-header word: zero, or ID 0 and Seq the MTU for
// fragmentation needed.
type ICMPFields struct {
	Type, Code uint8
	ID, Seq    uint16
}

// Encode writes the 8-byte header at the start of b and the checksum over
// all of b, and returns ICMPMinimumSize. Put the payload in b[8:] first and
// pass exactly the message.
func (f ICMPFields) Encode(b []byte) int {
	_ = b[ICMPMinimumSize-1]
	b[icmpType] = f.Type
	b[icmpCode] = f.Code
	b[icmpChecksum] = 0
	b[icmpChecksum+1] = 0
	binary.BigEndian.PutUint16(b[icmpID:], f.ID)
	binary.BigEndian.PutUint16(b[icmpSeq:], f.Seq)
	binary.BigEndian.PutUint16(b[icmpChecksum:], Checksum(b, 0))
	return ICMPMinimumSize
}
