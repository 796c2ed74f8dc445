package udp_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
)

// Linux's own UDP as the peer: a network namespace behind a veth, our end opened by
// net_af_packet (see the package documentation for why not net_tap). Subnets 198.19.41-43.0/24.

func kernelStack(t *testing.T, subnet int) (*lab.Kernel, *stack.Stack) {
	t.Helper()
	k := lab.NewKernel(t, subnet)
	port, err := dpdk.Probe(k.Device())
	require.NoError(t, err)
	s := lab.NewStack(t, port, lab.Attr(t, "local_ip", k.StackIP+"/24"))
	return k, s
}

func TestKernelSocatSendsToReceiver(t *testing.T) {
	k, s := kernelStack(t, 41)
	r := newRx(t, s, nil)
	bind(t, r, netip.MustParseAddrPort(k.StackIP+":5000"), netip.AddrPort{})
	script := fmt.Sprintf("for i in 1 2 3 4 5; do printf 'datagram %%s' $i | socat -u - UDP4-SENDTO:%s:5000,sourceport=4444; done", k.StackIP)
	out, done := lab.Background(t, k.Command("sh", "-c", script))
	var got []dgram
	lab.Poll(t, s, 20*time.Second, "5 datagrams from socat", func() bool {
		got = append(got, recvAll(t, r)...)
		return len(got) >= 5
	})
	require.NoError(t, <-done, out.String())
	for i, d := range got {
		assert.Equal(t, fmt.Sprintf("datagram %d", i+1), string(d.data))
		assert.Equal(t, netip.MustParseAddrPort(k.KernelIP+":4444"), d.src)
	}
	assert.Zero(t, udp.StackCounters(s).Drops, "the kernel's checksums verify")
}

func TestKernelEchoAnswersTransmitter(t *testing.T) {
	k, s := kernelStack(t, 42)
	kernel := netip.MustParseAddrPort(k.KernelIP + ":7000")
	local := netip.MustParseAddrPort(k.StackIP + ":6000")
	r := newRx(t, s, nil)
	bind(t, r, local, kernel)
	tx := newTx(t, s, local, kernel, nil)
	// A Linux UDP echo: socat answers the first peer with whatever it sends.
	out, _ := lab.Background(t, k.Command("socat", "-T", "20", "UDP4-LISTEN:7000,bind="+k.KernelIP, "PIPE"))
	// The first datagram also resolves the kernel's MAC; until socat listens the kernel may
	// refuse it (ICMP port unreachable, which the stack drops), so resend until an echo comes.
	first := false
	for try := 0; try < 50 && !first; try++ {
		_, err := tx.SendSingle([]byte("hello kernel"))
		require.NoError(t, err)
		deadline := time.Now().Add(100 * time.Millisecond)
		for time.Now().Before(deadline) && !first {
			s.Perform()
			first = r.Counters().Unread > 0
		}
	}
	require.True(t, first, "no echo from socat: %s", out.String())
	recvAll(t, r)
	for i := 0; i < 20; i++ {
		payload := []byte(fmt.Sprintf("ping %02d %s", i, strings.Repeat("x", i*50)))
		iov := [][]byte{payload[:3], payload[3:]}
		_, err := tx.Send(iov, 0)
		require.NoError(t, err)
		var got []dgram
		lab.Poll(t, s, 5*time.Second, "echo", func() bool { got = recvAll(t, r); return len(got) > 0 })
		require.Len(t, got, 1)
		assert.Equal(t, string(payload), string(got[0].data))
		assert.Equal(t, kernel, got[0].src)
	}
	// A datagram over the MSS leaves as fragments, which the kernel reassembles (its
	// IpReasmOKs counts it) and delivers to socat.
	before := kernelCounter(t, k, "IpReasmOKs")
	big := []byte(strings.Repeat("0123456789", 300))
	_, err := tx.Send([][]byte{big}, 0)
	require.NoError(t, err)
	lab.Poll(t, s, 5*time.Second, "kernel reassembly", func() bool { return kernelCounter(t, k, "IpReasmOKs") > before })
	assert.Equal(t, uint64(3), udp.StackCounters(s).TxFragments)
}

// kernelCounter reads one of the namespace's SNMP counters (nstat, absolute value).
func kernelCounter(t *testing.T, k *lab.Kernel, name string) int {
	t.Helper()
	var v int
	for _, line := range strings.Split(k.Exec(t, "nstat", "-az", name), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			fmt.Sscan(f[1], &v)
		}
	}
	return v
}

func TestKernelMulticastReachesJoinedReceiver(t *testing.T) {
	k, s := kernelStack(t, 43)
	group := netip.MustParseAddrPort("239.7.7.7:5000")
	r := newRx(t, s, nil)
	bind(t, r, group, netip.AddrPort{})
	k.Exec(t, "ip", "route", "add", "224.0.0.0/4", "dev", k.PeerVeth)
	script := fmt.Sprintf("for i in 1 2 3; do printf 'group %%s' $i | socat -u - UDP4-DATAGRAM:239.7.7.7:5000,ip-multicast-ttl=1,ip-multicast-if=%s; done", k.KernelIP)
	out, done := lab.Background(t, k.Command("sh", "-c", script))
	var got []dgram
	lab.Poll(t, s, 20*time.Second, "3 multicast datagrams", func() bool {
		got = append(got, recvAll(t, r)...)
		return len(got) >= 3
	})
	require.NoError(t, <-done, out.String())
	for i, d := range got {
		assert.Equal(t, fmt.Sprintf("group %d", i+1), string(d.data))
		assert.Equal(t, group, d.dst)
	}
	assert.GreaterOrEqual(t, s.IGMPCounters().TxReports, uint64(1))
	// Unbound, the group's datagrams are no longer accepted.
	require.NoError(t, r.Unbind(group, netip.AddrPort{}))
	assert.Equal(t, uint64(1), s.IGMPCounters().TxLeaves)
	_, done = lab.Background(t, k.Command("sh", "-c", script))
	lab.Poll(t, s, 20*time.Second, "socat done", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	for i := 0; i < 10000; i++ {
		s.Perform()
	}
	assert.Empty(t, recvAll(t, r))
}

// TestKernelTapChecksumOffload sends through net_tap, which offers IPv4/UDP checksum offload:
// the stack leaves the checksums to the port (pseudo-header sum and offload flags) and the
// kernel, which verifies them, delivers the datagrams to socat.
func TestKernelTapChecksumOffload(t *testing.T) {
	k := lab.NewKernelTap(t, 44)
	port, err := dpdk.Probe(k.Device())
	require.NoError(t, err)
	s := lab.NewStack(t, port, lab.Attr(t, "local_ip", k.StackIP+"/24"))
	k.MoveTap(t)
	if !s.TxChecksumOffload() {
		t.Skip("net_tap offers no checksum offload here")
	}
	before := kernelCounter(t, k, "UdpInCsumErrors")
	out, done := lab.Background(t, k.Command("socat", "-u", "-T", "10", "UDP4-RECV:7000,bind="+k.KernelIP, "STDOUT"))
	tx := newTx(t, s, netip.MustParseAddrPort(k.StackIP+":6000"), netip.MustParseAddrPort(k.KernelIP+":7000"), nil)
	time.Sleep(100 * time.Millisecond)
	for i := 0; i < 3; i++ {
		_, err := tx.Send([][]byte{[]byte(fmt.Sprintf("offloaded %d;", i))}, 0)
		require.NoError(t, err)
		lab.Poll(t, s, 2*time.Second, "sent", func() bool { return s.IsQuiescent() })
	}
	lab.Poll(t, s, 10*time.Second, "socat got the datagrams", func() bool {
		return strings.Contains(out.String(), "offloaded 2;")
	})
	assert.Equal(t, "offloaded 0;offloaded 1;offloaded 2;", out.String())
	assert.Equal(t, before, kernelCounter(t, k, "UdpInCsumErrors"))
	_ = done
}
