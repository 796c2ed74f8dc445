#include <string.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <rte_alarm.h>
#include <rte_errno.h>
#include <rte_bus_vdev.h>
#include <rte_ring.h>
#include <rte_eth_ring.h>
#include <rte_cycles.h>
#include "zk.h"

int zk_errno(void) { return rte_errno; }

// zk_vdev_init is rte_vdev_init with rte_errno cleared before and read after, in one call (one
// thread): rte_errno is per thread and sticky.
int zk_vdev_init(const char *name, const char *args, int *err) {
	rte_errno = 0;
	int r = rte_vdev_init(name, args);
	*err = rte_errno;
	return r;
}

// The receive ring of each port made by zk_ring_pair: net_ring cannot count its queue through
// ethdev, so zk_rx_queue_count asks the ring itself.
static struct rte_ring *zk_port_rx_ring[RTE_MAX_ETHPORTS];

uint16_t zk_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) {
	return rte_eth_rx_burst(port, queue, pkts, n);
}

uint16_t zk_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) {
	return rte_eth_tx_burst(port, queue, pkts, n);
}

// zk_tx_rx flushes ntx packets, receives up to nrx packets and reads the TSC: the whole reactor
// turn in one cgo call. The result comes back by value, so nothing escapes to Go's heap.
struct zk_turn zk_tx_rx(uint16_t port, uint16_t queue, struct rte_mbuf **tx, uint16_t ntx,
                        struct rte_mbuf **rx, uint16_t nrx) {
	struct zk_turn t = {0, 0, 0};
	if (ntx > 0)
		t.sent = rte_eth_tx_burst(port, queue, tx, ntx);
	t.received = rte_eth_rx_burst(port, queue, rx, nrx);
	t.tsc = rte_rdtsc();
	return t;
}

int zk_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned n) {
	return rte_pktmbuf_alloc_bulk(mp, pkts, n);
}

void zk_free_bulk(struct rte_mbuf **pkts, unsigned n) { rte_pktmbuf_free_bulk(pkts, n); }

void zk_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }

void zk_mbuf_reset(struct rte_mbuf *m) { rte_pktmbuf_reset(m); }

unsigned zk_pool_in_use(const struct rte_mempool *mp) { return rte_mempool_in_use_count(mp); }
unsigned zk_pool_avail(const struct rte_mempool *mp) { return rte_mempool_avail_count(mp); }
unsigned zk_pool_size(const struct rte_mempool *mp) { return mp->size; }

// zk_ring_pair makes two ethdev ports joined back to back by two rings: what a sends, b
// receives, and the other way round.
int zk_ring_pair(const char *name, unsigned size, int socket, uint16_t *a, uint16_t *b) {
	char n1[RTE_RING_NAMESIZE], n2[RTE_RING_NAMESIZE], pa[64], pb[64];
	snprintf(n1, sizeof n1, "%s_ab", name);
	snprintf(n2, sizeof n2, "%s_ba", name);
	struct rte_ring *ab = rte_ring_create(n1, size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ab == NULL)
		return -rte_errno;
	struct rte_ring *ba = rte_ring_create(n2, size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ba == NULL) {
		int e = rte_errno;
		rte_ring_free(ab);
		return -e;
	}
	snprintf(pa, sizeof pa, "%s_a", name);
	snprintf(pb, sizeof pb, "%s_b", name);
	// port a receives from ba and sends into ab; port b the reverse.
	int ra = rte_eth_from_rings(pa, &ba, 1, &ab, 1, socket);
	if (ra < 0)
		return -rte_errno;
	int rb = rte_eth_from_rings(pb, &ab, 1, &ba, 1, socket);
	if (rb < 0)
		return -rte_errno;
	*a = (uint16_t)ra;
	*b = (uint16_t)rb;
	zk_port_rx_ring[ra] = ba;
	zk_port_rx_ring[rb] = ab;
	return 0;
}

uint64_t zk_tsc(void) { return rte_rdtsc(); }

// The mbuf-pointer arrays of NewMbufArray come from one reserved region, so that Go can tell
// with one comparison that a burst's array is C memory and pass it as an integer, which cgo
// does not check. Blocks are powers of two from 128 bytes, behind a 64-byte header holding the
// size class (the array starts on a cache line); freed blocks go on a list per class. When the
// region is full, blocks come from calloc (and Go takes the checked path for them).
#define ZK_ARENA_SIZE ((size_t)256 << 20)
#define ZK_ARENA_HDR 64
static uintptr_t zk_arena_base;
static size_t zk_arena_used;
static void *zk_arena_free[48];
static pthread_mutex_t zk_arena_mu = PTHREAD_MUTEX_INITIALIZER;

uintptr_t zk_arena_init(void) {
	void *p = mmap(NULL, ZK_ARENA_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	zk_arena_base = (uintptr_t)p;
	return zk_arena_base;
}

uintptr_t zk_arena_size(void) { return zk_arena_base != 0 ? ZK_ARENA_SIZE : 0; }

void *zk_array_alloc(size_t bytes) {
	unsigned c = 7;
	while (((size_t)1 << c) < bytes + ZK_ARENA_HDR)
		c++;
	size_t size = (size_t)1 << c;
	char *b = NULL;
	pthread_mutex_lock(&zk_arena_mu);
	if (zk_arena_free[c] != NULL) {
		b = zk_arena_free[c];
		zk_arena_free[c] = *(void **)b;
	} else if (zk_arena_base != 0 && zk_arena_used + size <= ZK_ARENA_SIZE) {
		b = (char *)zk_arena_base + zk_arena_used;
		zk_arena_used += size;
	}
	pthread_mutex_unlock(&zk_arena_mu);
	if (b == NULL) {
		b = aligned_alloc(ZK_ARENA_HDR, size);
		if (b == NULL)
			return NULL;
	}
	memset(b, 0, size);
	*(unsigned *)b = c;
	return b + ZK_ARENA_HDR;
}

void zk_array_free(void *p) {
	char *b = (char *)p - ZK_ARENA_HDR;
	unsigned c = *(unsigned *)b;
	if ((uintptr_t)b - zk_arena_base >= ZK_ARENA_SIZE) {
		free(b);
		return;
	}
	pthread_mutex_lock(&zk_arena_mu);
	*(void **)b = zk_arena_free[c];
	zk_arena_free[c] = b;
	pthread_mutex_unlock(&zk_arena_mu);
}

// The _u variants take the array as an address in the region above.
uint16_t zk_rx_burst_u(uint16_t port, uint16_t queue, uintptr_t pkts, uint16_t n) {
	return rte_eth_rx_burst(port, queue, (struct rte_mbuf **)pkts, n);
}

uint16_t zk_tx_burst_u(uint16_t port, uint16_t queue, uintptr_t pkts, uint16_t n) {
	return rte_eth_tx_burst(port, queue, (struct rte_mbuf **)pkts, n);
}

struct zk_turn zk_tx_rx_u(uint16_t port, uint16_t queue, uintptr_t tx, uint16_t ntx, uintptr_t rx,
                          uint16_t nrx) {
	struct zk_turn t = {0, 0, 0};
	if (ntx > 0)
		t.sent = rte_eth_tx_burst(port, queue, (struct rte_mbuf **)tx, ntx);
	t.received = rte_eth_rx_burst(port, queue, (struct rte_mbuf **)rx, nrx);
	t.tsc = rte_rdtsc();
	return t;
}

int zk_alloc_bulk_u(struct rte_mempool *mp, uintptr_t pkts, unsigned n) {
	return rte_pktmbuf_alloc_bulk(mp, (struct rte_mbuf **)pkts, n);
}

void zk_free_bulk_u(uintptr_t pkts, unsigned n) { rte_pktmbuf_free_bulk((struct rte_mbuf **)pkts, n); }
uint64_t zk_tsc_hz(void) { return rte_get_tsc_hz(); }

void zk_ring_free(const char *name) {
	struct rte_ring *r = rte_ring_lookup(name);
	if (r == NULL)
		return;
	for (int i = 0; i < RTE_MAX_ETHPORTS; i++)
		if (zk_port_rx_ring[i] == r)
			zk_port_rx_ring[i] = NULL;
	rte_ring_free(r);
}
struct rte_mbuf *zk_alloc(struct rte_mempool *mp) { return rte_pktmbuf_alloc(mp); }

int zk_rx_queue_count(uint16_t port, uint16_t queue) {
	if (port < RTE_MAX_ETHPORTS && zk_port_rx_ring[port] != NULL && queue == 0)
		return (int)rte_ring_count(zk_port_rx_ring[port]);
	return rte_eth_rx_queue_count(port, queue);
}

// A port close: stop, close, and the virtual device's removal (vdev NULL for a PCI device).
struct close_req {
	uint16_t port;
	const char *vdev;
	int ret;
	int done;
};

static void close_port(void *arg)
{
	struct close_req *r = arg;
	rte_eth_dev_stop(r->port); // a started port cannot be closed; stopping twice is harmless
	r->ret = rte_eth_dev_close(r->port);
	if (r->ret == 0 && r->vdev != NULL)
		rte_vdev_uninit(r->vdev); // ports made by rte_eth_from_rings have no vdev: -ENOENT
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

int zk_port_close(uint16_t port, const char *vdev, int on_intr_thread)
{
	struct close_req r = {.port = port, .vdev = vdev};
	// On EAL's interrupt thread (an alarm callback) when asked (memif.go), and here when EAL
	// has no alarm.
	if (!on_intr_thread || rte_eal_alarm_set(1, close_port, &r) < 0) {
		close_port(&r);
		return r.ret;
	}
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
		usleep(50);
	return r.ret;
}
