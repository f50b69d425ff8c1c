// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Flow records, unpacked: the front of the engine for TT_EV_FLOW records
 * (source -> flowrec -> engine -> sinks).  Pure C, no I/O.
 */
#include <errno.h>
#include <string.h>
#include "flowrec.h"

int flowrec__check(const struct tt_flowrec *r)
{
	if (r->type != TT_EV_FLOW || r->n > TT_FR_STATES)
		return -EINVAL;
	if (r->family != TT_AF_INET && r->family != TT_AF_INET6)
		return -EINVAL;
	for (unsigned int i = 0; i < r->n; i++) {
		if (!r->old_state[i] || r->old_state[i] >= TT_STATE_MAX ||
		    !r->new_state[i] || r->new_state[i] >= TT_STATE_MAX)
			return -EINVAL;
		if ((r->tflags[i] & TT_T_TW_SUB) && r->new_state[i] != TT_TIME_WAIT)
			return -EINVAL;
	}
	return 0;
}

void flowrec__header(const struct tt_flowrec *r, struct tt_event *e)
{
	memset(e, 0, sizeof(*e));
	e->type = TT_EV_TRANSITION;
	e->family = r->family;
	e->hook = r->hook;
	e->sport = r->sport;
	e->dport = r->dport;
	e->cpu = r->cpu;
	e->netns = r->netns;
	e->cgroup = r->cgroup;
	e->sk = r->sk;
	if (r->flags & TT_FR_COOKIE) {
		e->cookie = r->cookie;
		e->flags |= TT_F_COOKIE;
	}
	memcpy(e->saddr, r->saddr, sizeof(e->saddr));
	memcpy(e->daddr, r->daddr, sizeof(e->daddr));
	if (r->n)
		e->ts_ns = r->ts_ns[0];
}

void flowrec__event(const struct tt_flowrec *r, unsigned int i, struct tt_event *e)
{
	flowrec__header(r, e);
	flowrec__event_on(r, i, e);
}

void flowrec__event_on(const struct tt_flowrec *r, unsigned int i, struct tt_event *e)
{
	unsigned int t = r->tflags[i] & TT_T_TASK1 ? 1 : 0;

	e->old_state = r->old_state[i];
	e->new_state = r->new_state[i];
	e->ts_ns = r->ts_ns[i];
	if (r->tflags[i] & (TT_T_TASK0 | TT_T_TASK1)) {
		e->flags |= TT_F_OWNER;
		e->pid = r->task_pid[t];
		e->tgid = r->task_tgid[t];
		memcpy(e->comm, r->task_comm[t], sizeof(e->comm));
		e->comm[sizeof(e->comm) - 1] = '\0';
	}
	if (r->tflags[i] & TT_T_TW_SUB) {
		e->type = TT_EV_TIME_WAIT;
		e->flags |= TT_F_SUBSTATE;
		e->aux[0] = r->tw_substate;
	} else if (e->new_state == TT_CLOSE) {
		e->aux[0] = r->sk_err;
	}
}
