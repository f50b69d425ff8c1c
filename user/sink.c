// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "sink.h"
#include "util.h"

struct tt_sink {
	struct tt_sink_opts o;
};

#define C_RESET  "\033[0m"
#define C_DIM    "\033[2m"
#define C_RED    "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN  "\033[32m"

struct tt_sink *sink__new(const struct tt_sink_opts *opts)
{
	struct tt_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->o = *opts;
	if (!s->o.out)
		s->o.out = stdout;
	return s;
}

void sink__free(struct tt_sink *s)
{
	free(s);
}

static const char *color(const struct tt_sink *s, const char *c)
{
	return s->o.color ? c : "";
}

static const char *state_color(const struct tt_sink *s, unsigned int state)
{
	if (!s->o.color)
		return "";
	switch (state) {
	case TT_ESTABLISHED: return C_GREEN;
	case TT_CLOSE_WAIT: return C_YELLOW;
	default: return "";
	}
}

static bool end_is_trouble(unsigned int end)
{
	return end == TT_END_RESET || end == TT_END_ABORT || end == TT_END_REFUSED ||
	       end == TT_END_TIMEOUT || end == TT_END_ERROR || end == TT_END_EVICTED ||
	       end == TT_END_SUPERSEDED;
}

static void iso_time(int64_t wall_ns, char *buf, size_t len)
{
	time_t t = wall_ns / 1000000000;
	struct tm tm;

	if (wall_ns < 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(wall_ns / 1000 % 1000000));
}

static const char *family_name(uint8_t family)
{
	return family == TT_AF_INET6 ? "ipv6" : "ipv4";
}

static char role_arrow(uint8_t role)
{
	switch (role) {
	case TT_ROLE_ACTIVE: return '>';
	case TT_ROLE_PASSIVE: return '<';
	case TT_ROLE_LISTENER: return 'L';
	}
	return '-';
}

/* "pid 4242 curl" column shared by flows and transitions. */
static void human_head(struct tt_sink *s, uint64_t t_ns, uint32_t pid, const char *comm,
		       uint8_t family, const uint8_t *saddr, uint16_t sport,
		       const uint8_t *daddr, uint16_t dport, char arrow)
{
	char clock[32], local[64], remote[64], c[17];

	tt_fmt_clock((int64_t)t_ns + s->o.wall_offset_ns, clock, sizeof(clock));
	tt_fmt_endpoint(family, saddr, sport, local, sizeof(local));
	tt_fmt_endpoint(family, daddr, dport, remote, sizeof(remote));
	/* a comm may hold anything; keep the line one line */
	for (int i = 0; i < 16; i++)
		c[i] = comm[i] && (unsigned char)comm[i] >= 0x20 && comm[i] != 0x7f ? comm[i] :
		       comm[i] ? '?' : '\0';
	c[16] = '\0';
	if (!c[0])
		strcpy(c, "-");
	if (pid)
		fprintf(s->o.out, "%s %7u %-15s %-22s %c %-22s", clock, pid, c, local, arrow, remote);
	else
		fprintf(s->o.out, "%s %7s %-15s %-22s %c %-22s", clock, "-", c, local, arrow, remote);
}

static void human_flow(struct tt_sink *s, const struct tt_flow *f)
{
	char dur[32];

	human_head(s, f->ts_ns[0], f->owner_pid, f->owner_comm, f->family, f->saddr,
		   f->sport, f->daddr, f->dport, role_arrow(f->role));
	if (f->flags & TT_FLOW_PARTIAL)
		fputs(" ...", s->o.out);
	for (int i = 0; i < f->nstates; i++) {
		bool last = i == f->nstates - 1;

		if (last)
			fputs(" >", s->o.out);
		fprintf(s->o.out, " %s%s%s", state_color(s, f->state[i]), tt_state_name(f->state[i]),
			color(s, C_RESET));
		if (!last) {
			tt_fmt_duration(f->ts_ns[i + 1] - f->ts_ns[i], dur, sizeof(dur));
			fprintf(s->o.out, " %s%s%s", color(s, C_DIM), dur, color(s, C_RESET));
		}
	}
	if (end_is_trouble(f->end))
		fprintf(s->o.out, " %s(%s)%s", color(s, C_RED), tt_end_name(f->end), color(s, C_RESET));
	if (f->tw_substate == TT_FIN_WAIT2)
		fputs(" (orphan FIN_WAIT2)", s->o.out);
	tt_fmt_duration(f->ts_ns[f->nstates - 1] - f->ts_ns[0], dur, sizeof(dur));
	fprintf(s->o.out, "  total %s", dur);
	if (f->synack_retrans)
		fprintf(s->o.out, "  synack_retrans=%u", f->synack_retrans);
	if (f->flags & TT_FLOW_SEEDED)
		fputs("  [seeded]", s->o.out);
	if (f->flags & TT_FLOW_TRUNCATED)
		fputs("  [truncated]", s->o.out);
	fputc('\n', s->o.out);
}

static void json_addr(FILE *out, const char *key, uint8_t family, const uint8_t *addr)
{
	char a[64];

	tt_fmt_addr(family, addr, a, sizeof(a));
	fprintf(out, ",\"%s\":\"%s\"", key, a);
}

static void json_flow(struct tt_sink *s, const struct tt_flow *f)
{
	FILE *out = s->o.out;
	char iso[64];

	iso_time((int64_t)f->ts_ns[0] + s->o.wall_offset_ns, iso, sizeof(iso));
	fprintf(out, "{\"type\":\"flow\",\"version\":%d,\"id\":%" PRIu64 ",\"t_ns\":%" PRIu64
		",\"start\":\"%s\",\"netns\":%u,\"family\":\"%s\"",
		TT_JSON_VERSION, f->id, f->ts_ns[0], iso, f->netns, family_name(f->family));
	json_addr(out, "saddr", f->family, f->saddr);
	fprintf(out, ",\"sport\":%u", f->sport);
	json_addr(out, "daddr", f->family, f->daddr);
	fprintf(out, ",\"dport\":%u,\"role\":\"%s\",\"pid\":%u,\"comm\":", f->dport,
		tt_role_name(f->role), f->owner_pid);
	json_str(out, f->owner_comm, sizeof(f->owner_comm));
	fprintf(out, ",\"owner_known\":%s,\"closer_pid\":%u,\"closer_comm\":",
		f->flags & TT_FLOW_OWNER_KNOWN ? "true" : "false", f->closer_pid);
	json_str(out, f->closer_comm, sizeof(f->closer_comm));
	fprintf(out, ",\"seeded\":%s,\"partial\":%s,\"truncated\":%s,\"states\":[",
		f->flags & TT_FLOW_SEEDED ? "true" : "false",
		f->flags & TT_FLOW_PARTIAL ? "true" : "false",
		f->flags & TT_FLOW_TRUNCATED ? "true" : "false");
	for (int i = 0; i < f->nstates; i++)
		fprintf(out, "%s{\"state\":\"%s\",\"t_ns\":%" PRIu64 "}", i ? "," : "",
			tt_state_name(f->state[i]), f->ts_ns[i] - f->ts_ns[0]);
	fprintf(out, "],\"end\":\"%s\"", tt_end_name(f->end));
	if (f->end == TT_END_TIME_WAIT && f->tw_substate)
		fprintf(out, ",\"tw_substate\":\"%s\"", tt_state_name(f->tw_substate));
	fprintf(out, ",\"synack_retrans\":%u,\"resets_sent\":%u,\"resets_recv\":%u"
		",\"duration_ns\":%" PRIu64 "}\n", f->synack_retrans, f->resets_sent,
		f->resets_recv, f->ts_ns[f->nstates - 1] - f->ts_ns[0]);
}

void sink__flow(struct tt_sink *s, const struct tt_flow *f)
{
	if (!f->nstates)
		return;
	if (s->o.json)
		json_flow(s, f);
	else
		human_flow(s, f);
}

/* Who to name for a transition: the flow's owner, else a task acting on it. */
static void transition_owner(const struct tt_event *e, const struct tt_flow *flow,
			     uint32_t *pid, const char **comm)
{
	static const char none[16];

	if (flow && flow->owner_pid) {
		*pid = flow->owner_pid;
		*comm = flow->owner_comm;
	} else if (e->flags & TT_F_OWNER) {
		*pid = e->tgid;
		*comm = e->comm;
	} else {
		*pid = 0;
		*comm = none;
	}
}

void sink__transition(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *flow)
{
	FILE *out = s->o.out;
	const char *comm;
	uint32_t pid;
	char iso[64];

	transition_owner(e, flow, &pid, &comm);
	if (!s->o.json) {
		uint8_t role = flow ? flow->role :
			       e->old_state == TT_CLOSE && e->new_state == TT_SYN_SENT ? TT_ROLE_ACTIVE :
			       e->old_state == TT_LISTEN ? TT_ROLE_PASSIVE : TT_ROLE_UNKNOWN;

		human_head(s, e->ts_ns, pid, comm, e->family, e->saddr, e->sport, e->daddr,
			   e->dport, role_arrow(role));
		fprintf(out, " %s -> %s%s%s\n", tt_state_name(e->old_state),
			state_color(s, e->new_state), tt_state_name(e->new_state), color(s, C_RESET));
		return;
	}
	iso_time((int64_t)e->ts_ns + s->o.wall_offset_ns, iso, sizeof(iso));
	fprintf(out, "{\"type\":\"transition\",\"version\":%d,\"t_ns\":%" PRIu64
		",\"time\":\"%s\",\"id\":%" PRIu64 ",\"netns\":%u,\"family\":\"%s\"",
		TT_JSON_VERSION, (uint64_t)e->ts_ns, iso, flow ? flow->id : (uint64_t)e->cookie, e->netns,
		family_name(e->family));
	json_addr(out, "saddr", e->family, e->saddr);
	fprintf(out, ",\"sport\":%u", e->sport);
	json_addr(out, "daddr", e->family, e->daddr);
	fprintf(out, ",\"dport\":%u,\"old\":\"%s\",\"new\":\"%s\",\"pid\":%u,\"comm\":",
		e->dport, tt_state_name(e->old_state), tt_state_name(e->new_state), pid);
	json_str(out, comm, 16);
	fprintf(out, ",\"task_pid\":%u,\"task_comm\":", e->tgid);
	json_str(out, e->comm, sizeof(e->comm));
	fprintf(out, ",\"in_owner_context\":%s}\n", e->flags & TT_F_OWNER ? "true" : "false");
}

struct lctx {
	struct tt_sink *s;
	bool first;
};

/* Listeners that turned connections away in this interval. */
static void json_listener(const struct tt_listener_stats *ls, void *ctx)
{
	struct lctx *c = ctx;
	FILE *out = c->s->o.out;

	if (!ls->i_accept_overflows && !ls->i_syn_drops && !ls->i_syn_cookies)
		return;
	fprintf(out, "%s{\"netns\":%u,\"family\":\"%s\"", c->first ? "" : ",", ls->netns,
		family_name(ls->family));
	json_addr(out, "saddr", ls->family, ls->addr);
	fprintf(out, ",\"sport\":%u,\"pid\":%u,\"comm\":", ls->port, ls->owner_pid);
	json_str(out, ls->owner_comm, sizeof(ls->owner_comm));
	fprintf(out, ",\"max_backlog\":%u,\"accept_overflows\":%" PRIu64 ",\"syn_drops\":%" PRIu64
		",\"syn_cookies\":%" PRIu64 "}", ls->max_backlog, ls->i_accept_overflows,
		ls->i_syn_drops, ls->i_syn_cookies);
	c->first = false;
}

static void logfmt_listener(const struct tt_listener_stats *ls, void *ctx)
{
	struct lctx *c = ctx;
	char ep[80];

	if (!ls->i_accept_overflows && !ls->i_syn_drops && !ls->i_syn_cookies)
		return;
	tt_fmt_endpoint(ls->family, ls->addr, ls->port, ep, sizeof(ep));
	fprintf(c->s->o.out, " overflow.%s=%" PRIu64, ep,
		ls->i_accept_overflows + ls->i_syn_drops);
	if (ls->i_syn_cookies)
		fprintf(c->s->o.out, " syncookies.%s=%" PRIu64, ep, ls->i_syn_cookies);
}

static void json_summary(struct tt_sink *s, const struct tt_summary *sum)
{
	const struct tt_engine_stats *iv = sum->interval, *tot = sum->total;
	FILE *out = s->o.out;
	bool first = true;
	char iso[64];

	iso_time((int64_t)sum->t_ns + s->o.wall_offset_ns, iso, sizeof(iso));
	fprintf(out, "{\"type\":\"summary\",\"version\":%d,\"t_ns\":%" PRIu64 ",\"time\":\"%s\""
		",\"interval_ns\":%" PRIu64 ",\"final\":%s,\"flows_opened\":%" PRIu64
		",\"flows_closed\":%" PRIu64 ",\"flows_active\":%zu,\"refused\":%" PRIu64
		",\"resets\":%" PRIu64 ",\"time_wait\":%" PRIu64 ",\"lost\":%" PRIu64
		",\"lost_interval\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"evicted_interval\":%" PRIu64
		",\"invalid\":%" PRIu64 ",\"accept_overflows\":%" PRIu64 ",\"syn_drops\":%" PRIu64
		",\"syn_cookies\":%" PRIu64 ",\"synack_retrans\":%" PRIu64 ",\"transitions\":{",
		TT_JSON_VERSION, sum->t_ns, iso, sum->interval_ns, sum->final ? "true" : "false",
		iv->flows_opened, iv->flows_closed, tot->active, iv->refused, iv->resets,
		iv->time_wait, sum->lost_total, sum->lost_interval, tot->evicted, iv->evicted,
		sum->invalid, iv->accept_overflows, iv->syn_drops, iv->syn_cookies,
		iv->synack_retrans);
	for (int o = 0; o < TT_STATE_MAX; o++) {
		for (int n = 0; n < TT_STATE_MAX; n++) {
			if (!iv->transitions[o][n])
				continue;
			fprintf(out, "%s\"%s>%s\":%" PRIu64, first ? "" : ",", tt_state_name(o),
				tt_state_name(n), iv->transitions[o][n]);
			first = false;
		}
	}
	fputs("},\"listeners\":[", out);
	if (sum->eng) {
		struct lctx c = { .s = s, .first = true };

		engine__for_each_listener_stats(sum->eng, json_listener, &c);
	}
	fputs("]}\n", out);
}

/* logfmt: one line that log shippers parse without a custom pattern. */
static void logfmt_summary(struct tt_sink *s, const struct tt_summary *sum)
{
	const struct tt_engine_stats *iv = sum->interval, *tot = sum->total;
	FILE *out = s->o.out;
	char iso[64], dur[32];

	iso_time((int64_t)sum->t_ns + s->o.wall_offset_ns, iso, sizeof(iso));
	tt_fmt_duration(sum->interval_ns, dur, sizeof(dur));
	fprintf(out, "time=%s level=%s msg=%s interval=%s opened=%" PRIu64 " closed=%" PRIu64
		" active=%zu refused=%" PRIu64 " resets=%" PRIu64 " time_wait=%" PRIu64
		" lost=%" PRIu64 " evicted=%" PRIu64,
		iso, sum->lost_total || tot->evicted ? "warn" : "info",
		sum->final ? "final_summary" : "summary", dur, iv->flows_opened, iv->flows_closed,
		tot->active, iv->refused, iv->resets, iv->time_wait, sum->lost_total, tot->evicted);
	if (sum->invalid)
		fprintf(out, " invalid=%" PRIu64, sum->invalid);
	if (iv->accept_overflows || iv->syn_drops || iv->syn_cookies)
		fprintf(out, " accept_overflows=%" PRIu64 " syn_drops=%" PRIu64 " syn_cookies=%" PRIu64,
			iv->accept_overflows, iv->syn_drops, iv->syn_cookies);
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

void sink__summary(struct tt_sink *s, const struct tt_summary *sum)
{
	if (s->o.json)
		json_summary(s, sum);
	else
		logfmt_summary(s, sum);
}

void sink__overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener)
{
	static const char none[16];
	FILE *out = s->o.out;
	const char *queue = e->aux[0] == TT_Q_SYN ? "syn" : "accept";
	const char *comm = listener ? listener->owner_comm : none;
	uint32_t pid = listener ? listener->owner_pid : 0;
	bool cookie = e->flags & TT_F_SYNCOOKIE;
	char iso[64];

	if (!s->o.json) {
		human_head(s, e->ts_ns, pid, comm, e->family, e->saddr, e->sport, e->daddr,
			   e->dport, 'L');
		fprintf(out, " %s%s queue %s%s  backlog %u/%u  syn_queue %u\n",
			cookie ? "" : color(s, C_RED), queue,
			cookie ? "full: syncookie sent" : "overflow: dropped", color(s, C_RESET),
			e->aux[2], e->aux[1], e->aux[3]);
		return;
	}
	iso_time((int64_t)e->ts_ns + s->o.wall_offset_ns, iso, sizeof(iso));
	fprintf(out, "{\"type\":\"overflow\",\"version\":%d,\"t_ns\":%" PRIu64 ",\"time\":\"%s\""
		",\"queue\":\"%s\",\"netns\":%u,\"family\":\"%s\"",
		TT_JSON_VERSION, (uint64_t)e->ts_ns, iso, queue, e->netns, family_name(e->family));
	json_addr(out, "saddr", e->family, e->saddr);
	fprintf(out, ",\"sport\":%u", e->sport);
	json_addr(out, "daddr", e->family, e->daddr);
	fprintf(out, ",\"dport\":%u,\"max_backlog\":%u,\"accept_queue\":%u,\"syn_queue\":%u"
		",\"syncookie\":%s,\"pid\":%u,\"comm\":", e->dport, e->aux[1], e->aux[2], e->aux[3],
		cookie ? "true" : "false", pid);
	json_str(out, comm, 16);
	fputs("}\n", out);
}

static void service_str(const struct tt_cw_group *g, char *buf, size_t len)
{
	if (g->kind == TT_SVC_LOCAL)
		snprintf(buf, len, "local port %u", g->port);
	else
		tt_fmt_endpoint(g->family, g->addr, g->port, buf, len);
}

void sink__close_wait(struct tt_sink *s, const struct tt_cw_group *g, size_t n, uint64_t t_ns,
		      uint64_t min_age_ns)
{
	FILE *out = s->o.out;
	char iso[64], age[32], svc[80];

	iso_time((int64_t)t_ns + s->o.wall_offset_ns, iso, sizeof(iso));
	for (size_t i = 0; i < n; i++, g++) {
		tt_fmt_duration(g->oldest_age_ns, age, sizeof(age));
		if (!s->o.json) {
			service_str(g, svc, sizeof(svc));
			fprintf(out, "time=%s level=warn msg=close_wait_leak pid=%u comm=", iso, g->pid);
			json_str(out, g->comm, sizeof(g->comm));
			fprintf(out, " service=\"%s\" count=%u oldest=%s trend=%s", svc, g->count, age,
				tt_trend_name(g->trend));
			if (g->seeded)
				fprintf(out, " seeded=%u", g->seeded);
			if (g->cmdline[0]) {
				fputs(" cmdline=", out);
				json_str(out, g->cmdline, sizeof(g->cmdline));
			}
			fputc('\n', out);
			continue;
		}
		fprintf(out, "{\"type\":\"close_wait\",\"version\":%d,\"t_ns\":%" PRIu64
			",\"time\":\"%s\",\"pid\":%u,\"comm\":", TT_JSON_VERSION, t_ns, iso, g->pid);
		json_str(out, g->comm, sizeof(g->comm));
		fputs(",\"cmdline\":", out);
		json_str(out, g->cmdline, sizeof(g->cmdline));
		fprintf(out, ",\"netns\":%u,\"family\":\"%s\",\"service\":\"%s\"", g->netns,
			family_name(g->family), g->kind == TT_SVC_LOCAL ? "local" : "remote");
		if (g->kind == TT_SVC_LOCAL)
			fputs(",\"service_addr\":null", out);
		else
			json_addr(out, "service_addr", g->family, g->addr);
		fprintf(out, ",\"service_port\":%u,\"count\":%u,\"seeded\":%u,\"oldest_age_ns\":%"
			PRIu64 ",\"min_age_ns\":%" PRIu64 ",\"trend\":\"%s\",\"previous_count\":%u}\n",
			g->port, g->count, g->seeded, g->oldest_age_ns, min_age_ns,
			tt_trend_name(g->trend), g->prev_count);
	}
}

static const char *closer(const struct tw_report *r)
{
	if (!r->by_client && !r->by_server)
		return "none";
	if (r->by_server > r->by_client)
		return r->by_client ? "mostly_server" : "server";
	return r->by_server ? "mostly_client" : "client";
}

void sink__time_wait(struct tt_sink *s, const struct tw_report *r)
{
	FILE *out = s->o.out;
	double per_s = r->interval_ns ? r->entries * 1e9 / (double)r->interval_ns : 0;
	char iso[64], ep[80];

	iso_time((int64_t)r->t_ns + s->o.wall_offset_ns, iso, sizeof(iso));
	if (!s->o.json) {
		fprintf(out, "time=%s level=info msg=time_wait entries=%" PRIu64 " entries_per_s=%.1f"
			" population=%" PRId64 "%s closer=%s by_client=%" PRIu64 " by_server=%" PRIu64,
			iso, r->entries, per_s, r->population, r->estimated ? " population_estimated=true" : "",
			closer(r), r->by_client, r->by_server);
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
		fputc('\n', out);
		for (size_t i = 0; i < r->n_pressure; i++) {
			const struct tw_pressure *p = &r->pressure[i];

			if (!p->warn)
				continue;
			tt_fmt_endpoint(p->family, p->addr, p->port, ep, sizeof(ep));
			fprintf(out, "time=%s level=warn msg=port_pressure destination=%s share_pct=%.1f"
				" time_wait=%" PRIu64 " in_use=%" PRIu64 " range=%u tw_reuse=%s\n", iso, ep,
				p->share_pct, p->time_wait, p->in_use, p->range,
				p->tw_reuse ? "applies" : "does_not_apply");
		}
		return;
	}
	fprintf(out, "{\"type\":\"time_wait\",\"version\":%d,\"t_ns\":%" PRIu64 ",\"time\":\"%s\""
		",\"interval_ns\":%" PRIu64 ",\"entries\":%" PRIu64 ",\"entries_per_s\":%.3f"
		",\"population\":%" PRId64 ",\"population_source\":\"%s\",\"closer\":\"%s\""
		",\"by_client\":%" PRIu64 ",\"by_server\":%" PRIu64 ",\"port_range\":[%u,%u]"
		",\"tw_reuse_sysctl\":%d,\"top_remote\":[", TT_JSON_VERSION, r->t_ns, iso,
		r->interval_ns, r->entries, per_s, r->population,
		r->estimated ? "estimate_60s" : "sock_diag", closer(r), r->by_client, r->by_server,
		r->port_lo, r->port_hi, r->tw_reuse_sysctl);
	for (size_t i = 0; i < r->n_remote; i++) {
		fputs(i ? ",{" : "{", out);
		fprintf(out, "\"family\":\"%s\"", family_name(r->remote[i].family));
		json_addr(out, "addr", r->remote[i].family, r->remote[i].addr);
		fprintf(out, ",\"port\":%u,\"count\":%" PRIu64 "}", r->remote[i].port, r->remote[i].count);
	}
	fputs("],\"top_local\":[", out);
	for (size_t i = 0; i < r->n_local; i++) {
		fputs(i ? ",{" : "{", out);
		fprintf(out, "\"family\":\"%s\"", family_name(r->local[i].family));
		json_addr(out, "addr", r->local[i].family, r->local[i].addr);
		fprintf(out, ",\"count\":%" PRIu64 "}", r->local[i].count);
	}
	fputs("],\"pressure\":[", out);
	for (size_t i = 0; i < r->n_pressure; i++) {
		const struct tw_pressure *p = &r->pressure[i];

		fputs(i ? ",{" : "{", out);
		fprintf(out, "\"family\":\"%s\"", family_name(p->family));
		json_addr(out, "addr", p->family, p->addr);
		fprintf(out, ",\"port\":%u,\"time_wait\":%" PRIu64 ",\"in_use\":%" PRIu64
			",\"range\":%u,\"share_pct\":%.2f,\"tw_reuse\":%s,\"warn\":%s}", p->port,
			p->time_wait, p->in_use, p->range, p->share_pct, p->tw_reuse ? "true" : "false",
			p->warn ? "true" : "false");
	}
	fputs("]}\n", out);
}
