package stack_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

func readable(t testing.TB, fd int, within time.Duration) bool {
	evs := make([]unix.EpollEvent, 1)
	for {
		n, err := unix.EpollWait(fd, evs, int(within/time.Millisecond))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		require.NoError(t, err)
		return n > 0
	}
}

// tapStack is a stack on a net_tap port whose kernel side is in a namespace of its own
// (subnet n), and the stack's waitable fd.
func tapStack(t *testing.T, n int) (*lab.Kernel, *stack.Stack, int) {
	k := lab.NewKernelTap(t, n)
	port, err := dpdk.Probe(k.Device())
	require.NoError(t, err)
	a := lab.NewStack(t, port, lab.Attr(t, "local_ip", k.StackIP+"/24"))
	k.MoveTap(t)
	fd, err := a.WaitFD()
	require.NoError(t, err)
	return k, a, fd
}

func TestWaitFD(t *testing.T) {
	k, a, fd := tapStack(t, 11)
	again, _ := a.WaitFD()
	assert.Equal(t, fd, again)

	for a.Perform(); !a.IsQuiescent(); a.Perform() {
	}
	require.NoError(t, a.PrimeWaitFD())
	// The kernel may still be settling (IPv6 is off; nothing else talks): allow one stray wake.
	if readable(t, fd, 50*time.Millisecond) {
		a.Perform()
		require.NoError(t, a.PrimeWaitFD())
		assert.False(t, readable(t, fd, 50*time.Millisecond), "idle stack: nothing wakes the fd")
	}

	// Frames from the kernel wake it: three pings 200 ms apart, the stack asleep in between.
	ping := k.Command("ping", "-c", "3", "-i", "0.2", "-W", "2", k.StackIP)
	require.NoError(t, ping.Start())
	woke := 0
	done := make(chan error, 1)
	go func() { done <- ping.Wait() }()
	for finished := false; !finished; {
		require.NoError(t, a.PrimeWaitFD())
		if readable(t, fd, 300*time.Millisecond) {
			woke++
		}
		for i := 0; i < 100; i++ {
			a.Perform()
		}
		select {
		case err := <-done:
			require.NoError(t, err, "ping answered through fd wake-ups")
			finished = true
		default:
		}
	}
	assert.GreaterOrEqual(t, woke, 3, "woken for each echo request")
	assert.Equal(t, uint64(3), a.Counters().TxEchoReplies)

	// A due timer wakes it: resolving a silent host retries after arp_reply_timeout (1 ms).
	_, ok := a.Resolve([4]byte{198, 19, 11, 99})
	require.False(t, ok)
	a.Perform()
	require.NoError(t, a.PrimeWaitFD())
	start := time.Now()
	assert.True(t, readable(t, fd, time.Second), "the ARP retry timer wakes the fd")
	assert.Less(t, time.Since(start), 900*time.Millisecond, "woken by the timer, not by the 1 s epoll timeout")
}

// TestPrimeWaitFDKeepsQueuedFrames primes the fd while a frame already waits in net_tap's
// queue. net_tap's interrupt fd is the queue's own fd: priming must not read it (each read
// would take a frame off the queue), and its poll after arming must handle that frame.
func TestPrimeWaitFDKeepsQueuedFrames(t *testing.T) {
	k, a, fd := tapStack(t, 13)
	// One ping while polling, so that the kernel knows our MAC and the next ping is one frame.
	_, done := lab.Background(t, k.Command("ping", "-c", "1", "-W", "5", k.StackIP))
	lab.Poll(t, a, 10*time.Second, "first ping", func() bool { return len(done) > 0 })
	require.NoError(t, <-done)
	for a.Perform(); !a.IsQuiescent(); a.Perform() {
	}
	require.NoError(t, a.PrimeWaitFD())
	for readable(t, fd, 50*time.Millisecond) { // settle stray wake-ups
		a.Perform()
		require.NoError(t, a.PrimeWaitFD())
	}

	out, done := lab.Background(t, k.Command("ping", "-c", "1", "-W", "2", k.StackIP))
	require.True(t, readable(t, fd, 2*time.Second), "the echo request wakes the fd")
	require.NoError(t, a.PrimeWaitFD(), "primed again with the request still queued")
	lab.Poll(t, a, 10*time.Second, "second ping", func() bool { return len(done) > 0 })
	assert.NoError(t, <-done, "the queued echo request was answered: %s", out)
	assert.Equal(t, uint64(2), a.Counters().TxEchoReplies)
}

func TestWaitFDWithoutInterrupts(t *testing.T) {
	r := lab.NewRaw(t)
	_, err := r.S.WaitFD()
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ENOTSUP))
	assert.Contains(t, err.Error(), "no receive interrupts")
	assert.True(t, errors.Is(r.S.PrimeWaitFD(), syscall.EINVAL))
}

// BenchmarkWaitFDWakeup measures what blocking in epoll on the waitable fd costs against
// spinning: Linux's ping in a namespace (over net_tap) times round trips to a stack that either
// spins on Perform or sleeps in epoll_wait on its waitable fd between packets. The difference of
// the two averages is the wake-up latency (a system call, a scheduler wake-up, the tap's queue
// signal). Run: go test ./stack -run '^$' -bench WaitFDWakeup -benchtime 1x
func BenchmarkWaitFDWakeup(b *testing.B) {
	k := lab.NewKernelTap(b, 12)
	port, err := dpdk.Probe(k.Device())
	require.NoError(b, err)
	s := lab.NewStack(b, port, lab.Attr(b, "local_ip", k.StackIP+"/24"))
	s.SetClock(nil)
	k.MoveTap(b)
	fd, err := s.WaitFD()
	require.NoError(b, err)
	avgRTT := func(block bool) float64 {
		ping := k.Command("ping", "-q", "-c", "300", "-i", "0.002", k.StackIP)
		var out strings.Builder
		ping.Stdout = &out
		require.NoError(b, ping.Start())
		done := make(chan error, 1)
		go func() { done <- ping.Wait() }()
		for {
			select {
			case err := <-done:
				require.NoError(b, err, out.String())
				// rtt min/avg/max/mdev = 0.030/0.041/0.090/0.008 ms
				line := out.String()[strings.Index(out.String(), "rtt "):]
				var mn, avg float64
				fmt.Sscanf(line[strings.Index(line, "= ")+2:], "%f/%f", &mn, &avg)
				b.Logf("block=%v: %s", block, strings.TrimSpace(line))
				return avg * 1e6
			default:
			}
			if block {
				require.NoError(b, s.PrimeWaitFD())
				readable(b, fd, 10*time.Millisecond)
			}
			for i := 0; i < 64; i++ {
				s.Perform()
			}
		}
	}
	avgRTT(false) // ARP and warm-up
	spin, block := avgRTT(false), avgRTT(true)
	b.ReportMetric(spin, "ns/rtt-spin")
	b.ReportMetric(block, "ns/rtt-waitfd")
	b.ReportMetric(block-spin, "ns/wakeup")
}
