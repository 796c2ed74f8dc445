package tcp

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

// With mtu=9000 both ends announce an MSS of 8960 and send 8948 (less the timestamps, on by
// default): each segment is one buffer of the pool (its data room follows the MTU), and a
// stream both ways arrives byte-exact.
func TestJumboTransfer(t *testing.T) {
	p := newPair(t, "mtu", "9000")
	c, s, _ := p.connect(5003)
	for _, x := range []*Conn{c, s} {
		mss, err := x.MSS()
		require.NoError(t, err)
		require.Equal(t, 8960-12, mss)
		require.Equal(t, 8960, x.rcvMSS)
	}
	transfer(t, p, c, s, 2<<20, 20000, false)
	transfer(t, p, s, c, 2<<20, 8960*3+17, true)
	for _, st := range []*Conn{c, s} {
		ctr := StackCounters(st.Stack())
		assert.Zero(t, ctr.Drops[DropMultiSeg])
		assert.Zero(t, ctr.Retransmits)
	}
}

// With mtu=9000 against a raw peer: the SYN-ACK announces 8960, a received 8960-byte segment is
// taken whole and ACKed, and a Send of two and a bit segments leaves as 8960, 8960 and the rest.
func TestScriptJumboSegments(t *testing.T) {
	sc := newScript(t, "mtu", "9000")
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 8960})
	sc.expect(flags(fSA), seqNum(stackISN), ackNum(peerISN+1), onlyMSS(8960))
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1})
	c, err := l.Accept()
	require.NoError(t, err)

	in := pattern(8960)
	sc.send(seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, data: in})
	sc.r.Clock.Advance(50 * ms)
	sc.expect(flags(fA), ackNum(peerISN+1+8960))
	buf := make([]byte, 10000)
	k, err := c.Recv([][]byte{buf})
	require.NoError(t, err)
	require.Equal(t, in, string(buf[:k]))

	out := pattern(2*8960 + 5)
	k, err = c.SendSingle([]byte(out), 0)
	require.NoError(t, err)
	require.Equal(t, len(out), k)
	segs := sc.emitted()
	require.Len(t, segs, 3, describe(segs))
	for i, want := range []string{out[:8960], out[8960:17920], out[17920:]} {
		seqNum(stackISN+1+wire.Seq(i*8960))(t, segs[i])
		payload(want)(t, segs[i])
	}
	assert.Zero(t, StackCounters(sc.r.S).Drops[DropMultiSeg])
}

// txFull is a pair on 8-frame rings with two connections from A to B: c, the one a test
// watches, and a filler whose data fills A's transmit ring while B does not poll, so that c's
// next burst is refused whole.
func txFull(t *testing.T) (p *pair, c, s, filler *Conn) {
	p = tcpPair(t, lab.NewPairRing(t, 8))
	c, s, _ = p.connect(5010)
	filler, _, _ = p.connect(5011)
	n, err := filler.SendSingle(make([]byte, 20*1460), 0)
	require.NoError(t, err)
	require.Equal(t, 20*1460, n)
	require.NotZero(t, p.A.Counters().TxRingFull, "the ring refused part of the filler's burst")
	return p, c, s, filler
}

// A burst the transmit ring refuses leaves nothing counted as sent (SND.NXT and SND.MAX stay),
// and what it refused leaves once the ring has room, although nothing of the connection was
// in flight to bring an ACK or arm a retransmission: a request, an orphan's FIN.
func TestTxRingFullSendsLater(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  func(t *testing.T, c *Conn)
		done func(s *Conn) bool
	}{
		{"request", func(t *testing.T, c *Conn) {
			n, err := c.SendSingle([]byte("request"), 0)
			require.NoError(t, err)
			require.Equal(t, 7, n)
		}, func(s *Conn) bool {
			b := make([]byte, 16)
			n, _ := s.Recv([][]byte{b})
			return string(b[:n]) == "request"
		}},
		{"orphan FIN", func(t *testing.T, c *Conn) {
			require.NoError(t, c.Close())
			require.Equal(t, StateFinWait1, c.State())
		}, func(s *Conn) bool { return s.State() == StateCloseWait }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c, s, _ := txFull(t)
			nxt, max := c.sndNxt, c.sndMax
			tc.act(t, c)
			assert.Equal(t, nxt, c.sndNxt, "SND.NXT moved for a refused frame: %s", c.debug())
			assert.Equal(t, max, c.sndMax, "SND.MAX moved for a refused frame: %s", c.debug())
			// Pushing into the full ring again (what the retry timer does) allocates nothing.
			assert.Zero(t, testing.AllocsPerRun(20, func() { c.push(true) }))
			assert.Equal(t, max, c.sndMax, "SND.MAX moved for a refused frame: %s", c.debug())
			p.run(3000, time.Millisecond, func() bool { return tc.done(s) })
		})
	}
}

// Close with a full send queue (64 small segments in flight within one RTT) queues the FIN
// anyway: the peer receives every byte Send took, then EOF, and no RST is sent.
func TestCloseFullSendQueue(t *testing.T) {
	p := newPair(t, "tcp_initial_cwnd", "1000000")
	c, s, _ := p.connect(5012)
	var want []byte
	for i := 0; i < c.sqCap(); i++ {
		msg := []byte(fmt.Sprintf("<%03d>", i))
		n, err := c.SendSingle(msg, 0)
		require.NoError(t, err)
		require.Equal(t, len(msg), n)
		want = append(want, msg...)
	}
	_, err := c.SendSingle([]byte("x"), 0)
	require.ErrorIs(t, err, syscall.EAGAIN, "the send queue is full: %s", c.debug())
	require.NoError(t, c.Close())

	var got []byte
	eof := false
	buf := make([]byte, 4096)
	p.run(3000, time.Millisecond, func() bool {
		for !eof {
			n, err := s.Recv([][]byte{buf})
			if err == syscall.EAGAIN {
				break
			}
			require.NoError(t, err)
			got = append(got, buf[:n]...)
			eof = n == 0
		}
		return eof
	})
	assert.Equal(t, string(want), string(got))
	assert.NoError(t, s.Err())
	assert.Zero(t, StackCounters(p.A).Resets, "no RST")
}

// Close when no buffer is left for a FIN of its own (the last segment has left) owes the FIN:
// the transmit-retry timer queues it once buffers are back, and the peer gets data then EOF.
func TestCloseNoBufferForFin(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(5013)
	_, err := c.SendSingle([]byte("last words"), 0)
	require.NoError(t, err)
	var held []*dpdk.Mbuf
	for m := c.s.cache.Take(); m != nil; m = c.s.cache.Take() {
		held = append(held, m)
	}
	require.NoError(t, c.Close())
	assert.Equal(t, StateFinWait1, c.State())
	for _, m := range held {
		c.s.cache.Put(m)
	}
	buf := make([]byte, 64)
	var got []byte
	p.run(1000, time.Millisecond, func() bool {
		n, err := s.Recv([][]byte{buf})
		got = append(got, buf[:n]...)
		return err == nil && n == 0
	})
	assert.Equal(t, "last words", string(got))
	assert.Zero(t, StackCounters(p.A).Resets, "no RST")
}

// Close resets the connection only for unread in-order data (RFC 9293 §3.10.4, Linux's
// tcp_close); out-of-order data, which the application could never read, is purged silently
// and the close is a FIN.
func TestScriptCloseOutOfOrderOnly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		at     wire.Seq // where the unread segment starts
		want   wire.TCPFlags
		ack    wire.Seq
		resets uint64
	}{
		{"unread in order", peerISN + 1, fRA, peerISN + 7, 1},
		{"out of order only", peerISN + 11, fFA, peerISN + 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			c := sc.established()
			sc.send(seg{flags: fPA, seq: tc.at, ack: stackISN + 1, data: "unread"})
			sc.r.Clock.Advance(50 * ms)
			sc.expect(flags(fA))
			require.NoError(t, c.Close())
			sc.expect(flags(tc.want), seqNum(stackISN+1), ackNum(tc.ack))
			assert.Equal(t, tc.resets, sc.s.ctr.Resets, "RSTs")
			assert.Zero(t, c.nooo, "out-of-order data purged")
		})
	}
}
