/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The hook table: every way tcptrail hears of a TCP fact, one row per hook
 * variant.  bpf/ takes the hook ids from it (the enum below, written into
 * every record), userspace the variants it may load and attach
 * (user/modes.c's tt_variants), the engine what a record's hook tells
 * (tt_hook_sets_state()), and the unit tests check it against the BPF
 * object itself.  A new hook is its program in bpf/ and one row here.
 *
 * Like tcptrail.h it includes nothing, so bpf/ can include it: the strings
 * and the TT_CAP_ and TT_KIND_ names are only expanded in userspace.
 *
 * Row: X(id, value, capability, kind, what the user is told,
 *        TT_PROGS(program names, as in bpf/), what it misses or NULL)
 * - id and value: TT_HOOK_<id> = value.  Stable: captures hold the values,
 *   so a value is never reused or renumbered; a new row takes the next free.
 * - Rows are best first within each capability: their order is what
 *   --attach auto means.
 */
#ifndef TT_HOOKS_H
#define TT_HOOKS_H

#define TT_PROGS(...) { __VA_ARGS__ }

/*
 * Kprobe and tracepoint programs run one at a time per CPU (bpf_prog_active):
 * a softirq that an interrupt's exit runs inside one of them, any tool's,
 * runs none of ours; newer kernels count those in recursion_misses, 6.1 does
 * not.  The qemu guest boots with threadirqs for that (tests/vm/README.md).
 */
#define TT_NESTED_SKIP	"an event in a softirq nested inside any kprobe or tracepoint BPF " \
			"program on its CPU is skipped by the kernel (which 6.1 does not even count)"
#define TT_NO_COOKIE	"no socket cookie: flows are identified by sock address and birth; "

#define TT_HOOK_TABLE(X)							\
	/* bpf/transitions.bpf.c: the tracepoint's two call sites, tcp_set_state() ending in the first; \
	 * with flow records, the socket's destruction too (an end no other program saw) */ \
	X(TP_BTF_SET_STATE, 1, TRANSITIONS, TP_BTF,				\
	  "tp_btf/inet_sock_set_state",						\
	  TT_PROGS("tp_btf_set_state", "set_state_nest", "tp_btf_destroy_sock"), NULL) \
	X(TP_SET_STATE, 2, TRANSITIONS, TRACEPOINT,				\
	  "tracepoint/sock/inet_sock_set_state",				\
	  TT_PROGS("tp_set_state"), TT_NO_COOKIE TT_NESTED_SKIP)		\
	X(FENTRY_SET_STATE, 3, TRANSITIONS, FENTRY,				\
	  "fentry/inet_sk_state_store + fentry/inet_sk_set_state",		\
	  TT_PROGS("fentry_state_store", "fentry_sk_set_state", "fentry_destroy_sock"), NULL) \
	X(KPROBE_SET_STATE, 4, TRANSITIONS, KPROBE,				\
	  "kprobe/inet_sk_state_store + kprobe/inet_sk_set_state",		\
	  TT_PROGS("kprobe_state_store", "kprobe_sk_set_state"),		\
	  TT_NO_COOKIE TT_NESTED_SKIP)						\
	/* bpf/time_wait.bpf.c: the entry counts once inet_twsk_alloc() has given a timewait sock */ \
	X(FENTRY_TIME_WAIT, 6, TIME_WAIT, FENTRY,				\
	  "fentry/tcp_time_wait + fexit/inet_twsk_alloc",			\
	  TT_PROGS("fentry_time_wait", "fexit_twsk_alloc"), NULL)		\
	X(KPROBE_TIME_WAIT, 7, TIME_WAIT, KPROBE,				\
	  "kprobe/tcp_time_wait + kretprobe/inet_twsk_alloc",			\
	  TT_PROGS("kprobe_time_wait", "kretprobe_twsk_alloc"), NULL)		\
	/* no program: tw_rule() in the transitions programs, whose ids its records carry */ \
	X(RULE_TIME_WAIT, 8, TIME_WAIT, RULE,					\
	  "rule at FIN_WAIT1/FIN_WAIT2/CLOSING > CLOSE (in the transitions hook)", \
	  TT_PROGS(0),								\
	  "decided from sk_shutdown, sk_err, SOCK_DONE/SOCK_DEAD and linger2; no timeout; " \
	  "also claims it when tcp_max_tw_buckets are all in use")		\
	/* bpf/overflow.bpf.c; no fentry on syn_recv_sock: 7 arguments, too many for 6.1 */ \
	X(FENTRY_CONN_REQUEST, 10, OVERFLOW, FENTRY,				\
	  "fentry/tcp_conn_request, tcp_check_req, tcp_get_cookie_sock, their fexits " \
	  "+ fentry/inet_reqsk_alloc, tcp_create_openreq_child",		\
	  TT_PROGS("fentry_conn_request", "fentry_reqsk_alloc", "fexit_conn_request", \
		   "fentry_check_req", "fentry_get_cookie_sock", "fentry_openreq_child", \
		   "fexit_check_req", "fexit_get_cookie_sock"),			\
	  "with a full accept queue, an ACK that tcp_check_req() rejects for PAWS or " \
	  "its window counts too") \
	X(KPROBE_CONN_REQUEST, 11, OVERFLOW, KPROBE,				\
	  "kprobe/tcp_conn_request, its kretprobe, kprobe/inet_reqsk_alloc " \
	  "+ kprobe/tcp_v{4,6}_syn_recv_sock",					\
	  TT_PROGS("kprobe_conn_request", "kprobe_reqsk_alloc", "kretprobe_conn_request", \
		   "kprobe_v4_syn_recv_sock", "kprobe_v6_syn_recv_sock"),	\
	  NULL)									\
	X(CGROUP_SKB, 9, OVERFLOW, CGROUP_SKB,					\
	  "cgroup_skb/ingress on the cgroup v2 root",				\
	  TT_PROGS("cgroup_ingress"),						\
	  "sees listeners' queues as each SYN or third ACK arrives, before the kernel decides") \
	/* bpf/owner.bpf.c; the tracepoints' first pair from 6.2, the second before */ \
	X(FEXIT_ACCEPT, 15, OWNER, FENTRY,					\
	  "fexit/inet_accept",							\
	  TT_PROGS("fexit_inet_accept"), NULL)					\
	X(KPROBE_ACCEPT, 16, OWNER, KPROBE,					\
	  "kprobe/security_sock_graft",						\
	  TT_PROGS("kprobe_sock_graft"), NULL)					\
	X(TP_ACCEPT, 5, OWNER, TRACEPOINT,					\
	  "tracepoint/syscalls/sys_exit_accept{,4}",				\
	  TT_PROGS("tp_exit_accept4_typed", "tp_exit_accept_typed",		\
		   "tp_exit_accept4", "tp_exit_accept"), NULL)			\
	/* bpf/resets.bpf.c: both variants write 12, as they did before this table; \
	 * their programs write a record type each, listed in its order: \
	 * SYNACK_RETRANS, RESET_SENT, RESET_RECV (-v names counts by it) */ \
	X(TP_RETRANS, 12, RETRANS, TP_BTF,					\
	  "tp_btf/tcp_retransmit_synack, tcp_send_reset, tcp_receive_reset",	\
	  TT_PROGS("tp_btf_retransmit_synack", "tp_btf_send_reset", "tp_btf_receive_reset"), \
	  NULL)									\
	X(TRACEPOINT_RETRANS, 12, RETRANS, TRACEPOINT,				\
	  "tracepoint/tcp/tcp_retransmit_synack, tcp_send_reset, tcp_receive_reset", \
	  TT_PROGS("tp_retransmit_synack", "tp_send_reset", "tp_receive_reset"), NULL) \
	/* bpf/transitions.bpf.c: takes over what the transitions hook may be skipped for */ \
	X(SOCKOPS_STATE, 14, SOCK_OPS, SOCK_OPS,				\
	  "sockops/STATE_CB on the cgroup v2 root",				\
	  TT_PROGS("sockops_state"),						\
	  "from connect() or the handshake on; sets BPF_SOCK_OPS_STATE_CB_FLAG on every TCP " \
	  "socket, which other sock_ops programs then see too")

#define TT_HOOK_ID_(id, val, ...)	TT_HOOK_##id = (val),
#define TT_HOOK_SIZE_(id, val, ...)	char h_##id[(val) + 1];

/* The hook ids: tt_event.hook, the capture's too. */
enum tt_hook_id {
	TT_HOOK_NONE = 0,
	TT_HOOK_SOCK_DIAG = 13,		/* the start-up seed (sock_diag): no program */
	TT_HOOK_TABLE(TT_HOOK_ID_)
	/* one more than the highest value: the size of a union of char[value + 1] */
	TT_HOOK_MAX = sizeof(union {
		TT_HOOK_TABLE(TT_HOOK_SIZE_)
		char sock_diag[TT_HOOK_SOCK_DIAG + 1];
	}),
};

/*
 * The capabilities whose programs run the transitions body (on_set_state()
 * in bpf/transitions.bpf.c), where the TIME-WAIT rule lives.
 */
#define TT_SETS_STATE_TRANSITIONS	1
#define TT_SETS_STATE_SOCK_OPS		1
#define TT_SETS_STATE_TIME_WAIT		0
#define TT_SETS_STATE_OVERFLOW		0
#define TT_SETS_STATE_OWNER		0
#define TT_SETS_STATE_RETRANS		0
#define TT_SETS_STATE_ROW_(id, val, cap, ...) \
	if (hook == (val)) \
		return TT_SETS_STATE_##cap;

/* Was the record written by a transitions program (and so by the TIME-WAIT rule)? */
static inline int tt_hook_sets_state(unsigned int hook)
{
	TT_HOOK_TABLE(TT_SETS_STATE_ROW_)
	return 0;
}

#endif /* TT_HOOKS_H */
