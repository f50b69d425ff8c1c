// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: --journal, summaries and reports as journal entries with fields of
 * their own (journal.h), and sd_notify for a Type=notify service.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>
#ifndef TT_NO_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "journal.h"
#include "util.h"

#define MAX_FIELDS 40

/*
 * One entry's fields, "NAME=value" each, end to end in one buffer that
 * grows: a host-wide time_wait entry names every namespace (one netns.N= in
 * its MESSAGE each), 5 KB at 250 of them.
 */
struct entry {
	size_t off[MAX_FIELDS], len[MAX_FIELDS];
	int n;
	char *buf;
	size_t used, size;
	bool full;		/* a field did not fit: out of fields or memory */
};

struct tt_journal {
	struct tt_sink *fmt;	/* logfmt lines, for MESSAGE= */
	FILE *mem;
	char *text;
	size_t len;
	uint32_t netns;
	struct tt_journalout *out;
	uint64_t lost, lost_said;	/* entries journald did not take */
	struct tt_ident *ident;		/* overflow entries: the listener's container */
	const char *container, *cgroup;	/* --container, --cgroup: NULL if not given */
	bool failed;		/* the last send failed (said once) */
	const char *event;	/* of the entry being built */
	struct entry e;
};

static void field(struct entry *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Room for need bytes more in e->buf. */
static bool grow(struct entry *e, size_t need)
{
	size_t size = e->size ? e->size : 4096;
	char *b;

	while (size - e->used < need)
		size *= 2;
	b = realloc(e->buf, size);
	if (!b)
		return false;
	e->buf = b;
	e->size = size;
	return true;
}

static void field(struct entry *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->n >= MAX_FIELDS || e->full || (!e->buf && !grow(e, 1))) {
		e->full = true;
		return;
	}
	for (;;) {
		size_t room = e->size - e->used;

		va_start(ap, fmt);
		n = vsnprintf(e->buf + e->used, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			e->full = true;
			return;
		}
		if ((size_t)n < room)
			break;
		if (!grow(e, (size_t)n + 1)) {
			e->full = true;
			return;
		}
	}
	e->off[e->n] = e->used;
	e->len[e->n++] = (size_t)n;
	e->used += (size_t)n + 1;
}

/* A field of text from a process (a comm, a command line): one printable line. */
static void text_field(struct entry *e, const char *name, const char *s, size_t max)
{
	char clean[256];
	size_t i;

	if (max >= sizeof(clean))
		max = sizeof(clean) - 1;
	for (i = 0; i < max && s[i]; i++)
		clean[i] = s[i];
	clean[i] = '\0';
	/* C0, DEL, C1 (a CSI moves a terminal's cursor) and bytes that are no UTF-8 */
	tt_printable(clean, i);
	field(e, "%s=%s", name, clean);
}

static void begin(struct tt_journal *j, const char *event, int prio)
{
	j->event = event;
	j->e.n = 0;
	j->e.used = 0;
	j->e.full = false;
	field(&j->e, "TCPTRAIL_EVENT=%s", event);
	field(&j->e, "PRIORITY=%d", prio);
	field(&j->e, "SYSLOG_IDENTIFIER=tcptrail");
	field(&j->e, "SYSLOG_FACILITY=%d", LOG_DAEMON >> 3);
}

static void send_entry(struct tt_journal *j, const char *msg, size_t len)
{
	struct iovec iov[MAX_FIELDS];
	int err;

	while (len && msg[len - 1] == '\n')
		len--;
	field(&j->e, "MESSAGE=%.*s", (int)len, msg);
	if (j->e.full) {
		/* ours, not journald's: say it each time, it is not the socket's state */
		j->lost++;
		tt_warn("warning: --journal: a %s entry was not sent: %s", j->event,
			j->e.n >= MAX_FIELDS ? "more fields than an entry holds" : strerror(ENOMEM));
		return;
	}
	for (int i = 0; i < j->e.n; i++)
		iov[i] = (struct iovec){ j->e.buf + j->e.off[i], j->e.len[i] };
	err = journalout__send(j->out, iov, j->e.n);
	if (err < 0)
		j->lost++;
	if (err == -EAGAIN && !j->failed)
		tt_warn("warning: --journal: %s does not read (its queue is full); "
			"entries are lost until it accepts them", journalout__path(j->out));
	else if (err < 0 && !j->failed)
		tt_warn("warning: --journal: send to %s: %s; entries are lost until it accepts them",
			journalout__path(j->out), strerror(-err));
	else if (err >= 0 && j->failed)
		tt_warn("--journal: %s accepts entries again (%" PRIu64 " lost)",
			journalout__path(j->out), j->lost - j->lost_said);
	if (err >= 0 && j->failed)
		j->lost_said = j->lost;
	j->failed = err < 0;
}

/* What the logfmt sink wrote since the last call: the memstream is rewound each time. */
static const char *fmt_text(struct tt_journal *j, size_t *len)
{
	fflush(j->mem);
	*len = j->len;
	rewind(j->mem);
	return j->text;
}

bool journal__available(void)
{
#ifdef TT_NO_LIBSYSTEMD
	return false;
#else
	return true;
#endif
}

struct tt_journal *journal__new(const struct tt_sink_opts *lines, uint32_t netns)
{
	struct tt_journal *j;

	if (!journal__available()) {
		tt_err("--journal: this build of tcptrail has no libsystemd (use --syslog)");
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		goto oom;
	j->out = journalout__new(NULL);
	if (!j->out) {
		tt_err("--journal: %s", strerror(errno));
		journal__free(j);
		return NULL;
	}
	/* journald's native protocol is datagrams only */
	if (tt_daemon_socket_check("--journal", journalout__path(j->out), true,
				   "no journald here (--syslog is for hosts without systemd)")) {
		journal__free(j);
		return NULL;
	}
	j->netns = netns;
	j->mem = open_memstream(&j->text, &j->len);
	if (!j->mem)
		goto oom;
	j->fmt = sink__new(&(struct tt_sink_opts){ .out = j->mem, .logfmt = true,
					     .wall_offset_ns = lines->wall_offset_ns,
					     .own_netns = lines->own_netns,
					     .every_netns = lines->every_netns });
	if (!j->fmt)
		goto oom;
	return j;
oom:
	tt_err("--journal: %s", strerror(ENOMEM));
	journal__free(j);
	return NULL;
}

void journal__free(struct tt_journal *j)
{
	if (!j)
		return;
	/* the final summary was sent (or not) by now */
	if (j->lost)
		tt_warn("warning: --journal: %" PRIu64 " %s lost: %s did not reach %s",
			j->lost, j->lost == 1 ? "entry was" : "entries were",
			j->lost == 1 ? "it" : "they", journalout__path(j->out));
	journalout__free(j->out);
	free(j->e.buf);
	sink__free(j->fmt);
	if (j->mem)
		fclose(j->mem);
	free(j->text);
	free(j);
}

void journal__set_scope(struct tt_journal *j, struct tt_ident *ident, const char *container,
			const char *cgroup_path)
{
	j->ident = ident;
	j->container = container && container[0] ? container : NULL;
	j->cgroup = cgroup_path && cgroup_path[0] ? cgroup_path : NULL;
}

/* CONTAINER= and CGROUP= of the entries that concern the whole trace */
static void scope_fields(struct tt_journal *j)
{
	if (j->container)
		field(&j->e, "CONTAINER=%s", j->container);
	if (j->cgroup)
		text_field(&j->e, "CGROUP", j->cgroup, 255);
}

static void addr_field(struct entry *e, const char *name, uint8_t family, const uint8_t *addr)
{
	char a[TT_ADDR_STRLEN];

	tt_addr_str(a, family, addr);
	field(e, "%s=%s", name, a);
}

static const char *family_name(uint8_t family)
{
	return family == TT_AF_INET6 ? "ipv6" : "ipv4";
}

struct lctx {
	struct tt_journal *j;
	uint64_t t_ns, interval_ns;
};

static void overflow_entry(const struct tt_listener_stats *ls, void *ctx)
{
	struct lctx *c = ctx;
	struct tt_journal *j = c->j;
	uint64_t dropped = ls->i_accept_overflows + ls->i_syn_drops;
	const struct tt_cgname *n;
	const char *text;
	size_t len;

	if (!dropped && !ls->i_syn_cookies)
		return;
	/* SYN cookies answer for the queue: nothing was dropped, but it is full */
	begin(j, "overflow", dropped ? LOG_WARNING : LOG_NOTICE);
	field(&j->e, "NETNS=%u", ls->netns);
	field(&j->e, "FAMILY=%s", family_name(ls->family));
	addr_field(&j->e, "LOCAL_ADDR", ls->family, ls->addr);
	field(&j->e, "LOCAL_PORT=%u", ls->port);
	if (ls->owner_pid) {
		field(&j->e, "PID=%u", ls->owner_pid);
		text_field(&j->e, "COMM", ls->owner_comm, sizeof(ls->owner_comm));
	}
	/* the listener's own container, as a close_wait entry names its owner's */
	n = j->ident && (ls->cgroup || ls->owner_pid) ?
		ident__lookup(j->ident, ls->cgroup, ls->owner_pid) : NULL;
	if (n && n->container[0])
		field(&j->e, "CONTAINER=%s", n->container);
	if (n && n->pod[0])
		field(&j->e, "POD=%s", n->pod);
	if (n)
		text_field(&j->e, "CGROUP", n->path, 255);
	field(&j->e, "MAX_BACKLOG=%u", ls->max_backlog);
	field(&j->e, "ACCEPT_OVERFLOWS=%" PRIu64, ls->i_accept_overflows);
	field(&j->e, "SYN_DROPS=%" PRIu64, ls->i_syn_drops);
	field(&j->e, "SYN_COOKIES=%" PRIu64, ls->i_syn_cookies);
	field(&j->e, "INTERVAL_NS=%" PRIu64, c->interval_ns);
	sink__listener_overflow(j->fmt, ls, c->t_ns, c->interval_ns);
	text = fmt_text(j, &len);
	send_entry(j, text, len);
}

void journal__summary(struct tt_journal *j, const struct tt_summary *sum)
{
	const struct tt_engine_stats *iv = sum->interval, *tot = sum->total;
	const char *text;
	size_t len;

	sink__summary(j->fmt, sum);
	text = fmt_text(j, &len);
	begin(j, "summary", sink_summary_warns(sum) ? LOG_WARNING : LOG_INFO);
	if (j->netns)
		field(&j->e, "NETNS=%u", j->netns);
	scope_fields(j);
	field(&j->e, "FINAL=%d", sum->final);
	field(&j->e, "INTERVAL_NS=%" PRIu64, sum->interval_ns);
	field(&j->e, "OPENED=%" PRIu64, iv->flows_opened);
	field(&j->e, "CLOSED=%" PRIu64, iv->flows_closed);
	field(&j->e, "ACTIVE=%zu", tot->active);
	field(&j->e, "REFUSED=%" PRIu64, iv->refused);
	field(&j->e, "RESETS=%" PRIu64, iv->resets);
	field(&j->e, "TIME_WAIT=%" PRIu64, iv->time_wait);
	for (int i = 0; i < TT_FAIL_ENDS; i++)
		field(&j->e, "%s=%" PRIu64, tt_fail_ends[i].field, iv->ends[tt_fail_ends[i].end]);
	field(&j->e, "LOST=%" PRIu64, sum->lost_total);
	field(&j->e, "LOST_INTERVAL=%" PRIu64, sum->lost_interval);
	field(&j->e, "EVICTED=%" PRIu64, tot->evicted);
	field(&j->e, "GONE=%" PRIu64, tot->gone);
	field(&j->e, "GONE_INTERVAL=%" PRIu64, iv->gone);
	field(&j->e, "INVALID=%" PRIu64, sum->invalid);
	field(&j->e, "ACCEPT_OVERFLOWS=%" PRIu64, iv->accept_overflows);
	field(&j->e, "SYN_DROPS=%" PRIu64, iv->syn_drops);
	field(&j->e, "SYN_COOKIES=%" PRIu64, iv->syn_cookies);
	field(&j->e, "INFERRED=%" PRIu64, iv->inferred);
	send_entry(j, text, len);
	if (sum->eng) {
		struct lctx c = { .j = j, .t_ns = sum->t_ns, .interval_ns = sum->interval_ns };

		engine__for_each_listener_stats(sum->eng, overflow_entry, &c);
	}
}

void journal__close_wait(struct tt_journal *j, const struct tt_cw_report *r)
{
	const struct tt_cw_group *g = r->g;
	uint64_t t_ns = r->t_ns, min_age_ns = r->min_age_ns;
	const char *text;
	size_t len;

	for (size_t i = 0; i < r->n; i++, g++) {
		sink__close_wait(j->fmt, g, 1, t_ns, min_age_ns);
		text = fmt_text(j, &len);
		begin(j, "close_wait", LOG_WARNING);
		field(&j->e, "PID=%u", g->pid);
		text_field(&j->e, "COMM", g->comm, sizeof(g->comm));
		if (g->cmdline[0])
			text_field(&j->e, "CMDLINE", g->cmdline, sizeof(g->cmdline));
		field(&j->e, "NETNS=%u", g->netns);
		if (g->container)
			field(&j->e, "CONTAINER=%s", g->container);
		if (g->pod)
			field(&j->e, "POD=%s", g->pod);
		if (g->cgroup)
			text_field(&j->e, "CGROUP", g->cgroup, 255);
		field(&j->e, "FAMILY=%s", family_name(g->family));
		field(&j->e, "SERVICE=%s", g->kind == TT_SVC_LOCAL ? "local" : "remote");
		if (g->kind != TT_SVC_LOCAL)
			addr_field(&j->e, "SERVICE_ADDR", g->family, g->addr);
		field(&j->e, "SERVICE_PORT=%u", g->port);
		field(&j->e, "COUNT=%u", g->count);
		field(&j->e, "SEEDED=%u", g->seeded);
		field(&j->e, "UNACCEPTED=%u", g->unaccepted);
		field(&j->e, "PREVIOUS_COUNT=%u", g->prev_count);
		field(&j->e, "TREND=%s", tt_trend_name(g->trend));
		field(&j->e, "OLDEST_AGE_NS=%" PRIu64, g->oldest_age_ns);
		field(&j->e, "MIN_AGE_NS=%" PRIu64, min_age_ns);
		send_entry(j, text, len);
	}
	if (r->rest_groups) {
		sink__close_wait_report(j->fmt, &(struct tt_cw_report){
			.t_ns = t_ns, .min_age_ns = min_age_ns, .rest_groups = r->rest_groups,
			.rest_count = r->rest_count, .shown = r->shown });
		text = fmt_text(j, &len);
		begin(j, "close_wait_not_shown", LOG_WARNING);
		field(&j->e, "GROUPS=%zu", r->rest_groups);
		field(&j->e, "COUNT=%" PRIu64, r->rest_count);
		field(&j->e, "SHOWN=%zu", r->shown);
		field(&j->e, "MIN_AGE_NS=%" PRIu64, min_age_ns);
		send_entry(j, text, len);
	}
}

void journal__time_wait(struct tt_journal *j, const struct tw_report *r)
{
	const char *text, *line, *nl;
	size_t len;

	/* one line for the report, then one per destination past --tw-warn, in order */
	sink__time_wait(j->fmt, r);
	text = fmt_text(j, &len);
	nl = memchr(text, '\n', len);
	begin(j, "time_wait", LOG_INFO);
	if (r->netns)
		field(&j->e, "NETNS=%u", r->netns);
	scope_fields(j);
	field(&j->e, "INTERVAL_NS=%" PRIu64, r->interval_ns);
	field(&j->e, "ENTRIES=%" PRIu64, r->entries);
	field(&j->e, "POPULATION=%" PRId64, r->population);
	field(&j->e, "POPULATION_SOURCE=%s", r->estimated ? "estimate_60s" : "sock_diag");
	field(&j->e, "BY_CLIENT=%" PRIu64, r->by_client);
	field(&j->e, "BY_SERVER=%" PRIu64, r->by_server);
	send_entry(j, text, nl ? (size_t)(nl - text) : len);
	line = nl ? nl + 1 : text + len;
	for (size_t i = 0; i < r->n_pressure && line < text + len; i++) {
		const struct tw_pressure *p = &r->pressure[i];

		if (!p->warn)
			continue;
		nl = memchr(line, '\n', (size_t)(text + len - line));
		begin(j, "port_pressure", LOG_WARNING);
		/* the namespace whose ports these are, host-wide too */
		if (p->netns || r->netns)
			field(&j->e, "NETNS=%u", p->netns ? p->netns : r->netns);
		scope_fields(j);
		field(&j->e, "FAMILY=%s", family_name(p->family));
		addr_field(&j->e, "REMOTE_ADDR", p->family, p->addr);
		field(&j->e, "REMOTE_PORT=%u", p->port);
		field(&j->e, "SHARE_PCT=%.1f", p->share_pct);
		field(&j->e, "TIME_WAIT=%" PRIu64, p->time_wait);
		field(&j->e, "IN_USE=%" PRIu64, p->in_use);
		field(&j->e, "RANGE=%u", p->range);
		field(&j->e, "TW_REUSE=%s", p->tw_reuse ? "applies" : "does_not_apply");
		send_entry(j, line, nl ? (size_t)(nl - line) : (size_t)(text + len - line));
		line = nl ? nl + 1 : text + len;
	}
}

void journal__notify(const char *state)
{
#ifndef TT_NO_LIBSYSTEMD
	int err = sd_notify(0, state);

	if (err < 0)
		tt_warn("warning: sd_notify %s: %s", state, strerror(-err));
#else
	(void)state;
#endif
}

/* --journal as a sink: summaries and reports, an entry each */
static void journal_summary_op(void *priv, const struct tt_summary *sum)
{
	journal__summary(priv, sum);
}

static void journal_close_wait_op(void *priv, const struct tt_cw_report *r)
{
	journal__close_wait(priv, r);
}

static void journal_time_wait_op(void *priv, const struct tw_report *r)
{
	journal__time_wait(priv, r);
}

static void journal_clock_op(void *priv, int64_t wall_offset_ns)
{
	struct tt_journal *j = priv;

	sink__set_clock(j->fmt, wall_offset_ns);
}

static void journal_free_op(void *priv)
{
	journal__free(priv);
}

const struct tt_sink_ops tt_journal_sink_ops = {
	.name = "journal",
	.summary = journal_summary_op,
	.close_wait = journal_close_wait_op,
	.time_wait = journal_time_wait_op,
	.clock = journal_clock_op,
	.free = journal_free_op,
};
