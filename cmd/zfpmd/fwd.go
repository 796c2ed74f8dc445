package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"

	"github.com/zocket/zocket/dpdk"
)

// Forwarding engines, testpmd's names.
const (
	modeIO = iota
	modeMacswap
	modeRxOnly
	modeTxOnly
)

func modeOf(s string) int {
	switch s {
	case "io":
		return modeIO
	case "macswap":
		return modeMacswap
	case "rxonly":
		return modeRxOnly
	default:
		return modeTxOnly
	}
}

// portCounters are what an engine did on one port (its own counts; the PMD's are in
// dpdk.Stats).
type portCounters struct {
	rxPkts, rxBytes uint64
	txPkts, txBytes uint64
	drops           uint64 // packets the port would not take (forwarded or generated)
}

// stream is one polling unit: receive on ports[rx], send on ports[tx].
type stream struct {
	rx, tx int
	in     []*dpdk.Mbuf // C array, burst long
	out    []*dpdk.Mbuf // C array, burst long: what goes out at the next turn
	nout   int
}

// engine runs one forwarding mode over one or two ports from one goroutine. Every turn makes
// one cgo call per stream and allocates nothing.
type engine struct {
	mode    int
	ports   []dpdk.Port
	streams []stream
	burst   int
	pool    *dpdk.Pool // txonly
	size    int        // txonly frame size
	tmpl    [42]byte   // txonly headers: Ethernet, IPv4, UDP
	ctr     []portCounters
	first   uint64 // TSC of the first packet moved
	last    uint64 // TSC of the last turn that moved packets
	now     uint64
	pause   bool
}

// newEngine prepares mode over ports: with one port, io and macswap send back out of it; with
// two, they forward 0→1 and 1→0. rxonly and txonly use every port on its own.
func newEngine(mode int, ports []dpdk.Port, burst int, pool *dpdk.Pool, size int) *engine {
	e := &engine{mode: mode, ports: ports, burst: burst, pool: pool, size: size,
		ctr: make([]portCounters, len(ports))}
	for i := range ports {
		s := stream{rx: i, tx: i, in: dpdk.NewMbufArray(burst), out: dpdk.NewMbufArray(burst)}
		if (mode == modeIO || mode == modeMacswap) && len(ports) == 2 {
			s.tx = 1 - i
		}
		e.streams = append(e.streams, s)
	}
	if mode == modeTxOnly {
		e.buildTemplate()
	}
	return e
}

// buildTemplate writes testpmd txonly's headers: Ethernet to a locally administered address,
// IPv4 198.18.0.1 → 198.18.0.2, UDP 9 → 9, lengths for e.size bytes.
func (e *engine) buildTemplate() {
	t := e.tmpl[:]
	copy(t[0:6], []byte{0x02, 0, 0, 0, 0, 0x02})
	src, _ := e.ports[0].MAC()
	copy(t[6:12], src[:])
	t[12], t[13] = 0x08, 0x00
	ip := t[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(e.size-14))
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:16], []byte{198, 18, 0, 1})
	copy(ip[16:20], []byte{198, 18, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := t[34:42]
	binary.BigEndian.PutUint16(udp[0:], 9)
	binary.BigEndian.PutUint16(udp[2:], 9)
	binary.BigEndian.PutUint16(udp[4:], uint16(e.size-34))
}

// turn polls every stream once and returns how many packets it moved and the TSC.
func (e *engine) turn() (moved int) {
	for i := range e.streams {
		s := &e.streams[i]
		switch e.mode {
		case modeIO, modeMacswap:
			moved += e.forward(s)
		case modeRxOnly:
			t := e.ports[s.rx].RxDrop(0, s.in)
			e.now = t.TSC
			c := &e.ctr[s.rx]
			c.rxPkts += uint64(t.Received)
			c.rxBytes += uint64(t.Bytes)
			moved += t.Received
		case modeTxOnly:
			moved += e.generate(s)
		}
	}
	if moved > 0 {
		if e.first == 0 {
			e.first = e.now
		}
		e.last = e.now
	} else if e.pause {
		cpuPause()
	}
	return moved
}

// forward sends what the previous turn received and receives the next burst.
func (e *engine) forward(s *stream) int {
	t := e.ports[s.rx].TxDropRx(0, e.ports[s.tx], 0, s.out[:s.nout], s.in)
	e.now = t.TSC
	sent, n := t.Sent, t.Received
	tc := &e.ctr[s.tx]
	tc.txPkts += uint64(sent)
	tc.txBytes += uint64(t.Bytes)
	tc.drops += uint64(s.nout - sent)
	s.nout = 0
	if n == 0 {
		return sent
	}
	rc := &e.ctr[s.rx]
	rc.rxPkts += uint64(n)
	var bytes uint64
	for _, m := range s.in[:n] {
		bytes += uint64(m.PktLen())
		if e.mode == modeMacswap {
			d := m.Data()
			if len(d) >= 12 {
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11] =
					d[6], d[7], d[8], d[9], d[10], d[11], d[0], d[1], d[2], d[3], d[4], d[5]
			}
		}
	}
	rc.rxBytes += bytes
	s.in, s.out, s.nout = s.out, s.in, n
	return sent + n
}

// generate sends the burst built at the previous turn and allocates and builds the next.
func (e *engine) generate(s *stream) int {
	t := e.ports[s.tx].TxDropAlloc(0, s.out[:s.nout], e.pool, s.in[:e.burst])
	e.now = t.TSC
	sent := t.Sent
	c := &e.ctr[s.tx]
	c.txPkts += uint64(sent)
	c.txBytes += uint64(t.Bytes)
	c.drops += uint64(s.nout - sent)
	s.nout = 0
	if !t.Allocated {
		return sent
	}
	for _, m := range s.in[:e.burst] {
		d := m.Append(e.size)
		copy(d, e.tmpl[:])
	}
	s.in, s.out, s.nout = s.out, s.in, e.burst
	return sent
}

// close frees what is still queued and the arrays.
func (e *engine) close() {
	for i := range e.streams {
		s := &e.streams[i]
		if s.nout > 0 {
			dpdk.FreeBulk(s.out[:s.nout])
			s.nout = 0
		}
		dpdk.FreeMbufArray(s.in)
		dpdk.FreeMbufArray(s.out)
	}
}

// flush tries to send what the last turn queued (forwarded packets), then frees the rest.
func (e *engine) flush() {
	if e.mode != modeIO && e.mode != modeMacswap {
		return
	}
	for i := range e.streams {
		s := &e.streams[i]
		if s.nout == 0 {
			continue
		}
		t := e.ports[s.tx].TxDropRx(0, e.ports[s.tx], 0, s.out[:s.nout], nil)
		e.ctr[s.tx].txPkts += uint64(t.Sent)
		e.ctr[s.tx].txBytes += uint64(t.Bytes)
		e.ctr[s.tx].drops += uint64(s.nout - t.Sent)
		s.nout = 0
	}
}

// statsPrinter prints testpmd-like per-port lines without allocating.
type statsPrinter struct {
	w    io.Writer
	buf  []byte
	prev []dpdk.Stats
	ptsc uint64
	hz   uint64
}

func (sp *statsPrinter) num(label string, v uint64) {
	sp.buf = append(sp.buf, label...)
	sp.buf = strconv.AppendUint(sp.buf, v, 10)
}

func (sp *statsPrinter) float(label string, v float64, prec int) {
	sp.buf = append(sp.buf, label...)
	sp.buf = strconv.AppendFloat(sp.buf, v, 'f', prec, 64)
}

// print writes one line per port: the PMD's counters, the engine's drops, and the rates since
// the previous print.
func (sp *statsPrinter) print(e *engine, tsc uint64) {
	secs := float64(tsc-sp.ptsc) / float64(sp.hz)
	for i, p := range e.ports {
		st, err := p.Stats()
		if err != nil {
			continue
		}
		pv := sp.prev[i]
		sp.buf = sp.buf[:0]
		sp.num("port ", uint64(i))
		sp.buf = append(sp.buf, ':')
		sp.num(" RX-packets: ", st.RxPackets)
		sp.num(" RX-missed: ", st.RxMissed)
		sp.num(" RX-bytes: ", st.RxBytes)
		sp.num(" RX-nombuf: ", st.RxNoMbuf)
		sp.num(" | TX-packets: ", st.TxPackets)
		sp.num(" TX-errors: ", st.TxErrors)
		sp.num(" TX-bytes: ", st.TxBytes)
		sp.num(" fwd-drops: ", e.ctr[i].drops)
		if secs > 0 {
			sp.float(" | Rx-pps: ", float64(st.RxPackets-pv.RxPackets)/secs, 0)
			sp.float(" Tx-pps: ", float64(st.TxPackets-pv.TxPackets)/secs, 0)
			sp.float(" Rx-Gbps: ", float64(st.RxBytes-pv.RxBytes)*8/secs/1e9, 3)
			sp.float(" Tx-Gbps: ", float64(st.TxBytes-pv.TxBytes)*8/secs/1e9, 3)
		}
		sp.buf = append(sp.buf, '\n')
		sp.w.Write(sp.buf)
		sp.prev[i] = st
	}
	sp.ptsc = tsc
}

func (c *config) runFwd(ports []dpdk.Port, pool *dpdk.Pool, stop *atomic.Bool, pl *placement, stdout, stderr io.Writer) error {
	hz := dpdk.TSCHz()
	mode := modeOf(c.mode)
	e := newEngine(mode, ports, c.burst, pool, c.size)
	defer e.close()
	e.pause = c.pause
	for _, p := range ports {
		_ = p.ResetStats()
	}
	sp := &statsPrinter{w: stdout, buf: make([]byte, 0, 512), prev: make([]dpdk.Stats, len(ports)), hz: hz}
	// The cold path runs every -hk (at most 10 ms) and yields to the Go scheduler each time,
	// so sysmon never preempts the loop (see doc.go); -hk 0 yields only when idle.
	check := hz / 100
	yield := false
	if c.hk > 0 {
		check = min(check, uint64(c.hk.Seconds()*float64(hz)))
		yield = true
	}
	statsEvery := uint64(c.stats * float64(hz))
	start := dpdk.TSC()
	sp.ptsc = start
	nextStats := start + statsEvery
	next := start + check
	waitEnd := start + uint64(c.wait.Seconds()*float64(hz))
	durCycles := uint64(c.dur.Seconds() * float64(hz))
	var err error
	for {
		e.turn()
		if e.now < next {
			continue
		}
		now := e.now
		next = now + check
		if yield || e.first == 0 || now-e.last > check {
			runtime.Gosched() // also lets the signal handler's goroutine run
		}
		if stop.Load() {
			break
		}
		if statsEvery > 0 && now >= nextStats {
			sp.print(e, now)
			nextStats = now + statsEvery
		}
		if e.first == 0 {
			if c.wait > 0 && now > waitEnd {
				err = fmt.Errorf("%s: no packet within %v", c.mode, c.wait)
				break
			}
			continue
		}
		if durCycles > 0 && now-e.first >= durCycles {
			break
		}
		if c.n > 0 && e.moved() >= uint64(c.n) {
			break
		}
		if now-e.last > hz { // a second without traffic: is the peer gone?
			if l, lerr := ports[0].Link(); lerr == nil && !l.Up {
				break
			}
		}
	}
	e.flush()
	sp.print(e, dpdk.TSC())
	e.summary(stdout, hz)
	if c.verbose {
		fmt.Fprintf(stderr, "diag engine first_to_last_s=%.3f\n", float64(e.last-e.first)/float64(hz))
	}
	_ = os.Stdout.Sync()
	return err
}

// moved is the number of packets the engine received (rx modes) or sent (txonly).
func (e *engine) moved() uint64 {
	var n uint64
	for _, c := range e.ctr {
		if e.mode == modeTxOnly {
			n += c.txPkts
		} else {
			n += c.rxPkts
		}
	}
	return n
}

// summary prints the machine-readable closing line, rates over first→last packet.
func (e *engine) summary(w io.Writer, hz uint64) {
	var t portCounters
	for _, c := range e.ctr {
		t.rxPkts += c.rxPkts
		t.rxBytes += c.rxBytes
		t.txPkts += c.txPkts
		t.txBytes += c.txBytes
		t.drops += c.drops
	}
	secs := float64(e.last-e.first) / float64(hz)
	rate := func(v uint64, scale float64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(v) / secs / scale
	}
	names := []string{"io", "macswap", "rxonly", "txonly"}
	fmt.Fprintf(w, "fwd mode=%s ports=%d secs=%.3f rx_pkts=%d rx_bytes=%d rx_mpps=%.3f rx_gbps=%.3f "+
		"tx_pkts=%d tx_bytes=%d tx_mpps=%.3f tx_gbps=%.3f drops=%d\n",
		names[e.mode], len(e.ports), secs, t.rxPkts, t.rxBytes, rate(t.rxPkts, 1e6), rate(t.rxBytes*8, 1e9),
		t.txPkts, t.txBytes, rate(t.txPkts, 1e6), rate(t.txBytes*8, 1e9), t.drops)
}
