package alts_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/alts"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
)

func iov(s string) [][]byte { return [][]byte{[]byte(s)} }

func mustAlloc(t testing.TB, st *stack.Stack) *alts.Alt {
	t.Helper()
	a, err := alts.Alloc(st, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = alts.Release(st, a) })
	return a
}

// TestGuideExample is §5.10 of the user guide: queues A, B and A+B; A is sent, the others are
// cancelled; then the edit-by-requeue into a replacement alternative.
func TestGuideExample(t *testing.T) {
	e := newEnv(t)
	c, s := e.connect(7000)
	st := e.A

	qa, qb, qab := mustAlloc(t, st), mustAlloc(t, st), mustAlloc(t, st)
	require.NoError(t, alts.Queue(c, qa, iov("<UpdateA>"), 0))
	require.NoError(t, alts.Queue(c, qb, iov("<UpdateB>"), 0))
	require.NoError(t, alts.Queue(c, qab, iov("<UpdateA>"), 0))
	require.NoError(t, alts.Queue(c, qab, iov("<UpdateB>"), 0))
	assert.Equal(t, []int{1, 1, 2}, []int{qa.Len(), qb.Len(), qab.Len()})

	require.NoError(t, alts.Send(st, qa))
	// The others were built for the sequence point A's data now occupies.
	assert.Equal(t, syscall.EINVAL, alts.Send(st, qb))
	assert.Equal(t, syscall.EINVAL, alts.Send(st, qab))
	require.NoError(t, alts.Cancel(st, qb))
	require.NoError(t, alts.Cancel(st, qab))
	assert.Equal(t, []int{0, 0, 0}, []int{qa.Len(), qb.Len(), qab.Len()})
	assert.Equal(t, "<UpdateA>", e.readAll(s))

	// Edit by requeue: queue_ab holds unwanted data; a replacement gets the edited message and
	// queue_ab is released without waiting for its cancel.
	require.NoError(t, alts.Queue(c, qab, iov("<UpdateA>"), 0))
	require.NoError(t, alts.Queue(c, qab, iov("<UpdateB>"), 0))
	qnew := mustAlloc(t, st)
	require.NoError(t, alts.Queue(c, qnew, iov("<UpdateA_edited>"), 0))
	require.NoError(t, alts.Queue(c, qnew, iov("<UpdateB>"), 0))
	require.NoError(t, alts.Release(st, qab))
	assert.Equal(t, syscall.EINVAL, alts.Release(st, qab), "released twice")
	require.NoError(t, alts.Send(st, qnew))
	assert.Equal(t, "<UpdateA_edited><UpdateB>", e.readAll(s))

	ctr := alts.StackCounters(st)
	assert.Equal(t, uint64(8), ctr.Queued)
	assert.Equal(t, uint64(2), ctr.Sent)
	assert.Equal(t, uint64(3), ctr.Cancelled) // qb, qab, and qab's release with messages
	assert.Equal(t, uint64(2), ctr.Stale)

	// The counters reach snapshots (zfstackdump) through the stack's Dumper.
	st.SnapshotSync(func(sn *stack.Snapshot) {
		assert.Equal(t, uint64(8), sn.Transport[stack.AltsQueued])
		assert.Equal(t, uint64(2), sn.Transport[stack.AltsSent])
		assert.Equal(t, uint64(3), sn.Transport[stack.AltsCancelled])
		rows := 0
		for i := range sn.Rows {
			if sn.Rows[i].Kind.Type == "tcp_alt" {
				rows++
			}
		}
		assert.Equal(t, 3, rows) // qa, qb, qnew
	})
}

// TestStreamMix drives two connections with four alternatives each through a seeded mix of
// normal sends, queues, alternative sends and cancels, and checks each byte stream against
// what was accepted.
func TestStreamMix(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e := newEnv(t, "alt_buf_size", "1000000")
			type side struct {
				c, s *tcp.Conn
				alt  []*alts.Alt
				q    [][]string // what each alternative holds
				want strings.Builder
				got  []byte
			}
			var sides [2]*side
			for i := range sides {
				c, s := e.connect(uint16(7100 + i))
				sd := &side{c: c, s: s}
				for j := 0; j < 4; j++ {
					sd.alt = append(sd.alt, mustAlloc(t, e.A))
					sd.q = append(sd.q, nil)
				}
				sides[i] = sd
			}
			r := rand.New(rand.NewPCG(seed, 99))
			msg := 0
			next := func() string {
				msg++
				return fmt.Sprintf("[%d:%s]", msg, strings.Repeat("x", r.IntN(1200)))
			}
			for step := 0; step < 400; step++ {
				sd := sides[r.IntN(2)]
				j := r.IntN(4)
				switch op := r.IntN(10); {
				case op < 2: // a normal send: every queued alternative of the connection is stale
					m := next()
					n, err := sd.c.SendSingle([]byte(m), 0)
					if err == nil {
						sd.want.WriteString(m[:n])
					}
				case op < 6:
					m := next()
					err := alts.Queue(sd.c, sd.alt[j], iov(m), 0)
					switch errno(err) {
					case 0:
						sd.q[j] = append(sd.q[j], m)
					case syscall.EINVAL: // stale: cancel
						require.NoError(t, alts.Cancel(e.A, sd.alt[j]))
						sd.q[j] = nil
					default:
						t.Fatalf("queue: %v", err)
					}
				case op < 8:
					switch err := alts.Send(e.A, sd.alt[j]); errno(err) {
					case 0:
						sd.want.WriteString(strings.Join(sd.q[j], ""))
						sd.q[j] = nil
					case syscall.EINVAL:
						require.NoError(t, alts.Cancel(e.A, sd.alt[j]))
						sd.q[j] = nil
					case syscall.EBUSY: // stays queued
					default:
						t.Fatalf("send: %v", err)
					}
				default:
					require.NoError(t, alts.Cancel(e.A, sd.alt[j]))
					sd.q[j] = nil
				}
				if r.IntN(3) == 0 {
					e.Step()
					e.Clock.Advance(int64(time.Microsecond))
					for _, x := range sides {
						drain(x.s, &x.got)
					}
				}
			}
			for _, sd := range sides {
				for j := range sd.alt {
					require.NoError(t, alts.Cancel(e.A, sd.alt[j]))
				}
			}
			for i := 0; i < 100; i++ {
				e.settle()
				e.Clock.Advance(int64(10 * time.Millisecond))
				for _, x := range sides {
					drain(x.s, &x.got)
				}
			}
			for i, sd := range sides {
				require.Equal(t, sd.want.String(), string(sd.got), "connection %d", i)
			}
			ctr := alts.StackCounters(e.A)
			assert.NotZero(t, ctr.Sent)
			assert.NotZero(t, ctr.Stale)
			t.Logf("seed %d: %+v, tcp %+v", seed, ctr, tcp.StackCounters(e.A).TxSegments)
		})
	}
}

// TestLossRecovered drops every frame of an alternative's burst: TCP retransmits them like
// any segment of its own.
func TestLossRecovered(t *testing.T) {
	e := newEnv(t)
	c, s := e.connect(7200)
	a := mustAlloc(t, e.A)
	want := ""
	for i := 0; i < 3; i++ {
		m := fmt.Sprintf("<packet %d %s>", i, strings.Repeat("y", 1000))
		require.NoError(t, alts.Queue(c, a, iov(m), 0))
		want += m
	}
	e.A.SetFaults(stack.Faults{Seed: 1, Drop: 1})
	require.NoError(t, alts.Send(e.A, a))
	e.A.SetFaults(stack.Faults{})
	assert.Equal(t, uint64(3), e.A.Counters().Faults.Dropped)
	assert.Equal(t, "", e.readAll(s))
	before := tcp.StackCounters(e.A).Retransmits
	var got []byte
	e.Run(t, 5000, time.Millisecond, func() bool { drain(s, &got); return len(got) == len(want) })
	assert.Equal(t, want, string(got))
	assert.Greater(t, tcp.StackCounters(e.A).Retransmits, before)

	// Then a second alternative on the same connection, with half its frames lost (seeded).
	want = ""
	for i := 0; i < 6; i++ {
		m := fmt.Sprintf("<second %d %s>", i, strings.Repeat("z", 700))
		require.NoError(t, alts.Queue(c, a, iov(m), 0))
		want += m
	}
	// The congestion window fell with the loss: Send is EBUSY until it has room again.
	e.Run(t, 5000, time.Millisecond, func() bool {
		e.A.SetFaults(stack.Faults{Seed: 7, Drop: 0.5, Reorder: 0.2})
		err := alts.Send(e.A, a)
		e.A.SetFaults(stack.Faults{})
		require.True(t, err == nil || err == syscall.EBUSY, "%v", err)
		return err == nil
	})
	got = got[:0]
	e.Run(t, 5000, time.Millisecond, func() bool { drain(s, &got); return len(got) == len(want) })
	assert.Equal(t, want, string(got))
}

// TestBehindRetransmission: an alternative sent while data queued before it waits for
// retransmission (go-back-N after an RTO, cwnd one segment) joins the stream behind it.
func TestBehindRetransmission(t *testing.T) {
	e := newEnv(t)
	c, s := e.connect(7300)
	data := strings.Repeat("d", 3*1460)
	e.B.SetFaults(stack.Faults{Seed: 1, Drop: 1}) // B's ACKs are lost
	n, err := c.SendSingle([]byte(data), 0)
	require.NoError(t, err)
	require.Equal(t, len(data), n)
	a := mustAlloc(t, e.A)
	require.NoError(t, alts.Queue(c, a, iov("<after>"), 0))
	for i := 0; i < 1500; i++ { // RTOs fire
		e.Step()
		e.Clock.Advance(int64(time.Millisecond))
	}
	require.NoError(t, alts.Send(e.A, a))
	assert.Zero(t, a.Len())
	e.B.SetFaults(stack.Faults{})
	var got []byte
	e.Run(t, 5000, time.Millisecond, func() bool { drain(s, &got); return len(got) == len(data)+7 })
	assert.Equal(t, data+"<after>", string(got))
}

// TestBusyUntilQueueRoom: Send is EBUSY while the connection's send queue has no room for
// the alternative's packets, and succeeds, still valid, once ACKs made room.
func TestBusyUntilQueueRoom(t *testing.T) {
	e := newEnv(t)
	c, s := e.connect(7310)
	a := mustAlloc(t, e.A)
	// Fill the send queue: one-byte sends are a segment each (no Nagle).
	sent := 0
	for {
		n, err := c.SendSingle([]byte{'q'}, 0)
		if err != nil {
			require.Equal(t, syscall.EAGAIN, err)
			break
		}
		sent += n
	}
	require.NoError(t, alts.Queue(c, a, iov("<alt>"), 0))
	assert.Equal(t, syscall.EBUSY, alts.Send(e.A, a))
	assert.Equal(t, 1, a.Len())
	assert.Equal(t, uint64(1), alts.StackCounters(e.A).Busy)
	var got []byte
	e.Run(t, 5000, time.Microsecond, func() bool {
		drain(s, &got)
		return alts.Send(e.A, a) == nil
	})
	want := strings.Repeat("q", sent) + "<alt>"
	e.Run(t, 5000, time.Millisecond, func() bool { drain(s, &got); return len(got) >= len(want) })
	assert.Equal(t, want, string(got))
}

// TestErrors checks each error code of the API.
func TestErrors(t *testing.T) {
	e := newEnv(t, "alt_count", "2", "alt_buf_size", "400", "tcp_alt_ack_rewind", "0")
	c, s := e.connect(7400)
	c2, _ := e.connect(7401)
	st := e.A

	a1, err := alts.Alloc(st, nil)
	require.NoError(t, err)
	a2, err := alts.Alloc(st, nil)
	require.NoError(t, err)
	_, err = alts.Alloc(st, nil)
	assert.Equal(t, syscall.ENOMEM, err, "alt_count used up")

	hs := c.HeaderSize()
	ov, err := alts.QueryOverheadTCP(c)
	require.NoError(t, err)
	assert.Equal(t, alts.Overhead{PreRound: hs, Rounding: 1}, ov)
	assert.Equal(t, 400, alts.FreeSpace(st, a1))
	assert.Equal(t, 0, alts.FreeSpace(e.B, a1), "alternative of another stack")

	cases := []struct {
		name string
		do   func() error
		want syscall.Errno
	}{
		{"flags", func() error { return alts.Queue(c, a1, iov("x"), 1) }, syscall.EINVAL},
		{"empty", func() error { return alts.Queue(c, a1, nil, 0) }, syscall.EINVAL},
		{"beyond alt_buf_size", func() error { return alts.Queue(c, a1, [][]byte{make([]byte, 400-hs+1)}, 0) }, syscall.ENOMEM},
		{"fits", func() error { return alts.Queue(c, a1, [][]byte{make([]byte, 200-hs)}, 0) }, 0},
		{"other connection", func() error { return alts.Queue(c2, a1, iov("x"), 0) }, syscall.EINVAL},
		{"budget shared", func() error { return alts.Queue(c2, a2, [][]byte{make([]byte, 200-hs+1)}, 0) }, syscall.ENOMEM},
		{"fills", func() error { return alts.Queue(c2, a2, [][]byte{make([]byte, 200-hs)}, 0) }, 0},
		{"send on other stack", func() error { return alts.Send(e.B, a1) }, syscall.EINVAL},
		{"cancel on other stack", func() error { return alts.Cancel(e.B, a1) }, syscall.EINVAL},
		{"send a2", func() error { return alts.Send(st, a2) }, 0},
		{"send empty", func() error { return alts.Send(st, a2) }, 0},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, errno(tc.do()), tc.name)
	}
	assert.Equal(t, 200, alts.FreeSpace(st, a1))

	// A normal send on the connection makes a1 stale.
	_, err = c.SendSingle([]byte("normal"), 0)
	require.NoError(t, err)
	assert.Equal(t, syscall.EINVAL, alts.Send(st, a1))
	assert.Equal(t, syscall.EINVAL, alts.Queue(c, a1, iov("more"), 0))
	require.NoError(t, alts.Cancel(st, a1))
	assert.Equal(t, 400, alts.FreeSpace(st, a1)) // a2's frames went to TCP, a1's were cancelled
	e.settle()

	// tcp_alt_ack_rewind 0: data received after queueing makes the alternative stale.
	require.NoError(t, alts.Queue(c, a1, iov("rewind"), 0))
	_, err = s.SendSingle([]byte("ping"), 0)
	require.NoError(t, err)
	e.settle()
	assert.Equal(t, syscall.EINVAL, alts.Send(st, a1))
	require.NoError(t, alts.Cancel(st, a1))
	require.NoError(t, alts.Queue(c, a1, iov("fresh"), 0))
	require.NoError(t, alts.Send(st, a1))

	require.NoError(t, alts.Release(st, a2))
	// A closed connection: its alternatives are stale; Queue refuses.
	require.NoError(t, alts.Queue(c2, a1, iov("x"), 0))
	require.NoError(t, c2.ShutdownTx())
	assert.Equal(t, syscall.EINVAL, alts.Send(st, a1))
	assert.Equal(t, syscall.EINVAL, alts.Queue(c2, a1, iov("x"), 0))
	require.NoError(t, alts.Release(st, a1))
	_, err = alts.QueryOverheadTCP(s)
	assert.NoError(t, err)
	assert.Contains(t, e.readAll(s), "normal")
}

func TestMaxPackets(t *testing.T) {
	e := newEnv(t, "alt_buf_size", "100000")
	c, s := e.connect(7500)
	a := mustAlloc(t, e.A)
	for i := 0; i < alts.MaxPackets; i++ {
		require.NoError(t, alts.Queue(c, a, iov("p"), 0))
	}
	assert.Equal(t, syscall.ENOBUFS, alts.Queue(c, a, iov("p"), 0))
	b := mustAlloc(t, e.A)
	mss, err := c.MSS() // 1460 less 12 for the timestamps (the default)
	require.NoError(t, err)
	assert.Equal(t, syscall.EMSGSIZE, alts.Queue(c, b, [][]byte{make([]byte, mss+1)}, 0))
	require.NoError(t, alts.Queue(c, b, [][]byte{make([]byte, mss)}, 0))
	// 64 packets fit the send queue only when it is empty: it is.
	require.NoError(t, alts.Send(e.A, a))
	assert.Equal(t, strings.Repeat("p", alts.MaxPackets), e.readAll(s))
}

// TestNoLeak: packets queued at Release, at connection close, and at an alternative reused for
// another connection all go back to the pool (the lab checks the pool at stack close).
func TestNoLeak(t *testing.T) {
	e := newEnv(t)
	c, _ := e.connect(7600)
	c2, s2 := e.connect(7601)
	a, err := alts.Alloc(e.A, nil)
	require.NoError(t, err)
	b, err := alts.Alloc(e.A, nil)
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		require.NoError(t, alts.Queue(c, a, iov("leak?"), 0))
		require.NoError(t, alts.Queue(c, b, iov("leak!"), 0))
	}
	require.NoError(t, alts.Release(e.A, a)) // queued packets dropped
	require.NoError(t, c.Close())            // b's packets outlive their connection
	e.settle()
	assert.Equal(t, syscall.EINVAL, alts.Send(e.A, b))
	require.NoError(t, alts.Cancel(e.A, b))
	require.NoError(t, alts.Queue(c2, b, iov("reused"), 0)) // another connection
	require.NoError(t, alts.Send(e.A, b))
	require.NoError(t, alts.Queue(c2, b, iov("left queued"), 0))
	require.NoError(t, alts.Release(e.A, b)) // the stack's last: its cache goes too
	assert.Equal(t, "reused", e.readAll(s2))
}

// TestAllocs: Queue, Send and Cancel allocate nothing.
func TestAllocs(t *testing.T) {
	e := newEnv(t, "tcp_delayed_ack", "0")
	c, s := e.connect(7700)
	a, b := mustAlloc(t, e.A), mustAlloc(t, e.A)
	v := iov("0123456789abcdef")
	buf := [][]byte{make([]byte, 64)}
	var err error
	allocs := testing.AllocsPerRun(1000, func() {
		if err = alts.Queue(c, a, v, 0); err != nil {
			return
		}
		if err = alts.Queue(c, b, v, 0); err != nil {
			return
		}
		if err = alts.Send(e.A, a); err != nil {
			return
		}
		if err = alts.Cancel(e.A, b); err != nil {
			return
		}
		e.Step()
		e.Step()
		_, _ = s.Recv(buf)
	})
	require.NoError(t, err)
	assert.Zero(t, allocs)
}

// TestFixupChecksum: data received between Queue and Send moves the ACK (and the window); Send
// patches both with an incremental checksum update that the peer verifies — the frames arrive
// at once, none dropped for its checksum, nothing retransmitted.
func TestFixupChecksum(t *testing.T) {
	e := newEnv(t)
	c, s := e.connect(7900)
	a := mustAlloc(t, e.A)
	var want string
	for round := 0; round < 20; round++ {
		m1, m2 := fmt.Sprintf("<r%d-1 %s>", round, strings.Repeat("f", round*37)), fmt.Sprintf("<r%d-2>", round)
		require.NoError(t, alts.Queue(c, a, iov(m1), 0))
		require.NoError(t, alts.Queue(c, a, iov(m2), 0))
		_, err := s.SendSingle([]byte(strings.Repeat("p", 1+round*50)), 0)
		require.NoError(t, err)
		e.Step()
		e.Step()
		require.NoError(t, alts.Send(e.A, a))
		want += m1 + m2
		var got []byte
		for i := 0; i < 4; i++ {
			e.Step()
		}
		drain(s, &got)
		require.Equal(t, m1+m2, string(got), "round %d: arrived without the clock moving", round)
		var sink []byte
		drain(c, &sink)
	}
	assert.Zero(t, tcp.StackCounters(e.B).Drops[tcp.DropChecksum])
	assert.Zero(t, tcp.StackCounters(e.A).Retransmits)
}

// Frames built long before they are sent carry the connection's timestamps of the moment they
// leave, like the ACK and window (with the checksum updated): the peer's TS.Recent has moved
// on meanwhile, and the built TSval would fail its PAWS test. The frames arrive at once, none
// dropped, nothing retransmitted; without timestamps there is nothing to patch.
func TestSendPatchesTimestamps(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
	}{
		{"timestamps", nil},
		{"no timestamps", []string{"tcp_timestamps", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.kv...)
			c, s := e.connect(7600)
			a := mustAlloc(t, e.A)
			require.NoError(t, alts.Queue(c, a, iov("built early"), 0))
			// Half a second later the peer sends; our ACK carries a newer TSval, which becomes
			// its TS.Recent.
			e.Clock.Advance(500_000_000)
			_, err := s.SendSingle([]byte("ping"), 0)
			require.NoError(t, err)
			e.settle()
			e.Clock.Advance(50_000_000) // our delayed ACK
			e.settle()
			assert.Equal(t, "ping", e.readAll(c))
			require.NoError(t, alts.Send(e.A, a))
			assert.Equal(t, "built early", e.readAll(s))
			assert.Zero(t, tcp.StackCounters(e.B).Drops[tcp.DropPAWS], "PAWS dropped a frame")
			assert.Zero(t, tcp.StackCounters(e.A).Retransmits)
		})
	}
}
