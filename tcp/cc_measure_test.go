package tcp

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Congestion control over net_memif (the real clock; gated like measure_test.go):
//
//	ZOCKET_MEASURE=1 go test ./tcp -run TestMeasureCongestion -v -count=1
//
// Goodput of a 128 MiB one-way transfer, lossless and with 1 % deterministic loss each way,
// per tcp_congestion (median of 3), and cwnd after a long 64-byte ping-pong (the issue's
// application-limited figure: it grew by 64 bytes a round trip before RFC 7661 validation).
func TestMeasureCongestion(t *testing.T) {
	measuring(t)
	const n = 128 << 20
	for i, cc := range []string{"cubic", "newreno"} {
		var g0, g1 []float64
		var ctr Counters
		var cwnd, scwnd uint32
		var appLimited, rtos uint64
		const rounds = 200_000
		t.Run(cc, func(t *testing.T) {
			a, b := memifPair(t, "tcp_congestion", cc, "tcp_rto_min_ms", "20")
			for k := 0; k < 3; k++ {
				port := uint16(7300 + 10*i + 2*k)
				g, _ := goodput(t, a, b, port, 0, n)
				g0 = append(g0, g)
				g, ctr = goodput(t, a, b, port+1, 0.01, n)
				g1 = append(g1, g)
			}
			c, s := memifConnect(t, a, b, uint16(7350+i))
			before := StackCounters(a).CwndAppLimited
			rtosBefore := StackCounters(a).RTOs + StackCounters(b).RTOs
			msg := make([]byte, 64)
			iov := [][]byte{make([]byte, 256)}
			echo := func(from, to *Conn) {
				_, err := from.SendSingle(msg, 0)
				require.NoError(t, err)
				for got := 0; got < len(msg); {
					a.Perform()
					b.Perform()
					k, err := to.Recv(iov)
					if err == syscall.EAGAIN {
						continue
					}
					require.NoError(t, err)
					got += k
				}
			}
			start := time.Now()
			for r := 0; r < rounds; r++ {
				echo(c, s)
				echo(s, c)
				require.Less(t, time.Since(start), 120*time.Second)
			}
			cwnd, scwnd = c.cwnd, s.cwnd
			appLimited = StackCounters(a).CwndAppLimited - before
			rtos = StackCounters(a).RTOs + StackCounters(b).RTOs - rtosBefore
			c.Close()
			s.Close()
		})
		slices.Sort(g0)
		slices.Sort(g1)
		fmt.Printf("tcp_congestion=%s over net_memif, %d MiB one way, median of 3: lossless %.2f Gbit/s %v, 1%% loss %.2f Gbit/s %v; last lossy sender rtx %d rto %d fast %d; "+
			"after %d 64-byte round trips cwnd client %d server %d (app-limited ACKs %d, RTOs %d)\n",
			cc, n>>20, g0[1], g0, g1[1], g1, ctr.Retransmits, ctr.RTOs, ctr.FastRetransmits, rounds, cwnd, scwnd, appLimited, rtos)
	}
}
