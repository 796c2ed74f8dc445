// Package examples_test runs the examples against Linux over net_tap: each example is built,
// run inside a network namespace (where its net_tap interface appears) and talked to by Linux
// tools there.
package examples_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
)

// build compiles example pkg into the test's temporary directory.
func build(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// makeTap makes the net_tap port's interface in k's namespace ahead of the example
// (persistent, multi-queue, addressed and up), so that Linux answers ARP from the example's
// first packet and a Linux server can bind the namespace's address before the example starts.
func makeTap(t *testing.T, k *lab.Kernel) {
	t.Helper()
	k.Exec(t, "ip", "tuntap", "add", "dev", k.Veth, "mode", "tap", "multi_queue")
	k.UpTap(t)
}

// startInNS starts bin with args inside k's namespace on the net_tap port of makeTap.
func startInNS(t *testing.T, k *lab.Kernel, bin string, args ...string) (*exec.Cmd, *lab.Output, <-chan error) {
	t.Helper()
	cmd := k.Command(bin, args...)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("ZF_ATTR=interface=%s;local_ip=%s/24;n_bufs=2047;reactor_spin_count=1", k.Device(), k.StackIP))
	out, done := lab.Background(t, cmd)
	return cmd, out, done
}

func TestHTTPServerExample(t *testing.T) {
	bin := build(t, "./httpserver")
	k := lab.NewKernelTap(t, 61)
	makeTap(t, k)
	cmd, out, done := startInNS(t, k, bin, ":8080")
	url := "http://" + k.StackIP + ":8080/"
	var body string
	for i := 0; i < 50; i++ {
		b, err := k.Command("curl", "-s", "--max-time", "2", url, url).Output()
		if err == nil {
			body = string(b)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, strings.Repeat("hello from zocket\n", 2), body, "%s", out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		assert.NoError(t, err, "%s", out)
	case <-time.After(10 * time.Second):
		t.Fatalf("no graceful exit: %s", out)
	}
}

// waitListening waits until a TCP socket listens on port in k's namespace (python3 may take
// a second or more to start on a loaded machine; the example fetched too early and got
// ECONNREFUSED, or python started before the address it binds existed).
func waitListening(t *testing.T, k *lab.Kernel, port string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, _ := k.Command("ss", "-Hltn", "sport = :"+port).Output()
		if strings.TrimSpace(string(out)) != "" {
			return
		}
		require.True(t, time.Now().Before(deadline), "nothing listens on port %s", port)
	}
}

func TestHTTPClientExample(t *testing.T) {
	bin := build(t, "./httpclient")
	k := lab.NewKernelTap(t, 62)
	dir := t.TempDir()
	want := strings.Repeat("zocket over net_tap\n", 5000)
	require.NoError(t, writeFile(filepath.Join(dir, "f.txt"), want))
	makeTap(t, k) // the address python binds
	srv := k.Command("python3", "-m", "http.server", "-b", k.KernelIP, "-d", dir, "8000")
	lab.Start(t, srv)
	waitListening(t, k, "8000") // the example fetches once: python must be up first
	_, out, done := startInNS(t, k, bin, "http://"+k.KernelIP+":8000/f.txt")
	select {
	case err := <-done:
		require.NoError(t, err, "%s", out)
	case <-time.After(30 * time.Second):
		t.Fatalf("client did not finish: %.500s", out)
	}
	assert.True(t, strings.Contains(out.String(), want), "got %.300q", out.String()) // stdout and stderr together
}
