package tcp

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

// icmpError builds an ICMP error from the peer's side quoting sent's IPv4 header and the first
// 8 bytes of its TCP header, with the quoted sequence number set to seq; mtu is the next-hop MTU
// field (fragmentation needed).
func icmpError(sent wire.IPv4, typ, code uint8, seq wire.Seq, mtu uint16) []byte {
	quote := append([]byte(nil), sent[:28]...)
	wire.TCP(quote[20:]).SetSeq(seq)
	b := make([]byte, 14+20+8+len(quote))
	wire.EthernetFields{Dst: lab.StackMAC, Src: lab.PeerMAC, Type: wire.EtherTypeIPv4}.Encode(b)
	wire.IPv4Fields{TotalLength: uint16(20 + 8 + len(quote)), TTL: 64, Protocol: wire.ProtoICMP, Src: lab.PeerIP, Dst: lab.StackIP}.Encode(b[14:])
	copy(b[42:], quote)
	wire.ICMPFields{Type: typ, Code: code, Seq: mtu}.Encode(b[34:])
	return b
}

// fragNeeded is icmpError for ICMP destination unreachable, fragmentation needed.
func fragNeeded(sent wire.IPv4, seq wire.Seq, mtu uint16) []byte {
	return icmpError(sent, wire.ICMPDestUnreachable, wire.ICMPFragmentationNeeded, seq, mtu)
}

// pathPeer plays the peer behind a path of mtu bytes: starting with segs, it takes what the
// stack sends (every frame must fit the path), keeps the in-order bytes and acknowledges them
// cumulatively, letting the retransmission timer run when nothing comes, until want arrived.
func (sc *script) pathPeer(c *Conn, segs []out, mtu int, want []byte) {
	t := sc.t
	t.Helper()
	got := make([]byte, 0, len(want))
	next := stackISN + 1
	for steps := 0; len(got) < len(want); steps++ {
		require.Less(t, steps, 20000, "stalled at %d of %d bytes: %s", len(got), len(want), c.debug())
		if len(segs) == 0 {
			sc.r.Clock.Advance(c.rto)
			segs = sc.emitted()
			continue
		}
		for _, o := range segs {
			require.LessOrEqual(t, int(o.ip.TotalLength()), mtu, "segment over the path MTU: %s", describe([]out{o}))
			p, seq := o.tcp.Payload(), o.tcp.Seq()
			if seq.LessThanEq(next) && next.LessThan(seq.Add(uint32(len(p)))) {
				got = append(got, p[seq.Size(next):]...)
				next = seq.Add(uint32(len(p)))
			}
		}
		sc.send(seg{flags: fA, seq: peerISN + 1, ack: next})
		segs = sc.emitted()
	}
	require.Equal(t, want, got, "byte-exact")
	require.Equal(t, c.sndUna, c.sndMax)
	require.Equal(t, c.sqHead, c.sqTail, "send queue empty")
}

// Scenarios 26 and 33 (RFC 5927 §4.1, RFC 1191): a frag-needed quoting a sequence number in
// [SND.UNA, SND.NXT) lowers the MSS to the next-hop MTU less 40 (not below 512, the 552-byte
// floor of Linux's min_pmtu) and the data in flight goes again at once, resegmented, byte-exact,
// also when the send queue is full and its segments cannot be split.
func TestScriptPMTUFragNeeded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int    // bytes sent
		mtu      uint16 // the ICMP's next-hop MTU
		path     int    // largest frame the path carries (IPv4 total length)
		wantMSS  int
		quoteOff uint32 // quoted sequence number, from SND.UNA
	}{
		{"in flight", 3 * 1460, 1000, 1000, 960, 0},
		{"quote past SND.UNA", 3 * 1460, 1000, 1000, 960, 1460 + 7},
		{"send queue full", 64 * 1460, 1280, 1280, 1240, 0},
		{"floor", 5 * 1460, 300, 552, 512, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			c := sc.established()
			data := make([]byte, tc.n)
			rng := rand.New(rand.NewPCG(uint64(tc.n), 26))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			w, err := c.SendSingle(data, 0)
			require.NoError(t, err)
			require.Equal(t, tc.n, w)
			lost := sc.emitted() // too large for the path: the router drops them and says why
			require.NotEmpty(t, lost)
			sc.r.Inject(t, fragNeeded(lost[0].ip, c.sndUna.Add(tc.quoteOff), tc.mtu))
			mss, err := c.MSS()
			require.NoError(t, err)
			assert.Equal(t, tc.wantMSS, mss)
			assert.Equal(t, uint64(1), StackCounters(sc.r.S).PMTUReductions)
			segs := sc.emitted()
			require.NotEmpty(t, segs, "retransmitted at once, not at the RTO")
			assert.Equal(t, stackISN+1, segs[0].tcp.Seq())
			sc.pathPeer(c, segs, tc.path, data)
			assert.Zero(t, StackCounters(sc.r.S).RTOs)
		})
	}
}

// Frag-needed messages that RFC 5927 §4.1 says to ignore change nothing and are counted: a quoted
// sequence number outside [SND.UNA, SND.NXT), an implausible next-hop MTU (below 68, or 0 from
// a pre-RFC 1191 router), or an MTU that would not lower the MSS.
func TestScriptPMTUFragNeededIgnored(t *testing.T) {
	for _, tc := range []struct {
		name    string
		off     int32 // quoted sequence number, from SND.UNA
		mtu     uint16
		counted bool
	}{
		{"before SND.UNA", -1, 1000, true},
		{"at SND.NXT", 3 * 1460, 1000, true},
		{"far beyond", 1 << 30, 1000, true},
		{"MTU 67", 0, 67, true},
		{"MTU 0", 0, 0, true},
		{"no smaller", 0, 1500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			c := sc.established()
			_, err := c.SendSingle(make([]byte, 3*1460), 0)
			require.NoError(t, err)
			sent := sc.emitted()
			require.Len(t, sent, 3)
			sc.r.Inject(t, fragNeeded(sent[0].ip, c.sndUna.Add(uint32(tc.off)), tc.mtu))
			sc.expectNone()
			mss, err := c.MSS()
			require.NoError(t, err)
			assert.Equal(t, 1460, mss)
			cnt := StackCounters(sc.r.S)
			assert.Zero(t, cnt.PMTUReductions)
			assert.Equal(t, tc.counted, cnt.ICMPIgnored == 1, "ICMPIgnored = %d", cnt.ICMPIgnored)
		})
	}
}
