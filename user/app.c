// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "app.h"
#include "util.h"

static void on_flow_end(const struct tt_flow *flow, void *ctx)
{
	struct app *a = ctx;

	if (a->ladder && ladder__flow(a->ladder, flow))
		return;
	sink__flow(a->sink, flow);
}

int app__init(struct app *a, const struct tt_opts *o, int64_t wall_offset_ns, bool color)
{
	memset(a, 0, sizeof(*a));
	a->opts = o;
	a->sink = sink__new(&(struct tt_sink_opts){
		.out = stdout,
		.json = o->json,
		.color = color,
		.wall_offset_ns = wall_offset_ns,
	});
	a->eng = engine__new(&(struct tt_engine_opts){
		.max_flows = o->max_flows,
		.on_flow_end = on_flow_end,
		.ctx = a,
	});
	if (o->ladder)
		a->ladder = ladder__new(&(struct tt_ladder_opts){
			.out = stdout,
			.wall_offset_ns = wall_offset_ns,
		});
	if (!a->sink || !a->eng || (o->ladder && !a->ladder)) {
		app__free(a);
		return -ENOMEM;
	}
	return 0;
}

void app__free(struct app *a)
{
	engine__free(a->eng);
	sink__free(a->sink);
	ladder__free(a->ladder);
	a->eng = NULL;
	a->ladder = NULL;
	a->sink = NULL;
}

void app__event(struct app *a, const struct tt_event *e)
{
	if (a->opts->events && e->type == TT_EV_TRANSITION && e->old_state < TT_STATE_MAX &&
	    e->new_state < TT_STATE_MAX)
		sink__transition(a->sink, e, engine__lookup(a->eng, e->sk));
	if (e->type == TT_EV_OVERFLOW && (a->opts->json || a->opts->events))
		sink__overflow(a->sink, e, engine__lookup(a->eng, e->sk));
	if (engine__feed(a->eng, e) == -EINVAL)
		a->invalid++;
}

static void summary(struct app *a, uint64_t now, bool final)
{
	struct tt_summary sum = {
		.t_ns = now,
		.interval_ns = now - a->last_summary_ns,
		.final = final,
		.interval = engine__interval(a->eng),
		.total = engine__total(a->eng),
		.lost_total = a->lost_total,
		.lost_interval = a->lost_total - a->lost_reported,
		.invalid = a->invalid,
		.eng = a->eng,
	};

	sink__summary(a->sink, &sum);
	a->lost_reported = a->lost_total;
	a->last_summary_ns = now;
	engine__reset_interval(a->eng);
}

void app__start(struct app *a, uint64_t now_ns)
{
	a->last_summary_ns = now_ns;
	a->started = true;
}

void app__tick(struct app *a, uint64_t now_ns)
{
	if (!a->started)
		app__start(a, now_ns);
	if (a->ladder)
		ladder__tick(a->ladder, now_ns);
	if (a->opts->interval_ns && now_ns >= a->last_summary_ns + a->opts->interval_ns)
		summary(a, now_ns, false);
}

void app__finish(struct app *a, uint64_t now_ns)
{
	if (!a->started)
		app__start(a, now_ns);
	/* peers that never finished: their flows are drawn alone */
	if (a->ladder)
		ladder__flush(a->ladder);
	summary(a, now_ns, true);
	if (a->lost_total)
		tt_warn("warning: %llu events were lost (ring buffer full); raise --ringbuf-size",
			(unsigned long long)a->lost_total);
	if (engine__total(a->eng)->evicted)
		tt_warn("warning: %llu flows were evicted (flow table full); raise --max-flows",
			(unsigned long long)engine__total(a->eng)->evicted);
}
