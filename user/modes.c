// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "modes.h"

/*
 * Kprobe and tracepoint programs run one at a time per CPU (bpf_prog_active):
 * a softirq that an interrupt's exit runs inside one of them, any tool's,
 * runs none of ours; newer kernels count those in recursion_misses, 6.1 does
 * not.  The qemu guest boots with threadirqs for that (tests/vm/README.md).
 */
#define NESTED_SKIP	"an event in a softirq nested inside any kprobe or tracepoint BPF " \
			"program on its CPU is skipped by the kernel (which 6.1 does not even count)"

/* Best first within each capability: this order is what auto means. */
const struct tt_variant tt_variants[] = {
	{ TT_CAP_TRANSITIONS, TT_KIND_TP_BTF, TT_HOOK_TP_BTF_SET_STATE,
	  "tp_btf/inet_sock_set_state", { "tp_btf_set_state", "set_state_nest" }, NULL },
	{ TT_CAP_TRANSITIONS, TT_KIND_TRACEPOINT, TT_HOOK_TP_SET_STATE,
	  "tracepoint/sock/inet_sock_set_state", { "tp_set_state" },
	  "no socket cookie: flows are identified by sock address and birth; " NESTED_SKIP },
	/* the tracepoint's two call sites, tcp_set_state() ending in the first */
	{ TT_CAP_TRANSITIONS, TT_KIND_FENTRY, TT_HOOK_FENTRY_SET_STATE,
	  "fentry/inet_sk_state_store + fentry/inet_sk_set_state",
	  { "fentry_state_store", "fentry_sk_set_state" }, NULL },
	{ TT_CAP_TRANSITIONS, TT_KIND_KPROBE, TT_HOOK_KPROBE_SET_STATE,
	  "kprobe/inet_sk_state_store + kprobe/inet_sk_set_state",
	  { "kprobe_state_store", "kprobe_sk_set_state" },
	  "no socket cookie: flows are identified by sock address and birth; " NESTED_SKIP },

	/* the entry counts once inet_twsk_alloc() has given a timewait sock */
	{ TT_CAP_TIME_WAIT, TT_KIND_FENTRY, TT_HOOK_FENTRY_TIME_WAIT,
	  "fentry/tcp_time_wait + fexit/inet_twsk_alloc",
	  { "fentry_time_wait", "fexit_twsk_alloc" }, NULL },
	{ TT_CAP_TIME_WAIT, TT_KIND_KPROBE, TT_HOOK_KPROBE_TIME_WAIT,
	  "kprobe/tcp_time_wait + kretprobe/inet_twsk_alloc",
	  { "kprobe_time_wait", "kretprobe_twsk_alloc" }, NULL },
	{ TT_CAP_TIME_WAIT, TT_KIND_RULE, TT_HOOK_RULE_TIME_WAIT,
	  "rule at FIN_WAIT1/FIN_WAIT2/CLOSING > CLOSE (in the transitions hook)", { NULL },
	  "decided from sk_shutdown, sk_err, SOCK_DONE/SOCK_DEAD and linger2; no timeout; "
	  "also claims it when tcp_max_tw_buckets are all in use" },

	/* not syn_recv_sock: 7 arguments, more than the 6.1 trampoline takes */
	{ TT_CAP_OVERFLOW, TT_KIND_FENTRY, TT_HOOK_FENTRY_CONN_REQUEST,
	  "fentry/tcp_conn_request + fentry/tcp_check_req + fentry/tcp_get_cookie_sock",
	  { "fentry_conn_request", "fentry_check_req", "fentry_get_cookie_sock" },
	  "an ACK that tcp_check_req() then rejects for PAWS or its window counts too" },
	{ TT_CAP_OVERFLOW, TT_KIND_KPROBE, TT_HOOK_KPROBE_CONN_REQUEST,
	  "kprobe/tcp_conn_request + kprobe/tcp_v{4,6}_syn_recv_sock",
	  { "kprobe_conn_request", "kprobe_v4_syn_recv_sock", "kprobe_v6_syn_recv_sock" }, NULL },
	{ TT_CAP_OVERFLOW, TT_KIND_CGROUP_SKB, TT_HOOK_CGROUP_SKB,
	  "cgroup_skb/ingress on the cgroup v2 root", { "cgroup_ingress" },
	  "sees listeners' queues as each SYN or third ACK arrives, before the kernel decides" },

	{ TT_CAP_OWNER, TT_KIND_TRACEPOINT, TT_HOOK_TP_ACCEPT,
	  "tracepoint/syscalls/sys_exit_accept{,4}", { "tp_exit_accept4", "tp_exit_accept" }, NULL },

	{ TT_CAP_RETRANS, TT_KIND_TP_BTF, TT_HOOK_TP_RETRANS,
	  "tp_btf/tcp_retransmit_synack, tcp_send_reset, tcp_receive_reset",
	  { "tp_btf_retransmit_synack", "tp_btf_send_reset", "tp_btf_receive_reset" }, NULL },
	{ TT_CAP_RETRANS, TT_KIND_TRACEPOINT, TT_HOOK_TP_RETRANS,
	  "tracepoint/tcp/tcp_retransmit_synack, tcp_send_reset, tcp_receive_reset",
	  { "tp_retransmit_synack", "tp_send_reset", "tp_receive_reset" }, NULL },

	/* takes over what the transitions hook may be skipped for (bpf/tcptrail.bpf.c) */
	{ TT_CAP_SOCK_OPS, TT_KIND_SOCK_OPS, TT_HOOK_SOCKOPS_STATE,
	  "sockops/STATE_CB on the cgroup v2 root", { "sockops_state" },
	  "from connect() or the handshake on; sets BPF_SOCK_OPS_STATE_CB_FLAG on every TCP "
	  "socket, which other sock_ops programs then see too" },
};
const size_t tt_n_variants = sizeof(tt_variants) / sizeof(tt_variants[0]);

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
