// Package ealtest starts DPDK's EAL once per test binary, the first step of the test lab
// (DESIGN.md §6).
//
// The arguments come from internal/ealargs, as for the tools: `--in-memory --no-pci` on the
// hugepages that scripts/setup reserves (no files left behind), or, when no hugepages are free,
// `--no-huge --file-prefix=UNIQUE` (the two modes do not combine), whose files are removed after
// the run. ZOCKET_EAL_ARGS replaces the choice entirely.
package ealtest

import (
	"fmt"
	"os"
	"testing"

	"github.com/zocket/zocket/eal"
	"github.com/zocket/zocket/internal/ealargs"
)

// Main starts EAL on lcore 0, runs the tests, cleans EAL up and exits with the
// tests' code. Call it from TestMain, on the main goroutine. check, when not nil, runs after the
// tests and may fail the binary (for leak checks); it returns a description of the failure or
// "".
func Main(m *testing.M, check func() string) {
	args, prefix := ealargs.For("zkt", 0)
	if err := eal.Init(args); err != nil {
		fmt.Fprintf(os.Stderr, "ealtest: EAL init with %q: %v\n", args, err)
		os.Exit(2)
	}
	code := m.Run()
	if check != nil && code == 0 {
		if msg := check(); msg != "" {
			fmt.Fprintln(os.Stderr, "ealtest: after the tests:", msg)
			code = 1
		}
	}
	_ = eal.Cleanup()
	ealargs.Cleanup(prefix)
	os.Exit(code)
}
