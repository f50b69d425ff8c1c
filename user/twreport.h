/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TIME-WAIT buildup: how many timewait sockets there are, toward which
 * destinations and from which local addresses, and how much of the
 * ephemeral port range each destination ties up.
 *
 * Entries are traced; expiry and early kills are not, so the population
 * comes from a sock_diag count when the namespace can be dumped (live), and
 * otherwise from the entries of the last 60 s (TCP_TIMEWAIT_LEN, fixed in
 * Linux), marked as an estimate (replay).
 */
#ifndef TT_TWREPORT_H
#define TT_TWREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine.h"

#define TW_TOP 5
/* namespaces listed by population in one report */
#define TW_NETNS_MAX 256

/* tw_tracker__new()'s netns_fd: every network namespace on the host */
#define TW_NETNS_ALL	(-3)

struct tw_endpoint {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;		/* 0 for a local address, or a peer that connected to us */
	uint64_t count;
};

struct tw_pressure {
	uint32_t netns;		/* each namespace has its own ephemeral ports */
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint64_t time_wait;	/* local ports toward it held in TIME-WAIT */
	uint64_t in_use;	/* ... and by open sockets */
	uint32_t range;		/* size of its ip_local_port_range */
	double share_pct;
	bool tw_reuse;		/* would net.ipv4.tcp_tw_reuse let connect() reuse them */
	bool warn;		/* share past --tw-warn */
};

/* A container's TIME-WAIT sockets: entries within the last 60 s, which it holds now. */
struct tw_container {
	const char *container;	/* full id (valid until the ident is freed) */
	const char *pod;	/* or NULL */
	const char *cgroup;
	uint64_t count;
};

/* One namespace's share of the population (host-wide reports). */
struct tw_netns {
	uint32_t netns;
	int64_t population;
	uint16_t port_lo, port_hi;
};

struct tw_report {
	uint64_t t_ns, interval_ns;
	uint64_t entries;		/* TIME-WAIT entries this interval */
	uint64_t by_client, by_server;	/* ... on actively / passively opened flows */
	int64_t population;		/* TIME-WAIT sockets now, -1 unknown */
	bool estimated;			/* population from the 60 s window, not sock_diag */
	uint32_t netns;
	uint16_t port_lo, port_hi;	/* ours on a host-wide report */
	int tw_reuse_sysctl;		/* -1 unknown */
	/*
	 * Host-wide (TW_NETNS_ALL): the namespaces counted, and those holding
	 * TIME-WAIT sockets, most first.  Top endpoints add up over every
	 * namespace; pressure is each namespace's own.
	 */
	bool host_wide;
	uint32_t namespaces;
	size_t n_netns;
	struct tw_netns by_netns[TW_NETNS_MAX];
	size_t n_remote, n_local, n_pressure;
	struct tw_endpoint remote[TW_TOP];
	struct tw_endpoint local[TW_TOP];
	struct tw_pressure pressure[TW_TOP];
	size_t n_containers;			/* the containers holding the most */
	struct tw_container containers[TW_TOP];
};

struct tw_tracker;

/*
 * netns_fd: the namespace to count in (-1 ours, -2 none: estimate only), or
 * TW_NETNS_ALL: every namespace on the host, rescanned at each report.  A
 * count runs on a thread of its own (which enters each namespace with
 * setns), so that the caller's thread keeps reading its ring buffer.  Create it before
 * dropping privileges: the thread keeps what setns() and reading other
 * processes' /proc/PID/ns need.  NULL if out of memory or no thread.
 */
struct tw_tracker *tw_tracker__new(int netns_fd, uint32_t warn_pct);
void tw_tracker__free(struct tw_tracker *t);

/*
 * A count of the TIME-WAIT sockets runs on the tracker's thread, never in
 * the caller's: ask for one when a summary is due, go on reading the source
 * while tw_tracker__census_busy() (at most TW_CENSUS_WAIT_MS), then report.
 * No-ops without a count (-2, replay).
 */
void tw_tracker__census_start(struct tw_tracker *t);
bool tw_tracker__census_busy(struct tw_tracker *t);

/*
 * The CLOSE-WAIT check (cwcheck.h) rides on the count: while no count is
 * asked for or under way (census_idle), fill k, then ask for a count with
 * it (census_start_check); the thread checks k's candidates after the
 * count and sets k->done_ns.  k is the thread's until census_done says the
 * count is over, and stays readable until the next start.  census_wait:
 * wait for the count asked for to be over (at most TW_CENSUS_WAIT_MS
 * since it was asked for); true if it is.  Without a count (-2, replay)
 * idle is false and nothing is ever checked.
 */
struct cwcheck;
bool tw_tracker__census_idle(struct tw_tracker *t);
void tw_tracker__census_start_check(struct tw_tracker *t, struct cwcheck *k);
bool tw_tracker__census_done(struct tw_tracker *t);
bool tw_tracker__census_wait(struct tw_tracker *t);

struct tt_ident;
/* Name flows' containers, for the containers that hold the most; NULL: none. */
void tw_tracker__set_ident(struct tw_tracker *t, struct tt_ident *id);

/* Note every flow that ended in TIME-WAIT (from the flow-end callback). */
void tw_tracker__flow(struct tw_tracker *t, const struct tt_flow *f);

/*
 * Build the report for the interval ending at now_ns; resets the interval.
 * A host-wide census that takes longer than TW_CENSUS_WAIT_MS gives a
 * report with the population estimated; the census is taken in when done.
 */
#define TW_CENSUS_WAIT_MS	5000
void tw_tracker__report(struct tw_tracker *t, uint64_t now_ns, uint64_t interval_ns,
			struct tw_report *out);

/*
 * The same report as of now_ns, for a /metrics scrape between summaries:
 * the interval's entries stay counted for the next tw_tracker__report().
 */
void tw_tracker__peek(struct tw_tracker *t, uint64_t now_ns, struct tw_report *out);

/*
 * --container and --cgroup: a TIME-WAIT socket has no cgroup, so the
 * report keeps the namespaces the kept sockets live in: netns[0..n) (those
 * of the flows in the table) and those of the window's entries.  Host-wide
 * only (a count of one namespace is that one's already).  Called before
 * each report; 0, or -ENOMEM (the report is then of every namespace).
 */
int tw_tracker__scope(struct tw_tracker *t, const uint32_t *netns, size_t n);

#endif /* TT_TWREPORT_H */
