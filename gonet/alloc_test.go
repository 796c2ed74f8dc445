package gonet_test

import (
	"io"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/gonet"
)

// TestSteadyStateAllocatesNothing proves that a TCP round trip (Write, blocking Read on the
// other side, Write back, Read) and a UDP one (WriteToUDPAddrPort, ReadFromUDPAddrPort) allocate
// nothing once the connections exist, in both wait modes, and neither do writes to more
// destinations than a PacketConn keeps transmitters for.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	for _, mode := range waitModes {
		a, b := ringPair(t, gonet.WithWaitMode(mode))
		l, err := b.Listen("tcp", ":7400")
		require.NoError(t, err)
		c1, c2, err := connPair(t, a, b, l)
		require.NoError(t, err)
		msg, got := make([]byte, 64), make([]byte, 64)
		roundTrip := func() {
			_, err1 := c1.Write(msg)
			_, err2 := io.ReadFull(c2, got)
			_, err3 := c2.Write(got)
			_, err4 := io.ReadFull(c1, got)
			if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
				t.Fatal(err1, err2, err3, err4)
			}
		}
		roundTrip()
		assert.Zero(t, testing.AllocsPerRun(200, roundTrip), "TCP, mode %d", mode)

		pa, err := a.ListenPacket("udp", ":7401")
		require.NoError(t, err)
		pb, err := b.ListenPacket("udp", ":7402")
		require.NoError(t, err)
		ua, ub := pa.(*gonet.PacketConn), pb.(*gonet.PacketConn)
		to := netip.MustParseAddrPort(ipB + ":7402")
		udpTrip := func() {
			_, err1 := ua.WriteToUDPAddrPort(msg, to)
			_, from, err2 := ub.ReadFromUDPAddrPort(got)
			_, err3 := ub.WriteToUDPAddrPort(got, from)
			_, _, err4 := ua.ReadFromUDPAddrPort(got)
			if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
				t.Fatal(err1, err2, err3, err4)
			}
		}
		udpTrip()
		assert.Zero(t, testing.AllocsPerRun(200, udpTrip), "UDP, mode %d", mode)
		// More destinations than the PacketConn keeps transmitters for: each write past the
		// cache retargets one, which allocates nothing either.
		var many [12]netip.AddrPort
		for i := range many {
			many[i] = netip.AddrPortFrom(to.Addr(), uint16(7410+i))
		}
		next := 0
		manyWrites := func() {
			if _, err := ua.WriteToUDPAddrPort(msg, many[next%len(many)]); err != nil {
				t.Fatal(err)
			}
			next++
		}
		for range many {
			manyWrites()
		}
		assert.Zero(t, testing.AllocsPerRun(200, manyWrites), "UDP to %d destinations, mode %d", len(many), mode)
		c1.Close()
		c2.Close()
		l.Close()
		pa.Close()
		pb.Close()
	}
}

// BenchmarkTCPRoundTrip is a 64-byte TCP ping-pong between two gonet stacks over net_ring
// (busy-poll), for -benchmem.
func BenchmarkTCPRoundTrip(b *testing.B) {
	sa, sb := ringPair(b, gonet.WithWaitMode(gonet.BusyPoll))
	l, err := sb.Listen("tcp", ":7500")
	require.NoError(b, err)
	c1, c2, err := connPair(b, sa, sb, l)
	require.NoError(b, err)
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c2, buf); err != nil {
				return
			}
			if _, err := c2.Write(buf); err != nil {
				return
			}
		}
	}()
	msg := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c1.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c1, msg); err != nil {
			b.Fatal(err)
		}
	}
	c1.Close()
	c2.Close()
}
