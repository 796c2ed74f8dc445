package attr

// ID identifies an attribute. IDs index the value arrays of an [Attr]; use
// them with [Attr.IntOf] and [Attr.StrOf]. The numbering may change between
// versions: store names, not IDs.
type ID int

// The attributes, in the order of the table: chapter 7 of the TCPDirect user
// guide, other TCPDirect attributes, then zocket's DPDK additions.
// [Doc] documents each one by its name ([ID.String]).
const (
	AltBufSize            ID = iota // alt_buf_size
	AltCount                        // alt_count
	ARPReplyTimeout                 // arp_reply_timeout
	Interface                       // interface
	LogFormat                       // log_format
	LogLevel                        // log_level
	MaxTCPEndpoints                 // max_tcp_endpoints
	MaxTCPListenEndpoints           // max_tcp_listen_endpoints
	MaxTCPSynBacklog                // max_tcp_syn_backlog
	MaxUDPRxEndpoints               // max_udp_rx_endpoints
	MaxUDPTxEndpoints               // max_udp_tx_endpoints
	NBufs                           // n_bufs
	Name                            // name
	ReactorSpinCount                // reactor_spin_count
	RxRingMax                       // rx_ring_max
	RxRingRefillBatchSize           // rx_ring_refill_batch_size
	RxRingRefillInterval            // rx_ring_refill_interval
	TCPAltAckRewind                 // tcp_alt_ack_rewind
	TCPDelayedAck                   // tcp_delayed_ack
	TCPFinwaitMs                    // tcp_finwait_ms
	TCPInitialCwnd                  // tcp_initial_cwnd
	TCPRetries                      // tcp_retries
	TCPSynRetries                   // tcp_syn_retries
	TCPSynackRetries                // tcp_synack_retries
	TCPTimewaitMs                   // tcp_timewait_ms
	TCPWaitForTimeWait              // tcp_wait_for_time_wait
	TxRingMax                       // tx_ring_max

	LogFile             // log_file
	UDPTTL              // udp_ttl
	TCPKeepalive        // tcp_keepalive
	TCPKeepaliveTimeMs  // tcp_keepalive_time_ms
	TCPKeepaliveIntvlMs // tcp_keepalive_intvl_ms
	TCPKeepaliveProbes  // tcp_keepalive_probes
	PIO                 // pio
	CTPIO               // ctpio
	CTPIOMode           // ctpio_mode

	EALArgs               // eal_args
	LocalIP               // local_ip
	Gateway               // gateway
	MAC                   // mac
	MTU                   // mtu
	CPU                   // cpu
	RxBurst               // rx_burst
	Capture               // capture
	ARPStatic             // arp_static
	UDPRxQueueLen         // udp_rx_queue_len
	MulticastTTL          // multicast_ttl
	TCPRTOMinMs           // tcp_rto_min_ms
	TCPRTOMaxMs           // tcp_rto_max_ms
	ControlSocketDir      // control_socket_dir
	CaptureFilter         // capture_filter
	TCPOrphanRetries      // tcp_orphan_retries
	TCPInvalidRatelimitMs // tcp_invalid_ratelimit_ms
	TCPChallengeACKLimit  // tcp_challenge_ack_limit
	CaptureMaxBytes       // capture_max_bytes
	TCPSack               // tcp_sack
	TCPTimestamps         // tcp_timestamps
	TCPWindowScaling      // tcp_window_scaling
	TCPRcvbuf             // tcp_rcvbuf
	TCPSndbuf             // tcp_sndbuf
	TCPCongestion         // tcp_congestion
	TCPSyncookies         // tcp_syncookies

	numIDs // number of attributes
)

// kind is an attribute's value type.
type kind uint8

const (
	kindInt     kind = iota // int64, printed in decimal
	kindBitmask             // int64, printed in hex
	kindString              // string
)

func (k kind) String() string {
	switch k {
	case kindInt:
		return "int"
	case kindBitmask:
		return "bitmask"
	}
	return "str"
}

// def declares one attribute, like a ZF_ATTR line of attr_tmpl.h.
type def struct {
	name string
	kind kind

	defInt int64  // default of an integer attribute
	defStr string // default of a string attribute

	// min and max bound an integer attribute; zeroOK also allows 0 (n_bufs:
	// 0 = automatic). For a string attribute max, if not 0, bounds its
	// length in bytes.
	min, max int64
	zeroOK   bool

	// checkInt and checkStr refuse values that are in range but invalid
	// (EINVAL), returning the reason, or "" to accept.
	checkInt func(int64) string
	checkStr func(string) string

	defaultDoc string // the default as the guide states it, if not the value itself
	components string // the objects whose constructors read it
	summary    string // one line, for configs/ and tables
	detail     string // the rest of the guide's description
	dpdk       string // what it does on zocket, where that is new or differs
}

const (
	maxInt32 = 1<<31 - 1
	dayMs    = 24 * 60 * 60 * 1000
)

// defs is the attribute table, indexed by ID.
var defs = [numIDs]def{
	// ---- TCPDirect user guide, chapter 7 ----

	AltBufSize: {
		name: "alt_buf_size", kind: kindInt, defInt: 40960, min: 0, max: 1 << 26,
		components: "zf_vi",
		summary:    "Amount of NIC-side buffer space to allocate for use with TCP alternatives on this VI.",
		dpdk: "The number of payload bytes the stack's TX alternatives may hold queued in " +
			"prebuilt mbuf chains, all alternatives together.",
	},
	AltCount: {
		name: "alt_count", kind: kindInt, defInt: 0, min: 0, max: 256,
		components: "zf_vi",
		summary:    "Number of TCP alternatives to allocate on this VI.",
	},
	ARPReplyTimeout: {
		name: "arp_reply_timeout", kind: kindInt, defInt: 1000, min: 1, max: 60_000_000,
		components: "zf_stack",
		summary:    "Maximum time to wait for ARP replies, in microseconds (approx).",
	},
	Interface: {
		name: "interface", kind: kindString, defStr: "", defaultDoc: "none",
		components: "zf_stack",
		summary:    "Use this interface name as zf_stack interface.",
		dpdk: "A DPDK device: a virtual device with its arguments " +
			"(net_memif0,role=client,socket=/run/zf.sock; net_tap0,iface=zft0; " +
			"net_af_packet0,iface=veth0; net_ring0) or a PCI address (0000:03:00.0), " +
			"hot-plugged after EAL start-up. Empty: no device of its own; stack.New " +
			"then needs a port handed in (tests join stacks with net_ring pairs).",
	},
	LogFormat: {
		name: "log_format", kind: kindBitmask, defInt: 0x5, min: 0, max: 0xf,
		defaultDoc: "stack name and tcp time",
		components: "zf_stack",
		summary: "Combination of flags: ZF_LF_STACK_NAME (0x1), ZF_LF_FRC (0x2), " +
			"ZF_LF_TCP_TIME (0x4), ZF_LF_PROCESS (0x8).",
		dpdk: "ZF_LF_FRC prints the TSC (rte_rdtsc).",
	},
	LogLevel: {
		name: "log_level", kind: kindBitmask, defInt: 0x1111111111111, min: 0, max: 1<<52 - 1,
		defaultDoc: "ERR-level on all components",
		components: "zf_stack",
		summary:    "Bitmask to enable different log message levels for each logging component.",
		detail: "The log message level for each component is specified using a separate 4 bit " +
			"nibble within the bitmask. The value of each nibble is a bitwise combination of: " +
			"0 (none), 0x1 (errors), 0x2 (warnings), 0x4 (info), 0x8 (trace - debug build only). " +
			"The following components are available: stack (bits 0-3), TCP-rx (4-7), " +
			"TCP-tx (8-11), TCP-connection (12-15), UDP-rx (16-19), UDP-tx (20-23), " +
			"UDP-connection (24-27), muxer (28-31), pool (32-35), fast-path (36-39), " +
			"timers (40-43), filters (44-47), cplane (48-51). E.g. 0xfff0 will enable all " +
			"TCP related logging and disable all other logging.",
		dpdk: "Trace (0x8) is always available, behind a level check. cplane is the ARP " +
			"neighbour table; filters is the demux table. The stack nibble also sets DPDK's " +
			"own log level when the stack starts EAL: errors only by default, 0x2 adds its " +
			"warnings, 0x4 its notices, 0x8 its debug messages.",
	},
	MaxTCPEndpoints: {
		name: "max_tcp_endpoints", kind: kindInt, defInt: 64, min: 0, max: 65535,
		components: "zf_stack",
		summary:    "Sets the maximum number of TCP endpoints (i.e. struct zft).",
		dpdk: "Not limited to 64 as on the NIC: up to 65535. The connections are made " +
			"when the stack's first TCP zocket is (about 7 KiB of Go memory each with " +
			"their queues at the default tcp_rcvbuf and tcp_sndbuf, more when the pool " +
			"lets those grow), so that no SYN or connect allocates.",
	},
	MaxTCPListenEndpoints: {
		name: "max_tcp_listen_endpoints", kind: kindInt, defInt: 16, min: 0, max: 65535,
		components: "zf_stack",
		summary:    "Sets the maximum number of TCP listen endpoints (i.e. struct zftl).",
	},
	MaxTCPSynBacklog: {
		name: "max_tcp_syn_backlog", kind: kindInt, defInt: 32, min: 1, max: 65535,
		defaultDoc: "net.ipv4.tcp_max_syn_backlog; fixed, TCPDirect's 32",
		components: "zf_stack",
		summary:    "Sets the maximum number of half-open connections maintained in the stack.",
	},
	MaxUDPRxEndpoints: {
		name: "max_udp_rx_endpoints", kind: kindInt, defInt: 64, min: 0, max: 65535,
		components: "zf_stack",
		summary:    "Sets the maximum number of UDP RX endpoints (i.e. struct zfur).",
	},
	MaxUDPTxEndpoints: {
		name: "max_udp_tx_endpoints", kind: kindInt, defInt: 64, min: 0, max: 65535,
		components: "zf_stack",
		summary:    "Sets the maximum number of UDP TX endpoints (i.e. struct zfut).",
	},
	NBufs: {
		name: "n_bufs", kind: kindInt, defInt: 0, min: 64, max: 1 << 24, zeroOK: true,
		components: "zf_pool",
		summary:    "Number of packet buffers to allocate for the stack.",
		detail: "The optimal value for this parameter depends on the size of the RX and TX " +
			"queues, the total number of zockets in the stack, the number of alternatives in " +
			"use and the frequency at which the application polls the stack and reads pending " +
			"data from zockets. 0 - use maximum the stack with given parameters can use.",
		dpdk: "The size of the stack's mbuf mempool. 0: the stack sizes it from rx_ring_max, " +
			"tx_ring_max, rx_burst, the endpoint limits and alt_count. Too few buffers make " +
			"calls fail with ENOMEM and packets drop.",
	},
	Name: {
		name: "name", kind: kindString, defStr: "", max: 20, defaultDoc: "none",
		components: "zf_stack, zf_pool, zf_vi",
		summary:    "The object name.",
		detail: "Object names are visible in log messages, but have no other effect. " +
			"At most 20 bytes.",
		dpdk: "Also shown by zfstackdump list, and names the stack's mempool.",
	},
	ReactorSpinCount: {
		name: "reactor_spin_count", kind: kindInt, defInt: 128, min: 1, max: maxInt32,
		components: "zf_stack",
		summary: "Sets how many iterations of the event processing loop zf_reactor_perform() " +
			"will make (in the absence of any events) before returning.",
		detail: "The default value makes zf_reactor_perform() briefly spin if there are no new " +
			"events present. A higher number can give better latency, however " +
			"zf_reactor_perform() will take more time to return when no new events are present. " +
			"The minimum value is 1, which disables spinning. This attribute also affects the " +
			"cost of zf_muxer_wait() when invoked with timeout_ns=0.",
		dpdk: "The number of empty rx bursts Stack.Perform makes before it returns 0.",
	},
	RxRingMax: {
		name: "rx_ring_max", kind: kindInt, defInt: 512, min: 64, max: 32768,
		components: "zf_vi",
		summary: "Set the size and maximum fill level of the RX descriptor ring, which provides " +
			"buffering between the network adapter and software.",
		detail: "The RX ring sizes supported are 512, 1024, 2048 and 4096. The n_bufs " +
			"attribute may need to be increased when changing this value.",
		dpdk: "nb_rx_desc of rte_eth_rx_queue_setup, after rte_eth_dev_adjust_nb_rx_tx_desc " +
			"fits it to the driver.",
	},
	RxRingRefillBatchSize: {
		name: "rx_ring_refill_batch_size", kind: kindInt, defInt: 16, min: 8, max: 1024,
		checkInt:   multipleOf8,
		components: "zf_stack",
		summary: "Sets the number of packet buffers rx ring is refilled with on each " +
			"zf_reactor_perform() call.",
		detail: "Must be multiple of 8.",
		dpdk:   "No effect: DPDK drivers refill their own RX rings. Accepted for compatibility.",
	},
	RxRingRefillInterval: {
		name: "rx_ring_refill_interval", kind: kindInt, defInt: 1, min: 1, max: 1 << 20,
		components: "zf_stack",
		summary: "Sets the frequency of rx buffer ring refilling during inner " +
			"zf_reactor_perform() loop.",
		detail: "Set to 1 to have the ring refilled at each iteration.",
		dpdk:   "No effect: DPDK drivers refill their own RX rings. Accepted for compatibility.",
	},
	TCPAltAckRewind: {
		name: "tcp_alt_ack_rewind", kind: kindInt, defInt: 65536, min: 0, max: 1 << 30,
		defaultDoc: "64K",
		components: "zf_stack",
		summary: "The maximum number of bytes by which outgoing ACKs will be allowed to go " +
			"backwards when sending an alternative queue.",
	},
	TCPDelayedAck: {
		name: "tcp_delayed_ack", kind: kindInt, defInt: 1, min: 0, max: 1,
		components: "zf_stack",
		summary:    `Enable TCP delayed ACK ("on" by default).`,
	},
	TCPFinwaitMs: {
		name: "tcp_finwait_ms", kind: kindInt, defInt: 60000, min: 0, max: dayMs,
		defaultDoc: "net.ipv4.tcp_fin_timeout; fixed, Linux's 60 s",
		components: "zf_stack",
		summary:    "Length of TCP FIN-WAIT-2 timer in ms, 0 - disabled.",
	},
	TCPInitialCwnd: {
		name: "tcp_initial_cwnd", kind: kindInt, defInt: 0, min: 0, max: 1 << 30,
		defaultDoc: "10 * MSS",
		components: "zf_stack",
		summary:    "The initial congestion window for new TCP zockets.",
		detail:     "In bytes; 0 means 10 * MSS (RFC 6928).",
	},
	TCPRetries: {
		name: "tcp_retries", kind: kindInt, defInt: 14, min: 1, max: 255,
		defaultDoc: "net.ipv4.tcp_retries2; fixed, TCPDirect's 14",
		components: "zf_stack",
		summary: "The maximum number of TCP retransmits if data is not acknowledged by the " +
			"network peer in general case.",
		detail: "See also tcp_synack_retries, tcp_syn_retries. The retries defaults are one " +
			"lower than the Linux sysctls because Linux counts transmissions and TCPDirect " +
			"counts retransmissions.",
	},
	TCPSynRetries: {
		name: "tcp_syn_retries", kind: kindInt, defInt: 5, min: 0, max: 127,
		defaultDoc: "net.ipv4.tcp_syn_retries; fixed, TCPDirect's 5",
		components: "zf_stack",
		summary:    "The maximum number of TCP SYN retransmits during zft_connect().",
	},
	TCPSynackRetries: {
		name: "tcp_synack_retries", kind: kindInt, defInt: 4, min: 0, max: 255,
		defaultDoc: "net.ipv4.tcp_synack_retries; fixed, TCPDirect's 4",
		components: "zf_stack",
		summary: "The maximum number of TCP SYN-ACK retransmits before incoming connection " +
			"is dropped.",
	},
	TCPTimewaitMs: {
		name: "tcp_timewait_ms", kind: kindInt, defInt: 60000, min: 0, max: dayMs,
		defaultDoc: "net.ipv4.tcp_fin_timeout; fixed, Linux's 60 s",
		components: "zf_stack",
		summary:    "Length of TCP TIME-WAIT timer in ms.",
		dpdk:       "0 skips TIME-WAIT (tests only: it breaks RFC 9293's protection of old duplicates).",
	},
	TCPWaitForTimeWait: {
		name: "tcp_wait_for_time_wait", kind: kindInt, defInt: 0, min: 0, max: 1,
		components: "zf_stack",
		summary: "Do not consider a stack to be quiescent if there are any TCP zockets in the " +
			"TIME_WAIT state.",
		detail: `("off" by default).`,
	},
	TxRingMax: {
		name: "tx_ring_max", kind: kindInt, defInt: 512, min: 64, max: 32768,
		components: "zf_vi",
		summary: "Set the size of the TX descriptor ring, which provides buffering between the " +
			"software and the network adaptor.",
		detail: "The requested value is rounded up to the next size supported by the adapter. " +
			"At time of writing the ring sizes supported are 512, 1024 and 2048. The n_bufs " +
			"attribute may need to be increased when changing this value.",
		dpdk: "nb_tx_desc of rte_eth_tx_queue_setup, after rte_eth_dev_adjust_nb_rx_tx_desc " +
			"fits it to the driver.",
	},

	// ---- other TCPDirect attributes ----

	LogFile: {
		name: "log_file", kind: kindString, defStr: "", defaultDoc: "stderr",
		components: "zf_stack",
		summary:    "Use this file instead of stderr for log messages.",
		dpdk: "Appended to; created with mode 0600, and a symbolic link in its place is " +
			"refused (ELOOP).",
	},
	UDPTTL: {
		name: "udp_ttl", kind: kindInt, defInt: 64, min: 1, max: 255,
		components: "zfut",
		summary:    "TTL of outgoing unicast UDP packets.",
		dpdk:       "Multicast destinations use multicast_ttl instead.",
	},
	TCPKeepalive: {
		name: "tcp_keepalive", kind: kindInt, defInt: 0, min: 0, max: 1,
		components: "zf_stack, zft",
		summary:    `Enable TCP keepalive probes on idle connections ("off" by default).`,
		dpdk: "TCPDirect's default is on; zocket's is off, like a Linux socket without " +
			"SO_KEEPALIVE.",
	},
	TCPKeepaliveTimeMs: {
		name: "tcp_keepalive_time_ms", kind: kindInt, defInt: 7_200_000, min: 0, max: 10 * dayMs,
		defaultDoc: "net.ipv4.tcp_keepalive_time; fixed, Linux's 2 h",
		components: "zf_stack, zft",
		summary:    "Idle time before the first TCP keepalive probe, in ms; 0 - disabled.",
	},
	TCPKeepaliveIntvlMs: {
		name: "tcp_keepalive_intvl_ms", kind: kindInt, defInt: 75_000, min: 0, max: dayMs,
		defaultDoc: "net.ipv4.tcp_keepalive_intvl; fixed, Linux's 75 s",
		components: "zf_stack, zft",
		summary:    "Interval between TCP keepalive probes, in ms; 0 - disabled.",
	},
	TCPKeepaliveProbes: {
		name: "tcp_keepalive_probes", kind: kindInt, defInt: 9, min: 1, max: 127,
		defaultDoc: "net.ipv4.tcp_keepalive_probes; fixed, Linux's 9",
		components: "zf_stack, zft",
		summary:    "Number of unanswered TCP keepalive probes before the connection is reset.",
	},
	PIO: {
		name: "pio", kind: kindInt, defInt: 3, min: 0, max: 3,
		components: "zf_vi",
		summary: "Use programmed I/O buffers: 0 no, 1 if available, 2 if available and warn " +
			"if not, 3 warn if unsupported and fail if unavailable.",
		dpdk: "No effect: DPDK has no PIO. Accepted so TCPDirect ZF_ATTR strings work.",
	},
	CTPIO: {
		name: "ctpio", kind: kindInt, defInt: 1, min: 0, max: 3,
		components: "zf_vi",
		summary: "Use cut-through PIO: 0 no, 1 if available, 2 if available and warn if not, " +
			"3 or fail.",
		dpdk: "No effect: DPDK has no CTPIO. Accepted so TCPDirect ZF_ATTR strings work.",
	},
	CTPIOMode: {
		name: "ctpio_mode", kind: kindString, defStr: "sf-np", checkStr: ctpioMode,
		components: "zf_vi",
		summary: "CTPIO mode: sf (store-and-forward), ct (cut-through) or sf-np (never " +
			"emit poisoned frames).",
		dpdk: "No effect: DPDK has no CTPIO. Accepted so TCPDirect ZF_ATTR strings work.",
	},

	// ---- zocket's DPDK additions ----

	EALArgs: {
		name: "eal_args", kind: kindString, defStr: "--in-memory --no-pci --no-telemetry",
		components: "zf_stack",
		summary:    "Arguments for rte_eal_init, separated by white space (no quoting).",
		detail: "Used by the first stack of a process when the EAL is not yet running; " +
			"ignored afterwards (one EAL per process). --in-memory and --no-huge do not " +
			"combine; with --no-huge, give each process its own --file-prefix. Add a device's " +
			"PCI address with -a when --no-pci would hide it. --no-telemetry keeps DPDK from " +
			"opening its telemetry socket (/var/run/dpdk/*/dpdk_telemetry.*), which other local " +
			"users could query. eal_args reaches rte_eal_init as given: whoever sets it (ZF_ATTR) " +
			"owns the process (-d loads any library); see docs/security.md.",
	},
	LocalIP: {
		name: "local_ip", kind: kindString, defStr: "", checkStr: checkPrefix,
		defaultDoc: "none",
		components: "zf_stack",
		summary:    "The stack's IPv4 address and subnet, in CIDR form (198.18.0.1/24).",
		detail: "Addresses inside the subnet are resolved by ARP; others go to gateway. " +
			"Zockets bind to this address, 0.0.0.0 or a multicast group.",
	},
	Gateway: {
		name: "gateway", kind: kindString, defStr: "", checkStr: checkAddr,
		defaultDoc: "none",
		components: "zf_stack",
		summary:    "IPv4 address of the next hop for destinations outside local_ip's subnet.",
		detail:     "Empty: such destinations are unreachable (EHOSTUNREACH).",
	},
	MAC: {
		name: "mac", kind: kindString, defStr: "", checkStr: checkMAC,
		defaultDoc: "the port's own",
		components: "zf_stack",
		summary:    "The stack's Ethernet address (02:00:00:00:00:01).",
		detail:     "Empty: the port's own address (rte_eth_macaddr_get).",
	},
	MTU: {
		name: "mtu", kind: kindInt, defInt: 1500, min: 68, max: 9000,
		components: "zf_stack",
		summary:    "IPv4 MTU of the link in bytes (Ethernet payload, without the 14-byte header).",
		detail:     "TCP's MSS is mtu - 40; UDP's maximum payload is mtu - 28.",
	},
	CPU: {
		name: "cpu", kind: kindInt, defInt: -1, min: -1, max: 4095,
		components: "zf_stack",
		summary:    "CPU to pin the goroutine's thread that polls the stack to; -1 - no pinning.",
		detail: "stack.New locks the creating goroutine to its OS thread in any case, and " +
			"Close (from that goroutine) unlocks it and restores the thread's CPU mask; a busy-" +
			"polling stack needs a core of its own.",
	},
	RxBurst: {
		name: "rx_burst", kind: kindInt, defInt: 32, min: 1, max: 512,
		components: "zf_stack",
		summary:    "Maximum packets received by one rte_eth_rx_burst call in Stack.Perform.",
	},
	Capture: {
		name: "capture", kind: kindString, defStr: "", defaultDoc: "none",
		components: "zf_stack",
		summary:    "Write every frame received and sent to this pcapng file; empty - off.",
		detail: "For debugging: capturing copies each frame (tens of ns for small frames) " +
			"into a ring a goroutine drains to the file; frames that find the ring full are " +
			"counted, not captured. The file is created with mode 0600 and must not exist: " +
			"an existing file or a symbolic link is refused (EEXIST), never overwritten or " +
			"followed. See also capture_filter and capture_max_bytes.",
	},
	ARPStatic: {
		name: "arp_static", kind: kindString, defStr: "", checkStr: checkNeighbours,
		defaultDoc: "none",
		components: "zf_stack",
		summary: "Static neighbour entries: ip=mac,ip=mac " +
			"(198.18.0.2=02:00:00:00:00:02).",
		detail: "Static entries are never resolved, aged or replaced by ARP.",
	},
	UDPRxQueueLen: {
		name: "udp_rx_queue_len", kind: kindInt, defInt: 64, min: 1, max: 65536,
		components: "zfur",
		summary: "Maximum datagrams queued on one UDP receive zocket; more are dropped " +
			"and counted (q_drops).",
	},
	MulticastTTL: {
		name: "multicast_ttl", kind: kindInt, defInt: 1, min: 0, max: 255,
		components: "zfut",
		summary:    "TTL of outgoing multicast UDP packets (IP_MULTICAST_TTL); 0 - this host only.",
	},
	TCPRTOMinMs: {
		name: "tcp_rto_min_ms", kind: kindInt, defInt: 200, min: 1, max: 60_000,
		components: "zf_stack, zft",
		summary:    "Lower bound of the TCP retransmission timeout, in ms.",
		detail: "RFC 6298 asks for 1 s; like Linux (TCP_RTO_MIN), zocket allows less, " +
			"200 ms by default. Must not exceed tcp_rto_max_ms.",
	},
	TCPRTOMaxMs: {
		name: "tcp_rto_max_ms", kind: kindInt, defInt: 120_000, min: 1, max: 600_000,
		components: "zf_stack, zft",
		summary:    "Upper bound of the TCP retransmission timeout, in ms (Linux's TCP_RTO_MAX).",
	},
	ControlSocketDir: {
		name: "control_socket_dir", kind: kindString, defStr: "/run/zocket",
		components: "zf_stack",
		summary:    "Directory of the per-stack control sockets zfstackdump talks to.",
		detail:     "Empty: no control socket; zfstackdump does not see the stack.",
	},
	CaptureFilter: {
		name: "capture_filter", kind: kindString, defStr: "", defaultDoc: "every frame",
		checkStr:   checkCaptureFilter,
		components: "zf_stack",
		summary:    "Capture only the frames this filter selects (with capture): \"port 80 or port 443\".",
		detail: "A subset of tcpdump's syntax: terms joined by \"or\", each \"port N\" (TCP or " +
			"UDP, either direction), \"tcp port N\", \"udp port N\", or a protocol alone: tcp, " +
			"udp, icmp, igmp, arp. Empty: every frame.",
	},
	TCPOrphanRetries: {
		name: "tcp_orphan_retries", kind: kindInt, defInt: 0, min: 0, max: 255,
		defaultDoc: "net.ipv4.tcp_orphan_retries; 0 - 8, as Linux",
		components: "zf_stack",
		summary: "The maximum number of TCP retransmits or zero-window probes unanswered " +
			"before a connection the application closed is dropped; 0 - 8.",
		detail: "Replaces tcp_retries once Close was called (FIN-WAIT-1, CLOSING, LAST-ACK, " +
			"or data held by a zero window), so that a peer that vanished does not keep the " +
			"endpoint and its buffers. The connection ends with a RST.",
	},
	TCPInvalidRatelimitMs: {
		name: "tcp_invalid_ratelimit_ms", kind: kindInt, defInt: 500, min: 0, max: 60_000,
		defaultDoc: "net.ipv4.tcp_invalid_ratelimit; Linux's 500 ms",
		components: "zf_stack",
		summary: "Minimum time between two RFC 5961 challenge ACKs of one TCP connection, " +
			"in ms; 0 - no per-connection limit.",
		detail: "Further challenges within it are suppressed and counted " +
			"(tcp_challenge_acks_limited). Per connection, so that one connection's " +
			"challenges neither use up nor reveal another's (CVE-2016-5696).",
	},
	TCPChallengeACKLimit: {
		name: "tcp_challenge_ack_limit", kind: kindInt, defInt: 1000, min: 1, max: 1<<31 - 1,
		defaultDoc: "net.ipv4.tcp_challenge_ack_limit; Linux 4.7-5.19's 1000",
		components: "zf_stack",
		summary: "Stack-wide budget of RFC 5961 challenge ACKs per second, drawn at random " +
			"each second from [limit/2, limit*3/2); 2147483647 - none.",
		detail: "Behind the per-connection tcp_invalid_ratelimit_ms. The random draw, as " +
			"Linux's since CVE-2016-5696, keeps an off-path attacker from learning " +
			"from its own challenge ACKs how many other connections sent.",
	},
	CaptureMaxBytes: {
		name: "capture_max_bytes", kind: kindInt, defInt: 1 << 30, min: 64 << 10, max: 1 << 50,
		zeroOK: true, defaultDoc: "1 GiB",
		components: "zf_stack",
		summary:    "Largest size of the capture file in bytes; 0 - no limit.",
		detail: "Frames that would take the file past it are not written and are counted " +
			"(capture limited in snapshots and zfstackdump, zocket_capture_limited_total), " +
			"so that no sender can fill the disk.",
	},
	TCPSack: {
		name: "tcp_sack", kind: kindInt, defInt: 1, min: 0, max: 1,
		defaultDoc: "net.ipv4.tcp_sack; Linux's 1",
		components: "zf_stack",
		summary:    "Offer and accept TCP selective acknowledgments (RFC 2018, D-SACK RFC 2883).",
		detail: "Negotiated as Linux does: the SYN offers SACK-permitted, a SYN-ACK only when " +
			"the peer's SYN did. 0 - never offered nor accepted (TCPDirect's behaviour).",
	},
	TCPTimestamps: {
		name: "tcp_timestamps", kind: kindInt, defInt: 1, min: 0, max: 1,
		defaultDoc: "net.ipv4.tcp_timestamps; Linux's 1",
		components: "zf_stack",
		summary:    "Offer and accept TCP timestamps (RFC 7323 §3-5: RTT samples, PAWS).",
		detail: "Negotiated as Linux does; when on, every segment carries 12 more option " +
			"bytes and the MSS for data is 12 bytes less. 0 - never offered nor accepted, so " +
			"that headers are TCPDirect's bare 20 bytes.",
	},
	TCPWindowScaling: {
		name: "tcp_window_scaling", kind: kindInt, defInt: 1, min: 0, max: 1,
		defaultDoc: "net.ipv4.tcp_window_scaling; Linux's 1",
		components: "zf_stack",
		summary:    "Offer and accept TCP window scaling (RFC 7323 §2).",
		detail:     "Without it no window exceeds 65535 bytes. 0 - never offered nor accepted.",
	},
	TCPRcvbuf: {
		name: "tcp_rcvbuf", kind: kindInt, defInt: 4 << 20, min: 4096, max: 1 << 30,
		defaultDoc: "4 MiB (Linux's tcp_rmem maximum is 6 MiB)",
		components: "zf_stack",
		summary:    "Largest receive window of a TCP connection, in bytes.",
		detail: "The window is made of packet buffers of one MSS, so a connection's share of " +
			"the pool bounds it too: at most n_bufs / (2 * max_tcp_endpoints) buffers (at " +
			"least 8), whichever is less. With the automatic pool and 64 endpoints that is " +
			"about 90 KiB: for windows of several MiB raise n_bufs or lower " +
			"max_tcp_endpoints. The window-scale shift offered is the smallest that lets " +
			"the window fit 16 bits (at most 14).",
	},
	TCPSndbuf: {
		name: "tcp_sndbuf", kind: kindInt, defInt: 4 << 20, min: 4096, max: 1 << 30,
		defaultDoc: "4 MiB (Linux's tcp_wmem maximum)",
		components: "zf_stack",
		summary:    "Send queue of a TCP connection, in bytes (zft_send_space's bound).",
		detail: "The send queue holds tcp_sndbuf / MSS segments, rounded up to a power of " +
			"two, but no more than the connection's share of the pool, n_bufs / (2 * " +
			"max_tcp_endpoints) buffers, and never fewer than 64 (TCPDirect's queue).",
	},
	TCPCongestion: {
		name: "tcp_congestion", kind: kindString, defStr: "cubic", checkStr: congestionName,
		defaultDoc: "net.ipv4.tcp_congestion_control; Linux's cubic",
		components: "zf_stack",
		summary:    "TCP congestion control: cubic (RFC 9438) or newreno (RFC 5681, RFC 6582).",
		detail: "Both use RFC 5681 slow start from tcp_initial_cwnd, grow cwnd only while the " +
			"flight fills it (RFC 7661), let an unused cwnd decay each RTO (as Linux) and " +
			"restart from the initial window after an idle period longer than the RTO " +
			"(RFC 5681 §4.1). newreno is TCPDirect's: half the " +
			"flight on a loss, one MSS per round trip after. cubic keeps 70 % and regains the " +
			"window on a cubic curve in time, not round trips, which suits long or fast paths.",
	},
	TCPSyncookies: {
		name: "tcp_syncookies", kind: kindInt, defInt: 1, min: 0, max: 1,
		defaultDoc: "net.ipv4.tcp_syncookies; Linux's 1",
		components: "zf_stack",
		summary: "Answer a SYN with a SYN cookie (RFC 4987 §3.6) when the listener's " +
			"max_tcp_syn_backlog half-open connections are taken.",
		detail: "The handshake's ACK then rebuilds the connection: MSS from a table of four, " +
			"window scale and SACK-permitted only when the SYN had timestamps (they ride in " +
			"the SYN-ACK's TSval). 0 - a SYN beyond the backlog is dropped (the client " +
			"retransmits it).",
	},
}
