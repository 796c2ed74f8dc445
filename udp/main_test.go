package udp_test

import (
	"testing"

	"github.com/zocket/zocket/internal/ealtest"
)

// TestMain starts EAL once for the binary. Each stack the lab opens checks at its close that
// every buffer of its pool came back, so a test that leaks an mbuf fails.
func TestMain(m *testing.M) { ealtest.Main(m, nil) }
