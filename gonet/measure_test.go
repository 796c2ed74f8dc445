package gonet_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	osexec "os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zocket/zocket/gonet"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

// Measurements, gated by ZOCKET_MEASURE=1 so that CI does not pay for them:
//
//	ZOCKET_MEASURE=1 flock /tmp/zlab.lock go test ./gonet -run TestMeasure -v -count=1
//
// TestMeasureRTT: 64-byte TCP ping-pong round trips over net_memif with the zf API (one
// goroutine polling both stacks, then a goroutine per stack), with gonet in busy-poll mode (a
// goroutine per side), and with Go's net over a veth between the test's namespace and another.
// TestMeasureHTTP: net/http requests per second, the same server code on a gonet listener over
// net_tap and on a kernel listener over a veth, curl in the namespace asking for N keep-alive
// requests on CPU 1; for one core each side, run it as
//
//	ZOCKET_MEASURE=1 flock /tmp/zlab.lock taskset -c 0 go test ./gonet -run TestMeasureHTTP -v -count=1
//
// (the test logs the CPUs the server may use).
// TestMeasureParkedWake: in busy-poll mode, the wake-up of a reader parked while another spun.
// TestMeasureIdleCPU: the CPU an idle gonet stack uses in sleeping mode, on net_tap (waitable
// fd) and on net_ring (naps).

const rttRounds = 20000

func measuring(t *testing.T) {
	if os.Getenv("ZOCKET_MEASURE") == "" {
		t.Skip("set ZOCKET_MEASURE=1")
	}
}

// percentiles reports p50 and p99 of ds.
func percentiles(ds []time.Duration) string {
	slices.Sort(ds)
	return fmt.Sprintf("p50 %v p99 %v (n=%d)", ds[len(ds)/2], ds[len(ds)*99/100], len(ds))
}

// pingPong measures rounds round trips of 64 bytes on c against an echo at the other end.
func pingPong(t *testing.T, c net.Conn) []time.Duration {
	msg := make([]byte, 64)
	ds := make([]time.Duration, 0, rttRounds)
	for i := 0; i < rttRounds+1000; i++ {
		start := time.Now()
		_, err := c.Write(msg)
		require.NoError(t, err)
		_, err = io.ReadFull(c, msg)
		require.NoError(t, err)
		if i >= 1000 { // warm-up
			ds = append(ds, time.Since(start))
		}
	}
	return ds
}

// echo copies what c receives back to it until an error.
func echo(c net.Conn) {
	buf := make([]byte, 64)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

func TestMeasureRTT(t *testing.T) {
	measuring(t)
	t.Run("native", func(t *testing.T) {
		t.Log("zf API over net_memif, one goroutine polling both stacks: " + percentiles(nativeRTT(t, false)))
	})
	t.Run("native-split", func(t *testing.T) {
		t.Log("zf API over net_memif, a goroutine per stack: " + percentiles(nativeRTT(t, true)))
	})
	t.Run("gonet", func(t *testing.T) {
		a, b := memifPair(t, gonet.WithWaitMode(gonet.BusyPoll))
		l, err := b.Listen("tcp", ":7600")
		require.NoError(t, err)
		c1, c2, err := connPair(t, a, b, l)
		require.NoError(t, err)
		go echo(c2)
		t.Log("gonet busy-poll over net_memif: " + percentiles(pingPong(t, c1)))
		c1.Close()
	})
	t.Run("kernel", func(t *testing.T) {
		k := lab.NewKernel(t, 75)
		out, err := run("ip", "addr", "add", k.StackIP+"/24", "dev", k.Veth)
		require.NoError(t, err, out)
		var l net.Listener
		inNS(t, k.NS, func() { l, err = net.Listen("tcp", k.KernelIP+":7700") })
		require.NoError(t, err)
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				echo(c)
			}
		}()
		c, err := net.Dial("tcp", k.KernelIP+":7700")
		require.NoError(t, err)
		defer c.Close()
		t.Log("Go net over a veth: " + percentiles(pingPong(t, c)))
	})
}

// nativeRTT is the ping-pong with the zf API on two stacks over net_memif: one goroutine
// polling both (split false), or a goroutine per side, each polling its own stack on its own
// thread (split true: the shape of gonet's busy-poll, where each side spins on its own core).
func nativeRTT(t *testing.T, split bool) []time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	srv, cli := lab.MemifPorts(t)
	mk := func(port, ip, mac string) *stack.Stack {
		s, err := stack.New(lab.Attr(t, "interface", port, "local_ip", ip+"/24", "mac", mac, "n_bufs", "8191"))
		require.NoError(t, err)
		return s
	}
	a, b := mk(srv.Name(), ipA, "02:00:00:00:00:01"), mk(cli.Name(), ipB, "02:00:00:00:00:02")
	l, err := tcp.Listen(b, netip.MustParseAddrPort(ipB+":7800"), nil)
	require.NoError(t, err)
	var c, s *tcp.Conn
	for deadline := time.Now().Add(10 * time.Second); c == nil || c.State() != tcp.StateEstablished || s == nil; {
		require.True(t, time.Now().Before(deadline), "no connection over memif")
		if c == nil || c.State() == tcp.StateClose {
			h, err := tcp.NewHandle(a, nil)
			require.NoError(t, err)
			c, err = h.Connect(netip.MustParseAddrPort(ipB + ":7800"))
			require.NoError(t, err)
		}
		a.Perform()
		b.Perform()
		if s == nil {
			s, _ = l.Accept()
		}
	}
	// recv polls sts until z has received 64 bytes into buf.
	recv := func(z *tcp.Conn, buf []byte, sts ...*stack.Stack) {
		iov := [][]byte{nil}
		for got := 0; got < 64; {
			for _, st := range sts {
				st.Perform()
			}
			iov[0] = buf[got:]
			if n, err := z.Recv(iov); err == nil {
				got += n
			}
		}
	}
	msg, buf := make([]byte, 64), make([]byte, 64)
	polled := []*stack.Stack{a, b}
	done := make(chan struct{})
	if split {
		polled = polled[:1]
		go func() { // the echo side, on its own thread
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer close(done)
			ebuf := make([]byte, 64)
			for i := 0; i < rttRounds+1000; i++ {
				recv(s, ebuf, b)
				if _, err := s.SendSingle(ebuf, 0); err != nil {
					return
				}
			}
		}()
	}
	ds := make([]time.Duration, 0, rttRounds)
	for i := 0; i < rttRounds+1000; i++ {
		start := time.Now()
		_, err := c.SendSingle(msg, 0)
		require.NoError(t, err)
		if !split {
			recv(s, buf, polled...)
			_, err = s.SendSingle(buf, 0)
			require.NoError(t, err)
		}
		recv(c, msg, polled...)
		if i >= 1000 {
			ds = append(ds, time.Since(start))
		}
	}
	if split {
		<-done
	}
	c.Close()
	s.Close()
	l.Close()
	for i := 0; i < 10000; i++ {
		a.Perform()
		b.Perform()
	}
	stack.Shutdown(a, 100*time.Millisecond)
	stack.Shutdown(b, 100*time.Millisecond)
	return ds
}

// inNS runs f on a thread in network namespace ns (sockets made there stay there), then puts
// the thread back.
func inNS(t *testing.T, ns string, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(orig)
	fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	require.NoError(t, unix.Setns(fd, syscall.CLONE_NEWNET))
	f()
	require.NoError(t, unix.Setns(orig, syscall.CLONE_NEWNET))
}

// run runs a command in the test's namespace and returns its combined output.
func run(name string, args ...string) (string, error) {
	out, err := osexec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// httpRate serves small responses on l and reports the requests per second of curl in k's
// namespace asking n keep-alive requests of url, pinned to CPU 1, best of three.
func httpRate(t *testing.T, k *lab.Kernel, l net.Listener, url string, n int) float64 {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })}
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	urls := make([]string, n)
	for i := range urls {
		urls[i] = url
	}
	best := 0.0
	for range 3 {
		start := time.Now()
		out := k.Exec(t, "taskset", append([]string{"-c", "1", "curl", "-sS", "--max-time", "60"}, urls...)...)
		el := time.Since(start)
		require.Equal(t, n, strings.Count(out, "ok\n"))
		best = max(best, float64(n)/el.Seconds())
	}
	return best
}

func TestMeasureHTTP(t *testing.T) {
	measuring(t)
	const n = 5000
	var cpus unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &cpus))
	t.Logf("server on %d CPU(s), GOMAXPROCS %d", cpus.Count(), runtime.GOMAXPROCS(0))
	t.Run("gonet", func(t *testing.T) {
		for _, mode := range waitModes {
			k, s := tapStackAttr(t, 76+int(mode), []string{"cpu", "0"}, gonet.WithWaitMode(mode)) // curl on CPU 1
			l, err := s.Listen("tcp", ":8080")
			require.NoError(t, err)
			t.Logf("net/http on gonet over net_tap (mode %d): %.0f requests/s", mode, httpRate(t, k, l, "http://"+k.StackIP+":8080/", n))
		}
	})
	t.Run("kernel", func(t *testing.T) {
		k := lab.NewKernel(t, 78)
		out, err := run("ip", "addr", "add", k.StackIP+"/24", "dev", k.Veth)
		require.NoError(t, err, out)
		l, err := net.Listen("tcp", k.StackIP+":8080")
		require.NoError(t, err)
		t.Logf("net/http on Go net over a veth: %.0f requests/s", httpRate(t, k, l, "http://"+k.StackIP+":8080/", n))
	})
}

// cpuTime is the process's user and system CPU time.
func cpuTime(t *testing.T) time.Duration {
	var ru unix.Rusage
	require.NoError(t, unix.Getrusage(unix.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idleCPU is the share of a core the process used over d.
func idleCPU(t *testing.T, d time.Duration) float64 {
	time.Sleep(500 * time.Millisecond) // settle
	c0, w0 := cpuTime(t), time.Now()
	time.Sleep(d)
	return float64(cpuTime(t)-c0) / float64(time.Since(w0)) * 100
}

func TestMeasureIdleCPU(t *testing.T) {
	measuring(t)
	t.Run("tap", func(t *testing.T) {
		tapStack(t, 79)
		t.Logf("idle gonet stack, sleeping on net_tap's waitable fd: %.2f %% of a core", idleCPU(t, 5*time.Second))
	})
	t.Run("ring", func(t *testing.T) {
		ringPair(t)
		t.Logf("two idle gonet stacks, napping on net_ring (no waitable fd): %.2f %% of a core for both", idleCPU(t, 5*time.Second))
	})
}

// TestMeasureParkedWake: busy-poll mode, two connections on one stack, a reader on each; the
// first spins in the poller's place and leaves when its byte comes; how long until the second,
// parked, has the byte sent to it 50 µs later (it takes over the spinning: handBack).
func TestMeasureParkedWake(t *testing.T) {
	measuring(t)
	a, b := memifPair(t, gonet.WithWaitMode(gonet.BusyPoll))
	l, err := b.Listen("tcp", ":7470")
	require.NoError(t, err)
	x1, x2, err := connPair(t, a, b, l)
	require.NoError(t, err)
	y1, y2, err := connPair(t, a, b, l)
	require.NoError(t, err)
	// On b: a goroutine reading x2 (spins first), then one reading y2 (parked). x2 gets a byte
	// and its reader goes away; then y2 gets a byte: how long until its reader has it?
	var ds []time.Duration
	for range 200 {
		gotX := make(chan struct{})
		gotY := make(chan time.Time, 1)
		go func() { buf := make([]byte, 1); io.ReadFull(x2, buf); close(gotX) }()
		time.Sleep(200 * time.Microsecond)
		go func() { buf := make([]byte, 1); io.ReadFull(y2, buf); gotY <- time.Now() }()
		time.Sleep(200 * time.Microsecond)
		x1.Write([]byte{1})
		<-gotX
		time.Sleep(50 * time.Microsecond)
		start := time.Now()
		y1.Write([]byte{1})
		ds = append(ds, (<-gotY).Sub(start))
	}
	slices.Sort(ds)
	t.Logf("a parked reader's wake-up after the spinner left: p50 %v p90 %v max %v (n=200)", ds[100], ds[180], ds[199])
}
