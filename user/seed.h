/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Seeding: the TCP sockets that exist when tracing starts become TT_EV_SEED
 * records, so that a CLOSE_WAIT leak older than the trace is still seen,
 * and the flows they start end with the right timeline when their next
 * transition arrives.  The records go through the same source path as the
 * kernel's (and into a capture), so the engine needs no second input:
 * seedsrc.c makes the seed a source of its own, driven by source__drive().
 *
 * Call seed__run() after the hooks are attached and before the first poll
 * of the ring buffer.  Every record is stamped after the kernel took its
 * snapshot of the socket, so a transition that happened before the
 * snapshot reaches the engine as an older repeat of the seeded state and is
 * dropped as a duplicate, while one after it extends the seeded flow.
 *
 * A seed record:
 *   type TT_EV_SEED, hook TT_HOOK_SOCK_DIAG, new_state the socket's state,
 *   family, addresses, ports, netns as the dump has them;
 *   sk = engine__pseudo_sk() of that tuple (the dump shows no sk address);
 *   cookie the socket cookie (TT_F_COOKIE), the same value the BPF side's
 *   bpf_get_socket_cookie() returns;
 *   tgid = pid, comm: the process holding the socket, with TT_F_OWNER,
 *   when /proc shows one;
 *   ts_ns: CLOCK_MONOTONIC when we read it;
 *   aux[0]: tcpi_last_data_recv, ms since data last arrived.  For
 *           CLOSE_WAIT an upper bound on the time spent there (the FIN
 *           came at or after the last data; exact when it rode on it);
 *   aux[1]: the socket inode;
 *   aux[2]: tcpi_last_ack_recv, ms since an ACK last arrived.  For
 *           CLOSE_WAIT a lower bound on the time spent there: the FIN
 *           carried an ACK, so "in CLOSE_WAIT for at least aux[2] ms".
 *
 * Only full sockets are seeded, in the states a later tcp_set_state() can
 * end: not TIME_WAIT or request socks (minisocks never go through it), not
 * CLOSE (no flow).  SO_REUSEPORT listeners sharing one address and port
 * have one tuple, hence one pseudo key: the first seeds a flow, the others
 * are dropped by the engine as repeats.
 */
#ifndef TT_SEED_H
#define TT_SEED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>	/* live.h uses FILE without including it */
#include "diag.h"
#include "live.h"
#include "opts.h"
#include "procfd.h"
#include "tcptrail.h"

/* The states seeded. */
#define SEED_STATES (DIAG_STATES_ALL & ~(DIAG_STATE(TT_TIME_WAIT) |		\
					 DIAG_STATE(TT_NEW_SYN_RECV) |		\
					 DIAG_STATE(TT_CLOSE)))

struct seed_stats {
	uint64_t dumped;	/* sockets the dumps returned */
	uint64_t seeded;	/* records handed to the callback */
	uint64_t owned;		/* ... of which with an owner */
	uint64_t filtered;	/* left out by the family/port/pid filters */
	uint64_t minisocks;	/* timewait and request socks, never seeded */
	uint32_t namespaces;
	uint32_t empty;		/* ... of which with no TCP socket, not dumped */
	uint64_t dump_ns;	/* in the dumps, building and delivering records included */
	uint64_t scan_ns;	/* reading /proc for owners */
	uint64_t total_ns;	/* host-wide: all of it (dumps and scan run at once) */
	/* host-wide, when the one walk (sockwalk.h) ran */
	const char *method;	/* "walk", or NULL: sock_diag dumps only */
	uint64_t walked;	/* sockets the walk read */
	uint64_t walk_ns;
	uint64_t load_ns;	/* loading the walker */
	uint32_t own_table;	/* namespaces with a table of their own, dumped */
	uint32_t walked_ns;	/* namespaces the walk read */
	uint32_t dumped_ns;	/* ... and those dumped (or found empty) with sock_diag */
};

/* seed__run()'s scope where o->netns is not set */
enum {
	SEED_ALL = 0,		/* every network namespace on the host */
	SEED_OURS = 1,		/* only our own */
};

/*
 * Seed the namespaces the trace covers: o->netns if set (the kernel
 * filter drops every other), else every namespace on the host (SEED_ALL;
 * one that cannot be read is skipped with a warning) or our own only
 * (SEED_OURS).  Each record carries the inode of its socket's namespace,
 * and an owner from one /proc scan: host pids, whatever the namespace.
 * Honours o->family, the port lists and o->pid (a socket counts as the
 * pid's if that process holds it).  Returns the number of records given to
 * cb, the callback's negative value, or -errno after a message.  stats may
 * be NULL.
 */
int seed__run(const struct tt_opts *o, int scope, tt_event_cb cb, void *ctx,
	      struct seed_stats *stats);

/* Whether a dumped socket passes o's family and port filters (not pid). */
bool seed__wanted(const struct tt_opts *o, const struct diag_sock *s);

/* Build the seed record of one socket of namespace netns; owner may be NULL. */
void seed__event(struct tt_event *e, const struct diag_sock *s, uint32_t netns,
		 const struct procfd_owner *owner, uint64_t ts_ns);

#endif /* TT_SEED_H */
