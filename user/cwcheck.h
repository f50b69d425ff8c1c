/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The CLOSE-WAIT check: before a report counts a flow as a leak, the
 * kernel is asked whether its socket is still there.  A flow stays in
 * CLOSE_WAIT in the table until the record of its end arrives; when that
 * record is lost (ring buffer full) or never made (a hook skipped, with no
 * catch), the flow would stay there for good, and be reported as a leak of
 * a process that may be long gone.
 *
 * Three steps, on two threads:
 *  - the caller collects the candidates, the flows in CLOSE_WAIT for at
 *    least the report's age (cwcheck__collect), before it asks for a count;
 *  - the census thread (twcensus.c), which may enter other namespaces,
 *    dumps the CLOSE_WAIT and LAST_ACK sockets of each namespace holding
 *    candidates and marks each candidate there or gone (cwcheck__ns_begin,
 *    cwcheck__ns_sock, cwcheck__ns_end), or leaves it unchecked;
 *  - once the source has been read to its end after the last dump, so that
 *    every end record the kernel wrote before it is in the engine, the
 *    caller ends the candidates marked gone that are still in CLOSE_WAIT
 *    (cwcheck__apply, engine__end_gone).
 *
 * A socket found in LAST_ACK has been closed: its end record is on its way,
 * so the flow is left alone.  A candidate whose namespace could not be
 * checked stays as it is: only what the kernel said is gone is ended.
 *
 * After records were lost, the next check takes every flow, in any state,
 * and dumps every state: a listener or a connection whose end record was
 * lost leaves the table (and flows_active) the same way.  Only the leak
 * candidates get the rest (their holders, when they last sent data).
 */
#ifndef TT_CWCHECK_H
#define TT_CWCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"
#include "engine.h"

enum cw_verdict {
	CW_UNCHECKED = 0,	/* its namespace was not dumped: left as it is */
	CW_THERE,		/* the kernel has it, in CLOSE_WAIT or LAST_ACK */
	CW_GONE,		/* its namespace was dumped (or is gone) and it was not in it */
};

struct cw_cand {
	uint64_t sk, flow_id;
	uint64_t cookie;	/* 0: matched by tuple */
	uint32_t netns;
	uint32_t owner_pid;	/* 0: unknown */
	uint8_t family;
	uint8_t verdict;	/* enum cw_verdict */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	uint32_t inode;		/* the socket's, when a dump found it */
	uint32_t holder_pid;	/* not 0: who holds it now, not owner_pid (cwcheck__holders) */
	char holder_comm[16];
	uint64_t sent_ns;	/* when the dump says it last sent data; 0: not known */
	uint8_t state;		/* the flow's when taken: it is ended only in that state */
	bool leak;		/* a leak candidate (the rest: taken after a loss) */
	bool listener;		/* a listener a report names: its holder is looked for */
};

struct cwcheck {
	struct cw_cand *c;	/* sorted by netns, then ports and cookie */
	size_t n, cap;
	/* set by the thread that checks, read by the caller once that is done */
	uint64_t done_ns;	/* CLOCK_MONOTONIC when the last dump ended; 0: not checked */
	uint32_t namespaces;	/* namespaces holding candidates */
	uint32_t unchecked_ns;	/* ... of them not checked */
	uint64_t full_scan_ns;	/* the last scan of every process (cwcheck__holders) */
	uint64_t full_scan_cost_ns;	/* ... and how long it took */
	uint64_t *searched;	/* the flows it looked for, by id, sorted */
	size_t nsearched;
	uint64_t dump_ns;	/* CLOCK_MONOTONIC at the start of the dump under way */
	uint32_t states;	/* the sockets the dumps ask for (set by cwcheck__collect) */
	bool all;		/* every flow was taken, not the leak candidates alone */
};

/* The sockets a check of the leak candidates dumps. */
#define CW_DIAG_STATES	(DIAG_STATE(TT_CLOSE_WAIT) | DIAG_STATE(TT_LAST_ACK))
/*
 * ... and one of every flow: each state a flow can be in.  Not TIME_WAIT:
 * a flow whose socket went there ended, and its record was lost (the
 * record comes microseconds after the hand-over, and before the dump has
 * ended, which the apply waits for).
 */
#define CW_ALL_STATES	(DIAG_STATES_ALL & ~DIAG_STATE(TT_TIME_WAIT) & ~DIAG_STATE(TT_NEW_SYN_RECV))

struct cwcheck *cwcheck__new(void);
void cwcheck__free(struct cwcheck *k);

/*
 * Forget the last check and take the flows in CLOSE_WAIT for at least
 * age_ns at now_ns (the report's leak candidates) whose namespace is
 * known; with all, every flow whose namespace is known (after a loss).
 * Only_netns, if not 0, keeps that namespace's (-N).  The number of
 * candidates, or -ENOMEM (none are kept then).
 */
int cwcheck__collect(struct cwcheck *k, const struct tt_engine *eng, uint64_t now_ns,
		     uint64_t age_ns, uint32_t only_netns, bool all);

/* The namespace of candidate run i, for the one who dumps: i from 0 while < n. */
size_t cwcheck__ns_next(const struct cwcheck *k, size_t i);

/*
 * Dumping candidates [lo, hi) of one namespace: begin marks them gone,
 * each socket of the dump marks the ones it is there (and when each last
 * sent data, against k->dump_ns, which the one who dumps sets before it
 * starts), and end with ok false (the dump failed or was not made) puts
 * them back unchecked.
 */
void cwcheck__ns_begin(struct cwcheck *k, size_t lo, size_t hi);
void cwcheck__ns_sock(struct cwcheck *k, size_t lo, size_t hi, const struct diag_sock *s);
void cwcheck__ns_end(struct cwcheck *k, size_t lo, size_t hi, bool ok);

/*
 * Candidates [lo, hi) of a namespace no process is in and no name holds,
 * which could not be dumped.  It may be gone with its sockets, or alive,
 * kept by sockets that processes elsewhere hold (a setns() back out, fds
 * handed on).  covered: the walk read the table its sockets would be in
 * (and marked those it found there).  A candidate not found is gone only
 * if covered and its owner has exited too (alive(pid) false): a live owner
 * may hold it in a namespace with a table of its own.  The rest stay
 * unchecked.
 */
void cwcheck__ns_end_unfound(struct cwcheck *k, size_t lo, size_t hi, bool covered,
			     bool (*alive)(uint32_t pid));

/*
 * Who holds the candidates found there now, as `ss -p` says: the process
 * that accepted a socket may have handed it on (SCM_RIGHTS, a fork that
 * closed its copy) or exited, and a leak is the holder's.  Each owner's fds
 * are read; a candidate its owner no longer holds is looked for in every
 * process, and its holder_pid set.  Such a scan of every process comes at
 * once for a candidate no scan has looked for yet (spaced by 100 times what
 * the last one took, 2 s at least, so that it takes at most 1% of the
 * time), and once a minute for the ones the last found nowhere (now_ns).
 */
void cwcheck__holders(struct cwcheck *k, uint64_t now_ns);

/*
 * End the candidates marked gone that are still the same flow in the state
 * they were taken in, give the leak candidates held by another process now
 * that owner, and tell the engine when those there last sent data
 * (engine__cw_sent).  The number ended.
 */
size_t cwcheck__apply(const struct cwcheck *k, struct tt_engine *eng);

#endif /* TT_CWCHECK_H */
