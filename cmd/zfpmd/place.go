package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// placement remembers what place changed and what the run cost the thread: GC cycles,
// context switches, interrupts on the polling CPU.
type placement struct {
	cpu       int
	pin       string
	gcPercent int // previous GC percent; -2 when GC was left alone

	ms0, ms1     runtime.MemStats
	ru0, ru1     unix.Rusage
	irq0, irq1   map[string]uint64
	tsw0, tsw1   map[int]uint64 // context switches per thread
	threads      int
	start0, end0 time.Time
}

func (pl *placement) start() {
	pl.irq0 = readIRQs(pl.cpu)
	pl.tsw0 = threadSwitches()
	runtime.ReadMemStats(&pl.ms0)
	_ = unix.Getrusage(unix.RUSAGE_THREAD, &pl.ru0)
	pl.start0 = time.Now()
}

func (pl *placement) finish() {
	pl.end0 = time.Now()
	_ = unix.Getrusage(unix.RUSAGE_THREAD, &pl.ru1)
	runtime.ReadMemStats(&pl.ms1)
	pl.irq1 = readIRQs(pl.cpu)
	pl.tsw1 = threadSwitches()
	if ents, err := os.ReadDir("/proc/self/task"); err == nil {
		pl.threads = len(ents)
	}
}

func (pl *placement) restore() {
	if pl.gcPercent != -2 {
		debug.SetGCPercent(pl.gcPercent)
	}
}

// report prints the run's diagnostics.
func (pl *placement) report(w io.Writer) {
	fmt.Fprintf(w, "diag cpu=%d pin=%s gomaxprocs=%d threads=%d secs=%.3f num_gc=%d mallocs=%d "+
		"ctxsw_voluntary=%d ctxsw_involuntary=%d\n",
		pl.cpu, pl.pin, runtime.GOMAXPROCS(0), pl.threads, pl.end0.Sub(pl.start0).Seconds(),
		pl.ms1.NumGC-pl.ms0.NumGC, pl.ms1.Mallocs-pl.ms0.Mallocs,
		pl.ru1.Nvcsw-pl.ru0.Nvcsw, pl.ru1.Nivcsw-pl.ru0.Nivcsw)
	var names []string
	for k, v := range pl.irq1 {
		if v > pl.irq0[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, " %s=%d", k, pl.irq1[k]-pl.irq0[k])
	}
	fmt.Fprintf(w, "diag irqs_on_cpu%d:%s\n", pl.cpu, b.String())
	b.Reset()
	var tids []int
	for tid := range pl.tsw1 {
		tids = append(tids, tid)
	}
	sort.Ints(tids)
	for _, tid := range tids {
		if d := pl.tsw1[tid] - pl.tsw0[tid]; d > 0 {
			fmt.Fprintf(&b, " %d=%d", tid, d)
		}
	}
	fmt.Fprintf(w, "diag ctxsw_by_thread (main=%d):%s\n", os.Getpid(), b.String())
}

// threadSwitches reads every thread's context switches (voluntary + involuntary).
func threadSwitches() map[int]uint64 {
	m := map[int]uint64{}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return m
	}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				m[tid] += n
			}
		}
	}
	return m
}

// readIRQs reads the interrupt counts of one CPU from /proc/interrupts, by row name.
func readIRQs(cpu int) map[string]uint64 {
	f, err := os.Open("/proc/interrupts")
	if err != nil {
		return nil
	}
	defer f.Close()
	m := map[string]uint64{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header: CPU0 CPU1 …
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < cpu+2 {
			continue
		}
		v, err := strconv.ParseUint(fs[cpu+1], 10, 64)
		if err != nil {
			continue
		}
		m[strings.TrimSuffix(fs[0], ":")] = v
	}
	return m
}
