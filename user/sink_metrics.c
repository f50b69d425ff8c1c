// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sinks: Prometheus.  --metrics-file: at the start, and at the end of each
 * summary, the exposition of that moment (metrics.c renders it) replaces
 * the file.
 * --metrics-listen: /metrics over HTTP, served between the source's
 * batches, rendered at a scrape (at most once a second) by the app's
 * render callback, from the engine and reports of that moment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "metrics.h"
#include "sink.h"
#include "util.h"

struct metrics_sink {
	const char *path;
	uint32_t tw_warn_pct;
	const struct tt_duration_hist *duration;
	tt_metrics_render_fn start_render;
	bool (*start_ready)(void *ctx);
	void *ctx;
	bool start_pending;	/* the start's write waits for start_ready() */
	int err;		/* the last write's, said once until it changes */
	int held;		/* the file written last, open: its lock (metrics__write_file) */
	uint64_t missed;	/* summaries not written since */
};

/* The file's write (err): a failure said once, until it changes. */
static void written(struct metrics_sink *m, int err)
{
	/* said when it starts failing (or fails otherwise), and when it is written again */
	if (err && err != m->err)
		tt_warn("warning: write %s: %s; it keeps its last counts until it can be written",
			m->path, strerror(-err));
	else if (!err && m->err)
		tt_warn("--metrics-file: %s written again (%llu summaries were not)", m->path,
			(unsigned long long)m->missed);
	m->missed = err ? m->missed + 1 : 0;
	m->err = err;
}

/* Replace the file with in's exposition. */
static void write_file(struct metrics_sink *m, const struct tt_metrics_input *in)
{
	written(m, metrics__write_file(m->path, in, &m->held));
}

static void flush_op(void *priv, const struct tt_summary *sum)
{
	/* a summary's counts are newer than the start's */
	((struct metrics_sink *)priv)->start_pending = false;
	struct metrics_sink *m = priv;

	write_file(m, &(struct tt_metrics_input){
		.eng = sum->eng, .cw = sum->cw, .n_cw = sum->n_cw,
		.tw_population = sum->tw->population, .tw = sum->tw,
		.tw_warn_pct = m->tw_warn_pct, .lost_total = sum->lost_total,
		.invalid_total = sum->invalid, .duration = m->duration,
	});
}

/*
 * The counts at the start, written at once: the file is locked from then
 * on (a second run naming it is refused, not only after our first
 * summary), and a scraper sees tcptrail from its start.
 */
static void start_op(void *priv, const struct tt_engine *eng)
{
	struct metrics_sink *m = priv;

	if (m->start_render) {
		m->start_pending = true;
		return;
	}
	write_file(m, &(struct tt_metrics_input){ .eng = eng, .tw_population = -1,
		.tw_warn_pct = m->tw_warn_pct, .duration = m->duration });
}

/* The start's counts, once they are at hand without a wait on the source's thread */
static int tick_op(void *priv, uint64_t now_ns, uint64_t lost, uint64_t evicted)
{
	struct metrics_sink *m = priv;

	(void)now_ns;
	(void)lost;
	(void)evicted;
	if (m->start_pending && (!m->start_ready || m->start_ready(m->ctx))) {
		m->start_pending = false;
		written(m, metrics__write_file_by(m->path, m->start_render, m->ctx, &m->held));
	}
	return 0;
}

static void file_free_op(void *priv)
{
	struct metrics_sink *m = priv;

	if (m->held >= 0)
		close(m->held);
	free(m);
}

static const struct tt_sink_ops metrics_file_ops = {
	.name = "metrics-file",
	.flush = flush_op,
	.start = start_op,
	.tick = tick_op,
	.free = file_free_op,
};

int metrics__file_sink(struct tt_sink_ref *ref, const char *path, uint32_t tw_warn_pct,
		       const struct tt_duration_hist *duration, tt_metrics_render_fn start_render,
		       bool (*start_ready)(void *ctx), void *ctx)
{
	struct metrics_sink *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	*m = (struct metrics_sink){ .path = path, .tw_warn_pct = tw_warn_pct,
				    .duration = duration, .start_render = start_render,
				    .start_ready = start_ready, .ctx = ctx, .held = -1 };
	*ref = (struct tt_sink_ref){ .ops = &metrics_file_ops, .priv = m };
	return 0;
}

static void http_serve_op(void *priv, uint64_t now_ms)
{
	metrics_server__work(priv, now_ms);
}

static void http_free_op(void *priv)
{
	metrics_server__free(priv);
}

static const struct tt_sink_ops metrics_http_ops = {
	.name = "metrics-http",
	.serve = http_serve_op,
	.free = http_free_op,
};

int metrics__http_sink(struct tt_sink_ref *ref, const char *listen_spec,
		       tt_metrics_render_fn render, void *ctx, char *err, size_t errlen)
{
	struct tt_metrics_server *m;
	int ret = metrics_server__new(&m, listen_spec, err, errlen);

	if (ret)
		return ret;
	metrics_server__set_render(m, render, ctx);
	tt_info("serving metrics at http://%s/metrics", metrics_server__address(m));
	*ref = (struct tt_sink_ref){ .ops = &metrics_http_ops, .priv = m };
	return 0;
}
