package udp_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
)

var payload64 = make([]byte, 64)

func TestHotPathAllocatesNothing(t *testing.T) {
	r := newRaw(t)
	f := r.NewFeeder(t, udpFrame(lab.StackIP, 4000, 5000, payload64), 1, true)
	rx := newRx(t, r.S, nil)
	bind(t, rx, ap(netip.AddrFrom4(lab.StackIP), 5000), netip.AddrPort{})
	tx := newTx(t, r.S, ap(netip.AddrFrom4(lab.StackIP), 5000), ap(peer, 4000), nil)
	msg := udp.NewMsg(2)
	iov := [][]byte{payload64[:20], payload64[20:]}
	sent, received := 0, 0
	allocs := testing.AllocsPerRun(1000, func() {
		f.Inject()
		r.S.Perform()
		rx.ZcRecv(msg)
		if len(msg.Iov) == 1 {
			received++
			if _, err := tx.Send(msg.Iov, 0); err == nil {
				sent++
			}
			rx.ZcRecvDone(msg)
		}
		if _, err := tx.SendSingle(payload64); err == nil {
			sent++
		}
		if _, err := tx.Send(iov, udp.DontFragment); err == nil {
			sent++
		}
		if _, err := tx.SendSingleWarm(payload64); err != nil {
			panic(err)
		}
		f.Drain()
	})
	assert.Zero(t, allocs, "ZcRecv, ZcRecvDone, Send, SendSingle, SendSingleWarm and Perform")
	assert.Equal(t, 1001, received)
	assert.Equal(t, 3*1001, sent)
	// Errors on the hot path allocate nothing either.
	big := make([]byte, tx.MSS()+1)
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := tx.SendSingle(big); err == nil {
			panic("sent")
		}
	})
	assert.Zero(t, allocs, "EMSGSIZE")
}

func benchSend(b *testing.B, send func(tx *udp.Transmitter) error) {
	r := lab.NewRaw(b, "arp_static", "198.18.0.9=02:00:00:00:00:ee")
	r.S.SetClock(nil)
	tx := newTx(b, r.S, ap(netip.AddrFrom4(lab.StackIP), 5000), ap(peer, 4000), nil)
	f := r.NewFeeder(b, nil, 1, false)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := send(tx); err != nil {
			b.Fatal(err)
		}
		if i++; i&255 == 0 {
			b.StopTimer()
			f.Drain()
			b.StartTimer()
		}
	}
}

func BenchmarkSendSingle(b *testing.B) {
	benchSend(b, func(tx *udp.Transmitter) error { _, err := tx.SendSingle(payload64); return err })
}

func BenchmarkSendGather(b *testing.B) {
	iov := [][]byte{payload64[:14], payload64[14:]}
	benchSend(b, func(tx *udp.Transmitter) error { _, err := tx.Send(iov, 0); return err })
}

func BenchmarkSendSingleWarm(b *testing.B) {
	benchSend(b, func(tx *udp.Transmitter) error { _, err := tx.SendSingleWarm(payload64); return err })
}

// BenchmarkReceive is the receive path per datagram: the reactor's share of 32-frame bursts
// (Ethernet, IPv4, UDP checks, demux, queue) plus ZcRecv and ZcRecvDone. The peer injects 512
// frames at a time with the timer stopped.
func BenchmarkReceive(b *testing.B) {
	const burst = 512
	r := lab.NewRaw(b, "arp_static", "198.18.0.9=02:00:00:00:00:ee")
	r.S.SetClock(nil)
	// The peer's pool goes last: the zockets' buffer cache may hold its buffers until they close.
	f := r.NewFeeder(b, udpFrame(lab.StackIP, 4000, 5000, payload64), burst, true)
	rx := newRx(b, r.S, nil)
	bind(b, rx, ap(netip.AddrFrom4(lab.StackIP), 5000), netip.AddrPort{})
	msg := udp.NewMsg(2)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		b.StopTimer()
		f.Inject()
		b.StartTimer()
		for r.S.Perform() > 0 {
			for {
				rx.ZcRecv(msg)
				if len(msg.Iov) == 0 {
					break
				}
				n++
				rx.ZcRecvDone(msg)
			}
		}
	}
	if n != b.N*burst {
		b.Fatalf("received %d of %d", n, b.N*burst)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/dgram")
}

// BenchmarkPingPongPair is one round trip between two stacks in one goroutine over net_ring:
// both stacks' whole send and receive paths, no wire latency.
func BenchmarkPingPongPair(b *testing.B) {
	p := lab.NewPair(b, "arp_static", "198.18.0.1=02:00:00:00:00:01,198.18.0.2=02:00:00:00:00:02")
	p.A.SetClock(nil)
	p.B.SetClock(nil)
	rxA := newRx(b, p.A, nil)
	bind(b, rxA, ap(addrA, 6000), netip.AddrPort{})
	rxB := newRx(b, p.B, nil)
	bind(b, rxB, ap(addrB, 5000), netip.AddrPort{})
	txA := newTx(b, p.A, ap(addrA, 6000), ap(addrB, 5000), nil)
	txB := newTx(b, p.B, ap(addrB, 5000), ap(addrA, 6000), nil)
	msg := udp.NewMsg(2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := txA.SendSingle(payload64); err != nil {
			b.Fatal(err)
		}
		for p.B.Perform() == 0 {
		}
		rxB.ZcRecv(msg)
		if _, err := txB.Send(msg.Iov, 0); err != nil {
			b.Fatal(err)
		}
		rxB.ZcRecvDone(msg)
		for p.A.Perform() == 0 {
		}
		rxA.ZcRecv(msg)
		rxA.ZcRecvDone(msg)
	}
}

// BenchmarkPongTurn is the pong's work for one datagram, against a raw port: the peer injects
// one frame, the stack receives it (Perform), the application echoes it (ZcRecv, Send,
// ZcRecvDone), and the peer takes the echo. BenchmarkRawTurn is the same exchange with the
// stack replaced by zfpmd's raw echo (receive, swap MACs, send): the difference is what the
// stack adds per half round trip.
func BenchmarkPongTurn(b *testing.B) {
	r := lab.NewRaw(b, "arp_static", "198.18.0.9=02:00:00:00:00:ee")
	r.S.SetClock(nil)
	f := r.NewFeeder(b, udpFrame(lab.StackIP, 4000, 5000, payload64), 1, true)
	rx := newRx(b, r.S, nil)
	bind(b, rx, ap(netip.AddrFrom4(lab.StackIP), 5000), netip.AddrPort{})
	tx := newTx(b, r.S, ap(netip.AddrFrom4(lab.StackIP), 5000), ap(peer, 4000), nil)
	msg := udp.NewMsg(2)
	b.ReportAllocs()
	for b.Loop() {
		f.Inject()
		if err := pongTurn(r.S, rx, tx, msg); err != nil {
			b.Fatal(err)
		}
		for f.Drain() == 0 {
		}
	}
}

// pongTurn is the stack's share of BenchmarkPongTurn, kept out of line so that scripts/instr
// can count its instructions alone (callgrind --toggle-collect): Perform until the datagram is
// in, ZcRecv, the echo's Send, ZcRecvDone.
//
//go:noinline
func pongTurn(st *stack.Stack, rx *udp.Receiver, tx *udp.Transmitter, msg *udp.Msg) error {
	for st.Perform() == 0 {
	}
	rx.ZcRecv(msg)
	if _, err := tx.Send(msg.Iov, 0); err != nil {
		return err
	}
	rx.ZcRecvDone(msg)
	return nil
}

func BenchmarkRawTurn(b *testing.B) {
	r := lab.NewRaw(b)
	f := r.NewFeeder(b, udpFrame(lab.StackIP, 4000, 5000, payload64), 1, true)
	rx := dpdk.NewMbufArray(32)
	defer dpdk.FreeMbufArray(rx)
	port := r.S.Port()
	for b.Loop() {
		f.Inject()
		rawTurn(port, rx)
		for f.Drain() == 0 {
		}
	}
}

// rawTurn is BenchmarkRawTurn's echo, out of line for scripts/instr: receive, swap the MACs,
// send.
//
//go:noinline
func rawTurn(port dpdk.Port, rx []*dpdk.Mbuf) {
	var n int
	for n == 0 {
		_, n, _ = port.TxRx(0, nil, rx)
	}
	d := rx[0].Data()
	d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11] =
		d[6], d[7], d[8], d[9], d[10], d[11], d[0], d[1], d[2], d[3], d[4], d[5]
	port.TxBurst(0, rx[:1])
}
