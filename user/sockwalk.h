/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every TCP socket of every network namespace in one walk of the kernel's
 * TCP hash tables (bpf/iter.bpf.c), where sock_diag answers for one
 * namespace per walk.  The seed and the host-wide TIME-WAIT census use it
 * when it loads, and sock_diag (diag.h) when not: a kernel before 6.1, one
 * that refuses BPF iterators, or TCPTRAIL_SEED=diag.
 *
 * Sockets come as struct diag_sock, as sock_diag gives them, with these
 * differences: a socket that never had a cookie made has cookie 0 (a dump
 * makes one), and only full sockets' ages, queues, inode, uid and cgroup are
 * filled in; timer is DIAG_TIMER_TIME_WAIT for a timewait sock and
 * DIAG_TIMER_RETRANS for a request sock, 0 otherwise, and expires_ms and
 * retrans are 0.  None of those is read by the seed or the census.
 *
 * A namespace with an established hash table of its own
 * (net.ipv4.tcp_child_ehash_entries) is not walked: its inode is listed
 * in sockwalk__own_table() when a listener of it showed it, and the caller
 * dumps it with sock_diag, as it does a namespace the walk saw no socket of
 * while /proc/net/sockstat shows some.
 */
#ifndef TT_SOCKWALK_H
#define TT_SOCKWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"

struct sockwalk;

struct sockwalk_stats {
	uint64_t sockets;	/* records read */
	uint64_t moved;		/* chains the walk was moved off meanwhile */
	uint64_t cut;		/* chains longer than the walk follows */
	uint64_t lost;		/* records that found no room */
	uint32_t reads;		/* iterator reads (ring buffer fills) */
	uint64_t took_ns;
};

/*
 * Load the walker; -errno (-EOPNOTSUPP when asked not to, by TCPTRAIL_SEED=diag)
 * after a -v line saying why.  Needs CAP_BPF and CAP_PERFMON (or
 * CAP_SYS_ADMIN); the walks need no capability afterwards.
 */
int sockwalk__open(struct sockwalk **out);
void sockwalk__free(struct sockwalk *w);

/* cb gets each socket and its namespace; its negative value stops the walk. */
typedef int (*sockwalk_cb)(const struct diag_sock *s, uint32_t netns, void *ctx);

/*
 * One walk of every namespace, for the sockets whose state (as sock_diag
 * shows it) is in states (DIAG_STATE() bits; 0: all).  light: only the
 * family, state, addresses, ports and namespace are filled in.  Include
 * LISTEN for sockwalk__own_table() to know them.  0, the callback's value,
 * or -errno after a message.
 */
int sockwalk__run(struct sockwalk *w, uint32_t states, bool light, sockwalk_cb cb, void *ctx,
		  struct sockwalk_stats *st);

/* The namespaces of the last walk that have a table of their own, and how many. */
const uint32_t *sockwalk__own_table(const struct sockwalk *w, size_t *n);

/* Whether the last walk read a socket of netns (own-table ones excepted). */
bool sockwalk__seen(const struct sockwalk *w, uint32_t netns);

/*
 * One record as the kernel wrote it into a diag_sock and its namespace.
 * -EINVAL for a short record or an unknown kind or family; 1 for a listener
 * of an own-table namespace (not a socket to count), else 0.
 */
int sockwalk__parse(const void *rec, size_t len, struct diag_sock *s, uint32_t *netns);

/* "hash-walk" or "sock_diag": what seeds and counts, for -v and --probe. */
const char *sockwalk__method(const struct sockwalk *w);

/* Why the last open or run failed ("" if none did). */
const char *sockwalk__why(void);

/*
 * Load and run a walk of the listeners, for --probe: line says which way
 * seeding and the census go here, and why.  0 when the walk works.
 */
int sockwalk__probe(char *line, size_t len);

#endif /* TT_SOCKWALK_H */
