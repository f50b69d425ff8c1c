// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "linebuf.h"
#include "sink.h"
#include "util.h"

#define ISO_EPOCH "1970-01-01T00:00:00.000000Z"
#define ISO_DATE_MAX 48		/* "2024-05-01T12:00:01." is 20 */
#define ISO_MAX (ISO_DATE_MAX + 7)	/* and "234567Z" */

struct tt_sink {
	struct tt_sink_opts o;
	/* "2024-05-01T12:00:01." for iso_sec: lines come many to a second */
	int64_t iso_sec;
	size_t iso_len;
	char iso[ISO_DATE_MAX];
	struct linebuf lb;	/* the line being built */
	struct tt_ident *ident;
	bool container_col;	/* human: a container column, since one was named */
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
	s->iso_sec = -1;
	linebuf__init(&s->lb, s->o.out);
	return s;
}

void sink__free(struct tt_sink *s)
{
	free(s);
}

void sink__set_ident(struct tt_sink *s, struct tt_ident *id)
{
	s->ident = id;
}

static const struct tt_cgname *cgname(struct tt_sink *s, uint64_t cgid, uint32_t pid)
{
	return s->ident ? ident__lookup(s->ident, cgid, pid) : NULL;
}

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

static void json_ident(FILE *out, const char *path, const char *container, const char *pod)
{
	fputs(",\"cgroup\":", out);
	if (!path) {
		fputs("null", out);
		return;
	}
	json_str(out, path, strlen(path));
	if (container && container[0])
		fprintf(out, ",\"container\":\"%s\"", container);
	if (pod && pod[0])
		fprintf(out, ",\"pod\":\"%s\"", pod);
}

/*
 * Human lines: from the first flow that names a container on, a column of
 * its first 12 hex digits (as docker ps and podman ps show them), "-" for
 * the host's own.
 */
static void human_container(struct tt_sink *s, const struct tt_cgname *n)
{
	if (n && n->container[0])
		s->container_col = true;
	if (!s->container_col)
		return;
	fprintf(s->o.out, " %-12.12s", n && n->container[0] ? n->container : "-");
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

/*
 * "2024-05-01T12:00:01.234567Z" into buf (ISO_MAX bytes), without its NUL;
 * returns the length.  gmtime_r and the date are redone only when the
 * second changes.
 */
static size_t iso_fmt(struct tt_sink *s, int64_t wall_ns, char *buf)
{
	int64_t sec = wall_ns / 1000000000;
	unsigned int us;

	if (wall_ns < 0)
		goto epoch;
	if (sec != s->iso_sec) {
		time_t t = sec;
		struct tm tm;
		int n;

		if (!gmtime_r(&t, &tm))
			goto epoch;
		n = snprintf(s->iso, sizeof(s->iso), "%04d-%02d-%02dT%02d:%02d:%02d.",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
		/* always 20 bytes: 2^63 ns is in the year 2262; the test keeps buf in bounds */
		if (n < 0 || (size_t)n >= sizeof(s->iso))
			goto epoch;
		s->iso_len = (size_t)n;
		s->iso_sec = sec;
	}
	memcpy(buf, s->iso, s->iso_len);
	us = (unsigned int)(wall_ns / 1000 % 1000000);
	for (int i = 5; i >= 0; i--, us /= 10)
		buf[s->iso_len + (size_t)i] = (char)('0' + us % 10);
	buf[s->iso_len + 6] = 'Z';
	return s->iso_len + 7;
epoch:
	memcpy(buf, ISO_EPOCH, sizeof(ISO_EPOCH) - 1);
	return sizeof(ISO_EPOCH) - 1;
}

static void iso_time(struct tt_sink *s, int64_t wall_ns, char buf[ISO_MAX])
{
	buf[iso_fmt(s, wall_ns, buf)] = '\0';
}

static void lb_iso(struct tt_sink *s, int64_t wall_ns)
{
	struct linebuf *lb = &s->lb;

	lb->len += iso_fmt(s, wall_ns, linebuf__room(lb, ISO_MAX));
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
		       const uint8_t *daddr, uint16_t dport, char arrow, const struct tt_cgname *n)
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
	fputs(clock, s->o.out);
	human_container(s, n);
	if (pid)
		fprintf(s->o.out, " %7u %-15s %-22s %c %-22s", pid, c, local, arrow, remote);
	else
		fprintf(s->o.out, " %7s %-15s %-22s %c %-22s", "-", c, local, arrow, remote);
}

static void human_flow(struct tt_sink *s, const struct tt_flow *f)
{
	char dur[32];

	human_head(s, f->ts_ns[0], f->owner_pid, f->owner_comm, f->family, f->saddr,
		   f->sport, f->daddr, f->dport, role_arrow(f->role),
		   cgname(s, f->cgroup, f->owner_pid));
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

/*
 * The JSON lines written per record or per flow are built in s->lb and
 * written with one fwrite: the same bytes fprintf wrote field by field, at
 * a fraction of the cost.  The lines written per interval keep fprintf.
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

static void json_flow(struct tt_sink *s, const struct tt_flow *f)
{
	struct linebuf *lb = &s->lb;

	linebuf__lit(lb, "{\"type\":\"flow\",\"version\":");
	linebuf__int(lb, TT_JSON_VERSION);
	linebuf__lit(lb, ",\"id\":");
	linebuf__u64(lb, f->id);
	linebuf__lit(lb, ",\"t_ns\":");
	linebuf__u64(lb, f->ts_ns[0]);
	linebuf__lit(lb, ",\"start\":\"");
	lb_iso(s, (int64_t)f->ts_ns[0] + s->o.wall_offset_ns);
	linebuf__char(lb, '"');
	lb_tuple(lb, f->netns, f->family, f->saddr, f->sport, f->daddr, f->dport);
	lb_ident(lb, cgname(s, f->cgroup, f->owner_pid));
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
	lb_end_line(lb);
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
	struct linebuf *lb = &s->lb;
	FILE *out = s->o.out;
	const char *comm;
	uint32_t pid;

	transition_owner(e, flow, &pid, &comm);
	if (!s->o.json) {
		uint8_t role = flow ? flow->role :
			       e->old_state == TT_CLOSE && e->new_state == TT_SYN_SENT ? TT_ROLE_ACTIVE :
			       e->old_state == TT_LISTEN ? TT_ROLE_PASSIVE : TT_ROLE_UNKNOWN;

		human_head(s, e->ts_ns, pid, comm, e->family, e->saddr, e->sport, e->daddr,
			   e->dport, role_arrow(role), cgname(s, e->cgroup, pid));
		fprintf(out, " %s -> %s%s%s\n", tt_state_name(e->old_state),
			state_color(s, e->new_state), tt_state_name(e->new_state), color(s, C_RESET));
		return;
	}
	linebuf__lit(lb, "{\"type\":\"transition\"");
	lb_head(s, e->ts_ns);
	linebuf__lit(lb, ",\"id\":");
	linebuf__u64(lb, flow ? flow->id : (uint64_t)e->cookie);
	lb_tuple(lb, e->netns, e->family, e->saddr, e->sport, e->daddr, e->dport);
	lb_ident(lb, cgname(s, e->cgroup ? e->cgroup : flow ? flow->cgroup : 0, pid));
	linebuf__lit(lb, ",\"old\":\"");
	linebuf__str(lb, tt_state_name(e->old_state));
	linebuf__lit(lb, "\",\"new\":\"");
	linebuf__str(lb, tt_state_name(e->new_state));
	linebuf__lit(lb, "\",\"pid\":");
	linebuf__u64(lb, pid);
	linebuf__lit(lb, ",\"comm\":");
	linebuf__json_str(lb, comm, 16);
	linebuf__lit(lb, ",\"task_pid\":");
	linebuf__u64(lb, e->tgid);
	linebuf__lit(lb, ",\"task_comm\":");
	linebuf__json_str(lb, e->comm, sizeof(e->comm));
	linebuf__lit(lb, ",\"in_owner_context\":");
	linebuf__bool(lb, e->flags & TT_F_OWNER);
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
	char iso[ISO_MAX];

	iso_time(s, (int64_t)sum->t_ns + s->o.wall_offset_ns, iso);
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
	char iso[ISO_MAX], dur[32];

	iso_time(s, (int64_t)sum->t_ns + s->o.wall_offset_ns, iso);
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
	struct linebuf *lb = &s->lb;

	if (!s->o.json) {
		human_head(s, e->ts_ns, pid, comm, e->family, e->saddr, e->sport, e->daddr,
			   e->dport, 'L', cgname(s, e->cgroup, pid));
		fprintf(out, " %s%s queue %s%s  backlog %u/%u  syn_queue %u\n",
			cookie ? "" : color(s, C_RED), queue,
			cookie ? "full: syncookie sent" : "overflow: dropped", color(s, C_RESET),
			e->aux[2], e->aux[1], e->aux[3]);
		return;
	}
	linebuf__lit(lb, "{\"type\":\"overflow\"");
	lb_head(s, e->ts_ns);
	linebuf__lit(lb, ",\"queue\":\"");
	linebuf__str(lb, queue);
	linebuf__char(lb, '"');
	lb_tuple(lb, e->netns, e->family, e->saddr, e->sport, e->daddr, e->dport);
	lb_ident(lb, cgname(s, e->cgroup, pid));
	linebuf__lit(lb, ",\"max_backlog\":");
	linebuf__u64(lb, e->aux[1]);
	linebuf__lit(lb, ",\"accept_queue\":");
	linebuf__u64(lb, e->aux[2]);
	linebuf__lit(lb, ",\"syn_queue\":");
	linebuf__u64(lb, e->aux[3]);
	linebuf__lit(lb, ",\"syncookie\":");
	linebuf__bool(lb, cookie);
	linebuf__lit(lb, ",\"pid\":");
	linebuf__u64(lb, pid);
	linebuf__lit(lb, ",\"comm\":");
	linebuf__json_str(lb, comm, 16);
	lb_end_line(lb);
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
	char iso[ISO_MAX], age[32], svc[80];

	iso_time(s, (int64_t)t_ns + s->o.wall_offset_ns, iso);
	for (size_t i = 0; i < n; i++, g++) {
		tt_fmt_duration(g->oldest_age_ns, age, sizeof(age));
		if (!s->o.json) {
			service_str(g, svc, sizeof(svc));
			fprintf(out, "time=%s level=warn msg=close_wait_leak", iso);
			if (g->container)
				fprintf(out, " container=%.12s", g->container);
			if (g->pod)
				fprintf(out, " pod=%s", g->pod);
			fprintf(out, " pid=%u comm=", g->pid);
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
		fprintf(out, ",\"netns\":%u", g->netns);
		json_ident(out, g->cgroup, g->container, g->pod);
		fprintf(out, ",\"family\":\"%s\",\"service\":\"%s\"",
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
	char iso[ISO_MAX], ep[80];

	iso_time(s, (int64_t)r->t_ns + s->o.wall_offset_ns, iso);
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
	fputs("],\"top_containers\":[", out);
	for (size_t i = 0; i < r->n_containers; i++) {
		const struct tw_container *c = &r->containers[i];

		fputs(i ? ",{" : "{", out);
		fprintf(out, "\"container\":\"%s\"", c->container);
		if (c->pod)
			fprintf(out, ",\"pod\":\"%s\"", c->pod);
		fputs(",\"cgroup\":", out);
		json_str(out, c->cgroup, strlen(c->cgroup));
		fprintf(out, ",\"time_wait_60s\":%" PRIu64 "}", c->count);
	}
	fputs("]", out);
	if (r->host_wide && !r->estimated) {
		fprintf(out, ",\"namespaces\":%u,\"by_netns\":[", r->namespaces);
		for (size_t i = 0; i < r->n_netns; i++)
			fprintf(out, "%s{\"netns\":%u,\"population\":%" PRId64
				",\"port_range\":[%u,%u]}", i ? "," : "", r->by_netns[i].netns,
				r->by_netns[i].population, r->by_netns[i].port_lo, r->by_netns[i].port_hi);
		fputs("]", out);
	}
	fputs(",\"pressure\":[", out);
	for (size_t i = 0; i < r->n_pressure; i++) {
		const struct tw_pressure *p = &r->pressure[i];

		fputs(i ? ",{" : "{", out);
		fprintf(out, "\"netns\":%u,\"family\":\"%s\"", p->netns, family_name(p->family));
		json_addr(out, "addr", p->family, p->addr);
		fprintf(out, ",\"port\":%u,\"time_wait\":%" PRIu64 ",\"in_use\":%" PRIu64
			",\"range\":%u,\"share_pct\":%.2f,\"tw_reuse\":%s,\"warn\":%s}", p->port,
			p->time_wait, p->in_use, p->range, p->share_pct, p->tw_reuse ? "true" : "false",
			p->warn ? "true" : "false");
	}
	fputs("]}\n", out);
}
