/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every capability file in bpf/ shares: the maps and settings (defined
 * once, in maps.bpf.c, and extern here), reading a socket, the filters, and
 * building a record in the ring buffer.  The files are compiled one by one
 * and linked into one object (`bpftool gen object`): libbpf's static linker
 * resolves each extern below to its one definition, so there is one ring
 * buffer and one set of maps, as the skeleton shows them.
 *
 * The kernel fact: the verifier checks each program alone, with every
 * constant it can see, so these helpers are static and always inline: each
 * program gets its own copy, in which `direct` (typed pointer or probe read)
 * and the hook id are constants and the branches it does not take are gone.
 */
#ifndef TCPTRAIL_BPF_H
#define TCPTRAIL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcptrail.h"

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6

/*
 * tt_tcp_state (include/tcptrail.h, for userspace) is the kernel's own TCP
 * state numbering, which bpf/ takes from vmlinux.h as BPF_TCP_*: uapi, so
 * the two never part.
 */
_Static_assert(BPF_TCP_ESTABLISHED == TT_ESTABLISHED && BPF_TCP_SYN_SENT == TT_SYN_SENT &&
	       BPF_TCP_SYN_RECV == TT_SYN_RECV && BPF_TCP_FIN_WAIT1 == TT_FIN_WAIT1 &&
	       BPF_TCP_FIN_WAIT2 == TT_FIN_WAIT2 && BPF_TCP_TIME_WAIT == TT_TIME_WAIT &&
	       BPF_TCP_CLOSE == TT_CLOSE && BPF_TCP_CLOSE_WAIT == TT_CLOSE_WAIT &&
	       BPF_TCP_LAST_ACK == TT_LAST_ACK && BPF_TCP_LISTEN == TT_LISTEN &&
	       BPF_TCP_CLOSING == TT_CLOSING && BPF_TCP_NEW_SYN_RECV == TT_NEW_SYN_RECV,
	       "enum tt_tcp_state is the kernel's BPF_TCP_* numbering");

/* Set by userspace between open and load: the verifier prunes what is off. */
extern const volatile struct tt_config cfg;

/*
 * Shared maps: one type each, so that the extern and the definition match
 * as the linker requires.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* resized by userspace before load */
} tt_events_map;

/* Failed ring buffer reserves, per CPU and per event type. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TT_EV_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tt_lost_map;

/*
 * Only used with a pid filter: the sockets owned by that process, and the
 * (netns, port) of its listeners, so that a passive child whose early
 * transitions run in softirq context is kept before accept() names its owner.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} tt_owned_map;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tt_listener_key);
	__type(value, __u8);
} tt_owned_listeners_map;

/*
 * Only with a pid filter: the process's sockets that the seed found at
 * start, by tuple (sock_diag shows no struct sock address).  The first
 * record of such a socket finds it here and files it in owned by its
 * address; owned_seeded_n (userspace's, after the seed) says there are any.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tt_seeded_key);
	__type(value, __u8);
} tt_owned_seeded_map;

/*
 * Only with a pid filter: the process's socket whose > CLOSE this CPU
 * recorded last.  A reset it sends right after, on the same CPU (data after
 * close(), a close() with data unread), comes when it is no longer in
 * owned, and is still the process's: it is what tells an abort from a
 * TIME-WAIT entry.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tt_owned_closed_map;

/*
 * The socket tcp_time_wait() is handing over on this CPU.  tcp_time_wait()
 * calls tcp_done() -> tcp_set_state(CLOSE) synchronously with BHs off, so
 * the transition program on the same CPU can drop that misleading > CLOSE.
 */
struct tw_hand {
	__u64 sk;
	__u32 substate;		/* what tcp_time_wait() was called with */
	__u32 pad;
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_hand);
} tt_tw_handover_map;

/*
 * A socket's transitions not yet sent (cfg.flow_records): struct tt_flowrec
 * in the making, in the socket's own storage, which the kernel frees with
 * the socket.  Only the transitions programs write it, and a socket's
 * transitions are made under its lock, one at a time.
 */
struct tt_skstore {
	__u8  n;		/* transitions held, 0..TT_FR_STATES */
	__u8  last;		/* the last state recorded, 0 before the first */
	__u8  last_old;		/* and the state it came from */
	__u8  ntask;		/* task slots used */
	__u8  ended;		/* the end record is sent (a reset after it is told alone) */
	__u8  resets_sent;
	__u8  resets_recv;
	__u8  tw_substate;
	__u8  fin_acked;	/* our FIN was acknowledged (FIN_WAIT2, CLOSING > TIME_WAIT, LAST_ACK > CLOSE) */
	__u8  syn_acked;	/* our SYN, in bytes_acked (1; 2: sent, in SYN_RECV) */
	__u16 pad;
	__u32 sk_err;
	__u64 cookie;
	__u32 task_pid[2];
	__u32 task_tgid[2];
	char  task_comm[2][16];
	__u64 ts_ns[TT_FR_STATES];
	__u8  old_state[TT_FR_STATES];
	__u8  new_state[TT_FR_STATES];
	__u8  tflags[TT_FR_STATES];
};

typedef struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tt_skstore);
} tt_flows_map;

extern tt_events_map events SEC(".maps");
extern tt_lost_map lost SEC(".maps");
extern tt_owned_map owned SEC(".maps");
extern tt_owned_listeners_map owned_listeners SEC(".maps");
extern tt_owned_seeded_map owned_seeded SEC(".maps");
extern __u32 owned_seeded_n;
extern __u64 cgroup_id_live;
extern tt_owned_closed_map owned_closed SEC(".maps");
extern tt_tw_handover_map tw_handover SEC(".maps");
extern tt_flows_map flows SEC(".maps");

static __always_inline void count_lost(__u32 type)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &type);

	if (n)
		*n += 1;
}

static __always_inline __u64 submit_flags(void)
{
	__u64 avail;

	/*
	 * A wakeup per event costs the producer ~12 us (a self-IPI that traps
	 * to the hypervisor on a VM), so wake the consumer only as the queue
	 * crosses the threshold; its bounded poll interval picks up the rest.
	 * Once a wakeup is pending, more of them buy nothing.
	 */
	if (!cfg.wake_bytes)
		return 0;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (avail >= cfg.wake_bytes && avail < cfg.wake_bytes + 2 * sizeof(struct tt_event) + 16)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline bool port_in(const volatile __u16 *list, __u32 n, __u16 port)
{
	for (int i = 0; i < TT_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (list[i] == port)
			return true;
	}
	return false;
}

/*
 * Reading the socket.  tp_btf and fentry programs get typed pointers and
 * load through them directly: the verifier turns each load into one guarded
 * instruction.  Tracepoint and kprobe programs, and pointers that came from
 * a map or a probe read, must call bpf_probe_read_kernel() for every field,
 * which was a third of the transition program's time.  `direct` is a
 * constant wherever these inline helpers are used, so each program keeps
 * one of the two ways.  A direct load may only reach inside the pointer's
 * own type (struct sock): inet_sock and tcp_sock fields are read the slow
 * way, on the paths that need them.
 */
#define SK_READ(direct, sk, field) ((direct) ? (sk)->field : BPF_CORE_READ(sk, field))

static __always_inline __u32 sk_netns(struct sock *sk, bool direct)
{
	if (direct)
		return sk->__sk_common.skc_net.net->ns.inum;
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * The socket's own cgroup: cgroup_sk_alloc() sets sk_cgrp_data from the
 * creating task's cgroup v2 (default hierarchy) when the socket is made, and
 * a passive child copies its listener's, so it is right in softirq context
 * too, unlike the current task's.  Linux 5.15 made sk_cgrp_data a plain
 * pointer; before, it was a u64 `val` holding the pointer, or, with bit 0
 * set, a net_cls classid / net_prio index instead, which the kernel then
 * reads as the root cgroup.
 */
struct sock_cgroup_data___old {
	__u64 val;
} __attribute__((preserve_access_index));

struct cgroup___anc_ids {		/* before Linux 6.0 */
	__u64 ancestor_ids[0];
} __attribute__((preserve_access_index));

static __always_inline struct cgroup *sk_cgroup(struct sock *sk, bool direct)
{
	if (bpf_core_field_exists(struct sock_cgroup_data, cgroup)) {
		if (direct)
			return sk->sk_cgrp_data.cgroup;
		return BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	} else {
		struct sock_cgroup_data___old *d = (void *)&sk->sk_cgrp_data;
		__u64 val = BPF_CORE_READ(d, val);

		/* is_data or no_refcnt: a classid in use, which the kernel reads as the root */
		if (val & 3)
			return NULL;
		return (struct cgroup *)val;
	}
}

/*
 * Before 5.15 the cgroup is a number read from the union, which the
 * verifier lets no program load through: read it with probe reads there.
 */
static __always_inline __u64 cgroup_id_of(struct cgroup *cg, bool direct)
{
	if (!cg)
		return 0;
	if (direct && bpf_core_field_exists(struct sock_cgroup_data, cgroup))
		return cg->kn->id;
	return BPF_CORE_READ(cg, kn, id);
}

/* What the filters and the record need to know about a socket. */
struct sk_view {
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u32 netns;
	bool owner;
	__u64 cgroup;		/* the socket cgroup's id, 0 unknown */
	struct cgroup *cgrp;	/* for --cgroup's ancestor check; NULL unknown */
};

static __always_inline int read_sk(struct sock *sk, struct sk_view *v, bool direct)
{
	v->family = SK_READ(direct, sk, __sk_common.skc_family);
	if (v->family != AF_INET && v->family != AF_INET6)
		return -1;
	v->sport = SK_READ(direct, sk, __sk_common.skc_num);
	/*
	 * By X > CLOSE the bind bucket may already be released, which zeroes
	 * inet_num; inet_sport keeps the port the connection used.
	 */
	if (!v->sport)
		v->sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	v->dport = bpf_ntohs(SK_READ(direct, sk, __sk_common.skc_dport));
	v->netns = sk_netns(sk, direct);
	/*
	 * The socket lock is owned only by a task inside a syscall on this
	 * socket (connect, listen, close, or release_sock draining the
	 * backlog).  Softirq and timer paths take the spinlock only, and there
	 * the current task is whoever was interrupted, not the owner.
	 */
	v->owner = SK_READ(direct, sk, sk_lock.owned) != 0;
	v->cgrp = sk_cgroup(sk, direct);
	v->cgroup = cgroup_id_of(v->cgrp, direct);
	return 0;
}

/*
 * --cgroup: the socket's cgroup is the one at its path (cgroup_id_live,
 * cfg.cgroup_id at start) or below it, that is, its ancestor at
 * cfg.cgroup_level is that cgroup.  The kernel keeps each
 * cgroup's ancestors by level: as pointers since Linux 6.0
 * (cgroup->ancestors[]), as ids before (ancestor_ids[]).
 */
static __always_inline bool pass_cgroup(const struct sk_view *v)
{
	struct cgroup *cg = v->cgrp, *anc = NULL;
	__u32 lvl = cfg.cgroup_level;
	__u64 id = 0;
	int level;

	if (!cfg.cgroup_id)
		return true;
	if (!cg)
		return false;
	level = BPF_CORE_READ(cg, level);
	if (level < 0 || (__u32)level < lvl)
		return false;
	if ((__u32)level == lvl)
		return v->cgroup == cgroup_id_live;
	if (bpf_core_field_exists(struct cgroup, ancestors)) {
		__u64 off = bpf_core_field_offset(struct cgroup, ancestors);

		if (bpf_probe_read_kernel(&anc, sizeof(anc), (void *)cg + off + lvl * sizeof(anc)))
			return false;
		id = cgroup_id_of(anc, false);
	} else if (bpf_core_field_exists(struct cgroup___anc_ids, ancestor_ids)) {
		__u64 off = bpf_core_field_offset(struct cgroup___anc_ids, ancestor_ids);

		if (bpf_probe_read_kernel(&id, sizeof(id), (void *)cg + off + lvl * sizeof(id)))
			return false;
	}
	return id == cgroup_id_live;
}

static __always_inline bool pass_filters(const struct sk_view *v)
{
	if (cfg.family && v->family != cfg.family)
		return false;
	if (cfg.netns && v->netns != cfg.netns)
		return false;
	if (cfg.n_lports && !port_in(cfg.lports, cfg.n_lports, v->sport))
		return false;
	if (cfg.n_rports && !port_in(cfg.rports, cfg.n_rports, v->dport))
		return false;
	if (cfg.n_ports && !port_in(cfg.ports, cfg.n_ports, v->sport) &&
	    !port_in(cfg.ports, cfg.n_ports, v->dport))
		return false;
	return pass_cgroup(v);
}

/*
 * The current task.  Only sock_ops may lack the helpers: before Linux 6.2
 * its programs have neither bpf_get_current_pid_tgid() nor
 * bpf_get_current_comm(), and then read the task through
 * bpf_get_current_task_btf(), or go without (cfg.sockops_task, probed by
 * userspace; the branches a kernel lacks are pruned before verification).
 */
static __always_inline __u64 cur_pid_tgid(__u8 hook)
{
	if (hook == TT_HOOK_SOCKOPS_STATE && cfg.sockops_task == TT_TASK_BTF) {
		struct task_struct *t = bpf_get_current_task_btf();

		return (__u64)t->tgid << 32 | (__u32)t->pid;
	}
	if (hook == TT_HOOK_SOCKOPS_STATE && cfg.sockops_task == TT_TASK_NONE)
		return 0;
	return bpf_get_current_pid_tgid();
}

/*
 * The current process's command name, as ss -p and ps show it: its thread
 * group leader's, not the current thread's (a JVM's acceptor thread, a
 * memcached worker), which bpf_get_current_comm() would give.
 */
static __always_inline void cur_comm(char *buf, __u32 len, __u8 hook)
{
	struct task_struct *t;

	if (hook == TT_HOOK_SOCKOPS_STATE && cfg.sockops_task == TT_TASK_BTF) {
		t = bpf_get_current_task_btf();
		bpf_probe_read_kernel_str(buf, len, t->group_leader->comm);
		return;
	}
	if (hook == TT_HOOK_SOCKOPS_STATE && cfg.sockops_task == TT_TASK_NONE) {
		__builtin_memset(buf, 0, len);
		return;
	}
	/* sock_ops with the helpers alone: the thread's name is all it has */
	if (hook == TT_HOOK_SOCKOPS_STATE) {
		bpf_get_current_comm(buf, len);
		return;
	}
	t = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), group_leader);
	if (!t || bpf_probe_read_kernel_str(buf, len, &t->comm) < 0)
		bpf_get_current_comm(buf, len);
}


static __always_inline void fill_addrs_to(__u8 *saddr, __u8 *daddr, struct sock *sk,
					   __u16 family, bool direct)
{
	if (direct) {
		__u32 *s = (__u32 *)saddr, *d = (__u32 *)daddr;

		if (family == AF_INET) {
			s[0] = sk->__sk_common.skc_rcv_saddr;
			d[0] = sk->__sk_common.skc_daddr;
			return;
		}
		for (int i = 0; i < 4; i++) {
			s[i] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			d[i] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[i];
		}
		return;
	}
	if (family == AF_INET) {
		bpf_core_read(saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline void fill_addrs(struct tt_event *e, struct sock *sk, __u16 family,
					bool direct)
{
	fill_addrs_to(e->saddr, e->daddr, sk, family, direct);
}

/* The socket's tuple as the seed gave it userspace (user/live.c) */
static __always_inline void seeded_key(struct tt_seeded_key *k, struct sock *sk,
				       const struct sk_view *v, bool direct)
{
	k->netns = v->netns;
	k->family = v->family;
	k->sport = v->sport;
	k->dport = v->dport;
	fill_addrs_to(k->saddr, k->daddr, sk, v->family, direct);
}

/*
 * A pid filter's test: is this socket the process's?  By its address once
 * a record of it has passed; a socket the seed found is looked up by its
 * tuple first, and by its address from then on.  A function of its own:
 * inlined, it made clang keep a value in a register that the verifier saw
 * unset on the path without -p (tp_btf_set_state: "R4 !read_ok").
 */
static __noinline bool owned_sk(struct sock *sk, const struct sk_view *v, bool direct)
{
	struct tt_seeded_key k = {};
	__u64 key = (__u64)sk;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&owned, &key))
		return true;
	if (!owned_seeded_n)
		return false;
	seeded_key(&k, sk, v, direct);
	if (!bpf_map_lookup_elem(&owned_seeded, &k))
		return false;
	bpf_map_update_elem(&owned, &key, &one, BPF_ANY);
	bpf_map_delete_elem(&owned_seeded, &k);
	return true;
}

/* -p: sk's > CLOSE is the one this CPU recorded last (owned_closed) */
static __always_inline bool closed_here(struct sock *sk)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&owned_closed, &zero);

	return c && *c == (__u64)sk;
}

/*
 * At a socket's > CLOSE: its tuple, if the seed gave it and no record
 * looked it up (PID itself closed it), is no longer PID's; a later
 * socket of the same tuple is another.
 */
static __noinline void forget_seeded(struct sock *sk, const struct sk_view *v, bool direct)
{
	struct tt_seeded_key k = {};

	if (!owned_seeded_n)
		return;
	seeded_key(&k, sk, v, direct);
	bpf_map_delete_elem(&owned_seeded, &k);
}

static __always_inline struct tt_event *
reserve(__u8 type, struct sock *sk, const struct sk_view *v, __u8 hook, bool direct)
{
	struct tt_event *e;
	__u64 id;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(type);
		return NULL;
	}
	id = cur_pid_tgid(hook);
	e->type = type;
	e->family = v->family;
	e->old_state = 0;
	e->new_state = 0;
	/* no task known, no owner to tell */
	e->flags = v->owner && id ? TT_F_OWNER : 0;
	e->hook = hook;
	e->sport = v->sport;
	e->dport = v->dport;
	e->cpu = bpf_get_smp_processor_id();
	e->netns = v->netns;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->cgroup = v->cgroup;
	e->ts_ns = bpf_ktime_get_ns();
	e->sk = (__u64)sk;
	e->cookie = 0;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	fill_addrs(e, sk, v->family, direct);
	cur_comm(e->comm, sizeof(e->comm), hook);
	__builtin_memset(e->aux, 0, sizeof(e->aux));
	return e;
}

#endif /* TCPTRAIL_BPF_H */
