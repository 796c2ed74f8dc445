package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
)

var (
	pool    *dpdk.Pool
	ringSeq atomic.Int32
)

func TestMain(m *testing.M) {
	ealtest.Main(m, func() string {
		if pool != nil && pool.InUse() != 0 {
			return fmt.Sprintf("pool leaks %d mbufs", pool.InUse())
		}
		return ""
	})
}

func testPool(t *testing.T) *dpdk.Pool {
	t.Helper()
	if pool == nil {
		p, err := dpdk.NewPool("zfpmd_test", 4095, 0, dpdk.DefaultDataRoom, -1)
		require.NoError(t, err)
		pool = p
	}
	t.Cleanup(func() { assert.Zero(t, pool.InUse(), "mbufs leaked by %s", t.Name()) })
	return pool
}

// ringPair returns two started ports joined back to back.
func ringPair(t *testing.T) (a, b dpdk.Port) {
	t.Helper()
	p := testPool(t)
	rp, err := dpdk.NewRingPair(fmt.Sprintf("zfpmd%d", ringSeq.Add(1)), 1024)
	require.NoError(t, err)
	t.Cleanup(func() { rp.Close() })
	for _, port := range []dpdk.Port{rp.A, rp.B} {
		require.NoError(t, port.Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 512, TxDesc: 512, Pool: p}))
		require.NoError(t, port.Start())
	}
	return rp.A, rp.B
}

// frame builds a test frame dst, src, EtherType 0x88b6, then payload byte i.
func frame(t *testing.T, i int) *dpdk.Mbuf {
	t.Helper()
	m := pool.Alloc()
	require.NotNil(t, m)
	d := m.Append(64)
	clear(d)
	copy(d, []byte{0xd0, 0xd0, 0xd0, 0xd0, 0xd0, 0xd0, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x88, 0xb6, byte(i)})
	return m
}

func inject(t *testing.T, port dpdk.Port, n int) {
	t.Helper()
	arr := dpdk.NewMbufArray(n)
	defer dpdk.FreeMbufArray(arr)
	for i := range arr {
		arr[i] = frame(t, i)
	}
	require.Equal(t, n, port.TxBurst(0, arr))
}

// collect receives up to n frames and returns copies of their bytes.
func collect(t *testing.T, port dpdk.Port, n int) [][]byte {
	t.Helper()
	arr := dpdk.NewMbufArray(n)
	defer dpdk.FreeMbufArray(arr)
	var out [][]byte
	for tries := 0; tries < 100 && len(out) < n; tries++ {
		k := port.RxBurst(0, arr[:n-len(out)])
		for _, m := range arr[:k] {
			out = append(out, append([]byte(nil), m.Data()...))
		}
		dpdk.FreeBulk(arr[:k])
	}
	return out
}

func runTurns(e *engine, n int) {
	for i := 0; i < n; i++ {
		e.turn()
	}
	e.flush()
}

func TestForwardIOAndMacswapOnePort(t *testing.T) {
	for _, mode := range []int{modeIO, modeMacswap} {
		a, b := ringPair(t)
		e := newEngine(mode, []dpdk.Port{a}, 32, pool, 64)
		inject(t, b, 40) // more than a burst
		runTurns(e, 4)
		got := collect(t, b, 40)
		e.close()
		require.Len(t, got, 40, "mode %d", mode)
		for i, d := range got {
			assert.Equal(t, byte(i), d[14], "order kept")
			if mode == modeIO {
				assert.Equal(t, []byte{0xd0, 0xd0, 0xd0, 0xd0, 0xd0, 0xd0}, d[0:6])
			} else {
				assert.Equal(t, []byte{0x50, 0x50, 0x50, 0x50, 0x50, 0x50}, d[0:6], "destination is the old source")
				assert.Equal(t, []byte{0xd0, 0xd0, 0xd0, 0xd0, 0xd0, 0xd0}, d[6:12])
			}
		}
		assert.Equal(t, portCounters{rxPkts: 40, rxBytes: 40 * 64, txPkts: 40, txBytes: 40 * 64}, e.ctr[0])
	}
}

func TestForwardTwoPortsCrosses(t *testing.T) {
	a1, b1 := ringPair(t)
	a2, b2 := ringPair(t)
	e := newEngine(modeMacswap, []dpdk.Port{a1, a2}, 16, pool, 64)
	defer e.close()
	inject(t, b1, 10) // → a1 → a2 → b2
	inject(t, b2, 3)  // → a2 → a1 → b1
	runTurns(e, 3)
	assert.Len(t, collect(t, b2, 10), 10)
	assert.Len(t, collect(t, b1, 3), 3)
	assert.Equal(t, uint64(10), e.ctr[0].rxPkts)
	assert.Equal(t, uint64(10), e.ctr[1].txPkts)
	assert.Equal(t, uint64(3), e.ctr[1].rxPkts)
	assert.Equal(t, uint64(3), e.ctr[0].txPkts)
	assert.Zero(t, e.ctr[0].drops+e.ctr[1].drops)
}

func TestTxOnlyToRxOnly(t *testing.T) {
	a, b := ringPair(t)
	tx := newEngine(modeTxOnly, []dpdk.Port{a}, 32, pool, 1500)
	rx := newEngine(modeRxOnly, []dpdk.Port{b}, 32, pool, 64)
	for i := 0; i < 50; i++ {
		tx.turn()
		rx.turn()
	}
	tx.close()
	rx.close()
	assert.Greater(t, tx.ctr[0].txPkts, uint64(1000))
	assert.Equal(t, tx.ctr[0].txPkts, rx.ctr[0].rxPkts+tx.ctr[0].drops*0, "everything sent arrives")
	assert.Equal(t, rx.ctr[0].rxPkts*1500, rx.ctr[0].rxBytes)
	assert.Equal(t, tx.ctr[0].txPkts*1500, tx.ctr[0].txBytes)

	var out bytes.Buffer
	rx.summary(&out, dpdk.TSCHz())
	assert.Regexp(t, `^fwd mode=rxonly ports=1 secs=[0-9.]+ rx_pkts=\d+ rx_bytes=\d+ rx_mpps=[0-9.]+ rx_gbps=[0-9.]+ `, out.String())
}

func TestTxOnlyHeaders(t *testing.T) {
	a, b := ringPair(t)
	e := newEngine(modeTxOnly, []dpdk.Port{a}, 4, pool, 100)
	e.turn() // builds a burst
	e.turn() // sends it
	e.close()
	got := collect(t, b, 4)
	require.Len(t, got, 4)
	d := got[0]
	require.Len(t, d, 100)
	assert.Equal(t, []byte{0x08, 0x00}, d[12:14])
	assert.Equal(t, uint16(86), binary.BigEndian.Uint16(d[16:]), "IPv4 total length")
	var sum uint32
	for i := 14; i < 34; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(d[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	assert.Equal(t, uint32(0xffff), sum, "IPv4 header checksum verifies")
	assert.Equal(t, uint16(66), binary.BigEndian.Uint16(d[38:]), "UDP length")
}

func TestPingPongInProcess(t *testing.T) {
	a, b := ringPair(t)
	hz := dpdk.TSCHz()
	ping, err := newPinger(a, pool, 64, 8, hz)
	require.NoError(t, err)
	defer ping.close()
	pong := newPonger(b, 8, hz)
	defer pong.close()

	roundTrip := func(typ byte) (bool, byte) {
		ping.typ = typ
		ping.turn() // send
		pong.turn() // receive, queue the echo
		pong.turn() // send the echo
		got, gtyp, cycles := ping.turn()
		if got && cycles > hz {
			t.Errorf("round trip of %d cycles", cycles)
		}
		return got, gtyp
	}
	for i := 0; i < 10; i++ {
		got, typ := roundTrip(typePing)
		require.True(t, got, "round trip %d", i)
		assert.Equal(t, byte(typePing), typ)
	}
	assert.Equal(t, uint64(10), ping.seq)
	assert.Equal(t, int64(10), pong.echoed)

	got, typ := roundTrip(typeHK)
	require.True(t, got)
	assert.Equal(t, byte(typeHK), typ)
	assert.Equal(t, 1, pong.yields, "the pong yields after echoing a housekeeping frame")

	allocs := testing.AllocsPerRun(200, func() {
		if got, _ := roundTrip(typePing); !got {
			t.Fatal("no echo")
		}
	})
	assert.Zero(t, allocs, "ping and pong turns allocate")

	// A frame that is not ours is dropped, not echoed.
	inject(t, a, 1)
	pong.turn()
	pong.turn()
	got, typ = roundTrip(typeStop)
	require.True(t, got)
	assert.Equal(t, byte(typeStop), typ)
	assert.True(t, pong.stop)
	assert.Equal(t, 0, ping.lost)
}

func TestPingLosesAndRecovers(t *testing.T) {
	a, b := ringPair(t) // nobody answers on b
	ping, err := newPinger(a, pool, 64, 8, dpdk.TSCHz())
	require.NoError(t, err)
	defer ping.close()
	ping.timeout = 1 // a frame not echoed within one cycle is lost
	got, _, _ := ping.turn()
	assert.False(t, got)
	assert.Equal(t, 1, ping.lost)
	require.NotNil(t, ping.pending, "a fresh frame replaces the lost one")
	require.NoError(t, ping.err)
	for i := 0; i < 10; i++ {
		ping.turn()
	}
	assert.ErrorContains(t, ping.err, "frames lost")
	assert.Len(t, collect(t, b, 16), 11, "every lost frame was sent")
}

func TestEngineTurnsDoNotAllocate(t *testing.T) {
	a, b := ringPair(t)
	fwd := newEngine(modeMacswap, []dpdk.Port{a}, 32, pool, 64)
	defer fwd.close()
	sink := newEngine(modeRxOnly, []dpdk.Port{b}, 32, pool, 64)
	defer sink.close()
	arr := dpdk.NewMbufArray(8)
	defer dpdk.FreeMbufArray(arr)
	allocs := testing.AllocsPerRun(200, func() {
		if pool.AllocBulk(arr) != nil {
			t.Fatal("pool empty")
		}
		for _, m := range arr {
			m.Append(64)
		}
		b.TxBurst(0, arr)
		fwd.turn()
		fwd.turn()
		sink.turn()
	})
	assert.Zero(t, allocs)

	gen := newEngine(modeTxOnly, []dpdk.Port{a}, 8, pool, 64)
	defer gen.close()
	allocs = testing.AllocsPerRun(200, func() {
		gen.turn()
		sink.turn()
	})
	assert.Zero(t, allocs)
	for i := 0; i < 4; i++ {
		sink.turn()
	}
}

func TestParse(t *testing.T) {
	var errb bytes.Buffer
	_, err := parse([]string{"pingpong", "-role", "pong"}, &errb)
	require.Error(t, err, "flags after the mode are not flags")
	c, err := parse([]string{"-role", "pong", "pingpong"}, &errb)
	require.NoError(t, err)
	assert.Equal(t, "pong", c.mode)
	assert.Equal(t, devList{"net_memif0,role=server,socket=/run/zocket/zfpmd.sock"}, c.devs)
	assert.Zero(t, c.wait, "a pong waits for its first ping forever")
	c, err = parse([]string{"pingpong-ping"}, &errb)
	require.NoError(t, err)
	assert.Equal(t, "ping", c.mode)
	assert.Equal(t, 0, c.cpu)
	assert.Equal(t, int64(1_000_000), c.n)
	assert.Equal(t, 30*time.Second, c.wait, "a ping gives up")
	assert.Contains(t, c.devs[0], "role=client")
	c, err = parse([]string{"-dev", "net_ring0", "-dev", "net_ring1", "-s", "1500", "txonly"}, &errb)
	require.NoError(t, err)
	assert.Equal(t, devList{"net_ring0", "net_ring1"}, c.devs)
	c, err = parse([]string{"-n", "5000", "c2c"}, &errb)
	require.NoError(t, err)
	assert.Equal(t, "c2c", c.mode)
	assert.Equal(t, 1, c.peer)
	for _, bad := range [][]string{{"bogus"}, {"-s", "20", "txonly"}, {"-burst", "0", "io"}, {"pingpong"}, {}} {
		_, err := parse(bad, &errb)
		assert.Error(t, err, "%q", bad)
	}
}

var rttLine = regexp.MustCompile(`^rtt_ns n=(\d+) min=(\d+) mean=(\d+) p50=(\d+) p99=(\d+) p999=(\d+) max=(\d+)$`)

// TestPingPongOverMemif runs the real tool: pong and ping as two processes over net_memif.
func TestPingPongOverMemif(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two processes")
	}
	bin := filepath.Join(t.TempDir(), "zfpmd")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	sock := fmt.Sprintf("/run/zocket/zfpmd-test-%d.sock", os.Getpid())
	var pongOut lab.Output // read while pong still runs
	pong := exec.CommandContext(ctx, bin, "-v", "-c", "1", "-wait", "20s",
		"-dev", "net_memif0,role=server,socket="+sock, "pong")
	pong.Env = append(os.Environ(), "ZOCKET_EAL_ARGS=") // the tool picks its own EAL arguments
	pong.Stdout, pong.Stderr = &pongOut, &pongOut
	require.NoError(t, pong.Start())
	defer func() {
		if pong.ProcessState == nil {
			pong.Process.Kill()
			pong.Wait()
		}
	}()

	ping := exec.CommandContext(ctx, bin, "-v", "-c", "0", "-wait", "20s", "-n", "20000", "-w", "1000",
		"-dev", "net_memif0,role=client,socket="+sock, "ping")
	ping.Env = pong.Env
	var pingOut, pingErr bytes.Buffer
	ping.Stdout, ping.Stderr = &pingOut, &pingErr
	require.NoError(t, ping.Run(), "ping: %s\npong: %s", pingErr.String(), pongOut.String())
	require.NoError(t, pong.Wait(), "pong: %s", pongOut.String())

	lines := strings.Split(strings.TrimSpace(pingOut.String()), "\n")
	last := lines[len(lines)-1]
	m := rttLine.FindStringSubmatch(last)
	require.NotNil(t, m, "closing line %q", last)
	assert.Equal(t, "20000", m[1])
	var v [7]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(m[i+1], 10, 64)
	}
	assert.True(t, v[1] > 0 && v[1] <= v[3] && v[3] <= v[4] && v[4] <= v[5] && v[5] <= v[6], "min ≤ p50 ≤ p99 ≤ p999 ≤ max: %s", last)
	assert.Contains(t, pingErr.String(), "num_gc=0", "no GC during the run")
	assert.Contains(t, pongOut.String(), "pong: echoed ")
	t.Logf("%s\n%s%s", last, pingErr.String(), pongOut.String())
}
