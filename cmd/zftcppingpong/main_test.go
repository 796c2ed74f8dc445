package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/internal/rtt"
)

func TestMain(m *testing.M) { ealtest.Main(m, nil) }

// TestPingAgainstLinuxEcho: a Linux TCP echo (socat … PIPE) answers zftcppingpong ping, polled
// and with a muxer; the summary has TCPDirect's table and the rtt_ns line.
func TestPingAgainstLinuxEcho(t *testing.T) {
	for i, extra := range [][]string{nil, {"-m", "-f", "-w"}} {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			k := lab.NewKernelForTool(t, 71+i)
			lab.Start(t, k.Command("socat", "-T", "30", "TCP4-LISTEN:7000,bind="+k.KernelIP, "PIPE"))
			var stdout, stderr strings.Builder
			hgrm := filepath.Join(t.TempDir(), "rtt.hgrm")
			args := append([]string{"-c", "-1", "-v", "-s", "32", "-i", "300", "-r", "20", "-hk", "1ms", "-hgrm", hgrm}, extra...)
			args = append(args, "ping", k.KernelIP+":7000")
			code := run(args, &stdout, &stderr, nil)
			require.Zero(t, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			out := stdout.String()
			assert.Contains(t, out, "mean round-trip time:")
			assert.Regexp(t, `(?m)^32 +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +300$`, out)
			assert.Regexp(t, `(?m)^rtt_ns n=300 min=\d+ mean=\d+ p50=\d+ p99=\d+ p999=\d+ max=\d+$`, out)
			f, err := os.Open(hgrm)
			require.NoError(t, err, "-hgrm wrote its file")
			defer f.Close()
			pts, err := rtt.ReadHgrm(f)
			require.NoError(t, err)
			assert.Equal(t, int64(300), pts[len(pts)-1].Count, "the measured round trips, not the warm-ups")
		})
	}
}

// TestPongEchoesAStream: socat sends 4 MiB through pong and writes what comes back; the two
// files are equal, and both ends close gracefully.
func TestPongEchoesAStream(t *testing.T) {
	k := lab.NewKernelForTool(t, 73)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	data := make([]byte, 4<<20)
	rand.Read(data)
	require.NoError(t, os.WriteFile(src, data, 0o644))
	var stop atomic.Bool
	var stdout, stderr lab.Output
	done := make(chan int, 1)
	go func() { done <- run([]string{"-c", "-1", "-v", "pong", k.StackIP + ":7001"}, &stdout, &stderr, &stop) }()
	time.Sleep(300 * time.Millisecond)
	out, err := k.Command("timeout", "20", "socat", "-b", "65536", "-t", "10", "OPEN:"+src+"!!CREATE:"+dst, "TCP4:"+k.StackIP+":7001").CombinedOutput()
	if err != nil {
		stop.Store(true)
		<-done
	}
	require.NoError(t, err, "%s\npong: %s", out, stderr.String())
	select {
	case code := <-done:
		require.Zero(t, code, "%s", stderr.String())
	case <-time.After(10 * time.Second):
		stop.Store(true)
		t.Fatalf("pong did not end: %s", stderr.String())
	}
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "echoed stream differs (%d bytes back)", len(got))
	assert.Contains(t, stderr.String(), fmt.Sprintf("pong: echoed %d bytes", len(data)))
}

// TestPongSpeaksSockperf: Linux's sockperf pp --tcp drives pong --sockperf.
func TestPongSpeaksSockperf(t *testing.T) {
	k := lab.NewKernelForTool(t, 74)
	var stop atomic.Bool
	var stdout, stderr lab.Output
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-c", "-1", "pong", "--sockperf", k.StackIP + ":11111"}, &stdout, &stderr, &stop)
	}()
	time.Sleep(300 * time.Millisecond)
	out, err := k.Command("sockperf", "pp", "--tcp", "-i", k.StackIP, "-p", "11111", "-m", "64", "-t", "1").CombinedOutput()
	stop.Store(true)
	code := <-done
	lab.CheckSockperfClient(t, out, err, code, stderr.String())
}

// TestPongStopsAgainstAZeroWindow: a sockperf client that asks for answers and never reads
// them fills the pong's send queue and holds its window shut; stop (SIGINT) still ends the
// pong, whose send loop used to ignore it, and -linger bounds its wait for the unsent echo,
// saying what it gave up on.
func TestPongStopsAgainstAZeroWindow(t *testing.T) {
	k := lab.NewKernelForTool(t, 75)
	const client = `
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
for _ in range(100):
    try:
        s.connect((sys.argv[1], 11112)); break
    except ConnectionRefusedError:
        import time; time.sleep(0.05)
msg = struct.pack(">QHI", 1, 3, 1024) + bytes(1010)
s.settimeout(2)
try:
    while True: s.sendall(msg)
except socket.timeout:
    print("blocked", flush=True)
sys.stdin.read()
`
	var stop atomic.Bool
	var stdout, stderr lab.Output
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-c", "-1", "-linger", "1s", "pong", "--sockperf", k.StackIP + ":11112"}, &stdout, &stderr, &stop)
	}()
	cmd := k.Command("python3", "-c", client, k.StackIP)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	out, _ := lab.Background(t, cmd)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "blocked") }, 20*time.Second, 10*time.Millisecond,
		"the client never blocked: %s\npong: %s", out, &stderr)
	stop.Store(true)
	select {
	case code := <-done:
		assert.Equal(t, 1, code, "%s", stderr.String())
		assert.Contains(t, stderr.String(), "-linger 1s passed")
	case <-time.After(15 * time.Second):
		t.Fatalf("pong did not end after stop: %s", stderr.String())
	}
}
