package gonet_test

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/gonet"
)

// TestDeadlineWhileParking is net/http's abortPendingRead: a past deadline set by another
// goroutine just as a blocking call (Read, Write, Accept, ReadFrom) parks must end the call
// with os.ErrDeadlineExceeded. A deadline is set without the stack's lock; its wake-up landed
// between the call's look at the deadline and its drain of stale wake-ups, was drained, and
// the call slept on (an HTTP/1.0 response's FIN held back until the client gave up:
// ApacheBench lost a request in a few thousand). The hook sets the deadline in that window.
func TestDeadlineWhileParking(t *testing.T) {
	a, b := ringPair(t)
	l, err := b.Listen("tcp", ":7460")
	require.NoError(t, err)
	defer l.Close()
	c1, c2, err := connPair(t, a, b, l)
	require.NoError(t, err)
	defer c2.Close()
	pc, err := a.ListenPacket("udp", ":7461")
	require.NoError(t, err)
	defer pc.Close()
	big := make([]byte, 64<<20) // more than the send queue holds: Write parks
	for _, tc := range []struct {
		name string
		set  func(time.Time) error
		call func() error
	}{
		{"Read", c1.SetReadDeadline, func() error { _, err := c1.Read(make([]byte, 1)); return err }},
		{"Write", c1.SetWriteDeadline, func() error { _, err := c1.Write(big); return err }},
		{"Accept", l.(interface{ SetDeadline(time.Time) error }).SetDeadline, func() error { _, err := l.Accept(); return err }},
		{"ReadFrom", pc.SetReadDeadline, func() error { _, _, err := pc.ReadFrom(make([]byte, 64)); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gonet.SetTestHookDrainWake(func() { tc.set(time.Unix(1, 0)) })
			defer gonet.SetTestHookDrainWake(nil)
			done := make(chan error, 1)
			go func() { done <- tc.call() }()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
				var ne net.Error
				require.ErrorAs(t, err, &ne)
				assert.True(t, ne.Timeout())
			case <-time.After(5 * time.Second):
				gonet.SetTestHookDrainWake(nil)
				tc.set(time.Unix(1, 0)) // let it go
				t.Fatal("the call slept through its deadline")
			}
			require.NoError(t, tc.set(time.Time{}))
		})
	}
	c1.Close()
}
