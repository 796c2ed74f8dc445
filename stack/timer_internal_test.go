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
