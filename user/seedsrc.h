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

/*
 * Seed every namespace the trace covers (seed__run, SEED_ALL) and hand the
 * records to the app; a seed that cannot be read is a warning, not an end.
 */
enum tt_drive_end seedsrc__drive(const struct tt_opts *o, struct app *a);

#endif /* TT_SEEDSRC_H */
