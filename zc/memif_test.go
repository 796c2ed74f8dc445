package zc_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/internal/lab"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/tcp"
	"github.com/zocket/zocket/zc"
)

// memifRingSize is net_memif's default ring (rsize=10): what a zero-copy client lends to its
// receive ring, and DPDK 22.11's memif keeps at close.
const memifRingSize = 1024

// memifRig is a TCP connection over a net_memif pair in this process: A (the sender) is the
// memif client, zero-copy when asked (it then lends its own mbufs to the link, and memif
// copies no byte on A's side), B the server (memif copies into B's buffers on receive either
// way). Both stacks are polled by the caller's goroutine; the time spent in A's calls and in
// B's is kept apart, so that a row's sender cost does not include the receiver's.
type memifRig struct {
	A, B     *stack.Stack
	c, s     *tcp.Conn
	mss      int
	msg      *tcp.Msg
	got      int           // bytes B's application has read
	closed   bool          // the connection is closed: step reads no more
	sendTime time.Duration // in A's calls: sends, A.Perform, completion polls
	recvTime time.Duration // in B.Perform and B's reads
}

// newMemifRig probes the pair, opens both stacks, waits for the link and connects A to B. At
// cleanup the connection closes gracefully and both stacks close; a zero-copy client may keep
// up to a ring of buffers lent to memif (DPDK 22.11 does not give them back), nothing more.
func newMemifRig(tb testing.TB, zeroCopy bool) *memifRig {
	tb.Helper()
	zcArg := ""
	if zeroCopy {
		zcArg = ",zero-copy=yes"
	}
	srv, cli := lab.MemifPortsWith(tb, zcArg)
	r := &memifRig{msg: tcp.NewMsg(64)}
	open := func(port dpdk.Port, ip, mac string) *stack.Stack {
		st, err := stack.New(lab.Attr(tb, "interface", port.Name(), "local_ip", ip, "mac", mac,
			"n_bufs", "8191", "tcp_timewait_ms", "1"))
		require.NoError(tb, err)
		return st
	}
	r.B = open(srv, "198.18.0.2/24", "02:00:00:00:00:02")
	r.A = open(cli, "198.18.0.1/24", "02:00:00:00:00:01")
	tb.Cleanup(func() {
		zc.Forget(r.A)
		zc.Forget(r.B)
		require.NoError(tb, r.B.Close())
		err := r.A.Close()
		if zeroCopy && errors.Is(err, syscall.EBUSY) {
			require.LessOrEqual(tb, r.A.Pool().InUse(), memifRingSize, "beyond memif's lent ring: leaked")
			return
		}
		require.NoError(tb, err)
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, err := cli.Link(); err == nil && l.Up {
			break
		}
		require.True(tb, time.Now().Before(deadline), "memif link up")
		r.A.Perform()
		r.B.Perform()
	}
	l, err := tcp.Listen(r.B, ap(addrB, 9000), nil)
	require.NoError(tb, err)
	h, err := tcp.NewHandle(r.A, nil)
	require.NoError(tb, err)
	r.c, err = h.Connect(ap(addrB, 9000))
	require.NoError(tb, err)
	for r.s == nil || r.c.State() != tcp.StateEstablished {
		require.True(tb, time.Now().Before(deadline.Add(5*time.Second)), "connect")
		r.A.Perform()
		r.B.Perform()
		if r.s == nil {
			r.s, _ = l.Accept()
		}
	}
	require.NoError(tb, l.Close())
	r.mss, err = r.c.MSS()
	require.NoError(tb, err)
	tb.Cleanup(func() {
		r.closed = true
		r.c.Close()
		r.s.Close()
		for i := 0; i < 20000 && (r.c.State() != tcp.StateClose || r.s.State() != tcp.StateClose); i++ {
			r.step()
		}
		for i := 0; i < 100; i++ {
			r.step()
		}
	})
	return r
}

// step performs both stacks once and reads what B received (zero-copy receive), timing each
// side.
func (r *memifRig) step() {
	t0 := time.Now()
	r.A.Perform()
	t1 := time.Now()
	r.B.Perform()
	for !r.closed {
		r.s.ZcRecv(r.msg)
		if len(r.msg.Iov) == 0 {
			break
		}
		for _, b := range r.msg.Iov {
			r.got += len(b)
		}
		_, _ = r.s.ZcRecvDone(r.msg)
	}
	t2 := time.Now()
	r.sendTime += t1.Sub(t0)
	r.recvTime += t2.Sub(t1)
}

// drain steps until B has read want bytes.
func (r *memifRig) drain(tb testing.TB, want int) {
	for i := 0; r.got < want; i++ {
		require.Less(tb, i, 1_000_000, "delivery stalled: %d of %d bytes", r.got, want)
		r.step()
	}
}

// sender sends messages of one size on the rig's connection in one of the three ways.
type sender interface {
	// send sends one message of size bytes, stepping the rig while the send queue is full.
	send(r *memifRig, size int)
	// finish waits for what the sender still holds (SendZC notifications).
	finish(tb testing.TB, r *memifRig)
}

// copySender is tcp.Conn.Send: the stack copies the application's bytes into its buffers.
type copySender struct{ src []byte }

func (s *copySender) send(r *memifRig, size int) {
	for off := 0; off < size; {
		t0 := time.Now()
		n, err := r.c.SendSingle(s.src[off:size], 0)
		r.sendTime += time.Since(t0)
		if err == nil {
			off += n
		}
		if off < size {
			r.step()
		}
	}
}

func (s *copySender) finish(testing.TB, *memifRig) {}

// zcSendSender is zc.Send: the application writes into stack buffers (taken from a stock
// refilled 64 at a time) and hands them over, one MSS each; buffers not taken stay in the
// stock. The application's writing is not timed (the copy row's source is prebuilt too).
type zcSendSender struct {
	stock []zc.IOVec
	n     int // buffers in stock
	iov   []zc.IOVec
	msgs  []zc.MMsg
}

func newZCSendSender() *zcSendSender {
	return &zcSendSender{stock: make([]zc.IOVec, 256), iov: make([]zc.IOVec, 64), msgs: make([]zc.MMsg, 1)}
}

func (s *zcSendSender) send(r *memifRig, size int) {
	for off := 0; off < size; {
		t0 := time.Now()
		if s.n < len(s.iov) && zc.AllocBuffers(r.A, s.stock[s.n:s.n+64], zc.HdrTCP) == nil {
			s.n += 64
		}
		k := 0
		for o := off; o < size && k < s.n && k < len(s.iov); o += r.mss {
			v := &s.stock[s.n-1-k]
			v.Buf = v.Buf[:min(r.mss, size-o)]
			s.iov[k] = *v
			k++
		}
		s.msgs[0] = zc.MMsg{Zocket: r.c, Iov: s.iov[:k]}
		_, _ = zc.Send(s.msgs, 0)
		done := max(s.msgs[0].Rc, 0)
		taken := 0
		for acc := 0; taken < k && acc+len(s.iov[taken].Buf) <= done; taken++ {
			acc += len(s.iov[taken].Buf)
		}
		for i := taken; i < k; i++ { // the buffers kept get their whole room back
			v := &s.stock[s.n-1-i]
			v.Buf = v.Buf[:cap(v.Buf)]
		}
		s.n -= taken // the taken ones were the last of the stock
		r.sendTime += time.Since(t0)
		off += done
		if off < size {
			r.step()
		}
	}
}

func (s *zcSendSender) finish(_ testing.TB, r *memifRig) {
	zc.ReleaseIOV(r.A, s.stock[:s.n])
	s.n = 0
}

// sendZCSender is zc.SendZCFixed from registered buffers, one MSS each, reused when their
// notification comes; a message's buffers go as one batch (SendMore but for the last).
type sendZCSender struct {
	reg   *zc.Registered
	free  []int
	comps []zc.Completion
}

func newSendZCSender(tb testing.TB, r *memifRig, n int) *sendZCSender {
	reg, err := zc.RegisterBuffers(r.A, n, zc.HdrTCP)
	require.NoError(tb, err)
	s := &sendZCSender{reg: reg, free: make([]int, 0, n), comps: make([]zc.Completion, n)}
	for i := range n {
		s.free = append(s.free, i)
	}
	return s
}

func (s *sendZCSender) send(r *memifRig, size int) {
	for off := 0; off < size; {
		t0 := time.Now()
		for len(s.free) > 0 && off < size {
			idx := s.free[len(s.free)-1]
			n, fl := min(r.mss, size-off), 0
			if off+n < size && len(s.free) > 1 {
				fl = zc.SendMore // a batch: one transmit burst at its last buffer
			}
			n, err := zc.SendZCFixed(r.c, s.reg, idx, 0, n, fl, uint64(idx))
			if err != nil {
				break
			}
			s.free = s.free[:len(s.free)-1]
			off += n
		}
		r.sendTime += time.Since(t0)
		if off < size {
			r.step()
			s.poll(r)
		}
	}
}

func (s *sendZCSender) poll(r *memifRig) {
	t0 := time.Now()
	k := zc.Completions(r.A).Poll(s.comps)
	for _, c := range s.comps[:k] {
		s.free = append(s.free, int(c.User))
	}
	r.sendTime += time.Since(t0)
}

func (s *sendZCSender) finish(tb testing.TB, r *memifRig) {
	for i := 0; len(s.free) < len(s.reg.Bufs); i++ {
		require.Less(tb, i, 1_000_000, "SendZC notifications: %d of %d buffers back", len(s.free), len(s.reg.Bufs))
		if i%1000 == 999 {
			// A zero-copy memif client frees the frames it sent only at its next transmit:
			// one more byte lets the last ones go.
			_, _ = r.c.SendSingle([]byte{0}, 0)
		}
		r.step()
		s.poll(r)
	}
}

// BenchmarkMemifSend is the sender's cost per byte of TCP over net_memif, copying memif and
// zero-copy memif (the client lends its own buffers: no copy on the sending side), for
// tcp.Conn.Send, zc.Send and zc.SendZCFixed at 1, 8 and 64 KiB messages:
//
//	flock /tmp/zlab.lock go test -run '^$' -bench BenchmarkMemifSend -benchtime 20000x ./zc
//
// send-ns/B is the time spent in the sender's calls (sends, its stack's Perform, notification
// polls) per byte delivered; recv-ns/B the receiver's (its Perform and zero-copy reads);
// ns/op and MB/s are both together, on one goroutine.
func BenchmarkMemifSend(b *testing.B) {
	for _, memif := range []string{"copy", "zerocopy"} {
		b.Run("memif="+memif, func(b *testing.B) {
			r := newMemifRig(b, memif == "zerocopy")
			src := make([]byte, 64<<10)
			for i := range src {
				src[i] = byte(i * 31)
			}
			senders := []struct {
				name string
				s    sender
			}{
				{"Conn.Send", &copySender{src: src}},
				{"zc.Send", newZCSendSender()},
				{"SendZC", newSendZCSender(b, r, 512)},
			}
			for _, size := range []int{1 << 10, 8 << 10, 64 << 10} {
				for _, sd := range senders {
					b.Run(fmt.Sprintf("%s/%dKiB", sd.name, size>>10), func(b *testing.B) {
						b.SetBytes(int64(size))
						b.ReportAllocs()
						got0 := r.got
						r.sendTime, r.recvTime = 0, 0
						b.ResetTimer()
						for range b.N {
							sd.s.send(r, size)
						}
						r.drain(b, got0+b.N*size)
						b.StopTimer()
						bytes := float64(r.got - got0)
						b.ReportMetric(float64(r.sendTime.Nanoseconds())/bytes, "send-ns/B")
						b.ReportMetric(float64(r.recvTime.Nanoseconds())/bytes, "recv-ns/B")
					})
				}
			}
			for _, sd := range senders {
				sd.s.finish(b, r)
			}
			senders[2].s.(*sendZCSender).reg.Unregister()
		})
	}
}

// TestMemifZeroCopyPairs starts zero-copy memif pairs one after another in this process and
// moves data over each: every link comes up, every stack's pool can be made, and EAL's memory
// files stay open. Before dpdk's memif.c, the first connect closed EAL's descriptor (memif's
// zero-copy client closes the file it is handed), the second pool then failed with ENOMEM and
// a later connect sent the server a stale descriptor ("mmap failed: No such device").
func TestMemifZeroCopyPairs(t *testing.T) {
	for i := range 12 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := newMemifRig(t, true)
			require.Zero(t, dpdk.MemsegFDsClosed(), "EAL memory files closed under EAL")
			s := newZCSendSender()
			s.send(r, 64<<10)
			s.finish(t, r)
			r.drain(t, 64<<10)
			require.Equal(t, 64<<10, r.got)
		})
	}
}
