// Package rtt records round-trip times for the ping-pong tools and prints them in the project's
// output contract, one line every latency tool ends with and scripts/bench parses:
//
//	rtt_ns n=N min=… mean=… p50=… p99=… p999=… max=…
//
// Percentiles come from an HDR histogram (github.com/HdrHistogram/hdrhistogram-go): recording
// is allocation-free and constant-time, with 3 significant digits from 1 ns to 10 s.
package rtt

import (
	"fmt"
	"io"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Recorder accumulates round-trip times in nanoseconds.
type Recorder struct {
	h *hdrhistogram.Histogram
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{h: hdrhistogram.New(1, 10_000_000_000, 3)}
}

// Record adds one round trip of ns nanoseconds (values beyond 10 s are clamped).
func (r *Recorder) Record(ns int64) {
	if ns < 1 {
		ns = 1
	}
	if ns > r.h.HighestTrackableValue() {
		ns = r.h.HighestTrackableValue()
	}
	_ = r.h.RecordValue(ns)
}

// Reset forgets everything recorded (after warm-up).
func (r *Recorder) Reset() { r.h.Reset() }

// Summary is a recorder's statistics in nanoseconds.
type Summary struct {
	N                                int64
	Min, P50, P99, P999, Max, Stddev int64
	Mean                             float64
}

// Summary computes the statistics.
func (r *Recorder) Summary() Summary {
	h := r.h
	return Summary{
		N: h.TotalCount(), Min: h.Min(), Max: h.Max(), Mean: h.Mean(), Stddev: int64(h.StdDev()),
		P50: h.ValueAtQuantile(50), P99: h.ValueAtQuantile(99), P999: h.ValueAtQuantile(99.9),
	}
}

// Percentile returns the value at percentile p (0..100).
func (r *Recorder) Percentile(p float64) int64 { return r.h.ValueAtQuantile(p) }

// Line is the contract line: "rtt_ns n=… min=… mean=… p50=… p99=… p999=… max=…".
func (s Summary) Line() string {
	return fmt.Sprintf("rtt_ns n=%d min=%d mean=%d p50=%d p99=%d p999=%d max=%d",
		s.N, s.Min, int64(math.Round(s.Mean)), s.P50, s.P99, s.P999, s.Max)
}

// WriteReport prints TCPDirect's ping-pong summary for payload size bytes — the mean round
// trip, then the table "size mean min median max %ile stddev iter" with pct as the %ile column
// (e.g. 99), in half round trips as TCPDirect prints them or, with full, whole ones — and then
// the project's closing rtt_ns line.
func (r *Recorder) WriteReport(w io.Writer, size int, pct float64, full bool) {
	s := r.Summary()
	div := int64(2)
	if full {
		div = 1
	}
	fmt.Fprintf(w, "mean round-trip time: %.3f usec\n", s.Mean/1000)
	fmt.Fprintf(w, "%-6s %8s %8s %8s %8s %8s %8s %10s\n", "size", "mean", "min", "median", "max", "%ile", "stddev", "iter")
	fmt.Fprintf(w, "%-6d %8d %8d %8d %8d %8d %8d %10d\n", size, int64(s.Mean)/div, s.Min/div, s.P50/div,
		s.Max/div, r.Percentile(pct)/div, s.Stddev/div, s.N)
	fmt.Fprintln(w, s.Line())
}
