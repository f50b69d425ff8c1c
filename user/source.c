// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source: the one driver loop (source.h).  Records in, engine, sinks out:
 * nothing downstream drives the source.
 */
#include <stdio.h>
#include "source.h"

enum tt_drive_end source__drive(const struct tt_source_ops *ops, void *priv, struct app *a,
				struct tt_drive *d)
{
	uint64_t now = d->start_ns;
	int err;

	d->now_ns = now;
	while (!(d->stop && *d->stop)) {
		if (d->reopen && *d->reopen) {
			*d->reopen = 0;
			app__reopen_output(a);
		}
		err = ops->next(priv, a, &now);
		if (err < 0)
			return TT_DRIVE_ERROR;
		if (err > 0)
			return TT_DRIVE_ENDED;
		d->now_ns = now;
		app__set_lost(a, ops->lost(priv));
		if (ops->drained)
			app__set_drained(a, ops->drained(priv));
		/* only the capture writer fails a record or a tick */
		if (app__tick(a, now))
			return TT_DRIVE_SINK;
		if (d->serve)
			app__serve(a, now / 1000000);
		if (d->duration_ns && now - d->start_ns >= d->duration_ns)
			return TT_DRIVE_STOPPED;
		if (ops->feed(priv, a, app__wait_ms(a, now, 50)) < 0)
			return TT_DRIVE_ERROR;
		/*
		 * The batch's lines out in one write (stdout is fully
		 * buffered), before the source may wait for more: a
		 * capture's records are a batch until its buffer runs dry.
		 */
		if (!ops->ready || !ops->ready(priv))
			fflush(stdout);
		if (ferror_unlocked(stdout))
			return TT_DRIVE_STDOUT;
	}
	return TT_DRIVE_STOPPED;
}
