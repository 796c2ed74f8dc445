package metrics_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/internal/rtt"
	"github.com/zocket/zocket/metrics"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// TestScrapeImpactOnPingPong measures the ping-pong round trip (ICMP echo between two stacks
// of a lab pair, one goroutine driving both, on the TSC clock) with no scrape and with a
// Prometheus scrape every second over HTTP, A holding 1,000 zockets. Phases alternate to even
// out the machine's noise. It is a measurement, not a check: ZOCKET_MEASURE=1 runs it.
//
//	ZOCKET_MEASURE=1 go test ./metrics -run ScrapeImpact -v
func TestScrapeImpactOnPingPong(t *testing.T) {
	if os.Getenv("ZOCKET_MEASURE") == "" {
		t.Skip("a measurement: set ZOCKET_MEASURE=1")
	}
	p := lab.NewPair(t, "max_tcp_endpoints", "1000")
	p.A.SetClock(nil)
	p.B.SetClock(nil)
	p.A.SetTransport(253, newFakeTCP(1000))
	srv, err := metrics.Listen("127.0.0.1:0", metrics.NewCollector(p.A, p.B))
	require.NoError(t, err)
	defer srv.Close()
	url := "http://" + srv.Addr() + "/metrics"

	phase := 3 * time.Second
	if d, err := time.ParseDuration(os.Getenv("ZOCKET_MEASURE_PHASE")); err == nil {
		phase = d
	}
	recs := map[bool]*rtt.Recorder{false: rtt.NewRecorder(), true: rtt.NewRecorder()}
	hz := float64(dpdk.TSCHz())
	seq := uint16(0)
	run := func(scrape bool) {
		stop := make(chan struct{})
		done := make(chan int)
		if scrape {
			go func() {
				n := 0
				tk := time.NewTicker(time.Second)
				defer tk.Stop()
				for {
					select {
					case <-stop:
						done <- n
						return
					case <-tk.C:
						if resp, err := http.Get(url); err == nil {
							resp.Body.Close()
							n++
						}
					}
				}
			}()
		}
		end := time.Now().Add(phase)
		rec := recs[scrape]
		for time.Now().Before(end) {
			for range 1000 {
				seq++
				want := p.A.Counters().RxICMP + 1
				t0 := dpdk.TSC()
				echo(t, p.A, seq)
				for p.A.Counters().RxICMP != want {
					p.A.Perform()
					p.B.Perform()
				}
				rec.Record(int64(float64(dpdk.TSC()-t0) * 1e9 / hz))
			}
		}
		if scrape {
			close(stop)
			t.Logf("scrapes: %d", <-done)
		}
	}
	run(false) // warm-up: ARP, caches
	recs[false].Reset()
	for range 3 {
		run(false)
		run(true)
	}
	off, on := recs[false].Summary(), recs[true].Summary()
	t.Logf("no scrape:    %s", off.Line())
	t.Logf("1 s scrape:   %s", on.Line())
	t.Logf("p50 difference: %+.2f %%", 100*float64(on.P50-off.P50)/float64(off.P50))
	fmt.Fprintf(os.Stderr, "scrape-impact p50_off=%d p50_on=%d p99_off=%d p99_on=%d\n", off.P50, on.P50, off.P99, on.P99)
}

// echo has a send an ICMP echo request to B (198.18.0.2).
func echo(t *testing.T, a *stack.Stack, seq uint16) {
	m := a.Pool().Alloc()
	require.NotNil(t, m)
	b := m.Append(14 + 20 + 8 + 32)
	a.EncodeEthernet(b, [6]byte{}, wire.EtherTypeIPv4)
	dst := [4]byte{198, 18, 0, 2}
	ip := wire.IPv4Fields{TotalLength: 60, TTL: 64, Protocol: wire.ProtoICMP, Src: a.LocalIP4(), Dst: dst, ID: seq}
	ip.Encode(b[14:])
	icmp := b[34:]
	f := wire.ICMPFields{Type: wire.ICMPEchoRequest, ID: 1, Seq: seq}
	f.Encode(icmp)
	wire.ICMP(icmp).SetChecksum(0)
	wire.ICMP(icmp).SetChecksum(wire.ICMP(icmp).ComputeChecksum())
	a.Output(m, dst)
}
