package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/bits"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
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

// Options describe the capture file's interface and how the Writer behaves.
type Options struct {
	Interface   string // the interface name in the file (the stack's name and port)
	Description string // e.g. the DPDK device and driver
	Filter      string // the filter expression, recorded in the file
	Clock       Clock  // converts the records' TSC timestamps

	// MaxBytes caps the file's size (0: no cap). Frames that would take it past the cap are
	// not written but counted (Stats.Limited, and the statistics block's ifdrop).
	MaxBytes int64
	// Log, if set, gets one line when the cap is first reached and one at the first write
	// error (the stack passes its background logger).
	Log *slog.Logger
	// CloseTimeout bounds how long Close and Sync wait for the writer goroutine, which a
	// write(2) may block (a hung file system): 0 means DefaultCloseTimeout.
	CloseTimeout time.Duration
}

// DefaultCloseTimeout is how long Close and Sync wait for a blocked writer by default.
const DefaultCloseTimeout = 2 * time.Second

// Size accounting: an enhanced packet block is 28 bytes of header, the data padded to 4, the
// flags option (8) and the end of options (4), and the 4-byte trailing length. The cap keeps
// statsReserve bytes for the interface statistics block Close writes (24 bytes and five
// 12-byte options, at most).
const (
	epbOverhead  = 28 + 8 + 4 + 4
	statsReserve = 128
)

// Stats count what a Writer did with the records it drained.
type Stats struct {
	Written uint64 // frames written to the file
	Limited uint64 // frames not written: the file reached MaxBytes
	Failed  uint64 // frames lost to write errors: those since the last successful flush, and every later one
}

// Writer drains a Ring into a pcapng file from a goroutine of its own.
type Writer struct {
	ring *Ring
	file *os.File
	path string
	ng   *pcapgo.NgWriter
	opts Options
	stop chan struct{}
	sync chan chan error
	done chan struct{}
	once sync.Once

	// The goroutine's state (read by others only after done).
	err       error  // first write error
	size      int64  // bytes of the blocks written so far, flushed or not
	unflushed uint64 // frames written since the last successful flush

	// Set by Close before it closes stop: the statistics block's counts.
	received, sent uint64
	closeErr       error

	written, limited, failed atomic.Uint64
	start                    time.Time
}

// Create creates the pcapng file at path, writes its section and interface blocks and starts
// draining ring into it. The file is created with mode 0600 (the owner alone may read it:
// captures hold every frame's payload) and never replaces anything: when path exists, even
// as a symbolic link, Create fails with an error wrapping EEXIST that names it. Other errors
// are the *fs.PathError of open(2) or the first write's.
func Create(path string, ring *Ring, opts Options) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("capture %s: exists or is a symbolic link (a capture never overwrites a file or follows a link; remove it or name a new file): %w", path, syscall.EEXIST)
	}
	if err != nil {
		return nil, err
	}
	w, err := newWriter(f, path, ring, opts)
	if err != nil {
		os.Remove(path)
	}
	return w, err
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
	cw := &countingWriter{w: f}
	ng, err := pcapgo.NewNgWriterInterface(cw, intf, wo)
	if err == nil {
		err = ng.Flush()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture %s: %w", path, err)
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	w := &Writer{ring: ring, file: f, path: path, ng: ng, opts: opts, stop: make(chan struct{}),
		sync: make(chan chan error, 1), done: make(chan struct{}), start: time.Now(), size: cw.n}
	go w.run()
	return w, nil
}

// countingWriter counts the bytes written through it (the file's header blocks).
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			w.drain()
			w.finish()
			return
		case reply := <-w.sync:
			w.drain()
			w.flush()
			reply <- w.err
		case <-t.C:
			if w.drain() > 0 {
				w.flush()
			}
		}
	}
}

// flush flushes the buffered blocks; on error the frames in them are counted as failed.
func (w *Writer) flush() {
	if w.err != nil {
		return
	}
	if err := w.ng.Flush(); err != nil {
		w.fail(err)
	}
	w.unflushed = 0
}

// fail records the first write error and logs it once. The frames written since the last
// successful flush are counted as failed: the buffered writer holding them is broken.
func (w *Writer) fail(err error) {
	w.err = err
	w.written.Add(-w.unflushed)
	w.failed.Add(w.unflushed)
	w.unflushed = 0
	if w.opts.Log != nil {
		w.opts.Log.Error("capture write failed; later frames are counted, not written",
			"file", w.path, "err", err)
	}
}

// finish writes the interface statistics block (packets received and sent as the stack
// counted them; frames the ring dropped or the cap stopped) and flushes.
func (w *Writer) finish() {
	if w.err != nil {
		return
	}
	err := w.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
		LastUpdate:      time.Now(),
		StartTime:       w.start,
		EndTime:         time.Now(),
		PacketsReceived: w.received + w.sent,
		PacketsDropped:  w.ring.Drops() + w.limited.Load(),
	})
	if err != nil {
		w.fail(err)
		return
	}
	w.flush()
}

var inbound = pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionInbound}
var outbound = pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionOutbound}

func (w *Writer) drain() int {
	return w.ring.Drain(w.write)
}

// write writes one record, or counts it as failed (after a write error) or limited (past
// MaxBytes).
func (w *Writer) write(r *Record) {
	if w.err != nil {
		w.failed.Add(1)
		return
	}
	need := int64(epbOverhead + (len(r.Data)+3)&^3)
	if w.opts.MaxBytes > 0 && w.size+need > w.opts.MaxBytes-statsReserve {
		if w.limited.Add(1) == 1 && w.opts.Log != nil {
			w.opts.Log.Warn("capture file reached capture_max_bytes; later frames are counted, not written",
				"file", w.path, "max_bytes", w.opts.MaxBytes)
		}
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
	if err := w.ng.WritePacketWithOptions(ci, r.Data, pcapgo.NgPacketOptions{Flags: fl}); err != nil {
		w.fail(err)
		w.failed.Add(1)
		return
	}
	w.size += need
	w.unflushed++
	w.written.Add(1)
}

// Sync writes every record published so far to the file (drained and flushed, readable by
// another program) before it returns, and returns the first write error. A writer blocked
// longer than Options.CloseTimeout makes it return an error wrapping ETIMEDOUT.
func (w *Writer) Sync() error {
	t := time.NewTimer(w.opts.CloseTimeout)
	defer t.Stop()
	reply := make(chan error, 1)
	select {
	case w.sync <- reply:
	case <-w.done:
		return w.err
	case <-t.C:
		return w.blocked()
	}
	select {
	case err := <-reply:
		return err
	case <-t.C:
		return w.blocked()
	}
}

func (w *Writer) blocked() error {
	return fmt.Errorf("capture %s: writer blocked for more than %v: %w", w.path, w.opts.CloseTimeout, syscall.ETIMEDOUT)
}

// Close stops the goroutine after a last drain (the producer must have stopped), writes the
// interface statistics (packets received and sent as the stack counted them, frames the
// ring dropped or the size cap stopped) and closes the file. It returns the first error
// writing the file. When the goroutine is blocked in a write for longer than
// Options.CloseTimeout, Close gives up: it closes the file under it (the goroutine ends when
// its write returns), logs it and returns an error wrapping ETIMEDOUT; the file is then
// incomplete. Later calls return the first call's error.
func (w *Writer) Close(received, sent uint64) error {
	w.once.Do(func() {
		w.received, w.sent = received, sent
		close(w.stop)
		t := time.NewTimer(w.opts.CloseTimeout)
		defer t.Stop()
		select {
		case <-w.done:
			w.closeErr = errors.Join(w.err, w.file.Close())
		case <-t.C:
			w.closeErr = fmt.Errorf("%w; gave up, the file is incomplete", w.blocked())
			if w.opts.Log != nil {
				w.opts.Log.Error("capture writer blocked; gave up, the file is incomplete", "file", w.path, "timeout", w.opts.CloseTimeout)
			}
			w.file.Close()
		}
	})
	return w.closeErr
}

// Stats returns the writer's counts so far (safe from any goroutine).
func (w *Writer) Stats() Stats {
	return Stats{Written: w.written.Load(), Limited: w.limited.Load(), Failed: w.failed.Load()}
}

// Written is the number of packets written so far.
func (w *Writer) Written() uint64 { return w.written.Load() }
