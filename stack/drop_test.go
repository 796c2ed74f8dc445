package stack_test

import (
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// icmpSink is a transport of a protocol of its own that takes ICMP errors quoting its packets,
// so that the stack hands such an error over and then discards the frame.
type icmpSink struct{ errors int }

func (h *icmpSink) Deliver(p *stack.Packet) bool { panic("icmpSink: no packet expected") }

func (h *icmpSink) ICMPError(typ, code uint8, quoted wire.IPv4, mtu uint16) { h.errors++ }

// sinkProto is icmpSink's IP protocol number (RFC 3692: for experimentation).
const sinkProto = 253

// icmpUnreachable builds a port unreachable from the peer quoting a packet of protocol proto
// the stack sent to the peer.
func icmpUnreachable(proto uint8) []byte {
	quoted := make([]byte, 20+8)
	f := wire.IPv4Fields{TotalLength: uint16(len(quoted)), TTL: 64, Protocol: proto, Src: lab.StackIP, Dst: lab.PeerIP}
	f.Encode(quoted)
	icmp := make([]byte, 8+len(quoted))
	copy(icmp[8:], quoted)
	wire.ICMPFields{Type: wire.ICMPDestUnreachable, Code: wire.ICMPPortUnreachable}.Encode(icmp)
	return ipFrame(lab.StackIP, wire.ProtoICMP, icmp)
}

// performCgoCalls performs the stack once and returns how many cgo calls that made.
func performCgoCalls(s *stack.Stack) int64 {
	before := runtime.NumCgoCall()
	s.Perform()
	return runtime.NumCgoCall() - before
}

// Issue 12 item 18: the frames a turn drops or is done with (malformed, not for us, an ARP
// reply, an ICMP error handed to its transport, an IGMP message) go back to the pool in one
// FreeBulk at the end of the turn, not one rte_pktmbuf_free cgo call each. A Perform that
// receives a whole burst of them makes as many cgo calls as one that receives a single one
// (the port's TxRx and the bulk free), and leaves every buffer back in the stack's pool.
func TestDropsFreedInOneCallPerTurn(t *testing.T) {
	const burst = 32 // rx_burst's default: one Perform receives it all
	tests := []struct {
		name    string
		frames  []string // names of frames below, injected burst/len(frames) times each
		dropped bool     // every frame counts as a drop
	}{
		{"not our IP", []string{"not our IP"}, true},
		{"bad IP checksum", []string{"bad IP checksum"}, true},
		{"unknown ethertype", []string{"unknown ethertype"}, true},
		{"ARP request for another host", []string{"ARP not for us"}, true},
		{"ICMP error nobody handles", []string{"ICMP unhandled"}, true},
		{"ARP reply (discarded)", []string{"ARP reply"}, false},
		{"ICMP error handed to its transport (discarded)", []string{"ICMP handled"}, false},
		{"IGMP report of another member (consumed)", []string{"IGMP report"}, false},
		{"mixed", []string{"not our IP", "ARP reply", "ICMP handled", "IGMP report"}, false},
	}
	good := echoRequest(lab.StackIP, 1, 1, "abcdefgh")
	frames := map[string][]byte{
		"not our IP":        echoRequest([4]byte{198, 18, 0, 99}, 1, 2, "x"),
		"bad IP checksum":   func() []byte { b := append([]byte(nil), good...); b[24] ^= 0xff; return b }(),
		"unknown ethertype": ethTo(lab.StackMAC, 0x88b5, make([]byte, 46)),
		"ARP not for us":    arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, [4]byte{198, 18, 0, 50}),
		"ARP reply":         arpFrame(wire.ARPReply, lab.PeerMAC, lab.PeerIP, lab.StackMAC, lab.StackIP),
		"ICMP unhandled":    icmpUnreachable(wire.ProtoUDP),
		"ICMP handled":      icmpUnreachable(sinkProto),
		"IGMP report":       igmpFrame(group1, wire.IGMPv2MembershipReport, 0, group1, wire.IGMPv2Size),
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			sink := &icmpSink{}
			r.S.SetTransport(sinkProto, sink)
			require.NoError(t, r.S.JoinMulticast(group1))
			r.S.Perform()
			r.Drain() // the join's report
			pool := r.S.Pool()
			base := pool.InUse()
			run := func(each int) int64 {
				t.Helper()
				for _, name := range tc.frames {
					require.Contains(t, frames, name)
					r.NewFeeder(t, frames[name], each, true).Inject()
				}
				before := r.S.Counters()
				calls := performCgoCalls(r.S)
				n := uint64(each * len(tc.frames))
				after := r.S.Counters()
				assert.Equal(t, before.RxPackets+n, after.RxPackets, "all received in one turn")
				if tc.dropped {
					assert.Equal(t, before.Dropped()+n, after.Dropped(), "all dropped")
				}
				assert.Empty(t, r.Emitted(), "nothing sent in reply")
				assert.Equal(t, base, pool.InUse(), "every frame back in the pool")
				return calls
			}
			one := run(1)
			many := run(burst / len(tc.frames))
			assert.Equal(t, one, many, "cgo calls of a turn receiving %d frames vs %d: one bulk free per turn, not one free per frame",
				burst/len(tc.frames)*len(tc.frames), len(tc.frames))
			assert.Equal(t, slices.Contains(tc.frames, "ICMP handled"), sink.errors > 0, "handed to the transport")
			require.NoError(t, r.S.LeaveMulticast(group1))
		})
	}
}
