package stack

import (
	"fmt"
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/wire"
)

// The neighbour table resolves next hops to MACs with ARP (RFC 826).
//
// Policy, after Linux's defaults:
//   - A request or reply addressed to us creates or refreshes the sender's entry.
//   - An unsolicited reply or a gratuitous ARP (sender = target) refreshes an entry that exists
//     but never creates one, so a host on the link cannot fill the table.
//   - Static entries (attr arp_static) are never overwritten.
//   - A probe (sender 0.0.0.0, RFC 5227) for our address is answered; nothing is learnt from it.
//   - Senders with a broadcast or multicast MAC, or a multicast, broadcast or our own IP, are
//     dropped (arp_sender).
//   - Packets to an unresolved next hop wait in a queue of neighbourQueueLen per entry; the
//     request is resent every arp_reply_timeout µs, arpTries times in all, then the queue is
//     dropped (arp_timeout) and the entry fails until the next packet tries again.
//   - Learnt entries stay until the table needs room. Eviction keeps the entries the stack
//     depends on and bounds what unknown on-link sources (real or spoofed) can cost:
//   - Never evicted: static entries, the gateway's entry (in every state), and entries a
//     connection confirmed (Stack.ConfirmNeighbour, which TCP calls as it sends) within the
//     last neighbourConfirmNs.
//   - An entry is unproven until the stack sends through it: an Incomplete or Failed entry, or
//     one learnt from a request for our address that nothing has used yet. Every new entry
//     starts unproven, and unproven entries share neighbourUnproven of the neighbourEntries
//     slots: when they hold their share, a new one replaces the oldest of them.
//   - Otherwise a new entry takes a free slot, else the oldest unproven entry's, else the
//     least recently used proven entry's. So a flood of unknown sources displaces at most
//     neighbourUnproven proven entries, never a pinned one, and a real new neighbour always
//     finds a slot unless every slot is pinned.

const (
	neighbourEntries   = 64
	neighbourUnproven  = 16 // the unproven entries' share of the table
	neighbourQueueLen  = 16
	arpTries           = 3
	neighbourConfirmNs = 30_000_000_000 // how long a confirmation pins an entry (Linux's base_reachable_time)
)

type neighbourState uint8

const (
	neighFree neighbourState = iota
	neighIncomplete
	neighReachable
	neighStatic
	neighFailed
)

type neighbour struct {
	s        *Stack
	ip       [4]byte
	mac      [6]byte
	state    neighbourState
	proven   bool // the stack has sent through the entry (or it is static)
	tries    int
	used     int64 // creation, then the last send through the entry
	pinUntil int64 // a connection confirmed it: not evicted before this time (0: never confirmed)
	timer    Timer
	queue    [neighbourQueueLen]*dpdk.Mbuf
	queued   int
}

type neighbourTable struct {
	s       *Stack
	entries [neighbourEntries]neighbour
	timeout int64 // ns between requests
	hint    int   // the entry ConfirmNeighbour found last
}

func (t *neighbourTable) init(s *Stack) {
	t.s = s
	t.timeout = s.attr.IntOf(attr.ARPReplyTimeout) * 1000
	for i := range t.entries {
		t.entries[i].s = s
	}
}

func (t *neighbourTable) addStatic() error {
	for _, n := range t.s.attr.Neighbours() {
		e := t.alloc(n.IP.As4())
		if e == nil {
			return fmt.Errorf("stack: attr arp_static: more than %d entries: %w", neighbourEntries, syscall.ENOBUFS)
		}
		e.mac, e.state, e.proven = n.MAC, neighStatic, true
	}
	return nil
}

func (t *neighbourTable) find(ip [4]byte) *neighbour {
	if i := t.index(ip); i >= 0 {
		return &t.entries[i]
	}
	return nil
}

// index is the position of ip's entry, or -1.
func (t *neighbourTable) index(ip [4]byte) int {
	for i := range t.entries {
		if e := &t.entries[i]; e.state != neighFree && e.ip == ip {
			return i
		}
	}
	return -1
}

// pinned reports whether e is never evicted now: static, the gateway, or recently confirmed.
func (t *neighbourTable) pinned(e *neighbour) bool {
	return e.state == neighStatic || e.ip == t.s.gateway || t.s.now < e.pinUntil
}

// alloc returns a fresh (unproven) entry for ip, evicting one as the package doc's policy says
// when the table or the unproven share is full; nil when every entry is pinned.
func (t *neighbourTable) alloc(ip [4]byte) *neighbour {
	var free, oldUnproven, lruProven *neighbour
	unproven := 0
	for i := range t.entries {
		e := &t.entries[i]
		switch {
		case e.state == neighFree:
			if free == nil {
				free = e
			}
		case t.pinned(e):
		case !e.proven:
			unproven++
			if oldUnproven == nil || e.used < oldUnproven.used {
				oldUnproven = e
			}
		case lruProven == nil || e.used < lruProven.used:
			lruProven = e
		}
	}
	victim := free
	if unproven >= neighbourUnproven || victim == nil {
		victim = oldUnproven
	}
	if victim == nil {
		victim = lruProven
	}
	if victim == nil {
		return nil
	}
	victim.release(DropARPTimeout)
	*victim = neighbour{s: t.s, ip: ip, used: t.s.now}
	return victim
}

// ConfirmNeighbour tells the neighbour table that a connection is sending through nexthop with
// the MAC it resolved (Linux's neigh_confirm): a resolved entry counts as used now and is not evicted
// for neighbourConfirmNs. TCP calls it as it sends. It costs a comparison when nexthop is the
// entry confirmed last (the gateway, or the one peer) and a table scan otherwise; an address
// without an entry is ignored.
func (s *Stack) ConfirmNeighbour(nexthop [4]byte) {
	t := &s.neigh
	if e := &t.entries[t.hint]; e.ip != nexthop || e.state == neighFree {
		if t.hint = t.index(nexthop); t.hint < 0 {
			t.hint = 0
			return
		}
	}
	e := &t.entries[t.hint]
	if e.state != neighReachable && e.state != neighStatic {
		return
	}
	e.used, e.proven, e.pinUntil = s.now, true, s.now+neighbourConfirmNs
}

func (e *neighbour) release(r DropReason) {
	if e.queued > 0 {
		e.s.ctr.Drops[r] += uint64(e.queued)
		dpdk.FreeBulk(e.queue[:e.queued])
		e.queued = 0
	}
	e.s.timers.stop(&e.timer)
}

// holding reports whether any frame waits for a resolution.
func (t *neighbourTable) holding() bool {
	for i := range t.entries {
		if t.entries[i].queued > 0 {
			return true
		}
	}
	return false
}

func (t *neighbourTable) flush() {
	for i := range t.entries {
		t.entries[i].release(DropARPTimeout)
	}
}

// Resolve returns the MAC of nexthop when known. Otherwise it starts resolution (an ARP request
// now, retried by timer) and returns false. Broadcast and multicast map directly.
func (s *Stack) Resolve(nexthop [4]byte) (mac [6]byte, ok bool) {
	if wire.IsBroadcast4(nexthop) || nexthop == s.bcast {
		return wire.BroadcastMAC, true
	}
	if wire.IsMulticast4(nexthop) {
		return wire.MulticastMAC(nexthop), true
	}
	e := s.neigh.find(nexthop)
	if e != nil && (e.state == neighReachable || e.state == neighStatic) {
		e.used, e.proven = s.now, true
		return e.mac, true
	}
	if e == nil {
		if e = s.neigh.alloc(nexthop); e == nil {
			return mac, false
		}
	}
	if e.state != neighIncomplete {
		e.state, e.tries = neighIncomplete, 0
		e.request()
	}
	return mac, false
}

// Neighbour reports the MAC the table holds for ip (for tools and tests).
func (s *Stack) Neighbour(ip netip.Addr) (mac [6]byte, ok bool) {
	if e := s.neigh.find(ip.As4()); e != nil && (e.state == neighReachable || e.state == neighStatic) {
		return e.mac, true
	}
	return mac, false
}

// NeighbourFailed reports whether resolving ip failed (no reply to arpTries requests); a
// transport turns that into EHOSTUNREACH.
func (s *Stack) NeighbourFailed(ip [4]byte) bool {
	e := s.neigh.find(ip)
	return e != nil && e.state == neighFailed
}

// hold queues a frame for an unresolved next hop.
func (t *neighbourTable) hold(nexthop [4]byte, m *dpdk.Mbuf) {
	e := t.find(nexthop)
	if e == nil || e.state != neighIncomplete {
		t.s.drop(m, DropARPTimeout)
		return
	}
	if e.queued == neighbourQueueLen {
		t.s.drop(m, DropARPQueueFull)
		return
	}
	e.queue[e.queued] = m
	e.queued++
	t.s.busy()
}

// request broadcasts an ARP request for the entry and arms the retry timer.
func (e *neighbour) request() {
	s := e.s
	e.tries++
	s.ArmTimer(&e.timer, s.now+s.neigh.timeout, e)
	m := s.pool.Alloc()
	if m == nil {
		s.ctr.Drops[DropTxNoBufs]++
		return
	}
	s.encodeARP(m, wire.ARPRequest, wire.BroadcastMAC, [6]byte{}, e.ip)
	s.ctr.TxARPRequests++
	s.enqueue(m)
}

// Expire retries the request or gives up.
func (e *neighbour) Expire(now int64) {
	if e.state != neighIncomplete {
		return
	}
	if e.tries < arpTries {
		e.request()
		return
	}
	e.release(DropARPTimeout)
	e.state = neighFailed
}

// resolved records mac for the entry and sends what waited for it.
func (e *neighbour) resolved(mac [6]byte) {
	s := e.s
	e.mac, e.used = mac, s.now
	if e.state != neighStatic {
		e.state = neighReachable
	}
	s.timers.stop(&e.timer)
	if e.queued > 0 {
		e.proven = true // sending through it now
	}
	for _, m := range e.queue[:e.queued] {
		wire.Ethernet(m.Data()).SetDst(mac)
		s.enqueue(m)
	}
	e.queued = 0
}

// encodeARP writes a whole ARP frame into a fresh mbuf, padded to the 60-byte Ethernet minimum.
func (s *Stack) encodeARP(m *dpdk.Mbuf, op uint16, ethDst, targetMAC [6]byte, targetIP [4]byte) {
	b := m.Append(minFrame)
	clear(b)
	n := s.EncodeEthernet(b, ethDst, wire.EtherTypeARP)
	f := wire.ARPFields{Op: op, SenderMAC: s.mac, SenderIP: s.ip, TargetMAC: targetMAC, TargetIP: targetIP}
	n += f.Encode(b[n:])
	if n > minFrame {
		m.SetLen(n)
	}
}

// minFrame is the shortest Ethernet frame without its FCS.
const minFrame = 60

var arpCheckDrops = [wire.NumErrors]DropReason{
	wire.ErrTruncated: DropARPTruncated,
	wire.ErrARPFormat: DropARPFormat,
	wire.ErrARPOp:     DropARPOp,
}

func (s *Stack) arpInput(m *dpdk.Mbuf, frame []byte, l2 int) {
	b := frame[l2:]
	if err := wire.CheckARP(b); err != nil {
		s.drop(m, arpCheckDrops[err.(wire.Error)])
		return
	}
	s.ctr.RxARP++
	a := wire.ARP(b)
	sha, spa, tpa := a.SenderMAC(), a.SenderIP(), a.TargetIP()
	if wire.IsBroadcastMAC(sha) || wire.IsMulticastMAC(sha) || sha == ([6]byte{}) ||
		wire.IsMulticast4(spa) || wire.IsBroadcast4(spa) || spa == s.bcast || spa == s.ip {
		s.drop(m, DropARPSender)
		return
	}
	probe := wire.IsUnspecified4(spa)
	forUs := tpa == s.ip
	if !probe {
		e := s.neigh.find(spa)
		if e == nil && forUs {
			e = s.neigh.alloc(spa)
		}
		if e != nil && e.state != neighStatic {
			e.resolved(sha)
		}
	}
	if !forUs {
		s.drop(m, DropARPNotForUs)
		return
	}
	if a.Op() != wire.ARPRequest {
		s.discard(m)
		return
	}
	// Answer in place: the request's buffer becomes the reply.
	a.SetOp(wire.ARPReply)
	a.SetTargetMAC(sha)
	a.SetTargetIP(spa)
	a.SetSenderMAC(s.mac)
	a.SetSenderIP(s.ip)
	eth := wire.Ethernet(frame)
	eth.SetDst(sha)
	eth.SetSrc(s.mac)
	s.ctr.TxARPReplies++
	s.enqueue(m)
}
