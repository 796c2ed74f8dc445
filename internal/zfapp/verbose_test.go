package zfapp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/attr"
	"github.com/zocket/zocket/internal/ealargs"
)

// TestVerboseRaisesDPDKLog: a tool's -v lets DPDK's warnings through; without it only errors.
func TestVerboseRaisesDPDKLog(t *testing.T) {
	a, err := Attr("")
	require.NoError(t, err)
	assert.Equal(t, "--log-level=*:error", ealargs.LogArg(a.IntOf(attr.LogLevel)), "a quiet start")
	Verbose(a)
	assert.Equal(t, "--log-level=*:warning", ealargs.LogArg(a.IntOf(attr.LogLevel)))
	require.NoError(t, a.SetInt("log_level", 0x4))
	Verbose(a)
	assert.Equal(t, "--log-level=*:info", ealargs.LogArg(a.IntOf(attr.LogLevel)), "-v never lowers a level set")
}
