// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: human lines.  A flow or transition is one line of columns (time,
 * pid, comm, local, arrow, remote); a summary or report is rendered as
 * logfmt (sink_logfmt.c) and set out as columns.
 */
#include <stdlib.h>
#include <string.h>
#include "linebuf.h"
#include "sinkfmt.h"
#include "util.h"

#define C_RESET  "\033[0m"
#define C_DIM    "\033[2m"
#define C_RED    "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN  "\033[32m"

/*
 * The lines are built in runs of bounded fields at a cursor (linebuf.h's
 * linebuf__room()), each run's most below.  Columns are padded by a
 * fixed-size fill of spaces that the next field writes over: an endpoint
 * and its column are at most 63 bytes (tt_fmt_endpoint() into 64).
 */
#define EP_MAX 64

/* A colour's escape at most */
#define COLOR_MAX 8

/*
 * From the first flow that names a container on, a column of its first 12
 * hex digits (as docker ps and podman ps show them), "-" for the host's
 * own: " %-12.12s", 13 bytes.
 */
static char *lbc_container(struct tt_sink *s, char *p, const struct tt_cgname *n)
{
	const char *c = n && n->container[0] ? n->container : "-";
	size_t len;

	if (n && n->container[0])
		s->container_col = true;
	if (!s->container_col)
		return p;
	len = strnlen(c, 12);
	*p++ = ' ';
	memset(p, ' ', 12);
	memcpy(p, c, len);
	return p + 12;
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
	       end == TT_END_SUPERSEDED || end == TT_END_GONE || end == TT_END_CANCELLED ||
	       end == TT_END_NO_PORT;
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

/*
 * The columns every connection line opens with: time, pid, comm, local,
 * arrow, remote.  An endpoint wider than its column (an IPv6 address)
 * widens the column for it and every later line, so none runs into the next.
 */
#define HUMAN_HEAD_MAX (ISO_MAX + 13 + 8 + TT_UTOA_MAX + 18 + 12 + 4 * EP_MAX + 8)

static void human_head(struct tt_sink *s, uint64_t t_ns, uint32_t pid, const char *comm,
		       uint8_t family, const uint8_t *saddr, uint16_t sport,
		       const uint8_t *daddr, uint16_t dport, char arrow, const struct tt_cgname *n)
{
	struct linebuf *lb = &s->lb;
	char remote[EP_MAX], c[16], num[TT_UTOA_MAX] = "";
	char *p = linebuf__room(lb, HUMAN_HEAD_MAX);
	size_t llen, rlen, clen, plen, k;
	const char *dot;
	int w;

	/* tt_fmt_clock()'s milliseconds, from the sink's clock cached by the second */
	k = sink_iso_fmt(s, (int64_t)t_ns + s->o.wall_offset_ns, p);
	dot = memchr(p, '.', k);
	k = dot ? (size_t)(dot - p) + 4 : k - 1;
	p[k] = 'Z';
	p += k + 1;
	p = lbc_container(s, p, n);
	/* " %7s": the pid, or "-" */
	if (pid) {
		plen = tt_utoa(num, pid);
	} else {
		num[0] = '-';
		plen = 1;
	}
	memset(p, ' ', 8);
	p += 1 + (plen < 7 ? 7 - plen : 0);
	memcpy(p, num, sizeof(num));
	p += plen;
	/*
	 * " %-15s", in columns: a comm may hold anything; keep the line one
	 * line, and pad a UTF-8 one by its characters (at most 12 spaces more
	 * than its bytes' 15 would have: HUMAN_HEAD_MAX)
	 */
	clen = tt_comm_len(comm);
	memcpy(c, comm, clen);
	tt_printable(c, clen);
	if (!clen)
		c[clen++] = '-';
	*p++ = ' ';
	memcpy(p, c, clen);
	p += clen;
	k = tt_utf8_cols(c, clen);
	if (k < 15) {
		memset(p, ' ', 15 - k);
		p += 15 - k;
	}
	/* " %-*s %c %-*s": the endpoints, in columns of the widest yet */
	*p++ = ' ';
	llen = tt_fmt_endpoint(family, saddr, sport, p, EP_MAX);
	rlen = tt_fmt_endpoint(family, daddr, dport, remote, sizeof(remote));
	w = (int)(llen > rlen ? llen : rlen);
	if (w > s->ep_width)
		s->ep_width = w;
	memset(p + llen, ' ', EP_MAX);
	p += s->ep_width;
	*p++ = ' ';
	*p++ = arrow;
	*p++ = ' ';
	memcpy(p, remote, sizeof(remote));
	memset(p + rlen, ' ', EP_MAX);
	p += s->ep_width;
	linebuf__commit(lb, p);
}

/*
 * Human output of a report: the logfmt lines it rendered into s->rep, as
 * "TIME LEVEL MSG key=value...", the time in the column every human line
 * opens with, warnings in color.
 */
static void human_report(struct tt_sink *s, uint64_t t_ns)
{
	char clock[32];
	const char *p, *end;

	fflush(s->rep);
	tt_fmt_clock((int64_t)t_ns + s->o.wall_offset_ns, clock, sizeof(clock));
	for (p = s->rep_buf, end = s->rep_buf + s->rep_len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *level = "info", *msg = p, *rest;
		size_t msg_len;
		bool warn;

		/* time=T level=L msg=M rest */
		if (!strncmp(p, "time=", 5) && (p = memchr(p, ' ', (size_t)(le - p))))
			p++;
		else
			p = msg;
		warn = !strncmp(p, "level=warn ", 11);
		if (!strncmp(p, "level=", 6) && (p = memchr(p, ' ', (size_t)(le - p))))
			p++;
		level = warn ? "warn" : level;
		if (!p || p > le)
			p = le;
		if (!strncmp(p, "msg=", 4))
			p += 4;
		msg = p;
		rest = memchr(p, ' ', (size_t)(le - p));
		msg_len = rest ? (size_t)(rest - msg) : (size_t)(le - msg);
		rest = rest ? rest + 1 : le;
		fprintf(s->o.out, "%s %s%-4s %.*s%s %.*s\n", clock, warn ? color(s, C_YELLOW) : "",
			level, (int)msg_len, msg, warn ? color(s, C_RESET) : "", (int)(le - rest), rest);
		p = nl ? nl + 1 : end;
	}
	rewind(s->rep);
}

/* 512, 2.29K, 97.7K, 1.50M: bytes, in units of 1024 past 1023, three digits; at most TT_UTOA_MAX */
static char *lbc_bytes(char *p, uint64_t v)
{
	static const char unit[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	/* the common case, a small count: no printf */
	if (v < 1024)
		return lbc_u64(p, v);
	while (d >= 1024 && u < (int)sizeof(unit) - 2) {
		d /= 1024;
		u++;
	}
	/* 1023.9K would print as 1024K: a 4th digit; say 1.00M */
	if (d >= 999.5 && u < (int)sizeof(unit) - 2) {
		d /= 1024;
		u++;
	}
	/* at most 5 characters ("16.0E" is 2^64): never cut */
	return p + snprintf(p, TT_UTOA_MAX, d < 9.995 ? "%.2f%c" : d < 99.95 ? "%.1f%c" : "%.0f%c",
			    d, unit[u]);
}

/* A duration as tt_fmt_duration() writes it, at most DUR_MAX bytes of room */
#define DUR_MAX 32

static char *lbc_dur(char *p, uint64_t ns)
{
	return p + tt_fmt_duration(ns, p, DUR_MAX);
}

/* A colour's escape, none without colour, at most COLOR_MAX */
static char *lbc_color(const struct tt_sink *s, char *p, const char *c)
{
	return s->o.color ? lbc_str(p, c) : p;
}

/*
 * "  tx=97.7K rx=2.29K rtt=52us", and " rtx=N" when it retransmitted: what
 * the kernel read from tcp_sock at the end, for a flow that has it.  The
 * exact numbers, segments too, are JSON's.
 */
#define HUMAN_STATS_MAX (40 + 3 * TT_UTOA_MAX + DUR_MAX + 2 * COLOR_MAX)

static char *lbc_stats(struct tt_sink *s, char *p, const struct tt_flow *f)
{
	/* a listener carries no payload: its zeros would be noise */
	if (!(f->flags & TT_FLOW_STATS) || f->role == TT_ROLE_LISTENER)
		return p;
	lbc_lit(p, "  tx=");
	p = lbc_bytes(p, f->bytes_sent);
	lbc_lit(p, " rx=");
	p = lbc_bytes(p, f->bytes_received);
	/* 0: the connection never measured one; whole microseconds, no false decimals */
	if (f->srtt_us) {
		lbc_lit(p, " rtt=");
		if (f->srtt_us >= 1000) {
			p = lbc_dur(p, (uint64_t)f->srtt_us * 1000);
		} else {
			p = lbc_u64(p, f->srtt_us);
			lbc_lit(p, "us");
		}
	}
	if (f->retransmits) {
		*p++ = ' ';
		p = lbc_color(s, p, C_YELLOW);
		lbc_lit(p, "rtx=");
		p = lbc_u64(p, f->retransmits);
		p = lbc_color(s, p, C_RESET);
	}
	return p;
}

/* A state and the time to the next: " > " before the last, and colours */
#define HUMAN_STATE_MAX (8 + NAME_MAX_LEN + DUR_MAX + 4 * COLOR_MAX)
/* From the end on */
#define HUMAN_TAIL_MAX (160 + NAME_MAX_LEN + TT_ERRNO_NAME_MAX + 5 * TT_UTOA_MAX + DUR_MAX + \
			2 * COLOR_MAX + HUMAN_STATS_MAX)

/* One line a flow, built in the sink's line buffer and written with one fwrite */
void human_flow(struct tt_sink *s, const struct tt_flow *f)
{
	struct linebuf *lb = &s->lb;
	char *p;

	human_head(s, f->ts_ns[0], f->owner_pid, f->owner_comm, f->family, f->saddr,
		   f->sport, f->daddr, f->dport, role_arrow(f->role),
		   sink_cgname(s, f->cgroup, f->owner_pid));
	if (f->flags & TT_FLOW_PARTIAL)
		linebuf__lit(lb, " ...");
	for (int i = 0; i < f->nstates; i++) {
		bool last = i == f->nstates - 1;

		p = linebuf__room(lb, HUMAN_STATE_MAX);
		if (last)
			lbc_lit(p, " >");
		*p++ = ' ';
		p = lbc_color(s, p, state_color(s, f->state[i]));
		p = lbc_name(p, sink_state_names, f->state[i]);
		p = lbc_color(s, p, C_RESET);
		if (!last) {
			*p++ = ' ';
			p = lbc_color(s, p, C_DIM);
			p = lbc_dur(p, f->ts_ns[i + 1] - f->ts_ns[i]);
			p = lbc_color(s, p, C_RESET);
		}
		linebuf__commit(lb, p);
	}
	p = linebuf__room(lb, HUMAN_TAIL_MAX);
	if (end_is_trouble(f->end)) {
		*p++ = ' ';
		p = lbc_color(s, p, C_RED);
		*p++ = '(';
		p = lbc_name(p, sink_end_names, f->end);
		/* which error: "(error EHOSTUNREACH)"; the others' names say it */
		if (f->end == TT_END_ERROR && f->sk_err) {
			char name[TT_ERRNO_NAME_MAX];

			*p++ = ' ';
			p = lbc_str(p, tt_errno_name(f->sk_err, name));
		}
		*p++ = ')';
		p = lbc_color(s, p, C_RESET);
	}
	if (f->tw_substate == TT_FIN_WAIT2)
		lbc_lit(p, " (orphan FIN_WAIT2)");
	lbc_lit(p, "  total ");
	p = lbc_dur(p, f->ts_ns[f->nstates - 1] - f->ts_ns[0]);
	p = lbc_stats(s, p, f);
	/*
	 * another process closed it: a fork-per-connection server's child (a
	 * PostgreSQL backend, sshd's session), a worker it was handed to
	 */
	if (f->closer_pid && f->closer_pid != f->owner_pid) {
		lbc_lit(p, "  closer=");
		p = lbc_u64(p, f->closer_pid);
	}
	if (f->synack_retrans) {
		lbc_lit(p, "  synack_retrans=");
		p = lbc_u64(p, f->synack_retrans);
	}
	/* transitions no hook saw, put in from the gap they left */
	if (f->inferred) {
		lbc_lit(p, "  inferred=");
		p = lbc_u64(p, f->inferred);
	}
	if (f->flags & TT_FLOW_SEEDED)
		lbc_lit(p, "  [seeded]");
	if (sink_names_netns(s, f->netns)) {
		lbc_lit(p, "  netns=");
		p = lbc_u64(p, f->netns);
	}
	if (f->flags & TT_FLOW_TRUNCATED)
		lbc_lit(p, "  [truncated]");
	*p++ = '\n';
	linebuf__commit(lb, p);
	linebuf__flush(lb);
}


/* The end of a -e line, as of a flow line: netns= for another namespace's (every one on replay). */
static void human_netns(struct tt_sink *s, uint32_t netns)
{
	if (sink_names_netns(s, netns))
		fprintf(s->o.out, "  netns=%u\n", netns);
	else
		fputc('\n', s->o.out);
}

void human_transition(struct tt_sink *s, const struct tt_transition *t)
{
	const struct tt_flow *flow = t->flow;
	struct sink_tuple v;
	const char *comm;
	uint32_t pid;
	uint8_t role;

	sink_tuple_of(t, &v);
	sink_transition_owner(t, &v, &pid, &comm);
	role = flow ? flow->role :
	       t->old_state == TT_CLOSE && t->new_state == TT_SYN_SENT ? TT_ROLE_ACTIVE :
	       t->old_state == TT_LISTEN ? TT_ROLE_PASSIVE : TT_ROLE_UNKNOWN;
	human_head(s, t->ts_ns, pid, comm, v.family, v.saddr, v.sport, v.daddr, v.dport,
		   role_arrow(role), sink_cgname(s, v.cgroup, pid));
	linebuf__flush(&s->lb);
	fprintf(s->o.out, " %s -> %s%s%s", tt_state_name(t->old_state),
		state_color(s, t->new_state), tt_state_name(t->new_state), color(s, C_RESET));
	human_netns(s, v.netns);
}

void human_overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener)
{
	static const char none[16];
	FILE *out = s->o.out;
	const char *queue = e->aux[0] == TT_Q_SYN ? "syn" : "accept";
	const char *comm = listener ? listener->owner_comm : none;
	uint32_t pid = listener ? listener->owner_pid : 0;
	bool cookie = e->flags & TT_F_SYNCOOKIE;
	/* net.ipv4.tcp_syncookies=2: a cookie for every SYN, no queue full */
	bool policy = e->aux[0] == TT_Q_SYN && (e->flags & TT_F_COOKIE_POLICY);

	human_head(s, e->ts_ns, pid, comm, e->family, e->saddr, e->sport, e->daddr,
		   e->dport, 'L', sink_cgname(s, e->cgroup, pid));
	linebuf__flush(&s->lb);
	if (policy)
		fprintf(out, " syncookie sent by policy (tcp_syncookies=2)  backlog %u/%u"
			"  syn_queue %u", e->aux[2], e->aux[1], e->aux[3]);
	else
		fprintf(out, " %s%s queue %s%s  backlog %u/%u  syn_queue %u",
			cookie ? "" : color(s, C_RED), queue,
			cookie ? "full: syncookie sent" : "overflow: dropped",
			color(s, C_RESET), e->aux[2], e->aux[1], e->aux[3]);
	human_netns(s, e->netns);
}

/*
 * A report: rendered as logfmt into s->rep (s->rep set aside meanwhile, so
 * that the logfmt formatter writes there), then as columns.
 */
#define HUMAN_REPORT(s, t_ns, call)					\
	do {								\
		FILE *out_ = (s)->o.out;				\
									\
		(s)->o.out = (s)->rep;					\
		call;							\
		(s)->o.out = out_;					\
		human_report(s, t_ns);					\
	} while (0)

struct overflow_ctx {
	struct tt_sink *s;
	uint64_t t_ns, interval_ns;
};

static void human_listener_overflow(const struct tt_listener_stats *ls, void *ctx)
{
	struct overflow_ctx *c = ctx;

	if (ls->i_accept_overflows || ls->i_syn_drops || ls->i_syn_cookies)
		HUMAN_REPORT(c->s, c->t_ns,
			     logfmt_listener_overflow(c->s, ls, c->t_ns, c->interval_ns));
}

/* The summary, then a line (a warning) per listener that turned connections away. */
static void human_summary_op(void *priv, const struct tt_summary *sum)
{
	struct tt_sink *s = priv;
	struct overflow_ctx c = { .s = s, .t_ns = sum->t_ns, .interval_ns = sum->interval_ns };

	HUMAN_REPORT(s, sum->t_ns, logfmt_summary(s, sum));
	if (sum->eng)
		engine__for_each_listener_stats(sum->eng, human_listener_overflow, &c);
}

static void human_close_wait_op(void *priv, const struct tt_cw_report *r)
{
	struct tt_sink *s = priv;

	HUMAN_REPORT(s, r->t_ns, logfmt_close_wait(s, r));
}

static void human_time_wait_op(void *priv, const struct tw_report *r)
{
	struct tt_sink *s = priv;

	HUMAN_REPORT(s, r->t_ns, logfmt_time_wait(s, r));
}

static void human_flow_op(void *priv, const struct tt_flow *f)
{
	struct tt_sink *s = priv;

	if (f->nstates && !s->o.no_flows)
		human_flow(s, f);
}

static void human_transition_op(void *priv, const struct tt_transition *t)
{
	human_transition(priv, t);
}

/* human lines tell overflows with -e; summaries count them */
static void human_overflow_op(void *priv, const struct tt_event *e, const struct tt_flow *listener)
{
	struct tt_sink *s = priv;

	if (s->o.events)
		human_overflow(s, e, listener);
}

static void human_free_op(void *priv)
{
	sink__free(priv);
}

const struct tt_sink_ops tt_sink_human_ops = {
	.name = "human",
	.flow_end = human_flow_op,
	.transition = human_transition_op,
	.overflow = human_overflow_op,
	.summary = human_summary_op,
	.close_wait = human_close_wait_op,
	.time_wait = human_time_wait_op,
	.clock = sink__clock_op,
	.free = human_free_op,
};
