/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition: a textfile for node_exporter's collector,
 * written atomically, and an optional /metrics endpoint.  The endpoint is
 * served from the main loop with non-blocking sockets, a bounded number of
 * clients and a deadline each, so a slow or broken client cannot stall
 * tracing.
 */
#ifndef TT_METRICS_H
#define TT_METRICS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include "engine.h"
#include "report.h"
#include "twreport.h"

/*
 * How long connections lived, from their first state to their end: fixed
 * buckets, so a fixed number of series.  Only connections seen from birth to
 * an end of their own count (a seeded or partial flow's start, and an
 * evicted or superseded flow's end, are unknown), and no listeners.
 */
#define TT_DUR_BUCKETS 9
extern const double tt_dur_bounds[TT_DUR_BUCKETS];	/* seconds, the last +Inf */

struct tt_duration_hist {
	uint64_t bucket[TT_DUR_BUCKETS];	/* not cumulative: one bucket per flow */
	uint64_t count;
	double sum_s;
};

void metrics__observe_flow(struct tt_duration_hist *h, const struct tt_flow *f);

struct tt_metrics_input {
	const struct tt_engine *eng;
	const struct tt_cw_group *cw;	/* suspected CLOSE-WAIT leaks */
	size_t n_cw;
	int64_t tw_population;		/* TIME-WAIT sockets now; -1 unknown */
	const struct tw_report *tw;	/* for port pressure; NULL: none known */
	uint32_t tw_warn_pct;		/* --tw-warn, the share that warns */
	uint64_t lost_total;
	uint64_t invalid_total;
	const struct tt_duration_hist *duration;	/* NULL: no histogram */
};

/* Render the whole exposition into f. */
void metrics__render(FILE *f, const struct tt_metrics_input *in);

/* An exposition written by the caller into f: the counts of its moment. */
typedef void (*tt_metrics_render_fn)(FILE *f, void *ctx);

/*
 * Write it to path through path.tmp + rename(2); 0 or -errno.  With held
 * (a fd, -1 at first), the file written keeps an exclusive flock through a
 * fd left in *held, and the previous one's is closed: the file at path is
 * always locked, so that a second tcptrail naming it is refused
 * (outfile__busy).  Close *held at the end.
 */
int metrics__write_file(const char *path, const struct tt_metrics_input *in, int *held);

/* The same, with what render(f, ctx) writes. */
int metrics__write_file_by(const char *path, tt_metrics_render_fn render, void *ctx, int *held);

/*
 * At start, before tracing: can metrics__write_file() write path?  Its
 * directory must exist and take path.tmp, and path must not be a
 * directory.  0, or -errno with a one-line reason in err.
 */
int metrics__check_file(const char *path, char *err, size_t errlen);

struct tt_metrics_server;

/*
 * "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (127.0.0.1) into *ss; names are
 * not resolved.  0, or -EINVAL with why the spec is wrong (naming the port
 * if the port is) in why.
 */
int metrics__parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			  char *why, size_t whylen);

/* Listen on "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (127.0.0.1). */
int metrics_server__new(struct tt_metrics_server **out, const char *listen_spec,
			char *err, size_t errlen);
void metrics_server__free(struct tt_metrics_server *m);

/* Replace the body served from now on. */
int metrics_server__update(struct tt_metrics_server *m, const struct tt_metrics_input *in);

/*
 * Render on demand: a request finding the body older than one second (or
 * none) has render(f, ctx) write a fresh one first, so the first scrape,
 * and every scrape under -i 0, sees the counts of that moment.
 */
void metrics_server__set_render(struct tt_metrics_server *m, tt_metrics_render_fn render,
				void *ctx);

/* The fds to poll, with events set; returns how many were written. */
int metrics_server__pollfds(struct tt_metrics_server *m, struct pollfd *fds, int max);

/* Do whatever work is ready, without blocking; now_ms for deadlines. */
void metrics_server__work(struct tt_metrics_server *m, uint64_t now_ms);

/* The address actually bound ("127.0.0.1:9464"), for messages and tests. */
const char *metrics_server__address(const struct tt_metrics_server *m);

/*
 * The --metrics-file sink (sink_metrics.c): path rewritten at the end of
 * every summary.  duration: the app's histogram, read then.  With
 * start_render, the first write is what start_render(f, ctx) writes, the
 * counts of that moment (a scrape's), so that a restart shows the leaks and
 * TIME-WAIT it finds at once, not only after its first summary: at the
 * first tick at which start_ready(ctx) says that can be done without
 * waiting (the TIME-WAIT count asked for at the start is in).  0 or -ENOMEM.
 */
struct tt_sink_ref;
int metrics__file_sink(struct tt_sink_ref *ref, const char *path, uint32_t tw_warn_pct,
		       const struct tt_duration_hist *duration, tt_metrics_render_fn start_render,
		       bool (*start_ready)(void *ctx), void *ctx);

/*
 * The --metrics-listen sink (sink_metrics.c): /metrics on listen_spec,
 * served between the source's batches (tt_sink_ops.serve); a scrape finding
 * the body older than a second has render(f, ctx) write the counts of that
 * moment.  0, or -errno with why in err.
 */
int metrics__http_sink(struct tt_sink_ref *ref, const char *listen_spec,
		       tt_metrics_render_fn render, void *ctx, char *err, size_t errlen);

#endif /* TT_METRICS_H */
