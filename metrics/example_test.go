package metrics_test

import (
	"flag"
	"log"

	"github.com/zocket/zocket/metrics"
	"github.com/zocket/zocket/stack"
)

// A command's -metrics flag: two lines serve its stacks at http://ADDR/metrics.
func ExampleServe() {
	metricsAddr := flag.String("metrics", "", "serve Prometheus metrics on `ADDR` (host:port)")
	flag.Parse()

	st, err := stack.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	stop, err := metrics.Serve(*metricsAddr, metrics.NewCollector(st))
	if err != nil {
		log.Fatal(err)
	}
	defer stop() // before the stack closes (defers run last-in first-out)
	defer st.Close()

	for {
		st.Perform()
	}
}

// A ping-pong tool's round-trip times, beside the stack's metrics.
func ExampleNewRTTHistogram() {
	var st *stack.Stack // the tool's stack
	rtt := metrics.NewRTTHistogram("zfudppingpong")
	stop, err := metrics.Serve("127.0.0.1:9471", metrics.NewCollector(st), rtt)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	var rttNs int64 // measured per round trip
	rtt.Observe(float64(rttNs) / 1e9)
}
