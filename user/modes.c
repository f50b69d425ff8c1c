// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "modes.h"

/* Best first within each capability: this order is what auto means. */
const struct tt_variant tt_variants[] = {
	{ TT_CAP_TRANSITIONS, TT_KIND_TP_BTF, TT_HOOK_TP_BTF_SET_STATE,
	  "tp_btf/inet_sock_set_state", { "tp_btf_set_state" }, NULL },
	{ TT_CAP_TRANSITIONS, TT_KIND_TRACEPOINT, TT_HOOK_TP_SET_STATE,
	  "tracepoint/sock/inet_sock_set_state", { "tp_set_state" },
	  "no socket cookie: flows are identified by sock address and birth" },
	{ TT_CAP_TRANSITIONS, TT_KIND_FENTRY, TT_HOOK_FENTRY_SET_STATE,
	  "fentry/tcp_set_state", { "fentry_set_state" },
	  "misses CLOSE>LISTEN and the LISTEN>SYN_RECV birth of passive flows" },
	{ TT_CAP_TRANSITIONS, TT_KIND_KPROBE, TT_HOOK_KPROBE_SET_STATE,
	  "kprobe/tcp_set_state", { "kprobe_set_state" },
	  "misses CLOSE>LISTEN and the LISTEN>SYN_RECV birth of passive flows; no socket cookie" },
	{ TT_CAP_OWNER, TT_KIND_TRACEPOINT, TT_HOOK_TP_ACCEPT,
	  "tracepoint/syscalls/sys_exit_accept{,4}", { "tp_exit_accept4", "tp_exit_accept" }, NULL },
};
const size_t tt_n_variants = sizeof(tt_variants) / sizeof(tt_variants[0]);

const char *tt_cap_name(enum tt_cap cap)
{
	static const char *names[] = {
		[TT_CAP_TRANSITIONS] = "transitions",
		[TT_CAP_OWNER] = "owner",
	};
	return cap < TT_CAP_MAX ? names[cap] : "?";
}

const char *tt_cap_desc(enum tt_cap cap)
{
	static const char *desc[] = {
		[TT_CAP_TRANSITIONS] = "every TCP state transition",
		[TT_CAP_OWNER] = "the process that accepted a passive connection",
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
	}
	return "?";
}

static bool kind_matches(enum tt_attach_mode mode, enum tt_hook_kind kind)
{
	switch (mode) {
	case TT_ATTACH_FENTRY: return kind == TT_KIND_FENTRY;
	case TT_ATTACH_KPROBE: return kind == TT_KIND_KPROBE;
	case TT_ATTACH_TP_BTF: return kind == TT_KIND_TP_BTF;
	case TT_ATTACH_TRACEPOINT: return kind == TT_KIND_TRACEPOINT;
	case TT_ATTACH_AUTO: break;
	}
	return false;
}

static bool try_variant(size_t i, tt_probe_fn probe, void *ctx, struct tt_selection *sel)
{
	sel->result[i] = probe(&tt_variants[i], ctx, sel->why[i], TT_WHY_LEN);
	if (sel->result[i] > 0)		/* a probe returns 0 or -errno */
		sel->result[i] = -EINVAL;
	return sel->result[i] == 0;
}

void tt_select(enum tt_attach_mode mode, tt_probe_fn probe, void *ctx,
	       struct tt_selection *sel)
{
	memset(sel, 0, sizeof(*sel));
	for (size_t i = 0; i < tt_n_variants; i++)
		sel->result[i] = 1;

	for (int cap = 0; cap < TT_CAP_MAX; cap++) {
		bool has_forced = false;

		sel->chosen[cap] = -1;
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
		for (size_t i = 0; i < tt_n_variants && sel->chosen[cap] < 0; i++) {
			if ((int)tt_variants[i].cap != cap || sel->result[i] != 1)
				continue;
			if (try_variant(i, probe, ctx, sel))
				sel->chosen[cap] = (int)i;
		}
	}
}
