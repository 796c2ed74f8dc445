// Package tcp is zocket's TCP: listening zockets (Listener, TCPDirect's zftl), handles for
// active opens (Handle, zft_handle) and connections (Conn, zft), with the behaviour of zf_tcp.h
// (TCPDirect user guide §3.2.1, §5.8, §5.9, §11.10) over a DPDK stack.
//
// # Model
//
// As in TCPDirect, a listener and a connection are different types; a Handle becomes a Conn by
// Connect, and a Listener hands out Conns by Accept. Everything belongs to the stack's polling
// goroutine: no locks, no goroutines, no timers of Go's. The first zocket made on a stack
// installs this package's demultiplexer in the stack's transport slot for protocol 6
// (stack.SetTransport); the per-stack state is found there again (stack.Transport), so no map
// keyed by stack exists. A stack has one local address, so a connection is identified by the
// remote address and port and the local port, packed in a uint64: the lookup is one compare
// against the last connection found, then a map keyed by value (no allocation). Segments that
// match no connection go to the listener of their port, then get a RST (below).
//
// # Files
//
// Arrival: demux.go (per-stack state, Deliver, RSTs for closed ports, ISN), fast.go (header
// prediction: the short path for in-order segments with the expected ACK), rcv.go
// (acceptability, RST/SYN/ACK rules, processAck, reassembly, FIN; ZcRecv, ZcRecvDone, Recv),
// options.go (negotiation, timestamps, PAWS), sackrcv.go (the SACK blocks we send), rtt.go
// (RTT samples). Sending: snd.go (template, send queue, Send, push), alt.go (TX alternatives'
// hook), zc.go (zero-copy sends). Loss recovery: recovery.go (duplicate ACKs, NewReno, SACK
// recovery, retransmission), sack.go (the scoreboard), rack.go (RACK-TLP), prr.go
// (proportional rate reduction), pmtu.go (ICMP frag-needed). Congestion control: cc.go (the
// interface, NewReno, window validation, idle restart), cubic.go. Time: timers.go
// (retransmission, probe and reorder timers, delayed ACK, FIN-WAIT-2, TIME-WAIT on the stack's
// wheel). The rest: conn.go (Conn, State, Err, Close, ShutdownTx), connect.go (Handle, active
// open, the connection pool), listen.go (passive open), ready.go (muxer readiness,
// quiescence), counters.go and dump.go (what zfstackdump and Prometheus show).
//
// # Design choices
//
//   - Initial sequence numbers follow RFC 6528: SipHash-2-4, keyed with 128 random bits per
//     stack, over the 4-tuple, plus a 4 µs clock. Tests fix them through an unexported hook.
//   - Options (options.go) are negotiated as Linux does: our SYN offers MSS, SACK-permitted,
//     timestamps and window scale in Linux's layout (a 40-byte header), a SYN-ACK only those
//     the SYN offered; an option is on when both SYNs carried it. Each can be switched off
//     (tcp_sack, tcp_timestamps, tcp_window_scaling; default on, as Linux: over net_memif the
//     64-byte ping-pong p50 is 4.40 µs with all on, 4.28 µs with timestamps off, 4.43 µs with
//     all off — within the noise, TestMeasureOptionsCost), so that a latency user can send
//     TCPDirect's bare 20-byte headers. The MSS option is the link MTU less 40, capped so that a
//     whole segment fits one packet buffer (the pool's data room follows the mtu attribute, so
//     with jumbo frames too a segment is never chained). Unknown kinds are ignored; a
//     malformed option list drops the segment (wire.CheckTCP).
//   - Timestamps (RFC 7323 §3-5) ride on every segment (the header template carries the
//     option, patch fills in TSval and TSecr); TSval is a 1 ms clock (Linux's tick) plus the
//     connection's ISN as offset. TS.Recent follows §4.3 (a segment at or below Last.ACK.sent);
//     PAWS drops a segment with an older TSval (tcp_paws, answered with an ACK), except a RST,
//     and not once TS.Recent is 24 days old (§5.5). A segment without timestamps is accepted,
//     as Linux (the RFC says SHOULD drop).
//   - RTT (rtt.go): a sample from every ACK of new data, from the send queue's time of the
//     oldest segment it acknowledges (microseconds), or, when one of them was sent twice, from
//     the timestamps' echo (1 ms), so that Karn's rule (below: it holds for the send-queue
//     times) no longer leaves the estimator without samples after a loss; without timestamps a
//     retransmission gives none.
//   - SACK blocks we send (sackrcv.go, RFC 2018 §4): every ACK while out-of-order data is held
//     carries the block of the latest segment first, then the others most recently changed
//     first (Linux's list of four, kept per arrival), 3 beside timestamps or 4 without; a
//     duplicate (below RCV.NXT, or held already) is reported once in a D-SACK block first
//     (RFC 2883). Data segments carry no SACK option: an ACK due while SACK information is
//     pending goes as a bare segment.
//   - Window scaling (RFC 7323 §2): our shift is the smallest that fits the receive window
//     (slots × MSS) into 16 bits, at most 14; the peer's is taken at most 14 (logged); no
//     SYN's window is scaled. A window field is rounded down unless that would move the right
//     edge back, then up (as Linux; less than 2^shift bytes of overcommit).
//   - Send MSS: the peer's MSS option, 536 without one (RFC 9293 §3.7.1), an MSS of 0 taken as
//     missing, at most our MTU less 40, less 12 with timestamps (Linux's mss_cache), at least
//     48 (Linux's floor). No segment exceeds it.
//   - Receive window from tcp_rcvbuf and pool space: each connection's window is slots =
//     tcp_rcvbuf / MSS buffers (default 4 MiB), at most its share of the pool, pool size / (2 ×
//     max_tcp_endpoints) (at least 8): the clamp is the documented rule rather than an error, so
//     the defaults work with any pool, and windows of several MiB need n_bufs raised or fewer
//     endpoints (TestTransferLargeWindow: 4 MiB with n_bufs=32767 and 4 endpoints). The window
//     advertised is the free slots times our MSS, at most 65535 << shift, and its right edge
//     never moves back (RFC 9293 §3.8.6).
//     Small segments are copied onto the tail of the previous buffer when it has room, and up
//     to twice the slots may be held, so that a peer sending small segments does not run the
//     buffers out before the window; in-order data takes precedence over out-of-order data
//     (the last out-of-order buffer is reneged on when needed).
//   - Out-of-order segments are kept, trimmed against each other, in a sorted queue of a
//     window's entries (slots, made at pool set-up; sharing the slots, one slot always left
//     for in-order data; a segment beyond everything held is appended without a search)
//     and merged when the hole fills; a FIN beyond a hole is remembered and taken in order.
//     Without SACK a sender repairs one hole per round trip, so dropping what arrived beyond
//     a hole (as a 16-entry queue did) turned every loss into many: against Linux with 5 %
//     loss, 64 entries made the Linux→zocket direction about ten times faster.
//   - Delayed ACK (tcp_delayed_ack): an ACK goes at once for out-of-order data, a filled hole,
//     a FIN, a segment outside the window or trimmed, and for every second segment; otherwise
//     within 40 ms (Linux's TCP_DELACK_MIN), or earlier with any data sent (which carries the
//     ACK). A window update goes when reading opens the window by min(MSS, half the largest
//     window) while the peer's view of it is under half the largest (SWS avoidance).
//   - Send path: Send copies the payload into buffers that carry the whole frame (the
//     connection's prebuilt Ethernet + IPv4 + TCP header template, then the data) and keep a
//     reference for retransmission: before a burst each frame's refcnt is raised, so the
//     driver's free after transmission leaves ours; an ACK frees (or recycles) it. Sequence,
//     acknowledgment, window, IP identification and checksums are patched per transmission;
//     the payload's partial checksum is computed once when it is copied. Checksums are
//     computed in software unless the port offloads them (stack.TxChecksumOffload). A frame
//     the driver still holds is copied before it is patched again. Buffers come from a
//     per-stack cache (stack.BufCache) refilled in bulk and fed by released receive buffers and
//     acknowledged segments, so a Send is one cgo call (the burst). Only frames the port took
//     count as sent (SND.NXT, SND.MAX, RTT timing); those a full transmit ring refused stay
//     queued and a transmit-retry timer pushes them at the next reactor turn (data, FIN and
//     alternatives alike).
//   - The send queue holds tcp_sndbuf / MSS segments (default 4 MiB), rounded up to a power of
//     two, at most the pool share and at least 64; SendSpace is the free segments times the
//     MSS plus the room in a last segment not yet sent. Send takes buffers 64 segments at a
//     time: all-or-nothing on the first (ENOMEM), partial when a later one finds none or on
//     queue space (the count, or EAGAIN when none). No Nagle: a segment leaves when the
//     windows allow, except a partial last one held by MsgMore (MSG_MORE, see Conn.Send).
//   - Congestion control (cc.go) behind an interface, chosen by tcp_congestion: cubic (the
//     default, as Linux) or newreno (TCPDirect's). Both start at tcp_initial_cwnd or 10 × MSS
//     (RFC 6928) and slow start per RFC 5681 (cwnd += min(acked, SMSS) below ssthresh; the ACK
//     of the SYN does not count). NewReno: SMSS²/cwnd per ACK above ssthresh, ssthresh =
//     FlightSize/2 on a loss. CUBIC (cubic.go, RFC 9438): ssthresh = 0.7·FlightSize, W_max
//     with fast convergence, then cwnd towards W_cubic(t+SRTT) = C(t−K)³ + W_max (C = 0.4),
//     clamped to 1.5·cwnd per ACK, or the Reno-friendly W_est where larger; after a timeout
//     the next stage starts with K = 0; floating point on per-connection state, nothing
//     allocated. Window validation (RFC 7661, in Linux's tcp_cwnd_validate form): cwnd grows
//     only if a push found the flight filling cwnd during the window being acknowledged (in
//     slow start: or cwnd is under twice the largest flight), so an application-limited
//     connection keeps its cwnd (a 64-byte ping-pong stays at IW; it grew by 64 bytes a round
//     trip before); such ACKs count as CwndAppLimited. An RTO without filling cwnd (held by
//     the application or the peer's window, not a full send queue, outside recovery) halves
//     cwnd towards max(largest flight, IW) (RFC 2861's decay as Linux's
//     tcp_cwnd_application_limited; CwndDecays). Restart after idle (RFC 5681 §4.1): when
//     push finds nothing in flight and nothing was sent for longer than the RTO, cwnd =
//     min(cwnd, IW); both cuts keep ssthresh ≥ ¾ of the old cwnd (Linux's tcp_cwnd_restart;
//     CwndRestarts). CUBIC keeps any time with nothing in flight out of t.
//   - Loss recovery. RTO per RFC 6298: 1 s before a sample, SRTT/RTTVAR with α = 1/8, β = 1/4,
//     K = 4 and a 1 ms clock granularity, clamped to tcp_rto_min_ms..tcp_rto_max_ms, doubled
//     per timeout (kept until the next sample), Karn's rule (no send-time sample from a
//     retransmitted segment; with timestamps the echo gives one, rtt.go), 3 s after a lost
//     SYN. A timeout sets ssthresh by the congestion control (once per episode;
//     max(FlightSize/2, 2·SMSS) with NewReno), cwnd = 1 SMSS, and goes back N from SND.UNA;
//     after tcp_retries timeouts without progress the connection sends a RST and ends with
//     ETIMEDOUT. Fast
//     retransmit on the third duplicate ACK (same ACK, no data, no window change, data in
//     flight; RFC 5681 §2), NewReno recovery per RFC 6582: cwnd = ssthresh + 3·SMSS, inflated
//     per further duplicate; a partial ACK retransmits the next hole and deflates; a full ACK
//     sets cwnd = ssthresh (the RFC's second option, Linux's). After an RTO, duplicates start
//     a fast retransmit only by RFC 6582 §4.2's ACK heuristic (cwnd above one segment).
//     Limited transmit (RFC 3042): the first two duplicates each let one new segment past
//     cwnd. A lost retransmission is detected without SACK: once more duplicates arrive than
//     segments were in flight past the hole when it was resent (plus two for reordering), it
//     is resent again (LostRetransmits) instead of waiting for the RTO; with 1 % loss over
//     net_memif this took the RTOs of a 128 MiB transfer from 17 to about 2. If the peer's window shrank
//     below the oldest segment, the RTO sends it anyway (as Linux) so that the answer carries
//     the window. Segments without data carry SND.MAX, not a rewound SND.NXT (snd.go says why),
//     and a segment without data exactly at the right edge of our window is acceptable, as on
//     Linux (rcv.go's acceptable says why).
//   - SACK-based recovery, with SACK negotiated (recovery.go, sack.go, rack.go, prr.go; the
//     NewReno above is for peers without SACK). The scoreboard lives in the send queue: each
//     sent segment carries SACKed, lost and retransmitted marks and the connection their
//     totals, so RFC 6675's pipe is arithmetic; an ACK's blocks find their segments by binary
//     search; blocks outside [SND.UNA, SND.MAX] are ignored (SACKIgnored). A segment is lost
//     by RFC 6675's IsLost (DupThresh SACKed segments above it, while no reordering was seen)
//     or by RACK (RFC 8985: sent before the most recently delivered segment, RACK.rtt plus the
//     reordering window ago; the window is min_RTT/4, 0 while no reordering was seen and
//     DupThresh segments are SACKed, widened per D-SACK round; a reorder timer waits it out).
//     The first loss starts a recovery (SACKRecoveries): ssthresh from the congestion control,
//     recovery point SND.MAX; lost segments go first, oldest first, then new data, while pipe
//     is under cwnd, with PRR-SSRB (RFC 6937) setting cwnd = pipe + sndcnt on each ACK (whole
//     segments, as Linux); push counts cwnd against pipe rather than the bytes outstanding. A
//     retransmission RACK finds lost goes again (LostRetransmits). The full ACK ends the
//     recovery with cwnd = ssthresh. An RTO marks what is not SACKed lost and resends it the
//     same way from one segment (an oldest segment SACKed but not acknowledged is a reneging
//     peer: the marks go, RFC 2018 §8). D-SACKs (RFC 2883) that account for every
//     retransmission of an episode (recovery or RTO) undo it: cwnd and ssthresh come back
//     (SpuriousUndone), as Linux's undo. Tail loss probes (RFC 8985 §7, SACK only, as Linux):
//     with an SRTT and no recovery the retransmission timer first runs as PTO = 2·SRTT (plus
//     40 ms, the minimum delayed ACK, with one segment in flight; at most the RTO), sends one
//     new segment past cwnd if the peer's window allows, else the last one again (TLPProbes),
//     then runs as the RTO; a probe that repaired a loss (an ACK beyond it without D-SACK)
//     reduces cwnd (TLPRecoveries). Unlike RFC 8985 and Linux, a SACK recovery probes too:
//     after PTO without an ACK (once per ACK) one segment goes, a lost one, new data or the
//     highest not SACKed again, with no change to cwnd (RecoveryProbes), so that a lost
//     retransmission followed only by losses (or by lost ACKs) is found by RACK from the
//     probe's SACK rather than after the RTO (TestRecoveryProbe; the seeded lossy suite at
//     5 % loss, 8 MiB each way, seeds 1–10: 5.9 s → 0.69 s of virtual time, RTOs 21 → 0). PTO, reorder timer and RTO are one lazy timer (a deadline
//     with a kind, as Linux's icsk_retransmit_timer). Transmissions are stamped strictly
//     increasing per connection (rack.go's stamp), so that RACK orders those of one reactor
//     turn as they left. A ping-pong's lost request is repaired 2·SRTT + 40 ms + 1 RTT after
//     it left rather than after the 200 ms RTO floor (TestPingPongSingleLossRecovery; over
//     net_memif with 0.1 % loss, p99.9 200 ms → 40 ms, TestMeasurePingPongTLP); 128 MiB over
//     net_memif with 1 % loss both ways goes at 5.8 Gbit/s rather than NewReno's 3.6
//     (TestMeasureGoodputSACK); the seeded lossy suite at 5 % loss, 8 MiB each way, takes an
//     eleventh of NewReno's virtual time (seeds 1–10: 155 s → 14 s, RTOs 940 → 49).
//   - Zero window: the persist timer probes with an ACK one byte below SND.UNA, backing off
//     like the RTO up to tcp_rto_max_ms; probes that are answered never abort the connection,
//     tcp_retries unanswered in a row end it (a RST, ETIMEDOUT, PersistTimeouts), as Linux's
//     tcp_probe_timer. Once the application closed the connection, tcp_orphan_retries (0: 8)
//     replaces tcp_retries for probes and retransmissions alike (OrphanTimeouts), so a peer
//     that vanished behind a zero window or in FIN-WAIT-1, CLOSING or LAST-ACK gives the
//     endpoint and its buffers back.
//     Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a piece of a segment goes only when it is
//     at least an MSS or half the largest window offered, or as the persist timer's probe.
//     Receiver SWS avoidance: windows are whole slots, and updates follow the rule above.
//   - Keepalive (tcp_keepalive, off by default): after tcp_keepalive_time_ms without a segment
//     from the peer, a probe (ACK one byte below SND.UNA) every tcp_keepalive_intvl_ms, and
//     after tcp_keepalive_probes unanswered a RST and ETIMEDOUT (KeepaliveTimeouts); a zero
//     window does not hold the probes off (the window probe is the same ACK). The attributes
//     are every connection's start; Conn.SetKeepalive changes one connection's (Linux's
//     SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
//   - Timers run on the stack's tick wheel (stack.ArmTimer): retransmission (SYN, SYN-ACK with
//     tcp_syn_retries / tcp_synack_retries, data with tcp_retries, zero-window probes), delayed
//     ACK, FIN-WAIT-2 (tcp_finwait_ms, once the application closed, as Linux's
//     tcp_fin_timeout) and TIME-WAIT (tcp_timewait_ms). The retransmission and delayed-ACK
//     timers are lazy (timers.go), so steady traffic does not touch the wheel per segment.
//   - RSTs (RFC 9293 §3.10.7.1, RFC 5961): to a closed port, a SYN gets RST/ACK with SEQ=0,
//     any segment with ACK a RST with SEQ=SEG.ACK, a RST nothing; SYN+FIN, SYN+RST and
//     segments without flags are dropped. In a synchronized state a RST resets only at exactly
//     RCV.NXT, elsewhere in the window it gets a challenge ACK; a SYN gets a challenge ACK;
//     challenge ACKs are limited to one per tcp_invalid_ratelimit_ms per connection and a
//     stack-wide budget per second drawn at random around tcp_challenge_ack_limit, as Linux
//     since CVE-2016-5696 (demux.go's challengeOK). An ACK for data not sent is
//     answered and dropped; one older than SND.UNA − MAX.SND.WND is dropped. TIME-WAIT ignores
//     RSTs (RFC 1337) and lets a SYN above RCV.NXT reopen through the listener (RFC 1122
//     §4.2.2.13). A RST in SYN-SENT counts only if it acknowledges our SYN.
//   - Close (zft_free) closes gracefully (FIN after the queued data, however full the send
//     queue: a FIN that finds no slot or buffer is owed and joins the queue when one frees) and
//     leaves the stack to finish: the endpoint stays counted until TIME-WAIT ends, or until
//     a new connection finds every endpoint taken and the oldest closed connection in
//     TIME-WAIT gives its own (TimeWaitRecycled, timewait.go; Linux's tcp_max_tw_buckets). Unread
//     in-order data, or data arriving after Close, make it a RST, as on Linux; out-of-order data
//     is purged silently. Errors: ECONNREFUSED (RST or ICMP port
//     unreachable while connecting), ECONNRESET, EPIPE (reset after the peer's FIN),
//     ETIMEDOUT, EHOSTUNREACH (ARP failed while connecting, or ICMP).
//   - SYN backlog: at most max_tcp_syn_backlog half-open connections per listener; a SYN
//     beyond it is answered with a SYN cookie (RFC 4987 §3.6, syncookie.go; tcp_syncookies,
//     on by default as on Linux): nothing is kept, the handshake's ACK rebuilds the connection
//     (MSS from a table of four; window scale and SACK when the SYN had timestamps, carried in
//     our TSval). A flood then costs a reply per SYN and no memory, a burst of real clients
//     larger than the backlog all connect, established connections are untouched. With
//     tcp_syncookies 0 such a SYN is dropped (DropBacklog) and the client retransmits it.
//     Counters: SynCookiesSent, SynCookiesRecv, SynCookiesFailed. Data on a SYN is not kept.
//   - Counters (Counters, per stack): retransmits, RTOs, fast retransmits, NewReno partial
//     ACKs, duplicate ACKs, challenge ACKs sent and rate-limited, window and keepalive probes,
//     connections given up (RetriesTimeouts, PersistTimeouts, KeepaliveTimeouts,
//     OrphanTimeouts), path MTU reductions and ICMP errors ignored (PMTUReductions,
//     ICMPIgnored),
//     out-of-order queue events (OOOQueued/OOORemoved/OOODropped: ooo added, removed, dropped),
//     send ENOMEMs, SYN cookies, TIME-WAIT recycled, SACK recoveries, RACK losses, tail loss probes and
//     the losses they repaired, spurious recoveries undone, D-SACKs and SACK blocks ignored,
//     and every dropped segment by reason (Drops).
//   - Connections come from a pool of max_tcp_endpoints made with the stack's TCP, and the
//     demultiplexer's 4-tuple table is an open-addressing array sized for it (demux.go's
//     connTable), so that a SYN, an accept or a close allocates nothing either: a SYN flood
//     does not make the garbage collector run (TestSynAllocatesNothing, BenchmarkSynFlood).
//   - Hot path: no allocation per segment or per call (tests prove it with
//     testing.AllocsPerRun and -benchmem), errors are bare syscall.Errno values, one cgo call
//     per send burst; set-up calls wrap their errno with context (errors.Is works).
//
// # Scope
//
// Not supported: SACK options on data segments (they go on bare ACKs), Linux's PAWS exception
// for a disordered pure ACK (tcp_disordered_ack), an RTT filter tuned for per-ACK samples
// (RFC 7323 Appendix G: the RFC 6298 gains are used per sample, as Linux); RACK-TLP without
// SACK (as Linux: NewReno and the RTO then); path MTU probing (RFC 4821: a frag-needed lowers
// the MSS, pmtu.go, and it never grows back; other ICMP errors than unreachable in SYN-SENT
// are ignored).
// Multi-segment (chained) receive buffers are dropped and counted, which is enough for the
// MTUs this stack supports. TX alternatives reach a connection through alt.go's hook.
// Congestion control: no HyStart++ (slow start runs to the first loss), no ECN; of RFC 7661
// the growth limit, with Linux's per-RTO decay instead of its pipeACK and five-minute
// non-validated period; an undone spurious recovery restores cwnd and ssthresh but not
// CUBIC's W_max and stage (as Linux's tcp_reno_undo_cwnd).
//
// # Tests
//
// Packet scripts (script_test.go) inject a segment into a stack facing a raw port and assert
// the segment it emits, in one line each, for every RFC rule above (rfc_test.go; loss
// recovery, persist, keepalive and SYN floods in recovery_test.go); lossy_test.go runs two
// stacks through the seeded fault shim (loss 1–30 %, reordering, duplication, corruption)
// with both directions at once and byte-exact SHA-256 checks, a failing seed replayable from
// the subtest's name; kernel_loss_test.go puts Linux behind an nftables router dropping 5 %
// each way; two stacks over net_ring
// on a manual clock (pair_test.go) cover handshakes both ways, simultaneous open and close,
// transfers larger than the window and the pool checked by SHA-256, ISNs near 2^32,
// ZcRecvDoneSome, MSG_MORE and every error code. Linux is the peer in kernel_test.go: socat
// connects to a zocket listener and a zocket connects to socat's, 100 MiB each way compared by
// SHA-256, with graceful closes. The kernel peer sits in a network namespace behind a veth
// whose other end DPDK opens with net_af_packet rather than net_tap: it is the same kernel TCP
// on the other side, and af_packet over veth was the more robust of the two here (no
// rx-interrupt signal warnings, no tap queue set-up, the namespace made before the port).
package tcp
