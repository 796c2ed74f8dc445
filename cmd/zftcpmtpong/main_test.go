package main

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/ealtest"
	"github.com/zocket/zocket/internal/lab"
)

func TestMain(m *testing.M) { ealtest.Main(m, nil) }

// TestPongsKernelClients: two Linux clients (socat) in a namespace each send a stream and read
// back exactly as many bytes, received and sent by zftcpmtpong's two threads.
func TestPongsKernelClients(t *testing.T) {
	k := lab.NewKernel(t, 61)
	t.Setenv("ZF_ATTR", fmt.Sprintf("interface=%s;local_ip=%s/24;n_bufs=4095", k.Device(), k.StackIP))
	var stop atomic.Bool
	var o, e lab.Output
	done := make(chan int, 1)
	go func() { done <- run([]string{"-n", "2", k.StackIP + ":6000"}, &o, &e, &stop) }()
	time.Sleep(300 * time.Millisecond)
	for _, size := range []int{100_000, 3_000} {
		out, err := k.Command("sh", "-c", fmt.Sprintf(
			"head -c %d /dev/urandom | socat -t 5 - TCP:%s:6000 | wc -c", size, k.StackIP)).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, fmt.Sprint(size), strings.TrimSpace(string(out)), "bytes echoed for %d sent", size)
	}
	select {
	case code := <-done:
		require.Zero(t, code, "%s\n%s", o.String(), e.String())
	case <-time.After(20 * time.Second):
		stop.Store(true)
		<-done
		t.Fatalf("zftcpmtpong did not exit after two connections:\n%s\n%s", o.String(), e.String())
	}
	trace := o.String()
	assert.Contains(t, trace, "zftl_listen("+k.StackIP+":6000) = 0")
	assert.Equal(t, 2, strings.Count(trace, "zftl_accept() = conn"), trace)
	assert.Contains(t, trace, "zft_free(conn 0) = 0")
	assert.Contains(t, trace, "zft_free(conn 1) = 0")
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"1.2.3.4:1", "extra"}} {
		var o, e strings.Builder
		assert.Equal(t, 2, run(args, &o, &e, new(atomic.Bool)), "%v", args)
	}
}
