// memif zero-copy's hold on EAL's memory files (memif.go).
#ifndef ZOCKET_DPDK_MEMIF_H
#define ZOCKET_DPDK_MEMIF_H

int zk_memseg_fds_closed(void);

#endif
