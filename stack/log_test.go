package stack_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

func TestLogEnabledNibbles(t *testing.T) {
	tests := []struct {
		level string
		comp  stack.LogComponent
		lvl   stack.LogLevel
		want  bool
	}{
		{"0x1111111111111", stack.LogStack, stack.LogErr, true}, // the default: errors everywhere
		{"0x1111111111111", stack.LogStack, stack.LogWarn, false},
		{"0x1111111111111", stack.LogCplane, stack.LogErr, true},
		{"0xfff0", stack.LogTCPRx, stack.LogTrace, true}, // the guide's example: all TCP
		{"0xfff0", stack.LogTCPConn, stack.LogInfo, true},
		{"0xfff0", stack.LogStack, stack.LogErr, false},
		{"0xfff0", stack.LogUDPRx, stack.LogErr, false},
		{"0x40000", stack.LogUDPRx, stack.LogInfo, true},
		{"0x40000", stack.LogUDPRx, stack.LogWarn, false},
		{"0x8000000000000", stack.LogCplane, stack.LogTrace, true},
		{"0", stack.LogStack, stack.LogErr, false},
	}
	for _, tc := range tests {
		t.Run(tc.level+"/"+tc.comp.String(), func(t *testing.T) {
			r := lab.NewRaw(t, "log_level", tc.level, "control_socket_dir", "")
			assert.Equal(t, tc.want, r.S.LogEnabled(tc.comp, tc.lvl))
			assert.Equal(t, tc.want, r.S.Logger(tc.comp).Enabled(context.Background(), tc.lvl.Slog()))
		})
	}
}

// logLines opens a stack logging to a file, runs fn and returns the file's lines.
func logLines(t *testing.T, file string, kv []string, fn func(s *stack.Stack)) []string {
	t.Helper()
	r := lab.NewRaw(t, append([]string{"log_file", file, "control_socket_dir", ""}, kv...)...)
	fn(r.S)
	require.NoError(t, r.S.Close())
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestLogFormat(t *testing.T) {
	tests := []struct {
		format string
		want   []string
		absent []string
	}{
		{"0x0", []string{"component=tcp-conn", `msg="state change"`, "conn=7"}, []string{"stack=", "pid=", "frc=", "tcp_time="}},
		{"0x1", []string{"stack=logger"}, []string{"pid="}},
		{"0x2", []string{"frc="}, nil},
		{"0x4", []string{"tcp_time=1000"}, nil}, // the lab's clock starts at 1 s: 1000 ticks of 1 ms
		{"0x8", []string{"pid=", "proc="}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "zf.log")
			lines := logLines(t, file, []string{"name", "logger", "log_level", "0xf000", "log_format", tc.format}, func(s *stack.Stack) {
				s.Logger(stack.LogTCPConn).Info("state change", "conn", 7)
				s.Logger(stack.LogTCPRx).Error("not enabled: TCP-rx nibble is 0")
			})
			require.Len(t, lines, 1, "%q", lines)
			for _, w := range tc.want {
				assert.Contains(t, lines[0], w)
			}
			for _, a := range tc.absent {
				assert.NotContains(t, lines[0], a)
			}
		})
	}
}

func TestLogStackOpenCloseAndJSON(t *testing.T) {
	file := filepath.Join(t.TempDir(), "zf.json")
	lines := logLines(t, file, []string{"name", "j", "log_level", "0x7"}, func(s *stack.Stack) {
		s.Logger(stack.LogStack).Warn("hello", "n", 3)
	})
	require.Len(t, lines, 3)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &rec))
	assert.Equal(t, "WARN", rec["level"])
	assert.Equal(t, "hello", rec["msg"])
	assert.Equal(t, "j", rec["stack"])
	assert.Equal(t, 3.0, rec["n"])
	assert.Contains(t, lines[0], `"msg":"stack opened"`)
	assert.Contains(t, lines[2], `"msg":"stack closed"`)
}

// TestLogDisabledAllocatesNothing: a disabled level costs a check: nothing is formatted or
// allocated, guarded or through LogAttrs.
func TestLogDisabledAllocatesNothing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "quiet.log")
	r := lab.NewRaw(t, "log_file", file, "log_level", "0x1", "control_socket_dir", "")
	seq := uint64(123456789)
	ctx := context.Background()
	l := r.S.Logger(stack.LogTCPRx)
	allocs := testing.AllocsPerRun(1000, func() {
		if r.S.LogEnabled(stack.LogTCPRx, stack.LogTrace) {
			l.Debug("segment", "seq", seq, "payload", []byte("abc"))
		}
		l.LogAttrs(ctx, slog.LevelDebug, "segment", slog.Uint64("seq", seq), slog.String("flags", "SA"))
		seq++
	})
	assert.Zero(t, allocs)
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Zero(t, st.Size(), "nothing written")
}

func BenchmarkLogDisabled(b *testing.B) {
	r := lab.NewRaw(b, "control_socket_dir", "")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if r.S.LogEnabled(stack.LogTCPRx, stack.LogTrace) {
			r.S.Logger(stack.LogTCPRx).Debug("x", "n", n)
		}
		n++
	}
}

// TestLogFileSafety: log_file is created 0600 whatever the umask, appended to when it
// exists, and a symbolic link in its place is refused, its target untouched.
func TestLogFileSafety(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	tests := []struct {
		name    string
		setup   func(t *testing.T, path, target string)
		wantErr syscall.Errno
	}{
		{"new file", func(*testing.T, string, string) {}, 0},
		{"existing file", func(t *testing.T, path, _ string) {
			require.NoError(t, os.WriteFile(path, []byte("earlier\n"), 0o600))
		}, 0},
		{"symlink", func(t *testing.T, path, target string) {
			require.NoError(t, os.WriteFile(target, []byte("keep"), 0o644))
			require.NoError(t, os.Symlink(target, path))
		}, syscall.ELOOP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, target := filepath.Join(dir, "zf.log"), filepath.Join(dir, "target")
			tc.setup(t, path, target)
			rp, err := dpdk.NewRingPair(lab.Unique("logfile"), 64)
			require.NoError(t, err)
			defer rp.Close()
			s, err := stack.New(lab.Attr(t, "local_ip", "198.18.0.1/24", "interface", rp.A.Name(),
				"log_file", path, "log_level", "0x4", "control_socket_dir", ""))
			if tc.wantErr != 0 {
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Contains(t, err.Error(), "attr log_file="+path)
				b, _ := os.ReadFile(target)
				assert.Equal(t, "keep", string(b))
				return
			}
			require.NoError(t, err)
			require.NoError(t, s.Close())
			st, err := os.Lstat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
			b, _ := os.ReadFile(path)
			assert.Contains(t, string(b), "stack opened")
			if tc.name == "existing file" {
				assert.True(t, strings.HasPrefix(string(b), "earlier\n"), "appended")
			}
		})
	}
}
