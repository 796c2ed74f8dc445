package capture

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Interval is how often a Writer drains its ring.
const Interval = time.Millisecond

// Clock converts TSC readings to wall-clock time: a reference pair (tsc0, t0) taken together
// and the TSC's rate.
type Clock struct {
	tsc0 uint64
	t0   time.Time
	mul  uint64 // ns = Δtsc * mul >> 32
}

// NewClock returns the clock that maps tsc0, read now, to the current time, for a TSC of hz
// ticks per second. hz 0 (unknown) maps every reading to the time it is converted at.
func NewClock(tsc0, hz uint64) Clock {
	c := Clock{tsc0: tsc0, t0: time.Now()}
	if hz > 0 {
		c.mul = (uint64(1e9) << 32) / hz
	}
	return c
}

// Time converts a TSC reading.
func (c Clock) Time(tsc uint64) time.Time {
	if c.mul == 0 {
		return time.Now()
	}
	d := tsc - c.tsc0
	if tsc < c.tsc0 {
		return c.t0
	}
	hi, lo := bits.Mul64(d, c.mul)
	return c.t0.Add(time.Duration(hi<<32 | lo>>32))
}

// Options describe the capture file's interface.
type Options struct {
	Interface   string // the interface name in the file (the stack's name and port)
	Description string // e.g. the DPDK device and driver
	Filter      string // the filter expression, recorded in the file
	Clock       Clock  // converts the records' TSC timestamps
}

// Writer drains a Ring into a pcapng file from a goroutine of its own.
type Writer struct {
	ring  *Ring
	file  *os.File
	ng    *pcapgo.NgWriter
	opts  Options
	stop  chan struct{}
	sync  chan chan error
	done  chan struct{}
	once  sync.Once
	err   error // first write error (the goroutine's; read after done)
	n     uint64
	start time.Time
}

// Create creates (truncates) the pcapng file at path, writes its section and interface
// blocks and starts draining ring into it.
func Create(path string, ring *Ring, opts Options) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return newWriter(f, path, ring, opts)
}

// newWriter writes the section and interface blocks to f and starts draining ring into it.
func newWriter(f *os.File, path string, ring *Ring, opts Options) (*Writer, error) {
	intf := pcapgo.NgInterface{
		Name:                opts.Interface,
		Description:         opts.Description,
		Filter:              opts.Filter,
		OS:                  runtime.GOOS,
		LinkType:            layers.LinkTypeEthernet,
		SnapLength:          0,
		TimestampResolution: 9,
	}
	wo := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware: runtime.GOARCH, OS: runtime.GOOS, Application: "zocket",
	}}
	ng, err := pcapgo.NewNgWriterInterface(f, intf, wo)
	if err == nil {
		err = ng.Flush()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture %s: %w", path, err)
	}
	w := &Writer{ring: ring, file: f, ng: ng, opts: opts, stop: make(chan struct{}),
		sync: make(chan chan error), done: make(chan struct{}), start: time.Now()}
	go w.run()
	return w, nil
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.drain()
			return
		case reply := <-w.sync:
			w.drain()
			if w.err == nil {
				w.err = w.ng.Flush()
			}
			reply <- w.err
		case <-t.C:
			if w.drain() > 0 && w.err == nil {
				w.err = w.ng.Flush()
			}
		}
	}
}

var inbound = pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionInbound}
var outbound = pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionOutbound}

func (w *Writer) drain() int {
	return w.ring.Drain(func(r *Record) {
		if w.err != nil {
			return
		}
		ci := gopacket.CaptureInfo{
			Timestamp:     w.opts.Clock.Time(r.TSC),
			CaptureLength: len(r.Data),
			Length:        max(r.OrigLen, len(r.Data)),
		}
		fl := &outbound
		if r.Flags&Inbound != 0 {
			fl = &inbound
		}
		w.err = w.ng.WritePacketWithOptions(ci, r.Data, pcapgo.NgPacketOptions{Flags: fl})
		w.n++
	})
}

// Sync writes every record published so far to the file (drained and flushed, readable by
// another program) before it returns, and returns the first write error.
func (w *Writer) Sync() error {
	reply := make(chan error)
	select {
	case w.sync <- reply:
		return <-reply
	case <-w.done:
		return w.err
	}
}

// Close stops the goroutine after a last drain (the producer must have stopped), writes the
// interface statistics (packets received and sent as the stack counted them, frames the
// ring dropped) and closes the file. It returns the first error writing the file.
func (w *Writer) Close(received, sent uint64) error {
	var err error
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		err = w.err
		drops := w.ring.Drops()
		if err == nil {
			err = w.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
				LastUpdate:      time.Now(),
				StartTime:       w.start,
				EndTime:         time.Now(),
				PacketsReceived: received + sent,
				PacketsDropped:  drops,
			})
		}
		if err == nil {
			err = w.ng.Flush()
		}
		err = errors.Join(err, w.file.Close())
	})
	return err
}

// Written is the number of packets written so far (read after Close, or from tests).
func (w *Writer) Written() uint64 {
	<-w.done
	return w.n
}
