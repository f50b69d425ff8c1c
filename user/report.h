/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The on-call questions, answered from the engine's state at each summary:
 * which process leaks CLOSE-WAIT sockets, for which service, and whether it
 * is getting worse.  Reads the engine, never changes it.
 */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine.h"
#include "ident.h"

enum tt_service_kind {
	TT_SVC_LOCAL = 1,	/* we accepted it: the service is our local port */
	TT_SVC_REMOTE,		/* we connected: the service is the remote address:port */
};

enum tt_trend { TT_TREND_NEW, TT_TREND_GROWING, TT_TREND_STABLE, TT_TREND_SHRINKING };

struct tt_cw_group {
	/* the container first: groups of one container are next to each other */
	const char *container;	/* full id, NULL for none (valid for the ident's hold) */
	/*
	 * The id again, as the key: the previous report's groups are compared
	 * with a new report's when the names they point to may have been
	 * freed (a /metrics scrape can come hours after the last).
	 */
	char container_id[TT_CONTAINER_MAX];
	const char *pod;	/* Kubernetes pod UID, or NULL */
	const char *cgroup;	/* the cgroup path, or NULL unknown */
	uint32_t container_count;	/* CLOSE_WAIT sockets of the whole container */
	uint32_t process_count;		/* of those, pid's */
	uint32_t pid;
	char comm[16];
	char cmdline[256];
	uint32_t netns;
	uint8_t family;
	uint8_t kind;		/* enum tt_service_kind */
	uint8_t trend;		/* enum tt_trend, against the previous report */
	uint8_t addr[16];	/* TT_SVC_REMOTE: the remote address; else zero */
	uint16_t port;
	uint32_t count;
	uint32_t seeded;	/* of count, sockets that existed before tracing */
	uint32_t unaccepted;	/* of count, sockets in pid's listener's accept queue, never accepted */
	uint32_t prev_count;
	uint64_t oldest_age_ns;	/* at least this long in CLOSE_WAIT */
};

/*
 * The groups a report names, at most: a client leaking toward thousands of
 * remote services would fill the log at every summary.  The first in the
 * report's order; sinks count the others (tt_cw_report_limit(), sink.h).
 */
#define TT_CW_REPORT_MAX 100

struct tt_report;

/*
 * cmdline_fn reads a process's command line, for the groups a report names;
 * NULL leaves it empty (replay).
 */
typedef void (*tt_cmdline_fn)(uint32_t pid, char *buf, size_t len);

struct tt_report *report__new(uint64_t close_wait_age_ns, tt_cmdline_fn cmdline);
void report__free(struct tt_report *r);

/*
 * comm_fn reads a process's command name now (/proc/PID/comm: 0, or -errno).
 * With it, a group is named as ss names the process (its main thread, after
 * any exec), not by the thread that accepted or connected: live and seeded
 * sockets of one process then share a group.  NULL keeps the recorded name
 * (replay).
 */
typedef int (*tt_comm_fn)(uint32_t pid, char comm[16]);
void report__set_comm(struct tt_report *r, tt_comm_fn comm);

struct tt_ident;
/* Names flows' cgroups, to group them by container; NULL: no containers. */
void report__set_ident(struct tt_report *r, struct tt_ident *id);

/*
 * The namespace's ephemeral port range: a seeded socket with no listener
 * left on its port is told apart by which end holds the ephemeral port.
 */
void report__set_port_range(struct tt_report *r, uint16_t lo, uint16_t hi);

/*
 * Group the flows that have sat in CLOSE_WAIT for at least the age by
 * container, then owner, then service: the containers with the most first,
 * and within one the biggest groups first.  The array stays valid until the next call.
 */
size_t report__close_wait(struct tt_report *r, const struct tt_engine *eng, uint64_t now_ns,
			  const struct tt_cw_group **groups);

const char *tt_trend_name(unsigned int trend);

#endif /* TT_REPORT_H */
