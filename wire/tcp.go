package wire

import "encoding/binary"

// TCPMinimumSize is the size of a TCP header without options.
const TCPMinimumSize = 20

// TCPMaximumHeaderSize is the size of a TCP header with 40 bytes of
// options, the most the data offset can say.
const TCPMaximumHeaderSize = 60

// TCP option kinds this package knows (RFC 9293, RFC 7323, RFC 2018).
const (
	// TCPOptionEOL ends the option list.
	TCPOptionEOL = 0
	// TCPOptionNOP is a one-byte no-op, for alignment.
	TCPOptionNOP = 1
	// TCPOptionMSS is the maximum segment size option.
	TCPOptionMSS = 2
	// TCPOptionWindowScale is the window scale option.
	TCPOptionWindowScale = 3
	// TCPOptionSACKPermitted is the SACK-permitted option.
	TCPOptionSACKPermitted = 4
	// TCPOptionSACK is the SACK blocks option (RFC 2018 §3): 2 + 8·n bytes, n = 1..4.
	TCPOptionSACK = 5
	// TCPOptionTimestamps is the timestamps option.
	TCPOptionTimestamps = 8
)

// TCP option lengths, kind and length bytes included.
const (
	// TCPOptionMSSLength is the length of an MSS option.
	TCPOptionMSSLength = 4
	// TCPOptionWindowScaleLength is the length of a window scale option.
	TCPOptionWindowScaleLength = 3
	// TCPOptionSACKPermittedLength is the length of a SACK-permitted option.
	TCPOptionSACKPermittedLength = 2
	// TCPOptionTimestampsLength is the length of a timestamps option.
	TCPOptionTimestampsLength = 10
)

const (
	tcpSrcPort    = 0
	tcpDstPort    = 2
	tcpSeq        = 4
	tcpAck        = 8
	tcpDataOffset = 12
	tcpFlags      = 13
	tcpWindow     = 14
	tcpChecksum   = 16
	tcpUrgent     = 18
)

// TCPFlags are the control bits of a TCP header (the byte at offset 13).
type TCPFlags uint8

// TCP control bits.
const (
	// TCPFlagFin is FIN: no more data from the sender.
	TCPFlagFin TCPFlags = 1 << iota
	// TCPFlagSyn is SYN: synchronize sequence numbers.
	TCPFlagSyn
	// TCPFlagRst is RST: reset the connection.
	TCPFlagRst
	// TCPFlagPsh is PSH: push.
	TCPFlagPsh
	// TCPFlagAck is ACK: the acknowledgment number is significant.
	TCPFlagAck
	// TCPFlagUrg is URG: the urgent pointer is significant.
	TCPFlagUrg
	// TCPFlagEce is ECE: ECN echo (RFC 3168).
	TCPFlagEce
	// TCPFlagCwr is CWR: congestion window reduced (RFC 3168).
	TCPFlagCwr
)

// Contains reports whether all flags in o are set in f.
func (f TCPFlags) Contains(o TCPFlags) bool { return f&o == o }

// String returns the flags as tcpdump prints them: "[S.]" for SYN-ACK,
// "[none]" for no flag. Letters: F FIN, S SYN, R RST, P PSH, . ACK, U URG,
// E ECE, W CWR, in that order. It allocates: it is for tests and logs.
func (f TCPFlags) String() string {
	if f == 0 {
		return "[none]"
	}
	const letters = "FSRP.UEW"
	buf := make([]byte, 0, 10)
	buf = append(buf, '[')
	for i := 0; i < 8; i++ {
		if f&(1<<i) != 0 {
			buf = append(buf, letters[i])
		}
	}
	return string(append(buf, ']'))
}

// TCP is a view of a TCP segment: header and payload.
type TCP []byte

// CheckTCP checks a received TCP segment; b is the IP payload. It returns
// ErrTruncated when b is under 20 bytes, ErrTCPOffset when the data offset
// is under 5 words or runs past b, and ErrOptions when an option's length
// is 0 or 1 or it runs past the header (EOL ends the list, NOP is fine,
// unknown kinds are skipped by length). Option contents are checked by
// [ParseTCPOptions]. The checksum is not verified: see [TCP.ChecksumValid].
//
// Once it returned nil, the accessors of TCP(b) do not panic.
func CheckTCP(b []byte) error {
	if len(b) < TCPMinimumSize {
		return ErrTruncated
	}
	off := int(b[tcpDataOffset]>>4) * 4
	if off < TCPMinimumSize || off > len(b) {
		return ErrTCPOffset
	}
	if off > TCPMinimumSize && !optionsWellFormed(b[TCPMinimumSize:off]) {
		return ErrOptions
	}
	return nil
}

// SrcPort returns the source port.
func (b TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(b[tcpSrcPort:]) }

// DstPort returns the destination port.
func (b TCP) DstPort() uint16 { return binary.BigEndian.Uint16(b[tcpDstPort:]) }

// Seq returns the sequence number.
func (b TCP) Seq() Seq { return Seq(binary.BigEndian.Uint32(b[tcpSeq:])) }

// Ack returns the acknowledgment number.
func (b TCP) Ack() Seq { return Seq(binary.BigEndian.Uint32(b[tcpAck:])) }

// DataOffset returns the header length in bytes, options included.
func (b TCP) DataOffset() int { return int(b[tcpDataOffset]>>4) * 4 }

// Flags returns the control bits.
func (b TCP) Flags() TCPFlags { return TCPFlags(b[tcpFlags]) }

// Window returns the window field, not scaled.
func (b TCP) Window() uint16 { return binary.BigEndian.Uint16(b[tcpWindow:]) }

// Checksum returns the checksum field.
func (b TCP) Checksum() uint16 { return binary.BigEndian.Uint16(b[tcpChecksum:]) }

// Urgent returns the urgent pointer.
func (b TCP) Urgent() uint16 { return binary.BigEndian.Uint16(b[tcpUrgent:]) }

// Options returns the header's option bytes, possibly empty.
func (b TCP) Options() []byte { return b[TCPMinimumSize:b.DataOffset()] }

// Payload returns the segment's data.
func (b TCP) Payload() []byte { return b[b.DataOffset():] }

// SetSrcPort sets the source port.
func (b TCP) SetSrcPort(p uint16) { binary.BigEndian.PutUint16(b[tcpSrcPort:], p) }

// SetDstPort sets the destination port.
func (b TCP) SetDstPort(p uint16) { binary.BigEndian.PutUint16(b[tcpDstPort:], p) }

// SetSeq sets the sequence number.
func (b TCP) SetSeq(s Seq) { binary.BigEndian.PutUint32(b[tcpSeq:], uint32(s)) }

// SetAck sets the acknowledgment number.
func (b TCP) SetAck(s Seq) { binary.BigEndian.PutUint32(b[tcpAck:], uint32(s)) }

// SetFlags sets the control bits.
func (b TCP) SetFlags(f TCPFlags) { b[tcpFlags] = uint8(f) }

// SetWindow sets the window field.
func (b TCP) SetWindow(w uint16) { binary.BigEndian.PutUint16(b[tcpWindow:], w) }

// SetChecksum sets the checksum field.
func (b TCP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(b[tcpChecksum:], c) }

// SetUrgent sets the urgent pointer.
func (b TCP) SetUrgent(u uint16) { binary.BigEndian.PutUint16(b[tcpUrgent:], u) }

// ChecksumValid reports whether the checksum verifies for a segment from
// src to dst. b must be the whole segment (the IP payload), whose length
// is the one in the pseudo-header.
func (b TCP) ChecksumValid(src, dst [4]byte) bool {
	return Fold(Sum(b, PseudoHeaderSum(src, dst, ProtoTCP, uint16(len(b))))) == 0xffff
}

// ComputeChecksum returns the checksum of the segment b from src to dst,
// computed as if the checksum field were zero.
func (b TCP) ComputeChecksum(src, dst [4]byte) uint16 {
	s := Sum(b[:tcpChecksum], PseudoHeaderSum(src, dst, ProtoTCP, uint16(len(b))))
	return Checksum(b[tcpChecksum+2:], s)
}

// Fields returns the header's fields; MSS comes from a well-formed MSS
// option, other options are not represented. It assumes [CheckTCP]
// accepted b.
func (b TCP) Fields() TCPFields {
	f := TCPFields{
		SrcPort:  b.SrcPort(),
		DstPort:  b.DstPort(),
		Seq:      b.Seq(),
		Ack:      b.Ack(),
		Flags:    b.Flags(),
		Window:   b.Window(),
		Checksum: b.Checksum(),
		Urgent:   b.Urgent(),
	}
	if o, err := ParseTCPOptions(b.Options()); err == nil && o.HasMSS {
		f.MSS = o.MSS
	}
	return f
}

// TCPFields describes a TCP header to build.
type TCPFields struct {
	SrcPort, DstPort uint16
	Seq, Ack         Seq
	Flags            TCPFlags
	Window           uint16
	// Checksum is written as given: leave it 0 and store
	// [TCP.ComputeChecksum] once the payload is in place.
	Checksum uint16
	Urgent   uint16
	// MSS, when not 0, adds an MSS option (the only one zocket sends).
	MSS uint16
}

// Encode writes the header at the start of b and returns its length: 20
// bytes, or 24 with an MSS option. b must be long enough.
func (f TCPFields) Encode(b []byte) int {
	hl := TCPMinimumSize
	if f.MSS != 0 {
		hl += TCPOptionMSSLength
	}
	_ = b[hl-1]
	binary.BigEndian.PutUint16(b[tcpSrcPort:], f.SrcPort)
	binary.BigEndian.PutUint16(b[tcpDstPort:], f.DstPort)
	binary.BigEndian.PutUint32(b[tcpSeq:], uint32(f.Seq))
	binary.BigEndian.PutUint32(b[tcpAck:], uint32(f.Ack))
	b[tcpDataOffset] = uint8(hl/4) << 4
	b[tcpFlags] = uint8(f.Flags)
	binary.BigEndian.PutUint16(b[tcpWindow:], f.Window)
	binary.BigEndian.PutUint16(b[tcpChecksum:], f.Checksum)
	binary.BigEndian.PutUint16(b[tcpUrgent:], f.Urgent)
	if f.MSS != 0 {
		b[20] = TCPOptionMSS
		b[21] = TCPOptionMSSLength
		binary.BigEndian.PutUint16(b[22:], f.MSS)
	}
	return hl
}

// MaxSACKBlocks is the most SACK blocks one option carries (40 option bytes: 2 + 4·8).
const MaxSACKBlocks = 4

// SACKBlock is one block of a SACK option: the sequence space [Left, Right) the receiver
// holds (RFC 2018 §3).
type SACKBlock struct {
	Left, Right Seq
}

// TCPOptions are the options of a segment that zocket reads. Values are as
// received: a window scale over 14 is the caller's to clamp (RFC 7323
// §2.3), an MSS of 0 the caller's to ignore, SACK blocks the caller's to
// validate against its send sequence space.
type TCPOptions struct {
	MSS           uint16
	HasMSS        bool
	WScale        uint8
	HasWScale     bool
	SACKPermitted bool
	HasTimestamps bool
	// TSVal and TSEcr are the timestamp values when HasTimestamps.
	TSVal, TSEcr uint32
	// SACK holds the first NumSACK blocks of a SACK option, in the order sent.
	SACK    [MaxSACKBlocks]SACKBlock
	NumSACK int
}

// ParseTCPOptions parses a TCP header's option bytes ([TCP.Options]). It
// returns ErrOptions when an option's length is 0 or 1 or runs past opts,
// or when MSS, window scale, SACK-permitted or timestamps has a length
// other than its own (4, 3, 2, 10), or a SACK option is not 2 + 8·n bytes
// with n from 1 to 4. Unknown kinds are skipped by their length. A
// repeated option overrides the earlier one.
// On error it returns zero TCPOptions.
//
// Linux ignores malformed options and keeps the segment; zocket drops it,
// the stricter reading of RFC 9293 §3.1 that also keeps a peer from
// sneaking in options a middlebox would not have passed.
func ParseTCPOptions(opts []byte) (TCPOptions, error) {
	var o TCPOptions
	for i := 0; i < len(opts); {
		kind := opts[i]
		if kind == TCPOptionEOL {
			break
		}
		if kind == TCPOptionNOP {
			i++
			continue
		}
		if i+1 >= len(opts) {
			return TCPOptions{}, ErrOptions
		}
		l := int(opts[i+1])
		if l < 2 || l > len(opts)-i {
			return TCPOptions{}, ErrOptions
		}
		v := opts[i : i+l]
		switch kind {
		case TCPOptionMSS:
			if l != TCPOptionMSSLength {
				return TCPOptions{}, ErrOptions
			}
			o.MSS = binary.BigEndian.Uint16(v[2:])
			o.HasMSS = true
		case TCPOptionWindowScale:
			if l != TCPOptionWindowScaleLength {
				return TCPOptions{}, ErrOptions
			}
			o.WScale = v[2]
			o.HasWScale = true
		case TCPOptionSACKPermitted:
			if l != TCPOptionSACKPermittedLength {
				return TCPOptions{}, ErrOptions
			}
			o.SACKPermitted = true
		case TCPOptionTimestamps:
			if l != TCPOptionTimestampsLength {
				return TCPOptions{}, ErrOptions
			}
			o.TSVal = binary.BigEndian.Uint32(v[2:])
			o.TSEcr = binary.BigEndian.Uint32(v[6:])
			o.HasTimestamps = true
		case TCPOptionSACK:
			if (l-2)%8 != 0 || l < 10 {
				return TCPOptions{}, ErrOptions
			}
			o.NumSACK = (l - 2) / 8
			for k := range o.NumSACK {
				o.SACK[k] = SACKBlock{Left: Seq(binary.BigEndian.Uint32(v[2+8*k:])), Right: Seq(binary.BigEndian.Uint32(v[6+8*k:]))}
			}
		}
		i += l
	}
	return o, nil
}

// MaxTCPOptionsSize is the most option bytes a TCP header holds (data offset 15 words).
const MaxTCPOptionsSize = 40

// Encode writes the options into b in Linux's layout, every option aligned to 4 bytes with
// NOPs: MSS; SACK-permitted and timestamps (together 12 bytes when both); window scale; SACK
// blocks, as many of o.SACK[:o.NumSACK] as fit in MaxTCPOptionsSize (3 beside timestamps, 4
// without). It returns the bytes written, a multiple of 4; b must hold MaxTCPOptionsSize.
func (o *TCPOptions) Encode(b []byte) int {
	n := 0
	if o.HasMSS {
		b[0], b[1] = TCPOptionMSS, TCPOptionMSSLength
		binary.BigEndian.PutUint16(b[2:], o.MSS)
		n = 4
	}
	switch {
	case o.HasTimestamps:
		if o.SACKPermitted {
			b[n], b[n+1] = TCPOptionSACKPermitted, TCPOptionSACKPermittedLength
		} else {
			b[n], b[n+1] = TCPOptionNOP, TCPOptionNOP
		}
		b[n+2], b[n+3] = TCPOptionTimestamps, TCPOptionTimestampsLength
		binary.BigEndian.PutUint32(b[n+4:], o.TSVal)
		binary.BigEndian.PutUint32(b[n+8:], o.TSEcr)
		n += 12
	case o.SACKPermitted:
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptionNOP, TCPOptionNOP, TCPOptionSACKPermitted, TCPOptionSACKPermittedLength
		n += 4
	}
	if o.HasWScale {
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptionNOP, TCPOptionWindowScale, TCPOptionWindowScaleLength, o.WScale
		n += 4
	}
	if k := min(o.NumSACK, (MaxTCPOptionsSize-n-4)/8); k > 0 {
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptionNOP, TCPOptionNOP, TCPOptionSACK, byte(2+8*k)
		n += 4
		for _, blk := range o.SACK[:k] {
			binary.BigEndian.PutUint32(b[n:], uint32(blk.Left))
			binary.BigEndian.PutUint32(b[n+4:], uint32(blk.Right))
			n += 8
		}
	}
	return n
}
