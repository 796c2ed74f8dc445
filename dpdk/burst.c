#include <rte_ethdev.h>
#include <rte_cycles.h>
#include "burst.h"

// tx_drop transmits tx, counts the bytes sent and frees what the port did not take.
static inline void tx_drop(struct zk_fwd *f, uint16_t port, uint16_t queue, struct rte_mbuf **tx,
                           uint16_t ntx) {
	if (ntx == 0)
		return;
	uint64_t bytes = 0;
	for (uint16_t i = 0; i < ntx; i++)
		bytes += tx[i]->pkt_len;
	f->sent = rte_eth_tx_burst(port, queue, tx, ntx);
	if (f->sent < ntx) {
		for (uint16_t i = f->sent; i < ntx; i++)
			bytes -= tx[i]->pkt_len;
		rte_pktmbuf_free_bulk(tx + f->sent, ntx - f->sent);
	}
	f->bytes = bytes;
}

// zk_tx_drop_rx transmits tx on (txport, txq), frees what the port did not take, receives up
// to nrx packets from (rxport, rxq) and reads the TSC. bytes are the bytes sent.
struct zk_fwd zk_tx_drop_rx(uint16_t txport, uint16_t txq, struct rte_mbuf **tx, uint16_t ntx,
                            uint16_t rxport, uint16_t rxq, struct rte_mbuf **rx, uint16_t nrx) {
	struct zk_fwd f = {0, 0, 0, 0, 0};
	tx_drop(&f, txport, txq, tx, ntx);
	if (nrx > 0)
		f.received = rte_eth_rx_burst(rxport, rxq, rx, nrx);
	f.tsc = rte_rdtsc();
	return f;
}

// zk_rx_drop receives up to nrx packets, adds up their lengths, frees them and reads the TSC.
struct zk_fwd zk_rx_drop(uint16_t port, uint16_t queue, struct rte_mbuf **rx, uint16_t nrx) {
	struct zk_fwd f = {0, 0, 0, 0, 0};
	f.received = rte_eth_rx_burst(port, queue, rx, nrx);
	for (uint16_t i = 0; i < f.received; i++)
		f.bytes += rx[i]->pkt_len;
	if (f.received > 0)
		rte_pktmbuf_free_bulk(rx, f.received);
	f.tsc = rte_rdtsc();
	return f;
}

// zk_tx_drop_alloc transmits tx, frees what the port did not take, then fills next from mp
// (all or nothing: allocated is 1 on success, 0 when the pool is short) and reads the TSC.
// bytes are the bytes sent.
struct zk_fwd zk_tx_drop_alloc(uint16_t port, uint16_t queue, struct rte_mbuf **tx, uint16_t ntx,
                               struct rte_mempool *mp, struct rte_mbuf **next, uint16_t nnext) {
	struct zk_fwd f = {0, 0, 0, 0, 0};
	tx_drop(&f, port, queue, tx, ntx);
	if (nnext > 0)
		f.allocated = rte_pktmbuf_alloc_bulk(mp, next, nnext) == 0;
	f.tsc = rte_rdtsc();
	return f;
}
