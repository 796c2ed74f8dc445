package udp

import (
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// DropReason says why a received UDP datagram was dropped.
type DropReason uint8

// Drop reasons, counted per stack in Counters.Drops.
const (
	DropTruncated  DropReason = iota // UDP header under 8 bytes
	DropLength                       // UDP length under 8 or beyond the IP payload
	DropChecksum                     // checksum does not verify
	DropPort0                        // destination port 0
	DropNoEndpoint                   // no receiver bound to the destination
	DropQueueFull                    // the receiver's queue was full (q_drops)
	NumDropReasons
)

var dropNames = [NumDropReasons]string{"udp_truncated", "udp_length", "udp_checksum", "udp_port0", "udp_no_endpoint", "udp_queue_full"}

// Name is the reason's label, e.g. "udp_checksum".
func (r DropReason) Name() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// Counters are a stack's UDP counters.
type Counters struct {
	RxDatagrams uint64 // datagrams queued on receivers
	RxBytes     uint64 // their payload bytes
	TxDatagrams uint64 // datagrams handed to the port (or to ARP resolution)
	TxBytes     uint64 // their payload bytes
	TxFragments uint64 // IPv4 fragments sent for datagrams over the MSS
	TxFragLost  uint64 // fragmented datagrams cut short because the TX ring filled
	TxRingFull  uint64 // sends refused with EAGAIN
	TxNoBufs    uint64 // sends refused with ENOBUFS
	TxHostOnly  uint64 // multicast datagrams not sent: multicast_ttl 0
	Drops       [NumDropReasons]uint64
}

// StackCounters returns the UDP counters of st (zero when no UDP zocket was ever made on it).
func StackCounters(st *stack.Stack) Counters {
	if s, ok := st.Transport(wire.ProtoUDP).(*state); ok {
		return s.ctr
	}
	return Counters{}
}
