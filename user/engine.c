// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Engine: what events mean.  Each record (a transition, a TIME-WAIT entry,
 * an accept, a reset, an overflow, a seeded socket) is applied to its flow
 * in the table (flowtab.c) and counted; the engine's own events (a flow
 * ended, a transition counted, an overflow at a listener) go to the app's
 * callbacks, and from there to the sinks.  Pure C: no I/O, no clock of its
 * own (time comes from the records).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flowtab.h"

static bool same_tuple(const struct synack_note *n, const struct tt_flow *f)
{
	return n->count && n->netns == f->netns && n->sport == f->sport &&
	       n->dport == f->dport && !memcmp(n->saddr, f->saddr, 16) &&
	       !memcmp(n->daddr, f->daddr, 16);
}

/* A passive child takes the retransmits of the request it grew from. */
static void synack_claim(struct tt_engine *eng, struct tt_flow *f)
{
	uint64_t born = f->ts_ns[0];

	/* every passive birth asks; most find the ring empty */
	if (!eng->synack_live)
		return;
	for (unsigned int i = 0; i < SYNACK_RING && eng->synack_live; i++) {
		struct synack_note *n = &eng->synack[i];

		if (!n->count)
			continue;
		/* a dead request's note goes, so the ring empties again */
		if (born > n->ts_ns && born - n->ts_ns > SYNACK_NOTE_NS) {
			n->count = 0;
			eng->synack_live--;
		} else if (same_tuple(n, f)) {
			f->synack_retrans = n->count;
			n->count = 0;
			eng->synack_live--;
			return;
		}
	}
}

static void synack_note(struct tt_engine *eng, const struct tt_event *e)
{
	struct synack_note *n = NULL;
	struct tt_flow probe = { .netns = e->netns, .sport = e->sport, .dport = e->dport };

	memcpy(probe.saddr, e->saddr, 16);
	memcpy(probe.daddr, e->daddr, 16);
	for (unsigned int i = 0; i < SYNACK_RING && !n; i++)
		if (same_tuple(&eng->synack[i], &probe))
			n = &eng->synack[i];
	if (!n) {
		n = &eng->synack[eng->synack_pos];
		eng->synack_pos = (eng->synack_pos + 1) % SYNACK_RING;
		if (n->count)
			eng->synack_live--;
		memset(n, 0, sizeof(*n));
		n->netns = e->netns;
		n->sport = e->sport;
		n->dport = e->dport;
		memcpy(n->saddr, e->saddr, 16);
		memcpy(n->daddr, e->daddr, 16);
	}
	if (!n->count)
		eng->synack_live++;
	n->ts_ns = e->ts_ns;
	/* the kernel's num_retrans counts before this one is sent */
	n->count = e->aux[0] + 1 > 255 ? 255 : (uint8_t)(e->aux[0] + 1);
	if (n->count == 0)
		n->count = 1;
	STAT_INC(eng, synack_retrans);
}

static struct tt_listener_stats *lstats_slot(struct tt_engine *eng, const struct tt_event *e)
{
	struct tt_listener_stats *ls, *oldest = NULL;

	for (unsigned int i = 0; i < eng->n_lstats; i++) {
		ls = &eng->lstats[i];
		if (ls->netns == e->netns && ls->port == e->sport && ls->family == e->family &&
		    !memcmp(ls->addr, e->saddr, 16))
			return ls;
		if (!oldest || ls->last_ns < oldest->last_ns)
			oldest = ls;
	}
	ls = eng->n_lstats < TT_MAX_LISTENER_STATS ? &eng->lstats[eng->n_lstats++] : oldest;
	memset(ls, 0, sizeof(*ls));
	ls->netns = e->netns;
	ls->port = e->sport;
	ls->family = e->family;
	memcpy(ls->addr, e->saddr, 16);
	return ls;
}

/*
 * The listener an overflow record is about, with its owner: its own flow,
 * or, when that is not known by its address (a listener seeded from
 * sock_diag is filed under a pseudo key) or has no owner, the owned
 * listener at its port, address and namespace.  NULL if none.
 */
static const struct tt_flow *overflow_listener(const struct tt_engine *eng,
					       const struct tt_event *e)
{
	uint32_t idx = find(eng, e->sk);

	if (idx != NIL && eng->ents[idx].flow.owner_pid)
		return &eng->ents[idx].flow;
	return ft_find_listener_at(eng, e->netns, e->family, e->sport, e->saddr);
}

const struct tt_flow *engine__overflow_listener(const struct tt_engine *eng,
						const struct tt_event *e)
{
	return overflow_listener(eng, e);
}

static int on_overflow(struct tt_engine *eng, const struct tt_event *e)
{
	struct tt_listener_stats *ls;
	const struct tt_flow *l;

	if (e->aux[0] != TT_Q_ACCEPT && e->aux[0] != TT_Q_SYN)
		return -EINVAL;
	/* tcp_syncookies=2 answers every SYN with a cookie: the listener is not full */
	if (e->aux[0] == TT_Q_SYN && (e->flags & TT_F_COOKIE_POLICY)) {
		STAT_INC(eng, policy_cookies);
		return 0;
	}
	ls = lstats_slot(eng, e);
	ls->last_ns = e->ts_ns;
	ls->max_backlog = e->aux[1];
	if (e->cgroup)
		ls->cgroup = e->cgroup;
	l = overflow_listener(eng, e);
	if (l && l->owner_pid) {
		ls->owner_pid = l->owner_pid;
		memcpy(ls->owner_comm, l->owner_comm, 16);
	}
	if (e->aux[0] == TT_Q_ACCEPT) {
		ls->accept_overflows++;
		ls->i_accept_overflows++;
		STAT_INC(eng, accept_overflows);
	} else if (e->flags & TT_F_SYNCOOKIE) {
		ls->syn_cookies++;
		ls->i_syn_cookies++;
		STAT_INC(eng, syn_cookies);
	} else {
		ls->syn_drops++;
		ls->i_syn_drops++;
		STAT_INC(eng, syn_drops);
	}
	return 0;
}

static void push_state(struct tt_flow *f, unsigned int state, uint64_t ts)
{
	unsigned int n = f->nstates;

	/* records from different CPUs can be a little out of order */
	if (n && ts < f->ts_ns[n - 1])
		ts = f->ts_ns[n - 1];
	if (n == TT_FLOW_MAX_STATES) {
		/* keep the final state: overwrite the last slot */
		n--;
		f->flags |= TT_FLOW_TRUNCATED;
	}
	f->state[n] = (uint8_t)state;	/* callers checked state_ok() */
	f->ts_ns[n] = ts;
	f->nstates = (uint8_t)(n + 1);
	f->cw_sent_ms = 0;
}

static void copy_comm(char dst[16], const char src[16])
{
	memcpy(dst, src, 16);
	dst[15] = '\0';
}

static void set_owner(struct tt_flow *f, const struct tt_event *e)
{
	f->owner_pid = e->tgid;
	copy_comm(f->owner_comm, e->comm);
	f->flags |= TT_FLOW_OWNER_KNOWN;
}

static uint8_t role_guess(unsigned int s)
{
	switch (s) {
	case TT_SYN_SENT:
		return TT_ROLE_ACTIVE;
	case TT_SYN_RECV:
		return TT_ROLE_PASSIVE;
	case TT_LISTEN:
		return TT_ROLE_LISTENER;
	default:
		return TT_ROLE_UNKNOWN;
	}
}

static bool is_birth(unsigned int old, unsigned int new)
{
	return (old == TT_CLOSE && new != TT_CLOSE) ||
	       (old == TT_LISTEN && new == TT_SYN_RECV);
}

/*
 * Transitions only a task closing the socket makes: close()/shutdown() send
 * a FIN (FIN_WAIT1, LAST_ACK), or close() drops a socket that has not done
 * the FIN handshake, a listener among them (tcp_close() and shutdown(SHUT_RD)
 * take LISTEN > CLOSE under the socket lock).  With TT_F_OWNER that task
 * holds the socket lock.
 */
static bool is_close_call(unsigned int old, unsigned int new)
{
	if (new == TT_FIN_WAIT1 || new == TT_LAST_ACK)
		return true;
	return new == TT_CLOSE && (old == TT_ESTABLISHED || old == TT_CLOSE_WAIT ||
				   old == TT_SYN_SENT || old == TT_SYN_RECV ||
				   old == TT_LISTEN);
}

/* written by a transitions program, where the rule lives (include/tthooks.h) */
static bool from_rule(const struct tt_event *e)
{
	return tt_hook_sets_state(e->hook);
}

static uint8_t end_reason(const struct tt_engine *eng, const struct tt_event *e)
{
	switch (e->aux[0]) {
	case 0:
		break;
	case K_ECONNREFUSED:
		return TT_END_REFUSED;
	case K_ETIMEDOUT:
		return TT_END_TIMEOUT;
	case K_ECONNRESET:
	case K_EPIPE:
		return TT_END_RESET;
	default:
		return TT_END_ERROR;
	}
	switch (e->old_state) {
	case TT_FIN_WAIT1:
	case TT_FIN_WAIT2:
		/*
		 * From a transitions program, where the TIME-WAIT rule lives,
		 * this was not handed over to TIME-WAIT, and has no error: the
		 * kernel aborted it with a reset, tcp_disconnect() (SO_LINGER 0
		 * after shutdown(), connect(AF_UNSPEC)), an orphan with
		 * TCP_LINGER2 below 0 or out of memory, a FIN_WAIT2 timeout.
		 * From a hook that cannot tell (an old capture's), a close.
		 */
		return from_rule(e) ? TT_END_ABORT : TT_END_CLOSE;
	case TT_CLOSING:
	case TT_LAST_ACK:
	case TT_TIME_WAIT:
	case TT_LISTEN:
		return TT_END_CLOSE;
	case TT_SYN_SENT:
		/*
		 * connect() sets SYN_SENT before it takes a local port: one that
		 * found none (EADDRNOTAVAIL) has no port, or, with its port bound
		 * before (a 4-tuple in use), sent no segment.
		 */
		if (!e->sport || (eng->fr && eng->fr->sk == e->sk &&
				  (eng->fr->flags & TT_FR_STATS) && !eng->fr->segs_out))
			return TT_END_NO_PORT;
		/*
		 * No error: no RST came, nothing timed out, so the owner's
		 * close() (or connect(AF_UNSPEC)) gave up on the handshake,
		 * which sends nothing in SYN_SENT.
		 */
		return TT_END_CANCELLED;
	default:
		/* ESTABLISHED, CLOSE_WAIT, SYN_RECV straight to CLOSE: no FIN exchange */
		return TT_END_ABORT;
	}
}

/*
 * A repeat of the record that produced the flow's last state: same states
 * and no later in time, or any time for one the kernel side's second copy
 * recorded (it takes its own timestamp, after the first copy's).  Before the
 * first state the old state is what the birth implies, or anything for a
 * flow first seen mid-life.
 */
static bool is_duplicate(const struct tt_flow *f, const struct tt_event *e)
{
	unsigned int n = f->nstates;
	unsigned int prev;

	if (f->state[n - 1] != e->new_state ||
	    (e->ts_ns > f->ts_ns[n - 1] && !(e->flags & TT_F_NESTED)))
		return false;
	if (n >= 2)
		prev = f->state[n - 2];
	else if (f->flags & TT_FLOW_PARTIAL)
		return true;
	else
		prev = f->role == TT_ROLE_PASSIVE ? TT_LISTEN : TT_CLOSE;
	return prev == e->old_state;
}

static void count_transition(struct tt_engine *eng, const struct tt_flow *f,
			     const struct tt_event *e, unsigned int old, unsigned int new,
			     uint64_t ts)
{
	eng->total.transitions[old][new]++;
	eng->interval.transitions[old][new]++;
	if (eng->on_transition)
		eng->on_transition(&(struct tt_transition){ .flow = f, .rec = e, .old_state = old,
							    .new_state = new, .ts_ns = ts },
				   eng->ctx);
}

static void early_claim(struct tt_engine *eng, const struct tt_event *birth);

/*
 * End a flow older than the record being fed: a pending one, or one a birth
 * at its socket supersedes.  A flow record's stats and resets are its own
 * flow's, which had them when its record was fed; the new one's are not.
 */
static void end_older(struct tt_engine *eng, uint32_t idx, uint8_t reason)
{
	const struct tt_flowrec *fr = eng->fr;

	eng->fr = NULL;
	ft_end_flow(eng, idx, reason);
	eng->fr = fr;
}

static int on_transition(struct tt_engine *eng, const struct tt_event *e)
{
	unsigned int old = e->old_state, new = e->new_state;
	uint32_t idx;
	struct tt_flow *f;
	uint8_t role;
	bool birth;

	if (!state_ok(old) || !state_ok(new))
		return -EINVAL;

	birth = is_birth(old, new);
	idx = find(eng, e->sk);
	if (idx == NIL && !birth)
		idx = ft_adopt_seeded(eng, e);
	if (idx != NIL && is_duplicate(flow_at(eng, idx), e)) {
		STAT_INC(eng, duplicates);
		return 0;
	}

	if (birth) {
		role = old == TT_LISTEN ? TT_ROLE_PASSIVE : role_guess(new);
		if (idx != NIL)
			end_older(eng, idx, TT_END_SUPERSEDED);
		else
			ft_forget_seeded_twin(eng, e);
		idx = ft_flow_new(eng, e, role, 0);
		f = flow_at(eng, idx);
		push_state(f, new, e->ts_ns);
		if (role == TT_ROLE_PASSIVE) {
			const struct tt_flow *l = ft_find_listener(eng, f);
			const struct gone_listener *g;

			synack_claim(eng, f);
			if (l) {
				f->owner_pid = l->owner_pid;
				memcpy(f->owner_comm, l->owner_comm, sizeof(f->owner_comm));
			} else if ((g = ft_find_gone_listener(eng, f))) {
				f->owner_pid = g->owner_pid;
				memcpy(f->owner_comm, g->owner_comm, sizeof(f->owner_comm));
			}
		}
	} else if (idx == NIL) {
		if (old == new) {
			/* a self-transition of a socket we never saw born: no flow to make */
			count_transition(eng, NULL, e, old, new, e->ts_ns);
			return 0;
		}
		/* tcp_time_wait() then tcp_done(): the CLOSE half is already told */
		if (new == TT_CLOSE && ft_tw_take(eng, e->sk))
			return 0;
		role = role_guess(old);
		if (role == TT_ROLE_UNKNOWN)
			role = role_guess(new);
		idx = ft_flow_new(eng, e, role, TT_FLOW_PARTIAL);
		f = flow_at(eng, idx);
		push_state(f, old, e->ts_ns);
		push_state(f, new, e->ts_ns);
	} else {
		bool portless;

		f = flow_at(eng, idx);
		portless = !f->sport && e->sport;
		ft_fill_identity(eng, idx, e, true);
		/*
		 * connect() picks its port after CLOSE > SYN_SENT: in the
		 * per-transition stream an active birth has none, and its seeded
		 * twin is found once a transition brings the port.
		 */
		if (portless && eng->n_pseudo && f->ts_ns[0] <= eng->seed_ns) {
			struct tt_event birth = *e;

			birth.new_state = f->state[0];
			birth.ts_ns = f->ts_ns[0];
			ft_forget_seeded_twin(eng, &birth);
		}
		if (!(old == new && f->state[f->nstates - 1] == new))
			push_state(f, new, e->ts_ns);
		touch(eng, idx);
	}
	count_transition(eng, f, e, old, new, e->ts_ns);

	if (e->flags & TT_F_OWNER) {
		/*
		 * The first task seen holding the lock owns the flow: at birth
		 * (every birth is a fresh flow) that is connect() or listen().
		 */
		if (!(f->flags & TT_FLOW_OWNER_KNOWN))
			set_owner(f, e);
		/*
		 * Not a > CLOSE with an error: tcp_reset() and the like set it
		 * first, and on loopback a refusal or reset is run in the
		 * connecting task's syscall (release_sock() drains the backlog).
		 */
		if (is_close_call(old, new) && !(new == TT_CLOSE && e->aux[0])) {
			f->closer_pid = e->tgid;
			copy_comm(f->closer_comm, e->comm);
		}
	}
	ft_listener_sync(eng, idx);

	if (new == TT_CLOSE) {
		f->sk_err = e->aux[0] > UINT8_MAX ? UINT8_MAX : (uint8_t)e->aux[0];
		ft_end_flow(eng, idx, end_reason(eng, e));
	} else if (birth) {
		early_claim(eng, e);
	}
	return 0;
}

/* End a pending flow: in TIME-WAIT after all, or aborted if a reset followed. */
void engine__settle_flow(struct tt_engine *eng, uint32_t idx, bool reset)
{
	struct tt_flow *f = flow_at(eng, idx);
	unsigned int old = f->nstates > 1 ? f->state[f->nstates - 2] : 0;

	f->flags &= ~TT_FLOW_TW_PENDING;
	if (reset) {
		/* the reset that settles it is this end's own */
		if (f->resets_sent < UINT8_MAX)
			f->resets_sent++;
		ft_late_reset(f);
		f->state[f->nstates - 1] = TT_CLOSE;
		f->tw_substate = 0;
		if (old)
			count_transition(eng, f, NULL, old, TT_CLOSE, f->ts_ns[f->nstates - 1]);
		end_older(eng, idx, TT_END_ABORT);
		return;
	}
	/* the rule's record replaced the > CLOSE: no tcp_done() record follows */
	if (old)
		count_transition(eng, f, NULL, old, TT_TIME_WAIT, f->ts_ns[f->nstates - 1]);
	end_older(eng, idx, TT_END_TIME_WAIT);
}

/* The pending flow at sk, or NIL. */
static uint32_t pend_find(struct tt_engine *eng, uint64_t sk)
{
	uint32_t idx = find(eng, sk);

	return idx != NIL && (flow_at(eng, idx)->flags & TT_FLOW_TW_PENDING) ? idx : NIL;
}

/*
 * Take the oldest slot off the ring; its flow, if it still waits, is in
 * TIME-WAIT.  now_ns is the time of the record that forces it out of a full
 * ring, or 0 when its 2 ms are up.
 */
static void pend_pop(struct tt_engine *eng, uint64_t now_ns, bool table_full)
{
	const struct tw_pend *p = &eng->pend[eng->pend_head];
	uint32_t idx = pend_find(eng, p->sk);

	eng->pend_head = (eng->pend_head + 1) & (PEND_SLOTS - 1);
	eng->n_pend--;
	if (idx == NIL || flow_at(eng, idx)->id != p->flow_id)
		return;
	if (now_ns && p->ts_ns + PEND_WAIT_NS > now_ns) {
		if (table_full)
			STAT_INC(eng, tw_early_table);
		else
			STAT_INC(eng, tw_early);
	}
	engine__settle_flow(eng, idx, false);
}

void engine__settle_oldest(struct tt_engine *eng, uint64_t now_ns)
{
	if (eng->n_pend)
		pend_pop(eng, now_ns, true);
}

void engine__settle(struct tt_engine *eng, uint64_t now_ns)
{
	/* oldest first: the first one not due ends it (every record calls this) */
	while (eng->n_pend &&
	       (now_ns == UINT64_MAX || eng->pend[eng->pend_head].ts_ns + PEND_WAIT_NS <= now_ns))
		pend_pop(eng, 0, false);
}

static int on_time_wait(struct tt_engine *eng, const struct tt_event *e)
{
	unsigned int old = e->old_state;
	uint32_t idx;
	struct tt_flow *f;

	if (old && !state_ok(old))
		return -EINVAL;

	idx = find(eng, e->sk);
	if (idx == NIL)
		idx = ft_adopt_seeded(eng, e);
	if (idx == NIL) {
		if (ft_tw_find(eng, e->sk) >= 0) {
			STAT_INC(eng, duplicates);
			return 0;
		}
		idx = ft_flow_new(eng, e, role_guess(old), TT_FLOW_PARTIAL);
		f = flow_at(eng, idx);
		if (old)
			push_state(f, old, e->ts_ns);
	} else {
		f = flow_at(eng, idx);
		ft_fill_identity(eng, idx, e, true);
		if (!old)
			old = f->state[f->nstates - 1];
	}
	push_state(f, TT_TIME_WAIT, e->ts_ns);
	/* a state, or 255 (no state: printed as one unknown, as before it was a byte) */
	if (e->flags & TT_F_SUBSTATE)
		f->tw_substate = e->aux[0] > UINT8_MAX ? UINT8_MAX : (uint8_t)e->aux[0];
	if ((e->flags & TT_F_OWNER) && !(f->flags & TT_FLOW_OWNER_KNOWN))
		set_owner(f, e);
	if (from_rule(e) && (e->flags & TT_F_SUBSTATE) && e->aux[0] == TT_FIN_WAIT2) {
		struct tw_pend *p;

		if (eng->n_pend == PEND_SLOTS)
			pend_pop(eng, e->ts_ns, false);
		f->flags |= TT_FLOW_TW_PENDING;
		p = &eng->pend[(eng->pend_head + eng->n_pend++) & (PEND_SLOTS - 1)];
		p->sk = e->sk;
		p->ts_ns = e->ts_ns;
		p->flow_id = f->id;
		touch(eng, idx);
		return 0;
	}
	if (old)
		count_transition(eng, f, e, old, TT_TIME_WAIT, e->ts_ns);
	/* a hook's record comes before tcp_done()'s > CLOSE; the rule's replaced it */
	if (!from_rule(e))
		ft_tw_remember(eng, e->sk);
	ft_end_flow(eng, idx, TT_END_TIME_WAIT);
	return 0;
}

static unsigned int early_bucket(uint64_t sk)
{
	return (unsigned int)((sk * 0x9E3779B97F4A7C15ull) >> 40) % (EARLY_SLOTS / EARLY_PROBE) *
	       EARLY_PROBE;
}

static void early_hold(struct tt_engine *eng, const struct tt_event *e)
{
	unsigned int b = early_bucket(e->sk), used = eng->early_used[b / EARLY_PROBE], pick = b;

	if (used != 0xff) {
		/* the first free slot */
		pick = b + (unsigned int)__builtin_ctz(~used & 0xff);
	} else {
		/* a full bucket: the oldest goes */
		for (unsigned int i = b + 1; i < b + EARLY_PROBE; i++)
			if (eng->early[i].ts_ns < eng->early[pick].ts_ns)
				pick = i;
	}
	eng->early[pick] = *e;
	eng->early_sk[pick] = e->sk;
	eng->early_used[b / EARLY_PROBE] = (uint8_t)(used | 1u << (pick - b));
}

static int on_accept(struct tt_engine *eng, const struct tt_event *e);
static int on_counter(struct tt_engine *eng, const struct tt_event *e);

/* The records that came before this birth was told, oldest first. */
static void early_claim(struct tt_engine *eng, const struct tt_event *birth)
{
	unsigned int b = early_bucket(birth->sk);
	uint8_t *used = &eng->early_used[b / EARLY_PROBE];

	while (*used) {
		struct tt_event *h, e;
		unsigned int pick = 0;

		for (unsigned int i = b; i < b + EARLY_PROBE; i++) {
			if (!(*used & 1u << (i - b)) || eng->early_sk[i] != birth->sk)
				continue;
			h = &eng->early[i];
			if (h->netns != birth->netns || h->sport != birth->sport ||
			    h->dport != birth->dport || h->ts_ns < birth->ts_ns)
				continue;
			if (!pick || h->ts_ns < eng->early[pick - 1].ts_ns)
				pick = i + 1;
		}
		if (!pick)
			return;
		e = eng->early[pick - 1];
		*used &= (uint8_t)~(1u << (pick - 1 - b));
		if (e.type == TT_EV_ACCEPT)
			on_accept(eng, &e);
		else
			on_counter(eng, &e);
	}
}

/*
 * The flow a socket's record is for, or NIL.  A flow waiting to be settled
 * in TIME-WAIT is over in the kernel: its socket can be a new one's, whose
 * accept or reset comes before its flow record does.
 */
static uint32_t find_live(struct tt_engine *eng, uint64_t sk)
{
	uint32_t idx = find(eng, sk);

	return idx != NIL && (flow_at(eng, idx)->flags & TT_FLOW_TW_PENDING) ? NIL : idx;
}

/*
 * -p: the process accepted a socket that was not its own before (a
 * listener another process made, or one from before we started): the
 * kernel side left its records out until now, so its flow starts here, in
 * the state it is in.  A CLOSE_WAIT is dated back to the peer's last ACK,
 * as a seeded one is; a socket already closed has no flow to make.
 */
static int adopt_accepted(struct tt_engine *eng, const struct tt_event *e)
{
	unsigned int state = e->new_state;
	struct tt_flow *f;
	uint32_t idx;

	if (state != TT_SYN_RECV && state != TT_ESTABLISHED && state != TT_CLOSE_WAIT)
		return 0;
	idx = ft_flow_new(eng, e, TT_ROLE_PASSIVE, TT_FLOW_PARTIAL);
	f = flow_at(eng, idx);
	push_state(f, state, e->ts_ns);
	if (state == TT_CLOSE_WAIT && (e->flags & TT_F_ACK_AGE)) {
		uint64_t back = (uint64_t)e->aux[2] * 1000000ull;

		f->ts_ns[0] = back < e->ts_ns ? e->ts_ns - back : 0;
	}
	set_owner(f, e);
	touch(eng, idx);
	return 0;
}

static int on_accept(struct tt_engine *eng, const struct tt_event *e)
{
	uint32_t idx = find_live(eng, e->sk);
	struct tt_flow *f;

	/* -p: a child of the process's listener that another process accepted */
	if (e->flags & TT_F_DISOWNED) {
		if (idx != NIL)
			ft_forget(eng, idx);
		else
			early_hold(eng, e);
		return 0;
	}

	/* a connection that waited in the accept queue when we started */
	if (idx == NIL)
		idx = ft_adopt_seeded(eng, e);
	if (idx == NIL && (e->flags & TT_F_ADOPTED))
		return adopt_accepted(eng, e);
	if (idx == NIL) {
		early_hold(eng, e);
		return 0;
	}
	f = flow_at(eng, idx);
	ft_fill_identity(eng, idx, e, true);
	set_owner(f, e);
	if (f->role == TT_ROLE_UNKNOWN)
		f->role = TT_ROLE_PASSIVE;
	touch(eng, idx);
	return 0;
}

static void sat_inc(uint8_t *c)
{
	if (*c < UINT8_MAX)
		(*c)++;
}

static int on_counter(struct tt_engine *eng, const struct tt_event *e)
{
	uint32_t idx = find_live(eng, e->sk);
	struct tt_flow *f;

	if (idx == NIL) {
		early_hold(eng, e);
		return 0;
	}
	f = flow_at(eng, idx);
	ft_fill_identity(eng, idx, e, false);
	if (e->type == TT_EV_SYNACK_RETRANS)
		sat_inc(&f->synack_retrans);
	else if (e->type == TT_EV_RESET_SENT)
		sat_inc(&f->resets_sent);
	else
		sat_inc(&f->resets_recv);
	touch(eng, idx);
	return 0;
}

static int on_seed(struct tt_engine *eng, const struct tt_event *e)
{
	unsigned int state = e->new_state;
	uint32_t idx;
	struct tt_flow *f;

	if (!state_ok(state))
		return -EINVAL;
	if (e->ts_ns > eng->seed_ns)
		eng->seed_ns = e->ts_ns;
	if (find(eng, e->sk) != NIL)
		return 0;
	/*
	 * No record will ever end these: a timewait or request sock never
	 * goes through tcp_set_state, and a CLOSE socket has no flow.
	 */
	if (state == TT_TIME_WAIT || state == TT_NEW_SYN_RECV || state == TT_CLOSE)
		return 0;
	idx = ft_flow_new(eng, e, state == TT_LISTEN ? TT_ROLE_LISTENER : TT_ROLE_UNKNOWN,
		       TT_FLOW_SEEDED | TT_FLOW_PARTIAL);
	f = flow_at(eng, idx);
	if (f->sk & 1) {
		uint32_t bit = seed_port_bit(f->sport, f->dport);

		eng->n_pseudo++;
		eng->seed_ports[bit / 64] |= 1ull << (bit % 64);
	}
	push_state(f, state, e->ts_ns);
	/*
	 * The peer's FIN carried an ACK, so the last ACK received is a lower
	 * bound on the time spent in CLOSE_WAIT: date the state back by it.
	 */
	if (state == TT_CLOSE_WAIT && (e->flags & TT_F_SEED_AGE)) {
		uint64_t back = (uint64_t)e->aux[2] * 1000000ull;

		f->ts_ns[0] = back < e->ts_ns ? e->ts_ns - back : 0;
	}
	if (e->tgid)
		set_owner(f, e);
	ft_listener_sync(eng, idx);
	return 0;
}

bool engine__reown(struct tt_engine *eng, uint64_t sk, uint64_t flow_id, uint32_t pid,
		   const char comm[16])
{
	uint32_t idx = find(eng, sk);
	struct tt_flow *f;

	if (idx == NIL)
		return false;
	f = flow_at(eng, idx);
	if (f->id != flow_id)
		return false;
	f->owner_pid = pid;
	memcpy(f->owner_comm, comm, sizeof(f->owner_comm));
	f->flags |= TT_FLOW_OWNER_KNOWN;
	/* a listener's overflows are its holder's from now on too */
	if (f->nstates && f->state[f->nstates - 1] == TT_LISTEN)
		for (unsigned int i = 0; i < eng->n_lstats; i++) {
			struct tt_listener_stats *ls = &eng->lstats[i];

			if (ls->netns == f->netns && ls->port == f->sport &&
			    ls->family == f->family && !memcmp(ls->addr, f->saddr, 16)) {
				ls->owner_pid = pid;
				memcpy(ls->owner_comm, comm, sizeof(ls->owner_comm));
			}
		}
	return true;
}

bool engine__end_gone(struct tt_engine *eng, uint64_t sk, uint64_t flow_id, unsigned int state)
{
	uint32_t idx = find(eng, sk);
	struct tt_flow *f;

	if (idx == NIL)
		return false;
	f = flow_at(eng, idx);
	/* a record may have moved it on, or a new socket taken its address, since it was asked */
	if (f->id != flow_id || !f->nstates || f->state[f->nstates - 1] != state ||
	    (f->flags & TT_FLOW_TW_PENDING))
		return false;
	end_older(eng, idx, TT_END_GONE);
	return true;
}

void engine__cw_sent(struct tt_engine *eng, uint64_t sk, uint64_t flow_id, uint64_t sent_ns)
{
	uint32_t idx = find(eng, sk);
	struct tt_flow *f;
	uint64_t since, ms;

	if (idx == NIL)
		return;
	f = flow_at(eng, idx);
	if (f->id != flow_id || !f->nstates || f->state[f->nstates - 1] != TT_CLOSE_WAIT)
		return;
	since = f->ts_ns[f->nstates - 1];
	if (sent_ns <= since)
		return;
	ms = (sent_ns - since) / 1000000;
	if (ms > f->cw_sent_ms)
		f->cw_sent_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void engine__cw_checked(struct tt_engine *eng, uint64_t at_ns)
{
	eng->cw_checked_ns = at_ns;
}

bool engine__cw_quiet(const struct tt_engine *eng, const struct tt_flow *f, uint64_t now_ns,
		      uint64_t age_ns)
{
	uint64_t since = f->ts_ns[f->nstates - 1], sent, at;

	if ((now_ns > since ? now_ns - since : 0) < age_ns)
		return false;
	if (!f->cw_sent_ms)
		return true;
	sent = since + (uint64_t)f->cw_sent_ms * 1000000;
	at = eng->cw_checked_ns && eng->cw_checked_ns < now_ns ? eng->cw_checked_ns : now_ns;
	return (at > sent ? at - sent : 0) >= age_ns;
}

int engine__feed(struct tt_engine *eng, const struct tt_event *e)
{
	if (!eng || !e)
		return -EINVAL;
	STAT_INC(eng, events);
	if (e->type == TT_EV_OVERFLOW && eng->on_overflow)
		eng->on_overflow(e, overflow_listener(eng, e), eng->ctx);
	if (eng->n_pend) {
		/*
		 * Only two records can name a socket after its tcp_done(): a
		 * reset it sends (data after close()), and the birth of a new
		 * socket at the same address, which settles it as TIME-WAIT.
		 */
		uint32_t p = e->type == TT_EV_RESET_SENT ||
			(e->type == TT_EV_TRANSITION && is_birth(e->old_state, e->new_state)) ?
			pend_find(eng, e->sk) : NIL;

		if (p != NIL && e->type == TT_EV_RESET_SENT) {
			engine__settle_flow(eng, p, true);
			return 0;
		}
		if (p != NIL)
			engine__settle_flow(eng, p, false);
		engine__settle(eng, e->ts_ns);
	}
	switch (e->type) {
	case TT_EV_TRANSITION:
		return on_transition(eng, e);
	case TT_EV_TIME_WAIT:
		return on_time_wait(eng, e);
	case TT_EV_ACCEPT:
		return on_accept(eng, e);
	case TT_EV_SYNACK_RETRANS: {
		/* sk is the listener: it may learn its port from the request */
		uint32_t idx = find(eng, e->sk);

		if (idx != NIL) {
			ft_fill_identity(eng, idx, e, false);
			touch(eng, idx);
		}
		synack_note(eng, e);
		return 0;
	}
	case TT_EV_RESET_SENT:
	case TT_EV_RESET_RECV:
		return on_counter(eng, e);
	case TT_EV_SEED:
		return on_seed(eng, e);
	case TT_EV_OVERFLOW:
		return on_overflow(eng, e);
	default:
		return -EINVAL;
	}
}
