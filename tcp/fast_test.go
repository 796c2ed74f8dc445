package tcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/wire"
)

// Header prediction takes only the segments it may (fast.go), and handles them as process
// would: each case sends one segment to an established connection whose peer offered every
// option, then checks whether the short path ran and what the connection holds.
func TestFastPathTakesOnlyPredictedSegments(t *testing.T) {
	const data = "0123456789abcdef"
	in := peerISN + 1
	for _, tc := range []struct {
		name string
		seg  func(ts []byte) seg
		fast bool
	}{
		{"in-order data", func(ts []byte) seg { return seg{flags: fPA, seq: in, ack: stackISN + 1, data: data, opts: ts} }, true},
		{"in-order data without PSH", func(ts []byte) seg { return seg{flags: fA, seq: in, ack: stackISN + 1, data: data, opts: ts} }, true},
		{"data with FIN", func(ts []byte) seg {
			return seg{flags: fA | wire.TCPFlagFin, seq: in, ack: stackISN + 1, data: data, opts: ts}
		}, false},
		{"out of order", func(ts []byte) seg { return seg{flags: fPA, seq: in + 100, ack: stackISN + 1, data: data, opts: ts} }, false},
		{"window changed", func(ts []byte) seg {
			return seg{flags: fPA, seq: in, ack: stackISN + 1, data: data, opts: ts, wnd: 1000}
		}, false},
		{"no timestamps", func([]byte) seg { return seg{flags: fPA, seq: in, ack: stackISN + 1, data: data} }, false},
		{"old timestamp", func([]byte) seg {
			return seg{flags: fPA, seq: in, ack: stackISN + 1, data: data, opts: tsOpt(peerTSVal-1, 0)}
		}, false},
		{"duplicate ACK", func(ts []byte) seg { return seg{flags: fA, seq: in, ack: stackISN + 1, opts: ts} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			c, synAck := sc.optConn(peerOffer{sack: true, ts: true, ws: true, shift: 7})
			ts := tsOpt(peerTSVal, synAck.opts.TSVal)
			before := sc.s.ctr.FastPathSegments
			g := tc.seg(ts)
			sc.send(g)
			assert.Equal(t, tc.fast, sc.s.ctr.FastPathSegments > before)
			if tc.fast {
				assert.Equal(t, in.Add(uint32(len(data))), c.rcvNxt, "data taken")
				msg := NewMsg(4)
				c.ZcRecv(msg)
				require.Len(t, msg.Iov, 1)
				assert.Equal(t, data, string(msg.Iov[0]))
				c.ZcRecvDone(msg)
			}
		})
	}
}

// A ping-pong between two stacks runs on the short path once established: nearly every segment
// after the handshake is predicted.
func TestFastPathInPingPong(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(6200)
	before := stateOf(p.B).ctr
	msg := NewMsg(4)
	payload := make([]byte, 64)
	rbuf := [][]byte{make([]byte, 256)}
	const rounds = 200
	for range rounds {
		echoRound(t, p, c, s, msg, payload, rbuf)
	}
	after := stateOf(p.B).ctr
	assert.GreaterOrEqual(t, after.FastPathSegments-before.FastPathSegments, uint64(rounds-1))
	assert.Equal(t, after.RxSegments-before.RxSegments, after.FastPathSegments-before.FastPathSegments,
		"every segment of the exchange predicted")
}

// echoRound is one round trip of a ping-pong between a pair's stacks: c sends payload, s echoes
// it from its zero-copy views, c receives it into rbuf.
func echoRound(t *testing.T, p *pair, c, s *Conn, msg *Msg, payload []byte, rbuf [][]byte) {
	t.Helper()
	_, err := c.SendSingle(payload, 0)
	require.NoError(t, err)
	p.Step()
	s.ZcRecv(msg)
	require.Len(t, msg.Iov, 1)
	_, err = s.Send(msg.Iov, 0)
	require.NoError(t, err)
	_, err = s.ZcRecvDone(msg)
	require.NoError(t, err)
	p.Step()
	n, err := c.Recv(rbuf)
	require.NoError(t, err)
	require.Equal(t, len(payload), n)
}
