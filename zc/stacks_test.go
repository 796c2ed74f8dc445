package zc_test

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket/zocket/tcp"
	"github.com/zocket/zocket/zc"
)

// TestStacksOnTwoGoroutines: two stacks, each polled by its own goroutine, use zc at the same
// time, their first zc calls (which make each stack's zc state) included. Each keeps its own
// pool, bulk array and completion queue: each peer receives exactly its own stream, every
// SendZC is notified on its own stack's queue, and each pool is whole at its stack's close.
// Run with -race: zc state shared between stacks is a race report (or a fatal concurrent map
// write).
func TestStacksOnTwoGoroutines(t *testing.T) {
	const rounds = 300
	type side struct {
		e    *env
		c, s *tcp.Conn
		want []byte
		res  streamResult
	}
	sides := make([]*side, 2)
	for i := range sides {
		sd := &side{e: newEnv(t)}
		sd.c, sd.s = sd.e.tcp(8200)
		sides[i] = sd
	}
	var wg sync.WaitGroup
	for i, sd := range sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sd.want, sd.res = zcStream(sd.e, sd.c, sd.s, byte(i+1), rounds)
		}()
	}
	wg.Wait()
	for i, sd := range sides {
		require.NoError(t, sd.res.err, "stack %d", i)
		assert.Equal(t, sha256.Sum256(sd.want), sha256.Sum256(sd.res.got), "stack %d: stream", i)
		assert.Equal(t, rounds, sd.res.notified, "stack %d: notifications", i)
		assert.Zero(t, zc.Completions(sd.e.A).Outstanding(), "stack %d", i)
	}
}

type streamResult struct {
	got      []byte
	notified int
	err      error
}

// zcStream sends rounds × (a zc.Send buffer and a SendZCFixed buffer) of 1000 bytes each on c,
// filled from seed, reads them on s, and returns what was sent and what came, with the number
// of notifications. It performs only e's pair and reports errors instead of failing, so that
// it can run on a goroutine of its own.
func zcStream(e *env, c, s *tcp.Conn, seed byte, rounds int) (want []byte, r streamResult) {
	reg, err := zc.RegisterBuffers(e.A, 1, zc.HdrTCP)
	if err != nil {
		return nil, streamResult{err: err}
	}
	defer reg.Unregister()
	iov := make([]zc.IOVec, 1)
	msgs := make([]zc.MMsg, 1)
	recv := func(got, b []byte) []byte { return recvAppend(s, got, b) }
	for k := 0; k < rounds; k++ {
		if err := zc.AllocBuffers(e.A, iov, zc.HdrTCP); err != nil {
			return want, streamResult{err: fmt.Errorf("round %d: alloc: %w", k, err)}
		}
		iov[0].Buf = iov[0].Buf[:1000]
		fill(iov[0].Buf, seed, k)
		fill(reg.Bufs[0].Buf[:1000], seed, k+rounds)
		want = append(append(want, iov[0].Buf...), reg.Bufs[0].Buf[:1000]...)
		msgs[0] = zc.MMsg{Zocket: c, Iov: iov}
		if _, err := zc.Send(msgs, 0); err != nil || msgs[0].Rc != 1000 {
			return want, streamResult{err: fmt.Errorf("round %d: send: %v rc %d", k, err, msgs[0].Rc)}
		}
		if _, err := zc.SendZCFixed(c, reg, 0, 0, 1000, 0, uint64(k)); err != nil {
			return want, streamResult{err: fmt.Errorf("round %d: SendZCFixed: %w", k, err)}
		}
		got, notes := e.stream(recv, 2000, 1)
		r.got = append(r.got, got...)
		if len(notes) != 1 || notes[0].User != uint64(k) {
			return want, streamResult{err: fmt.Errorf("round %d: notifications %v", k, notes)}
		}
		r.notified++
	}
	return want, r
}

// fill writes a pattern of seed and k into b.
func fill(b []byte, seed byte, k int) {
	for i := range b {
		b[i] = seed*31 + byte(k) + byte(i*7)
	}
}
