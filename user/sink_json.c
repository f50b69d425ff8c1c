// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: JSON lines, one object per flow, transition, overflow, summary or
 * report (include/tcptrail.schema.json, "version" TT_JSON_VERSION).
 */
#include <inttypes.h>
#include <string.h>
#include "json.h"
#include "sinkfmt.h"
#include "util.h"

/* ,"cgroup":"/a/b","container":"<id>","pod":"<uid>": the last two where known */
static void lb_ident(struct linebuf *lb, const struct tt_cgname *n)
{
	linebuf__lit(lb, ",\"cgroup\":");
	if (!n) {
		linebuf__lit(lb, "null");
		return;
	}
	linebuf__json_str(lb, n->path, strlen(n->path));
	if (n->container[0]) {
		linebuf__lit(lb, ",\"container\":\"");
		linebuf__str(lb, n->container);
		linebuf__char(lb, '"');
	}
	if (n->pod[0]) {
		linebuf__lit(lb, ",\"pod\":\"");
		linebuf__str(lb, n->pod);
		linebuf__char(lb, '"');
	}
}

static void json_ident(struct linebuf *lb, const char *path, const char *container, const char *pod)
{
	linebuf__str(lb, ",\"cgroup\":");
	if (!path) {
		linebuf__str(lb, "null");
		return;
	}
	linebuf__json_str(lb, path, strlen(path));
	if (container && container[0])
		linebuf__printf(lb, ",\"container\":\"%s\"", container);
	if (pod && pod[0])
		linebuf__printf(lb, ",\"pod\":\"%s\"", pod);
}

static void lb_iso(struct tt_sink *s, int64_t wall_ns)
{
	struct linebuf *lb = &s->lb;

	lb->len += sink_iso_fmt(s, wall_ns, linebuf__room(lb, ISO_MAX));
}

static const char *family_name(uint8_t family)
{
	return family == TT_AF_INET6 ? "ipv6" : "ipv4";
}

static void json_addr(struct linebuf *lb, const char *key, uint8_t family, const uint8_t *addr)
{
	char a[64];

	tt_fmt_addr(family, addr, a, sizeof(a));
	linebuf__printf(lb, ",\"%s\":\"%s\"", key, a);
}

/*
 * The JSON lines written per record or per flow are built in s->lb and
 * written with one fwrite: the same bytes fprintf wrote field by field, at
 * a fraction of the cost.  The lines written per interval are built there
 * too, their numbers with linebuf__printf: one way to build JSON.
 */

/* ,"key":"10.0.0.1" */
#define lb_addr(lb, key, family, addr)			\
	do {						\
		linebuf__lit(lb, ",\"" key "\":\"");	\
		linebuf__addr(lb, family, addr);	\
		linebuf__char(lb, '"');			\
	} while (0)

/* ,"version":1,"t_ns":N,"time":"...": what the per-record lines open with */
static void lb_head(struct tt_sink *s, uint64_t t_ns)
{
	struct linebuf *lb = &s->lb;

	linebuf__lit(lb, ",\"version\":");
	linebuf__int(lb, TT_JSON_VERSION);
	linebuf__lit(lb, ",\"t_ns\":");
	linebuf__u64(lb, t_ns);
	linebuf__lit(lb, ",\"time\":\"");
	lb_iso(s, (int64_t)t_ns + s->o.wall_offset_ns);
	linebuf__char(lb, '"');
}

static void lb_family(struct linebuf *lb, uint8_t family)
{
	if (family == TT_AF_INET6)
		linebuf__lit(lb, ",\"family\":\"ipv6\"");
	else
		linebuf__lit(lb, ",\"family\":\"ipv4\"");
}

static void lb_end_line(struct linebuf *lb)
{
	linebuf__lit(lb, "}\n");
	linebuf__flush(lb);
}

/* ,"netns":N,"family":...,"saddr":...,"sport":N,"daddr":...,"dport":N */
static void lb_tuple(struct linebuf *lb, uint32_t netns, uint8_t family, const uint8_t *saddr,
		     uint16_t sport, const uint8_t *daddr, uint16_t dport)
{
	linebuf__lit(lb, ",\"netns\":");
	linebuf__u64(lb, netns);
	lb_family(lb, family);
	lb_addr(lb, "saddr", family, saddr);
	linebuf__lit(lb, ",\"sport\":");
	linebuf__u64(lb, sport);
	lb_addr(lb, "daddr", family, daddr);
	linebuf__lit(lb, ",\"dport\":");
	linebuf__u64(lb, dport);
}

/*
 * A flow's record is written when it ends: t_ns and time are that moment
 * (its last state's), as every record's are the moment it tells of; start
 * and start_ns are its first state's.  include/tcptrail.schema.json.
 */
void json_flow(struct tt_sink *s, const struct tt_flow *f)
{
	struct linebuf *lb = &s->lb;
	uint64_t end_ns = f->ts_ns[f->nstates - 1];

	linebuf__lit(lb, "{\"type\":\"flow\"");
	lb_head(s, end_ns);
	linebuf__lit(lb, ",\"id\":");
	linebuf__u64(lb, f->id);
	linebuf__lit(lb, ",\"cookie\":");
	linebuf__u64(lb, f->cookie);
	linebuf__lit(lb, ",\"start_ns\":");
	linebuf__u64(lb, f->ts_ns[0]);
	linebuf__lit(lb, ",\"start\":\"");
	lb_iso(s, (int64_t)f->ts_ns[0] + s->o.wall_offset_ns);
	linebuf__char(lb, '"');
	lb_tuple(lb, f->netns, f->family, f->saddr, f->sport, f->daddr, f->dport);
	lb_ident(lb, sink_cgname(s, f->cgroup, f->owner_pid));
	linebuf__lit(lb, ",\"role\":\"");
	linebuf__str(lb, tt_role_name(f->role));
	linebuf__lit(lb, "\",\"pid\":");
	linebuf__u64(lb, f->owner_pid);
	linebuf__lit(lb, ",\"comm\":");
	linebuf__json_str(lb, f->owner_comm, sizeof(f->owner_comm));
	linebuf__lit(lb, ",\"owner_known\":");
	linebuf__bool(lb, f->flags & TT_FLOW_OWNER_KNOWN);
	linebuf__lit(lb, ",\"closer_pid\":");
	linebuf__u64(lb, f->closer_pid);
	linebuf__lit(lb, ",\"closer_comm\":");
	linebuf__json_str(lb, f->closer_comm, sizeof(f->closer_comm));
	linebuf__lit(lb, ",\"seeded\":");
	linebuf__bool(lb, f->flags & TT_FLOW_SEEDED);
	linebuf__lit(lb, ",\"partial\":");
	linebuf__bool(lb, f->flags & TT_FLOW_PARTIAL);
	linebuf__lit(lb, ",\"truncated\":");
	linebuf__bool(lb, f->flags & TT_FLOW_TRUNCATED);
	linebuf__lit(lb, ",\"states\":[");
	for (int i = 0; i < f->nstates; i++) {
		if (i)
			linebuf__char(lb, ',');
		linebuf__lit(lb, "{\"state\":\"");
		linebuf__str(lb, tt_state_name(f->state[i]));
		linebuf__lit(lb, "\",\"t_ns\":");
		linebuf__u64(lb, f->ts_ns[i] - f->ts_ns[0]);
		linebuf__char(lb, '}');
	}
	linebuf__lit(lb, "],\"end\":\"");
	linebuf__str(lb, tt_end_name(f->end));
	linebuf__char(lb, '"');
	if (f->end == TT_END_TIME_WAIT && f->tw_substate) {
		linebuf__lit(lb, ",\"tw_substate\":\"");
		linebuf__str(lb, tt_state_name(f->tw_substate));
		linebuf__char(lb, '"');
	}
	linebuf__lit(lb, ",\"synack_retrans\":");
	linebuf__u64(lb, f->synack_retrans);
	linebuf__lit(lb, ",\"resets_sent\":");
	linebuf__u64(lb, f->resets_sent);
	linebuf__lit(lb, ",\"resets_recv\":");
	linebuf__u64(lb, f->resets_recv);
	linebuf__lit(lb, ",\"duration_ns\":");
	linebuf__u64(lb, f->ts_ns[f->nstates - 1] - f->ts_ns[0]);
	if (f->inferred) {
		linebuf__lit(lb, ",\"inferred\":");
		linebuf__u64(lb, f->inferred);
	}
	/*
	 * Only what the kernel read from tcp_sock at the end: absent, not 0,
	 * for a flow with none (the per-transition stream, an evicted or
	 * still open flow), so 0 bytes always means no payload.
	 */
	if (f->flags & TT_FLOW_STATS) {
		linebuf__lit(lb, ",\"bytes_sent\":");
		linebuf__u64(lb, f->bytes_sent);
		linebuf__lit(lb, ",\"bytes_received\":");
		linebuf__u64(lb, f->bytes_received);
		linebuf__lit(lb, ",\"segs_out\":");
		linebuf__u64(lb, f->segs_out);
		linebuf__lit(lb, ",\"segs_in\":");
		linebuf__u64(lb, f->segs_in);
		linebuf__lit(lb, ",\"retransmits\":");
		linebuf__u64(lb, f->retransmits);
		linebuf__lit(lb, ",\"srtt_us\":");
		linebuf__u64(lb, f->srtt_us);
	}
	lb_end_line(lb);
}


void json_transition(struct tt_sink *s, const struct tt_transition *t)
{
	const struct tt_flow *flow = t->flow;
	struct linebuf *lb = &s->lb;
	struct sink_tuple v;
	const char *comm;
	uint32_t pid;

	sink_tuple_of(t, &v);
	sink_transition_owner(t, &v, &pid, &comm);
	linebuf__lit(lb, "{\"type\":\"transition\"");
	lb_head(s, t->ts_ns);
	/* 0: a transition of no flow (a listener's own) */
	linebuf__lit(lb, ",\"id\":");
	linebuf__u64(lb, flow ? flow->id : 0);
	linebuf__lit(lb, ",\"cookie\":");
	linebuf__u64(lb, flow && flow->cookie ? flow->cookie :
			 v.flags & TT_F_COOKIE ? v.cookie : 0);
	lb_tuple(lb, v.netns, v.family, v.saddr, v.sport, v.daddr, v.dport);
	lb_ident(lb, sink_cgname(s, v.cgroup ? v.cgroup : flow ? flow->cgroup : 0, pid));
	linebuf__lit(lb, ",\"old\":\"");
	linebuf__str(lb, tt_state_name(t->old_state));
	linebuf__lit(lb, "\",\"new\":\"");
	linebuf__str(lb, tt_state_name(t->new_state));
	linebuf__lit(lb, "\",\"pid\":");
	linebuf__u64(lb, pid);
	linebuf__lit(lb, ",\"comm\":");
	linebuf__json_str(lb, comm, 16);
	linebuf__lit(lb, ",\"task_pid\":");
	linebuf__u64(lb, v.tgid);
	linebuf__lit(lb, ",\"task_comm\":");
	linebuf__json_str(lb, v.task_comm, 16);
	linebuf__lit(lb, ",\"in_owner_context\":");
	linebuf__bool(lb, v.flags & TT_F_OWNER);
	lb_end_line(lb);
}

struct lctx {
	struct tt_sink *s;
	bool first;
};

/* Listeners that turned connections away in this interval. */
static void json_listener(const struct tt_listener_stats *ls, void *ctx)
{
	struct lctx *c = ctx;
	struct linebuf *lb = &c->s->lb;

	if (!ls->i_accept_overflows && !ls->i_syn_drops && !ls->i_syn_cookies)
		return;
	linebuf__printf(lb, "%s{\"netns\":%u,\"family\":\"%s\"", c->first ? "" : ",", ls->netns,
		family_name(ls->family));
	json_addr(lb, "saddr", ls->family, ls->addr);
	linebuf__printf(lb, ",\"sport\":%u,\"pid\":%u,\"comm\":", ls->port, ls->owner_pid);
	linebuf__json_str(lb, ls->owner_comm, sizeof(ls->owner_comm));
	linebuf__printf(lb, ",\"max_backlog\":%u,\"accept_overflows\":%" PRIu64 ",\"syn_drops\":%" PRIu64
		",\"syn_cookies\":%" PRIu64 "}", ls->max_backlog, ls->i_accept_overflows,
		ls->i_syn_drops, ls->i_syn_cookies);
	c->first = false;
}


static void json_summary(struct tt_sink *s, const struct tt_summary *sum)
{
	const struct tt_engine_stats *iv = sum->interval, *tot = sum->total;
	struct linebuf *lb = &s->lb;
	bool first = true;
	char iso[ISO_MAX];

	sink_iso_time(s, (int64_t)sum->t_ns + s->o.wall_offset_ns, iso);
	linebuf__printf(lb, "{\"type\":\"summary\",\"version\":%d,\"t_ns\":%" PRIu64 ",\"time\":\"%s\""
		",\"interval_ns\":%" PRIu64 ",\"final\":%s,\"flows_opened\":%" PRIu64
		",\"flows_closed\":%" PRIu64 ",\"flows_active\":%zu,\"refused\":%" PRIu64
		",\"resets\":%" PRIu64 ",\"time_wait\":%" PRIu64 ",\"lost\":%" PRIu64
		",\"lost_interval\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"evicted_interval\":%" PRIu64
		",\"invalid\":%" PRIu64 ",\"accept_overflows\":%" PRIu64 ",\"syn_drops\":%" PRIu64
		",\"syn_cookies\":%" PRIu64 ",\"policy_cookies\":%" PRIu64
		",\"synack_retrans\":%" PRIu64 ",\"inferred\":%" PRIu64 ",\"transitions\":{",
		TT_JSON_VERSION, sum->t_ns, iso, sum->interval_ns, sum->final ? "true" : "false",
		iv->flows_opened, iv->flows_closed, tot->active, iv->refused, iv->resets,
		iv->time_wait, sum->lost_total, sum->lost_interval, tot->evicted, iv->evicted,
		sum->invalid, iv->accept_overflows, iv->syn_drops, iv->syn_cookies,
		iv->policy_cookies, iv->synack_retrans, iv->inferred);
	for (int o = 0; o < TT_STATE_MAX; o++) {
		for (int n = 0; n < TT_STATE_MAX; n++) {
			if (!iv->transitions[o][n])
				continue;
			linebuf__printf(lb, "%s\"%s>%s\":%" PRIu64, first ? "" : ",", tt_state_name(o),
				tt_state_name(n), iv->transitions[o][n]);
			first = false;
		}
	}
	linebuf__str(lb, "},\"listeners\":[");
	if (sum->eng) {
		struct lctx c = { .s = s, .first = true };

		engine__for_each_listener_stats(sum->eng, json_listener, &c);
	}
	linebuf__str(lb, "]}\n");
	linebuf__flush(lb);
}

void json_overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener)
{
	static const char none[16];
	const char *queue = e->aux[0] == TT_Q_SYN ? "syn" : "accept";
	const char *comm = listener ? listener->owner_comm : none;
	uint32_t pid = listener ? listener->owner_pid : 0;
	bool cookie = e->flags & TT_F_SYNCOOKIE;
	/* net.ipv4.tcp_syncookies=2: a cookie for every SYN, no queue full */
	bool policy = e->aux[0] == TT_Q_SYN && (e->flags & TT_F_COOKIE_POLICY);
	struct linebuf *lb = &s->lb;

	if (policy) {
		linebuf__lit(lb, "{\"type\":\"syncookie\"");
		lb_head(s, e->ts_ns);
		linebuf__lit(lb, ",\"reason\":\"policy\"");
	} else {
		linebuf__lit(lb, "{\"type\":\"overflow\"");
		lb_head(s, e->ts_ns);
		linebuf__lit(lb, ",\"queue\":\"");
		linebuf__str(lb, queue);
		linebuf__char(lb, '"');
	}
	lb_tuple(lb, e->netns, e->family, e->saddr, e->sport, e->daddr, e->dport);
	lb_ident(lb, sink_cgname(s, e->cgroup, pid));
	linebuf__lit(lb, ",\"max_backlog\":");
	linebuf__u64(lb, e->aux[1]);
	linebuf__lit(lb, ",\"accept_queue\":");
	linebuf__u64(lb, e->aux[2]);
	linebuf__lit(lb, ",\"syn_queue\":");
	linebuf__u64(lb, e->aux[3]);
	if (!policy) {
		linebuf__lit(lb, ",\"syncookie\":");
		linebuf__bool(lb, cookie);
	}
	linebuf__lit(lb, ",\"pid\":");
	linebuf__u64(lb, pid);
	linebuf__lit(lb, ",\"comm\":");
	linebuf__json_str(lb, comm, 16);
	lb_end_line(lb);
}

static void json_close_wait(void *priv, const struct tt_cw_report *rep)
{
	struct tt_sink *s = priv;
	const struct tt_cw_group *g = rep->g;
	uint64_t t_ns = rep->t_ns, min_age_ns = rep->min_age_ns;
	struct linebuf *lb = &s->lb;
	char iso[ISO_MAX];

	sink_iso_time(s, (int64_t)t_ns + s->o.wall_offset_ns, iso);
	for (size_t i = 0; i < rep->n; i++, g++) {
	linebuf__printf(lb, "{\"type\":\"close_wait\",\"version\":%d,\"t_ns\":%" PRIu64
		",\"time\":\"%s\",\"pid\":%u,\"comm\":", TT_JSON_VERSION, t_ns, iso, g->pid);
	linebuf__json_str(lb, g->comm, sizeof(g->comm));
	linebuf__str(lb, ",\"cmdline\":");
	linebuf__json_str(lb, g->cmdline, sizeof(g->cmdline));
	linebuf__printf(lb, ",\"netns\":%u", g->netns);
	json_ident(lb, g->cgroup, g->container, g->pod);
	linebuf__printf(lb, ",\"family\":\"%s\",\"service\":\"%s\"",
		family_name(g->family), g->kind == TT_SVC_LOCAL ? "local" : "remote");
	if (g->kind == TT_SVC_LOCAL)
		linebuf__str(lb, ",\"service_addr\":null");
	else
		json_addr(lb, "service_addr", g->family, g->addr);
	linebuf__printf(lb, ",\"service_port\":%u,\"count\":%u,\"seeded\":%u,\"oldest_age_ns\":%"
		PRIu64 ",\"min_age_ns\":%" PRIu64 ",\"trend\":\"%s\",\"previous_count\":%u}\n",
		g->port, g->count, g->seeded, g->oldest_age_ns, min_age_ns,
		tt_trend_name(g->trend), g->prev_count);
	linebuf__flush(lb);
}
}

static void json_time_wait(void *priv, const struct tw_report *r)
{
	struct tt_sink *s = priv;
	struct linebuf *lb = &s->lb;
	double per_s = r->interval_ns ? r->entries * 1e9 / (double)r->interval_ns : 0;
	char iso[ISO_MAX];

	sink_iso_time(s, (int64_t)r->t_ns + s->o.wall_offset_ns, iso);
	linebuf__printf(lb, "{\"type\":\"time_wait\",\"version\":%d,\"t_ns\":%" PRIu64 ",\"time\":\"%s\""
		",\"interval_ns\":%" PRIu64 ",\"entries\":%" PRIu64 ",\"entries_per_s\":%.3f"
		",\"population\":%" PRId64 ",\"population_source\":\"%s\",\"closer\":\"%s\""
		",\"by_client\":%" PRIu64 ",\"by_server\":%" PRIu64 ",\"port_range\":[%u,%u]"
		",\"tw_reuse_sysctl\":%d,\"top_remote\":[", TT_JSON_VERSION, r->t_ns, iso,
		r->interval_ns, r->entries, per_s, r->population,
		r->estimated ? "estimate_60s" : "sock_diag", sink_closer(r), r->by_client, r->by_server,
		r->port_lo, r->port_hi, r->tw_reuse_sysctl);
	for (size_t i = 0; i < r->n_remote; i++) {
		linebuf__str(lb, i ? ",{" : "{");
		linebuf__printf(lb, "\"family\":\"%s\"", family_name(r->remote[i].family));
		json_addr(lb, "addr", r->remote[i].family, r->remote[i].addr);
		linebuf__printf(lb, ",\"port\":%u,\"count\":%" PRIu64 "}", r->remote[i].port, r->remote[i].count);
	}
	linebuf__str(lb, "],\"top_local\":[");
	for (size_t i = 0; i < r->n_local; i++) {
		linebuf__str(lb, i ? ",{" : "{");
		linebuf__printf(lb, "\"family\":\"%s\"", family_name(r->local[i].family));
		json_addr(lb, "addr", r->local[i].family, r->local[i].addr);
		linebuf__printf(lb, ",\"count\":%" PRIu64 "}", r->local[i].count);
	}
	linebuf__str(lb, "],\"top_containers\":[");
	for (size_t i = 0; i < r->n_containers; i++) {
		const struct tw_container *c = &r->containers[i];

		linebuf__str(lb, i ? ",{" : "{");
		linebuf__printf(lb, "\"container\":\"%s\"", c->container);
		if (c->pod)
			linebuf__printf(lb, ",\"pod\":\"%s\"", c->pod);
		linebuf__str(lb, ",\"cgroup\":");
		linebuf__json_str(lb, c->cgroup, strlen(c->cgroup));
		linebuf__printf(lb, ",\"time_wait_60s\":%" PRIu64 "}", c->count);
	}
	linebuf__str(lb, "]");
	if (r->host_wide && !r->estimated) {
		linebuf__printf(lb, ",\"namespaces\":%u,\"by_netns\":[", r->namespaces);
		for (size_t i = 0; i < r->n_netns; i++)
			linebuf__printf(lb, "%s{\"netns\":%u,\"population\":%" PRId64
				",\"port_range\":[%u,%u]}", i ? "," : "", r->by_netns[i].netns,
				r->by_netns[i].population, r->by_netns[i].port_lo, r->by_netns[i].port_hi);
		linebuf__str(lb, "]");
	}
	linebuf__str(lb, ",\"pressure\":[");
	for (size_t i = 0; i < r->n_pressure; i++) {
		const struct tw_pressure *p = &r->pressure[i];

		linebuf__str(lb, i ? ",{" : "{");
		linebuf__printf(lb, "\"netns\":%u,\"family\":\"%s\"", p->netns, family_name(p->family));
		json_addr(lb, "addr", p->family, p->addr);
		linebuf__printf(lb, ",\"port\":%u,\"time_wait\":%" PRIu64 ",\"in_use\":%" PRIu64
			",\"range\":%u,\"share_pct\":%.2f,\"tw_reuse\":%s,\"warn\":%s}", p->port,
			p->time_wait, p->in_use, p->range, p->share_pct, p->tw_reuse ? "true" : "false",
			p->warn ? "true" : "false");
	}
	linebuf__str(lb, "]}\n");
	linebuf__flush(lb);
}

static void json_flow_op(void *priv, const struct tt_flow *f)
{
	struct tt_sink *s = priv;

	if (f->nstates && !s->o.no_flows)
		json_flow(s, f);
}

static void json_transition_op(void *priv, const struct tt_transition *t)
{
	json_transition(priv, t);
}

/* JSON tells every overflow; a policy cookie (tcp_syncookies=2) only with -e */
static void json_overflow_op(void *priv, const struct tt_event *e, const struct tt_flow *listener)
{
	struct tt_sink *s = priv;

	if (s->o.events || !(e->flags & TT_F_COOKIE_POLICY))
		json_overflow(s, e, listener);
}

static void json_summary_op(void *priv, const struct tt_summary *sum)
{
	json_summary(priv, sum);
}

static void json_free(void *priv)
{
	sink__free(priv);
}

const struct tt_sink_ops tt_sink_json_ops = {
	.name = "json",
	.flow_end = json_flow_op,
	.transition = json_transition_op,
	.overflow = json_overflow_op,
	.summary = json_summary_op,
	.close_wait = json_close_wait,
	.time_wait = json_time_wait,
	.free = json_free,
};
