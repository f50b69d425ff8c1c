/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The -4/-6, -N, -P/-L/-D and -p filters in userspace, for replay: the
 * same tests the BPF side makes before it reserves a record (pass_filters
 * in bpf/tcptrail.bpf.h, pass_owner in bpf/transitions.bpf.c), so a capture
 * replayed with a filter shows what a live run with that filter would have
 * shown.
 */
#ifndef TT_FILTER_H
#define TT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include "engine.h"
#include "opts.h"

struct tt_filter;

/* NULL when out of memory. */
struct tt_filter *filter__new(const struct tt_opts *o);
void filter__free(struct tt_filter *f);

/*
 * Whether a live run with these filters would have produced record e; as
 * the kernel side does under -p, it marks an accept that makes a socket the
 * process's (TT_F_ADOPTED).
 */
bool filter__pass(struct tt_filter *f, struct tt_event *e);

/*
 * The same for a flow record (TT_EV_FLOW): the tuple filters on what its
 * transitions share; -p keeps it whole if a live run would have kept any
 * of its transitions, and follows ownership through them in order.  Of a
 * socket the process adopted at accept(), -p takes out the transitions
 * before it, which a live run's record would not hold.
 */
bool filter__pass_flow(struct tt_filter *f, struct tt_flowrec *r);

/*
 * --remote and --local, which only userspace applies (live, before a record
 * is captured or counted; on replay, inside filter__pass): whether record
 * e's addresses match.  A socket keeps its addresses for life (connect()
 * has chosen the local one by the SYN_SENT transition), so every record of
 * a flow gets the same answer.  True without those options.
 */
bool filter__addr_pass(const struct tt_opts *o, const struct tt_event *e);

/* --state: whether the flow went through one of the states (true without it). */
bool filter__flow_states(const struct tt_opts *o, const struct tt_flow *f);

/* --state with -e: whether a transition enters or leaves one of the states. */
bool filter__transition_states(const struct tt_opts *o, unsigned int old, unsigned int new);

/* "family=ipv4 netns=4026531840 ports=80,443", or "" without filters. */
void filter__describe(const struct tt_opts *o, char *buf, size_t len);

#endif /* TT_FILTER_H */
