package stack_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// Link emulation tests: a Raw stack answers echo requests the test injects at known instants
// of a manual clock; its replies cross the shim's emulated link, and the test moves the clock
// to each NextLinkRelease, noting when every reply reached the peer.

// departure is one reply that reached the raw peer: its ICMP sequence number and when.
type departure struct {
	seq uint16
	at  int64
	len int
}

// kilobyte is the requests' payload: replies of 1042 bytes, so that a queue of many frames
// fits the raw peer's pool (a reply is its request's buffer).
var kilobyte = strings.Repeat("x", 1000)

// injectAt injects echo requests seq first..first+n-1 at the current time, gap ns apart, and
// returns their injection times and the replies that reached the peer meanwhile.
func injectAt(t *testing.T, r *lab.Raw, first, n int, gap int64) (at []int64, out []departure) {
	t.Helper()
	at = make([]int64, n)
	for i := range n {
		at[i] = r.Clock.T
		r.Inject(t, echoRequest(lab.StackIP, 1, uint16(first+i), kilobyte))
		out = collect(r, out)
		out = runLink(t, r, r.Clock.T+gap, out)
	}
	return at, out
}

// collect performs the stack and takes what it emitted now.
func collect(r *lab.Raw, out []departure) []departure {
	r.S.Perform()
	for _, b := range r.Emitted() {
		out = append(out, departure{seq: binary.BigEndian.Uint16(b[14+20+6:]), at: r.Clock.T, len: len(b)})
	}
	return out
}

// runLink moves the clock to each release of the link up to until, then to until, and returns
// the replies in the order they reached the peer, after those of out.
func runLink(t *testing.T, r *lab.Raw, until int64, out []departure) []departure {
	t.Helper()
	for steps := 0; ; steps++ {
		require.Less(t, steps, 100_000, "the link never emptied")
		next := r.S.NextLinkRelease()
		if next == 0 || next > until {
			break
		}
		r.Clock.T = max(r.Clock.T, next)
		out = collect(r, out)
	}
	if until != math.MaxInt64 {
		r.Clock.T = max(r.Clock.T, until)
	}
	return out
}

// drainLink runs the link until it holds nothing.
func drainLink(t *testing.T, r *lab.Raw, out []departure) []departure {
	t.Helper()
	return runLink(t, r, math.MaxInt64, out)
}

func TestLinkDelay(t *testing.T) {
	tests := []time.Duration{time.Microsecond, 10 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second}
	for _, d := range tests {
		t.Run(d.String(), func(t *testing.T) {
			r := lab.NewRaw(t)
			r.S.SetFaults(stack.Faults{Delay: d})
			at, early := injectAt(t, r, 0, 1, 0)
			sent := at[0]
			assert.Empty(t, early, "not before the delay")
			assert.Equal(t, sent+int64(d), r.S.NextLinkRelease())
			r.Clock.T = sent + int64(d) - 1
			assert.Empty(t, collect(r, nil), "one ns early")
			assert.False(t, r.S.IsQuiescent(), "a frame is on the link")
			r.Clock.T++
			got := collect(r, nil)
			require.Len(t, got, 1, "at the delay")
			assert.Zero(t, r.S.NextLinkRelease())
			assert.True(t, r.S.IsQuiescent())
		})
	}
}

func TestLinkJitterIsBoundedAndKeepsOrder(t *testing.T) {
	const delay, jitter = int64(time.Millisecond), int64(500 * time.Microsecond)
	tests := []struct {
		name string
		gap  int64 // between requests
	}{
		{"spaced beyond the jitter", 2 * jitter},
		{"bunched", 10_000},
		{"same instant", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			r.S.SetFaults(stack.Faults{Seed: 9, Delay: time.Duration(delay), Jitter: time.Duration(jitter)})
			const n = 200
			sent, got := injectAt(t, r, 0, n, tc.gap)
			got = drainLink(t, r, got)
			require.Len(t, got, n)
			lo, hi := jitter, int64(0)
			for i, d := range got {
				require.Equal(t, uint16(i), d.seq, "order kept")
				extra := d.at - sent[i] - delay
				assert.GreaterOrEqual(t, extra, int64(0), "frame %d before the delay", i)
				assert.LessOrEqual(t, extra, jitter, "frame %d beyond delay+jitter", i)
				lo, hi = min(lo, extra), max(hi, extra)
			}
			if tc.gap > jitter {
				// Independent frames: their draws spread over the interval.
				assert.Less(t, lo, jitter/10)
				assert.Greater(t, hi, jitter*9/10)
			}
		})
	}
}

func TestLinkRate(t *testing.T) {
	tests := []struct {
		rate  uint64
		delay time.Duration
	}{
		{1_000_000_000, 0},
		{1_000_000_000, 5 * time.Millisecond},
		{7_000_000, 0}, // frame times are not whole ns: the remainder carries
		{100_000_000, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dbps/%v", tc.rate, tc.delay), func(t *testing.T) {
			r := lab.NewRaw(t)
			r.S.SetFaults(stack.Faults{Rate: tc.rate, Delay: tc.delay, Queue: 1 << 20})
			const n = 100
			at, got := injectAt(t, r, 0, n, 0) // one instant: a queue n deep
			start := at[0]
			got = drainLink(t, r, got)
			require.Len(t, got, n)
			bits := uint64(got[0].len) * 8
			for i, d := range got {
				// Frame i is the (i+1)-th on the link: it has waited for i others.
				want := start + int64(uint64(i+1)*bits*1e9/tc.rate) + int64(tc.delay)
				require.Equal(t, want, d.at, "frame %d", i)
			}
			took := got[n-1].at - start - int64(tc.delay)
			assert.Equal(t, int64(n*bits*1e9/tc.rate), took, "N frames take N×bits/R")

			// Idle again, the link starts the next frame on arrival, not at its old free time.
			r.Clock.Advance(int64(time.Second))
			at, got = injectAt(t, r, n, 1, 0)
			again := at[0]
			got = drainLink(t, r, got)
			require.Len(t, got, 1)
			assert.Equal(t, again+int64(bits*1e9/tc.rate)+int64(tc.delay), got[0].at)
		})
	}
}

func TestLinkQueueTailDrops(t *testing.T) {
	const rate = 1_000_000_000 // 1 bit per ns: a frame of L bytes takes 8L ns
	r := lab.NewRaw(t)
	r.S.SetFaults(stack.Faults{Rate: rate})
	_, got := injectAt(t, r, 0, 1, 0)
	l := drainLink(t, r, got)[0].len
	tests := []struct {
		name  string
		queue int
		delay time.Duration
		n     int // frames offered at one instant
		want  int // frames accepted
	}{
		{"ten frames", 10 * l, 0, 25, 10},
		{"just short of eleven", 11*l - 1, 0, 25, 10},
		{"one frame", l, 0, 5, 1},
		{"below one frame", l - 1, 0, 5, 0},
		{"default: 64 KiB", 0, 0, 300, 65536 / l},
		{"default: one round trip", 0, 500 * time.Microsecond, 300, 1e6 / (8 * l)}, // 2×0.5 ms at 1 bit/ns
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			r.S.SetFaults(stack.Faults{Rate: rate, Queue: tc.queue, Delay: tc.delay})
			_, got := injectAt(t, r, 0, tc.n, 0)
			got = drainLink(t, r, got)
			assert.Len(t, got, tc.want)
			assert.Equal(t, uint64(tc.n-tc.want), r.S.Counters().Faults.TailDropped)
			assert.Zero(t, r.S.Counters().Faults.Dropped, "tail drops are counted apart")

			// Drained, the queue takes frames again.
			_, got = injectAt(t, r, tc.n, 1, 0)
			assert.Len(t, drainLink(t, r, got), min(tc.want, 1))
		})
	}
}

// TestLinkTailDropCounterIsShown: the new counter is one of Counters.Each's, beside the other
// fault counters, whose names stay.
func TestLinkTailDropCounterIsShown(t *testing.T) {
	c := stack.Counters{Faults: stack.FaultCounters{Dropped: 1, Duplicated: 2, Reordered: 3, Corrupted: 4, TailDropped: 5}}
	got := map[string]uint64{}
	c.Each(func(name string, v uint64) { got[name] = v })
	want := map[string]uint64{"fault_dropped": 1, "fault_duplicated": 2, "fault_reordered": 3,
		"fault_corrupted": 4, "fault_tail_dropped": 5}
	for name, v := range want {
		assert.Equal(t, v, got[name], name)
	}
}

func TestLinkSeededReplay(t *testing.T) {
	faults := stack.Faults{Drop: 0.1, Duplicate: 0.1, Reorder: 0.1, Corrupt: 0.1,
		Delay: time.Millisecond, Jitter: 300 * time.Microsecond, Rate: 50_000_000, Queue: 20_000}
	run := func(f stack.Faults) ([]departure, stack.FaultCounters) {
		r := lab.NewRaw(t)
		r.S.SetFaults(f)
		_, got := injectAt(t, r, 0, 300, 7_000)
		return drainLink(t, r, got), r.S.Counters().Faults
	}
	with := func(seed uint64, f stack.Faults) stack.Faults { f.Seed = seed; return f }
	d1, c1 := run(with(42, faults))
	d2, c2 := run(with(42, faults))
	assert.Equal(t, c1, c2, "same seed, same faults")
	assert.Equal(t, d1, d2, "same seed, same frames at the same instants")
	assert.NotZero(t, c1.Dropped)
	assert.NotZero(t, c1.Reordered)
	assert.NotZero(t, c1.TailDropped, "the queue (20 kB) overflows: a frame every 7 µs, each 167 µs at 50 Mbit/s")
	d3, _ := run(with(43, faults))
	assert.NotEqual(t, d1, d3, "another seed, another run")

	// The link draws from a PRNG of its own: the faults' draws, hence what is dropped,
	// duplicated, reordered and corrupted, are those of the same seed without a link.
	plain := faults
	plain.Delay, plain.Jitter, plain.Rate = 0, 0, 0
	_, c4 := run(with(42, plain))
	c1.TailDropped = 0
	assert.Equal(t, c4, c1)
}

// TestLinkAllocatesNothing: a frame through the shim's link (queued, timed, released) costs no
// allocation; only SetFaults does.
func TestLinkAllocatesNothing(t *testing.T) {
	r := lab.NewRaw(t)
	r.S.SetFaults(stack.Faults{Seed: 1, Delay: 20 * time.Microsecond, Jitter: 5 * time.Microsecond,
		Rate: 1_000_000_000, Reorder: 0.1})
	f := r.NewFeeder(t, echoRequest(lab.StackIP, 1, 2, "0123456789abcdef0123456789abcdef"), 4, false)
	replies := 0
	allocs := testing.AllocsPerRun(1000, func() {
		f.Inject()
		r.S.Perform()
		r.Clock.Advance(30_000)
		r.S.Perform()
		r.S.Perform() // the reordered frames held at the end of the last turn
		replies += f.Drain()
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 4*1001, replies, "every frame crossed the link")
}
