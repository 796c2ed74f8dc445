package gonet_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/gonet"
)

// TestPacketConnPair sends datagrams between two gonet stacks: WriteTo any address, ReadFrom
// any sender, a read deadline, and more destinations than the transmit cache holds.
func TestPacketConnPair(t *testing.T) {
	a, b := ringPair(t)
	pa, err := a.ListenPacket("udp4", ":9000")
	require.NoError(t, err)
	defer pa.Close()
	assert.Equal(t, ipA+":9000", pa.LocalAddr().String())

	// Ten receivers on B, so that A writes to more destinations than it caches.
	var pbs []net.PacketConn
	for i := range 10 {
		pb, err := b.ListenPacket("udp", ipB+":"+itoa(9100+i))
		require.NoError(t, err)
		defer pb.Close()
		pbs = append(pbs, pb)
	}
	buf := make([]byte, 2048)
	for round := range 2 {
		for i, pb := range pbs {
			msg := []byte("dgram " + itoa(round) + "/" + itoa(i))
			n, err := pa.WriteTo(msg, pb.LocalAddr())
			require.NoError(t, err)
			assert.Equal(t, len(msg), n)
			require.NoError(t, pb.SetReadDeadline(time.Now().Add(2*time.Second)))
			n, from, err := pb.ReadFrom(buf)
			require.NoError(t, err)
			assert.Equal(t, string(msg), string(buf[:n]))
			assert.Equal(t, pa.LocalAddr().String(), from.String())
			// Echo back to the sender.
			_, err = pb.WriteTo(buf[:n], from)
			require.NoError(t, err)
			require.NoError(t, pa.SetReadDeadline(time.Now().Add(2*time.Second)))
			n, _, err = pa.ReadFrom(buf)
			require.NoError(t, err)
			assert.Equal(t, string(msg), string(buf[:n]))
		}
	}

	// A datagram larger than the MTU goes in fragments, which the stack does not reassemble:
	// the sender succeeds, nothing arrives, and the read deadline ends the wait.
	_, err = pa.WriteTo(make([]byte, 3000), pbs[0].LocalAddr())
	require.NoError(t, err)
	require.NoError(t, pbs[0].SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	start := time.Now()
	_, _, err = pbs[0].ReadFrom(buf)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.True(t, errors.As(err, &ne))
	assert.True(t, ne.Timeout())
	assert.Less(t, time.Since(start), time.Second)

	_, err = pa.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("::1"), Port: 1})
	var ae *net.AddrError
	assert.ErrorAs(t, err, &ae)
	_, err = pa.WriteTo(make([]byte, 70000), pbs[0].LocalAddr())
	assert.Error(t, err)
	pg := pa.(*gonet.PacketConn)
	assert.Error(t, pg.JoinGroup(netip.MustParseAddr(ipB)), "unicast is no group")
	assert.Error(t, pg.LeaveGroup(netip.MustParseAddr("239.1.2.3")), "not joined")
}

// TestPacketConnMulticastPair: a PacketConn that joined a group receives what another stack
// sends to it, and stops receiving once it leaves.
func TestPacketConnMulticastPair(t *testing.T) {
	a, b := ringPair(t)
	pa, err := a.ListenPacket("udp", ":9200")
	require.NoError(t, err)
	defer pa.Close()
	pb, err := b.ListenPacket("udp", ":9201")
	require.NoError(t, err)
	defer pb.Close()
	group := netip.MustParseAddr("239.1.2.3")
	require.NoError(t, pb.(*gonet.PacketConn).JoinGroup(group))
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(group, 9201))
	buf := make([]byte, 64)
	_, err = pa.WriteTo([]byte("to the group"), to)
	require.NoError(t, err)
	require.NoError(t, pb.SetReadDeadline(time.Now().Add(2*time.Second)))
	n, from, err := pb.ReadFrom(buf)
	require.NoError(t, err)
	assert.Equal(t, "to the group", string(buf[:n]))
	assert.Equal(t, ipA+":9200", from.String())

	require.NoError(t, pb.(*gonet.PacketConn).LeaveGroup(group))
	_, err = pa.WriteTo([]byte("after leave"), to)
	require.NoError(t, err)
	require.NoError(t, pb.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	_, _, err = pb.ReadFrom(buf)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

func itoa(i int) string { return strconv.Itoa(i) }
