// memif's workarounds (memif.go): zero-copy's hold on EAL's memory files, closing on EAL's
// interrupt thread.
#ifndef ZOCKET_DPDK_MEMIF_H
#define ZOCKET_DPDK_MEMIF_H

#include <stdint.h>

int zk_memseg_fds_closed(void);
int zk_memif_close(uint16_t port, const char *vdev);

#endif
