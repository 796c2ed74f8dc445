// Command zfudppingpong measures UDP round-trip latency between two zocket stacks, as
// TCPDirect's zfudppingpong does (user guide §4.1, §6.1):
//
//	ZF_ATTR="interface=…;local_ip=…" zfudppingpong [options] pong LOCAL:PORT REMOTE:PORT
//	ZF_ATTR="interface=…;local_ip=…" zfudppingpong [options] ping LOCAL:PORT REMOTE:PORT
//
// The ping sends one datagram of -s bytes at a time and waits for its echo, -r warm-up round
// trips then -i measured ones, and prints TCPDirect's summary (mean round-trip time, then the
// half-round-trip table "size mean min median max %ile stddev iter"; -f prints whole round
// trips) and the project's closing line "rtt_ns n=… min=… mean=… p50=… p99=… p999=… max=…".
// A round trip is timed from the time-stamp counter read just before the send to the reactor
// turn that received the echo, as zfpmd's raw floor is.
//
// pong --sockperf speaks sockperf's server protocol instead (a 14-byte header: sequence u64,
// flags u16 — the client's 0x0003 is answered with bit 0 cleared — and length u32, big-endian),
// answering whoever sent, so that Linux's `sockperf pp` can drive it. It keeps a transmitter
// for each of the 16 latest clients, closing the least recent one's for a new client, so that
// sources that send once (spoofed ones) cannot use up the stack's transmitters; at exit it
// prints how many clients it saw and evicted.
//
// Datagrams of 9 bytes or more carry a type byte and a sequence number at their start: the ping
// checks that an echo answers the datagram in flight, resends after a second without one, and
// every -hk it marks a round trip "housekeeping": both sides yield to the Go scheduler after it,
// at a moment agreed and unmeasured, and a "sync" round trip follows before measuring goes on
// (the same scheme as zfpmd's floor). A "stop" datagram ends the pong.
//
// The pong waits for its first ping forever unless -wait says otherwise (the ping gives up after
// 30 s); at exit -linger bounds the wait for queued datagrams to leave.
//
// Options -c, -config, -v, -gc, -hk, -wait, -idle, -linger, -hgrm are zocket's; the rest are TCPDirect's.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/rtt"
	"github.com/zocket/zocket/internal/sockperf"
	"github.com/zocket/zocket/internal/zfapp"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }

type config struct {
	metrics       string // -metrics ADDR
	hgrm          string // -hgrm FILE
	mode          string
	local, remote netip.AddrPort
	size          int
	iter, warm    int64
	pct           float64
	full, touch   bool
	mux           bool
	sockperf      bool
	config        string
	cpu           int
	verbose       bool
	gc            bool
	hk            time.Duration
	wait          time.Duration
	linger        time.Duration // -linger
	idle          time.Duration
	stop          *atomic.Bool
}

const usageText = `usage: zfudppingpong [options] ping|pong LOCAL:PORT REMOTE:PORT
       zfudppingpong [options] pong --sockperf LOCAL:PORT [REMOTE:PORT]

Attributes come from -config (an embedded configuration or a file), then ZF_ATTR
("interface=…;local_ip=…"). Example over net_memif, pong first, each on a core of its own:
  zfudppingpong -config memif-server pong 198.18.0.1:20000 198.18.0.2:20000 &
  zfudppingpong -config memif-client ping 198.18.0.2:20000 198.18.0.1:20000

options:
`

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("zfudppingpong", flag.ContinueOnError)
	fs.SetOutput(stderr)
	metricsAddr := zfapp.MetricsFlag(fs)
	hgrm := zfapp.HgrmFlag(fs)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	fs.IntVar(&c.size, "s", 64, "payload `SIZE` in bytes")
	fs.Int64Var(&c.iter, "i", 1_000_000, "measured `ITERATIONS`")
	fs.Int64Var(&c.warm, "r", 10_000, "`WARMUPS`: unmeasured round trips first")
	fs.Float64Var(&c.pct, "p", 99, "`PERCENTILE` of the table's %ile column")
	fs.BoolVar(&c.full, "f", false, "report full round trips rather than half round trips")
	fs.BoolVar(&c.touch, "R", false, "read every byte of each received datagram")
	fs.BoolVar(&c.mux, "m", false, "wait with a muxer (stack.Muxer) rather than polling the stack")
	fs.BoolVar(&c.sockperf, "sockperf", false, "pong: speak sockperf's server protocol (for `sockperf pp`)")
	fs.StringVar(&c.config, "config", "", "attribute `CONFIG`: embedded name (memif-server, memif-client, default) or file")
	fs.IntVar(&c.cpu, "c", -2, "`CPU` for the polling thread and the process (default: attribute cpu, else 1 for pong, 0 for ping)")
	fs.BoolVar(&c.verbose, "v", false, "print diagnostics (GC cycles before/after, allocations, counters) to stderr")
	fs.BoolVar(&c.gc, "gc", true, "leave the garbage collector on (it has nothing to collect: the loop allocates nothing)")
	fs.DurationVar(&c.hk, "hk", 2*time.Millisecond, "housekeeping yield every `DURATION` (0: never)")
	fs.DurationVar(&c.wait, "wait", 0, "give up when the link or the first answer takes longer than `DURATION` (0: pong waits forever, ping 30s)")
	linger := zfapp.LingerFlag(fs)
	fs.DurationVar(&c.idle, "idle", 5*time.Second, "pong: exit when nothing arrived for `DURATION` after the first datagram (0: never)")
	pos, err := zfapp.Positional(fs, args)
	if err != nil {
		return nil, err
	}
	c.metrics, c.linger, c.hgrm = *metricsAddr, *linger, *hgrm
	if len(pos) < 2 || len(pos) > 3 {
		fs.Usage()
		return nil, errors.New("zfudppingpong: expected ping|pong LOCAL:PORT REMOTE:PORT")
	}
	c.mode = pos[0]
	if c.mode != "ping" && c.mode != "pong" {
		return nil, fmt.Errorf("zfudppingpong: unknown mode %q (ping or pong)", c.mode)
	}
	if c.wait == 0 && c.mode == "ping" {
		c.wait = zfapp.PingWait
	}
	if c.local, err = zfapp.ParseAddr(pos[1]); err != nil {
		return nil, err
	}
	if len(pos) == 3 {
		if c.remote, err = zfapp.ParseAddr(pos[2]); err != nil {
			return nil, err
		}
	} else if !(c.mode == "pong" && c.sockperf) {
		return nil, errors.New("zfudppingpong: REMOTE:PORT missing")
	}
	if c.sockperf && c.mode != "pong" {
		return nil, errors.New("zfudppingpong: --sockperf is for pong")
	}
	if c.size < 0 || c.iter < 1 || c.warm < 0 || c.pct <= 0 || c.pct > 100 {
		return nil, errors.New("zfudppingpong: -s ≥ 0, -i ≥ 1, -r ≥ 0, 0 < -p ≤ 100")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer, stop *atomic.Bool) int {
	var c *config
	return zfapp.Run("zfudppingpong", stderr, stop,
		func() (err error) { c, err = parse(args, stderr); return err },
		func(stop *atomic.Bool) error { c.stop = stop; return c.exec(stdout, stderr) })
}

func (c *config) exec(stdout, stderr io.Writer) error {
	a, err := zfapp.Attr(c.config)
	if err != nil {
		return err
	}
	if c.verbose {
		zfapp.Verbose(a)
	}
	if c.cpu == -2 {
		c.cpu = int(a.IntOf(attr.CPU))
		if c.cpu < 0 && runtime.NumCPU() > 1 {
			c.cpu = 0
			if c.mode == "pong" {
				c.cpu = 1
			}
		}
	}
	app, err := zfapp.Open("zfudppingpong", a, c.cpu, c.wait, c.stop)
	if err != nil {
		return err
	}
	app.Linger = c.linger
	if err := app.ServeMetrics(c.metrics); err != nil {
		app.Close()
		return err
	}
	st := app.Stack
	rx, err := udp.NewReceiver(st, nil)
	if err != nil {
		app.Close()
		return err
	}
	var tx *udp.Transmitter
	closeAll := func() error { return app.Close(rx, tx) }
	if _, err := rx.Bind(c.local, c.remoteFilter()); err != nil {
		closeAll()
		return err
	}
	if c.remote.IsValid() {
		if tx, err = udp.NewTransmitter(st, c.local, c.remote, 0, nil); err != nil {
			closeAll()
			return err
		}
		if c.size > tx.MSS() {
			closeAll()
			return fmt.Errorf("-s %d: over the MSS (%d): a fragmented echo would be dropped", c.size, tx.MSS())
		}
	}
	pl, err := zfapp.Place(c.cpu, true, 1, c.gc)
	if err != nil {
		closeAll()
		return err
	}
	defer pl.Restore()
	l := &loop{c: c, st: st, rx: rx, tx: tx, msg: udp.NewMsg(4), pl: pl}
	if c.mux {
		l.mux = stack.NewMuxer(st)
		if err := l.mux.Add(rx.Waitable(), stack.Event{Events: stack.EPOLLIN}); err != nil {
			closeAll()
			return err
		}
		l.evs = make([]stack.Event, 4)
	}
	if c.mode == "ping" {
		err = l.ping(stdout, stderr)
	} else {
		err = l.pong(stderr)
	}
	pl.Finish()
	if c.verbose {
		pl.Report(stderr, c.mode)
		uc := udp.StackCounters(st)
		sc := st.Counters()
		fmt.Fprintf(stderr, "diag %s udp rx=%d tx=%d tx_ring_full=%d tx_nobufs=%d drops=%v stack rx=%d tx=%d dropped=%d\n",
			c.mode, uc.RxDatagrams, uc.TxDatagrams, uc.TxRingFull, uc.TxNoBufs, uc.Drops, sc.RxPackets, sc.TxPackets, sc.Dropped())
	}
	l.peers.close()
	if cerr := closeAll(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// remoteFilter is the receiver's remote filter: the peer, except for sockperf (any client).
func (c *config) remoteFilter() netip.AddrPort {
	if c.sockperf {
		return netip.AddrPort{}
	}
	return c.remote
}

type loop struct {
	c     *config
	st    *stack.Stack
	rx    *udp.Receiver
	tx    *udp.Transmitter
	msg   *udp.Msg
	mux   *stack.Muxer
	evs   []stack.Event
	pl    *zfapp.Placement
	peers peerTable // sockperf clients
	sink  byte      // -R: where touched bytes go
}

// poll runs the reactor until something user-visible happened (or, after a few thousand
// empty turns, returns false so that the caller can check its clocks and flags).
func (l *loop) poll() bool { return zfapp.Poll(l.st, l.mux, l.evs) }

// send sends iov, running the reactor while the transmit ring is full.
func (l *loop) send(tx *udp.Transmitter, iov [][]byte) error {
	for {
		_, err := tx.Send(iov, 0)
		if err != syscall.EAGAIN {
			return err
		}
		l.st.Perform()
	}
}

func (l *loop) touch(iov [][]byte) {
	var x byte
	for _, b := range iov {
		for _, v := range b {
			x ^= v
		}
	}
	l.sink ^= x
}

func (l *loop) ping(stdout, stderr io.Writer) error {
	c, st, rx, msg := l.c, l.st, l.rx, l.msg
	buf := make([]byte, c.size)
	iov := [][]byte{buf}
	withHdr := c.size >= zfapp.MsgHeader
	rec := rtt.NewRecorder()
	sch := &zfapp.PingSchedule{Rec: rec, Warm: c.warm, Every: c.hk.Nanoseconds(), Framed: withHdr,
		Start: l.pl.Start, Clock: func() int64 { return st.TSCToNs(dpdk.TSC()) }}
	var sentNs int64
	send := func() error {
		sch.Stamp(buf)
		sentNs = st.TSCToNs(dpdk.TSC())
		return l.send(l.tx, iov)
	}
	total := c.warm + c.iter
	var lost int64
	if err := send(); err != nil {
		return err
	}
	firstDeadline := st.TSCToNs(dpdk.TSC()) + c.wait.Nanoseconds()
	sch.Begin(sentNs)
	for sch.Done < total {
		if !l.poll() {
			now := st.Now()
			if c.stop.Load() {
				return errors.New("ping: interrupted")
			}
			if now-sentNs > int64(time.Second) {
				if sch.Done == 0 && now > firstDeadline {
					return fmt.Errorf("ping: no answer from %v within %v", c.remote, c.wait)
				}
				lost++
				if err := send(); err != nil {
					return err
				}
			}
			continue
		}
		rx.ZcRecv(msg)
		if len(msg.Iov) == 0 {
			continue
		}
		now := st.Now()
		d := msg.Iov[0]
		if withHdr && (len(d) < zfapp.MsgHeader || binary.LittleEndian.Uint64(d[1:]) != sch.Seq()) {
			rx.ZcRecvDone(msg) // a stale echo of a resent datagram
			continue
		}
		if c.touch {
			l.touch(msg.Iov)
		}
		rx.ZcRecvDone(msg)
		sch.Answered(now, sentNs)
		if sch.Done < total {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if withHdr { // tell the pong; its echo is waited for briefly
		sch.Stop()
		if err := send(); err == nil {
			deadline := sentNs + int64(100*time.Millisecond)
			for st.Now() < deadline {
				if l.poll() {
					l.rx.ZcRecv(msg)
					if len(msg.Iov) > 0 {
						rx.ZcRecvDone(msg)
						break
					}
				}
			}
		}
	}
	if c.verbose {
		fmt.Fprintf(stderr, "diag ping lost=%d\n", lost)
	}
	rec.WriteReport(stdout, c.size, c.pct, c.full)
	return rec.WriteHgrmFile(c.hgrm)
}

func (l *loop) pong(stderr io.Writer) error {
	c, st, rx, msg := l.c, l.st, l.rx, l.msg
	total := c.warm + c.iter
	var echoed, pings int64
	var lastNs int64
	started := st.TSCToNs(dpdk.TSC())
	for {
		if !l.poll() {
			now := st.Now()
			if c.stop.Load() {
				break
			}
			if echoed == 0 && c.wait > 0 && now-started > c.wait.Nanoseconds() && !c.sockperf {
				return fmt.Errorf("pong: no ping within %v", c.wait)
			}
			if echoed > 0 && c.idle > 0 && now-lastNs > c.idle.Nanoseconds() {
				break
			}
			continue
		}
		done := false
		for {
			rx.ZcRecv(msg)
			if len(msg.Iov) == 0 {
				break
			}
			if c.touch {
				l.touch(msg.Iov)
			}
			var err error
			if c.sockperf {
				err = l.sockperfReply()
			} else {
				d := msg.Iov[0]
				typ := byte(zfapp.MsgPing)
				if c.size >= zfapp.MsgHeader && len(d) >= zfapp.MsgHeader {
					typ = d[0]
				}
				err = l.send(l.tx, msg.Iov)
				switch typ {
				case zfapp.MsgPing:
					pings++
				case zfapp.MsgHK:
					rx.ZcRecvDone(msg)
					runtime.Gosched()
				case zfapp.MsgStop:
					done = true
				}
				if c.size < zfapp.MsgHeader && pings >= total {
					done = true
				}
			}
			rx.ZcRecvDone(msg)
			if err != nil {
				return err
			}
			echoed++
		}
		lastNs = st.Now()
		if done {
			break
		}
	}
	fmt.Fprintf(stderr, "pong: echoed %d datagrams\n", echoed)
	if c.sockperf {
		fmt.Fprintf(stderr, "pong: sockperf clients: %d seen, %d evicted, at most %d kept\n",
			l.peers.seen, l.peers.evicted, maxSockperfPeers)
	}
	return nil
}

// sockperfReply answers a sockperf message that asks for a pong: the same bytes with the
// client flag cleared (internal/sockperf), to whoever sent it.
func (l *loop) sockperfReply() error {
	if len(l.msg.Iov) != 1 || !sockperf.Reply(l.msg.Iov[0]) {
		return nil
	}
	src := l.rx.Source(l.msg)
	tx := l.tx
	if tx == nil || tx.RemoteAddr() != src {
		tx = l.peer(src)
		if tx == nil {
			return nil
		}
	}
	return l.send(tx, l.msg.Iov)
}

// maxSockperfPeers bounds the sockperf clients pong --sockperf keeps a transmitter for. Any
// source may send a pong request (a spoofed one costs a datagram), and the stack has
// max_udp_tx_endpoints transmitters (64 by default): without a bound, 64 sources that come
// and go would leave none for the next real client.
const maxSockperfPeers = 16

// peerTable holds the transmitters to the latest sockperf clients; the least recently
// answered one is closed to make room for a new one. A lookup is a scan of at most
// maxSockperfPeers entries, allocating nothing.
type peerTable struct {
	ents    [maxSockperfPeers]peerEntry
	n       int
	clock   uint64 // bumped at every lookup: the entries' recency
	seen    uint64 // transmitters made
	evicted uint64 // transmitters closed to make room
}

type peerEntry struct {
	src  netip.AddrPort
	tx   *udp.Transmitter
	used uint64
}

// lookup returns the transmitter to src, nil when there is none.
func (p *peerTable) lookup(src netip.AddrPort) *udp.Transmitter {
	p.clock++
	for i := range p.ents[:p.n] {
		if e := &p.ents[i]; e.src == src {
			e.used = p.clock
			return e.tx
		}
	}
	return nil
}

// room returns a free entry, closing the least recently used transmitter when all are taken.
func (p *peerTable) room() *peerEntry {
	if p.n < len(p.ents) {
		p.n++
		return &p.ents[p.n-1]
	}
	lru := &p.ents[0]
	for i := range p.ents {
		if p.ents[i].used < lru.used {
			lru = &p.ents[i]
		}
	}
	lru.tx.Close()
	*lru = peerEntry{}
	p.evicted++
	return lru
}

// close closes every transmitter.
func (p *peerTable) close() {
	for i := range p.ents[:p.n] {
		p.ents[i].tx.Close()
	}
	p.n = 0
}

// peer returns the transmitter to a sockperf client, making it on its first message (and
// closing the least recent client's when maxSockperfPeers are kept).
func (l *loop) peer(src netip.AddrPort) *udp.Transmitter {
	if t := l.peers.lookup(src); t != nil {
		return t
	}
	return l.newPeer(src)
}

//go:noinline
func (l *loop) newPeer(src netip.AddrPort) *udp.Transmitter {
	e := l.peers.room()
	t, err := udp.NewTransmitter(l.st, l.c.local, src, 0, nil)
	if err != nil {
		last := &l.peers.ents[l.peers.n-1] // give the entry back: the last one moves there
		*e, *last = *last, peerEntry{}
		l.peers.n--
		return nil
	}
	*e = peerEntry{src: src, tx: t, used: l.peers.clock}
	l.peers.seen++
	return t
}
