package configs_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/configs"
	"github.com/zocket/zocket/internal/attr"
)

func TestEmbeddedConfigsLoad(t *testing.T) {
	names := configs.Names()
	assert.Subset(t, names, []string{"default", "memif-server", "memif-client"})
	for _, n := range names {
		a := attr.NewDefault()
		require.NoError(t, configs.Apply(a, n), n)
	}
	a := attr.NewDefault()
	require.NoError(t, configs.Apply(a, "memif-client"))
	assert.Equal(t, "198.18.0.2/24", a.StrOf(attr.LocalIP))
	assert.Contains(t, a.StrOf(attr.Interface), "role=client")
}

func TestUnknownConfig(t *testing.T) {
	err := configs.Apply(attr.NewDefault(), "nope")
	assert.True(t, errors.Is(err, syscall.ENOENT))
	assert.Contains(t, err.Error(), "memif-server")
}
