package stack_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ctl"
	"github.com/zocket/zocket/internal/lab"
)

// TestControlInfoWhileStarting: clients ask every socket of the directory for the stack's
// identity while stacks are being opened; run under -race, the identity must be complete
// (its socket path included) before the socket serves.
func TestControlInfoWhileStarting(t *testing.T) {
	dir := t.TempDir()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			eps, _ := ctl.List(dir, false)
			for _, ep := range eps {
				c, err := ctl.Dial(ep.Path, time.Second)
				if err != nil {
					continue
				}
				if in, err := c.Info(); err == nil {
					served++
					assert.Equal(t, ep.Path, in.Socket, "the identity names its socket")
				}
				c.Close()
			}
		}
	}()
	for range 4 {
		lab.NewRaw(t, "control_socket_dir", dir)
	}
	eps, err := ctl.List(dir, false)
	require.NoError(t, err)
	assert.Len(t, eps, 4)
	close(stop)
	wg.Wait()
	assert.NotZero(t, served)
}
