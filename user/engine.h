/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The flow engine: a bounded table of flows fed with tt_event records in
 * time order.  Pure C: no I/O, no clock of its own (time comes from the
 * records), so live tracing and replay produce the same results and every
 * path is unit-testable without root.
 */
#ifndef TT_ENGINE_H
#define TT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcptrail.h"

#define TT_FLOW_MAX_STATES 8
/* TIME-WAIT entries from FIN_WAIT2 that wait for a reset at once (flowtab.h) */
#define TT_TW_PENDING_MAX 4096

enum tt_role {
	TT_ROLE_UNKNOWN = 0,
	TT_ROLE_ACTIVE,		/* connect(): CLOSE > SYN_SENT */
	TT_ROLE_PASSIVE,	/* child of a listener: LISTEN > SYN_RECV */
	TT_ROLE_LISTENER,	/* listen(): CLOSE > LISTEN */
};

enum tt_end {
	TT_END_NONE = 0,	/* still open */
	TT_END_CLOSE,		/* orderly close (FIN both ways, or a listener closed) */
	TT_END_TIME_WAIT,	/* handed to a timewait socket */
	TT_END_RESET,		/* the peer reset it (ECONNRESET / EPIPE) */
	TT_END_ABORT,		/* we reset or abandoned it (close with unread data,
				 * SO_LINGER 0, ss -K) */
	TT_END_REFUSED,		/* SYN_SENT answered by RST (ECONNREFUSED) */
	TT_END_TIMEOUT,		/* retransmits or keepalives ran out (ETIMEDOUT) */
	TT_END_ERROR,		/* closed with another socket error */
	TT_END_EVICTED,		/* pushed out of a full flow table */
	TT_END_SUPERSEDED,	/* a new flow began on the same socket before we saw
				 * this one close (events were lost) */
	TT_END_GONE,		/* the kernel no longer had its socket when asked (its
				 * end was never recorded: lost, or no hook ran) */
	TT_END_CANCELLED,	/* SYN_SENT > CLOSE with no error: its owner closed it
				 * (or connect(AF_UNSPEC)) before the handshake was
				 * answered, an application's connect timeout; no RST */
	TT_END_NO_PORT,		/* SYN_SENT > CLOSE before its SYN went out: connect()
				 * found no local port free toward that address
				 * (EADDRNOTAVAIL; rarely out of memory) */
	TT_END_MAX,
};

/* tt_flow.flags */
#define TT_FLOW_SEEDED		0x01	/* existed when tracing started */
#define TT_FLOW_PARTIAL		0x02	/* first seen mid-life: states before are unknown */
#define TT_FLOW_TRUNCATED	0x04	/* more than TT_FLOW_MAX_STATES states */
#define TT_FLOW_OWNER_KNOWN	0x08	/* owner_* are the owner, not a guess */
#define TT_FLOW_TW_PENDING	0x10	/* internal: TIME_WAIT by the rule, awaiting a reset */
#define TT_FLOW_STATS		0x20	/* bytes_* .. srtt_us are valid (from a TT_EV_FLOW end) */

struct tt_flow {
	uint64_t id;		/* engine sequence, from 1: unique in a run */
	uint64_t sk;
	uint64_t cookie;	/* the kernel's socket cookie, 0 if unknown */
	uint64_t cgroup;	/* the socket's cgroup v2 id (tt_event.cgroup), 0 unknown */
	uint32_t netns;
	uint8_t family;
	uint8_t role;		/* enum tt_role */
	uint8_t end;		/* enum tt_end */
	uint8_t flags;		/* TT_FLOW_* */
	uint8_t nstates;
	uint8_t synack_retrans;
	uint8_t resets_sent;
	uint8_t resets_recv;
	uint16_t sport;		/* local */
	uint16_t dport;		/* remote */
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint32_t owner_pid;	/* tgid of the owner (connect/listen/accept) */
	uint32_t closer_pid;	/* tgid of the task that called close()/shutdown() */
	char owner_comm[16];
	char closer_comm[16];
	uint8_t tw_substate;	/* for TT_END_TIME_WAIT: TT_TIME_WAIT or TT_FIN_WAIT2, 0 unknown */
	uint8_t sk_err;		/* the socket's error at its > CLOSE (a kernel errno), 0 none */
	uint16_t inferred;	/* transitions no hook saw, put in by the kernel side */
	/*
	 * With TT_FLOW_STATS, from tcp_sock at the end: payload bytes each way
	 * (the SYN's and FIN's sequence numbers taken out), segments, total
	 * retransmits and the smoothed RTT.
	 */
	uint32_t srtt_us;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint32_t segs_out;
	uint32_t segs_in;
	uint32_t retransmits;
	/*
	 * The states in order.  state[0] is the first state entered (SYN_SENT,
	 * SYN_RECV or LISTEN for a flow we saw born; for a TT_FLOW_PARTIAL flow,
	 * the old state of the first transition seen, at that transition's time).  Kept as two arrays so a flow stays
	 * small; when full, the last slot is overwritten so the final state is
	 * always there (and TT_FLOW_TRUNCATED is set).
	 */
	uint8_t state[TT_FLOW_MAX_STATES];	/* enum tt_tcp_state */
	/*
	 * In CLOSE_WAIT: ms after its entry that the socket was last seen
	 * sending data (engine__cw_sent), 0 if never.  Its application still
	 * answers a peer that half-closed, so it is no leak while it sends.
	 */
	uint32_t cw_sent_ms;
	uint64_t ts_ns[TT_FLOW_MAX_STATES];	/* monotonic, from the records */
};

struct tt_engine;

/* Called for every flow that ends (or is evicted), after its last state. */
typedef void (*tt_flow_cb)(const struct tt_flow *flow, void *ctx);

/*
 * A transition the engine counted, as it counted it: a TIME-WAIT entry
 * replaces the kernel's > CLOSE, repeats are dropped, and a deferred entry
 * is told when settled.  So a printer of transitions agrees with the
 * summaries.  The tuple and the task are the record's, or the flow's when
 * there is no record (a deferred entry).
 */
struct tt_transition {
	const struct tt_flow *flow;	/* the flow it belongs to; NULL for one that makes none */
	const struct tt_event *rec;	/* the record behind it; NULL: settled later */
	unsigned int old_state, new_state;
	uint64_t ts_ns;
};

/* Called for every transition the engine counts, in the order it counts them. */
typedef void (*tt_transition_cb)(const struct tt_transition *t, void *ctx);

/*
 * Called for a TT_EV_OVERFLOW record as it arrives, before anything it
 * settles: listener is the listener's flow, if known, for its owner.
 */
typedef void (*tt_overflow_cb)(const struct tt_event *e, const struct tt_flow *listener,
			       void *ctx);

struct tt_engine_opts {
	size_t max_flows;	/* table bound; 0 picks the default */
	tt_flow_cb on_flow_end;
	tt_transition_cb on_transition;
	tt_overflow_cb on_overflow;
	void *ctx;
};

/* Running totals; `interval_*` are reset by engine__reset_interval(). */
struct tt_engine_stats {
	uint64_t events;
	uint64_t flows_opened;
	uint64_t flows_found;	/* of flows_opened, sockets found open: seeded, or first seen
				 * mid-life (TT_FLOW_PARTIAL) */
	uint64_t flows_closed;
	uint64_t evicted;
	uint64_t evicted_waiting;	/* of them, in CLOSE_WAIT or LISTEN: the table held nothing else */
	uint64_t gone;		/* flows ended TT_END_GONE (engine__end_gone()) */
	uint64_t refused;
	uint64_t resets;
	uint64_t time_wait;
	uint64_t duplicates;	/* transitions dropped as repeats */
	uint64_t seed_twins;	/* seeded flows forgotten: their socket's birth, from
				 * before the seed read it, came after (total only) */
	uint64_t tw_early;	/* rule's FIN_WAIT2 TIME-WAIT entries settled before their
				 * 2 ms wait for a reset ended: PEND_SLOTS waited at once */
	uint64_t tw_early_table;	/* ... as early, for a slot of a full flow table */
	uint64_t inferred;	/* transitions no hook saw, inferred from the next one (TT_T_INFERRED) */
	uint64_t flow_records;	/* TT_EV_FLOW records fed */
	uint64_t accept_overflows;	/* SYNs or third ACKs dropped: accept queue full */
	uint64_t syn_drops;		/* SYNs dropped: SYN queue full, no cookies */
	uint64_t syn_cookies;		/* SYN queue full: a cookie was sent instead */
	uint64_t policy_cookies;	/* cookies sent with the queue not full, because
					 * net.ipv4.tcp_syncookies is 2: no overflow */
	uint64_t synack_retrans;
	uint64_t ends[TT_END_MAX];	/* flows_closed by enum tt_end; [TT_END_NONE] stays 0 */
	uint64_t transitions[TT_STATE_MAX][TT_STATE_MAX];	/* [old][new] */
	size_t active;		/* flows in the table now */
	/*
	 * The most flows in the table at once, since the start (total) or in
	 * the interval: its slots are reused last-freed first, so the total's
	 * many have been touched, the table's share of the daemon's memory.
	 */
	size_t peak;
};

struct tt_engine *engine__new(const struct tt_engine_opts *opts);
void engine__free(struct tt_engine *eng);

/*
 * Feed one record.  Returns 0, or -EINVAL for a record that cannot be valid
 * (unknown type, state out of range), which is counted and otherwise ignored.
 */
int engine__feed(struct tt_engine *eng, const struct tt_event *e);

/*
 * Feed one TT_EV_FLOW record: its transitions in order, each as the
 * tt_event the per-transition stream would have carried (so the flow, the
 * counts and the sinks' transitions are the same), and at its end the
 * record's bytes, segments and RTT on the flow.  0, or -EINVAL for a record
 * that cannot be valid.
 */
int engine__feed_flow(struct tt_engine *eng, const struct tt_flowrec *r);

/* The same, with h holding flowrec__header(r, h) already: a caller that made one for its filters. */
int engine__feed_flow_hdr(struct tt_engine *eng, const struct tt_flowrec *r,
			  const struct tt_event *h);

/*
 * Settle the rule's FIN_WAIT2-substate TIME-WAIT entries older than now_ns
 * minus a few ms (UINT64_MAX: all).  Called before a summary and at exit.
 */
void engine__settle(struct tt_engine *eng, uint64_t now_ns);

/* Totals since start, and since the last engine__reset_interval(). */
const struct tt_engine_stats *engine__total(const struct tt_engine *eng);
const struct tt_engine_stats *engine__interval(const struct tt_engine *eng);
void engine__reset_interval(struct tt_engine *eng);

/*
 * End the flow at sk, if it is still flow_id and still in state, as
 * TT_END_GONE: the caller asked the kernel and it has no such socket any
 * more, so the record of its end was lost.  No state is added: what
 * happened after is unknown.  The one way into the engine that is not a
 * record, so live only: a capture replayed holds no such end.  True if it
 * ended the flow.
 */
bool engine__end_gone(struct tt_engine *eng, uint64_t sk, uint64_t flow_id, unsigned int state);

/*
 * The flow at sk, if it is still flow_id, is owned by pid (comm) from now
 * on: another process holds its socket now (cwcheck__holders).  Live only,
 * as engine__end_gone().  True if it was.
 */
bool engine__reown(struct tt_engine *eng, uint64_t sk, uint64_t flow_id, uint32_t pid,
		   const char comm[16]);

/*
 * The flow at sk, if it is still flow_id and in CLOSE_WAIT, sent data at
 * sent_ns (CLOCK_MONOTONIC, from the kernel's tcp_info): the CLOSE-WAIT
 * check saw it.  Live only, as engine__end_gone().
 */
void engine__cw_sent(struct tt_engine *eng, uint64_t sk, uint64_t flow_id, uint64_t sent_ns);

/* The CLOSE-WAIT check whose sends were just told (engine__cw_sent) was made at at_ns. */
void engine__cw_checked(struct tt_engine *eng, uint64_t at_ns);

/*
 * Whether flow f, in CLOSE_WAIT, is a leak for a report at now_ns: in
 * CLOSE_WAIT for age_ns, and, if a check saw it send, quiet for age_ns by
 * the last check.  A report between two checks (a /metrics scrape) knows no
 * later send, so a socket seen sending stays no leak until a check finds it
 * has stopped.
 */
bool engine__cw_quiet(const struct tt_engine *eng, const struct tt_flow *f, uint64_t now_ns,
		      uint64_t age_ns);

/* Visit every open flow (not in a stable order). */
typedef void (*tt_flow_visit_cb)(const struct tt_flow *flow, void *ctx);
void engine__for_each(const struct tt_engine *eng, tt_flow_visit_cb cb, void *ctx);

/* The listener on f's netns and local port, if one is tracked. */
const struct tt_flow *engine__listener_of(const struct tt_engine *eng, const struct tt_flow *f);

/* The flow that now owns socket `sk`, or NULL. */
const struct tt_flow *engine__lookup(const struct tt_engine *eng, uint64_t sk);

/* The listener an overflow record is of, if the table has it. */
const struct tt_flow *engine__overflow_listener(const struct tt_engine *eng,
						const struct tt_event *e);

/*
 * Start fetching what the next records will read, given their sockets
 * (sk[0] the next, sk[1] if n is 2 the one after): the bucket of sk[1];
 * for sk[0], whose bucket the call before fetched, the first flow it
 * points at and the free slot a new flow would take.  Hints only:
 * nothing changes.
 */
void engine__prefetch(const struct tt_engine *eng, const uint64_t *sk, unsigned int n);

/*
 * The sk a TT_EV_SEED record carries: sock_diag does not reveal the struct
 * sock address, so a seeded flow is filed under a 64-bit hash of the
 * record's netns, family, addresses and ports with the lowest bit set, which
 * no struct sock address has (they are at least 8-byte aligned).  A later
 * transition, TIME_WAIT or ACCEPT record for an sk the engine does not know
 * looks for a seeded flow under the key of its own tuple and, if there is
 * one, moves it to the real sk.  Seed records and the records that adopt
 * them are both in captures, so this function is part of the capture
 * format and must never change.
 */
uint64_t engine__pseudo_sk(const struct tt_event *e);

/*
 * Overflow counters per listening endpoint, so a report can name the port
 * that turns connections away.  Bounded: past TT_MAX_LISTENER_STATS
 * listeners, a new one takes the least recently hit slot, whose counts
 * start again from 0 (a counter reset to Prometheus).
 */
#define TT_MAX_LISTENER_STATS 256

struct tt_listener_stats {
	uint32_t netns;
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
	uint32_t owner_pid;
	char owner_comm[16];
	uint64_t cgroup;	/* the listener's cgroup v2 id, as the last overflow record had it */
	uint32_t max_backlog;
	uint64_t last_ns;
	/*
	 * Its listener closed then (0: open, or not seen to close): with no
	 * overflow since, the summary after it is its last (its namespace may
	 * be gone, and its inode taken by the next one made).
	 */
	uint64_t closed_ns;
	uint64_t accept_overflows, syn_drops, syn_cookies;		/* since start */
	uint64_t i_accept_overflows, i_syn_drops, i_syn_cookies;	/* this interval */
};

typedef void (*tt_listener_visit_cb)(const struct tt_listener_stats *ls, void *ctx);
void engine__for_each_listener_stats(const struct tt_engine *eng, tt_listener_visit_cb cb,
				     void *ctx);

/* The bytes engine__new allocated: what the flow table costs. */
size_t engine__mem_bytes(const struct tt_engine *eng);

/* Names without the TCP_ prefix ("SYN_SENT"); "?" when out of range. */
const char *tt_state_name(unsigned int state);
const char *tt_role_name(unsigned int role);
const char *tt_end_name(unsigned int end);

#endif /* TT_ENGINE_H */
