package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/zocket/zocket/eal"
)

// c2cLine is a cache line two threads bounce between them.
type c2cLine struct {
	_ [64]byte
	v atomic.Uint64
	_ [64]byte
}

// runC2C measures the round trip of one cache line between CPU c.cpu and CPU c.peer: the
// hardware floor under any shared-memory ping-pong (no DPDK, no EAL). It prints
//
//	c2c_ns n=N batch_min=… batch_p50=… batch_p90=…
//
// where each batch is the mean round trip of 1,000 consecutive ones.
func (c *config) runC2C(stdout io.Writer) error {
	var l c2cLine
	n := c.n
	if n <= 0 {
		n = 1_000_000
	}
	errc := make(chan error, 1)
	go func() {
		if err := eal.PinThread(c.peer); err != nil {
			errc <- err
			l.v.Store(^uint64(0))
			return
		}
		errc <- nil
		for i := uint64(1); i <= uint64(n); i++ {
			for l.v.Load() != 2*i-1 {
			}
			l.v.Store(2 * i)
		}
	}()
	if err := eal.PinThread(c.cpu); err != nil {
		return err
	}
	defer runtime.UnlockOSThread()
	if err := <-errc; err != nil {
		return err
	}
	batches := make([]float64, 0, n/1000+1)
	t0 := time.Now()
	for i := uint64(1); i <= uint64(n); i++ {
		l.v.Store(2*i - 1)
		for l.v.Load() != 2*i {
		}
		if i%1000 == 0 {
			t1 := time.Now()
			batches = append(batches, float64(t1.Sub(t0).Nanoseconds())/1000)
			t0 = t1
		}
	}
	if len(batches) == 0 {
		return fmt.Errorf("c2c: -n %d is less than one batch of 1000", n)
	}
	slices.Sort(batches)
	q := func(p float64) float64 { return batches[int(p*float64(len(batches)-1))] }
	fmt.Fprintf(stdout, "c2c_ns n=%d cpus=%d,%d batch_min=%.0f batch_p50=%.0f batch_p90=%.0f\n",
		n, c.cpu, c.peer, batches[0], q(.5), q(.9))
	return nil
}
