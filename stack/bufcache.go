package stack

import "github.com/zocket/zocket/dpdk"

// BufCache is a small LIFO cache of packet buffers for a transport's send path: buffers the
// transport is done with (a received segment the application released, an acknowledged
// segment the port no longer holds) go back into it, still warm in the CPU cache, and the next
// send takes one from it without a cgo call. When it is empty Take refills it with one bulk
// allocation; when it is full Put frees its older half in one bulk call. The array lives in C
// memory (dpdk.NewMbufArray), so the bulk calls skip cgo's pointer check.
//
// A BufCache belongs to one stack and is used from its polling goroutine. Close gives every
// cached buffer back, so that the stack can close with its pool whole. Put drops a shared
// buffer's reference with a plain update (dpdk.Mbuf.RefcntAdd): every other holder must be on
// the same thread — the port's driver is; a buffer shared with a stack polled from another
// thread is not supported.
type BufCache struct {
	pool *dpdk.Pool
	bufs []*dpdk.Mbuf
	n    int
}

// NewBufCache returns an empty cache of up to n (≥ 2) buffers of st's pool.
func NewBufCache(st *Stack, n int) *BufCache {
	return &BufCache{pool: st.pool, bufs: dpdk.NewMbufArray(max(n, 2))}
}

// Take returns an empty buffer (data_len 0, the default headroom, no offload flags), or nil
// when the pool is exhausted.
func (c *BufCache) Take() *dpdk.Mbuf {
	if c.n == 0 {
		half := len(c.bufs) / 2
		if c.pool.AllocBulk(c.bufs[:half]) != nil {
			return c.pool.Alloc()
		}
		c.n = half
	}
	c.n--
	m := c.bufs[c.n]
	resetBuf(m)
	return m
}

// TakeBulk fills ms with empty buffers, all or none: false (and nothing taken) when the pool
// cannot supply them all.
func (c *BufCache) TakeBulk(ms []*dpdk.Mbuf) bool {
	need := len(ms)
	if need > c.n {
		// Refill to cover the request and leave half the cache warm.
		want := min(need-c.n+len(c.bufs)/2, len(c.bufs)-c.n)
		if want < need-c.n || c.pool.AllocBulk(c.bufs[c.n:c.n+want]) != nil {
			if c.n != 0 || c.pool.AllocBulk(ms) != nil {
				return false
			}
			for _, m := range ms {
				resetBuf(m)
			}
			return true
		}
		c.n += want
	}
	copy(ms, c.bufs[c.n-need:c.n])
	c.n -= need
	for _, m := range ms {
		resetBuf(m)
	}
	return true
}

// Put takes back a buffer. A single-segment buffer someone else still references (a frame the
// driver has not transmitted yet, or one a net_ring peer holds) just loses our reference, as
// rte_pktmbuf_free would, without a cgo call; one of several segments or of another pool is
// freed.
func (c *BufCache) Put(m *dpdk.Mbuf) {
	if m.NbSegs() != 1 {
		m.Free()
		return
	}
	if m.Refcnt() > 1 {
		m.RefcntAdd(-1)
		return
	}
	if m.Pool() != c.pool {
		m.Free()
		return
	}
	if c.n == len(c.bufs) {
		half := len(c.bufs) / 2
		dpdk.FreeBulk(c.bufs[:half])
		copy(c.bufs, c.bufs[half:c.n])
		c.n -= half
	}
	c.bufs[c.n] = m
	c.n++
}

// Flush frees the cached buffers (the cache stays usable), e.g. before the stack closes while
// the cache's owner lives on.
func (c *BufCache) Flush() {
	if c.bufs == nil {
		return
	}
	dpdk.FreeBulk(c.bufs[:c.n])
	c.n = 0
}

// Len is the number of cached buffers.
func (c *BufCache) Len() int { return c.n }

// Close frees the cached buffers and the cache's array. The cache must not be used after.
func (c *BufCache) Close() {
	if c.bufs == nil {
		return
	}
	dpdk.FreeBulk(c.bufs[:c.n])
	dpdk.FreeMbufArray(c.bufs)
	c.bufs, c.n = nil, 0
}

// resetBuf makes a recycled single-segment buffer look freshly allocated: empty, data at the
// default headroom, no offload flags.
func resetBuf(m *dpdk.Mbuf) {
	m.SetLen(0)
	if h := m.Headroom(); h != dpdk.DefaultHeadroom {
		if h > dpdk.DefaultHeadroom {
			m.Prepend(h - dpdk.DefaultHeadroom)
		} else {
			m.Append(dpdk.DefaultHeadroom - h)
			m.Adj(dpdk.DefaultHeadroom - h)
		}
		m.SetLen(0)
	}
	m.SetOlFlags(0)
}
