package stack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
)

func TestHasPendingWork(t *testing.T) {
	r := lab.NewRaw(t)
	other := func() bool { // asked from another goroutine, as an application thread would
		ch := make(chan bool)
		go func() { ch <- r.S.HasPendingWork() }()
		return <-ch
	}
	if _, err := r.S.Port().RxQueueCount(0); err != nil {
		t.Logf("%s cannot count its queue (%v): answers are conservative", r.S.Port().Name(), err)
		assert.True(t, other())
		return
	}
	assert.False(t, other(), "idle stack")
	f := r.NewFeeder(t, echoRequest(lab.StackIP, 1, 1, "x"), 1, false)
	f.Inject()
	assert.True(t, other(), "a frame waits in the receive queue")
	r.S.Perform()
	f.Drain()
	assert.False(t, other(), "handled")

	// A timer: an ARP resolution in progress retries after arp_reply_timeout.
	_, ok := r.S.Resolve([4]byte{198, 18, 0, 123})
	require.False(t, ok)
	r.S.Perform()
	f.Drain()
	assert.False(t, other(), "the retry is not due yet")
	r.Clock.Advance(int64(2 * time.Millisecond))
	assert.True(t, other(), "the retry is due")
}
