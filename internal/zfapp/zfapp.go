// Package zfapp is what zocket's example applications (zfudppingpong, zfsink) share: attributes
// from an embedded configuration and ZF_ATTR, EAL start-up on the polling CPU, a stack whose
// link is up, and the placement of the polling thread (CPU pinning, GOMAXPROCS, GC) with the
// run's diagnostics.
package zfapp

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zocket/zocket/configs"
	"github.com/zocket/zocket/eal"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/ealargs"
	"github.com/zocket/zocket/internal/redact"
	"github.com/zocket/zocket/metrics"
	"github.com/zocket/zocket/stack"
)

// Attr returns the attributes of a run: the defaults, then the configuration config (an
// embedded name such as memif-server, or a file; "" for none), then ZF_ATTR, then extra
// name=value pairs.
func Attr(config string, extra ...string) (*stack.Attr, error) {
	a := attr.NewDefault()
	if config != "" {
		if err := configs.Apply(a, config); err != nil {
			return nil, err
		}
	}
	if s, ok := attr.Getenv("ZF_ATTR"); ok {
		if err := a.ParseString(s); err != nil {
			return nil, fmt.Errorf("ZF_ATTR: %w", err)
		}
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		if err := a.Set(k, v); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Verbose raises a's log_level so that DPDK's warnings and the stack's own show (the tools'
// -v): by default DPDK logs only its errors (a quiet start).
func Verbose(a *stack.Attr) {
	_ = a.SetInt("log_level", a.IntOf(attr.LogLevel)|logWarnings)
}

// logWarnings is log_level's stack-nibble bit for warnings.
const logWarnings = 0x2

// App is a running application's stack and what must be undone at exit.
type App struct {
	Stack       *stack.Stack
	CPU         int
	Linger      time.Duration // Close's bound on the wait for delivery (-linger); 0: as long as TCP retries
	prefix      string
	ownEAL      bool   // Open started EAL, so Close cleans it up
	stopMetrics func() // the -metrics server, if any
	zeroCopy    bool   // Open turned memif zero-copy on (see zeroCopyMemif)
}

// MetricsFlag registers the -metrics flag every command offers and returns its value.
func MetricsFlag(fs *flag.FlagSet) *string {
	return fs.String("metrics", "", "serve Prometheus metrics on `ADDR` (host:port; :PORT means every interface) at /metrics")
}

// HgrmFlag registers the -hgrm flag of every latency tool and returns its value: the file the
// ping writes its round trips' percentile distribution to (rtt.Recorder.WriteHgrmFile).
func HgrmFlag(fs *flag.FlagSet) *string {
	return fs.String("hgrm", "", "ping: write the round trips' HdrHistogram percentile distribution (.hgrm, ns) to `FILE`")
}

// ServeMetrics serves the stack's metrics on addr at /metrics until Close; "" does nothing.
func (app *App) ServeMetrics(addr string) error {
	stop, err := metrics.Serve(addr, metrics.NewCollector(app.Stack))
	if err != nil {
		return fmt.Errorf("-metrics %s: %w", addr, err)
	}
	app.stopMetrics = stop
	return nil
}

// Open starts EAL (unless running already) with its main lcore on cpu — the attribute eal_args
// when it was set, else ealargs.For's choice — and opens the stack, waiting up to wait for the
// port's link (a memif client waits for its server, a server for its client); wait ≤ 0 waits
// until the link comes up or stop (when not nil) is set, which fails with EINTR.
func Open(name string, a *stack.Attr, cpu int, wait time.Duration, stop *atomic.Bool) (*App, error) {
	app := &App{CPU: cpu}
	if !eal.Initialized() {
		var args []string
		if a.IsDefault(attr.EALArgs) {
			args, app.prefix = ealargs.For(name, max(cpu, 0), ealargs.LogArg(a.IntOf(attr.LogLevel)))
		} else {
			args = a.EALArgv()
		}
		if err := eal.Init(args); err != nil {
			ealargs.Cleanup(app.prefix)
			return nil, fmt.Errorf("EAL init %q: %w", args, err)
		}
		app.ownEAL = true
		app.zeroCopy = zeroCopyMemif(a)
	}
	prepareSocket(a.StrOf(attr.Interface))
	deadline := time.Now().Add(wait)
	late := func() bool { return wait > 0 && time.Now().After(deadline) }
	interrupted := func() bool { return stop != nil && stop.Load() }
	spec := a.StrOf(attr.Interface)
	for {
		var err error
		if app.Stack, err = stack.New(a); err == nil {
			break
		}
		if !strings.HasPrefix(spec, "net_memif") || late() || interrupted() {
			app.Close()
			return nil, err
		}
		time.Sleep(20 * time.Millisecond) // a memif client before its server's socket
	}
	retry := memifRetry(spec)
	restart := time.Now().Add(retry)
	for {
		if l, err := app.Stack.Port().Link(); err == nil && l.Up {
			return app, nil
		}
		if late() {
			app.Close()
			return nil, fmt.Errorf("interface %s: link still down after %v", redact.String(spec), wait)
		}
		if interrupted() {
			app.Close()
			return nil, fmt.Errorf("interface %s: interrupted while waiting for the link: %w", redact.String(spec), syscall.EINTR)
		}
		if retry > 0 && time.Now().After(restart) {
			// DPDK 22.11's memif client connects once, when its port starts; started together
			// with its server, it sometimes never sees the link (the server turns it away
			// before its own port is up, we believe) and does not try again. Start the
			// client's port over: its stack, pool and queues stay.
			port := app.Stack.Port()
			err := port.Stop()
			if err == nil {
				err = port.Start()
			}
			if err != nil {
				app.Close()
				return nil, fmt.Errorf("interface %s: restarting the memif client: %w", redact.String(spec), err)
			}
			restart = time.Now().Add(retry)
		}
		time.Sleep(time.Millisecond)
	}
}

// memifRetry is how long a memif client waits for its link before Open starts its port over;
// 0 (never) for other ports. Servers are left alone: restarting them as well made things
// worse (the two met mid-handshake).
func memifRetry(spec string) time.Duration {
	if strings.HasPrefix(spec, "net_memif") && slices.Contains(strings.Split(spec, ","), "role=client") {
		return 250 * time.Millisecond
	}
	return 0
}

// Close ends the run gracefully: each TCP connection among zockets sends its FIN after its
// queued data and the reactor runs until the peer acknowledged both or TCP gave up (finish);
// then every zocket (nil entries skipped) is closed, the reactor runs until the stack is
// quiescent (stack.Shutdown) and the stack is freed, and EAL is cleaned up if Open started it.
// Linger, when > 0, bounds the whole wait. The error says what was given up on: a connection
// TCP ended (ETIMEDOUT when its retransmissions ran out), or, past Linger, what was still
// unacknowledged (ETIMEDOUT).
func (app *App) Close(zockets ...interface{ Close() error }) error {
	var err error
	if app.stopMetrics != nil {
		app.stopMetrics()
		app.stopMetrics = nil
	}
	if app.Stack != nil {
		var zs []interface{ Close() error }
		for _, z := range zockets {
			if z != nil && !isNilPtr(z) {
				zs = append(zs, z)
			}
		}
		start := time.Now()
		ferr := finish(app.Stack, app.Linger, zs)
		rest := time.Duration(0)
		if app.Linger > 0 {
			rest = max(app.Linger-time.Since(start), time.Nanosecond)
		}
		err = errors.Join(ferr, stack.Shutdown(app.Stack, rest, zs...))
		if app.zeroCopy && errors.Is(err, syscall.EBUSY) && !errors.Is(err, syscall.ETIMEDOUT) {
			err = nil // buffers still lent to memif's receive ring (see zeroCopyMemif)
		}
		app.Stack = nil
	}
	if app.ownEAL {
		_ = eal.Cleanup()
		ealargs.Cleanup(app.prefix)
		app.ownEAL = false
	}
	return err
}

// isNilPtr reports a typed nil pointer in an interface (a zocket never made).
func isNilPtr(z any) bool {
	v := reflect.ValueOf(z)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// zeroCopyMemif reports whether the interface is a memif client in zero-copy mode, which the
// user asks for in its devargs (net_memif0,role=client,…,zero-copy=yes) when EAL's memory can
// be shared (hugepages with --single-file-segments): the client lends its mbufs to the link
// instead of copying each frame, which zfpmd's floor measured at 90–100 ns off a round trip.
// It is not turned on by default: on this lab's DPDK 22.11 the server's mmap of the client's
// regions fails now and then ("memif_connect(): mmap failed: No such device", about one pair
// start in ten), and the link then never comes up.
//
// DPDK 22.11's memif does not give back, when the port closes, the mbufs a zero-copy client
// lent to its receive ring: the stack then keeps its pool rather than free it under them, and
// Close reports EBUSY. For such a run App.Close does not count that as a failure (the process
// ends); every other EBUSY still is one.
func zeroCopyMemif(a *stack.Attr) bool {
	spec := a.StrOf(attr.Interface)
	return strings.HasPrefix(spec, "net_memif") && strings.Contains(spec, "role=client") &&
		strings.Contains(spec, "zero-copy=yes")
}

// prepareSocket creates the directory of a memif socket given as a file path.
func prepareSocket(spec string) {
	if !strings.HasPrefix(spec, "net_memif") {
		return
	}
	for _, kv := range strings.Split(spec, ",")[1:] {
		if k, v, _ := strings.Cut(kv, "="); k == "socket" && strings.HasPrefix(v, "/") {
			_ = os.MkdirAll(filepath.Dir(v), 0o755)
		}
	}
}

// Placement is where the polling thread runs and what the run cost it.
type Placement struct {
	cpu       int
	gcPercent int // previous GC percent; -2 when left alone
	ms0, ms1  runtime.MemStats
	ru0, ru1  unix.Rusage
	t0, t1    time.Time
}

// Place pins the calling thread (and with process, every thread of the process: Go's runtime
// threads, EAL's control threads) to cpu (-1: no pinning), sets GOMAXPROCS to gomaxprocs (0
// leaves it) and, unless gc, turns the garbage collector off for the run. The counters start
// from here; call Start again after a warm-up.
func Place(cpu int, process bool, gomaxprocs int, gc bool) (*Placement, error) {
	pl := &Placement{cpu: cpu, gcPercent: -2}
	if gomaxprocs > 0 {
		runtime.GOMAXPROCS(gomaxprocs)
	}
	if cpu >= 0 {
		if err := eal.PinThread(cpu); err != nil {
			return nil, err
		}
		if process {
			if err := PinProcess(cpu); err != nil {
				return nil, err
			}
		}
	}
	runtime.GC()
	if !gc {
		pl.gcPercent = debug.SetGCPercent(-1)
	}
	pl.Start()
	return pl, nil
}

// PinProcess binds every thread of the process (Go's runtime threads, EAL's control threads)
// to cpu, so that none of them runs on the peer's polling core; threads made later inherit the
// mask. A second pass catches threads started during the first.
func PinProcess(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	for pass := 0; pass < 2; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setaffinity(thread %d, cpu %d): %w", tid, cpu, err)
			}
		}
	}
	return nil
}

// Start (re)starts the run's counters.
func (pl *Placement) Start() {
	runtime.ReadMemStats(&pl.ms0)
	_ = unix.Getrusage(unix.RUSAGE_THREAD, &pl.ru0)
	pl.t0 = time.Now()
}

// Finish stops the counters.
func (pl *Placement) Finish() {
	pl.t1 = time.Now()
	_ = unix.Getrusage(unix.RUSAGE_THREAD, &pl.ru1)
	runtime.ReadMemStats(&pl.ms1)
}

// Restore gives the garbage collector its setting back.
func (pl *Placement) Restore() {
	if pl.gcPercent != -2 {
		debug.SetGCPercent(pl.gcPercent)
	}
}

// Seconds is the measured run's length.
func (pl *Placement) Seconds() float64 { return pl.t1.Sub(pl.t0).Seconds() }

// Report prints the run's diagnostics: garbage collections (NumGC before and after), heap
// allocations, context switches.
func (pl *Placement) Report(w io.Writer, who string) {
	gc := "off"
	if pl.gcPercent == -2 {
		gc = "on"
	}
	fmt.Fprintf(w, "diag %s cpu=%d gomaxprocs=%d gc=%s secs=%.3f num_gc_before=%d num_gc_after=%d mallocs=%d "+
		"ctxsw_voluntary=%d ctxsw_involuntary=%d\n",
		who, pl.cpu, runtime.GOMAXPROCS(0), gc, pl.Seconds(), pl.ms0.NumGC, pl.ms1.NumGC,
		pl.ms1.Mallocs-pl.ms0.Mallocs, pl.ru1.Nvcsw-pl.ru0.Nvcsw, pl.ru1.Nivcsw-pl.ru0.Nivcsw)
}
