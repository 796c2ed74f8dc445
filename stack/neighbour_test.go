package stack_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

// learn resolves ip on the raw stack: a request, the peer's reply, then a send through it.
func learn(t *testing.T, r *lab.Raw, ip [4]byte, mac [6]byte) {
	t.Helper()
	_, ok := r.S.Resolve(ip)
	require.False(t, ok)
	r.Inject(t, arpFrame(wire.ARPReply, mac, ip, lab.StackMAC, lab.StackIP))
	_, ok = r.S.Resolve(ip)
	require.True(t, ok, "%v resolved", ip)
	r.Drain()
}

// TestNeighbourTableUnderSpoofedSources floods the neighbour table with on-link sources that
// do not exist (replies to spoofed packets start resolutions that never finish) or that only
// ask for our address: the gateway stays, a bounded number of learnt entries go, and a real
// new neighbour still finds room.
func TestNeighbourTableUnderSpoofedSources(t *testing.T) {
	gateway := [4]byte{198, 18, 0, 254}
	gatewayMAC := [6]byte{2, 0, 0, 0, 0, 0xfe}
	const peers, strangers, maxDisplaced = 63, 150, 16 // the gateway and the peers fill the table
	tests := []struct {
		name  string
		flood func(r *lab.Raw, ip [4]byte)
	}{
		{"resolutions that never complete", func(r *lab.Raw, ip [4]byte) { r.S.Resolve(ip) }},
		{"requests for our address", func(r *lab.Raw, ip [4]byte) {
			mac := [6]byte{2, 0, 0, 0, 1, ip[3]}
			r.Inject(t, arpFrame(wire.ARPRequest, mac, ip, [6]byte{}, lab.StackIP))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t, "gateway", "198.18.0.254")
			learn(t, r, gateway, gatewayMAC)
			peer := func(i int) [4]byte { return [4]byte{198, 18, 0, byte(10 + i)} }
			for i := range peers {
				learn(t, r, peer(i), [6]byte{2, 0, 0, 0, 2, byte(i)})
			}
			// A connection sends to the first (least recently used) peer.
			r.S.ConfirmNeighbour(peer(0))
			for i := range strangers {
				tc.flood(r, [4]byte{198, 18, 0, byte(100 + i)})
				r.Drain()
			}
			r.S.Perform()
			r.Drain()

			mac, ok := r.S.Neighbour(netip.AddrFrom4(gateway))
			assert.True(t, ok, "the gateway is never evicted by strangers")
			assert.Equal(t, gatewayMAC, mac)
			kept := 0
			for i := range peers {
				if _, ok := r.S.Neighbour(netip.AddrFrom4(peer(i))); ok {
					kept++
				}
			}
			assert.GreaterOrEqual(t, kept, peers-maxDisplaced, "strangers displace a bounded number of learnt entries")
			_, ok = r.S.Neighbour(netip.AddrFrom4(peer(0)))
			assert.True(t, ok, "an entry a connection confirmed is not evicted")

			newcomer := [4]byte{198, 18, 0, 5}
			_, ok = r.S.Resolve(newcomer)
			require.False(t, ok)
			r.Inject(t, arpFrame(wire.ARPReply, lab.PeerMAC, newcomer, lab.StackMAC, lab.StackIP))
			_, ok = r.S.Neighbour(netip.AddrFrom4(newcomer))
			assert.True(t, ok, "a real new neighbour still gets an entry")
		})
	}
}
