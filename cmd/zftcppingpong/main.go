// Command zftcppingpong measures TCP round-trip latency between two zocket stacks, as
// TCPDirect's zftcppingpong does (user guide §4.2, §6.2):
//
//	ZF_ATTR="interface=…;local_ip=…" zftcppingpong [options] pong HOST:PORT
//	ZF_ATTR="interface=…;local_ip=…" zftcppingpong [options] ping HOST:PORT
//
// The pong listens on HOST:PORT (its own address), accepts one connection and echoes every byte
// it receives, unchanged, until the peer closes; so any TCP client (Linux's socat, nc) can check
// a stream through it. The ping connects to HOST:PORT, sends -s bytes, waits for all of them to
// come back, -r warm-up round trips then -i measured ones, and prints TCPDirect's summary (mean
// round-trip time, then the half-round-trip table "size mean min median max %ile stddev iter";
// -f prints whole round trips) and the project's closing line "rtt_ns n=… min=… mean=… p50=…
// p99=… p999=… max=…". A round trip is timed from the time-stamp counter read just before the
// send to the reactor turn that received the last byte of the echo.
//
// Messages of 9 bytes or more start with a type byte and a sequence number: every -hk the ping
// marks a round trip "housekeeping" and both sides yield to the Go scheduler after it (a pong
// given the same -s finds the type byte at each message boundary), then a "sync" round trip
// follows unmeasured — the scheme of zfpmd's and zfudppingpong's.
//
// pong --sockperf speaks sockperf's TCP server protocol instead (length-framed messages with a
// 14-byte header, answered with the client flag cleared; internal/sockperf), for Linux's
// `sockperf pp --tcp`.
//
// Bulk mode: `ping -bulk DURATION` sends as fast as the windows allow for DURATION and then
// closes; `pong -sink` reads and discards; each prints "bulk rx|tx bytes=… secs=… gbps=…",
// the receiver timing from its first byte to the FIN.
//
// Ending: the pong waits for its connection forever unless -wait says otherwise (the ping gives
// up after 30 s). At the end either side sends its FIN after the data it queued and waits until
// the peer acknowledged both, or TCP gave up by its retry limits, and says what it gave up on
// (exit 1); -linger DURATION bounds that wait.
//
// Loss on a clean link: -faults drop=P,seed=N (also dup=, reorder=, corrupt=) puts the stack's
// fault shim (stack.Faults) on the frames this side sends, deterministic for a given seed; give
// both sides one, with different seeds, to lose frames both ways (scripts/bench tcp-loss).
//
// Options -c, -config, -v, -gc, -hk, -wait, -linger, -bulk, -sink, -w, -faults, -hgrm are zocket's;
// the rest are TCPDirect's. -w warms the send path (Conn.SendSingleWarm) while the ping waits.
package main

import (
	"io"
	"os"
	"sync/atomic"

	"github.com/zocket/zocket/internal/tcppingpong"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }

func run(args []string, stdout, stderr io.Writer, stop *atomic.Bool) int {
	return tcppingpong.Run(tcppingpong.Tool{Name: "zftcppingpong", Alts: false}, args, stdout, stderr, stop)
}
