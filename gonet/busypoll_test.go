package gonet_test

import (
	"io"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestParkedCallerTakesOver: in busy-poll mode, when the caller spinning in the poller's place
// leaves (its data came), a caller still parked takes its place, so that it is not left to the
// napping poller: its wake-up used to wait for the rest of a 1 ms nap (660 µs at the median).
func TestParkedCallerTakesOver(t *testing.T) {
	a, b := ringPair(t, gonet.WithWaitMode(gonet.BusyPoll))
	l, err := b.Listen("tcp", ":7470")
	require.NoError(t, err)
	defer l.Close()
	x1, x2, err := connPair(t, a, b, l)
	require.NoError(t, err)
	y1, y2, err := connPair(t, a, b, l)
	require.NoError(t, err)
	gotX, gotY := make(chan error, 1), make(chan error, 1)
	go func() { _, err := io.ReadFull(x2, make([]byte, 1)); gotX <- err }()
	require.Eventually(t, b.Spinning, 5*time.Second, time.Millisecond, "x2's reader spins")
	go func() { _, err := io.ReadFull(y2, make([]byte, 1)); gotY <- err }()
	time.Sleep(10 * time.Millisecond) // y2's reader parks
	_, err = x1.Write([]byte{1})
	require.NoError(t, err)
	require.NoError(t, <-gotX)
	assert.Eventually(t, b.Spinning, 5*time.Second, time.Millisecond, "y2's reader spins in its place")
	_, err = y1.Write([]byte{1})
	require.NoError(t, err)
	require.NoError(t, <-gotY)
	for _, c := range []net.Conn{x1, x2, y1, y2} {
		c.Close()
	}
}
