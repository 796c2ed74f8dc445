package zfapp

import (
	"flag"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/stack"
)

// TestParseFaults: -faults takes the shim's probabilities and seed by name, in any order; a
// bad name, value or probability is EINVAL and sets nothing.
func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want stack.Faults
		err  bool
	}{
		{"", stack.Faults{}, false},
		{"drop=0.001,seed=1", stack.Faults{Drop: 0.001, Seed: 1}, false},
		{"seed=7, dup=0.5,reorder=0.25,corrupt=1", stack.Faults{Seed: 7, Duplicate: 0.5, Reorder: 0.25, Corrupt: 1}, false},
		{"drop=1.5", stack.Faults{}, true},
		{"drop=-0.1", stack.Faults{}, true},
		{"drop=lots", stack.Faults{}, true},
		{"loss=0.1", stack.Faults{}, true},
		{"drop", stack.Faults{}, true},
		{"seed=-1", stack.Faults{}, true},
	} {
		got, err := ParseFaults(tc.in)
		if tc.err {
			assert.ErrorIs(t, err, syscall.EINVAL, "%q", tc.in)
		} else {
			assert.NoError(t, err, "%q", tc.in)
		}
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

// TestFaultsFlag: the flag fills the Faults it returns; unset, it stays the zero value that
// ApplyFaults leaves alone.
func TestFaultsFlag(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := FaultsFlag(fs)
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, stack.Faults{}, *f)
	require.NoError(t, fs.Parse([]string{"-faults", "drop=0.01,seed=3"}))
	assert.Equal(t, stack.Faults{Drop: 0.01, Seed: 3}, *f)
	assert.Equal(t, "drop=0.01,dup=0,reorder=0,corrupt=0,seed=3", fs.Lookup("faults").Value.String())
	assert.Error(t, fs.Parse([]string{"-faults", "drop=2"}))
}
