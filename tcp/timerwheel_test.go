package tcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 12 item 2 at TCP level: with tcp_keepalive on and tcp_keepalive_time_ms ==
// tcp_finwait_ms, the keepalive timer and the FIN-WAIT-2 timer of a closed connection whose FIN
// was ACKed come due in the same wheel slot (one 1 ms tick) at the same instant, and the
// handler that runs first stops the other timer of the slot.
//
// How they meet: the keepalive timer is armed at establishment (T0) for T0+idle. Close at T1
// sends the FIN; the peer's ACK at T1 (lastRcv = T1) moves the connection to FIN-WAIT-2 and arms
// the wait timer for T1+finwait, at the tail of its slot. When the keepalive timer fires at
// T0+idle it finds the connection idle for less than tcp_keepalive_time_ms and re-arms for
// lastRcv+idle = T1+finwait: the same slot, behind the wait timer. At T1+finwait the wait timer
// fires first, and closeDown stops the keepalive timer, which is the next timer of the walk:
// the old wheel (eee143d) had saved its next pointer before Expire and followed the stopped
// timer's nil link (a nil dereference panic in timerWheel.run).
//
// When the FIN is ACKed at T0 (T1 == T0), the keepalive timer was armed first and leads the
// slot: it finds the connection idle for the whole time, probes, and re-arms itself only; the
// wait timer then closes the connection. In this order the keepalive handler cannot stop the
// wait timer behind it: it would only by giving up (closeDown), which needs
// tcp_keepalive_probes >= 1 unanswered probes, each tcp_keepalive_intvl_ms after the idle
// time, never at the wait timer's instant once the FIN's ACK restarted the idle time. (Other
// handlers do touch their connection's other timers: any abort or close runs closeDown, which
// stops all five, and the transmit-retry handler's push arms the retransmission timer; the
// wheel's own test, stack's TestTimerWheelHandlerChangesNextTimer, covers those shapes.)
func TestTimerWheelKeepaliveMeetsFinWait(t *testing.T) {
	const idle = 1000 // tcp_keepalive_time_ms == tcp_finwait_ms
	for _, tc := range []struct {
		name    string
		closeAt int64  // ms after establishment: Close, the FIN and its ACK
		probes  uint64 // keepalive probes: 1 when its timer leads the slot, before the wait timer
	}{
		{"FIN ACKed later: wait timer first, stops keepalive", 100, 0},
		{"FIN ACKed at establishment: keepalive first, probes", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, "tcp_keepalive", "1", "tcp_keepalive_time_ms", "1000",
				"tcp_keepalive_intvl_ms", "75000", "tcp_finwait_ms", "1000")
			c := sc.established()
			t0 := sc.r.Clock.T
			if tc.closeAt > 0 {
				sc.r.Clock.Advance(tc.closeAt * ms)
				sc.expectNone()
			}
			require.NoError(t, c.Close())
			sc.expect(flags(fFA), seqNum(stackISN+1))
			sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 2})
			sc.expectNone()
			require.Equal(t, StateFinWait2, c.state)
			t1 := sc.r.Clock.T
			require.Equal(t, t1+idle*ms, c.waitT.When())

			// Up to the keepalive timer's first expiry: it re-arms for lastRcv+idle when the FIN
			// was ACKed after establishment.
			sc.r.Clock.Advance(t0 + idle*ms - 1 - sc.r.Clock.T)
			sc.expectNone()
			sc.r.Clock.Advance(1)
			if tc.probes > 0 {
				sc.expect(flags(fA), seqNum(stackISN+1)) // both timers ran in this turn
			} else {
				sc.expectNone()
				require.True(t, c.kaT.Armed())
				require.Equal(t, c.waitT.When(), c.kaT.When(), "same instant, same slot")
				sc.r.Clock.Advance(t1 + idle*ms - sc.r.Clock.T)
				sc.expectNone() // the wait timer ran and stopped the keepalive timer behind it
			}
			assert.Zero(t, sc.s.nconns, "freed")
			assert.Zero(t, sc.s.conns.n)
			assert.Equal(t, tc.probes, StackCounters(sc.r.S).KeepaliveProbes)
		})
	}
}
