package stack

import (
	"fmt"
	"math/rand/v2"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/wire"
)

// IGMP host side, version 2 (RFC 2236), for the groups zockets join.
//
//   - Joining a group (Stack.JoinMulticast) adds it to the port's multicast filter (all-multicast,
//     then promiscuous mode, where the PMD has no filter), sends an unsolicited membership
//     report at once and repeats it once after a random delay of up to the Unsolicited Report
//     Interval (10 s).
//   - The first join also makes the stack accept the all-hosts group 224.0.0.1, where general
//     queries arrive; it is never reported (RFC 2236 §6).
//   - A general query (group 0.0.0.0) arms a report for every joined group, a group-specific
//     query for its group, each after a random delay of up to the query's maximum response
//     time (an IGMPv1 query, max resp 0, means 10 s and is answered with IGMPv1 reports; an
//     IGMPv3 query is answered with IGMPv2 reports, which a v3 router accepts).
//   - A report from another host for a group whose report is pending cancels it (suppression).
//   - Leaving the last reference of a group (Stack.LeaveMulticast) sends a leave to the
//     all-routers group 224.0.0.2 and removes the group from the filter.
//
// The IGMP state lives in the stack's transport slot for protocol 2 (the same interface UDP and
// TCP use), so nothing else in the stack knows about it.

const (
	unsolicitedReportNs = 10_000_000_000 // RFC 2236 §8.10
	v1MaxRespNs         = 10_000_000_000 // IGMPv1 queries carry no response time
)

var (
	allHosts   = [4]byte{224, 0, 0, 1}
	allRouters = [4]byte{224, 0, 0, 2}
)

// IGMPCounters count the IGMP messages of a stack.
type IGMPCounters struct {
	TxReports    uint64 // membership reports sent (v1 and v2)
	TxLeaves     uint64 // leave-group messages sent
	RxQueries    uint64 // membership queries received
	RxReports    uint64 // reports of other hosts received (they may suppress ours)
	RxDropped    uint64 // malformed IGMP messages (truncated, bad checksum, unknown type)
	TxNoBufs     uint64 // messages not sent: no buffer
	PromiscForMC uint64 // times the port was put in promiscuous mode for want of a multicast filter
}

type igmpGroup struct {
	ig      *igmpState
	addr    [4]byte
	timer   Timer
	repeats int  // unsolicited reports still to send
	v1      bool // the pending report answers an IGMPv1 query
}

// Expire sends the group's pending report.
func (g *igmpGroup) Expire(now int64) {
	g.ig.report(g.addr, g.v1)
	g.v1 = false
	if g.repeats > 0 {
		g.repeats--
		g.ig.s.ArmTimer(&g.timer, now+1+g.ig.rng.Int64N(unsolicitedReportNs), g)
	}
}

type igmpState struct {
	s      *Stack
	groups [maxGroups]*igmpGroup
	n      int
	rng    *rand.Rand
	ctr    IGMPCounters
}

// igmp returns the stack's IGMP state, installing it on first use.
func (s *Stack) igmp() *igmpState {
	if ig, ok := s.transport[wire.ProtoIGMP].(*igmpState); ok {
		return ig
	}
	ig := &igmpState{s: s, rng: rand.New(rand.NewPCG(rand.Uint64(), uint64(s.now)))}
	s.transport[wire.ProtoIGMP] = ig
	return ig
}

func (ig *igmpState) find(g [4]byte) *igmpGroup {
	for _, e := range ig.groups[:ig.n] {
		if e.addr == g {
			return e
		}
	}
	return nil
}

// JoinMulticast joins the IPv4 multicast group for a zocket: the first reference adds the group
// to the port's filter (falling back to all-multicast, then promiscuous mode, when the PMD has
// no multicast filter) and sends IGMPv2 membership reports; later references only count.
//
// Errors: EINVAL when group is not a multicast address or is 224.0.0.1, ENOBUFS when the stack
// has joined its maximum of groups, the port's error when it can receive the group in no mode.
func (s *Stack) JoinMulticast(group [4]byte) error {
	if !wire.IsMulticast4(group) || group == allHosts {
		return fmt.Errorf("stack: join %d.%d.%d.%d: not a group a zocket can join: %w",
			group[0], group[1], group[2], group[3], syscall.EINVAL)
	}
	ig := s.igmp()
	first := !s.groups.has(group)
	if first && ig.n == 0 {
		if err := s.joinFiltered(allHosts); err != nil {
			return err
		}
	}
	if err := s.joinFiltered(group); err != nil {
		if first && ig.n == 0 {
			s.leaveFiltered(allHosts)
		}
		return err
	}
	if !first {
		return nil
	}
	g := &igmpGroup{ig: ig, addr: group, repeats: 1}
	ig.groups[ig.n] = g
	ig.n++
	g.Expire(s.now) // the unsolicited report now, its repeat later
	return nil
}

// LeaveMulticast drops one reference to group; the last one sends an IGMPv2 leave and removes
// the group from the port's filter.
//
// Errors: EINVAL when the group is not joined.
func (s *Stack) LeaveMulticast(group [4]byte) error {
	ig := s.igmp()
	g := ig.find(group)
	if g == nil {
		return fmt.Errorf("stack: leave %d.%d.%d.%d: not joined: %w", group[0], group[1], group[2], group[3], syscall.EINVAL)
	}
	if err := s.leaveFiltered(group); err != nil {
		return err
	}
	if s.groups.has(group) {
		return nil // other zockets still hold it
	}
	s.StopTimer(&g.timer)
	for i, e := range ig.groups[:ig.n] {
		if e == g {
			ig.n--
			ig.groups[i] = ig.groups[ig.n]
			ig.groups[ig.n] = nil
			break
		}
	}
	ig.send(wire.IGMPLeaveGroup, group, allRouters)
	ig.ctr.TxLeaves++
	if ig.n == 0 {
		s.leaveFiltered(allHosts)
	}
	return nil
}

// MulticastGroups lists the groups zockets have joined (without 224.0.0.1).
func (s *Stack) MulticastGroups() [][4]byte {
	ig := s.igmp()
	out := make([][4]byte, 0, ig.n)
	for _, g := range ig.groups[:ig.n] {
		out = append(out, g.addr)
	}
	return out
}

// IGMPCounters returns the stack's IGMP counters.
func (s *Stack) IGMPCounters() IGMPCounters { return s.igmp().ctr }

// joinFiltered takes a reference on group in the group table and makes the port receive it:
// its multicast filter, else all-multicast (both in syncMulticast), else promiscuous mode.
func (s *Stack) joinFiltered(group [4]byte) error {
	err := s.JoinGroup(group)
	if err == nil || !s.groups.has(group) {
		return err
	}
	// The table took the group but the port refused both filters.
	if perr := s.port.SetPromiscuous(true); perr != nil {
		s.groups.remove(group)
		return fmt.Errorf("stack: join %d.%d.%d.%d: port has no multicast filter (%v) nor promiscuous mode: %w",
			group[0], group[1], group[2], group[3], err, perr)
	}
	s.igmp().ctr.PromiscForMC++
	return nil
}

func (s *Stack) leaveFiltered(group [4]byte) error {
	err := s.LeaveGroup(group)
	if err != nil && s.groups.has(group) {
		return err
	}
	return nil // a port without a filter stays in all-multicast or promiscuous mode
}

// Deliver handles a received IGMP message (the stack calls it for protocol 2).
func (ig *igmpState) Deliver(p *Packet) bool {
	m := p.Mbuf
	defer ig.s.discard(m) // freed with the turn's other drops (ipv4.go)
	if wire.CheckIGMP(p.L4) != nil {
		ig.ctr.RxDropped++
		return false
	}
	msg := wire.IGMP(p.L4)
	switch msg.Type() {
	case wire.IGMPMembershipQuery:
		ig.ctr.RxQueries++
		ig.query(msg)
	case wire.IGMPv1MembershipReport, wire.IGMPv2MembershipReport:
		ig.ctr.RxReports++
		if g := ig.find(msg.Group()); g != nil && g.timer.Armed() && g.repeats == 0 {
			ig.s.StopTimer(&g.timer) // another member answered the query for us
		}
	}
	return false
}

// query arms the reports a membership query asks for (RFC 2236 §3).
func (ig *igmpState) query(q wire.IGMP) {
	maxNs := int64(q.MaxResp()) * 100_000_000
	v1 := !q.IsV3Query() && q.MaxResp() == 0
	if v1 {
		maxNs = v1MaxRespNs
	}
	if q.IsV3Query() && q.MaxResp() >= 128 {
		// RFC 3376 §4.1.1: floating-point code, mant and exp in tenths of a second.
		c := q.MaxResp()
		maxNs = int64((int(c&0x0f)|0x10)<<(int(c>>4&0x07)+3)) * 100_000_000
	}
	if maxNs < 1 {
		maxNs = 1
	}
	group := q.Group()
	for _, g := range ig.groups[:ig.n] {
		if group != ([4]byte{}) && group != g.addr {
			continue
		}
		when := ig.s.now + 1 + ig.rng.Int64N(maxNs)
		if g.timer.Armed() && g.timer.When() <= when {
			continue // an earlier report is due anyway
		}
		g.repeats, g.v1 = 0, v1
		ig.s.ArmTimer(&g.timer, when, g)
	}
}

func (ig *igmpState) report(group [4]byte, v1 bool) {
	typ := uint8(wire.IGMPv2MembershipReport)
	if v1 {
		typ = wire.IGMPv1MembershipReport
	}
	ig.send(typ, group, group)
	ig.ctr.TxReports++
}

// send builds an IGMP message to dst (TTL 1, router alert, TOS 0xc0 as Linux sends them) and
// queues it for this turn's transmit burst.
func (ig *igmpState) send(typ uint8, group, dst [4]byte) {
	s := ig.s
	m := s.pool.Alloc()
	if m == nil {
		ig.ctr.TxNoBufs++
		return
	}
	encodeIGMP(s, m, typ, group, dst)
	s.enqueue(m)
}

func encodeIGMP(s *Stack, m *dpdk.Mbuf, typ uint8, group, dst [4]byte) {
	b := m.Append(minFrame)
	clear(b)
	n := s.EncodeEthernet(b, wire.MulticastMAC(dst), wire.EtherTypeIPv4)
	ipf := wire.IPv4Fields{TOS: 0xc0, TotalLength: 24 + wire.IGMPv2Size, TTL: 1, Protocol: wire.ProtoIGMP,
		Src: s.ip, Dst: dst, RouterAlert: true, DF: true}
	n += ipf.Encode(b[n:])
	f := wire.IGMPFields{Type: typ, Group: group}
	n += f.Encode(b[n:])
	if n > minFrame {
		m.SetLen(n)
	}
}
