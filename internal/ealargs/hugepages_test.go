package ealargs_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// holder starts a process that keeps file in use as cmd does and returns once it says
// "ready"; the process ends with the test.
func holder(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
}

// TestHugepagesClean: scripts/hugepages-clean (run by scripts/setup) removes a stale rtemap
// file only when no process uses it: not one another process maps (its descriptor closed),
// holds open, or holds DPDK's shared lock on from a PID namespace the script cannot see
// (fuser and /proc are blind there; the lock is not).
func TestHugepagesClean(t *testing.T) {
	script, err := filepath.Abs("../../scripts/hugepages-clean")
	require.NoError(t, err)
	// mapper maps the file and closes every descriptor of it (mmap keeps a dup of its own).
	const mapper = `import mmap, os, sys
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 4096)
f.close()
for n in os.listdir("/proc/self/fd"):
    try:
        if os.readlink("/proc/self/fd/" + n) == sys.argv[1]:
            os.close(int(n))
    except OSError:
        pass
print("ready", flush=True)
sys.stdin.read()`
	tests := []struct {
		name     string
		hold     func(t *testing.T, file string)
		otherNS  bool // run the script in a PID namespace of its own, with its own /proc
		wantKept bool
	}{
		{"unused", nil, false, false},
		{"unused, other namespace", nil, true, false},
		{"mapped", func(t *testing.T, f string) { holder(t, "python3", "-c", mapper, f) }, false, true},
		{"open", func(t *testing.T, f string) { holder(t, "sh", "-c", `exec 3<"$1"; echo ready; cat`, "sh", f) }, false, true},
		{"locked by a process the script cannot see", func(t *testing.T, f string) {
			holder(t, "flock", "-s", f, "sh", "-c", "echo ready; cat")
		}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "zktestmap_0")
			require.NoError(t, os.WriteFile(file, make([]byte, 4096), 0o600))
			if tc.hold != nil {
				tc.hold(t, file)
			}
			var cmd *exec.Cmd
			if tc.otherNS {
				cmd = exec.Command("unshare", "--pid", "--fork", "--mount-proc", "bash", script, dir)
			} else {
				cmd = exec.Command("bash", script, dir)
			}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			_, statErr := os.Stat(file)
			if tc.wantKept {
				assert.NoError(t, statErr, "a file in use was removed")
			} else {
				assert.True(t, os.IsNotExist(statErr), "a stale file was kept")
			}
		})
	}
}
