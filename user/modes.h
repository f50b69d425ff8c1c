/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The mode table: every capability tcptrail provides, and the hook variants
 * that can provide it, best first.  Choosing among them is pure logic over
 * the results of a probe callback, so it is unit-tested with each hook
 * reported unavailable in turn.
 */
#ifndef TT_MODES_H
#define TT_MODES_H

#include <stdbool.h>
#include <stddef.h>
#include "opts.h"

/* In dependency order: TIME-WAIT's rule needs the transitions hook. */
enum tt_cap {
	TT_CAP_TRANSITIONS,
	TT_CAP_TIME_WAIT,
	TT_CAP_OVERFLOW,
	TT_CAP_OWNER,
	TT_CAP_RETRANS,
	TT_CAP_SOCK_OPS,	/* takes connected sockets' transitions over */
	TT_CAP_MAX,
};

enum tt_hook_kind {
	TT_KIND_FENTRY,
	TT_KIND_KPROBE,
	TT_KIND_TP_BTF,
	TT_KIND_TRACEPOINT,
	TT_KIND_CGROUP_SKB,
	TT_KIND_SOCK_OPS,
	TT_KIND_RULE,		/* no program of its own: logic inside the transitions hook */
};

/* The most programs a variant has (the fentry overflow hook's). */
#define TT_VARIANT_PROGS 8

struct tt_variant {
	enum tt_cap cap;
	enum tt_hook_kind kind;
	unsigned char hook_id;		/* enum tt_hook_id, written to records */
	const char *name;		/* what the user is told, e.g. "tp_btf/inet_sock_set_state" */
	const char *progs[TT_VARIANT_PROGS + 1];	/* skeleton program names, NULL-terminated */
	const char *caveat;		/* what it misses, or NULL */
};

/* Built from the hook table, include/tthooks.h: add a hook there. */
extern const struct tt_variant tt_variants[];
extern const size_t tt_n_variants;

/* The first variant that writes hook id hook, or NULL. */
const struct tt_variant *tt_variant_of_hook(unsigned int hook);

/*
 * The program of variant v that writes records of type (enum
 * tt_event_type): where its programs write a record type each under its
 * one hook id (the SYN-ACK retransmit and reset hook), that type's;
 * otherwise its first, which names them all ("rule" for none).
 */
const char *tt_variant_prog(const struct tt_variant *v, unsigned int type);

/* Try one variant on this kernel: 0, or -errno with a reason in why. */
typedef int (*tt_probe_fn)(const struct tt_variant *v, void *ctx, char *why, size_t len);

#define TT_WHY_LEN 160

struct tt_selection {
	int chosen[TT_CAP_MAX];			/* index into tt_variants, or -1 */
	int result[32];				/* per variant: 0 ok, -errno, 1 not tried */
	char why[32][TT_WHY_LEN];
	bool forced_fallback[TT_CAP_MAX];	/* the forced kind was unavailable */
	int tracefs_err;			/* mounting tracefs privately failed: -errno */
};

/*
 * -v's "records by hook" into buf (len bytes): " NAME=COUNT" for every hook
 * id with records, by[hook id][record type] (TT_HOOK_MAX and TT_EV_MAX: out
 * of range), named after the program of sel's variant that wrote them
 * (tt_variant_prog), "unknown" out of range; "" for none.  The length.
 */
size_t tt_hook_counts(char *buf, size_t len, const struct tt_selection *sel,
		      const uint64_t (*by)[TT_EV_MAX + 1]);

/* Why the user turned cap off (every variant refused with -ECANCELED), or NULL. */
const char *tt_cap_off(const struct tt_selection *sel, enum tt_cap cap);

const char *tt_cap_name(enum tt_cap cap);
const char *tt_cap_desc(enum tt_cap cap);
const char *tt_kind_name(enum tt_hook_kind kind);

/* Why the forced kind of hook failed for cap (its first variant's reason). */
const char *tt_forced_why(const struct tt_selection *sel, enum tt_attach_mode mode,
			  enum tt_cap cap);

/*
 * For every capability, try its variants in order of preference (the forced
 * kind first, when mode is not auto) and keep the first that works.  With
 * all, every variant is tried (for --probe), the choice is the same.
 */
void tt_select(enum tt_attach_mode mode, bool all, tt_probe_fn probe, void *ctx,
	       struct tt_selection *sel);

#endif /* TT_MODES_H */
