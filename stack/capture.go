package stack

import (
	"fmt"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/capture"
)

// Packet capture (attribute capture=FILE.pcapng, optionally capture_filter): every frame the
// stack receives (before it is parsed, so dropped frames too) and every frame it sends (when
// it is queued for the port, after the fault shim) is copied into a ring that a goroutine
// drains to the file; see package internal/capture. While capture is off the reactor pays one
// nil check per receive burst, per queued frame and per Transmit, nothing else.
//
// The copy costs about a memmove of the frame and a few stores, plus an RDTSC per transmitted
// frame (received ones reuse the burst's TSC): BenchmarkCapture. Frames that find the ring full are not captured and are counted
// (CaptureStats.Drops, and the file's ifdrop).
//
// The file is the owner's alone (mode 0600, created new: an existing file or a symbolic link
// is refused) and at most capture_max_bytes long; frames past the cap and frames lost to a
// write error are counted (CaptureStats.Limited, WriteErrors) and logged once. A writer
// blocked in the file system does not hang Close: it is abandoned after
// capture.DefaultCloseTimeout, and Close logs it.

// captureRingSize is the capture ring's size: at the 1 ms drain interval it absorbs bursts of
// about 8 MB, 5,000 full-size frames.
const captureRingSize = 8 << 20

// CaptureStats count what packet capture did. Snapshots carry them with the file and filter,
// so that readers on other goroutines (metrics, the control socket) never look at the stack's
// capture state, which Close clears.
type CaptureStats struct {
	File        string // the capture file; "" when capture is off
	Filter      string // capture_filter
	Packets     uint64 // frames written to the ring
	Bytes       uint64 // their bytes
	Drops       uint64 // frames not captured: ring full
	Limited     uint64 // frames not written: the file reached capture_max_bytes
	WriteErrors uint64 // frames lost to write errors (the first error is logged)
}

// captureTap is a stack's packet capture.
type captureTap struct {
	path   string
	ring   *capture.Ring
	w      *capture.Writer
	filter *capture.Filter
}

// openCapture starts capture when the capture attribute names a file.
func (s *Stack) openCapture() error {
	path := s.attr.StrOf(attr.Capture)
	if path == "" {
		return nil
	}
	f, err := capture.ParseFilter(s.attr.StrOf(attr.CaptureFilter))
	if err != nil {
		return fmt.Errorf("stack: attr capture_filter: %w", err)
	}
	ring := capture.NewRing(captureRingSize)
	w, err := capture.Create(path, ring, capture.Options{
		Interface:   s.name,
		Description: fmt.Sprintf("zocket stack %s on %s (%s)", s.name, s.port.Name(), s.info.Driver),
		Filter:      f.String(),
		Clock:       capture.NewClock(dpdk.TSC(), dpdk.TSCHz()),
		MaxBytes:    s.attr.IntOf(attr.CaptureMaxBytes),
		Log:         s.obs.log.bg,
	})
	if err != nil {
		return fmt.Errorf("stack: attr capture=%s: %w", path, err)
	}
	s.obs.capture = &captureTap{path: path, ring: ring, w: w, filter: f}
	return nil
}

// closeCapture writes what is left and closes the file.
func (s *Stack) closeCapture() error {
	c := s.obs.capture
	if c == nil {
		return nil
	}
	s.obs.capture = nil
	c.ring.Publish()
	if err := c.w.Close(s.ctr.RxPackets, s.ctr.TxPackets); err != nil {
		return fmt.Errorf("stack %s: capture %s: %w", s.name, c.path, err)
	}
	return nil
}

func (s *Stack) captureStats() CaptureStats {
	if s.obs.capture == nil {
		return CaptureStats{}
	}
	c := s.obs.capture
	p, b, d := c.ring.Stats()
	w := c.w.Stats()
	return CaptureStats{File: c.path, Filter: c.filter.String(), Packets: p, Bytes: b, Drops: d,
		Limited: w.Limited, WriteErrors: w.Failed}
}

// SyncCapture makes the capture file hold every frame captured so far (tests read it with
// tshark while the stack runs). It waits for the writer goroutine; call it from the polling
// goroutine, never on the data path. Without capture it does nothing.
func (s *Stack) SyncCapture() error {
	c := s.obs.capture
	if c == nil {
		return nil
	}
	c.ring.Publish()
	return c.w.Sync()
}

// CaptureFile is the file the stack captures to ("" when off). Like the stack's other
// methods it is for the polling goroutine; others read Snapshot.Capture.File.
func (s *Stack) CaptureFile() string {
	if s.obs.capture == nil {
		return ""
	}
	return s.obs.capture.path
}

// copyFrame copies m (every segment) into a ring record.
func (c *captureTap) copyFrame(m *dpdk.Mbuf, tsc uint64, dir, tag uint32) {
	if !c.filter.Match(m.Data()) {
		return
	}
	n := m.PktLen()
	b := c.ring.Reserve(n, n, tsc, dir, tag)
	if b == nil {
		return
	}
	for seg := m; seg != nil && len(b) > 0; seg = seg.Next() {
		b = b[copy(b, seg.Data()):]
	}
}

// rx captures a received burst (before the stack parses, and perhaps reuses, the frames).
func (c *captureTap) rx(ms []*dpdk.Mbuf, tsc uint64) {
	for _, m := range ms {
		c.copyFrame(m, tsc, capture.Inbound, 0)
	}
	c.ring.Publish()
}

// tx captures a frame queued for the port.
func (c *captureTap) tx(m *dpdk.Mbuf) {
	c.copyFrame(m, capture.TSC(), capture.Outbound, 0)
	c.ring.Publish()
}

// captureTransmit is Transmit's burst with capture on: the frames are copied before the port
// takes them (once sent they may already be another's), and those it refused are voided.
func (s *Stack) captureTransmit(ms []*dpdk.Mbuf) int {
	c := s.obs.capture
	tsc := capture.TSC()
	for i, m := range ms {
		c.copyFrame(m, tsc, capture.Outbound, uint32(i))
	}
	sent := s.port.TxBurst(s.queue, ms)
	if sent < len(ms) {
		c.ring.Void(sent)
	}
	c.ring.Publish()
	return sent
}
