// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The app's clock: how long a live source may wait before the next tick
 * (app__wait_ms), so that summaries keep to their grid.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "app.h"
#include "opts.h"
#include "util.h"
#include "tt_test.h"

#define MS(x) ((uint64_t)(x) * 1000000ull)

/* app__tick() with its summary line on stdout sent to /dev/null */
static int quiet_tick(struct app *a, uint64_t now_ns)
{
	int saved, null, ret;

	fflush(stdout);
	saved = dup(1);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, 1);
	ret = app__tick(a, now_ns);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, 1);
		close(saved);
	}
	if (null >= 0)
		close(null);
	return ret;
}

TEST(app_wait_ends_at_the_summary_due)
{
	/* a replay's app (read_path): no TIME-WAIT count of this host to wait for */
	struct tt_opts o = { .quiet_flows = true, .interval_ns = MS(100), .max_flows = 64,
			     .close_wait_age_ns = MS(10000), .tw_warn_pct = 50, .read_path = "-" };
	uint64_t t0 = MS(5000);
	int level = tt_verbosity;
	struct app a;

	tt_verbosity = -1;
	REQUIRE(app__init(&a, &o, 0, false) == 0);
	tt_verbosity = level;
	/* not started: the source's own wait */
	CHECK_EQ_INT(app__wait_ms(&a, t0, 50), 50);
	app__start(&a, t0);
	CHECK_EQ_INT(app__wait_ms(&a, t0, 50), 50);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(70), 50), 30);
	/* a part of a ms left is a whole one: never a tick just before the due time */
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(99) + 500000, 50), 1);
	/* due, or past it (waiting for its count): soon again */
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(100), 50), 1);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(109), 50), 1);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(150), 50), 5);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(1100), 50), 20);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(1100), 10), 10);
	/* the summary made, the next one is the wait's end */
	CHECK_EQ_INT(quiet_tick(&a, t0 + MS(100)), 0);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(100), 50), 50);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(185), 50), 15);
	app__free(&a);

	/* -i 0: no summary to wait for */
	o.interval_ns = 0;
	tt_verbosity = -1;
	REQUIRE(app__init(&a, &o, 0, false) == 0);
	tt_verbosity = level;
	app__start(&a, t0);
	CHECK_EQ_INT(app__wait_ms(&a, t0 + MS(100), 50), 50);
	app__free(&a);
}
