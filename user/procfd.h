/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who holds a socket: the process whose /proc/PID/fd has a link to
 * "socket:[INODE]", found as `ss -p` finds it, by reading every fd link of
 * every process once.  The result is a snapshot: a process that exits or
 * a socket opened during the scan may be missed, which is fine for
 * attributing the sockets that existed when tracing started.
 */
#ifndef TT_PROCFD_H
#define TT_PROCFD_H

#include <stddef.h>
#include <stdint.h>

struct procfd;

struct procfd_owner {
	uint32_t tgid;
	uint32_t nholders;	/* processes holding it (fork, SCM_RIGHTS), saturating */
	char comm[16];		/* /proc/PID/comm, "" if it could not be read */
};

struct procfd_stats {
	uint32_t procs;		/* /proc/PID directories read */
	uint32_t procs_denied;	/* fd directories we were not allowed to read */
	uint64_t fds;		/* fd links read */
	uint64_t sockets;	/* distinct socket inodes found */
	uint32_t truncated;	/* a bound was hit: some owners are unknown */
};

/*
 * Scan /proc now.  prefer_tgid (0: none) wins a socket several processes
 * hold, so that a pid filter matches a worker sharing its parent's
 * listener; otherwise the first holder (the lowest pid) is kept.  Returns
 * 0 or -errno; *out is NULL on error.
 */
int procfd__scan(struct procfd **out, uint32_t prefer_tgid);
/* The same for these processes only (one that is gone has nothing). */
int procfd__scan_pids(struct procfd **out, const uint32_t *pids, size_t n);
void procfd__free(struct procfd *p);

/* The holder of socket `inode` into *out: 0, or -ENOENT if none was seen. */
int procfd__lookup(const struct procfd *p, uint32_t inode, struct procfd_owner *out);

const struct procfd_stats *procfd__stats(const struct procfd *p);

/*
 * /proc/PID/cmdline with the NULs between arguments turned to spaces, cut
 * at len - 1 bytes (a cut line ends in "..."), NUL-terminated.  Kernel
 * threads and zombies have none: "" and 0.  Returns the length, or -errno.
 */
int procfd__cmdline(uint32_t pid, char *buf, size_t len);

/* /proc/PID/comm as the seed reads it (a newline in it kept), NUL-padded: 0 or -errno. */
int procfd__comm(uint32_t pid, char comm[16]);

#endif /* TT_PROCFD_H */
