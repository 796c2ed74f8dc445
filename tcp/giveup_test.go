package tcp

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vanishZeroWindow makes c's peer (source port sport) advertise a zero window for data c has
// queued, then fall silent: only the persist timer is left to watch it.
func (sc *script) vanishZeroWindow(c *Conn, sport uint16) {
	sc.t.Helper()
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1, zeroWnd: true, sport: sport})
	sc.expectNone()
	_, err := c.SendSingle([]byte("hello"), 0)
	require.NoError(sc.t, err)
	sc.expectNone()
}

// Scenario 19's other half: a peer that advertises a zero window and vanishes does not hold the
// connection for ever. Unanswered window probes end it after tcp_retries (ETIMEDOUT, a RST,
// counted as PersistTimeouts), or, once the application closed it, after tcp_orphan_retries
// (OrphanTimeouts); either way the send queue and the endpoint are given back.
func TestScriptZeroWindowPeerVanishes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kv      []string
		close   bool
		probes  int
		counter func(Counters) uint64
	}{
		{"open", []string{"tcp_retries", "3", "tcp_orphan_retries", "1"}, false, 3,
			func(c Counters) uint64 { return c.PersistTimeouts }},
		{"closed", []string{"tcp_retries", "10", "tcp_orphan_retries", "2"}, true, 2,
			func(c Counters) uint64 { return c.OrphanTimeouts }},
		{"closed, default orphan retries", []string{"tcp_retries", "10"}, true, 8,
			func(c Counters) uint64 { return c.OrphanTimeouts }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, append(tc.kv, "tcp_rto_max_ms", "4000")...)
			c := sc.established()
			sc.vanishZeroWindow(c, peerPort)
			if tc.close {
				require.NoError(t, c.Close())
				sc.expectNone()
				require.Equal(t, StateFinWait1, c.State())
			}
			for i := 0; i < tc.probes; i++ {
				sc.r.Clock.Advance(c.rto)
				sc.expect(flags(fA), seqNum(stackISN)) // a window probe
				require.NotEqual(t, StateClose, c.State(), "probe %d", i+1)
			}
			sc.r.Clock.Advance(c.rto)
			sc.expect(flags(fRA), seqNum(stackISN+1))
			assert.Equal(t, StateClose, c.State())
			assert.Equal(t, syscall.ETIMEDOUT, c.Err())
			assert.Equal(t, uint64(1), tc.counter(StackCounters(sc.r.S)))
			assert.Equal(t, uint64(tc.probes), StackCounters(sc.r.S).WindowProbes)
			assert.Equal(t, c.sqHead, c.sqTail, "send queue freed")
			if !tc.close {
				assert.Equal(t, 1, sc.s.nconns, "held until Close")
				c.Close()
			}
			assert.Zero(t, sc.s.nconns, "endpoint freed")
			assert.Empty(t, sc.s.liveConns())
		})
	}
}

// A peer whose probes are answered keeps its connection however long the window stays shut
// (the answer resets the count, as Linux's icsk_probes_out), orphaned or not.
func TestScriptZeroWindowAnsweredProbesNeverGiveUp(t *testing.T) {
	sc := newScript(t, "tcp_retries", "2", "tcp_orphan_retries", "1", "tcp_rto_max_ms", "4000")
	c := sc.established()
	sc.vanishZeroWindow(c, peerPort)
	require.NoError(t, c.Close())
	for i := 0; i < 20; i++ {
		sc.r.Clock.Advance(c.rto)
		sc.expect(flags(fA), seqNum(stackISN))
		sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1, zeroWnd: true})
		require.Equal(t, StateFinWait1, c.State(), "probe %d", i+1)
	}
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1, wnd: 65535})
	sc.expect(flags(fP|fA|fF), payload("hello"))
	sc.send(seg{flags: fA | fF, seq: peerISN + 1, ack: stackISN + 7})
	sc.expect(flags(fA))
	assert.Equal(t, StateTimeWait, c.State())
	assert.Zero(t, StackCounters(sc.r.S).OrphanTimeouts)
}

// 64 peers (max_tcp_endpoints at its default) that advertise a zero window and vanish after
// the application closed its connections no longer exhaust the stack: after the orphan retries
// every endpoint and buffer is back and a new peer connects.
func TestScriptZeroWindowPeersDoNotExhaustStack(t *testing.T) {
	sc := newScript(t)
	l := sc.listen()
	held := func() int { return sc.r.S.Pool().InUse() - sc.s.cache.Len() } // buffers not cached
	base := held()
	n := sc.s.cfg.maxConns
	require.Equal(t, 64, n)
	for i := 0; i < n; i++ {
		sport := uint16(20000 + i)
		c := sc.acceptFrom(l, sport)
		sc.vanishZeroWindow(c, sport)
		require.NoError(t, c.Close())
	}
	require.Equal(t, n, sc.s.nconns)
	for i := 0; i < 2000 && sc.s.nconns > 0; i++ {
		sc.r.Clock.Advance(1000 * ms)
		sc.emitted()
	}
	assert.Zero(t, sc.s.nconns, "every endpoint freed")
	assert.LessOrEqual(t, held(), base, "every buffer back")
	assert.Equal(t, uint64(n), StackCounters(sc.r.S).OrphanTimeouts)
	c := sc.acceptFrom(l, 30000)
	assert.Equal(t, StateEstablished, c.State())
}

// Keepalive probes a connection whose peer shut its window and vanished, instead of
// re-arming for ever without a probe: tcp_keepalive_probes unanswered end it (ETIMEDOUT,
// KeepaliveTimeouts) long before tcp_retries window probes would.
func TestScriptKeepaliveWhilePersisting(t *testing.T) {
	sc := newScript(t, "tcp_keepalive", "1", "tcp_keepalive_time_ms", "10000",
		"tcp_keepalive_intvl_ms", "1000", "tcp_keepalive_probes", "3",
		"tcp_retries", "255", "tcp_rto_max_ms", "600000")
	c := sc.established()
	sc.vanishZeroWindow(c, peerPort)
	for i := 0; i < 60 && c.State() != StateClose; i++ {
		sc.r.Clock.Advance(1000 * ms)
		sc.emitted()
	}
	assert.Equal(t, StateClose, c.State())
	assert.Equal(t, syscall.ETIMEDOUT, c.Err())
	cnt := StackCounters(sc.r.S)
	assert.Equal(t, uint64(3), cnt.KeepaliveProbes)
	assert.Equal(t, uint64(1), cnt.KeepaliveTimeouts)
	assert.Equal(t, c.sqHead, c.sqTail, "send queue freed")
}

// A connection the application closed whose FIN goes unanswered (FIN-WAIT-1 after Close,
// LAST-ACK after the peer's FIN) retransmits it tcp_orphan_retries times, not tcp_retries,
// then sends a RST and is freed, counted as OrphanTimeouts.
func TestScriptOrphanFinRetries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		peerFin bool
		state   State
	}{{"FIN-WAIT-1", false, StateFinWait1}, {"LAST-ACK", true, StateLastAck}} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, "tcp_retries", "10", "tcp_orphan_retries", "2", "tcp_rto_max_ms", "4000")
			c := sc.established()
			ack := peerISN + 1
			if tc.peerFin {
				sc.send(seg{flags: fF | fA, seq: peerISN + 1, ack: stackISN + 1})
				sc.expect(flags(fA), ackNum(peerISN+2))
				ack++
			}
			require.NoError(t, c.Close())
			sc.expect(flags(fF|fA), seqNum(stackISN+1), ackNum(ack))
			require.Equal(t, tc.state, c.State())
			for i := 0; i < 2; i++ {
				sc.r.Clock.Advance(c.rto)
				sc.expect(flags(fF|fA), seqNum(stackISN+1))
			}
			sc.r.Clock.Advance(c.rto)
			sc.expect(flags(fRA), seqNum(stackISN+2))
			assert.Equal(t, StateClose, c.State())
			assert.Equal(t, uint64(1), StackCounters(sc.r.S).OrphanTimeouts)
			assert.Zero(t, sc.s.nconns, "endpoint freed")
		})
	}
}
