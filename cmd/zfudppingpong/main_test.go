package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

// TestPingAgainstLinuxEcho: a Linux UDP echo (socat) answers zfudppingpong ping, polled and with
// a muxer; the summary has TCPDirect's table and the rtt_ns line.
func TestPingAgainstLinuxEcho(t *testing.T) {
	for i, extra := range [][]string{nil, {"-m", "-f", "-R"}} {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			k := lab.NewKernelForTool(t, 51+i)
			lab.Start(t, k.Command("socat", "-T", "30", "UDP4-LISTEN:7000,bind="+k.KernelIP, "PIPE"))
			time.Sleep(100 * time.Millisecond)
			var stdout, stderr strings.Builder
			hgrm := filepath.Join(t.TempDir(), "rtt.hgrm")
			args := append([]string{"-c", "-1", "-v", "-s", "32", "-i", "300", "-r", "20", "-hk", "1ms", "-hgrm", hgrm}, extra...)
			args = append(args, "ping", k.StackIP+":6000", k.KernelIP+":7000")
			code := run(args, &stdout, &stderr, nil)
			require.Zero(t, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			out := stdout.String()
			assert.Contains(t, out, "mean round-trip time:")
			assert.Contains(t, out, "size       mean      min   median      max     %ile   stddev       iter")
			assert.Regexp(t, `(?m)^32 +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +300$`, out)
			assert.Regexp(t, `(?m)^rtt_ns n=300 min=\d+ mean=\d+ p50=\d+ p99=\d+ p999=\d+ max=\d+$`, out)
			f, err := os.Open(hgrm)
			require.NoError(t, err, "-hgrm wrote its file")
			defer f.Close()
			pts, err := rtt.ReadHgrm(f)
			require.NoError(t, err)
			assert.Equal(t, int64(300), pts[len(pts)-1].Count, "the measured round trips, not the warm-ups")
			assert.Regexp(t, `num_gc_before=(\d+) num_gc_after=(\d+)`, stderr.String())
		})
	}
}

// spoofSockperf sends one sockperf pong request to addr:port from each of n source ports of
// the namespace, closing each socket at once: n clients that never come back.
const spoofSockperf = `import socket, struct, sys
ip, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 30000 + i))
    s.sendto(struct.pack(">QHI", i, 3, 14), (dst, port))
    s.close()
`

// TestPongSpeaksSockperf: Linux's sockperf pp, a client nobody here wrote, drives pong
// --sockperf; after 100 sources that send once and vanish (spoofed clients) it is still
// answered, the pong keeping at most maxSockperfPeers transmitters.
func TestPongSpeaksSockperf(t *testing.T) {
	for i, spoofed := range []int{0, 100} {
		t.Run(fmt.Sprintf("spoofed=%d", spoofed), func(t *testing.T) {
			k := lab.NewKernelForTool(t, 53+i)
			var stop atomic.Bool
			var stdout, stderr lab.Output
			done := make(chan int, 1)
			go func() {
				done <- run([]string{"-c", "-1", "-idle", "0", "pong", "--sockperf", k.StackIP + ":11111"}, &stdout, &stderr, &stop)
			}()
			time.Sleep(300 * time.Millisecond)
			if spoofed > 0 {
				k.Exec(t, "python3", "-c", spoofSockperf, k.KernelIP, k.StackIP, "11111", strconv.Itoa(spoofed))
			}
			out, err := k.Command("sockperf", "pp", "-i", k.StackIP, "-p", "11111", "-m", "64", "-t", "1").CombinedOutput()
			stop.Store(true)
			code := <-done
			lab.CheckSockperfClient(t, out, err, code, stderr.String())
			assert.Contains(t, string(out), "# dropped messages = 0")
			if spoofed > 0 {
				m := regexp.MustCompile(`sockperf clients: (\d+) seen, (\d+) evicted, at most (\d+) kept`).FindStringSubmatch(stderr.String())
				require.NotNil(t, m, "%s", stderr.String())
				seen, _ := strconv.Atoi(m[1])
				evicted, _ := strconv.Atoi(m[2])
				assert.Equal(t, spoofed+1, seen, "the spoofed sources and sockperf")
				assert.Equal(t, spoofed+1-maxSockperfPeers, evicted)
				assert.Equal(t, strconv.Itoa(maxSockperfPeers), m[3])
			}
		})
	}
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

// TestSockperfPeersLRU: the transmitter table keeps the maxSockperfPeers most recently
// answered clients, and answering a known client allocates nothing.
func TestSockperfPeersLRU(t *testing.T) {
	r := lab.NewRaw(t)
	l := &loop{st: r.S, c: &config{local: netip.AddrPortFrom(netip.AddrFrom4(lab.StackIP), 11111)}}
	defer l.peers.close()
	src := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4(lab.PeerIP), uint16(30000+i))
	}
	for i := range maxSockperfPeers {
		require.NotNil(t, l.peer(src(i)))
	}
	l.peer(src(0)) // 0 is now the most recent, 1 the least
	require.NotNil(t, l.peer(src(100)))
	assert.Equal(t, uint64(1), l.peers.evicted)
	assert.Equal(t, maxSockperfPeers, l.peers.n)
	assert.Nil(t, l.peers.lookup(src(1)), "the least recent client was evicted")
	assert.NotNil(t, l.peers.lookup(src(0)))
	tx := l.peer(src(100))
	assert.Equal(t, src(100), tx.RemoteAddr())
	assert.Zero(t, testing.AllocsPerRun(1000, func() { l.peer(src(100)) }))
	for i := range 3 * maxSockperfPeers { // a flood keeps the table at its bound
		require.NotNil(t, l.peer(src(200+i)))
	}
	assert.Equal(t, maxSockperfPeers, l.peers.n)
	assert.Equal(t, uint64(maxSockperfPeers+1+3*maxSockperfPeers), l.peers.seen)
}
