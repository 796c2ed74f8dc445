package zc_test

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/udp"
	"github.com/zocket/zocket/zc"
)

func TestAllocRelease(t *testing.T) {
	e := newEnv(t)
	base := inUse(e.A)
	for _, tc := range []struct {
		kind zc.Kind
		n    int
		size int
	}{{zc.HdrNone, 3, 2176}, {zc.HdrUDP, 65, 1472}, {zc.HdrTCP, 130, 1460}} {
		iov := make([]zc.IOVec, tc.n)
		require.NoError(t, zc.AllocBuffers(e.A, iov, tc.kind))
		assert.Equal(t, base+tc.n, inUse(e.A), "kind %d", tc.kind)
		for _, v := range iov {
			require.True(t, v.H.Valid())
			require.Len(t, v.Buf, tc.size)
		}
		zc.ReleaseIOV(e.A, iov)
		assert.Equal(t, base, inUse(e.A))
	}
	assert.Equal(t, syscall.EINVAL, zc.AllocBuffers(e.A, make([]zc.IOVec, 1), 7))
	// All or nothing when the pool runs dry.
	big := make([]zc.IOVec, e.A.Pool().Size()+1)
	assert.Equal(t, syscall.ENOMEM, zc.AllocBuffers(e.A, big, zc.HdrUDP))
	assert.Equal(t, base, inUse(e.A))
}

// recvAll takes every datagram queued on rx with zc.Recv and returns copies.
func recvAll(t *testing.T, rx *udp.Receiver) (out []string, flags []int) {
	_, err := zc.Recv(rx, func(m *zc.RecvMsg, f int) zc.Action {
		out = append(out, string(m.Iov[0].Buf))
		flags = append(flags, f)
		return zc.Continue
	}, zc.DontWait)
	if err != nil {
		require.Equal(t, syscall.EAGAIN, err)
	}
	return out, flags
}

func TestSendUDPWarmThenSend(t *testing.T) {
	e := newEnv(t)
	tx, rx := e.udp(7000)
	iov := make([]zc.IOVec, 1)
	require.NoError(t, zc.AllocBuffers(e.A, iov, zc.HdrUDP))
	n := copy(iov[0].Buf, "zero copy")
	iov[0].Buf = iov[0].Buf[:n]
	before := e.B.Counters().RxPackets
	msgs := []zc.MMsg{{Zocket: tx, Iov: iov}}
	k, err := zc.Send(msgs, zc.MsgWarm)
	require.NoError(t, err)
	assert.Equal(t, 1, k)
	assert.Equal(t, n, msgs[0].Rc)
	e.idle()
	assert.Equal(t, before, e.B.Counters().RxPackets, "a warm send reaches the wire")
	assert.Equal(t, uint64(0), udp.StackCounters(e.B).RxDatagrams)
	assert.Equal(t, 1, zc.Refcnt(iov[0].H), "a warm send's buffer stays the caller's")
	assert.Equal(t, "zero copy", string(iov[0].Buf))

	_, err = zc.Send(msgs, 0)
	require.NoError(t, err)
	assert.Equal(t, n, msgs[0].Rc)
	e.steps(4)
	got, flags := recvAll(t, rx)
	assert.Equal(t, []string{"zero copy"}, got)
	assert.Equal(t, []int{zc.EndOfBurst}, flags)
}

func TestSendManyZocketsInOrder(t *testing.T) {
	e := newEnv(t)
	tx1, rx1 := e.udp(7001)
	tx2, rx2 := e.udp(7002)
	c, s := e.tcp(8000)
	iov := make([]zc.IOVec, 6)
	require.NoError(t, zc.AllocBuffers(e.A, iov[:3], zc.HdrTCP))
	require.NoError(t, zc.AllocBuffers(e.A, iov[3:5], zc.HdrUDP))
	require.NoError(t, zc.AllocBuffers(e.A, iov[5:], zc.HdrNone))
	fill := func(v *zc.IOVec, s string) { v.Buf = v.Buf[:copy(v.Buf, s)] }
	fill(&iov[0], "tcp-one ")
	fill(&iov[1], "tcp-two ")
	fill(&iov[2], "tcp-three")
	fill(&iov[3], "udp-1")
	fill(&iov[4], "udp-2a")
	fill(&iov[5], "+2b") // gathered with iov[4] into one datagram by copying
	msgs := []zc.MMsg{
		{Zocket: tx1, Iov: iov[3:4]},
		{Zocket: c, Iov: iov[0:3]},
		{Zocket: tx2, Iov: iov[4:6]},
		{Zocket: s, Iov: nil},                // nothing to send: Rc 0
		{Zocket: zocketOfNoKind{}, Iov: nil}, // not a zc zocket
	}
	k, err := zc.Send(msgs, 0)
	require.NoError(t, err)
	require.Equal(t, len(msgs), k)
	assert.Equal(t, []int{5, 25, 9, 0, -int(syscall.EINVAL)}, []int{msgs[0].Rc, msgs[1].Rc, msgs[2].Rc, msgs[3].Rc, msgs[4].Rc})
	assert.Nil(t, msgs[0].Err())
	assert.Equal(t, syscall.EINVAL, msgs[4].Err())
	e.steps(4)
	got1, _ := recvAll(t, rx1)
	got2, _ := recvAll(t, rx2)
	assert.Equal(t, []string{"udp-1"}, got1)
	assert.Equal(t, []string{"udp-2a+2b"}, got2)
	assert.Equal(t, "tcp-one tcp-two tcp-three", string(e.readAll(s, 25)))
}

// zocketOfNoKind is a Zocket zc cannot send on.
type zocketOfNoKind struct{}

func (zocketOfNoKind) Waitable() *stack.Waitable { return nil }

// TestTCPPartialSendOwnership fills the send queue in one message: the buffers taken are the
// stack's, the others the caller's, in every position.
func TestTCPPartialSendOwnership(t *testing.T) {
	e := newEnv(t)
	c, s := e.tcp(8001)
	const nbuf = 80 // more than the 64-segment send queue
	iov := make([]zc.IOVec, nbuf)
	require.NoError(t, zc.AllocBuffers(e.A, iov, zc.HdrTCP))
	rng := rand.New(rand.NewPCG(1, 2))
	var want []byte
	mss, err := c.MSS() // 1448 with timestamps (the default): each buffer one segment
	require.NoError(t, err)
	for i := range iov {
		n := 1 + rng.IntN(mss)
		for j := range iov[i].Buf[:n] {
			iov[i].Buf[j] = byte(rng.Uint32())
		}
		iov[i].Buf = iov[i].Buf[:n]
	}
	msgs := []zc.MMsg{{Zocket: c, Iov: iov}}
	_, err = zc.Send(msgs, 0)
	require.NoError(t, err)
	sent, taken := msgs[0].Rc, 0
	for acc := 0; taken < nbuf && acc+len(iov[taken].Buf) <= sent; taken++ {
		acc += len(iov[taken].Buf)
		want = append(want, iov[taken].Buf...)
	}
	require.Equal(t, 64, taken, "the queue holds 64 segments")
	// A second send while the queue is full: nothing taken, EAGAIN.
	msgs2 := []zc.MMsg{{Zocket: c, Iov: iov[taken:]}}
	_, _ = zc.Send(msgs2, 0)
	assert.Equal(t, syscall.EAGAIN, msgs2[0].Err())
	// The rest is sent once ACKs free the queue, resuming where it stopped.
	rest := iov[taken:]
	got := make([]byte, 0, 128<<10)
	var b [65536]byte
	for i := 0; i < 20000 && len(rest) > 0; i++ {
		e.Step()
		e.Clock.Advance(10_000)
		for {
			n, err := s.Recv([][]byte{b[:]})
			if err != nil || n == 0 {
				break
			}
			got = append(got, b[:n]...)
		}
		m := []zc.MMsg{{Zocket: c, Iov: rest}}
		_, _ = zc.Send(m, 0)
		for k := 0; k < len(rest) && m[0].Rc > 0 && len(rest[k].Buf) <= m[0].Rc; {
			m[0].Rc -= len(rest[k].Buf)
			want = append(want, rest[k].Buf...)
			rest = rest[1:]
		}
	}
	require.Empty(t, rest)
	got = append(got, e.readAll(s, len(want)-len(got))...)
	require.Equal(t, sha256.Sum256(want), sha256.Sum256(got), "byte-exact stream")
}

func TestTCPSendErrorsLeaveBuffers(t *testing.T) {
	e := newEnv(t)
	c, _ := e.tcp(8002)
	iov := make([]zc.IOVec, 3)
	require.NoError(t, zc.AllocBuffers(e.A, iov, zc.HdrTCP))
	other := make([]byte, 10)
	for _, tc := range []struct {
		name string
		v    zc.IOVec
		want syscall.Errno
	}{
		{"view outside its buffer", zc.IOVec{Buf: other, H: iov[0].H}, syscall.EINVAL},
		{"over the MSS", zc.IOVec{Buf: iov[1].Buf[:1460:1460], H: iov[1].H}, 0},
	} {
		m := []zc.MMsg{{Zocket: c, Iov: []zc.IOVec{tc.v}}}
		_, err := zc.Send(m, 0)
		require.NoError(t, err)
		if tc.want != 0 {
			assert.Equal(t, tc.want, m[0].Err(), tc.name)
		} else {
			assert.Equal(t, 1460, m[0].Rc, tc.name)
		}
	}
	// A buffer sent from an offset: the payload starts where the view starts.
	v := iov[2]
	copy(v.Buf[100:], "offset")
	v.Buf = v.Buf[100:106]
	_, err := zc.Send([]zc.MMsg{{Zocket: c, Iov: []zc.IOVec{v}}}, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, zc.Refcnt(iov[0].H))
	zc.ReleaseBuffers(e.A, []zc.Handle{iov[0].H}) // the unsent one is the caller's
}

func TestRecvKeepContinueTerminate(t *testing.T) {
	e := newEnv(t)
	tx, rx := e.udp(7003)
	for i := 0; i < 5; i++ {
		_, err := tx.SendSingle([]byte{'a' + byte(i)})
		require.NoError(t, err)
	}
	e.steps(4)
	var kept []zc.Handle
	var seen []string
	var flags []int
	n, err := zc.Recv(rx, func(m *zc.RecvMsg, f int) zc.Action {
		seen = append(seen, string(m.Iov[0].Buf))
		flags = append(flags, f)
		switch len(seen) {
		case 1:
			kept = append(kept, m.Iov[0].H)
			return zc.Keep
		case 3:
			return zc.Terminate
		}
		return zc.Continue
	}, 0)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []string{"a", "b", "c"}, seen)
	assert.Equal(t, []int{0, 0, 0}, flags)
	require.Len(t, kept, 1)
	assert.Equal(t, 1, zc.Refcnt(kept[0]), "Keep holds the buffer")
	n, err = zc.Recv(rx, func(m *zc.RecvMsg, f int) zc.Action {
		seen = append(seen, string(m.Iov[0].Buf))
		flags = append(flags, f)
		return zc.Continue
	}, zc.DontWait)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []int{0, zc.EndOfBurst}, flags[3:])
	_, err = zc.Recv(rx, func(*zc.RecvMsg, int) zc.Action { return zc.Continue }, zc.DontWait)
	assert.Equal(t, syscall.EAGAIN, err)
	zc.ReleaseBuffers(e.B, kept)
	_, err = zc.Recv(rx, nil, 0)
	assert.Equal(t, syscall.EINVAL, err)
}

func TestSendZCUDPNotifiesWhenPortFreed(t *testing.T) {
	e := newEnv(t)
	tx, rx := e.udp(7004)
	iov := make([]zc.IOVec, 1)
	require.NoError(t, zc.AllocBuffers(e.A, iov, zc.HdrUDP))
	payload := bytes.Repeat([]byte("x"), 1000)
	v := iov[0]
	v.Buf = v.Buf[:copy(v.Buf, payload)]
	cq := zc.Completions(e.A)
	out := make([]zc.Completion, 4)
	n, err := zc.SendZC(tx, v, zc.ReportUsage, 42)
	require.NoError(t, err)
	assert.Equal(t, 1000, n)
	// The frame is in the ring (net_ring hands the mbuf itself to B): not free yet.
	assert.Equal(t, 0, cq.Poll(out))
	e.B.Perform()
	assert.Equal(t, 0, cq.Poll(out), "B holds the frame in its receive queue")
	var shared int
	_, err = zc.Recv(rx, func(m *zc.RecvMsg, f int) zc.Action {
		shared = f & zc.Shared
		assert.Equal(t, payload, m.Iov[0].Buf)
		return zc.Continue
	}, zc.DontWait)
	require.NoError(t, err)
	assert.Equal(t, zc.Shared, shared, "the sender still references the buffer")
	require.Equal(t, 1, cq.Poll(out))
	assert.Equal(t, zc.Completion{User: 42}, out[0])
	// Small payloads are copied and notified at once.
	n, err = zc.SendZC(tx, zc.IOVec{Buf: []byte("tiny")}, zc.ReportUsage, 43)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	require.Equal(t, 1, cq.Poll(out))
	assert.Equal(t, zc.Completion{User: 43, Res: zc.NotifUsageCopied, Copied: true}, out[0])
	assert.Equal(t, 1, zc.Refcnt(iov[0].H), "a SendZC buffer stays the caller's, with the stack done with it")
	zc.ReleaseIOV(e.A, iov)
}

func TestSendZCTCPNotifiesOnlyAfterACK(t *testing.T) {
	e := newEnv(t)
	c, s := e.tcp(8003)
	reg, err := zc.RegisterBuffers(e.A, 4, zc.HdrTCP)
	require.NoError(t, err)
	var want []byte
	for i := range reg.Bufs {
		for j := range reg.Bufs[i].Buf {
			reg.Bufs[i].Buf[j] = byte(i*7 + j)
		}
	}
	cq := zc.Completions(e.A)
	out := make([]zc.Completion, 8)
	// B's ACKs are all dropped: the data arrives, nothing is acknowledged.
	e.B.SetFaults(stack.Faults{Seed: 1, Drop: 1})
	var got []byte
	var b [65536]byte
	read := func() {
		for {
			n, err := s.Recv([][]byte{b[:]})
			if err != nil || n == 0 {
				return
			}
			got = append(got, b[:n]...)
		}
	}
	for i := 0; i < 4; i++ {
		// From the start of the buffer's payload room: a view further in is copied (and
		// notified at once; TestSendZCBufferStaysTheCallers).
		n, err := zc.SendZCFixed(c, reg, i, 0, 1200, 0, uint64(100+i))
		require.NoError(t, err)
		require.Equal(t, 1200, n)
		want = append(want, reg.Bufs[i].Buf[:1200]...)
	}
	for i := 0; i < 300; i++ { // 300 ms: retransmissions, ACKs dropped
		e.Step()
		read()
		e.Clock.Advance(1_000_000)
		require.Equal(t, 0, cq.Poll(out), "notification before the ACK (step %d)", i)
	}
	require.Equal(t, want, got, "the data did arrive")
	e.B.SetFaults(stack.Faults{})
	polled := 0
	for i := 0; i < 5000 && polled < 4; i++ {
		e.Step()
		read()
		e.Clock.Advance(1_000_000)
		polled += cq.Poll(out[polled:])
	}
	require.Equal(t, 4, polled)
	for i, c := range out[:4] {
		assert.Equal(t, uint64(100+i), c.User)
		assert.False(t, c.Aborted)
	}
	for _, v := range reg.Bufs {
		assert.Equal(t, 1, zc.Refcnt(v.H), "registered buffers stay the caller's")
	}
	_, err = zc.SendZCFixed(c, reg, 9, 0, 1, 0, 0)
	assert.Equal(t, syscall.EFAULT, err)
	reg.Unregister()
}

func TestSendZCENOMEM(t *testing.T) {
	e := newEnv(t)
	tx, _ := e.udp(7005)
	// Take every free buffer: a copying SendZC finds none.
	iov := make([]zc.IOVec, e.A.Pool().Available())
	require.NoError(t, zc.AllocBuffers(e.A, iov, zc.HdrUDP))
	_, err := zc.SendZC(tx, zc.IOVec{Buf: []byte("tiny")}, 0, 1)
	assert.Equal(t, syscall.ENOMEM, err)
	assert.Equal(t, 0, zc.Completions(e.A).Outstanding(), "no notification after an error")
	zc.ReleaseIOV(e.A, iov)
}

// A full HdrTCP buffer (MTU − 40 bytes) is over the MSS of a connection with timestamps (12
// bytes less): SendZC copies it into segments (notified at once, Copied) rather than failing;
// without timestamps it goes zero-copy, notified after the ACK.
func TestSendZCTCPFullBuffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kv     []string
		copied bool
	}{
		{"timestamps", nil, true},
		{"no timestamps", []string{"tcp_timestamps", "0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.kv...)
			c, s := e.tcp(8004)
			iov := make([]zc.IOVec, 1)
			require.NoError(t, zc.AllocBuffers(e.A, iov, zc.HdrTCP))
			require.Len(t, iov[0].Buf, 1460)
			for j := range iov[0].Buf {
				iov[0].Buf[j] = byte(j * 13)
			}
			want := append([]byte(nil), iov[0].Buf...)
			n, err := zc.SendZC(c, iov[0], 0, 77)
			require.NoError(t, err)
			require.Equal(t, 1460, n)
			cq := zc.Completions(e.A)
			out := make([]zc.Completion, 2)
			var got []byte
			var b [4096]byte
			polled := 0
			for i := 0; i < 1000 && (polled == 0 || len(got) < len(want)); i++ {
				e.Step()
				if k, err := s.Recv([][]byte{b[:]}); err == nil {
					got = append(got, b[:k]...)
				}
				e.Clock.Advance(1_000_000)
				polled += cq.Poll(out[polled:])
			}
			require.Equal(t, 1, polled)
			assert.Equal(t, uint64(77), out[0].User)
			assert.Equal(t, tc.copied, out[0].Copied)
			assert.Equal(t, want, got)
			zc.ReleaseIOV(e.A, iov) // the buffer stays the caller's either way
		})
	}
}
