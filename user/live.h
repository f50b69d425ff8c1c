/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live source: picks the best hooks this kernel allows, loads and
 * attaches them, and drains the ring buffer into a callback, in order.
 */
#ifndef TT_LIVE_H
#define TT_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "modes.h"
#include "opts.h"
#include "tcptrail.h"

typedef int (*tt_event_cb)(void *ctx, const struct tt_event *e);
typedef int (*tt_flowrec_cb)(void *ctx, const struct tt_flowrec *r);

/* sk[0]: the next record's socket; sk[1], if n is 2, the one after it */
typedef void (*tt_hint_cb)(void *ctx, const uint64_t *sk, unsigned int n);

struct tt_live;

/*
 * Whether this kernel and this caller can run tcptrail at all: BTF, the BPF
 * ring buffer, the right to use BPF.  0, or the exit status (2: the kernel
 * lacks it; 1: the caller may not) after a one-line reason.  Run before
 * live__open() and live__probe(), and before any file is made for the run.
 */
int live__preflight(void);

/*
 * Choose hooks, load and attach, once live__preflight() has passed.
 * Returns 0, or an exit status (1) after printing a one-line reason.
 */
int live__open(struct tt_live **out, const struct tt_opts *o, tt_event_cb cb,
	       tt_flowrec_cb flow_cb, void *ctx);

/*
 * Does the kernel side send flow records (struct tt_flowrec) with these
 * options and hooks?  Yes unless -e asks for every transition as it
 * happens, or the transitions hook has no typed socket (a tracepoint or
 * kprobe), which socket storage needs.
 */
bool live__flow_records(const struct tt_opts *o, const struct tt_selection *sel);

/*
 * While a record is handled, the sockets of the two after it, as far as
 * the kernel has sent them: the callback fetches what those will need
 * (engine__prefetch()), so their lookups do not wait on memory.
 */
void live__set_hint(struct tt_live *l, tt_hint_cb hint);

/* Does the loaded kernel side send flow records? */
bool live__flow_mode(const struct tt_live *l);

/* TT_EV_FLOW records read since start. */
/*
 * -p: a socket of the process that the seed found (a TT_EV_SEED record):
 * the kernel side keeps its records from now on, softirq's too, and a
 * listener's children from their birth.  0 or -errno (the map is full).
 */
int live__own_seeded(struct tt_live *l, const struct tt_event *e);
uint64_t live__flow_count(const struct tt_live *l);
/* --cgroup: the kernel side keeps the sockets of cgroup id (its path's now) and below */
void live__follow_cgroup(struct tt_live *l, uint64_t id);
void live__free(struct tt_live *l);

/*
 * Wait up to timeout_ms, then hand every queued record to the callback.  A
 * callback that returns -ECANCELED stops it there (0 is returned; the rest
 * stays queued).
 */
int live__poll(struct tt_live *l, int timeout_ms);

/*
 * CLOCK_MONOTONIC when the last read that emptied the ring buffer began
 * (live__poll, live__drain): every record committed before then is read.
 * 0 before the first.
 */
uint64_t live__drained(const struct tt_live *l);

/* Failed ring buffer reserves since start, all CPUs and types. */
uint64_t live__lost(const struct tt_live *l);

/*
 * Hook hits since start that the kernel skipped because the program was
 * already running on that CPU, before any filter: an upper bound on the
 * events missing that way.
 */
/*
 * What is queued now, past live__poll()'s budget (up to 64 times it): the
 * last read before exit.  0 or -errno.
 */
int live__drain(struct tt_live *l);

uint64_t live__missed(const struct tt_live *l);

/*
 * The capabilities (1 << TT_CAP_...) whose cgroup link someone detached
 * since the last call (`bpftool link detach`, another tool): TT_CAP_SOCK_OPS,
 * whose transitions the transitions hook takes back at once, and
 * TT_CAP_OVERFLOW, which nothing replaces.
 */
unsigned int live__detached(struct tt_live *l);

const struct tt_selection *live__selection(const struct tt_live *l);

/* Print the hook choice of every capability and why (--probe, -v). */
void live__print_selection(FILE *f, const struct tt_selection *sel, bool verbose);

/* --probe, once live__preflight() has passed: choose hooks as a start would, print the
 * choice, load nothing else. */
int live__probe(const struct tt_opts *o);

/* Nanoseconds on the clock the kernel stamps records with. */
uint64_t live__now_ns(void);

#endif /* TT_LIVE_H */
