package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Kernel is a Linux kernel peer: a network namespace holding one end of a veth pair with
// KernelIP on it; the other end stays in the test's namespace for a DPDK net_af_packet port
// (Device). Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking space); the stack side
// uses StackIP. The namespace and the veth are deleted when the test ends.
type Kernel struct {
	NS       string
	Veth     string // our end, in the test's namespace
	PeerVeth string // the kernel's end, inside NS
	KernelIP string // e.g. 198.19.7.1
	StackIP  string // e.g. 198.19.7.2
	Prefix   int
	tap      bool
}

// NewKernel creates the namespace and veth pair. Subnet n (0..255) picks 198.19.n.0/24, so
// concurrent tests do not collide. Checksum offloads are turned off on the kernel's end, so
// that frames reach the DPDK port with their checksums filled in. DPDK 22.11's net_af_packet
// joins a PACKET_FANOUT group numbered (pid ^ port id) & 0xffff, so two test processes
// probing af_packet ports at once can collide (EINVAL): `make test` runs one test binary at a
// time.
func NewKernel(t testing.TB, n int) *Kernel {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("kernel-peer tests need root (ip netns); run the README's test command as root")
	}
	id := fmt.Sprintf("%d%s", os.Getpid()%100000, Unique("k"))
	k := &Kernel{
		NS: "zkns" + id, Veth: "zkv" + id, PeerVeth: "zkp" + id,
		KernelIP: fmt.Sprintf("198.19.%d.1", n), StackIP: fmt.Sprintf("198.19.%d.2", n), Prefix: 24,
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", k.Veth).Run()
		exec.Command("ip", "netns", "del", k.NS).Run()
	})
	run(t, "ip", "netns", "add", k.NS)
	run(t, "ip", "link", "add", k.Veth, "type", "veth", "peer", "name", k.PeerVeth, "netns", k.NS)
	// No IPv6 chatter (router solicitations, DAD) on either end.
	run(t, "sysctl", "-qw", "net.ipv6.conf."+k.Veth+".disable_ipv6=1")
	k.Exec(t, "sysctl", "-qw", "net.ipv6.conf."+k.PeerVeth+".disable_ipv6=1")
	run(t, "ip", "link", "set", k.Veth, "up")
	k.Exec(t, "ip", "addr", "add", fmt.Sprintf("%s/%d", k.KernelIP, k.Prefix), "dev", k.PeerVeth)
	k.Exec(t, "ip", "link", "set", k.PeerVeth, "up")
	k.Exec(t, "ip", "link", "set", "lo", "up")
	if _, err := exec.LookPath("ethtool"); err == nil {
		k.Exec(t, "ethtool", "-K", k.PeerVeth, "tx", "off", "rx", "off")
		exec.Command("ethtool", "-K", k.Veth, "tx", "off", "rx", "off").Run()
	}
	return k
}

// Device is the DPDK device string of our end.
func (k *Kernel) Device() string {
	if k.tap {
		return "net_tap_" + k.Veth + ",iface=" + k.Veth
	}
	return "net_af_packet_" + k.Veth + ",iface=" + k.Veth
}

// NewKernelTap is NewKernel with a net_tap device instead of a veth: the PMD creates the tap
// interface in the test's namespace when the port is probed (Device), and MoveTap, called once
// the stack has started the port, moves it into the namespace and gives it KernelIP. net_tap
// is the virtual PMD with receive interrupts (WaitFD).
func NewKernelTap(t testing.TB, n int) *Kernel {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("kernel-peer tests need root (ip netns); run the README's test command as root")
	}
	id := fmt.Sprintf("%d%s", os.Getpid()%100000, Unique("t"))
	k := &Kernel{
		NS: "zkns" + id, Veth: "zkt" + id, PeerVeth: "zkt" + id, tap: true,
		KernelIP: fmt.Sprintf("198.19.%d.1", n), StackIP: fmt.Sprintf("198.19.%d.2", n), Prefix: 24,
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", k.NS).Run() })
	run(t, "ip", "netns", "add", k.NS)
	k.Exec(t, "ip", "link", "set", "lo", "up")
	return k
}

// MoveTap moves the tap interface into the namespace, addresses and raises it.
func (k *Kernel) MoveTap(t testing.TB) {
	t.Helper()
	run(t, "ip", "link", "set", k.Veth, "netns", k.NS)
	k.UpTap(t)
}

// UpTap addresses and raises the tap interface once it is in the namespace: moved there by
// MoveTap, or made there by a command run inside it (Command) that probed Device.
func (k *Kernel) UpTap(t testing.TB) {
	t.Helper()
	k.Exec(t, "sysctl", "-qw", "net.ipv6.conf."+k.Veth+".disable_ipv6=1")
	k.Exec(t, "ip", "addr", "add", fmt.Sprintf("%s/%d", k.KernelIP, k.Prefix), "dev", k.Veth)
	k.Exec(t, "ip", "link", "set", k.Veth, "up")
}

// Command returns a command that runs inside the namespace.
func (k *Kernel) Command(name string, args ...string) *exec.Cmd { return nsCommand(k.NS, name, args) }

// Exec runs a command inside the namespace and fails the test if it fails.
func (k *Kernel) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return nsExec(t, k.NS, name, args)
}

// nsCommand returns a command that runs name with args inside namespace ns.
func nsCommand(ns, name string, args []string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// nsExec runs name with args inside namespace ns, failing the test if it fails, and returns
// its combined output.
func nsExec(t testing.TB, ns, name string, args []string) string {
	t.Helper()
	out, err := nsCommand(ns, name, args).CombinedOutput()
	require.NoError(t, err, "ip netns exec %s %s %s: %s", ns, name, strings.Join(args, " "), out)
	return string(out)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}

// NewKernelForTool is NewKernel for a command's test: ZF_ATTR points the command's stack at
// our end of the veth (StackIP/24, n_bufs 2047), and GOMAXPROCS, which the tools change while
// they run, is put back when the test ends.
func NewKernelForTool(t *testing.T, n int) *Kernel {
	t.Helper()
	k := NewKernel(t, n)
	t.Setenv("ZF_ATTR", fmt.Sprintf("interface=%s;local_ip=%s/24;n_bufs=2047", k.Device(), k.StackIP))
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	return k
}

// Output collects a command's output. It is safe for the command's writer (exec's copying
// goroutine, or a tool run on a goroutine of its own) and the test reading it at once: every
// test that reads a running command's output goes through one, so that `go test -race` passes.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// Start starts a peer command (socat, sockperf…) for the test's duration and returns its
// combined output; the command is killed when the test ends.
func Start(t testing.TB, cmd *exec.Cmd) *Output {
	t.Helper()
	out := new(Output)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return out
}

// Background runs cmd (a peer inside a namespace) while the test polls its stack; done
// reports its end, out collects its output. A command still running when the test ends is
// killed.
func Background(t testing.TB, cmd *exec.Cmd) (out *Output, done <-chan error) {
	t.Helper()
	out = new(Output)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	ch, exited := make(chan error, 1), make(chan struct{})
	go func() { ch <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	return out, ch
}

// Poll performs s until cond holds, failing the test with what if d passes first. It is for
// tests against real time (kernel peers); lab pairs on a manual clock use Pair.Run.
func Poll(t testing.TB, s interface{ Perform() int }, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		for i := 0; i < 64; i++ {
			s.Perform()
		}
	}
}

// CheckSockperfClient asserts what a Linux `sockperf pp` client run against one of our pongs
// must show: it ran without error, received answers and printed its percentiles; and that the
// pong exited 0 after echoing.
func CheckSockperfClient(t testing.TB, out []byte, err error, pongCode int, pongStderr string) {
	t.Helper()
	require.NoError(t, err, "%s", out)
	require.Zero(t, pongCode, "%s", pongStderr)
	s := string(out)
	require.Regexp(t, `ReceivedMessages=[1-9]\d*`, s)
	require.Contains(t, s, "percentile 50.000")
	require.Contains(t, pongStderr, "pong: echoed")
}
