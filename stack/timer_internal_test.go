package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

type recorder struct {
	fired []int64
	rearm int64 // re-arm this far ahead when fired (0: no)
	w     *timerWheel
	t     Timer
}

func (r *recorder) Expire(now int64) {
	r.fired = append(r.fired, now)
	if r.rearm > 0 {
		r.w.arm(&r.t, now+r.rearm, r)
	}
}

func TestTimerWheel(t *testing.T) {
	const ms = tickNs
	tests := []struct {
		name  string
		at    int64   // expiry, from time 0
		stop  bool    // stopped before it is due
		steps []int64 // times at which the wheel runs
		want  int     // number of firings
	}{
		{"fires when due", 5 * ms, false, []int64{4 * ms, 5 * ms}, 1},
		{"not early", 5*ms + 1, false, []int64{5 * ms}, 0},
		{"late run fires", 5 * ms, false, []int64{50 * ms}, 1},
		{"beyond one turn of the wheel", 300 * ms, false, []int64{44 * ms, 299 * ms, 300 * ms}, 1},
		{"beyond one turn, not early", 300 * ms, false, []int64{44 * ms, 299 * ms}, 0},
		{"stopped never fires", 5 * ms, true, []int64{10 * ms}, 0},
		{"same tick, later in it", 5*ms + ms/2, false, []int64{5 * ms, 5*ms + ms/2}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w timerWheel
			w.init(tickNs, 0)
			r := &recorder{w: &w}
			w.arm(&r.t, tc.at, r)
			if tc.stop {
				w.stop(&r.t)
				assert.False(t, r.t.Armed())
			}
			for _, now := range tc.steps {
				w.run(now)
			}
			assert.Len(t, r.fired, tc.want)
			for _, f := range r.fired {
				assert.GreaterOrEqual(t, f, tc.at)
			}
		})
	}
}

func TestTimerWheelRearmAndMany(t *testing.T) {
	var w timerWheel
	w.init(tickNs, 0)
	r := &recorder{w: &w, rearm: 3 * tickNs}
	w.arm(&r.t, tickNs, r)
	others := make([]*recorder, 100)
	for i := range others {
		others[i] = &recorder{w: &w}
		w.arm(&others[i].t, int64(i)*7*tickNs/3, others[i])
	}
	for now := int64(0); now <= 1000*tickNs; now += tickNs / 2 {
		w.run(now)
	}
	assert.Len(t, r.fired, 334, "periodic timer every 3 ticks from tick 1 to 1000")
	for i, o := range others {
		assert.Len(t, o.fired, 1, "timer %d", i)
	}
	assert.Equal(t, 1, w.count, "only the periodic one is left")
	assert.Less(t, w.nextCheck(), int64(1<<62))
	w.stop(&r.t)
	assert.Equal(t, int64(1<<63-1), w.nextCheck())
}

// meddler is a handler that, when it fires, stops or re-arms another timer of the wheel: a TCP
// connection whose FIN-WAIT timer fires and closes it stops its keepalive timer, which may be
// the next one of the same slot.
type meddler struct {
	w     *timerWheel
	t     Timer
	other *meddler
	rearm int64 // re-arm other this far ahead of now (0: stop it)
	fired int
}

func (m *meddler) Expire(now int64) {
	m.fired++
	if m.other == nil {
		return
	}
	if m.rearm > 0 {
		m.w.arm(&m.other.t, now+m.rearm, m.other)
	} else {
		m.w.stop(&m.other.t)
	}
}

func TestTimerWheelHandlerChangesNextTimer(t *testing.T) {
	const ms = tickNs
	tests := []struct {
		name       string
		rearm      int64 // how far ahead the first handler re-arms the second (0: stops it)
		wantSecond int   // firings of the second timer by the end
	}{
		{"stops the next timer of the slot", 0, 0},
		{"re-arms it into another slot", 3 * ms, 1},
		{"re-arms it a whole turn later, same slot", wheelSlots * ms, 1},
		{"re-arms it later in the same tick", ms / 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w timerWheel
			w.init(tickNs, 0)
			second := &meddler{w: &w}
			first := &meddler{w: &w, other: second, rearm: tc.rearm}
			third := &meddler{w: &w}
			// Same expiry, same slot, in this order: first, second, third.
			w.arm(&first.t, 5*ms, first)
			w.arm(&second.t, 5*ms, second)
			w.arm(&third.t, 5*ms, third)
			w.run(5 * ms)
			assert.Equal(t, 1, first.fired)
			assert.Equal(t, 0, second.fired, "changed before its turn in the walk")
			assert.Equal(t, 1, third.fired, "the walk goes on past the changed timer")
			for now := int64(5 * ms); now <= (wheelSlots+10)*ms; now += ms {
				w.run(now)
			}
			assert.Equal(t, tc.wantSecond, second.fired)
			assert.Equal(t, 0, w.count)
		})
	}
}
