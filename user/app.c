// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "outfile.h"
#include "diag.h"
#include "journal.h"
#include "filter.h"
#include "procfd.h"
#include "syslogout.h"
#include "util.h"

static void cmdline_of(uint32_t pid, char *buf, size_t len)
{
	if (procfd__cmdline(pid, buf, len) < 0 && len)
		buf[0] = '\0';
}

static void on_flow_end(const struct tt_flow *flow, void *ctx)
{
	struct app *a = ctx;

	metrics__observe_flow(&a->duration, flow);
	tw_tracker__flow(a->tw, flow);
	if (a->opts->quiet_flows || !filter__flow_states(a->opts, flow))
		return;
	if (a->ladder && ladder__flow(a->ladder, flow))
		return;
	sink__flow(a->sink, flow);
}

/*
 * --events prints the transitions the engine counts, as it counts them, so
 * the lines agree with the summaries: a TIME-WAIT entry replaces the kernel's
 * > CLOSE, repeats are dropped, and a deferred entry prints when settled.
 */
static void on_transition(const struct tt_flow *f, const struct tt_event *e, unsigned int old,
			  unsigned int new, uint64_t ts_ns, void *ctx)
{
	struct app *a = ctx;
	struct tt_event synth;

	if (!a->opts->events || !filter__transition_states(a->opts, old, new))
		return;
	if (!e || e->old_state != old || e->new_state != new) {
		memset(&synth, 0, sizeof(synth));
		if (e) {
			synth = *e;
		} else if (f) {
			synth.family = f->family;
			synth.sport = f->sport;
			synth.dport = f->dport;
			synth.netns = f->netns;
			synth.sk = f->sk;
			synth.cookie = f->cookie;
			memcpy(synth.saddr, f->saddr, 16);
			memcpy(synth.daddr, f->daddr, 16);
		}
		synth.type = TT_EV_TRANSITION;
		synth.old_state = (uint8_t)old;
		synth.new_state = (uint8_t)new;
		synth.ts_ns = ts_ns;
		e = &synth;
	}
	sink__transition(a->sink, e, f);
}

/*
 * A scrape: the counts of this moment, so that the first scrape has data and
 * -i 0 serves more than an empty page.  The leak groups come from a report
 * of their own and the TIME-WAIT count from a peek, so the summaries' trends
 * and intervals are untouched.
 */
static void render_metrics(FILE *f, void *ctx)
{
	struct app *a = ctx;
	const struct tt_cw_group *cw = NULL;
	struct tw_report tw;
	size_t n_cw;

	n_cw = report__close_wait(a->metrics_report, a->eng, a->now_ns, &cw);
	tw_tracker__peek(a->tw, a->now_ns, &tw);
	metrics__render(f, &(struct tt_metrics_input){
		.eng = a->eng, .cw = cw, .n_cw = n_cw, .tw_population = tw.population,
		.tw = &tw, .tw_warn_pct = a->opts->tw_warn_pct,
		.lost_total = a->lost_total, .invalid_total = a->invalid,
		.duration = &a->duration,
	});
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
		/* live only: a replay's namespaces are another host's */
		.own_netns = o->read_path ? 0 : diag__self_netns(),
	});
	a->eng = engine__new(&(struct tt_engine_opts){
		.max_flows = o->max_flows,
		.on_flow_end = on_flow_end,
		.on_transition = on_transition,
		.ctx = a,
	});
	if (o->ladder)
		a->ladder = ladder__new(&(struct tt_ladder_opts){
			.out = stdout,
			.wall_offset_ns = wall_offset_ns,
		});
	a->ident = ident__new(false);
	a->report = report__new(o->close_wait_age_ns, NULL);
	a->tw = tw_tracker__new(-2, o->tw_warn_pct);
	if (o->syslog) {
		a->syslog_mem = open_memstream(&a->syslog_buf, &a->syslog_len);
		if (a->syslog_mem)
			a->syslog_sink = sink__new(&(struct tt_sink_opts){
				.out = a->syslog_mem, .logfmt = true,
				.wall_offset_ns = wall_offset_ns,
				.own_netns = o->read_path ? 0 : diag__self_netns() });
		a->syslog = syslogout__new(NULL);
	}
	if (o->journal) {
		a->journal = journal__new(wall_offset_ns, o->netns);
		if (!a->journal) {
			app__free(a);
			return -ENOENT;
		}
	}
	if (!a->sink || !a->eng || !a->ident || (o->ladder && !a->ladder) || !a->report || !a->tw ||
	    (o->syslog && (!a->syslog_sink || !a->syslog))) {
		tt_err("out of memory for a flow table of %llu flows", (unsigned long long)o->max_flows);
		app__free(a);
		return -ENOMEM;
	}
	sink__set_ident(a->sink, a->ident);
	if (a->journal)
		journal__set_scope(a->journal, a->ident, o->container, o->cgroup_path);
	if (a->syslog_sink)
		sink__set_ident(a->syslog_sink, a->ident);
	report__set_ident(a->report, a->ident);
	tw_tracker__set_ident(a->tw, a->ident);
	if (o->metrics_listen) {
		char why[160];
		int err = metrics_server__new(&a->metrics, o->metrics_listen, why, sizeof(why));

		if (err) {
			tt_err("--metrics-listen: %s", why);
			app__free(a);
			return err;
		}
		a->metrics_report = report__new(o->close_wait_age_ns, NULL);
		if (!a->metrics_report) {
			tt_err("out of memory");
			app__free(a);
			return -ENOMEM;
		}
		metrics_server__set_render(a->metrics, render_metrics, a);
		tt_info("serving metrics at http://%s/metrics", metrics_server__address(a->metrics));
	}
	return 0;
}

int app__go_live(struct app *a, int netns_fd)
{
	struct tw_tracker *tw = tw_tracker__new(netns_fd, a->opts->tw_warn_pct);
	struct tt_report *r = report__new(a->opts->close_wait_age_ns, cmdline_of);

	if (!tw || !r) {
		tw_tracker__free(tw);
		report__free(r);
		return -ENOMEM;
	}
	tw_tracker__free(a->tw);
	report__free(a->report);
	tw_tracker__set_drain(tw, a->drain, a->drain_ctx);
	/* names from this host now: the v2 tree, and /proc for the fallback */
	ident__go_live(a->ident);
	report__set_ident(r, a->ident);
	tw_tracker__set_ident(tw, a->ident);
	a->tw = tw;
	a->report = r;
	{
		struct diag_sysctls sys = {};

		/* host-wide: the CLOSE-WAIT report's ports are ours */
		if (netns_fd != -2 && !diag__read_sysctls(netns_fd == TW_NETNS_ALL ? -1 : netns_fd,
							  &sys))
			report__set_port_range(r, sys.port_lo, sys.port_hi);
	}
	return 0;
}

void app__set_drain(struct app *a, void (*drain)(void *ctx), void *ctx)
{
	a->drain = drain;
	a->drain_ctx = ctx;
	if (a->tw)
		tw_tracker__set_drain(a->tw, drain, ctx);
}

int app__reopen_output(struct app *a)
{
	if (!a->opts->output_path)
		return 0;
	/* the same checks as at start: after logrotate the name may be anyone's */
	return outfile__stdout(a->opts->output_path);
}

void app__serve(struct app *a, uint64_t now_ms)
{
	if (a->metrics)
		metrics_server__work(a->metrics, now_ms);
}

void app__free(struct app *a)
{
	engine__free(a->eng);
	sink__free(a->sink);
	ladder__free(a->ladder);
	report__free(a->report);
	tw_tracker__free(a->tw);
	metrics_server__free(a->metrics);
	report__free(a->metrics_report);
	sink__free(a->syslog_sink);
	ident__free(a->ident);
	a->ident = NULL;
	if (a->syslog_mem) {
		fclose(a->syslog_mem);
		free(a->syslog_buf);
	}
	syslogout__free(a->syslog);
	a->syslog = NULL;
	journal__free(a->journal);
	a->journal = NULL;
	a->eng = NULL;
	a->ladder = NULL;
	a->sink = NULL;
	a->report = NULL;
	a->tw = NULL;
	a->metrics = NULL;
	a->metrics_report = NULL;
	a->syslog_sink = NULL;
	a->syslog_mem = NULL;
}

const struct tt_cgname *app__cgname(struct app *a, const struct tt_event *e)
{
	uint32_t pid = 0;

	/*
	 * The owner: its /proc/PID/cgroup if the id says nothing, and a quick
	 * way to the path of an id not seen before.
	 */
	if (ident__known(a->ident, e->cgroup) && !ident__vague(a->ident, e->cgroup)) {
		/* named */
	} else if (e->flags & TT_F_OWNER || e->type == TT_EV_SEED) {
		pid = e->tgid;
	} else {
		const struct tt_flow *f = engine__lookup(a->eng, e->sk);

		if (f && f->flags & TT_FLOW_OWNER_KNOWN)
			pid = f->owner_pid;
	}
	return ident__lookup(a->ident, e->cgroup, pid);
}

void app__cgroup_name(struct app *a, uint64_t id, const char *path, const char *container,
		      const char *runtime, const char *pod)
{
	if (ident__learn(a->ident, id, path, container, pod, runtime))
		tt_debug("cgroup %llu: no room for its name", (unsigned long long)id);
}

/*
 * --container, and --cgroup where the kernel did not apply it (replay, and
 * the seed from sock_diag): by the names.  Looking the name up here, when
 * the socket is first seen, is also what lets a flow whose container is gone
 * by its end still print the container's name.
 */
static bool pass_identity(struct app *a, const struct tt_event *e)
{
	const struct tt_opts *o = a->opts;
	const struct tt_cgname *n;
	bool kernel_did_cgroup = !o->read_path && e->type != TT_EV_SEED;

	if (!o->container && (!o->cgroup_path[0] || kernel_did_cgroup)) {
		app__cgname(a, e);
		return true;
	}
	n = app__cgname(a, e);
	if (o->container && (!n || strncmp(n->container, o->container, strlen(o->container))))
		return false;
	if (o->cgroup_path[0] && !kernel_did_cgroup &&
	    (!n || !ident__path_under(n->path, o->cgroup_path)))
		return false;
	return true;
}

void app__event(struct app *a, const struct tt_event *e)
{
	if (!pass_identity(a, e)) {
		a->id_dropped++;
		return;
	}
	/* a policy cookie (tcp_syncookies=2) is no overflow: an event, not an alert */
	if (e->type == TT_EV_OVERFLOW &&
	    (a->opts->events || (a->opts->json && !(e->flags & TT_F_COOKIE_POLICY))))
		sink__overflow(a->sink, e, engine__lookup(a->eng, e->sk));
	if (engine__feed(a->eng, e) == -EINVAL)
		a->invalid++;
}

/*
 * Hand what the syslog sink wrote to syslog, a line each, warnings as such.
 * Only the first syslog_len bytes are this interval's: the memstream is
 * rewound, not emptied, and what an earlier, longer interval wrote lies
 * beyond them.
 */
static void flush_syslog(struct app *a)
{
	int n;

	if (!a->syslog_mem)
		return;
	fflush(a->syslog_mem);
	n = syslogout__send_lines(a->syslog, a->syslog_buf, a->syslog_len);
	if (n < 0 && !a->syslog_failed)
		tt_warn("warning: --syslog: send to %s: %s; lines are lost until it accepts them",
			syslogout__path(a->syslog), strerror(-n));
	else if (n >= 0 && a->syslog_failed)
		tt_warn("--syslog: %s accepts lines again", syslogout__path(a->syslog));
	a->syslog_failed = n < 0;
	rewind(a->syslog_mem);
}

static void summary(struct app *a, uint64_t now, bool final)
{
	engine__settle(a->eng, final ? UINT64_MAX : now);
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
	const struct tt_cw_group *cw;
	struct tw_report tw;
	size_t n_cw;

	sink__summary(a->sink, &sum);
	if (a->syslog_sink)
		sink__summary(a->syslog_sink, &sum);
	if (a->journal)
		journal__summary(a->journal, &sum);
	/*
	 * The interval ends here: what the reports below let the source drain
	 * in (see app__set_drain) counts in the next one.
	 */
	a->lost_reported = a->lost_total;
	a->last_summary_ns = now;
	engine__reset_interval(a->eng);

	n_cw = report__close_wait(a->report, a->eng, now, &cw);
	if (n_cw) {
		sink__close_wait(a->sink, cw, n_cw, now, a->opts->close_wait_age_ns);
		if (a->syslog_sink)
			sink__close_wait(a->syslog_sink, cw, n_cw, now, a->opts->close_wait_age_ns);
		if (a->journal)
			journal__close_wait(a->journal, cw, n_cw, now, a->opts->close_wait_age_ns);
	}
	tw_tracker__report(a->tw, now, sum.interval_ns, &tw);
	if (tw.entries || tw.population > 0) {
		sink__time_wait(a->sink, &tw);
		if (a->syslog_sink)
			sink__time_wait(a->syslog_sink, &tw);
		if (a->journal)
			journal__time_wait(a->journal, &tw);
	}
	flush_syslog(a);

	if (a->opts->metrics_path) {
		struct tt_metrics_input in = {
			.eng = a->eng, .cw = cw, .n_cw = n_cw, .tw_population = tw.population,
			.tw = &tw, .tw_warn_pct = a->opts->tw_warn_pct,
			.lost_total = a->lost_total, .invalid_total = a->invalid,
			.duration = &a->duration,
		};
		int err;

		/* /metrics renders at each scrape (render_metrics) */
		err = metrics__write_file(a->opts->metrics_path, &in);
		if (err)
			tt_warn("warning: write %s: %s", a->opts->metrics_path, strerror(-err));
	}
}

void app__start(struct app *a, uint64_t now_ns)
{
	a->last_summary_ns = now_ns;
	a->started = true;
}

void app__tick(struct app *a, uint64_t now_ns)
{
	ident__tick(a->ident);
	if (!a->started)
		app__start(a, now_ns);
	a->now_ns = now_ns;
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
	if (a->id_dropped)
		tt_debug("--cgroup/--container left out %llu records in userspace",
			 (unsigned long long)a->id_dropped);
	if (ident__proc_fallbacks(a->ident))
		tt_debug("%llu cgroup names came from owners' /proc/PID/cgroup, not from the "
			 "socket's cgroup v2 id", (unsigned long long)ident__proc_fallbacks(a->ident));
	if (engine__total(a->eng)->evicted)
		tt_warn("warning: %llu flows were evicted (flow table full); raise --max-flows",
			(unsigned long long)engine__total(a->eng)->evicted);
}
