// Forwarding-turn wrappers: a whole turn of a forwarder, generator or sink in one cgo call.
#ifndef ZOCKET_DPDK_BURST_H
#define ZOCKET_DPDK_BURST_H

#include <stdint.h>
#include <rte_mbuf.h>

struct zk_fwd {
	uint64_t tsc;
	uint64_t bytes;
	uint16_t sent;
	uint16_t received;
	int16_t allocated;
};

struct zk_fwd zk_tx_drop_rx(uint16_t txport, uint16_t txq, struct rte_mbuf **tx, uint16_t ntx,
                            uint16_t rxport, uint16_t rxq, struct rte_mbuf **rx, uint16_t nrx);
struct zk_fwd zk_rx_drop(uint16_t port, uint16_t queue, struct rte_mbuf **rx, uint16_t nrx);
struct zk_fwd zk_tx_drop_alloc(uint16_t port, uint16_t queue, struct rte_mbuf **tx, uint16_t ntx,
                               struct rte_mempool *mp, struct rte_mbuf **next, uint16_t nnext);

#endif
