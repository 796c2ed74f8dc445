package ctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFieldsJSONKeepsOrder(t *testing.T) {
	fs := Fields{{"snd_nxt", 5}, {"cwnd", 14600}, {"a\"b", 1 << 63}}
	b, err := json.Marshal(fs)
	require.NoError(t, err)
	assert.Equal(t, `{"snd_nxt":5,"cwnd":14600,"a\"b":9223372036854775808}`, string(b))
	var back Fields
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, fs, back)
	v, ok := back.Get("cwnd")
	assert.True(t, ok)
	assert.Equal(t, uint64(14600), v)
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &back))
	assert.Error(t, json.Unmarshal([]byte(`{"x":-1}`), &back))
}

func TestPaths(t *testing.T) {
	tests := []struct {
		name, safe string
	}{
		{"gw", "gw"},
		{"enp4s0f0/0f0", "enp4s0f0_0f0"},
		{"a.b c", "a_b_c"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := SocketPath("/run/zocket", tc.name, 42, 3)
			assert.Equal(t, "/run/zocket/"+tc.safe+".42.3.sock", p)
			ep, ok := ParsePath(p)
			require.True(t, ok)
			assert.Equal(t, Endpoint{Name: tc.safe, PID: 42, ID: 3, Path: p}, ep)
		})
	}
	for _, bad := range []string{"x.sock", "x.1.sock", "x.a.1.sock", "x.1.2.txt", "x.0.1.sock"} {
		_, ok := ParsePath(bad)
		assert.False(t, ok, bad)
	}
}

type handler struct{ dumps int }

func (h *handler) Info() *Info { return &Info{Name: "s", ID: 1, PID: os.Getpid()} }
func (h *handler) Dump(timeout time.Duration) (*Dump, error) {
	h.dumps++
	if timeout == 13*time.Millisecond {
		return nil, errors.New("unlucky")
	}
	return &Dump{Info: *h.Info(), Seq: uint64(h.dumps), Stats: Fields{{"polls", 9}}}, nil
}

func TestServerClient(t *testing.T) {
	dir := t.TempDir()
	path := SocketPath(dir, "s", os.Getpid(), 1)
	srv, err := Listen(path, &handler{})
	require.NoError(t, err)

	c, err := Dial(path, time.Second)
	require.NoError(t, err)
	in, err := c.Info()
	require.NoError(t, err)
	assert.Equal(t, "s", in.Name)
	for seq := uint64(1); seq <= 2; seq++ { // several exchanges on one connection
		d, err := c.Dump(0)
		require.NoError(t, err)
		assert.Equal(t, seq, d.Seq)
		v, _ := d.Stats.Get("polls")
		assert.Equal(t, uint64(9), v)
	}
	_, err = c.Dump(13 * time.Millisecond)
	assert.EqualError(t, err, "unlucky")
	_, err = c.Do(Request{Cmd: "reboot"})
	assert.ErrorContains(t, err, `unknown command "reboot"`)
	require.NoError(t, c.Close())

	// Raw protocol: one JSON line each way; a bad line is answered, not fatal.
	raw, err := net.Dial("unix", path)
	require.NoError(t, err)
	r := bufio.NewReader(raw)
	_, err = raw.Write([]byte("not json\n{\"cmd\":\"info\"}\n"))
	require.NoError(t, err)
	l1, _ := r.ReadString('\n')
	l2, _ := r.ReadString('\n')
	assert.Contains(t, l1, `"error":"bad request`)
	assert.Contains(t, l2, `"info":{"name":"s"`)

	eps, err := List(dir, false)
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, path, eps[0].Path)

	// Close does not wait for the idle client.
	done := make(chan error)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for an idle client")
	}
	raw.Close()
	assert.NoFileExists(t, path, "socket removed")
}

func TestListSkipsAndRemovesStale(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		ln, err := net.Listen("unix", p)
		require.NoError(t, err)
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close()
		return p
	}
	live := mk(filepath.Base(SocketPath(dir, "live", os.Getpid(), 0)))
	dead := mk("dead.4194000.0.sock") // above the default pid_max
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.1.2.sock"), nil, 0o644))

	eps, err := List(dir, false)
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, live, eps[0].Path)
	assert.FileExists(t, dead)

	_, err = List(dir, true)
	require.NoError(t, err)
	assert.NoFileExists(t, dead)

	eps, err = List(filepath.Join(dir, "missing"), true)
	assert.NoError(t, err)
	assert.Empty(t, eps)
}
