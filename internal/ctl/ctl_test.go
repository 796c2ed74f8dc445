package ctl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
			assert.Regexp(t, `^/run/zocket/`+tc.safe+`\.42\.3\.[0-9a-f]{8}\.sock$`, p)
			ep, ok := ParsePath(p)
			require.True(t, ok)
			assert.Equal(t, Endpoint{Name: tc.safe, PID: 42, ID: 3, Path: p}, ep)
		})
	}
	for _, bad := range []string{"x.sock", "x.1.sock", "x.1.2.sock", "x.a.1.0123abcd.sock", "x.1.2.0123abcd.txt",
		"x.0.1.0123abcd.sock", "x.1.2.0123abc.sock", "x.1.2.0123abcg.sock"} {
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
	srv, err := Listen(SocketPath(dir, "live", os.Getpid(), 0), &handler{})
	require.NoError(t, err)
	defer srv.Close()
	live := srv.Path()
	dead := deadSocket(t, filepath.Join(dir, "dead.4194000.0.0123abcd.sock"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.1.2.0123abcd.sock"), nil, 0o644))

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

// sharedDir is a directory any user may traverse (t.TempDir's parent is 0700), removed at the
// end of the test.
func sharedDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "zctl")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

// asUser runs `socat - UNIX-CONNECT:path` as uid/gid 4242 (a user nobody here is), sends one
// info request and returns what came back.
func asUser(t *testing.T, path string) string {
	cmd := exec.Command("socat", "-t", "2", "-", "UNIX-CONNECT:"+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4242, Gid: 4242}}
	cmd.Stdin = strings.NewReader(`{"cmd":"info"}` + "\n")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func TestSocketPermissions(t *testing.T) {
	dir := sharedDir(t)
	path := SocketPath(dir, "s", os.Getpid(), 1)
	srv, err := Listen(path, &handler{})
	require.NoError(t, err)
	defer srv.Close()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "socket mode")
	assert.NotContains(t, asUser(t, path), `"info"`, "another uid reads the socket")

	// Even when the file system lets it in (a umask of 0), another uid is refused by its
	// credentials.
	require.NoError(t, os.Chmod(path, 0o666))
	out := asUser(t, path)
	assert.NotContains(t, out, `"info"`, "another uid served")
	assert.Contains(t, out, "permission denied")
	c, err := Dial(path, time.Second)
	require.NoError(t, err)
	_, err = c.Info()
	assert.NoError(t, err, "our own uid is served")
	c.Close()
}

func TestSocketDirectoryChecks(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode
		uid  int
		err  error
	}{
		{"private", 0o700, 0, nil},
		{"shared", 0o755, 0, nil},
		{"world-writable sticky", 0o777 | os.ModeSticky, 0, nil},
		{"world-writable", 0o777, 0, syscall.EPERM},
		{"owned by another uid", 0o755, 4242, syscall.EPERM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(sharedDir(t), "run")
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Chmod(dir, tc.mode))
			require.NoError(t, os.Chown(dir, tc.uid, tc.uid))
			srv, err := Listen(SocketPath(dir, "s", os.Getpid(), 1), &handler{})
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			srv.Close()
		})
	}
}

// TestAcceptErrorsDoNotStopServer: an accept that fails (EMFILE: the process is out of file
// descriptors) is retried; the server still answers once descriptors are back.
func TestAcceptErrorsDoNotStopServer(t *testing.T) {
	dir := t.TempDir()
	path := SocketPath(dir, "s", os.Getpid(), 1)
	srv, err := Listen(path, &handler{})
	require.NoError(t, err)
	defer srv.Close()

	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	free, err := syscall.Dup(0) // the lowest free descriptor: all below it are in use
	require.NoError(t, err)
	syscall.Close(free)
	low := lim
	low.Cur = uint64(free) + 1 // room for the client's end only: accept gets EMFILE
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		time.Sleep(50 * time.Millisecond) // let accept fail a few times
	}
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	require.NoError(t, err)
	c.Close()

	cl, err := Dial(path, 2*time.Second)
	require.NoError(t, err)
	defer cl.Close()
	_, err = cl.Info()
	assert.NoError(t, err, "server answers after accept failed")
}

// TestListLivenessByConnecting: liveness is whether something answers on the socket, not the
// pid in its name (another PID namespace's pid means nothing here).
func TestListLivenessByConnecting(t *testing.T) {
	dir := t.TempDir()
	// A live socket named with a pid that does not exist here (another container's process).
	other, err := Listen(filepath.Join(dir, "other.4194000.0.0123abcd.sock"), &handler{})
	require.NoError(t, err)
	defer other.Close()
	// A socket nobody listens on any more, named with our own (live) pid.
	dead := deadSocket(t, filepath.Join(dir, "dead."+strconv.Itoa(os.Getpid())+".7.0123abcd.sock"))
	fresh := deadSocket(t, filepath.Join(dir, "fresh.1.0.0123abcd.sock"))
	require.NoError(t, os.Chtimes(fresh, time.Now(), time.Now())) // a server between bind and listen

	eps, err := List(dir, true)
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, other.Path(), eps[0].Path)
	assert.FileExists(t, other.Path(), "a live socket is kept")
	assert.NoFileExists(t, dead, "a dead socket is removed")
	assert.FileExists(t, fresh, "a socket just bound is left alone")
}

// deadSocket makes a socket file at path that nobody listens on, two seconds old.
func deadSocket(t *testing.T, path string) string {
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	old := time.Now().Add(-2 * time.Second)
	require.NoError(t, os.Chtimes(path, old, old))
	return path
}

// TestSocketNamesUnique: two stacks with the same name, pid and id (two containers sharing the
// directory) get different sockets, and neither takes the other's.
func TestSocketNamesUnique(t *testing.T) {
	dir := t.TempDir()
	p1, p2 := SocketPath(dir, "gw", 1, 0), SocketPath(dir, "gw", 1, 0)
	assert.NotEqual(t, p1, p2)
	s1, err := Listen(p1, &handler{})
	require.NoError(t, err)
	defer s1.Close()
	_, err = Listen(p1, &handler{})
	assert.ErrorIs(t, err, syscall.EADDRINUSE, "a live socket is not replaced")
	c, err := Dial(p1, time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Info()
	assert.NoError(t, err)
}

// waitHandler records the wait each dump was given.
type waitHandler struct {
	handler
	mu    sync.Mutex
	waits []time.Duration
}

func (h *waitHandler) Dump(timeout time.Duration) (*Dump, error) {
	h.mu.Lock()
	h.waits = append(h.waits, timeout)
	h.mu.Unlock()
	return &Dump{}, nil
}

// TestClientsDoNotStarveEachOther: an idle client does not hold the socket for the others, and
// a client cannot make the stack wait longer than MaxDumpWait.
func TestClientsDoNotStarveEachOther(t *testing.T) {
	dir := t.TempDir()
	path := SocketPath(dir, "s", os.Getpid(), 1)
	h := &waitHandler{}
	srv, err := Listen(path, h)
	require.NoError(t, err)
	defer srv.Close()
	idle, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer idle.Close()
	time.Sleep(20 * time.Millisecond) // the idle client is being served

	c, err := Dial(path, 500*time.Millisecond)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Info()
	require.NoError(t, err, "a second client waits for the idle one")
	_, err = c.Dump(time.Hour)
	require.NoError(t, err)
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Equal(t, []time.Duration{MaxDumpWait}, h.waits)
}

// TestClientRefusesOversizedResponse: a response line longer than MaxResponse is an error
// (EMSGSIZE), not unbounded memory.
func TestClientRefusesOversizedResponse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		for range MaxResponse>>20 + 2 {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	c, err := Dial(path, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Info()
	assert.ErrorIs(t, err, syscall.EMSGSIZE)
}
