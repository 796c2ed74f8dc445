package tcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/wire"
)

// With mtu=9000 both ends announce and use an MSS of 8960: each segment is one buffer of the
// pool (its data room follows the MTU), and a stream both ways arrives byte-exact.
func TestJumboTransfer(t *testing.T) {
	p := newPair(t, "mtu", "9000")
	c, s, _ := p.connect(5003)
	for _, x := range []*Conn{c, s} {
		mss, err := x.MSS()
		require.NoError(t, err)
		require.Equal(t, 8960, mss)
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
