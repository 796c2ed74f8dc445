package tcp

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closeToTimeWait closes c actively (Close or, when shutdownOnly, ShutdownTx) and has the peer
// ACK the FIN and send its own: c ends in TIME-WAIT.
func (sc *script) closeToTimeWait(c *Conn, shutdownOnly bool) {
	sc.t.Helper()
	if shutdownOnly {
		require.NoError(sc.t, c.ShutdownTx())
	} else {
		require.NoError(sc.t, c.Close())
	}
	sc.expect(flags(fF|fA), seqNum(stackISN+1))
	sc.send(seg{flags: fA | fF, seq: peerISN + 1, ack: stackISN + 2})
	sc.expect(flags(fA), ackNum(peerISN+2))
	require.Equal(sc.t, StateTimeWait, c.State())
}

// With every endpoint taken, a connection in TIME-WAIT that the application closed gives its
// endpoint to a new one (a peer's SYN, a NewHandle), counted as TimeWaitRecycled; one the
// application only shut down is not recycled. Before, the SYN was dropped (DropBacklog) and
// NewHandle failed with ENOBUFS for tcp_timewait_ms.
func TestScriptTimeWaitRecycled(t *testing.T) {
	t.Run("syn", func(t *testing.T) {
		sc := newScript(t, "max_tcp_endpoints", "1")
		sc.closeToTimeWait(sc.established(), false)
		sc.send(seg{flags: fS, seq: 5000, sport: peerPort + 1, mss: 1460})
		sc.expect(flags(fSA), ackNum(5001))
		cnt := StackCounters(sc.r.S)
		assert.Equal(t, uint64(1), cnt.TimeWaitRecycled)
		assert.Zero(t, cnt.Drops[DropBacklog])
		_, err := NewHandle(sc.r.S, nil)
		assert.ErrorIs(t, err, syscall.ENOBUFS, "the half-open connection holds the endpoint")
	})
	t.Run("handle", func(t *testing.T) {
		sc := newScript(t, "max_tcp_endpoints", "1")
		sc.closeToTimeWait(sc.established(), false)
		h, err := NewHandle(sc.r.S, nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), StackCounters(sc.r.S).TimeWaitRecycled)
		require.NoError(t, h.Close())
	})
	t.Run("not orphaned", func(t *testing.T) {
		sc := newScript(t, "max_tcp_endpoints", "1")
		c := sc.established()
		sc.closeToTimeWait(c, true)
		_, err := NewHandle(sc.r.S, nil)
		assert.ErrorIs(t, err, syscall.ENOBUFS)
		sc.send(seg{flags: fS, seq: 5000, sport: peerPort + 1, mss: 1460})
		sc.expectNone()
		assert.Equal(t, uint64(1), StackCounters(sc.r.S).Drops[DropBacklog])
		require.NoError(t, c.Close()) // orphaned in TIME-WAIT: recyclable now
		h, err := NewHandle(sc.r.S, nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), StackCounters(sc.r.S).TimeWaitRecycled)
		require.NoError(t, h.Close())
	})
}
