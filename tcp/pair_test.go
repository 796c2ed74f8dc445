package tcp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/dpdk"
	"github.com/zocket/zocket/stack"
	"github.com/zocket/zocket/wire"
)

type dpdkMbuf = dpdk.Mbuf

const ms = int64(time.Millisecond)

func TestHandshakeAndEcho(t *testing.T) {
	p := newPair(t)
	c, s, l := p.connect(5000)
	assert.Equal(t, StateEstablished, s.State())
	assert.Equal(t, netip.AddrPortFrom(ipB, 5000), c.RemoteAddr())
	assert.Equal(t, c.LocalAddr(), s.RemoteAddr())
	assert.Equal(t, l.LocalAddr(), s.LocalAddr())
	mss, err := c.MSS()
	require.NoError(t, err)
	assert.Equal(t, 1460-12, mss, "timestamps negotiated (the default) take 12 bytes of it")
	assert.Equal(t, 54+12, c.HeaderSize())

	n, err := c.SendSingle([]byte("hello"), 0)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	msg := NewMsg(4)
	p.run(10, time.Microsecond, func() bool { s.ZcRecv(msg); return len(msg.Iov) > 0 })
	assert.Equal(t, "hello", string(msg.Iov[0]))
	assert.Equal(t, 0, msg.PktsLeft)
	// Echo back from the zero-copy view.
	n, err = s.Send(msg.Iov, 0)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	r, err := s.ZcRecvDone(msg)
	require.NoError(t, err)
	assert.Equal(t, 1, r)
	buf := make([]byte, 16)
	p.run(10, time.Microsecond, func() bool {
		n, err = c.Recv([][]byte{buf})
		return err == nil
	})
	assert.Equal(t, "hello", string(buf[:n]))
	_, err = c.Recv([][]byte{buf})
	assert.Equal(t, syscall.EAGAIN, err)
}

func TestGracefulCloseBothSides(t *testing.T) {
	p := newPair(t, "tcp_timewait_ms", "100")
	c, s, _ := p.connect(5001)
	require.NoError(t, c.ShutdownTx())
	assert.Equal(t, StateFinWait1, c.State())
	buf := make([]byte, 16)
	p.run(10, time.Microsecond, func() bool {
		_, err := s.Recv([][]byte{buf})
		return err == nil
	})
	n, err := s.Recv([][]byte{buf})
	assert.NoError(t, err)
	assert.Zero(t, n, "EOF")
	assert.Equal(t, StateCloseWait, s.State())
	p.settle()
	assert.Equal(t, StateFinWait2, c.State())
	// The half-closed side can still send.
	_, err = s.SendSingle([]byte("bye"), 0)
	require.NoError(t, err)
	require.NoError(t, s.ShutdownTx())
	assert.Equal(t, StateLastAck, s.State())
	msg := NewMsg(4)
	p.run(10, time.Microsecond, func() bool { c.ZcRecv(msg); return len(msg.Iov) == 2 })
	assert.Equal(t, "bye", string(msg.Iov[0]))
	assert.Len(t, msg.Iov[1], 0, "EOF marker")
	r, err := c.ZcRecvDone(msg)
	assert.NoError(t, err)
	assert.Zero(t, r)
	p.settle()
	assert.Equal(t, StateTimeWait, c.State())
	assert.Equal(t, StateClose, s.State())
	p.run(200, time.Millisecond, func() bool { return c.State() == StateClose })
	assert.NoError(t, c.Err())
	assert.NoError(t, s.Err())
	c.Close()
	s.Close()
	st := stateOf(p.A)
	assert.Zero(t, st.nconns)
}

// transfer sends n random bytes from src to dst through Send and reads them with Recv (or
// ZcRecv when zc), comparing SHA-256 digests.
func transfer(t *testing.T, p *pair, src, dst *Conn, n int, chunk int, zc bool) {
	t.Helper()
	transferWatch(t, p, src, dst, n, chunk, zc, nil)
}

// transferWatch is transfer calling watch (when not nil) after every step.
func transferWatch(t *testing.T, p *pair, src, dst *Conn, n int, chunk int, zc bool, watch func()) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	data := make([]byte, chunk)
	hs, hd := sha256.New(), sha256.New()
	sent, got := 0, 0
	var pending []byte
	msg := NewMsg(16)
	rbuf := make([]byte, 3000)
	for steps := 0; got < n; steps++ {
		if steps > 2_000_000 {
			t.Fatalf("stalled at sent=%d got=%d\nsrc %s\ndst %s\nA %+v\nB %+v", sent, got, src.debug(), dst.debug(),
				StackCounters(p.A), StackCounters(p.B))
		}
		for sent < n {
			if len(pending) == 0 {
				k := min(chunk, n-sent)
				for i := range data[:k] {
					data[i] = byte(rng.Uint32())
				}
				pending = data[:k]
			}
			w, err := src.SendSingle(pending, 0)
			if err == syscall.EAGAIN {
				break
			}
			require.NoError(t, err)
			hs.Write(pending[:w])
			pending = pending[w:]
			sent += w
		}
		p.Step()
		if watch != nil {
			watch()
		}
		if zc {
			dst.ZcRecv(msg)
			for _, b := range msg.Iov {
				hd.Write(b)
				got += len(b)
			}
			if len(msg.Iov) > 0 {
				_, err := dst.ZcRecvDone(msg)
				require.NoError(t, err)
			}
		} else {
			for {
				k, err := dst.Recv([][]byte{rbuf[:1000], rbuf[1000:]})
				if err == syscall.EAGAIN {
					break
				}
				require.NoError(t, err)
				hd.Write(rbuf[:k])
				got += k
			}
		}
		p.Clock.Advance(int64(time.Microsecond))
	}
	assert.Equal(t, n, got)
	assert.True(t, bytes.Equal(hs.Sum(nil), hd.Sum(nil)), "stream digests differ")
}

func TestTransferBeyondWindowAndPool(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(5002)
	pool := p.A.Pool().Size()
	// More than the window (64 KiB at most) and more than the whole pool's bytes.
	n := pool*2048 + 12345
	transfer(t, p, c, s, n, 10000, true)
	transfer(t, p, s, c, n, 777, false)
	assert.Zero(t, StackCounters(p.A).Drops[DropNoSpace])
	assert.Zero(t, StackCounters(p.B).Retransmits)
}

func TestConnectRefused(t *testing.T) {
	p := newPair(t)
	_, err := Listen(p.B, netip.AddrPortFrom(ipB, 10), nil) // TCP on B, nothing on port 9
	require.NoError(t, err)
	h, err := NewHandle(p.A, nil)
	require.NoError(t, err)
	c, err := h.Connect(netip.AddrPortFrom(ipB, 9))
	require.NoError(t, err)
	buf := make([]byte, 8)
	_, err = c.Recv([][]byte{buf})
	assert.Equal(t, syscall.ENOTCONN, err)
	p.run(100, time.Microsecond, func() bool { return c.State() == StateClose })
	assert.True(t, errors.Is(c.Err(), syscall.ECONNREFUSED))
	_, err = c.Recv([][]byte{buf})
	assert.Equal(t, syscall.ECONNREFUSED, err)
	msg := NewMsg(2)
	c.ZcRecv(msg)
	require.Len(t, msg.Iov, 1)
	r, err := c.ZcRecvDone(msg)
	assert.Zero(t, r)
	assert.Equal(t, syscall.ECONNREFUSED, err)
	c.Close()
}

// Scenario 5: simultaneous open; both sides go SYN-SENT → SYN-RECEIVED → ESTABLISHED.
func TestSimultaneousOpen(t *testing.T) {
	p := newPair(t)
	ha, err := NewHandle(p.A, nil)
	require.NoError(t, err)
	require.NoError(t, ha.Bind(netip.AddrPortFrom(ipA, 7000)))
	hb, err := NewHandle(p.B, nil)
	require.NoError(t, err)
	require.NoError(t, hb.Bind(netip.AddrPortFrom(ipB, 8000)))
	// Let ARP settle first, so that both SYNs cross on the wire.
	p.A.Resolve([4]byte{198, 18, 0, 2})
	p.settle()
	a, err := ha.Connect(netip.AddrPortFrom(ipB, 8000))
	require.NoError(t, err)
	b, err := hb.Connect(netip.AddrPortFrom(ipA, 7000))
	require.NoError(t, err)
	assert.Equal(t, StateSynSent, a.State())
	p.Step()
	p.run(10, time.Microsecond, func() bool {
		return a.State() == StateEstablished && b.State() == StateEstablished
	})
	_, err = a.SendSingle([]byte("ping"), 0)
	require.NoError(t, err)
	buf := make([]byte, 8)
	var n int
	p.run(10, time.Microsecond, func() bool { n, err = b.Recv([][]byte{buf}); return err == nil })
	assert.Equal(t, "ping", string(buf[:n]))
}

// Scenario 6: simultaneous close: both FINs cross, both sides pass CLOSING to TIME-WAIT.
func TestSimultaneousClose(t *testing.T) {
	p := newPair(t, "tcp_timewait_ms", "10")
	c, s, _ := p.connect(5003)
	require.NoError(t, c.ShutdownTx())
	require.NoError(t, s.ShutdownTx())
	p.A.Perform() // B's FIN, not acknowledging A's
	assert.Equal(t, StateClosing, c.State())
	p.B.Perform() // A's FIN, then A's ACK of B's FIN: through CLOSING to TIME-WAIT
	assert.Equal(t, StateTimeWait, s.State())
	p.settle()
	assert.Equal(t, StateTimeWait, c.State())
	assert.Equal(t, StateTimeWait, s.State())
	p.run(100, time.Millisecond, func() bool { return c.State() == StateClose && s.State() == StateClose })
	c.Close()
	s.Close()
}

// Scenario 21: ISNs just below 2^32 on both sides, with data, ACK and FIN crossing the wrap.
func TestISNWrap(t *testing.T) {
	p := newPair(t, "tcp_timewait_ms", "10")
	stateOf(p.A).isnHook = func() wire.Seq { return 0xffffffff - 100 }
	stateOf(p.B).isnHook = func() wire.Seq { return 0xffffffff - 3000 }
	c, s, _ := p.connect(5004)
	transfer(t, p, c, s, 50000, 1000, true)
	transfer(t, p, s, c, 50000, 1000, false)
	assert.True(t, c.sndNxt < 0x10000000, "A's sequence space wrapped")
	require.NoError(t, c.ShutdownTx())
	require.NoError(t, s.ShutdownTx())
	p.settle()
	assert.Equal(t, StateTimeWait, c.State())
	assert.Contains(t, []State{StateTimeWait, StateClose}, s.State())
}

// ZcRecvDoneSome: the bytes not consumed come back on the next read.
func TestZcRecvDoneSome(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(5005)
	_, err := c.SendSingle([]byte("0123456789"), 0)
	require.NoError(t, err)
	_, err = c.SendSingle([]byte("abcdef"), 0)
	require.NoError(t, err)
	require.NoError(t, c.ShutdownTx())
	p.settle()
	msg := NewMsg(8)
	s.ZcRecv(msg)
	var got string
	for _, b := range msg.Iov {
		got += string(b)
	}
	require.Equal(t, "0123456789abcdef", got)
	require.Len(t, msg.Iov[len(msg.Iov)-1], 0, "EOF marker")
	r, err := s.ZcRecvDoneSome(msg, 4)
	require.NoError(t, err)
	assert.Equal(t, 1, r, "not at EOF: bytes are left")
	s.ZcRecv(msg)
	got = ""
	for _, b := range msg.Iov {
		got += string(b)
	}
	assert.Equal(t, "456789abcdef", got)
	r, err = s.ZcRecvDoneSome(msg, 8)
	require.NoError(t, err)
	assert.Equal(t, 1, r)
	buf := make([]byte, 32)
	n, err := s.Recv([][]byte{buf})
	require.NoError(t, err)
	assert.Equal(t, "cdef", string(buf[:n]))
	n, err = s.Recv([][]byte{buf})
	assert.NoError(t, err)
	assert.Zero(t, n, "EOF")
	s.ZcRecv(msg)
	require.Len(t, msg.Iov, 1)
	r, err = s.ZcRecvDone(msg)
	assert.NoError(t, err)
	assert.Zero(t, r, "EOF")
}

// MSG_MORE: a partial segment is held; a full one leaves; a normal send flushes; an ACK for
// received data flushes too.
func TestMsgMore(t *testing.T) {
	p := newPair(t)
	c, s, _ := p.connect(5006)
	mss, _ := c.MSS()
	before := StackCounters(p.A).TxSegments
	_, err := c.SendSingle([]byte("head"), MsgMore)
	require.NoError(t, err)
	p.settle()
	assert.Equal(t, before, StackCounters(p.A).TxSegments, "held")
	_, err = c.SendSingle(make([]byte, mss), MsgMore)
	require.NoError(t, err)
	assert.Equal(t, before+1, StackCounters(p.A).TxSegments, "a full segment left, 4 bytes held")
	_, err = c.SendSingle([]byte("tail"), 0)
	require.NoError(t, err)
	assert.Equal(t, before+2, StackCounters(p.A).TxSegments, "flushed")
	p.settle()
	assert.Equal(t, mss+8, s.rqBytes)

	// An ACK the stack sends for received data carries a held segment.
	_, err = c.SendSingle([]byte("held"), MsgMore)
	require.NoError(t, err)
	_, err = s.SendSingle([]byte("x"), 0)
	require.NoError(t, err)
	p.Step()
	p.Clock.Advance(50 * ms) // A's delayed ACK
	p.settle()
	assert.Equal(t, mss+12, s.rqBytes)
	p.Clock.Advance(50 * ms) // B's delayed ACK
	p.settle()
	assert.Equal(t, c.sndMax, c.sndUna)
}

// Every error code of the API.
func TestErrors(t *testing.T) {
	p := newPair(t, "max_tcp_endpoints", "4", "max_tcp_listen_endpoints", "1")
	l, err := Listen(p.B, netip.AddrPortFrom(ipB, 80), nil)
	require.NoError(t, err)
	_, err = Listen(p.B, netip.AddrPortFrom(ipB, 81), nil)
	assert.ErrorIs(t, err, syscall.ENOBUFS, "max_tcp_listen_endpoints")
	l.Close()
	l, err = Listen(p.B, netip.AddrPortFrom(ipB, 80), nil)
	require.NoError(t, err)
	_, err = Listen(p.A, netip.AddrPortFrom(netip.IPv4Unspecified(), 80), nil)
	assert.ErrorIs(t, err, syscall.EOPNOTSUPP)
	_, err = Listen(p.A, netip.AddrPortFrom(ipB, 80), nil)
	assert.ErrorIs(t, err, syscall.EADDRNOTAVAIL)
	_, err = Listen(p.A, netip.MustParseAddrPort("[::1]:80"), nil)
	assert.ErrorIs(t, err, syscall.EAFNOSUPPORT)
	la, err := Listen(p.A, netip.AddrPortFrom(ipA, 80), nil)
	require.NoError(t, err)
	_, err = la.Accept()
	assert.Equal(t, syscall.EAGAIN, err)

	h, err := NewHandle(p.A, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, h.Bind(netip.AddrPortFrom(ipA, 80)), syscall.EADDRINUSE)
	assert.ErrorIs(t, h.Bind(netip.AddrPortFrom(ipB, 1234)), syscall.EADDRNOTAVAIL)
	require.NoError(t, h.Bind(netip.AddrPortFrom(netip.IPv4Unspecified(), 0)))
	assert.NotZero(t, h.LocalAddr().Port())
	assert.ErrorIs(t, h.Bind(netip.AddrPortFrom(ipA, 0)), syscall.EINVAL, "already bound")
	require.NoError(t, h.Close())
	la.Close()

	// ENOBUFS: handles and connections count against max_tcp_endpoints.
	var hs []*Handle
	for i := 0; i < 4; i++ {
		h, err := NewHandle(p.A, nil)
		require.NoError(t, err)
		hs = append(hs, h)
	}
	_, err = NewHandle(p.A, nil)
	assert.ErrorIs(t, err, syscall.ENOBUFS)
	for _, h := range hs[1:] {
		h.Close()
	}

	// ENOTCONN while connecting, EADDRINUSE for an existing 4-tuple.
	h = hs[0]
	require.NoError(t, h.Bind(netip.AddrPortFrom(ipA, 3333)))
	c, err := h.Connect(netip.AddrPortFrom(ipB, 80))
	require.NoError(t, err)
	_, err = c.SendSingle([]byte("x"), 0)
	assert.Equal(t, syscall.ENOTCONN, err)
	_, err = c.SendSpace()
	assert.Equal(t, syscall.ENOTCONN, err)
	_, err = c.MSS()
	assert.Equal(t, syscall.ENOTCONN, err)
	_, err = c.SendSingle([]byte("x"), 12345)
	assert.Equal(t, syscall.EINVAL, err)
	var s *Conn
	p.run(100, time.Microsecond, func() bool { s, _ = l.Accept(); return s != nil })

	// EAGAIN: the peer does not read; the window closes, then the send queue fills.
	big := make([]byte, 1<<20)
	total := 0
	for i := 0; i < 100; i++ {
		n, err := c.SendSingle(big, 0)
		if err == syscall.EAGAIN {
			break
		}
		require.NoError(t, err)
		total += n
		p.Step()
	}
	_, err = c.SendSingle(big, 0)
	assert.Equal(t, syscall.EAGAIN, err)
	space, err := c.SendSpace()
	require.NoError(t, err)
	assert.Zero(t, space)
	assert.Greater(t, total, 64*1000)

	// ENOTCONN after ShutdownTx; EPIPE when the peer, closed, resets our data.
	require.NoError(t, s.ShutdownTx())
	p.settle()
	assert.Equal(t, StateCloseWait, c.State())
	assert.ErrorIs(t, s.ShutdownTx(), syscall.ENOTCONN)
	_, err = s.SendSingle([]byte("x"), 0)
	assert.Equal(t, syscall.ENOTCONN, err)
	s.Close() // unread data: RST
	p.settle()
	assert.Equal(t, syscall.EPIPE, c.Err())
	c.Close()

	// ENOMEM: no packet buffer left.
	l.Close()
	c2, s2, _ := p.connect(90)
	pool := p.A.Pool()
	stateOf(p.A).cache.Flush()
	var hold []*dpdkMbuf
	for {
		m := pool.Alloc()
		if m == nil {
			break
		}
		hold = append(hold, m)
	}
	_, err = c2.SendSingle([]byte("x"), 0)
	assert.Equal(t, syscall.ENOMEM, err)
	assert.Equal(t, uint64(1), StackCounters(p.A).SendENOMEM)
	for _, m := range hold {
		m.Free()
	}
	_, err = c2.SendSingle([]byte("x"), 0)
	assert.NoError(t, err)
	_ = s2
}

// ETIMEDOUT: data unacknowledged through tcp_retries retransmissions.
func TestDataRetriesTimeout(t *testing.T) {
	p := newPair(t, "tcp_retries", "3")
	c, s, _ := p.connect(5007)
	p.A.SetFaults(stack.Faults{Seed: 1, Drop: 1})
	_, err := c.SendSingle([]byte("lost"), 0)
	require.NoError(t, err)
	p.run(200, 100*time.Millisecond, func() bool { return c.State() == StateClose })
	assert.Equal(t, syscall.ETIMEDOUT, c.Err())
	assert.Equal(t, uint64(3), StackCounters(p.A).Retransmits)
	p.A.SetFaults(stack.Faults{})
	c.Close()
	_ = s
}

// Readiness through the muxer: a listener is ready for EPOLLIN with a connection to accept; a
// connection for EPOLLOUT while it can send, EPOLLIN with data and at EOF, EPOLLHUP once closed
// both ways.
func TestMuxerReadiness(t *testing.T) {
	p := newPair(t)
	l, err := Listen(p.B, netip.AddrPortFrom(ipB, 5010), nil)
	require.NoError(t, err)
	mux := stack.NewMuxer(p.B)
	require.NoError(t, mux.Add(l.Waitable(), stack.Event{Events: stack.EPOLLIN, Data: 1}))
	evs := make([]stack.Event, 4)
	h, err := NewHandle(p.A, nil)
	require.NoError(t, err)
	c, err := h.Connect(netip.AddrPortFrom(ipB, 5010))
	require.NoError(t, err)
	var n int
	p.run(20, time.Microsecond, func() bool { p.A.Perform(); n = mux.Wait(evs, 0); return n > 0 })
	assert.Equal(t, uint64(1), evs[0].Data)
	s, err := l.Accept()
	require.NoError(t, err)
	require.NoError(t, mux.Add(s.Waitable(), stack.Event{Events: stack.EPOLLIN | stack.EPOLLOUT | stack.EPOLLHUP, Data: 2}))
	n = mux.Wait(evs, 0)
	require.Equal(t, 1, n)
	assert.Equal(t, stack.EPOLLOUT, evs[0].Events)
	_, err = c.SendSingle([]byte("x"), 0)
	require.NoError(t, err)
	p.run(20, time.Microsecond, func() bool { n = mux.Wait(evs, 0); return n > 0 })
	assert.Equal(t, stack.EPOLLIN, evs[0].Events&stack.EPOLLIN)
	buf := make([]byte, 4)
	_, err = s.Recv([][]byte{buf})
	require.NoError(t, err)
	assert.Zero(t, s.Waitable().Readiness()&stack.EPOLLIN, "read: no longer readable")
	require.NoError(t, c.ShutdownTx())
	require.NoError(t, s.ShutdownTx())
	p.settle()
	assert.NotZero(t, s.Waitable().Readiness()&stack.EPOLLIN, "EOF is readable")
	assert.NotZero(t, s.Waitable().Readiness()&stack.EPOLLHUP)
	s.Close()
	l.Close()
}

// A Send that fills the send queue exactly clears EPOLLOUT (a waiter would otherwise never see
// the edge that the ACKs bring), and the ACKs raise it again.
func TestSendFillingQueueClearsWritable(t *testing.T) {
	p := newPair(t)
	c, _, _ := p.connect(5011)
	require.NotZero(t, c.Waitable().Readiness()&stack.EPOLLOUT)
	space, err := c.SendSpace()
	require.NoError(t, err)
	n, err := c.SendSingle(make([]byte, space), 0)
	require.NoError(t, err)
	require.Equal(t, space, n)
	assert.Zero(t, c.Waitable().Readiness()&stack.EPOLLOUT, "queue full: not writable")
	p.settle()
	assert.NotZero(t, c.Waitable().Readiness()&stack.EPOLLOUT, "acknowledged: writable again")
}

// Scenario 24 (ports): when the ephemeral range is exhausted, Bind and Connect say
// EADDRNOTAVAIL.
func TestEphemeralPortsExhausted(t *testing.T) {
	p := newPair(t, "max_tcp_endpoints", "30000")
	var hs []*Handle
	defer func() {
		for _, h := range hs {
			h.Close()
		}
	}()
	for i := 0; i <= stack.EphemeralLast-stack.EphemeralFirst; i++ {
		h, err := NewHandle(p.A, nil)
		require.NoError(t, err)
		hs = append(hs, h)
		require.NoError(t, h.Bind(netip.AddrPortFrom(ipA, 0)))
	}
	h, err := NewHandle(p.A, nil)
	require.NoError(t, err)
	hs = append(hs, h)
	assert.ErrorIs(t, h.Bind(netip.AddrPortFrom(ipA, 0)), syscall.EADDRNOTAVAIL)
	_, err = h.Connect(netip.AddrPortFrom(ipB, 80))
	assert.ErrorIs(t, err, syscall.EADDRNOTAVAIL)
}
