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
// DPDK's own log is kept below warnings by default (`--log-level=*:error`): its start-up
// notes (hugepage sizes without free pages, memif's multi-process hooks under --in-memory)
// are not for the user to act on. LogArg raises it with the log_level attribute.
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
	args = []string{"--no-pci", "--no-telemetry", LogArg(0), "-l", fmt.Sprint(cpu)}
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

// LogArg is the EAL argument that sets DPDK's log level from the log_level attribute's stack
// nibble (bits 0-3): warnings (0x2) show DPDK's warnings, info (0x4) its notices and info,
// trace (0x8) its debug messages; otherwise only its errors (the default). Given after other
// --log-level arguments it overrides them; given before, they override it.
func LogArg(logLevel int64) string {
	switch nib := logLevel & 0xf; {
	case nib&0x8 != 0:
		return "--log-level=*:debug"
	case nib&0x4 != 0:
		return "--log-level=*:info"
	case nib&0x2 != 0:
		return "--log-level=*:warning"
	}
	return "--log-level=*:error"
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
