package lab

import (
	"fmt"
	"os/exec"
	"testing"
)

// Host is a Linux host standing where a stack would: a namespace of its own (NS) holding a
// Kernel's veth end (Veth) with the Kernel's StackIP on it, the Kernel's KernelIP its gateway.
// It is the Linux side of a comparison that runs our stack and Linux's through the same
// namespaces (a Lossy router, for instance). The namespace goes when the test ends.
type Host struct {
	NS string
}

// NewHost moves k's veth end (k from NewKernel, not NewKernelTap) into a new namespace and
// addresses it as the stack's would be. Segmentation and receive offloads are off on it, as
// NewLossy turns them off on the router, so that Linux sends and receives frames of the
// link's MTU, as our stack does: a drop in the router then loses one frame, never a 64 KiB
// super-frame.
func (k *Kernel) NewHost(t testing.TB) *Host {
	t.Helper()
	h := &Host{NS: k.NS + "h"}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", h.NS).Run() })
	run(t, "ip", "netns", "add", h.NS)
	run(t, "ip", "link", "set", k.Veth, "netns", h.NS)
	h.Exec(t, "ip", "link", "set", "lo", "up")
	h.Exec(t, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	h.Exec(t, "ip", "addr", "add", fmt.Sprintf("%s/%d", k.StackIP, k.Prefix), "dev", k.Veth)
	h.Exec(t, "ip", "link", "set", k.Veth, "up")
	h.Exec(t, "ip", "route", "add", "default", "via", k.KernelIP)
	if _, err := exec.LookPath("ethtool"); err == nil {
		h.Command("ethtool", "-K", k.Veth, "tso", "off", "gso", "off", "gro", "off").Run()
	}
	return h
}

// Command returns a command that runs inside the host's namespace.
func (h *Host) Command(name string, args ...string) *exec.Cmd { return nsCommand(h.NS, name, args) }

// Exec runs a command inside the host's namespace and fails the test if it fails.
func (h *Host) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return nsExec(t, h.NS, name, args)
}
