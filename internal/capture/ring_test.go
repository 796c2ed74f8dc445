package capture

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func frame(i, n int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, n)
	return b
}

func put(r *Ring, b []byte, flags uint32, tag int) bool {
	d := r.Reserve(len(b), len(b)+4, uint64(1000+len(b)), flags, uint32(tag))
	if d == nil {
		return false
	}
	copy(d, b)
	return true
}

func drain(r *Ring) []Record {
	var out []Record
	r.Drain(func(rec *Record) {
		c := *rec
		c.Data = append([]byte(nil), rec.Data...)
		out = append(out, c)
	})
	return out
}

func TestRingRoundTrip(t *testing.T) {
	r := NewRing(0)
	require.Equal(t, 64<<10, r.Size())
	require.True(t, put(r, frame(1, 60), Inbound, 0))
	require.True(t, put(r, frame(2, 1514), Outbound, 0))
	assert.Empty(t, drain(r), "nothing before Publish")
	r.Publish()
	got := drain(r)
	require.Len(t, got, 2)
	assert.Equal(t, Record{TSC: 1060, OrigLen: 64, Flags: Inbound, Data: frame(1, 60)}, got[0])
	assert.Equal(t, uint32(Outbound), got[1].Flags)
	assert.Equal(t, frame(2, 1514), got[1].Data)
	p, b, d := r.Stats()
	assert.Equal(t, [3]uint64{2, 1574, 0}, [3]uint64{p, b, d})
}

// TestRingWrapsAndFills: records never straddle the end, a full ring drops and counts, and
// space comes back once drained.
func TestRingWrapsAndFills(t *testing.T) {
	r := NewRing(64 << 10)
	sizes := []int{60, 1514, 333, 9000, 128, 7}
	var want [][]byte
	for i := 0; i < 200; i++ {
		b := frame(i, sizes[i%len(sizes)])
		if !put(r, b, Inbound, 0) {
			r.Publish()
			got := drain(r)
			require.Len(t, got, len(want), "at %d", i)
			for j := range got {
				require.Equal(t, want[j], got[j].Data)
			}
			want = want[:0]
			require.True(t, put(r, b, Inbound, 0), "room after draining")
		}
		want = append(want, b)
	}
	assert.NotZero(t, r.Drops())
	r.Publish()
	assert.Len(t, drain(r), len(want))
	assert.Nil(t, r.Reserve(40<<10, 0, 0, Inbound, 0), "a record over half the ring never fits")
}

func TestRingVoid(t *testing.T) {
	r := NewRing(0)
	require.True(t, put(r, frame(9, 10), Inbound, 0))
	r.Publish()
	for i := range 5 {
		require.True(t, put(r, frame(i, 100), Outbound, i))
	}
	r.Void(2) // the port took two of five
	r.Publish()
	got := drain(r)
	require.Len(t, got, 3)
	assert.Equal(t, frame(9, 10), got[0].Data)
	assert.Equal(t, frame(0, 100), got[1].Data)
	assert.Equal(t, frame(1, 100), got[2].Data)
	p, _, _ := r.Stats()
	assert.Equal(t, uint64(3), p)
}

// TestRingConcurrent runs a producer and a consumer at once (go test -race).
func TestRingConcurrent(t *testing.T) {
	r := NewRing(64 << 10)
	const n = 20000
	var wg sync.WaitGroup
	var got []int
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				r.Drain(func(rec *Record) { got = append(got, int(rec.Data[0])|int(rec.Data[1])<<8) })
				return
			default:
				r.Drain(func(rec *Record) { got = append(got, int(rec.Data[0])|int(rec.Data[1])<<8) })
			}
		}
	})
	sent := []int{}
	for i := range n {
		b := make([]byte, 64+i%700)
		b[0], b[1] = byte(i), byte(i>>8)
		if put(r, b, Inbound, 0) {
			sent = append(sent, i&0xffff)
		}
		r.Publish()
	}
	close(stop)
	wg.Wait()
	assert.Equal(t, sent, got)
	assert.Equal(t, uint64(n-len(sent)), r.Drops())
}

func TestFilter(t *testing.T) {
	eth := func(typ uint16, l3 []byte) []byte {
		b := make([]byte, 14, 64)
		b[12], b[13] = byte(typ>>8), byte(typ)
		return append(b, l3...)
	}
	ip := func(proto byte, sport, dport uint16, frag uint16) []byte {
		h := make([]byte, 24)
		h[0], h[9] = 0x45, proto
		h[6], h[7] = byte(frag>>8), byte(frag)
		h[20], h[21], h[22], h[23] = byte(sport>>8), byte(sport), byte(dport>>8), byte(dport)
		return eth(0x0800, h)
	}
	vlan := func(f []byte) []byte {
		v := append([]byte(nil), f[:12]...)
		v = append(v, 0x81, 0x00, 0, 5)
		return append(v, f[12:]...)
	}
	tcp80 := ip(6, 40000, 80, 0)
	udp53 := ip(17, 53, 9999, 0)
	tests := []struct {
		filter string
		frame  []byte
		want   bool
	}{
		{"", tcp80, true},
		{"port 80", tcp80, true},
		{"port 80", vlan(tcp80), true},
		{"port 40000", tcp80, true},
		{"port 443", tcp80, false},
		{"port 80 or port 443", tcp80, true},
		{"udp port 80", tcp80, false},
		{"tcp port 80", tcp80, true},
		{"udp port 53", udp53, true},
		{"port 80", ip(6, 1, 80, 0x2000), true},  // first fragment (MF set, offset 0)
		{"port 80", ip(6, 1, 80, 0x0010), false}, // later fragment: no ports
		{"tcp", ip(6, 1, 2, 0x0010), true},
		{"icmp", ip(1, 0, 0, 0), true},
		{"icmp", tcp80, false},
		{"arp", eth(0x0806, make([]byte, 28)), true},
		{"arp or port 80", udp53, false},
		{"port 80", eth(0x86dd, make([]byte, 40)), false},
		{"port 80", []byte{1, 2}, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%x", tc.filter, tc.frame[:min(len(tc.frame), 2)]), func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.Match(tc.frame))
			assert.Equal(t, tc.filter, f.String())
		})
	}
	for _, bad := range []string{"host 1.2.3.4", "port", "port 0", "port 70000", "tcp port", "port 80 and port 81"} {
		_, err := ParseFilter(bad)
		assert.Error(t, err, bad)
	}
}

func TestFilterAllocatesNothing(t *testing.T) {
	f, err := ParseFilter("port 80 or udp port 53 or arp")
	require.NoError(t, err)
	b := make([]byte, 60)
	b[12], b[13], b[14], b[23] = 8, 0, 0x45, 6
	assert.Zero(t, testing.AllocsPerRun(100, func() { f.Match(b) }))
}

func TestRingProducerAllocatesNothing(t *testing.T) {
	r := NewRing(1 << 20)
	f := frame(1, 1514)
	allocs := testing.AllocsPerRun(1000, func() {
		put(r, f, Outbound, 0)
		r.Publish()
		r.Void(1)
		if r.Drops() > 0 {
			r.Drain(func(*Record) {})
		}
	})
	assert.Zero(t, allocs)
}
