/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * For the tests of --syslog and --journal against a receiver of their own:
 * what makes a receiver's queue full, and a run that must not block.
 */
#ifndef TT_SOCKKIT_H
#define TT_SOCKKIT_H

#include <stdbool.h>

/* net.unix.max_dgram_qlen: datagrams a socket queues before a sender must wait; -1 unknown */
int sockkit_dgram_qlen(void);

/*
 * fn(arg) in a child (arg in memory the two share, as mmap MAP_SHARED
 * gives): false if it had not returned within secs (the child is then
 * killed), as a send that blocks would never return, or if it failed.
 */
bool sockkit_returns_within(void (*fn)(void *), void *arg, int secs);

/*
 * In a child: RLIMIT_NOFILE set at the lowest free descriptor, so that
 * every open from now on fails with EMFILE.  0, or -1 if it could not be set.
 */
int sockkit_no_free_fds(void);

#endif /* TT_SOCKKIT_H */
