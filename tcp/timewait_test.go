package tcp

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/wire"
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

// A SYN for the 4-tuple of a connection in TIME-WAIT (a client reusing its port soon) opens a
// new connection when its timestamp is newer than the old incarnation's, whatever its sequence
// number (RFC 6191), and without timestamps only above RCV.NXT (RFC 1122 §4.2.2.13). Before,
// a lower sequence number left the client's SYNs unanswered but for ACKs until TIME-WAIT ended
// (a Linux client's request through ab hung).
func TestScriptTimeWaitReopen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ts     bool   // the old incarnation and the SYN have timestamps
		tsval  uint32 // the new SYN's TSval (TS.Recent is 101)
		seq    wire.Seq
		reopen bool
	}{
		{"newer timestamp, lower sequence", true, 200, peerISN - 1000, true},
		{"older timestamp, higher sequence", true, 50, peerISN + 1000, false},
		{"no timestamps, higher sequence", false, 0, peerISN + 1000, true},
		{"no timestamps, lower sequence", false, 0, peerISN - 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			l := sc.listen()
			var synOpts, ackOpts []byte
			if tc.ts {
				synOpts = tsOpt(100, 0)
			}
			sc.send(seg{flags: fS, seq: peerISN, mss: 1460, opts: synOpts})
			sa := sc.expect(flags(fSA), seqNum(stackISN))
			if tc.ts {
				ackOpts = tsOpt(101, sa.opts.TSVal)
			}
			sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1, opts: ackOpts})
			c, err := l.Accept()
			require.NoError(t, err)
			require.Equal(t, tc.ts, c.tsOK)
			sc.closeToTimeWait(c, false)

			var opts []byte
			if tc.ts {
				opts = tsOpt(tc.tsval, 0)
			}
			sc.send(seg{flags: fS, seq: tc.seq, mss: 1460, opts: opts})
			got := sc.expect()
			if tc.reopen {
				assert.Equal(t, (fS | fA).String(), got.tcp.Flags().String(), "a new connection")
				assert.Equal(t, tc.seq+1, got.tcp.Ack())
				assert.Equal(t, 1, l.halfOpen)
			} else {
				assert.Equal(t, fA.String(), got.tcp.Flags().String(), "TIME-WAIT answers with an ACK")
				assert.Zero(t, l.halfOpen)
			}
		})
	}
}
