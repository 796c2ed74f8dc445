package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ctl"
	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

func TestMain(m *testing.M) { ealtest.Main(m, nil) }

var tcpKind = &stack.DumpKind{
	Type: "tcp", Title: "TCP",
	States: []string{"", "ESTABLISHED"},
	Fields: []stack.DumpField{
		{Name: "snd_nxt", Group: "tx"}, {Name: "snd_una", Group: "tx"}, {Name: "cwnd", Group: "tx"},
		{Name: "rcv_nxt", Group: "rx"}, {Name: "rcv_wnd", Group: "rx"},
		{Name: "srtt_us", Group: "rtt"}, {Name: "nrtx", Group: "rtt"},
	},
}

// sender is a transport with one connection whose snd_nxt advances on every Perform call,
// standing in for zftcppingpong until tcp implements stack.Dumper.
type sender struct{ sndNxt uint64 }

func (s *sender) Deliver(p *stack.Packet) bool { p.Mbuf.Free(); return false }

func (s *sender) Dump(d *stack.DumpBuilder) {
	d.Counter(stack.TCPSegmentsSent, s.sndNxt)
	r := d.Row(tcpKind)
	r.State = 1
	r.LocalIP, r.LocalPort = lab.StackIP, 5000
	r.RemoteIP, r.RemotePort = lab.PeerIP, 40000
	r.F[0], r.F[1], r.F[2], r.F[4] = s.sndNxt, s.sndNxt-1, 14600, 65535
}

// running starts a stack with a control socket in dir, polled by a goroutine that advances
// its connection, until the test ends.
func running(t *testing.T, dir, name string) *stack.Stack {
	r := lab.NewRaw(t, "control_socket_dir", dir, "name", name)
	tr := &sender{sndNxt: 1000}
	r.S.SetTransport(253, tr)
	lab.Loop(t, func() {
		tr.sndNxt++
		r.S.Perform()
		time.Sleep(10 * time.Microsecond)
	})
	return r.S
}

func zfstackdump(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb, nil)
	require.Equal(t, 0, code, "zfstackdump %v: %s", args, errb.String())
	return out.String()
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	a := running(t, dir, "alpha")
	b := running(t, dir, "beta")
	// A socket left by a process that is gone is removed.
	stale := ctl.SocketPath(dir, "ghost", 1<<22+12345, 0)
	ln, err := net.Listen("unix", stale)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	old := time.Now().Add(-2 * time.Second) // older than a server between bind and listen
	require.NoError(t, os.Chtimes(stale, old, old))

	out := zfstackdump(t, "-dir", dir, "list")
	pid := os.Getpid()
	assert.Equal(t, fmt.Sprintf("%-20s id=%-4d pid=%d\n%-20s id=%-4d pid=%d\n", "alpha", a.ID(), pid, "beta", b.ID(), pid), out)
	assert.NoFileExists(t, stale)

	assert.Equal(t, out, zfstackdump(t, "-dir", dir), "list is the default")
	assert.Contains(t, zfstackdump(t, "-dir", dir, "list", "beta"), "beta")
	assert.NotContains(t, zfstackdump(t, "-dir", dir, "list", strconv.Itoa(b.ID())), "alpha")

	var infos []ctl.Info
	require.NoError(t, json.Unmarshal([]byte(zfstackdump(t, "-dir", dir, "-json", "list")), &infos))
	require.Len(t, infos, 2)
	assert.Equal(t, "net_ring", infos[0].Driver)
	assert.Equal(t, a.ControlSocket(), infos[0].Socket)
	assert.Regexp(t, fmt.Sprintf(`^%s/alpha\.%d\.%d\.[0-9a-f]{8}\.sock$`, regexp.QuoteMeta(dir), pid, a.ID()), infos[0].Socket)
}

func TestDumpShowsChangingSndNxt(t *testing.T) {
	dir := t.TempDir()
	running(t, dir, "gw")
	re := regexp.MustCompile(`(?m)^tx: snd_nxt=(\d+) snd_una=\d+ cwnd=14600$`)
	var last uint64
	for i := range 3 {
		out := zfstackdump(t, "-dir", dir, "dump", "gw")
		if i == 0 {
			t.Logf("zfstackdump dump gw:\n%s", out)
			for _, want := range []string{
				"=====\nname=gw id=", "pool: pkt_bufs_n=2047 free=", "config: tcp_timewait_ticks=60000 tcp_finwait_ticks=60000",
				"config: tcp_initial_cwnd=0 ms_per_tcp_tick=1", "alts: n_alts=0", "stats: ring_refill_nomem=0",
				"port: rx_packets=0", "TCP gw:0 ESTABLISHED\nfilter: lcl=198.18.0.1:5000 rmt=198.18.0.9:40000\n",
				"rx: rcv_nxt=0 rcv_wnd=65535\nrtt: srtt_us=0 nrtx=0\n",
			} {
				assert.Contains(t, out, want)
			}
			assert.NotContains(t, out, "STALE")
		}
		m := re.FindStringSubmatch(out)
		require.NotNil(t, m, "no tx line in:\n%s", out)
		v, _ := strconv.ParseUint(m[1], 10, 64)
		assert.Greater(t, v, last, "snd_nxt advances")
		last = v
		time.Sleep(5 * time.Millisecond)
	}

	var dumps []ctl.Dump
	require.NoError(t, json.Unmarshal([]byte(zfstackdump(t, "-dir", dir, "-json", "dump")), &dumps))
	require.Len(t, dumps, 1)
	d := dumps[0]
	assert.True(t, d.Fresh)
	require.Len(t, d.Zockets, 1)
	v, ok := d.Zockets[0].Fields.Get("snd_nxt")
	assert.True(t, ok)
	assert.Greater(t, v, last)
	sent, _ := d.Transport.Get("tcp_segments_sent")
	assert.NotZero(t, sent)
}

func TestDumpStaleStack(t *testing.T) {
	dir := t.TempDir()
	lab.NewRaw(t, "control_socket_dir", dir, "name", "idle") // never polled
	out := zfstackdump(t, "-dir", dir, "-timeout", "20ms", "dump")
	assert.Contains(t, out, "STALE")
}

func TestUnknownStack(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 1, run([]string{"-dir", t.TempDir(), "dump", "nope"}, &out, &errb, nil))
	assert.Contains(t, errb.String(), `no stack "nope"`)
	assert.Equal(t, 2, run([]string{"frobnicate"}, &out, &errb, nil))
}

// TestMetricsExporter serves the stacks of the directory through their sockets and scrapes it.
func TestMetricsExporter(t *testing.T) {
	dir := t.TempDir()
	running(t, dir, "gw")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	stop := make(chan struct{})
	done := make(chan int)
	var errb bytes.Buffer
	go func() { done <- run([]string{"-dir", dir, "-metrics", addr}, io.Discard, &errb, stop) }()
	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	}, 5*time.Second, 10*time.Millisecond)
	close(stop)
	assert.Equal(t, 0, <-done, errb.String())
	assert.Contains(t, body, `zocket_zockets{stack="gw",state="ESTABLISHED",type="tcp"} 1`)
	assert.True(t, strings.Contains(body, `zocket_tcp_segments_sent_total{stack="gw"}`))
}

// TestDumpRunningZftcppingpong: zfstackdump against a real zftcppingpong pair (two processes
// over net_memif) shows the ping's connection with snd_nxt moving between two dumps.
func TestDumpRunningZftcppingpong(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin, "github.com/zocket/zocket/cmd/zftcppingpong")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	dir := t.TempDir()
	sock := filepath.Join(dir, "pp.sock")
	start := func(name, role, ip, mac string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, "zftcppingpong"), args...)
		cmd.Env = append(os.Environ(), fmt.Sprintf("ZF_ATTR=interface=net_memif0,role=%s,socket=%s;local_ip=%s/24;mac=%s;n_bufs=2047;name=%s;control_socket_dir=%s",
			role, sock, ip, mac, name, dir))
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			t.Logf("%s:\n%s", name, log.String())
		})
		return cmd
	}
	start("pong", "server", "198.18.0.1", "02:00:00:00:00:01", "-c", "1", "-s", "64", "pong", "198.18.0.1:20000")
	start("ping", "client", "198.18.0.2", "02:00:00:00:00:02", "-c", "0", "-s", "64", "-i", "100000000", "ping", "198.18.0.1:20000")

	sndNxt := func() (uint64, bool) {
		var errb bytes.Buffer
		var o bytes.Buffer
		if run([]string{"-dir", dir, "-json", "dump", "ping"}, &o, &errb, nil) != 0 {
			return 0, false
		}
		var dumps []ctl.Dump
		if json.Unmarshal(o.Bytes(), &dumps) != nil || len(dumps) != 1 {
			return 0, false
		}
		for _, z := range dumps[0].Zockets {
			if z.Type == "tcp" && z.State == "ESTABLISHED" {
				return z.Fields.Get("snd_nxt")
			}
		}
		return 0, false
	}
	var first uint64
	require.Eventually(t, func() bool { v, ok := sndNxt(); first = v; return ok }, 40*time.Second, 50*time.Millisecond,
		"the ping's connection never showed up")
	time.Sleep(50 * time.Millisecond)
	second, ok := sndNxt()
	require.True(t, ok)
	assert.NotEqual(t, first, second, "snd_nxt moves while the ping-pong runs")
	text := zfstackdump(t, "-dir", dir, "dump", "ping")
	assert.Regexp(t, `(?m)^TCP ping:\d+ ESTABLISHED$`, text)
	assert.Regexp(t, `(?m)^tx: snd_nxt=\d+ `, text)
	assert.Regexp(t, `(?m)^opts: sack=1 ts=1 wscale=1 snd_wscale=\d+ rcv_wscale=\d+$`, text)
}

// hostile is a control-socket server that answers with terminal escapes in its strings, or
// with a response too large to read.
type hostile struct{ huge bool }

func (h hostile) Info() *ctl.Info {
	return &ctl.Info{Name: "gw\x1b]0;owned\x07", PID: 1, Interface: "net_ring0\x1b[2J", Driver: "d\r\u202e", IP: "198.18.0.1/24"}
}

func (h hostile) Dump(time.Duration) (*ctl.Dump, error) {
	d := &ctl.Dump{Info: *h.Info(), Fresh: true, Attributes: "name=gw\x1b[1A",
		Stats:   ctl.Fields{{Name: "polls\x1b[31m", Value: 1}},
		Zockets: []ctl.Zocket{{Type: "tcp", Title: "TCP\u009b", State: "ESTABLISHED\x1b[0m", Local: "\x00", Remote: "x\x7f", Fields: ctl.Fields{{Name: "snd_nxt\x1b", Value: 2}}}},
		Capture: &ctl.Capture{File: "/tmp/c\x1b.pcap"}}
	if h.huge {
		d.Attributes = strings.Repeat("a", ctl.MaxResponse)
	}
	return d, nil
}

func serveHostile(t *testing.T, h hostile) string {
	dir := t.TempDir()
	srv, err := ctl.Listen(ctl.SocketPath(dir, "gw", os.Getpid(), 0), h)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return dir
}

// TestEscapesServerStrings: what a server sends reaches the terminal with its control
// characters escaped.
func TestEscapesServerStrings(t *testing.T) {
	dir := serveHostile(t, hostile{})
	for _, cmd := range []string{"list", "dump"} {
		t.Run(cmd, func(t *testing.T) {
			out := zfstackdump(t, "-dir", dir, cmd)
			assert.NotRegexp(t, "[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u202e]", out)
			assert.Contains(t, out, `gw\x1b]0;owned\x07`)
		})
	}
	assert.Contains(t, zfstackdump(t, "-dir", dir, "dump"), `TCP\u009b gw\x1b]0;owned\x07:0 ESTABLISHED\x1b[0m`)
}

// TestRefusesOversizedResponse: a dump larger than ctl.MaxResponse is an error, not memory.
func TestRefusesOversizedResponse(t *testing.T) {
	dir := serveHostile(t, hostile{huge: true})
	var out, errb bytes.Buffer
	assert.Equal(t, 1, run([]string{"-dir", dir, "-timeout", "30s", "dump"}, &out, &errb, nil)) // time to encode 64 MiB under -race
	assert.Contains(t, errb.String(), "message too long")
	assert.Empty(t, out.String())
}

func TestEsc(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"gw-1 198.18.0.1/24 né", "gw-1 198.18.0.1/24 né"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"\x00\t\n\r\x7f", `\x00\x09\x0a\x0d\x7f`},
		{"c1\u009b", `c1\u009b`},
		{"rtl\u202eexe", `rtl\u202eexe`},
		{"bad\xffutf8", `bad\xffutf8`},
	} {
		assert.Equal(t, tc.want, esc(tc.in), "%q", tc.in)
	}
}
