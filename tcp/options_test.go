package tcp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// Option bytes a scripted peer sends (each padded to a multiple of 4 as Linux lays them out).
func tsOpt(val, ecr uint32) []byte {
	b := []byte{wire.TCPOptionNOP, wire.TCPOptionNOP, wire.TCPOptionTimestamps, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], val)
	binary.BigEndian.PutUint32(b[8:], ecr)
	return b
}

func sackPermOpt() []byte {
	return []byte{wire.TCPOptionNOP, wire.TCPOptionNOP, wire.TCPOptionSACKPermitted, 2}
}

func wscaleOpt(shift uint8) []byte {
	return []byte{wire.TCPOptionNOP, wire.TCPOptionWindowScale, 3, shift}
}

// peerOffer is what a scripted peer's SYN offers.
type peerOffer struct {
	sack, ts, ws bool
	shift        uint8
}

func (p peerOffer) opts(tsval uint32) []byte {
	var b []byte
	if p.sack {
		b = append(b, sackPermOpt()...)
	}
	if p.ts {
		b = append(b, tsOpt(tsval, 0)...)
	}
	if p.ws {
		b = append(b, wscaleOpt(p.shift)...)
	}
	return b
}

// peerTSVal is the scripted peer's clock for its timestamps: a fixed start, advanced by tests.
const peerTSVal = 77000

// optConn is an accepted connection whose peer offered off, with the peer's TSval at peerTSVal;
// it returns the connection and the SYN-ACK.
func (sc *script) optConn(off peerOffer) (*Conn, out) {
	sc.t.Helper()
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 1460, opts: off.opts(peerTSVal)})
	synAck := sc.expect(flags(fSA), seqNum(stackISN), ackNum(peerISN+1), mssOption(1460))
	var ack []byte
	if synAck.opts.HasTimestamps {
		ack = tsOpt(peerTSVal, synAck.opts.TSVal)
	}
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1, opts: ack})
	sc.expectNone()
	c, err := l.Accept()
	require.NoError(sc.t, err)
	return c, synAck
}

// A SYN-ACK offers only what the SYN offered and the attributes allow; the connection then uses
// exactly those options: timestamps on every segment (TSecr echoing the peer), a send MSS 12
// bytes less with them, window scale both ways or neither.
func TestScriptNegotiation(t *testing.T) {
	all := peerOffer{sack: true, ts: true, ws: true, shift: 7}
	for _, tc := range []struct {
		name  string
		attrs []string
		off   peerOffer
		want  peerOffer // what the SYN-ACK carries and the connection uses
	}{
		{"peer offers none", nil, peerOffer{}, peerOffer{}},
		{"peer offers SACK", nil, peerOffer{sack: true}, peerOffer{sack: true}},
		{"peer offers timestamps", nil, peerOffer{ts: true}, peerOffer{ts: true}},
		{"peer offers window scale", nil, peerOffer{ws: true, shift: 2}, peerOffer{ws: true, shift: 2}},
		{"peer offers all", nil, all, all},
		{"window scale 0", nil, peerOffer{ws: true, shift: 0}, peerOffer{ws: true, shift: 0}},
		{"peer's shift clamped to 14", nil, peerOffer{ws: true, shift: 15}, peerOffer{ws: true, shift: 14}},
		{"tcp_sack=0", []string{"tcp_sack", "0"}, all, peerOffer{ts: true, ws: true, shift: 7}},
		{"tcp_timestamps=0", []string{"tcp_timestamps", "0"}, all, peerOffer{sack: true, ws: true, shift: 7}},
		{"tcp_window_scaling=0", []string{"tcp_window_scaling", "0"}, all, peerOffer{sack: true, ts: true}},
		{"all off", []string{"tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0"}, all, peerOffer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, tc.attrs...)
			c, synAck := sc.optConn(tc.off)
			o := synAck.opts
			assert.Equal(t, tc.want.sack, o.SACKPermitted, "SYN-ACK's SACK-permitted")
			assert.Equal(t, tc.want.ts, o.HasTimestamps, "SYN-ACK's timestamps")
			assert.Equal(t, tc.want.ws, o.HasWScale, "SYN-ACK's window scale")
			if o.HasTimestamps {
				assert.Equal(t, uint32(peerTSVal), o.TSEcr, "the SYN-ACK echoes the SYN's TSval")
			}
			assert.Equal(t, tc.want.sack, c.sackOK)
			assert.Equal(t, tc.want.ts, c.tsOK)
			assert.Equal(t, tc.want.ws, c.wsOK)
			assert.Equal(t, tc.want.shift, c.sndShift, "the peer's shift")
			if tc.want.ws {
				assert.Equal(t, wscaleFor(c.slots*c.rcvMSS), c.rcvShift, "our shift")
				assert.Equal(t, c.rcvShift, o.WScale)
			} else {
				assert.Zero(t, c.rcvShift)
			}
			wantMSS, hdr := 1460, 20
			if tc.want.ts {
				wantMSS, hdr = 1448, 32
			}
			mss, err := c.MSS()
			require.NoError(t, err)
			assert.Equal(t, wantMSS, mss, "send MSS less the timestamps every segment carries")
			assert.Equal(t, 14+20+hdr, c.HeaderSize())

			// A full data segment: the MSS exactly, the header with its timestamps.
			data := make([]byte, 2*mss)
			n, err := c.SendSingle(data, 0)
			require.NoError(t, err)
			require.Equal(t, len(data), n)
			segs := sc.emitted()
			require.Len(t, segs, 2)
			for _, g := range segs {
				assert.Equal(t, hdr, g.tcp.DataOffset())
				assert.Equal(t, mss, len(g.tcp.Payload()))
				assert.Equal(t, 20+hdr+mss, int(g.ip.TotalLength()), "frame of exactly the MTU")
				assert.Equal(t, tc.want.ts, g.opts.HasTimestamps)
				if tc.want.ts {
					assert.Equal(t, uint32(peerTSVal), g.opts.TSEcr)
				}
			}
		})
	}
}

// Our SYN offers every option the attributes allow, in Linux's layout (MSS, SACK-permitted and
// timestamps in 12 bytes, NOP and window scale: a 40-byte header), only MSS with all off; the
// SYN-ACK's options decide, and its window is not scaled.
func TestScriptActiveNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		attrs   []string
		synOff  int // our SYN's data offset
		answer  peerOffer
		wantMSS int
	}{
		{"all offered, all answered", nil, 40, peerOffer{sack: true, ts: true, ws: true, shift: 9}, 1448},
		{"all offered, none answered", nil, 40, peerOffer{}, 1460},
		{"all offered, SACK answered", nil, 40, peerOffer{sack: true}, 1460},
		{"only MSS offered", []string{"tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0"}, 24,
			peerOffer{sack: true, ts: true, ws: true, shift: 9}, 1460},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, tc.attrs...)
			sc.s.isnHook = func() wire.Seq { return stackISN }
			h, err := NewHandle(sc.r.S, nil)
			require.NoError(t, err)
			require.NoError(t, h.Bind(netip.AddrPortFrom(netip.AddrFrom4(lab.StackIP), stackPort)))
			c, err := h.Connect(netip.AddrPortFrom(netip.AddrFrom4(lab.PeerIP), peerPort))
			require.NoError(t, err)
			syn := sc.expect(flags(fS), seqNum(stackISN), mssOption(1460))
			assert.Equal(t, tc.synOff, syn.tcp.DataOffset(), "option space on the SYN")
			offered := tc.synOff == 40
			assert.Equal(t, offered, syn.opts.SACKPermitted)
			assert.Equal(t, offered, syn.opts.HasTimestamps)
			assert.Equal(t, offered, syn.opts.HasWScale)
			if offered {
				assert.Zero(t, syn.opts.TSEcr)
				assert.Equal(t, uint32(1000+stackISN), syn.opts.TSVal, "1 ms clock plus the ISN")
			}
			sc.send(seg{flags: fSA, seq: peerISN, ack: stackISN + 1, mss: 1460, wnd: 1000,
				opts: tc.answer.opts(peerTSVal)})
			ack := sc.expect(flags(fA), seqNum(stackISN+1), ackNum(peerISN+1))
			require.Equal(t, StateEstablished, c.State())
			want := tc.answer
			if !offered {
				want = peerOffer{}
			}
			assert.Equal(t, want.sack, c.sackOK)
			assert.Equal(t, want.ts, c.tsOK)
			assert.Equal(t, want.ts, ack.opts.HasTimestamps)
			if want.ts {
				assert.Equal(t, uint32(peerTSVal), ack.opts.TSEcr)
			}
			assert.Equal(t, want.shift, c.sndShift)
			assert.Equal(t, uint32(1000), c.sndWnd, "the SYN-ACK's window is not scaled")
			mss, err := c.MSS()
			require.NoError(t, err)
			assert.Equal(t, tc.wantMSS, mss)
		})
	}
}

// SACK blocks (RFC 2018 §4): every ACK while out-of-order data is held reports it, the block
// holding the segment that arrived last first, then the others, most recent first; 3 blocks fit
// beside timestamps, 4 without. A block that a segment joins grows and moves to the front; the
// blocks go once the hole before them fills.
func TestScriptSACKBlocks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ts     bool
		maxBlk int
	}{
		{"with timestamps", true, 3},
		{"without timestamps", false, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t)
			c, _ := sc.optConn(peerOffer{sack: true, ts: tc.ts})
			base := peerISN + 1
			var opts []byte
			if tc.ts {
				opts = tsOpt(peerTSVal, 0)
			}
			send := func(off uint32, n int) out {
				t.Helper()
				data := make([]byte, n)
				sc.send(seg{flags: fPA, seq: base.Add(off), ack: stackISN + 1, data: string(data), opts: opts})
				return sc.expect(flags(fA), ackNum(c.rcvNxt))
			}
			blocks := func(o out) [][2]uint32 { return sackOffsets(o, base) }
			// Islands at 100, 300, 500, 700, 900 (100 bytes each, holes between).
			assert.Equal(t, [][2]uint32{{100, 200}}, blocks(send(100, 100)))
			assert.Equal(t, [][2]uint32{{300, 400}, {100, 200}}, blocks(send(300, 100)))
			assert.Equal(t, [][2]uint32{{500, 600}, {300, 400}, {100, 200}}, blocks(send(500, 100)))
			want := [][2]uint32{{700, 800}, {500, 600}, {300, 400}, {100, 200}}
			assert.Equal(t, want[:tc.maxBlk], blocks(send(700, 100)))
			want = [][2]uint32{{900, 1000}, {700, 800}, {500, 600}, {300, 400}}
			o := send(900, 100)
			assert.Equal(t, want[:tc.maxBlk], blocks(o))
			if tc.ts {
				assert.Equal(t, 20+12+4+3*8, o.tcp.DataOffset(), "timestamps and 3 blocks: 40 option bytes")
			} else {
				assert.Equal(t, 20+4+4*8, o.tcp.DataOffset())
			}
			// A segment joining an older island: that block grows and goes first.
			want = [][2]uint32{{300, 450}, {900, 1000}, {700, 800}, {500, 600}}
			assert.Equal(t, want[:tc.maxBlk], blocks(send(400, 50)))
			// The first hole fills: the blocks it reaches go, the rest stay in their order.
			o = send(0, 100)
			assert.Equal(t, uint32(200), uint32(o.tcp.Ack()-base))
			want = [][2]uint32{{300, 450}, {900, 1000}, {700, 800}, {500, 600}}
			assert.Equal(t, want[:tc.maxBlk], blocks(o))
			o = send(200, 100)
			assert.Equal(t, uint32(450), uint32(o.tcp.Ack()-base))
			assert.Equal(t, [][2]uint32{{900, 1000}, {700, 800}, {500, 600}}, blocks(o))
			assert.Equal(t, 3, c.nooo)
		})
	}
}

// D-SACK (RFC 2883 §4): a duplicate below RCV.NXT, whole or in part, is reported in the first
// block of the next ACK, once; a duplicate of out-of-order data held is reported first, then
// the block that holds it. Without SACK negotiated nothing is reported.
func TestScriptDSACK(t *testing.T) {
	sc := newScript(t)
	c, _ := sc.optConn(peerOffer{sack: true, ts: true})
	base := peerISN + 1
	send := func(off uint32, n int) out {
		t.Helper()
		sc.send(seg{flags: fPA, seq: base.Add(off), ack: stackISN + 1, data: string(make([]byte, n)),
			opts: tsOpt(peerTSVal, 0)})
		return sc.expect(flags(fA), ackNum(c.rcvNxt))
	}
	blocks := func(o out) [][2]uint32 { return sackOffsets(o, base) }
	sc.send(seg{flags: fPA, seq: base, ack: stackISN + 1, data: string(make([]byte, 100)), opts: tsOpt(peerTSVal, 0)})
	sc.emitted() // delayed ACK or not: not what this test is about
	assert.Equal(t, [][2]uint32{{0, 100}}, blocks(send(0, 100)), "a whole duplicate")
	assert.Equal(t, [][2]uint32{{50, 100}}, blocks(send(50, 100)), "the old part of a segment")
	assert.Equal(t, [][2]uint32{{300, 400}}, blocks(send(300, 100)), "out of order: a SACK block, no D-SACK")
	assert.Equal(t, [][2]uint32{{500, 600}, {300, 400}}, blocks(send(500, 100)))
	assert.Equal(t, [][2]uint32{{320, 380}, {300, 400}, {500, 600}}, blocks(send(320, 60)),
		"a duplicate of held data, then the block that holds it")
	// An ACK the application's read causes carries no D-SACK again, only the blocks.
	c.sendCtl(c.sndMax, wire.TCPFlagAck)
	o := sc.expect(flags(fA))
	assert.Equal(t, [][2]uint32{{300, 400}, {500, 600}}, blocks(o))
}

// Without SACK negotiated, ACKs carry no SACK blocks: not for out-of-order data, not for a
// duplicate.
func TestScriptNoSACKBlocksWithoutSACK(t *testing.T) {
	sc := newScript(t)
	c, _ := sc.optConn(peerOffer{ts: true})
	base := peerISN + 1
	for _, off := range []uint32{300, 0, 0} { // out of order, in order, duplicate
		sc.send(seg{flags: fPA, seq: base.Add(off), ack: stackISN + 1, data: string(make([]byte, 100)),
			opts: tsOpt(peerTSVal, 0)})
		for _, o := range sc.emitted() {
			assert.Zero(t, o.opts.NumSACK)
			assert.Equal(t, 32, o.tcp.DataOffset(), "timestamps only")
		}
	}
	assert.Equal(t, base.Add(100), c.rcvNxt)
}

// The SACK blocks we send report only what is held: under loss, reordering and duplication
// between two stacks, after every step each listed block lies above RCV.NXT, inside the
// out-of-order queue's data, and apart from the others.
func TestSACKBlocksHeldUnderFaults(t *testing.T) {
	for _, prof := range []lossProfile{lossProfiles[2], lossProfiles[4], lossProfiles[5], lossProfiles[7]} {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", prof.name, seed), func(t *testing.T) {
				p := newPair(t, "tcp_retries", "40")
				c, s, _ := p.connect(7100)
				fa, fb := prof.f, prof.f
				fa.Seed, fb.Seed = seed, seed+0x5eed
				p.A.SetFaults(fa)
				p.B.SetFaults(fb)
				ab := newStream(c, s, 1<<20, seed, false)
				ba := newStream(s, c, 1<<20, seed+1000, false)
				blocks := 0
				for steps := 0; ab.got < ab.n || ba.got < ba.n; steps++ {
					require.Less(t, steps, 5_000_000)
					pr := ab.pump(t)
					pr = ba.pump(t) || pr
					p.lossyStep(pr)
					for _, x := range []*Conn{c, s} {
						blocks += x.nsack
						requireSACKHeld(t, x)
					}
				}
				p.A.SetFaults(stack.Faults{})
				p.B.SetFaults(stack.Faults{})
				ab.check(t, "a→b")
				ba.check(t, "b→a")
				t.Logf("block-steps %d, OOO queued %d", blocks, StackCounters(p.A).OOOQueued+StackCounters(p.B).OOOQueued)
				if prof.f.Drop > 0 {
					assert.NotZero(t, blocks, "loss made blocks")
				}
			})
		}
	}
}

// requireSACKHeld checks c's SACK blocks against its out-of-order queue.
func requireSACKHeld(t *testing.T, c *Conn) {
	t.Helper()
	for i, b := range c.sackBlk[:c.nsack] {
		require.True(t, c.rcvNxt.LessThan(b.Left) && b.Left.LessThan(b.Right), "block %d [%d,%d) rcv.nxt %d", i, b.Left, b.Right, c.rcvNxt)
		for j, o := range c.sackBlk[:i] {
			require.True(t, b.Right.LessThan(o.Left) || o.Right.LessThan(b.Left), "blocks %d and %d touch", i, j)
		}
		at := b.Left
		for _, e := range c.ooo[:c.nooo] {
			end := e.seq.Add(uint32(e.len))
			if e.seq.LessThanEq(at) && at.LessThan(end) {
				at = end
			}
		}
		require.True(t, b.Right.LessThanEq(at), "block %d [%d,%d) not held past %d", i, b.Left, b.Right, at)
	}
}

// A segment that overlaps held out-of-order data is kept up to it; its block reports what is
// held, not the bytes beyond the later entry that were not kept.
func TestScriptSACKBlockOverlap(t *testing.T) {
	sc := newScript(t)
	c, _ := sc.optConn(peerOffer{sack: true})
	base := peerISN + 1
	send := func(off uint32, n int) out {
		t.Helper()
		sc.send(seg{flags: fPA, seq: base.Add(off), ack: stackISN + 1, data: string(make([]byte, n))})
		return sc.expect(flags(fA), ackNum(c.rcvNxt))
	}
	blocks := func(o out) [][2]uint32 { return sackOffsets(o, base) }
	assert.Equal(t, [][2]uint32{{200, 250}}, blocks(send(200, 50)))
	assert.Equal(t, [][2]uint32{{100, 250}}, blocks(send(100, 200)), "[250, 300) was not kept")
	requireSACKHeld(t, c)
	assert.Equal(t, [][2]uint32{{100, 300}}, blocks(send(250, 50)))
}

// sackOffsets is the SACK blocks of an emitted segment as offsets from base.
func sackOffsets(o out, base wire.Seq) [][2]uint32 {
	var b [][2]uint32
	for _, blk := range o.opts.SACK[:o.opts.NumSACK] {
		b = append(b, [2]uint32{uint32(blk.Left - base), uint32(blk.Right - base)})
	}
	return b
}
