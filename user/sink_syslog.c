// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: --syslog.  Summaries and reports as logfmt lines (sink_logfmt.c),
 * gathered in memory and sent a datagram a line (syslogout.c) when the
 * summary is done, warnings as such.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "syslogout.h"
#include "util.h"

struct syslog_sink {
	struct tt_sink *fmt;	/* logfmt lines into mem */
	FILE *mem;
	char *buf;
	size_t len;
	struct tt_syslog *sl;	/* the socket they go to */
	bool failed;		/* the last send failed (said once) */
	uint64_t lost_said;	/* lines lost that a warning has counted */
};

/* Lines lost since the last warning that counted them. */
static uint64_t newly_lost(struct syslog_sink *s)
{
	uint64_t lost = syslogout__lost(s->sl), n = lost - s->lost_said;

	s->lost_said = lost;
	return n;
}

struct lctx {
	struct tt_sink *fmt;
	uint64_t t_ns, interval_ns;
};

static void overflow_line(const struct tt_listener_stats *ls, void *ctx)
{
	const struct lctx *c = ctx;

	sink__listener_overflow(c->fmt, ls, c->t_ns, c->interval_ns);
}

/* The summary, then a line (a warning) per listener that turned connections away. */
static void summary_op(void *priv, const struct tt_summary *sum)
{
	struct syslog_sink *s = priv;
	struct lctx c = { .fmt = s->fmt, .t_ns = sum->t_ns, .interval_ns = sum->interval_ns };

	sink__summary(s->fmt, sum);
	if (sum->eng)
		engine__for_each_listener_stats(sum->eng, overflow_line, &c);
}

static void close_wait_op(void *priv, const struct tt_cw_report *r)
{
	struct syslog_sink *s = priv;

	sink__close_wait_report(s->fmt, r);
}

static void time_wait_op(void *priv, const struct tw_report *r)
{
	struct syslog_sink *s = priv;

	sink__time_wait(s->fmt, r);
}

/*
 * Hand what the formatter wrote to syslog, a line each, warnings as such.
 * Only the first len bytes are this summary's: the memstream is rewound,
 * not emptied, and what an earlier, longer one wrote lies beyond them.
 */
static void flush_op(void *priv, const struct tt_summary *sum)
{
	struct syslog_sink *s = priv;
	uint64_t before = syslogout__lost(s->sl);
	bool lost;
	int n;

	(void)sum;
	fflush(s->mem);
	n = syslogout__send_lines(s->sl, s->buf, s->len);
	/* some lines of the batch may have gone through: what counts is whether any was lost */
	lost = syslogout__lost(s->sl) > before;
	if (lost && n == -EAGAIN && !s->failed)
		tt_warn("warning: --syslog: %s does not read fast enough (its queue is full); "
			"lines are lost until it accepts them", syslogout__path(s->sl));
	else if (lost && !s->failed)
		tt_warn("warning: --syslog: send to %s: %s; lines are lost until it accepts them",
			syslogout__path(s->sl), strerror(n < 0 ? -n : EIO));
	else if (!lost && s->failed)
		tt_warn("--syslog: %s accepts lines again (%" PRIu64 " lost)",
			syslogout__path(s->sl), newly_lost(s));
	s->failed = lost;
	rewind(s->mem);
}

static void free_op(void *priv)
{
	struct syslog_sink *s = priv;

	if (!s)
		return;
	/* the final summary was sent (or not) by now */
	if (s->sl && syslogout__lost(s->sl))
		tt_warn("warning: --syslog: %" PRIu64 " %s lost: %s did not take %s",
			syslogout__lost(s->sl), syslogout__lost(s->sl) == 1 ? "line was" :
			"lines were", syslogout__path(s->sl),
			syslogout__lost(s->sl) == 1 ? "it" : "them");
	sink__free(s->fmt);
	if (s->mem)
		fclose(s->mem);
	free(s->buf);
	syslogout__free(s->sl);
	free(s);
}

static void clock_op(void *priv, int64_t wall_offset_ns)
{
	struct syslog_sink *s = priv;

	sink__set_clock(s->fmt, wall_offset_ns);
}

static const struct tt_sink_ops syslog_sink_ops = {
	.name = "syslog",
	.summary = summary_op,
	.close_wait = close_wait_op,
	.time_wait = time_wait_op,
	.flush = flush_op,
	.clock = clock_op,
	.free = free_op,
};

int syslogout__sink(struct tt_sink_ref *ref, const struct tt_sink_opts *fmt, struct tt_ident *id)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));
	struct tt_sink_opts o = *fmt;

	if (!s)
		return -ENOMEM;
	s->mem = open_memstream(&s->buf, &s->len);
	if (s->mem) {
		o.out = s->mem;
		o.logfmt = true;
		o.json = false;
		s->fmt = sink__new(&o);
	}
	s->sl = syslogout__new(NULL);
	if (!s->fmt || !s->sl) {
		free_op(s);
		return -ENOMEM;
	}
	/* as --journal without journald: said before anything is attached */
	if (tt_daemon_socket_check("--syslog", syslogout__path(s->sl), false,
				   "no syslog daemon here (--journal is for systemd hosts)")) {
		free_op(s);
		return -ENOENT;
	}
	sink__set_ident(s->fmt, id);
	*ref = (struct tt_sink_ref){ .ops = &syslog_sink_ops, .priv = s };
	return 0;
}
