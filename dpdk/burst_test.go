package dpdk_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
)

func TestForwardingTurns(t *testing.T) {
	p := testPool(t)
	rp, err := dpdk.NewRingPair("dpdk_burst", 16) // a ring of 16 holds 15
	require.NoError(t, err)
	defer rp.Close()
	for _, port := range []dpdk.Port{rp.A, rp.B} {
		require.NoError(t, port.Configure(&dpdk.Config{RxQueues: 1, TxQueues: 1, RxDesc: 16, TxDesc: 16, Pool: p}))
		require.NoError(t, port.Start())
	}
	tx := dpdk.NewMbufArray(20)
	defer dpdk.FreeMbufArray(tx)
	rx := dpdk.NewMbufArray(32)
	defer dpdk.FreeMbufArray(rx)

	// Generator turn: nothing to send yet, allocate the first burst.
	tn := rp.A.TxDropAlloc(0, nil, p, tx)
	require.True(t, tn.Allocated)
	assert.Zero(t, tn.Sent)
	assert.NotZero(t, tn.TSC)
	for _, m := range tx {
		m.Append(100)
	}
	// Sending 20 into a ring that holds 15: 5 are dropped (freed), and 20 more are allocated.
	next := dpdk.NewMbufArray(20)
	defer dpdk.FreeMbufArray(next)
	tn = rp.A.TxDropAlloc(0, tx, p, next)
	assert.Equal(t, 15, tn.Sent)
	assert.Equal(t, 15*100, tn.Bytes)
	assert.True(t, tn.Allocated)
	assert.Equal(t, 35, p.InUse(), "15 in the ring, 20 allocated, the 5 drops freed")
	dpdk.FreeBulk(next)

	// Forwarding turn on B: receive the 15, then send them back to A in the next turn.
	tn = rp.B.TxDropRx(0, rp.B, 0, nil, rx)
	require.Equal(t, 15, tn.Received)
	tn2 := rp.B.TxDropRx(0, rp.B, 0, rx[:15], rx[15:])
	assert.Equal(t, 15, tn2.Sent)
	assert.Equal(t, 1500, tn2.Bytes)
	assert.Zero(t, tn2.Received)
	assert.GreaterOrEqual(t, tn2.TSC, tn.TSC)

	// Sink turn on A: receive and free them all.
	tn = rp.A.RxDrop(0, rx)
	assert.Equal(t, 15, tn.Received)
	assert.Equal(t, 1500, tn.Bytes)
	assert.Zero(t, p.InUse())

	// A short pool: TxDropAlloc allocates nothing.
	big := dpdk.NewMbufArray(p.Size() + 1)
	defer dpdk.FreeMbufArray(big)
	tn = rp.A.TxDropAlloc(0, nil, p, big)
	assert.False(t, tn.Allocated)
	assert.Zero(t, p.InUse())

	allocs := testing.AllocsPerRun(100, func() {
		rp.A.TxDropAlloc(0, nil, p, tx[:4])
		rp.A.TxDropRx(0, rp.A, 0, tx[:4], nil)
		rp.B.RxDrop(0, rx)
	})
	assert.Zero(t, allocs)
	assert.Zero(t, p.InUse())
}

func TestSetLogLevel(t *testing.T) {
	require.NoError(t, dpdk.SetLogLevel("pmd.net.memif*", dpdk.LogCritical))
	require.NoError(t, dpdk.SetLogLevel("pmd.net.memif*", dpdk.LogError))
}
