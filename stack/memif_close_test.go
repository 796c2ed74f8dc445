package stack_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// TestMemifPairCloseUnderLoad opens two stacks on the two ends of a net_memif pair in this
// process, lets them connect, and closes them one right after the other while other goroutines
// keep both CPUs busy. Closing the first sends the second a disconnect that EAL's interrupt
// thread handles while the second is being closed; in DPDK 22.11 the two memif_disconnect
// calls freed the regions twice or under each other and the interrupt thread faulted (SIGSEGV,
// the whole test binary gone). dpdk.Port.Close now closes memif ports on that thread. A
// stress test: without the fix, about one run in four of these 150 rounds crashed here.
func TestMemifPairCloseUnderLoad(t *testing.T) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for i := range 150 {
		srv, cli := lab.MemifPorts(t)
		mk := func(port, ip, mac string) *stack.Stack {
			s, err := stack.New(lab.Attr(t, "interface", port, "local_ip", ip+"/24", "mac", mac))
			require.NoError(t, err)
			return s
		}
		a := mk(srv.Name(), "198.18.0.1", "02:00:00:00:00:01")
		b := mk(cli.Name(), "198.18.0.2", "02:00:00:00:00:02")
		for deadline := time.Now().Add(5 * time.Second); ; {
			la, _ := srv.Link()
			lb, _ := cli.Link()
			if la.Up && lb.Up {
				break
			}
			require.True(t, time.Now().Before(deadline), "round %d: memif never connected", i)
			a.Perform()
			b.Perform()
			time.Sleep(100 * time.Microsecond)
		}
		require.NoError(t, a.Close())
		require.NoError(t, b.Close())
	}
}
