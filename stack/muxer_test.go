package stack_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// toy is a stand-in zocket: readiness is whatever the test says.
type toy struct{ w stack.Waitable }

func newToy(s *stack.Stack) *toy { t := &toy{}; t.w.Init(s); return t }

func TestMuxerMembershipErrors(t *testing.T) {
	p := lab.NewPair(t)
	m := stack.NewMuxer(p.A)
	other := stack.NewMuxer(p.A)
	a, b := newToy(p.A), newToy(p.B)
	ev := stack.Event{Events: stack.EPOLLIN, Data: 1}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"add", m.Add(&a.w, ev), nil},
		{"add again", m.Add(&a.w, ev), syscall.EALREADY},
		{"add to another set", other.Add(&a.w, ev), syscall.EBUSY},
		{"add from another stack", m.Add(&b.w, ev), syscall.EXDEV},
		{"add uninitialised", m.Add(&stack.Waitable{}, ev), syscall.EINVAL},
		{"mod a stranger", m.Mod(&b.w, ev), syscall.EINVAL},
		{"del a stranger", m.Del(&b.w), syscall.EINVAL},
		{"del", m.Del(&a.w), nil},
		{"del twice", m.Del(&a.w), syscall.EINVAL},
		{"add to the other set now", other.Add(&a.w, ev), nil},
	}
	for _, tc := range tests {
		if tc.want == nil {
			assert.NoError(t, tc.err, tc.name)
		} else {
			assert.True(t, errors.Is(tc.err, tc.want), "%s: got %v want %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestMuxerEdgeTriggered(t *testing.T) {
	p := lab.NewPair(t)
	m := stack.NewMuxer(p.A)
	x, y := newToy(p.A), newToy(p.A)
	require.NoError(t, m.Add(&x.w, stack.Event{Events: stack.EPOLLIN | stack.EPOLLOUT, Data: 10}))
	require.NoError(t, m.Add(&y.w, stack.Event{Events: stack.EPOLLIN, Data: 20}))
	evs := make([]stack.Event, 4)

	assert.Zero(t, m.Wait(evs, 0), "nothing ready")
	x.w.Ready(stack.EPOLLOUT)
	require.Equal(t, 1, m.Wait(evs, 0))
	assert.Equal(t, stack.Event{Events: stack.EPOLLOUT, Data: 10}, evs[0])
	assert.Zero(t, m.Wait(evs, 0), "still writable, but no new edge")
	x.w.Ready(stack.EPOLLOUT)
	assert.Zero(t, m.Wait(evs, 0), "ready again while ready is not an edge")

	x.w.Ready(stack.EPOLLIN)
	y.w.Ready(stack.EPOLLIN)
	require.Equal(t, 2, m.Wait(evs, 0))
	assert.ElementsMatch(t, []stack.Event{{Events: stack.EPOLLIN, Data: 10}, {Events: stack.EPOLLIN, Data: 20}}, evs[:2])
	y.w.Ready(stack.EPOLLIN) // more data while still readable: always an edge
	require.Equal(t, 1, m.Wait(evs, 0))
	assert.Equal(t, uint64(20), evs[0].Data)

	// HUP and ERR are reported only when asked for.
	y.w.Ready(stack.EPOLLHUP | stack.EPOLLERR)
	assert.Zero(t, m.Wait(evs, 0))
	require.NoError(t, m.Mod(&y.w, stack.Event{Events: stack.EPOLLIN | stack.EPOLLHUP, Data: 21}))
	require.Equal(t, 1, m.Wait(evs, 0), "Mod re-arms what is ready")
	assert.Equal(t, stack.Event{Events: stack.EPOLLIN | stack.EPOLLHUP, Data: 21}, evs[0])

	// Level-triggered use: Mod(w, w.Event()) after each report.
	for i := 0; i < 3; i++ {
		require.NoError(t, m.Mod(&x.w, x.w.Event()))
		require.Equal(t, 1, m.Wait(evs, 0))
		assert.Equal(t, stack.EPOLLIN|stack.EPOLLOUT, evs[0].Events)
	}
	// Not ready any more: nothing reported even after re-arming.
	x.w.NotReady(stack.EPOLLIN | stack.EPOLLOUT)
	require.NoError(t, m.Mod(&x.w, x.w.Event()))
	assert.Zero(t, m.Wait(evs, 0))

	// maxevents bounds one call; the rest come in the next.
	x.w.Ready(stack.EPOLLIN)
	y.w.Ready(stack.EPOLLIN)
	assert.Equal(t, 1, m.Wait(evs[:1], 0))
	assert.Equal(t, 1, m.Wait(evs[:1], 0))
	assert.Zero(t, m.Wait(evs, 0))

	// A removed member is not reported; a closed set reports nothing.
	x.w.Ready(stack.EPOLLIN)
	require.NoError(t, m.Del(&x.w))
	assert.Zero(t, m.Wait(evs, 0))
	y.w.Ready(stack.EPOLLIN)
	m.Close()
	assert.Zero(t, m.Wait(evs, 0))
	assert.NoError(t, m.Del(&y.w), "members stay until removed")
}

func TestMuxerWaitTimeout(t *testing.T) {
	r := lab.NewRaw(t)
	r.S.SetClock(nil)
	m := stack.NewMuxer(r.S)
	x := newToy(r.S)
	require.NoError(t, m.Add(&x.w, stack.Event{Events: stack.EPOLLIN}))
	start := time.Now()
	assert.Zero(t, m.Wait(make([]stack.Event, 1), 2*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Millisecond, "spins until the deadline")
}

func TestMuxerWaitAllocatesNothing(t *testing.T) {
	p := lab.NewPair(t)
	m := stack.NewMuxer(p.A)
	x := newToy(p.A)
	require.NoError(t, m.Add(&x.w, stack.Event{Events: stack.EPOLLIN}))
	evs := make([]stack.Event, 8)
	allocs := testing.AllocsPerRun(1000, func() {
		x.w.Ready(stack.EPOLLIN)
		if m.Wait(evs, 0) != 1 {
			panic("no event")
		}
	})
	assert.Zero(t, allocs)
}

func TestStackWaitableQuiescence(t *testing.T) {
	p := lab.NewPair(t)
	m := stack.NewMuxer(p.A)
	require.NoError(t, m.Add(p.A.Waitable(), stack.Event{Events: stack.EPOLLSTACKHUP, Data: 99}))
	evs := make([]stack.Event, 2)
	require.Equal(t, 1, m.Wait(evs, 0), "an idle stack is quiescent")
	assert.Equal(t, stack.Event{Events: stack.EPOLLSTACKHUP, Data: 99}, evs[0])
	assert.True(t, p.A.IsQuiescent())

	// A frame held for ARP resolution is something the stack will still send.
	m1 := p.A.Pool().Alloc()
	require.NotNil(t, m1)
	m1.Append(60)
	_, ok := p.A.Resolve([4]byte{198, 18, 0, 2})
	require.False(t, ok)
	p.A.Output(m1, [4]byte{198, 18, 0, 2})
	assert.False(t, p.A.IsQuiescent())
	p.Run(t, 10, time.Microsecond, p.A.IsQuiescent)
	assert.Equal(t, 1, m.Wait(evs, 0), "quiescent again: a new edge")
}

func TestShutdownClosesAndFrees(t *testing.T) {
	rp := lab.NewPair(t)
	_ = rp
	r := lab.NewRaw(t)
	c := &closer{}
	// Shutdown frees the stack; the lab's own Close afterwards is a no-op.
	require.NoError(t, stack.Shutdown(r.S, time.Second, c, nil))
	assert.True(t, c.closed)
}

type closer struct{ closed bool }

func (c *closer) Close() error { c.closed = true; return nil }
