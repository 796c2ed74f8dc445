package stack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

func TestHasPendingWork(t *testing.T) {
	r := lab.NewRaw(t)
	other := func() bool { // asked from another goroutine, as an application thread would
		ch := make(chan bool)
		go func() { ch <- r.S.HasPendingWork() }()
		return <-ch
	}
	if _, err := r.S.Port().RxQueueCount(0); err != nil {
		t.Logf("%s cannot count its queue (%v): answers are conservative", r.S.Port().Name(), err)
		assert.True(t, other())
		return
	}
	assert.False(t, other(), "idle stack")
	f := r.NewFeeder(t, echoRequest(lab.StackIP, 1, 1, "x"), 1, false)
	f.Inject()
	assert.True(t, other(), "a frame waits in the receive queue")
	r.S.Perform()
	f.Drain()
	assert.False(t, other(), "handled")

	// A timer: an ARP resolution in progress retries after arp_reply_timeout.
	_, ok := r.S.Resolve([4]byte{198, 18, 0, 123})
	require.False(t, ok)
	r.S.Perform()
	f.Drain()
	assert.False(t, other(), "the retry is not due yet")
	r.Clock.Advance(int64(2 * time.Millisecond))
	assert.True(t, other(), "the retry is due")
	r.S.Perform()
	f.Drain()
	r.Drain()

	// A frame queued for transmission between two turns: Perform would send it.
	r.Inject(t, arpFrame(wire.ARPReply, lab.PeerMAC, lab.PeerIP, lab.StackMAC, lab.StackIP))
	r.Clock.Advance(int64(10 * time.Millisecond))
	r.S.Perform() // the ARP retry of 198.18.0.123 fails; nothing else is due
	r.Drain()
	require.False(t, other(), "idle again")
	m := r.S.Pool().Alloc()
	require.NotNil(t, m)
	b := m.Append(14 + 20)
	r.S.EncodeEthernet(b, [6]byte{}, wire.EtherTypeIPv4)
	ipf := wire.IPv4Fields{TotalLength: 20, TTL: 64, Protocol: 253, Src: lab.StackIP, Dst: lab.PeerIP}
	ipf.Encode(b[14:])
	r.S.Output(m, lab.PeerIP)
	assert.True(t, other(), "a frame waits in the transmit queue")
	r.S.Perform()
	assert.Len(t, r.Emitted(), 1)
	assert.False(t, other(), "sent")
}

// TestHasPendingWorkAllocatesNothing asks ports that can count their receive queue (net_ring)
// and ports that cannot (net_af_packet answers ENOTSUP, as memif and tap do).
func TestHasPendingWorkAllocatesNothing(t *testing.T) {
	tests := []struct {
		name  string
		stack func(t *testing.T) *stack.Stack
	}{
		{"net_ring", func(t *testing.T) *stack.Stack { return lab.NewRaw(t).S }},
		{"net_af_packet", func(t *testing.T) *stack.Stack {
			k := lab.NewKernel(t, 14)
			port, err := dpdk.Probe(k.Device())
			require.NoError(t, err)
			return lab.NewStack(t, port, lab.Attr(t, "local_ip", k.StackIP+"/24"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.stack(t)
			assert.Zero(t, testing.AllocsPerRun(100, func() { s.HasPendingWork() }))
		})
	}
}
