/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture format, inside: what the writer (capwrite.c, a sink) and the
 * reader (capread.c, a source) share.  Not for the rest of the program:
 * capture.h is, and include/ttcap.h is the format itself.
 */
#ifndef TT_CAPFORMAT_H
#define TT_CAPFORMAT_H

#include "capture.h"

#define FLUSH_EVERY_NS	1000000000ull
/*
 * No monotonic clock reaches 2^62 ns (146 years of uptime), nor a wall
 * clock offset: refusing them keeps every ts + offset inside an int64_t.
 */
#define TIME_LIMIT	(1ull << 62)
#define BUF_SIZE	(1 << 16)

/*
 * struct tt_event in file byte order (little-endian) from host order, or
 * back: the same swaps either way.  A no-op on little-endian hosts.
 */
void ttcap_event_swap(struct tt_event *dst, const struct tt_event *src);
void ttcap_counters_swap(struct ttcap_counters *c);

/* struct tt_flowrec in file byte order from host order, or back. */
void ttcap_flowrec_swap(struct tt_flowrec *dst, const struct tt_flowrec *src);

#endif /* TT_CAPFORMAT_H */
