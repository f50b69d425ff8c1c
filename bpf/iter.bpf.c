// SPDX-License-Identifier: GPL-2.0
/*
 * Every TCP socket of every network namespace, in one walk: the seed and the
 * TIME-WAIT census (user/sockwalk.c), loaded for them only.
 *
 * The kernel's own TCP iterator (iter/tcp) and sock_diag both answer for one
 * namespace: they walk the whole established hash table, which namespaces
 * share unless net.ipv4.tcp_child_ehash_entries gave them their own, and skip
 * every socket of another namespace (seq_sk_match(), inet_diag_dump_icsk()).
 * A host of 100 namespaces costs 100 walks of every socket there is.  This
 * program walks the table once and keeps every socket, with its namespace.
 *
 * The table is the one of the namespace of the task reading the iterator
 * (net->ipv4.tcp_death_row.hashinfo, Linux 6.1+): tcp_hashinfo itself for
 * every namespace that shares it.  A namespace with a table of its own shows
 * no socket here; userspace dumps it as before.
 *
 * It runs from the bpf_map iterator's last call, which a read() of an
 * iterator fd makes once: any iterator would do, that one costs nothing.  The
 * chains are read as __inet_lookup_established() reads them, under RCU with
 * no bucket lock: sockets are SLAB_TYPESAFE_BY_RCU, and a chain's nulls
 * marker says whether the walk was moved onto another chain meanwhile
 * (counted).  Records go to a ring buffer; a read stops before a bucket that
 * might not fit, and the next read goes on from there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "ttwalk.h"

#define AF_INET		2
#define AF_INET6	10
#define TCP_LISTEN	10
#define TCP_TIME_WAIT	6
#define TCP_SYN_RECV	3
#define TCP_NEW_SYN_RECV 12

/* sockets followed on one chain; a longer one is cut there and counted */
#define MAX_CHAIN	64
/* buckets one bpf_loop() takes; the next read goes on where it stopped */
#define MAX_BUCKETS	(1u << 22)

char LICENSE[] SEC("license") = "GPL";

extern unsigned int CONFIG_HZ __kconfig __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* resized by userspace before load */
} walk_out SEC(".maps");

/* userspace's: what to read, where to go on, what happened (.bss, mmapped) */
__u32 walk_states;		/* 1 << state as sock_diag shows it; 0: all */
__u32 walk_light;		/* 1: the tuple, state and namespace only */
__u32 walk_lbucket;		/* the next listener bucket */
__u32 walk_bucket;		/* the next established bucket */
__u32 walk_done;		/* 1: both tables walked */
__u32 walk_err;			/* enum tt_walk_err */
__u64 walk_sockets;		/* records written */
__u64 walk_lost;		/* a reserve that failed anyway */
__u64 walk_moved;		/* chains that ended on another bucket's marker */
__u64 walk_long;		/* chains cut at MAX_CHAIN */
/*
 * Bucket heads read at once: global, not on the stack, which the six frames
 * of a walk share: 512 bytes in all, as Linux 6.1 counts them.
 */
__u64 walk_heads[32];
/*
 * One socket's sock_common (and a timewait sock's substate past it), taken
 * with one probe read: emit() read each field with one of its own, ten a
 * socket, which made the census of 400,000 TIME-WAIT sockets a fifth of the
 * daemon's time under load.
 */
__u8 walk_skc[256];

struct walk_ctx {
	__u64 base;		/* the bucket array */
	__u32 mask;
	__u32 bsize;		/* bytes per bucket */
	__u32 head_off;		/* of the hlist_nulls_head in a bucket */
	__u32 next;		/* the next bucket to take */
	__u32 stopped;		/* the ring buffer ran short */
	__u32 now;		/* tcp_jiffies32 */
	__u32 hz;
	__u64 hi;		/* the table walked */
	__u64 node;		/* the chain's next node */
	__u64 net;		/* the last socket's struct net, and its inode number */
	__u32 net_inum;
	__u32 pad;
	__u64 room;		/* bytes of the ring buffer not yet written */
	__u32 b;		/* the first bucket of walk_heads[] */
};

static __always_inline __u32 jiffies_to_ms(__u32 j, __u32 hz)
{
	if (1000 % hz == 0)
		return j * (1000 / hz);
	return (__u32)(((__u64)j * 1000 + hz - 1) / hz);
}

/*
 * ms from then to now.  now is read once, as the walk begins, and a socket
 * the walk reaches later may have heard from its peer since: that is 0, not
 * 2^32 - 1 jiffies (which once dated a new CLOSE_WAIT back to the boot).
 */
static __always_inline __u32 jiffies_since_ms(__u32 now, __u32 then, __u32 hz)
{
	__s32 d = (__s32)(now - then);

	return d > 0 ? jiffies_to_ms((__u32)d, hz) : 0;
}

static __always_inline void fill_full(struct tt_walk_sock *r, struct sock *sk,
				      struct walk_ctx *c)
{
	struct socket *so = BPF_CORE_READ(sk, sk_socket);
	struct tcp_sock *tp = (void *)sk;
	struct cgroup *cg = NULL;

	if (so) {
		struct socket_alloc *sa = container_of(so, struct socket_alloc, socket);

		r->inode = (__u32)BPF_CORE_READ(sa, vfs_inode.i_ino);
	}
	r->uid = BPF_CORE_READ(sk, sk_uid.val);
	if (bpf_core_field_exists(struct sock_cgroup_data, cgroup))
		cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	if (cg)
		r->cgroup = BPF_CORE_READ(cg, kn, id);
	if (r->state == TCP_LISTEN) {
		/* inet_diag: the accept queue and its limit; tcp_info has no ages */
		r->rqueue = BPF_CORE_READ(sk, sk_ack_backlog);
		r->wqueue = BPF_CORE_READ(sk, sk_max_ack_backlog);
		return;
	}
	{
		__s32 rq = (__s32)(BPF_CORE_READ(tp, rcv_nxt) - BPF_CORE_READ(tp, copied_seq));

		r->rqueue = rq > 0 ? (__u32)rq : 0;
		r->wqueue = BPF_CORE_READ(tp, write_seq) - BPF_CORE_READ(tp, snd_una);
	}
	/* tcp_get_info(): both against tcp_jiffies32 */
	r->last_data_recv_ms = jiffies_since_ms(c->now, BPF_CORE_READ(tp, inet_conn.icsk_ack.lrcvtime),
						c->hz);
	r->last_ack_recv_ms = jiffies_since_ms(c->now, BPF_CORE_READ(tp, rcv_tstamp), c->hz);
	r->last_data_sent_ms = jiffies_since_ms(c->now, BPF_CORE_READ(tp, lsndtime), c->hz);
	r->flags |= TT_WALK_F_AGES;
}

/*
 * A global function: the verifier checks it once, not once per path that
 * reaches it (which made the program 137,000 instructions to verify).
 */
#define SKC_OFF(field)	bpf_core_field_offset(struct sock_common, field)
#define SKC(type, field)	(*(type *)(walk_skc + SKC_OFF(field)))

__noinline int emit(__u64 addr, struct walk_ctx *c)
{
	__u32 next_off = SKC_OFF(skc_nulls_node) +
			 bpf_core_field_offset(struct hlist_nulls_node, next);
	__u32 sub_off = bpf_core_field_offset(struct inet_timewait_sock, tw_substate);
	__u32 len = next_off + 8;
	struct tt_walk_sock *r;
	struct net *net;
	__u16 family;
	__u8 state, shown, kind = TT_WALK_FULL;

	if (!c)
		return 0;
	/* every field below lies in the first len bytes, which any socket in the tables has */
	if (sub_off + 1 > len)
		len = sub_off + 1;
	if (SKC_OFF(skc_cookie) + 8 > len)
		len = SKC_OFF(skc_cookie) + 8;
	if (SKC_OFF(skc_v6_rcv_saddr) + 16 > len)
		len = SKC_OFF(skc_v6_rcv_saddr) + 16;
	c->node = 1;	/* unreadable: as if at the end, with a marker no bucket has */
	if (len > sizeof(walk_skc) || next_off + 8 > sizeof(walk_skc) ||
	    sub_off + 1 > sizeof(walk_skc) || bpf_probe_read_kernel(walk_skc, len, (void *)addr))
		return 0;
	c->node = *(__u64 *)(walk_skc + next_off);
	family = SKC(__u16, skc_family);
	state = SKC(__u8, skc_state);
	shown = state;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (state == TCP_TIME_WAIT) {
		/* inet_diag shows a timewait sock by its substate */
		kind = TT_WALK_TIMEWAIT;
		shown = walk_skc[sub_off];
	} else if (state == TCP_NEW_SYN_RECV) {
		kind = TT_WALK_REQUEST;
		shown = TCP_SYN_RECV;
	}
	if (walk_states && !(walk_states & (1u << (shown & 31))))
		return 0;
	r = bpf_ringbuf_reserve(&walk_out, sizeof(*r), 0);
	if (!r) {
		walk_lost++;
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->state = shown;
	r->family = (__u8)family;
	/* a chain's sockets are mostly of one namespace: its number read once for them */
	net = SKC(struct net *, skc_net);
	if ((__u64)net != c->net) {
		c->net = (__u64)net;
		c->net_inum = BPF_CORE_READ(net, ns.inum);
	}
	r->netns = c->net_inum;
	r->sport = SKC(__u16, skc_num);
	r->dport = bpf_ntohs(SKC(__u16, skc_dport));
	if (family == AF_INET) {
		*(__u32 *)r->saddr = SKC(__u32, skc_rcv_saddr);
		*(__u32 *)r->daddr = SKC(__u32, skc_daddr);
	} else {
		__builtin_memcpy(r->saddr, walk_skc + SKC_OFF(skc_v6_rcv_saddr), 16);
		__builtin_memcpy(r->daddr, walk_skc + SKC_OFF(skc_v6_daddr), 16);
	}
	/*
	 * lhash2 is shared by a namespace whose established table is its own
	 * (inet_pernet_hashinfo_alloc()): its listeners say so
	 */
	if (state == TCP_LISTEN &&
	    (__u64)BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo) != c->hi)
		r->flags |= TT_WALK_F_OWN_TABLE;
	if (!walk_light) {
		r->ifindex = (__u32)SKC(int, skc_bound_dev_if);
		r->cookie = SKC(__u64, skc_cookie);
		if (kind == TT_WALK_FULL)
			fill_full(r, (struct sock *)addr, c);
	}
	walk_sockets++;
	c->room -= sizeof(*r) + 8;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* One socket of the chain under way; 1 at its end. */
static long chain_one(__u64 i, struct walk_ctx *c)
{
	unsigned long node = c->node;

	if (node & 1)
		return 1;
	/* sets c->node to the next one */
	emit(node - bpf_core_field_offset(struct sock_common, skc_nulls_node), c);
	return 0;
}

/* The chain of bucket b, from c->node on. */
static __noinline int chain(struct walk_ctx *c, __u32 b)
{
	bpf_loop(MAX_CHAIN, chain_one, c, 0);
	if (!(c->node & 1))
		walk_long++;
	else if ((c->node >> 1) != b)
		walk_moved++;
	return 0;
}

/* buckets whose heads one read takes */
#define HEADS		32

static long head_one(__u64 k, struct walk_ctx *c)
{
	c->node = walk_heads[k & (HEADS - 1)];
	if (!(c->node & 1))
		chain(c, c->b + (__u32)k);
	return 0;
}

static long walk_one(__u64 i, struct walk_ctx *c)
{
	__u32 b = c->next;

	if (b > c->mask)
		return 1;
	/*
	 * Room for whole chains before starting on them: never half a bucket.
	 * Nothing reads the ring meanwhile, so what is free is what is left of
	 * it less what this read wrote.
	 */
	if (c->room < HEADS * (MAX_CHAIN + 1) * (sizeof(struct tt_walk_sock) + 8)) {
		c->stopped = 1;
		return 1;
	}
	/* ehash buckets are bare heads, read HEADS at a time; lhash2 ones hold a lock too */
	if (c->mask - b + 1 < HEADS || c->bsize != sizeof(walk_heads[0]) || c->head_off ||
	    bpf_probe_read_kernel(walk_heads, sizeof(walk_heads),
				  (void *)(c->base + (__u64)b * c->bsize))) {
		c->node = 1;
		bpf_probe_read_kernel(&c->node, sizeof(c->node),
				      (void *)(c->base + (__u64)b * c->bsize + c->head_off));
		if (!(c->node & 1))
			chain(c, b);
		c->next = b + 1;
		return 0;
	}
	c->b = b;
	bpf_loop(HEADS, head_one, c, 0);
	c->next = b + HEADS;
	return 0;
}

static __always_inline int walk_table(struct walk_ctx *c)
{
	__u32 left = c->mask - c->next + 1;

	if (c->next > c->mask)
		return 0;
	bpf_loop(left < MAX_BUCKETS ? left : MAX_BUCKETS, walk_one, c, 0);
	return c->stopped || c->next <= c->mask;
}

SEC("iter/bpf_map")
int tt_walk(struct bpf_iter__bpf_map *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct inet_hashinfo *hi;
	struct walk_ctx c = {};

	/* the maps go by; the walk is the last call's, once per read */
	if (ctx->map || walk_done)
		return 0;
	if (!CONFIG_HZ) {
		walk_err = TT_WALK_E_HZ;
		return 0;
	}
	if (!bpf_core_field_exists(struct inet_listen_hashbucket, nulls_head)) {
		walk_err = TT_WALK_E_LISTEN;
		return 0;
	}
	hi = BPF_CORE_READ(task, nsproxy, net_ns, ipv4.tcp_death_row.hashinfo);
	if (!hi) {
		walk_err = TT_WALK_E_HASHINFO;
		return 0;
	}
	c.hz = CONFIG_HZ;
	c.room = bpf_ringbuf_query(&walk_out, BPF_RB_RING_SIZE) -
		 bpf_ringbuf_query(&walk_out, BPF_RB_AVAIL_DATA);
	c.hi = (__u64)hi;
	c.now = (__u32)bpf_jiffies64();

	/* listeners: lhash2, by port and address */
	c.base = (__u64)BPF_CORE_READ(hi, lhash2);
	c.mask = BPF_CORE_READ(hi, lhash2_mask);
	c.bsize = bpf_core_type_size(struct inet_listen_hashbucket);
	c.head_off = bpf_core_field_offset(struct inet_listen_hashbucket, nulls_head);
	c.next = walk_lbucket;
	if (c.base && walk_table(&c)) {
		walk_lbucket = c.next;
		return 0;
	}
	walk_lbucket = c.mask + 1;

	/* connections, timewait and request socks: ehash */
	c.base = (__u64)BPF_CORE_READ(hi, ehash);
	c.mask = BPF_CORE_READ(hi, ehash_mask);
	c.bsize = bpf_core_type_size(struct inet_ehash_bucket);
	c.head_off = bpf_core_field_offset(struct inet_ehash_bucket, chain);
	c.next = walk_bucket;
	c.stopped = 0;
	if (c.base && walk_table(&c)) {
		walk_bucket = c.next;
		return 0;
	}
	walk_bucket = c.mask + 1;
	walk_done = 1;
	return 0;
}
