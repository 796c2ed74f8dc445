package zfapp

import (
	"encoding/binary"
	"runtime"

	"github.com/zocket/zocket/internal/rtt"
	"github.com/zocket/zocket/stack"
)

// The ping-pong tools' message header (messages of MsgHeader bytes or more): a type byte and a
// sequence number (u64, little-endian). Go's sysmon, once a goroutine has sat in cgo for 10 ms,
// wakes every ~83 µs and costs a polling core ~22 µs each time (cmd/zfpmd's doc): both sides
// therefore yield to the scheduler at an agreed, unmeasured moment — after a housekeeping round
// trip — and a sync round trip follows before measuring goes on.
const (
	MsgPing   = 0 // measured
	MsgHK     = 1 // both sides yield after it
	MsgSync   = 2 // unmeasured round trip after a housekeeping yield
	MsgStop   = 3 // the ping is done
	MsgHeader = 9 // type + sequence
)

// PingSchedule is the ping side of that scheme, shared by the UDP and TCP ping-pongs: it
// stamps each message, records measured round trips after the warm-up and picks the next
// message's type.
type PingSchedule struct {
	Rec    *rtt.Recorder
	Warm   int64        // unmeasured round trips first
	Every  int64        // ns between housekeeping round trips; 0: never
	Framed bool         // messages carry the header (size ≥ MsgHeader)
	Start  func()       // called once, when the warm-up is over
	Clock  func() int64 // the time after a yield (ns, the clock of Answered's now)
	Done   int64        // round trips measured or warming up (housekeeping and sync ones are not counted)
	typ    byte
	seq    uint64
	lastHK int64
}

// Stamp writes the next message's header into buf (when Framed).
func (p *PingSchedule) Stamp(buf []byte) {
	p.seq++
	if p.Framed {
		buf[0] = p.typ
		binary.LittleEndian.PutUint64(buf[1:], p.seq)
	}
}

// Seq is the sequence number of the message last stamped.
func (p *PingSchedule) Seq() uint64 { return p.seq }

// Begin starts the housekeeping clock at the first send.
func (p *PingSchedule) Begin(now int64) { p.lastHK = now }

// Answered takes the echo, received at now, of the message sent at sent, records it when it
// was a measured one, and yields when it was a housekeeping one.
func (p *PingSchedule) Answered(now, sent int64) {
	switch p.typ {
	case MsgPing:
		if p.Done >= p.Warm {
			p.Rec.Record(now - sent)
		}
		p.Done++
		if p.Done == p.Warm && p.Start != nil {
			p.Start()
		}
		if p.Framed && p.Every > 0 && now-p.lastHK > p.Every {
			p.typ = MsgHK
		}
	case MsgHK:
		runtime.Gosched()
		p.lastHK = p.Clock()
		p.typ = MsgSync
	case MsgSync:
		p.typ = MsgPing
	}
}

// Stop makes the next message a stop message.
func (p *PingSchedule) Stop() { p.typ = MsgStop }

// Poll runs the reactor (or, with a muxer, waits on it into evs) until something
// user-visible happens, and gives up with false after a few thousand empty turns so that the
// caller can look at its clocks and flags.
func Poll(st *stack.Stack, mux *stack.Muxer, evs []stack.Event) bool {
	for i := 0; i < 4096; i++ {
		if mux != nil {
			if mux.Wait(evs, 0) > 0 {
				return true
			}
		} else if st.Perform() > 0 {
			return true
		}
	}
	return false
}
