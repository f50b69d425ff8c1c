// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcptrail: source -> engine -> sinks.  main() wires them, owns the clock
 * that paces summaries, and turns signals into a clean stop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"
#include "live.h"
#include "opts.h"
#include "sink.h"
#include "util.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

struct app {
	struct tt_opts opts;
	struct tt_engine *eng;
	struct tt_sink *sink;
	struct tt_live *live;
	uint64_t invalid;
	uint64_t lost_reported;		/* lost total at the previous summary */
};

static void on_flow_end(const struct tt_flow *flow, void *ctx)
{
	struct app *a = ctx;

	sink__flow(a->sink, flow);
}

static int on_event(void *ctx, const struct tt_event *e)
{
	struct app *a = ctx;

	if (a->opts.events && e->type == TT_EV_TRANSITION && e->old_state < TT_STATE_MAX &&
	    e->new_state < TT_STATE_MAX)
		sink__transition(a->sink, e, engine__lookup(a->eng, e->sk));
	if (engine__feed(a->eng, e) == -EINVAL)
		a->invalid++;
	return 0;
}

static void summary(struct app *a, uint64_t now, uint64_t interval_ns, bool final)
{
	uint64_t lost = a->live ? live__lost(a->live) : 0;
	struct tt_summary sum = {
		.t_ns = now,
		.interval_ns = interval_ns,
		.final = final,
		.interval = engine__interval(a->eng),
		.total = engine__total(a->eng),
		.lost_total = lost,
		.lost_interval = lost - a->lost_reported,
		.invalid = a->invalid,
	};

	sink__summary(a->sink, &sum);
	a->lost_reported = lost;
	engine__reset_interval(a->eng);
}

static int run_live(struct app *a)
{
	const struct tt_opts *o = &a->opts;
	uint64_t start, last_summary, now;
	int err;

	err = live__open(&a->live, o, on_event, a);
	if (err)
		return err;
	if (tt_verbosity >= TT_LOG_DEBUG) {
		fprintf(stderr, "tcptrail: hooks:\n");
		live__print_selection(stderr, live__selection(a->live), true);
	}
	{
		const struct tt_selection *sel = live__selection(a->live);
		int t = sel->chosen[TT_CAP_TRANSITIONS], w = sel->chosen[TT_CAP_OWNER];

		for (int cap = 0; cap < TT_CAP_MAX; cap++)
			if (sel->forced_fallback[cap])
				tt_warn("warning: the forced hook kind is unavailable for %s; using %s",
					tt_cap_name(cap), sel->chosen[cap] >= 0 ?
					tt_variants[sel->chosen[cap]].name : "nothing");
		if (w < 0)
			tt_warn("warning: owner attribution of accepted connections is unavailable "
				"(passive flows show their listener's owner)");
		tt_info("tracing: transitions via %s, owner via %s%s", tt_variants[t].name,
			w >= 0 ? tt_variants[w].name : "-",
			isatty(STDIN_FILENO) ? " (Ctrl-C to stop)" : "");
	}

	start = last_summary = live__now_ns();
	while (!exiting) {
		err = live__poll(a->live, 50);
		if (err < 0) {
			tt_err("read ring buffer: %s", strerror(-err));
			break;
		}
		now = live__now_ns();
		if (o->interval_ns && now - last_summary >= o->interval_ns) {
			summary(a, now, now - last_summary, false);
			last_summary = now;
		}
		if (o->duration_ns && now - start >= o->duration_ns)
			break;
		if (ferror(stdout)) {
			/* a closed pipe (tcptrail | head) or a full disk */
			tt_err("write output: %s", strerror(errno ? errno : EIO));
			return 1;
		}
	}
	/* what the kernel queued before we stopped is still ours to report */
	live__poll(a->live, 0);
	now = live__now_ns();
	summary(a, now, now - last_summary, true);
	if (a->lost_reported)
		tt_warn("warning: %llu events were lost (ring buffer full); raise --ringbuf-size",
			(unsigned long long)a->lost_reported);
	if (engine__total(a->eng)->evicted)
		tt_warn("warning: %llu flows were evicted (flow table full); raise --max-flows",
			(unsigned long long)engine__total(a->eng)->evicted);
	fflush(stdout);
	if (ferror(stdout)) {
		tt_err("write output: %s", strerror(errno ? errno : EIO));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct app a = {};
	struct sigaction sa = { .sa_handler = on_signal };
	bool exit_now;
	int status;

	status = tt_opts_parse(argc, argv, &a.opts, &exit_now);
	if (status || exit_now)
		return status;
	tt_verbosity = TT_LOG_INFO + a.opts.verbose;
	if (a.opts.probe)
		return live__probe(&a.opts);

	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	a.sink = sink__new(&(struct tt_sink_opts){
		.out = stdout,
		.json = a.opts.json,
		.color = a.opts.color == TT_COLOR_ALWAYS ||
			 (a.opts.color == TT_COLOR_AUTO && !a.opts.json && isatty(STDOUT_FILENO)),
		.wall_offset_ns = tt_mono_to_wall_offset(),
	});
	a.eng = engine__new(&(struct tt_engine_opts){
		.max_flows = a.opts.max_flows,
		.on_flow_end = on_flow_end,
		.ctx = &a,
	});
	if (!a.sink || !a.eng) {
		tt_err("allocate a flow table of %llu flows: out of memory",
		       (unsigned long long)a.opts.max_flows);
		status = 1;
		goto out;
	}
	status = run_live(&a);
out:
	live__free(a.live);
	engine__free(a.eng);
	sink__free(a.sink);
	return status;
}
