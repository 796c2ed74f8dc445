package gonet_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/gonet"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

// Tests against Linux: a gonet stack on a net_tap port whose interface the test moves into a
// namespace of its own, where curl, python3 and socat run (lab.NewKernelTap). net_tap has
// receive interrupts, so the default (sleeping) mode sleeps on the stack's waitable fd here.

// tapStack opens a gonet stack on net_tap facing a Linux namespace (subnet n).
func tapStack(t testing.TB, n int, opts ...gonet.Option) (*lab.Kernel, *gonet.Stack) {
	t.Helper()
	return tapStackAttr(t, n, nil, opts...)
}

// tapStackAttr is tapStack with further attributes (name, value pairs).
func tapStackAttr(t testing.TB, n int, kv []string, opts ...gonet.Option) (*lab.Kernel, *gonet.Stack) {
	t.Helper()
	k := lab.NewKernelTap(t, n)
	a := lab.Attr(t, append([]string{"interface", k.Device(), "local_ip", k.StackIP + "/24", "tcp_timewait_ms", "100",
		"max_tcp_endpoints", "256", "n_bufs", "8191"}, kv...)...)
	s, err := gonet.Open(a, append([]gonet.Option{gonet.WithLinger(time.Second)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	k.MoveTap(t)
	return k, s
}

// pattern is n pseudo-random bytes from seed, and their SHA-256 in hex.
func pattern(n int, seed uint64) ([]byte, string) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// TestHTTPServerCurl serves net/http on a gonet listener to Linux curl: a 64 MiB download
// verified by SHA-256, 1,000 requests on one keep-alive connection, and a graceful Shutdown
// while requests are in flight (they complete; new connections are refused afterwards).
func TestHTTPServerCurl(t *testing.T) {
	k, s := tapStack(t, 71)
	l, err := s.Listen("tcp", ":8080")
	require.NoError(t, err)
	big, bigSum := pattern(64<<20, 17)
	var inSlow atomic.Int32
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		inSlow.Add(1)
		<-release
		io.WriteString(w, "slow done\n")
	})
	var conns atomic.Int32
	srv := &http.Server{Handler: mux, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	base := "http://" + k.StackIP + ":8080"

	t.Run("64MiB", func(t *testing.T) {
		start := time.Now()
		out := k.Exec(t, "sh", "-c", "curl -sS --max-time 60 "+base+"/big | sha256sum")
		t.Logf("64 MiB in %v", time.Since(start))
		assert.Equal(t, bigSum, strings.Fields(out)[0])
	})

	t.Run("keepalive1000", func(t *testing.T) {
		before := conns.Load()
		urls := make([]string, 1000)
		for i := range urls {
			urls[i] = base + "/small"
		}
		start := time.Now()
		out := k.Exec(t, "curl", append([]string{"-sS", "--max-time", "60"}, urls...)...)
		t.Logf("1000 keep-alive requests in %v", time.Since(start))
		assert.Equal(t, strings.Repeat("ok\n", 1000), out)
		assert.Equal(t, int32(1), conns.Load()-before, "one connection for all of them")
	})

	t.Run("shutdown", func(t *testing.T) {
		const inFlight = 5
		var wg sync.WaitGroup
		outs := make([]string, inFlight)
		errs := make([]error, inFlight)
		for i := range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := k.Command("curl", "-sS", "--max-time", "20", base+"/slow").CombinedOutput()
				outs[i], errs[i] = string(b), err
			}()
		}
		deadline := time.Now().Add(10 * time.Second)
		for inSlow.Load() < inFlight {
			require.True(t, time.Now().Before(deadline), "requests did not arrive")
			time.Sleep(5 * time.Millisecond)
		}
		shut := make(chan error, 1)
		go func() { shut <- srv.Shutdown(context.Background()) }()
		require.ErrorIs(t, <-served, http.ErrServerClosed, "Serve returns at once")
		time.Sleep(50 * time.Millisecond)
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned with requests in flight: %v", err)
		default:
		}
		close(release)
		require.NoError(t, <-shut)
		wg.Wait()
		for i := range inFlight {
			assert.NoError(t, errs[i], "%s", outs[i])
			assert.Equal(t, "slow done\n", outs[i])
		}
		_, err := k.Command("curl", "-sS", "--max-time", "5", base+"/small").CombinedOutput()
		assert.Error(t, err, "the listener is closed")
	})
}

// TestHTTPClientPython fetches from python3's http.server in the namespace with net/http's
// client through http.Transport{DialContext: s.DialContext}.
func TestHTTPClientPython(t *testing.T) {
	k, s := tapStack(t, 72)
	dir := t.TempDir()
	data, sum := pattern(4<<20, 5)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "blob"), data, 0o644))
	lab.Start(t, k.Command("python3", "-m", "http.server", "-b", k.KernelIP, "-d", dir, "8000"))
	client := &http.Client{Transport: &http.Transport{DialContext: s.DialContext}, Timeout: 30 * time.Second}
	url := "http://" + k.KernelIP + ":8000/blob"
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = client.Get(url); err == nil { // python may still be starting
			break
		}
	}
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	h := sha256.New()
	_, err = io.Copy(h, resp.Body)
	require.NoError(t, err)
	assert.Equal(t, sum, hex.EncodeToString(h.Sum(nil)))
}

// TestPacketConnSocatEcho exchanges datagrams with a Linux UDP echo (socat), under deadlines,
// and checks that a read deadline ends a wait for an answer that does not come.
func TestPacketConnSocatEcho(t *testing.T) {
	k, s := tapStack(t, 73)
	lab.Start(t, k.Command("socat", "UDP4-RECVFROM:7000,bind="+k.KernelIP+",fork", "PIPE"))
	pc, err := s.ListenPacket("udp", ":6000")
	require.NoError(t, err)
	defer pc.Close()
	echo := &net.UDPAddr{IP: net.ParseIP(k.KernelIP), Port: 7000}
	buf := make([]byte, 2048)
	got := 0
	for i := 0; i < 20; i++ {
		msg := fmt.Sprintf("datagram %d", i)
		require.NoError(t, pc.SetWriteDeadline(time.Now().Add(time.Second)))
		_, err := pc.WriteTo([]byte(msg), echo)
		require.NoError(t, err)
		require.NoError(t, pc.SetReadDeadline(time.Now().Add(500*time.Millisecond)))
		n, from, err := pc.ReadFrom(buf)
		if err != nil { // socat may not be bound yet, or the first datagram waited for ARP
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			continue
		}
		assert.Equal(t, msg, string(buf[:n]))
		assert.Equal(t, echo.String(), from.String())
		got++
	}
	assert.GreaterOrEqual(t, got, 15)

	// Nothing answers port 7001: the deadline ends the read.
	_, err = pc.WriteTo([]byte("nobody"), &net.UDPAddr{IP: net.ParseIP(k.KernelIP), Port: 7001})
	require.NoError(t, err)
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	start := time.Now()
	_, _, err = pc.ReadFrom(buf)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.InDelta(t, 100, float64(time.Since(start).Milliseconds()), 400)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
}

// TestPacketConnMulticastLinux joins a group and receives what a Linux sender in the namespace
// sends to it.
func TestPacketConnMulticastLinux(t *testing.T) {
	k, s := tapStack(t, 74)
	pc, err := s.ListenPacket("udp", ":7300")
	require.NoError(t, err)
	defer pc.Close()
	require.NoError(t, pc.(*gonet.PacketConn).JoinGroup(netip.MustParseAddr("239.1.2.3")))
	script := fmt.Sprintf(`import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(%q))
for i in range(100):
    s.sendto(b"mc %%d" %% i, ("239.1.2.3", 7300))
    time.sleep(0.02)
`, k.KernelIP)
	lab.Start(t, k.Command("python3", "-c", script))
	buf := make([]byte, 64)
	got := 0
	require.NoError(t, pc.SetReadDeadline(time.Now().Add(5*time.Second)))
	for got < 10 {
		n, from, err := pc.ReadFrom(buf)
		require.NoError(t, err, "received %d", got)
		assert.True(t, strings.HasPrefix(string(buf[:n]), "mc "), "%q", buf[:n])
		assert.Equal(t, k.KernelIP, from.(*net.UDPAddr).IP.String())
		got++
	}
}

// TestHTTPServerAB serves net/http on a stack with the default attributes (64 endpoints, a
// SYN backlog of 32, 60 s of TIME-WAIT) to ApacheBench in the namespace, one connection per
// request: 3,000 requests 20 at a time, where the server closes first and every connection
// ends in TIME-WAIT, and 1,000 requests 100 at a time, more than the backlog and the
// endpoints. Every request must succeed: closed connections in TIME-WAIT give their endpoints
// to new ones (TimeWaitRecycled), a client reusing a port reopens its TIME-WAIT (RFC 6191),
// and SYNs beyond the backlog get SYN cookies. Before, the first run stalled after 64
// connections (SYNs dropped for a minute) and lost requests to ports reused with a lower ISN,
// and the second reset handshakes evicted from the backlog.
func TestHTTPServerAB(t *testing.T) {
	if _, err := exec.LookPath("ab"); err != nil {
		t.Fatal("ab (apache2-utils) is missing: run scripts/setup")
	}
	k := lab.NewKernelTap(t, 72)
	s, err := gonet.Open(lab.Attr(t, "interface", k.Device(), "local_ip", k.StackIP+"/24"), gonet.WithLinger(time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	k.MoveTap(t)
	l, err := s.Listen("tcp", ":8080")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })}
	go srv.Serve(l)
	defer srv.Close()
	for _, tc := range []struct{ n, c int }{{3000, 20}, {1000, 100}} {
		out := k.Exec(t, "ab", "-q", "-s", "20", "-n", fmt.Sprint(tc.n), "-c", fmt.Sprint(tc.c), "http://"+k.StackIP+":8080/")
		assert.Contains(t, out, fmt.Sprintf("Complete requests:      %d\n", tc.n), "-n %d -c %d", tc.n, tc.c)
		assert.Contains(t, out, "Failed requests:        0\n", "-n %d -c %d", tc.n, tc.c)
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "Requests per second") {
				t.Logf("-n %d -c %d: %s", tc.n, tc.c, line)
			}
		}
	}
	require.NoError(t, s.Do(func(st *stack.Stack) {
		c := tcp.StackCounters(st)
		// SynCookiesFailed may count a few: a late segment of a connection whose TIME-WAIT was
		// recycled reaches the listener as a stray ACK while cookies are recent.
		t.Logf("TIME-WAIT recycled %d, SYN cookies sent %d, valid %d, failed %d",
			c.TimeWaitRecycled, c.SynCookiesSent, c.SynCookiesRecv, c.SynCookiesFailed)
		assert.NotZero(t, c.TimeWaitRecycled)
		assert.NotZero(t, c.SynCookiesRecv)
	}))
}

// TestCloseWhileKicking closes a stack in sleeping mode (net_tap: it sleeps on its waitable fd
// and an eventfd that callers write) while callers keep it busy. Close's own kick, after it
// stops the poller, raced the poller's close of the eventfd (-race saw it; a late kick could
// write to a reused descriptor).
func TestCloseWhileKicking(t *testing.T) {
	for range 5 {
		_, s := tapStack(t, 73)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for s.Do(func(*stack.Stack) {}) == nil {
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, s.Close())
		wg.Wait()
	}
}
