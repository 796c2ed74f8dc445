package attr

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGetenvSecureExec: under AT_SECURE (setuid, setgid, file capabilities) ZF_ATTR and
// ZOCKET_EAL_ARGS are ignored, with one warning per variable; otherwise they are read.
func TestGetenvSecureExec(t *testing.T) {
	tests := []struct {
		name    string
		auxv    [][2]uintptr
		ignored bool
	}{
		{"AT_SECURE=1", [][2]uintptr{{6, 4096}, {atSecure, 1}, {0, 0}}, true},
		{"AT_SECURE=0", [][2]uintptr{{6, 4096}, {atSecure, 0}, {0, 0}}, false},
		{"no AT_SECURE", [][2]uintptr{{6, 4096}, {0, 0}}, false},
		{"this process", procAuxv(), false}, // go test does not run setuid
	}
	saveAuxv, saveOut := procAuxv, warnOut
	t.Cleanup(func() { procAuxv, warnOut = saveAuxv, saveOut })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			procAuxv, warnOut = func() [][2]uintptr { return tc.auxv }, &out
			warned.Clear()
			t.Setenv("ZF_ATTR", "name=fromenv")
			t.Setenv("ZOCKET_EAL_ARGS", "-d /tmp/evil.so")
			for range 2 {
				a, err := New()
				require.NoError(t, err)
				v, ok := Getenv("ZOCKET_EAL_ARGS")
				if tc.ignored {
					assert.Equal(t, "", a.StrOf(Name))
					assert.False(t, ok)
					assert.Empty(t, v)
				} else {
					assert.Equal(t, "fromenv", a.StrOf(Name))
					assert.True(t, ok)
					assert.Equal(t, "-d /tmp/evil.so", v)
				}
			}
			if tc.ignored {
				assert.Equal(t, 1, strings.Count(out.String(), "ignoring ZF_ATTR"), out.String())
				assert.Equal(t, 1, strings.Count(out.String(), "ignoring ZOCKET_EAL_ARGS"), out.String())
			} else {
				assert.Empty(t, out.String())
			}
		})
	}
}

// TestGetenvSetuid runs this test binary as a real setuid-root program started by nobody:
// the kernel sets AT_SECURE, and the child must ignore ZF_ATTR.
func TestGetenvSetuid(t *testing.T) {
	if os.Getenv("ZOCKET_SETUID_CHILD") == "1" {
		a, err := New()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("uid=%d euid=%d name=%q\n", os.Getuid(), os.Geteuid(), a.StrOf(Name))
		os.Exit(0)
	}
	require.Zero(t, os.Geteuid(), "the test runs as root (make test, scripts/setup)")
	dir, err := os.MkdirTemp("", "zksetuid")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	self, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(dir, "attr.test")
	data, err := os.ReadFile(self)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	for _, tc := range []struct {
		name string
		mode os.FileMode
		want string
	}{
		{"plain", 0o755, `uid=65534 euid=65534 name="fromenv"`},
		{"setuid root", 0o755 | os.ModeSetuid, `uid=65534 euid=0 name=""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.Chmod(bin, tc.mode))
			cmd := exec.Command(bin, "-test.run=^TestGetenvSetuid$")
			cmd.Env = []string{"ZOCKET_SETUID_CHILD=1", "ZF_ATTR=name=fromenv"}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), tc.want)
			if tc.mode&os.ModeSetuid != 0 {
				assert.Contains(t, string(out), "zocket: ignoring ZF_ATTR")
			}
		})
	}
}
