// Command zfsink receives UDP datagrams on a zocket and reports the rate, as TCPDirect's zfsink
// does (user guide §4.4):
//
//	ZF_ATTR="interface=…;local_ip=…" zfsink [-q] [-m] [-w] LOCAL:PORT [REMOTE:PORT]
//
// LOCAL is the stack's address or a multicast group (joined: IGMP report, port filter);
// REMOTE, when given, accepts only that sender. Unless -q it traces the calls it makes (and
// every datagram). Once a second it prints "pkt-rate bandwidth(Mbps) total-pkts" (payload
// bytes), and at the end a summary line "zfsink: dgrams=… bytes=… secs=… mpps=… mbps=…".
//
// -m waits with a muxer (stack.Muxer) on the receiver's waitable; -w blocks in epoll_wait on the
// stack's waitable fd between bursts (stack.WaitFD; only ports with receive interrupts have
// one, e.g. net_tap). Without either it polls the stack.
//
// -pcap FILE replays a capture forever (net_pcap0,rx_pcap=FILE,infinite_rx=1) for a receive-rate
// measurement: frames must be addressed to the stack's MAC (attribute mac, default here
// 02:00:00:00:00:01) and LOCAL.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/redact"
	"github.com/zocket/zocket/internal/zfapp"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }

type config struct {
	metrics            string // -metrics ADDR
	quiet, mux, waitfd bool
	local, remote      netip.AddrPort
	config             string
	cpu                int
	count              int64
	dur                time.Duration
	pcap               string
	verbose            bool
	linger             time.Duration // -linger
	stop               *atomic.Bool
}

const usageText = `usage: zfsink [-q] [-m] [-w] [options] LOCAL:PORT [REMOTE:PORT]

LOCAL is an address of the stack (attribute local_ip; when unset, LOCAL/24 is used) or a
multicast group. Attributes come from -config, then ZF_ATTR.

options:
`

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("zfsink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	metricsAddr := zfapp.MetricsFlag(fs)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	fs.BoolVar(&c.quiet, "q", false, "quiet: do not trace calls and datagrams")
	fs.BoolVar(&c.mux, "m", false, "wait with a muxer")
	fs.BoolVar(&c.waitfd, "w", false, "block on the stack's waitable fd (epoll) between bursts")
	fs.StringVar(&c.config, "config", "", "attribute `CONFIG`: embedded name or file")
	fs.IntVar(&c.cpu, "c", -2, "`CPU` for the polling thread (default: attribute cpu, else none)")
	fs.Int64Var(&c.count, "n", 0, "exit after `N` datagrams (0: no limit)")
	fs.DurationVar(&c.dur, "t", 0, "exit `DURATION` after the first datagram (0: no limit)")
	fs.StringVar(&c.pcap, "pcap", "", "receive from a capture `FILE` replayed forever (net_pcap, infinite_rx)")
	fs.BoolVar(&c.verbose, "v", false, "print diagnostics (GC cycles, allocations, counters) to stderr")
	linger := zfapp.LingerFlag(fs)
	pos, err := zfapp.Positional(fs, args)
	if err != nil {
		return nil, err
	}
	c.metrics, c.linger = *metricsAddr, *linger
	if len(pos) < 1 || len(pos) > 2 {
		fs.Usage()
		return nil, errors.New("zfsink: expected LOCAL:PORT [REMOTE:PORT]")
	}
	if c.local, err = netip.ParseAddrPort(pos[0]); err != nil {
		return nil, fmt.Errorf("zfsink: %w", err)
	}
	if len(pos) == 2 {
		if c.remote, err = netip.ParseAddrPort(pos[1]); err != nil {
			return nil, fmt.Errorf("zfsink: %w", err)
		}
	}
	if c.mux && c.waitfd {
		return nil, errors.New("zfsink: -m and -w exclude each other")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer, stop *atomic.Bool) int {
	var c *config
	return zfapp.Run("zfsink", stderr, stop,
		func() (err error) { c, err = parse(args, stderr); return err },
		func(stop *atomic.Bool) error { c.stop = stop; return c.exec(stdout, stderr) })
}

// trace prints a call and its result unless -q.
func (c *config) trace(w io.Writer, format string, args ...any) {
	if !c.quiet {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func (c *config) exec(stdout, stderr io.Writer) error {
	var extra []string
	if c.pcap != "" {
		extra = append(extra, "interface=net_pcap0,rx_pcap="+c.pcap+",infinite_rx=1")
	}
	a, err := zfapp.Attr(c.config, extra...)
	if err != nil {
		return err
	}
	if c.verbose {
		zfapp.Verbose(a)
	}
	if a.StrOf(attr.LocalIP) == "" && !c.local.Addr().IsMulticast() {
		if err := a.Set("local_ip", c.local.Addr().String()+"/24"); err != nil {
			return err
		}
	}
	if c.pcap != "" && a.StrOf(attr.MAC) == "" {
		_ = a.Set("mac", "02:00:00:00:00:01")
	}
	if c.cpu == -2 {
		c.cpu = int(a.IntOf(attr.CPU))
	}
	c.trace(stdout, "zf_init()")
	app, err := zfapp.Open("zfsink", a, c.cpu, 0, c.stop) // a server: waits for its link forever
	if err != nil {
		return err
	}
	app.Linger = c.linger
	if err := app.ServeMetrics(c.metrics); err != nil {
		app.Close()
		return err
	}
	st := app.Stack
	c.trace(stdout, "zf_stack_alloc(interface=%s) = %s", redact.String(a.StrOf(attr.Interface)), st.Name())
	rx, err := udp.NewReceiver(st, nil)
	c.trace(stdout, "zfur_alloc() = %v", errText(err))
	if err != nil {
		app.Close()
		return err
	}
	bound, err := rx.Bind(c.local, c.remote)
	c.trace(stdout, "zfur_addr_bind(%v, %v) = %v (bound %v)", c.local, c.remote, errText(err), bound)
	if err != nil {
		app.Close(rx)
		return err
	}
	s := &sink{c: c, st: st, rx: rx, msg: udp.NewMsg(4), out: stdout}
	switch {
	case c.mux:
		s.mux = stack.NewMuxer(st)
		err = s.mux.Add(rx.Waitable(), stack.Event{Events: stack.EPOLLIN, Data: 1})
		c.trace(stdout, "zf_muxer_add(zfur, EPOLLIN) = %v", errText(err))
		s.evs = make([]stack.Event, 8)
	case c.waitfd:
		s.wfd, err = st.WaitFD()
		c.trace(stdout, "zf_waitable_fd_get() = %d, %v", s.wfd, errText(err))
		s.epev = make([]unix.EpollEvent, 4)
	}
	if err != nil {
		app.Close(rx)
		return err
	}
	// Pinned (-c), the whole process goes on the CPU and one P runs Go code, as the ping-pong
	// tools do; unpinned (tests, -c -1), the runtime is left alone.
	procs := 0
	if c.cpu >= 0 {
		procs = 1
	}
	pl, err := zfapp.Place(c.cpu, c.cpu >= 0, procs, true)
	if err != nil {
		app.Close(rx)
		return err
	}
	err = s.loop()
	pl.Finish()
	secs := s.last.Sub(s.first).Seconds()
	var mpps, mbps float64
	if secs > 0 {
		mpps = float64(s.dgrams) / secs / 1e6
		mbps = float64(s.bytes) * 8 / secs / 1e6
	}
	fmt.Fprintf(stdout, "zfsink: dgrams=%d bytes=%d secs=%.3f mpps=%.3f mbps=%.1f\n", s.dgrams, s.bytes, secs, mpps, mbps)
	if c.verbose {
		pl.Report(stderr, "zfsink")
		uc := udp.StackCounters(st)
		sc := st.Counters()
		fmt.Fprintf(stderr, "diag zfsink udp rx=%d drops=%v q_drops=%d stack rx=%d dropped=%d drops=%v\n",
			uc.RxDatagrams, uc.Drops, rx.Counters().QDrops, sc.RxPackets, sc.Dropped(), sc.Drops)
	}
	if cerr := app.Close(rx); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

func errText(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

type sink struct {
	c      *config
	st     *stack.Stack
	rx     *udp.Receiver
	msg    *udp.Msg
	mux    *stack.Muxer
	evs    []stack.Event
	wfd    int
	epev   []unix.EpollEvent
	out    io.Writer
	dgrams int64
	bytes  int64

	first, last time.Time
	nextReport  int64 // stack time of the next per-second line
	lastDgrams  int64
	lastBytes   int64
}

// wait runs the reactor until something may have arrived; false after a spell of nothing, so
// that the caller can look at its clock and flags.
func (s *sink) wait() bool {
	if s.epev == nil {
		return zfapp.Poll(s.st, s.mux, s.evs)
	}
	if s.st.Perform() > 0 {
		return true
	}
	if err := s.st.PrimeWaitFD(); err != nil {
		return true
	}
	_, _ = unix.EpollWait(s.wfd, s.epev, 100)
	return s.st.Perform() > 0
}

func (s *sink) loop() error {
	c, rx, msg := s.c, s.rx, s.msg
	const second = int64(time.Second)
	for {
		got := s.wait()
		now := s.st.Now()
		if got {
			for {
				rx.ZcRecv(msg)
				if len(msg.Iov) == 0 {
					break
				}
				n := 0
				for _, b := range msg.Iov {
					n += len(b)
				}
				if !c.quiet {
					s.traceDgram(n)
				}
				rx.ZcRecvDone(msg)
				if s.dgrams == 0 {
					s.first = time.Now()
					s.nextReport = now + second
					fmt.Fprintln(s.out, "pkt-rate bandwidth(Mbps) total-pkts")
				}
				s.dgrams++
				s.bytes += int64(n)
			}
		}
		if s.dgrams == 0 {
			if c.stop.Load() {
				return nil
			}
			continue
		}
		if now >= s.nextReport {
			s.report(now)
			if c.stop.Load() || (c.dur > 0 && time.Since(s.first) >= c.dur) {
				s.last = time.Now()
				return nil
			}
		}
		if c.count > 0 && s.dgrams >= c.count {
			s.last = time.Now()
			return nil
		}
	}
}

//go:noinline
func (s *sink) traceDgram(n int) {
	fmt.Fprintf(s.out, "zfur_zc_recv() = %d iov, %d bytes from %v, dgrams_left=%d\n",
		len(s.msg.Iov), n, s.rx.Source(s.msg), s.msg.DgramsLeft)
}

//go:noinline
func (s *sink) report(now int64) {
	fmt.Fprintf(s.out, "%d %.3f %d\n", s.dgrams-s.lastDgrams, float64(s.bytes-s.lastBytes)*8/1e6, s.dgrams)
	s.lastDgrams, s.lastBytes = s.dgrams, s.bytes
	s.nextReport = now + int64(time.Second)
	runtime.Gosched()
}
