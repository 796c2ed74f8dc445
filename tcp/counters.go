package tcp

import (
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// DropReason says why a received TCP segment was dropped.
type DropReason uint8

// Drop reasons, counted per stack in Counters.Drops.
const (
	DropMalformed    DropReason = iota // header shorter than 20 bytes, bad data offset or options
	DropChecksum                       // checksum does not verify
	DropFlags                          // SYN+FIN, SYN+RST or no flag at all
	DropNoEndpoint                     // no connection or listener (answered with a RST unless a RST)
	DropBacklog                        // SYN to a listener whose SYN backlog or endpoint table is full
	DropUnacceptable                   // outside the receive window (answered with an ACK)
	DropOld                            // ACK too old or for data not sent (RFC 5961 §5)
	DropNoSpace                        // no receive slot free: the peer overran the window in buffers
	DropOOOFull                        // out-of-order queue full
	DropMultiSeg                       // chained (multi-segment) receive buffer
	DropPAWS                           // timestamp older than TS.Recent (RFC 7323 §5, PAWS)
	NumDropReasons
)

var dropNames = [NumDropReasons]string{
	"tcp_malformed", "tcp_checksum", "tcp_flags", "tcp_no_endpoint", "tcp_backlog",
	"tcp_unacceptable", "tcp_old_ack", "tcp_no_space", "tcp_ooo_full", "tcp_multiseg",
	"tcp_paws",
}

// Name is the reason's label, e.g. "tcp_checksum".
func (r DropReason) Name() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// Counters are a stack's TCP counters.
type Counters struct {
	RxSegments        uint64 // segments taken by the TCP demultiplexer
	TxSegments        uint64 // segments handed to the port (data, control and retransmissions)
	RxBytes           uint64 // in-order payload bytes queued for the application
	TxBytes           uint64 // payload bytes sent for the first time
	Retransmits       uint64 // segments sent again (RTO, fast retransmit, SYN, SYN-ACK)
	ActiveOpens       uint64 // connections established by Connect
	PassiveOpens      uint64 // connections established through a listener
	Resets            uint64 // RSTs sent
	ResetsRcvd        uint64 // RSTs that aborted a connection
	RTOs              uint64 // retransmission timeouts on data or FIN (go-back-N from SND.UNA)
	FastRetransmits   uint64 // fast retransmits on the third duplicate ACK (RFC 5681 §3.2)
	PartialACKs       uint64 // NewReno partial ACKs, each retransmitting the next hole (RFC 6582)
	LostRetransmits   uint64 // retransmissions found lost in recovery by the duplicates' count
	DupACKs           uint64 // duplicate ACKs received (RFC 5681 §2)
	ChallengeACKs     uint64 // RFC 5961 challenge ACKs sent
	ChallengeLimited  uint64 // challenge ACKs suppressed by a rate limit (per connection or stack-wide)
	WindowProbes      uint64 // zero-window probes sent (persist timer)
	KeepaliveProbes   uint64 // keepalive probes sent
	RetriesTimeouts   uint64 // connections ended by tcp_retries retransmissions unacknowledged
	PersistTimeouts   uint64 // connections ended by tcp_retries window probes unanswered
	KeepaliveTimeouts uint64 // connections ended by tcp_keepalive_probes keepalive probes unanswered
	OrphanTimeouts    uint64 // closed connections ended by tcp_orphan_retries retransmissions or probes
	PMTUReductions    uint64 // MSS lowered by an ICMP fragmentation needed (RFC 5927 §4.1 checks passed)
	ICMPIgnored       uint64 // ICMP errors for a connection ignored: quoted sequence outside [SND.UNA, SND.NXT) or implausible MTU
	OOOQueued         uint64 // ooo: added (segments kept in an out-of-order queue)
	OOORemoved        uint64 // ooo: removed (entries moved to the receive queue when a hole filled)
	OOODropped        uint64 // ooo: dropped (duplicate, queue full, or reneged for in-order data)
	SendENOMEM        uint64 // Send, ShutdownTx or Close that found no buffer (ENOMEM)
	SynCookiesSent    uint64 // SYN cookies sent: SYNs that found the SYN backlog full (syncookie.go)
	SynCookiesRecv    uint64 // handshake ACKs with a valid SYN cookie: connections rebuilt
	SynCookiesFailed  uint64 // ACKs to a listener that sent cookies lately, with no valid cookie (RST)
	TxNoBufs          uint64 // control segments not sent for want of a buffer
	Drops             [NumDropReasons]uint64
	SACKRecoveries    uint64 // SACK-based recoveries started (RFC 6675: DupThresh or a RACK loss)
	RACKLosses        uint64 // segments RACK found lost by time (RFC 8985 §6.2), retransmissions included
	TLPProbes         uint64 // tail loss probes sent (RFC 8985 §7)
	TLPRecoveries     uint64 // tail loss probes that repaired a loss (cwnd reduced, §7.4)
	RecoveryProbes    uint64 // probes sent in a SACK recovery after PTO without an ACK (rack.go)
	SpuriousUndone    uint64 // recoveries or RTOs undone: D-SACK showed every retransmission spurious
	DSACKs            uint64 // D-SACK blocks received (RFC 2883)
	SACKIgnored       uint64 // SACK blocks ignored: outside [SND.UNA, SND.MAX], empty, or a D-SACK for data never sent
	CwndAppLimited    uint64 // ACKs of new data that left cwnd as it was: the flight had not filled it (RFC 7661)
	CwndRestarts      uint64 // cwnd cut to the restart window after an idle period longer than the RTO (RFC 5681 §4.1)
	CwndDecays        uint64 // cwnd halved towards the flight used after an RTO without filling it (RFC 2861, as Linux)
	FastPathSegments  uint64 // segments header prediction handled on the short path (fast.go)
	TimeWaitRecycled  uint64 // TIME-WAIT connections ended early: a new connection needed the endpoint (timewait.go)
}

// StackCounters returns the TCP counters of st (zero when no TCP zocket was ever made on it).
func StackCounters(st *stack.Stack) Counters {
	if s, ok := st.Transport(wire.ProtoTCP).(*state); ok {
		return s.ctr
	}
	return Counters{}
}
