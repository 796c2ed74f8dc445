package wire

import (
	"encoding/binary"
	"math/bits"
)

// IPv4MinimumSize is the size of an IPv4 header without options.
const IPv4MinimumSize = 20

// IPv4MaximumHeaderSize is the size of an IPv4 header with 40 bytes of
// options, the most IHL can say.
const IPv4MaximumHeaderSize = 60

// IP protocol numbers.
const (
	// ProtoICMP is ICMP's protocol number.
	ProtoICMP = 1
	// ProtoIGMP is IGMP's protocol number.
	ProtoIGMP = 2
	// ProtoTCP is TCP's protocol number.
	ProtoTCP = 6
	// ProtoUDP is UDP's protocol number.
	ProtoUDP = 17
)

// IPv4 option kinds this package knows.
const (
	// IPv4OptionEOL ends the option list.
	IPv4OptionEOL = 0
	// IPv4OptionNOP is a one-byte no-op, for alignment.
	IPv4OptionNOP = 1
	// IPv4OptionLSRR is the loose source and record route option.
	IPv4OptionLSRR = 131
	// IPv4OptionSSRR is the strict source and record route option.
	IPv4OptionSSRR = 137
	// IPv4OptionRouterAlert is the router alert option (RFC 2113), which
	// IGMP messages carry.
	IPv4OptionRouterAlert = 148
)

const (
	ipVersionIHL   = 0
	ipTOS          = 1
	ipTotalLength  = 2
	ipID           = 4
	ipFlagsFrag    = 6
	ipTTL          = 8
	ipProtocol     = 9
	ipChecksum     = 10
	ipSrc          = 12
	ipDst          = 16
	ipFlagDF       = 0x4000
	ipFlagMF       = 0x2000
	ipFragOffMask  = 0x1fff
	ipRouterAlertL = 4 // router alert option length
)

// IPv4 is a view of an IPv4 header and the datagram after it.
type IPv4 []byte

// checkIPv4Header checks the parts of an IPv4 header that do not depend on
// the total length: size, version, IHL and options. It returns the header
// length in bytes.
func checkIPv4Header(b []byte) (int, error) {
	if len(b) < IPv4MinimumSize {
		return 0, ErrTruncated
	}
	if b[ipVersionIHL]>>4 != 4 {
		return 0, ErrVersion
	}
	hl := int(b[ipVersionIHL]&0xf) * 4
	if hl < IPv4MinimumSize {
		return 0, ErrIHL
	}
	if hl > len(b) {
		return 0, ErrTruncated
	}
	if !optionsWellFormed(b[IPv4MinimumSize:hl]) {
		return 0, ErrOptions
	}
	return hl, nil
}

// CheckIPv4 checks a received IPv4 header; b is the Ethernet payload,
// padding included. It returns, in this order:
//   - ErrTruncated when b is under 20 bytes;
//   - ErrVersion when the version is not 4;
//   - ErrIHL when IHL is under 5;
//   - ErrTotalLength when the total length is under 20 or over len(b);
//   - ErrIHL when the header is longer than the total length;
//   - ErrOptions when an option's length is 0 or 1 or it runs past the
//     header (EOL ends the list, NOP is fine; contents are not checked).
//
// It does not verify the header checksum (the NIC may have): see
// [IPv4.ChecksumValid]. Fragments and source routes pass: see
// [IPv4.IsFragment] and [IPv4.HasSourceRoute].
//
// Once it returned nil, the accessors of IPv4(b) do not panic, and
// [IPv4.Payload] ends at the total length: Ethernet padding is not payload.
func CheckIPv4(b []byte) error {
	if len(b) < IPv4MinimumSize {
		return ErrTruncated
	}
	if b[ipVersionIHL]>>4 != 4 {
		return ErrVersion
	}
	hl := int(b[ipVersionIHL]&0xf) * 4
	if hl < IPv4MinimumSize {
		return ErrIHL
	}
	tl := int(binary.BigEndian.Uint16(b[ipTotalLength:]))
	if tl < IPv4MinimumSize || tl > len(b) {
		return ErrTotalLength
	}
	if hl > tl {
		return ErrIHL
	}
	if hl > IPv4MinimumSize && !optionsWellFormed(b[IPv4MinimumSize:hl]) {
		return ErrOptions
	}
	return nil
}

// Version returns the IP version, 4 once checked.
func (b IPv4) Version() uint8 { return b[ipVersionIHL] >> 4 }

// IHL returns the header length field, in 32-bit words.
func (b IPv4) IHL() uint8 { return b[ipVersionIHL] & 0xf }

// HeaderLength returns the header length in bytes, options included.
func (b IPv4) HeaderLength() int { return int(b[ipVersionIHL]&0xf) * 4 }

// TOS returns the type of service byte (DSCP and ECN).
func (b IPv4) TOS() uint8 { return b[ipTOS] }

// TotalLength returns the datagram's length, header included.
func (b IPv4) TotalLength() uint16 { return binary.BigEndian.Uint16(b[ipTotalLength:]) }

// ID returns the identification field.
func (b IPv4) ID() uint16 { return binary.BigEndian.Uint16(b[ipID:]) }

// Flags returns the three flag bits: reserved, DF, MF (DF is 2, MF is 1).
func (b IPv4) Flags() uint8 { return b[ipFlagsFrag] >> 5 }

// DontFragment reports the DF flag.
func (b IPv4) DontFragment() bool {
	return binary.BigEndian.Uint16(b[ipFlagsFrag:])&ipFlagDF != 0
}

// MoreFragments reports the MF flag.
func (b IPv4) MoreFragments() bool {
	return binary.BigEndian.Uint16(b[ipFlagsFrag:])&ipFlagMF != 0
}

// FragmentOffset returns the fragment offset in bytes (the field times 8).
func (b IPv4) FragmentOffset() uint16 {
	return (binary.BigEndian.Uint16(b[ipFlagsFrag:]) & ipFragOffMask) << 3
}

// IsFragment reports whether the datagram is a fragment: MF set or a
// nonzero offset. zocket does not reassemble; see [ErrFragment].
func (b IPv4) IsFragment() bool {
	return binary.BigEndian.Uint16(b[ipFlagsFrag:])&(ipFlagMF|ipFragOffMask) != 0
}

// TTL returns the time to live.
func (b IPv4) TTL() uint8 { return b[ipTTL] }

// Protocol returns the payload's protocol number (ProtoTCP, ...).
func (b IPv4) Protocol() uint8 { return b[ipProtocol] }

// Checksum returns the header checksum field.
func (b IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(b[ipChecksum:]) }

// Src returns the source address.
func (b IPv4) Src() [4]byte { return [4]byte(b[ipSrc : ipSrc+4]) }

// Dst returns the destination address.
func (b IPv4) Dst() [4]byte { return [4]byte(b[ipDst : ipDst+4]) }

// Options returns the header's option bytes, possibly empty.
func (b IPv4) Options() []byte { return b[IPv4MinimumSize:b.HeaderLength()] }

// Payload returns the datagram's payload: from the end of the header to
// the total length, so Ethernet padding is left out. For a view shorter
// than its total length (a header quoted in an ICMP error) it stops at the
// end of the view.
func (b IPv4) Payload() []byte {
	end := min(int(b.TotalLength()), len(b))
	return b[b.HeaderLength():end]
}

// HasSourceRoute reports whether the header carries a loose or strict
// source route option (LSRR, SSRR), which hosts normally drop.
func (b IPv4) HasSourceRoute() bool {
	opts := b.Options()
	return findOption(opts, IPv4OptionLSRR) >= 0 || findOption(opts, IPv4OptionSSRR) >= 0
}

// HasRouterAlert reports whether the header carries a router alert option
// (RFC 2113), as IGMP messages do.
func (b IPv4) HasRouterAlert() bool {
	return findOption(b.Options(), IPv4OptionRouterAlert) >= 0
}

// ChecksumValid reports whether the header checksum verifies.
func (b IPv4) ChecksumValid() bool {
	if len(b) >= IPv4MinimumSize && b[ipVersionIHL] == 0x45 {
		return ChecksumValid20((*[IPv4MinimumSize]byte)(b))
	}
	return Fold(Sum(b[:b.HeaderLength()], 0)) == 0xffff
}

// ChecksumValid20 reports whether the checksum of a 20-byte header (no options: the receive
// path's common case) verifies, in three adds and a fold; it inlines. The ones-complement sum is the same in either byte order up to a
// byte swap, and a valid sum (0xffff) is its own swap, so the words are added as they load.
func ChecksumValid20(h *[IPv4MinimumSize]byte) bool {
	acc, c := bits.Add64(binary.LittleEndian.Uint64(h[0:8]), binary.LittleEndian.Uint64(h[8:16]), 0)
	acc, c = bits.Add64(acc, uint64(binary.LittleEndian.Uint32(h[16:20])), c)
	acc += c // cannot carry again: the third addend is under 2^32
	s := acc>>32 + acc&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return s == 0xffff
}

// ComputeChecksum returns the header checksum, computed as if the checksum
// field were zero; store it with SetChecksum.
func (b IPv4) ComputeChecksum() uint16 {
	hl := b.HeaderLength()
	return Checksum(b[ipChecksum+2:hl], Sum(b[:ipChecksum], 0))
}

// SetTOS sets the type of service byte.
func (b IPv4) SetTOS(tos uint8) { b[ipTOS] = tos }

// SetTotalLength sets the total length.
func (b IPv4) SetTotalLength(n uint16) { binary.BigEndian.PutUint16(b[ipTotalLength:], n) }

// SetID sets the identification field.
func (b IPv4) SetID(id uint16) { binary.BigEndian.PutUint16(b[ipID:], id) }

// SetFlagsFragment sets the DF and MF flags and the fragment offset, in
// bytes (a multiple of 8; the low 3 bits are dropped). The reserved flag
// is cleared.
func (b IPv4) SetFlagsFragment(df, mf bool, offsetBytes uint16) {
	binary.BigEndian.PutUint16(b[ipFlagsFrag:], flagsFrag(df, mf, offsetBytes))
}

func flagsFrag(df, mf bool, offsetBytes uint16) uint16 {
	v := offsetBytes >> 3
	if df {
		v |= ipFlagDF
	}
	if mf {
		v |= ipFlagMF
	}
	return v
}

// SetTTL sets the time to live.
func (b IPv4) SetTTL(ttl uint8) { b[ipTTL] = ttl }

// SetProtocol sets the protocol number.
func (b IPv4) SetProtocol(p uint8) { b[ipProtocol] = p }

// SetChecksum sets the header checksum field.
func (b IPv4) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[ipChecksum:], c) }

// SetSrc sets the source address.
func (b IPv4) SetSrc(a [4]byte) { copy(b[ipSrc:ipSrc+4], a[:]) }

// SetDst sets the destination address.
func (b IPv4) SetDst(a [4]byte) { copy(b[ipDst:ipDst+4], a[:]) }

// Fields returns the header's fields. Options other than router alert are
// not represented. It assumes [CheckIPv4] accepted b.
func (b IPv4) Fields() IPv4Fields {
	return IPv4Fields{
		TOS:         b.TOS(),
		TotalLength: b.TotalLength(),
		ID:          b.ID(),
		DF:          b.DontFragment(),
		MF:          b.MoreFragments(),
		FragOffset:  b.FragmentOffset(),
		TTL:         b.TTL(),
		Protocol:    b.Protocol(),
		Src:         b.Src(),
		Dst:         b.Dst(),
		RouterAlert: b.HasRouterAlert(),
	}
}

// IPv4Fields describes an IPv4 header to build.
type IPv4Fields struct {
	TOS         uint8
	TotalLength uint16
	ID          uint16
	DF, MF      bool
	// FragOffset is the fragment offset in bytes, a multiple of 8.
	FragOffset uint16
	TTL        uint8
	Protocol   uint8
	Src, Dst   [4]byte
	// RouterAlert adds a 4-byte router alert option (RFC 2113), which
	// IGMP messages carry (RFC 2236 §2).
	RouterAlert bool
}

// Encode writes the header at the start of b with a correct checksum and
// returns its length: 20 bytes, or 24 with RouterAlert. b must be long
// enough. TotalLength is written as given: it includes the header.
func (f IPv4Fields) Encode(b []byte) int {
	hl := IPv4MinimumSize
	if f.RouterAlert {
		hl += ipRouterAlertL
	}
	_ = b[hl-1]
	b[ipVersionIHL] = 4<<4 | uint8(hl/4)
	b[ipTOS] = f.TOS
	binary.BigEndian.PutUint16(b[ipTotalLength:], f.TotalLength)
	binary.BigEndian.PutUint16(b[ipID:], f.ID)
	binary.BigEndian.PutUint16(b[ipFlagsFrag:], flagsFrag(f.DF, f.MF, f.FragOffset))
	b[ipTTL] = f.TTL
	b[ipProtocol] = f.Protocol
	b[ipChecksum] = 0
	b[ipChecksum+1] = 0
	copy(b[ipSrc:ipSrc+4], f.Src[:])
	copy(b[ipDst:ipDst+4], f.Dst[:])
	if f.RouterAlert {
		b[20], b[21], b[22], b[23] = IPv4OptionRouterAlert, ipRouterAlertL, 0, 0
	}
	binary.BigEndian.PutUint16(b[ipChecksum:], Checksum(b[:hl], 0))
	return hl
}

// IsBroadcast4 reports whether a is the limited broadcast address
// 255.255.255.255. A directed broadcast depends on the netmask, which is
// the caller's.
func IsBroadcast4(a [4]byte) bool { return a == [4]byte{255, 255, 255, 255} }

// IsMulticast4 reports whether a is a multicast group, 224.0.0.0/4.
func IsMulticast4(a [4]byte) bool { return a[0]&0xf0 == 0xe0 }

// IsLoopback4 reports whether a is in 127.0.0.0/8.
func IsLoopback4(a [4]byte) bool { return a[0] == 127 }

// IsUnspecified4 reports whether a is 0.0.0.0.
func IsUnspecified4(a [4]byte) bool { return a == [4]byte{} }
