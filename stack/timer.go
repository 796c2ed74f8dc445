package stack

// Clock gives the stack its time in nanoseconds. The reactor reads it once per turn; tests
// install a ManualClock to drive timers deterministically (smoltcp passes time the same way).
type Clock interface {
	Now() int64
}

// ManualClock is a Clock that moves only when told to.
type ManualClock struct{ T int64 }

// Now returns the clock's time.
func (c *ManualClock) Now() int64 { return c.T }

// Advance moves the clock forward by d nanoseconds.
func (c *ManualClock) Advance(d int64) { c.T += d }

// TimerHandler is called when a timer expires, from inside Perform.
type TimerHandler interface {
	// Expire runs the timer's action at time now. It may re-arm the timer.
	Expire(now int64)
}

// Timer is an intrusive timer owned by a protocol object (an ARP entry, a TCP connection).
// The zero value is stopped. Arm it with Stack.ArmTimer.
type Timer struct {
	when       int64
	handler    TimerHandler
	next, prev *Timer
	armed      bool
}

// Armed reports whether the timer is pending.
func (t *Timer) Armed() bool { return t.armed }

// When is the pending timer's expiry time.
func (t *Timer) When() int64 { return t.when }

// wheelSlots is the number of slots of the timer wheel, each one tick wide.
const wheelSlots = 256

// timerWheel is a hashed timing wheel (Varghese & Lauck): a timer lives in the slot of its
// expiry tick modulo wheelSlots; timers further out than one turn of the wheel stay in their
// slot until their turn comes. Arming and stopping are O(1); advancing costs one slot per
// elapsed tick, and nothing while no timer is armed.
//
// Handlers run in the middle of a slot's walk and may stop or re-arm any timer, including the
// one the walk visits next: the walk keeps its place in cursor, which stop moves past a timer
// leaving the list, so the walk never follows a stopped timer's links.
type timerWheel struct {
	tick    int64 // tick length in ns
	current int64 // the next tick to process
	slots   [wheelSlots]Timer
	count   int
	cursor  *Timer // the walk's next timer during run, nil otherwise
}

func (w *timerWheel) init(tickNs int64, now int64) {
	w.tick = tickNs
	w.current = now / tickNs
	for i := range w.slots {
		s := &w.slots[i]
		s.next, s.prev = s, s
	}
}

func (w *timerWheel) arm(t *Timer, when int64, h TimerHandler) {
	if t.armed {
		w.stop(t)
	}
	t.when, t.handler, t.armed = when, h, true
	tk := when / w.tick
	if tk < w.current {
		tk = w.current
	}
	head := &w.slots[tk%wheelSlots]
	t.prev, t.next = head.prev, head
	head.prev.next = t
	head.prev = t
	w.count++
}

func (w *timerWheel) stop(t *Timer) {
	if !t.armed {
		return
	}
	if t == w.cursor {
		w.cursor = t.next
	}
	t.prev.next = t.next
	t.next.prev = t.prev
	t.next, t.prev, t.armed = nil, nil, false
	w.count--
}

// run fires every timer due at now and returns how many fired. Handlers must re-arm strictly
// in the future (Stack.ArmTimer guarantees it), so a slot's walk always ends.
func (w *timerWheel) run(now int64) int {
	last := now / w.tick
	fired := 0
	for w.count > 0 {
		head := &w.slots[w.current%wheelSlots]
		for t := head.next; t != head; t = w.cursor {
			w.cursor = t.next
			if t.when <= now {
				w.stop(t)
				t.handler.Expire(now)
				fired++
			}
		}
		w.cursor = nil
		if w.current >= last {
			break
		}
		w.current++
	}
	if w.count == 0 {
		w.current = last
	}
	return fired
}

// nextCheck is the earliest time at which a timer may be due, for HasPendingWork: the start of
// the tick after the current one while any timer is armed (once per tick it may be early).
func (w *timerWheel) nextCheck() int64 {
	if w.count == 0 {
		return 1<<63 - 1
	}
	return (w.current + 1) * w.tick
}
