package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
)

// echoStream is the data a Linux client streams through an echo and reads back: a file, its
// size and its SHA-256.
type echoStream struct {
	path string
	size int
	sum  [sha256.Size]byte
}

// newEchoStream writes mib MiB of data to a file of the test's.
func newEchoStream(t testing.TB, mib int) *echoStream {
	t.Helper()
	data := make([]byte, mib<<20)
	for i := range data { // a cheap PRNG: the data only needs to be unlike its shifts
		data[i] = byte((uint32(i)*2654435761 + uint32(i>>8)*40503) >> 24)
	}
	s := &echoStream{path: filepath.Join(t.TempDir(), "src"), size: len(data), sum: sha256.Sum256(data)}
	require.NoError(t, os.WriteFile(s.path, data, 0o644))
	return s
}

// echoServer is the echo a run's client streams through.
type echoServer string

const (
	zocketEcho echoServer = "zocket" // the built zftcppingpong pong on net_tap, in the router's namespace
	linuxEcho  echoServer = "linux"  // socat … EXEC:cat behind a veth (lab.Host)
)

// errTimedOut is a run whose client had not finished within its timeout.
var errTimedOut = errors.New("timed out")

// echoRun is one run of a Linux client (socat, in a lab.Lossy namespace) streaming through an
// echo server behind a router that drops pct % of the TCP frames each way. The server has
// 198.19.subnet.2, the router 198.19.subnet.1; the client sits on subnet+1.
type echoRun struct {
	server  echoServer
	bin     string // the zftcppingpong binary, for zocketEcho
	attr    string // extra attributes (ZF_ATTR syntax) for the pong's stack, for zocketEcho
	subnet  int
	pct     int
	timeout time.Duration // for the client's whole stream, there and back
}

// echoPort is the echo servers' TCP port.
const echoPort = "7000"

// stream sets the run up, waits until the server answers, then streams s through it and
// returns the client's time, from its start to its exit. The error is errTimedOut when the
// client was still running after the timeout (it is killed); otherwise it says what failed:
// the client, the bytes that came back (size, SHA-256), or, for zocket, the pong, which must
// exit 0 having echoed every byte once its echo and FIN were delivered. A set-up that fails
// fails the test.
func (r echoRun) stream(t *testing.T, s *echoStream) (time.Duration, error) {
	var (
		k       *lab.Kernel
		pongOut *lab.Output
		pongEnd <-chan error
	)
	switch r.server {
	case zocketEcho:
		k = lab.NewKernelTap(t, r.subnet)
		pong := k.Command(r.bin, "-c", "-1", "-v", "pong", k.StackIP+":"+echoPort)
		attr := fmt.Sprintf("interface=%s;local_ip=%s/24;gateway=%s", k.Device(), k.StackIP, k.KernelIP)
		if r.attr != "" {
			attr += ";" + r.attr
		}
		pong.Env = append(os.Environ(), "ZOCKET_EAL_ARGS=", "ZF_ATTR="+attr) // the tool picks its own EAL arguments
		pongOut, pongEnd = lab.Background(t, pong)
		awaitPong(t, pongEnd, pongOut, "made its tap", func() bool { return k.Command("ip", "link", "show", k.Veth).Run() == nil })
		k.UpTap(t)
		// The stack answers pings once its reactor runs, which the pong starts after listening.
		awaitPong(t, pongEnd, pongOut, "answered a ping", func() bool {
			return k.Command("ping", "-c", "1", "-W", "1", k.StackIP).Run() == nil
		})
	case linuxEcho:
		k = lab.NewKernel(t, r.subnet)
		h := k.NewHost(t)
		lab.Start(t, h.Command("socat", "-b", "65536", "TCP4-LISTEN:"+echoPort+",bind="+k.StackIP+",reuseaddr", "EXEC:cat"))
		require.Eventually(t, func() bool {
			out, _ := h.Command("ss", "-Hltn", "sport = :"+echoPort).Output()
			return len(out) > 0
		}, 20*time.Second, 10*time.Millisecond, "socat does not listen")
	default:
		t.Fatalf("unknown echo server %q", r.server)
	}
	l := lab.NewLossy(t, k, r.subnet, r.pct, "")
	dst := filepath.Join(t.TempDir(), "dst")
	secs := strconv.Itoa(int(r.timeout.Seconds()) + 1)
	client := l.Command("socat", "-b", "65536", "-t", secs, "OPEN:"+s.path+"!!CREATE:"+dst,
		"TCP4:"+k.StackIP+":"+echoPort+",retry=100,interval=0.1")
	var cout lab.Output
	client.Stdout, client.Stderr = &cout, &cout
	start := time.Now()
	require.NoError(t, client.Start())
	done := make(chan error, 1)
	go func() { done <- client.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(r.timeout):
		client.Process.Kill()
		<-done
		return time.Since(start), errTimedOut
	}
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("socat: %v: %s", err, &cout)
	}
	if pongEnd != nil {
		select {
		case err := <-pongEnd:
			if err != nil {
				return took, fmt.Errorf("pong: %v: %s", err, pongOut)
			}
		case <-time.After(2 * time.Minute):
			return took, fmt.Errorf("pong did not end: %s", pongOut)
		}
		if want := fmt.Sprintf("pong: echoed %d bytes", s.size); !strings.Contains(pongOut.String(), want) {
			return took, fmt.Errorf("pong did not say %q: %s", want, pongOut)
		}
		t.Logf("the pong ended:\n%s", lastLines(pongOut.String(), 3))
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		return took, err
	}
	if len(got) != s.size || sha256.Sum256(got) != s.sum {
		return took, fmt.Errorf("%d bytes came back of %d, SHA-256 %s", len(got), s.size, sumWord(sha256.Sum256(got) == s.sum))
	}
	return took, nil
}

// awaitPong polls cond every 10 ms until it holds, failing the test when 20 s pass first or
// the pong ends (a bad attribute, a port that failed) before.
func awaitPong(t *testing.T, end <-chan error, out *lab.Output, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-end:
			t.Fatalf("the pong ended (%v) before it %s: %s", err, what, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s passed before the pong %s: %s", what, out)
		}
	}
}

// sumWord says whether a SHA-256 matched.
func sumWord(ok bool) string {
	if ok {
		return "equal"
	}
	return "different"
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// buildPong returns the zftcppingpong binary the runs start: ZOCKET_PONG when set (a binary
// built already, as scripts/bench's), else one built from this package for the test.
func buildPong(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("ZOCKET_PONG"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "zftcppingpong")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}
