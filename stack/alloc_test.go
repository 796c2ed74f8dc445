package stack_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

func TestPerformAllocatesNothing(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		replies int
	}{
		{"idle", nil, 0},
		{"echo request", echoRequest(lab.StackIP, 1, 2, "0123456789abcdef0123456789abcdef"), 1},
		{"ARP request", arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP), 1},
		{"dropped frame", echoRequest([4]byte{198, 18, 0, 99}, 1, 2, "x"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			f := r.NewFeeder(t, tc.frame, 1, false)
			replies := 0
			allocs := testing.AllocsPerRun(1000, func() {
				if tc.frame != nil {
					f.Inject()
				}
				r.S.Perform()
				replies += f.Drain()
			})
			assert.Zero(t, allocs)
			assert.Equal(t, 1001*tc.replies, replies, "each frame handled")
		})
	}
}

func BenchmarkPerformIdle(b *testing.B) {
	r := lab.NewRaw(b, "reactor_spin_count", "1")
	r.S.SetClock(nil)
	b.ReportAllocs()
	for b.Loop() {
		r.S.Perform()
	}
}

func benchmarkFrames(b *testing.B, frame []byte, burst int) {
	r := lab.NewRaw(b)
	r.S.SetClock(nil)
	f := r.NewFeeder(b, frame, burst, false)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		f.Inject()
		b.StartTimer()
		r.S.Perform()
		b.StopTimer()
		f.Drain()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/pkt")
}

func BenchmarkPerformEcho(b *testing.B) {
	benchmarkFrames(b, echoRequest(lab.StackIP, 1, 2, "0123456789abcdef0123456789abcdef"), 32)
}

func BenchmarkPerformARP(b *testing.B) {
	benchmarkFrames(b, arpFrame(wire.ARPRequest, lab.PeerMAC, lab.PeerIP, [6]byte{}, lab.StackIP), 32)
}

func BenchmarkPerformDrop(b *testing.B) {
	benchmarkFrames(b, echoRequest([4]byte{198, 18, 0, 99}, 1, 2, "x"), 32)
}
