// SPDX-License-Identifier: GPL-2.0
/*
 * tcptrail's kernel side.  One program per kernel fact and per hook variant;
 * the variants of a capability share one body.  Userspace picks which
 * variants to load (bpf_program__set_autoload) before the verifier sees any.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcptrail.h"

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6

char LICENSE[] SEC("license") = "GPL";

const volatile struct tt_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* resized by userspace before load */
} events SEC(".maps");

/* Failed ring buffer reserves, per CPU and per event type. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TT_EV_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * Only used with a pid filter: the sockets owned by that process, and the
 * (netns, port) of its listeners, so that a passive child whose early
 * transitions run in softirq context is kept before accept() names its owner.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} owned SEC(".maps");

struct listener_key {
	__u32 netns;
	__u32 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct listener_key);
	__type(value, __u8);
} owned_listeners SEC(".maps");

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

		if (val & 1)
			return NULL;	/* classid in use: the kernel says the root */
		return (struct cgroup *)val;
	}
}

static __always_inline __u64 cgroup_id_of(struct cgroup *cg, bool direct)
{
	if (!cg)
		return 0;
	if (direct)
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
 * --cgroup: the socket's cgroup is cfg.cgroup_id or below it, that is, its
 * ancestor at cfg.cgroup_level is that cgroup.  The kernel keeps each
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
		return v->cgroup == cfg.cgroup_id;
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
	return id == cfg.cgroup_id;
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

static __always_inline void cur_comm(char *buf, __u32 len, __u8 hook)
{
	if (hook == TT_HOOK_SOCKOPS_STATE && cfg.sockops_task == TT_TASK_BTF) {
		struct task_struct *t = bpf_get_current_task_btf();

		bpf_probe_read_kernel_str(buf, len, t->comm);
		return;
	}
	if (hook == TT_HOOK_SOCKOPS_STATE && cfg.sockops_task == TT_TASK_NONE) {
		__builtin_memset(buf, 0, len);
		return;
	}
	bpf_get_current_comm(buf, len);
}

/*
 * The pid filter follows ownership, not the current task: a flow is kept from
 * the moment its owner acts on it (connect, listen, accept) or, for a passive
 * child, from birth if its listener is owned.
 */
static __always_inline bool pass_owner(struct sock *sk, const struct sk_view *v,
				       int oldstate, int newstate, __u8 hook)
{
	__u64 key = (__u64)sk;
	__u8 one = 1;

	if (!cfg.tgid)
		return true;
	if (v->owner && (cur_pid_tgid(hook) >> 32) == cfg.tgid) {
		bpf_map_update_elem(&owned, &key, &one, BPF_ANY);
		if (newstate == TT_LISTEN) {
			struct listener_key lk = { .netns = v->netns, .port = v->sport };

			bpf_map_update_elem(&owned_listeners, &lk, &one, BPF_ANY);
		}
		return true;
	}
	if (bpf_map_lookup_elem(&owned, &key))
		return true;
	if (oldstate == TT_LISTEN && newstate == TT_SYN_RECV) {
		struct listener_key lk = { .netns = v->netns, .port = v->sport };

		if (bpf_map_lookup_elem(&owned_listeners, &lk)) {
			bpf_map_update_elem(&owned, &key, &one, BPF_ANY);
			return true;
		}
	}
	return false;
}

static __always_inline void forget_owned(struct sock *sk, const struct sk_view *v,
					 int oldstate, int newstate)
{
	__u64 key = (__u64)sk;

	if (!cfg.tgid || newstate != TT_CLOSE)
		return;
	bpf_map_delete_elem(&owned, &key);
	if (oldstate == TT_LISTEN) {
		struct listener_key lk = { .netns = v->netns, .port = v->sport };

		bpf_map_delete_elem(&owned_listeners, &lk);
	}
}

static __always_inline void fill_addrs(struct tt_event *e, struct sock *sk, __u16 family,
					bool direct)
{
	if (direct) {
		__u32 *s = (__u32 *)e->saddr, *d = (__u32 *)e->daddr;

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
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
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

/*
 * The socket tcp_time_wait() is handing over on this CPU.  tcp_time_wait()
 * calls tcp_done() -> tcp_set_state(CLOSE) synchronously with BHs off, so
 * the transition program on the same CPU can drop that misleading > CLOSE.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tw_handover SEC(".maps");

#define RCV_SHUTDOWN_	1

/*
 * Without a tcp_time_wait() hook, decide at X > CLOSE whether the socket
 * went to TIME-WAIT.  tcp_time_wait() runs only after our FIN was sent
 * (FIN_WAIT1/FIN_WAIT2/CLOSING) and either the peer's FIN arrived (tcp_fin()
 * set RCV_SHUTDOWN and SOCK_DONE) or an orphan waits for it (tcp_close() set
 * SHUTDOWN_MASK, SOCK_DEAD, and linger2 >= 0 allows the FIN_WAIT2 timewait).
 * Resets set sk_err first; tcp_disconnect() (SO_LINGER 0) runs before
 * sock_orphan() and without SOCK_DONE.  Returns the substate, or 0.
 */
static __always_inline int tw_rule(struct sock *sk, int oldstate, bool direct)
{
	unsigned long flags;
	__u8 shutdown;

	if (oldstate != TT_FIN_WAIT1 && oldstate != TT_FIN_WAIT2 && oldstate != TT_CLOSING)
		return 0;
	if (SK_READ(direct, sk, sk_err))
		return 0;
	shutdown = direct ? BPF_CORE_READ_BITFIELD(sk, sk_shutdown) :
			    BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown);
	if (!(shutdown & RCV_SHUTDOWN_))
		return 0;
	flags = SK_READ(direct, sk, __sk_common.skc_flags);
	if (flags & (1UL << SOCK_DONE))
		return TT_TIME_WAIT;
	if ((flags & (1UL << SOCK_DEAD)) &&
	    BPF_CORE_READ((struct tcp_sock *)sk, linger2) >= 0)
		return TT_FIN_WAIT2;
	return 0;
}

/*
 * A child's LISTEN > SYN_RECV is held back until its next transition.  When
 * two segments of one handshake are handled on two CPUs at once (say the
 * third ACK in ksoftirqd and the next segment in the sender's own softirq),
 * both clone a child from the request, and the one that loses the race for
 * the established hash is destroyed at once: inet_ehash_nolisten() stores
 * SYN_RECV > CLOSE with inet_sk_set_state().  That child was never a
 * connection; its birth and death are dropped together.  The birth is kept
 * by socket with its time; a child normally moves on within microseconds,
 * and is told then with its ports set, which they are not yet at the clone.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} births SEC(".maps");

/*
 * The loser of that race, as SYN_RECV > CLOSE shows it: no error, not
 * accepted (a Fast Open child may be, in SYN_RECV), and with its port
 * number, which inet_csk_prepare_forced_close() zeroes in a child whose
 * creation failed.  (Not SOCK_DEAD, which that also sets: a child cloned
 * from a listener closed in the meantime copies the flag from it.)
 */
static __always_inline bool lost_clone_race(struct sock *sk, int newstate, bool direct)
{
	if (newstate != TT_CLOSE || SK_READ(direct, sk, sk_socket) || SK_READ(direct, sk, sk_err))
		return false;
	return SK_READ(direct, sk, __sk_common.skc_num) != 0;
}

/*
 * At a child's first transition after its birth: false if it is the loser
 * (drop this transition too), else tell the birth first.  Only tp_btf and
 * fentry programs may ask for the socket cookie; hook says which this is.
 */
static __always_inline bool release_birth(struct sock *sk, const struct sk_view *v,
					  int newstate, __u8 hook, bool direct)
{
	__u64 key = (__u64)sk, *ts = bpf_map_lookup_elem(&births, &key);
	struct tt_event *e;
	__u64 born;

	if (!ts)
		return true;
	born = *ts;
	bpf_map_delete_elem(&births, &key);
	if (lost_clone_race(sk, newstate, direct))
		return false;
	if (!pass_filters(v))
		return true;
	e = reserve(TT_EV_TRANSITION, sk, v, hook, direct);
	if (!e)
		return true;
	/* as it was then: in softirq, not in its owner's syscall */
	e->old_state = TT_LISTEN;
	e->new_state = TT_SYN_RECV;
	e->flags &= ~TT_F_OWNER;
	e->ts_ns = born;
	/* sock_ops has the cookie helper for its context only; the next record brings it */
	if (direct && hook != TT_HOOK_SOCKOPS_STATE) {
		e->cookie = bpf_get_socket_cookie(sk);
		e->flags |= TT_F_COOKIE;
	}
	bpf_ringbuf_submit(e, submit_flags());
	return true;
}

/*
 * Set by userspace once the sock_ops program below is attached.  From then
 * on, a TCP socket that carries BPF_SOCK_OPS_STATE_CB_FLAG has every
 * tcp_set_state() reported to that program, which records it; the
 * tracepoint, fentry and kprobe variants leave such transitions alone.
 * (Another tool's sock_ops program may set the flag too: ours, on the
 * cgroup root, is run for those sockets as well.)
 */
volatile __u32 sockops_on = 0;

/*
 * True when the sock_ops program records this transition.  It is told only
 * of tcp_set_state(): CLOSE > LISTEN (inet_csk_listen_start()) and a child's
 * LISTEN > SYN_RECV (inet_sk_set_state()) stay with the hook that sees them,
 * and so, for a simple rule, does anything else from or to LISTEN.  Where
 * sock_ops cannot know the current task, the transitions its owner makes in
 * a syscall (connect, close) stay with the other hooks too, which tell the
 * closer; both read the same lock word within one tcp_set_state().
 */
static __always_inline bool sockops_skips(struct sock *sk, int oldstate, int newstate,
					  bool direct)
{
	if (oldstate == TT_LISTEN || newstate == TT_LISTEN)
		return true;
	return cfg.sockops_task == TT_TASK_NONE && SK_READ(direct, sk, sk_lock.owned);
}

static __always_inline bool sockops_records(struct sock *sk, int oldstate, int newstate,
					    bool direct)
{
	__u8 cb_flags;

	if (!sockops_on || sockops_skips(sk, oldstate, newstate, direct))
		return false;
	if (direct) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

		if (!tp)
			return false;
		cb_flags = tp->bpf_sock_ops_cb_flags;
	} else {
		cb_flags = BPF_CORE_READ((struct tcp_sock *)sk, bpf_sock_ops_cb_flags);
	}
	return cb_flags & BPF_SOCK_OPS_STATE_CB_FLAG;
}

/* The shared body of every transition variant; returns the event or NULL. */
static __always_inline struct tt_event *
on_set_state(struct sock *sk, int oldstate, int newstate, __u8 hook)
{
	/* the typed hooks: their sk can be read directly */
	bool direct = hook == TT_HOOK_TP_BTF_SET_STATE || hook == TT_HOOK_FENTRY_SET_STATE ||
		      hook == TT_HOOK_SOCKOPS_STATE;
	struct tt_event *e;
	struct sk_view v;
	int substate = 0;

	if (oldstate == newstate)
		return NULL;
	if (cfg.tw_mode == TT_TW_HOOK && newstate == TT_CLOSE) {
		__u32 zero = 0;
		__u64 *handed = bpf_map_lookup_elem(&tw_handover, &zero);

		if (handed && *handed == (__u64)sk) {
			*handed = 0;
			return NULL;
		}
	}
	if (read_sk(sk, &v, direct))
		return NULL;
	if (oldstate == TT_LISTEN && newstate == TT_SYN_RECV) {
		__u64 key = (__u64)sk, now = bpf_ktime_get_ns();

		/* the listener's owner decides, now: pass_owner() marks the child */
		if (pass_owner(sk, &v, oldstate, newstate, hook))
			bpf_map_update_elem(&births, &key, &now, BPF_ANY);
		return NULL;
	}
	if (oldstate == TT_SYN_RECV && !release_birth(sk, &v, newstate, hook, direct))
		return NULL;
	if (!pass_filters(&v))
		return NULL;
	if (!pass_owner(sk, &v, oldstate, newstate, hook))
		return NULL;
	forget_owned(sk, &v, oldstate, newstate);
	if (cfg.tw_mode == TT_TW_RULE && newstate == TT_CLOSE)
		substate = tw_rule(sk, oldstate, direct);

	e = reserve(substate ? TT_EV_TIME_WAIT : TT_EV_TRANSITION, sk, &v, hook, direct);
	if (!e)
		return NULL;
	e->old_state = oldstate;
	if (substate) {
		/* replaces the kernel's > CLOSE for this socket */
		e->new_state = TT_TIME_WAIT;
		e->flags |= TT_F_SUBSTATE;
		e->aux[0] = substate;
		return e;
	}
	e->new_state = newstate;
	/* tcp_reset() and tcp_write_err() set sk_err before tcp_done() */
	if (newstate == TT_CLOSE)
		e->aux[0] = SK_READ(direct, sk, sk_err);
	return e;
}

/*
 * The kernel does not run a tp_btf or fentry program inside itself: when a
 * softirq fires the hook while the program is active on that CPU, the
 * nested run is skipped and only counted in recursion_misses.  Under load
 * that loses transitions without a trace.  A second copy of the program,
 * attached to the same hook after the first, has its own guard.  The
 * first copy notes each transition it is run for, on entry; the second
 * records a transition only when it finds no such note, and takes the note
 * away when it does.  That covers the whole time the first copy is active,
 * including the kernel's own code around its body, which a "busy" flag set
 * inside the body would not: those few nanoseconds lost TIME-WAIT entries
 * in the soak.
 *
 * The second copy normally runs right after the first, so at most a few
 * notes wait for it at once; a softirq in between adds and takes its own.
 * A note waits for ever only when the second copy was the one skipped
 * (the first then ran nested, and its twin never comes): it goes stale,
 * and a later note may take its slot once DONE_STALE notes followed it.
 */
#define DONE_SLOTS	8
#define DONE_STALE	32

struct done_notes {
	__u64 sk[DONE_SLOTS];		/* 0: free */
	__u32 states[DONE_SLOTS];	/* old << 8 | new */
	__u32 seq[DONE_SLOTS];
	__u32 next_seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct done_notes);
} done SEC(".maps");

/*
 * The first copy's misses that the second made good: [0] it recorded them,
 * [1] sock_ops did.  The first copy's misses less these are lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} nest_caught SEC(".maps");

static __always_inline void set_state_btf(struct sock *sk, int oldstate, int newstate,
					  bool nested)
{
	struct tt_event *e;

	if (sk->sk_protocol != IPPROTO_TCP)
		return;
	e = on_set_state(sk, oldstate, newstate, TT_HOOK_TP_BTF_SET_STATE);
	if (!e)
		return;
	e->cookie = bpf_get_socket_cookie(sk);
	e->flags |= TT_F_COOKIE | (nested ? TT_F_NESTED : 0);
	bpf_ringbuf_submit(e, submit_flags());
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_set_state, struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0;
	struct done_notes *d = bpf_map_lookup_elem(&done, &zero);

	if (d) {
		__u32 seq = ++d->next_seq, pick = 0, oldest = 0;

		for (__u32 i = 0; i < DONE_SLOTS; i++) {
			if (!d->sk[i] || seq - d->seq[i] > DONE_STALE) {
				pick = i;
				break;
			}
			/* none free: the oldest note goes */
			if (seq - d->seq[i] > oldest) {
				oldest = seq - d->seq[i];
				pick = i;
			}
		}
		if (pick < DONE_SLOTS) {
			d->sk[pick] = (__u64)sk;
			d->states[pick] = (__u32)oldstate << 8 | (__u8)newstate;
			d->seq[pick] = seq;
		}
	}
	/* noted all the same: the twin's count of our misses stays whole */
	if (!sockops_records(sk, oldstate, newstate, true))
		set_state_btf(sk, oldstate, newstate, false);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_nest, struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0, st = (__u32)oldstate << 8 | (__u8)newstate, slot;
	struct done_notes *d = bpf_map_lookup_elem(&done, &zero);
	__u64 *n;

	if (!d)
		return 0;
	for (int i = 0; i < DONE_SLOTS; i++) {
		if (d->sk[i] == (__u64)sk && d->states[i] == st) {
			__u32 seq = d->seq[i];

			/*
			 * The first copy ran for this one.  Its note and every
			 * older one go: an older note is stale (its twin was
			 * skipped) or waits for a twin in a run this one
			 * interrupted, which then records a repeat that the
			 * daemon drops (TT_F_NESTED).  A stale note left in
			 * place would hide a later transition of a socket
			 * reusing the same address, which slab reuse makes
			 * likely: the soak lost TIME-WAIT entries that way.
			 */
			for (int j = 0; j < DONE_SLOTS; j++)
				if ((__s32)(d->seq[j] - seq) <= 0)
					d->sk[j] = 0;
			return 0;
		}
	}
	/* the first copy was skipped for this one: record it, or leave it to sock_ops */
	slot = sockops_records(sk, oldstate, newstate, true);
	n = bpf_map_lookup_elem(&nest_caught, &slot);
	if (n)
		*n += 1;
	if (!slot)
		set_state_btf(sk, oldstate, newstate, true);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	struct tt_event *e;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	/* each ctx field read once: the verifier refuses a ctx pointer kept moved */
	barrier_var(oldstate);
	barrier_var(newstate);
	if (sockops_records(sk, oldstate, newstate, false))
		return 0;
	e = on_set_state(sk, oldstate, newstate, TT_HOOK_TP_SET_STATE);
	if (e)
		bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/*
 * The tracepoint fires in two functions, and fentry and kprobes hook those:
 * inet_sk_state_store(), where tcp_set_state() ends and where
 * inet_csk_listen_start() makes CLOSE > LISTEN, and inet_sk_set_state(),
 * which makes a new child's LISTEN > SYN_RECV in inet_csk_clone_lock() and
 * LISTEN > CLOSE when listen_start() fails.  tcp_set_state() alone misses
 * those three.  MPTCP and DCCP sockets change state there as well.
 */
static __always_inline void
on_state_store(struct sock *sk, int newstate, __u8 hook, bool cookie)
{
	struct tt_event *e;
	int oldstate;

	/* cookie: an fentry program, whose sk is typed */
	if (SK_READ(cookie, sk, sk_protocol) != IPPROTO_TCP)
		return;
	oldstate = SK_READ(cookie, sk, __sk_common.skc_state);
	if (sockops_records(sk, oldstate, newstate, cookie))
		return;
	e = on_set_state(sk, oldstate, newstate, hook);
	if (!e)
		return;
	if (cookie) {
		/* kprobe programs have no bpf_get_socket_cookie() */
		e->cookie = bpf_get_socket_cookie(sk);
		e->flags |= TT_F_COOKIE;
	}
	bpf_ringbuf_submit(e, submit_flags());
}

SEC("fentry/inet_sk_state_store")
int BPF_PROG(fentry_state_store, struct sock *sk, int newstate)
{
	on_state_store(sk, newstate, TT_HOOK_FENTRY_SET_STATE, true);
	return 0;
}

SEC("fentry/inet_sk_set_state")
int BPF_PROG(fentry_sk_set_state, struct sock *sk, int state)
{
	on_state_store(sk, state, TT_HOOK_FENTRY_SET_STATE, true);
	return 0;
}

SEC("kprobe/inet_sk_state_store")
int BPF_KPROBE(kprobe_state_store, struct sock *sk, int newstate)
{
	on_state_store(sk, newstate, TT_HOOK_KPROBE_SET_STATE, false);
	return 0;
}

SEC("kprobe/inet_sk_set_state")
int BPF_KPROBE(kprobe_sk_set_state, struct sock *sk, int state)
{
	on_state_store(sk, state, TT_HOOK_KPROBE_SET_STATE, false);
	return 0;
}

/*
 * The transitions the kernel never skips.  A tracepoint, fentry or kprobe
 * program is not run when it is already running on that CPU, and Linux 6.18
 * also drops some tracepoint runs of every BPF program without counting
 * them (perf's own probe on the same tracepoint sees them; the soak lost
 * about 1 in 5,000 FIN_WAIT1 > FIN_WAIT2 and > CLOSE).  tcp_set_state()
 * calls the cgroup sock_ops programs of a socket whose STATE_CB flag is set
 * before it fires the tracepoint, with no recursion guard at all.  This
 * program, on the cgroup v2 root, sets the flag when a socket connects or
 * is established, and records the socket's transitions from then on;
 * sockops_records() keeps the other hooks off them.  It may run nested in
 * a softirq on its own CPU, which is why the record is built in the ring
 * buffer and nothing per CPU is kept across helper calls.
 */
SEC("sockops")
int sockops_state(struct bpf_sock_ops *ops)
{
	struct bpf_sock *bsk;
	struct tcp_sock *tp;
	struct tt_event *e;
	int oldstate, newstate;

	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		if (!(ops->bpf_sock_ops_cb_flags & BPF_SOCK_OPS_STATE_CB_FLAG))
			bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_STATE_CB_FLAG);
		return 1;
	case BPF_SOCK_OPS_STATE_CB:
		break;
	default:
		return 1;
	}
	if (!sockops_on)
		return 1;
	oldstate = ops->args[0];
	newstate = ops->args[1];
	bsk = ops->sk;
	if (!bsk)
		return 1;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp || sockops_skips((struct sock *)tp, oldstate, newstate, true))
		return 1;
	e = on_set_state((struct sock *)tp, oldstate, newstate, TT_HOOK_SOCKOPS_STATE);
	if (!e)
		return 1;
	e->cookie = bpf_get_socket_cookie(ops);
	e->flags |= TT_F_COOKIE;
	bpf_ringbuf_submit(e, submit_flags());
	return 1;
}

/*
 * accept() returns a new fd for a child socket created in softirq context;
 * the accepting task is its owner.  Follow the fd to the sock through
 * current->files.
 */
static __always_inline int on_accept(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds;
	struct file *file;
	struct socket *sock;
	struct sock *sk;
	struct tt_event *e;
	struct sk_view v;
	__u64 key;
	__u8 one = 1;

	if (fd < 0)
		return 0;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (read_sk(sk, &v, false))
		return 0;
	if (!pass_filters(&v))
		return 0;
	if (cfg.tgid) {
		if ((bpf_get_current_pid_tgid() >> 32) != cfg.tgid)
			return 0;
		key = (__u64)sk;
		bpf_map_update_elem(&owned, &key, &one, BPF_ANY);
	}
	v.owner = true;
	e = reserve(TT_EV_ACCEPT, sk, &v, TT_HOOK_TP_ACCEPT, false);
	if (e)
		bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_exit_accept4(struct syscall_trace_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_exit_accept(struct syscall_trace_exit *ctx)
{
	return on_accept(ctx->ret);
}

/* ---- TIME-WAIT entry, where tcp_time_wait() can be hooked ---- */

static __always_inline void on_time_wait(struct sock *sk, int substate, int timeo, __u8 hook)
{
	__u32 zero = 0;
	__u64 *handed;
	struct tt_event *e;
	struct sk_view v;

	if (read_sk(sk, &v, false) || !pass_filters(&v))
		return;
	if (cfg.tgid) {
		__u64 key = (__u64)sk;

		if (!bpf_map_lookup_elem(&owned, &key))
			return;
	}
	/* drop the tcp_done() > CLOSE that follows on this CPU */
	handed = bpf_map_lookup_elem(&tw_handover, &zero);
	if (handed)
		*handed = (__u64)sk;
	e = reserve(TT_EV_TIME_WAIT, sk, &v, hook, false);
	if (!e)
		return;
	e->old_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->new_state = TT_TIME_WAIT;
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

/* ---- SYN-queue and accept-queue overflow ---- */

/*
 * The kernel's own tests, read before it makes them: tcp_conn_request()
 * checks inet_csk_reqsk_queue_is_full() (qlen > max) then, unless a cookie
 * is sent instead, drops; then sk_acceptq_is_full() (ack_backlog > max).
 * syn_recv_sock() checks only the accept queue.
 */
static __always_inline void
emit_overflow(struct sock *lsk, __u8 queue, bool cookie, __u32 max, __u32 backlog,
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
	if (cookie)
		e->flags |= TT_F_SYNCOOKIE;
	e->aux[0] = queue;
	e->aux[1] = max;
	e->aux[2] = backlog;
	e->aux[3] = qlen;
	bpf_ringbuf_submit(e, submit_flags());
}

static __always_inline void
check_listener(struct sock *lsk, bool syn, __u16 family, const __u8 *peer, __u16 peer_port,
	       __u8 hook)
{
	__u32 max = BPF_CORE_READ(lsk, sk_max_ack_backlog);
	__u32 backlog = BPF_CORE_READ(lsk, sk_ack_backlog);
	__u32 qlen = BPF_CORE_READ((struct inet_connection_sock *)lsk, icsk_accept_queue.qlen.counter);

	if (syn) {
		__u8 cookies = BPF_CORE_READ(lsk, __sk_common.skc_net.net, ipv4.sysctl_tcp_syncookies);

		if (cookies == 2 || qlen > max) {
			if (!cookies) {
				emit_overflow(lsk, TT_Q_SYN, false, max, backlog, qlen, family,
					      peer, peer_port, hook);
				return;
			}
			emit_overflow(lsk, TT_Q_SYN, true, max, backlog, qlen, family, peer,
				      peer_port, hook);
		}
	}
	if (backlog > max)
		emit_overflow(lsk, TT_Q_ACCEPT, false, max, backlog, qlen, family, peer,
			      peer_port, hook);
}

/*
 * The cgroup program has no bpf_probe_read_kernel() on older kernels (6.1
 * rejects it), so it reads the listener through the BTF pointer that
 * bpf_skc_to_tcp_sock() returns and the bpf_sock context, never by probe.
 */
static __always_inline void
cg_emit(struct tcp_sock *tp, struct bpf_sock *bsk, __u8 queue, bool cookie, __u32 max,
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
	if (cookie)
		e->flags |= TT_F_SYNCOOKIE;
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
	req = found->state == 12;	/* BPF_TCP_NEW_SYN_RECV */
	bpf_sk_release(found);
	return req;
}

static __always_inline void
cg_check_listener(struct __sk_buff *skb, __u32 thoff, struct tcp_sock *tp, struct bpf_sock *bsk,
		  bool syn, __u16 family, const __u8 *peer, __u16 peer_port)
{
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;
	__u32 max = sk->sk_max_ack_backlog;
	__u32 backlog = sk->sk_ack_backlog;
	__u32 qlen = tp->inet_conn.icsk_accept_queue.qlen.counter;

	/* only a full queue makes the lookup worth its cost */
	if (syn && (qlen > max || backlog > max) && syn_has_request(skb, family, thoff))
		return;
	if (syn) {
		__u8 cookies = sk->__sk_common.skc_net.net->ipv4.sysctl_tcp_syncookies;

		if (cookies == 2 || qlen > max) {
			cg_emit(tp, bsk, TT_Q_SYN, cookies != 0, max, backlog, qlen, family, peer,
				peer_port);
			if (!cookies)
				return;
		}
	}
	if (backlog > max)
		cg_emit(tp, bsk, TT_Q_ACCEPT, false, max, backlog, qlen, family, peer, peer_port);
}

#define ETH_P_IP_	0x0800
#define TCP_FLAG_SYN_	0x02
#define TCP_FLAG_RST_	0x04
#define TCP_FLAG_ACK_	0x10

/*
 * On every ingress packet of the host, so it leaves early: only segments
 * whose socket lookup found a listener (for a third ACK, tcp_v4_rcv() swaps
 * the request sock for its listener before the cgroup filter runs).
 */
SEC("cgroup_skb/ingress")
int cgroup_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *bsk = skb->sk;
	struct tcp_sock *tp;
	__u8 peer[16] = {}, flags;
	__u16 family, peer_port;
	__u32 thoff;

	if (!bsk || bsk->state != 10 /* BPF_TCP_LISTEN */)
		return 1;
	family = bsk->family;
	if (family == AF_INET) {
		__u8 vihl;

		if (bpf_skb_load_bytes(skb, 0, &vihl, 1))
			return 1;
		thoff = (vihl & 0x0f) * 4;
		bpf_skb_load_bytes(skb, 12, peer, 4);
	} else if (family == AF_INET6) {
		__u8 nexthdr;

		/* v4-mapped traffic on a v6 listener still carries an IPv4 header */
		if (skb->protocol == bpf_htons(ETH_P_IP_))
			return 1;
		if (bpf_skb_load_bytes(skb, 6, &nexthdr, 1) || nexthdr != IPPROTO_TCP)
			return 1;
		thoff = 40;
		bpf_skb_load_bytes(skb, 8, peer, 16);
	} else {
		return 1;
	}
	if (bpf_skb_load_bytes(skb, thoff + 13, &flags, 1))
		return 1;
	if (flags & TCP_FLAG_RST_)
		return 1;
	if (!(flags & (TCP_FLAG_SYN_ | TCP_FLAG_ACK_)))
		return 1;
	if ((flags & TCP_FLAG_SYN_) && (flags & TCP_FLAG_ACK_))
		return 1;
	if (bpf_skb_load_bytes(skb, thoff, &peer_port, 2))
		return 1;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp)
		return 1;
	cg_check_listener(skb, thoff, tp, bsk, flags & TCP_FLAG_SYN_, family, peer,
			  bpf_ntohs(peer_port));
	return 1;
}

static __always_inline void skb_peer(struct sk_buff *skb, __u16 family, __u8 *peer, __u16 *port)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u16 p = 0;

	if (family == AF_INET)
		bpf_probe_read_kernel(peer, 4, head + nh + 12);
	else
		bpf_probe_read_kernel(peer, 16, head + nh + 8);
	bpf_probe_read_kernel(&p, 2, head + th);
	*port = bpf_ntohs(p);
}

static __always_inline void on_conn_request(struct sock *sk, struct sk_buff *skb, __u8 hook)
{
	__u8 peer[16] = {};
	__u16 port, family;

	family = BPF_CORE_READ(skb, protocol) == bpf_htons(ETH_P_IP_) ? AF_INET : AF_INET6;
	skb_peer(skb, family, peer, &port);
	check_listener(sk, true, family, peer, port, hook);
}

static __always_inline void on_syn_recv_sock(struct sock *sk, struct sk_buff *skb, __u8 hook)
{
	__u8 peer[16] = {};
	__u16 port, family;

	family = BPF_CORE_READ(skb, protocol) == bpf_htons(ETH_P_IP_) ? AF_INET : AF_INET6;
	skb_peer(skb, family, peer, &port);
	check_listener(sk, false, family, peer, port, hook);
}

SEC("fentry/tcp_conn_request")
int BPF_PROG(fentry_conn_request, struct request_sock_ops *ops, void *af_ops, struct sock *sk,
	     struct sk_buff *skb)
{
	on_conn_request(sk, skb, TT_HOOK_FENTRY_CONN_REQUEST);
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
	     bool fastopen)
{
	if (check_req_calls_child(sk, skb, req, fastopen))
		on_syn_recv_sock(sk, skb, TT_HOOK_FENTRY_CONN_REQUEST);
	return 0;
}

SEC("fentry/tcp_get_cookie_sock")
int BPF_PROG(fentry_get_cookie_sock, struct sock *sk, struct sk_buff *skb)
{
	on_syn_recv_sock(sk, skb, TT_HOOK_FENTRY_CONN_REQUEST);
	return 0;
}

SEC("kprobe/tcp_conn_request")
int BPF_KPROBE(kprobe_conn_request, void *ops, void *af_ops, struct sock *sk, struct sk_buff *skb)
{
	on_conn_request(sk, skb, TT_HOOK_KPROBE_CONN_REQUEST);
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

/* ---- SYN-ACK retransmits and resets, to annotate flows ---- */

static __always_inline void on_sk_note(struct sock *sk, __u8 type, __u8 hook, bool direct)
{
	struct tt_event *e;
	struct sk_view v;

	if (!sk || read_sk(sk, &v, direct) || !pass_filters(&v))
		return;
	if (cfg.tgid) {
		__u64 key = (__u64)sk;

		if (!bpf_map_lookup_elem(&owned, &key))
			return;
	}
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
			  TT_HOOK_TP_RETRANS);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int tp_send_reset(struct tp_send_reset_ctx *ctx)
{
	on_sk_note((struct sock *)ctx->skaddr, TT_EV_RESET_SENT, TT_HOOK_TP_RETRANS, false);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int tp_receive_reset(struct tp_sk_ctx *ctx)
{
	on_sk_note((struct sock *)ctx->skaddr, TT_EV_RESET_RECV, TT_HOOK_TP_RETRANS, false);
	return 0;
}
