// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Flow records, unpacked: the front of the engine for TT_EV_FLOW records
 * (source -> flowrec -> engine -> sinks): engine__feed_flow() feeds a
 * record's transitions to engine__feed() and puts its stats on the flow.
 * Pure C, no I/O.
 */
#include <errno.h>
#include <string.h>
#include "flowrec.h"
#include "flowtab.h"

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

const struct tt_event *flowrec__owner(const struct tt_flowrec *r, const struct tt_event *h,
				      struct tt_event *e)
{
	for (unsigned int i = 0; i < r->n && i < TT_FR_STATES; i++)
		if (r->tflags[i] & TT_T_TASK0) {
			*e = *h;
			e->flags |= TT_F_OWNER;
			e->pid = r->task_pid[0];
			e->tgid = r->task_tgid[0];
			memcpy(e->comm, r->task_comm[0], sizeof(e->comm));
			e->comm[sizeof(e->comm) - 1] = '\0';
			return e;
		}
	return h;
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

static void sat_add(uint8_t *c, unsigned int n)
{
	*c = *c + n > UINT8_MAX ? UINT8_MAX : (uint8_t)(*c + n);
}

/* What a flow record tells beyond its transitions: resets, and at the end the stats. */
static void flowrec_apply(const struct tt_flowrec *r, struct tt_flow *f)
{
	sat_add(&f->resets_sent, r->resets_sent);
	sat_add(&f->resets_recv, r->resets_recv);
	if (!(r->flags & TT_FR_STATS))
		return;
	f->bytes_sent = r->bytes_sent;
	f->bytes_received = r->bytes_received;
	f->segs_out = r->segs_out;
	f->segs_in = r->segs_in;
	f->retransmits = r->retransmits;
	f->srtt_us = r->srtt_us;
	f->flags |= TT_FLOW_STATS;
}

void engine__flowrec_end(struct tt_engine *eng, struct tt_flow *f)
{
	if (eng->fr && eng->fr->sk == f->sk) {
		flowrec_apply(eng->fr, f);
		eng->fr = NULL;
	}
}

int engine__feed_flow(struct tt_engine *eng, const struct tt_flowrec *r)
{
	struct tt_event h;

	if (!eng || !r)
		return -EINVAL;
	flowrec__header(r, &h);
	return engine__feed_flow_hdr(eng, r, &h);
}

int engine__feed_flow_hdr(struct tt_engine *eng, const struct tt_flowrec *r,
			  const struct tt_event *h)
{
	struct tt_event e;
	uint32_t idx;

	if (!eng || !r || !h || flowrec__check(r))
		return -EINVAL;
	STAT_INC(eng, flow_records);
	eng->fr = r;
	for (unsigned int i = 0; i < r->n; i++) {
		bool inferred = r->tflags[i] & TT_T_INFERRED, end;

		e = *h;
		flowrec__event_on(r, i, &e);
		/* an inferred end is told on the flow before the end writes it out */
		end = e.new_state == TT_CLOSE || e.new_state == TT_TIME_WAIT;
		idx = inferred && end ? find(eng, r->sk) : NIL;
		if (idx != NIL && flow_at(eng, idx)->inferred < UINT16_MAX)
			flow_at(eng, idx)->inferred++;
		engine__feed(eng, &e);
		if (!inferred)
			continue;
		STAT_INC(eng, inferred);
		if (end)
			continue;
		idx = find(eng, r->sk);
		if (idx != NIL && flow_at(eng, idx)->inferred < UINT16_MAX)
			flow_at(eng, idx)->inferred++;
	}
	/* still open (an early record, or TIME-WAIT waiting to be settled) */
	if (eng->fr) {
		idx = find(eng, r->sk);
		if (idx != NIL)
			flowrec_apply(r, flow_at(eng, idx));
		eng->fr = NULL;
	}
	return 0;
}
