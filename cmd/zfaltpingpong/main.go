// Command zfaltpingpong measures TCP round-trip latency with TX alternatives on the pong
// side, as TCPDirect's zfaltpingpong does (user guide §4.3): usage and output are
// zftcppingpong's.
//
//	ZF_ATTR="interface=…;local_ip=…" zfaltpingpong [options] pong HOST:PORT
//	ZF_ATTR="interface=…;local_ip=…" zfaltpingpong [options] ping HOST:PORT
//
// The ping is zftcppingpong's ping (a plain TCP connection; the two tools interoperate). The
// pong keeps -alts N alternatives (package alts) queued with candidate replies for the next
// message — with -s ≥ 9 the ping's message of the next sequence number with each type byte
// (ping, housekeeping, sync; further alternatives hold decoys); smaller messages are all the
// same, so one candidate is right — and when a whole message has arrived it sends the
// alternative that matches it in one burst (alts.Send), cancels the others and queues the
// next candidates. A message no candidate matches is echoed with Conn.Send, so any stream is
// echoed unchanged; "pong: echoed … alts_sent=…" says how many replies went by alternative.
// The stack's alt_count is raised to N when lower. -sockperf, -bulk and -sink behave as in
// zftcppingpong (no alternatives).
//
// Options -c, -config, -v, -gc, -hk, -wait, -bulk, -sink, -w, -alts, -hgrm are zocket's; the rest
// are TCPDirect's.
package main

import (
	"io"
	"os"
	"sync/atomic"

	"github.com/zocket/zocket/internal/tcppingpong"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }

func run(args []string, stdout, stderr io.Writer, stop *atomic.Bool) int {
	return tcppingpong.Run(tcppingpong.Tool{Name: "zfaltpingpong", Alts: true}, args, stdout, stderr, stop)
}
