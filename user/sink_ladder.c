// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: --ladder.  Flows go to the ladder drawer (ladder.c), which pairs
 * both ends of a connection; a flow it does not draw (a listener) is a
 * human flow line.  The record clock lets a flow whose peer never comes be
 * drawn alone, and the source's end draws every one still waiting.
 */
#include <errno.h>
#include <stdlib.h>
#include "ladder.h"

/*
 * --ladder as a sink: it draws the connections; what it leaves (listeners)
 * goes to the human lines as a flow line.
 */
struct ladder_sink {
	struct tt_ladder *l;
	struct tt_sink *lines;
};

static void ladder_flow_op(void *priv, const struct tt_flow *f)
{
	struct ladder_sink *s = priv;

	if (!ladder__flow(s->l, f))
		sink__flow(s->lines, f);
}

static int ladder_tick_op(void *priv, uint64_t now_ns, uint64_t lost, uint64_t evicted)
{
	struct ladder_sink *s = priv;

	(void)lost;
	(void)evicted;
	ladder__tick(s->l, now_ns);
	return 0;
}

static void ladder_clock_op(void *priv, int64_t wall_offset_ns)
{
	struct ladder_sink *s = priv;

	ladder__set_clock(s->l, wall_offset_ns);
	sink__set_clock(s->lines, wall_offset_ns);
}

static void ladder_finish_op(void *priv)
{
	struct ladder_sink *s = priv;

	ladder__flush(s->l);
}

static void ladder_free_op(void *priv)
{
	struct ladder_sink *s = priv;

	if (!s)
		return;
	ladder__free(s->l);
	free(s);
}

static const struct tt_sink_ops ladder_sink_ops = {
	.name = "ladder",
	.flow_end = ladder_flow_op,
	.tick = ladder_tick_op,
	.clock = ladder_clock_op,
	.finish = ladder_finish_op,
	.free = ladder_free_op,
};

int ladder__sink(struct tt_sink_ref *ref, const struct tt_ladder_opts *opts, struct tt_sink *lines)
{
	struct ladder_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->l = ladder__new(opts);
	if (!s->l) {
		free(s);
		return -ENOMEM;
	}
	s->lines = lines;
	*ref = (struct tt_sink_ref){ .ops = &ladder_sink_ops, .priv = s };
	return 0;
}
