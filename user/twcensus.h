/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TIME-WAIT report, inside: the tracker (twreport.c) and its census
 * (twcensus.c) share these.  Not for the rest of the program: twreport.h is.
 */
#ifndef TT_TWCENSUS_H
#define TT_TWCENSUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "diag.h"
#include "sockwalk.h"
#include "twreport.h"

#define TW_LEN_NS	(60ull * 1000000000ull)	/* TCP_TIMEWAIT_LEN */
#define WINDOW_MAX	(1u << 18)		/* entries kept for the estimate */
#define AGG_BUCKETS	16384

struct tw_entry {
	uint64_t ts_ns;
	uint8_t family;
	uint8_t saddr[16], daddr[16];
	uint16_t dport;
	uint32_t netns;
	const struct tt_cgname *name;	/* its cgroup's, if it names a container */
};

/* A small open-addressing count table for endpoints, per namespace or not. */
struct agg {
	struct tw_endpoint e[AGG_BUCKETS];
	uint64_t extra[AGG_BUCKETS];	/* in-use count, for pressure */
	uint32_t ns[AGG_BUCKETS];	/* the namespace, 0 where they add up */
	bool used[AGG_BUCKETS];
	size_t n;
};

struct open_sock {
	uint32_t netns;
	uint8_t family;
	uint16_t dport;
	uint8_t daddr[16];
};

/* What one namespace's sysctls say, and its population. */
struct ns_info {
	uint32_t netns;
	int64_t population;
	uint16_t lo, hi;		/* ephemeral range; 0, 0 unknown */
	int tw_reuse, timestamps;
};

/* One count (sock_diag dumps, or the walk): of one namespace, or of all of them. */
struct census {
	struct agg remote;		/* by namespace: pressure is per namespace */
	struct agg local;		/* local addresses, by namespace too */
	struct open_sock *open;
	size_t n_open, cap_open;
	struct ns_info *ns;
	size_t n_ns, cap_ns;
	struct ns_info *cur;		/* the namespace being dumped */
	int64_t population;
	uint32_t failed;		/* namespaces that could not be dumped */
	uint32_t no_tw;			/* ... that sockstat showed had no TIME-WAIT */
	uint64_t dumped;		/* sockets the dumps returned */
	uint64_t took_ns;		/* how long the count took */
	/* host-wide by one walk: TIME-WAIT sockets wait for their namespace's sysctls */
	struct tw_sock { uint32_t netns; struct diag_sock s; } *tw;
	size_t n_tw, cap_tw;
	uint64_t walked;		/* sockets the walk read (0: no walk) */
	uint32_t dumped_ns;		/* namespaces dumped with sock_diag */
	uint32_t short_ns;		/* ... the scan had no descriptor for (netns.h) */
	uint32_t only;			/* the walk keeps this namespace only, if set */
	/* listening ports by namespace, (netns << 16 | port) + 1; 0 is a free slot */
	uint64_t *listening;
	size_t n_listening, cap_listening;	/* cap: 0 or a power of two */
	bool ok;			/* at least one dump went through */
};

enum census_state { CENSUS_IDLE, CENSUS_REQUESTED, CENSUS_RUNNING, CENSUS_DONE };

/* The host-wide census thread and what it shares with the caller. */
struct census_thread {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* state changed, or stop */
	enum census_state state;	/* under mu */
	bool stop;			/* under mu */
	uint32_t self;
	bool no_setns;			/* setns() refused: ours only from then on */
	bool warned_slow;		/* the caller's */
	struct sockwalk *walk;		/* host-wide: every namespace in one walk, or NULL */
	bool setns_tried;		/* whether setns() works, asked once for the walk */
	bool walk_idle;			/* the last count found TIME-WAIT sockets in < 2 namespaces */
	bool said_short;		/* namespaces without a descriptor: said once */
	uint64_t requested_ms;		/* under mu: when the count under way was asked for */
	/* under mu: the CLOSE-WAIT check to make after the count asked for, or NULL */
	struct cwcheck *cw;
};

struct tw_tracker {
	int netns_fd;
	uint32_t warn_pct;
	uint64_t entries, by_client, by_server;
	struct tw_entry *win;		/* ring of recent entries */
	size_t head, len;
	/*
	 * Written by whoever counts (the census thread while it runs), read
	 * by the report once the count is done: never both at once.
	 */
	struct census *c;
	struct agg *top;		/* remote endpoints added up, for the report */
	struct census_thread *th;	/* counts on a thread: every netns_fd but -2 */
	struct tt_ident *ident;
	/* tw_tracker__scope(): host-wide, the report keeps these namespaces only (sorted) */
	bool scoped;
	uint32_t *scope;
	size_t n_scope, cap_scope;
};

struct cwcheck;

int twc_thread_start(struct tw_tracker *t);
void twc_thread_stop(struct tw_tracker *t);
void twc_agg_reset(struct agg *a);
void twc_agg_add(struct agg *a, uint32_t netns, uint8_t family, const uint8_t *addr,
		    uint16_t port, bool in_use, uint64_t n);
void twc_top(const struct agg *a, struct tw_endpoint *out, size_t *n);
void twc_add_in_use(struct agg *a, const struct open_sock *o);
bool twc_census_take(struct tw_tracker *t);
int twc_cmp_netns(const void *a, const void *b);
const struct ns_info *twc_ns_of(const struct census *c, uint32_t netns);

#endif /* TT_TWCENSUS_H */
