package tcp

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// The hot calls allocate nothing: ZcRecv, ZcRecvDone, Send, SendSingle, Recv, and the
// processing of every segment (Perform on both stacks).
func TestHotPathAllocatesNothing(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(6000)
	msg := NewMsg(8)
	payload := make([]byte, 64)
	iov := [][]byte{payload[:32], payload[32:]}
	buf := make([]byte, 256)
	rbuf := [][]byte{buf}
	round := func() {
		if _, err := c.SendSingle(payload, 0); err != nil {
			panic(err)
		}
		p.Step()
		s.ZcRecv(msg)
		if len(msg.Iov) != 1 {
			panic("no data")
		}
		if _, err := s.Send(msg.Iov, 0); err != nil {
			panic(err)
		}
		if _, err := s.ZcRecvDone(msg); err != nil {
			panic(err)
		}
		p.Step()
		if n, err := c.Recv(rbuf); err != nil || n != 64 {
			panic("no echo")
		}
		if _, err := c.Send(iov, MsgMore); err != nil {
			panic(err)
		}
		if _, err := c.Send(iov, 0); err != nil {
			panic(err)
		}
		p.Step()
		s.ZcRecv(msg)
		s.ZcRecvDoneSome(msg, 64)
		s.ZcRecv(msg)
		s.ZcRecvDone(msg)
		if _, err := c.Recv(rbuf); err != syscall.EAGAIN {
			panic("unexpected data")
		}
		p.Clock.Advance(int64(1000))
	}
	round()
	allocs := testing.AllocsPerRun(2000, round)
	assert.Zero(t, allocs)
	require.Equal(t, StateEstablished, c.State())
}

// BenchmarkPingPong is one 64-byte round trip between two stacks in one goroutine: SendSingle,
// the peer's Perform, ZcRecv, Send of the views, ZcRecvDone, Perform, Recv.
func BenchmarkPingPong(b *testing.B) {
	p := newPair(b)
	c, s, _ := p.connect(6001)
	p.A.SetClock(nil)
	p.B.SetClock(nil)
	msg := NewMsg(8)
	payload := make([]byte, 64)
	buf := make([]byte, 256)
	rbuf := [][]byte{buf}
	b.ReportAllocs()
	for b.Loop() {
		c.SendSingle(payload, 0)
		p.B.Perform()
		s.ZcRecv(msg)
		s.Send(msg.Iov, 0)
		s.ZcRecvDone(msg)
		p.A.Perform()
		c.Recv(rbuf)
	}
}

// BenchmarkSendSingle is SendSingle of 64 bytes and the peer's receive of it (Perform, ZcRecv,
// ZcRecvDone): the per-segment cost of both sides.
func BenchmarkSendSingle(b *testing.B) {
	p := newPair(b, "tcp_delayed_ack", "0")
	c, s, _ := p.connect(6002)
	msg := NewMsg(8)
	payload := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		c.SendSingle(payload, 0)
		p.Step()
		s.ZcRecv(msg)
		s.ZcRecvDone(msg)
	}
}

// BenchmarkBulk streams MSS-sized segments from A to B (Send of 16 KiB, ZcRecv/ZcRecvDone) and
// reports throughput in the pair (one goroutine for both stacks).
func BenchmarkBulk(b *testing.B) {
	p := newPair(b)
	c, s, _ := p.connect(6003)
	msg := NewMsg(64)
	data := make([]byte, 16384)
	iov := [][]byte{data}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	pending := 0
	for b.Loop() {
		pending += len(data)
		for pending > 0 {
			n, err := c.Send(iov, 0)
			if err == nil {
				pending -= n
				iov[0] = data[:min(len(data), pending)]
			}
			p.Step()
			s.ZcRecv(msg)
			if len(msg.Iov) > 0 {
				s.ZcRecvDone(msg)
			}
		}
		iov[0] = data
	}
}

// BenchmarkPongTurn is the pong's work for one 64-byte segment against a raw port (compare
// udp's BenchmarkPongTurn and BenchmarkRawTurn): the peer injects a data segment that also
// acknowledges the previous echo, the stack receives it (Perform), the application echoes it
// (ZcRecv, Send, ZcRecvDone), and the peer takes the echo. "options" is a connection with the
// default options (SACK, timestamps, window scaling: the peer's segments carry timestamps),
// "bare" one whose peer offered none (TCPDirect's 20-byte headers).
func BenchmarkPongTurn(b *testing.B) {
	for _, bc := range []struct {
		name string
		off  peerOffer
	}{
		{"options", peerOffer{sack: true, ts: true, ws: true, shift: 7}},
		{"bare", peerOffer{}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchPongTurn(b, bc.off) })
	}
}

func benchPongTurn(b *testing.B, off peerOffer) {
	sc := newScript(b)
	c, _ := sc.optConn(off)
	sc.r.S.SetClock(nil)
	// The peer's frames come from the stack's own pool, as a NIC's or memif's receive
	// buffers do (udp's BenchmarkPongTurn likewise).
	pool := sc.r.S.Pool()
	in, out := dpdk.NewMbufArray(1), dpdk.NewMbufArray(32)
	b.Cleanup(func() {
		sc.r.S.Perform()
		for n := sc.r.Peer.RxBurst(0, out); n > 0; n = sc.r.Peer.RxBurst(0, out) {
			dpdk.FreeBulk(out[:n])
		}
		dpdk.FreeMbufArray(in)
		dpdk.FreeMbufArray(out)
		teardown(sc.r.S)
	})
	var opts []byte
	if off.ts {
		opts = tsOpt(peerTSVal, 0)
	}
	g := seg{flags: fPA, seq: peerISN + 1, ack: stackISN + 1, data: string(make([]byte, 64)), opts: opts}
	frame := g.frame()
	t := wire.TCP(frame[34:])
	seq := peerISN + 1
	msg := NewMsg(4)
	b.ReportAllocs()
	for b.Loop() {
		t.SetSeq(seq)
		t.SetAck(c.sndNxt)
		t.SetChecksum(0)
		t.SetChecksum(t.ComputeChecksum(lab.PeerIP, lab.StackIP))
		if pool.AllocBulk(in) != nil {
			b.Fatal("peer pool empty")
		}
		copy(in[0].Append(len(frame)), frame)
		sc.r.Peer.TxBurst(0, in)
		if err := pongTurn(sc.r.S, c, msg); err != nil {
			b.Fatal(err)
		}
		for n := 0; n == 0; {
			n = sc.r.Peer.RxBurst(0, out)
			dpdk.FreeBulk(out[:n])
		}
		seq += 64
	}
	if off.ts {
		require.True(b, c.tsOK, "timestamps negotiated")
	}
}

// pongTurn is the stack's share of BenchmarkPongTurn, kept out of line so that scripts/instr
// can count its instructions alone (callgrind --toggle-collect): Perform until the segment is
// in, ZcRecv, the echo's Send, ZcRecvDone.
//
//go:noinline
func pongTurn(st *stack.Stack, c *Conn, msg *Msg) error {
	for st.Perform() == 0 {
	}
	c.ZcRecv(msg)
	if _, err := c.Send(msg.Iov, 0); err != nil {
		return err
	}
	_, err := c.ZcRecvDone(msg)
	return err
}
