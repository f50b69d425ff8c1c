// SPDX-License-Identifier: GPL-2.0
/*
 * SYN-ACK retransmits and resets, to annotate flows.
 *
 * The kernel fact: tcp_retransmit_synack(), tcp_send_reset and
 * tcp_receive_reset each fire a tcp: tracepoint with the socket (for a
 * SYN-ACK, the listener and its request sock), so both the tp_btf and the
 * plain tracepoint variant see every one; neither changes the socket's state.
 */
#include "tcptrail.bpf.h"

static __always_inline void on_sk_note(struct sock *sk, __u8 type, __u8 hook, bool direct)
{
	struct tt_event *e;
	struct sk_view v;
	__u8 state;

	if (!sk)
		return;
	/*
	 * From Linux 6.10, tcp_send_reset fires for a timewait sock too (a
	 * segment TIME-WAIT answers with a reset), whose fields past
	 * sock_common are no sock's: its lock and cgroup would be read from
	 * whatever lies beyond it.  It belongs to no flow (a flow ends at the
	 * hand-over), and kernels before 6.10 never tell it: left out, as a
	 * request sock would be.
	 */
	state = SK_READ(direct, sk, __sk_common.skc_state);
	if (state == BPF_TCP_TIME_WAIT || state == BPF_TCP_NEW_SYN_RECV)
		return;
	/*
	 * Flow records: a reset of a socket whose timeline is held rides in
	 * its next record, unless its end record is sent: a reset after
	 * tcp_done() is told alone, as before.
	 */
	if (cfg.flow_records && direct) {
		struct tt_skstore *st = bpf_sk_storage_get(&flows, sk, 0, 0);

		if (st && st->last && !st->ended) {
			__u8 *c = type == TT_EV_RESET_SENT ? &st->resets_sent : &st->resets_recv;

			if (*c < 255)
				*c += 1;
			return;
		}
	}
	if (read_sk(sk, &v, direct) || !pass_filters(&v))
		return;
	/* a reset sent right after the process's > CLOSE (owned_closed) is its */
	if (cfg.tgid && !owned_sk(sk, &v, direct) &&
	    !(type == TT_EV_RESET_SENT && closed_here(sk)))
		return;
	v.owner = false;
	e = reserve(type, sk, &v, hook, direct);
	if (e)
		bpf_ringbuf_submit(e, submit_flags());
}

/* The request is not a full socket yet: report its tuple, keyed to the listener. */
static __always_inline void on_synack_retrans(struct sock *lsk, struct request_sock *req, __u8 hook)
{
	struct sock *rsk = (struct sock *)req;
	struct tt_event *e;
	struct sk_view v;

	if (read_sk(rsk, &v, false))
		return;
	/* a request sock has no sk_cgrp_data: its child will take the listener's */
	v.cgrp = sk_cgroup(lsk, false);
	v.cgroup = cgroup_id_of(v.cgrp, false);
	if (!pass_filters(&v))
		return;
	v.owner = false;
	e = reserve(TT_EV_SYNACK_RETRANS, rsk, &v, hook, false);
	if (!e)
		return;
	e->sk = (__u64)lsk;
	e->aux[0] = BPF_CORE_READ(req, num_retrans);
	bpf_ringbuf_submit(e, submit_flags());
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tp_btf_retransmit_synack, struct sock *sk, struct request_sock *req)
{
	on_synack_retrans(sk, req, TT_HOOK_TP_RETRANS);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tp_btf_send_reset, struct sock *sk)
{
	on_sk_note(sk, TT_EV_RESET_SENT, TT_HOOK_TP_RETRANS, true);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tp_btf_receive_reset, struct sock *sk)
{
	on_sk_note(sk, TT_EV_RESET_RECV, TT_HOOK_TP_RETRANS, true);
	return 0;
}

/*
 * Plain tracepoint contexts, declared here rather than taken from vmlinux.h:
 * tcp_send_reset's record was renamed in 6.10, but every version keeps
 * skaddr (and req) at these offsets after the 8-byte trace_entry.
 */
struct tp_sk_ctx {
	__u64 ent;
	const void *skaddr;
};

struct tp_send_reset_ctx {
	__u64 ent;
	const void *skbaddr;
	const void *skaddr;
};

struct tp_synack_ctx {
	__u64 ent;
	const void *skaddr;
	const void *req;
};

SEC("tracepoint/tcp/tcp_retransmit_synack")
int tp_retransmit_synack(struct tp_synack_ctx *ctx)
{
	on_synack_retrans((struct sock *)ctx->skaddr, (struct request_sock *)ctx->req,
			  TT_HOOK_TRACEPOINT_RETRANS);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int tp_send_reset(struct tp_send_reset_ctx *ctx)
{
	on_sk_note((struct sock *)ctx->skaddr, TT_EV_RESET_SENT, TT_HOOK_TRACEPOINT_RETRANS, false);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int tp_receive_reset(struct tp_sk_ctx *ctx)
{
	on_sk_note((struct sock *)ctx->skaddr, TT_EV_RESET_RECV, TT_HOOK_TRACEPOINT_RETRANS, false);
	return 0;
}
