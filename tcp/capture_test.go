package tcp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/capture/capturetest"
)

// TestCaptureShowsHandshake: with capture on, tshark reads the stack's pcapng file and sees the
// three-way handshake, the data and the close, in the directions A saw them.
func TestCaptureShowsHandshake(t *testing.T) {
	p, file := capturetest.Pair(t)
	l, err := Listen(p.B, netip.AddrPortFrom(ipB, 7000), nil)
	require.NoError(t, err)
	h, err := NewHandle(p.A, nil)
	require.NoError(t, err)
	c, err := h.Connect(netip.AddrPortFrom(ipB, 7000))
	require.NoError(t, err)
	var s *Conn
	p.Run(t, 20, time.Microsecond, func() bool { s, err = l.Accept(); return err == nil })
	_, err = c.SendSingle([]byte("captured"), 0)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, s.Close())
	require.NoError(t, l.Close())
	p.Run(t, 50, 10*time.Millisecond, func() bool { return p.A.IsQuiescent() && p.B.IsQuiescent() })
	require.NoError(t, p.A.SyncCapture())

	rows := capturetest.Tshark(t, file, "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.len", "frame.packet_flags_direction")
	var tcp [][]string
	for _, r := range rows {
		if len(r) == 5 && r[0] != "" {
			tcp = append(tcp, r)
		}
	}
	require.GreaterOrEqual(t, len(tcp), 5, "%v", rows)
	// SYN out, SYN-ACK in, ACK out.
	assert.Equal(t, []string{"1", "0", "0", "0", "0x00000002"}, tcp[0], "SYN sent")
	assert.Equal(t, []string{"1", "1", "0", "0", "0x00000001"}, tcp[1], "SYN-ACK received")
	assert.Equal(t, []string{"0", "1", "0"}, tcp[2][:3], "ACK")
	var data, fins int
	for _, r := range tcp {
		if r[3] == "8" {
			data++
		}
		if r[2] == "1" {
			fins++
		}
	}
	assert.Equal(t, 1, data, "the 8-byte segment")
	assert.Equal(t, 2, fins, "a FIN each way")
}
