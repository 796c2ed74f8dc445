package tcp

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// PAWS (RFC 7323 §5): with timestamps negotiated, a segment whose TSval is older than TS.Recent
// is dropped (counted as tcp_paws) and answered with an ACK echoing TS.Recent; an equal or newer
// TSval passes and a newer one becomes TS.Recent; a RST passes PAWS whatever its TSval; a
// segment without timestamps passes (as Linux); after 24 days without an update TS.Recent is no
// longer valid and an old TSval passes and replaces it.
func TestScriptPAWS(t *testing.T) {
	const recent = peerTSVal + 100
	for _, tc := range []struct {
		name     string
		idle     int64 // ms the connection stays idle first
		tsval    uint32
		noTS     bool
		rst      bool
		accepted bool
		echo     uint32 // TSecr of our answer
	}{
		{"older", 0, recent - 1, false, false, false, recent},
		{"much older (wrapped)", 0, recent + 1<<31 + 1, false, false, false, recent},
		{"equal", 0, recent, false, false, true, recent},
		{"newer", 0, recent + 5, false, false, true, recent + 5},
		{"no timestamps", 0, 0, true, false, true, recent},
		{"older RST", 0, recent - 1000, false, true, true, 0},
		{"older after 23 days idle", 23 * 24 * 3600 * 1000, recent - 1, false, false, false, recent},
		{"older after 25 days idle", 25 * 24 * 3600 * 1000, recent - 1, false, false, true, recent - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			c, _ := sc.optConn(peerOffer{ts: true})
			// TS.Recent moves to `recent` with an in-order segment.
			sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, data: "a", opts: tsOpt(recent, 0)})
			sc.r.Clock.Advance(50 * ms)
			sc.expect(flags(fA), ackNum(peerISN+2))
			require.Equal(t, uint32(recent), c.tsRecent)
			sc.r.Clock.Advance(tc.idle * ms)
			sc.emitted()
			var opts []byte
			if !tc.noTS {
				opts = tsOpt(tc.tsval, 0)
			}
			before := StackCounters(sc.r.S).Drops[DropPAWS]
			if tc.rst {
				sc.send(seg{flags: wire.TCPFlagRst, seq: peerISN + 2, opts: opts})
				sc.expectNone()
				assert.Equal(t, StateClose, c.State(), "the RST reset the connection")
				assert.Equal(t, syscall.ECONNRESET, c.Err())
				return
			}
			sc.send(seg{flags: fPA, seq: peerISN + 2, ack: stackISN + 1, data: "bc", opts: opts})
			sc.r.Clock.Advance(50 * ms) // a delayed ACK when taken
			o := sc.expect(flags(fA))
			assert.Equal(t, tc.echo, o.opts.TSEcr, "the echo")
			if tc.accepted {
				assert.Equal(t, peerISN+4, o.tcp.Ack(), "taken")
				assert.Equal(t, before, StackCounters(sc.r.S).Drops[DropPAWS])
			} else {
				assert.Equal(t, peerISN+2, o.tcp.Ack(), "dropped")
				assert.Equal(t, before+1, StackCounters(sc.r.S).Drops[DropPAWS])
				// The snapshot zfstackdump and the metrics (zocket_drops_total) read.
				var n uint64
				sc.r.S.SnapshotSync(func(sn *stack.Snapshot) {
					for _, d := range sn.Drops {
						if d.Reason == "tcp_paws" {
							n += d.N
						}
					}
				})
				assert.Equal(t, before+1, n, "tcp_paws in the snapshot")
			}
		})
	}
}

// TS.Recent follows RFC 7323 §4.3: a segment beyond Last.ACK.sent (out of order, or in order
// but not yet acknowledged) does not update it, so the echo times the segment that made the
// ACK; the SYN's TSval is TS.Recent at first.
func TestScriptTSRecentRules(t *testing.T) {
	sc := newScript(t)
	c, synAck := sc.optConn(peerOffer{ts: true})
	assert.Equal(t, uint32(peerTSVal), synAck.opts.TSEcr)
	assert.Equal(t, uint32(peerTSVal), c.tsRecent)
	// Two in-order segments, the ACK delayed: the second starts beyond Last.ACK.sent, so the
	// echo is that of the first (RFC 7323 §4.3's delayed-ACK case).
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, data: "z", opts: tsOpt(peerTSVal+10, 0)})
	sc.send(seg{flags: fPA, seq: peerISN + 2, ack: stackISN + 1, data: "w", opts: tsOpt(peerTSVal+20, 0)})
	o := sc.expect(flags(fA), ackNum(peerISN+3))
	assert.Equal(t, uint32(peerTSVal+10), o.opts.TSEcr)
	// Out of order, TSval +30: beyond Last.ACK.sent, TS.Recent stays.
	sc.send(seg{flags: fPA, seq: peerISN + 101, ack: stackISN + 1, data: "x", opts: tsOpt(peerTSVal+30, 0)})
	o = sc.expect(flags(fA), ackNum(peerISN+3))
	assert.Equal(t, uint32(peerTSVal+10), o.opts.TSEcr)
	// In order at Last.ACK.sent, TSval +40: taken.
	sc.send(seg{flags: fPA, seq: peerISN + 3, ack: stackISN + 1, data: "y", opts: tsOpt(peerTSVal+40, 0)})
	o = sc.expect(flags(fA), ackNum(peerISN+4))
	assert.Equal(t, uint32(peerTSVal+40), o.opts.TSEcr)
}

// RTT samples: every ACK of new data gives one — from the send queue's time (µs precision)
// when the data left once, from the timestamps' echo when it was retransmitted (Karn's rule no
// longer leaves the estimator without samples); without timestamps a retransmitted segment
// gives none.
func TestScriptRTTSamples(t *testing.T) {
	for _, tc := range []struct {
		name string
		ts   bool
	}{
		{"timestamps", true},
		{"no timestamps", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			c, _ := sc.optConn(peerOffer{ts: tc.ts})
			ack := func(n wire.Seq, echo uint32) {
				var opts []byte
				if tc.ts {
					opts = tsOpt(peerTSVal, echo)
				}
				sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1 + n, opts: opts})
			}
			// Sent once: the sample is the time to the ACK, to the microsecond.
			_, err := c.SendSingle([]byte("one"), 0)
			require.NoError(t, err)
			first := sc.expect(flags(fPA))
			sc.r.Clock.Advance(30*ms + 250_000)
			ack(3, first.opts.TSVal)
			assert.Equal(t, 30*ms+250_000, c.srtt, "first sample: 30.25 ms")
			// A second ACK of new data, another sample.
			_, err = c.SendSingle([]byte("two"), 0)
			require.NoError(t, err)
			sc.expect(flags(fPA))
			sc.r.Clock.Advance(10 * ms)
			ack(6, 0)
			assert.Equal(t, (7*(30*ms+250_000)+10*ms)/8, c.srtt, "every ACK samples")
			// Lost, retransmitted by the RTO, acknowledged 7 ms after the retransmission.
			_, err = c.SendSingle([]byte("three"), 0)
			require.NoError(t, err)
			sc.expect(flags(fPA))
			sc.r.Clock.Advance(c.rto)
			rtx := sc.expect(flags(fPA), seqNum(stackISN+7))
			srtt := c.srtt
			sc.r.Clock.Advance(7 * ms)
			ack(11, rtx.opts.TSVal)
			if tc.ts {
				assert.Equal(t, (7*srtt+7*ms)/8, c.srtt, "the echo of the retransmission's TSval: 7 ms")
			} else {
				assert.Equal(t, srtt, c.srtt, "Karn: no sample from retransmitted data")
			}
		})
	}
}
