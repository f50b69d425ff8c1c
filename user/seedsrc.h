/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Source: the start-up seed, the sockets that exist when tracing starts
 * (seed.c), given to the app as records by the one driver loop
 * (source__drive).  Live only, before the ring buffer's source.
 */
#ifndef TT_SEEDSRC_H
#define TT_SEEDSRC_H

#include "app.h"
#include "opts.h"
#include "source.h"

/* -p: tells the kernel side of one of the process's seeded sockets; 0 or -errno */
typedef int (*tt_own_cb)(void *ctx, const struct tt_event *e);

/*
 * Seed every namespace the trace covers (seed__run, SEED_ALL) and hand the
 * records to the app; a seed that cannot be read is a warning, not an end.
 * Under -p, own (if not NULL) is given each record as soon as the seed is
 * read, before the app has any.
 */
enum tt_drive_end seedsrc__drive(const struct tt_opts *o, struct app *a, tt_own_cb own,
				 void *own_ctx);

#endif /* TT_SEEDSRC_H */
