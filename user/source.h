/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Source: the front of the data path (source -> engine -> sinks).  A source
 * gives records in time order and says what it lost; the live ring buffer
 * (main.c over live.c) and a capture file (replay.c over capread.c) are
 * sources, and so is the start-up seed (seedsrc.c, driven to its end before
 * the live source).  One driver loop, source__drive(), runs each: the
 * source's clock and counters to the app (the summaries, the sinks' ticks),
 * then its records (app__record or app__event: engine, then sinks).
 */
#ifndef TT_SOURCE_H
#define TT_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "app.h"

struct tt_source_ops {
	const char *name;
	/*
	 * Make ready what comes next and set *now_ns to the source's clock (a
	 * capture: the next record's time; live: the clock now).  0, 1 once the
	 * source is at its end, or -errno after a message.
	 */
	int (*next)(void *priv, struct app *a, uint64_t *now_ns);
	/* Records it could not take, since it began. */
	uint64_t (*lost)(void *priv);
	/*
	 * Hand what next() made ready to the app (live: what the ring buffer
	 * holds, waiting up to timeout_ms for it).  0, or -errno after a message.
	 */
	int (*feed)(void *priv, struct app *a, int timeout_ms);
	/*
	 * Optional: true when the next record is at hand without waiting (a
	 * capture's buffered bytes).  The driver writes its output out only
	 * before it may wait; without this op, after every feed (live: each
	 * ring-buffer batch).
	 */
	bool (*ready)(void *priv);
	/*
	 * Optional: the clock (CLOCK_MONOTONIC) at which the source last had
	 * nothing older left unread, 0 never.  A check of the kernel made
	 * before then is no older than the records read (app__set_drained).
	 */
	uint64_t (*drained)(void *priv);
};

enum tt_drive_end {
	TT_DRIVE_ENDED,		/* the source is at its end */
	TT_DRIVE_STOPPED,	/* a signal, or --duration */
	TT_DRIVE_STDOUT,	/* stdout failed (full disk, closed pipe): tt_stdout_failed() says */
	TT_DRIVE_SINK,		/* a sink failed a tick or a record (the capture's disk) */
	TT_DRIVE_ERROR,		/* the source failed, and said why */
};

struct tt_drive {
	volatile sig_atomic_t *stop;	/* set by a signal: stop */
	volatile sig_atomic_t *reopen;	/* set by SIGHUP: reopen -o FILE; NULL: never */
	uint64_t start_ns;		/* the source's clock at the start */
	uint64_t duration_ns;		/* --duration, 0: none */
	bool serve;			/* the sinks' serve between batches (live: /metrics) */
	uint64_t now_ns;		/* out: the source's clock when the loop ended */
};

/*
 * The driver loop: until the source ends or the run stops, next, the
 * source's clock and losses to the app (app__tick: sinks' ticks, summaries),
 * then its records.
 */
enum tt_drive_end source__drive(const struct tt_source_ops *ops, void *priv, struct app *a,
				struct tt_drive *d);

#endif /* TT_SOURCE_H */
