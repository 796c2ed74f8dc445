package tcp

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A connection's own keepalive setting (SetKeepalive): on for one connection of a stack whose
// tcp_keepalive is off, the first probe Idle after the call, Count unanswered ending it; off
// again stops the probes; values out of range refused by name, leaving the setting alone.
func TestScriptSetKeepalive(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		sc := newScript(t)
		c := sc.established()
		def := c.Keepalive()
		assert.False(t, def.On)
		assert.Equal(t, 2*time.Hour, def.Idle, "the stack's tcp_keepalive_time_ms")
		sc.r.Clock.Advance(5000 * ms)
		sc.expectNone() // a turn: the stack's time is now
		k := Keepalive{On: true, Idle: 2 * time.Second, Interval: 500 * time.Millisecond, Count: 2}
		require.NoError(t, c.SetKeepalive(k))
		assert.Equal(t, k, c.Keepalive())
		sc.r.Clock.Advance(1999 * ms)
		sc.expectNone()
		sc.r.Clock.Advance(1 * ms)
		sc.expect(flags(fA), seqNum(stackISN), ackNum(peerISN+1))
		sc.r.Clock.Advance(500 * ms)
		sc.expect(flags(fA), seqNum(stackISN))
		sc.r.Clock.Advance(500 * ms)
		sc.expect(flags(fRA))
		assert.Equal(t, syscall.ETIMEDOUT, c.Err())
	})
	t.Run("off", func(t *testing.T) {
		sc := newScript(t, "tcp_keepalive", "1", "tcp_keepalive_time_ms", "10000",
			"tcp_keepalive_intvl_ms", "1000", "tcp_keepalive_probes", "3")
		c := sc.established()
		k := c.Keepalive()
		require.True(t, k.On)
		k.On = false
		require.NoError(t, c.SetKeepalive(k))
		sc.r.Clock.Advance(3600 * 1000 * ms)
		sc.expectNone()
		assert.Equal(t, StateEstablished, c.State())
	})
	t.Run("refused", func(t *testing.T) {
		sc := newScript(t)
		c := sc.established()
		good := Keepalive{On: true, Idle: time.Second, Interval: time.Second, Count: 1}
		for _, tc := range []struct {
			field string
			k     Keepalive
		}{
			{"Idle", Keepalive{On: true, Idle: 0, Interval: time.Second, Count: 1}},
			{"Idle", Keepalive{On: true, Idle: 11 * 24 * time.Hour, Interval: time.Second, Count: 1}},
			{"Interval", Keepalive{On: true, Idle: time.Second, Interval: -time.Second, Count: 1}},
			{"Count", Keepalive{On: true, Idle: time.Second, Interval: time.Second, Count: 0}},
			{"Count", Keepalive{On: true, Idle: time.Second, Interval: time.Second, Count: 128}},
		} {
			err := c.SetKeepalive(tc.k)
			assert.ErrorIs(t, err, syscall.EINVAL, "%+v", tc.k)
			assert.ErrorContains(t, err, tc.field)
			assert.False(t, c.Keepalive().On, "unchanged")
		}
		assert.NoError(t, c.SetKeepalive(Keepalive{}), "off takes any values")
		assert.NoError(t, c.SetKeepalive(good))
	})
}
