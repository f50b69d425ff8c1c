/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one way the unit tests build a struct tt_event, the record the BPF
 * side writes to the ring buffer (include/tcptrail.h), so that every test
 * reads the same: rec(type, sk, old, new, ts), rec_tr(sk, old, new, ts) for a
 * transition, and modifiers that return a copy with one more thing said
 * (rec_by: from the task that owns the socket; rec_in: written in some
 * task's context without the owner's lock; rec_ports; rec_cgroup; rec_err).
 *
 * Everything else comes from the test file's REC_BASE, a designated
 * initializer #defined before this header is included (the addresses, netns,
 * flags and hook a file's records share); without one, a loopback record:
 * 127.0.0.1:40000 > 127.0.0.1:80 in the initial network namespace.  A record
 * whose base sets TT_F_COOKIE gets a cookie of its own socket (sk ^ 0x5555),
 * as the kernel gives each socket one.
 */
#ifndef TT_RECORDS_H
#define TT_RECORDS_H

#include <stdint.h>
#include <string.h>
#include "tcptrail.h"

#define REC_INIT_NETNS	4026531840u	/* the initial netns's inode on most hosts */

#ifndef REC_BASE
#define REC_BASE { .family = TT_AF_INET, .netns = REC_INIT_NETNS, .sport = 40000, .dport = 80, \
		   .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 } }
#endif

static const struct tt_event rec_base = REC_BASE;

static inline struct tt_event rec(uint8_t type, uint64_t sk, unsigned int old, unsigned int new,
				  uint64_t ts)
{
	struct tt_event e = rec_base;

	e.type = type;
	e.sk = sk;
	e.old_state = old;
	e.new_state = new;
	e.ts_ns = ts;
	if (e.flags & TT_F_COOKIE)
		e.cookie = sk ^ 0x5555;
	return e;
}

static inline struct tt_event rec_tr(uint64_t sk, unsigned int old, unsigned int new, uint64_t ts)
{
	return rec(TT_EV_TRANSITION, sk, old, new, ts);
}

/* The same record, written in task tgid's context (not that it owns the socket). */
static inline struct tt_event rec_in(struct tt_event e, uint32_t tgid, const char *comm)
{
	e.tgid = tgid;
	e.pid = tgid;
	memset(e.comm, 0, sizeof(e.comm));
	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	return e;
}

/* The same record, from the task that holds the socket lock. */
static inline struct tt_event rec_by(struct tt_event e, uint32_t tgid, const char *comm)
{
	e = rec_in(e, tgid, comm);
	e.flags |= TT_F_OWNER;
	return e;
}

static inline struct tt_event rec_ports(struct tt_event e, uint16_t sport, uint16_t dport)
{
	e.sport = sport;
	e.dport = dport;
	return e;
}

static inline struct tt_event rec_cgroup(struct tt_event e, uint64_t cgroup)
{
	e.cgroup = cgroup;
	return e;
}

/* aux[0] of a transition to CLOSE: the socket's sk_err */
static inline struct tt_event rec_err(struct tt_event e, uint32_t sk_err)
{
	e.aux[0] = sk_err;
	return e;
}

#endif /* TT_RECORDS_H */
