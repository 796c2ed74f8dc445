// Package ealargs chooses EAL arguments for zocket's command-line tools, with the same logic
// as the test lab's internal/ealtest (DPDK-NOTES.md, "Install and memory"):
//
//   - with free hugepages: `--in-memory --no-pci` (no files left behind, several processes
//     side by side without a file prefix);
//   - without: `--no-huge --file-prefix=UNIQUE` (the two modes do not combine); the prefix's
//     files must be removed afterwards with Cleanup.
//
// ZOCKET_EAL_ARGS replaces the choice entirely; it is read with attr.Getenv, so a process
// running setuid or with file capabilities ignores it (docs/security.md).
package ealargs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zocket/zocket/internal/attr"
)

// MinHugepages is how many free 2 MiB hugepages For wants before it picks --in-memory.
const MinHugepages = 64

// For returns EAL arguments for a process whose main lcore runs on cpu, with extra appended, and
// the file prefix Cleanup must remove afterwards ("" when none). name tags the prefix.
func For(name string, cpu int, extra ...string) (args []string, prefix string) {
	if env, _ := attr.Getenv("ZOCKET_EAL_ARGS"); env != "" {
		return append(strings.Fields(env), extra...), ""
	}
	args = []string{"--no-pci", "--no-telemetry", "--log-level=*:warning", "-l", fmt.Sprint(cpu)}
	if FreeHugepages() >= MinHugepages {
		// One memfd per memory segment list, so that memif's zero-copy mode can share the
		// mbufs' memory with the peer (zfapp.Open turns it on for memif clients).
		args = append(args, "--in-memory", "--single-file-segments")
	} else {
		prefix = fmt.Sprintf("%s%d", name, os.Getpid())
		args = append(args, "--no-huge", "-m", "256", "--file-prefix="+prefix)
	}
	return append(args, extra...), prefix
}

// FreeHugepages returns the number of free 2 MiB hugepages (0 when unknown).
func FreeHugepages() int {
	b, err := os.ReadFile("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(string(b), &n)
	return n
}

// Cleanup deletes the hugepage and runtime files an EAL run with --file-prefix=prefix leaves
// behind even after rte_eal_cleanup. An empty prefix is a no-op.
func Cleanup(prefix string) {
	if prefix == "" {
		return
	}
	files, _ := filepath.Glob("/dev/hugepages/" + prefix + "map_*")
	for _, f := range files {
		os.Remove(f)
	}
	os.RemoveAll("/var/run/dpdk/" + prefix)
}
