package wire

// Error is a reason a received header was refused; stacks count drops by it.
//
// The zero value is not an error: checks return a nil error on success. An
// Error converted to error does not allocate (Go keeps one-byte values in a
// static table), so a check can return it on the hot path and a caller can
// recover it with a type assertion: counters[err.(wire.Error)]++.
type Error uint8

// Drop reasons. Each check documents which of them it returns.
const (
	// ErrTruncated is a header shorter than its fixed part.
	ErrTruncated Error = iota + 1
	// ErrVersion is an IPv4 header whose version is not 4.
	ErrVersion
	// ErrIHL is an IPv4 header length under 20 bytes or beyond the
	// datagram's total length.
	ErrIHL
	// ErrTotalLength is an IPv4 total length under 20 bytes or beyond the
	// frame.
	ErrTotalLength
	// ErrChecksum is a checksum that does not verify.
	ErrChecksum
	// ErrOptions is an IPv4 or TCP option whose length is 0 or 1, runs past
	// the header, or does not fit its kind.
	ErrOptions
	// ErrFragment is an IPv4 fragment. No check returns it: it is for
	// stacks that drop fragments (they do not reassemble) to count them.
	ErrFragment
	// ErrARPFormat is an ARP packet that is not IPv4 over Ethernet
	// (htype 1, ptype 0x0800, hlen 6, plen 4).
	ErrARPFormat
	// ErrARPOp is an ARP operation other than request (1) or reply (2).
	ErrARPOp
	// ErrUDPLength is a UDP length under 8 bytes or beyond the IP payload.
	ErrUDPLength
	// ErrTCPOffset is a TCP data offset under 20 bytes or beyond the
	// segment.
	ErrTCPOffset
	// ErrICMPType is an ICMP message of the wrong type for the operation,
	// such as [ICMP.Quoted] on an echo request.
	ErrICMPType
	// ErrIGMPType is an IGMP message type this package does not know.
	ErrIGMPType
	// ErrIGMPLength is an IGMP query whose length is neither 8 (IGMPv1/v2)
	// nor at least 12 bytes (IGMPv3), which RFC 3376 §7.1 says to ignore.
	ErrIGMPLength

	// NumErrors is one past the last Error, so callers can size
	// [NumErrors]uint64 counter arrays indexed by Error.
	NumErrors
)

var errorText = [NumErrors]string{
	0:              "wire: no error",
	ErrTruncated:   "wire: truncated header",
	ErrVersion:     "wire: bad IP version",
	ErrIHL:         "wire: bad IPv4 header length",
	ErrTotalLength: "wire: bad IPv4 total length",
	ErrChecksum:    "wire: bad checksum",
	ErrOptions:     "wire: malformed options",
	ErrFragment:    "wire: IPv4 fragment",
	ErrARPFormat:   "wire: ARP is not IPv4 over Ethernet",
	ErrARPOp:       "wire: bad ARP operation",
	ErrUDPLength:   "wire: bad UDP length",
	ErrTCPOffset:   "wire: bad TCP data offset",
	ErrICMPType:    "wire: wrong ICMP type",
	ErrIGMPType:    "wire: unknown IGMP type",
	ErrIGMPLength:  "wire: bad IGMP query length",
}

// Error returns a fixed description of e; it does not allocate.
func (e Error) Error() string {
	if e < NumErrors {
		return errorText[e]
	}
	return "wire: unknown error"
}
