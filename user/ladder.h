/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --ladder: when both ends of a connection are on this host (loopback, or
 * two network namespaces), pair their finished flows by 4-tuple and draw the
 * pair as a textbook ladder diagram: client down the left, server down the
 * right, time downward, and between them the segments the state changes
 * imply.  A flow whose peer does not finish within a second of record time
 * (or by exit) is drawn alone, its peer marked as not traced here.
 */
#ifndef TT_LADDER_H
#define TT_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "engine.h"
#include "sink.h"

#define TT_LADDER_WAIT_NS 1000000000ull

struct tt_ident;

struct tt_ladder_opts {
	FILE *out;
	int64_t wall_offset_ns;	/* for the clock time in each ladder's title */
	uint64_t wait_ns;	/* how long a flow waits for its peer; 0: TT_LADDER_WAIT_NS */
	size_t max_pending;	/* flows waiting at once; 0: 65536 (past it the oldest go alone) */
	/* a filter that keeps one end of a loopback connection (-L, -D, -p...), named */
	const char *one_end_filter;
	struct tt_ident *ident;	/* names each end's container; NULL: none */
};

struct tt_ladder;

struct tt_ladder *ladder__new(const struct tt_ladder_opts *opts);
void ladder__free(struct tt_ladder *l);

/*
 * A finished flow.  Returns false, and keeps nothing, for a flow that is not
 * a connection (a listener): the caller prints that one as usual.
 */
bool ladder__flow(struct tt_ladder *l, const struct tt_flow *f);

/* Draw alone the flows that have waited long enough by now_ns (record clock). */
void ladder__tick(struct tt_ladder *l, uint64_t now_ns);

/* The wall clock's offset from the records' for the titles from now on. */
void ladder__set_clock(struct tt_ladder *l, int64_t wall_offset_ns);

/* Draw alone every flow still waiting (at exit). */
void ladder__flush(struct tt_ladder *l);

/*
 * The --ladder sink: flows drawn as ladders; one it does not draw (a
 * listener) is a flow line of lines (the human sink).  0 or -ENOMEM.
 */
int ladder__sink(struct tt_sink_ref *ref, const struct tt_ladder_opts *opts, struct tt_sink *lines);

#endif /* TT_LADDER_H */
