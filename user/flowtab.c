// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Engine: the flow table.  Flows by socket (a hash), by age (an LRU that
 * evicts when full), and listeners by namespace and local port; a flow's
 * birth, identity and end; the engine's totals and lookups.  What a record
 * means for a flow is engine.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flowtab.h"
#include "util.h"

void ft_hash_unlink(struct tt_engine *eng, uint32_t idx)
{
	uint32_t *p = &eng->buckets[sk_hash(eng, eng->ents[idx].flow.sk)];

	while (*p != NIL && *p != idx)
		p = &eng->ents[*p].hnext;
	if (*p == idx)
		*p = eng->ents[idx].hnext;
}

void ft_listener_unlink(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *e = &eng->ents[idx];
	uint32_t *p;

	if (e->lnext == UNLISTED)
		return;
	p = &eng->lbuckets[listener_hash(eng, e->flow.netns, e->flow.sport)];
	while (*p != NIL && *p != idx)
		p = &eng->ents[*p].lnext;
	if (*p == idx)
		*p = e->lnext;
	e->lnext = UNLISTED;
}

/* A listener is indexed while it has a known owner and a port to match on. */
void ft_listener_sync(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *e = &eng->ents[idx];
	const struct tt_flow *f = &e->flow;
	bool want = f->role == TT_ROLE_LISTENER && (f->flags & TT_FLOW_OWNER_KNOWN) &&
		    f->sport != 0;
	uint32_t *head;

	if (!want) {
		ft_listener_unlink(eng, idx);
		return;
	}
	if (e->lnext != UNLISTED)
		return;
	head = &eng->lbuckets[listener_hash(eng, f->netns, f->sport)];
	e->lnext = *head;
	*head = idx;
}

/*
 * The listener with an owner at (netns, port): of the family, bound to addr
 * (when given) before any other address; a dual-stack IPv6 listener has
 * IPv4 children too, so a listener of another family is the fallback.
 */
const struct tt_flow *ft_find_listener_at(const struct tt_engine *eng, uint32_t netns,
					  uint8_t family, uint16_t port, const uint8_t *addr)
{
	const struct tt_flow *same = NULL, *other = NULL;
	uint32_t i;

	i = eng->lbuckets[listener_hash(eng, netns, port)];
	for (; i != NIL; i = eng->ents[i].lnext) {
		const struct tt_flow *l = &eng->ents[i].flow;

		if (l->netns != netns || l->sport != port)
			continue;
		if (l->family != family) {
			if (!other)
				other = l;
			continue;
		}
		if (!addr || !memcmp(l->saddr, addr, family == TT_AF_INET6 ? 16 : 4))
			return l;
		if (!same)
			same = l;
	}
	return same ? same : other;
}

/* The listener a passive child came from. */
const struct tt_flow *ft_find_listener(const struct tt_engine *eng,
					   const struct tt_flow *child)
{
	return ft_find_listener_at(eng, child->netns, child->family, child->sport, NULL);
}

/* An indexed listener (owned, with a port) ends: keep its owner a while. */
void ft_listener_gone(struct tt_engine *eng, const struct tt_flow *l)
{
	struct gone_listener *g = &eng->gone[eng->gone_pos];

	eng->gone_pos = (eng->gone_pos + 1) % GONE_LISTENERS;
	g->closed_ns = l->ts_ns[l->nstates - 1];
	g->netns = l->netns;
	g->port = l->sport;
	g->family = l->family;
	g->owner_pid = l->owner_pid;
	memcpy(g->owner_comm, l->owner_comm, sizeof(g->owner_comm));
}

/* The listener that closed after this child was born, newest first. */
const struct gone_listener *ft_find_gone_listener(const struct tt_engine *eng,
						      const struct tt_flow *child)
{
	const struct gone_listener *other = NULL;

	for (unsigned int n = 1; n <= GONE_LISTENERS; n++) {
		const struct gone_listener *g =
			&eng->gone[(eng->gone_pos + GONE_LISTENERS - n) % GONE_LISTENERS];

		if (!g->closed_ns || g->netns != child->netns || g->port != child->sport ||
		    g->closed_ns < child->ts_ns[0])
			continue;
		if (g->family == child->family)
			return g;
		if (!other)
			other = g;
	}
	return other;
}

void ft_set_active(struct tt_engine *eng, size_t n)
{
	eng->total.active = n;
	eng->interval.active = n;
	if (n > eng->total.peak)
		eng->total.peak = n;
	if (n > eng->interval.peak)
		eng->interval.peak = n;
}

/*
 * Take the flow out of every index, hand it to the callback, recycle the
 * slot.  It is unindexed first so that a callback looking the sk up sees the
 * table as it will be.
 */
/*
 * Closed from ESTABLISHED, CLOSE_WAIT or SYN_RECV with no socket error, the
 * kernel resets the peer (tcp_disconnect(): SO_LINGER 0, connect(AF_UNSPEC),
 * a listener's close for its unaccepted children; unread data at close();
 * out of memory), and sends that RST after the state is CLOSE: after the
 * end's record, which is how the flow learns of its resets.  No RST is sent
 * only in TCP repair mode, or if the kernel had no memory for it.
 */
static bool rst_follows(const struct tt_flow *f)
{
	unsigned int old;

	if (f->nstates < 2 || f->state[f->nstates - 1] != TT_CLOSE)
		return false;
	old = f->state[f->nstates - 2];
	return old == TT_ESTABLISHED || old == TT_CLOSE_WAIT || old == TT_SYN_RECV ||
	       old == TT_FIN_WAIT1 || old == TT_FIN_WAIT2;
}

void ft_late_reset(struct tt_flow *f)
{
	if ((f->flags & TT_FLOW_STATS) && f->segs_out < UINT32_MAX)
		f->segs_out++;
}

/* A listener closed (not evicted): its overflow counts end with the next summary. */
static void lstats_closed(struct tt_engine *eng, const struct tt_flow *l)
{
	for (unsigned int i = 0; i < eng->n_lstats; i++) {
		struct tt_listener_stats *ls = &eng->lstats[i];

		if (ls->netns == l->netns && ls->port == l->sport && ls->family == l->family &&
		    !memcmp(ls->addr, l->saddr, 16))
			ls->closed_ns = l->ts_ns[l->nstates - 1];
	}
}

void ft_end_flow(struct tt_engine *eng, uint32_t idx, uint8_t reason)
{
	struct tt_entry *e = &eng->ents[idx];

	e->flow.end = reason;
	if ((e->flow.sk & 1) && (e->flow.flags & TT_FLOW_SEEDED))
		eng->n_pseudo--;
	if (e->lnext != UNLISTED)
		ft_listener_gone(eng, &e->flow);
	if (e->flow.role == TT_ROLE_LISTENER && reason != TT_END_EVICTED && e->flow.nstates)
		lstats_closed(eng, &e->flow);
	ft_hash_unlink(eng, idx);
	lru_unlink(eng, idx);
	ft_listener_unlink(eng, idx);
	ft_set_active(eng, eng->total.active - 1);

	STAT_INC(eng, flows_closed);
	if (reason < TT_END_MAX)
		STAT_INC(eng, ends[reason]);
	switch (reason) {
	case TT_END_REFUSED:
		STAT_INC(eng, refused);
		break;
	case TT_END_RESET:
		STAT_INC(eng, resets);
		break;
	case TT_END_TIME_WAIT:
		STAT_INC(eng, time_wait);
		break;
	case TT_END_EVICTED:
		STAT_INC(eng, evicted);
		break;
	case TT_END_GONE:
		STAT_INC(eng, gone);
		break;
	}
	engine__flowrec_end(eng, &e->flow);
	if (reason == TT_END_ABORT && !e->flow.resets_sent && rst_follows(&e->flow)) {
		e->flow.resets_sent = 1;
		ft_late_reset(&e->flow);
	}
	if (eng->on_flow_end)
		eng->on_flow_end(&e->flow, eng->ctx);

	e->hnext = eng->free_head;
	eng->free_head = idx;
}

/*
 * A full table evicts its least recently active flow that is neither in
 * CLOSE_WAIT nor a listener.  Those send no record while they wait, so they
 * are always the least recently active: evicted first, a leak would leave
 * the report for good while the short flows churn.  Each one the eviction
 * passes goes to the second list, where it stays until a record of its own
 * comes, so that no eviction passes it again: a table of 100 leaks and 200
 * short flows keeps its leaks, and only one that holds nothing else evicts
 * one, the one passed over first.
 */
static uint32_t evictee(struct tt_engine *eng)
{
	uint32_t idx;

	while ((idx = eng->ents[0].next)) {
		const struct tt_flow *f = &eng->ents[idx].flow;
		uint8_t state = f->nstates ? f->state[f->nstates - 1] : 0;

		if (state != TT_CLOSE_WAIT && state != TT_LISTEN)
			return idx;
		lru_unlink(eng, idx);
		lru_push_kept(eng, idx);
	}
	return eng->ents[lru_kept(eng)].next;
}

uint32_t ft_slot_alloc(struct tt_engine *eng, uint64_t now_ns)
{
	uint32_t idx;

	if (eng->free_head == NIL) {
		if (eng->used < eng->max_flows)
			return ++eng->used;
		/*
		 * Full.  A flow whose TIME-WAIT entry waits out its 2 ms for a
		 * reset has ended, and ends in TIME-WAIT now, before any open
		 * flow goes (oldest first; counted as settled early).
		 */
		while (eng->free_head == NIL && eng->n_pend)
			engine__settle_oldest(eng, now_ns);
		if (eng->free_head == NIL) {
			uint32_t victim = evictee(eng);
			const struct tt_flow *f = &eng->ents[victim].flow;
			uint8_t state = f->nstates ? f->state[f->nstates - 1] : 0;

			if (state == TT_CLOSE_WAIT || state == TT_LISTEN)
				STAT_INC(eng, evicted_waiting);
			ft_end_flow(eng, victim, TT_END_EVICTED);
		}
	}
	idx = eng->free_head;
	eng->free_head = eng->ents[idx].hnext;
	return idx;
}

bool ft_zero16(const uint8_t a[16])
{
	for (int i = 0; i < 16; i++)
		if (a[i])
			return false;
	return true;
}

/*
 * Fill what the flow does not know yet from a later record: at CLOSE >
 * SYN_SENT tcp_v4_connect() has not picked the local port, so the birth
 * record carries sport 0 and the next one the real port.  `whole` is false
 * for records whose tuple may be another socket's (a SYNACK retransmit names
 * the listener's sk with its request's tuple): only the local port, which
 * they share, is taken from those.
 */
void ft_fill_identity(struct tt_engine *eng, uint32_t idx, const struct tt_event *e,
			  bool whole)
{
	struct tt_flow *f = flow_at(eng, idx);
	bool rekey = (!f->netns && e->netns) || (!f->sport && e->sport);

	if (rekey)
		ft_listener_unlink(eng, idx);
	if (!f->netns)
		f->netns = e->netns;
	/* a request's record names the listener's cgroup, which its child inherits */
	if (!f->cgroup)
		f->cgroup = e->cgroup;
	if (!f->sport)
		f->sport = e->sport;
	if (whole) {
		if (!f->family)
			f->family = e->family;
		if (!f->dport)
			f->dport = e->dport;
		if (ft_zero16(f->saddr))
			memcpy(f->saddr, e->saddr, sizeof(f->saddr));
		if (ft_zero16(f->daddr))
			memcpy(f->daddr, e->daddr, sizeof(f->daddr));
		if (!f->cookie && (e->flags & TT_F_COOKIE))
			f->cookie = e->cookie;
	}
	if (rekey)
		ft_listener_sync(eng, idx);
}

/*
 * murmur3's 64-bit finaliser over the tuple, built byte by byte so that it
 * is the same on every host: captures carry these keys.
 */
static uint64_t pk_mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t pk_addr(uint64_t h, const uint8_t a[16], unsigned int len)
{
	for (unsigned int w = 0; w < len; w += 8) {
		uint64_t v = 0;

		for (unsigned int i = 0; i < 8 && w + i < len; i++)
			v |= (uint64_t)a[w + i] << (8 * i);
		h = pk_mix(h, v);
	}
	return h;
}

uint64_t engine__pseudo_sk(const struct tt_event *e)
{
	/* an IPv4 record may leave bytes 4..15 unset: only the 4 count */
	unsigned int alen = e->family == TT_AF_INET6 ? 16 : 4;
	uint64_t h = 0x7463707472616c31ull;	/* "tcptral1" */

	h = pk_mix(h, (uint64_t)e->netns << 32 | (uint64_t)e->family << 16);
	h = pk_mix(h, (uint64_t)e->sport << 16 | e->dport);
	h = pk_addr(h, e->saddr, alen);
	h = pk_addr(h, e->daddr, alen);
	return h | 1;
}

void ft_hash_link(struct tt_engine *eng, uint32_t idx)
{
	uint32_t *head = &eng->buckets[sk_hash(eng, eng->ents[idx].flow.sk)];

	eng->ents[idx].hnext = *head;
	*head = idx;
}

/*
 * A record for an sk we do not know may be about a socket seeded from
 * sock_diag and filed under its pseudo key: find it by the record's own
 * tuple and re-key it to the real sk, so it goes on as a known flow.  A
 * birth is never one: it is a new socket, and CLOSE > LISTEN may share its
 * tuple with a seeded SO_REUSEPORT sibling.  NIL if there is none.
 */
/* Might a flow filed under a pseudo key have e's ports? */
static bool seed_ports_may(const struct tt_engine *eng, const struct tt_event *e)
{
	uint32_t bit = seed_port_bit(e->sport, e->dport);

	return eng->seed_ports[bit / 64] & (1ull << (bit % 64));
}

uint32_t ft_adopt_seeded(struct tt_engine *eng, const struct tt_event *e)
{
	uint32_t idx;
	struct tt_flow *f;

	/* none left under a pseudo key, or none at these ports: no hash to make (every accept asks) */
	if (!e->sport || !eng->n_pseudo || !seed_ports_may(eng, e))
		return NIL;
	idx = find(eng, engine__pseudo_sk(e));
	if (idx == NIL)
		return NIL;
	f = flow_at(eng, idx);
	if (!(f->flags & TT_FLOW_SEEDED))
		return NIL;
	if ((e->flags & TT_F_COOKIE) && e->cookie && f->cookie && e->cookie != f->cookie) {
		/* another socket has the tuple now: the seeded one closed unseen */
		ft_end_flow(eng, idx, TT_END_SUPERSEDED);
		return NIL;
	}
	ft_hash_unlink(eng, idx);
	f->sk = e->sk;
	eng->n_pseudo--;
	ft_hash_link(eng, idx);
	return idx;
}

/*
 * A socket born after the hooks were attached and before the seed read it
 * is seeded too, and its birth reaches the engine after the seed: the ring
 * buffer is read only once the seed is in.  The birth names the same
 * socket as a seeded flow at its tuple when it has the same cookie
 * (cookies are never reused); a birth with no cookie (kprobe and classic
 * tracepoint hooks) does when it came before the seed had read all, as no
 * two sockets share a tuple (SO_REUSEPORT listeners do, so none of theirs).
 * That flow, which knows only the state it was seen in, goes as if it had
 * never been: no end, no report.  Left there it would wait forever under
 * its pseudo key, a CLOSE_WAIT "leak" with no owner.  True if one went.
 */
bool ft_forget_seeded_twin(struct tt_engine *eng, const struct tt_event *e)
{
	bool cookie = (e->flags & TT_F_COOKIE) && e->cookie;
	struct tt_entry *ent;
	uint32_t idx;

	if (!eng->n_pseudo || !e->sport || !seed_ports_may(eng, e))
		return false;
	idx = find(eng, engine__pseudo_sk(e));
	if (idx == NIL)
		return false;
	ent = &eng->ents[idx];
	if (!(ent->flow.flags & TT_FLOW_SEEDED))
		return false;
	if (cookie && ent->flow.cookie) {
		if (ent->flow.cookie != e->cookie)
			return false;
	} else if (e->new_state == TT_LISTEN || e->ts_ns > eng->seed_ns) {
		return false;
	}
	eng->n_pseudo--;
	ft_forget(eng, idx);
	eng->total.seed_twins++;
	return true;
}

void ft_forget(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *ent = &eng->ents[idx];

	ft_hash_unlink(eng, idx);
	lru_unlink(eng, idx);
	ft_listener_unlink(eng, idx);
	ft_set_active(eng, eng->total.active - 1);
	if (eng->total.flows_opened)
		eng->total.flows_opened--;
	if (eng->interval.flows_opened)
		eng->interval.flows_opened--;
	if ((ent->flow.flags & TT_FLOW_PARTIAL) && eng->total.flows_found)
		eng->total.flows_found--;
	if ((ent->flow.flags & TT_FLOW_PARTIAL) && eng->interval.flows_found)
		eng->interval.flows_found--;
	ent->hnext = eng->free_head;
	eng->free_head = idx;
}

uint32_t ft_flow_new(struct tt_engine *eng, const struct tt_event *e, uint8_t role,
			 uint8_t flags)
{
	uint32_t idx = ft_slot_alloc(eng, e->ts_ns);
	struct tt_entry *ent = &eng->ents[idx];
	struct tt_flow *f = &ent->flow;

	/* a new life on the sk: a TIME-WAIT marker for it is stale now */
	ft_tw_take(eng, e->sk);
	memset(f, 0, sizeof(*f));
	f->sk = e->sk;
	/* the id is always ours: a cookie, when there is one, is told apart */
	f->id = eng->next_id++;
	if ((e->flags & TT_F_COOKIE) && e->cookie)
		f->cookie = e->cookie;
	f->netns = e->netns;
	f->cgroup = e->cgroup;
	f->family = e->family;
	f->role = role;
	f->flags = flags;
	f->sport = e->sport;
	f->dport = e->dport;
	memcpy(f->saddr, e->saddr, sizeof(f->saddr));
	memcpy(f->daddr, e->daddr, sizeof(f->daddr));

	ft_hash_link(eng, idx);
	ent->lnext = UNLISTED;
	lru_push_newest(eng, idx);

	ft_set_active(eng, eng->total.active + 1);
	STAT_INC(eng, flows_opened);
	if (flags & TT_FLOW_PARTIAL)
		STAT_INC(eng, flows_found);
	return idx;
}

void engine__for_each_listener_stats(const struct tt_engine *eng, tt_listener_visit_cb cb,
				     void *ctx)
{
	for (unsigned int i = 0; i < eng->n_lstats; i++)
		cb(&eng->lstats[i], ctx);
}

static uint32_t pow2_at_least(size_t n, uint32_t min)
{
	uint32_t p = min;

	while (p < n)
		p <<= 1;
	return p;
}

struct tt_engine *engine__new(const struct tt_engine_opts *opts)
{
	size_t max = opts && opts->max_flows ? opts->max_flows : TT_DEFAULT_MAX_FLOWS;
	struct tt_engine *eng;
	uint32_t nb;

	if (max > TT_MAX_FLOWS_LIMIT) {
		errno = EINVAL;
		return NULL;
	}
	eng = calloc(1, sizeof(*eng));
	if (!eng)
		return NULL;
	eng->max_flows = (uint32_t)max;
	eng->next_id = 1;
	if (opts) {
		eng->on_flow_end = opts->on_flow_end;
		eng->on_transition = opts->on_transition;
		eng->on_overflow = opts->on_overflow;
		eng->ctx = opts->ctx;
	}
	/* load factor at most 1 */
	nb = pow2_at_least(max, 16);
	while ((1u << eng->hash_bits) < nb)
		eng->hash_bits++;
	/* listeners are few next to their children */
	eng->lmask = pow2_at_least(max / 16, 16) - 1;

	eng->ents = tt_big_zalloc((max + 2) * sizeof(*eng->ents));
	eng->buckets = tt_big_zalloc(nb * sizeof(*eng->buckets));
	eng->lbuckets = calloc(eng->lmask + 1, sizeof(*eng->lbuckets));
	if (!eng->ents || !eng->buckets || !eng->lbuckets) {
		engine__free(eng);
		errno = ENOMEM;
		return NULL;
	}
	/* each LRU sentinel points at itself: an empty list */
	eng->ents[0].prev = eng->ents[0].next = 0;
	eng->ents[max + 1].prev = eng->ents[max + 1].next = (uint32_t)max + 1;
	return eng;
}

void engine__free(struct tt_engine *eng)
{
	if (!eng)
		return;
	tt_big_free(eng->ents, ((size_t)eng->max_flows + 2) * sizeof(*eng->ents));
	tt_big_free(eng->buckets, ((size_t)1 << eng->hash_bits) * sizeof(*eng->buckets));
	free(eng->lbuckets);
	free(eng);
}

size_t engine__mem_bytes(const struct tt_engine *eng)
{
	return sizeof(*eng) +
	       ((size_t)eng->max_flows + 2) * sizeof(*eng->ents) +
	       ((size_t)1 << eng->hash_bits) * sizeof(*eng->buckets) +
	       ((size_t)eng->lmask + 1) * sizeof(*eng->lbuckets);
}

const struct tt_engine_stats *engine__total(const struct tt_engine *eng)
{
	return &eng->total;
}

const struct tt_engine_stats *engine__interval(const struct tt_engine *eng)
{
	return &eng->interval;
}

void engine__reset_interval(struct tt_engine *eng)
{
	memset(&eng->interval, 0, sizeof(eng->interval));
	eng->interval.active = eng->total.active;
	eng->interval.peak = eng->total.active;
	for (unsigned int i = 0; i < eng->n_lstats;) {
		struct tt_listener_stats *ls = &eng->lstats[i];

		/* its listener closed, and nothing overflowed since: reported, and gone */
		if (ls->closed_ns && ls->last_ns <= ls->closed_ns) {
			*ls = eng->lstats[--eng->n_lstats];
			continue;
		}
		ls->closed_ns = 0;
		ls->i_accept_overflows = 0;
		ls->i_syn_drops = 0;
		ls->i_syn_cookies = 0;
		i++;
	}
}

void engine__for_each(const struct tt_engine *eng, tt_flow_visit_cb cb, void *ctx)
{
	uint32_t i, next;

	for (i = eng->ents[0].next; i != 0; i = next) {
		next = eng->ents[i].next;
		cb(&eng->ents[i].flow, ctx);
	}
	for (i = eng->ents[lru_kept(eng)].next; i != lru_kept(eng); i = next) {
		next = eng->ents[i].next;
		cb(&eng->ents[i].flow, ctx);
	}
}

void engine__prefetch(const struct tt_engine *eng, const uint64_t *sk, unsigned int n)
{
	uint32_t i;

	if (n > 1)
		__builtin_prefetch(&eng->buckets[sk_hash(eng, sk[1])]);
	if (!n)
		return;
	i = eng->buckets[sk_hash(eng, sk[0])];
	/* find() reads flow.sk and hnext, which an entry keeps in different lines */
	if (i != NIL) {
		__builtin_prefetch(&eng->ents[i].flow.sk);
		__builtin_prefetch(&eng->ents[i].hnext);
	}
	if (eng->free_head != NIL) {
		__builtin_prefetch(&eng->ents[eng->free_head].flow, 1);
		__builtin_prefetch(&eng->ents[eng->free_head].hnext);
	}
}

const struct tt_flow *engine__lookup(const struct tt_engine *eng, uint64_t sk)
{
	uint32_t idx = find(eng, sk);

	return idx == NIL ? NULL : &eng->ents[idx].flow;
}

const char *tt_state_name(unsigned int state)
{
	static const char *const names[TT_STATE_MAX] = {
		[TT_ESTABLISHED] = "ESTABLISHED",
		[TT_SYN_SENT] = "SYN_SENT",
		[TT_SYN_RECV] = "SYN_RECV",
		[TT_FIN_WAIT1] = "FIN_WAIT1",
		[TT_FIN_WAIT2] = "FIN_WAIT2",
		[TT_TIME_WAIT] = "TIME_WAIT",
		[TT_CLOSE] = "CLOSE",
		[TT_CLOSE_WAIT] = "CLOSE_WAIT",
		[TT_LAST_ACK] = "LAST_ACK",
		[TT_LISTEN] = "LISTEN",
		[TT_CLOSING] = "CLOSING",
		[TT_NEW_SYN_RECV] = "NEW_SYN_RECV",
	};

	return state_ok(state) ? names[state] : "?";
}

const char *tt_role_name(unsigned int role)
{
	static const char *const names[] = {
		[TT_ROLE_UNKNOWN] = "unknown",
		[TT_ROLE_ACTIVE] = "active",
		[TT_ROLE_PASSIVE] = "passive",
		[TT_ROLE_LISTENER] = "listener",
	};

	return role < sizeof(names) / sizeof(names[0]) ? names[role] : "?";
}

const char *tt_end_name(unsigned int end)
{
	static const char *const names[TT_END_MAX] = {
		[TT_END_NONE] = "open",
		[TT_END_CLOSE] = "close",
		[TT_END_TIME_WAIT] = "time_wait",
		[TT_END_RESET] = "reset",
		[TT_END_ABORT] = "abort",
		[TT_END_REFUSED] = "refused",
		[TT_END_TIMEOUT] = "timeout",
		[TT_END_ERROR] = "error",
		[TT_END_EVICTED] = "evicted",
		[TT_END_SUPERSEDED] = "superseded",
		[TT_END_GONE] = "gone",
		[TT_END_CANCELLED] = "cancelled",
		[TT_END_NO_PORT] = "no_port",
	};

	return end < TT_END_MAX ? names[end] : "?";
}

const struct tt_flow *engine__listener_of(const struct tt_engine *eng, const struct tt_flow *f)
{
	return ft_find_listener(eng, f);
}

/* The sockets whose TIME_WAIT record was just handled (TW_RING). */
int ft_tw_find(const struct tt_engine *eng, uint64_t sk)
{
	/* every new flow asks; in the rule's TIME-WAIT mode the ring stays empty */
	if (!eng->tw_live)
		return -1;
	for (int i = 0; i < TW_RING; i++)
		if (eng->tw_used[i] && eng->tw_sk[i] == sk)
			return i;
	return -1;
}

void ft_tw_remember(struct tt_engine *eng, uint64_t sk)
{
	if (ft_tw_find(eng, sk) >= 0)
		return;
	if (!eng->tw_used[eng->tw_pos])
		eng->tw_live++;
	eng->tw_sk[eng->tw_pos] = sk;
	eng->tw_used[eng->tw_pos] = 1;
	eng->tw_pos = (eng->tw_pos + 1) % TW_RING;
}

/* Returns whether sk had just gone to TIME-WAIT, and forgets it. */
bool ft_tw_take(struct tt_engine *eng, uint64_t sk)
{
	int i = ft_tw_find(eng, sk);

	if (i < 0)
		return false;
	eng->tw_used[i] = 0;
	eng->tw_live--;
	return true;
}
