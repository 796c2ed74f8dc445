package tcp

import (
	"fmt"
	"testing"

	"github.com/zocket/zocket/stack"
)

// The lossy two-stack runs (duplex: both directions at once, SHA-256, a clean close) with the
// options switched off one at a time and all together; TestLossyLink covers them all on (the
// default).
func TestLossyLinkOptionsOff(t *testing.T) {
	settings := []struct {
		name string
		kv   []string
	}{
		{"sack=0", []string{"tcp_sack", "0"}},
		{"timestamps=0", []string{"tcp_timestamps", "0"}},
		{"window_scaling=0", []string{"tcp_window_scaling", "0"}},
		{"all=0", []string{"tcp_sack", "0", "tcp_timestamps", "0", "tcp_window_scaling", "0"}},
	}
	for _, st := range settings {
		for _, prof := range []lossProfile{lossProfiles[1], lossProfiles[2], lossProfiles[4], lossProfiles[7]} {
			for seed := uint64(1); seed <= 2; seed++ {
				t.Run(fmt.Sprintf("%s/%s/seed=%d", st.name, prof.name, seed), func(t *testing.T) {
					p := newPair(t, append([]string{"tcp_timewait_ms", "1000", "tcp_retries", "40"}, st.kv...)...)
					c, s, _ := p.connect(7200)
					fa, fb := prof.f, prof.f
					fa.Seed, fb.Seed = seed, seed+0x5eed
					p.A.SetFaults(fa)
					p.B.SetFaults(fb)
					duplex(t, p, c, s, 200<<10, seed)
					p.A.SetFaults(stack.Faults{})
					p.B.SetFaults(stack.Faults{})
				})
			}
		}
	}
}
