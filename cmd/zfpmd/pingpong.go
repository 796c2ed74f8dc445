package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/rtt"
)

// The ping-pong frame: an Ethernet header with the IEEE local experimental EtherType, then
// magic, type, sequence number and the ping's TSC, little-endian; zero up to -s bytes.
const (
	etherType = 0x88b5
	offMagic  = 14
	offType   = 18
	offSeq    = 20
	offTSC    = 28
	minFrame  = 36
	magic     = 0x4d50465a // "ZFPM"
)

// Frame types. The pong echoes every frame; after echoing a housekeeping frame it yields to
// the Go scheduler (see doc.go), after a stop frame it exits.
const (
	typePing = 1 // measured
	typeStop = 2
	typeHK   = 3 // both sides yield once, outside any measured round trip
	typeSync = 4 // unmeasured round trip: the pong is back in its loop
)

// ourFrame reports whether d is a ping-pong frame.
func ourFrame(d []byte) bool {
	return len(d) >= minFrame && d[12] == etherType>>8 && d[13] == etherType&0xff &&
		binary.LittleEndian.Uint32(d[offMagic:]) == magic
}

// stallMon counts gaps between consecutive poll turns longer than a threshold: time the
// polling thread did not run (interrupts, other threads, the Go scheduler).
type stallMon struct {
	last, thresh uint64
	count        int
	max          uint64
	at           [4096]uint64 // TSC at the end of each stall (the first 4096)
	dur          [4096]uint64
}

func (s *stallMon) see(tsc uint64) {
	if gap := tsc - s.last; gap > s.thresh && s.last != 0 {
		s.stall(tsc, gap)
	}
	s.last = tsc
}

//go:noinline
func (s *stallMon) stall(tsc, gap uint64) {
	if s.count < len(s.at) {
		s.at[s.count], s.dur[s.count] = tsc, gap
	}
	s.count++
	s.max = max(s.max, gap)
}

// reset forgets the stalls seen so far (after the warm-up) and the last turn (after a yield).
func (s *stallMon) reset() { *s = stallMon{thresh: s.thresh} }

func (s *stallMon) report(w io.Writer, who string, hz uint64, secs float64) {
	ns := func(c uint64) int64 { return int64(float64(c) * 1e9 / float64(hz)) }
	n := min(s.count, len(s.at))
	var iv []uint64
	for i := 1; i < n; i++ {
		iv = append(iv, s.at[i]-s.at[i-1])
	}
	durs := append([]uint64(nil), s.dur[:n]...)
	sortU64(iv)
	sortU64(durs)
	q := func(a []uint64, p float64) int64 {
		if len(a) == 0 {
			return 0
		}
		return ns(a[int(p*float64(len(a)-1))])
	}
	fmt.Fprintf(w, "diag %s stalls>%dns=%d per_s=%.0f max_ns=%d dur_p50_ns=%d dur_p90_ns=%d interval_p10_us=%d interval_p50_us=%d\n",
		who, ns(s.thresh), s.count, float64(s.count)/secs, ns(s.max), q(durs, .5), q(durs, .9),
		q(iv, .1)/1000, q(iv, .5)/1000)
}

func sortU64(a []uint64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// pinger sends one frame at a time and waits for its echo.
type pinger struct {
	port    dpdk.Port
	tx, rx  []*dpdk.Mbuf // C arrays: 1 and burst entries
	drop    []*dpdk.Mbuf // C array for frames that are not the awaited echo
	pending *dpdk.Mbuf   // the frame to send next; nil while one is in flight
	typ     byte         // type of the frame in flight or to send
	seq     uint64
	sentAt  uint64 // TSC of the frame in flight
	now     uint64 // TSC of the last turn
	timeout uint64 // cycles before a frame counts as lost
	lost    int
	err     error
	pause   bool
	pool    *dpdk.Pool
	size    int
	stalls  stallMon
}

func newPinger(port dpdk.Port, pool *dpdk.Pool, size, burst int, hz uint64) (*pinger, error) {
	p := &pinger{
		port: port, tx: dpdk.NewMbufArray(1), rx: dpdk.NewMbufArray(burst), drop: dpdk.NewMbufArray(burst),
		typ: typePing, timeout: hz / 10, pool: pool, size: size,
		stalls: stallMon{thresh: hz / 200_000}, // 5 µs
	}
	if err := p.newFrame(); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// newFrame builds a fresh frame to send: broadcast destination, the port's address as source.
func (p *pinger) newFrame() error {
	m := p.pool.Alloc()
	if m == nil {
		return errors.New("ping: mbuf pool empty")
	}
	d := m.Append(p.size)
	clear(d)
	src, _ := p.port.MAC()
	copy(d[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(d[6:12], src[:])
	d[12], d[13] = etherType>>8, etherType&0xff
	binary.LittleEndian.PutUint32(d[offMagic:], magic)
	p.pending = m
	return nil
}

func (p *pinger) close() {
	if p.pending != nil {
		p.pending.Free()
		p.pending = nil
	}
	dpdk.FreeMbufArray(p.tx)
	dpdk.FreeMbufArray(p.rx)
	dpdk.FreeMbufArray(p.drop)
}

// turn is one poll turn: it sends the pending frame (stamped with the TSC now) if there is one,
// and receives. It returns the round trip in TSC cycles when the awaited echo came back, with
// the echo's type.
func (p *pinger) turn() (got bool, typ byte, cycles uint64) {
	var tx []*dpdk.Mbuf
	if m := p.pending; m != nil {
		d := m.Data()
		p.seq++
		d[offType] = p.typ
		binary.LittleEndian.PutUint64(d[offSeq:], p.seq)
		t := dpdk.TSC()
		binary.LittleEndian.PutUint64(d[offTSC:], t)
		p.sentAt = t
		p.tx[0] = m
		p.pending = nil
		tx = p.tx[:1]
	}
	sent, n, tsc := p.port.TxRx(0, tx, p.rx)
	if len(tx) != sent {
		p.pending = p.tx[0] // ring full: send it again next turn
	}
	p.now = tsc
	p.stalls.see(tsc)
	if n == 0 {
		if p.pause {
			cpuPause()
		}
		if tsc-p.sentAt > p.timeout && p.pending == nil {
			p.lose()
		}
		return false, 0, 0
	}
	return p.receive(n, tsc)
}

func (p *pinger) receive(n int, tsc uint64) (got bool, typ byte, cycles uint64) {
	nd := 0
	for _, m := range p.rx[:n] {
		d := m.Data()
		if !got && p.pending == nil && ourFrame(d) && binary.LittleEndian.Uint64(d[offSeq:]) == p.seq {
			got, typ, cycles = true, d[offType], tsc-binary.LittleEndian.Uint64(d[offTSC:])
			d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11] =
				d[6], d[7], d[8], d[9], d[10], d[11], d[0], d[1], d[2], d[3], d[4], d[5]
			p.pending = m // the echo is the next ping
			continue
		}
		p.drop[nd] = m
		nd++
	}
	if nd > 0 {
		dpdk.FreeBulk(p.drop[:nd])
	}
	return got, typ, cycles
}

// lose gives up on the frame in flight (its buffer went with it): the next turn sends a fresh
// one. After 10 losses p.err is set.
//
//go:noinline
func (p *pinger) lose() {
	p.lost++
	if p.lost > 10 {
		p.err = fmt.Errorf("ping: %d frames lost: is the pong running?", p.lost)
		return
	}
	p.err = p.newFrame()
}

// ponger echoes frames back out of the port they came in on, swapping MAC addresses.
type ponger struct {
	port   dpdk.Port
	tx, rx []*dpdk.Mbuf
	ntx    int
	drop   []*dpdk.Mbuf
	echoed int64
	hk     bool // a housekeeping echo is in tx: yield after sending it
	stop   bool // a stop echo is in tx: the peer is done
	yields int
	pause  bool
	stalls stallMon
}

func newPonger(port dpdk.Port, burst int, hz uint64) *ponger {
	return &ponger{port: port, tx: dpdk.NewMbufArray(burst), rx: dpdk.NewMbufArray(burst),
		drop: dpdk.NewMbufArray(burst), stalls: stallMon{thresh: hz / 200_000}}
}

func (p *ponger) close() {
	if p.ntx > 0 {
		dpdk.FreeBulk(p.tx[:p.ntx])
		p.ntx = 0
	}
	dpdk.FreeMbufArray(p.tx)
	dpdk.FreeMbufArray(p.rx)
	dpdk.FreeMbufArray(p.drop)
}

// turn sends the echoes of the previous turn, receives, and queues the new echoes.
func (p *ponger) turn() (tsc uint64) {
	sent, n, tsc := p.port.TxRx(0, p.tx[:p.ntx], p.rx)
	if sent < p.ntx {
		dpdk.FreeBulk(p.tx[sent:p.ntx])
	}
	p.ntx = 0
	p.stalls.see(tsc)
	if p.hk {
		p.housekeep()
	}
	if n == 0 {
		if p.pause {
			cpuPause()
		}
		return tsc
	}
	nd := 0
	for _, m := range p.rx[:n] {
		d := m.Data()
		if !ourFrame(d) {
			p.drop[nd] = m
			nd++
			continue
		}
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11] =
			d[6], d[7], d[8], d[9], d[10], d[11], d[0], d[1], d[2], d[3], d[4], d[5]
		switch d[offType] {
		case typeHK:
			p.hk = true
		case typeStop:
			p.stop = true
		}
		p.tx[p.ntx] = m
		p.ntx++
	}
	p.echoed += int64(p.ntx)
	if nd > 0 {
		dpdk.FreeBulk(p.drop[:nd])
	}
	return tsc
}

//go:noinline
func (p *ponger) housekeep() {
	p.hk = false
	p.yields++
	runtime.Gosched()
	p.stalls.last = 0
}

// flush sends what is queued (the stop echo) before the pong exits.
func (p *ponger) flush() {
	for i := 0; i < 1000 && p.ntx > 0; i++ {
		sent := p.port.TxBurst(0, p.tx[:p.ntx])
		copy(p.tx, p.tx[sent:p.ntx])
		p.ntx -= sent
	}
}

func (c *config) runPong(port dpdk.Port, stop *atomic.Bool, pl *placement, stderr io.Writer) error {
	hz := dpdk.TSCHz()
	p := newPonger(port, c.burst, hz)
	defer p.close()
	p.pause = c.pause
	// The cold path runs every millisecond. When no frame came since the last one the pong is
	// idle (the ping has not started, or is gone): it yields then, so that sysmon does not
	// preempt it before the ping's housekeeping frames take over (see doc.go).
	check := hz / 1000
	next := dpdk.TSC() + check
	var first, end uint64
	var echoedBefore int64
	waitEnd := dpdk.TSC() + uint64(c.wait.Seconds()*float64(hz))
	for ticks := 0; !p.stop; {
		tsc := p.turn()
		if tsc < next {
			continue
		}
		next = tsc + check
		if p.echoed == echoedBefore {
			p.yields++
			runtime.Gosched()
			p.stalls.last = 0
		}
		echoedBefore = p.echoed
		if ticks++; ticks%100 != 0 { // the rest every 100 ms
			continue
		}
		if stop.Load() {
			break
		}
		if first == 0 && p.echoed > 0 {
			first = tsc
			if c.dur > 0 {
				end = tsc + uint64(c.dur.Seconds()*float64(hz))
			}
		}
		if first == 0 && c.wait > 0 && tsc > waitEnd {
			return fmt.Errorf("pong: no ping within %v", c.wait)
		}
		if (end != 0 && tsc > end) || (c.n > 0 && p.echoed >= c.n) {
			break
		}
		if l, err := port.Link(); err == nil && !l.Up {
			break // the ping went away
		}
	}
	p.flush()
	secs := time.Since(pl.start0).Seconds()
	if c.verbose {
		p.stalls.report(stderr, "pong", hz, secs)
	}
	fmt.Fprintf(stderr, "pong: echoed %d frames, %d yields\n", p.echoed, p.yields)
	return nil
}

func (c *config) runPing(port dpdk.Port, pool *dpdk.Pool, stop *atomic.Bool, pl *placement, stdout, stderr io.Writer) error {
	hz := dpdk.TSCHz()
	p, err := newPinger(port, pool, c.size, c.burst, hz)
	if err != nil {
		return err
	}
	defer p.close()
	p.pause = c.pause
	rec := rtt.NewRecorder()
	nsPerCycle := 1e9 / float64(hz)
	hkEvery := uint64(c.hk.Seconds() * float64(hz))
	lastHK := dpdk.TSC()
	total := c.warmup + c.n
	var done int64
	var yieldCycles uint64
	lostWarm := 0
	for done < total {
		got, typ, cycles := p.turn()
		if !got {
			if p.err != nil {
				return p.err
			}
			continue
		}
		switch typ {
		case typePing:
			if done >= c.warmup {
				rec.Record(int64(float64(cycles) * nsPerCycle))
			}
			done++
			if done == c.warmup {
				p.stalls.reset()
				lostWarm = p.lost
				pl.start()
			}
			if hkEvery > 0 && p.now-lastHK > hkEvery {
				p.typ = typeHK
			}
		case typeHK:
			t0 := dpdk.TSC()
			runtime.Gosched()
			t1 := dpdk.TSC()
			yieldCycles += t1 - t0
			lastHK = t1
			p.stalls.last = 0
			p.typ = typeSync
		case typeSync:
			p.typ = typePing
		}
		if done&0xffff == 0 && stop.Load() {
			return errors.New("ping: interrupted")
		}
	}
	// Tell the pong we are done; its echo is not waited for long.
	p.typ = typeStop
	deadline := dpdk.TSC() + hz/10
	for {
		got, _, _ := p.turn()
		if got || p.now > deadline || p.err != nil {
			break
		}
	}
	s := rec.Summary()
	if c.verbose {
		secs := time.Since(pl.start0).Seconds()
		p.stalls.report(stderr, "ping", hz, secs)
		fmt.Fprintf(stderr, "diag ping lost_in_warmup=%d lost_measured=%d hk_yields_ns_total=%d\n", lostWarm, p.lost-lostWarm, int64(float64(yieldCycles)*nsPerCycle))
	}
	fmt.Fprintln(stdout, s.Line())
	return rec.WriteHgrmFile(c.hgrm)
}
