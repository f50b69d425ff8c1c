// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source: the start-up seed (seed.c) as a source of its own.  next() reads
 * the sockets that exist (seed__run) into a buffer, feed() hands the records
 * to the app (app__record: the capture writer, then the engine) in the
 * order the seed made them, then the source ends; it loses nothing.  The
 * driver runs it with source__drive() before the live source, as the
 * records must reach the engine before the ring buffer's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "seedsrc.h"
#include "seed.h"
#include "util.h"

struct seed_source {
	const struct tt_opts *o;
	tt_own_cb own;
	void *own_ctx;
	struct tt_event *ev;
	size_t n, cap;
	int ret;		/* seed__run()'s: records, or -errno */
	bool read, fed;
};

static int collect(void *ctx, const struct tt_event *e)
{
	struct seed_source *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct tt_event *ev = realloc(s->ev, cap * sizeof(*ev));

		if (!ev)
			return -ENOMEM;
		s->ev = ev;
		s->cap = cap;
	}
	s->ev[s->n++] = *e;
	return 0;
}

/* -p: the kernel side follows the process's seeded sockets from now on */
static void own_all(struct seed_source *s)
{
	size_t failed = 0;
	int err = 0;

	for (size_t i = 0; i < s->n; i++) {
		int ret = s->own(s->own_ctx, &s->ev[i]);

		if (ret) {
			failed++;
			err = ret;
		}
	}
	if (failed)
		tt_warn("warning: -p: %zu of the %zu sockets process %u had at start cannot be "
			"followed (%s): only what it does to them itself is seen",
			failed, s->n, s->o->pid, strerror(-err));
}

static int seed_next(void *priv, struct app *a, uint64_t *now_ns)
{
	struct seed_source *s = priv;
	struct timespec ts;

	(void)a;
	if (s->fed)
		return 1;
	/*
	 * The clock as the walk begins, every record stamped after it: the
	 * tick it brings (the capture writer's, the ladder's) finds nothing
	 * to do, as when the records went in before the loop.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*now_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (!s->read) {
		s->read = true;
		s->ret = seed__run(s->o, SEED_ALL, collect, s, NULL);
		if (s->o->pid && s->own)
			own_all(s);
	}
	return 0;
}

static uint64_t seed_lost(void *priv)
{
	(void)priv;
	return 0;
}

static int seed_feed(void *priv, struct app *a, int timeout_ms)
{
	struct seed_source *s = priv;
	int n = s->ret;

	(void)timeout_ms;
	s->fed = true;
	/*
	 * A record the app refuses (the capture's disk failed) stops the
	 * seed, and the loop that follows sees why at its first tick.
	 */
	for (size_t i = 0; i < s->n; i++)
		if (app__record(a, &s->ev[i])) {
			n = -ECANCELED;
			break;
		}
	free(s->ev);
	s->ev = NULL;
	s->n = s->cap = 0;
	if (n < 0)
		tt_warn("warning: could not read existing sockets (%s): only new connections "
			"are tracked", strerror(-n));
	else
		tt_debug("seeded %d existing sockets", n);
	return 0;
}

static const struct tt_source_ops seed_source_ops = {
	.name = "seed", .next = seed_next, .lost = seed_lost, .feed = seed_feed,
};

enum tt_drive_end seedsrc__drive(const struct tt_opts *o, struct app *a, tt_own_cb own,
				 void *own_ctx)
{
	struct seed_source s = { .o = o, .own = own, .own_ctx = own_ctx };
	/* no stop: a signal during start-up is seen by the live loop, after the seed as before */
	struct tt_drive d = { .stop = NULL };
	enum tt_drive_end end;

	end = source__drive(&seed_source_ops, &s, a, &d);
	free(s.ev);
	return end;
}
