// Package capturetest helps tests check what a stack put on the wire through its packet
// capture (attribute capture): a lab pair whose stack A captures to a file, and tshark to read
// the file back. A protocol's test asserts its exchange in a few lines, e.g. the TCP handshake:
//
//	p, file := capturetest.Pair(t)
//	… connect A to B, run the pair until established …
//	require.NoError(t, p.A.SyncCapture())
//	flags := capturetest.Column(capturetest.Tshark(t, file, "tcp.flags.str"), 0)
//	assert.Equal(t, []string{"··········S·", "·······A··S·", "·······A····"}, flags)
package capturetest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// Pair is lab.NewPair (A 198.18.0.1/24, B 198.18.0.2/24 on one manual clock) with capture on
// A only, into a pcapng file in the test's directory, whose path it returns. kv are extra
// attributes for A (capture_filter, say).
func Pair(t testing.TB, kv ...string) (*lab.Pair, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a.pcapng")
	rp, err := dpdk.NewRingPair(lab.Unique("cap"), 1024)
	require.NoError(t, err)
	t.Cleanup(func() { rp.Close() })
	p := &lab.Pair{Clock: &stack.ManualClock{T: 1_000_000_000}}
	p.A = lab.NewStack(t, rp.A, lab.Attr(t, append([]string{"local_ip", "198.18.0.1/24",
		"mac", "02:00:00:00:00:01", "name", "A", "capture", file}, kv...)...))
	p.B = lab.NewStack(t, rp.B, lab.Attr(t, "local_ip", "198.18.0.2/24", "mac", "02:00:00:00:00:02", "name", "B"))
	p.A.SetClock(p.Clock)
	p.B.SetClock(p.Clock)
	return p, file
}

// Tshark reads a capture file with `tshark -r FILE -T fields` and returns, per packet, the
// fields asked for (display-filter field names such as "eth.type", "tcp.flags.str",
// "frame.packet_flags_direction": 0x00000001 inbound, 0x00000002 outbound). It fails the test
// when tshark is missing (scripts/setup installs it) or cannot parse the file.
func Tshark(t testing.TB, file string, fields ...string) [][]string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatal("tshark not installed: run scripts/setup")
	}
	args := []string{"-r", file, "-T", "fields", "-E", "separator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(bin, args...).Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "tshark -r %s: %s", file, stderr)
	var rows [][]string
	for line := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows
}

// Column returns field i of every row.
func Column(rows [][]string, i int) []string {
	var c []string
	for _, r := range rows {
		if i < len(r) {
			c = append(c, r[i])
		}
	}
	return c
}
