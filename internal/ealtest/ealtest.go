// Package ealtest starts DPDK's EAL once per test binary, the first step of the test lab
// (DESIGN.md §6).
//
// Main prefers `--in-memory --no-pci` on the hugepages that scripts/setup reserves (no files
// left behind). When no hugepages are free it falls back to `--no-huge --file-prefix=UNIQUE`
// (the two modes do not combine) and removes the prefix's files after the run. ZOCKET_EAL_ARGS
// replaces the choice entirely.
package ealtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zocket/zocket/eal"
)

// Args returns the EAL arguments this machine supports for an in-process test run, and the file
// prefix to clean afterwards ("" when none).
func Args() (args []string, prefix string) {
	if env := os.Getenv("ZOCKET_EAL_ARGS"); env != "" {
		return strings.Fields(env), ""
	}
	base := []string{"--no-pci", "--log-level=*:error", "-l", "0", "--no-telemetry"}
	if freeHugepages() >= 64 {
		return append(base, "--in-memory", "-m", "128"), ""
	}
	prefix = fmt.Sprintf("zkt%d", os.Getpid())
	return append(base, "--no-huge", "-m", "256", "--file-prefix="+prefix), prefix
}

func freeHugepages() int {
	b, err := os.ReadFile("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(string(b), &n)
	return n
}

// Main starts EAL, runs the tests, cleans EAL up and exits with the tests' code. Call it from
// TestMain, on the main goroutine. check, when not nil, runs after the tests and may fail the
// binary (for leak checks); it returns a description of the failure or "".
func Main(m *testing.M, check func() string) {
	args, prefix := Args()
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
	RemovePrefix(prefix)
	os.Exit(code)
}

// RemovePrefix deletes the hugepage and runtime files an EAL run with --file-prefix=prefix
// leaves behind even after rte_eal_cleanup.
func RemovePrefix(prefix string) {
	if prefix == "" {
		return
	}
	files, _ := filepath.Glob("/dev/hugepages/" + prefix + "map_*")
	for _, f := range files {
		os.Remove(f)
	}
	os.RemoveAll("/var/run/dpdk/" + prefix)
}
