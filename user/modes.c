// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source: the hook table's choices, one hook per capability by kind and
 * by what this kernel allows (modes.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "modes.h"

/* The hook table (include/tthooks.h), best first within each capability: auto's order. */
#define TT_VARIANT_(id, val, cap, kind, name, progs, caveat) \
	{ TT_CAP_##cap, TT_KIND_##kind, TT_HOOK_##id, name, progs, caveat },
const struct tt_variant tt_variants[] = {
	TT_HOOK_TABLE(TT_VARIANT_)
};
#undef TT_VARIANT_
const size_t tt_n_variants = sizeof(tt_variants) / sizeof(tt_variants[0]);
_Static_assert(sizeof(tt_variants) / sizeof(tt_variants[0]) <=
	       sizeof(((struct tt_selection *)0)->result) / sizeof(int),
	       "struct tt_selection has a result for every row of the hook table");

const struct tt_variant *tt_variant_of_hook(unsigned int hook)
{
	for (size_t i = 0; i < tt_n_variants; i++)
		if (tt_variants[i].hook_id == hook)
			return &tt_variants[i];
	return NULL;
}

const char *tt_variant_prog(const struct tt_variant *v, unsigned int type)
{
	/* its programs in the order of their records' types (include/tthooks.h) */
	if (v->cap == TT_CAP_RETRANS && type >= TT_EV_SYNACK_RETRANS &&
	    type <= TT_EV_RESET_RECV && v->progs[type - TT_EV_SYNACK_RETRANS])
		return v->progs[type - TT_EV_SYNACK_RETRANS];
	return v->progs[0] ? v->progs[0] : "rule";
}

size_t tt_hook_counts(char *buf, size_t len, const struct tt_selection *sel,
		      const uint64_t (*by)[TT_EV_MAX + 1])
{
	size_t n = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	for (unsigned int h = 0; h <= TT_HOOK_MAX && n < len; h++) {
		const struct tt_variant *v = NULL;
		uint64_t sum = 0;

		for (unsigned int t = 0; t <= TT_EV_MAX; t++)
			sum += by[h][t];
		if (!sum)
			continue;
		/* variants may share an id: the one in use names it */
		for (int cap = 0; cap < TT_CAP_MAX && h < TT_HOOK_MAX; cap++) {
			int c = sel->chosen[cap];

			if (c >= 0 && tt_variants[c].hook_id == h)
				v = &tt_variants[c];
		}
		if (!v || v->cap != TT_CAP_RETRANS) {
			n += (size_t)snprintf(buf + n, len - n, " %s=%llu",
					      h == TT_HOOK_MAX ? "unknown" : v ? tt_variant_prog(v, 0) : "?",
					      (unsigned long long)sum);
			continue;
		}
		/* one hook id, three programs: each its own records (a reset is no SYN-ACK) */
		for (unsigned int t = 0; t <= TT_EV_MAX && n < len; t++)
			if (by[h][t])
				n += (size_t)snprintf(buf + n, len - n, " %s=%llu",
						      tt_variant_prog(v, t),
						      (unsigned long long)by[h][t]);
	}
	return n < len ? n : len - 1;
}

const char *tt_cap_off(const struct tt_selection *sel, enum tt_cap cap)
{
	const char *why = NULL;

	for (size_t i = 0; i < tt_n_variants; i++) {
		if (tt_variants[i].cap != cap)
			continue;
		if (sel->result[i] != -ECANCELED)
			return NULL;
		why = sel->why[i];
	}
	return why;
}

const char *tt_cap_name(enum tt_cap cap)
{
	static const char *names[] = {
		[TT_CAP_TRANSITIONS] = "transitions",
		[TT_CAP_TIME_WAIT] = "time-wait",
		[TT_CAP_OVERFLOW] = "overflow",
		[TT_CAP_OWNER] = "owner",
		[TT_CAP_RETRANS] = "retransmits",
		[TT_CAP_SOCK_OPS] = "sock-ops",
	};
	return cap < TT_CAP_MAX ? names[cap] : "?";
}

const char *tt_cap_desc(enum tt_cap cap)
{
	static const char *desc[] = {
		[TT_CAP_TRANSITIONS] = "every TCP state transition",
		[TT_CAP_TIME_WAIT] = "entry into TIME-WAIT",
		[TT_CAP_OVERFLOW] = "SYN-queue and accept-queue overflows",
		[TT_CAP_OWNER] = "the process that accepted a passive connection",
		[TT_CAP_RETRANS] = "SYN-ACK retransmits and resets on the timeline",
		[TT_CAP_SOCK_OPS] = "connected sockets' transitions from a hook the kernel never skips",
	};
	return cap < TT_CAP_MAX ? desc[cap] : "?";
}

const char *tt_kind_name(enum tt_hook_kind kind)
{
	switch (kind) {
	case TT_KIND_FENTRY: return "fentry";
	case TT_KIND_KPROBE: return "kprobe";
	case TT_KIND_TP_BTF: return "tp_btf";
	case TT_KIND_TRACEPOINT: return "tracepoint";
	case TT_KIND_CGROUP_SKB: return "cgroup_skb";
	case TT_KIND_SOCK_OPS: return "sockops";
	case TT_KIND_RULE: return "rule";
	}
	return "?";
}

/*
 * A forced mode names the kind of hook for the capabilities that have one;
 * the rule and the cgroup program are what tracepoint-only kernels use, so
 * they belong to the two tracepoint modes.  sock_ops has one kind only, and
 * goes with every mode.
 */
static bool kind_matches(enum tt_attach_mode mode, enum tt_hook_kind kind)
{
	bool tp_family = kind == TT_KIND_RULE || kind == TT_KIND_CGROUP_SKB;

	if (kind == TT_KIND_SOCK_OPS)
		return true;

	switch (mode) {
	case TT_ATTACH_FENTRY: return kind == TT_KIND_FENTRY;
	case TT_ATTACH_KPROBE: return kind == TT_KIND_KPROBE;
	case TT_ATTACH_TP_BTF: return kind == TT_KIND_TP_BTF || tp_family;
	case TT_ATTACH_TRACEPOINT: return kind == TT_KIND_TRACEPOINT || tp_family;
	case TT_ATTACH_AUTO: break;
	}
	return false;
}

static bool try_variant(size_t i, tt_probe_fn probe, void *ctx, struct tt_selection *sel)
{
	enum tt_hook_kind kind = tt_variants[i].kind;

	/* the rule lives in the transitions program, sock_ops takes over from it */
	if ((kind == TT_KIND_RULE || kind == TT_KIND_SOCK_OPS) &&
	    sel->chosen[TT_CAP_TRANSITIONS] < 0) {
		snprintf(sel->why[i], TT_WHY_LEN, "needs a transitions hook, and none works");
		sel->result[i] = -ENOENT;
		return false;
	}
	if (kind == TT_KIND_RULE) {
		sel->result[i] = 0;	/* works wherever the transitions program does */
		return true;
	}
	sel->result[i] = probe(&tt_variants[i], ctx, sel->why[i], TT_WHY_LEN);
	if (sel->result[i] > 0)		/* a probe returns 0 or -errno */
		sel->result[i] = -EINVAL;
	return sel->result[i] == 0;
}

const char *tt_forced_why(const struct tt_selection *sel, enum tt_attach_mode mode,
			  enum tt_cap cap)
{
	for (size_t i = 0; i < tt_n_variants; i++) {
		if ((int)tt_variants[i].cap != (int)cap || !kind_matches(mode, tt_variants[i].kind) ||
		    sel->result[i] >= 0)
			continue;
		return sel->why[i][0] ? sel->why[i] : strerror(-sel->result[i]);
	}
	return "not tried";
}

void tt_select(enum tt_attach_mode mode, bool all, tt_probe_fn probe, void *ctx,
	       struct tt_selection *sel)
{
	memset(sel, 0, sizeof(*sel));
	for (size_t i = 0; i < tt_n_variants; i++)
		sel->result[i] = 1;
	for (int cap = 0; cap < TT_CAP_MAX; cap++)
		sel->chosen[cap] = -1;

	for (int cap = 0; cap < TT_CAP_MAX; cap++) {
		bool has_forced = false;

		/* first pass: the forced kind; second: everything, best first */
		if (mode != TT_ATTACH_AUTO) {
			for (size_t i = 0; i < tt_n_variants && sel->chosen[cap] < 0; i++) {
				if ((int)tt_variants[i].cap != cap || !kind_matches(mode, tt_variants[i].kind))
					continue;
				has_forced = true;
				if (try_variant(i, probe, ctx, sel))
					sel->chosen[cap] = (int)i;
			}
			sel->forced_fallback[cap] = has_forced && sel->chosen[cap] < 0;
		}
		for (size_t i = 0; i < tt_n_variants && (all || sel->chosen[cap] < 0); i++) {
			if ((int)tt_variants[i].cap != cap || sel->result[i] != 1)
				continue;
			if (try_variant(i, probe, ctx, sel) && sel->chosen[cap] < 0)
				sel->chosen[cap] = (int)i;
		}
	}
}
