// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flow engine.  engine__new takes all the memory there will be: a slab
 * of entries, each a struct tt_flow plus three intrusive u32 links (sk hash
 * chain, LRU, listener chain), and two bucket arrays.  A link holds a slab
 * index and 0 means none: slot 0 is never a flow but the LRU's sentinel.
 * So calloc'd buckets are already empty and, as slots are handed out from a
 * high-water mark, a big table costs pages only as far as it fills.
 *
 * on_flow_end may look the engine up but must not feed it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

#define TT_DEFAULT_MAX_FLOWS	262144
/* Slab indices are u32 and UINT32_MAX is a sentinel. */
#define TT_MAX_FLOWS_LIMIT	(UINT32_MAX / 2)

#define NIL		0u		/* end of a chain */
#define UNLISTED	UINT32_MAX	/* lnext of a flow not in the listener index */

/*
 * sk_err values as the kernel numbers them (asm-generic/errno*.h), written
 * out so that a capture replayed on any host reads the same.
 */
#define K_EPIPE		32
#define K_ECONNRESET	104
#define K_ETIMEDOUT	110
#define K_ECONNREFUSED	111

/*
 * Sockets whose TIME_WAIT record we have just handled; tcp_time_wait() is
 * followed by tcp_done() -> tcp_set_state(CLOSE) on the same CPU, so the
 * X>CLOSE it produces arrives right behind and a few slots are plenty.
 */
#define TW_RING		64

/*
 * SYN-ACK retransmits happen while the connection is a request sock, before
 * the child flow exists: keep the latest count per 4-tuple until the child
 * is born (LISTEN > SYN_RECV) and takes it.
 */
#define SYNACK_RING	256

/*
 * The rule cannot tell an orphan entering TIME-WAIT in its FIN_WAIT2
 * substate from one that tcp_rcv_state_process() drops with tcp_done() for
 * data after close(): the kernel state is the same.  The second answers
 * with a reset at once, on the same CPU, so such entries wait this long for
 * a RESET_SENT record before they count.
 */
#define PEND_MAX	64
#define PEND_WAIT_NS	2000000ull

/*
 * A passive child's LISTEN > SYN_RECV reaches us only with its next
 * transition: the kernel side holds the birth back until then (see births
 * in bpf/).  A Fast Open child can be accepted, and reset, while still in
 * SYN_RECV, so its ACCEPT and RESET_* records may come first, for a socket
 * the engine does not know yet.  They wait here, and the child's birth takes
 * those that are its own: same socket and tuple, and not older than the
 * birth (which is dated when it happened), so a stale one left by an earlier
 * socket at the same address never matches.  The oldest goes when full.
 */
#define EARLY_RING	64

/*
 * For the same reason a child's birth can come after its listener's
 * LISTEN > CLOSE: a Fast Open child waiting in the accept queue is told
 * born only when closing the listener disconnects it.  Listeners that have
 * just closed are kept here, so such a child still gets its listener's
 * owner: one that closed no earlier than the child was born.
 */
#define GONE_LISTENERS	16

struct gone_listener {
	uint64_t closed_ns;	/* 0: a free slot */
	uint32_t netns;
	uint16_t port;
	uint8_t family;
	uint32_t owner_pid;
	char owner_comm[16];
};

struct synack_note {
	uint32_t netns;
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	uint8_t count;
};

struct tt_entry {
	struct tt_flow flow;
	uint32_t hnext;		/* sk hash chain; free list when not in use */
	uint32_t prev, next;	/* LRU, oldest first, circular through slot 0 */
	uint32_t lnext;		/* listener chain, or UNLISTED */
};

struct tt_engine {
	struct tt_entry *ents;	/* max_flows + 1: slot 0 is the LRU sentinel */
	uint32_t *buckets;	/* sk -> first entry */
	uint32_t *lbuckets;	/* (netns, local port) -> first listener */
	uint32_t max_flows;
	uint32_t used;		/* slots ever handed out (high-water mark) */
	uint32_t free_head;	/* recycled slots, chained through hnext */
	unsigned int hash_bits;
	uint32_t lmask;
	uint64_t next_id;
	uint64_t tw_sk[TW_RING];
	uint8_t tw_used[TW_RING];
	unsigned int tw_pos;
	unsigned int tw_live;	/* tw_used[] set: none, no scan */
	uint64_t pend_sk[PEND_MAX];
	uint64_t pend_ts[PEND_MAX];
	unsigned int n_pend;
	struct gone_listener gone[GONE_LISTENERS];
	unsigned int gone_pos;
	struct tt_event early[EARLY_RING];	/* type 0: a free slot */
	unsigned int early_pos;
	unsigned int early_live;	/* slots in use: none, no scan */
	struct synack_note synack[SYNACK_RING];
	unsigned int synack_pos;
	unsigned int synack_live;	/* notes with a count: none, no scan */
	struct tt_listener_stats lstats[TT_MAX_LISTENER_STATS];
	unsigned int n_lstats;
	tt_flow_cb on_flow_end;
	tt_transition_cb on_transition;
	void *ctx;
	struct tt_engine_stats total;
	struct tt_engine_stats interval;
};

#define STAT_INC(eng, field)					\
	do {							\
		(eng)->total.field++;				\
		(eng)->interval.field++;			\
	} while (0)


static inline struct tt_flow *flow_at(struct tt_engine *eng, uint32_t idx)
{
	return &eng->ents[idx].flow;
}

static inline bool state_ok(unsigned int s)
{
	return s >= 1 && s < TT_STATE_MAX;
}

static inline uint32_t sk_hash(const struct tt_engine *eng, uint64_t sk)
{
	/* sk is a slab address: the low bits are alignment, mix them all in */
	return (uint32_t)((sk * 0x9E3779B97F4A7C15ull) >> (64 - eng->hash_bits));
}

static inline uint32_t listener_hash(const struct tt_engine *eng, uint32_t netns,
				     uint16_t port)
{
	uint64_t k = ((uint64_t)netns << 16) | port;

	return (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & eng->lmask;
}

static uint32_t find(const struct tt_engine *eng, uint64_t sk)
{
	uint32_t i;

	for (i = eng->buckets[sk_hash(eng, sk)]; i != NIL; i = eng->ents[i].hnext)
		if (eng->ents[i].flow.sk == sk)
			return i;
	return NIL;
}

static void hash_unlink(struct tt_engine *eng, uint32_t idx)
{
	uint32_t *p = &eng->buckets[sk_hash(eng, eng->ents[idx].flow.sk)];

	while (*p != NIL && *p != idx)
		p = &eng->ents[*p].hnext;
	if (*p == idx)
		*p = eng->ents[idx].hnext;
}

static void lru_unlink(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *e = &eng->ents[idx];

	eng->ents[e->prev].next = e->next;
	eng->ents[e->next].prev = e->prev;
}

static void lru_push_newest(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *e = &eng->ents[idx], *s = &eng->ents[0];

	e->next = 0;
	e->prev = s->prev;
	eng->ents[s->prev].next = idx;
	s->prev = idx;
}

static void touch(struct tt_engine *eng, uint32_t idx)
{
	if (eng->ents[0].prev == idx)
		return;
	lru_unlink(eng, idx);
	lru_push_newest(eng, idx);
}

static void listener_unlink(struct tt_engine *eng, uint32_t idx)
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
static void listener_sync(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *e = &eng->ents[idx];
	const struct tt_flow *f = &e->flow;
	bool want = f->role == TT_ROLE_LISTENER && (f->flags & TT_FLOW_OWNER_KNOWN) &&
		    f->sport != 0;
	uint32_t *head;

	if (!want) {
		listener_unlink(eng, idx);
		return;
	}
	if (e->lnext != UNLISTED)
		return;
	head = &eng->lbuckets[listener_hash(eng, f->netns, f->sport)];
	e->lnext = *head;
	*head = idx;
}

/*
 * The listener a passive child came from.  A dual-stack IPv6 listener has
 * IPv4 children too, so a listener of another family is the fallback.
 */
static const struct tt_flow *find_listener(const struct tt_engine *eng,
					   const struct tt_flow *child)
{
	const struct tt_flow *other = NULL;
	uint32_t i;

	i = eng->lbuckets[listener_hash(eng, child->netns, child->sport)];
	for (; i != NIL; i = eng->ents[i].lnext) {
		const struct tt_flow *l = &eng->ents[i].flow;

		if (l->netns != child->netns || l->sport != child->sport)
			continue;
		if (l->family == child->family)
			return l;
		if (!other)
			other = l;
	}
	return other;
}

/* An indexed listener (owned, with a port) ends: keep its owner a while. */
static void listener_gone(struct tt_engine *eng, const struct tt_flow *l)
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
static const struct gone_listener *find_gone_listener(const struct tt_engine *eng,
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

static int tw_find(const struct tt_engine *eng, uint64_t sk)
{
	/* every new flow asks; in the rule's TIME-WAIT mode the ring stays empty */
	if (!eng->tw_live)
		return -1;
	for (int i = 0; i < TW_RING; i++)
		if (eng->tw_used[i] && eng->tw_sk[i] == sk)
			return i;
	return -1;
}

static void tw_remember(struct tt_engine *eng, uint64_t sk)
{
	if (tw_find(eng, sk) >= 0)
		return;
	if (!eng->tw_used[eng->tw_pos])
		eng->tw_live++;
	eng->tw_sk[eng->tw_pos] = sk;
	eng->tw_used[eng->tw_pos] = 1;
	eng->tw_pos = (eng->tw_pos + 1) % TW_RING;
}

/* Returns whether sk had just gone to TIME-WAIT, and forgets it. */
static bool tw_take(struct tt_engine *eng, uint64_t sk)
{
	int i = tw_find(eng, sk);

	if (i < 0)
		return false;
	eng->tw_used[i] = 0;
	eng->tw_live--;
	return true;
}

static void set_active(struct tt_engine *eng, size_t n)
{
	eng->total.active = n;
	eng->interval.active = n;
}

/*
 * Take the flow out of every index, hand it to the callback, recycle the
 * slot.  It is unindexed first so that a callback looking the sk up sees the
 * table as it will be.
 */
static void end_flow(struct tt_engine *eng, uint32_t idx, uint8_t reason)
{
	struct tt_entry *e = &eng->ents[idx];

	e->flow.end = reason;
	if (e->lnext != UNLISTED)
		listener_gone(eng, &e->flow);
	hash_unlink(eng, idx);
	lru_unlink(eng, idx);
	listener_unlink(eng, idx);
	set_active(eng, eng->total.active - 1);

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
	}
	if (eng->on_flow_end)
		eng->on_flow_end(&e->flow, eng->ctx);

	e->hnext = eng->free_head;
	eng->free_head = idx;
}

static uint32_t slot_alloc(struct tt_engine *eng)
{
	uint32_t idx;

	if (eng->free_head == NIL) {
		if (eng->used < eng->max_flows)
			return ++eng->used;
		/* full: the least recently active flow makes room */
		end_flow(eng, eng->ents[0].next, TT_END_EVICTED);
	}
	idx = eng->free_head;
	eng->free_head = eng->ents[idx].hnext;
	return idx;
}

static bool zero16(const uint8_t a[16])
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
static void fill_identity(struct tt_engine *eng, uint32_t idx, const struct tt_event *e,
			  bool whole)
{
	struct tt_flow *f = flow_at(eng, idx);
	bool rekey = (!f->netns && e->netns) || (!f->sport && e->sport);

	if (rekey)
		listener_unlink(eng, idx);
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
		if (zero16(f->saddr))
			memcpy(f->saddr, e->saddr, sizeof(f->saddr));
		if (zero16(f->daddr))
			memcpy(f->daddr, e->daddr, sizeof(f->daddr));
		if (!f->cookie && (e->flags & TT_F_COOKIE))
			f->cookie = e->cookie;
	}
	if (rekey)
		listener_sync(eng, idx);
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

static void hash_link(struct tt_engine *eng, uint32_t idx)
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
static uint32_t adopt_seeded(struct tt_engine *eng, const struct tt_event *e)
{
	uint32_t idx;
	struct tt_flow *f;

	if (!e->sport)
		return NIL;
	idx = find(eng, engine__pseudo_sk(e));
	if (idx == NIL)
		return NIL;
	f = flow_at(eng, idx);
	if (!(f->flags & TT_FLOW_SEEDED))
		return NIL;
	if ((e->flags & TT_F_COOKIE) && e->cookie && f->cookie && e->cookie != f->cookie) {
		/* another socket has the tuple now: the seeded one closed unseen */
		end_flow(eng, idx, TT_END_SUPERSEDED);
		return NIL;
	}
	hash_unlink(eng, idx);
	f->sk = e->sk;
	hash_link(eng, idx);
	return idx;
}

static uint32_t flow_new(struct tt_engine *eng, const struct tt_event *e, uint8_t role,
			 uint8_t flags)
{
	uint32_t idx = slot_alloc(eng);
	struct tt_entry *ent = &eng->ents[idx];
	struct tt_flow *f = &ent->flow;

	/* a new life on the sk: a TIME-WAIT marker for it is stale now */
	tw_take(eng, e->sk);
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

	hash_link(eng, idx);
	ent->lnext = UNLISTED;
	lru_push_newest(eng, idx);

	set_active(eng, eng->total.active + 1);
	STAT_INC(eng, flows_opened);
	return idx;
}

static bool same_tuple(const struct synack_note *n, const struct tt_flow *f)
{
	return n->count && n->netns == f->netns && n->sport == f->sport &&
	       n->dport == f->dport && !memcmp(n->saddr, f->saddr, 16) &&
	       !memcmp(n->daddr, f->daddr, 16);
}

/* A passive child takes the retransmits of the request it grew from. */
static void synack_claim(struct tt_engine *eng, struct tt_flow *f)
{
	/* every passive birth asks; most find the ring empty */
	if (!eng->synack_live)
		return;
	for (unsigned int i = 0; i < SYNACK_RING; i++) {
		if (same_tuple(&eng->synack[i], f)) {
			f->synack_retrans = eng->synack[i].count;
			eng->synack[i].count = 0;
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

static int on_overflow(struct tt_engine *eng, const struct tt_event *e)
{
	struct tt_listener_stats *ls;
	uint32_t idx;

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
	idx = find(eng, e->sk);
	if (idx != NIL && eng->ents[idx].flow.owner_pid) {
		ls->owner_pid = eng->ents[idx].flow.owner_pid;
		memcpy(ls->owner_comm, eng->ents[idx].flow.owner_comm, 16);
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

void engine__for_each_listener_stats(const struct tt_engine *eng, tt_listener_visit_cb cb,
				     void *ctx)
{
	for (unsigned int i = 0; i < eng->n_lstats; i++)
		cb(&eng->lstats[i], ctx);
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

static uint8_t end_reason(const struct tt_event *e)
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
	case TT_CLOSING:
	case TT_LAST_ACK:
	case TT_TIME_WAIT:
	case TT_LISTEN:
		return TT_END_CLOSE;
	default:
		/* ESTABLISHED, CLOSE_WAIT, SYN_* straight to CLOSE: no FIN exchange */
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
		eng->on_transition(f, e, old, new, ts, eng->ctx);
}

static void early_claim(struct tt_engine *eng, const struct tt_event *birth);

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
		idx = adopt_seeded(eng, e);
	if (idx != NIL && is_duplicate(flow_at(eng, idx), e)) {
		STAT_INC(eng, duplicates);
		return 0;
	}

	if (birth) {
		role = old == TT_LISTEN ? TT_ROLE_PASSIVE : role_guess(new);
		if (idx != NIL)
			end_flow(eng, idx, TT_END_SUPERSEDED);
		idx = flow_new(eng, e, role, 0);
		f = flow_at(eng, idx);
		push_state(f, new, e->ts_ns);
		if (role == TT_ROLE_PASSIVE) {
			const struct tt_flow *l = find_listener(eng, f);
			const struct gone_listener *g;

			synack_claim(eng, f);
			if (l) {
				f->owner_pid = l->owner_pid;
				memcpy(f->owner_comm, l->owner_comm, sizeof(f->owner_comm));
			} else if ((g = find_gone_listener(eng, f))) {
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
		if (new == TT_CLOSE && tw_take(eng, e->sk))
			return 0;
		role = role_guess(old);
		if (role == TT_ROLE_UNKNOWN)
			role = role_guess(new);
		idx = flow_new(eng, e, role, TT_FLOW_PARTIAL);
		f = flow_at(eng, idx);
		push_state(f, old, e->ts_ns);
		push_state(f, new, e->ts_ns);
	} else {
		f = flow_at(eng, idx);
		fill_identity(eng, idx, e, true);
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
		if (is_close_call(old, new)) {
			f->closer_pid = e->tgid;
			copy_comm(f->closer_comm, e->comm);
		}
	}
	listener_sync(eng, idx);

	if (new == TT_CLOSE)
		end_flow(eng, idx, end_reason(e));
	else if (birth)
		early_claim(eng, e);
	return 0;
}

static bool from_rule(const struct tt_event *e)
{
	return e->hook == TT_HOOK_TP_BTF_SET_STATE || e->hook == TT_HOOK_TP_SET_STATE ||
	       e->hook == TT_HOOK_FENTRY_SET_STATE || e->hook == TT_HOOK_KPROBE_SET_STATE ||
	       e->hook == TT_HOOK_SOCKOPS_STATE;
}

/* End a pending entry: in TIME-WAIT after all, or aborted if a reset followed. */
static void settle(struct tt_engine *eng, unsigned int i, bool reset)
{
	uint64_t sk = eng->pend_sk[i];
	uint32_t idx = find(eng, sk);

	eng->pend_sk[i] = eng->pend_sk[eng->n_pend - 1];
	eng->pend_ts[i] = eng->pend_ts[eng->n_pend - 1];
	eng->n_pend--;
	if (idx == NIL)
		return;
	struct tt_flow *f = flow_at(eng, idx);
	unsigned int old = f->nstates > 1 ? f->state[f->nstates - 2] : 0;

	f->flags &= ~TT_FLOW_TW_PENDING;
	if (reset) {
		f->state[f->nstates - 1] = TT_CLOSE;
		f->tw_substate = 0;
		if (old)
			count_transition(eng, f, NULL, old, TT_CLOSE, f->ts_ns[f->nstates - 1]);
		end_flow(eng, idx, TT_END_ABORT);
		return;
	}
	/* the rule's record replaced the > CLOSE: no tcp_done() record follows */
	if (old)
		count_transition(eng, f, NULL, old, TT_TIME_WAIT, f->ts_ns[f->nstates - 1]);
	end_flow(eng, idx, TT_END_TIME_WAIT);
}

void engine__settle(struct tt_engine *eng, uint64_t now_ns)
{
	for (unsigned int i = 0; i < eng->n_pend;) {
		if (now_ns == UINT64_MAX || eng->pend_ts[i] + PEND_WAIT_NS <= now_ns)
			settle(eng, i, false);	/* moves the last one into slot i */
		else
			i++;
	}
}

static int pend_find(const struct tt_engine *eng, uint64_t sk)
{
	for (unsigned int i = 0; i < eng->n_pend; i++)
		if (eng->pend_sk[i] == sk)
			return (int)i;
	return -1;
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
		idx = adopt_seeded(eng, e);
	if (idx == NIL) {
		if (tw_find(eng, e->sk) >= 0) {
			STAT_INC(eng, duplicates);
			return 0;
		}
		idx = flow_new(eng, e, role_guess(old), TT_FLOW_PARTIAL);
		f = flow_at(eng, idx);
		if (old)
			push_state(f, old, e->ts_ns);
	} else {
		f = flow_at(eng, idx);
		fill_identity(eng, idx, e, true);
		if (!old)
			old = f->state[f->nstates - 1];
	}
	push_state(f, TT_TIME_WAIT, e->ts_ns);
	if (e->flags & TT_F_SUBSTATE)
		f->tw_substate = e->aux[0];
	if ((e->flags & TT_F_OWNER) && !(f->flags & TT_FLOW_OWNER_KNOWN))
		set_owner(f, e);
	if (from_rule(e) && (e->flags & TT_F_SUBSTATE) && e->aux[0] == TT_FIN_WAIT2) {
		if (eng->n_pend == PEND_MAX)
			settle(eng, 0, false);
		f->flags |= TT_FLOW_TW_PENDING;
		eng->pend_sk[eng->n_pend] = e->sk;
		eng->pend_ts[eng->n_pend] = e->ts_ns;
		eng->n_pend++;
		touch(eng, idx);
		return 0;
	}
	if (old)
		count_transition(eng, f, e, old, TT_TIME_WAIT, e->ts_ns);
	/* a hook's record comes before tcp_done()'s > CLOSE; the rule's replaced it */
	if (!from_rule(e))
		tw_remember(eng, e->sk);
	end_flow(eng, idx, TT_END_TIME_WAIT);
	return 0;
}

static void early_hold(struct tt_engine *eng, const struct tt_event *e)
{
	struct tt_event *slot = &eng->early[eng->early_pos];

	if (!slot->type)
		eng->early_live++;
	*slot = *e;
	eng->early_pos = (eng->early_pos + 1) % EARLY_RING;
}

static int on_accept(struct tt_engine *eng, const struct tt_event *e);
static int on_counter(struct tt_engine *eng, const struct tt_event *e);

/* The records that came before this birth was told, oldest first. */
static void early_claim(struct tt_engine *eng, const struct tt_event *birth)
{
	if (!eng->early_live)
		return;
	for (unsigned int n = 0, i = eng->early_pos; n < EARLY_RING;
	     n++, i = (i + 1) % EARLY_RING) {
		struct tt_event *h = &eng->early[i], e;

		if (!h->type || h->sk != birth->sk || h->netns != birth->netns ||
		    h->sport != birth->sport || h->dport != birth->dport ||
		    h->ts_ns < birth->ts_ns)
			continue;
		e = *h;
		h->type = 0;
		eng->early_live--;
		if (e.type == TT_EV_ACCEPT)
			on_accept(eng, &e);
		else
			on_counter(eng, &e);
	}
}

static int on_accept(struct tt_engine *eng, const struct tt_event *e)
{
	uint32_t idx = find(eng, e->sk);
	struct tt_flow *f;

	/* a connection that waited in the accept queue when we started */
	if (idx == NIL)
		idx = adopt_seeded(eng, e);
	if (idx == NIL) {
		early_hold(eng, e);
		return 0;
	}
	f = flow_at(eng, idx);
	fill_identity(eng, idx, e, true);
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
	uint32_t idx = find(eng, e->sk);
	struct tt_flow *f;

	if (idx == NIL) {
		early_hold(eng, e);
		return 0;
	}
	f = flow_at(eng, idx);
	fill_identity(eng, idx, e, false);
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
	if (find(eng, e->sk) != NIL)
		return 0;
	/*
	 * No record will ever end these: a timewait or request sock never
	 * goes through tcp_set_state, and a CLOSE socket has no flow.
	 */
	if (state == TT_TIME_WAIT || state == TT_NEW_SYN_RECV || state == TT_CLOSE)
		return 0;
	idx = flow_new(eng, e, state == TT_LISTEN ? TT_ROLE_LISTENER : TT_ROLE_UNKNOWN,
		       TT_FLOW_SEEDED | TT_FLOW_PARTIAL);
	f = flow_at(eng, idx);
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
	listener_sync(eng, idx);
	return 0;
}

int engine__feed(struct tt_engine *eng, const struct tt_event *e)
{
	if (!eng || !e)
		return -EINVAL;
	STAT_INC(eng, events);
	if (eng->n_pend) {
		int p = pend_find(eng, e->sk);

		/* data after close(): tcp_done(), then a reset for the same socket */
		if (p >= 0 && e->type == TT_EV_RESET_SENT) {
			settle(eng, (unsigned int)p, true);
			return 0;
		}
		if (p >= 0)
			settle(eng, (unsigned int)p, false);
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
			fill_identity(eng, idx, e, false);
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
		eng->ctx = opts->ctx;
	}
	/* load factor at most 1 */
	nb = pow2_at_least(max, 16);
	while ((1u << eng->hash_bits) < nb)
		eng->hash_bits++;
	/* listeners are few next to their children */
	eng->lmask = pow2_at_least(max / 16, 16) - 1;

	eng->ents = calloc(max + 1, sizeof(*eng->ents));
	eng->buckets = calloc(nb, sizeof(*eng->buckets));
	eng->lbuckets = calloc(eng->lmask + 1, sizeof(*eng->lbuckets));
	if (!eng->ents || !eng->buckets || !eng->lbuckets) {
		engine__free(eng);
		errno = ENOMEM;
		return NULL;
	}
	/* the LRU sentinel points at itself: an empty list */
	eng->ents[0].prev = eng->ents[0].next = 0;
	return eng;
}

void engine__free(struct tt_engine *eng)
{
	if (!eng)
		return;
	free(eng->ents);
	free(eng->buckets);
	free(eng->lbuckets);
	free(eng);
}

size_t engine__mem_bytes(const struct tt_engine *eng)
{
	return sizeof(*eng) +
	       ((size_t)eng->max_flows + 1) * sizeof(*eng->ents) +
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
	for (unsigned int i = 0; i < eng->n_lstats; i++) {
		eng->lstats[i].i_accept_overflows = 0;
		eng->lstats[i].i_syn_drops = 0;
		eng->lstats[i].i_syn_cookies = 0;
	}
}

void engine__for_each(const struct tt_engine *eng, tt_flow_visit_cb cb, void *ctx)
{
	uint32_t i, next;

	for (i = eng->ents[0].next; i != 0; i = next) {
		next = eng->ents[i].next;
		cb(&eng->ents[i].flow, ctx);
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
	};

	return end < TT_END_MAX ? names[end] : "?";
}

const struct tt_flow *engine__listener_of(const struct tt_engine *eng, const struct tt_flow *f)
{
	return find_listener(eng, f);
}
