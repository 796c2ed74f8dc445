package stack

import (
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
)

// Snapshots: how other goroutines see inside a stack.
//
// The data path keeps its counters in plain uint64 fields (Counters, the transports' own) and
// never uses an atomic or a lock for them: an atomic add or store on amd64 is a locked
// instruction (LOCK XADD, XCHG), tens of cycles on every packet. So no other goroutine reads
// those fields directly. Instead a reader asks, and the stack copies:
//
//  1. A reader (the metrics collector, the control-socket server) takes the readers' mutex and
//     increments the atomic request counter req.
//  2. Perform compares req with the last request it served: one atomic load (a plain MOV on
//     amd64) and a compare per call, the only cost while nobody asks. When they differ it
//     builds a Snapshot into a preallocated buffer: the stack's counters, the pool, and
//     every Dumper's counters and per-zocket rows. It then
//     release-stores pub (the request number served and the buffer's index).
//  3. The reader acquire-loads pub until it covers its request, adds the port's statistics
//     (see readPortStats: a control-path call, made off the data path) and reads the buffer.
//
// The atomic pair (req written by the reader and read by the reactor, pub the other way)
// orders every plain write of the build before every read of the reader, so this is free of
// data races by the Go memory model and clean under the race detector (TestSnapshotRace).
//
// A build is bounded per Perform call: rows are copied at most snapshotRowBudget per call
// (Dumpers that support it resume where they stopped, see DumpBuilder), so one call never
// stalls the data path for more than a few µs whatever the number of zockets; the snapshot
// then spans a few consecutive Perform calls (each row consistent in itself, counters taken at
// the first). A stack that is not polled (the application stalled, or blocked in epoll) does
// not answer: after its timeout the reader is served the last snapshot published, and
// Snapshot.Time says how old it is (metrics: zocket_snapshot_age_seconds).
//
// Three buffers rotate. The reactor writes only the buffer after the last one published;
// readers read only a published one, under the readers' mutex; one reader's critical section
// sees at most two builds (a build still running for an earlier, timed-out reader's request,
// and one for its own), so the buffer it reads is never the one being written.

// Dumper is a component that shows its state in snapshots: stack-wide counters for the
// metrics, and one row per zocket for zfstackdump and the zockets-by-state gauges. A
// Transport implements it optionally (the stack asks every transport installed with
// SetTransport); other components (TX alternatives) register with Stack.AddDumper.
//
// Dump is called on the polling goroutine, inside Perform, when a reader has asked for a
// snapshot. It must not block, and should allocate nothing: it writes into d, whose rows are
// preallocated and reused. See DumpBuilder for the contract, and fakeTransport in
// snapshot_test.go for a tested example. A UDP receive side would look like this (one kind
// per zocket type, declared once; zfstackdump prints each Group on a line):
//
//	var rxKind = &stack.DumpKind{Type: "udp_rx", Title: "UDP RX", Fields: []stack.DumpField{
//		{Name: "unread", Group: "rx"}, {Name: "release_n", Group: "udp rx"},
//		{Name: "q_drops", Group: "udp rx"}, {Name: "received", Group: "udp rx"},
//	}}
//
//	func (s *state) Dump(d *stack.DumpBuilder) {
//		d.Counter(stack.UDPDatagramsReceived, s.ctr.RxDatagrams)
//		d.Counter(stack.UDPQueueDrops, s.ctr.Drops[DropQueueFull])
//		for r, n := range s.ctr.Drops {
//			d.Drop(DropReason(r).Name(), n)
//		}
//		for i := d.Cursor(); i < len(s.receivers); i++ { // a slot table: a stable order
//			if !d.More() {
//				d.Continue(i) // resume here on the next Perform
//				return
//			}
//			rx := s.receivers[i]
//			row := d.Row(rxKind)
//			row.ID = uint32(i)
//			row.LocalIP, row.LocalPort = rx.ip, rx.port
//			row.F[0], row.F[1], row.F[2], row.F[3] = uint64(rx.unread), uint64(rx.held), rx.qDrops, rx.rcvd
//		}
//	}
type Dumper interface {
	Dump(d *DumpBuilder)
}

// DumpField names one value of a DumpRow.
type DumpField struct {
	// Name is the field's name in zfstackdump's output and JSON, e.g. "snd_nxt". Names are
	// unique within a DumpKind.
	Name string
	// Group is the line zfstackdump prints the field on: consecutive fields of one group
	// share a line headed "group:", e.g. "tx", "rx", "ooo", as in TCPDirect's zf_stackdump.
	Group string
}

// DumpKind describes one kind of DumpRow (UDP RX, UDP TX, TCP, TCP listen…). A transport
// declares each of its kinds once, as a package-level variable, and passes its address to
// DumpBuilder.Row; rows keep the pointer, so a DumpKind must never change once used.
type DumpKind struct {
	// Type is the kind's identifier: the metrics' "type" label and the JSON "type", e.g.
	// "tcp", "tcp_listen", "udp_rx", "udp_tx".
	Type string
	// Title heads the zocket's section in zfstackdump, e.g. "TCP", "UDP RX".
	Title string
	// States names DumpRow.State values by index (TCP: "ESTABLISHED" at 1…, Linux's
	// numbering); nil for a kind without states.
	States []string
	// Fields name DumpRow.F in order, at most MaxDumpFields.
	Fields []DumpField
}

// MaxDumpFields bounds the number of fields of a DumpKind, so that a row stays a few cache
// lines.
const MaxDumpFields = 48

// StateName returns the name of state st ("" when the kind has no states, "UNKNOWN" when st
// is out of range).
func (k *DumpKind) StateName(st uint8) string {
	if k.States == nil {
		return ""
	}
	if int(st) < len(k.States) && k.States[st] != "" {
		return k.States[st]
	}
	return "UNKNOWN"
}

// DumpRow is one zocket in a snapshot: its kind, addresses and state, and the kind's fields as
// plain numbers (sequence numbers, window sizes, byte and packet counts, times in µs…).
type DumpRow struct {
	Kind       *DumpKind
	ID         uint32 // the zocket's number within its transport (a slot index), shown as stack:id
	State      uint8  // index into Kind.States
	LocalIP    [4]byte
	RemoteIP   [4]byte // zero: any
	LocalPort  uint16
	RemotePort uint16   // zero: any
	F          []uint64 // len(Kind.Fields) values, zeroed by Row
}

// LocalAddr returns the row's local address and port.
func (r *DumpRow) LocalAddr() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(r.LocalIP), r.LocalPort)
}

// RemoteAddr returns the row's remote address and port (0.0.0.0:0 for none).
func (r *DumpRow) RemoteAddr() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(r.RemoteIP), r.RemotePort)
}

// StateName returns the name of the row's state ("" for a kind without states).
func (r *DumpRow) StateName() string { return r.Kind.StateName(r.State) }

// Field returns the value of the field called name, and whether the kind has it. It is for
// tools and tests, not for the data path (a linear search).
func (r *DumpRow) Field(name string) (uint64, bool) {
	for i, f := range r.Kind.Fields {
		if f.Name == name && i < len(r.F) {
			return r.F[i], true
		}
	}
	return 0, false
}

// TransportCounter names a stack-wide counter that a Dumper reports with DumpBuilder.Counter.
// The set is fixed, so that snapshots hold them in an array (no allocation, no map) and the
// metrics package names them by Prometheus's conventions; add new ones at the end.
type TransportCounter uint8

// Transport counters. The comment of each is its help text.
const (
	TCPRetransmits          TransportCounter = iota // TCP segments retransmitted (RTO, fast retransmit, SYN, SYN-ACK)
	TCPTimeouts                                     // TCP retransmission timer expirations (RTOs)
	TCPFastRetransmits                              // TCP fast retransmits (three duplicate ACKs, RFC 5681)
	TCPDupACKs                                      // TCP duplicate ACKs received
	TCPChallengeACKs                                // TCP challenge ACKs sent (RFC 5961)
	TCPResetsSent                                   // TCP RSTs sent
	TCPResetsReceived                               // TCP RSTs received that aborted a connection
	TCPOutOfOrder                                   // TCP segments received out of order and queued
	TCPActiveOpens                                  // TCP connections established by Connect
	TCPPassiveOpens                                 // TCP connections established through a listener
	TCPSegmentsReceived                             // TCP segments received
	TCPSegmentsSent                                 // TCP segments sent
	TCPBytesReceived                                // TCP payload bytes delivered in order
	TCPBytesSent                                    // TCP payload bytes sent for the first time
	UDPDatagramsReceived                            // UDP datagrams queued on receive zockets
	UDPDatagramsSent                                // UDP datagrams sent
	UDPBytesReceived                                // UDP payload bytes received
	UDPBytesSent                                    // UDP payload bytes sent
	UDPQueueDrops                                   // UDP datagrams dropped because a receive queue was full
	AltsQueued                                      // TX alternatives: messages queued
	AltsSent                                        // TX alternatives: alternatives sent
	AltsCancelled                                   // TX alternatives: alternatives cancelled
	TCPPartialACKs                                  // TCP NewReno partial ACKs (RFC 6582)
	TCPLostRetransmits                              // TCP retransmissions found lost during recovery
	TCPWindowProbes                                 // TCP zero-window probes sent
	TCPKeepaliveProbes                              // TCP keepalive probes sent
	TCPOutOfOrderRemoved                            // TCP out-of-order entries moved in order when a hole filled
	TCPOutOfOrderDropped                            // TCP out-of-order segments dropped (duplicate, queue full)
	TCPSendNoMem                                    // TCP sends that found no buffer (ENOMEM)
	TCPSynCookiesSent                               // TCP SYN cookies sent (SYN backlog full)
	TCPSynCookiesRecv                               // TCP handshakes completed with a valid SYN cookie
	TCPSynCookiesFailed                             // TCP ACKs to a listener with no valid SYN cookie
	TCPChallengeACKsLimited                         // TCP challenge ACKs suppressed by the rate limit
	TCPRetriesTimeouts                              // TCP connections ended by tcp_retries retransmissions
	TCPPersistTimeouts                              // TCP connections ended by tcp_retries window probes unanswered
	TCPKeepaliveTimeouts                            // TCP connections ended by keepalive probes unanswered
	TCPOrphanTimeouts                               // TCP closed connections ended by tcp_orphan_retries
	TCPPMTUReductions                               // TCP MSS lowered by ICMP fragmentation needed
	TCPICMPIgnored                                  // ICMP errors for a TCP connection ignored (RFC 5927)
	TCPSACKRecoveries                               // TCP SACK-based loss recoveries started (RFC 6675)
	TCPRACKLosses                                   // TCP segments RACK found lost by time (RFC 8985)
	TCPTLPProbes                                    // TCP tail loss probes sent (RFC 8985)
	TCPTLPRecoveries                                // TCP tail loss probes that repaired a loss
	TCPSpuriousUndone                               // TCP recoveries undone as spurious by D-SACK
	TCPDSACKs                                       // TCP D-SACK blocks received (RFC 2883)
	TCPSACKIgnored                                  // TCP SACK blocks ignored (outside the send window)
	TCPCwndAppLimited                               // TCP ACKs that did not open cwnd: application-limited (RFC 7661)
	TCPCwndRestarts                                 // TCP cwnd restarts after idle (RFC 5681 §4.1)
	TCPCwndDecays                                   // TCP cwnd decays after an RTO application-limited (RFC 2861)
	TCPRecoveryProbes                               // TCP probes sent after a silence in SACK recovery
	TCPFastPathSegments                             // TCP segments handled by header prediction's short path
	TCPTimeWaitRecycled                             // TCP TIME-WAIT connections ended early for a new connection's endpoint
	NumTransportCounters
)

var transportCounterNames = [NumTransportCounters][2]string{
	{"tcp_retransmits", "TCP segments retransmitted (RTO, fast retransmit, SYN, SYN-ACK)."},
	{"tcp_timeouts", "TCP retransmission timer expirations (RTOs)."},
	{"tcp_fast_retransmits", "TCP fast retransmits (three duplicate ACKs, RFC 5681)."},
	{"tcp_dup_acks", "TCP duplicate ACKs received."},
	{"tcp_challenge_acks", "TCP challenge ACKs sent (RFC 5961)."},
	{"tcp_resets_sent", "TCP RSTs sent."},
	{"tcp_resets_received", "TCP RSTs received that aborted a connection."},
	{"tcp_out_of_order", "TCP segments received out of order and queued."},
	{"tcp_active_opens", "TCP connections established by Connect."},
	{"tcp_passive_opens", "TCP connections established through a listener."},
	{"tcp_segments_received", "TCP segments received."},
	{"tcp_segments_sent", "TCP segments sent."},
	{"tcp_received_bytes", "TCP payload bytes delivered in order."},
	{"tcp_sent_bytes", "TCP payload bytes sent for the first time."},
	{"udp_datagrams_received", "UDP datagrams queued on receive zockets."},
	{"udp_datagrams_sent", "UDP datagrams sent."},
	{"udp_received_bytes", "UDP payload bytes received."},
	{"udp_sent_bytes", "UDP payload bytes sent."},
	{"udp_queue_drops", "UDP datagrams dropped because a receive queue was full."},
	{"alts_queued", "TX alternatives: messages queued."},
	{"alts_sent", "TX alternatives: alternatives sent."},
	{"alts_cancelled", "TX alternatives: alternatives cancelled."},
	{"tcp_partial_acks", "TCP NewReno partial ACKs (RFC 6582)."},
	{"tcp_lost_retransmits", "TCP retransmissions found lost during recovery."},
	{"tcp_window_probes", "TCP zero-window probes sent (persist timer)."},
	{"tcp_keepalive_probes", "TCP keepalive probes sent."},
	{"tcp_out_of_order_removed", "TCP out-of-order entries moved in order when a hole filled."},
	{"tcp_out_of_order_dropped", "TCP out-of-order segments dropped (duplicate or queue full)."},
	{"tcp_send_nomem", "TCP sends that found no packet buffer (ENOMEM)."},
	{"tcp_syncookies_sent", "TCP SYN cookies sent: SYNs answered without state because the listener's SYN backlog was full (RFC 4987 §3.6)."},
	{"tcp_syncookies_recv", "TCP handshake ACKs that carried a valid SYN cookie: connections rebuilt from it."},
	{"tcp_syncookies_failed", "TCP ACKs to a listener that sent SYN cookies lately, with no valid cookie (answered with a RST)."},
	{"tcp_challenge_acks_limited", "TCP challenge ACKs suppressed by the per-connection or stack-wide rate limit."},
	{"tcp_retries_timeouts", "TCP connections ended by tcp_retries retransmissions unacknowledged."},
	{"tcp_persist_timeouts", "TCP connections ended by tcp_retries zero-window probes unanswered."},
	{"tcp_keepalive_timeouts", "TCP connections ended by tcp_keepalive_probes keepalive probes unanswered."},
	{"tcp_orphan_timeouts", "TCP connections closed by the application ended by tcp_orphan_retries."},
	{"tcp_pmtu_reductions", "TCP MSS reductions by ICMP fragmentation needed (RFC 1191)."},
	{"tcp_icmp_ignored", "ICMP errors for a TCP connection ignored: quoted sequence number out of window or implausible MTU (RFC 5927)."},
	{"tcp_sack_recoveries", "TCP SACK-based loss recoveries started (RFC 6675)."},
	{"tcp_rack_losses", "TCP segments RACK found lost by time, retransmissions included (RFC 8985)."},
	{"tcp_tlp_probes", "TCP tail loss probes sent (RFC 8985)."},
	{"tcp_tlp_recoveries", "TCP tail loss probes that repaired a loss (RFC 8985 §7.4)."},
	{"tcp_spurious_undone", "TCP recoveries or RTOs undone because D-SACK showed every retransmission spurious."},
	{"tcp_dsacks", "TCP D-SACK blocks received (RFC 2883)."},
	{"tcp_sack_ignored", "TCP SACK blocks ignored: outside the send window, empty, or for data never sent."},
	{"tcp_cwnd_app_limited", "TCP ACKs of new data that left cwnd unchanged because the flight had not filled it (RFC 7661)."},
	{"tcp_cwnd_restarts", "TCP congestion windows cut to the restart window after an idle period longer than the RTO (RFC 5681 §4.1)."},
	{"tcp_cwnd_decays", "TCP congestion windows halved towards the flight used after an RTO without filling them (RFC 2861, as Linux)."},
	{"tcp_recovery_probes", "TCP probes sent after a probe timeout of silence in a SACK recovery, so that RACK finds a lost retransmission before the RTO."},
	{"tcp_fast_path_segments", "TCP segments handled by header prediction's short path (in order, expected ACK, nothing unusual: tcp/fast.go)."},
	{"tcp_time_wait_recycled", "TCP connections in TIME-WAIT ended early because a new connection needed their endpoint (max_tcp_endpoints reached; Linux's tcp_max_tw_buckets overflow)."},
}

// Name is the counter's name, e.g. "tcp_retransmits" (metric zocket_tcp_retransmits_total).
func (c TransportCounter) Name() string {
	if c < NumTransportCounters {
		return transportCounterNames[c][0]
	}
	return "unknown"
}

// Help is the counter's one-line description.
func (c TransportCounter) Help() string {
	if c < NumTransportCounters {
		return transportCounterNames[c][1]
	}
	return ""
}

// DumpDrop is a drop counter a Dumper reports: its reason's name (e.g. "tcp_checksum") and
// count.
type DumpDrop struct {
	Reason string
	N      uint64
}

// DumpBuilder is what a Dumper writes into: the snapshot being built.
//
// Counter and Drop report stack-wide counters. Row appends a zocket's row and returns it for
// the Dumper to fill; the row is zeroed, its F has len(kind.Fields) entries, and the pointer
// is valid until the next call of Row (fill it before asking for the next).
//
// Bounded work per Perform: a Dumper with many zockets walks them in a stable order (a slot
// table) starting at Cursor() and, when More() turns false, calls Continue with the position
// to resume from and returns; the stack calls Dump again on a later Perform with Cursor() at
// that position. Counter and Drop are ignored on those later calls (Cursor() > 0), so a Dumper
// need not care. A Dumper that ignores Cursor and More simply writes every row in one call:
// correct, but the call then lasts as long as its zockets take to copy.
type DumpBuilder struct {
	snap   *Snapshot
	cursor int
	next   int
	rows   int
	budget int
}

// Cursor is the position to resume from: 0 on a snapshot's first call of Dump.
func (d *DumpBuilder) Cursor() int { return d.cursor }

// More reports whether this Perform call's row budget has room for another row.
func (d *DumpBuilder) More() bool { return d.rows < d.budget }

// Continue asks for another call of Dump on a later Perform, with Cursor() == pos (> 0).
func (d *DumpBuilder) Continue(pos int) { d.next = pos }

// Counter adds v to the stack-wide counter c (the sum over every Dumper is reported).
func (d *DumpBuilder) Counter(c TransportCounter, v uint64) {
	if d.cursor == 0 && c < NumTransportCounters {
		d.snap.Transport[c] += v
	}
}

// Drop reports a drop counter; reason should be a constant string such as
// DropReason.Name's (it is kept, not copied). Report every reason, zeros included, so that
// the metrics' series exist from the start.
func (d *DumpBuilder) Drop(reason string, v uint64) {
	if d.cursor == 0 {
		d.snap.Drops = append(d.snap.Drops, DumpDrop{reason, v})
	}
}

// Row appends a zeroed row of kind k and returns it.
func (d *DumpBuilder) Row(k *DumpKind) *DumpRow {
	sn := d.snap
	n := min(len(k.Fields), MaxDumpFields)
	off := len(sn.vals)
	if off+n > cap(sn.vals) {
		// Grows only when there are more zockets than ever before (allocation on the
		// polling goroutine, never on the packet path). Rows made before keep the old array.
		sn.vals = make([]uint64, off, 2*cap(sn.vals)+n)
	}
	sn.vals = sn.vals[:off+n]
	f := sn.vals[off : off+n : off+n]
	clear(f)
	sn.Rows = append(sn.Rows, DumpRow{Kind: k, F: f})
	d.rows++
	return &sn.Rows[len(sn.Rows)-1]
}

// Snapshot is a copy of a stack's state taken by its polling goroutine (see Stack.Snapshot).
// Static facts (name, attributes, addresses) are read from the Stack itself; they never
// change after New.
type Snapshot struct {
	Seq       uint64        // builds so far (1 is the one New makes)
	Time      time.Time     // wall-clock time at which the build started
	BuildTime time.Duration // time spent building, summed over the Perform calls it spanned
	Turns     int           // Perform calls the build spanned
	Now       int64         // the stack's clock (ns) at the build's start
	Counters  Counters      // the stack's own counters
	Port      dpdk.Stats    // the port's counters (rte_eth_stats_get, read when served)
	PortOK    bool          // Port was read without error (false once the stack is closed)
	PoolSize  int           // buffers in the stack's pool
	PoolInUse int           // buffers allocated from it
	TxQueued  int           // frames queued for the next transmit burst
	Timers    int           // timers armed
	Capture   CaptureStats  // packet capture (zero when off)
	// Transport are the stack-wide counters the Dumpers reported.
	Transport [NumTransportCounters]uint64
	// Drops are the drop counters the Dumpers reported (the stack's own are in
	// Counters.Drops).
	Drops []DumpDrop
	// Rows are the zockets, in Dumper order.
	Rows []DumpRow

	vals []uint64 // arena of the rows' fields
}

// Age returns how old the snapshot is at time now.
func (sn *Snapshot) Age(now time.Time) time.Duration { return now.Sub(sn.Time) }

// Each calls fn with every counter's name and value, in declaration order; drops are named
// "drop_" + DropReason.Name(), fault counters "fault_"+… It is for tools (zfstackdump, the
// metrics) and allocates nothing.
func (c *Counters) Each(fn func(name string, v uint64)) {
	fn("rx_packets", c.RxPackets)
	fn("rx_bytes", c.RxBytes)
	fn("tx_packets", c.TxPackets)
	fn("tx_bytes", c.TxBytes)
	fn("tx_ring_full", c.TxRingFull)
	fn("rx_arp", c.RxARP)
	fn("tx_arp_requests", c.TxARPRequests)
	fn("tx_arp_replies", c.TxARPReplies)
	fn("rx_ipv4", c.RxIPv4)
	fn("rx_icmp", c.RxICMP)
	fn("tx_echo_replies", c.TxEchoReplies)
	fn("delivered", c.Delivered)
	fn("polls", c.Polls)
	fn("busy_polls", c.BusyPolls)
	for r, n := range c.Drops {
		fn("drop_"+dropNames[r], n)
	}
	fn("fault_dropped", c.Faults.Dropped)
	fn("fault_duplicated", c.Faults.Duplicated)
	fn("fault_reordered", c.Faults.Reordered)
	fn("fault_corrupted", c.Faults.Corrupted)
	fn("fault_tail_dropped", c.Faults.TailDropped)
}

// snapshotRowBudget is how many rows one Perform call copies at most (for Dumpers that
// resume). About 10–20 ns a row: a few µs a call.
const snapshotRowBudget = 128

// snapState is the stack's half of the snapshot handshake, and the buffers.
type snapState struct {
	req    atomic.Uint64 // requests made by readers
	pub    atomic.Uint64 // request served << 2 | index of the buffer published
	closed atomic.Bool   // the stack is closed: readers do not wait
	mu     sync.Mutex    // readers, one at a time

	readersGone bool // under mu: set by Close once no reader can touch the port

	bufs  [3]Snapshot
	local Snapshot // SnapshotSync's, private to the polling goroutine

	// Polling goroutine only.
	done     uint64 // the request number the last build served
	target   uint64 // the request number the current build serves
	building bool
	cur      int // buffer being built
	last     int // buffer last published
	builds   uint64
	dumper   int // index of the Dumper to call next (transports, then extra)
	cursor   int
	budget   int
	extra    []Dumper
	b        DumpBuilder
}

// AddDumper registers d, a component that is not a Transport (TX alternatives, say), to be
// asked for snapshots after the transports. Call it from the polling goroutine.
func (s *Stack) AddDumper(d Dumper) { s.obs.snap.extra = append(s.obs.snap.extra, d) }

// RemoveDumper unregisters d.
func (s *Stack) RemoveDumper(d Dumper) {
	ex := s.obs.snap.extra
	for i, x := range ex {
		if x == d {
			s.obs.snap.extra = append(ex[:i], ex[i+1:]...)
			return
		}
	}
}

// initSnapshots preallocates the buffers for the zockets the attributes allow and publishes
// the first snapshot, so that readers always have one.
func (s *Stack) initSnapshots() {
	ss := &s.obs.snap
	ss.budget = snapshotRowBudget
	rows := 16
	for _, n := range []int64{
		s.attr.IntOf(attr.MaxTCPEndpoints), s.attr.IntOf(attr.MaxTCPListenEndpoints),
		s.attr.IntOf(attr.MaxUDPRxEndpoints), s.attr.IntOf(attr.MaxUDPTxEndpoints),
	} {
		rows += int(n)
	}
	for i := range ss.bufs {
		ss.bufs[i].Rows = make([]DumpRow, 0, rows)
		ss.bufs[i].vals = make([]uint64, 0, rows*24)
		ss.bufs[i].Drops = make([]DumpDrop, 0, 64)
	}
	ss.cur = 0
	ss.last = 2
	s.buildSnapshot(&ss.bufs[0], time.Now(), 1<<30)
	ss.last = 0
	ss.pub.Store(0)
}

// serveSnapshot runs one Perform call's part of a build: Perform calls it when a reader's
// request is pending (req != done) or a build is in progress.
//
//go:noinline
func (s *Stack) serveSnapshot() {
	ss := &s.obs.snap
	t0 := time.Now()
	if !ss.building {
		ss.target = ss.req.Load()
		ss.cur = (ss.last + 1) % len(ss.bufs)
		ss.building = true
		s.startSnapshot(&ss.bufs[ss.cur], t0)
	}
	sn := &ss.bufs[ss.cur]
	finished := s.dumpSome(sn, ss.budget)
	sn.BuildTime += time.Since(t0)
	sn.Turns++
	if !finished {
		return
	}
	ss.building = false
	ss.last = ss.cur
	ss.done = ss.target
	ss.pub.Store(ss.target<<2 | uint64(ss.cur))
}

// buildSnapshot builds a whole snapshot into sn at once, with the given row budget per step.
func (s *Stack) buildSnapshot(sn *Snapshot, t0 time.Time, budget int) {
	s.startSnapshot(sn, t0)
	for !s.dumpSome(sn, budget) {
	}
	sn.BuildTime = time.Since(t0)
	sn.Turns = 1
}

// startSnapshot copies the stack-wide state into sn and rewinds the Dumper walk.
func (s *Stack) startSnapshot(sn *Snapshot, t0 time.Time) {
	ss := &s.obs.snap
	ss.builds++
	sn.Seq = ss.builds
	sn.Time = t0
	sn.BuildTime = 0
	sn.Turns = 0
	sn.Now = s.now
	sn.Counters = s.ctr
	sn.Port, sn.PortOK = dpdk.Stats{}, false
	if s.pool != nil {
		sn.PoolSize = s.pool.Size()
		sn.PoolInUse = s.pool.InUse()
	}
	sn.TxQueued = s.ntx
	sn.Timers = s.timers.count
	sn.Capture = s.captureStats()
	sn.Transport = [NumTransportCounters]uint64{}
	sn.Drops = sn.Drops[:0]
	sn.Rows = sn.Rows[:0]
	sn.vals = sn.vals[:0]
	ss.dumper = 0
	ss.cursor = 0
}

// dumpSome asks the Dumpers for rows until budget rows were written or all are done, and
// reports whether all are done.
func (s *Stack) dumpSome(sn *Snapshot, budget int) bool {
	ss := &s.obs.snap
	b := &ss.b
	*b = DumpBuilder{snap: sn, budget: budget}
	for {
		d := s.dumperAt(ss.dumper)
		if d == nil {
			if ss.dumper >= len(s.protos)+len(ss.extra) {
				return true
			}
			ss.dumper++
			continue
		}
		b.cursor, b.next = ss.cursor, -1
		d.Dump(b)
		if b.next > 0 {
			ss.cursor = b.next
			return false
		}
		ss.dumper++
		ss.cursor = 0
		if !b.More() {
			return ss.dumper >= len(s.protos)+len(ss.extra)
		}
	}
}

// dumperAt returns the i-th Dumper: the transports that implement it, in installation order,
// then the extra ones; nil for a transport that does not, or past the end.
func (s *Stack) dumperAt(i int) Dumper {
	if i < len(s.protos) {
		d, _ := s.transport[s.protos[i]].(Dumper)
		return d
	}
	if i -= len(s.protos); i < len(s.obs.snap.extra) {
		return s.obs.snap.extra[i]
	}
	return nil
}

// snapshotSpin is how long Snapshot spins (yielding) before it sleeps between looks.
const snapshotSpin = time.Millisecond

// DefaultSnapshotTimeout is how long Snapshot waits for the polling goroutine by default.
const DefaultSnapshotTimeout = 100 * time.Millisecond

// Snapshot asks the polling goroutine for a fresh snapshot, waits until Perform has built it
// or timeout passes (0: DefaultSnapshotTimeout), and calls fn with it. It reports whether the
// snapshot is fresh: false when the stack was not polled in time or is closed, and fn then got
// the last snapshot published (Snapshot.Time tells its age).
//
// It is safe from any goroutine except the polling one, which would wait for itself: that one
// uses SnapshotSync. fn must not keep sn or anything in it (rows, fields) after it returns;
// calls are serialised, so a slow fn delays other readers, never the stack.
func (s *Stack) Snapshot(timeout time.Duration, fn func(sn *Snapshot)) (fresh bool) {
	ss := &s.obs.snap
	if timeout <= 0 {
		timeout = DefaultSnapshotTimeout
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	my := ss.req.Add(1)
	p := ss.pub.Load()
	if p>>2 < my && !ss.closed.Load() {
		// A polled stack answers within a few Perform calls (µs): spin-yield for up to
		// snapshotSpin, then sleep in steps, so that a stalled stack costs little CPU.
		start := time.Now()
		for {
			if el := time.Since(start); el < snapshotSpin {
				runtime.Gosched()
			} else {
				time.Sleep(min(el/8, time.Millisecond))
			}
			if p = ss.pub.Load(); p>>2 >= my {
				break
			}
			if ss.closed.Load() || time.Since(start) > timeout {
				break
			}
		}
	}
	fresh = p>>2 >= my
	sn := &ss.bufs[p&3]
	if !ss.readersGone {
		s.readPortStats(sn)
	}
	fn(sn)
	return fresh
}

// readPortStats reads the port's counters into sn. Snapshot does it on the reader's goroutine,
// not in Perform: rte_eth_stats_get is a control-path call that DPDK's own telemetry makes
// from a thread of its own; on a physical NIC it reads device registers (µs), and through cgo
// its result escapes to the heap (one allocation). Close takes the readers' mutex after
// marking the stack closed, so the port is never read while it is being closed.
func (s *Stack) readPortStats(sn *Snapshot) {
	var err error
	sn.Port, err = s.port.Stats()
	sn.PortOK = err == nil
}

// SnapshotSync builds a snapshot at once, from the polling goroutine, and calls fn with it
// (tests, and applications that dump their own stack). fn must not keep sn after it returns.
func (s *Stack) SnapshotSync(fn func(sn *Snapshot)) {
	ss := &s.obs.snap
	if ss.local.Rows == nil {
		ss.local.Rows = make([]DumpRow, 0, cap(ss.bufs[0].Rows))
		ss.local.vals = make([]uint64, 0, cap(ss.bufs[0].vals))
	}
	// The handshake's walk state is shared: finish or leave a build in progress alone.
	saveD, saveC := ss.dumper, ss.cursor
	s.buildSnapshot(&ss.local, time.Now(), 1<<30)
	ss.dumper, ss.cursor = saveD, saveC
	if !s.closed {
		s.readPortStats(&ss.local)
	}
	fn(&ss.local)
}
