package tcp

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/wire"
)

// fillBacklog makes the listener's one half-open connection (max_tcp_syn_backlog 1) from port
// 999, so that the next SYN finds the backlog full.
func (sc *script) fillBacklog() *Listener {
	sc.t.Helper()
	l := sc.listen()
	sc.send(seg{flags: fS, seq: 1, sport: 999, mss: 1460})
	sc.expect(flags(fSA), seqNum(stackISN))
	require.Equal(sc.t, 1, l.halfOpen)
	return l
}

// A SYN beyond the backlog gets a SYN cookie: a SYN-ACK from no state whose ISS the handshake
// ACK brings back; the ACK (with data) rebuilds the connection, established and accepted, with
// the SYN's MSS rounded down to the cookie table and, since the SYN had timestamps, its window
// scale and SACK-permitted carried in the SYN-ACK's TSval and echoed in the ACK's TSecr.
func TestScriptSynCookie(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []byte // the SYN's options after MSS 1400
		ts      bool
		mss     int // the connection's send MSS
		shift   uint8
		sackOK  bool
		synOpts func(t testing.TB, o out)
	}{
		{"timestamps, window scale, SACK", slices.Concat(tsOpt(777, 0), sackPermOpt(), wscaleOpt(7)), true, 1300 - 12, 7, true,
			func(t testing.TB, o out) {
				require.True(t, o.opts.HasTimestamps)
				assert.Equal(t, uint32(777), o.opts.TSEcr)
				assert.Equal(t, uint32(7|cookieSACK), o.opts.TSVal&cookieTSMask, "options in the TSval")
				assert.True(t, o.opts.SACKPermitted)
				assert.True(t, o.opts.HasWScale)
			}},
		{"timestamps only", tsOpt(777, 0), true, 1300 - 12, 0, false,
			func(t testing.TB, o out) {
				require.True(t, o.opts.HasTimestamps)
				assert.Equal(t, uint32(cookieNoScale), o.opts.TSVal&cookieTSMask)
				assert.False(t, o.opts.SACKPermitted)
				assert.False(t, o.opts.HasWScale)
			}},
		{"no timestamps: no window scale nor SACK", slices.Concat(sackPermOpt(), wscaleOpt(7)), false, 1300, 0, false,
			func(t testing.TB, o out) {
				assert.Equal(t, 24, o.tcp.DataOffset(), "MSS only")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, "max_tcp_syn_backlog", "1")
			l := sc.fillBacklog()
			sc.send(seg{flags: fS, seq: 7000, sport: 5555, mss: 1400, opts: tc.opts})
			sa := sc.expect(flags(fSA), ackNum(7001), mssOption(uint16(segRoom(sc.r.S))))
			tc.synOpts(t, sa)
			assert.Equal(t, 1, l.halfOpen, "no state kept")
			assert.Equal(t, uint64(1), StackCounters(sc.r.S).SynCookiesSent)

			iss := sa.tcp.Seq()
			var opts []byte
			if tc.ts {
				opts = tsOpt(778, sa.opts.TSVal)
			}
			sc.send(seg{flags: fPA, seq: 7001, ack: iss + 1, sport: 5555, opts: opts, data: "hi"})
			c, err := l.Accept()
			require.NoError(t, err)
			assert.Equal(t, uint16(5555), c.RemoteAddr().Port())
			assert.Equal(t, StateEstablished, c.State())
			assert.Equal(t, uint64(1), StackCounters(sc.r.S).SynCookiesRecv)
			mss, err := c.MSS()
			require.NoError(t, err)
			assert.Equal(t, tc.mss, mss)
			assert.Equal(t, tc.ts, c.tsOK)
			assert.Equal(t, tc.sackOK, c.sackOK)
			assert.Equal(t, tc.shift, c.sndShift)
			buf := make([]byte, 8)
			n, err := c.Recv([][]byte{buf})
			require.NoError(t, err)
			assert.Equal(t, "hi", string(buf[:n]))
			// The connection answers as any other: our segments continue the cookie's sequence.
			_, err = c.Send([][]byte{[]byte("ok")}, 0)
			require.NoError(t, err)
			segs := sc.emitted()
			require.NotEmpty(t, segs)
			last := segs[len(segs)-1]
			assert.Equal(t, iss+1, last.tcp.Seq())
			assert.Equal(t, "ok", string(last.tcp.Payload()))
			if tc.ts {
				assert.GreaterOrEqual(t, last.opts.TSVal, sa.opts.TSVal, "the TSval does not go back")
			}
		})
	}
}

// Cookies that do not check out: an ACK with a wrong cookie, one too old, one to a listener
// that never sent cookies, all get a RST and no connection; with tcp_syncookies 0 a SYN beyond
// the backlog is dropped unanswered.
func TestScriptSynCookieRefused(t *testing.T) {
	t.Run("wrong cookie", func(t *testing.T) {
		sc := newScript(t, "max_tcp_syn_backlog", "1")
		l := sc.fillBacklog()
		sc.send(seg{flags: fS, seq: 7000, sport: 5555, mss: 1460})
		iss := sc.expect(flags(fSA)).tcp.Seq()
		sc.send(seg{flags: fA, seq: 7001, ack: iss + 2, sport: 5555})
		sc.expect(flags(fR), seqNum(iss+2))
		sc.send(seg{flags: fA, seq: 7001, ack: iss + 1, sport: 5556}) // another connection's
		sc.expect(flags(fR))
		assert.Equal(t, uint64(2), StackCounters(sc.r.S).SynCookiesFailed)
		_, err := l.Accept()
		assert.Error(t, err)
	})
	t.Run("too old", func(t *testing.T) {
		sc := newScript(t, "max_tcp_syn_backlog", "1", "tcp_synack_retries", "0")
		sc.fillBacklog()
		sc.send(seg{flags: fS, seq: 7000, sport: 5555, mss: 1460})
		iss := sc.expect(flags(fSA)).tcp.Seq()
		sc.r.Clock.Advance((cookieMaxAge + 1) << cookieShift)
		sc.emitted() // the half-open connection gives up
		sc.send(seg{flags: fS, seq: 1, sport: 999, mss: 1460})
		sc.expect(flags(fSA))
		sc.send(seg{flags: fS, seq: 9000, sport: 6666, mss: 1460}) // a fresh cookie: cookies are recent
		sc.expect(flags(fSA))
		sc.send(seg{flags: fA, seq: 7001, ack: iss + 1, sport: 5555})
		sc.expect(flags(fR))
		assert.Equal(t, uint64(1), StackCounters(sc.r.S).SynCookiesFailed)
	})
	t.Run("none sent", func(t *testing.T) {
		sc := newScript(t)
		sc.listen()
		sc.send(seg{flags: fA, seq: 7001, ack: 1234, sport: 5555})
		sc.expect(flags(fR), seqNum(1234))
		assert.Zero(t, StackCounters(sc.r.S).SynCookiesFailed, "not even checked")
	})
	t.Run("tcp_syncookies 0", func(t *testing.T) {
		sc := newScript(t, "max_tcp_syn_backlog", "1", "tcp_syncookies", "0")
		sc.fillBacklog()
		sc.send(seg{flags: fS, seq: 7000, sport: 5555, mss: 1460})
		sc.expectNone()
		cnt := StackCounters(sc.r.S)
		assert.Equal(t, uint64(1), cnt.Drops[DropBacklog])
		assert.Zero(t, cnt.SynCookiesSent)
	})
}

// The cookie's arithmetic: every MSS index and sequence number round-trips within the age
// limit, across a count boundary, and not after it.
func TestCookieRoundTrip(t *testing.T) {
	sc := newScript(t)
	s := sc.s
	rip := [4]byte{198, 18, 0, 9}
	for idx := range uint32(len(cookieMSS)) {
		for _, isn := range []wire.Seq{0, 1, 0x7fffffff, 0xffffffff} {
			iss := s.makeCookie(rip, 4000, 80, isn, idx)
			got, ok := s.checkCookie(rip, 4000, 80, isn, iss)
			require.True(t, ok)
			assert.Equal(t, idx, got)
			_, ok = s.checkCookie(rip, 4001, 80, isn, iss)
			assert.False(t, ok, "another port")
		}
	}
	iss := s.makeCookie(rip, 4000, 80, 5, 3)
	for age := range cookieMaxAge + 2 {
		_, ok := s.checkCookie(rip, 4000, 80, 5, iss)
		assert.Equal(t, age <= cookieMaxAge, ok, "age %d", age)
		sc.r.Clock.Advance(1 << cookieShift)
		sc.r.S.Perform()
	}
	for now, opts := range map[uint32]uint32{1000: 7, 1024: 0x1f, 63: 63, 64: 0} {
		ts := cookieTSval(now, opts)
		assert.Equal(t, opts, ts&cookieTSMask)
		assert.LessOrEqual(t, ts, now)
		assert.Less(t, now-ts, uint32(1<<cookieTSBits))
	}
}
