package capture

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriterPcapng writes records through a Writer and reads the file back with gopacket's
// reader: packets, lengths, directions, timestamps from the TSC, and the statistics block.
func TestWriterPcapng(t *testing.T) {
	file := filepath.Join(t.TempDir(), "w.pcapng")
	r := NewRing(0)
	const hz = 1_000_000_000 // 1 tick = 1 ns
	clk := NewClock(1000, hz)
	w, err := Create(file, r, Options{Interface: "A", Description: "test", Filter: "arp", Clock: clk})
	require.NoError(t, err)
	for i := range 3 {
		fl := uint32(Inbound)
		if i == 1 {
			fl = Outbound
		}
		b := r.Reserve(60, 64, uint64(1000+i*1000), fl, 0)
		b[0] = byte(i)
	}
	r.Publish()
	require.NoError(t, w.Sync())
	require.NoError(t, w.Close(2, 1))
	assert.Equal(t, uint64(3), w.Written())

	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	rd, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	require.NoError(t, err)
	intf, err := rd.Interface(0)
	require.NoError(t, err)
	assert.Equal(t, "A", intf.Name)
	assert.Equal(t, "arp", intf.Filter)
	var times []time.Time
	for i := range 3 {
		data, ci, err := rd.ReadPacketData()
		require.NoError(t, err)
		assert.Equal(t, byte(i), data[0])
		assert.Equal(t, 60, ci.CaptureLength)
		assert.Equal(t, 64, ci.Length)
		times = append(times, ci.Timestamp)
	}
	assert.Equal(t, time.Microsecond, times[1].Sub(times[0]))
	assert.Equal(t, time.Microsecond, times[2].Sub(times[1]))
	assert.WithinDuration(t, time.Now(), times[0], time.Minute)
}

func TestClock(t *testing.T) {
	c := NewClock(100, 2_000_000_000) // 2 GHz
	assert.Equal(t, 500*time.Nanosecond, c.Time(1100).Sub(c.Time(100)))
	assert.Equal(t, c.Time(100), c.Time(50), "readings before the reference map to it")
	z := NewClock(0, 0)
	assert.WithinDuration(t, time.Now(), z.Time(12345), time.Second)
}

// TestCreateRefuses: a capture never truncates an existing file nor follows a symbolic link
// (one planted in a shared directory would redirect or clobber the capture), and says why.
func TestCreateRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path, target string) // target: a file the link may point at
	}{
		{"existing file", func(t *testing.T, path, _ string) {
			require.NoError(t, os.WriteFile(path, []byte("keep"), 0o644))
		}},
		{"symlink to a file", func(t *testing.T, path, target string) {
			require.NoError(t, os.WriteFile(target, []byte("keep"), 0o644))
			require.NoError(t, os.Symlink(target, path))
		}},
		{"dangling symlink", func(t *testing.T, path, target string) {
			require.NoError(t, os.Symlink(target, path))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, target := filepath.Join(dir, "c.pcapng"), filepath.Join(dir, "target")
			tc.setup(t, path, target)
			before, _ := os.ReadFile(target)
			w, err := Create(path, NewRing(0), Options{})
			if w != nil {
				w.Close(0, 0)
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, syscall.EEXIST)
			assert.Contains(t, err.Error(), path)
			after, _ := os.ReadFile(target)
			assert.Equal(t, before, after, "the link's target is untouched")
			if tc.name == "existing file" {
				b, _ := os.ReadFile(path)
				assert.Equal(t, "keep", string(b), "not truncated")
			}
		})
	}
}

// TestCreateMode: the capture file is readable by its owner only, whatever the umask.
func TestCreateMode(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "c.pcapng")
	w, err := Create(path, NewRing(0), Options{})
	require.NoError(t, err)
	require.NoError(t, w.Close(0, 0))
	st, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// publish puts n records of size bytes into r.
func publish(r *Ring, n, size int) {
	for i := range n {
		b := r.Reserve(size, size, uint64(i), Inbound, 0)
		if b != nil {
			b[0] = byte(i)
		}
	}
	r.Publish()
}

// TestWriterCloseBlocked: a writer stuck in write(2) (a pipe nobody reads, like a FIFO or a
// hung file system) does not hang Close: it gives up after its timeout and says so, and the
// goroutine ends once the file is closed under it.
func TestWriterCloseBlocked(t *testing.T) {
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	r := NewRing(1 << 20)
	w, err := newWriter(pw, "pipe", r, Options{CloseTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	publish(r, 200, 1500) // 300 kB: more than the pipe's 64 KiB buffer
	closed := make(chan error, 1)
	go func() { closed <- w.Close(1, 1) }()
	select {
	case err = <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung on a blocked writer")
	}
	assert.ErrorIs(t, err, syscall.ETIMEDOUT)
	assert.Contains(t, err.Error(), "blocked")
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer goroutine outlived its file")
	}
}

// TestWriterLimits: what the size cap stops and what a write error loses is counted, logged
// once, and never written past: the file stays within MaxBytes and readable.
func TestWriterLimits(t *testing.T) {
	tests := []struct {
		name        string
		max         int64
		broken      bool // the file's reader is gone: every write fails (EPIPE)
		wantWritten uint64
		wantLimited uint64
		wantFailed  uint64
		wantLog     string
	}{
		{name: "no limit", wantWritten: 100},
		{name: "cap", max: 8 << 10, wantWritten: 32, wantLimited: 68, wantLog: "capture_max_bytes"},
		{name: "write error", broken: true, wantFailed: 100, wantLog: "capture write failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			opts := Options{Interface: "A", MaxBytes: tc.max, Log: slog.New(slog.NewTextHandler(&log, nil))}
			r := NewRing(1 << 20)
			path := filepath.Join(t.TempDir(), "c.pcapng")
			var w *Writer
			var err error
			if tc.broken {
				pr, pw, perr := os.Pipe()
				require.NoError(t, perr)
				w, err = newWriter(pw, "pipe", r, opts)
				pr.Close()
			} else {
				w, err = Create(path, r, opts)
			}
			require.NoError(t, err)
			publish(r, 50, 200)
			syncErr := w.Sync()
			publish(r, 50, 200)
			closeErr := w.Close(100, 0)
			st := w.Stats()
			assert.Equal(t, tc.wantWritten, st.Written, "written")
			assert.Equal(t, tc.wantLimited, st.Limited, "limited")
			assert.Equal(t, tc.wantFailed, st.Failed, "failed")
			if tc.wantLog != "" {
				assert.Equal(t, 1, strings.Count(log.String(), tc.wantLog), "logged once: %s", log.String())
			}
			if tc.broken {
				assert.ErrorIs(t, syncErr, syscall.EPIPE)
				assert.ErrorIs(t, closeErr, syscall.EPIPE)
				return
			}
			require.NoError(t, syncErr)
			require.NoError(t, closeErr)
			fi, err := os.Stat(path)
			require.NoError(t, err)
			if tc.max > 0 {
				assert.LessOrEqual(t, fi.Size(), tc.max)
			}
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			rd, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
			require.NoError(t, err)
			n := uint64(0)
			for {
				if _, _, err := rd.ReadPacketData(); err != nil {
					break
				}
				n++
			}
			assert.Equal(t, tc.wantWritten, n, "packets in the file")
		})
	}
}
