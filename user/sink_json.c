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
	/* hex and dashes by construction: a capture's others are refused (ident__valid_names) */
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

/* The ISO time, at most ISO_MAX bytes. */
static char *lbc_iso(struct tt_sink *s, char *p, int64_t wall_ns)
{
	return p + sink_iso_fmt(s, wall_ns, p);
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

/*
 * The per-record lines are built in runs of bounded fields (linebuf.h's
 * linebuf__room()), each run's most below.  A name from a table
 * (state, role, end: lbc_name()) is at most NAME_MAX_LEN bytes.
 */

/* ,"key":"10.0.0.1": at most 6 + a key + TT_ADDR_STRLEN */
#define lbc_addr(p, key, family, addr)				\
	do {							\
		lbc_lit(p, ",\"" key "\":\"");			\
		(p) += tt_addr_str((p), (family), (addr));	\
		*(p)++ = '"';					\
	} while (0)

/* ,"version":1,"t_ns":N,"time":"...": what the per-record lines open with */
#define HEAD_MAX (40 + 2 * TT_UTOA_MAX + ISO_MAX)

static char *lbc_head(struct tt_sink *s, char *p, uint64_t t_ns)
{
	lbc_lit(p, ",\"version\":");
	p = lbc_u64(p, TT_JSON_VERSION);
	lbc_lit(p, ",\"t_ns\":");
	p = lbc_u64(p, t_ns);
	lbc_lit(p, ",\"time\":\"");
	p = lbc_iso(s, p, (int64_t)t_ns + s->o.wall_offset_ns);
	*p++ = '"';
	return p;
}

static void lb_end_line(struct linebuf *lb)
{
	linebuf__lit(lb, "}\n");
	linebuf__flush(lb);
}

/* ,"netns":N,"family":...,"saddr":...,"sport":N,"daddr":...,"dport":N */
#define TUPLE_MAX (100 + 3 * TT_UTOA_MAX + 2 * TT_ADDR_STRLEN)

static char *lbc_tuple(char *p, uint32_t netns, uint8_t family, const uint8_t *saddr,
		       uint16_t sport, const uint8_t *daddr, uint16_t dport)
{
	lbc_lit(p, ",\"netns\":");
	p = lbc_u64(p, netns);
	if (family == TT_AF_INET6)
		lbc_lit(p, ",\"family\":\"ipv6\"");
	else
		lbc_lit(p, ",\"family\":\"ipv4\"");
	lbc_addr(p, "saddr", family, saddr);
	lbc_lit(p, ",\"sport\":");
	p = lbc_u64(p, sport);
	lbc_addr(p, "daddr", family, daddr);
	lbc_lit(p, ",\"dport\":");
	p = lbc_u64(p, dport);
	return p;
}

/*
 * A flow's record is written when it ends: t_ns and time are that moment
 * (its last state's), as every record's are the moment it tells of; start
 * and start_ns are its first state's.  include/tcptrail.schema.json.
 */
/* The run before the cgroup: {"type":"flow", the head, id .. start, the tuple */
#define FLOW_A_MAX (80 + HEAD_MAX + 3 * TT_UTOA_MAX + ISO_MAX + TUPLE_MAX)
/* role .. truncated */
#define FLOW_B_MAX (160 + NAME_MAX_LEN + 2 * TT_UTOA_MAX + 2 * LBC_JSON_STR_MAX(16))
/* a state of "states" */
#define FLOW_STATE_MAX (24 + NAME_MAX_LEN + TT_UTOA_MAX)
/* end .. srtt_us, and the line's end */
#define FLOW_C_MAX (200 + 2 * NAME_MAX_LEN + 11 * TT_UTOA_MAX + 12 + TT_ERRNO_NAME_MAX)

void json_flow(struct tt_sink *s, const struct tt_flow *f)
{
	struct linebuf *lb = &s->lb;
	uint64_t end_ns = f->ts_ns[f->nstates - 1];
	char *p = linebuf__room(lb, FLOW_A_MAX);

	lbc_lit(p, "{\"type\":\"flow\"");
	p = lbc_head(s, p, end_ns);
	lbc_lit(p, ",\"id\":");
	p = lbc_u64(p, f->id);
	lbc_lit(p, ",\"cookie\":");
	p = lbc_u64(p, f->cookie);
	lbc_lit(p, ",\"start_ns\":");
	p = lbc_u64(p, f->ts_ns[0]);
	lbc_lit(p, ",\"start\":\"");
	p = lbc_iso(s, p, (int64_t)f->ts_ns[0] + s->o.wall_offset_ns);
	*p++ = '"';
	p = lbc_tuple(p, f->netns, f->family, f->saddr, f->sport, f->daddr, f->dport);
	linebuf__commit(lb, p);
	lb_ident(lb, sink_cgname(s, f->cgroup, f->owner_pid));

	p = linebuf__room(lb, FLOW_B_MAX);
	lbc_lit(p, ",\"role\":\"");
	p = lbc_name(p, sink_role_names, f->role);
	lbc_lit(p, "\",\"pid\":");
	p = lbc_u64(p, f->owner_pid);
	lbc_lit(p, ",\"comm\":");
	p = lbc_json_str(p, f->owner_comm, tt_comm_len(f->owner_comm));
	lbc_lit(p, ",\"owner_known\":");
	p = lbc_bool(p, f->flags & TT_FLOW_OWNER_KNOWN);
	lbc_lit(p, ",\"closer_pid\":");
	p = lbc_u64(p, f->closer_pid);
	lbc_lit(p, ",\"closer_comm\":");
	p = lbc_json_str(p, f->closer_comm, tt_comm_len(f->closer_comm));
	lbc_lit(p, ",\"seeded\":");
	p = lbc_bool(p, f->flags & TT_FLOW_SEEDED);
	lbc_lit(p, ",\"partial\":");
	p = lbc_bool(p, f->flags & TT_FLOW_PARTIAL);
	lbc_lit(p, ",\"truncated\":");
	p = lbc_bool(p, f->flags & TT_FLOW_TRUNCATED);
	lbc_lit(p, ",\"states\":[");
	linebuf__commit(lb, p);
	for (int i = 0; i < f->nstates; i++) {
		p = linebuf__room(lb, FLOW_STATE_MAX);
		if (i)
			*p++ = ',';
		lbc_lit(p, "{\"state\":\"");
		p = lbc_name(p, sink_state_names, f->state[i]);
		lbc_lit(p, "\",\"t_ns\":");
		p = lbc_u64(p, f->ts_ns[i] - f->ts_ns[0]);
		*p++ = '}';
		linebuf__commit(lb, p);
	}

	p = linebuf__room(lb, FLOW_C_MAX);
	lbc_lit(p, "],\"end\":\"");
	p = lbc_name(p, sink_end_names, f->end);
	*p++ = '"';
	if (f->end == TT_END_TIME_WAIT && f->tw_substate) {
		lbc_lit(p, ",\"tw_substate\":\"");
		p = lbc_name(p, sink_state_names, f->tw_substate);
		*p++ = '"';
	}
	/* the error the application got: absent, not null, for an end with none */
	if (f->sk_err) {
		char name[TT_ERRNO_NAME_MAX];

		lbc_lit(p, ",\"error\":\"");
		p = lbc_str(p, tt_errno_name(f->sk_err, name));
		*p++ = '"';
	}
	lbc_lit(p, ",\"synack_retrans\":");
	p = lbc_u64(p, f->synack_retrans);
	lbc_lit(p, ",\"resets_sent\":");
	p = lbc_u64(p, f->resets_sent);
	lbc_lit(p, ",\"resets_recv\":");
	p = lbc_u64(p, f->resets_recv);
	lbc_lit(p, ",\"duration_ns\":");
	p = lbc_u64(p, f->ts_ns[f->nstates - 1] - f->ts_ns[0]);
	if (f->inferred) {
		lbc_lit(p, ",\"inferred\":");
		p = lbc_u64(p, f->inferred);
	}
	/*
	 * Only what the kernel read from tcp_sock at the end: absent, not 0,
	 * for a flow with none (the per-transition stream, a flow whose last
	 * record was never read), so 0 bytes always means no payload.
	 */
	if (f->flags & TT_FLOW_STATS) {
		lbc_lit(p, ",\"bytes_sent\":");
		p = lbc_u64(p, f->bytes_sent);
		lbc_lit(p, ",\"bytes_received\":");
		p = lbc_u64(p, f->bytes_received);
		lbc_lit(p, ",\"segs_out\":");
		p = lbc_u64(p, f->segs_out);
		lbc_lit(p, ",\"segs_in\":");
		p = lbc_u64(p, f->segs_in);
		lbc_lit(p, ",\"retransmits\":");
		p = lbc_u64(p, f->retransmits);
		lbc_lit(p, ",\"srtt_us\":");
		p = lbc_u64(p, f->srtt_us);
	}
	linebuf__commit(lb, p);
	lb_end_line(lb);
}

/* {"type":"transition", the head, id, cookie, the tuple */
#define TRANSITION_A_MAX (60 + HEAD_MAX + 2 * TT_UTOA_MAX + TUPLE_MAX)
/* old .. in_owner_context */
#define TRANSITION_B_MAX (120 + 2 * NAME_MAX_LEN + 2 * TT_UTOA_MAX + 2 * LBC_JSON_STR_MAX(16))

void json_transition(struct tt_sink *s, const struct tt_transition *t)
{
	const struct tt_flow *flow = t->flow;
	struct linebuf *lb = &s->lb;
	struct sink_tuple v;
	const char *comm;
	uint32_t pid;
	char *p;

	sink_tuple_of(t, &v);
	sink_transition_owner(t, &v, &pid, &comm);
	p = linebuf__room(lb, TRANSITION_A_MAX);
	lbc_lit(p, "{\"type\":\"transition\"");
	p = lbc_head(s, p, t->ts_ns);
	/* 0: a transition of no flow (a listener's own) */
	lbc_lit(p, ",\"id\":");
	p = lbc_u64(p, flow ? flow->id : 0);
	lbc_lit(p, ",\"cookie\":");
	p = lbc_u64(p, flow && flow->cookie ? flow->cookie : v.flags & TT_F_COOKIE ? v.cookie : 0);
	p = lbc_tuple(p, v.netns, v.family, v.saddr, v.sport, v.daddr, v.dport);
	linebuf__commit(lb, p);
	lb_ident(lb, sink_cgname(s, v.cgroup ? v.cgroup : flow ? flow->cgroup : 0, pid));

	p = linebuf__room(lb, TRANSITION_B_MAX);
	lbc_lit(p, ",\"old\":\"");
	p = lbc_name(p, sink_state_names, t->old_state);
	lbc_lit(p, "\",\"new\":\"");
	p = lbc_name(p, sink_state_names, t->new_state);
	lbc_lit(p, "\",\"pid\":");
	p = lbc_u64(p, pid);
	lbc_lit(p, ",\"comm\":");
	p = lbc_json_str(p, comm, tt_comm_len(comm));
	lbc_lit(p, ",\"task_pid\":");
	p = lbc_u64(p, v.tgid);
	lbc_lit(p, ",\"task_comm\":");
	p = lbc_json_str(p, v.task_comm, tt_comm_len(v.task_comm));
	lbc_lit(p, ",\"in_owner_context\":");
	p = lbc_bool(p, v.flags & TT_F_OWNER);
	linebuf__commit(lb, p);
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
	linebuf__json_str(lb, ls->owner_comm, tt_comm_len(ls->owner_comm));
	/* named as its overflow records and listener_overflow lines are */
	lb_ident(lb, ls->cgroup || ls->owner_pid ?
		     sink_cgname(c->s, ls->cgroup, ls->owner_pid) : NULL);
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
		",\"flows_closed\":%" PRIu64 ",\"flows_active\":%zu,\"flows_peak\":%zu,\"refused\":%" PRIu64
		",\"resets\":%" PRIu64 ",\"time_wait\":%" PRIu64 ",\"lost\":%" PRIu64
		",\"lost_interval\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"evicted_interval\":%" PRIu64
		",\"gone\":%" PRIu64 ",\"gone_interval\":%" PRIu64
		",\"invalid\":%" PRIu64 ",\"accept_overflows\":%" PRIu64 ",\"syn_drops\":%" PRIu64
		",\"syn_cookies\":%" PRIu64 ",\"policy_cookies\":%" PRIu64
		",\"synack_retrans\":%" PRIu64 ",\"inferred\":%" PRIu64 ",\"transitions\":{",
		TT_JSON_VERSION, sum->t_ns, iso, sum->interval_ns, sum->final ? "true" : "false",
		iv->flows_opened, iv->flows_closed, tot->active, tot->peak, iv->refused, iv->resets,
		iv->time_wait, sum->lost_total, sum->lost_interval, tot->evicted, iv->evicted,
		tot->gone, iv->gone, sum->invalid, iv->accept_overflows, iv->syn_drops, iv->syn_cookies,
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
	/* every way a flow ended this interval, 0s too: they sum to flows_closed */
	linebuf__str(lb, "},\"ends\":{");
	for (int e = TT_END_NONE + 1; e < TT_END_MAX; e++)
		linebuf__printf(lb, "%s\"%s\":%" PRIu64, e == TT_END_NONE + 1 ? "" : ",",
				tt_end_name(e), iv->ends[e]);
	linebuf__str(lb, "},\"listeners\":[");
	if (sum->eng) {
		struct lctx c = { .s = s, .first = true };

		engine__for_each_listener_stats(sum->eng, json_listener, &c);
	}
	linebuf__str(lb, "]}\n");
	linebuf__flush(lb);
}

/* {"type":"overflow" or "syncookie", the head, the queue or reason, the tuple */
#define OVERFLOW_A_MAX (60 + HEAD_MAX + NAME_MAX_LEN + TUPLE_MAX)

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
	char *p;

	p = linebuf__room(lb, OVERFLOW_A_MAX);
	if (policy) {
		lbc_lit(p, "{\"type\":\"syncookie\"");
		p = lbc_head(s, p, e->ts_ns);
		lbc_lit(p, ",\"reason\":\"policy\"");
	} else {
		lbc_lit(p, "{\"type\":\"overflow\"");
		p = lbc_head(s, p, e->ts_ns);
		lbc_lit(p, ",\"queue\":\"");
		p = lbc_str(p, queue);
		*p++ = '"';
	}
	p = lbc_tuple(p, e->netns, e->family, e->saddr, e->sport, e->daddr, e->dport);
	linebuf__commit(lb, p);
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
	linebuf__json_str(lb, comm, tt_comm_len(comm));
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
		linebuf__json_str(lb, g->comm, tt_comm_len(g->comm));
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
		linebuf__printf(lb, ",\"service_port\":%u,\"count\":%u,\"seeded\":%u,"
			"\"unaccepted\":%u,\"oldest_age_ns\":%" PRIu64 ",\"min_age_ns\":%" PRIu64
			",\"trend\":\"%s\",\"previous_count\":%u}\n", g->port, g->count, g->seeded,
			g->unaccepted, g->oldest_age_ns, min_age_ns, tt_trend_name(g->trend),
			g->prev_count);
		linebuf__flush(lb);
	}
	if (rep->rest_groups) {
		linebuf__printf(lb, "{\"type\":\"close_wait_not_shown\",\"version\":%d,\"t_ns\":%"
			PRIu64 ",\"time\":\"%s\",\"groups\":%zu,\"count\":%" PRIu64 ",\"shown\":%zu,"
			"\"min_age_ns\":%" PRIu64 "}\n", TT_JSON_VERSION, t_ns, iso, rep->rest_groups,
			rep->rest_count, rep->shown, min_age_ns);
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
	if (r->netns)
		linebuf__printf(lb, ",\"netns\":%u", r->netns);
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
	.clock = sink__clock_op,
	.free = json_free,
};
