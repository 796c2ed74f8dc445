package gonet_test

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/zocket/zocket/gonet"
)

// TestBusyPollLetsOthersRun: with GOMAXPROCS 1, busy-polling stacks (idle, then with a caller
// spinning in the poller's place) leave the scheduler room for timers and other goroutines. A
// 1 ms sleep took 20 ms at the median (up to 70 ms) when the spinning loops never yielded and
// only the runtime's 10 ms preemption let anything else in; the bound here is a liveness check,
// five times the sleep, not a speed measurement.
func TestBusyPollLetsOthersRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	_, b := ringPair(t, gonet.WithWaitMode(gonet.BusyPoll))
	median := func() time.Duration {
		var ds []time.Duration
		for range 21 {
			start := time.Now()
			time.Sleep(time.Millisecond)
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	assert.Less(t, median(), 5*time.Millisecond, "pollers spinning")

	pc, err := b.ListenPacket("udp", ":7450")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go pc.ReadFrom(make([]byte, 64)) // blocks: a caller spins in the poller's place
	time.Sleep(10 * time.Millisecond)
	assert.Less(t, median(), 5*time.Millisecond, "a blocked caller spinning")
}
