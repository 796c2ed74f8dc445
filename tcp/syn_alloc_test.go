package tcp

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/wire"
)

// peerFrames injects the peer's segments of one connection without allocating: each is a
// prebuilt frame (a lab.Feeder each) whose source port is patched before it goes.
type peerFrames struct {
	sc     *script
	frames [][]byte
	feed   []*lab.Feeder
}

func (sc *script) peerFrames(segs ...seg) *peerFrames {
	p := &peerFrames{sc: sc}
	for _, g := range segs {
		f := g.frame()
		p.frames = append(p.frames, f)
		p.feed = append(p.feed, sc.r.NewFeeder(sc.t, f, 1, true))
	}
	return p
}

// send injects segment i from source port sport, performs the stack and drops what it sent.
func (p *peerFrames) send(i int, sport uint16) {
	t := wire.TCP(p.frames[i][34:])
	t.SetSrcPort(sport)
	t.SetChecksum(0)
	t.SetChecksum(t.ComputeChecksum(lab.PeerIP, lab.StackIP))
	p.feed[i].Inject()
	p.sc.r.S.Perform()
	p.feed[i].Drain()
}

// Item 12: a SYN allocates no Go heap: connections come from a pool made with the stack's TCP
// (max_tcp_endpoints of them, with their receive rings) and the demultiplexer's table does not
// allocate on insert or delete. A SYN flood evicting half-open connections, and full
// accept/close cycles, run at 0 allocations.
func TestSynAllocatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cycle func(p *peerFrames, l *Listener, port uint16)
	}{
		{"SYN flood", func(p *peerFrames, l *Listener, port uint16) { p.send(0, port) }},
		{"accept and close", func(p *peerFrames, l *Listener, port uint16) {
			p.send(0, port) // SYN
			p.send(1, port) // ACK of the SYN-ACK
			c, err := l.Accept()
			if err != nil {
				panic(err)
			}
			c.Close()       // FIN-WAIT-1
			p.send(2, port) // the peer resets: freed
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := newScript(t, "max_tcp_syn_backlog", "8")
			l := sc.listen()
			p := sc.peerFrames(
				seg{flags: fS, seq: peerISN, mss: 1460},
				seg{flags: fA, seq: peerISN + 1, ack: stackISN + 1},
				seg{flags: fR, seq: peerISN + 1},
			)
			port := uint16(10000)
			cycle := func() {
				port++
				if port == 60000 {
					port = 10001
				}
				tc.cycle(p, l, port)
			}
			for range 200 {
				cycle()
			}
			assert.Zero(t, testing.AllocsPerRun(5000, cycle), "allocations per cycle")
			require.LessOrEqual(t, sc.s.nconns, 8)
			assert.Zero(t, StackCounters(sc.r.S).Drops[DropBacklog])
		})
	}
}

// BenchmarkSynFlood is one spoofed SYN to a listener whose backlog is full (the oldest
// half-open connection makes room), with the garbage collections it causes per million SYNs.
func BenchmarkSynFlood(b *testing.B) {
	sc := newScript(b, "max_tcp_syn_backlog", "32")
	sc.listen()
	p := sc.peerFrames(seg{flags: fS, seq: peerISN, mss: 1460})
	port := uint16(10000)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ReportAllocs()
	for b.Loop() {
		port++
		if port == 60000 {
			port = 10001
		}
		p.send(0, port)
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.NumGC-ms0.NumGC)*1e6/float64(b.N), "GCs/1M-SYNs")
}

// The demultiplexer's table agrees with a map through random inserts and deletes in a table
// small enough for long collision chains that wrap around its end, and allocates nothing.
func TestConnTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int // connections the table is made for
		keys int // distinct keys drawn from
	}{{"tiny", 4, 6}, {"default", 64, 200}, {"large", 1024, 5000}} {
		t.Run(tc.name, func(t *testing.T) {
			var tab connTable
			tab.init(tc.n, 12345)
			rng := rand.New(rand.NewPCG(uint64(tc.n), 1))
			conns := make([]Conn, tc.keys)
			for i := range conns {
				conns[i].key = uint64(i+1)<<16 | 80
			}
			in := map[uint64]*Conn{}
			for op := 0; op < 50000; op++ {
				c := &conns[rng.IntN(tc.keys)]
				switch {
				case in[c.key] != nil:
					tab.del(c.key)
					delete(in, c.key)
				case len(in) < tc.n:
					tab.put(c)
					in[c.key] = c
				}
				require.Equal(t, len(in), tab.n)
				k := conns[rng.IntN(tc.keys)].key
				require.Equal(t, in[k], tab.get(k), "key %x after %d operations", k, op)
			}
			c := &conns[0]
			if tab.get(c.key) != nil {
				tab.del(c.key)
			}
			assert.Zero(t, testing.AllocsPerRun(1000, func() { tab.put(c); tab.del(c.key) }))
		})
	}
}
