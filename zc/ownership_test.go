package zc_test

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/tcp"
	"github.com/zocket/zocket/zc"
)

// sendOp is one call of TestSendZCBufferStaysTheCallers: SendZCFixed of bytes [off, off+n) of
// registered buffer 0, or (copy) an ordinary send of n bytes (tcp.Conn.Send,
// udp.Transmitter.SendSingle).
type sendOp struct {
	copy   bool
	off, n int
}

// zcLink is one transport of TestSendZCBufferStaysTheCallers.
type zcLink struct {
	z    zc.Zocket
	kind zc.Kind
	send func(b []byte) (int, error)      // an ordinary (copying) send
	recv func(got, scratch []byte) []byte // appends what the peer received
}

func tcpLink(e *env) zcLink {
	c, s := e.tcp(8300)
	return zcLink{z: c, kind: zc.HdrTCP,
		send: func(b []byte) (int, error) { return c.Send([][]byte{b}, 0) },
		recv: func(got, b []byte) []byte { return recvAppend(s, got, b) }}
}

func udpLink(e *env) zcLink {
	tx, rx := e.udp(7300)
	return zcLink{z: tx, kind: zc.HdrUDP,
		send: tx.SendSingle,
		recv: func(got, _ []byte) []byte {
			out, _ := recvAll(e.t.(*testing.T), rx)
			for _, d := range out {
				got = append(got, d...)
			}
			return got
		}}
}

// TestSendZCBufferStaysTheCallers: the stack never writes into a buffer a SendZC has
// outstanding, and several SendZC outstanding on one registered buffer each send their own
// bytes. Every TCP case queues its calls behind a full congestion window (nothing of them has
// left when the next call comes; over UDP the peer holds each frame, net_ring passing the mbuf
// itself, until it performs). Then the peer must receive exactly the bytes each call meant, in
// order, and each SendZC is notified once, with Copied as documented: a view that starts the
// buffer's payload room on a buffer that is no other outstanding SendZC's frame goes without a
// copy, any other is copied (its headers would overwrite the caller's bytes or the first frame).
func TestSendZCBufferStaysTheCallers(t *testing.T) {
	cases := []struct {
		name   string
		ops    []sendOp
		copied []bool // per SendZC, in call order
	}{
		{"Send after a queued SendZC does not append into its buffer",
			[]sendOp{{off: 0, n: 600}, {copy: true, n: 100}, {off: 600, n: 600}}, []bool{false, true}},
		{"one SendZC alone", []sendOp{{off: 0, n: 600}}, []bool{false}},
		{"two SendZC on adjacent ranges",
			[]sendOp{{off: 0, n: 600}, {off: 600, n: 600}}, []bool{false, true}},
		{"two SendZC, the later range first",
			[]sendOp{{off: 600, n: 600}, {off: 0, n: 600}}, []bool{true, false}},
		{"the same range twice",
			[]sendOp{{off: 0, n: 800}, {off: 0, n: 800}}, []bool{false, true}},
		{"three SendZC and Sends between",
			[]sendOp{{off: 0, n: 700}, {copy: true, n: 30}, {off: 700, n: 700}, {copy: true, n: 1}, {off: 100, n: 600}},
			[]bool{false, true, true}},
	}
	for _, tr := range []struct {
		name    string
		link    func(*env) zcLink
		prefill int // bytes sent first, to fill the congestion window
	}{
		{"tcp", tcpLink, 16 * 1400},
		{"udp", udpLink, 0},
	} {
		for _, tc := range cases {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				l := tr.link(e)
				reg, err := zc.RegisterBuffers(e.A, 1, l.kind)
				require.NoError(t, err)
				defer reg.Unregister()
				buf := reg.Bufs[0].Buf
				fill(buf, 1, 0)
				var want []byte
				if tr.prefill > 0 {
					b := make([]byte, tr.prefill)
					fill(b, 2, 0)
					n, err := l.send(b)
					require.NoError(t, err)
					require.Equal(t, len(b), n)
					want = append(want, b...)
				}
				nzc := 0
				for i, op := range tc.ops {
					var n int
					if op.copy {
						b := make([]byte, op.n)
						fill(b, 3, i)
						n, err = l.send(b)
						want = append(want, b...)
					} else {
						n, err = zc.SendZCFixed(l.z, reg, 0, op.off, op.n, 0, uint64(nzc))
						want = append(want, buf[op.off:op.off+op.n]...)
						nzc++
					}
					require.NoError(t, err, "op %d", i)
					require.Equal(t, op.n, n, "op %d", i)
				}
				got, notes := e.stream(l.recv, len(want), nzc)
				assert.Equal(t, sha256.Sum256(want), sha256.Sum256(got), "stream (%d bytes, want %d)", len(got), len(want))
				require.Len(t, notes, nzc)
				copied := make([]bool, nzc)
				for _, c := range notes {
					copied[c.User] = c.Copied
				}
				assert.Equal(t, tc.copied, copied)
				assert.Equal(t, 1, zc.Refcnt(reg.Bufs[0].H), "the buffer is the caller's again")
			})
		}
	}
}

// stream performs the pair until recv has returned want bytes and A's completion queue has
// given nzc notifications (or 10 s of the manual clock passed), and returns both.
func (e *env) stream(recv func(got, scratch []byte) []byte, want, nzc int) ([]byte, []zc.Completion) {
	got := make([]byte, 0, want)
	notes := make([]zc.Completion, nzc+1)
	polled := 0
	cq := zc.Completions(e.A)
	var b [65536]byte
	for i := 0; i < 10000 && (len(got) < want || polled < nzc); i++ {
		e.Step()
		e.Clock.Advance(1_000_000)
		got = recv(got, b[:])
		polled += cq.Poll(notes[polled:])
	}
	return got, notes[:polled]
}

// recvAppend appends what c has received to got, reading through b.
func recvAppend(c *tcp.Conn, got, b []byte) []byte {
	for {
		n, err := c.Recv([][]byte{b})
		if err != nil || n == 0 {
			return got
		}
		got = append(got, b[:n]...)
	}
}
