// SPDX-License-Identifier: GPL-2.0
/*
 * SYN-queue and accept-queue overflow.
 *
 * The kernel fact: a listener drops a SYN or a third ACK after tests on its
 * own queue lengths.  tcp_conn_request() checks inet_csk_reqsk_queue_is_full()
 * (qlen > max) then, unless a cookie is sent instead, drops; then
 * sk_acceptq_is_full() (ack_backlog > max), which drops a SYN meant for a
 * cookie too: tcp_syn_flood_action() has counted it in TCPReqQFullDoCookies,
 * but no cookie goes, so no SyncookiesSent (cookie_init_sequence(), after the
 * request is allocated, counts that), and it is an accept-queue overflow
 * alone.  syn_recv_sock() checks only the accept queue.  How each variant
 * learns of it: fentry, and the kprobes for a SYN, keep the call from entry
 * to exit and see whether the kernel went past its test (at ov_enter()
 * below); the kprobe on syn_recv_sock() reads the queues as it is entered,
 * where the kernel tests first; the cgroup_skb variant reads them as each
 * segment arrives at the listener, before the kernel decides.
 */
#include "tcptrail.bpf.h"

static __always_inline void
emit_overflow(struct sock *lsk, __u8 queue, __u8 cookie, __u32 max, __u32 backlog,
	      __u32 qlen, __u16 family, const __u8 *peer, __u16 peer_port, __u8 hook)
{
	struct tt_event *e;
	struct sk_view v;

	if (read_sk(lsk, &v, false) || !pass_filters(&v))
		return;
	v.owner = false;
	e = reserve(TT_EV_OVERFLOW, lsk, &v, hook, false);
	if (!e)
		return;
	e->family = family;
	e->dport = peer_port;
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (peer)
		__builtin_memcpy(e->daddr, peer, 16);	/* zero-padded for IPv4 */
	e->flags |= cookie;
	e->aux[0] = queue;
	e->aux[1] = max;
	e->aux[2] = backlog;
	e->aux[3] = qlen;
	bpf_ringbuf_submit(e, submit_flags());
}

/*
 * With net.ipv4.tcp_syncookies 2, tcp_conn_request() answers every SYN with
 * a cookie, full queue or not: only with the queue full is it an overflow.
 */
static __always_inline __u8 cookie_flags(__u32 qlen, __u32 max)
{
	return TT_F_SYNCOOKIE | (qlen > max ? 0 : TT_F_COOKIE_POLICY);
}

/*
 * The cgroup program has no bpf_probe_read_kernel() on older kernels (6.1
 * rejects it), so it reads the listener through the BTF pointer that
 * bpf_skc_to_tcp_sock() returns and the bpf_sock context, never by probe.
 */
static __always_inline void
cg_emit(struct tcp_sock *tp, struct bpf_sock *bsk, __u8 queue, __u8 cookie, __u32 max,
	__u32 backlog, __u32 qlen, __u16 family, const __u8 *peer, __u16 peer_port)
{
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;
	struct sk_view v = {
		.family = family,
		.sport = bsk->src_port,
		.netns = sk->__sk_common.skc_net.net->ns.inum,
		.cgrp = sk_cgroup(sk, true),
	};
	struct tt_event *e;

	v.cgroup = cgroup_id_of(v.cgrp, true);

	if (!pass_filters(&v))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(TT_EV_OVERFLOW);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = TT_EV_OVERFLOW;
	e->family = family;
	e->hook = TT_HOOK_CGROUP_SKB;
	e->sport = v.sport;
	e->dport = peer_port;
	e->netns = v.netns;
	e->cpu = bpf_get_smp_processor_id();
	e->cgroup = v.cgroup;
	e->ts_ns = bpf_ktime_get_ns();
	e->sk = (__u64)sk;
	if (family == AF_INET) {
		__u32 a = bsk->src_ip4;

		__builtin_memcpy(e->saddr, &a, 4);
	} else {
		__u32 a0 = bsk->src_ip6[0], a1 = bsk->src_ip6[1], a2 = bsk->src_ip6[2],
		      a3 = bsk->src_ip6[3];

		__builtin_memcpy(e->saddr, &a0, 4);
		__builtin_memcpy(e->saddr + 4, &a1, 4);
		__builtin_memcpy(e->saddr + 8, &a2, 4);
		__builtin_memcpy(e->saddr + 12, &a3, 4);
	}
	__builtin_memcpy(e->daddr, peer, 16);
	e->flags |= cookie;
	e->aux[0] = queue;
	e->aux[1] = max;
	e->aux[2] = backlog;
	e->aux[3] = qlen;
	bpf_ringbuf_submit(e, submit_flags());
}

/*
 * tcp_v4_rcv() filters a segment that matched a request sock against its
 * listener too, so a retransmitted SYN looks like a new one here; the kernel
 * answers it from tcp_check_req() and drops nothing.  A request sock for the
 * same 4-tuple tells them apart.
 */
static __always_inline bool
syn_has_request(struct __sk_buff *skb, __u16 family, __u32 thoff)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *found;
	bool req;

	if (family == AF_INET) {
		if (bpf_skb_load_bytes(skb, 12, &t.ipv4.saddr, 4) ||
		    bpf_skb_load_bytes(skb, 16, &t.ipv4.daddr, 4) ||
		    bpf_skb_load_bytes(skb, thoff, &t.ipv4.sport, 2) ||
		    bpf_skb_load_bytes(skb, thoff + 2, &t.ipv4.dport, 2))
			return false;
		found = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	} else {
		if (bpf_skb_load_bytes(skb, 8, t.ipv6.saddr, 16) ||
		    bpf_skb_load_bytes(skb, 24, t.ipv6.daddr, 16) ||
		    bpf_skb_load_bytes(skb, thoff, &t.ipv6.sport, 2) ||
		    bpf_skb_load_bytes(skb, thoff + 2, &t.ipv6.dport, 2))
			return false;
		found = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	}
	if (!found)
		return false;
	req = found->state == BPF_TCP_NEW_SYN_RECV;
	bpf_sk_release(found);
	return req;
}

/* family: the listener's, as the record names it; pkt_family: the segment's header */
static __always_inline void
cg_check_listener(struct __sk_buff *skb, __u32 thoff, struct tcp_sock *tp, struct bpf_sock *bsk,
		  bool syn, __u16 pkt_family, __u16 family, const __u8 *peer, __u16 peer_port,
		  __u32 max, __u32 backlog, __u32 qlen, __u8 cookies)
{
	/* only a full queue makes the lookup worth its cost */
	if (syn && (qlen > max || backlog > max) && syn_has_request(skb, pkt_family, thoff))
		return;
	if (syn && !cookies && qlen > max) {
		cg_emit(tp, bsk, TT_Q_SYN, 0, max, backlog, qlen, family, peer, peer_port);
		return;
	}
	/* the accept queue's test comes before any cookie is sent */
	if (backlog > max) {
		cg_emit(tp, bsk, TT_Q_ACCEPT, 0, max, backlog, qlen, family, peer, peer_port);
		return;
	}
	if (syn && (cookies == 2 || qlen > max))
		cg_emit(tp, bsk, TT_Q_SYN, cookie_flags(qlen, max), max, backlog, qlen, family,
			peer, peer_port);
}

#define ETH_P_IP_	0x0800
#define TCP_FLAG_SYN_	0x02
#define TCP_FLAG_RST_	0x04
#define TCP_FLAG_ACK_	0x10

/*
 * net.ipv4.tcp_syncookies: an int before Linux 5.13 (5.10.178 in stable), a
 * u8 since.  A direct load of a field whose size differs is one libbpf
 * cannot resize for a signed int: each size has its own load, and the
 * verifier drops the one this kernel does not take.
 */
struct netns_ipv4___int_cookies {
	int sysctl_tcp_syncookies;
} __attribute__((preserve_access_index));

static __always_inline __u8 net_syncookies(struct net *net)
{
	if (bpf_core_field_size(net->ipv4.sysctl_tcp_syncookies) == 1)
		return net->ipv4.sysctl_tcp_syncookies;
	return ((struct netns_ipv4___int_cookies *)&net->ipv4)->sysctl_tcp_syncookies;
}

/*
 * On every ingress packet of the host (about 6 per loopback connection), so
 * it leaves as early as it can, and reads the packet only when it may be
 * an overflow.  Only a segment whose socket lookup found a listener can be
 * (for a third ACK, tcp_v4_rcv() swaps the request sock for its listener
 * before the cgroup filter runs): every other one leaves after two loads.
 * Then a listener segment is an overflow only if one of its queues is over
 * its limit, or syncookies are on by policy (2), and its own two queue
 * lengths and the sysctl tell that without a look at the packet: only
 * then are its flags, addresses and port read.
 */
SEC("cgroup_skb/ingress")
int cgroup_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *bsk = skb->sk;
	struct tcp_sock *tp;
	struct sock *sk;
	__u8 peer[16] = {}, flags, cookies;
	__u32 thoff, max, backlog, qlen;
	__u16 family, pkt_family, peer_port;

	if (!bsk || bsk->state != BPF_TCP_LISTEN)
		return 1;
	tp = bpf_skc_to_tcp_sock(bsk);		/* NULL unless a TCP full socket */
	if (!tp)
		return 1;
	sk = &tp->inet_conn.icsk_inet.sk;
	max = sk->sk_max_ack_backlog;
	backlog = sk->sk_ack_backlog;
	qlen = tp->inet_conn.icsk_accept_queue.qlen.counter;
	cookies = net_syncookies(sk->__sk_common.skc_net.net);
	if (qlen <= max && backlog <= max && cookies != 2)
		return 1;

	family = bsk->family;
	if (family != AF_INET && family != AF_INET6)
		return 1;
	/* a dual-stack IPv6 listener's IPv4 clients: their segments carry an IPv4 header */
	pkt_family = skb->protocol == bpf_htons(ETH_P_IP_) ? AF_INET : AF_INET6;
	if (pkt_family == AF_INET) {
		__u8 vihl;

		if (bpf_skb_load_bytes(skb, 0, &vihl, 1))
			return 1;
		thoff = (vihl & 0x0f) * 4;
	} else {
		__u8 nexthdr;

		if (family == AF_INET)
			return 1;
		if (bpf_skb_load_bytes(skb, 6, &nexthdr, 1) || nexthdr != IPPROTO_TCP)
			return 1;
		thoff = 40;
	}
	if (bpf_skb_load_bytes(skb, thoff + 13, &flags, 1))
		return 1;
	/* a SYN, or an ACK that may be a third one; no RST, no SYN-ACK */
	if (flags & TCP_FLAG_RST_)
		return 1;
	if (!(flags & (TCP_FLAG_SYN_ | TCP_FLAG_ACK_)))
		return 1;
	if ((flags & TCP_FLAG_SYN_) && (flags & TCP_FLAG_ACK_))
		return 1;
	if (bpf_skb_load_bytes(skb, thoff, &peer_port, 2))
		return 1;
	if (pkt_family == AF_INET6) {
		bpf_skb_load_bytes(skb, 8, peer, 16);
	} else if (family == AF_INET) {
		bpf_skb_load_bytes(skb, 12, peer, 4);
	} else {
		/* ::ffff:a.b.c.d, as the kernel names an IPv4 peer to an IPv6 socket */
		bpf_skb_load_bytes(skb, 12, peer + 12, 4);
		peer[10] = peer[11] = 0xff;
	}
	cg_check_listener(skb, thoff, tp, bsk, flags & TCP_FLAG_SYN_, pkt_family, family, peer,
			  bpf_ntohs(peer_port), max, backlog, qlen, cookies);
	return 1;
}

/* An overflow of lsk's, its peer read from skb (the segment): only once it is one. */
static __always_inline void
emit_skb_overflow(struct sock *lsk, struct sk_buff *skb, __u8 queue, __u8 cookie, __u32 max,
		  __u32 backlog, __u32 qlen, __u8 hook)
{
	__u16 family = BPF_CORE_READ(lsk, __sk_common.skc_family);
	bool v4 = BPF_CORE_READ(skb, protocol) == bpf_htons(ETH_P_IP_);
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u8 peer[16] = {};
	__u16 p = 0;

	if (!v4) {
		bpf_probe_read_kernel(peer, 16, head + nh + 8);
	} else if (family == AF_INET) {
		bpf_probe_read_kernel(peer, 4, head + nh + 12);
	} else {
		/* a dual-stack IPv6 listener's IPv4 client: ::ffff:a.b.c.d */
		bpf_probe_read_kernel(peer + 12, 4, head + nh + 12);
		peer[10] = peer[11] = 0xff;
	}
	bpf_probe_read_kernel(&p, 2, head + th);
	emit_overflow(lsk, queue, cookie, max, backlog, qlen, family, peer, bpf_ntohs(p), hook);
}

/* syn_recv_sock() is entered: its first test is the accept queue's. */
static __always_inline void on_syn_recv_sock(struct sock *sk, struct sk_buff *skb, __u8 hook)
{
	__u32 max = BPF_CORE_READ(sk, sk_max_ack_backlog);
	__u32 backlog = BPF_CORE_READ(sk, sk_ack_backlog);

	if (backlog > max)
		emit_skb_overflow(sk, skb, TT_Q_ACCEPT, 0, max, backlog,
				  BPF_CORE_READ((struct inet_connection_sock *)sk,
						icsk_accept_queue.qlen.counter), hook);
}

/*
 * A read of the queues at a function's entry comes before the kernel's own
 * test, and a handshake completing on another CPU in between can fill the
 * accept queue (tcp_conn_request() may even print its SYN-flood warning to
 * the console in between).  So a call is kept from entry to exit, and what
 * the kernel did is told by the function it calls once its accept-queue
 * test has passed: inet_reqsk_alloc() for a SYN, tcp_create_openreq_child()
 * for a child.  A call that never got there was dropped on a full queue.
 * Both variants do so for a SYN; for a child only fentry does, as the
 * kprobe on syn_recv_sock() reads at the kernel's test, its first.
 * BHs are off in all of them (a listener's segments never wait in its
 * backlog), so one call at a time per CPU: one slot each, matched by its
 * skb at the exit.  The skb is still the caller's there, so the peer is
 * read from it only for an overflow.
 */
struct ov_call {
	__u64 lsk;
	__u64 skb;		/* 0: no call in progress */
	__u32 max, backlog, qlen;
	__u8 syn;		/* tcp_conn_request(), else a child's creation */
	__u8 cookies;		/* net.ipv4.tcp_syncookies */
	__u8 passed;		/* the kernel went past its accept-queue test */
	__u8 cookie_sent;	/* inet_reqsk_alloc() without the listener: a cookie */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ov_call);
} ov_calls SEC(".maps");

static __always_inline struct ov_call *ov_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ov_calls, &zero);
}

static __always_inline void ov_enter(struct sock *lsk, struct sk_buff *skb, bool syn)
{
	struct ov_call *c = ov_slot();

	if (!c)
		return;
	c->lsk = (__u64)lsk;
	c->skb = (__u64)skb;
	c->max = BPF_CORE_READ(lsk, sk_max_ack_backlog);
	c->backlog = BPF_CORE_READ(lsk, sk_ack_backlog);
	c->qlen = BPF_CORE_READ((struct inet_connection_sock *)lsk, icsk_accept_queue.qlen.counter);
	c->cookies = syn ? BPF_CORE_READ(lsk, __sk_common.skc_net.net, ipv4.sysctl_tcp_syncookies) : 0;
	c->syn = syn;
	c->passed = 0;
	c->cookie_sent = 0;
}

/* The call in progress, if it is lsk's and of that kind. */
static __always_inline struct ov_call *ov_current(struct sock *lsk, bool syn)
{
	struct ov_call *c = ov_slot();

	return c && c->skb && c->lsk == (__u64)lsk && c->syn == syn ? c : NULL;
}

/* The call ends, copied out; skb 0 takes whichever is in progress (a kretprobe's). */
static __always_inline bool ov_leave(struct sock *lsk, struct sk_buff *skb, struct ov_call *out)
{
	struct ov_call *c = ov_slot();

	if (!c || !c->skb || (skb && (c->skb != (__u64)skb || c->lsk != (__u64)lsk)))
		return false;
	__builtin_memcpy(out, c, sizeof(*out));
	c->skb = 0;
	return true;
}

SEC("fentry/tcp_conn_request")
int BPF_PROG(fentry_conn_request, struct request_sock_ops *ops, void *af_ops, struct sock *sk,
	     struct sk_buff *skb)
{
	ov_enter(sk, skb, true);
	return 0;
}

/*
 * A bool argument is taken as the whole register, of which the x86-64 ABI
 * sets only the low byte: the rest is what the caller left there (Debian's
 * 5.10 leaves bits set), and a cast to bool would read them too.
 */
static __always_inline bool arg_bool(__u64 reg)
{
	return (__u8)reg;
}

SEC("fentry/inet_reqsk_alloc")
int BPF_PROG(fentry_reqsk_alloc, const struct request_sock_ops *ops, struct sock *sk,
	     __u64 attach_listener)
{
	struct ov_call *c = ov_current(sk, true);

	if (c) {
		c->passed = 1;
		c->cookie_sent = !arg_bool(attach_listener);
	}
	return 0;
}

/*
 * A SYN: tcp_conn_request() tests the SYN queue (cookies 2, or full: a
 * cookie, or with cookies 0 a drop), then the accept queue (a drop, also of
 * a SYN meant for a cookie: none is sent), then allocates the request, and
 * only then sends a cookie.  A drop's cause is read from the queues, at
 * entry and at exit, and is claimed only where a queue was full: a kernel
 * built to inline inet_reqsk_alloc() into tcp_conn_request() (LTO, another
 * compiler) never marks a call, and must not make every SYN an overflow.
 * It then counts as the hooks that read at entry did.  With cookies 0 the
 * SYN queue, tested first, is the cause where it was over its limit, the
 * accept queue where that one was full; a SYN queue at its limit (qlen ==
 * max) is the cause only on kernels without the fix to
 * inet_csk_reqsk_queue_is_full(), which drop there too.  With cookies on,
 * the accept queue is the cause where it was full, whatever the SYN queue
 * said; a cookie is claimed only where it was not (the inlined kernel's).
 */
/* The call's overflow, with the accept queue's length as a full one was read. */
static __always_inline void ov_emit(struct sock *sk, const struct ov_call *c, __u8 queue,
				    __u8 cookie, __u32 backlog, __u8 hook)
{
	emit_skb_overflow(sk, (struct sk_buff *)c->skb, queue, cookie, c->max,
			  c->backlog > c->max ? c->backlog : backlog, c->qlen, hook);
}

static __always_inline void ov_conn_request_exit(struct sock *sk, struct ov_call *c, __u8 hook)
{
	struct inet_connection_sock *icsk = (struct inet_connection_sock *)sk;
	__u32 backlog, qlen;
	bool accept_full;

	if (c->passed) {
		/* with cookies 1, only a full queue sends one, whatever qlen was at entry */
		if (c->cookie_sent)
			ov_emit(sk, c, TT_Q_SYN, TT_F_SYNCOOKIE | (c->cookies == 2 && c->qlen <= c->max ?
				TT_F_COOKIE_POLICY : 0), c->backlog, hook);
		return;
	}
	backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	qlen = BPF_CORE_READ(icsk, icsk_accept_queue.qlen.counter);
	accept_full = c->backlog > c->max || backlog > c->max;
	if (!c->cookies) {
		if (c->qlen <= c->max && accept_full)
			ov_emit(sk, c, TT_Q_ACCEPT, 0, backlog, hook);
		else if (c->qlen >= c->max || qlen >= c->max)
			ov_emit(sk, c, TT_Q_SYN, 0, c->backlog, hook);
		return;
	}
	if (accept_full)
		ov_emit(sk, c, TT_Q_ACCEPT, 0, backlog, hook);
	else if (c->cookies == 2 || c->qlen > c->max)
		ov_emit(sk, c, TT_Q_SYN, cookie_flags(c->qlen, c->max), c->backlog, hook);
}

SEC("fexit/tcp_conn_request")
int BPF_PROG(fexit_conn_request, struct request_sock_ops *ops, void *af_ops, struct sock *sk,
	     struct sk_buff *skb)
{
	struct ov_call c;

	if (ov_leave(sk, skb, &c))
		ov_conn_request_exit(sk, &c, TT_HOOK_FENTRY_CONN_REQUEST);
	return 0;
}

/*
 * fentry cannot go where the kprobes go: tcp_v{4,6}_syn_recv_sock() take 7
 * arguments once they have opt_child_init (Debian's 6.1 has it), and the
 * x86 trampoline before 6.6 is built for at most 6, so the attach fails
 * with ENOTSUPP (524).  fentry takes their two callers instead.
 * tcp_get_cookie_sock() (a valid syncookie ACK) always calls syn_recv_sock().
 * tcp_check_req() (any segment for a request sock) calls it for an ACK of
 * our SYN-ACK that passes its tests, which this repeats but for PAWS and the
 * receive window: no SYN or RST, ack_seq = snt_isn + 1, not Fast Open (that
 * child exists already), not a bare ACK that TCP_DEFER_ACCEPT holds back.
 */
static __always_inline bool check_req_calls_child(struct sock *lsk, struct sk_buff *skb,
						  struct request_sock *req, bool fastopen)
{
	struct tcp_request_sock *treq = (struct tcp_request_sock *)req;
	struct tcp_skb_cb *tcb = (struct tcp_skb_cb *)&skb->cb[0];
	unsigned char *th = BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, transport_header);
	__u32 ack_seq;
	__u8 flags, defer;

	if (fastopen)
		return false;
	if (bpf_probe_read_kernel(&flags, 1, th + 13) ||
	    bpf_probe_read_kernel(&ack_seq, 4, th + 8))
		return false;
	if ((flags & (TCP_FLAG_SYN_ | TCP_FLAG_RST_ | TCP_FLAG_ACK_)) != TCP_FLAG_ACK_)
		return false;
	if (bpf_ntohl(ack_seq) != BPF_CORE_READ(treq, snt_isn) + 1)
		return false;
	defer = BPF_CORE_READ((struct inet_connection_sock *)lsk, icsk_accept_queue.rskq_defer_accept);
	if (defer && BPF_CORE_READ_BITFIELD_PROBED(req, num_timeout) < defer &&
	    BPF_CORE_READ(tcb, end_seq) == BPF_CORE_READ(treq, rcv_isn) + 1)
		return false;
	return true;
}

SEC("fentry/tcp_check_req")
int BPF_PROG(fentry_check_req, struct sock *sk, struct sk_buff *skb, struct request_sock *req,
	     __u64 fastopen)
{
	if (check_req_calls_child(sk, skb, req, arg_bool(fastopen)))
		ov_enter(sk, skb, false);
	return 0;
}

SEC("fentry/tcp_get_cookie_sock")
int BPF_PROG(fentry_get_cookie_sock, struct sock *sk, struct sk_buff *skb)
{
	ov_enter(sk, skb, false);
	return 0;
}

/* syn_recv_sock() got past its accept-queue test: the child is made. */
SEC("fentry/tcp_create_openreq_child")
int BPF_PROG(fentry_openreq_child, const struct sock *sk, struct request_sock *req,
	     struct sk_buff *skb)
{
	struct ov_call *c = ov_current((struct sock *)sk, false);

	if (c)
		c->passed = 1;
	return 0;
}

/*
 * A child that was not made, for a listener whose accept queue was full
 * when its call began or when it ended: syn_recv_sock() tests only that
 * before making it (a route it cannot find is the other way out).  Where
 * LTO inlines tcp_create_openreq_child(), the queue reads alone decide.
 */
static __always_inline void ov_child_exit(struct sock *sk, struct sk_buff *skb)
{
	struct ov_call c;
	__u32 backlog;

	if (!ov_leave(sk, skb, &c) || c.passed)
		return;
	backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	if (c.backlog > c.max || backlog > c.max)
		ov_emit(sk, &c, TT_Q_ACCEPT, 0, backlog, TT_HOOK_FENTRY_CONN_REQUEST);
}

/* Only the first two arguments: later kernels add more, and the return is not needed. */
SEC("fexit/tcp_check_req")
int BPF_PROG(fexit_check_req, struct sock *sk, struct sk_buff *skb)
{
	ov_child_exit(sk, skb);
	return 0;
}

SEC("fexit/tcp_get_cookie_sock")
int BPF_PROG(fexit_get_cookie_sock, struct sock *sk, struct sk_buff *skb)
{
	ov_child_exit(sk, skb);
	return 0;
}

/*
 * The kprobes keep tcp_conn_request()'s calls as fentry does.  A kretprobe
 * has no arguments, so it takes the call in progress: a kprobe program that
 * the kernel skips for nesting inside another on its CPU is skipped at
 * both ends, since the whole call runs inside the interrupted program.
 */
SEC("kprobe/tcp_conn_request")
int BPF_KPROBE(kprobe_conn_request, void *ops, void *af_ops, struct sock *sk, struct sk_buff *skb)
{
	ov_enter(sk, skb, true);
	return 0;
}

SEC("kprobe/inet_reqsk_alloc")
int BPF_KPROBE(kprobe_reqsk_alloc, void *ops, struct sock *sk, __u64 attach_listener)
{
	struct ov_call *c = ov_current(sk, true);

	if (c) {
		c->passed = 1;
		c->cookie_sent = !arg_bool(attach_listener);
	}
	return 0;
}

SEC("kretprobe/tcp_conn_request")
int BPF_KRETPROBE(kretprobe_conn_request)
{
	struct ov_call c;

	if (ov_leave(NULL, NULL, &c) && c.syn)
		ov_conn_request_exit((struct sock *)c.lsk, &c, TT_HOOK_KPROBE_CONN_REQUEST);
	return 0;
}

SEC("kprobe/tcp_v4_syn_recv_sock")
int BPF_KPROBE(kprobe_v4_syn_recv_sock, struct sock *sk, struct sk_buff *skb)
{
	on_syn_recv_sock(sk, skb, TT_HOOK_KPROBE_CONN_REQUEST);
	return 0;
}

SEC("kprobe/tcp_v6_syn_recv_sock")
int BPF_KPROBE(kprobe_v6_syn_recv_sock, struct sock *sk, struct sk_buff *skb)
{
	if (BPF_CORE_READ(skb, protocol) != bpf_htons(ETH_P_IP_))
		on_syn_recv_sock(sk, skb, TT_HOOK_KPROBE_CONN_REQUEST);
	return 0;
}
