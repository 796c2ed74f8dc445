package stack_test

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
)

// fakeProto is the IP protocol number the fake transport is installed for (experimental).
const fakeProto = 253

// fakeKind is the fake transport's row kind: the shape a TCP dump has (groups of fields on
// lines, states by number).
var fakeKind = &stack.DumpKind{
	Type: "fake", Title: "FAKE",
	States: []string{"", "OPEN", "CLOSING"},
	Fields: []stack.DumpField{
		{Name: "snd_nxt", Group: "tx"}, {Name: "snd_una", Group: "tx"}, {Name: "snd_wnd", Group: "tx"},
		{Name: "cwnd", Group: "tx"}, {Name: "ssthresh", Group: "tx"}, {Name: "inflight", Group: "tx"},
		{Name: "sendq", Group: "tx"}, {Name: "mss", Group: "tx"},
		{Name: "rcv_nxt", Group: "rx"}, {Name: "rcv_wnd", Group: "rx"}, {Name: "unread", Group: "rx"},
		{Name: "srtt_us", Group: "rtt"}, {Name: "rttvar_us", Group: "rtt"}, {Name: "rto_ms", Group: "rtt"},
		{Name: "nrtx", Group: "rtt"}, {Name: "dupacks", Group: "rtt"},
		{Name: "ooo_added", Group: "ooo"}, {Name: "ooo_removed", Group: "ooo"},
		{Name: "ooo_dropped", Group: "ooo"}, {Name: "timers", Group: "timers"},
	},
}

// fakeConn is one zocket of the fake transport: a heap object of its own, as a TCP
// connection is, so that dumping walks pointers like the real thing.
type fakeConn struct {
	id    uint32
	port  uint16
	state uint8
	vals  [20]uint64
	_     [64]byte // the rest of a connection's state
}

// fakeTransport is a Transport and a Dumper with n zockets in a slot table, resuming where
// the row budget stopped it: what udp and tcp are expected to implement.
type fakeTransport struct {
	conns   []*fakeConn
	retrans uint64
	drops   uint64
}

func newFake(n int) *fakeTransport {
	f := &fakeTransport{}
	for i := range n {
		c := &fakeConn{id: uint32(i), port: uint16(10000 + i), state: 1}
		for j := range c.vals {
			c.vals[j] = uint64(i*100 + j)
		}
		f.conns = append(f.conns, c)
	}
	return f
}

func (f *fakeTransport) Deliver(p *stack.Packet) bool { p.Mbuf.Free(); return false }

// tick changes every zocket's counters, as traffic would.
func (f *fakeTransport) tick() {
	f.retrans++
	for _, c := range f.conns {
		for j := range c.vals {
			c.vals[j]++
		}
	}
}

func (f *fakeTransport) Dump(d *stack.DumpBuilder) {
	d.Counter(stack.TCPRetransmits, f.retrans)
	d.Drop("fake_queue_full", f.drops)
	for i := d.Cursor(); i < len(f.conns); i++ {
		if !d.More() {
			d.Continue(i)
			return
		}
		c := f.conns[i]
		r := d.Row(fakeKind)
		r.ID, r.State = c.id, c.state
		r.LocalIP, r.LocalPort = lab.StackIP, c.port
		r.RemoteIP, r.RemotePort = lab.PeerIP, 80
		copy(r.F, c.vals[:])
	}
}

func TestSnapshotSync(t *testing.T) {
	r := lab.NewRaw(t)
	f := newFake(3)
	f.retrans, f.drops = 7, 2
	r.S.SetTransport(fakeProto, f)
	r.S.SnapshotSync(func(sn *stack.Snapshot) {
		assert.Equal(t, uint64(7), sn.Transport[stack.TCPRetransmits])
		assert.Equal(t, []stack.DumpDrop{{Reason: "fake_queue_full", N: 2}}, sn.Drops)
		assert.NotZero(t, sn.PoolSize)
		assert.True(t, sn.PortOK)
		require.Len(t, sn.Rows, 3)
		row := &sn.Rows[1]
		assert.Equal(t, "OPEN", row.StateName())
		assert.Equal(t, "198.18.0.1:10001", row.LocalAddr().String())
		assert.Equal(t, "198.18.0.9:80", row.RemoteAddr().String())
		v, ok := row.Field("cwnd")
		assert.True(t, ok)
		assert.Equal(t, uint64(103), v)
	})
}

func TestSnapshotHandshake(t *testing.T) {
	tests := []struct {
		name    string
		zockets int
		budget  int
		turns   int // Perform calls the build should span
	}{
		{"no zockets", 0, 128, 1},
		{"one turn", 100, 128, 1},
		{"resumed", 1000, 128, 8},
		{"one row a turn", 5, 1, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := lab.NewRaw(t)
			f := newFake(tc.zockets)
			r.S.SetTransport(fakeProto, f)
			stack.SetSnapshotBudget(r.S, tc.budget)
			stop := lab.Loop(t, func() { r.S.Perform() }) // the polling goroutine
			var rows int
			var turns int
			var seq uint64
			fresh := r.S.Snapshot(time.Second, func(sn *stack.Snapshot) {
				rows, turns, seq = len(sn.Rows), sn.Turns, sn.Seq
				for i := range sn.Rows {
					if sn.Rows[i].ID != uint32(i) {
						t.Errorf("row %d has id %d", i, sn.Rows[i].ID)
					}
				}
			})
			stop()
			assert.True(t, fresh)
			assert.Equal(t, tc.zockets, rows)
			assert.Equal(t, tc.turns, turns)
			assert.Greater(t, seq, uint64(1), "not New's snapshot")
		})
	}
}

func TestSnapshotTimeoutServesLast(t *testing.T) {
	r := lab.NewRaw(t)
	start := time.Now()
	var age time.Duration
	var seq uint64
	fresh := r.S.Snapshot(20*time.Millisecond, func(sn *stack.Snapshot) {
		age, seq = sn.Age(time.Now()), sn.Seq
	})
	assert.False(t, fresh, "nobody called Perform")
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	assert.GreaterOrEqual(t, age, 20*time.Millisecond)
	assert.Equal(t, uint64(1), seq, "New's snapshot")

	// The request is still pending: the next Perform serves it.
	require.True(t, stack.SnapshotPending(r.S))
	r.S.Perform()
	assert.False(t, stack.SnapshotPending(r.S))
	fresh = r.S.Snapshot(time.Millisecond, func(sn *stack.Snapshot) { seq = sn.Seq })
	assert.False(t, fresh)
	assert.Equal(t, uint64(2), seq, "built by the Perform after the timeout")
}

func TestSnapshotAfterClose(t *testing.T) {
	p := lab.NewPair(t)
	require.NoError(t, p.B.Close())
	start := time.Now()
	fresh := p.B.Snapshot(time.Second, func(*stack.Snapshot) {})
	assert.False(t, fresh)
	assert.Less(t, time.Since(start), 100*time.Millisecond, "a closed stack is not waited for")
}

// TestSnapshotRace runs the handshake under the race detector: a polling goroutine changes
// counters and performs while two readers take snapshots; each reader sees every row's
// counters only grow, and rows whole (all fields of a row from one moment).
func TestSnapshotRace(t *testing.T) {
	r := lab.NewRaw(t)
	f := newFake(300)
	r.S.SetTransport(fakeProto, f)
	stack.SetSnapshotBudget(r.S, 64) // builds span several Perform calls
	stop := lab.Loop(t, func() {
		f.tick()
		r.S.Perform()
	})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			last := make([]uint64, len(f.conns))
			lastRetrans := uint64(0)
			for range 200 {
				fresh := r.S.Snapshot(time.Second, func(sn *stack.Snapshot) {
					assert.GreaterOrEqual(t, sn.Transport[stack.TCPRetransmits], lastRetrans)
					lastRetrans = sn.Transport[stack.TCPRetransmits]
					if !assert.Len(t, sn.Rows, len(f.conns)) {
						return
					}
					for i := range sn.Rows {
						row := &sn.Rows[i]
						base := row.F[0]
						assert.GreaterOrEqual(t, base, last[i], "row %d went back", i)
						last[i] = base
						for j, v := range row.F {
							if v != base+uint64(j) {
								t.Errorf("row %d torn: field %d = %d, want %d", i, j, v, base+uint64(j))
								return
							}
						}
					}
				})
				assert.True(t, fresh)
			}
		})
	}
	wg.Wait()
	stop()
}

// TestSnapshotServingAllocatesNothing: serving a request inside Perform copies into the
// preallocated buffers.
func TestSnapshotServingAllocatesNothing(t *testing.T) {
	r := lab.NewRaw(t)
	f := newFake(200)
	r.S.SetTransport(fakeProto, f)
	for range 4 { // warm every buffer
		stack.RequestSnapshot(r.S)
		for stack.SnapshotPending(r.S) {
			r.S.Perform()
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		stack.RequestSnapshot(r.S)
		for stack.SnapshotPending(r.S) {
			r.S.Perform()
		}
	})
	assert.Zero(t, allocs)
}

// BenchmarkSnapshot1000 measures copying 1,000 zockets: "full" builds the whole snapshot at
// once (SnapshotSync); "turn" is one Perform call serving a request with the default row
// budget, the longest the data path pauses.
func BenchmarkSnapshot1000(b *testing.B) {
	r := lab.NewRaw(b, "max_tcp_endpoints", "1000")
	r.S.SetClock(nil)
	f := newFake(1000)
	r.S.SetTransport(fakeProto, f)
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.S.SnapshotSync(func(*stack.Snapshot) {})
		}
	})
	b.Run("turn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !stack.SnapshotPending(r.S) {
				stack.RequestSnapshot(r.S)
			}
			r.S.Perform()
		}
	})
	b.Run("perform-idle-no-request", func(b *testing.B) {
		for stack.SnapshotPending(r.S) {
			r.S.Perform()
		}
		for b.Loop() {
			r.S.Perform()
		}
	})
}

// TestCountersEachCoversEveryField: a counter added to Counters must be added to Each, or
// zfstackdump and the metrics would not show it.
func TestCountersEachCoversEveryField(t *testing.T) {
	var count func(v reflect.Value) int
	count = func(v reflect.Value) int {
		switch v.Kind() {
		case reflect.Uint64:
			return 1
		case reflect.Array:
			return v.Len() * count(reflect.Zero(v.Type().Elem()))
		case reflect.Struct:
			n := 0
			for i := range v.NumField() {
				n += count(v.Field(i))
			}
			return n
		}
		t.Fatalf("Counters has a %s field: Each and this test handle uint64s", v.Kind())
		return 0
	}
	var c stack.Counters
	names := map[string]bool{}
	c.Each(func(name string, _ uint64) {
		assert.False(t, names[name], "duplicate %s", name)
		names[name] = true
	})
	assert.Equal(t, count(reflect.ValueOf(c)), len(names))
}
