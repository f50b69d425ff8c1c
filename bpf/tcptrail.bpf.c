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
	/*
	 * A wakeup per event costs the producer ~12 us; instead wake only once
	 * a batch is queued and let the consumer's bounded poll interval pick
	 * up the rest.
	 */
	if (!cfg.wake_bytes)
		return 0;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg.wake_bytes)
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

/* What the filters and the record need to know about a socket. */
struct sk_view {
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u32 netns;
	bool owner;
};

static __always_inline int read_sk(struct sock *sk, struct sk_view *v)
{
	v->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (v->family != AF_INET && v->family != AF_INET6)
		return -1;
	v->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	v->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	v->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	/*
	 * The socket lock is owned only by a task inside a syscall on this
	 * socket (connect, listen, close, or release_sock draining the
	 * backlog).  Softirq and timer paths take the spinlock only, and there
	 * the current task is whoever was interrupted, not the owner.
	 */
	v->owner = BPF_CORE_READ(sk, sk_lock.owned) != 0;
	return 0;
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
	return true;
}

/*
 * The pid filter follows ownership, not the current task: a flow is kept from
 * the moment its owner acts on it (connect, listen, accept) or, for a passive
 * child, from birth if its listener is owned.
 */
static __always_inline bool pass_owner(struct sock *sk, const struct sk_view *v,
				       int oldstate, int newstate)
{
	__u64 key = (__u64)sk;
	__u8 one = 1;

	if (!cfg.tgid)
		return true;
	if (v->owner && (bpf_get_current_pid_tgid() >> 32) == cfg.tgid) {
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

static __always_inline void fill_addrs(struct tt_event *e, struct sock *sk, __u16 family)
{
	if (family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

static __always_inline struct tt_event *
reserve(__u8 type, struct sock *sk, const struct sk_view *v, __u8 hook)
{
	struct tt_event *e;
	__u64 id;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(type);
		return NULL;
	}
	id = bpf_get_current_pid_tgid();
	e->type = type;
	e->family = v->family;
	e->old_state = 0;
	e->new_state = 0;
	e->flags = v->owner ? TT_F_OWNER : 0;
	e->hook = hook;
	e->sport = v->sport;
	e->dport = v->dport;
	e->pad0 = 0;
	e->netns = v->netns;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->cpu = bpf_get_smp_processor_id();
	e->pad1 = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->sk = (__u64)sk;
	e->cookie = 0;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	fill_addrs(e, sk, v->family);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__builtin_memset(e->aux, 0, sizeof(e->aux));
	return e;
}

/* The shared body of every transition variant; returns the event or NULL. */
static __always_inline struct tt_event *
on_set_state(struct sock *sk, int oldstate, int newstate, __u8 hook)
{
	struct tt_event *e;
	struct sk_view v;

	if (oldstate == newstate)
		return NULL;
	if (read_sk(sk, &v))
		return NULL;
	if (!pass_filters(&v))
		return NULL;
	if (!pass_owner(sk, &v, oldstate, newstate))
		return NULL;
	forget_owned(sk, &v, oldstate, newstate);

	e = reserve(TT_EV_TRANSITION, sk, &v, hook);
	if (!e)
		return NULL;
	e->old_state = oldstate;
	e->new_state = newstate;
	/* tcp_reset() and tcp_write_err() set sk_err before tcp_done() */
	if (newstate == TT_CLOSE)
		e->aux[0] = BPF_CORE_READ(sk, sk_err);
	return e;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct tt_event *e;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	e = on_set_state(sk, oldstate, newstate, TT_HOOK_TP_BTF_SET_STATE);
	if (!e)
		return 0;
	e->cookie = bpf_get_socket_cookie(sk);
	e->flags |= TT_F_COOKIE;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct tt_event *e;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	e = on_set_state((struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate,
			 TT_HOOK_TP_SET_STATE);
	if (e)
		bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/*
 * tcp_set_state() sees every TCP transition except the two that go through
 * inet_sk_state_store()/inet_sk_set_state() directly: CLOSE > LISTEN and
 * LISTEN > SYN_RECV of a new child.  Hence the tracepoint is preferred.
 */
SEC("fentry/tcp_set_state")
int BPF_PROG(fentry_set_state, struct sock *sk, int state)
{
	struct tt_event *e;

	e = on_set_state(sk, sk->__sk_common.skc_state, state, TT_HOOK_FENTRY_SET_STATE);
	if (!e)
		return 0;
	e->cookie = bpf_get_socket_cookie(sk);
	e->flags |= TT_F_COOKIE;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(kprobe_set_state, struct sock *sk, int state)
{
	struct tt_event *e;

	e = on_set_state(sk, BPF_CORE_READ(sk, __sk_common.skc_state), state,
			 TT_HOOK_KPROBE_SET_STATE);
	if (e)
		bpf_ringbuf_submit(e, submit_flags());
	return 0;
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
	if (read_sk(sk, &v))
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
	e = reserve(TT_EV_ACCEPT, sk, &v, TT_HOOK_TP_ACCEPT);
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
