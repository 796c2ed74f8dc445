package dpdk_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/eal"
	"github.com/zocket/zocket/internal/ealtest"
)

var pool *dpdk.Pool

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
		p, err := dpdk.NewPool("dpdk_test", 1023, 32, dpdk.DefaultDataRoom, -1)
		require.NoError(t, err)
		pool = p
	}
	t.Cleanup(func() { assert.Zero(t, pool.InUse(), "mbufs leaked by %s", t.Name()) })
	return pool
}

func TestEALSecondInitFails(t *testing.T) {
	err := eal.Init([]string{"--no-pci"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EALREADY), "got %v", err)
	assert.Contains(t, err.Error(), "rte_eal_init")
	assert.True(t, eal.Initialized())
	assert.GreaterOrEqual(t, eal.LcoreCount(), 1)
}

func TestPoolAllocFreeCounts(t *testing.T) {
	p := testPool(t)
	assert.Equal(t, 1023, p.Size())
	assert.Equal(t, "dpdk_test", p.Name())
	ms := make([]*dpdk.Mbuf, 100)
	require.NoError(t, p.AllocBulk(ms))
	assert.Equal(t, 100, p.InUse())
	assert.Equal(t, 923, p.Available())
	for _, m := range ms {
		require.NotNil(t, m)
		assert.Equal(t, uint16(1), m.Refcnt())
		assert.Equal(t, 0, m.DataLen())
		assert.Equal(t, dpdk.DefaultHeadroom, m.Headroom())
		assert.Equal(t, p, m.Pool())
	}
	dpdk.FreeBulk(ms)
	assert.Zero(t, p.InUse())

	// All or nothing: asking for more than there is allocates nothing.
	big := make([]*dpdk.Mbuf, 2000)
	err := p.AllocBulk(big)
	assert.True(t, errors.Is(err, syscall.ENOBUFS), "got %v", err)
	assert.Zero(t, p.InUse())
}

func TestPoolCreateErrorNamesCall(t *testing.T) {
	_, err := dpdk.NewPool("dpdk_test_bad", 0, 0, dpdk.DefaultDataRoom, -1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rte_pktmbuf_pool_create")
	var de *dpdk.Error
	assert.True(t, errors.As(err, &de))
}

func TestMbufViewsAreZeroCopy(t *testing.T) {
	p := testPool(t)
	m := p.Alloc()
	require.NotNil(t, m)
	defer m.Free()

	tail := m.Tailroom()
	b := m.Append(10)
	require.Len(t, b, 10)
	copy(b, "0123456789")
	assert.Equal(t, tail-10, m.Tailroom())
	assert.Equal(t, "0123456789", string(m.Data()))
	// The view aliases the buffer: writing through one is seen through the other.
	m.Data()[0] = 'X'
	assert.Equal(t, byte('X'), b[0])

	h := m.Prepend(4)
	require.Len(t, h, 4)
	copy(h, "HDR:")
	assert.Equal(t, "HDR:X123456789", string(m.Data()))
	assert.Equal(t, 14, m.PktLen())
	assert.Equal(t, dpdk.DefaultHeadroom-4, m.Headroom())

	assert.True(t, m.Adj(4))
	assert.True(t, m.Trim(5))
	assert.Equal(t, "X1234", string(m.Data()))
	assert.False(t, m.Adj(100))
	assert.Nil(t, m.Prepend(10000))
	assert.Nil(t, m.Append(100000))

	m.SetOlFlags(dpdk.TxIPv4 | dpdk.TxIPChecksum)
	assert.Equal(t, dpdk.TxIPv4|dpdk.TxIPChecksum, m.OlFlags())
	m.SetTxOffload(14, 20, 0)
}

func TestMbufChainAndRefcnt(t *testing.T) {
	p := testPool(t)
	ms := make([]*dpdk.Mbuf, 3)
	require.NoError(t, p.AllocBulk(ms))
	for i, m := range ms {
		copy(m.Append(100*(i+1)), "seg")
	}
	require.True(t, ms[0].Chain(ms[1]))
	require.True(t, ms[0].Chain(ms[2]))
	assert.Equal(t, 3, ms[0].NbSegs())
	assert.Equal(t, 600, ms[0].PktLen())
	assert.Equal(t, ms[1], ms[0].Next())
	assert.Equal(t, ms[2], ms[1].Next())
	assert.Nil(t, ms[2].Next())

	// Reference counts are per segment (as in DPDK): an extra reference on the head keeps the
	// head alive through one free of the chain, while the other segments go back to the pool.
	assert.Equal(t, uint16(2), ms[0].RefcntAdd(1))
	ms[0].Free()
	assert.Equal(t, 1, p.InUse())
	assert.Equal(t, uint16(1), ms[0].Refcnt())
	ms[0].SetNext(nil)
	ms[0].Free()
	assert.Zero(t, p.InUse())
}

func TestRingPairCarriesPacketsBothWays(t *testing.T) {
	p := testPool(t)
	rp, err := dpdk.NewRingPair("dpdk_t1", 256)
	require.NoError(t, err)
	defer rp.Close()
	for _, port := range []dpdk.Port{rp.A, rp.B} {
		cfg := &dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 256, TxDesc: 256, Pool: p}
		require.NoError(t, port.Configure(cfg))
		require.NoError(t, port.Start())
		l, err := port.Link()
		require.NoError(t, err)
		assert.True(t, l.Up, "link of %s", port.Name())
	}
	tx := make([]*dpdk.Mbuf, 8)
	require.NoError(t, p.AllocBulk(tx))
	for i, m := range tx {
		copy(m.Append(64), fmt.Sprintf("packet %d", i))
	}
	assert.Equal(t, 8, rp.A.TxBurst(0, tx))

	rx := make([]*dpdk.Mbuf, 32)
	sent, n, _ := rp.B.TxRx(0, nil, rx)
	assert.Zero(t, sent)
	require.Equal(t, 8, n)
	for i := 0; i < n; i++ {
		want := fmt.Sprintf("packet %d", i)
		assert.Equal(t, want, string(rx[i].Data()[:len(want)]))
	}
	// Echo them back in the same call that polls.
	sent, n, _ = rp.B.TxRx(0, rx[:8], rx[8:])
	assert.Equal(t, 8, sent)
	assert.Zero(t, n)
	n = rp.A.RxBurst(0, rx)
	assert.Equal(t, 8, n)
	dpdk.FreeBulk(rx[:n])

	st, err := rp.A.Stats()
	require.NoError(t, err)
	assert.Equal(t, uint64(8), st.TxPackets)
	assert.Equal(t, uint64(8), st.RxPackets)
	require.NoError(t, rp.A.Stop())
	require.NoError(t, rp.B.Stop())
}

func TestProbeVdevAndErrors(t *testing.T) {
	p := testPool(t)
	port, err := dpdk.Probe("net_null7,size=64")
	require.NoError(t, err)
	assert.Equal(t, "net_null7", port.Name())
	again, err := dpdk.Probe("net_null7")
	require.NoError(t, err)
	assert.Equal(t, port, again, "an existing port is returned, not probed twice")
	info, err := port.Info()
	require.NoError(t, err)
	assert.Equal(t, "net_null", info.Driver)
	require.NoError(t, port.Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 64, TxDesc: 64, Pool: p}))
	require.NoError(t, port.Start())
	rx := make([]*dpdk.Mbuf, 4)
	n := port.RxBurst(0, rx)
	assert.Equal(t, 4, n, "net_null receives a packet per slot")
	assert.Equal(t, 64, rx[0].DataLen())
	dpdk.FreeBulk(rx[:n])
	require.NoError(t, port.Stop())
	require.NoError(t, port.Close())
	_, err = dpdk.PortByName("net_null7")
	assert.Error(t, err, "closed vdev is gone")

	_, err = dpdk.Probe("net_nosuchdriver0,x=1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rte_vdev_init(net_nosuchdriver0,x=1)")

	err = dpdk.Port(999).Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, Pool: p})
	assert.Error(t, err)
	assert.Contains(t, err.Error(), "rte_eth_dev_configure")
}

func TestZeroAllocBurstPath(t *testing.T) {
	p := testPool(t)
	rp, err := dpdk.NewRingPair("dpdk_t2", 64)
	require.NoError(t, err)
	defer rp.Close()
	for _, port := range []dpdk.Port{rp.A, rp.B} {
		require.NoError(t, port.Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 64, TxDesc: 64, Pool: p}))
		require.NoError(t, port.Start())
	}
	ms := dpdk.NewMbufArray(4)
	rx := dpdk.NewMbufArray(8)
	defer dpdk.FreeMbufArray(ms)
	defer dpdk.FreeMbufArray(rx)
	allocs := testing.AllocsPerRun(1000, func() {
		if p.AllocBulk(ms) != nil {
			panic("alloc")
		}
		for _, m := range ms {
			m.Append(60)
			_ = m.Data()
		}
		rp.A.TxRx(0, ms, nil)
		_, n, _ := rp.B.TxRx(0, nil, rx)
		dpdk.FreeBulk(rx[:n])
	})
	assert.Zero(t, allocs)
	rp.A.Stop()
	rp.B.Stop()
}

func BenchmarkTxRxEmpty(b *testing.B) {
	rp, err := dpdk.NewRingPair("dpdk_b1", 64)
	require.NoError(b, err)
	defer rp.Close()
	p := testPoolB(b)
	require.NoError(b, rp.A.Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 64, TxDesc: 64, Pool: p}))
	require.NoError(b, rp.A.Start())
	rx := dpdk.NewMbufArray(32)
	defer dpdk.FreeMbufArray(rx)
	b.ReportAllocs()
	for b.Loop() {
		rp.A.TxRx(0, nil, rx)
	}
}

func testPoolB(b *testing.B) *dpdk.Pool {
	if pool == nil {
		p, err := dpdk.NewPool("dpdk_test", 1023, 32, dpdk.DefaultDataRoom, -1)
		require.NoError(b, err)
		pool = p
	}
	return pool
}
