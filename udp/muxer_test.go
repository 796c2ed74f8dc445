package udp_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
)

// TestMuxerReadiness: a receiver is an EPOLLIN edge for every datagram that arrives, and not
// ready once drained; a transmitter is writable; a closed zocket leaves its muxer.
func TestMuxerReadiness(t *testing.T) {
	p := lab.NewPair(t)
	rx := newRx(t, p.B, nil)
	bind(t, rx, ap(addrB, 5000), ap(addrA, 6000))
	tx := newTx(t, p.A, ap(addrA, 6000), ap(addrB, 5000), nil)
	m := stack.NewMuxer(p.B)
	require.NoError(t, m.Add(rx.Waitable(), stack.Event{Events: stack.EPOLLIN, Data: 1}))
	mA := stack.NewMuxer(p.A)
	require.NoError(t, mA.Add(tx.Waitable(), stack.Event{Events: stack.EPOLLOUT, Data: 2}))
	evs := make([]stack.Event, 4)

	require.Equal(t, 1, mA.Wait(evs, 0), "a transmitter is writable")
	assert.Equal(t, stack.Event{Events: stack.EPOLLOUT, Data: 2}, evs[0])
	assert.Zero(t, m.Wait(evs, 0), "nothing received yet")

	waitIn := func() int {
		for i := 0; i < 20; i++ {
			p.A.Perform()
			if n := m.Wait(evs, 0); n > 0 {
				return n
			}
			p.Clock.Advance(int64(time.Microsecond))
		}
		return 0
	}
	_, err := tx.SendSingle([]byte("one"))
	require.NoError(t, err)
	require.Equal(t, 1, waitIn())
	assert.Equal(t, stack.Event{Events: stack.EPOLLIN, Data: 1}, evs[0])
	// A second datagram while the first is unread is a new edge.
	_, err = tx.SendSingle([]byte("two"))
	require.NoError(t, err)
	require.Equal(t, 1, waitIn(), "new data is always an edge")

	msg := udp.NewMsg(4)
	for i := 0; i < 2; i++ {
		rx.ZcRecv(msg)
		require.Len(t, msg.Iov, 1)
		rx.ZcRecvDone(msg)
	}
	assert.Zero(t, rx.Waitable().Readiness()&stack.EPOLLIN, "drained: not readable")
	require.NoError(t, m.Mod(rx.Waitable(), rx.Waitable().Event()))
	assert.Zero(t, m.Wait(evs, 0), "re-arming a drained receiver reports nothing")

	require.NoError(t, rx.Close())
	assert.True(t, errors.Is(m.Del(rx.Waitable()), syscall.EINVAL), "Close took it out of the muxer")
}
