// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture format: the byte order of a record in a capture file, and the
 * check that a record read from one (or about to be written) is one the
 * engine can take.  The writer (capwrite.c) and reader (capread.c) share it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>
#include "capformat.h"
#include "flowrec.h"
#include "modes.h"
#include "opts.h"
#include "outfile.h"
#include "sink.h"
#include "util.h"


_Static_assert(sizeof(struct tt_event) == 128, "capture format");
_Static_assert(sizeof(struct tt_flowrec) == TTCAP_FLOW_SIZE, "capture format");
/* the offsets include/CAPTURE.md gives for a FLOW payload */
_Static_assert(offsetof(struct tt_flowrec, cgroup) == 24 &&
	       offsetof(struct tt_flowrec, saddr) == 48 &&
	       offsetof(struct tt_flowrec, task_pid) == 80 &&
	       offsetof(struct tt_flowrec, task_comm) == 96 &&
	       offsetof(struct tt_flowrec, bytes_sent) == 128 &&
	       offsetof(struct tt_flowrec, ts_ns) == 160 &&
	       offsetof(struct tt_flowrec, old_state) == 224 &&
	       offsetof(struct tt_flowrec, tflags) == 240, "capture format");

/*
 * struct tt_event in file byte order (little-endian) from host order, or
 * back: the same swaps either way.  A no-op on little-endian hosts.
 */
void ttcap_event_swap(struct tt_event *dst, const struct tt_event *src)
{
	*dst = *src;
#if __BYTE_ORDER == __BIG_ENDIAN
	dst->sport = htole16(src->sport);
	dst->dport = htole16(src->dport);
	dst->cpu = htole16(src->cpu);
	dst->netns = htole32(src->netns);
	dst->pid = htole32(src->pid);
	dst->tgid = htole32(src->tgid);
	dst->cgroup = htole64(src->cgroup);
	dst->ts_ns = htole64(src->ts_ns);
	dst->sk = htole64(src->sk);
	dst->cookie = htole64(src->cookie);
	for (int i = 0; i < 6; i++)
		dst->aux[i] = htole32(src->aux[i]);
#endif
}

void ttcap_flowrec_swap(struct tt_flowrec *dst, const struct tt_flowrec *src)
{
	*dst = *src;
#if __BYTE_ORDER == __BIG_ENDIAN
	dst->sport = htole16(src->sport);
	dst->dport = htole16(src->dport);
	dst->cpu = htole16(src->cpu);
	dst->netns = htole32(src->netns);
	dst->sk_err = htole32(src->sk_err);
	dst->reserved = htole16(src->reserved);
	dst->cgroup = htole64(src->cgroup);
	dst->sk = htole64(src->sk);
	dst->cookie = htole64(src->cookie);
	for (int i = 0; i < 2; i++) {
		dst->task_pid[i] = htole32(src->task_pid[i]);
		dst->task_tgid[i] = htole32(src->task_tgid[i]);
	}
	dst->bytes_sent = htole64(src->bytes_sent);
	dst->bytes_received = htole64(src->bytes_received);
	dst->segs_out = htole32(src->segs_out);
	dst->segs_in = htole32(src->segs_in);
	dst->retransmits = htole32(src->retransmits);
	dst->srtt_us = htole32(src->srtt_us);
	for (int i = 0; i < TT_FR_STATES; i++)
		dst->ts_ns[i] = htole64(src->ts_ns[i]);
#endif
}

void ttcap_counters_swap(struct ttcap_counters *c)
{
	c->ts_ns = htole64(c->ts_ns);
	c->lost = htole64(c->lost);
	c->evicted = htole64(c->evicted);
	c->events = htole64(c->events);
}

int capture__check_event(const struct tt_event *e, char *why, size_t len)
{
	if (e->type == 0 || e->type >= TT_EV_MAX || e->type == TT_EV_FLOW) {
		snprintf(why, len, "impossible event type %u", e->type);
		return -EINVAL;
	}
	if (e->old_state >= TT_STATE_MAX || e->new_state >= TT_STATE_MAX) {
		snprintf(why, len, "impossible TCP state %u",
			 e->old_state >= TT_STATE_MAX ? e->old_state : e->new_state);
		return -EINVAL;
	}
	if (e->family != TT_AF_INET && e->family != TT_AF_INET6) {
		snprintf(why, len, "impossible address family %u", e->family);
		return -EINVAL;
	}
	if (e->ts_ns >= TIME_LIMIT) {
		snprintf(why, len, "impossible time %llu ns", (unsigned long long)e->ts_ns);
		return -EINVAL;
	}
	return 0;
}


int capture__check_flowrec(const struct tt_flowrec *r, char *why, size_t len)
{
	if (r->type != TT_EV_FLOW) {
		snprintf(why, len, "impossible type %u", r->type);
		return -EINVAL;
	}
	if (r->n > TT_FR_STATES) {
		snprintf(why, len, "impossible transition count %u (at most %d)", r->n,
			 TT_FR_STATES);
		return -EINVAL;
	}
	if (r->family != TT_AF_INET && r->family != TT_AF_INET6) {
		snprintf(why, len, "impossible address family %u", r->family);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < r->n; i++) {
		unsigned int bad = !r->old_state[i] || r->old_state[i] >= TT_STATE_MAX ?
				   r->old_state[i] : r->new_state[i];

		if (!bad || bad >= TT_STATE_MAX) {
			snprintf(why, len, "impossible TCP state %u (transition %u)", bad, i);
			return -EINVAL;
		}
		if ((r->tflags[i] & TT_T_TW_SUB) && r->new_state[i] != TT_TIME_WAIT) {
			snprintf(why, len, "a TIME-WAIT hand-over to state %u (transition %u)",
				 r->new_state[i], i);
			return -EINVAL;
		}
		if (r->ts_ns[i] >= TIME_LIMIT) {
			snprintf(why, len, "impossible time %llu ns (transition %u)",
				 (unsigned long long)r->ts_ns[i], i);
			return -EINVAL;
		}
	}
	/* the engine's own test, in case it asks more than the above */
	if (flowrec__check(r)) {
		snprintf(why, len, "impossible values");
		return -EINVAL;
	}
	return 0;
}

uint64_t capture__flowrec_ts(const struct tt_flowrec *r)
{
	uint64_t ts = 0;

	for (unsigned int i = 0; i < r->n && i < TT_FR_STATES; i++)
		if (r->ts_ns[i] > ts)
			ts = r->ts_ns[i];
	return ts;
}
