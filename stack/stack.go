package stack

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"sync/atomic"
	"syscall"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/eal"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/ealargs"
	"github.com/zocket/zocket/internal/redact"
	"github.com/zocket/zocket/wire"
)

// Stack is one polling context (TCPDirect's zf_stack): a DPDK port and queue, a packet pool, a
// neighbour table, the transports' endpoints and their timers. It is used by one goroutine at a
// time; only HasPendingWork may be called from others. New locks its calling goroutine to its
// OS thread (and pins that thread with the cpu attribute); Close undoes both.
type Stack struct {
	name  string
	attr  *Attr
	port  dpdk.Port
	queue uint16
	pool  *dpdk.Pool
	info  dpdk.Info

	mac     [6]byte
	ip      [4]byte
	prefix  netip.Prefix
	gateway [4]byte // zero: none
	bcast   [4]byte // directed broadcast of the local subnet
	mtu     int
	vlan    uint16 // 0: untagged
	txCsum  bool   // the port computes IPv4/UDP/TCP checksums on transmit
	rxIntr  bool   // the port was configured with receive interrupts (for WaitFD)
	rxCsum  bool   // the port verifies IPv4 checksums on receive

	// Reactor state. rx and txq live in C memory (dpdk.NewMbufArray) so that bursts skip cgo's
	// pointer check.
	rx        []*dpdk.Mbuf
	txq       []*dpdk.Mbuf
	ntx       int
	dropq     []*dpdk.Mbuf // frames to free at the end of the turn (discard)
	ndrop     int
	spin      int
	clock     Clock
	now       int64
	tscMul    uint64 // ns = tsc * tscMul >> 32
	pkt       Packet
	transport [256]Transport
	protos    []uint8 // the protocols with a transport installed
	self      Waitable
	timers    timerWheel
	neigh     neighbourTable
	groups    groupTable
	faults    faultShim
	wfd       waitFD
	closed    bool

	// The creating goroutine's thread: locked by New, unlocked by Close (thread.go).
	thread threadLock

	// Cross-goroutine view for HasPendingWork.
	nextTimer atomic.Int64
	txPending atomic.Bool // frames wait in txq or in the fault shim (setTxPending)

	// Counters are updated by the reactor; see Counters().
	ctr Counters

	obs observer // snapshots, logging, capture, control socket (control.go)
}

var stackSeq atomic.Uint32

// New opens the stack that attr describes: it starts EAL if nobody has (with eal_args), probes
// `interface`, creates the pool (n_bufs), configures one queue pair (rx_ring_max, tx_ring_max
// descriptors) and starts the port. local_ip (CIDR) is required.
//
// Errors: EINVAL for a missing or unusable local_ip or interface (the message names the
// attribute), the DPDK call's error otherwise.
func New(a *Attr) (*Stack, error) {
	if a == nil {
		var err error
		if a, err = NewAttr(); err != nil {
			return nil, err
		}
	}
	a = a.Clone()
	s := &Stack{attr: a, name: a.StrOf(attr.Name), spin: int(a.IntOf(attr.ReactorSpinCount))}
	s, err := s.open()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// open is New after the attributes are copied: the thread is locked first, so that EAL, when
// New starts it, gives its main lcore identity to the thread that will poll; a failure
// unlocks it again.
func (s *Stack) open() (st *Stack, err error) {
	a := s.attr
	if err := s.thread.lock(int(a.IntOf(attr.CPU))); err != nil {
		return nil, fmt.Errorf("stack: attr cpu: %w", err)
	}
	defer func() {
		if err != nil {
			s.thread.unlock()
		}
	}()
	if s.name == "" {
		s.name = fmt.Sprintf("stack%d", stackSeq.Add(1))
	}
	if s.spin < 1 {
		s.spin = 1
	}
	if err := s.parseAddresses(); err != nil {
		return nil, err
	}
	if !eal.Initialized() {
		// DPDK's log below warnings unless log_level asks (eal_args' own --log-level wins).
		args := append([]string{ealargs.LogArg(a.IntOf(attr.LogLevel))}, a.EALArgv()...)
		if err := eal.Init(args); err != nil {
			return nil, fmt.Errorf("stack: attr eal_args: %w", err)
		}
	}
	ifname := a.StrOf(attr.Interface)
	if ifname == "" {
		return nil, fmt.Errorf("stack: attr interface: no device named: %w", syscall.EINVAL)
	}
	if s.port, err = dpdk.Probe(ifname); err != nil {
		return nil, fmt.Errorf("stack: attr interface=%s: %w", redact.String(ifname), err)
	}
	if err = s.openPort(); err != nil {
		s.port.Close()
		if s.pool != nil {
			s.pool.Free()
		}
		return nil, err
	}
	burst := int(a.IntOf(attr.RxBurst))
	s.rx = dpdk.NewMbufArray(burst)
	s.txq = dpdk.NewMbufArray(int(a.IntOf(attr.TxRingMax)))
	s.dropq = dpdk.NewMbufArray(burst)
	if hz := dpdk.TSCHz(); hz > 0 {
		s.tscMul = uint64((uint64(1e9) << 32) / hz)
	}
	s.now = s.readClock()
	s.timers.init(tickNs, s.now)
	s.nextTimer.Store(s.timers.nextCheck())
	s.neigh.init(s)
	s.initSelf()
	if err := s.neigh.addStatic(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.initObs(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// tickNs is the timer wheel's tick: 1 ms, TCPDirect's ms_per_tcp_tick default is of that order.
// ARP retries and TCP timers are all multiples of it.
const tickNs = 1_000_000

func (s *Stack) parseAddresses() error {
	a := s.attr
	if err := a.Validate(); err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	p, ok := a.LocalPrefix()
	if !ok || !p.Addr().Is4() {
		return fmt.Errorf("stack: attr local_ip: need an IPv4 CIDR such as 198.18.0.1/24: %w", syscall.EINVAL)
	}
	s.prefix = p
	s.ip = p.Addr().As4()
	b := be32(s.ip) | ^uint32(0)>>p.Bits()
	if p.Bits() >= 31 {
		b = 0xffffffff
	}
	s.bcast = [4]byte{byte(b >> 24), byte(b >> 16), byte(b >> 8), byte(b)}
	if g, ok := a.GatewayAddr(); ok {
		s.gateway = g.As4()
	}
	s.mtu = int(a.IntOf(attr.MTU))
	return nil
}

// autoBufs sizes the pool when n_bufs is 0: both descriptor rings full, a receive burst, every
// UDP receiver's queue bound for a quarter of the endpoints, room for TCP windows and
// alternatives, rounded up to a power of two minus one (the mempool's best size).
func autoBufs(a *Attr) int {
	n := a.IntOf(attr.RxRingMax) + a.IntOf(attr.TxRingMax) + a.IntOf(attr.RxBurst) +
		a.IntOf(attr.UDPRxQueueLen)*max(1, a.IntOf(attr.MaxUDPRxEndpoints)/4) +
		64*a.IntOf(attr.MaxTCPEndpoints) + a.IntOf(attr.AltBufSize)/256 + 1024
	p := int64(1)
	for p-1 < n {
		p <<= 1
	}
	return int(p - 1)
}

// DataRoom is the data room (headroom included) of the stack's packet buffers for an IP MTU:
// one whole frame of that MTU, VLAN tag included, fits a single buffer, so that no frame the
// stack sends or receives is ever chained. The room after the headroom is a whole number of
// KiB (9216 for an MTU of 9000, as NICs size jumbo buffers), never below DPDK's default.
func DataRoom(mtu int) int {
	frame := wire.EthernetMinimumSize + wire.VLANTagSize + mtu
	return max(dpdk.DefaultDataRoom, dpdk.DefaultHeadroom+(frame+1023)&^1023)
}

// FrameRoom is the largest frame one of the stack's packet buffers holds (after the headroom).
func (s *Stack) FrameRoom() int { return DataRoom(s.mtu) - dpdk.DefaultHeadroom }

func be32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func (s *Stack) openPort() error {
	a := s.attr
	var err error
	if s.info, err = s.port.Info(); err != nil {
		return err
	}
	n := int(a.IntOf(attr.NBufs))
	if n == 0 {
		n = autoBufs(a)
	}
	cache := 256
	if cache > n/4 {
		cache = n / 4
	}
	poolName := fmt.Sprintf("zk%d_%d", stackSeq.Add(1), s.port)
	if s.pool, err = dpdk.NewPool(poolName, n, cache, DataRoom(s.mtu), s.info.SocketID); err != nil {
		return fmt.Errorf("stack: attr n_bufs=%d: %w", n, err)
	}
	cfg := &dpdk.Config{
		RxQueues: 1, TxQueues: 1,
		RxDesc: int(a.IntOf(attr.RxRingMax)), TxDesc: int(a.IntOf(attr.TxRingMax)),
		Pool: s.pool,
	}
	if s.info.RxOffloads&dpdk.RxOffloadIPv4Checksum != 0 {
		cfg.RxOffloads |= dpdk.RxOffloadIPv4Checksum
		s.rxCsum = true
	}
	const txc = dpdk.TxOffloadIPv4Checksum | dpdk.TxOffloadUDPChecksum | dpdk.TxOffloadTCPChecksum
	if s.info.TxOffloads&txc == txc {
		cfg.TxOffloads |= txc
		s.txCsum = true
	}
	if s.info.TxOffloads&dpdk.TxOffloadMultiSegs != 0 {
		cfg.TxOffloads |= dpdk.TxOffloadMultiSegs
	}
	// Receive interrupts (for WaitFD) where the PMD has them; configuring them fails on PMDs
	// without, which are then configured for polling only.
	cfg.RxInterrupts = true
	if err = s.port.Configure(cfg); err != nil {
		cfg.RxInterrupts = false
		if err = s.port.Configure(cfg); err != nil {
			return fmt.Errorf("stack: attr interface=%s: %w", redact.String(a.StrOf(attr.Interface)), err)
		}
	}
	s.rxIntr = cfg.RxInterrupts
	if mtu, err := s.port.MTU(); err == nil && mtu != s.mtu {
		// A PMD without MTU control (net_ring) passes frames of any size: ENOTSUP is no error.
		if err := s.port.SetMTU(s.mtu); err != nil && s.mtu > mtu && !errors.Is(err, syscall.ENOTSUP) {
			return fmt.Errorf("stack: attr mtu=%d: %w", s.mtu, err)
		}
	}
	if mac, ok := a.MACAddr(); ok {
		// Some PMDs cannot change their address; the stack uses the one asked for regardless.
		_ = s.port.SetMAC(mac)
		s.mac = mac
	} else if s.mac, err = s.port.MAC(); err != nil {
		return err
	}
	if err = s.port.Start(); err != nil {
		return fmt.Errorf("stack: attr interface=%s: %w", redact.String(a.StrOf(attr.Interface)), err)
	}
	return nil
}

// Close frees the stack: pending packets, the port and, when every buffer is back, the pool.
// Zockets must be closed first. It fails with EBUSY (after releasing everything else) when
// buffers are still out, and the pool is then kept rather than freed under them. Called from
// the goroutine that made the stack, it restores that thread's CPU mask and unlocks the
// goroutine from it (New's lock); from another goroutine the lock stays with the creator.
func (s *Stack) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	defer s.thread.unlock()
	s.closeObs()
	s.neigh.flush()
	s.faults.flush()
	s.wfd.close()
	dpdk.FreeBulk(s.txq[:s.ntx])
	s.ntx = 0
	err := s.port.Close()
	if s.rx != nil {
		s.freeDiscarded()
		dpdk.FreeMbufArray(s.rx)
		dpdk.FreeMbufArray(s.txq)
		dpdk.FreeMbufArray(s.dropq)
	}
	if s.pool != nil {
		if n := s.pool.InUse(); n != 0 {
			return fmt.Errorf("stack %s: close: %d buffers still in use: %w", s.name, n, syscall.EBUSY)
		}
		s.pool.Free()
	}
	return err
}

// Name is the stack's name (attribute `name`, or stackN).
func (s *Stack) Name() string { return s.name }

// Attr returns the stack's attributes (a copy taken at New; do not modify).
func (s *Stack) Attr() *Attr { return s.attr }

// Port is the DPDK port the stack polls.
func (s *Stack) Port() dpdk.Port { return s.port }

// Pool is the stack's packet-buffer pool.
func (s *Stack) Pool() *dpdk.Pool { return s.pool }

// MAC is the stack's Ethernet address.
func (s *Stack) MAC() [6]byte { return s.mac }

// LocalAddr is the stack's IPv4 address.
func (s *Stack) LocalAddr() netip.Addr { return netip.AddrFrom4(s.ip) }

// LocalIP4 is the stack's IPv4 address as bytes.
func (s *Stack) LocalIP4() [4]byte { return s.ip }

// Prefix is the local subnet.
func (s *Stack) Prefix() netip.Prefix { return s.prefix }

// MTU is the IP MTU of the stack's link.
func (s *Stack) MTU() int { return s.mtu }

// TxChecksumOffload reports whether the port computes IPv4/UDP/TCP checksums on transmit.
func (s *Stack) TxChecksumOffload() bool { return s.txCsum }

// Now is the reactor's time in nanoseconds, as read at the start of the current or last turn.
func (s *Stack) Now() int64 { return s.now }

// SetClock replaces the time source (tests use a ManualClock); nil restores the CPU's TSC.
func (s *Stack) SetClock(c Clock) {
	s.clock = c
	s.now = s.readClock()
	s.timers.current = s.now / tickNs
	s.nextTimer.Store(s.timers.nextCheck())
}

func (s *Stack) readClock() int64 {
	if s.clock != nil {
		return s.clock.Now()
	}
	return s.tscToNs(dpdk.TSC())
}

func (s *Stack) tscToNs(tsc uint64) int64 {
	hi, lo := bits.Mul64(tsc, s.tscMul)
	return int64(hi<<32 | lo>>32)
}

// Counters returns the stack's counters, from the polling goroutine. Other goroutines must not
// call it (the fields are plain, written without atomics): they take a Snapshot, whose
// memory-ordering choice snapshot.go documents.
func (s *Stack) Counters() Counters { return s.ctr }

// ArmTimer arms t to call h at time when (ns on the stack's clock; at least one ns after the
// current turn's time), re-arming it if pending.
func (s *Stack) ArmTimer(t *Timer, when int64, h TimerHandler) {
	if when <= s.now {
		when = s.now + 1
	}
	s.timers.arm(t, when, h)
	s.nextTimer.Store(s.timers.nextCheck())
}

// StopTimer stops t if it is pending.
func (s *Stack) StopTimer(t *Timer) {
	s.timers.stop(t)
	s.nextTimer.Store(s.timers.nextCheck())
}
