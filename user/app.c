// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The driver's middle: records in, engine, and the engine's events out to
 * the list of sinks; the summary clock and its reports (CLOSE-WAIT leaks,
 * TIME-WAIT); identity attached on the way in (app.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "app.h"
#include "cwcheck.h"
#include "outfile.h"
#include "diag.h"
#include "journal.h"
#include "filter.h"
#include "flowrec.h"
#include "procfd.h"
#include "syslogout.h"
#include "ladder.h"
#include "metrics.h"
#include "util.h"

static void cmdline_of(uint32_t pid, char *buf, size_t len)
{
	if (procfd__cmdline(pid, buf, len) < 0 && len)
		buf[0] = '\0';
}

/* Call op of every sink that has it, in list order. */
#define EACH_SINK(a, op, ...)							\
	do {									\
		for (size_t i_ = 0; i_ < (a)->n_sinks; i_++)			\
			if ((a)->sinks[i_].ops->op)				\
				(a)->sinks[i_].ops->op((a)->sinks[i_].priv, __VA_ARGS__); \
	} while (0)

static void on_flow_end(const struct tt_flow *flow, void *ctx)
{
	struct app *a = ctx;

	metrics__observe_flow(&a->duration, flow);
	tw_tracker__flow(a->tw, flow);
	if (!filter__flow_states(a->opts, flow))
		return;
	a->state_matched++;
	if (a->opts->quiet_flows)
		return;
	EACH_SINK(a, flow_end, flow);
}

/*
 * --events prints the transitions the engine counts, as it counts them, so
 * the lines agree with the summaries.
 */
static void on_transition(const struct tt_transition *t, void *ctx)
{
	struct app *a = ctx;

	/* every transition passes here: nothing to do without -e or --state */
	if (!a->opts->events && !a->opts->states)
		return;
	if (!filter__transition_states(a->opts, t->old_state, t->new_state))
		return;
	a->state_matched++;
	if (!a->opts->events)
		return;
	EACH_SINK(a, transition, t);
}

/* Each sink says which it tells: JSON all but policy cookies, human only with -e. */
static void on_overflow(const struct tt_event *e, const struct tt_flow *listener, void *ctx)
{
	struct app *a = ctx;

	EACH_SINK(a, overflow, e, listener);
}

int app__add_sink(struct app *a, const struct tt_sink_ref *ref)
{
	if (a->n_sinks >= TT_APP_MAX_SINKS)
		return -ENOSPC;
	a->sinks[a->n_sinks++] = *ref;
	return 0;
}

/*
 * A scrape: the counts of this moment, so that the first scrape has data and
 * -i 0 serves more than an empty page.  The leak groups come from a report
 * of their own and the TIME-WAIT count from a peek, so the summaries' trends
 * and intervals are untouched.
 */
struct netns_list {
	uint32_t *v;
	size_t n, cap;
	bool oom;
};

static void add_netns(struct netns_list *l, uint32_t netns)
{
	/* runs of one namespace are common: the table is in creation order */
	if (l->oom || (l->n && l->v[l->n - 1] == netns))
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = netns;
}

static void add_flow_netns(const struct tt_flow *f, void *ctx)
{
	add_netns(ctx, f->netns);
}

/*
 * --container, --cgroup: a TIME-WAIT socket has no cgroup, so the TIME-WAIT
 * report keeps the namespaces the kept sockets live in (every flow in the
 * table passed the filter).  Out of memory, it counts every namespace.
 */
static void tw_scope(struct app *a)
{
	struct netns_list l = { 0 };

	if (!a->opts->container && !a->opts->cgroup_path[0])
		return;
	engine__for_each(a->eng, add_flow_netns, &l);
	for (size_t i = 0; i < a->n_kept_ns; i++)
		add_netns(&l, a->kept_ns[i]);
	if (!l.oom)
		tw_tracker__scope(a->tw, l.v, l.n);
	free(l.v);
}

void app__keep_namespaces(struct app *a)
{
	const struct tt_opts *o = a->opts;

	if (o->container || o->cgroup_path[0])
		a->n_kept_ns = ident__process_namespaces(o->container, o->cgroup_path, &a->kept_ns);
}

static void render_metrics(FILE *f, void *ctx)
{
	struct app *a = ctx;
	const struct tt_cw_group *cw = NULL;
	struct tw_report tw;
	size_t n_cw;

	n_cw = report__close_wait(a->metrics_report, a->eng, a->now_ns, &cw);
	tw_scope(a);
	tw_tracker__peek(a->tw, a->now_ns, &tw);
	metrics__render(f, &(struct tt_metrics_input){
		.eng = a->eng, .cw = cw, .n_cw = n_cw, .tw_population = tw.population,
		.tw = &tw, .tw_warn_pct = a->opts->tw_warn_pct,
		.lost_total = a->lost_total, .invalid_total = a->invalid,
		.duration = &a->duration,
	});
}

/* The metrics file's start: its TIME-WAIT count, asked for at the start, is in. */
static bool metrics_start_ready(void *ctx)
{
	struct app *a = ctx;

	return !tw_tracker__census_busy(a->tw);
}

/*
 * The sinks, in the order they are handed each event: the lines on stdout
 * (human or JSON; --ladder draws the flows of it), then syslog, the journal,
 * the metrics file and /metrics over HTTP.  A new output is a line here.
 */
static int choose_sinks(struct app *a, const struct tt_opts *o, int64_t wall_offset_ns,
			bool color)
{
	struct tt_sink_opts lines = {
		.out = stdout,
		.json = o->json,
		.events = o->events,
		.no_flows = o->ladder,
		.color = color,
		.wall_offset_ns = wall_offset_ns,
		/*
		 * Live: the lines of our own namespace leave it out.  A capture
		 * does not say which was the tracer's: every line names its own.
		 */
		.own_netns = o->read_path ? 0 : diag__self_netns(),
		.every_netns = o->read_path != NULL,
	};
	struct tt_sink_ref ref;

	a->lines = sink__new(&lines);
	if (!a->lines)
		return -ENOMEM;
	sink__set_ident(a->lines, a->ident);
	app__add_sink(a, &(struct tt_sink_ref){ .ops = sink__ops(a->lines), .priv = a->lines });
	if (o->ladder) {
		/* filters that may keep one end of a connection on this host and not the other */
		const char *one_end = o->n_lports ? "-L" : o->n_rports ? "-D" :
				      o->n_local ? "--local" : o->n_remote ? "--remote" :
				      o->pid ? "-p" : o->cgroup_path[0] ? "--cgroup" :
				      o->container ? "--container" : o->states ? "--state" : NULL;

		if (ladder__sink(&ref, &(struct tt_ladder_opts){ .out = stdout,
				 .wall_offset_ns = wall_offset_ns, .one_end_filter = one_end,
				 .ident = a->ident },
				 a->lines))
			return -ENOMEM;
		app__add_sink(a, &ref);
	}
	if (o->syslog) {
		int err = syslogout__sink(&ref, &lines, a->ident);

		if (err)
			return err;
		app__add_sink(a, &ref);
	}
	if (o->journal) {
		struct tt_journal *j = journal__new(&lines, o->netns);

		if (!j)
			return -ENOENT;
		journal__set_scope(j, a->ident, o->container, o->cgroup_path);
		app__add_sink(a, &(struct tt_sink_ref){ .ops = &tt_journal_sink_ops, .priv = j });
	}
	/* a scrape's report, and the metrics file's at the start (its counts of that moment) */
	if (o->metrics_path || o->metrics_listen) {
		a->metrics_report = report__new(o->close_wait_age_ns, NULL);
		if (!a->metrics_report)
			return -ENOMEM;
	}
	if (o->metrics_path) {
		if (metrics__file_sink(&ref, o->metrics_path, o->tw_warn_pct, &a->duration,
				       render_metrics, metrics_start_ready, a))
			return -ENOMEM;
		app__add_sink(a, &ref);
	}
	if (o->metrics_listen) {
		char why[160];
		int err;

		err = metrics__http_sink(&ref, o->metrics_listen, render_metrics, a, why,
					 sizeof(why));
		if (err) {
			tt_err("--metrics-listen: %s", why);
			/*
			 * Said: not the flow table's out of memory.  A port in
			 * use (free in a moment: a restart at boot) or no memory
			 * is a runtime problem, status 1; anything else (an
			 * address this host has not) is bad input, 2.
			 */
			return err == -EADDRINUSE || err == -ENOMEM ? -EADDRINUSE : -EADDRNOTAVAIL;
		}
		app__add_sink(a, &ref);
	}
	return 0;
}

int app__init(struct app *a, const struct tt_opts *o, int64_t wall_offset_ns, bool color)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->opts = o;
	a->eng = engine__new(&(struct tt_engine_opts){
		.max_flows = o->max_flows,
		.on_flow_end = on_flow_end,
		.on_transition = on_transition,
		.on_overflow = on_overflow,
		.ctx = a,
	});
	a->ident = ident__new(false);
	/* a report compares with the last one's names: three intervals (-i: ten years at most) */
	ident__hold(a->ident, 3 * o->interval_ns);
	a->report = report__new(o->close_wait_age_ns, NULL);
	a->tw = tw_tracker__new(-2, o->tw_warn_pct);
	if (!a->eng || !a->ident || !a->report || !a->tw) {
		tt_err("out of memory for a flow table of %llu flows", (unsigned long long)o->max_flows);
		app__free(a);
		return -ENOMEM;
	}
	a->wall_offset_ns = wall_offset_ns;
	err = choose_sinks(a, o, wall_offset_ns, color);
	if (err == -ENOMEM)
		tt_err("out of memory for a flow table of %llu flows", (unsigned long long)o->max_flows);
	if (err) {
		app__free(a);
		return err;
	}
	report__set_ident(a->report, a->ident);
	/* /metrics has the container series the file has */
	if (a->metrics_report)
		report__set_ident(a->metrics_report, a->ident);
	tw_tracker__set_ident(a->tw, a->ident);
	return 0;
}

int app__go_live(struct app *a, int netns_fd)
{
	struct tw_tracker *tw = tw_tracker__new(netns_fd, a->opts->tw_warn_pct);
	struct tt_report *r = report__new(a->opts->close_wait_age_ns, cmdline_of);
	/* a count asks the kernel about the leaks too: not without one */
	struct cwcheck *cw = netns_fd != -2 ? cwcheck__new() : NULL;

	if (!tw || !r || (netns_fd != -2 && !cw)) {
		tw_tracker__free(tw);
		report__free(r);
		cwcheck__free(cw);
		return -ENOMEM;
	}
	cwcheck__free(a->cw);
	a->cw = cw;
	tw_tracker__free(a->tw);
	report__free(a->report);
	/* names from this host now: the v2 tree, and /proc for the fallback */
	ident__go_live(a->ident);
	report__set_ident(r, a->ident);
	/* owners named as ss names them now: the process, after any exec */
	report__set_comm(r, procfd__comm);
	if (a->metrics_report)
		report__set_comm(a->metrics_report, procfd__comm);
	tw_tracker__set_ident(tw, a->ident);
	a->tw = tw;
	a->report = r;
	a->follow_clock = true;
	{
		struct diag_sysctls sys = {};

		/* host-wide: the CLOSE-WAIT report's ports are ours */
		if (netns_fd != -2 && !diag__read_sysctls(netns_fd == TW_NETNS_ALL ? -1 : netns_fd,
							  &sys))
			app__set_port_range(a, sys.port_lo, sys.port_hi);
	}
	return 0;
}

void app__set_port_range(struct app *a, uint16_t lo, uint16_t hi)
{
	if (!hi)
		return;
	report__set_port_range(a->report, lo, hi);
	if (a->metrics_report)
		report__set_port_range(a->metrics_report, lo, hi);
}

int app__reopen_output(struct app *a)
{
	struct stat now, cur;

	if (!a->opts->output_path)
		return 0;
	/* not moved (a reload with no rotation): it is ours, locked through stdout */
	if (!stat(a->opts->output_path, &now) && !fstat(STDOUT_FILENO, &cur) &&
	    now.st_dev == cur.st_dev && now.st_ino == cur.st_ino)
		return 0;
	/* the same checks as at start: after logrotate the name may be anyone's */
	if (outfile__stdout(a->opts->output_path)) {
		/* said why above; where the lines go now is said here */
		tt_warn("warning: -o %s: not reopened; the output goes on in the file it named "
			"before (wherever the rotation moved it), until a SIGHUP finds %s writable",
			a->opts->output_path, a->opts->output_path);
		return -1;
	}
	return 0;
}

void app__serve(struct app *a, uint64_t now_ms)
{
	/* a scrape waits for the count under way, as the summary does */
	if (!tw_tracker__census_busy(a->tw))
		EACH_SINK(a, serve, now_ms);
}

void app__free(struct app *a)
{
	/* the sinks first: the ladder's holds the lines, and the lines the ident */
	for (size_t i = a->n_sinks; i-- > 0;)
		if (a->sinks[i].ops->free)
			a->sinks[i].ops->free(a->sinks[i].priv);
	a->n_sinks = 0;
	a->lines = NULL;
	engine__free(a->eng);
	report__free(a->report);
	/* its thread is joined: the check it may have held is ours again */
	tw_tracker__free(a->tw);
	free(a->kept_ns);
	a->kept_ns = NULL;
	cwcheck__free(a->cw);
	a->cw = NULL;
	report__free(a->metrics_report);
	ident__free(a->ident);
	a->ident = NULL;
	a->eng = NULL;
	a->report = NULL;
	a->tw = NULL;
	a->metrics_report = NULL;
}

const struct tt_cgname *app__cgname(struct app *a, const struct tt_event *e)
{
	uint32_t pid = 0;

	/*
	 * The owner: its /proc/PID/cgroup if the id says nothing, and a quick
	 * way to the path of an id not seen before.
	 */
	if (ident__names(a->ident, e->cgroup)) {
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

const struct tt_cgname *app__cgname_id(struct app *a, uint64_t id)
{
	return ident__lookup(a->ident, id, 0);
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
	if (!o->cgroup_path[0] || kernel_did_cgroup)
		return true;
	/* the v2 name, as the kernel matches --cgroup: not an owner's v1 path */
	n = ident__lookup_v2(a->ident, e->cgroup,
			     e->flags & TT_F_OWNER || e->type == TT_EV_SEED ? e->tgid : 0);
	return n && ident__path_under(n->path, o->cgroup_path);
}

/* What the filters the kernel did not apply keep of a record: before anything sees it. */
static bool keeps(struct app *a, const struct tt_event *e)
{
	if (!pass_identity(a, e)) {
		a->id_dropped++;
		return false;
	}
	/*
	 * -p: the kernel tells a listener's overflows whoever owns it; they
	 * are PID's if its listener is, which then is in the table (it holds
	 * only PID's flows), as on replay.
	 */
	if (a->opts->pid && e->type == TT_EV_OVERFLOW) {
		const struct tt_flow *l = engine__overflow_listener(a->eng, e);

		if (!l || (l->owner_pid && l->owner_pid != a->opts->pid))
			return false;
	}
	return true;
}

static void feed(struct app *a, const struct tt_event *e)
{
	if (engine__feed(a->eng, e) == -EINVAL)
		a->invalid++;
}

void app__event(struct app *a, const struct tt_event *e)
{
	if (keeps(a, e))
		feed(a, e);
}

int app__record(struct app *a, const struct tt_event *e)
{
	int err = 0;

	/*
	 * --remote/--local, --container, --cgroup by name, -p's overflows: the
	 * kernel has none of them; what they leave out, no output sees, the
	 * capture included, so that its replay is the run's
	 */
	if (!filter__addr_pass(a->opts, e) || !keeps(a, e))
		return 0;
	/* the record as the kernel wrote it, before anything reads it */
	for (size_t i = 0; i < a->n_sinks && !err; i++)
		if (a->sinks[i].ops->record)
			err = a->sinks[i].ops->record(a->sinks[i].priv, e);
	/*
	 * A sink that fails on this record (a capture's rotation, say) ends
	 * the run, but the record was read: the live output has it all the
	 * same.  After an earlier failure nothing more is taken in.
	 */
	if (err)
		a->sink_err = err;
	else if (a->sink_err)
		return a->sink_err;
	feed(a, e);
	if (err)
		return err;
	return !a->stopping && ferror_unlocked(stdout) ? -EIO : 0;
}

int app__flowrec(struct app *a, const struct tt_flowrec *r)
{
	struct tt_event h, o;
	int err = 0;

	/* the filters read the tuple and cgroup, which every transition of it shares */
	flowrec__header(r, &h);
	if (!filter__addr_pass(a->opts, &h))
		return 0;
	/* the owner, for the filters' /proc fallback (the sinks look it up by the flow's) */
	if (!pass_identity(a, a->opts->container || a->opts->cgroup_path[0] ?
			   flowrec__owner(r, &h, &o) : &h)) {
		a->id_dropped++;
		return 0;
	}
	for (size_t i = 0; i < a->n_sinks && !err; i++)
		if (a->sinks[i].ops->flowrec)
			err = a->sinks[i].ops->flowrec(a->sinks[i].priv, r);
	/* as app__record(): the record that made a sink fail is still told */
	if (err)
		a->sink_err = err;
	else if (a->sink_err)
		return a->sink_err;
	if (engine__feed_flow_hdr(a->eng, r, &h) == -EINVAL)
		a->invalid++;
	if (err)
		return err;
	return !a->stopping && ferror_unlocked(stdout) ? -EIO : 0;
}

void app__set_lost(struct app *a, uint64_t lost_total)
{
	a->lost_total = lost_total;
}

void app__not_read(struct app *a, uint64_t gap_ns, uint64_t lost)
{
	if (gap_ns > a->unread_max_ns)
		a->unread_max_ns = gap_ns;
	a->lost_unread += lost;
}

void app__prefetch(struct app *a, const uint64_t *sk, unsigned int n)
{
	engine__prefetch(a->eng, sk, n);
}

uint64_t app__lost(const struct app *a)
{
	return a->lost_total;
}

const struct tt_engine_stats *app__total(const struct app *a)
{
	return engine__total(a->eng);
}

int app__close(struct app *a, uint64_t now_ns)
{
	int status = 0;

	if (a->closed)
		return 0;
	a->closed = true;
	for (size_t i = 0; i < a->n_sinks; i++)
		if (a->sinks[i].ops->close &&
		    a->sinks[i].ops->close(a->sinks[i].priv, now_ns, a->lost_total,
					   engine__total(a->eng)->evicted))
			status = -EIO;
	return status;
}

/*
 * The report comes up to TW_CENSUS_WAIT_MS and CW_DRAIN_WAIT_NS after the
 * candidates are taken, and counts the flows old enough by then: those
 * that are that much younger now are asked about too.
 */
#define CW_DRAIN_WAIT_NS	(1000ull * 1000000ull)
#define CW_MARGIN_NS		(TW_CENSUS_WAIT_MS * 1000000ull + CW_DRAIN_WAIT_NS)

/*
 * After records were lost, every flow is asked about (the end of any may
 * have been among them): once an interval goes by with no loss, at the
 * last check, and while the loss goes on at most once every
 * CW_ALL_EVERY_NS, as a table of 262,144 flows takes 28 MiB and 24 to
 * 143 ms of the reading thread to collect (README).
 */
#define CW_ALL_EVERY_NS		(60ull * 1000000000ull)

/*
 * A record written after its socket left the hash table (the TIME-WAIT
 * record, after the hand-over to the timewait sock) comes microseconds
 * after: a check of every flow is applied once the source has been read
 * this long past its end.
 */
#define CW_ALL_AFTER_NS		(10ull * 1000000ull)

/* The leak candidates, or every flow (above); final: the last check. */
static int cw_collect(struct app *a, uint64_t now_ns, bool final)
{
	uint64_t age = a->opts->close_wait_age_ns;
	bool all = a->lost_total > a->lost_checked &&
		   (final || a->lost_total == a->lost_reported || !a->cw_all_ns ||
		    now_ns - a->cw_all_ns >= CW_ALL_EVERY_NS);
	int n = cwcheck__collect(a->cw, a->eng, now_ns, age > CW_MARGIN_NS ? age - CW_MARGIN_NS : 0,
				 a->opts->netns, all);

	if (all) {
		a->cw_all_ns = now_ns;
		a->cw_lost = a->lost_total;
		if (n == 0)
			a->lost_checked = a->lost_total;
	}
	return n;
}

/*
 * The leak candidates of this moment go with the count: the census thread
 * dumps their namespaces after it.  Only while no count is under way, since
 * the one under way may hold the check still.
 */
static void census_ask(struct app *a, uint64_t now_ns)
{
	if (!a->census_asked && a->cw && tw_tracker__census_idle(a->tw) &&
	    cw_collect(a, now_ns, false) > 0) {
		tw_tracker__census_start_check(a->tw, a->cw);
		a->cw_pending = true;
		a->cw_wait_ns = 0;
	}
	a->census_asked = true;
	/* a scrape may have taken the count: ask again (without the check) */
	tw_tracker__census_start(a->tw);
}

void app__stopping(struct app *a)
{
	a->stopping = true;
}

void app__set_drained(struct app *a, uint64_t now_ns)
{
	a->drained_ns = now_ns;
}

/*
 * A record the kernel wrote before the last dump was in the ring buffer
 * before the socket left the hash table (the hooks run in tcp_set_state(),
 * ahead of the unhash); a check may be applied once the source has read
 * all it held after that dump.  The summary waits for that at most
 * CW_DRAIN_WAIT_NS; a source that never runs dry by then has the check
 * dropped.
 */
static bool cw_ready(const struct app *a)
{
	return a->cw_pending && tw_tracker__census_done(a->tw) && a->cw->done_ns &&
	       a->drained_ns >= a->cw->done_ns + (a->cw->all ? CW_ALL_AFTER_NS : 0);
}

/* Whether the summary may go on: no check waits for the source to drain. */
static bool cw_settled(struct app *a, uint64_t now_ns)
{
	/* a count that overran: its check is applied with a later summary */
	if (!a->cw_pending || !tw_tracker__census_done(a->tw) || cw_ready(a))
		return true;
	if (!a->cw_wait_ns)
		a->cw_wait_ns = now_ns;
	if (now_ns - a->cw_wait_ns < CW_DRAIN_WAIT_NS)
		return false;
	tt_debug("CLOSE-WAIT check: dropped, the ring buffer did not run dry within %llu ms of it",
		 CW_DRAIN_WAIT_NS / 1000000ull);
	a->cw_pending = false;
	return true;
}

/* End the leak candidates the kernel no longer has. */
static void cw_apply(struct app *a)
{
	size_t gone;

	if (!cw_ready(a))
		return;
	a->cw_pending = false;
	a->cw_wait_ns = 0;
	gone = cwcheck__apply(a->cw, a->eng);
	if (a->cw->all)
		a->lost_checked = a->cw_lost;
	tt_debug("%s check: %zu flow%s in %u network namespace%s asked for (%u not "
		 "checked): %zu gone from the kernel, ended",
		 a->cw->all ? "lost records: every flow's" : "CLOSE-WAIT", a->cw->n,
		 a->cw->n == 1 ? "" : "s", a->cw->namespaces, a->cw->namespaces == 1 ? "" : "s",
		 a->cw->unchecked_ns, gone);
}

uint64_t app__check_leaks(struct app *a, uint64_t now_ns)
{
	if (!a->cw)
		return 0;
	if (tw_tracker__census_idle(a->tw)) {
		if (cw_collect(a, now_ns, true) <= 0)
			return 0;
		tw_tracker__census_start_check(a->tw, a->cw);
		a->cw_pending = true;
	}
	/* a check still running after the wait is the census thread's: nothing to read */
	if (!tw_tracker__census_wait(a->tw) || !a->cw_pending || !a->cw->done_ns)
		return 0;
	return a->cw->done_ns + (a->cw->all ? CW_ALL_AFTER_NS : 0);
}

/*
 * Live, at each summary: has the wall clock moved against CLOCK_MONOTONIC,
 * the records' clock?  A step of the time (NTP at boot, by hand) or a
 * suspend, which CLOCK_MONOTONIC does not count, would leave every time
 * printed after it off by as much.  Below CLOCK_MOVE_NS it is only the
 * reading's error (the three clock reads may be preempted).  A capture
 * keeps its start's offset: its replay prints the times as they were then.
 */
#define CLOCK_MOVE_NS	100000000ll
static void follow_clock(struct app *a)
{
	int64_t off = tt_mono_to_wall_offset(), moved = off - a->wall_offset_ns;

	if (moved > -CLOCK_MOVE_NS && moved < CLOCK_MOVE_NS)
		return;
	tt_warn("warning: the wall clock moved %+.3f s against the kernel's monotonic clock "
		"(the time was set, or the host was suspended); the times printed from now on "
		"follow it", (double)moved / 1e9);
	a->wall_offset_ns = off;
	EACH_SINK(a, clock, off);
}

static void summary(struct app *a, uint64_t now, bool final)
{
	engine__settle(a->eng, final ? UINT64_MAX : now);
	cw_apply(a);
	if (a->follow_clock)
		follow_clock(a);
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
		.close_wait_age_ns = a->opts->close_wait_age_ns,
	};
	const struct tt_cw_group *cw;
	struct tw_report tw;
	size_t n_cw;

	/* live only: a replay waits for its reader and loses nothing */
	if (!a->opts->read_path && tt_stdout_blocked_ns() - a->stdout_blocked_said >= 1000000000ull) {
		uint64_t b = tt_stdout_blocked_ns() - a->stdout_blocked_said;

		tt_warn("warning: stdout took no output for %.1f s of this interval (its reader "
			"stopped reading?): the ring buffer is not read while it waits%s",
			b / 1e9, sum.lost_interval ? ", and events were lost" : "");
	}
	a->stdout_blocked_said = tt_stdout_blocked_ns();
	if (sum.total->evicted_waiting && !a->said_evicted_waiting) {
		a->said_evicted_waiting = true;
		tt_warn("warning: the flow table (--max-flows %llu) holds only CLOSE_WAIT flows and "
			"listeners: evicted, they leave the leak and listener reports, which count "
			"short from now on; raise --max-flows",
			(unsigned long long)a->opts->max_flows);
	}
	EACH_SINK(a, summary, &sum);
	a->census_asked = false;
	/* the interval ends here */
	a->lost_reported = a->lost_total;
	a->last_summary_ns = now;
	engine__reset_interval(a->eng);

	n_cw = report__close_wait(a->report, a->eng, now, &cw);
	if (n_cw) {
		struct tt_cw_report r = {
			.g = cw, .n = n_cw, .t_ns = now, .min_age_ns = a->opts->close_wait_age_ns,
		};

		/* the first in the report's order: the largest containers and processes */
		tt_cw_report_limit(&r, TT_CW_REPORT_MAX);
		EACH_SINK(a, close_wait, &r);
	}
	tw_scope(a);
	tw_tracker__report(a->tw, now, sum.interval_ns, &tw);
	if (tw.entries || tw.population > 0)
		EACH_SINK(a, time_wait, &tw);
	sum.cw = cw;
	sum.n_cw = n_cw;
	sum.tw = &tw;
	EACH_SINK(a, flush, &sum);
}

/* The sinks' clock; nonzero: one failed (now or before), stop. */
static int sinks_tick(struct app *a, uint64_t now_ns)
{
	int err = 0;

	for (size_t i = 0; i < a->n_sinks && !err; i++)
		if (a->sinks[i].ops->tick)
			err = a->sinks[i].ops->tick(a->sinks[i].priv, now_ns, a->lost_total,
						    engine__total(a->eng)->evicted);
	if (err)
		a->sink_err = err;
	return a->sink_err;
}

void app__start(struct app *a, uint64_t now_ns)
{
	a->now_ns = now_ns;
	a->last_summary_ns = now_ns;
	a->due_ns = now_ns + a->opts->interval_ns;
	a->started = true;
	/* the metrics file's first counts: written at a tick once this count is in */
	if (a->opts->metrics_path)
		tw_tracker__census_start(a->tw);
	for (size_t i = 0; i < a->n_sinks; i++)
		if (a->sinks[i].ops->start)
			a->sinks[i].ops->start(a->sinks[i].priv, a->eng);
}

void app__clock_jumps(struct app *a)
{
	a->clock_jumps = true;
}

/*
 * Summaries made for one stretch of a capture without a record, at most:
 * 28 hours at the default -i 10.  Nothing happens in such a stretch, so
 * the summaries past the first few only repeat each other; the cap keeps a
 * capture whose clock leaps 100 years (damaged, or made to) from printing
 * billions of them.
 */
#define CATCH_UP_MAX 10000

/*
 * A capture's clock jumps over the quiet stretches between its records,
 * where the live run ticked every 50 ms: each interval boundary passed
 * before now_ns gets the summary live made there, at its own time (leak
 * ages as of then).  A record at a boundary's very time belongs to the
 * interval it ends, and a boundary at the final summary's time is that one.
 * Differences, not sums: a capture's times can be anything.
 */
static void summaries_before(struct app *a, uint64_t now_ns)
{
	uint64_t iv = a->opts->interval_ns;
	char gap[32];

	for (unsigned int n = 1; iv && now_ns > a->last_summary_ns &&
	     now_ns - a->last_summary_ns > iv; n++) {
		uint64_t last = a->last_summary_ns;

		if (n < CATCH_UP_MAX) {
			summary(a, last + iv, false);
			continue;
		}
		/* the last boundary before now_ns: one summary for the rest of the stretch */
		tt_fmt_duration(now_ns - last, gap, sizeof(gap));
		tt_info("the capture holds no record for %s more: one summary covers it after "
			"%d of one interval", gap, CATCH_UP_MAX - 1);
		summary(a, last + (now_ns - last - 1) / iv * iv, false);
	}
}

int app__tick(struct app *a, uint64_t now_ns)
{
	int err = 0;

	ident__tick(a->ident);
	if (!a->started)
		app__start(a, now_ns);
	a->now_ns = now_ns;
	if (a->clock_jumps) {
		summaries_before(a, now_ns);
		return sinks_tick(a, now_ns);
	}
	err = sinks_tick(a, now_ns);
	if (err)
		return err;
	if (!a->opts->interval_ns || now_ns < a->due_ns)
		return 0;
	/*
	 * Live: the TIME-WAIT count runs on its own thread; the source goes on
	 * reading until it is done, and the summary comes at the first tick after.
	 */
	census_ask(a, now_ns);
	if (tw_tracker__census_busy(a->tw) || !cw_settled(a, now_ns))
		return 0;
	summary(a, now_ns, false);
	/*
	 * On the grid of start + k * -i, as a replay makes them: the tick and
	 * the census make each one a little late, which must not add up.
	 */
	while (a->due_ns <= now_ns)
		a->due_ns += a->opts->interval_ns;
	return 0;
}

int app__wait_ms(const struct app *a, uint64_t now_ns, int max_ms)
{
	uint64_t left_ms;

	if (!a->started || !a->opts->interval_ns || a->clock_jumps)
		return max_ms;
	/* due: soon again while its count runs, less often the longer it takes */
	if (now_ns >= a->due_ns)
		return now_ns - a->due_ns < 10000000 ? 1 : now_ns - a->due_ns < 100000000 ? 5 :
		       max_ms < 20 ? max_ms : 20;
	left_ms = (a->due_ns - now_ns + 999999) / 1000000;
	return left_ms < (uint64_t)max_ms ? (int)left_ms : max_ms;
}

void app__finish(struct app *a, uint64_t now_ns)
{
	if (!a->started)
		app__start(a, now_ns);
	/* what a sink still holds (a ladder's flows whose peer never finished) */
	for (size_t i = 0; i < a->n_sinks; i++)
		if (a->sinks[i].ops->finish)
			a->sinks[i].ops->finish(a->sinks[i].priv);
	if (a->clock_jumps)
		summaries_before(a, now_ns);
	summary(a, now_ns, true);
	if (a->lost_total && tt_stdout_blocked_ns() >= 1000000000ull)
		tt_warn("warning: %llu events were lost (ring buffer full), while stdout took no "
			"output for %.1f s in all, and the ring buffer was not read: read the output "
			"as fast as it comes (or write it to a file, -o), or raise --ringbuf-size",
			(unsigned long long)a->lost_total, tt_stdout_blocked_ns() / 1e9);
	else if (a->lost_total && a->lost_unread)
		tt_warn("warning: %llu events were lost (ring buffer full), %llu of them while "
			"tcptrail did not read it for up to %.1f s at once (it was stopped, by "
			"SIGSTOP, Ctrl-Z or a debugger, or given no CPU, or held up: a slow "
			"write, its own count); raise --ringbuf-size if such pauses are to be "
			"expected", (unsigned long long)a->lost_total,
			(unsigned long long)(a->lost_unread < a->lost_total ? a->lost_unread
									   : a->lost_total),
			a->unread_max_ns / 1e9);
	else if (a->lost_total)
		tt_warn("warning: %llu events were lost (ring buffer full); raise --ringbuf-size",
			(unsigned long long)a->lost_total);
	if (a->id_dropped)
		tt_debug("--cgroup/--container left out %llu records in userspace",
			 (unsigned long long)a->id_dropped);
	if (ident__proc_fallbacks(a->ident))
		tt_debug("%llu cgroup names came from owners' /proc/PID/cgroup, not from the "
			 "socket's cgroup v2 id", (unsigned long long)ident__proc_fallbacks(a->ident));
	if (engine__total(a->eng)->evicted)
		tt_warn("warning: %llu flows were evicted (flow table full), %llu of them in "
			"CLOSE_WAIT or listening; raise --max-flows",
			(unsigned long long)engine__total(a->eng)->evicted,
			(unsigned long long)engine__total(a->eng)->evicted_waiting);
	if (engine__total(a->eng)->tw_early)
		tt_warn("warning: %llu TIME-WAIT entries from FIN_WAIT2 were settled before "
			"their 2 ms wait for a reset ended (%d waited at once); a reset in "
			"that time would have made them aborts",
			(unsigned long long)engine__total(a->eng)->tw_early, TT_TW_PENDING_MAX);
	if (engine__total(a->eng)->tw_early_table)
		tt_warn("warning: %llu TIME-WAIT entries from FIN_WAIT2 were settled before "
			"their 2 ms wait for a reset ended, to free a slot of the full flow table "
			"(--max-flows %llu); a reset in that time would have made them aborts",
			(unsigned long long)engine__total(a->eng)->tw_early_table,
			(unsigned long long)a->opts->max_flows);
	if (engine__total(a->eng)->gone)
		tt_debug("%llu flows ended as gone: the kernel no longer had their sockets, whose "
			 "end was never recorded", (unsigned long long)engine__total(a->eng)->gone);
	if (engine__total(a->eng)->seed_twins)
		tt_debug("%llu seeded sockets were born after the hooks were attached: their "
			 "own records replaced them", (unsigned long long)engine__total(a->eng)->seed_twins);
	if (engine__total(a->eng)->duplicates)
		tt_debug("repeated records dropped: %llu (one transition recorded twice)",
			 (unsigned long long)engine__total(a->eng)->duplicates);
}
