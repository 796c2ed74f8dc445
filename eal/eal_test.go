package eal_test

import (
	"errors"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/eal"
	"github.com/zocket/zocket/internal/ealtest"
)

func TestMain(m *testing.M) {
	before, _ := eal.ThreadCPUs()
	ealtest.Main(m, func() string {
		// Init restored the main thread's CPU mask (EAL pins it to the main lcore).
		after, _ := eal.ThreadCPUs()
		if len(after) != len(before) {
			return "main thread's CPU mask not restored after rte_eal_init"
		}
		return ""
	})
}

func TestSecondInitIsRefused(t *testing.T) {
	require.True(t, eal.Initialized())
	err := eal.Init([]string{"--no-pci", "--in-memory"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EALREADY), "got %v", err)
	assert.Contains(t, err.Error(), "rte_eal_init")
}

func TestLcoreInfo(t *testing.T) {
	assert.Equal(t, 1, eal.LcoreCount(), "the test lab runs EAL with one lcore (-l 0)")
	assert.Equal(t, uint32(0), eal.MainLcore())
	assert.GreaterOrEqual(t, eal.SocketID(), 0)
	// A test goroutine runs on some other OS thread, which EAL does not know...
	done := make(chan uint32)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		before := eal.LcoreID()
		// ...until it registers.
		require.NoError(t, eal.RegisterThread())
		id := eal.LcoreID()
		eal.UnregisterThread()
		assert.Equal(t, eal.LcoreAny, before)
		done <- id
	}()
	assert.NotEqual(t, eal.LcoreAny, <-done)
}

func TestPinThread(t *testing.T) {
	done := make(chan []int)
	go func() {
		defer runtime.UnlockOSThread()
		require.NoError(t, eal.PinThread(runtime.NumCPU()-1))
		cpus, err := eal.ThreadCPUs()
		require.NoError(t, err)
		done <- cpus
	}()
	assert.Equal(t, []int{runtime.NumCPU() - 1}, <-done)
	err := eal.PinThread(4096)
	assert.True(t, errors.Is(err, syscall.EINVAL), "got %v", err)
}
