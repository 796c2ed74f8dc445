// Package tcppingpong is the TCP ping-pong shared by zftcppingpong and zfaltpingpong: the
// ping is one, and the pong either echoes with Conn.Send or, with Tool.Alts, answers from TX
// alternatives queued with candidate replies (package alts). Each command's doc comment
// describes its usage; Run does the rest.
package tcppingpong

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zocket/zocket/alts"
	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/rtt"
	"github.com/zocket/zocket/internal/sockperf"
	"github.com/zocket/zocket/internal/zfapp"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

// Tool is a command built on this package.
type Tool struct {
	Name string // the command's name, for its flag set and messages
	Alts bool   // the pong answers from TX alternatives (-alts N)
}

type config struct {
	mode     string
	metrics  string // -metrics ADDR
	hgrm     string // -hgrm FILE
	addr     netip.AddrPort
	size     int
	iter     int64
	warm     int64
	pct      float64
	full     bool
	mux      bool
	sockperf bool
	config   string
	cpu      int
	verbose  bool
	gc       bool
	warmSend bool
	hk       time.Duration
	wait     time.Duration
	linger   time.Duration
	bulk     time.Duration
	sink     bool
	nalts    int
	faults   *stack.Faults // -faults: the fault shim on this side's transmissions
	tool     Tool
	stop     *atomic.Bool
}

const usageText = `usage: NAME [options] ping|pong HOST:PORT
       NAME [options] pong --sockperf HOST:PORT
       NAME [options] -bulk DURATION ping HOST:PORT   /   -sink pong HOST:PORT

Attributes come from -config (an embedded configuration or a file), then ZF_ATTR
("interface=…;local_ip=…"). Example over net_memif, pong first, each on a core of its own:
  NAME -config memif-server pong 198.18.0.1:20000 &
  NAME -config memif-client ping 198.18.0.1:20000
The same with 0.1 % of each side's frames dropped (deterministically: the seeds replay it):
  NAME -config memif-server -faults drop=0.001,seed=2 pong 198.18.0.1:20000 &
  NAME -config memif-client -faults drop=0.001,seed=1 ping 198.18.0.1:20000

options:
`

func parse(tool Tool, args []string, stderr io.Writer) (*config, error) {
	c := &config{tool: tool}
	fs := flag.NewFlagSet(tool.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	metricsAddr := zfapp.MetricsFlag(fs)
	hgrm := zfapp.HgrmFlag(fs)
	fs.Usage = func() { fmt.Fprint(stderr, strings.ReplaceAll(usageText, "NAME", tool.Name)); fs.PrintDefaults() }
	fs.IntVar(&c.size, "s", 64, "message `SIZE` in bytes")
	fs.Int64Var(&c.iter, "i", 1_000_000, "measured `ITERATIONS`")
	fs.Int64Var(&c.warm, "r", 10_000, "`WARMUPS`: unmeasured round trips first")
	fs.Float64Var(&c.pct, "p", 99, "`PERCENTILE` of the table's %ile column")
	fs.BoolVar(&c.full, "f", false, "report full round trips rather than half round trips")
	fs.BoolVar(&c.mux, "m", false, "wait with a muxer (stack.Muxer) rather than polling the stack")
	fs.BoolVar(&c.sockperf, "sockperf", false, "pong: speak sockperf's TCP server protocol (for `sockperf pp --tcp`)")
	fs.StringVar(&c.config, "config", "", "attribute `CONFIG`: embedded name (memif-server, memif-client, default) or file")
	fs.IntVar(&c.cpu, "c", -2, "`CPU` for the polling thread and the process (default: attribute cpu, else 1 for pong, 0 for ping)")
	fs.BoolVar(&c.verbose, "v", false, "print diagnostics (GC cycles, allocations, counters) to stderr")
	fs.BoolVar(&c.gc, "gc", true, "leave the garbage collector on (it has nothing to collect: the loop allocates nothing)")
	fs.BoolVar(&c.warmSend, "w", false, "ping: warm the send path (SendSingleWarm) while waiting for the echo")
	fs.DurationVar(&c.hk, "hk", 2*time.Millisecond, "housekeeping yield every `DURATION` (0: never)")
	fs.DurationVar(&c.wait, "wait", 0, "give up when the link, the connection or the first answer takes longer than `DURATION` (0: pong waits forever, ping 30s)")
	linger := zfapp.LingerFlag(fs)
	c.faults = zfapp.FaultsFlag(fs)
	fs.DurationVar(&c.bulk, "bulk", 0, "ping: send as fast as possible for `DURATION` (bulk throughput) instead of ping-pong")
	if tool.Alts {
		fs.IntVar(&c.nalts, "alts", 3, "pong: `N` alternatives kept queued with candidate replies (1..64)")
	}
	fs.BoolVar(&c.sink, "sink", false, "pong: read and discard (the receiving end of -bulk)")
	pos, err := zfapp.Positional(fs, args)
	if err != nil {
		return nil, err
	}
	c.metrics, c.linger, c.hgrm = *metricsAddr, *linger, *hgrm
	if len(pos) != 2 {
		fs.Usage()
		return nil, errors.New(tool.Name + ": expected ping|pong HOST:PORT")
	}
	c.mode = pos[0]
	if c.mode != "ping" && c.mode != "pong" {
		return nil, fmt.Errorf("%s: unknown mode %q (ping or pong)", tool.Name, c.mode)
	}
	if c.wait == 0 && c.mode == "ping" {
		c.wait = zfapp.PingWait
	}
	if c.addr, err = zfapp.ParseAddr(pos[1]); err != nil {
		return nil, err
	}
	if (c.sockperf || c.sink) && c.mode != "pong" || c.bulk > 0 && c.mode != "ping" {
		return nil, errors.New(tool.Name + ": --sockperf and -sink are for pong, -bulk for ping")
	}
	if c.size < 1 || c.iter < 1 || c.warm < 0 || c.pct <= 0 || c.pct > 100 {
		return nil, errors.New(tool.Name + ": -s ≥ 1, -i ≥ 1, -r ≥ 0, 0 < -p ≤ 100")
	}
	return c, nil
}

// Run runs the tool with the command line args (without the program name) and returns the exit
// code: 0, 1 after a failure, 2 for a usage error. stop, when not nil, ends a run early when set
// (tests); nil installs a SIGINT/SIGTERM handler that does.
func Run(tool Tool, args []string, stdout, stderr io.Writer, stop *atomic.Bool) int {
	var c *config
	return zfapp.Run(tool.Name, stderr, stop,
		func() (err error) { c, err = parse(tool, args, stderr); return err },
		func(stop *atomic.Bool) error { c.stop = stop; return c.exec(stdout, stderr) })
}

type loop struct {
	c      *config
	st     *stack.Stack
	conn   *tcp.Conn
	msg    *tcp.Msg
	mux    *stack.Muxer
	evs    []stack.Event
	pl     *zfapp.Placement
	framer *sockperf.Framer
	answer func([]byte) error
	alts   []*alts.Alt
}

func (c *config) exec(stdout, stderr io.Writer) error {
	a, err := zfapp.Attr(c.config)
	if err != nil {
		return err
	}
	if c.verbose {
		zfapp.Verbose(a)
	}
	if c.tool.Alts && (c.nalts < 1 || c.nalts > 64) {
		return fmt.Errorf("-alts %d: want 1..64", c.nalts)
	}
	if c.tool.Alts && a.IntOf(attr.AltCount) < int64(c.nalts) {
		if err := a.SetInt("alt_count", int64(c.nalts)); err != nil {
			return err
		}
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
	app, err := zfapp.Open(c.tool.Name, a, c.cpu, c.wait, c.stop)
	if err != nil {
		return err
	}
	app.Linger = c.linger
	app.ApplyFaults(*c.faults)
	if err := app.ServeMetrics(c.metrics); err != nil {
		app.Close()
		return err
	}
	l := &loop{c: c, st: app.Stack, msg: tcp.NewMsg(64)}
	var lis *tcp.Listener
	closeAll := func() error {
		var zs []interface{ Close() error }
		if l.conn != nil {
			zs = append(zs, l.conn)
		}
		if lis != nil {
			zs = append(zs, lis)
		}
		return app.Close(zs...)
	}
	if c.mode == "pong" {
		if lis, err = tcp.Listen(l.st, c.addr, nil); err == nil {
			err = l.accept(lis)
		}
	} else {
		err = l.connect()
	}
	if err != nil {
		closeAll()
		return err
	}
	pl, err := zfapp.Place(c.cpu, true, 1, c.gc)
	if err != nil {
		closeAll()
		return err
	}
	defer pl.Restore()
	l.pl = pl
	if c.mux {
		l.mux = stack.NewMuxer(l.st)
		if err := l.mux.Add(l.conn.Waitable(), stack.Event{Events: stack.EPOLLIN}); err != nil {
			closeAll()
			return err
		}
		l.evs = make([]stack.Event, 4)
	}
	switch {
	case c.bulk > 0:
		err = l.bulkSend(stdout)
	case c.sink:
		err = l.bulkSink(stdout)
	case c.mode == "ping":
		err = l.ping(stdout, stderr)
	case c.sockperf || !c.tool.Alts:
		err = l.pong(stderr)
	default:
		err = l.altPong(stderr)
	}
	pl.Finish()
	if c.verbose {
		pl.Report(stderr, c.mode)
		tc := tcp.StackCounters(l.st)
		sc := l.st.Counters()
		fmt.Fprintf(stderr, "diag %s tcp %+v stack rx=%d tx=%d tx_ring_full=%d dropped=%d faults %+v\n",
			c.mode, tc, sc.RxPackets, sc.TxPackets, sc.TxRingFull, sc.Dropped(), sc.Faults)
		if c.tool.Alts {
			fmt.Fprintf(stderr, "diag %s alts %+v\n", c.mode, alts.StackCounters(l.st))
		}
	}
	for _, alt := range l.alts {
		_ = alts.Release(l.st, alt)
	}
	l.alts = nil
	return errors.Join(err, closeAll())
}

// deadline returns a function that reports whether d has passed since now.
func (l *loop) deadline(d time.Duration) func() bool {
	end := time.Now().Add(d)
	return func() bool { return time.Now().After(end) }
}

// accept waits for the pong's one connection.
func (l *loop) accept(lis *tcp.Listener) error {
	late := l.deadline(l.c.wait)
	for {
		for i := 0; i < 1000; i++ {
			l.st.Perform()
		}
		c, err := lis.Accept()
		if err == nil {
			l.conn = c
			return nil
		}
		if l.c.stop.Load() {
			return errors.New("pong: interrupted")
		}
		if l.c.wait > 0 && late() {
			return fmt.Errorf("pong: no connection to %v within %v", l.c.addr, l.c.wait)
		}
	}
}

// connect connects the ping, trying again while the pong is not listening yet.
func (l *loop) connect() error {
	late := l.deadline(l.c.wait)
	for {
		h, err := tcp.NewHandle(l.st, nil)
		if err != nil {
			return err
		}
		c, err := h.Connect(l.c.addr)
		if err != nil {
			h.Close()
			return err
		}
		for c.State() == tcp.StateSynSent || c.State() == tcp.StateSynRecv {
			for i := 0; i < 1000; i++ {
				l.st.Perform()
			}
			if l.c.stop.Load() || late() {
				c.Close()
				return fmt.Errorf("ping: no connection to %v within %v", l.c.addr, l.c.wait)
			}
		}
		if c.State() == tcp.StateEstablished {
			l.conn = c
			return nil
		}
		err = c.Err()
		c.Close()
		if !errors.Is(err, syscall.ECONNREFUSED) || late() {
			return fmt.Errorf("ping: connect %v: %w", l.c.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// poll runs the reactor until something user-visible happened (or, after a few thousand
// empty turns, returns false so that the caller can check its clocks and flags).
func (l *loop) poll() bool { return zfapp.Poll(l.st, l.mux, l.evs) }

// send sends all of b, running the reactor while the send queue is full, until stop is set
// (a peer that keeps its window closed must not hang the tool): then it fails with EINTR,
// what it queued staying queued for the close to deliver.
func (l *loop) send(b []byte) error {
	for len(b) > 0 {
		n, err := l.conn.SendSingle(b, 0)
		if err != nil && err != syscall.EAGAIN {
			return err
		}
		b = b[n:]
		if len(b) > 0 {
			if l.c.stop.Load() {
				return fmt.Errorf("%s: interrupted with %d bytes not yet queued: %w", l.c.mode, len(b), syscall.EINTR)
			}
			l.st.Perform()
		}
	}
	return nil
}

func (l *loop) ping(stdout, stderr io.Writer) error {
	c, st, conn, msg := l.c, l.st, l.conn, l.msg
	buf := make([]byte, c.size)
	for i := range buf {
		buf[i] = byte(i)
	}
	withHdr := c.size >= zfapp.MsgHeader
	rec := rtt.NewRecorder()
	sch := &zfapp.PingSchedule{Rec: rec, Warm: c.warm, Every: c.hk.Nanoseconds(), Framed: withHdr,
		Start: l.pl.Start, Clock: func() int64 { return st.TSCToNs(dpdk.TSC()) }}
	var sentNs int64
	total := c.warm + c.iter
	firstDeadline := st.TSCToNs(dpdk.TSC()) + c.wait.Nanoseconds()
	for sch.Done < total {
		sch.Stamp(buf)
		sentNs = st.TSCToNs(dpdk.TSC())
		if sch.Done == 0 {
			sch.Begin(sentNs)
		}
		if err := l.send(buf); err != nil {
			return err
		}
		got := 0
		for got < c.size {
			if !l.poll() {
				if c.stop.Load() {
					return errors.New("ping: interrupted")
				}
				if sch.Done == 0 && st.Now() > firstDeadline {
					return fmt.Errorf("ping: no answer from %v within %v", c.addr, c.wait)
				}
				continue
			}
			conn.ZcRecv(msg)
			if len(msg.Iov) == 0 {
				if c.warmSend {
					conn.SendSingleWarm(buf)
				}
				continue
			}
			for _, b := range msg.Iov {
				got += len(b)
			}
			eof := len(msg.Iov[len(msg.Iov)-1]) == 0
			if _, err := conn.ZcRecvDone(msg); err != nil || eof {
				return fmt.Errorf("ping: connection ended after %d round trips: %v", sch.Done, err)
			}
		}
		sch.Answered(st.Now(), sentNs)
	}
	rec.WriteReport(stdout, c.size, c.pct, c.full)
	return rec.WriteHgrmFile(c.hgrm)
}

// pong echoes every byte until the peer closes. What the send queue cannot take at once stays
// in the receive queue (ZcRecvDoneSome) and goes with the next turn. With -s ≥ 9 it finds the
// ping's type byte at each message boundary and yields after a housekeeping message.
func (l *loop) pong(stderr io.Writer) error {
	c, conn, msg := l.c, l.conn, l.msg
	if c.sockperf {
		l.framer = sockperf.NewFramer()
		l.answer = l.send
	}
	var echoed, off int64
	framed := c.size >= zfapp.MsgHeader && !c.sockperf
	for {
		conn.ZcRecv(msg)
		if len(msg.Iov) == 0 {
			if !l.poll() && c.stop.Load() {
				break
			}
			continue
		}
		hk := false
		n := 0
		eof := len(msg.Iov[len(msg.Iov)-1]) == 0
		if c.sockperf {
			for _, b := range msg.Iov {
				k, ok, err := l.framer.Write(b, l.answer)
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("pong: not a sockperf stream")
				}
				n += k
			}
		} else {
			var err error
			n, err = conn.Send(msg.Iov, 0)
			if err != nil && err != syscall.EAGAIN {
				return err
			}
			if framed {
				hk, off = findHK(msg.Iov, n, off, c.size)
			}
		}
		echoed += int64(n)
		r, err := conn.ZcRecvDoneSome(msg, n)
		if errors.Is(err, syscall.ECONNRESET) {
			// sockperf ends its sessions with a RST: the end, not a failure.
			fmt.Fprintf(stderr, "pong: echoed %d bytes (reset by the peer)\n", echoed)
			return nil
		}
		if err != nil {
			return fmt.Errorf("pong: connection ended after %d bytes: %w", echoed, err)
		}
		if hk {
			runtime.Gosched()
		}
		if r == 0 && eof {
			fmt.Fprintf(stderr, "pong: echoed %d bytes\n", echoed)
			return nil
		}
		if n == 0 && !l.poll() && c.stop.Load() {
			break
		}
	}
	fmt.Fprintf(stderr, "pong: echoed %d bytes\n", echoed)
	return nil
}

// bulkSend sends for -bulk and reports its rate.
func (l *loop) bulkSend(stdout io.Writer) error {
	conn := l.conn
	chunk := make([]byte, 256<<10)
	var sent int64
	start := time.Now()
	end := start.Add(l.c.bulk)
	for i := 0; ; i++ {
		n, err := conn.SendSingle(chunk, 0)
		if err != nil && err != syscall.EAGAIN {
			return err
		}
		sent += int64(n)
		l.st.Perform()
		if i&255 == 0 && (time.Now().After(end) || l.c.stop.Load()) {
			break
		}
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "bulk tx bytes=%d secs=%.3f gbps=%.3f\n", sent, secs, float64(sent)*8/secs/1e9)
	return nil
}

// bulkSink reads and discards until the peer closes, and reports the rate from the first byte.
func (l *loop) bulkSink(stdout io.Writer) error {
	conn, msg := l.conn, l.msg
	var got int64
	var start time.Time
	for {
		conn.ZcRecv(msg)
		if len(msg.Iov) == 0 {
			if !l.poll() && l.c.stop.Load() {
				return errors.New("pong: interrupted")
			}
			continue
		}
		if got == 0 {
			start = time.Now()
		}
		for _, b := range msg.Iov {
			got += int64(len(b))
		}
		r, err := conn.ZcRecvDone(msg)
		if err != nil {
			return err
		}
		if r == 0 {
			break
		}
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stdout, "bulk rx bytes=%d secs=%.3f gbps=%.3f\n", got, secs, float64(got)*8/secs/1e9)
	return nil
}

// findHK looks at the message boundaries within the first n bytes of iov, the stream being at
// offset off, for a housekeeping type byte; it returns the verdict and the new offset.
func findHK(iov [][]byte, n int, off int64, size int) (bool, int64) {
	hk := false
	for _, b := range iov {
		if n == 0 {
			break
		}
		if len(b) > n {
			b = b[:n]
		}
		at := 0
		if pos := int(off % int64(size)); pos != 0 {
			at = size - pos
		}
		for ; at < len(b); at += size {
			if b[at] == zfapp.MsgHK {
				hk = true
			}
		}
		off += int64(len(b))
		n -= len(b)
	}
	return hk, off
}
