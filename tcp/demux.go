package tcp

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

// config is the stack-wide TCP configuration read from the stack's attributes.
type config struct {
	opt            optConfig // options and buffers (options.go)
	delayedAck     bool
	finwait        int64 // ns; 0 disabled
	timewait       int64 // ns
	initialCwnd    int   // bytes; 0: 10 * MSS
	retries        int
	orphanRetries  int    // tcp_orphan_retries, 0 made 8
	challengeGap   int64  // ns: tcp_invalid_ratelimit_ms
	challengeLimit uint32 // tcp_challenge_ack_limit; noChallengeLimit: none
	synRetries     int
	synackRetries  int
	rtoMin, rtoMax int64 // ns
	maxConns       int
	maxListen      int
	synBacklog     int
	synCookies     bool // tcp_syncookies
	waitTimeWait   bool
	ka             Keepalive // every connection's at first (StackKeepalive)
}

// state is a stack's TCP: the demultiplexer (4-tuple table, then listeners), endpoint counts,
// ports, the ISN key, the buffer cache and the counters. It is the stack.Transport installed for
// protocol 6.
type state struct {
	st  *stack.Stack
	ip  [4]byte
	cfg config
	cc  congestionControl // tcp_congestion (cc.go)

	conns     connTable // by remote IP, remote port, local port
	last      *Conn     // the last connection found: one compare in a one-flow loop
	pool      []Conn    // every connection object, made with the state (connect.go's initConns)
	free      []*Conn   // pool entries not in use, last freed on top
	listeners map[uint16]*Listener
	ports     *stack.PortSet
	portRefs  map[uint16]int
	zc        ZCOwner // zc's state for this stack: told of zero-copy buffers leaving send queues (tcp/zc.go)

	nconns  int    // handles + connections, half-open and orphaned ones included
	tw      twList // orphaned connections in TIME-WAIT, oldest first (timewait.go)
	nlisten int

	isnKey    [2]uint64
	cookieKey [2]uint64       // SYN cookies' hash key (syncookie.go)
	isnHook   func() wire.Seq // tests: fixed initial sequence numbers

	cache *stack.BufCache
	txv   []*dpdk.Mbuf // C memory: segments of one transmit burst
	freev []*dpdk.Mbuf // C memory: buffers of one bulk free

	challengeSec  int64  // second of the current challenge-ACK budget
	challengeLeft uint32 // challenge ACKs left in it

	ctr Counters
}

// txBurst is how many segments one transmit burst carries at most.
const txBurst = 64

// noChallengeLimit as tcp_challenge_ack_limit turns the stack-wide budget off (Linux's INT_MAX).
const noChallengeLimit = 1<<31 - 1

// stateOf returns st's TCP state, installing it the first time.
func stateOf(st *stack.Stack) *state {
	if s, ok := st.Transport(wire.ProtoTCP).(*state); ok {
		return s
	}
	a := st.Attr()
	s := &state{
		st:        st,
		ip:        st.LocalIP4(),
		listeners: make(map[uint16]*Listener),
		ports:     stack.NewPortSet(rand.Uint64()),
		portRefs:  make(map[uint16]int),
		cfg: config{
			delayedAck:     a.IntOf(attr.TCPDelayedAck) != 0,
			finwait:        a.IntOf(attr.TCPFinwaitMs) * 1e6,
			timewait:       a.IntOf(attr.TCPTimewaitMs) * 1e6,
			initialCwnd:    int(a.IntOf(attr.TCPInitialCwnd)),
			retries:        int(a.IntOf(attr.TCPRetries)),
			synRetries:     int(a.IntOf(attr.TCPSynRetries)),
			synackRetries:  int(a.IntOf(attr.TCPSynackRetries)),
			rtoMin:         a.IntOf(attr.TCPRTOMinMs) * 1e6,
			rtoMax:         a.IntOf(attr.TCPRTOMaxMs) * 1e6,
			maxConns:       int(a.IntOf(attr.MaxTCPEndpoints)),
			maxListen:      int(a.IntOf(attr.MaxTCPListenEndpoints)),
			synBacklog:     int(a.IntOf(attr.MaxTCPSynBacklog)),
			synCookies:     a.IntOf(attr.TCPSyncookies) != 0,
			waitTimeWait:   a.IntOf(attr.TCPWaitForTimeWait) != 0,
			ka:             StackKeepalive(a),
			challengeGap:   a.IntOf(attr.TCPInvalidRatelimitMs) * 1e6,
			challengeLimit: uint32(a.IntOf(attr.TCPChallengeACKLimit)),
		},
		challengeSec: -1,
		cc:           congestionByName(a.StrOf(attr.TCPCongestion)),
	}
	if s.cfg.orphanRetries = int(a.IntOf(attr.TCPOrphanRetries)); s.cfg.orphanRetries == 0 {
		s.cfg.orphanRetries = 8 // Linux's tcp_orphan_retries(): 0 means 8
	}
	if s.cfg.rtoMax < s.cfg.rtoMin {
		s.cfg.rtoMax = s.cfg.rtoMin
	}
	s.initConns()
	var k [32]byte
	_, _ = crand.Read(k[:])
	s.isnKey = [2]uint64{binary.LittleEndian.Uint64(k[:8]), binary.LittleEndian.Uint64(k[8:16])}
	s.cookieKey = [2]uint64{binary.LittleEndian.Uint64(k[16:24]), binary.LittleEndian.Uint64(k[24:])}
	st.SetTransport(wire.ProtoTCP, s)
	return s
}

// acquire is called when an endpoint is made; the first one allocates the arrays and cache.
func (s *state) acquire() {
	if s.cache == nil {
		s.cache = stack.NewBufCache(s.st, 128)
		s.txv = dpdk.NewMbufArray(txBurst)
		s.freev = dpdk.NewMbufArray(txBurst)
	}
}

// release gives the cache back when the last endpoint is gone, so that the stack can close
// with its pool whole.
func (s *state) release() {
	if s.nconns > 0 || s.nlisten > 0 || s.cache == nil {
		return
	}
	s.cache.Close()
	dpdk.FreeMbufArray(s.txv)
	dpdk.FreeMbufArray(s.freev)
	s.cache, s.txv, s.freev = nil, nil, nil
}

// recycle gives a buffer back to the cache (or frees it when no endpoint is left).
func (s *state) recycle(m *dpdk.Mbuf) {
	if s.cache == nil {
		m.Free()
		return
	}
	s.cache.Put(m)
}

// reservePort takes a local port for a listener, a bound handle or an ephemeral connect.
func (s *state) reservePort(port uint16) error {
	if err := s.ports.Reserve(port); err != nil {
		return err
	}
	s.portRefs[port] = 1
	return nil
}

func (s *state) ephemeralPort() (uint16, error) {
	p, err := s.ports.Ephemeral()
	if err != nil {
		return 0, err
	}
	s.portRefs[p] = 1
	return p, nil
}

func (s *state) releasePort(port uint16) {
	if n := s.portRefs[port]; n > 1 {
		s.portRefs[port] = n - 1
		return
	}
	delete(s.portRefs, port)
	s.ports.Release(port)
}

// connKey packs a connection's remote address, remote port and local port (the local address
// is always the stack's).
func connKey(rip [4]byte, rport, lport uint16) uint64 {
	return uint64(binary.BigEndian.Uint32(rip[:]))<<32 | uint64(rport)<<16 | uint64(lport)
}

func (s *state) lookup(k uint64) *Conn {
	if c := s.last; c != nil && c.key == k {
		return c
	}
	c := s.conns.get(k)
	if c != nil {
		s.last = c
	}
	return c
}

func (s *state) insert(c *Conn) {
	s.conns.put(c)
	c.inTable = true
}

func (s *state) remove(c *Conn) {
	if !c.inTable {
		return
	}
	c.inTable = false
	s.conns.del(c.key)
	if s.last == c {
		s.last = nil
	}
}

// connTable is the demultiplexer's 4-tuple table: open addressing with linear probing in a
// power-of-two array made at set-up at least twice max_tcp_endpoints long (so at most half
// full), deleting by backward shift (no tombstones), so that neither an insert nor a delete
// ever allocates and probe sequences stay short. Keys are hashed with a random per-stack seed,
// so that a peer cannot pick ports that collide. Key 0 marks a free entry: no connection has
// local port 0.
type connTable struct {
	ents []connEnt
	mask uint32
	seed uint64
	n    int // connections in the table
}

type connEnt struct {
	key uint64
	c   *Conn
}

// init makes a table for n connections.
func (t *connTable) init(n int, seed uint64) {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	t.ents = make([]connEnt, size)
	t.mask = uint32(size - 1)
	t.seed = seed
}

// home is the entry where key k's probe sequence starts.
func (t *connTable) home(k uint64) uint32 {
	h := (k ^ t.seed) * 0x9e3779b97f4a7c15
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return uint32(h) & t.mask
}

// get returns the connection with key k, or nil.
func (t *connTable) get(k uint64) *Conn {
	for i := t.home(k); ; i = (i + 1) & t.mask {
		switch t.ents[i].key {
		case k:
			return t.ents[i].c
		case 0:
			return nil
		}
	}
}

// put adds c, whose key is not in the table (the table is never full: see init).
func (t *connTable) put(c *Conn) {
	i := t.home(c.key)
	for t.ents[i].key != 0 {
		i = (i + 1) & t.mask
	}
	t.ents[i] = connEnt{key: c.key, c: c}
	t.n++
}

// del removes key k, moving back the entries after it that would otherwise no longer be
// found (Knuth's algorithm R).
func (t *connTable) del(k uint64) {
	i := t.home(k)
	for t.ents[i].key != k {
		if t.ents[i].key == 0 {
			return
		}
		i = (i + 1) & t.mask
	}
	for j := (i + 1) & t.mask; t.ents[j].key != 0; j = (j + 1) & t.mask {
		// The entry at j may fill the hole at i if i lies on its probe sequence, between its
		// home and j.
		if h := t.home(t.ents[j].key); (i-h)&t.mask < (j-h)&t.mask {
			t.ents[i] = t.ents[j]
			i = j
		}
	}
	t.ents[i] = connEnt{}
	t.n--
}

// segment is a received TCP segment, viewed in its buffer.
type segment struct {
	m     *dpdk.Mbuf
	seq   wire.Seq
	ack   wire.Seq
	flags wire.TCPFlags
	wnd   uint32
	off   int // payload offset in m.Data()
	plen  int // payload length
	tcp   wire.TCP
	opts  wire.TCPOptions // the header's options, parsed (zero when it has none)
}

// seglen is the sequence space the segment occupies (payload, SYN, FIN).
func (g *segment) seglen() uint32 {
	n := uint32(g.plen)
	if g.flags&wire.TCPFlagSyn != 0 {
		n++
	}
	if g.flags&wire.TCPFlagFin != 0 {
		n++
	}
	return n
}

// Deliver is the stack's entry point for a received TCP segment (stack.Transport).
func (s *state) Deliver(p *stack.Packet) bool {
	s.ctr.RxSegments++
	m := p.Mbuf
	if wire.CheckTCP(p.L4) != nil {
		return s.drop(m, DropMalformed)
	}
	t := wire.TCP(p.L4)
	if !p.L4ChecksumOK && !t.ChecksumValid(p.Src, p.Dst) {
		return s.drop(m, DropChecksum)
	}
	if m.NbSegs() != 1 {
		return s.drop(m, DropMultiSeg)
	}
	fl := t.Flags()
	if fl&(wire.TCPFlagSyn|wire.TCPFlagFin|wire.TCPFlagRst|wire.TCPFlagAck) == 0 ||
		fl&wire.TCPFlagSyn != 0 && fl&(wire.TCPFlagFin|wire.TCPFlagRst) != 0 {
		return s.drop(m, DropFlags)
	}
	if p.Dst != s.ip {
		return s.drop(m, DropNoEndpoint) // broadcast or multicast: TCP is unicast
	}
	data := m.Data()
	hl := t.DataOffset()
	g := segment{
		m: m, seq: t.Seq(), ack: t.Ack(), flags: fl, wnd: uint32(t.Window()),
		off: len(data) - len(p.IP) + p.IP.HeaderLength() + hl, plen: len(t) - hl, tcp: t,
	}
	if val, ecr, ok := alignedTimestamps(t.Options()); ok {
		g.opts.HasTimestamps, g.opts.TSVal, g.opts.TSEcr = true, val, ecr // fast.go
	} else if hl > wire.TCPMinimumSize {
		o, err := wire.ParseTCPOptions(t.Options())
		if err != nil {
			return s.drop(m, DropMalformed)
		}
		g.opts = o
	}
	k := connKey(p.Src, t.SrcPort(), t.DstPort())
	if c := s.lookup(k); c != nil {
		return c.input(&g)
	}
	if l := s.listeners[t.DstPort()]; l != nil {
		return l.input(&g, p.Src)
	}
	s.ctr.Drops[DropNoEndpoint]++
	s.resetFor(&g, p.Src)
	s.recycle(m)
	return false
}

func (s *state) drop(m *dpdk.Mbuf, r DropReason) bool {
	s.ctr.Drops[r]++
	s.recycle(m)
	return false
}

// resetFor answers a segment that reached no connection (RFC 9293 §3.10.7.1): a RST is never
// answered; a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>; any other gets
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
func (s *state) resetFor(g *segment, rip [4]byte) {
	if g.flags&wire.TCPFlagRst != 0 {
		return
	}
	if g.flags&wire.TCPFlagAck != 0 {
		s.sendReset(rip, g.tcp.SrcPort(), g.tcp.DstPort(), g.ack, 0, wire.TCPFlagRst)
		return
	}
	s.sendReset(rip, g.tcp.SrcPort(), g.tcp.DstPort(), 0, g.seq.Add(g.seglen()), wire.TCPFlagRst|wire.TCPFlagAck)
}

// sendReset sends a RST that belongs to no connection.
func (s *state) sendReset(rip [4]byte, rport, lport uint16, seq, ack wire.Seq, fl wire.TCPFlags) {
	if s.sendBare(rip, rport, lport, seq, ack, fl, 0, nil) {
		s.ctr.Resets++
	}
}

// sendBare sends a segment that belongs to no connection (a RST, a SYN cookie's SYN-ACK): the
// header with window wnd and the option bytes opts (a multiple of 4), no payload. It reports
// whether a buffer was found for it.
func (s *state) sendBare(rip [4]byte, rport, lport uint16, seq, ack wire.Seq, fl wire.TCPFlags, wnd uint16, opts []byte) bool {
	m := s.takeBuf()
	if m == nil {
		s.ctr.TxNoBufs++
		return false
	}
	l2 := s.st.EthernetHeaderSize()
	thl := 20 + len(opts)
	b := m.Append(l2 + 20 + thl)
	if b == nil {
		s.recycle(m)
		s.ctr.TxNoBufs++
		return false
	}
	s.st.EncodeEthernet(b, [6]byte{}, wire.EtherTypeIPv4)
	ipf := wire.IPv4Fields{TotalLength: uint16(20 + thl), DF: true, TTL: 64, Protocol: wire.ProtoTCP, Src: s.ip, Dst: rip}
	ipf.Encode(b[l2:])
	tf := wire.TCPFields{SrcPort: lport, DstPort: rport, Seq: seq, Ack: ack, Flags: fl, Window: wnd}
	tf.Encode(b[l2+20:])
	t := wire.TCP(b[l2+20:])
	copy(t[20:], opts)
	t[tcpOffOff] = uint8(thl/4) << 4
	t.SetChecksum(t.ComputeChecksum(s.ip, rip))
	padFrame(m)
	s.ctr.TxSegments++
	s.output(m, rip)
	return true
}

// output queues a control frame for the end of the reactor turn (ARP resolution included).
func (s *state) output(m *dpdk.Mbuf, rip [4]byte) {
	nh, err := s.st.NextHop(rip)
	if err != nil {
		m.Free()
		return
	}
	s.st.Output(m, nh)
}

// takeBuf returns an empty buffer from the cache, or from the pool when no endpoint holds the
// cache (a RST for a closed port on a stack with no TCP zocket left).
func (s *state) takeBuf() *dpdk.Mbuf {
	if s.cache != nil {
		return s.cache.Take()
	}
	return s.st.Pool().Alloc()
}

// padFrame pads a frame to the 60-byte Ethernet minimum (the padding is not part of the IP
// packet).
func padFrame(m *dpdk.Mbuf) {
	if n := m.DataLen(); n < 60 {
		clear(m.Append(60 - n))
	}
}

// challengeOK reports whether c may send an RFC 5961 challenge ACK now (§7), as Linux's
// tcp_send_challenge_ack does since CVE-2016-5696: at most one per tcp_invalid_ratelimit_ms
// per connection, then a stack-wide budget per second drawn at random from
// [limit/2, limit·3/2) (tcp_challenge_ack_limit), so that a connection's challenges neither
// use up nor reveal (by their count) another's. Suppressed ones are counted.
func (c *Conn) challengeOK() bool {
	s := c.s
	now := s.st.Now()
	if d := now - c.challengeAt; c.challengeAt != 0 && d >= 0 && d < s.cfg.challengeGap {
		s.ctr.ChallengeLimited++
		return false
	}
	c.challengeAt = now
	if lim := s.cfg.challengeLimit; lim != noChallengeLimit {
		if sec := now / 1e9; sec != s.challengeSec {
			half := (lim + 1) / 2
			s.challengeSec, s.challengeLeft = sec, half+rand.Uint32N(lim)
		}
		if s.challengeLeft == 0 {
			s.ctr.ChallengeLimited++
			return false
		}
		s.challengeLeft--
	}
	s.ctr.ChallengeACKs++
	return true
}

// ICMPError handles ICMP errors quoting our segments: destination unreachable aborts a
// connection still in SYN-SENT (EHOSTUNREACH; ECONNREFUSED for port unreachable), checked
// against the quoted sequence number (RFC 5927 §4.1); fragmentation needed lowers a
// synchronized connection's MSS (pmtu.go). Other errors are soft and ignored.
func (s *state) ICMPError(typ, code uint8, quoted wire.IPv4, mtu uint16) {
	if typ != wire.ICMPDestUnreachable {
		return
	}
	q := quoted.Payload()
	if len(q) < 8 {
		return
	}
	t := wire.TCP(q)
	c := s.lookup(connKey(quoted.Dst(), t.DstPort(), t.SrcPort()))
	switch {
	case c == nil:
	case c.state == StateSynSent:
		if t.Seq() != c.iss {
			s.ctr.ICMPIgnored++
		} else if code == wire.ICMPPortUnreachable {
			c.abort(syscall.ECONNREFUSED)
		} else if code != wire.ICMPFragmentationNeeded {
			c.abort(syscall.EHOSTUNREACH)
		}
	case code == wire.ICMPFragmentationNeeded && c.state.synchronized():
		c.pathMTU(t.Seq(), mtu)
	}
}

// isn returns an initial sequence number (RFC 6528): a 4 µs clock plus a keyed hash of the
// connection's addresses and ports, so that an off-path attacker cannot predict it.
func (s *state) isn(rip [4]byte, rport, lport uint16) wire.Seq {
	if s.isnHook != nil {
		return s.isnHook()
	}
	h := sipHash(s.isnKey, uint64(binary.BigEndian.Uint32(s.ip[:]))<<32|uint64(binary.BigEndian.Uint32(rip[:])),
		uint64(lport)<<16|uint64(rport))
	return wire.Seq(uint32(h) + uint32(s.st.Now()/4000))
}

// sipHash is SipHash-2-4 of two 64-bit words under key k.
func sipHash(k [2]uint64, m0, m1 uint64) uint64 {
	v0 := k[0] ^ 0x736f6d6570736575
	v1 := k[1] ^ 0x646f72616e646f6d
	v2 := k[0] ^ 0x6c7967656e657261
	v3 := k[1] ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = v1<<13 | v1>>51
		v1 ^= v0
		v0 = v0<<32 | v0>>32
		v2 += v3
		v3 = v3<<16 | v3>>48
		v3 ^= v2
		v0 += v3
		v3 = v3<<21 | v3>>43
		v3 ^= v0
		v2 += v1
		v1 = v1<<17 | v1>>47
		v1 ^= v2
		v2 = v2<<32 | v2>>32
	}
	for _, m := range [3]uint64{m0, m1, 16 << 56} {
		v3 ^= m
		round()
		round()
		v0 ^= m
	}
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}

// ip4 checks that a is an IPv4 address (IPv4-mapped IPv6 accepted) and returns its bytes.
func ip4(a netip.Addr) ([4]byte, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return [4]byte{}, false
	}
	return a.As4(), true
}

// errorf wraps an errno with the call and address that failed (set-up paths only).
func errorf(errno syscall.Errno, format string, args ...any) error {
	return fmt.Errorf("tcp: "+format+": %w", append(args, errno)...)
}
