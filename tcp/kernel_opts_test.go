package tcp

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// Linux negotiates the options with zocket both ways: the kernel's ss -ti shows ts, sack and
// wscale (its view of both shifts, which must be ours swapped) for a connection to a zocket
// listener and for one from a zocket to a Linux listener; with the attributes off it shows
// none of them. With a 4 MiB receive buffer Linux sees our window of several MiB (snd_wnd).
// A connection accepted through a SYN cookie (the listener's backlog full) has them all too:
// Linux's timestamps carry them through the handshake (syncookie.go).
func TestKernelOptions(t *testing.T) {
	for i, tc := range []struct {
		name   string
		attrs  []string
		active bool // the zocket connects
		on     bool
		cookie bool // the listener's backlog is full: Linux's SYN gets a SYN cookie
	}{
		{"Linux to zocket", nil, false, true, false},
		{"zocket to Linux", nil, true, true, false},
		{"Linux to zocket, options off", []string{"tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0"}, false, false, false},
		{"zocket to Linux, options off", []string{"tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0"}, true, false, false},
		{"Linux to zocket, 4 MiB window", []string{"n_bufs", "32767", "max_tcp_endpoints", "4"}, false, true, false},
		{"Linux to zocket through a SYN cookie", []string{"max_tcp_syn_backlog", "1"}, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, s := kernelStack(t, 63+i, tc.attrs...)
			var c *Conn
			if tc.active {
				_, done := lab.Background(t, k.Command("socat", "-u", "TCP4-LISTEN:7010,reuseaddr", "SYSTEM:cat >/dev/null"))
				c = connectRetry(t, s, 10*time.Second, netip.MustParseAddrPort(k.KernelIP+":7010"))
				defer func() { closeAndWaitQuiet(t, s, c, done) }()
			} else {
				l, err := Listen(s, netip.MustParseAddrPort(k.StackIP+":7010"), nil)
				require.NoError(t, err)
				defer l.Close()
				if tc.cookie {
					l.halfOpen = stateOf(s).cfg.synBacklog // as if a SYN flood held the backlog
				}
				_, done := lab.Background(t, k.Command("socat", "-u", "SYSTEM:echo hi; sleep 2", "TCP4:"+k.StackIP+":7010"))
				lab.Poll(t, s, 10*time.Second, "Linux's connection", func() bool { c, _ = l.Accept(); return c != nil })
				defer func() { closeAndWaitQuiet(t, s, c, done) }()
				// A few bytes, so that an ACK of ours carries the scaled window (the SYN-ACK's
				// is not scaled: at most 65535).
				buf := make([]byte, 16)
				lab.Poll(t, s, 10*time.Second, "Linux's bytes", func() bool { n, _ := c.Recv([][]byte{buf}); return n > 0 })
				lab.Poll(t, s, 10*time.Second, "our ACK", func() bool { return c.ackPending == 0 && !c.ackNow })
			}
			for range 1000 {
				s.Perform()
			}
			info := ssInfo(t, k, c)
			t.Logf("ss -ti: %s", info)
			assert.Equal(t, tc.cookie, StackCounters(s).SynCookiesRecv == 1, "accepted through a cookie")
			word := func(w string) bool { return regexp.MustCompile(`(^|\s)` + w + `(\s|$)`).MatchString(info) }
			assert.Equal(t, tc.on, word("ts"), "ts")
			assert.Equal(t, tc.on, word("sack"), "sack")
			m := regexp.MustCompile(`wscale:(\d+),(\d+)`).FindStringSubmatch(info)
			if !tc.on {
				assert.Nil(t, m, "no wscale")
				assert.False(t, c.sackOK || c.tsOK || c.wsOK)
				return
			}
			require.NotNil(t, m, "wscale")
			assert.Equal(t, fmt.Sprint(c.rcvShift), m[1], "Linux's send shift is ours")
			assert.Equal(t, fmt.Sprint(c.sndShift), m[2], "Linux's receive shift is our send shift")
			assert.True(t, c.sackOK && c.tsOK && c.wsOK)
			w := regexp.MustCompile(`snd_wnd:(\d+)`).FindStringSubmatch(info)
			require.NotNil(t, w, "snd_wnd")
			var sndWnd int
			fmt.Sscan(w[1], &sndWnd)
			assert.Equal(t, int(c.rcvNxt.Size(c.rcvAdv)), sndWnd, "Linux's send window is the window we advertised")
			if c.rcvShift > 0 {
				assert.Greater(t, sndWnd, 2<<20, "several MiB")
			}
		})
	}
}

// ssInfo is the kernel's ss -tine line about c's connection (the peer's end of it).
func ssInfo(t *testing.T, k *lab.Kernel, c *Conn) string {
	t.Helper()
	out := k.Exec(t, "ss", "-tineH", "dst", c.LocalAddr().String()) // -e: iproute2 6.1 prints ts and sack only then
	require.NotEmpty(t, strings.TrimSpace(out), "ss sees no connection to %v", c.LocalAddr())
	return strings.Join(strings.Fields(out), " ")
}

// closeAndWaitQuiet closes c and performs s until the peer command has exited.
func closeAndWaitQuiet(t *testing.T, s *stack.Stack, c *Conn, done <-chan error) {
	t.Helper()
	_ = c.ShutdownTx()
	lab.Poll(t, s, 10*time.Second, "the peer's exit", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	c.Close()
}
