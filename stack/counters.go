package stack

// DropReason says why the stack dropped a received packet. Every drop is counted by reason in
// Counters.Drops; Name gives the metric label.
type DropReason uint8

// Drop reasons of the layers the stack owns (Ethernet, ARP, IPv4, ICMP). Transports count
// their own.
const (
	DropEthRunt           DropReason = iota // frame shorter than an Ethernet header
	DropEthNotForUs                         // destination MAC neither ours, broadcast nor a joined group
	DropEthType                             // unknown ethertype
	DropVLAN                                // VLAN tag for another VLAN
	DropARPTruncated                        // ARP shorter than 28 bytes
	DropARPFormat                           // htype/ptype/hlen/plen not Ethernet+IPv4
	DropARPOp                               // opcode neither request nor reply
	DropARPSender                           // sender MAC broadcast/multicast or sender IP unusable
	DropARPNotForUs                         // request for another host's address
	DropARPQueueFull                        // packet waiting for resolution dropped: queue full
	DropARPTimeout                          // packet waiting for resolution dropped: no reply
	DropIPTruncated                         // shorter than an IPv4 header
	DropIPVersion                           // version not 4
	DropIPIHL                               // header length < 20 or beyond the total length
	DropIPLength                            // total length beyond the frame
	DropIPChecksum                          // bad header checksum
	DropIPOptions                           // malformed options, or a source route
	DropIPFragment                          // fragments are not reassembled
	DropIPSource                            // source broadcast, multicast, 0.0.0.0, loopback or ours
	DropIPNotForUs                          // destination not ours
	DropIPTTL                               // TTL 0
	DropIPProtocol                          // no transport for the protocol
	DropICMPTruncated                       // ICMP shorter than 8 bytes
	DropICMPChecksum                        // bad ICMP checksum
	DropICMPBroadcastEcho                   // echo request to a broadcast or multicast address
	DropICMPUnhandled                       // ICMP type the stack does not act on
	DropTxNoBufs                            // the stack could not allocate a reply
	NumDropReasons
)

var dropNames = [NumDropReasons]string{
	"eth_runt", "eth_not_for_us", "eth_type", "vlan",
	"arp_truncated", "arp_format", "arp_op", "arp_sender", "arp_not_for_us", "arp_queue_full", "arp_timeout",
	"ip_truncated", "ip_version", "ip_ihl", "ip_length", "ip_checksum", "ip_options", "ip_fragment",
	"ip_source", "ip_not_for_us", "ip_ttl", "ip_protocol",
	"icmp_truncated", "icmp_checksum", "icmp_broadcast_echo", "icmp_unhandled",
	"tx_nobufs",
}

// Name is the reason's label, e.g. "ip_checksum".
func (r DropReason) Name() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// Counters are the stack's packet counters: plain fields the reactor increments. Read them from
// the polling goroutine, or through Stack.Counters from another goroutine (a copy, see there).
type Counters struct {
	RxPackets     uint64 // frames taken from the port
	RxBytes       uint64
	TxPackets     uint64 // frames handed to the port
	TxBytes       uint64
	TxRingFull    uint64 // frames the port refused (ring full) and kept for the next turn
	RxARP         uint64
	TxARPRequests uint64
	TxARPReplies  uint64
	RxIPv4        uint64
	RxICMP        uint64
	TxEchoReplies uint64
	Delivered     uint64 // packets handed to a transport
	Polls         uint64 // reactor turns (port polls)
	BusyPolls     uint64 // turns that received or sent something
	Drops         [NumDropReasons]uint64
	Faults        FaultCounters
}

// FaultCounters count what the fault shim did to transmitted frames. TailDropped counts the
// frames its emulated link dropped because its queue was full (Faults.Queue); Dropped counts
// only the random drops (Faults.Drop).
type FaultCounters struct {
	Dropped, Duplicated, Reordered, Corrupted, TailDropped uint64
}

// Dropped sums the drops of every reason.
func (c *Counters) Dropped() uint64 {
	var n uint64
	for _, d := range c.Drops {
		n += d
	}
	return n
}
