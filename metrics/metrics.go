// Package metrics exports zocket stacks' counters to Prometheus.
//
// # Use
//
// A command that owns stacks serves them with two lines (the -metrics ADDR flag):
//
//	c := metrics.NewCollector(st)
//	stop, err := metrics.Serve(*metricsAddr, c) // GET http://ADDR/metrics; stop() at exit
//
// Stacks made later are added with c.Add(st) and removed before they are closed with
// c.Remove(st). zfstackdump -metrics ADDR serves the stacks of other processes the same way,
// through their control sockets (NewDumpCollector). configs/prometheus.yml is an example
// scrape configuration.
//
// # Reading counters without touching the data path
//
// The data path increments plain uint64 fields: no atomics (an atomic add on amd64 is a
// locked instruction, tens of cycles a packet) and no locks. A scrape must therefore not read
// them from its own goroutine, which would be a data race. It asks each stack for a snapshot
// (stack.Stack.Snapshot): the stack's polling goroutine copies the counters between two
// Perform calls into a preallocated buffer and publishes it with an atomic store that the
// scraper's atomic load pairs with, so the copy happens before the read in the Go memory model
// (the race detector agrees: stack's TestSnapshotRace). The data path pays one atomic load (a
// plain MOV on amd64) per Perform call, and the copy (about 3 µs per Perform call at most,
// bounded per call whatever the number of zockets) only when asked. A stack that is not being
// polled does not answer; after the timeout (100 ms by default, SetTimeout) the scrape reports
// the last snapshot, and zocket_snapshot_age_seconds says how old it is.
//
// # Metrics
//
// Every series has the label stack (the stack's name); port counters also have port (the DPDK
// port's name) and queue; drops have reason; zockets have type and state. Names follow
// Prometheus's conventions: the zocket_ prefix, base units (_bytes, _seconds), counters ending
// in _total:
//
//	zocket_stack_info{stack,id,pid,interface,driver,port}       1
//	zocket_port_{rx,tx}_{packets,bytes,errors}_total            rte_eth_stats
//	zocket_port_imissed_total, zocket_port_rx_nombuf_total
//	zocket_stack_{rx,tx}_{packets,bytes}_total, …               stack.Counters
//	zocket_drops_total{reason}                                  the stack's and transports'
//	zocket_pool_buffers, zocket_pool_buffers_in_use
//	zocket_zockets{type,state}                                  from the snapshot's rows
//	zocket_tcp_retransmits_total, zocket_tcp_timeouts_total, zocket_tcp_fast_retransmits_total,
//	zocket_tcp_dup_acks_total, zocket_tcp_challenge_acks_total, zocket_tcp_resets_sent_total,
//	zocket_tcp_resets_received_total, zocket_tcp_out_of_order_total, zocket_udp_queue_drops_total,
//	zocket_alts_{queued,sent,cancelled}_total, …                stack.TransportCounter
//	zocket_reactor_iterations_total, zocket_reactor_busy_iterations_total
//	zocket_reactor_busy_ratio                                   busy/all turns since the last scrape
//	zocket_snapshot_age_seconds, zocket_snapshot_build_seconds
//	zocket_capture_{packets,bytes,drops,limited,write_errors}_total  when capture is on
//	zocket_rtt_seconds{tool}                                    ping-pong tools (NewRTTHistogram)
package metrics

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zocket/zocket/internal/ctl"
	"github.com/zocket/zocket/stack"
)

// sample is what a scrape learns of one stack, from a snapshot (in-process) or from a control
// socket's dump (zfstackdump): the same metrics come out of both.
type sample struct {
	info      ctl.Info
	stats     []ctl.Field // stack.Counters.Each's names
	port      []ctl.Field
	poolSize  float64
	poolInUse float64
	transport []ctl.Field // stack.TransportCounter names
	drops     []ctl.Field // the transports' drop reasons
	zockets   map[[2]string]int
	age       float64
	build     float64
	txQueued  float64
	timers    float64
	capture   *ctl.Capture
}

// descs holds the collector's descriptors, by the name of the field they come from.
type descs struct {
	info, poolSize, poolInUse, zockets, busyRatio, age, build, txQueued, timers *prometheus.Desc
	capPackets, capBytes, capDrops, capLimited, capErrors, drops, faults        *prometheus.Desc
	port                                                                        map[string]*prometheus.Desc
	stats                                                                       map[string]*prometheus.Desc
	transport                                                                   map[string]*prometheus.Desc
	all                                                                         []*prometheus.Desc
}

// statHelp documents the stack counters (stack.Counters.Each names); the names not here get
// zocket_stack_<name>_total with a generic help.
var statHelp = map[string][2]string{
	"rx_packets":      {"zocket_stack_rx_packets_total", "Frames the stack took from its port."},
	"rx_bytes":        {"zocket_stack_rx_bytes_total", "Bytes of the frames the stack took from its port."},
	"tx_packets":      {"zocket_stack_tx_packets_total", "Frames the stack handed to its port."},
	"tx_bytes":        {"zocket_stack_tx_bytes_total", "Bytes of the frames the stack handed to its port."},
	"tx_ring_full":    {"zocket_stack_tx_ring_full_total", "Frames the port refused (transmit ring full), retried or refused to the caller."},
	"rx_arp":          {"zocket_stack_rx_arp_total", "ARP packets received."},
	"tx_arp_requests": {"zocket_stack_tx_arp_requests_total", "ARP requests sent."},
	"tx_arp_replies":  {"zocket_stack_tx_arp_replies_total", "ARP replies sent."},
	"rx_ipv4":         {"zocket_stack_rx_ipv4_total", "IPv4 packets received with a valid header."},
	"rx_icmp":         {"zocket_stack_rx_icmp_total", "ICMP messages received."},
	"tx_echo_replies": {"zocket_stack_tx_echo_replies_total", "ICMP echo replies sent."},
	"delivered":       {"zocket_stack_delivered_total", "Packets handed to a transport (UDP, TCP)."},
	"polls":           {"zocket_reactor_iterations_total", "Reactor turns (port polls) made by Perform."},
	"busy_polls":      {"zocket_reactor_busy_iterations_total", "Reactor turns that received frames."},
}

func newDescs() *descs {
	d := &descs{
		port: map[string]*prometheus.Desc{}, stats: map[string]*prometheus.Desc{},
		transport: map[string]*prometheus.Desc{},
	}
	add := func(name, help string, labels ...string) *prometheus.Desc {
		x := prometheus.NewDesc(name, help, append([]string{"stack"}, labels...), nil)
		d.all = append(d.all, x)
		return x
	}
	d.info = add("zocket_stack_info", "A zocket stack: its identity in labels, value 1.", "id", "pid", "interface", "driver", "port")
	for _, p := range [][2]string{
		{"rx_packets", "Packets the port received."}, {"tx_packets", "Packets the port sent."},
		{"rx_bytes", "Bytes the port received."}, {"tx_bytes", "Bytes the port sent."},
		{"rx_errors", "Erroneous packets the port received."}, {"tx_errors", "Packets the port failed to send."},
		{"imissed", "Packets the port dropped because its receive queue was full (imissed)."},
		{"rx_nombuf", "Receive buffer allocation failures of the port (rx_nombuf)."},
	} {
		d.port[p[0]] = add("zocket_port_"+p[0]+"_total", p[1], "port", "queue")
	}
	var zero stack.Counters
	zero.Each(func(name string, _ uint64) {
		switch {
		case strings.HasPrefix(name, "drop_"), strings.HasPrefix(name, "fault_"):
			return
		}
		if h, ok := statHelp[name]; ok {
			d.stats[name] = add(h[0], h[1])
		} else {
			d.stats[name] = add("zocket_stack_"+name+"_total", "Stack counter "+name+".")
		}
	})
	d.drops = add("zocket_drops_total", "Packets dropped by the stack and its transports, by reason.", "reason")
	d.faults = add("zocket_fault_shim_frames_total", "Frames the test fault shim dropped, duplicated, reordered, corrupted or tail-dropped (link emulation queue).", "action")
	for c := range stack.NumTransportCounters {
		tc := stack.TransportCounter(c)
		d.transport[tc.Name()] = add("zocket_"+tc.Name()+"_total", tc.Help())
	}
	d.poolSize = add("zocket_pool_buffers", "Packet buffers in the stack's pool (n_bufs).")
	d.poolInUse = add("zocket_pool_buffers_in_use", "Packet buffers allocated from the stack's pool.")
	d.zockets = add("zocket_zockets", "Zockets by type and state.", "type", "state")
	d.busyRatio = add("zocket_reactor_busy_ratio", "Share of reactor turns that received frames, since the previous scrape.")
	d.age = add("zocket_snapshot_age_seconds", "Age of the snapshot this scrape read: large when the stack was not polled in time.")
	d.build = add("zocket_snapshot_build_seconds", "Time the polling goroutine spent copying the snapshot.")
	d.txQueued = add("zocket_stack_tx_queued_frames", "Frames queued for the stack's next transmit burst.")
	d.timers = add("zocket_stack_timers", "Timers armed in the stack's timer wheel.")
	d.capPackets = add("zocket_capture_packets_total", "Frames copied to the capture file's ring.")
	d.capBytes = add("zocket_capture_bytes_total", "Bytes of the frames copied to the capture ring.")
	d.capDrops = add("zocket_capture_drops_total", "Frames not captured because the capture ring was full.")
	d.capLimited = add("zocket_capture_limited_total", "Frames not written because the capture file reached capture_max_bytes.")
	d.capErrors = add("zocket_capture_write_errors_total", "Frames lost to errors writing the capture file.")
	return d
}

// emitter turns samples into metrics, remembering each stack's reactor turns for the busy
// ratio.
type emitter struct {
	d    *descs
	mu   sync.Mutex
	prev map[string][2]uint64 // stack key → polls, busy polls at the previous scrape
}

func newEmitter() *emitter { return &emitter{d: newDescs(), prev: map[string][2]uint64{}} }

func (e *emitter) describe(ch chan<- *prometheus.Desc) {
	for _, d := range e.d.all {
		ch <- d
	}
}

func (e *emitter) emit(ch chan<- prometheus.Metric, s *sample) {
	d := e.d
	name := s.info.Name
	c := func(x *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(x, prometheus.CounterValue, v, append([]string{name}, labels...)...)
	}
	g := func(x *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(x, prometheus.GaugeValue, v, append([]string{name}, labels...)...)
	}
	g(d.info, 1, strconv.Itoa(s.info.ID), strconv.Itoa(s.info.PID), s.info.Interface, s.info.Driver, s.info.Port)
	queue := strconv.Itoa(s.info.Queue)
	for _, f := range s.port {
		if x, ok := d.port[f.Name]; ok {
			c(x, float64(f.Value), s.info.Port, queue)
		}
	}
	var polls, busy uint64
	for _, f := range s.stats {
		switch {
		case strings.HasPrefix(f.Name, "drop_"):
			c(d.drops, float64(f.Value), f.Name[len("drop_"):])
		case strings.HasPrefix(f.Name, "fault_"):
			c(d.faults, float64(f.Value), f.Name[len("fault_"):])
		default:
			if x, ok := d.stats[f.Name]; ok {
				c(x, float64(f.Value))
			}
		}
		switch f.Name {
		case "polls":
			polls = f.Value
		case "busy_polls":
			busy = f.Value
		}
	}
	for _, f := range s.drops {
		c(d.drops, float64(f.Value), f.Name)
	}
	for _, f := range s.transport {
		if x, ok := d.transport[f.Name]; ok {
			c(x, float64(f.Value))
		}
	}
	g(d.poolSize, s.poolSize)
	g(d.poolInUse, s.poolInUse)
	for k, n := range s.zockets {
		g(d.zockets, float64(n), k[0], k[1])
	}
	key := name + "\x00" + strconv.Itoa(s.info.PID) + "\x00" + strconv.Itoa(s.info.ID)
	e.mu.Lock()
	p := e.prev[key]
	e.prev[key] = [2]uint64{polls, busy}
	e.mu.Unlock()
	if polls < p[0] || busy < p[1] {
		p = [2]uint64{}
	}
	ratio := 0.0
	if polls > p[0] {
		ratio = float64(busy-p[1]) / float64(polls-p[0])
	}
	g(d.busyRatio, ratio)
	g(d.age, s.age)
	g(d.build, s.build)
	g(d.txQueued, s.txQueued)
	g(d.timers, s.timers)
	if s.capture != nil {
		c(d.capPackets, float64(s.capture.Packets))
		c(d.capBytes, float64(s.capture.Bytes))
		c(d.capDrops, float64(s.capture.Drops))
		c(d.capLimited, float64(s.capture.Limited))
		c(d.capErrors, float64(s.capture.Errors))
	}
}

// forget drops the busy-ratio memory of stacks not seen in a scrape.
func (e *emitter) forget(seen map[string]bool) {
	e.mu.Lock()
	for k := range e.prev {
		if !seen[k] {
			delete(e.prev, k)
		}
	}
	e.mu.Unlock()
}

// Collector is a prometheus.Collector over stacks of this process. It is safe for concurrent
// use; Collect takes one snapshot of each stack (in parallel) per scrape.
type Collector struct {
	e       *emitter
	mu      sync.Mutex
	stacks  []*stack.Stack
	timeout time.Duration
}

// NewCollector returns a collector over stacks (more can be added).
func NewCollector(stacks ...*stack.Stack) *Collector {
	c := &Collector{e: newEmitter(), timeout: stack.DefaultSnapshotTimeout}
	c.Add(stacks...)
	return c
}

// Add adds stacks to the collector.
func (c *Collector) Add(stacks ...*stack.Stack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range stacks {
		if s != nil {
			c.stacks = append(c.stacks, s)
		}
	}
}

// Remove removes a stack from the collector; call it before closing the stack.
func (c *Collector) Remove(s *stack.Stack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.stacks {
		if x == s {
			c.stacks = append(c.stacks[:i], c.stacks[i+1:]...)
			return
		}
	}
}

// SetTimeout sets how long a scrape waits for a stack's polling goroutine before it reports
// the stack's last snapshot (default stack.DefaultSnapshotTimeout).
func (c *Collector) SetTimeout(d time.Duration) {
	c.mu.Lock()
	c.timeout = d
	c.mu.Unlock()
}

// Describe sends the descriptors of every metric the collector may report.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { c.e.describe(ch) }

// Collect takes a snapshot of every stack and reports their metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	stacks := append([]*stack.Stack(nil), c.stacks...)
	timeout := c.timeout
	c.mu.Unlock()
	samples := make([]sample, len(stacks))
	var wg sync.WaitGroup
	for i, st := range stacks {
		wg.Go(func() { samples[i] = snapshotSample(st, timeout) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range samples {
		s := &samples[i]
		seen[s.info.Name+"\x00"+strconv.Itoa(s.info.PID)+"\x00"+strconv.Itoa(s.info.ID)] = true
		c.e.emit(ch, s)
	}
	c.e.forget(seen)
}

// snapshotSample takes a snapshot of st and copies out what the metrics need.
func snapshotSample(st *stack.Stack, timeout time.Duration) sample {
	s := sample{zockets: map[[2]string]int{}}
	s.info = *st.ControlInfo()
	st.Snapshot(timeout, func(sn *stack.Snapshot) {
		s.stats = make([]ctl.Field, 0, 64)
		sn.Counters.Each(func(name string, v uint64) { s.stats = append(s.stats, ctl.Field{Name: name, Value: v}) })
		if sn.PortOK {
			p := &sn.Port
			s.port = []ctl.Field{
				{Name: "rx_packets", Value: p.RxPackets}, {Name: "tx_packets", Value: p.TxPackets},
				{Name: "rx_bytes", Value: p.RxBytes}, {Name: "tx_bytes", Value: p.TxBytes},
				{Name: "rx_errors", Value: p.RxErrors}, {Name: "tx_errors", Value: p.TxErrors},
				{Name: "imissed", Value: p.RxMissed}, {Name: "rx_nombuf", Value: p.RxNoMbuf},
			}
		}
		s.poolSize, s.poolInUse = float64(sn.PoolSize), float64(sn.PoolInUse)
		s.transport = make([]ctl.Field, len(sn.Transport))
		for i, v := range sn.Transport {
			s.transport[i] = ctl.Field{Name: stack.TransportCounter(i).Name(), Value: v}
		}
		s.drops = make([]ctl.Field, len(sn.Drops))
		for i, dr := range sn.Drops {
			s.drops[i] = ctl.Field{Name: dr.Reason, Value: dr.N}
		}
		for i := range sn.Rows {
			r := &sn.Rows[i]
			s.zockets[[2]string{r.Kind.Type, r.StateName()}]++
		}
		s.age = sn.Age(time.Now()).Seconds()
		s.build = sn.BuildTime.Seconds()
		s.txQueued, s.timers = float64(sn.TxQueued), float64(sn.Timers)
		if sn.Capture.File != "" { // from the snapshot: Close clears the stack's own
			s.capture = &ctl.Capture{Packets: sn.Capture.Packets, Bytes: sn.Capture.Bytes, Drops: sn.Capture.Drops,
				Limited: sn.Capture.Limited, Errors: sn.Capture.WriteErrors}
		}
	})
	return s
}

// DumpCollector is a prometheus.Collector over stacks of other processes, read through their
// control sockets: each scrape calls fetch for their dumps (zfstackdump -metrics).
type DumpCollector struct {
	e     *emitter
	fetch func() []*ctl.Dump
}

// NewDumpCollector returns a collector reporting the dumps fetch returns at each scrape.
func NewDumpCollector(fetch func() []*ctl.Dump) *DumpCollector {
	return &DumpCollector{e: newEmitter(), fetch: fetch}
}

// Describe sends the descriptors of every metric the collector may report.
func (c *DumpCollector) Describe(ch chan<- *prometheus.Desc) { c.e.describe(ch) }

// Collect fetches the dumps and reports their metrics.
func (c *DumpCollector) Collect(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	for _, d := range c.fetch() {
		s := dumpSample(d)
		seen[s.info.Name+"\x00"+strconv.Itoa(s.info.PID)+"\x00"+strconv.Itoa(s.info.ID)] = true
		c.e.emit(ch, &s)
	}
	c.e.forget(seen)
}

// dumpSample converts a control-socket dump.
func dumpSample(d *ctl.Dump) sample {
	s := sample{info: d.Info, stats: d.Stats, port: d.Port, transport: d.Transport, drops: d.Drops,
		zockets: map[[2]string]int{}, age: d.AgeSeconds, build: float64(d.BuildNs) / 1e9,
		poolSize: float64(d.Pool.Size), poolInUse: float64(d.Pool.InUse), capture: d.Capture}
	if v, ok := d.Stats.Get("tx_queued"); ok {
		s.txQueued = float64(v)
	}
	if v, ok := d.Stats.Get("timers"); ok {
		s.timers = float64(v)
	}
	for _, z := range d.Zockets {
		s.zockets[[2]string{z.Type, z.State}]++
	}
	return s
}
