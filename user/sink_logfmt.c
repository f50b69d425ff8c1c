// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: logfmt lines (time=... level=... msg=...) for summaries and reports,
 * the lines log shippers parse without a pattern: what --syslog and
 * --journal send, and what human output sets out as columns.
 */
#include <inttypes.h>
#include <string.h>
#include "json.h"
#include "sinkfmt.h"
#include "util.h"

struct lctx {
	struct tt_sink *s;
	bool first;
};

static void logfmt_listener(const struct tt_listener_stats *ls, void *ctx)
{
	struct lctx *c = ctx;
	char ep[80];

	if (!ls->i_accept_overflows && !ls->i_syn_drops && !ls->i_syn_cookies)
		return;
	tt_fmt_endpoint(ls->family, ls->addr, ls->port, ep, sizeof(ep));
	/* one key a listener: the same address and port in another namespace is another */
	if (sink_names_netns(c->s, ls->netns)) {
		size_t n = strlen(ep);

		snprintf(ep + n, sizeof(ep) - n, "/%u", ls->netns);
	}
	/* a listener whose cookies answered for it dropped nothing: no overflow.EP=0 */
	if (ls->i_accept_overflows + ls->i_syn_drops)
		fprintf(c->s->o.out, " overflow.%s=%" PRIu64, ep,
			ls->i_accept_overflows + ls->i_syn_drops);
	if (ls->i_syn_cookies)
		fprintf(c->s->o.out, " syncookies.%s=%" PRIu64, ep, ls->i_syn_cookies);
}

/* logfmt: one line that log shippers parse without a custom pattern. */
void logfmt_summary(struct tt_sink *s, const struct tt_summary *sum)
{
	const struct tt_engine_stats *iv = sum->interval, *tot = sum->total;
	FILE *out = s->o.out;
	char iso[ISO_MAX], dur[32];

	sink_iso_time(s, (int64_t)sum->t_ns + s->o.wall_offset_ns, iso);
	tt_fmt_duration(sum->interval_ns, dur, sizeof(dur));
	fprintf(out, "time=%s level=%s msg=%s interval=%s opened=%" PRIu64 " closed=%" PRIu64
		" active=%zu refused=%" PRIu64 " resets=%" PRIu64 " time_wait=%" PRIu64
		" lost=%" PRIu64 " lost_interval=%" PRIu64 " evicted=%" PRIu64
		" evicted_interval=%" PRIu64,
		iso, sink_summary_warns(sum) ? "warn" : "info",
		sum->final ? "final_summary" : "summary", dur, iv->flows_opened, iv->flows_closed,
		tot->active, iv->refused, iv->resets, iv->time_wait, sum->lost_total,
		sum->lost_interval, tot->evicted, iv->evicted);
	/* the other failed ends, when there were any: refused and resets are above */
	for (int i = 0; i < TT_FAIL_ENDS; i++)
		if (iv->ends[tt_fail_ends[i].end])
			fprintf(out, " %s=%" PRIu64, tt_fail_ends[i].key, iv->ends[tt_fail_ends[i].end]);
	if (sum->invalid)
		fprintf(out, " invalid=%" PRIu64, sum->invalid);
	/* CLOSE_WAIT flows whose end was lost, ended when the kernel no longer had them */
	if (iv->gone)
		fprintf(out, " gone=%" PRIu64, iv->gone);
	if (iv->accept_overflows || iv->syn_drops || iv->syn_cookies)
		fprintf(out, " accept_overflows=%" PRIu64 " syn_drops=%" PRIu64 " syn_cookies=%" PRIu64,
			iv->accept_overflows, iv->syn_drops, iv->syn_cookies);
	if (iv->policy_cookies)
		fprintf(out, " policy_cookies=%" PRIu64, iv->policy_cookies);
	/* transitions no hook saw, put in from the gap the next one left */
	if (iv->inferred)
		fprintf(out, " inferred=%" PRIu64, iv->inferred);
	if (sum->eng) {
		struct lctx c = { .s = s };

		engine__for_each_listener_stats(sum->eng, logfmt_listener, &c);
	}
	for (int o = 0; o < TT_STATE_MAX; o++)
		for (int n = 0; n < TT_STATE_MAX; n++)
			if (iv->transitions[o][n])
				fprintf(out, " %s>%s=%" PRIu64, tt_state_name(o), tt_state_name(n),
					iv->transitions[o][n]);
	fputc('\n', out);
}

static void service_str(const struct tt_cw_group *g, char *buf, size_t len)
{
	if (g->kind == TT_SVC_LOCAL)
		snprintf(buf, len, "local port %u", g->port);
	else
		tt_fmt_endpoint(g->family, g->addr, g->port, buf, len);
}

void logfmt_close_wait(struct tt_sink *s, const struct tt_cw_report *rep)
{
	const struct tt_cw_group *g = rep->g;
	FILE *out = s->o.out;
	char iso[ISO_MAX], age[32], svc[80];

	sink_iso_time(s, (int64_t)rep->t_ns + s->o.wall_offset_ns, iso);
	for (size_t i = 0; i < rep->n; i++, g++) {
		tt_fmt_duration(g->oldest_age_ns, age, sizeof(age));
		service_str(g, svc, sizeof(svc));
		fprintf(out, "time=%s level=warn msg=close_wait_leak", iso);
		if (g->container)
			fprintf(out, " container=%.12s", g->container);
		if (g->pod)
			fprintf(out, " pod=%s", g->pod);
		fprintf(out, " pid=%u comm=", g->pid);
		json_str(out, g->comm, tt_comm_len(g->comm));
		fprintf(out, " service=\"%s\"", svc);
		/* a remote service's address says its family; a local port does not */
		if (g->kind == TT_SVC_LOCAL && g->family == TT_AF_INET6)
			fputs(" family=ipv6", out);
		fprintf(out, " count=%u oldest=%s trend=%s", g->count, age, tt_trend_name(g->trend));
		if (sink_names_netns(s, g->netns))
			fprintf(out, " netns=%u", g->netns);
		if (g->seeded)
			fprintf(out, " seeded=%u", g->seeded);
		/* in pid's listener's accept queue: pid does not call accept() */
		if (g->unaccepted)
			fprintf(out, " unaccepted=%u", g->unaccepted);
		if (g->cmdline[0]) {
			fputs(" cmdline=", out);
			json_str(out, g->cmdline, sizeof(g->cmdline));
		}
		fputc('\n', out);
	}
	if (rep->rest_groups)
		fprintf(out, "time=%s level=warn msg=close_wait_leaks_not_shown groups=%zu count=%"
			PRIu64 " shown=%zu\n", iso, rep->rest_groups, rep->rest_count, rep->shown);
}

void logfmt_time_wait(struct tt_sink *s, const struct tw_report *r)
{
	FILE *out = s->o.out;
	double per_s = r->interval_ns ? r->entries * 1e9 / (double)r->interval_ns : 0;
	char iso[ISO_MAX], ep[80];

	sink_iso_time(s, (int64_t)r->t_ns + s->o.wall_offset_ns, iso);
	fprintf(out, "time=%s level=info msg=time_wait entries=%" PRIu64 " entries_per_s=%.1f"
		" population=%" PRId64 "%s closer=%s by_client=%" PRIu64 " by_server=%" PRIu64,
		iso, r->entries, per_s, r->population, r->estimated ? " population_estimated=true" : "",
		sink_closer(r), r->by_client, r->by_server);
	for (size_t i = 0; i < r->n_remote; i++) {
		tt_fmt_endpoint(r->remote[i].family, r->remote[i].addr, r->remote[i].port, ep,
				sizeof(ep));
		/* port 0: peers that connected to us, counted by address */
		if (!r->remote[i].port)
			ep[strlen(ep) - 1] = '*';
		fprintf(out, " top_remote.%s=%" PRIu64, ep, r->remote[i].count);
	}
	for (size_t i = 0; i < r->n_local; i++) {
		tt_fmt_addr(r->local[i].family, r->local[i].addr, ep, sizeof(ep));
		fprintf(out, " top_local.%s=%" PRIu64, ep, r->local[i].count);
	}
	for (size_t i = 0; i < r->n_containers; i++)
		fprintf(out, " top_container.%.12s=%" PRIu64, r->containers[i].container,
			r->containers[i].count);
	/* host-wide: which namespaces hold them */
	if (r->host_wide && !r->estimated)
		fprintf(out, " namespaces=%u", r->namespaces);
	for (size_t i = 0; i < r->n_netns; i++)
		fprintf(out, " netns.%u=%" PRId64, r->by_netns[i].netns, r->by_netns[i].population);
	fputc('\n', out);
	for (size_t i = 0; i < r->n_pressure; i++) {
		const struct tw_pressure *p = &r->pressure[i];

		if (!p->warn)
			continue;
		tt_fmt_endpoint(p->family, p->addr, p->port, ep, sizeof(ep));
		fprintf(out, "time=%s level=warn msg=port_pressure netns=%u destination=%s"
			" share_pct=%.1f time_wait=%" PRIu64 " in_use=%" PRIu64 " range=%u"
			" tw_reuse=%s\n", iso, p->netns, ep,
			p->share_pct, p->time_wait, p->in_use, p->range,
			p->tw_reuse ? "applies" : "does_not_apply");
	}
}

static void logfmt_summary_op(void *priv, const struct tt_summary *sum)
{
	logfmt_summary(priv, sum);
}

static void logfmt_close_wait_op(void *priv, const struct tt_cw_report *r)
{
	logfmt_close_wait(priv, r);
}

static void logfmt_time_wait_op(void *priv, const struct tw_report *r)
{
	logfmt_time_wait(priv, r);
}

static void logfmt_free(void *priv)
{
	sink__free(priv);
}

/* Summaries and reports only: flows and transitions are the other formats' */
const struct tt_sink_ops tt_sink_logfmt_ops = {
	.name = "logfmt",
	.summary = logfmt_summary_op,
	.close_wait = logfmt_close_wait_op,
	.time_wait = logfmt_time_wait_op,
	.clock = sink__clock_op,
	.free = logfmt_free,
};

void logfmt_listener_overflow(struct tt_sink *s, const struct tt_listener_stats *ls,
			      uint64_t t_ns, uint64_t interval_ns)
{
	uint64_t dropped = ls->i_accept_overflows + ls->i_syn_drops;
	char iso[ISO_MAX], ep[80], dur[32];
	const struct tt_cgname *n;

	if (!dropped && !ls->i_syn_cookies)
		return;
	sink_iso_time(s, (int64_t)t_ns + s->o.wall_offset_ns, iso);
	tt_fmt_endpoint(ls->family, ls->addr, ls->port, ep, sizeof(ep));
	tt_fmt_duration(interval_ns, dur, sizeof(dur));
	/* SYN cookies answer for a full queue: nothing was dropped */
	fprintf(s->o.out, "time=%s level=%s msg=listener_overflow listener=%s", iso,
		dropped ? "warn" : "info", ep);
	/* the listener's container, where a close_wait_leak line names it */
	n = ls->cgroup || ls->owner_pid ? sink_cgname(s, ls->cgroup, ls->owner_pid) : NULL;
	if (n && n->container[0])
		fprintf(s->o.out, " container=%.12s", n->container);
	if (n && n->pod[0])
		fprintf(s->o.out, " pod=%s", n->pod);
	/* an owner unknown is left out, as the journal entry leaves out PID= */
	if (ls->owner_pid) {
		fprintf(s->o.out, " pid=%u comm=", ls->owner_pid);
		json_str(s->o.out, ls->owner_comm, tt_comm_len(ls->owner_comm));
	}
	fprintf(s->o.out, " accept_overflows=%" PRIu64 " syn_drops=%" PRIu64 " syn_cookies=%" PRIu64
		" max_backlog=%u interval=%s", ls->i_accept_overflows, ls->i_syn_drops,
		ls->i_syn_cookies, ls->max_backlog, dur);
	if (sink_names_netns(s, ls->netns))
		fprintf(s->o.out, " netns=%u", ls->netns);
	fputc('\n', s->o.out);
}
