package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
)

func TestMain(m *testing.M) { ealtest.Main(m, nil) }

// pingScript is a Linux TCP client speaking the ping's framing: 64-byte messages, type byte
// (0 ping, 2 sync after every tenth, 1 housekeeping every 25th) and sequence number, the rest
// byte(i); it checks every echo.
const pingScript = `
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
n = int(sys.argv[3])
for seq in range(1, n + 1):
    typ = 1 if seq % 25 == 0 else (2 if seq % 25 == 1 and seq > 1 else 0)
    m = bytearray(i & 255 for i in range(64))
    m[0] = typ
    m[1:9] = struct.pack('<Q', seq)
    if seq == 500:
        m[20] = 99  # no candidate matches: echoed by Conn.Send
    s.sendall(m)
    got = b''
    while len(got) < 64:
        b = s.recv(64 - len(got))
        if not b:
            sys.exit('eof')
        got += b
    if got != bytes(m):
        sys.exit('mismatch at %d' % seq)
s.close()
print('ok')
`

// TestPongAnswersFromAlternatives: a framed ping stream is echoed exactly, replies coming
// from the alternatives except the one message no candidate matched.
func TestPongAnswersFromAlternatives(t *testing.T) {
	k := lab.NewKernelForTool(t, 81)
	script := filepath.Join(t.TempDir(), "ping.py")
	require.NoError(t, os.WriteFile(script, []byte(pingScript), 0o644))
	var stop atomic.Bool
	var stdout, stderr lab.Output
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-c", "-1", "-v", "-alts", "4", "pong", k.StackIP + ":7002"}, &stdout, &stderr, &stop)
	}()
	time.Sleep(300 * time.Millisecond)
	out, err := k.Command("timeout", "20", "python3", script, k.StackIP, "7002", "1000").CombinedOutput()
	if err != nil {
		stop.Store(true)
	}
	code := <-done
	require.NoError(t, err, "%s\npong: %s", out, stderr.String())
	require.Zero(t, code, "%s", stderr.String())
	assert.Contains(t, stderr.String(), "pong: echoed 64000 bytes alts_sent=999")
}

// TestPongEchoesAStream: socat sends 1 MiB of random bytes through pong (no candidate ever
// matches, or a message spans segments) and gets it back unchanged.
func TestPongEchoesAStream(t *testing.T) {
	k := lab.NewKernelForTool(t, 82)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	data := make([]byte, 1<<20)
	rand.Read(data)
	require.NoError(t, os.WriteFile(src, data, 0o644))
	var stop atomic.Bool
	var stdout, stderr lab.Output
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-c", "-1", "-s", "1000", "pong", k.StackIP + ":7003"}, &stdout, &stderr, &stop)
	}()
	time.Sleep(300 * time.Millisecond)
	out, err := k.Command("timeout", "20", "socat", "-b", "65536", "-t", "10", "OPEN:"+src+"!!CREATE:"+dst, "TCP4:"+k.StackIP+":7003").CombinedOutput()
	if err != nil {
		stop.Store(true)
	}
	code := <-done
	require.NoError(t, err, "%s\npong: %s", out, stderr.String())
	require.Zero(t, code, "%s", stderr.String())
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "echoed stream differs (%d bytes back)", len(got))
}
