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

struct tt_metrics_input {
	const struct tt_engine *eng;
	const struct tt_cw_group *cw;	/* suspected CLOSE-WAIT leaks */
	size_t n_cw;
	int64_t tw_population;		/* TIME-WAIT sockets now; -1 unknown */
	uint64_t lost_total;
	uint64_t invalid_total;
};

/* Render the whole exposition into f. */
void metrics__render(FILE *f, const struct tt_metrics_input *in);

/* Write it to path through path.tmp + rename(2); 0 or -errno. */
int metrics__write_file(const char *path, const struct tt_metrics_input *in);

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

/* Replace the body served from now on (rendered at each summary). */
int metrics_server__update(struct tt_metrics_server *m, const struct tt_metrics_input *in);

/* The fds to poll, with events set; returns how many were written. */
int metrics_server__pollfds(struct tt_metrics_server *m, struct pollfd *fds, int max);

/* Do whatever work is ready, without blocking; now_ms for deadlines. */
void metrics_server__work(struct tt_metrics_server *m, uint64_t now_ms);

/* The address actually bound ("127.0.0.1:9464"), for messages and tests. */
const char *metrics_server__address(const struct tt_metrics_server *m);

#endif /* TT_METRICS_H */
