// SPDX-License-Identifier: GPL-2.0
/*
 * TIME-WAIT entry, where tcp_time_wait() can be hooked.
 *
 * The kernel fact: tcp_time_wait() hands a closing socket over to a
 * separate timewait sock (from inet_twsk_alloc(), which may have none to
 * give) and then calls tcp_done(), whose > CLOSE is the only trace the
 * transitions hook sees.  Where neither fentry nor kprobes work, the
 * transitions program decides it by rule instead (tw_rule() in
 * transitions.bpf.c).
 */
#include "tcptrail.bpf.h"

static __always_inline void on_time_wait(struct sock *sk, int substate, int timeo, __u8 hook)
{
	__u32 zero = 0;
	struct tw_hand *handed;
	struct tt_event *e;
	struct sk_view v;

	/*
	 * Flow records: the transitions program turns the tcp_done() > CLOSE
	 * that follows on this CPU into the hand-over, and its filters decide.
	 */
	if (cfg.flow_records) {
		handed = bpf_map_lookup_elem(&tw_handover, &zero);
		if (handed) {
			handed->sk = (__u64)sk;
			handed->substate = substate;
		}
		return;
	}
	if (read_sk(sk, &v, false) || !pass_filters(&v))
		return;
	if (cfg.tgid && !owned_sk(sk, &v, false))
		return;
	/* drop the tcp_done() > CLOSE that follows on this CPU */
	handed = bpf_map_lookup_elem(&tw_handover, &zero);
	if (handed)
		handed->sk = (__u64)sk;
	e = reserve(TT_EV_TIME_WAIT, sk, &v, hook, false);
	if (!e)
		return;
	e->old_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->new_state = BPF_TCP_TIME_WAIT;
	e->flags |= TT_F_SUBSTATE;
	e->aux[0] = substate;
	/*
	 * timeo is in jiffies (0: the fixed TCP_TIMEWAIT_LEN).  Left in jiffies:
	 * converting needs CONFIG_HZ, and a __kconfig extern fails the whole
	 * load on hosts without /boot/config-* or /proc/config.gz.
	 */
	e->flags |= TT_F_TIMEO;
	e->aux[1] = timeo > 0 ? (__u32)timeo : 0;
	bpf_ringbuf_submit(e, submit_flags());
}

/*
 * tcp_time_wait() starts with inet_twsk_alloc(), which has no timewait sock
 * to give once tcp_max_tw_buckets are in use: the kernel then counts
 * TCPTimeWaitOverflow and the socket just closes.  So the entry is told on
 * the way out of inet_twsk_alloc(), and only when it returned one, with
 * what tcp_time_wait() was called with kept until then.  Per CPU: BHs are
 * off in tcp_time_wait(), so nothing else runs it here in between.
 */
struct tw_call {
	__u64 sk;
	__s32 substate;
	__s32 timeo;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_call);
} tw_calls SEC(".maps");

static __always_inline void tw_called(struct sock *sk, int substate, int timeo)
{
	__u32 zero = 0;
	struct tw_call *c = bpf_map_lookup_elem(&tw_calls, &zero);

	if (!c)
		return;
	c->sk = (__u64)sk;
	c->substate = substate;
	c->timeo = timeo;
}

/* sk: inet_twsk_alloc()'s argument, or 0 where it is not at hand (kretprobe) */
static __always_inline void tw_allocated(__u64 sk, bool got_tw, __u8 hook)
{
	__u32 zero = 0;
	struct tw_call *c = bpf_map_lookup_elem(&tw_calls, &zero);
	struct tw_call call;

	/* DCCP allocates timewait socks too, without tcp_time_wait() */
	if (!c || !c->sk || (sk && c->sk != sk))
		return;
	call = *c;
	c->sk = 0;
	if (got_tw)
		on_time_wait((struct sock *)call.sk, call.substate, call.timeo, hook);
}

SEC("fentry/tcp_time_wait")
int BPF_PROG(fentry_time_wait, struct sock *sk, int state, int timeo)
{
	tw_called(sk, state, timeo);
	return 0;
}

SEC("fexit/inet_twsk_alloc")
int BPF_PROG(fexit_twsk_alloc, const struct sock *sk, void *dr, int state, void *tw)
{
	tw_allocated((__u64)sk, tw != NULL, TT_HOOK_FENTRY_TIME_WAIT);
	return 0;
}

SEC("kprobe/tcp_time_wait")
int BPF_KPROBE(kprobe_time_wait, struct sock *sk, int state, int timeo)
{
	tw_called(sk, state, timeo);
	return 0;
}

SEC("kretprobe/inet_twsk_alloc")
int BPF_KRETPROBE(kretprobe_twsk_alloc, void *tw)
{
	tw_allocated(0, tw != NULL, TT_HOOK_KPROBE_TIME_WAIT);
	return 0;
}
