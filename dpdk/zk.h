// C wrappers for DPDK's static-inline functions, batched so that one cgo call does a whole burst.
#ifndef ZOCKET_DPDK_ZK_H
#define ZOCKET_DPDK_ZK_H

#include <stdint.h>
#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>

#include <stddef.h>
enum { ZK_TX_OFFLOAD_OFF = offsetof(struct rte_mbuf, tx_offload), ZK_REFCNT_OFF = offsetof(struct rte_mbuf, refcnt) };

int zk_errno(void);
int zk_vdev_init(const char *name, const char *args, int *err);
int zk_port_close(uint16_t port, const char *vdev, int on_intr_thread);
uint16_t zk_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t zk_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
struct zk_turn {
	uint64_t tsc;
	uint16_t sent;
	uint16_t received;
};
struct zk_turn zk_tx_rx(uint16_t port, uint16_t queue, struct rte_mbuf **tx, uint16_t ntx,
                        struct rte_mbuf **rx, uint16_t nrx);
struct rte_mbuf *zk_alloc(struct rte_mempool *mp);
int zk_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned n);
void zk_free_bulk(struct rte_mbuf **pkts, unsigned n);
void zk_free(struct rte_mbuf *m);
void zk_mbuf_reset(struct rte_mbuf *m);
unsigned zk_pool_in_use(const struct rte_mempool *mp);
unsigned zk_pool_avail(const struct rte_mempool *mp);
unsigned zk_pool_size(const struct rte_mempool *mp);
int zk_ring_pair(const char *name, unsigned size, int socket, uint16_t *a, uint16_t *b);
uint64_t zk_tsc(void);
void zk_ring_free(const char *name);
int zk_rx_queue_count(uint16_t port, uint16_t queue);
uint64_t zk_tsc_hz(void);
uintptr_t zk_arena_init(void);
uintptr_t zk_arena_size(void);
void *zk_array_alloc(size_t bytes);
void zk_array_free(void *p);
uint16_t zk_rx_burst_u(uint16_t port, uint16_t queue, uintptr_t pkts, uint16_t n);
uint16_t zk_tx_burst_u(uint16_t port, uint16_t queue, uintptr_t pkts, uint16_t n);
struct zk_turn zk_tx_rx_u(uint16_t port, uint16_t queue, uintptr_t tx, uint16_t ntx, uintptr_t rx,
                          uint16_t nrx);
int zk_alloc_bulk_u(struct rte_mempool *mp, uintptr_t pkts, unsigned n);
void zk_free_bulk_u(uintptr_t pkts, unsigned n);

#endif
