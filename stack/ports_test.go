package stack_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/stack"
)

func TestPortSet(t *testing.T) {
	p := stack.NewPortSet(1)
	require.NoError(t, p.Reserve(80))
	assert.True(t, errors.Is(p.Reserve(80), syscall.EADDRINUSE))
	assert.True(t, errors.Is(p.Reserve(0), syscall.EINVAL))
	p.Release(80)
	require.NoError(t, p.Reserve(80))

	seen := map[uint16]bool{}
	var first []uint16
	for i := 0; i < stack.EphemeralLast-stack.EphemeralFirst+1; i++ {
		port, err := p.Ephemeral()
		require.NoError(t, err)
		require.False(t, seen[port], "port %d handed out twice", port)
		require.True(t, port >= stack.EphemeralFirst && port <= stack.EphemeralLast)
		seen[port] = true
		if i < 3 {
			first = append(first, port)
		}
	}
	_, err := p.Ephemeral()
	assert.True(t, errors.Is(err, syscall.EADDRNOTAVAIL), "range exhausted")
	assert.False(t, first[1] == first[0]+1 && first[2] == first[1]+1, "ports are not sequential: %v", first)
}
