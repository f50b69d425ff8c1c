/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flow records, the part of the transitions body that builds and sends
 * them (bpf/transitions.bpf.c decides what goes in): a socket's transitions
 * held in its storage (struct tt_skstore, tcptrail.bpf.h), its tcp_sock's
 * counts at the end, and the one struct tt_flowrec that carries them.
 */
#ifndef TT_FLOWREC_BPF_H
#define TT_FLOWREC_BPF_H

#include "tcptrail.bpf.h"

/*
 * Flow records (cfg.flow_records, typed hooks only): each transition goes
 * into the socket's own storage, and the ring buffer gets one struct
 * tt_flowrec at the end, at CLOSE_WAIT and LISTEN (for live leak and
 * overflow reports), or when the storage's slots are full.  Nothing on this
 * path is shared by all CPUs until that record: the storage is the
 * socket's, and its transitions are made one at a time under its lock.
 */
static __always_inline void flow_push(struct tt_skstore *st, __u8 old, __u8 new, __u64 ts,
				      __u8 tfl)
{
	__u32 i = st->n;

	if (i >= TT_FR_STATES)
		return;
	st->old_state[i] = old;
	st->new_state[i] = new;
	st->ts_ns[i] = ts;
	st->tflags[i] = tfl;
	st->n = i + 1;
	st->last_old = old;
	st->last = new;
	/*
	 * What bytes_acked counted besides payload: our SYN, and our FIN.
	 * The SYN is ours only from SYN_SENT, and acknowledged at
	 * ESTABLISHED, straight on or, in a simultaneous open (and a
	 * connect() to itself), by way of SYN_RECV (2: sent, not acked yet).
	 */
	if (old == BPF_TCP_SYN_SENT && new == BPF_TCP_ESTABLISHED)
		st->syn_acked = 1;
	else if (old == BPF_TCP_SYN_SENT && new == BPF_TCP_SYN_RECV)
		st->syn_acked = 2;
	else if (old == BPF_TCP_SYN_RECV && new == BPF_TCP_ESTABLISHED && st->syn_acked == 2)
		st->syn_acked = 1;
	/* a socket first seen in FIN_WAIT2 (seeded) had its FIN acknowledged too */
	if ((old == BPF_TCP_FIN_WAIT1 && new == BPF_TCP_FIN_WAIT2) || old == BPF_TCP_FIN_WAIT2 ||
	    (old == BPF_TCP_CLOSING && new == BPF_TCP_TIME_WAIT))
		st->fin_acked = 1;
}

/*
 * tcp_sock at the end.  bytes_acked counts acknowledged sequence numbers,
 * which include an active opener's SYN (its snd_una starts at the ISN; a
 * passive child's starts past it) and our FIN once acknowledged;
 * bytes_received counts the peer's FIN (tcp_fin() set SOCK_DONE) but never
 * its SYN (rcv_nxt starts past it).  Those come off: payload bytes remain.
 */
static __always_inline void flow_stats(struct tt_flowrec *r, struct sock *sk,
				       const struct tt_skstore *st)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u64 acked, rcvd, less;

	if (!tp)
		return;
	acked = tp->bytes_acked;
	rcvd = tp->bytes_received;
	less = (st->syn_acked == 1) + st->fin_acked;
	r->bytes_sent = acked > less ? acked - less : 0;
	if ((sk->__sk_common.skc_flags & (1UL << SOCK_DONE)) && rcvd)
		rcvd--;
	r->bytes_received = rcvd;
	r->segs_out = tp->segs_out;
	r->segs_in = tp->segs_in;
	r->retransmits = tp->total_retrans;
	r->srtt_us = tp->srtt_us >> 3;
	r->flags |= TT_FR_STATS;
}

static __always_inline void flow_flush(struct sock *sk, struct tt_skstore *st, __u8 hook, bool end)
{
	struct tt_flowrec *r;
	struct sk_view v;

	if (!st->n || read_sk(sk, &v, true) || !pass_filters(&v))
		goto out;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost(TT_EV_FLOW);
		goto out;
	}
	r->type = TT_EV_FLOW;
	r->family = v.family;
	r->n = st->n;
	r->flags = TT_FR_COOKIE | (end ? TT_FR_END : 0);
	r->hook = hook;
	r->tw_substate = st->tw_substate;
	r->sport = v.sport;
	r->dport = v.dport;
	r->cpu = bpf_get_smp_processor_id();
	r->netns = v.netns;
	r->sk_err = st->sk_err;
	r->resets_sent = st->resets_sent;
	r->resets_recv = st->resets_recv;
	r->reserved = 0;
	r->cgroup = v.cgroup;
	r->sk = (__u64)sk;
	r->cookie = st->cookie;
	__builtin_memset(r->saddr, 0, sizeof(r->saddr));
	__builtin_memset(r->daddr, 0, sizeof(r->daddr));
	fill_addrs_to(r->saddr, r->daddr, sk, v.family, true);
	__builtin_memcpy(r->task_pid, st->task_pid, sizeof(r->task_pid));
	__builtin_memcpy(r->task_tgid, st->task_tgid, sizeof(r->task_tgid));
	__builtin_memcpy(r->task_comm, st->task_comm, sizeof(r->task_comm));
	r->bytes_sent = 0;
	r->bytes_received = 0;
	r->segs_out = 0;
	r->segs_in = 0;
	r->retransmits = 0;
	r->srtt_us = 0;
	if (end)
		flow_stats(r, sk, st);
	__builtin_memcpy(r->ts_ns, st->ts_ns, sizeof(r->ts_ns));
	__builtin_memcpy(r->old_state, st->old_state, sizeof(r->old_state));
	__builtin_memcpy(r->new_state, st->new_state, sizeof(r->new_state));
	__builtin_memcpy(r->tflags, st->tflags, sizeof(r->tflags));
	__builtin_memset(r->pad, 0, sizeof(r->pad));
	bpf_ringbuf_submit(r, submit_flags());
out:
	st->n = 0;
	st->ntask = 0;
	st->resets_sent = 0;
	st->resets_recv = 0;
	st->tw_substate = 0;
	__builtin_memset(st->task_pid, 0, sizeof(st->task_pid));
	__builtin_memset(st->task_tgid, 0, sizeof(st->task_tgid));
	__builtin_memset(st->task_comm, 0, sizeof(st->task_comm));
	__builtin_memset(st->tflags, 0, sizeof(st->tflags));
}

#endif /* TT_FLOWREC_BPF_H */
