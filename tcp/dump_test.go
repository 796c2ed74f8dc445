package tcp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/stack"
)

// TestDumpRows: a snapshot shows each connection's sequence space and a listener's backlog,
// and snd_nxt moves with what is sent.
func TestDumpRows(t *testing.T) {
	p := newPair(t)
	c, _, _ := p.connect(5100)
	rowOf := func(st *stack.Stack, typ string) (row stack.DumpRow, found bool) {
		st.SnapshotSync(func(sn *stack.Snapshot) {
			for _, r := range sn.Rows {
				if r.Kind.Type == typ {
					row, found = r, true
					row.F = append([]uint64(nil), r.F...)
				}
			}
		})
		return row, found
	}
	row, ok := rowOf(p.A, "tcp")
	require.True(t, ok)
	assert.Equal(t, "ESTABLISHED", row.StateName())
	assert.Equal(t, c.LocalAddr(), row.LocalAddr())
	assert.Equal(t, c.RemoteAddr(), row.RemoteAddr())
	before, _ := row.Field("snd_nxt")
	mss, _ := row.Field("mss")
	assert.Equal(t, uint64(1448), mss, "1460 less the timestamps (default on)")
	for name, want := range map[string]uint64{"sack": 1, "ts": 1, "wscale": 1,
		"snd_wscale": uint64(c.sndShift), "rcv_wscale": uint64(c.rcvShift)} {
		v, ok := row.Field(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, v, name)
	}

	_, err := c.SendSingle(make([]byte, 100), 0)
	require.NoError(t, err)
	p.run(20, 10*time.Millisecond, func() bool { return c.sndUna == c.sndNxt })
	row, _ = rowOf(p.A, "tcp")
	after, _ := row.Field("snd_nxt")
	assert.Equal(t, before+100, after, "snd_nxt advanced by the bytes sent")

	lrow, ok := rowOf(p.B, "tcp_listen")
	require.True(t, ok)
	assert.Equal(t, "LISTEN", lrow.StateName())
	assert.Equal(t, uint16(5100), lrow.LocalPort)
	p.B.SnapshotSync(func(sn *stack.Snapshot) {
		assert.Equal(t, uint64(1), sn.Transport[stack.TCPPassiveOpens])
	})
}

// With the options off the rows say so: sack=0 ts=0 wscale=0, both shifts 0.
func TestDumpRowsOptionsOff(t *testing.T) {
	p := newPair(t, "tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0")
	p.connect(5101)
	found := false
	p.A.SnapshotSync(func(sn *stack.Snapshot) {
		for _, r := range sn.Rows {
			if r.Kind.Type != "tcp" {
				continue
			}
			found = true
			for _, name := range []string{"sack", "ts", "wscale", "snd_wscale", "rcv_wscale"} {
				v, ok := r.Field(name)
				assert.True(t, ok, name)
				assert.Zero(t, v, name)
			}
		}
	})
	assert.True(t, found)
}
