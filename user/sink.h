/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sinks: the end of the data path (source -> engine -> sinks).  A sink is a
 * const struct tt_sink_ops of callbacks, each one an event of the engine's
 * own (a flow ended, a transition counted, an overflow at a listener, a
 * summary and its reports); a sink fills in only what it cares about and
 * leaves the rest NULL.  The app holds a list of them (app.c, where they
 * are chosen); they read what they are handed and never change the engine.
 *
 * The line formatters (struct tt_sink: human, JSON, logfmt; sink_*.c) are
 * sinks too, and the syslog, journal, ladder, metrics and capture sinks
 * use the logfmt one for their lines.  Prometheus is two sinks: the
 * metrics file, written at each summary, and /metrics over HTTP, served
 * between batches (sink_metrics.c).
 */
#ifndef TT_SINK_H
#define TT_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "engine.h"
#include "ident.h"
#include "report.h"
#include "twreport.h"

/*
 * The JSON records' "version"; include/tcptrail.schema.json describes it.
 * 2: flow has time (its end) and start_ns, t_ns is its end; id is always
 * the flow's own counter and cookie the socket cookie.  3: flow has
 * bytes_sent .. srtt_us (with TT_FLOW_STATS) and inferred (when > 0),
 * summary has inferred.  4: flow.end gone, summary gone and gone_interval,
 * an abort's RST in resets_sent, socket rqueue/wqueue null when unknown.
 * 5: summary.listeners have cgroup (container, pod); close_wait.comm is the
 * process's name at the report; time_wait.top_local under --cgroup or
 * --container counts the kept namespaces' sockets, not the entries seen.
 * 6: socket.holders.  7: the close_wait_not_shown record (a report names
 * TT_CW_REPORT_MAX groups at most).  8: flow.end cancelled and no_port
 * (SYN_SENT > CLOSE with no error, abort until 7), flow.error, summary.ends;
 * close_wait.cmdline has C1 controls and bytes that are no UTF-8 as '?'.
 * 9: socket.unaccepted and the snapshot groups' unaccepted.
 */
#define TT_JSON_VERSION 9

struct tt_sink_opts {
	FILE *out;
	/* -e: overflows of every kind; else JSON tells them and human does not */
	bool events;
	/* --ladder draws the flows: a flow line only for what it leaves (listeners) */
	bool no_flows;
	bool json;
	/*
	 * Neither json nor logfmt: human lines, every one opening with the UTC
	 * time column (tt_fmt_clock).  logfmt: summaries and reports as logfmt
	 * lines (time=... level=... msg=...), as --syslog and --journal send them.
	 */
	bool logfmt;
	bool color;
	int64_t wall_offset_ns;	/* added to record times to get wall-clock ns */
	/*
	 * Live: our own network namespace.  A human flow line, CLOSE-WAIT
	 * line, or -e transition or overflow line of another namespace ends
	 * in netns=INODE; 0: never.
	 */
	uint32_t own_netns;
	/*
	 * Replay: every such line ends in netns=INODE.  A capture does not say
	 * which namespace was the tracer's, and a line without it cannot be
	 * told from one of the same address in another namespace.
	 */
	bool every_netns;
};

struct tt_summary {
	uint64_t t_ns;			/* record clock at the summary */
	uint64_t interval_ns;		/* length of the interval it covers */
	bool final;
	const struct tt_engine_stats *interval;
	const struct tt_engine_stats *total;
	uint64_t lost_total;		/* ring buffer reserves that failed, since start */
	uint64_t lost_interval;
	uint64_t invalid;		/* records rejected as impossible, since start */
	const struct tt_engine *eng;	/* for per-listener counters; may be NULL */
	/* the reports that followed it; set by the time of tt_sink_ops.flush */
	const struct tt_cw_group *cw;
	size_t n_cw;
	const struct tw_report *tw;
	uint64_t close_wait_age_ns;
};

/*
 * The failed ends a summary line counts beside refused= and resets= (when
 * not 0), and the journal's summary entry always: its key in each.
 */
#define TT_FAIL_ENDS 5
extern const struct tt_fail_end {
	uint8_t end;		/* enum tt_end */
	const char *key;	/* logfmt: "aborts" */
	const char *field;	/* the journal's: "ABORTS" */
} tt_fail_ends[TT_FAIL_ENDS];

/*
 * A summary is a warning when events were lost or flows evicted in its
 * interval; the final one also when any were in the run.
 */
static inline bool sink_summary_warns(const struct tt_summary *sum)
{
	return sum->lost_interval || sum->interval->evicted ||
	       (sum->final && (sum->lost_total || sum->total->evicted));
}

/*
 * Suspected CLOSE-WAIT leaks at t_ns: n groups, one per owner and service,
 * in the report's order.  A report names TT_CW_REPORT_MAX groups at most
 * (report.h); the others are rest_groups, holding rest_count sockets.
 */
struct tt_cw_report {
	const struct tt_cw_group *g;
	size_t n;
	uint64_t t_ns;
	uint64_t min_age_ns;
	size_t rest_groups;
	uint64_t rest_count;
	size_t shown;		/* with rest_groups: the groups the report names */
};

/* Keep the first max groups of a report; count the others in its rest. */
static inline void tt_cw_report_limit(struct tt_cw_report *r, size_t max)
{
	for (; r->n > max; r->n--, r->rest_groups++)
		r->rest_count += r->g[r->n - 1].count;
	r->shown = r->n;
}

/*
 * What a sink can be handed, in the order it happens.  priv is the sink's
 * own state.  Every member may be NULL.
 */
struct tt_sink_ops {
	const char *name;
	/* a record as the source gave it, before the engine (the capture writer); nonzero: stop */
	int (*record)(void *priv, const struct tt_event *e);
	/* a TT_EV_FLOW record as the source gave it, before the engine; nonzero: stop */
	int (*flowrec)(void *priv, const struct tt_flowrec *r);
	/* the record clock moved on: now_ns, and the source's counters then */
	int (*tick)(void *priv, uint64_t now_ns, uint64_t lost, uint64_t evicted);
	void (*flow_end)(void *priv, const struct tt_flow *f);
	void (*transition)(void *priv, const struct tt_transition *t);
	/* a listener turned a connection away (the record), listener: its flow if known */
	void (*overflow)(void *priv, const struct tt_event *e, const struct tt_flow *listener);
	void (*summary)(void *priv, const struct tt_summary *sum);
	void (*close_wait)(void *priv, const struct tt_cw_report *r);
	void (*time_wait)(void *priv, const struct tw_report *r);
	/* a summary and its reports are done: send or write them */
	void (*flush)(void *priv, const struct tt_summary *sum);
	/*
	 * The run starts (the seed read, the source about to be read): a
	 * file that a second run must be refused is written and locked now.
	 */
	void (*start)(void *priv, const struct tt_engine *eng);
	/*
	 * Between the source's batches: answer what waits (a /metrics scrape),
	 * without blocking; now_ms for deadlines.  Not while a TIME-WAIT count
	 * is under way: a scrape waits for it, as the summary does.
	 */
	void (*serve)(void *priv, uint64_t now_ms);
	/*
	 * The wall clock moved against CLOCK_MONOTONIC, the records' clock (a
	 * step of the time, a suspend): the times printed from now on are
	 * wall_offset_ns from the records' own.
	 */
	void (*clock)(void *priv, int64_t wall_offset_ns);
	/* the source ended: before the final summary, give out what is held */
	void (*finish)(void *priv);
	/* the source's end at now_ns: close what was written; nonzero: it failed */
	int (*close)(void *priv, uint64_t now_ns, uint64_t lost, uint64_t evicted);
	void (*free)(void *priv);
};

/* One sink of the app's list. */
struct tt_sink_ref {
	const struct tt_sink_ops *ops;
	void *priv;
};

/* The line formatters, as sinks (priv: a struct tt_sink). */
extern const struct tt_sink_ops tt_sink_human_ops;
extern const struct tt_sink_ops tt_sink_json_ops;
extern const struct tt_sink_ops tt_sink_logfmt_ops;

struct tt_sink;

/* A formatter: JSON if opts->json, logfmt if opts->logfmt, else human. */
struct tt_sink *sink__new(const struct tt_sink_opts *opts);
/* The formatter's wall clock offset from now on; also its ops' clock member. */
void sink__set_clock(struct tt_sink *s, int64_t wall_offset_ns);
void sink__clock_op(void *priv, int64_t wall_offset_ns);
const struct tt_sink_ops *sink__ops(const struct tt_sink *s);
void sink__free(struct tt_sink *s);

/* Names for cgroup ids: the "cgroup", "container" and "pod" fields; NULL: none. */
void sink__set_ident(struct tt_sink *s, struct tt_ident *id);

/* A finished flow: one line. */
void sink__flow(struct tt_sink *s, const struct tt_flow *f);

/*
 * One transition as it happens; flow is the flow it belongs to before the
 * record was applied (NULL if none), for the owner.
 */
void sink__transition(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *flow);

void sink__summary(struct tt_sink *s, const struct tt_summary *sum);

/* Suspected CLOSE-WAIT leaks, one line or object per owner and service. */
void sink__close_wait_report(struct tt_sink *s, const struct tt_cw_report *r);
void sink__close_wait(struct tt_sink *s, const struct tt_cw_group *g, size_t n, uint64_t t_ns,
		      uint64_t min_age_ns);

/* TIME-WAIT buildup for the interval; warnings for destinations under port pressure. */
void sink__time_wait(struct tt_sink *s, const struct tw_report *r);

/*
 * A logfmt sink only: one line for a listener that turned connections away
 * in the interval (warn), or answered them with SYN cookies only (info);
 * nothing for one that did neither.
 */
void sink__listener_overflow(struct tt_sink *s, const struct tt_listener_stats *ls,
			     uint64_t t_ns, uint64_t interval_ns);

/*
 * A listener turned a connection away (TT_EV_OVERFLOW); owner is the
 * listener's flow if known, for its pid and comm.
 */
void sink__overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener);

#endif /* TT_SINK_H */
