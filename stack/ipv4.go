package stack

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/wire"
)

// input handles one received frame and returns true when it caused a user-visible event.
// Untagged IPv4 to the stack's MAC, nearly every frame, goes straight to ipv4Input; the rest
// takes inputOther's full Ethernet checks.
func (s *Stack) input(m *dpdk.Mbuf) bool {
	b := m.Data()
	s.ctr.RxPackets++
	s.ctr.RxBytes += uint64(len(b))
	if len(b) >= wire.EthernetMinimumSize && [6]byte(b[0:6]) == s.mac &&
		binary.BigEndian.Uint16(b[12:14]) == wire.EtherTypeIPv4 {
		return s.ipv4Input(m, b, wire.EthernetMinimumSize)
	}
	return s.inputOther(m, b)
}

// inputOther is input for the frames that are not untagged IPv4 to the stack's MAC: runts,
// VLAN tags, broadcast and multicast, ARP, and frames to drop.
func (s *Stack) inputOther(m *dpdk.Mbuf, b []byte) bool {
	eth, err := wire.ParseEthernet(b)
	if err != nil {
		return s.drop(m, DropEthRunt)
	}
	if eth.VLAN && eth.TCI&0x0fff != s.vlan {
		return s.drop(m, DropVLAN)
	}
	if dst := wire.Ethernet(b).Dst(); dst != s.mac && !wire.IsBroadcastMAC(dst) &&
		!(wire.IsMulticastMAC(dst) && s.groups.hasMAC(dst)) {
		return s.drop(m, DropEthNotForUs)
	}
	switch eth.Type {
	case wire.EtherTypeIPv4:
		return s.ipv4Input(m, b, eth.HeaderLen)
	case wire.EtherTypeARP:
		s.arpInput(m, b, eth.HeaderLen)
		return false
	}
	return s.drop(m, DropEthType)
}

// drop frees a received frame (by the turn's bulk free, see discard) and counts why. It
// returns false (no user-visible event).
func (s *Stack) drop(m *dpdk.Mbuf, r DropReason) bool {
	s.ctr.Drops[r]++
	s.discard(m)
	return false
}

// discard queues a frame the stack is done with for the bulk free at the end of the turn
// (freeDiscarded): one cgo call for a burst's drops instead of one each. A full queue is freed
// at once.
func (s *Stack) discard(m *dpdk.Mbuf) {
	if s.ndrop == len(s.dropq) {
		s.freeDiscarded()
	}
	s.dropq[s.ndrop] = m
	s.ndrop++
}

// freeDiscarded frees the discarded frames in one call.
func (s *Stack) freeDiscarded() {
	dpdk.FreeBulk(s.dropq[:s.ndrop])
	s.ndrop = 0
}

var ipCheckDrops = [wire.NumErrors]DropReason{
	wire.ErrTruncated:   DropIPTruncated,
	wire.ErrVersion:     DropIPVersion,
	wire.ErrIHL:         DropIPIHL,
	wire.ErrTotalLength: DropIPLength,
	wire.ErrOptions:     DropIPOptions,
}

// ipv4Input checks a received IPv4 packet and hands it to its transport (or ICMP). A header
// without options (0x45), nearly every packet, is checked in a few compares and a 20-byte
// checksum; other headers take checkIPv4Other.
func (s *Stack) ipv4Input(m *dpdk.Mbuf, frame []byte, l2 int) bool {
	b := frame[l2:]
	if len(b) >= wire.IPv4MinimumSize && b[0] == 0x45 {
		if tl := binary.BigEndian.Uint16(b[2:4]); tl < wire.IPv4MinimumSize || int(tl) > len(b) {
			return s.drop(m, DropIPLength)
		}
		s.ctr.RxIPv4++
		if fl := m.OlFlags(); fl&dpdk.RxIPChecksumGood == 0 &&
			(fl&dpdk.RxIPChecksumBad != 0 || !wire.ChecksumValid20((*[wire.IPv4MinimumSize]byte)(b))) {
			return s.drop(m, DropIPChecksum)
		}
	} else if r := s.checkIPv4Other(m, b); r != dropNone {
		return s.drop(m, r)
	}
	ip := wire.IPv4(b)
	src, dst := ip.Src(), ip.Dst()
	if wire.IsBroadcast4(src) || wire.IsMulticast4(src) || wire.IsUnspecified4(src) ||
		wire.IsLoopback4(src) || src == s.ip || src == s.bcast {
		return s.drop(m, DropIPSource)
	}
	bcast := wire.IsBroadcast4(dst) || dst == s.bcast
	if dst != s.ip && !bcast && !(wire.IsMulticast4(dst) && s.groups.has(dst)) {
		return s.drop(m, DropIPNotForUs)
	}
	if ip.TTL() == 0 {
		return s.drop(m, DropIPTTL)
	}
	if ip.IsFragment() {
		return s.drop(m, DropIPFragment)
	}
	proto := ip.Protocol()
	if proto == wire.ProtoICMP {
		s.icmpInput(m, frame, l2, ip, bcast || wire.IsMulticast4(dst))
		return false
	}
	t := s.transport[proto]
	if t == nil {
		return s.drop(m, DropIPProtocol)
	}
	s.ctr.Delivered++
	// The Packet keeps its views until the next one: they point into C memory, which the
	// garbage collector does not scan, so clearing them would only cost write barriers.
	p := &s.pkt
	p.Mbuf, p.IP, p.L4, p.Src, p.Dst = m, ip, ip.Payload(), src, dst
	p.L4ChecksumOK = m.OlFlags()&dpdk.RxL4ChecksumGood != 0
	return t.Deliver(p)
}

// dropNone is checkIPv4Other's "no drop".
const dropNone = NumDropReasons

// checkIPv4Other checks an IPv4 header that is not a plain 20-byte one (options, or not
// IPv4 at all) and counts it received; it returns why to drop it, or dropNone.
//
//go:noinline
func (s *Stack) checkIPv4Other(m *dpdk.Mbuf, b []byte) DropReason {
	if err := wire.CheckIPv4(b); err != nil {
		return ipCheckDrops[err.(wire.Error)]
	}
	s.ctr.RxIPv4++
	ip := wire.IPv4(b)
	if fl := m.OlFlags(); fl&dpdk.RxIPChecksumGood == 0 && (fl&dpdk.RxIPChecksumBad != 0 || !ip.ChecksumValid()) {
		return DropIPChecksum
	}
	if ip.HasSourceRoute() {
		return DropIPOptions
	}
	return dropNone
}

// NextHop returns the address whose MAC a packet to dst is sent to: dst itself inside the local
// subnet (and for broadcast and multicast), the gateway otherwise. Without a gateway, an
// off-subnet destination fails with an error wrapping ENETUNREACH; the error is preallocated
// (it does not name dst), since transports ask once per packet they answer, hostile ones too.
func (s *Stack) NextHop(dst [4]byte) ([4]byte, error) {
	if s.onLink(dst) {
		return dst, nil
	}
	if s.gateway == ([4]byte{}) {
		return dst, errNoRoute
	}
	return s.gateway, nil
}

// errNoRoute is NextHop's ENETUNREACH, made once.
var errNoRoute = fmt.Errorf("stack: no route off the local subnet (set attr gateway): %w", syscall.ENETUNREACH)

func (s *Stack) onLink(dst [4]byte) bool {
	if wire.IsMulticast4(dst) || wire.IsBroadcast4(dst) {
		return true
	}
	bits := s.prefix.Bits()
	mask := ^uint32(0) << (32 - bits)
	if bits == 0 {
		mask = 0
	}
	return be32(dst)&mask == be32(s.ip)&mask
}

// EthernetHeaderSize is the size of the Ethernet header the stack writes (18 with a VLAN).
func (s *Stack) EthernetHeaderSize() int {
	if s.vlan != 0 {
		return wire.EthernetMinimumSize + wire.VLANTagSize
	}
	return wire.EthernetMinimumSize
}

// EncodeEthernet writes the stack's Ethernet header (source = the stack's MAC, the stack's VLAN
// tag if any) for a frame to dstMAC with the given ethertype, and returns its length.
func (s *Stack) EncodeEthernet(b []byte, dstMAC [6]byte, etherType uint16) int {
	f := wire.EthernetFields{Dst: dstMAC, Src: s.mac, Type: etherType, VLAN: s.vlan != 0, TCI: s.vlan}
	return f.Encode(b)
}

// Output transmits an IPv4 frame (Ethernet header already sized, its destination to be filled)
// to nexthop. With the neighbour's MAC known the frame is queued for this turn's transmit burst;
// otherwise it waits while ARP resolves (dropped and counted if that fails).
func (s *Stack) Output(m *dpdk.Mbuf, nexthop [4]byte) {
	if mac, ok := s.Resolve(nexthop); ok {
		wire.Ethernet(m.Data()).SetDst(mac)
		s.enqueue(m)
		return
	}
	s.neigh.hold(nexthop, m)
}

// JoinGroup makes the stack accept packets to the IPv4 multicast group (a reference count per
// group; the port's multicast filter is updated). The caller sends IGMP.
func (s *Stack) JoinGroup(group [4]byte) error {
	if !wire.IsMulticast4(group) {
		return fmt.Errorf("stack: join %v: not a multicast address: %w", group, syscall.EINVAL)
	}
	if !s.groups.add(group) {
		return fmt.Errorf("stack: join %v: too many groups: %w", group, syscall.ENOBUFS)
	}
	return s.syncMulticast()
}

// LeaveGroup drops one reference to group; the last one removes it from the filter.
func (s *Stack) LeaveGroup(group [4]byte) error {
	if !s.groups.remove(group) {
		return fmt.Errorf("stack: leave %v: not joined: %w", group, syscall.EINVAL)
	}
	return s.syncMulticast()
}

// syncMulticast programs the port's multicast filter; PMDs without one get all-multicast.
func (s *Stack) syncMulticast() error {
	macs := s.groups.macs()
	if err := s.port.SetMulticastList(macs); err != nil {
		return s.port.SetAllMulticast(len(macs) > 0)
	}
	return nil
}

// groupTable is the set of joined IPv4 multicast groups with reference counts.
type groupTable struct {
	addr [maxGroups][4]byte
	refs [maxGroups]int
	n    int
}

const maxGroups = 32

func (g *groupTable) has(a [4]byte) bool {
	for i := 0; i < g.n; i++ {
		if g.addr[i] == a {
			return true
		}
	}
	return false
}

func (g *groupTable) hasMAC(mac [6]byte) bool {
	for i := 0; i < g.n; i++ {
		if wire.MulticastMAC(g.addr[i]) == mac {
			return true
		}
	}
	return false
}

func (g *groupTable) add(a [4]byte) bool {
	for i := 0; i < g.n; i++ {
		if g.addr[i] == a {
			g.refs[i]++
			return true
		}
	}
	if g.n == maxGroups {
		return false
	}
	g.addr[g.n], g.refs[g.n] = a, 1
	g.n++
	return true
}

func (g *groupTable) remove(a [4]byte) bool {
	for i := 0; i < g.n; i++ {
		if g.addr[i] == a {
			if g.refs[i]--; g.refs[i] == 0 {
				g.n--
				g.addr[i], g.refs[i] = g.addr[g.n], g.refs[g.n]
			}
			return true
		}
	}
	return false
}

func (g *groupTable) macs() [][6]byte {
	out := make([][6]byte, g.n)
	for i := range out {
		out[i] = wire.MulticastMAC(g.addr[i])
	}
	return out
}
