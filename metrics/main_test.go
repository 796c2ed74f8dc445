package metrics_test

import (
	"testing"

	"github.com/zocket/zocket/internal/ealtest"
)

// TestMain starts EAL once for the binary.
func TestMain(m *testing.M) { ealtest.Main(m, nil) }
