package dpdk

/*
#include <stdlib.h>
#include <string.h>
#include <rte_ethdev.h>
#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include "zk.h"
*/
import "C"

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"unsafe"

	"github.com/zocket/zocket/internal/redact"
)

// Port is an ethdev port id.
type Port uint16

// Offload capability bits (rte_eth_dev_info rx/tx_offload_capa) the stack uses.
const (
	RxOffloadIPv4Checksum = uint64(C.RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
	RxOffloadUDPChecksum  = uint64(C.RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
	RxOffloadTCPChecksum  = uint64(C.RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
	TxOffloadIPv4Checksum = uint64(C.RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
	TxOffloadUDPChecksum  = uint64(C.RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
	TxOffloadTCPChecksum  = uint64(C.RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
	TxOffloadMultiSegs    = uint64(C.RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
)

var pciAddr = regexp.MustCompile(`^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$`)

// Probe opens the device that spec names and returns its port:
//   - a virtual device "net_memif0,role=client,socket=/run/x.sock", "net_tap0,iface=zt0",
//     "net_af_packet0,iface=veth0", "net_ring0" … is created with rte_vdev_init (an existing
//     port of that name, e.g. one created by EAL's --vdev, is returned as it is);
//   - a PCI address "0000:3b:00.0" (with optional ",devargs") is probed with rte_dev_probe.
//
// Errors: ENODEV when no driver takes a virtual device's name, otherwise the DPDK call's errno
// (an *Error naming the call).
func Probe(spec string) (Port, error) {
	name, args, _ := strings.Cut(spec, ",")
	if p, err := PortByName(name); err == nil {
		return p, nil
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if pciAddr.MatchString(name) {
		cspec := C.CString(spec)
		defer C.free(unsafe.Pointer(cspec))
		if r := C.rte_dev_probe(cspec); r < 0 {
			return 0, callErr("rte_dev_probe("+redact.String(spec)+")", r)
		}
	} else {
		cargs := C.CString(args)
		defer C.free(unsafe.Pointer(cargs))
		// memif's probe reports, at error level, that it cannot register its multi-process
		// hook under --in-memory: nothing to act on. Its log is quieted for the probe unless
		// raised above errors (log_level); a failed probe still returns its errno.
		restore := quietLog("pmd.net.memif", strings.HasPrefix(name, "net_memif"))
		var errno C.int
		r := C.zk_vdev_init(cname, cargs, &errno)
		restore()
		switch {
		case r == -1 && errno <= 0:
			// rte_vdev_init's bare -1: no driver took the name (or its probe failed without
			// saying why), not EPERM.
			return 0, &Error{Call: "rte_vdev_init(" + redact.String(spec) + "): no driver for the device", Errno: syscall.ENODEV}
		case r == -1:
			return 0, &Error{Call: "rte_vdev_init(" + redact.String(spec) + ")", Errno: syscall.Errno(errno)}
		case r < 0:
			return 0, &Error{Call: "rte_vdev_init(" + redact.String(spec) + ")", Errno: syscall.Errno(-r)}
		}
	}
	return PortByName(name)
}

// Valid reports whether the port exists (rte_eth_dev_is_valid_port).
func (p Port) Valid() bool { return C.rte_eth_dev_is_valid_port(C.uint16_t(p)) != 0 }

// PortByName returns the port of an ethdev name (rte_eth_dev_get_port_by_name).
func PortByName(name string) (Port, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var id C.uint16_t
	if r := C.rte_eth_dev_get_port_by_name(cname, &id); r < 0 {
		return 0, callErr("rte_eth_dev_get_port_by_name("+name+")", r)
	}
	return Port(id), nil
}

// Ports lists the ports EAL knows.
func Ports() []Port {
	var ps []Port
	for id := C.rte_eth_find_next(0); id < C.RTE_MAX_ETHPORTS; id = C.rte_eth_find_next(id + 1) {
		ps = append(ps, Port(id))
	}
	return ps
}

// Name returns the port's device name.
func (p Port) Name() string {
	var buf [C.RTE_ETH_NAME_MAX_LEN]C.char
	if C.rte_eth_dev_get_name_by_port(C.uint16_t(p), &buf[0]) < 0 {
		return fmt.Sprintf("port%d", p)
	}
	return C.GoString(&buf[0])
}

// Info is what a port can do (from rte_eth_dev_info_get).
type Info struct {
	Driver       string
	MaxRxQueues  int
	MaxTxQueues  int
	MinMTU       int
	MaxMTU       int
	RxOffloads   uint64 // RxOffload* capability bits
	TxOffloads   uint64 // TxOffload* capability bits
	MaxRxDesc    int
	MaxTxDesc    int
	SocketID     int
	MaxRxPktLen  int
	IfIndex      int
	RxInterrupts bool // the PMD can signal receive queues through an fd (rte_eth_dev_rx_intr_*)
}

// Info queries the port's capabilities.
func (p Port) Info() (Info, error) {
	var di C.struct_rte_eth_dev_info
	if r := C.rte_eth_dev_info_get(C.uint16_t(p), &di); r < 0 {
		return Info{}, callErr("rte_eth_dev_info_get", r)
	}
	in := Info{
		MaxRxQueues: int(di.max_rx_queues),
		MaxTxQueues: int(di.max_tx_queues),
		MinMTU:      int(di.min_mtu),
		MaxMTU:      int(di.max_mtu),
		RxOffloads:  uint64(di.rx_offload_capa),
		TxOffloads:  uint64(di.tx_offload_capa),
		MaxRxDesc:   int(di.rx_desc_lim.nb_max),
		MaxTxDesc:   int(di.tx_desc_lim.nb_max),
		SocketID:    int(C.rte_eth_dev_socket_id(C.uint16_t(p))),
		MaxRxPktLen: int(di.max_rx_pktlen),
		IfIndex:     int(di.if_index),
	}
	if di.driver_name != nil {
		in.Driver = C.GoString(di.driver_name)
	}
	return in, nil
}

// Config is how Configure sets a port up.
type Config struct {
	RxQueues, TxQueues int    // queue pairs (at least 1 each)
	RxDesc, TxDesc     int    // ring sizes; adjusted to the driver's limits
	Pool               *Pool  // receive buffers
	RxOffloads         uint64 // RxOffload* bits to enable (must be in Info().RxOffloads)
	TxOffloads         uint64 // TxOffload* bits to enable
	MTU                int    // 0 leaves the driver's default
	RxInterrupts       bool   // enable receive-queue interrupts (intr_conf.rxq)
}

// Configure configures the port's queues (rte_eth_dev_configure, rx/tx_queue_setup). The port
// must be stopped. RxDesc/TxDesc are written back as the driver adjusted them.
func (p Port) Configure(cfg *Config) error {
	if cfg.RxQueues < 1 || cfg.TxQueues < 1 || cfg.Pool == nil {
		return &Error{Call: "rte_eth_dev_configure", Errno: syscall.EINVAL}
	}
	var conf C.struct_rte_eth_conf
	conf.rxmode.offloads = C.uint64_t(cfg.RxOffloads)
	conf.txmode.offloads = C.uint64_t(cfg.TxOffloads)
	if cfg.RxInterrupts {
		// struct rte_eth_intr_conf is the bit-fields lsc:1, rxq:1, rmv:1.
		*(*uint32)(unsafe.Pointer(&conf.intr_conf)) |= 1 << 1
	}
	if cfg.MTU > 0 {
		conf.rxmode.mtu = C.uint32_t(cfg.MTU)
	}
	id := C.uint16_t(p)
	if r := C.rte_eth_dev_configure(id, C.uint16_t(cfg.RxQueues), C.uint16_t(cfg.TxQueues), &conf); r < 0 {
		return callErr("rte_eth_dev_configure", r)
	}
	rxd, txd := C.uint16_t(cfg.RxDesc), C.uint16_t(cfg.TxDesc)
	if r := C.rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); r < 0 {
		return callErr("rte_eth_dev_adjust_nb_rx_tx_desc", r)
	}
	cfg.RxDesc, cfg.TxDesc = int(rxd), int(txd)
	sock := C.uint(C.rte_eth_dev_socket_id(id))
	for q := 0; q < cfg.RxQueues; q++ {
		if r := C.rte_eth_rx_queue_setup(id, C.uint16_t(q), rxd, sock, nil, cfg.Pool.c()); r < 0 {
			return callErr(fmt.Sprintf("rte_eth_rx_queue_setup(queue %d)", q), r)
		}
	}
	for q := 0; q < cfg.TxQueues; q++ {
		if r := C.rte_eth_tx_queue_setup(id, C.uint16_t(q), txd, sock, nil); r < 0 {
			return callErr(fmt.Sprintf("rte_eth_tx_queue_setup(queue %d)", q), r)
		}
	}
	return nil
}

// Start starts the port (rte_eth_dev_start).
func (p Port) Start() error {
	// A memif client started before its server listens says so at error level and connects
	// later by itself: quieted as in Probe.
	restore := quietLog("pmd.net.memif", strings.HasPrefix(p.Name(), "net_memif"))
	r := C.rte_eth_dev_start(C.uint16_t(p))
	restore()
	if r < 0 {
		return callErr("rte_eth_dev_start", r)
	}
	return nil
}

// Stop stops the port (rte_eth_dev_stop).
func (p Port) Stop() error {
	if r := C.rte_eth_dev_stop(C.uint16_t(p)); r < 0 {
		return callErr("rte_eth_dev_stop", r)
	}
	return nil
}

// Close stops and closes the port and releases the device (rte_eth_dev_close; a virtual device is also
// removed from its bus so that its name can be used again). A net_memif port is closed on EAL's
// interrupt thread (memif.go).
func (p Port) Close() error {
	name := p.Name()
	var vdev *C.char // nil for a PCI device
	if !pciAddr.MatchString(name) {
		vdev = C.CString(name)
		defer C.free(unsafe.Pointer(vdev))
	}
	onIntrThread := C.int(0)
	if strings.HasPrefix(name, "net_memif") {
		onIntrThread = 1
	}
	if r := C.zk_port_close(C.uint16_t(p), vdev, onIntrThread); r < 0 {
		return callErr("rte_eth_dev_close", r)
	}
	return nil
}

// MAC returns the port's Ethernet address.
func (p Port) MAC() ([6]byte, error) {
	var a C.struct_rte_ether_addr
	if r := C.rte_eth_macaddr_get(C.uint16_t(p), &a); r < 0 {
		return [6]byte{}, callErr("rte_eth_macaddr_get", r)
	}
	return *(*[6]byte)(unsafe.Pointer(&a.addr_bytes[0])), nil
}

// SetMAC sets the port's default Ethernet address.
func (p Port) SetMAC(mac [6]byte) error {
	var a C.struct_rte_ether_addr
	*(*[6]byte)(unsafe.Pointer(&a.addr_bytes[0])) = mac
	if r := C.rte_eth_dev_default_mac_addr_set(C.uint16_t(p), &a); r < 0 {
		return callErr("rte_eth_dev_default_mac_addr_set", r)
	}
	return nil
}

// MTU returns the port's MTU.
func (p Port) MTU() (int, error) {
	var m C.uint16_t
	if r := C.rte_eth_dev_get_mtu(C.uint16_t(p), &m); r < 0 {
		return 0, callErr("rte_eth_dev_get_mtu", r)
	}
	return int(m), nil
}

// SetMTU sets the port's MTU.
func (p Port) SetMTU(mtu int) error {
	if r := C.rte_eth_dev_set_mtu(C.uint16_t(p), C.uint16_t(mtu)); r < 0 {
		return callErr("rte_eth_dev_set_mtu", r)
	}
	return nil
}

// Link is a port's link state.
type Link struct {
	Up         bool
	SpeedMbps  uint32
	FullDuplex bool
}

// Link returns the link state without waiting (rte_eth_link_get_nowait).
func (p Port) Link() (Link, error) {
	var l C.struct_rte_eth_link
	if r := C.rte_eth_link_get_nowait(C.uint16_t(p), &l); r < 0 {
		return Link{}, callErr("rte_eth_link_get_nowait", r)
	}
	// link_status, link_duplex and link_autoneg are bit-fields after link_speed.
	bits := *(*uint16)(unsafe.Add(unsafe.Pointer(&l), 4))
	return Link{SpeedMbps: uint32(l.link_speed), FullDuplex: bits&1 != 0, Up: bits&4 != 0}, nil
}

// SetPromiscuous turns promiscuous mode on or off.
func (p Port) SetPromiscuous(on bool) error {
	var r C.int
	if on {
		r = C.rte_eth_promiscuous_enable(C.uint16_t(p))
	} else {
		r = C.rte_eth_promiscuous_disable(C.uint16_t(p))
	}
	if r < 0 {
		return callErr("rte_eth_promiscuous_enable/disable", r)
	}
	return nil
}

// SetAllMulticast turns all-multicast reception on or off.
func (p Port) SetAllMulticast(on bool) error {
	var r C.int
	if on {
		r = C.rte_eth_allmulticast_enable(C.uint16_t(p))
	} else {
		r = C.rte_eth_allmulticast_disable(C.uint16_t(p))
	}
	if r < 0 {
		return callErr("rte_eth_allmulticast_enable/disable", r)
	}
	return nil
}

// SetMulticastList replaces the port's multicast MAC filter (rte_eth_dev_set_mc_addr_list).
func (p Port) SetMulticastList(macs [][6]byte) error {
	n := len(macs)
	var ptr *C.struct_rte_ether_addr
	if n > 0 {
		ptr = (*C.struct_rte_ether_addr)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.struct_rte_ether_addr{}))))
		defer C.free(unsafe.Pointer(ptr))
		s := unsafe.Slice(ptr, n)
		for i, m := range macs {
			*(*[6]byte)(unsafe.Pointer(&s[i].addr_bytes[0])) = m
		}
	}
	if r := C.rte_eth_dev_set_mc_addr_list(C.uint16_t(p), ptr, C.uint32_t(n)); r < 0 {
		return callErr("rte_eth_dev_set_mc_addr_list", r)
	}
	return nil
}

// Stats are a port's basic counters (struct rte_eth_stats).
type Stats struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxMissed             uint64 // imissed: dropped by the hardware, RX queue full
	RxErrors, TxErrors   uint64
	RxNoMbuf             uint64 // rx_nombuf: receive buffer allocation failures
}

// Stats reads the port's counters (rte_eth_stats_get).
func (p Port) Stats() (Stats, error) {
	var s C.struct_rte_eth_stats
	if r := C.rte_eth_stats_get(C.uint16_t(p), &s); r < 0 {
		return Stats{}, callErr("rte_eth_stats_get", r)
	}
	return Stats{
		RxPackets: uint64(s.ipackets), TxPackets: uint64(s.opackets),
		RxBytes: uint64(s.ibytes), TxBytes: uint64(s.obytes),
		RxMissed: uint64(s.imissed), RxErrors: uint64(s.ierrors), TxErrors: uint64(s.oerrors),
		RxNoMbuf: uint64(s.rx_nombuf),
	}, nil
}

// ResetStats zeroes the port's counters.
func (p Port) ResetStats() error {
	if r := C.rte_eth_stats_reset(C.uint16_t(p)); r < 0 {
		return callErr("rte_eth_stats_reset", r)
	}
	return nil
}

// RxBurst receives up to len(ms) packets from queue q into ms and returns how many.
func (p Port) RxBurst(q uint16, ms []*Mbuf) int {
	if len(ms) == 0 {
		return 0
	}
	if a, ok := cArray(ms); ok {
		return int(C.zk_rx_burst_u(C.uint16_t(p), C.uint16_t(q), C.uintptr_t(a), C.uint16_t(len(ms))))
	}
	return int(C.zk_rx_burst(C.uint16_t(p), C.uint16_t(q), (**C.struct_rte_mbuf)(unsafe.Pointer(&ms[0])), C.uint16_t(len(ms))))
}

// TxBurst hands ms to queue q and returns how many the port took; the rest stay the caller's.
func (p Port) TxBurst(q uint16, ms []*Mbuf) int {
	if len(ms) == 0 {
		return 0
	}
	if a, ok := cArray(ms); ok {
		return int(C.zk_tx_burst_u(C.uint16_t(p), C.uint16_t(q), C.uintptr_t(a), C.uint16_t(len(ms))))
	}
	return int(C.zk_tx_burst(C.uint16_t(p), C.uint16_t(q), (**C.struct_rte_mbuf)(unsafe.Pointer(&ms[0])), C.uint16_t(len(ms))))
}

// TxRx is one reactor turn in one cgo call: it transmits tx on queue q, receives up to len(rx)
// packets into rx and reads the TSC. It returns how many were sent (the rest of tx stay the
// caller's), how many were received, and the TSC after the receive.
func (p Port) TxRx(q uint16, tx, rx []*Mbuf) (sent, received int, tsc uint64) {
	var ta, ra uintptr
	tok, rok := true, true
	if len(tx) > 0 {
		ta, tok = cArray(tx)
	}
	if len(rx) > 0 {
		ra, rok = cArray(rx)
	}
	if tok && rok {
		t := C.zk_tx_rx_u(C.uint16_t(p), C.uint16_t(q), C.uintptr_t(ta), C.uint16_t(len(tx)), C.uintptr_t(ra), C.uint16_t(len(rx)))
		return int(t.sent), int(t.received), uint64(t.tsc)
	}
	var txp, rxp **C.struct_rte_mbuf
	if len(tx) > 0 {
		txp = (**C.struct_rte_mbuf)(unsafe.Pointer(&tx[0]))
	}
	if len(rx) > 0 {
		rxp = (**C.struct_rte_mbuf)(unsafe.Pointer(&rx[0]))
	}
	t := C.zk_tx_rx(C.uint16_t(p), C.uint16_t(q), txp, C.uint16_t(len(tx)), rxp, C.uint16_t(len(rx)))
	return int(t.sent), int(t.received), uint64(t.tsc)
}

// RingPair is two ports joined back to back by a pair of rte_rings, what net_ring's
// rte_eth_from_rings builds: what A sends, B receives, and the other way round. It is the
// test lab's wire between two stacks in one process.
type RingPair struct {
	A, B Port
	name string
}

// NewRingPair creates a ring pair named name (unique per process) with rings of size slots
// (a power of two).
func NewRingPair(name string, size int) (*RingPair, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var a, b C.uint16_t
	if r := C.zk_ring_pair(cname, C.uint(size), C.int(C.rte_socket_id()), &a, &b); r < 0 {
		return nil, callErr("rte_eth_from_rings("+name+")", r)
	}
	return &RingPair{A: Port(a), B: Port(b), name: name}, nil
}

// Close closes both ports (those a stack has not closed already) and frees the rings.
func (rp *RingPair) Close() error {
	var errA, errB error
	if rp.A.Valid() {
		errA = rp.A.Close()
	}
	if rp.B.Valid() {
		errB = rp.B.Close()
	}
	for _, suffix := range []string{"_ab", "_ba"} {
		cn := C.CString(rp.name + suffix)
		C.zk_ring_free(cn)
		C.free(unsafe.Pointer(cn))
	}
	if errA != nil {
		return errA
	}
	return errB
}

// RxQueueCount returns how many received frames wait in queue q (rte_eth_rx_queue_count; for
// the ports of a RingPair, the ring's count).
// Not every PMD can tell (net_memif, net_tap, net_af_packet): the error is then ENOTSUP. The
// error is the bare syscall.Errno, not an *Error, so that asking allocates nothing: callers
// such as Stack.HasPendingWork poll it from a busy loop.
func (p Port) RxQueueCount(q uint16) (int, error) {
	r := C.zk_rx_queue_count(C.uint16_t(p), C.uint16_t(q))
	if r < 0 {
		return 0, syscall.Errno(-r)
	}
	return int(r), nil
}

// RxIntrFD returns the file descriptor that becomes readable when queue q receives while its
// interrupt is enabled (rte_eth_dev_rx_intr_ctl_q_get_fd). The port must have been configured
// with Config.RxInterrupts. PMDs without receive interrupts fail (ENOTSUP or EINVAL).
func (p Port) RxIntrFD(q uint16) (int, error) {
	r := C.rte_eth_dev_rx_intr_ctl_q_get_fd(C.uint16_t(p), C.uint16_t(q))
	if r < 0 {
		return -1, callErr("rte_eth_dev_rx_intr_ctl_q_get_fd", r)
	}
	return int(r), nil
}

// RxIntrEnable arms queue q's receive interrupt (rte_eth_dev_rx_intr_enable).
func (p Port) RxIntrEnable(q uint16) error {
	if r := C.rte_eth_dev_rx_intr_enable(C.uint16_t(p), C.uint16_t(q)); r < 0 {
		return callErr("rte_eth_dev_rx_intr_enable", r)
	}
	return nil
}

// RxIntrDisable disarms queue q's receive interrupt (rte_eth_dev_rx_intr_disable).
func (p Port) RxIntrDisable(q uint16) error {
	if r := C.rte_eth_dev_rx_intr_disable(C.uint16_t(p), C.uint16_t(q)); r < 0 {
		return callErr("rte_eth_dev_rx_intr_disable", r)
	}
	return nil
}
