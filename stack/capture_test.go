package stack_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/capture/capturetest"
	"github.com/zocket/zocket/internal/ctl"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

var ipB = [4]byte{198, 18, 0, 2}

// capturePair is a lab pair whose stack A captures to the file returned.
func capturePair(t *testing.T, kv ...string) (*lab.Pair, string) { return capturetest.Pair(t, kv...) }

// ping has A send an ICMP echo request to B (through ARP resolution the first time).
func ping(t *testing.T, a *stack.Stack, dst [4]byte, seq uint16) {
	t.Helper()
	m := a.Pool().Alloc()
	require.NotNil(t, m)
	const data = "zocket capture test"
	b := m.Append(14 + 20 + 8 + len(data))
	a.EncodeEthernet(b, [6]byte{}, wire.EtherTypeIPv4)
	ip := wire.IPv4Fields{TotalLength: uint16(20 + 8 + len(data)), TTL: 64, Protocol: wire.ProtoICMP, Src: a.LocalIP4(), Dst: dst, ID: seq}
	ip.Encode(b[14:])
	icmp := b[34:]
	f := wire.ICMPFields{Type: wire.ICMPEchoRequest, ID: 7, Seq: seq}
	f.Encode(icmp)
	copy(icmp[8:], data)
	wire.ICMP(icmp).SetChecksum(0)
	wire.ICMP(icmp).SetChecksum(wire.ICMP(icmp).ComputeChecksum())
	a.Output(m, dst)
}

// tshark returns the fields of every packet of file, as tshark -T fields prints them.
func tshark(t *testing.T, file string, fields ...string) [][]string {
	return capturetest.Tshark(t, file, fields...)
}

// TestCaptureReadByTshark: A pings B with capture on; tshark reads the file, while the stack
// runs (SyncCapture) and after Close, and sees the ARP exchange and the echo, each frame with
// its direction. The TCP handshake check is the same with tcp.flags.str (see capturetest).
func TestCaptureReadByTshark(t *testing.T) {
	p, file := capturePair(t)
	ping(t, p.A, ipB, 1)
	p.Run(t, 20, time.Microsecond, func() bool { return p.A.Counters().RxICMP == 1 })
	require.NoError(t, p.A.SyncCapture())
	assert.Len(t, tshark(t, file, "eth.type"), 4, "readable while the stack runs")
	ping(t, p.A, ipB, 2)
	p.Run(t, 20, time.Microsecond, func() bool { return p.A.Counters().RxICMP == 2 })
	require.NoError(t, p.A.Close()) // flushes the file

	rows := tshark(t, file, "frame.packet_flags_direction", "eth.type", "arp.opcode", "icmp.type", "icmp.seq")
	want := [][]string{
		{"0x00000002", "0x0806", "1", "", ""},  // out: ARP request
		{"0x00000001", "0x0806", "2", "", ""},  // in: ARP reply
		{"0x00000002", "0x0800", "", "8", "1"}, // out: echo request
		{"0x00000001", "0x0800", "", "0", "1"}, // in: echo reply
		{"0x00000002", "0x0800", "", "8", "2"},
		{"0x00000001", "0x0800", "", "0", "2"},
	}
	assert.Equal(t, want, rows)
}

func TestCaptureFilter(t *testing.T) {
	tests := []struct {
		filter string
		want   []string // eth.type of the frames captured
	}{
		{"", []string{"0x0806", "0x0806", "0x0800", "0x0800"}},
		{"arp", []string{"0x0806", "0x0806"}},
		{"icmp", []string{"0x0800", "0x0800"}},
		{"port 80 or udp port 53", nil},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			p, file := capturePair(t, "capture_filter", tc.filter)
			ping(t, p.A, ipB, 1)
			p.Run(t, 20, time.Microsecond, func() bool { return p.A.Counters().RxICMP == 1 })
			require.NoError(t, p.A.Close())
			var got []string
			for _, r := range tshark(t, file, "eth.type") {
				got = append(got, r[0])
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestCaptureTransmit: frames sent with Transmit are captured once, and those the port
// refuses are not.
func TestCaptureTransmit(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.pcapng")
	r := lab.NewRaw(t, "capture", file, "tx_ring_max", "64")
	sent := transmit(t, r, 1100, 60) // more than the ring pair (1024) holds
	require.Less(t, sent, 1100, "the wire filled up")
	require.NoError(t, r.S.Close())
	rows := tshark(t, file, "eth.type")
	assert.Len(t, rows, sent)
}

// transmit sends n frames of size bytes (local experimental ethertype) with one Transmit,
// frees those the port refused, drains the wire and returns how many were sent.
func transmit(t *testing.T, r *lab.Raw, n, size int) int {
	t.Helper()
	frames := make([]*dpdk.Mbuf, n)
	for i := range frames {
		m := r.S.Pool().Alloc()
		require.NotNil(t, m)
		b := m.Append(size)
		r.S.EncodeEthernet(b, lab.PeerMAC, 0x88b5)
		b[14] = byte(i)
		frames[i] = m
	}
	sent := r.S.Transmit(frames)
	dpdk.FreeBulk(frames[sent:])
	r.Drain()
	return sent
}

// pollDump takes a control dump from another goroutine while this one polls the stack.
func pollDump(t *testing.T, s *stack.Stack) *ctl.Dump {
	dc := make(chan *ctl.Dump, 1)
	go func() { dc <- s.ControlDump(time.Second) }()
	var d *ctl.Dump
	lab.Poll(t, s, 5*time.Second, "a control dump", func() bool {
		select {
		case d = <-dc:
			return true
		default:
			return false
		}
	})
	return d
}

// TestCaptureMaxBytes: capture_max_bytes caps the file; the frames it stopped are counted in
// the snapshot and the dump (which Prometheus and zfstackdump show).
func TestCaptureMaxBytes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.pcapng")
	const max = 64 << 10
	r := lab.NewRaw(t, "capture", file, "capture_max_bytes", fmt.Sprint(max))
	sent := transmit(t, r, 100, 1000) // 100 kB of frames
	require.Equal(t, 100, sent)
	require.NoError(t, r.S.SyncCapture())
	var cs stack.CaptureStats
	r.S.SnapshotSync(func(sn *stack.Snapshot) { cs = sn.Capture })
	assert.Equal(t, uint64(100), cs.Packets, "all in the ring")
	assert.Equal(t, uint64(38), cs.Limited, "past the cap")
	assert.Zero(t, cs.WriteErrors)
	d := pollDump(t, r.S)
	require.NotNil(t, d.Capture)
	assert.Equal(t, cs.Limited, d.Capture.Limited)
	require.NoError(t, r.S.Close())
	fi, err := os.Stat(file)
	require.NoError(t, err)
	assert.LessOrEqual(t, fi.Size(), int64(max))
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Len(t, tshark(t, file, "eth.type"), 100-int(cs.Limited))
}

// TestCaptureExistingFileRefused: a capture never overwrites a file; the error names the
// attribute and the path.
func TestCaptureExistingFileRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "old.pcapng")
	require.NoError(t, os.WriteFile(file, []byte("keep"), 0o644))
	rp, err := dpdk.NewRingPair(lab.Unique("capold"), 64)
	require.NoError(t, err)
	defer rp.Close()
	_, err = stack.New(lab.Attr(t, "local_ip", "198.18.0.1/24", "interface", rp.A.Name(), "capture", file))
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.EEXIST)
	assert.Contains(t, err.Error(), "attr capture="+file)
	b, _ := os.ReadFile(file)
	assert.Equal(t, "keep", string(b))
}

func TestCaptureOffByDefault(t *testing.T) {
	r := lab.NewRaw(t)
	assert.Empty(t, r.S.CaptureFile())
}

func TestCaptureBadAttributes(t *testing.T) {
	a := lab.Attr(t)
	assert.Error(t, a.Set("capture_filter", "host 1.2.3.4"))
	rp, err := dpdk.NewRingPair(lab.Unique("capbad"), 64)
	require.NoError(t, err)
	defer rp.Close()
	a = lab.Attr(t, "local_ip", "198.18.0.1/24", "interface", rp.A.Name(), "capture", "/nonexistent/dir/x.pcapng")
	_, err = stack.New(a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "attr capture=/nonexistent/dir/x.pcapng")
	_, statErr := os.Stat("/nonexistent/dir/x.pcapng")
	assert.Error(t, statErr)
}

// BenchmarkCapture is the cost of capture per packet: echo requests in bursts of 32, each
// answered, with capture off and on (each request and reply copied into the ring; the
// writer goroutine's file writes run on the other core).
func BenchmarkCapture(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			var kv []string
			if mode == "on" {
				kv = []string{"capture", filepath.Join(b.TempDir(), "bench.pcapng")}
			}
			r := lab.NewRaw(b, kv...)
			r.S.SetClock(nil)
			f := r.NewFeeder(b, echoRequest(lab.StackIP, 1, 2, "0123456789abcdef0123456789abcdef"), 32, false)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				f.Inject()
				b.StartTimer()
				r.S.Perform()
				b.StopTimer()
				f.Drain()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/pkt")
			r.S.SnapshotSync(func(sn *stack.Snapshot) {
				b.ReportMetric(float64(sn.Capture.Drops), "ring-drops")
			})
		})
	}
}
