package tcp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// RFC 7323 §2.3: our shift is the smallest that lets the receive buffer fit the 16-bit field,
// at most 14; a window field is the window shifted right, rounded up (so that the right edge
// never moves back), at most 65535.
func TestWindowScaleArithmetic(t *testing.T) {
	for _, tc := range []struct {
		buf  int
		want uint8
	}{
		{0, 0}, {65535, 0}, {65536, 1}, {131071, 1}, {131072, 2},
		{1 << 20, 5}, {4 << 20, 7}, {65535 << 14, 14}, {1 << 30, 14}, {1 << 40, 14},
	} {
		assert.Equal(t, tc.want, wscaleFor(tc.buf), "buffer %d", tc.buf)
	}
	for _, tc := range []struct {
		w     uint32
		shift uint8
		want  uint16
	}{
		{0, 0, 0}, {1, 0, 1}, {65535, 0, 65535}, {65536, 0, 65535}, {1 << 31, 0, 65535},
		{0, 14, 0}, {1, 14, 1}, {16383, 14, 1}, {16384, 14, 1}, {16385, 14, 2},
		{65535 << 14, 14, 65535}, {65535<<14 + 1, 14, 65535}, {1<<32 - 1, 14, 65535},
		{127, 7, 1}, {128, 7, 1}, {129, 7, 2},
	} {
		assert.Equal(t, tc.want, scaleWindow(tc.w, tc.shift), "window %d at shift %d", tc.w, tc.shift)
	}
}

// The peer's window field is scaled by its shift (14 here, the most), except on its SYN-ACK;
// we send exactly as far as the scaled window allows, at both edges of the field (1 and 65535).
func TestScriptPeerWindowShift14(t *testing.T) {
	sc := newScript(t, "tcp_initial_cwnd", "10000000", "tcp_timestamps", "0")
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 1460, wnd: 1, opts: wscaleOpt(14)})
	synAck := sc.expect(flags(fSA))
	require.True(t, synAck.opts.HasWScale)
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1, wnd: 1})
	c, err := l.Accept()
	require.NoError(t, err)
	assert.Equal(t, uint8(14), c.sndShift)
	assert.Equal(t, uint32(16384), c.sndWnd, "field 1 at shift 14")

	n, err := c.SendSingle(make([]byte, 50_000), 0)
	require.NoError(t, err)
	require.Equal(t, 50_000, n)
	sent := 0
	for _, o := range sc.emitted() {
		sent += len(o.tcp.Payload())
	}
	assert.Equal(t, 11*1460, sent, "whole segments within 16384 bytes (the rest is not worth a piece)")

	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1 + wire.Seq(sent), wnd: 65535})
	assert.Equal(t, uint32(65535)<<14, c.sndWnd, "field 65535 at shift 14: about 1 GiB")
	rest := 0
	for _, o := range sc.emitted() {
		rest += len(o.tcp.Payload())
	}
	assert.Equal(t, 50_000-sent, rest, "the rest at once: the window is no limit now")
}

// Our window is scaled by our shift: the SYN-ACK's field is the unscaled window (at most
// 65535), later ones the window >> shift, rounded up where the buffers shrank by less than a
// unit, so that the right edge (ACK + field << shift) never moves back.
func TestScriptOurWindowShift(t *testing.T) {
	sc := newScript(t, "n_bufs", "8191", "max_tcp_endpoints", "2", "tcp_timestamps", "0")
	l := sc.listen()
	sc.send(seg{flags: fS, seq: peerISN, mss: 1460, opts: wscaleOpt(0)})
	synAck := sc.expect(flags(fSA))
	require.True(t, synAck.opts.HasWScale)
	shift := synAck.opts.WScale
	require.Greater(t, shift, uint8(3), "a window of several MiB needs a shift")
	assert.Equal(t, uint16(65535), synAck.tcp.Window(), "the SYN-ACK's window is not scaled")
	sc.send(seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1})
	c, err := l.Accept()
	require.NoError(t, err)
	assert.Equal(t, shift, c.rcvShift)
	full := uint32(c.slots * c.rcvMSS)
	assert.Greater(t, full, uint32(2<<20))

	edge := func(o out) wire.Seq { return o.tcp.Ack().Add(uint32(o.tcp.Window()) << shift) }
	// Segments the application does not read: each takes a buffer, the window shrinks, and the
	// edge stays where it was (within one unit of the shift, rounded up) until the free
	// buffers fall below it.
	prev := wire.Seq(0)
	seq := peerISN + 1
	for i := 0; i < 40; i++ {
		sc.send(seg{flags: fPA, seq: seq, ack: stackISN + 1, data: "0123456789"})
		seq += 10
		sc.r.Clock.Advance(50 * ms) // the delayed ACK
		for _, o := range sc.emitted() {
			e := edge(o)
			if prev != 0 {
				assert.True(t, prev.LessThanEq(e), "the right edge moved back: %d < %d", e, prev)
				assert.True(t, e.LessThan(prev.Add(1<<shift)), "rounded up by less than a unit")
			}
			prev = e
		}
	}
	require.NotZero(t, prev)
	first := peerISN + 1
	assert.True(t, first.Add(full).LessThanEq(prev), "the first window's edge held")
}

// A transfer between two stacks with a receive buffer of 4 MiB: window scaling lets more than
// 64 KiB be in flight (far more), and the stream arrives byte-exact (SHA-256); without it the
// flight never passes 65535 bytes.
func TestTransferLargeWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scaling string
	}{
		{"window scaling", "1"},
		{"no window scaling", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tcpPair(t, lab.NewPairRing(t, 8192, "n_bufs", "32767", "max_tcp_endpoints", "4",
				"tcp_rcvbuf", "4194304", "tcp_sndbuf", "4194304", "tcp_initial_cwnd", "4194304",
				"tcp_window_scaling", tc.scaling))
			c, s, _ := p.connect(5100)
			maxFlight, maxWnd := uint32(0), uint32(0)
			transferWatch(t, p, c, s, 32<<20, 1<<20, false, func() {
				maxFlight = max(maxFlight, c.sndUna.Size(c.sndMax))
				maxWnd = max(maxWnd, c.sndWnd)
			})
			t.Logf("largest window %d, largest flight %d; send queue %d segments, receive slots %d, shift %d",
				maxWnd, maxFlight, c.sqCap(), s.slots, c.sndShift)
			if tc.scaling == "1" {
				assert.Greater(t, maxWnd, uint32(3<<20), "a window of several MiB")
				assert.Greater(t, maxFlight, uint32(1<<20), "more than 1 MiB in flight")
				assert.Equal(t, 4096, c.sqCap(), "tcp_sndbuf / MSS, a power of two")
			} else {
				assert.LessOrEqual(t, maxWnd, uint32(65535))
				assert.LessOrEqual(t, maxFlight, uint32(65535))
			}
		})
	}
}

// Buffers follow tcp_rcvbuf and tcp_sndbuf, within the connection's share of the pool (half of
// n_bufs over max_tcp_endpoints): receive slots tcp_rcvbuf / MSS (at least 2), the send queue
// tcp_sndbuf / MSS rounded up to a power of two (at least 64); SendSpace and the SYN-ACK's
// window follow.
func TestBufferSizing(t *testing.T) {
	for _, tc := range []struct {
		name      string
		attrs     []string
		slots, sq int
	}{
		{"defaults against a small share", []string{"n_bufs", "8191", "max_tcp_endpoints", "64"}, 63, 64},
		{"defaults, a large share", []string{"n_bufs", "32767", "max_tcp_endpoints", "2"}, 4194304 / 1460, 4096},
		{"small buffers", []string{"n_bufs", "32767", "max_tcp_endpoints", "2", "tcp_rcvbuf", "8192", "tcp_sndbuf", "4096"}, 5, 64},
		{"tcp_rcvbuf beyond the share", []string{"n_bufs", "8191", "max_tcp_endpoints", "8", "tcp_rcvbuf", "1073741824"}, 8191 / 16, 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, append(tc.attrs, "tcp_timestamps", "0")...)
			c, synAck := sc.optConn(peerOffer{ws: true})
			assert.Equal(t, tc.slots, c.slots)
			assert.Equal(t, tc.sq, c.sqCap())
			assert.Equal(t, tc.slots, len(c.ooo), "the out-of-order queue holds a window")
			assert.GreaterOrEqual(t, len(c.rq), 2*tc.slots)
			assert.Equal(t, uint16(min(tc.slots*1460, 65535)), synAck.tcp.Window())
			space, err := c.SendSpace()
			require.NoError(t, err)
			assert.Equal(t, tc.sq*1460, space)
		})
	}
}

// Under loss, duplication and reordering (SACK and D-SACK blocks built, timestamps patched,
// the out-of-order queue in use) the data path still allocates nothing, options on or off.
func TestOptionsPathAllocatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs []string
	}{
		{"options on", nil},
		{"options off", []string{"tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, tc.attrs...)
			c, s, _ := p.connect(6100)
			p.A.SetFaults(stack.Faults{Seed: 5, Drop: 0.05, Duplicate: 0.05, Reorder: 0.05})
			payload := make([]byte, 3000)
			buf := make([]byte, 4096)
			rbuf := [][]byte{buf}
			blocks := 0
			round := func() {
				if n, _ := c.SendSpace(); n >= len(payload) {
					if _, err := c.SendSingle(payload, 0); err != nil {
						panic(err)
					}
				}
				p.Step()
				blocks += s.nsack
				for {
					if _, err := s.Recv(rbuf); err != nil {
						break
					}
				}
				p.Clock.Advance(200_000)
			}
			for range 200 {
				round()
			}
			allocs := testing.AllocsPerRun(3000, round)
			p.A.SetFaults(stack.Faults{})
			assert.Zero(t, allocs)
			require.Equal(t, StateEstablished, c.State())
			assert.NotZero(t, StackCounters(p.B).OOOQueued, "out-of-order data arrived")
			if tc.attrs == nil {
				assert.NotZero(t, blocks, "SACK blocks were built")
			} else {
				assert.Zero(t, blocks)
			}
		})
	}
}
