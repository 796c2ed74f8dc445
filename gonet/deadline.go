package gonet

import (
	"sync"
	"sync/atomic"
	"time"
)

// deadline is one direction's deadline (read or write) of a zocket. Setting it wakes the
// direction's blocked caller, which looks again at expired; a timer made once (at the first
// future deadline) and reset afterwards marks it expired and wakes the caller when the time
// comes, so that setting deadlines allocates only the first time.
type deadline struct {
	mu      sync.Mutex
	at      time.Time
	timer   *time.Timer
	expired atomic.Bool
	wakeCh  chan struct{} // the blocked caller's wake-up channel
}

// init ties the deadline to the wake-up channel of its direction.
func (d *deadline) init(ch chan struct{}) { d.wakeCh = ch }

// set moves the deadline to t (the zero time: none) and wakes the blocked caller.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	d.at = t
	if d.timer != nil {
		d.timer.Stop()
	}
	switch until := time.Until(t); {
	case t.IsZero():
		d.expired.Store(false)
	case until <= 0:
		d.expired.Store(true)
	default:
		d.expired.Store(false)
		if d.timer == nil {
			d.timer = time.AfterFunc(until, d.fire)
		} else {
			d.timer.Reset(until)
		}
	}
	d.mu.Unlock()
	wake(d.wakeCh)
}

// drainWake takes a stale wake-up off the direction's channel before its caller blocks on it
// (under the Stack's lock, after a call found nothing to do) and reports whether the caller may
// block: not once the deadline has expired. A deadline is set without the Stack's lock, so the
// wake-up drained may be the one set posted after storing expired; expired is then seen here,
// and the caller does not sleep through its deadline.
func (d *deadline) drainWake() (block bool) {
	if testHookDrainWake != nil {
		testHookDrainWake()
	}
	drain(d.wakeCh)
	return !d.expired.Load()
}

// testHookDrainWake, when set (tests), runs before drainWake's drain: where a deadline's
// wake-up used to be lost.
var testHookDrainWake func()

// fire is the timer's function: the deadline passed, unless it moved meanwhile.
func (d *deadline) fire() {
	d.mu.Lock()
	if !d.at.IsZero() && !time.Now().Before(d.at) {
		d.expired.Store(true)
	}
	d.mu.Unlock()
	wake(d.wakeCh)
}

// stop stops the timer (the zocket is closed).
func (d *deadline) stop() {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.mu.Unlock()
}

// deadlines are a conn's read and write deadlines, with net.Conn's setters (TCPConn and
// PacketConn embed them).
type deadlines struct {
	rd, wd deadline
}

// init ties the read and write deadlines to their wake-up channels.
func (d *deadlines) init(rd, wr chan struct{}) {
	d.rd.init(rd)
	d.wd.init(wr)
}

// stop stops both deadlines' timers.
func (d *deadlines) stop() {
	d.rd.stop()
	d.wd.stop()
}

// SetDeadline sets both deadlines (net.Conn); a blocked call sees it at once. It never fails.
func (d *deadlines) SetDeadline(t time.Time) error {
	d.rd.set(t)
	d.wd.set(t)
	return nil
}

// SetReadDeadline sets the read deadline; a blocked read sees it at once. It never fails.
func (d *deadlines) SetReadDeadline(t time.Time) error { d.rd.set(t); return nil }

// SetWriteDeadline sets the write deadline; a blocked write sees it at once. It never fails.
func (d *deadlines) SetWriteDeadline(t time.Time) error { d.wd.set(t); return nil }
