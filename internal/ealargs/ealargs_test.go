package ealargs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLogArg(t *testing.T) {
	tests := []struct {
		logLevel int64
		want     string
	}{
		{0x1111111111111, "--log-level=*:error"}, // log_level's default
		{0, "--log-level=*:error"},
		{0x1110, "--log-level=*:error"}, // other components do not raise DPDK's log
		{0x3, "--log-level=*:warning"},
		{0x7, "--log-level=*:info"},
		{0xf, "--log-level=*:debug"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, LogArg(tc.logLevel), "log_level %#x", tc.logLevel)
	}
}

func TestForKeepsDPDKQuiet(t *testing.T) {
	t.Setenv("ZOCKET_EAL_ARGS", "")
	args, prefix := For("zkq", 0)
	Cleanup(prefix)
	assert.Contains(t, args, "--log-level=*:error", "DPDK's log below warnings by default")
}
