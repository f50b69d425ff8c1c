/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Formatters: human timelines and JSON lines.  They read the engine's flows
 * and totals and never change them.
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

#define TT_JSON_VERSION 1

struct tt_sink_opts {
	FILE *out;
	bool json;
	bool color;
	int64_t wall_offset_ns;	/* added to record times to get wall-clock ns */
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
};

struct tt_sink;

struct tt_sink *sink__new(const struct tt_sink_opts *opts);
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
void sink__close_wait(struct tt_sink *s, const struct tt_cw_group *g, size_t n, uint64_t t_ns,
		      uint64_t min_age_ns);

/* TIME-WAIT buildup for the interval; warnings for destinations under port pressure. */
void sink__time_wait(struct tt_sink *s, const struct tw_report *r);

/*
 * A listener turned a connection away (TT_EV_OVERFLOW); owner is the
 * listener's flow if known, for its pid and comm.
 */
void sink__overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener);

#endif /* TT_SINK_H */
