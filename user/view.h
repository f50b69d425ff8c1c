/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --snapshot and --top: the TCP sockets of one moment, grouped by state,
 * owner and namespace (container when known), with their ages.  Two
 * sources fill the same rows: sock_diag in every network namespace of the
 * host (live: what `ss -tanp` reads, plus tcp_info for ages and /proc for
 * owners), or the engine's flow table at a moment of a replayed capture.
 * Reads its sources, never changes them.
 */
#ifndef TT_VIEW_H
#define TT_VIEW_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "engine.h"
#include "ident.h"
#include "opts.h"

/* How much an age says. */
enum view_age {
	VIEW_AGE_UNKNOWN = 0,	/* nothing tells when the socket entered its state */
	VIEW_AGE_EXACT,		/* seen entering it (replay: the record's time) */
	VIEW_AGE_AT_LEAST,	/* a lower bound (sock_diag, see viewsrc.c) */
};

/* One socket, or one open flow of a replay. */
struct view_sock {
	uint8_t family;		/* TT_AF_INET or TT_AF_INET6 */
	uint8_t state;		/* enum tt_tcp_state as ss shows it (a request sock: SYN_RECV) */
	uint8_t age_kind;	/* enum view_age */
	bool timewait;		/* a timewait minisock (its state TIME_WAIT or FIN_WAIT2) */
	bool has_idle;
	bool has_queues;	/* rqueue, wqueue known (live; a replay has none) */
	bool unaccepted;	/* in its listener's accept queue: pid is the listener's owner */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	uint32_t netns;
	uint32_t pid;		/* owner's tgid, 0 for none (orphans, minisocks); see unaccepted */
	uint32_t holders;	/* processes holding it (fork, SCM_RIGHTS); 0 unknown */
	char comm[16];
	const struct tt_cgname *cg;	/* cgroup, container, pod (the source's tt_ident); NULL: unknown */
	uint32_t inode;
	uint32_t rqueue, wqueue;
	uint64_t cookie;
	uint64_t age_ms;	/* in the current state, as age_kind says */
	uint64_t idle_ms;	/* since data last arrived, when has_idle */
};

struct tt_view;

/* out: where to print; tty: redraw in place (--top on a terminal). NULL on ENOMEM. */
struct tt_view *view__new(const struct tt_opts *o, FILE *out, bool tty);
/* What a start-up warning said, shown in every frame of a redrawn screen (the first kept). */
void view__note(struct tt_view *v, const char *note);
void view__free(struct tt_view *v);

/* Forget the sockets of the previous moment. */
void view__reset(struct tt_view *v);

/*
 * Add one socket if --state, --remote and --local let it through (the
 * sources apply the kernel-side filters themselves).  0 or -ENOMEM.
 */
int view__add(struct tt_view *v, const struct view_sock *s);

/*
 * The cgroup of a process in network namespace netns (NULL: not known), one
 * call for each: what names the namespace's timewait socks when no socket
 * there with a cgroup does (a container whose sockets are all in
 * TIME-WAIT), and what says that two containers share it (a pod's
 * sidecar), when its timewait socks name neither.  Best effort: out of
 * memory, forgotten.
 */
void view__name_netns(struct tt_view *v, uint32_t netns, const struct tt_cgname *cg);

/* Whether a timewait sock has no name yet (view__name_netns would give it one). */
bool view__unnamed_timewait(const struct tt_view *v);

/*
 * Print what was added: the groups and (for --snapshot without
 * --quiet-flows) their sockets, or JSON.  wall_ns is the moment's wall
 * clock time; source names where the sockets came from ("sock_diag",
 * "capture"); namespaces is how many were read.
 */
void view__print(struct tt_view *v, int64_t wall_ns, const char *source, uint32_t namespaces);

/*
 * The engine's open flows at now_ns, as sockets, through view__add:
 * filters (-4/-6, -P, -p, -N, addresses) were applied to the records.
 * ident names their cgroups (a replay's knows what the capture kept).
 */
void view__add_engine(struct tt_view *v, const struct tt_engine *eng, uint64_t now_ns,
		      struct tt_ident *ident);

/* Live --snapshot or --top: runs until done or *stop; the exit status. */
int view__run_live(const struct tt_opts *o, volatile sig_atomic_t *stop);

#endif /* TT_VIEW_H */
