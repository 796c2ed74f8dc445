package zc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/zc"
)

// TestHotPathsDoNotAllocate: zc.Send (UDP and TCP), zc.Recv with its callback, SendZC and
// completion polling allocate nothing per call.
func TestHotPathsDoNotAllocate(t *testing.T) {
	e := newEnv(t)
	tx, rx := e.udp(7100)
	c, s := e.tcp(8100)
	iov := make([]zc.IOVec, 2)
	msgs := make([]zc.MMsg, 2)
	var got, notified int
	cb := func(m *zc.RecvMsg, f int) zc.Action { got += len(m.Iov[0].Buf); return zc.Continue }
	var b [4096]byte
	rbuf := [][]byte{b[:]}
	reg, err := zc.RegisterBuffers(e.A, 1, zc.HdrTCP)
	require.NoError(t, err)
	t.Cleanup(reg.Unregister)
	cq := zc.Completions(e.A)
	out := make([]zc.Completion, 4)
	allocs := testing.AllocsPerRun(200, func() {
		if zc.AllocBuffers(e.A, iov[:1], zc.HdrUDP) != nil || zc.AllocBuffers(e.A, iov[1:], zc.HdrTCP) != nil {
			t.Fatal("alloc")
		}
		iov[0].Buf = iov[0].Buf[:1000]
		iov[1].Buf = iov[1].Buf[:1000]
		msgs[0] = zc.MMsg{Zocket: tx, Iov: iov[:1]}
		msgs[1] = zc.MMsg{Zocket: c, Iov: iov[1:]}
		if _, err := zc.Send(msgs, 0); err != nil || msgs[0].Rc != 1000 || msgs[1].Rc != 1000 {
			t.Fatalf("send: %v %d %d", err, msgs[0].Rc, msgs[1].Rc)
		}
		if _, err := zc.SendZCFixed(c, reg, 0, 0, 1000, zc.ReportUsage, 7); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			e.Step()
			e.Clock.Advance(50_000_000) // past the delayed ACK
			_, _ = zc.Recv(rx, cb, zc.DontWait)
			for {
				if n, err := s.Recv(rbuf); err != nil || n == 0 {
					break
				}
			}
			if k := cq.Poll(out); k > 0 {
				notified += k
				break
			}
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 201*1000, got)
	assert.Equal(t, 201, notified, "each SendZC notified before its buffer is sent again")
}
