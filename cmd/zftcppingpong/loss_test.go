package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
)

// envInt is the positive integer in the environment variable name, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestPongEchoesThroughLoss is the run as a user does it: the built zftcppingpong
// pong on net_tap, the default attributes, and a Linux client (socat) behind a router that
// drops 5 % of the TCP frames each way (lab.Lossy) streams random data through it. The client
// gets every byte back (SHA-256) and the pong exits 0 once its echo and FIN were delivered
// (it used to close its stack 200 ms after the last byte, unsent queue and all).
// ZOCKET_ECHO_MIB (default 2) and ZOCKET_ECHO_RUNS (default 1) scale it; TestMeasureLoss is
// the measurement, against Linux.
func TestPongEchoesThroughLoss(t *testing.T) {
	mib, runs := envInt("ZOCKET_ECHO_MIB", 2), envInt("ZOCKET_ECHO_RUNS", 1)
	r := echoRun{server: zocketEcho, bin: buildPong(t), subnet: 76, pct: 5, timeout: 10 * time.Minute}
	s := newEchoStream(t, mib)
	var passed int
	for run := 1; run <= runs; run++ {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			took, err := r.stream(t, s)
			require.NoError(t, err)
			passed++
			t.Logf("run %d/%d: %d MiB through 5 %% loss each way, echoed in %v", run, runs, mib, took.Round(time.Millisecond))
		})
	}
	t.Logf("%d of %d runs passed", passed, runs)
}

// TestPingAndPongBothEndCleanly: ping and pong as two processes over net_memif, as the README
// runs them. The ping closes first; it waits for the pong's FIN too (within tcp_finwait_ms), so
// that the pong's FIN is acknowledged and the pong, which waits for that, exits 0 at once
// instead of retransmitting to a stack that is gone until its TCP gives up.
func TestPingAndPongBothEndCleanly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "zftcppingpong")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	sock := filepath.Join(t.TempDir(), "pp.sock")
	start := func(role, ip, mac string, args ...string) (*lab.Output, <-chan error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "ZOCKET_EAL_ARGS=",
			fmt.Sprintf("ZF_ATTR=interface=net_memif0,role=%s,socket=%s;local_ip=%s/24;mac=%s;n_bufs=2047", role, sock, ip, mac))
		return lab.Background(t, cmd)
	}
	pongOut, pongDone := start("server", "198.18.0.1", "02:00:00:00:00:01", "-c", "-1", "pong", "198.18.0.1:20000")
	pingOut, pingDone := start("client", "198.18.0.2", "02:00:00:00:00:02", "-c", "-1", "-i", "1000", "-r", "10", "ping", "198.18.0.1:20000")
	for _, p := range []struct {
		name string
		out  *lab.Output
		done <-chan error
	}{{"ping", pingOut, pingDone}, {"pong", pongOut, pongDone}} {
		select {
		case err := <-p.done:
			require.NoError(t, err, "%s: %s", p.name, p.out)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not end: %s", p.name, p.out)
		}
	}
	assert.Contains(t, pingOut.String(), "mean round-trip time:")
}
