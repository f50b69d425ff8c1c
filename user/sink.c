// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: the line formatters' common part.  sink__new picks a format's ops
 * (human, JSON or logfmt; one file each), and the sink__* calls go through
 * them; the time, tuple and owner helpers every format uses.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sinkfmt.h"

struct tt_sink *sink__new(const struct tt_sink_opts *opts)
{
	struct tt_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->o = *opts;
	s->ops = opts->json ? &tt_sink_json_ops : opts->logfmt ? &tt_sink_logfmt_ops :
		 &tt_sink_human_ops;
	if (!s->o.out)
		s->o.out = stdout;
	s->iso_sec = -1;
	s->ep_width = EP_WIDTH_MIN;
	linebuf__init(&s->lb, s->o.out);
	if (!s->o.json && !s->o.logfmt) {
		s->rep = open_memstream(&s->rep_buf, &s->rep_len);
		if (!s->rep) {
			free(s);
			return NULL;
		}
	}
	return s;
}

void sink__free(struct tt_sink *s)
{
	if (!s)
		return;
	if (s->rep)
		fclose(s->rep);
	free(s->rep_buf);
	free(s);
}

void sink__set_ident(struct tt_sink *s, struct tt_ident *id)
{
	s->ident = id;
}


const struct tt_sink_ops *sink__ops(const struct tt_sink *s)
{
	return s->ops;
}

struct padded_name sink_state_names[256], sink_role_names[256], sink_end_names[256];

const struct tt_fail_end tt_fail_ends[TT_FAIL_ENDS] = {
	{ TT_END_ABORT, "aborts", "ABORTS" },
	{ TT_END_TIMEOUT, "timeouts", "TIMEOUTS" },
	{ TT_END_ERROR, "errors", "ERRORS" },
	{ TT_END_CANCELLED, "cancelled", "CANCELLED" },
	{ TT_END_NO_PORT, "no_port", "NO_PORT" },
};

static void pad_names(struct padded_name *t, const char *(*name)(unsigned int))
{
	for (unsigned int i = 0; i < 256; i++) {
		const char *n = name(i);

		t[i].len = (uint8_t)strnlen(n, NAME_MAX_LEN - 1);
		memcpy(t[i].s, n, t[i].len);
	}
}

__attribute__((constructor)) static void pad_all_names(void)
{
	pad_names(sink_state_names, tt_state_name);
	pad_names(sink_role_names, tt_role_name);
	pad_names(sink_end_names, tt_end_name);
}

const struct tt_cgname *sink_cgname(struct tt_sink *s, uint64_t cgid, uint32_t pid)
{
	return s->ident ? ident__lookup(s->ident, cgid, pid) : NULL;
}

/*
 * "2024-05-01T12:00:01.234567Z" into buf (ISO_MAX bytes), without its NUL;
 * returns the length.  gmtime_r and the date are redone only when the
 * second changes.
 */
size_t sink_iso_fmt(struct tt_sink *s, int64_t wall_ns, char *buf)
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

void sink_iso_time(struct tt_sink *s, int64_t wall_ns, char buf[ISO_MAX])
{
	buf[sink_iso_fmt(s, wall_ns, buf)] = '\0';
}


void sink_tuple_of(const struct tt_transition *t, struct sink_tuple *v)
{
	static const uint8_t zero[16];
	static const char none[16];
	const struct tt_event *e = t->rec;
	const struct tt_flow *f = t->flow;

	memset(v, 0, sizeof(*v));
	v->saddr = v->daddr = zero;
	v->task_comm = none;
	if (e) {
		v->netns = e->netns;
		v->family = e->family;
		v->sport = e->sport;
		v->dport = e->dport;
		v->saddr = e->saddr;
		v->daddr = e->daddr;
		v->cgroup = e->cgroup;
		v->cookie = e->cookie;
		v->flags = e->flags;
		v->tgid = e->tgid;
		v->task_comm = e->comm;
	} else if (f) {
		v->netns = f->netns;
		v->family = f->family;
		v->sport = f->sport;
		v->dport = f->dport;
		v->saddr = f->saddr;
		v->daddr = f->daddr;
	}
}

void sink_transition_owner(const struct tt_transition *t, const struct sink_tuple *v,
			   uint32_t *pid, const char **comm)
{
	static const char none[16];

	if (t->flow && t->flow->owner_pid) {
		*pid = t->flow->owner_pid;
		*comm = t->flow->owner_comm;
	} else if (v->flags & TT_F_OWNER) {
		*pid = v->tgid;
		*comm = v->task_comm;
	} else {
		*pid = 0;
		*comm = none;
	}
}

const char *sink_closer(const struct tw_report *r)
{
	if (!r->by_client && !r->by_server)
		return "none";
	if (r->by_server > r->by_client)
		return r->by_client ? "mostly_server" : "server";
	return r->by_server ? "mostly_client" : "client";
}

void sink__flow(struct tt_sink *s, const struct tt_flow *f)
{
	if (!f->nstates)
		return;
	if (s->ops == &tt_sink_json_ops)
		json_flow(s, f);
	else
		human_flow(s, f);
}

void sink__transition(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *flow)
{
	struct tt_transition t = {
		.flow = flow, .rec = e, .old_state = e->old_state, .new_state = e->new_state,
		.ts_ns = e->ts_ns,
	};

	if (s->ops == &tt_sink_json_ops)
		json_transition(s, &t);
	else
		human_transition(s, &t);
}

void sink__overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener)
{
	if (s->ops == &tt_sink_json_ops)
		json_overflow(s, e, listener);
	else
		human_overflow(s, e, listener);
}

void sink__summary(struct tt_sink *s, const struct tt_summary *sum)
{
	s->ops->summary(s, sum);
}

void sink__set_clock(struct tt_sink *s, int64_t wall_offset_ns)
{
	s->o.wall_offset_ns = wall_offset_ns;
}

void sink__clock_op(void *priv, int64_t wall_offset_ns)
{
	sink__set_clock(priv, wall_offset_ns);
}

void sink__close_wait_report(struct tt_sink *s, const struct tt_cw_report *r)
{
	s->ops->close_wait(s, r);
}

void sink__close_wait(struct tt_sink *s, const struct tt_cw_group *g, size_t n, uint64_t t_ns,
		      uint64_t min_age_ns)
{
	sink__close_wait_report(s, &(struct tt_cw_report){ .g = g, .n = n, .t_ns = t_ns,
							   .min_age_ns = min_age_ns });
}

void sink__time_wait(struct tt_sink *s, const struct tw_report *r)
{
	s->ops->time_wait(s, r);
}

void sink__listener_overflow(struct tt_sink *s, const struct tt_listener_stats *ls,
			     uint64_t t_ns, uint64_t interval_ns)
{
	if (s->o.logfmt)
		logfmt_listener_overflow(s, ls, t_ns, interval_ns);
}
