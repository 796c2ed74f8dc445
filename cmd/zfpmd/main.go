package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/eal"
	"github.com/zocket/zocket/internal/ealargs"
	"github.com/zocket/zocket/internal/zfapp"
	"github.com/zocket/zocket/metrics"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// devList is a repeatable -dev flag (device specs contain commas, so one flag per device).
type devList []string

func (d *devList) String() string     { return strings.Join(*d, " ") }
func (d *devList) Set(s string) error { *d = append(*d, s); return nil }

// config is the command line.
type config struct {
	mode       string
	eal        string
	devs       devList
	metrics    string // -metrics ADDR
	hgrm       string // -hgrm FILE
	cpu        int
	n          int64
	warmup     int64
	size       int
	burst      int
	stats      float64
	dur        time.Duration
	wait       time.Duration
	verbose    bool
	gomaxprocs int
	pin        string
	gc         bool
	pause      bool
	hk         time.Duration
	zc         bool
	defaultDev bool
	peer       int
}

const usageText = `usage: zfpmd [flags] MODE

MODE is one of
  io            forward every packet received on port i out of its peer port, untouched
  macswap       the same, swapping the Ethernet source and destination addresses
  rxonly        receive and free (a sink); the closing line has rx_gbps= and rx_mpps=
  txonly        send -s byte frames as fast as the port takes them (a generator)
  pong          (or pingpong-pong, or pingpong -role pong) echo ping frames back (L2 reflector)
  ping          (or pingpong-ping, or pingpong -role ping) send -n pings one at a time and
                print the round-trip times: rtt_ns n=N min=… mean=… p50=… p99=… p999=… max=…
  c2c           no DPDK: bounce one cache line between CPU -c and CPU -peer -n times and print
                c2c_ns n=… batch_min=… batch_p50=… batch_p90=… (the hardware under the floor)

With one -dev, io and macswap send back out of the port they received on; with two they
forward 0→1 and 1→0, like testpmd. The default device is net_memif0 on the socket
/run/zocket/zfpmd.sock (abstract), role=server for pong and rxonly, role=client otherwise.

Example, the latency floor (pong first, on another core):
  zfpmd -c 1 pong &  zfpmd -c 0 -n 1000000 ping
The throughput floor (bench row floor-bulk):
  zfpmd -c 1 -t 5s rxonly &  zfpmd -c 0 -s 1500 -t 7s txonly

flags:
`

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("zfpmd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	role := fs.String("role", "", "with MODE pingpong: `ping` or pong")
	fs.StringVar(&c.eal, "eal", "", "EAL `args`, replacing the defaults (--no-pci --in-memory -l CPU …, or --no-huge\n--file-prefix=… without free hugepages); ZOCKET_EAL_ARGS does the same")
	fs.Var(&c.devs, "dev", "DPDK device `spec`, repeatable (default: net_memif0 on /run/zocket/zfpmd.sock, see above)")
	fs.IntVar(&c.cpu, "c", -1, "`CPU` of the polling thread and EAL main lcore (default 1 for pong and rxonly, 0 otherwise)")
	fs.Int64Var(&c.n, "n", 0, "ping: measured round trips (default 1000000); other modes: stop after `N` packets (0: no limit)")
	fs.Int64Var(&c.warmup, "w", 10000, "ping: `WARMUP` round trips before measuring")
	fs.IntVar(&c.size, "s", 64, "frame `SIZE` in bytes without FCS (ping, txonly)")
	fs.IntVar(&c.burst, "burst", 32, "receive burst size (txonly: packets per transmit burst)")
	fs.Float64Var(&c.stats, "stats", 1, "forwarding modes: print per-port statistics every `SECONDS` (0: only at the end)")
	fs.DurationVar(&c.dur, "t", 0, "run for `DURATION`, counted from the first packet (0: until -n, the peer's stop frame, link down or SIGINT)")
	fs.DurationVar(&c.wait, "wait", 0, "give up when the link or the first packet takes longer than `DURATION` (0: ping 30s, the other modes wait forever)")
	fs.BoolVar(&c.verbose, "v", false, "print run diagnostics (GC count, context switches, poll-loop stalls) to stderr")
	fs.IntVar(&c.gomaxprocs, "gomaxprocs", 1, "GOMAXPROCS during the run (0 leaves the runtime's choice)")
	fs.StringVar(&c.pin, "pin", "process", "CPU placement: `process` (every thread of the process on -c), thread (only the polling thread), none")
	fs.BoolVar(&c.gc, "gc", false, "leave the garbage collector on during the run (default: off, GOGC=off)")
	fs.BoolVar(&c.pause, "pause", false, "rte_pause-like PAUSE instruction after an empty poll")
	fs.IntVar(&c.peer, "peer", 1, "c2c: the other `CPU`")
	fs.BoolVar(&c.zc, "zc", true, "memif clients: add zero-copy=yes when EAL runs on hugepages with --single-file-segments\n(the client then lends its mbufs to the link instead of copying)")
	hgrm := zfapp.HgrmFlag(fs)
	fs.StringVar(&c.metrics, "metrics", "", "serve the ports' counters as Prometheus metrics on `ADDR` (host:port) at /metrics")
	fs.DurationVar(&c.hk, "hk", 2*time.Millisecond, "ping/pong: yield to the Go scheduler at an agreed quiet moment every `DURATION` (0: never)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.hgrm = *hgrm
	rest := fs.Args()
	if len(rest) != 1 {
		fs.Usage()
		return nil, errors.New("zfpmd: exactly one MODE expected")
	}
	c.mode = rest[0]
	switch c.mode {
	case "pingpong":
		if *role != "ping" && *role != "pong" {
			return nil, errors.New("zfpmd: pingpong needs -role ping or -role pong")
		}
		c.mode = *role
	case "pingpong-ping":
		c.mode = "ping"
	case "pingpong-pong":
		c.mode = "pong"
	case "io", "macswap", "rxonly", "txonly", "ping", "pong", "c2c":
	default:
		fs.Usage()
		return nil, fmt.Errorf("zfpmd: unknown mode %q", c.mode)
	}
	server := c.mode == "pong" || c.mode == "rxonly"
	if c.cpu < 0 {
		c.cpu = 0
		if server && runtime.NumCPU() > 1 {
			c.cpu = 1
		}
	}
	if len(c.devs) == 0 {
		r := "client"
		if server {
			r = "server"
		}
		c.devs = devList{"net_memif0,role=" + r + ",socket=/run/zocket/zfpmd.sock"}
		c.defaultDev = true
	}
	if c.mode == "ping" && c.n == 0 {
		c.n = 1_000_000
	}
	if c.mode == "ping" && c.wait == 0 {
		c.wait = zfapp.PingWait
	}
	if c.size < minFrame || c.size > 9000 {
		return nil, fmt.Errorf("zfpmd: -s %d: frame size must be %d..9000", c.size, minFrame)
	}
	if c.burst < 1 || c.burst > 512 {
		return nil, fmt.Errorf("zfpmd: -burst %d: must be 1..512", c.burst)
	}
	switch c.pin {
	case "process", "thread", "none":
	default:
		return nil, fmt.Errorf("zfpmd: -pin %q: process, thread or none", c.pin)
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := c.exec(stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "zfpmd:", err)
		return 1
	}
	return 0
}

// exec runs the mode on the main goroutine, which package eal keeps on the main OS thread, so the
// polling loop runs on EAL's main lcore (with its mempool cache).
func (c *config) exec(stdout, stderr io.Writer) error {
	if c.mode == "c2c" {
		return c.runC2C(stdout)
	}
	if c.gomaxprocs > 0 {
		runtime.GOMAXPROCS(c.gomaxprocs)
	}
	var stop atomic.Bool
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)
	go func() {
		if _, ok := <-sigc; ok {
			stop.Store(true)
		}
	}()

	var extra []string
	if c.verbose { // DPDK's warnings too (by default only its errors)
		extra = append(extra, ealargs.LogArg(0x2))
	}
	args, prefix := ealargs.For("zfpmd", c.cpu, extra...)
	if slices.Contains(args, "--in-memory") && !slices.Contains(args, "--single-file-segments") {
		// One memfd per memory segment list: memif's zero-copy mode shares the mbufs' memory
		// with its peer through them.
		args = append(args, "--single-file-segments")
	}
	args = append(args, "--log-level=*:error") // not the hugepage-size notices on every start
	if c.eal != "" {
		args = strings.Fields(c.eal)
	}
	defer ealargs.Cleanup(prefix)
	if c.zc && slices.Contains(args, "--single-file-segments") && !slices.Contains(args, "--no-huge") {
		for i, d := range c.devs {
			if strings.HasPrefix(d, "net_memif") && strings.Contains(d, "role=client") && !strings.Contains(d, "zero-copy=") {
				c.devs[i] = d + ",zero-copy=yes"
			}
		}
	}
	for _, d := range c.devs {
		prepareSocket(d)
	}
	if err := eal.Init(args); err != nil {
		return fmt.Errorf("EAL init %q: %w", args, err)
	}

	// At exit the ports are stopped, not closed, and neither the pool nor EAL is freed: a memif
	// client in zero-copy mode lends its mbufs to the link, and tearing memif down while its
	// interrupt thread handles the peer's disconnect crashed the exit now and then (DPDK
	// 22.11). The process ends; the OS takes everything back, and ealargs.Cleanup removes a
	// --no-huge run's files.
	pool, err := dpdk.NewPool("zfpmd", 8191, 256, max(dpdk.DefaultDataRoom, c.size+dpdk.DefaultHeadroom), -1)
	if err != nil {
		return err
	}
	var ports []dpdk.Port
	defer func() {
		for _, p := range ports {
			_ = p.Stop()
		}
	}()
	for _, d := range c.devs {
		p, err := openPort(d, pool, c.size, c.wait, &stop)
		if err != nil {
			return err
		}
		ports = append(ports, p)
	}
	for _, p := range ports {
		if err := waitLink(p, c.wait, &stop); err != nil {
			return err
		}
	}
	time.Sleep(20 * time.Millisecond) // a memif peer's queues may lag its link by a little
	stopMetrics, err := metrics.Serve(c.metrics, metrics.NewPortCollector("zfpmd", ports...))
	if err != nil {
		return fmt.Errorf("-metrics %s: %w", c.metrics, err)
	}
	defer stopMetrics()

	pl, err := place(c)
	if err != nil {
		return err
	}
	defer pl.restore()

	switch c.mode {
	case "ping":
		err = c.runPing(ports[0], pool, &stop, pl, stdout, stderr)
	case "pong":
		err = c.runPong(ports[0], &stop, pl, stderr)
	default:
		err = c.runFwd(ports, pool, &stop, pl, stdout, stderr)
	}
	pl.finish()
	if c.verbose {
		pl.report(stderr)
	}
	return err
}

// openPort probes, configures and starts a device with one queue pair. A memif client whose
// server is not there yet fails to start: it is retried until wait has passed.
func openPort(spec string, pool *dpdk.Pool, size int, wait time.Duration, stop *atomic.Bool) (dpdk.Port, error) {
	client := strings.HasPrefix(spec, "net_memif") && strings.Contains(spec, "role=client")
	if !client {
		return tryOpenPort(spec, pool, size)
	}
	// Until the server is up every attempt fails: keep memif from logging each one.
	_ = dpdk.SetLogLevel("pmd.net.memif*", dpdk.LogCritical)
	defer dpdk.SetLogLevel("pmd.net.memif*", dpdk.LogError)
	deadline := time.Now().Add(wait)
	for {
		p, err := tryOpenPort(spec, pool, size)
		if err == nil {
			return p, nil
		}
		if wait > 0 && time.Now().After(deadline) || stop.Load() {
			return p, fmt.Errorf("%w (is the memif server up? waited %v)", err, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tryOpenPort(spec string, pool *dpdk.Pool, size int) (dpdk.Port, error) {
	p, err := dpdk.Probe(spec)
	if err != nil {
		return 0, err
	}
	cfg := &dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 1024, TxDesc: 1024, Pool: pool}
	if size > 1514 {
		cfg.MTU = size - 14
	}
	if err := p.Configure(cfg); err != nil {
		p.Close()
		return 0, err
	}
	if err := p.Start(); err != nil {
		p.Close()
		return 0, err
	}
	_ = p.SetPromiscuous(true) // not every PMD has it; memif and ring accept everything anyway
	return p, nil
}

// waitLink waits for the port's link to come up (a memif client connecting to its server), at
// most limit when it is > 0.
func waitLink(p dpdk.Port, limit time.Duration, stop *atomic.Bool) error {
	deadline := time.Now().Add(limit)
	for {
		l, err := p.Link()
		if err != nil {
			return err
		}
		if l.Up {
			return nil
		}
		if limit > 0 && time.Now().After(deadline) {
			return fmt.Errorf("port %s: link still down after %v", p.Name(), limit)
		}
		if stop.Load() {
			return fmt.Errorf("port %s: interrupted while waiting for the link", p.Name())
		}
		time.Sleep(time.Millisecond)
	}
}

// prepareSocket creates the directory of a memif socket given as a path, and removes a stale
// socket file a killed server left there (only with socket-abstract=no; abstract sockets, the
// default, leave no file).
func prepareSocket(spec string) {
	if !strings.HasPrefix(spec, "net_memif") {
		return
	}
	var path string
	abstract := true
	for _, kv := range strings.Split(spec, ",")[1:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "socket":
			path = v
		case "socket-abstract":
			abstract = v != "no"
		}
	}
	if path == "" || abstract || !strings.Contains(spec, "role=server") {
		if path != "" && !abstract {
			_ = os.MkdirAll(filepath.Dir(path), 0o755)
		}
		return
	}
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	if _, err := os.Stat(path); err != nil {
		return
	}
	if conn, err := net.Dial("unix", path); err == nil {
		conn.Close() // a live server: leave it, the probe will fail with EADDRINUSE
		return
	}
	_ = os.Remove(path)
}

// place applies the thread placement and GC settings for the run; see doc.go for why.
func place(c *config) (*placement, error) {
	pl := &placement{cpu: c.cpu, pin: c.pin, gcPercent: -2}
	if c.pin != "none" {
		if err := eal.PinThread(c.cpu); err != nil {
			return nil, err
		}
	}
	if c.pin == "process" {
		if err := zfapp.PinProcess(c.cpu); err != nil {
			return nil, err
		}
	}
	runtime.GC()
	if !c.gc {
		pl.gcPercent = debug.SetGCPercent(-1)
	}
	pl.start()
	return pl, nil
}
