package tcppingpong

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
