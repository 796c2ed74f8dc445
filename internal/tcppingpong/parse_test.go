package tcppingpong

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/stack"
)

// TestParseWaits: a pong waits for its connection forever unless -wait says otherwise, as
// TCPDirect's do; a ping gives up after zfapp.PingWait; -linger defaults to as long as TCP.
func TestParseWaits(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		wait, linger time.Duration
	}{
		{[]string{"pong", "198.18.0.1:1"}, 0, 0},
		{[]string{"pong", "--sockperf", "198.18.0.1:1"}, 0, 0},
		{[]string{"-wait", "2s", "-linger", "1s", "pong", "198.18.0.1:1"}, 2 * time.Second, time.Second},
		{[]string{"ping", "198.18.0.1:1"}, 30 * time.Second, 0},
		{[]string{"-wait", "5s", "ping", "198.18.0.1:1"}, 5 * time.Second, 0},
	} {
		c, err := parse(Tool{Name: "zftcppingpong"}, tc.args, io.Discard)
		require.NoError(t, err, "%q", tc.args)
		assert.Equal(t, tc.wait, c.wait, "-wait of %q", tc.args)
		assert.Equal(t, tc.linger, c.linger, "-linger of %q", tc.args)
	}
}

// TestParseFaults: -faults reaches the run's configuration; without it no shim is asked for,
// and a bad list is a usage error.
func TestParseFaults(t *testing.T) {
	c, err := parse(Tool{Name: "zftcppingpong"}, []string{"ping", "198.18.0.1:1"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, stack.Faults{}, *c.faults)
	c, err = parse(Tool{Name: "zftcppingpong"}, []string{"-faults", "drop=0.001,seed=1", "pong", "198.18.0.1:1"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, stack.Faults{Drop: 0.001, Seed: 1}, *c.faults)
	_, err = parse(Tool{Name: "zftcppingpong"}, []string{"-faults", "drop=0.5,typo=1", "pong", "198.18.0.1:1"}, io.Discard)
	assert.Error(t, err)
}
