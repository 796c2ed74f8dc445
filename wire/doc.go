// Package wire parses and builds the Ethernet, ARP, IPv4, ICMPv4, IGMPv2,
// UDP and TCP headers that zocket sends and receives.
//
// # Views
//
// A header is a typed byte slice over the packet buffer (gVisor's header
// package style): [Ethernet], [ARP], [IPv4], [ICMP], [IGMP], [UDP] and
// [TCP]. Accessors read fields in network byte order straight from the
// buffer and setters write them in place; nothing is copied and nothing is
// allocated. Each header also has a Fields struct ([IPv4Fields], [TCPFields],
// ...) whose Encode method writes a complete header, for templates and tests,
// and a Fields method on the view that reads one back.
//
// # The receive contract
//
// Untrusted input must go through the header's check first:
// [ParseEthernet], [CheckARP], [CheckIPv4], [CheckICMP], [CheckIGMP],
// [CheckUDP] or [CheckTCP] (smoltcp's new_checked). A check validates lengths
// and format before any field is read. Once it returned nil, no accessor of
// that view panics, whatever the bytes are; the fuzz targets in this package
// hold it to that. Accessors called on a view that was not checked (or was
// refused) may panic: emitted packets are built by this code into buffers of
// the right size, and skip the check.
//
// A check refuses a header with an [Error], a small integer that names the
// drop reason so a stack can count drops in a [NumErrors]-sized array.
// Converting an Error to error, returning it and calling its Error method
// do not allocate.
//
// Checks do not verify what a NIC may have verified already: [CheckIPv4],
// [CheckUDP] and [CheckTCP] leave checksums to [IPv4.ChecksumValid],
// [UDP.ChecksumValid] and [TCP.ChecksumValid], so a stack with checksum
// offload skips them. ICMP and IGMP are never offloaded and [CheckICMP] and
// [CheckIGMP] verify their checksums. Policy (fragments, source routes,
// broadcast sources, which ports are open) belongs to the caller: the
// accessors [IPv4.IsFragment], [IPv4.HasSourceRoute], [IsBroadcast4] and so
// on give it what it needs, and [ErrFragment] is there for it to count with.
//
// # Checksums
//
// [Sum], [Fold], [Checksum], [SumAt] and [PseudoHeaderSum] compute the
// Internet checksum (RFC 1071) eight bytes per step; [ChecksumUpdate16] and
// [ChecksumUpdate32] patch one in place (RFC 1624).
//
// # Allocation
//
// Nothing in this package allocates, except [TCPFlags.String] and
// [Seq.String], which are meant for tests and logs.
package wire
