package stack_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/eal"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// TestNewPinsAndCloseRestores makes a stack with and without the cpu attribute on a fresh
// goroutine (locked by the test too, so that it can look at the same thread after Close).
func TestNewPinsAndCloseRestores(t *testing.T) {
	last := runtime.NumCPU() - 1
	tests := []struct {
		name string
		cpu  int
		want []int // the thread's CPUs while the stack is open (nil: unchanged)
	}{
		{"cpu set", last, []int{last}},
		{"no cpu", -1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp, err := dpdk.NewRingPair(lab.Unique("pin"), 256)
			require.NoError(t, err)
			defer rp.Close()
			type result struct{ before, open, after []int }
			done := make(chan result)
			go func() {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var r result
				defer func() { done <- r }()
				r.before, _ = eal.ThreadCPUs()
				a := lab.Attr(t, "local_ip", "198.18.0.1/24", "interface", rp.A.Name(), "cpu", strconv.Itoa(tc.cpu))
				s, err := stack.New(a)
				if !assert.NoError(t, err) {
					return
				}
				r.open, _ = eal.ThreadCPUs()
				assert.NoError(t, s.Close())
				r.after, _ = eal.ThreadCPUs()
			}()
			r := <-done
			want := tc.want
			if want == nil {
				want = r.before
			}
			assert.Equal(t, want, r.open, "the stack's thread while it is open")
			assert.Equal(t, r.before, r.after, "Close restores the thread's CPU mask")
		})
	}
}
