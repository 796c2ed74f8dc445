package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMeasureLoss is issue 15's loss comparison, gated by ZOCKET_MEASURE=1 (scripts/bench loss
// runs it):
//
//	ZOCKET_MEASURE=1 go test -count=1 -v -timeout 60m -run '^TestMeasureLoss$' ./cmd/zftcppingpong
//
// A Linux client (socat) streams 16 MiB through an echo and reads it back, through a router
// namespace that drops a share of the forwarded TCP frames each way in its nftables forward
// chain (lab.Lossy); the echo is zftcppingpong pong on net_tap, or Linux's socat … EXEC:cat
// behind a veth (lab.Host), through the same router with the same loss. For each loss, runs
// alternate zocket, linux, zocket, linux…, each in namespaces of its own made and removed
// around it. Each run prints, on stdout,
//
//	row=loss1-zocket run=1 s=1.234 load=0.85   (or s=timeout, or s=error with the reason)
//
// (load: the 1-minute load average after the run; the pong polls a core and the client and the
// router share what is left, so others' load lengthens the runs).
//
// and each loss ends with the medians (a timed-out run counts as longer than any other; a
// failed one is left out, and fails the test) and their ratio, "timeout" when a median is one:
//
//	row=loss1-zocket median_s=1.234 ok=3 timeouts=0 errors=0
//	row=loss1-linux median_s=0.115 ok=3 timeouts=0 errors=0
//	ratio loss1 zocket/linux=10.73
//
// and the whole a summary line for scripts/bench:
//
//	row=loss loss1_zocket_s=1.234 loss1_linux_s=0.115 loss1_ratio=10.73 loss5_zocket_s=…
//
// The environment sets: ZOCKET_LOSS_PCT, the losses in % (default "1,5"; 0 runs the same path
// without loss, the baseline that shows what the path itself costs); ZOCKET_LOSS_RUNS, the
// runs of each server at each loss (3); ZOCKET_ECHO_MIB (16); ZOCKET_LOSS_TIMEOUT, each
// client's time limit (120s); ZK_TCP_ATTR, attributes for the pong's stack (ZF_ATTR syntax, as
// scripts/bench's TCP rows take them); ZOCKET_PONG, a built zftcppingpong (else the test builds
// one); ZOCKET_LAB_LOCK, a file to hold an exclusive flock on during each run (the lab lock,
// /tmp/zlab.lock: taken per run, so that others' short tests get in between; do not run the
// test under that lock as well, it would wait for itself).
func TestMeasureLoss(t *testing.T) {
	if os.Getenv("ZOCKET_MEASURE") == "" {
		t.Skip("set ZOCKET_MEASURE=1")
	}
	pcts, err := envInts("ZOCKET_LOSS_PCT", "1,5")
	require.NoError(t, err)
	runs, mib := envInt("ZOCKET_LOSS_RUNS", 3), envInt("ZOCKET_ECHO_MIB", 16)
	timeout := 120 * time.Second
	if v := os.Getenv("ZOCKET_LOSS_TIMEOUT"); v != "" {
		timeout, err = time.ParseDuration(v)
		require.NoError(t, err, "ZOCKET_LOSS_TIMEOUT")
	}
	bin, s := buildPong(t), newEchoStream(t, mib)
	servers := []echoServer{zocketEcho, linuxEcho}
	var summary []string
	for _, pct := range pcts {
		results := map[echoServer]*lossResults{}
		for run := 1; run <= runs; run++ {
			for _, srv := range servers {
				row := fmt.Sprintf("loss%d-%s", pct, srv)
				r := echoRun{server: srv, bin: bin, attr: os.Getenv("ZK_TCP_ATTR"), subnet: 77, pct: pct, timeout: timeout}
				took, err := time.Duration(0), errors.New("set-up failed (see the test's log)")
				t.Run(fmt.Sprintf("%s-%d", row, run), func(t *testing.T) {
					labLock(t)
					took, err = r.stream(t, s)
				})
				if results[srv] == nil {
					results[srv] = new(lossResults)
				}
				fmt.Printf("row=%s run=%d %s load=%s\n", row, run, results[srv].add(took, err), loadAvg())
				if err != nil && !errors.Is(err, errTimedOut) {
					t.Errorf("%s run %d: %v", row, run, err)
				}
			}
		}
		z, l := results[zocketEcho], results[linuxEcho]
		fmt.Printf("row=loss%d-zocket %s\nrow=loss%d-linux %s\n", pct, z, pct, l)
		ratio := ratioWord(z.median(), l.median())
		fmt.Printf("ratio loss%d zocket/linux=%s\n", pct, ratio)
		summary = append(summary, fmt.Sprintf("loss%d_zocket_s=%s loss%d_linux_s=%s loss%d_ratio=%s",
			pct, secsWord(z.median()), pct, secsWord(l.median()), pct, ratio))
	}
	fmt.Printf("row=loss %s\n", strings.Join(summary, " "))
}

// lossResults are one server's runs at one loss.
type lossResults struct {
	secs             []float64 // finished runs' seconds, +Inf for a timed-out run
	timeouts, errors int
}

// add records one run and returns what its row line says of it.
func (r *lossResults) add(took time.Duration, err error) string {
	switch {
	case err == nil:
		r.secs = append(r.secs, took.Seconds())
		return "s=" + secsWord(took.Seconds())
	case errors.Is(err, errTimedOut):
		r.secs = append(r.secs, math.Inf(1))
		r.timeouts++
		return fmt.Sprintf("s=timeout after=%.0f", took.Seconds())
	default:
		r.errors++
		return fmt.Sprintf("s=error err=%q", firstLine(err.Error()))
	}
}

// median is the median of the runs that finished or timed out; NaN when there are none.
func (r *lossResults) median() float64 {
	if len(r.secs) == 0 {
		return math.NaN()
	}
	v := slices.Sorted(slices.Values(r.secs))
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

func (r *lossResults) String() string {
	return fmt.Sprintf("median_s=%s ok=%d timeouts=%d errors=%d",
		secsWord(r.median()), len(r.secs)-r.timeouts, r.timeouts, r.errors)
}

// secsWord prints seconds, "timeout" for +Inf, "n/a" for NaN.
func secsWord(s float64) string {
	switch {
	case math.IsInf(s, 1):
		return "timeout"
	case math.IsNaN(s):
		return "n/a"
	}
	return fmt.Sprintf("%.3f", s)
}

// ratioWord is a/b to two places, "timeout" when either timed out, "n/a" without both.
func ratioWord(a, b float64) string {
	switch {
	case math.IsNaN(a) || math.IsNaN(b) || b == 0:
		return "n/a"
	case math.IsInf(a, 1) || math.IsInf(b, 1):
		return "timeout"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// loadAvg is the machine's 1-minute load average, "?" when it cannot be read.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// envInts reads a comma-separated list of percentages (0 to 100) from the environment
// variable name, def when it is unset; 0 is the lossless baseline of the same path.
func envInts(name, def string) ([]int, error) {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 100 {
			return nil, fmt.Errorf("%s=%q: want percentages from 0 to 100, comma-separated", name, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// labLock holds an exclusive flock on the file ZOCKET_LAB_LOCK names, when set, until the
// test ends (its other clean-ups, registered later, run first).
func labLock(t *testing.T) {
	path := os.Getenv("ZOCKET_LAB_LOCK")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	t.Cleanup(func() { f.Close() })
}

// TestLossMedians: the medians and ratios TestMeasureLoss prints, timed-out and failed runs
// included.
func TestLossMedians(t *testing.T) {
	timeout, failed := fmt.Errorf("client: %w", errTimedOut), errors.New("socat: exit 1\nmore")
	for _, tc := range []struct {
		name  string
		runs  []error // nil: a run of its index+1 seconds
		lines []string
		str   string
	}{
		{"all ok", []error{nil, nil, nil}, []string{"s=1.000", "s=2.000", "s=3.000"}, "median_s=2.000 ok=3 timeouts=0 errors=0"},
		{"one timeout", []error{nil, timeout, nil}, []string{"s=1.000", "s=timeout after=2", "s=3.000"}, "median_s=3.000 ok=2 timeouts=1 errors=0"},
		{"two timeouts", []error{timeout, timeout, nil}, []string{"s=timeout after=1", "s=timeout after=2", "s=3.000"}, "median_s=timeout ok=1 timeouts=2 errors=0"},
		{"an error left out", []error{nil, failed, nil}, []string{"s=1.000", `s=error err="socat: exit 1"`, "s=3.000"}, "median_s=2.000 ok=2 timeouts=0 errors=1"},
		{"nothing", []error{failed}, []string{`s=error err="socat: exit 1"`}, "median_s=n/a ok=0 timeouts=0 errors=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := new(lossResults)
			for i, err := range tc.runs {
				require.Equal(t, tc.lines[i], r.add(time.Duration(i+1)*time.Second, err))
			}
			require.Equal(t, tc.str, r.String())
		})
	}
	for _, tc := range []struct {
		a, b float64
		want string
	}{{3, 1.5, "2.00"}, {math.Inf(1), 1, "timeout"}, {1, math.NaN(), "n/a"}, {1, 0, "n/a"}} {
		require.Equal(t, tc.want, ratioWord(tc.a, tc.b), "%v/%v", tc.a, tc.b)
	}
}
