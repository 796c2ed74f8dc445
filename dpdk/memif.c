// memif zero-copy's hold on EAL's memory files: see memif.go.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_memory.h>

#include "memif.h"

// rte_memseg_get_fd interposes EAL's own (the executable is linked with -rdynamic, so the
// memif PMD, loaded later, binds to this one): it returns a duplicate of the memory segment's
// file, which memif's zero-copy client closes after mapping (memif_connect), instead of EAL's
// own descriptor, which EAL still needs (to grow memory) and hands out again on the next
// connect.
int rte_memseg_get_fd(const struct rte_memseg *ms)
{
	static int (*real)(const struct rte_memseg *);
	if (real == NULL) {
		real = (int (*)(const struct rte_memseg *))dlsym(RTLD_NEXT, "rte_memseg_get_fd");
		if (real == NULL) {
			rte_errno = ENOTSUP;
			return -1;
		}
	}
	int fd = real(ms);
	if (fd < 0)
		return fd;
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0) {
		rte_errno = errno;
		return -1;
	}
	return dup;
}

static int count_closed(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	int *closed = arg;
	int fd;
	(void)msl;
	// The thread-unsafe variant: the walk holds the memory lock, and it is EAL's, not ours.
	fd = rte_memseg_get_fd_thread_unsafe(ms);
	if (fd >= 0 && fcntl(fd, F_GETFD) < 0 && errno == EBADF)
		(*closed)++;
	return 0;
}

int zk_memseg_fds_closed(void)
{
	int closed = 0;
	rte_memseg_walk(count_closed, &closed);
	return closed;
}
