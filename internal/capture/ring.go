// Package capture writes the frames a stack sends and receives to a pcapng file (the
// `capture` attribute), so that a kernel-bypass stack's traffic can be read with tshark or
// Wireshark like any interface's.
//
// # Design
//
// The polling goroutine must not do file I/O, take locks or allocate per packet. So capture is
// split in two:
//
//   - On the data path the stack copies each frame (all its segments) into a preallocated
//     Ring, a single-producer single-consumer byte ring, with the CPU's TSC as timestamp and
//     a direction flag: one memmove of the frame plus a few stores, and one atomic store
//     publishing a batch. When the ring is full the frame is not captured and counted
//     (Ring.Drops; the pcapng file's interface statistics report them as ifdrop). Nothing
//     is done, and no branch but one nil check per burst taken, while capture is off.
//   - A Writer goroutine drains the ring every millisecond into a pcapng file through
//     gopacket's pcapgo.NgWriter: one section, one Ethernet interface named after the stack,
//     enhanced packet blocks with nanosecond timestamps (TSC converted with the rate EAL
//     measured) and the inbound/outbound flag, and an interface statistics block at close.
//
// The file holds every frame's payload, so Create makes it the owner's alone (mode 0600) and
// never replaces anything (O_EXCL|O_NOFOLLOW: an existing file or a symbolic link is refused
// with EEXIST). Options.MaxBytes caps its size; frames past the cap and frames lost to write
// errors are counted (Writer.Stats) and logged once. Close and Sync wait for a writer blocked
// in the file system at most Options.CloseTimeout, then give up (ETIMEDOUT).
//
// A Filter ("port 80 or udp port 53", see ParseFilter) lets the stack capture only some
// frames; it is evaluated on the data path before the copy.
package capture

import (
	"encoding/binary"
	"sync/atomic"
)

// Direction flags of a record.
const (
	Inbound  = 1 // received by the stack
	Outbound = 2 // sent by the stack
)

// Record header layout: TSC (8), captured length (4), original length (4), flags (4), tag (4).
// Records are 8-byte aligned.
const (
	hdrSize   = 24
	flagSkip  = 1 << 31 // the rest of the ring up to its end is padding
	flagVoid  = 1 << 30 // reserved but not sent: the consumer skips it
	flagsMask = 0xff
)

// Ring is a single-producer single-consumer ring of frame records in one preallocated byte
// array. The producer (the stack's polling goroutine) reserves records, fills them and
// publishes; the consumer (a Writer) reads published records and frees them.
//
// Synchronisation is one atomic pair: the producer release-stores tail after writing records,
// the consumer acquire-loads it before reading them; the consumer release-stores head after
// reading, the producer acquire-loads it before reusing the space.
type Ring struct {
	buf  []byte
	mask uint64

	tail atomic.Uint64 // producer: published end
	head atomic.Uint64 // consumer: freed up to here

	// Producer only.
	wpos     uint64 // reserved end (≥ tail)
	headSeen uint64 // last head loaded
	pubStart uint64 // first record not yet published

	// Producer counters, read through Stats by the producer's goroutine; drops are also
	// atomic for the Writer's statistics block.
	packets, bytes uint64
	drops          atomic.Uint64
}

// NewRing returns a ring of size bytes (rounded up to a power of two, at least 64 KiB).
func NewRing(size int) *Ring {
	n := 64 << 10
	for n < size {
		n <<= 1
	}
	return &Ring{buf: make([]byte, n), mask: uint64(n - 1)}
}

// Size is the ring's capacity in bytes.
func (r *Ring) Size() int { return len(r.buf) }

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

// Reserve makes room for a record of n bytes (origLen the frame's length on the wire, flags
// Inbound or Outbound, tag the frame's index in its burst, for Void) and returns the n bytes
// to fill, or nil when the ring is full (the frame is counted as dropped). The record becomes
// visible to the consumer at Publish.
func (r *Ring) Reserve(n, origLen int, tsc uint64, flags, tag uint32) []byte {
	need := hdrSize + align8(uint64(n))
	size := uint64(len(r.buf))
	if need > size/2 { // could never fit after a skip to the end
		r.drops.Add(1)
		return nil
	}
	off := r.wpos & r.mask
	skip := uint64(0)
	if off+need > size {
		skip = size - off // the record would straddle the end: pad to it and start at 0
	}
	if r.wpos+skip+need-r.headSeen > size {
		r.headSeen = r.head.Load()
		if r.wpos+skip+need-r.headSeen > size {
			r.drops.Add(1)
			return nil
		}
	}
	if skip > 0 {
		if skip >= hdrSize {
			binary.LittleEndian.PutUint32(r.buf[off+16:], flagSkip)
		}
		r.wpos += skip
		off = 0
	}
	h := r.buf[off : off+hdrSize]
	binary.LittleEndian.PutUint64(h, tsc)
	binary.LittleEndian.PutUint32(h[8:], uint32(n))
	binary.LittleEndian.PutUint32(h[12:], uint32(origLen))
	binary.LittleEndian.PutUint32(h[16:], flags&flagsMask)
	binary.LittleEndian.PutUint32(h[20:], tag)
	r.wpos += need
	r.packets++
	r.bytes += uint64(n)
	return r.buf[off+hdrSize : off+hdrSize+uint64(n)]
}

// Publish makes every record reserved so far visible to the consumer.
func (r *Ring) Publish() {
	if r.wpos != r.pubStart {
		r.tail.Store(r.wpos)
		r.pubStart = r.wpos
	}
}

// Void marks the records reserved since the last Publish whose tag is keep or more as not
// sent: the consumer skips them. For a transmit burst the port took only the first keep
// frames of.
func (r *Ring) Void(keep int) {
	pos := r.pubStart
	for pos < r.wpos {
		off := pos & r.mask
		if uint64(len(r.buf))-off < hdrSize || binary.LittleEndian.Uint32(r.buf[off+16:])&flagSkip != 0 {
			pos += uint64(len(r.buf)) - off
			continue
		}
		n := uint64(binary.LittleEndian.Uint32(r.buf[off+8:]))
		if binary.LittleEndian.Uint32(r.buf[off+20:]) >= uint32(keep) {
			f := binary.LittleEndian.Uint32(r.buf[off+16:])
			binary.LittleEndian.PutUint32(r.buf[off+16:], f|flagVoid)
			r.packets--
			r.bytes -= n
		}
		pos += hdrSize + align8(n)
	}
}

// Stats returns the records reserved, their bytes and the frames dropped for want of room.
// Call it from the producer's goroutine.
func (r *Ring) Stats() (packets, bytes, drops uint64) {
	return r.packets, r.bytes, r.drops.Load()
}

// Drops is the number of frames dropped for want of room (safe from any goroutine).
func (r *Ring) Drops() uint64 { return r.drops.Load() }

// Record is one captured frame as the consumer sees it.
type Record struct {
	TSC     uint64
	OrigLen int
	Flags   uint32 // Inbound or Outbound
	Data    []byte // valid only during the callback
}

// Drain calls fn with every published record, in order, frees them, and returns how many it
// read. Call it from the consumer's goroutine only.
func (r *Ring) Drain(fn func(rec *Record)) int {
	tail := r.tail.Load()
	head := r.head.Load()
	n := 0
	var rec Record
	for head < tail {
		off := head & r.mask
		if uint64(len(r.buf))-off < hdrSize {
			head += uint64(len(r.buf)) - off
			continue
		}
		h := r.buf[off : off+hdrSize]
		f := binary.LittleEndian.Uint32(h[16:])
		if f&flagSkip != 0 {
			head += uint64(len(r.buf)) - off
			continue
		}
		clen := uint64(binary.LittleEndian.Uint32(h[8:]))
		if f&flagVoid == 0 {
			rec = Record{
				TSC:     binary.LittleEndian.Uint64(h),
				OrigLen: int(binary.LittleEndian.Uint32(h[12:])),
				Flags:   f & flagsMask,
				Data:    r.buf[off+hdrSize : off+hdrSize+clen],
			}
			fn(&rec)
			n++
		}
		head += hdrSize + align8(clen)
	}
	r.head.Store(head)
	return n
}
