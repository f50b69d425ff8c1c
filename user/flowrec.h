/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Flow records (struct tt_flowrec, TT_EV_FLOW): a socket's transitions as
 * the kernel side kept them, sent in one record.  The front of the engine
 * (engine__feed_flow) unpacks one into the tt_event each transition would
 * have been in the per-transition stream (-e), so the flow table, counts
 * and sinks see the same transitions either way.
 */
#ifndef TT_FLOWREC_H
#define TT_FLOWREC_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcptrail.h"

/* 0 if r can be a record (type, count and states in range), else -EINVAL. */
int flowrec__check(const struct tt_flowrec *r);

/*
 * The tt_event of r's transition i (0 <= i < r->n): its states, time and
 * task, with the record's tuple, netns, cgroup, socket and hook.  A
 * TIME-WAIT hand-over is a TT_EV_TIME_WAIT with its substate, an end
 * > CLOSE carries sk_err in aux[0].
 */
void flowrec__event(const struct tt_flowrec *r, unsigned int i, struct tt_event *e);

/* The same, on e holding flowrec__header(r, e): a header made once serves every i. */
void flowrec__event_on(const struct tt_flowrec *r, unsigned int i, struct tt_event *e);

/* What every transition of r shares (tuple, netns, cgroup, sk), as a tt_event with no states. */
void flowrec__header(const struct tt_flowrec *r, struct tt_event *e);

/*
 * h (r's header) with r's owner in it, as a transition that found it carries
 * it (TT_F_OWNER: the cgroup names' /proc/PID/cgroup fallback needs a pid):
 * e filled and returned, or h when no transition of r knew its task.
 */
const struct tt_event *flowrec__owner(const struct tt_flowrec *r, const struct tt_event *h,
				      struct tt_event *e);

#endif /* TT_FLOWREC_H */
