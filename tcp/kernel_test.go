package tcp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// Linux's own TCP as the peer: a network namespace behind a veth whose other end DPDK opens
// with net_af_packet (the package documentation says why not net_tap). socat is the Linux
// side. Subnets 198.19.61-62.0/24.

const kernelBytes = 100 << 20 // 100 MiB each way

func kernelStack(t *testing.T, subnet int, kv ...string) (*lab.Kernel, *stack.Stack) {
	t.Helper()
	if _, err := exec.LookPath("socat"); err != nil {
		t.Fatal("socat not installed: run scripts/setup")
	}
	k := lab.NewKernel(t, subnet)
	port, err := dpdk.Probe(k.Device())
	require.NoError(t, err)
	s := lab.NewStack(t, port, lab.Attr(t, append([]string{"local_ip", k.StackIP + "/24", "n_bufs", "4095"}, kv...)...))
	t.Cleanup(func() {
		// Let the last ACKs go, then drop what is left (TIME-WAIT).
		for i := 0; i < 10000; i++ {
			s.Perform()
		}
		teardown(s)
	})
	return k, s
}

// closeAfterPeer shuts c's sending side once the peer has sent everything (its FIN already
// read), waits for the peer command to exit and for the connection to be closed cleanly.
func closeAfterPeer(t *testing.T, s *stack.Stack, c *Conn, done <-chan error, out fmt.Stringer, d time.Duration) {
	t.Helper()
	require.NoError(t, c.ShutdownTx())
	waitPeer(t, s, done, out, d)
	lab.Poll(t, s, d, "the close", func() bool { return c.State() == StateClose })
	assert.NoError(t, c.Err())
}

// waitPeer performs s until the peer command (whose result arrives on done) has exited.
func waitPeer(t *testing.T, s *stack.Stack, done <-chan error, out fmt.Stringer, d time.Duration) {
	t.Helper()
	lab.Poll(t, s, d, "the peer's exit", func() bool {
		select {
		case err := <-done:
			require.NoError(t, err, out.String())
			return true
		default:
			return false
		}
	})
}

// closeAndWait shuts c's sending side, waits for the peer's FIN and for the peer command
// (whose result arrives on done, its output in out) to exit.
func closeAndWait(t *testing.T, s *stack.Stack, c *Conn, done <-chan error, out fmt.Stringer, d time.Duration) {
	t.Helper()
	require.NoError(t, c.ShutdownTx())
	buf := make([]byte, 16)
	lab.Poll(t, s, d, "the peer's FIN", func() bool {
		k, err := c.Recv([][]byte{buf})
		return err == nil && k == 0
	})
	waitPeer(t, s, done, out, d)
}

// sendStream sends n bytes of a stream seeded by seed on c, hashing them into hs, and performs
// s until all of it is acknowledged (within d). each, when not nil, runs every turn.
func sendStream(t *testing.T, s *stack.Stack, c *Conn, n int, seed byte, hs hash.Hash, d time.Duration, each func()) {
	t.Helper()
	rng := rand.NewChaCha8([32]byte{seed})
	chunk := make([]byte, 64<<10)
	sent := 0
	var pending []byte
	lab.Poll(t, s, d, "the stream to the peer", func() bool {
		if each != nil {
			each()
		}
		for sent < n {
			if len(pending) == 0 {
				k := min(len(chunk), n-sent)
				rng.Read(chunk[:k])
				pending = chunk[:k]
			}
			w, err := c.SendSingle(pending, 0)
			if err == syscall.EAGAIN {
				return false
			}
			require.NoError(t, err)
			hs.Write(pending[:w])
			pending = pending[w:]
			sent += w
		}
		return c.sndUna == c.sndMax
	})
}

// fileSHA256 hashes a file.
func fileSHA256(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// randomFile writes n pseudo-random bytes and returns the path and their SHA-256.
func randomFile(t *testing.T, n int, seed uint64) (string, string) {
	path := filepath.Join(t.TempDir(), "src.bin")
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{byte(seed)})
	rng.Read(b)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	h := sha256.Sum256(b)
	return path, hex.EncodeToString(h[:])
}

// Linux (socat) connects to a zocket listener and sends 100 MiB; the zocket hashes what it
// reads zero-copy, sees EOF, closes its side; both ends close gracefully.
func TestKernelSocatToListener(t *testing.T) {
	k, s := kernelStack(t, 61)
	src, want := randomFile(t, kernelBytes, 1)
	l, err := Listen(s, netip.MustParseAddrPort(k.StackIP+":7000"), nil)
	require.NoError(t, err)
	defer l.Close()
	start := time.Now()
	out, done := lab.Background(t, k.Command("socat", "-u", "-b", "65536", "OPEN:"+src, "TCP4:"+k.StackIP+":7000"))
	var c *Conn
	lab.Poll(t, s, 10*time.Second, "socat's connection", func() bool { c, _ = l.Accept(); return c != nil })
	h := sha256.New()
	msg := NewMsg(64)
	got, eof := 0, false
	lab.Poll(t, s, 50*time.Second, "100 MiB from socat", func() bool {
		c.ZcRecv(msg)
		if len(msg.Iov) == 0 {
			return false
		}
		for _, b := range msg.Iov {
			h.Write(b)
			got += len(b)
		}
		r, err := c.ZcRecvDone(msg)
		require.NoError(t, err)
		eof = r == 0
		return eof
	})
	elapsed := time.Since(start)
	assert.Equal(t, kernelBytes, got)
	assert.Equal(t, want, hex.EncodeToString(h.Sum(nil)), "SHA-256 of the stream")
	closeAfterPeer(t, s, c, done, out, 10*time.Second)
	require.NoError(t, c.Close())
	t.Logf("Linux → zocket: %d MiB in %v (%.2f Gbit/s); %+v", got>>20, elapsed,
		float64(got)*8/elapsed.Seconds()/1e9, StackCounters(s))
}

// A zocket connects to a Linux listener (socat TCP-LISTEN) and sends 100 MiB; socat writes
// them to a file whose SHA-256 must match; socat's FIN after ours closes both ends.
func TestKernelConnectToSocat(t *testing.T) {
	k, s := kernelStack(t, 62)
	dst := filepath.Join(t.TempDir(), "dst.bin")
	out, done := lab.Background(t, k.Command("socat", "-u", "-b", "65536", "TCP4-LISTEN:7001,reuseaddr", "CREATE:"+dst))
	raddr := netip.MustParseAddrPort(k.KernelIP + ":7001")
	c := connectRetry(t, s, 10*time.Second, raddr)
	hs := sha256.New()
	start := time.Now()
	sendStream(t, s, c, kernelBytes, 2, hs, 50*time.Second, nil)
	elapsed := time.Since(start)
	closeAndWait(t, s, c, done, out, 10*time.Second)
	assert.Equal(t, StateTimeWait, c.State())
	assert.Equal(t, hex.EncodeToString(hs.Sum(nil)), fileSHA256(t, dst), "SHA-256 of the file socat wrote")
	require.NoError(t, c.Close())
	t.Logf("zocket → Linux: %d MiB in %v (%.2f Gbit/s); %s", kernelBytes>>20, elapsed,
		float64(kernelBytes)*8/elapsed.Seconds()/1e9, fmt.Sprintf("%+v", StackCounters(s)))
}

// connectRetry connects s to raddr, again while the Linux listener is not up yet (refused),
// for up to timeout.
func connectRetry(t *testing.T, s *stack.Stack, timeout time.Duration, raddr netip.AddrPort) *Conn {
	t.Helper()
	var c *Conn
	deadline := time.Now().Add(timeout)
	for c == nil || c.State() != StateEstablished {
		require.True(t, time.Now().Before(deadline), "no connection to %v", raddr)
		if c == nil || c.State() == StateClose {
			if c != nil {
				c.Close()
				time.Sleep(20 * time.Millisecond)
			}
			h, err := NewHandle(s, nil)
			require.NoError(t, err)
			c, err = h.Connect(raddr)
			require.NoError(t, err)
		}
		for i := 0; i < 64; i++ {
			s.Perform()
		}
	}
	return c
}
