package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// NewRTTHistogram returns the round-trip-time histogram of a ping-pong tool,
// zocket_rtt_seconds{tool="…"}: exponential buckets from 1 µs to about 33 ms. Observe is a
// few atomic adds and allocates nothing, so a tool can observe every round trip; register it
// with Serve beside the collector:
//
//	h := metrics.NewRTTHistogram("zfudppingpong")
//	stop, err := metrics.Serve(addr, metrics.NewCollector(st), h)
//	…
//	h.Observe(float64(rttNs) / 1e9)
func NewRTTHistogram(tool string) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:        "zocket_rtt_seconds",
		Help:        "Round-trip times measured by a ping-pong tool.",
		ConstLabels: prometheus.Labels{"tool": tool},
		Buckets:     prometheus.ExponentialBuckets(1e-6, 2, 16),
	})
}
