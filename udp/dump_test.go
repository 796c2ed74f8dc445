package udp_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
)

// TestSnapshotRows: zfstackdump's view of UDP — a row per receiver bind and per transmitter,
// the stack-wide counters and every drop reason.
func TestSnapshotRows(t *testing.T) {
	p := lab.NewPair(t, "udp_rx_queue_len", "2")
	r := newRx(t, p.B, nil)
	bind(t, r, ap(addrB, 5000), netip.AddrPort{})
	bind(t, r, ap(addrB, 5001), ap(addrA, 4000))
	tx := newTx(t, p.A, ap(addrA, 4000), ap(addrB, 5000), nil)
	for i := 0; i < 3; i++ {
		_, err := tx.SendSingle([]byte("abcd"))
		require.NoError(t, err)
	}
	settle(p)
	var rows []stack.DumpRow
	var counters [stack.NumTransportCounters]uint64
	drops := map[string]uint64{}
	p.B.SnapshotSync(func(sn *stack.Snapshot) {
		for _, row := range sn.Rows {
			if row.Kind.Type == "udp_rx" {
				row.F = append([]uint64(nil), row.F...)
				rows = append(rows, row)
			}
		}
		counters = sn.Transport
		for _, d := range sn.Drops {
			drops[d.Reason] = d.N
		}
	})
	require.Len(t, rows, 2)
	assert.Equal(t, ap(addrB, 5000), rows[0].LocalAddr())
	assert.Equal(t, netip.MustParseAddrPort("0.0.0.0:0"), rows[0].RemoteAddr())
	assert.Equal(t, ap(addrA, 4000), rows[1].RemoteAddr())
	for name, want := range map[string]uint64{"unread": 2, "received": 2, "q_drops": 1, "queue_len": 2} {
		v, ok := rows[0].Field(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, v, name)
	}
	assert.Equal(t, uint64(2), counters[stack.UDPDatagramsReceived])
	assert.Equal(t, uint64(1), counters[stack.UDPQueueDrops])
	assert.Len(t, drops, int(udp.NumDropReasons), "every reason, zeros included")
	assert.Equal(t, uint64(1), drops["udp_queue_full"])

	var txRows []stack.DumpRow
	p.A.SnapshotSync(func(sn *stack.Snapshot) {
		for _, row := range sn.Rows {
			if row.Kind.Type == "udp_tx" {
				row.F = append([]uint64(nil), row.F...)
				txRows = append(txRows, row)
			}
		}
	})
	require.Len(t, txRows, 1)
	assert.Equal(t, ap(addrB, 5000), txRows[0].RemoteAddr())
	sent, _ := txRows[0].Field("sent")
	assert.Equal(t, uint64(3), sent)
	recvAll(t, r)
}
