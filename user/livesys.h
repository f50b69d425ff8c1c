/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The mounts the live source needs (livesys.c).  What the host lacks is
 * mounted in a mount namespace of our own, so the host's mount table is
 * left as it was.  Each returns 0 (or an fd) or -errno, and says why at -vv.
 */
#ifndef TT_LIVESYS_H
#define TT_LIVESYS_H

#include <stdbool.h>
#include <stddef.h>

/* Our own mount namespace (slave to the host's), once; 0 or -errno. */
int livesys__private_mounts(void);

/* tracefs, where plain tracepoints are attached by id; 0 or -errno (tried once). */
int livesys__tracefs(void);

/* An fd of the cgroup v2 root, or -errno with why said in why. */
int livesys__cgroup2_root(char *why, size_t len);

/*
 * Whether this process is in a cgroup namespace of its own (a container's:
 * docker's default on cgroup v2), where "the cgroup v2 root" is the
 * namespace's, not the host's.
 */
bool livesys__own_cgroupns(void);

#endif /* TT_LIVESYS_H */
