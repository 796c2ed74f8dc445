package main

import (
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

// TestPingAgainstLinuxEcho: a Linux UDP echo (socat) answers zfudppingpong ping, polled and with
// a muxer; the summary has TCPDirect's table and the rtt_ns line.
func TestPingAgainstLinuxEcho(t *testing.T) {
	for i, extra := range [][]string{nil, {"-m", "-f", "-R"}} {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			k := lab.NewKernelForTool(t, 51+i)
			lab.Start(t, k.Command("socat", "-T", "30", "UDP4-LISTEN:7000,bind="+k.KernelIP, "PIPE"))
			time.Sleep(100 * time.Millisecond)
			var stdout, stderr strings.Builder
			args := append([]string{"-c", "-1", "-v", "-s", "32", "-i", "300", "-r", "20", "-hk", "1ms"}, extra...)
			args = append(args, "ping", k.StackIP+":6000", k.KernelIP+":7000")
			code := run(args, &stdout, &stderr, nil)
			require.Zero(t, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			out := stdout.String()
			assert.Contains(t, out, "mean round-trip time:")
			assert.Contains(t, out, "size       mean      min   median      max     %ile   stddev       iter")
			assert.Regexp(t, `(?m)^32 +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +300$`, out)
			assert.Regexp(t, `(?m)^rtt_ns n=300 min=\d+ mean=\d+ p50=\d+ p99=\d+ p999=\d+ max=\d+$`, out)
			assert.Regexp(t, `num_gc_before=(\d+) num_gc_after=(\d+)`, stderr.String())
		})
	}
}

// TestPongSpeaksSockperf: Linux's sockperf pp, a client nobody here wrote, drives pong --sockperf.
func TestPongSpeaksSockperf(t *testing.T) {
	k := lab.NewKernelForTool(t, 53)
	var stop atomic.Bool
	var stdout, stderr lab.Output
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-c", "-1", "-idle", "0", "pong", "--sockperf", k.StackIP + ":11111"}, &stdout, &stderr, &stop)
	}()
	time.Sleep(300 * time.Millisecond)
	out, err := k.Command("sockperf", "pp", "-i", k.StackIP, "-p", "11111", "-m", "64", "-t", "1").CombinedOutput()
	stop.Store(true)
	code := <-done
	require.NoError(t, err, "%s", out)
	require.Zero(t, code, "%s", stderr.String())
	s := string(out)
	assert.Regexp(t, `ReceivedMessages=[1-9]\d*`, s)
	assert.Contains(t, s, "# dropped messages = 0")
	assert.Contains(t, s, "percentile 50.000")
	assert.Contains(t, stderr.String(), "pong: echoed")
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"ping", "198.18.0.1:1"},
		{"bounce", "198.18.0.1:1", "198.18.0.2:1"},
		{"--sockperf", "ping", "198.18.0.1:1", "198.18.0.2:1"},
		{"-p", "0", "ping", "198.18.0.1:1", "198.18.0.2:1"},
		{"ping", "nonsense", "198.18.0.2:1"},
	} {
		var out strings.Builder
		assert.Equal(t, 2, run(args, &out, &out, nil), "%q", args)
	}
	c, err := parse([]string{"pong", "--sockperf", "-s", "14", "198.18.0.1:1"}, &strings.Builder{})
	require.NoError(t, err, "flags after the mode, as `pong --sockperf` is written")
	assert.True(t, c.sockperf)
	assert.Equal(t, 14, c.size)
	assert.Zero(t, c.wait, "a pong waits for its first ping forever")
	c, err = parse([]string{"ping", "198.18.0.1:1", "198.18.0.2:1"}, &strings.Builder{})
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, c.wait, "a ping gives up")
}
