// Command zfpmd is zocket's testpmd: raw DPDK forwarding engines with per-port statistics, and
// a raw L2 ping-pong between two processes whose round-trip times are the floor every later
// latency benchmark divides by (scripts/bench rows floor and floor-bulk).
//
// Usage:
//
//	zfpmd [-eal "args"] [-dev DEVSPEC]… [-c CPU] [-n N] [-w WARMUP] [-s SIZE] [-burst B]
//	      [-stats SECONDS] [-t DURATION] [-v] MODE
//
// MODE is io, macswap, rxonly, txonly (testpmd's engines), ping or pong (also spelled
// pingpong-ping, pingpong-pong, or pingpong -role ping|pong), or c2c (a cache-line ping-pong
// between two CPUs, no DPDK: the hardware under the floor). `zfpmd -h` lists every flag.
//
//	zfpmd -c 1 pong &  zfpmd -c 0 -n 1000000 ping     # the latency floor over net_memif
//	zfpmd -c 1 -t 5s rxonly &  zfpmd -c 0 -s 1500 -t 15s txonly   # the throughput floor
//
// The default device is net_memif0 on the abstract socket /run/zocket/zfpmd.sock, role=server
// for pong and rxonly, role=client otherwise; memif clients get zero-copy=yes when EAL runs on
// hugepages (zfpmd adds --single-file-segments to internal/ealargs' choice for that;
// -zc=false turns it off).
//
// # Output
//
// ping ends with the project's contract line (internal/rtt):
//
//	rtt_ns n=N min=… mean=… p50=… p99=… p999=… max=…
//
// and with -hgrm FILE also writes the round trips' HdrHistogram percentile distribution to
// FILE (.hgrm text, values in ns; scripts/bench -plot draws them).
//
// The forwarding modes print a testpmd-like line per port every -stats seconds (RX-packets,
// RX-missed, RX-bytes, RX-nombuf, TX-packets, TX-errors, TX-bytes, fwd-drops, Rx-pps, Tx-pps,
// Rx-Gbps, Tx-Gbps; counters from rte_eth_stats, rates since the previous line) and end with
//
//	fwd mode=rxonly ports=1 secs=… rx_pkts=… rx_bytes=… rx_mpps=… rx_gbps=… tx_pkts=… … drops=…
//
// with rates over the first to the last packet the engine moved. -v adds diagnostics on stderr:
// GC cycles and heap allocations during the run, context switches per thread, interrupts on the
// polling CPU, and poll-loop stalls (gaps over 5 µs between turns: count, duration, interval).
//
// # The hot path
//
// Each engine turn is one cgo call per stream (dpdk.Port.TxDropRx, RxDrop, TxDropAlloc; the
// ping and pong use TxRx), into C-allocated mbuf arrays (a Go array costs a cgocheck scan per
// call), and allocates nothing (tests check with testing.AllocsPerRun). The ping reads the TSC
// (dpdk.TSC) into the frame just before the call that sends it; the round trip is the TSC that
// call sequence returns after the receive minus the echoed stamp. The echo is reused as the next
// ping, so the ping-pong does no pool operation of its own. The poll loop runs on the main
// goroutine, which package eal locks to the main thread: EAL's main lcore, with its mempool
// cache.
//
// # Latency findings (2-vCPU KVM guest, AMD EPYC, Go 1.26, DPDK 22.11)
//
// Starting point, Go defaults with the polling thread pinned (GOMAXPROCS=2, GC on): p50 ≈ 540 ns,
// p99.9 ≈ 22–24 µs, as DPDK-NOTES.md recorded.
//
// p99.9, 22 µs → ≈ 1 µs: sysmon. A goroutine that keeps its P for more than 10 ms is preempted by
// the runtime's sysmon thread; when the poller is inside a cgo call, which is nearly always,
// sysmon takes its P away ("retake"). A retake resets sysmon's back-off, so it sleeps only 20 µs
// (≈ 83 µs with the kernel's timer slack) for the next 50 rounds, and since the poller is
// retaken again every 10 ms sysmon never backs off. Each sysmon wake-up is a timer interrupt
// and a context switch on a polling core, ≈ 20 µs of stall in this VM: -v showed ~2,600 stalls/s
// per process with an 83 µs period and a 22 µs median, and sysmon's thread switching ~2,300
// times/s. GOGC=off, GOMAXPROCS=1, pinning every thread, GODEBUG=asyncpreemptoff=1 each leave
// p99.9 at 22–27 µs: none stops the retake. What does is yielding before sysmon's 10 ms: every
// -hk (2 ms) the ping sends a housekeeping frame instead of a ping; the pong echoes it and calls
// runtime.Gosched, the ping does the same on the echo, then one unmeasured sync round trip
// confirms the pong is back in its loop before measuring resumes. sysmon then sees a new
// schedtick each time, never retakes, and backs off to one wake-up per 10 ms (~100/s). Stalls
// drop from ~2,600/s to ~500/s (mostly the yields themselves, outside any measured round
// trip), p99.9 from 22–24 µs to 0.7–1.1 µs. A yield on a locked thread is a hand-off to another
// M and back, ≈ 11 µs, ~0.5 % of the run. -hk 0 turns it off. An idle pong yields every
// millisecond on its own (no frame to disturb), and the forwarding engines yield every -hk
// too: a busy rxonly without it switched ~4,800 times/s against ~640 with it. The stack's
// reactor needs the same discipline (yield more often than every 10 ms, between bursts).
//
// Thread placement (-pin process, default): every thread of the process (sysmon, the M that
// takes the P during a yield, EAL's interrupt thread) is bound to the polling CPU, so none of
// them ever runs on the peer's core, where it would steal time the peer cannot schedule around;
// GOMAXPROCS=1 keeps the runtime from waking idle Ps. With the housekeeping yields both made no
// measurable difference in short runs; they are the configuration the yields were measured in.
// GC off (-gc=false): the loops allocate nothing, so no GC ran either way (num_gc=0 with -v);
// it only guards the run against a stray allocation.
//
// p50, 540 → 450 ns: memif zero-copy. With zero-copy=yes the client lends its own mbufs to the
// link instead of copying into memif's shared buffers (and does no mbuf allocation on receive):
// p50 440–450 ns, min 340–350 ns, against 520–550 and 410–430 copying. It needs the client's
// memory in shareable hugepage files: --single-file-segments (with --in-memory).
//
// No effect: burst 1 vs 32 (same p50); a PAUSE after an empty poll (-pause: +20 ns p50).
// What remains between Go and C's 280 ns is cgo on the critical path: the ping's TSC read and
// the cgo exit and entry between receive and send on each side (≈ 35–40 ns each here), and the
// coarser poll period of a cgo call per poll.
//
// The ≈ 1.9 µs runs: for seconds at a time, runs settle at p50 1.2–1.9 µs with min ≈ 1 µs
// (zero-copy: p50 ≈ 1.3 µs; copying: ≈ 1.7 µs), and txonly→rxonly drops from ~155–190 to
// ~90 Gbit/s. They hit every configuration alike and show nothing inside the guest: both
// pollers run 100 % of the time with the same context switches, interrupts and syscalls (none)
// as fast runs. What moves with them is the hardware: `zfpmd c2c`, alternated with 200k-round-
// trip floors for a minute, measured ~90–110 ns per cache-line round trip between CPU 0 and 1
// in fast phases and 470–500 ns right after a slow floor. The host places the two vCPUs far
// apart (another CCD) for a while; not ours to fix. scripts/floor-runs marks runs whose min is
// ≥ 800 ns and prints c2c before each run; compare medians over runs.
package main
