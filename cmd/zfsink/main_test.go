package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
)

func TestMain(m *testing.M) { ealtest.Main(m, nil) }

// runSink runs zfsink in the test process against a kernel peer and returns its output once it
// exits (after -n datagrams) or the deadline passes.
func runSink(t *testing.T, k *lab.Kernel, send *exec.Cmd, args ...string) (stdout, stderr string) {
	t.Helper()
	t.Setenv("ZF_ATTR", fmt.Sprintf("interface=%s;local_ip=%s/24;n_bufs=2047", k.Device(), k.StackIP))
	var stop atomic.Bool
	var o, e lab.Output
	done := make(chan int, 1)
	go func() { done <- run(append([]string{"-c", "-1"}, args...), &o, &e, &stop) }()
	time.Sleep(300 * time.Millisecond)
	out, err := send.CombinedOutput()
	require.NoError(t, err, "%s", out)
	select {
	case code := <-done:
		require.Zero(t, code, "%s\n%s", o.String(), e.String())
	case <-time.After(20 * time.Second):
		stop.Store(true)
		<-done
		t.Fatalf("zfsink did not finish:\n%s\n%s", o.String(), e.String())
	}
	return o.String(), e.String()
}

// TestSocatToSink: Linux's socat sends unicast datagrams to zfsink, which traces its calls and
// every datagram.
func TestSocatToSink(t *testing.T) {
	k := lab.NewKernel(t, 55)
	send := k.Command("sh", "-c", fmt.Sprintf(
		"for i in 1 2 3 4 5; do printf 'hello %%s' $i | socat -u - UDP4-SENDTO:%s:5000,sourceport=4000; done", k.StackIP))
	out, _ := runSink(t, k, send, "-n", "5", k.StackIP+":5000")
	assert.Contains(t, out, "zfur_alloc() = 0")
	assert.Contains(t, out, "zfur_addr_bind("+k.StackIP+":5000, invalid AddrPort) = 0")
	assert.Equal(t, 5, strings.Count(out, "zfur_zc_recv() = 1 iov, 7 bytes from "+k.KernelIP+":4000"), out)
	assert.Contains(t, out, "pkt-rate bandwidth(Mbps) total-pkts")
	assert.Contains(t, out, "zfsink: dgrams=5 bytes=35 ")
}

// TestMulticastToSink: a multicast sender in the namespace reaches zfsink joined to the group,
// quietly (-q) and through a muxer (-m).
func TestMulticastToSink(t *testing.T) {
	k := lab.NewKernel(t, 56)
	k.Exec(t, "ip", "route", "add", "224.0.0.0/4", "dev", k.PeerVeth)
	send := k.Command("sh", "-c", fmt.Sprintf(
		"for i in 1 2 3; do printf 'group %%s' $i | socat -u - UDP4-DATAGRAM:239.8.8.8:5000,ip-multicast-if=%s; done", k.KernelIP))
	out, _ := runSink(t, k, send, "-q", "-m", "-n", "3", "239.8.8.8:5000")
	assert.NotContains(t, out, "zfur_zc_recv", "-q")
	assert.Contains(t, out, "zfsink: dgrams=3 bytes=21 ")
}

func TestSinkRemoteFilter(t *testing.T) {
	k := lab.NewKernel(t, 57)
	send := k.Command("sh", "-c", fmt.Sprintf(
		"for p in 4001 4002 4001; do printf x | socat -u - UDP4-SENDTO:%s:5000,sourceport=$p; done", k.StackIP))
	out, _ := runSink(t, k, send, "-n", "2", k.StackIP+":5000", k.KernelIP+":4001")
	assert.Equal(t, 2, strings.Count(out, "from "+k.KernelIP+":4001"), out)
	assert.NotContains(t, out, ":4002")
}

func TestSinkParseErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"a:b"}, {"-m", "-w", "198.18.0.1:1"}, {"198.18.0.1:1", "2", "3"}} {
		var out strings.Builder
		assert.Equal(t, 2, run(args, &out, &out, nil), "%q", args)
	}
}

// TestWaitFDSink: with -w zfsink blocks in epoll_wait on the stack's waitable fd between bursts;
// net_tap is the virtual PMD with receive interrupts.
func TestWaitFDSink(t *testing.T) {
	k := lab.NewKernelTap(t, 58)
	t.Setenv("ZF_ATTR", fmt.Sprintf("interface=%s;local_ip=%s/24;n_bufs=2047", k.Device(), k.StackIP))
	var stop atomic.Bool
	var o, e lab.Output
	done := make(chan int, 1)
	go func() { done <- run([]string{"-c", "-1", "-w", "-n", "3", k.StackIP + ":5000"}, &o, &e, &stop) }()
	// The PMD creates the tap and raises it when the port starts; then it moves to the namespace.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("ip", "link", "show", "dev", k.Veth).CombinedOutput()
		if strings.Contains(string(out), ",UP") {
			break
		}
		require.True(t, time.Now().Before(deadline), "tap %s never came up: %s", k.Veth, out)
		time.Sleep(20 * time.Millisecond)
	}
	k.MoveTap(t)
	out, err := k.Command("sh", "-c", fmt.Sprintf(
		"sleep 0.3; for i in 1 2 3; do printf 'w%%s' $i | socat -u - UDP4-SENDTO:%s:5000; done", k.StackIP)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	select {
	case code := <-done:
		require.Zero(t, code, "%s\n%s", o.String(), e.String())
	case <-time.After(20 * time.Second):
		stop.Store(true)
		<-done
		t.Fatalf("zfsink -w did not finish:\n%s\n%s", o.String(), e.String())
	}
	assert.Contains(t, o.String(), "zf_waitable_fd_get() = ")
	assert.Contains(t, o.String(), "zfsink: dgrams=3 bytes=6 ")
}

// TestSinkServesMetrics scrapes a running zfsink over HTTP (-metrics on loopback) and finds the
// datagrams it received in the stack's counters.
func TestSinkServesMetrics(t *testing.T) {
	k := lab.NewKernel(t, 58)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("ZF_ATTR", fmt.Sprintf("interface=%s;local_ip=%s/24;n_bufs=2047;name=sink", k.Device(), k.StackIP))
	var stop atomic.Bool
	var o, e lab.Output
	done := make(chan int, 1)
	go func() { done <- run([]string{"-c", "-1", "-q", "-metrics", addr, k.StackIP + ":5000"}, &o, &e, &stop) }()
	defer func() { stop.Store(true); <-done }()
	time.Sleep(300 * time.Millisecond)
	out, err := k.Command("sh", "-c", fmt.Sprintf(
		"for i in 1 2 3 4; do printf x | socat -u - UDP4-SENDTO:%s:5000; done", k.StackIP)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `zocket_stack_delivered_total{stack="sink"} 4`)
	}, 10*time.Second, 100*time.Millisecond, "o=%s e=%s body=%s", o.String(), e.String(), body)
	assert.Contains(t, body, `stack="sink"`)
	assert.Contains(t, body, "zocket_reactor_")
}
