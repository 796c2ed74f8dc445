package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Lossy is a Linux peer behind a router: a second namespace (NS, PeerIP = 198.19.subnet+1.1/24)
// reached through the Kernel's namespace, which forwards between its two links and drops a
// random pct % of the TCP frames each way in its nftables forward chain. Drops in the forward
// path are real loss to both TCPs (a drop on the sending host's own egress would be reported to
// its TCP as a local send failure and retried, not lost: DPDK-NOTES.md). The stack reaches
// PeerIP with the Kernel's KernelIP as its gateway. The namespace goes when the test ends, and
// the nftables counters are logged.
type Lossy struct {
	NS     string
	PeerIP string
}

// NewLossy puts a lossy router in front of k (NewKernel or NewKernelTap, its stack-side link
// already up) toward a new namespace on subnet+1. rtoMin, when not "", is the peer's route
// rto_min (Linux's minimum RTO toward the stack, e.g. "20ms").
func NewLossy(t testing.TB, k *Kernel, subnet, pct int, rtoMin string) *Lossy {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatal("nft not installed: run scripts/setup")
	}
	l := &Lossy{NS: k.NS + "b", PeerIP: fmt.Sprintf("198.19.%d.1", subnet+1)}
	inner, peer := k.Veth+"f", k.Veth+"g"
	t.Cleanup(func() { exec.Command("ip", "netns", "del", l.NS).Run() })
	run(t, "ip", "netns", "add", l.NS)
	run(t, "ip", "link", "add", inner, "netns", k.NS, "type", "veth", "peer", "name", peer, "netns", l.NS)
	k.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	k.Exec(t, "ip", "addr", "add", fmt.Sprintf("198.19.%d.254/24", subnet+1), "dev", inner)
	k.Exec(t, "ip", "link", "set", inner, "up")
	l.Exec(t, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	l.Exec(t, "ip", "link", "set", "lo", "up")
	l.Exec(t, "ip", "addr", "add", l.PeerIP+"/24", "dev", peer)
	l.Exec(t, "ip", "link", "set", peer, "up")
	route := []string{"route", "add", "default", "via", fmt.Sprintf("198.19.%d.254", subnet+1)}
	if rtoMin != "" {
		route = append(route, "rto_min", rtoMin)
	}
	l.Exec(t, "ip", route...)
	if _, err := exec.LookPath("ethtool"); err == nil {
		for _, dev := range []string{inner, k.PeerVeth} {
			k.Command("ethtool", "-K", dev, "gro", "off", "tso", "off", "gso", "off").Run()
		}
		l.Exec(t, "ethtool", "-K", peer, "tx", "off", "tso", "off", "gso", "off")
	}
	rules := fmt.Sprintf(`table inet zloss {
	chain zfwd { type filter hook forward priority 0; meta l4proto tcp numgen random mod 100 < %d counter drop; }
}`, pct)
	path := filepath.Join(t.TempDir(), "loss.nft")
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	k.Exec(t, "nft", "-f", path)
	t.Cleanup(func() {
		out, _ := k.Command("nft", "list", "table", "inet", "zloss").CombinedOutput()
		t.Logf("nftables: %s", out)
	})
	return l
}

// Command returns a command that runs inside the peer's namespace.
func (l *Lossy) Command(name string, args ...string) *exec.Cmd { return nsCommand(l.NS, name, args) }

// Exec runs a command inside the peer's namespace and fails the test if it fails.
func (l *Lossy) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return nsExec(t, l.NS, name, args)
}
