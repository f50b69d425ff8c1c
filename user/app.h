/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pipeline every source drives: records in, engine, sinks out, and the
 * summary clock.  A source (live or capture) calls app__record() or
 * app__event() for each record in order and app__tick() with its own notion
 * of now, so live and replay share every line of output logic.  The engine's
 * events go to the list of sinks (sink.h), chosen in app__init.
 */
#ifndef TT_APP_H
#define TT_APP_H

#include <stdbool.h>
#include <stdint.h>
#include "engine.h"
#include "ident.h"
#include "ladder.h"
#include "metrics.h"
#include "opts.h"
#include "report.h"
#include "sink.h"
#include "twreport.h"

#define TT_APP_MAX_SINKS 8

struct app {
	const struct tt_opts *opts;
	struct tt_engine *eng;
	struct tt_ident *ident;		/* cgroup ids to paths, containers, pods */
	uint64_t id_dropped;		/* records --cgroup/--container left out here */
	uint64_t state_matched;		/* flows and transitions --state let through */
	struct tt_sink *lines;		/* the human or JSON lines on stdout */
	struct tt_sink_ref sinks[TT_APP_MAX_SINKS];
	size_t n_sinks;
	struct tt_report *report;	/* CLOSE-WAIT leak groups */
	struct tw_tracker *tw;		/* TIME-WAIT buildup */
	/* --container, --cgroup: the namespaces their processes were in at start */
	uint32_t *kept_ns;
	size_t n_kept_ns;
	struct tt_report *metrics_report;	/* /metrics's own leak groups: a scrape moves no trend */
	uint64_t now_ns;		/* source clock, as of the last tick */
	struct tt_duration_hist duration;	/* flow lifetimes, for the metrics */
	uint64_t invalid;		/* records the engine rejected */
	uint64_t lost_total;		/* set by the source: reserves that failed */
	uint64_t unread_max_ns;		/* set by the source: the longest it was not read, */
	uint64_t lost_unread;		/* ... and the events lost across such gaps */
	uint64_t lost_reported;		/* lost_total at the previous summary */
	uint64_t last_summary_ns;	/* source clock; 0 until the first tick */
	uint64_t due_ns;		/* live: the next summary's time, start + k * -i */
	/*
	 * Live: the CLOSE-WAIT check (cwcheck.h) made with each count, and
	 * applied once the source has been read past its last dump.
	 */
	struct cwcheck *cw;
	bool census_asked;		/* this summary's count is asked for */
	bool said_evicted_waiting;	/* a leak or listener was evicted: said once */
	uint64_t stdout_blocked_said;	/* tt_stdout_blocked_ns() at the last summary */
	bool cw_pending;		/* a check is asked for and not applied yet */
	uint64_t cw_wait_ns;		/* since when a summary waits for the source to drain */
	uint64_t lost_checked;		/* lost_total as of the last check of every flow */
	uint64_t cw_lost;		/* lost_total when the check under way took every flow */
	uint64_t cw_all_ns;		/* when a check last took every flow; 0: never */
	uint64_t drained_ns;		/* set by the source: nothing older is left unread */
	bool started;
	bool clock_jumps;		/* app__clock_jumps() */
	int64_t wall_offset_ns;		/* record times to wall-clock time, as the sinks have it */
	bool follow_clock;		/* live: follow the wall clock's steps (app__go_live()) */
	bool closed;			/* app__close done */
	bool stopping;			/* app__stopping(): the last drain */
	int sink_err;			/* a sink's record or tick failed: the source stops */
};

/*
 * 0, or a negative errno after a one-line message (a metrics address that
 * cannot be bound, say).  wall_offset_ns maps record times to wall-clock time.
 * The reports start out as a replay needs them: TIME-WAIT population from
 * the entries seen, no /proc lookups; app__go_live() switches to this host.
 */
int app__init(struct app *a, const struct tt_opts *o, int64_t wall_offset_ns, bool color);

/*
 * The traced namespace's ephemeral port range, for the CLOSE-WAIT reports
 * (a leak with no listener left is a client's if its local port is in it);
 * live from the namespace, on replay from the capture.  hi 0: unknown.
 */
void app__set_port_range(struct app *a, uint16_t lo, uint16_t hi);

/*
 * Live: count TIME-WAIT through sock_diag in netns_fd (-1 ours, TW_NETNS_ALL
 * every namespace on the host); read /proc.
 */
int app__go_live(struct app *a, int netns_fd);

/*
 * --container, --cgroup, live: the network namespaces of the kept
 * processes at start (/proc), in the TIME-WAIT report's scope with those of
 * the kept flows: a container whose sockets are all in TIME-WAIT at start
 * has no flow.  Before privileges are dropped (another user's
 * /proc/PID/ns/net).
 */
void app__keep_namespaces(struct app *a);

/*
 * The source has read everything the kernel queued before now_ns
 * (CLOCK_MONOTONIC): a check made before then may be applied.
 */
void app__set_drained(struct app *a, uint64_t now_ns);

/*
 * The run is stopping and the source's last drain follows: a failed stdout
 * (a reader gone, a full disk), which stops the reading while it runs, no
 * longer cuts the drain short, so the capture and the counts still take
 * every record the kernel queued.
 */
void app__stopping(struct app *a);

/*
 * Live, at exit, before the source's last drain: check the CLOSE_WAIT
 * flows old enough to be leaks with the kernel (after a loss, every flow),
 * or wait for the check under way, so that app__finish() reports only
 * those it still has.  The source's last drain must begin at the time
 * returned (CLOCK_MONOTONIC, 0: any) or later for the check to count.
 */
uint64_t app__check_leaks(struct app *a, uint64_t now_ns);

/* SIGHUP: reopen -o FILE (for logrotate). */
int app__reopen_output(struct app *a);

/* Between the source's batches: the sinks that serve (/metrics), without blocking. */
void app__serve(struct app *a, uint64_t now_ms);
void app__free(struct app *a);

/*
 * Add a sink the app did not choose itself (the capture writer, which the
 * live source describes); it is freed with the app.  0 or -ENOSPC.
 */
int app__add_sink(struct app *a, const struct tt_sink_ref *ref);

/*
 * A record from the live source: --remote/--local, then the sinks that
 * take records as they come (the capture writer), then app__event().
 * Nonzero: a sink failed or stdout did; stop.
 */
int app__record(struct app *a, const struct tt_event *e);
/* The same for a TT_EV_FLOW record (struct tt_flowrec). */
int app__flowrec(struct app *a, const struct tt_flowrec *r);

/* Feed one record (already validated for size by the source). */
void app__event(struct app *a, const struct tt_event *e);

/* The source's count of records it could not take (ring buffer reserves that failed). */
void app__set_lost(struct app *a, uint64_t lost_total);
/*
 * Live: the source was not read for gap_ns, 1 s or more between two looks
 * at the clock (tcptrail stopped, by SIGSTOP, Ctrl-Z or a debugger, given
 * no CPU, or held up), and lost events were found after it: the warning at
 * exit names that cause for them.
 */
void app__not_read(struct app *a, uint64_t gap_ns, uint64_t lost);
uint64_t app__lost(const struct app *a);

/* The source's hint of the records to come (live__set_hint()). */
void app__prefetch(struct app *a, const uint64_t *sk, unsigned int n);

/* The engine's totals since start. */
const struct tt_engine_stats *app__total(const struct app *a);

/* Close what the sinks wrote, at the source's end; nonzero: one failed. */
int app__close(struct app *a, uint64_t now_ns);

/* A capture's name for a cgroup id (replay). */
void app__cgroup_name(struct app *a, uint64_t id, const char *path, const char *container,
		      const char *runtime, const char *pod);

/*
 * The name of record e's cgroup (the socket's v2 id, else the owner's
 * /proc/PID/cgroup), or NULL: for the capture writer and the sinks.
 */
const struct tt_cgname *app__cgname(struct app *a, const struct tt_event *e);

/* The name of cgroup id itself, none of an owner's stand-in; NULL: unknown. */
const struct tt_cgname *app__cgname_id(struct app *a, uint64_t id);

/* Start the summary clock at now_ns (the source's clock). */
void app__start(struct app *a, uint64_t now_ns);

/*
 * The source's clock jumps over quiet stretches (a capture's, from record to
 * record): each interval boundary passed gets its own summary, at its own
 * time, as the live run made it.  Live, the clock ticks at least every
 * 50 ms, and at the summary's due time (app__wait_ms()): a summary comes
 * at the first tick an interval after the last, once the TIME-WAIT count
 * it asks for then is done.
 */
void app__clock_jumps(struct app *a);

/*
 * How long a live source may wait for records before the next tick, at
 * most max_ms: less when a summary is due sooner; while a due one waits for
 * its TIME-WAIT count or leak check, 1 ms for its first 10 ms, then 5 ms,
 * and from 100 ms on 20 ms.  A fixed wait made every
 * summary up to two waits late, and at -i 100ms merged some with the next.
 */
int app__wait_ms(const struct app *a, uint64_t now_ns, int max_ms);

/*
 * The sinks' clock (the capture writer's counters, the ladder's waiting
 * flows), then a summary if an interval has passed by now_ns.  Nonzero: a
 * sink failed (the capture's disk is full, say); stop.
 */
int app__tick(struct app *a, uint64_t now_ns);

/* The final summary and the warnings that go with it. */
void app__finish(struct app *a, uint64_t now_ns);

#endif /* TT_APP_H */
