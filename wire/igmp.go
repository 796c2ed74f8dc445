package wire

import "encoding/binary"

// IGMPv2Size is the size of an IGMPv1 or IGMPv2 message.
const IGMPv2Size = 8

// igmpv3QueryMinimumSize is the size of an IGMPv3 query with no source.
const igmpv3QueryMinimumSize = 12

// IGMP message types (RFC 2236, RFC 3376).
const (
	// IGMPMembershipQuery is a general or group-specific query (v1, v2,
	// v3).
	IGMPMembershipQuery = 0x11
	// IGMPv1MembershipReport is an IGMPv1 membership report.
	IGMPv1MembershipReport = 0x12
	// IGMPv2MembershipReport is an IGMPv2 membership report.
	IGMPv2MembershipReport = 0x16
	// IGMPLeaveGroup is an IGMPv2 leave group message.
	IGMPLeaveGroup = 0x17
	// IGMPv3MembershipReport is an IGMPv3 membership report.
	IGMPv3MembershipReport = 0x22
)

const (
	igmpType     = 0
	igmpMaxResp  = 1
	igmpChecksum = 2
	igmpGroup    = 4
)

// IGMP is a view of an IGMP message: the IP payload. Its accessors read
// the 8 bytes that IGMPv1, v2 and v3 queries have in common.
type IGMP []byte

// CheckIGMP checks a received IGMP message; b is the IP payload. It
// returns ErrTruncated under 8 bytes, ErrChecksum when the checksum over
// the whole message does not verify, ErrIGMPType for a type other than the
// IGMP type constants, and ErrIGMPLength for a query neither 8 bytes long
// (v1, v2) nor at least 12 (v3): RFC 3376 §7.1 says to ignore those.
//
// Once it returned nil, the accessors of IGMP(b) do not panic.
func CheckIGMP(b []byte) error {
	if len(b) < IGMPv2Size {
		return ErrTruncated
	}
	if Fold(Sum(b, 0)) != 0xffff {
		return ErrChecksum
	}
	switch b[igmpType] {
	case IGMPMembershipQuery:
		if len(b) != IGMPv2Size && len(b) < igmpv3QueryMinimumSize {
			return ErrIGMPLength
		}
	case IGMPv1MembershipReport, IGMPv2MembershipReport, IGMPLeaveGroup, IGMPv3MembershipReport:
	default:
		return ErrIGMPType
	}
	return nil
}

// Type returns the message type.
func (b IGMP) Type() uint8 { return b[igmpType] }

// MaxResp returns the maximum response time of a query, in tenths of a
// second (0 from an IGMPv1 querier; an IGMPv3 code over 127 is a
// floating-point value, RFC 3376 §4.1.1).
func (b IGMP) MaxResp() uint8 { return b[igmpMaxResp] }

// Checksum returns the checksum field.
func (b IGMP) Checksum() uint16 { return binary.BigEndian.Uint16(b[igmpChecksum:]) }

// Group returns the group address (0.0.0.0 in a general query).
func (b IGMP) Group() [4]byte { return [4]byte(b[igmpGroup : igmpGroup+4]) }

// IsV3Query reports whether the message is an IGMPv3 query (at least 12
// bytes), whose sources follow the group address.
func (b IGMP) IsV3Query() bool {
	return b[igmpType] == IGMPMembershipQuery && len(b) >= igmpv3QueryMinimumSize
}

// SetType sets the message type.
func (b IGMP) SetType(t uint8) { b[igmpType] = t }

// SetMaxResp sets the maximum response time.
func (b IGMP) SetMaxResp(t uint8) { b[igmpMaxResp] = t }

// SetChecksum sets the checksum field.
func (b IGMP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[igmpChecksum:], c) }

// SetGroup sets the group address.
func (b IGMP) SetGroup(g [4]byte) { copy(b[igmpGroup:igmpGroup+4], g[:]) }

// ComputeChecksum returns the checksum of the whole message, computed as
// if the checksum field were zero.
func (b IGMP) ComputeChecksum() uint16 {
	return Checksum(b[igmpChecksum+2:], Sum(b[:igmpChecksum], 0))
}

// Fields returns the common header's fields.
func (b IGMP) Fields() IGMPFields {
	return IGMPFields{Type: b.Type(), MaxResp: b.MaxResp(), Group: b.Group()}
}

// IGMPFields describes an IGMPv2 message to build.
type IGMPFields struct {
	Type    uint8
	MaxResp uint8
	Group   [4]byte
}

// Encode writes the 8-byte message at the start of b, checksum included,
// and returns IGMPv2Size.
func (f IGMPFields) Encode(b []byte) int {
	b = b[:IGMPv2Size]
	b[igmpType] = f.Type
	b[igmpMaxResp] = f.MaxResp
	b[igmpChecksum] = 0
	b[igmpChecksum+1] = 0
	copy(b[igmpGroup:igmpGroup+4], f.Group[:])
	binary.BigEndian.PutUint16(b[igmpChecksum:], Checksum(b, 0))
	return IGMPv2Size
}
