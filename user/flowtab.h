/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Engine, inside: the flow table (flowtab.c) and what the event semantics
 * (engine.c) keep beside it.  Not for the rest of the program: engine.h is.
 *
 * engine__new takes all the memory there will be: a slab of entries, each
 * a struct tt_flow plus three intrusive u32 links (sk hash chain, LRU,
 * listener chain), and two bucket arrays.  A link holds a slab index and 0
 * means none: slot 0 is never a flow but the LRU's sentinel.  So calloc'd
 * buckets are already empty and, as slots are handed out from a high-water
 * mark, a big table costs pages only as far as it fills.
 *
 * on_flow_end may look the engine up but must not feed it.
 */
#ifndef TT_FLOWTAB_H
#define TT_FLOWTAB_H

#include <stdbool.h>
#include <stdint.h>
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
#define PEND_WAIT_NS	2000000ull

/*
 * They wait in a ring, in the order they came, and are found through the
 * flow table (the flow's TT_FLOW_TW_PENDING): one settled out of order
 * leaves its slot behind, which the flow's id tells from a newer flow at
 * the same socket.  The ring holds 2 ms at 2M connections/s; only past that
 * does an entry settle before its time, the oldest first (counted: tw_early).
 */
#define PEND_SLOTS	TT_TW_PENDING_MAX
_Static_assert((PEND_SLOTS & (PEND_SLOTS - 1)) == 0, "PEND_SLOTS is a power of two");

struct tw_pend {
	uint64_t sk;
	uint64_t ts_ns;
	uint64_t flow_id;	/* the flow's id: a slot of a flow settled or gone is stale */
};

/*
 * Records can come for a socket before the engine knows it.  With flow
 * records (TT_EV_FLOW) a child's transitions are sent at its end, or at
 * CLOSE_WAIT, while its ACCEPT record is sent when accept() returns; and in
 * the per-transition stream a child's LISTEN > SYN_RECV comes only with its
 * next transition (the kernel side holds the birth back), while a Fast Open
 * child can be accepted, and reset, in SYN_RECV.  Such ACCEPT and RESET_*
 * records wait here, filed by socket in buckets of EARLY_PROBE, and the
 * child's birth takes those that are its own: same socket and tuple, and not
 * older than the birth (which is dated when it happened), so a stale one
 * left by an earlier socket at the same address never matches.  The oldest
 * in a full bucket goes.
 */
#define EARLY_SLOTS	4096
#define EARLY_PROBE	8		/* a bucket's slots: one byte of early_used */
_Static_assert(EARLY_PROBE == 8, "early_used holds a bucket in a byte");

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
	uint64_t ts_ns;		/* the latest retransmit's */
};

/*
 * A request retransmits its SYN-ACK at least every TCP_RTO_MAX (120 s)
 * until its ACK comes: a note older than this at a child's birth is of a
 * request that died (a scan, a flood, a client gone), not of the child's.
 * (Under TCP_DEFER_ACCEPT a request whose bare ACK came waits for data
 * without retransmitting; one that waits longer than this loses its count.)
 */
#define SYNACK_NOTE_NS	(180ull * 1000000000ull)

struct tt_entry {
	struct tt_flow flow;
	uint32_t hnext;		/* sk hash chain; free list when not in use */
	uint32_t prev, next;	/* LRU, oldest first, circular through slot 0 */
	uint32_t lnext;		/* listener chain, or UNLISTED */
};

#define SEED_PORT_BITS	65536

static inline uint32_t seed_port_bit(uint16_t sport, uint16_t dport)
{
	return ((uint32_t)sport * 40503u ^ dport) & (SEED_PORT_BITS - 1);
}

struct tt_engine {
	uint64_t cw_checked_ns;	/* the CLOSE-WAIT check last applied: when (engine__cw_checked) */
	struct tt_entry *ents;	/* max_flows + 2: slot 0 and max_flows + 1 are the LRUs' sentinels */
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
	struct tw_pend pend[PEND_SLOTS];
	unsigned int pend_head;
	unsigned int n_pend;	/* slots from pend_head, stale ones among them */
	struct gone_listener gone[GONE_LISTENERS];
	unsigned int gone_pos;
	struct tt_event early[EARLY_SLOTS];
	/* what the scans read instead of early[]: a bucket's sockets share a line */
	uint64_t early_sk[EARLY_SLOTS];		/* the slot's socket, while it is in use */
	uint8_t early_used[EARLY_SLOTS / EARLY_PROBE];	/* a bucket's slots in use, a bit each */
	const struct tt_flowrec *fr;	/* the flow record being fed: its end takes its stats */
	size_t n_pseudo;	/* seeded flows still filed under a pseudo key (bit 0 set) */
	uint64_t seed_ns;	/* the latest seed record's time: when the seed had read all */
	/*
	 * A bit per port pair (seed_port_bit()) of every flow ever filed under
	 * a pseudo key: a record whose bit is clear matches none, and skips
	 * hashing its tuple.  Never cleared; n_pseudo 0 skips it all.
	 */
	uint64_t seed_ports[SEED_PORT_BITS / 64];
	struct synack_note synack[SYNACK_RING];
	unsigned int synack_pos;
	unsigned int synack_live;	/* notes with a count: none, no scan */
	struct tt_listener_stats lstats[TT_MAX_LISTENER_STATS];
	unsigned int n_lstats;
	tt_flow_cb on_flow_end;
	tt_transition_cb on_transition;
	tt_overflow_cb on_overflow;
	void *ctx;
	struct tt_engine_stats total;
	struct tt_engine_stats interval;
};

#define STAT_INC(eng, field)					\
	do {							\
		(eng)->total.field++;				\
		(eng)->interval.field++;			\
	} while (0)
/* The hot lookups, inline in both halves. */


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

static inline uint32_t find(const struct tt_engine *eng, uint64_t sk)
{
	uint32_t i;

	for (i = eng->buckets[sk_hash(eng, sk)]; i != NIL; i = eng->ents[i].hnext)
		if (eng->ents[i].flow.sk == sk)
			return i;
	return NIL;
}

static inline void lru_unlink(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *e = &eng->ents[idx];

	eng->ents[e->prev].next = e->next;
	eng->ents[e->next].prev = e->prev;
}

static inline void lru_push_newest(struct tt_engine *eng, uint32_t idx)
{
	struct tt_entry *e = &eng->ents[idx], *s = &eng->ents[0];

	e->next = 0;
	e->prev = s->prev;
	eng->ents[s->prev].next = idx;
	s->prev = idx;
}

/*
 * The second list (sentinel max_flows + 1): flows in CLOSE_WAIT or LISTEN
 * that a full table's eviction passed over, least recently passed first.
 * They wait there, sending nothing, until a record of theirs touch()es
 * them back onto the first.
 */
static inline uint32_t lru_kept(const struct tt_engine *eng)
{
	return eng->max_flows + 1;
}

static inline void lru_push_kept(struct tt_engine *eng, uint32_t idx)
{
	uint32_t k = lru_kept(eng);
	struct tt_entry *e = &eng->ents[idx], *s = &eng->ents[k];

	e->next = k;
	e->prev = s->prev;
	eng->ents[s->prev].next = idx;
	s->prev = idx;
}

static inline void touch(struct tt_engine *eng, uint32_t idx)
{
	if (eng->ents[0].prev == idx)
		return;
	lru_unlink(eng, idx);
	lru_push_newest(eng, idx);
}

/* The table's operations (flowtab.c). */
void ft_hash_unlink(struct tt_engine *eng, uint32_t idx);
void ft_listener_unlink(struct tt_engine *eng, uint32_t idx);
void ft_listener_sync(struct tt_engine *eng, uint32_t idx);
const struct tt_flow *ft_find_listener_at(const struct tt_engine *eng, uint32_t netns,
					  uint8_t family, uint16_t port, const uint8_t *addr);
const struct tt_flow *ft_find_listener(const struct tt_engine *eng,
					   const struct tt_flow *child);
void ft_listener_gone(struct tt_engine *eng, const struct tt_flow *l);
const struct gone_listener *ft_find_gone_listener(const struct tt_engine *eng,
						      const struct tt_flow *child);
void ft_set_active(struct tt_engine *eng, size_t n);
/* A flow record's stats and resets on the flow it ends (flowrec.c). */
void engine__flowrec_end(struct tt_engine *eng, struct tt_flow *f);
void engine__settle_flow(struct tt_engine *eng, uint32_t idx, bool reset);
/* The oldest TIME-WAIT entry waiting for a reset ends now (at now_ns), for a slot of a full table. */
void engine__settle_oldest(struct tt_engine *eng, uint64_t now_ns);
void ft_end_flow(struct tt_engine *eng, uint32_t idx, uint8_t reason);

/*
 * A reset this end sent after its stats were read at its end (the kernel
 * aborts a socket as CLOSE first, then sends the reset: tcp_disconnect(),
 * close() with unread data, data after close()): one more segment out.
 */
void ft_late_reset(struct tt_flow *f);
uint32_t ft_slot_alloc(struct tt_engine *eng, uint64_t now_ns);
bool ft_zero16(const uint8_t a[16]);
void ft_fill_identity(struct tt_engine *eng, uint32_t idx, const struct tt_event *e,
			  bool whole);
void ft_hash_link(struct tt_engine *eng, uint32_t idx);
uint32_t ft_adopt_seeded(struct tt_engine *eng, const struct tt_event *e);
bool ft_forget_seeded_twin(struct tt_engine *eng, const struct tt_event *e);
/* A flow that was never one (a seeded twin, a child another process accepted): no end, no report. */
void ft_forget(struct tt_engine *eng, uint32_t idx);
uint32_t ft_flow_new(struct tt_engine *eng, const struct tt_event *e, uint8_t role,
			 uint8_t flags);
int ft_tw_find(const struct tt_engine *eng, uint64_t sk);
void ft_tw_remember(struct tt_engine *eng, uint64_t sk);
bool ft_tw_take(struct tt_engine *eng, uint64_t sk);

#endif /* TT_FLOWTAB_H */
