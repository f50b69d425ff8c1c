// SPDX-License-Identifier: GPL-2.0
/*
 * Owner: the process that accepted a passive connection.
 *
 * The kernel fact: a passive child is created and moves to ESTABLISHED in
 * softirq context, where the current task is whoever was interrupted; the
 * first task that is its owner is the one whose accept() returns its fd, as
 * the syscalls:sys_exit_accept{,4} tracepoints see.
 */
#include "tcptrail.bpf.h"

/*
 * accept() returns a new fd for a child socket created in softirq context;
 * the accepting task is its owner.  Follow the fd to the sock through
 * current->files.
 *
 * From Linux 6.2 on, bpf_rdonly_cast() (a kfunc every program type may
 * call) gives the file and the socket, which the kernel's BTF types only as
 * an fd array element and a void *, a type: with the task from
 * bpf_get_current_task_btf(), every other step and the socket's fields are
 * then plain loads, which the verifier turns into one guarded instruction
 * each, instead of a bpf_probe_read_kernel() call per field (about 20 of
 * them).  The fd array element is the one probe read left: the verifier
 * allows no variable index into a typed pointer.
 *
 * Older kernels keep the probe reads, in programs of their own that
 * userspace loads instead (user/live.c, drop_unused()): a kfunc call must
 * not even be in a program such a kernel loads.  Left unresolved, libbpf
 * 1.1 leaves it a call to BTF id 0, which 5.13 to 5.15 refuse wherever it
 * is, dead code or not ("kernel btf_id 0 is not a function").
 */
extern int LINUX_KERNEL_VERSION __kconfig;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline struct sock *accept_sk_typed(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;
	struct socket *sock;

	if (fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]) || !file)
		return NULL;
	file = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
	sock = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
	/* a socket's file and its socket point at each other */
	if (!sock || sock->file != file)
		return NULL;
	return sock->sk;
}

/*
 * Before 6.2: from 5.11 on, the task from bpf_get_current_task_btf() takes
 * the walk to the fd array by plain loads; the file, the socket and the
 * sock are probe reads.
 */
static __always_inline struct sock *accept_sk_probed(long fd)
{
	struct fdtable *fdt;
	struct file **fds;
	struct file *file;
	struct socket *sock;

	if (LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 11, 0)) {
		fdt = bpf_get_current_task_btf()->files->fdt;
		if (fd >= fdt->max_fds)
			return NULL;
		fds = fdt->fd;
	} else {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		fdt = BPF_CORE_READ(task, files, fdt);
		if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
			return NULL;
		fds = BPF_CORE_READ(fdt, fd);
	}
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

extern unsigned int CONFIG_HZ __kconfig __weak;

/*
 * The ms since the socket last received an ACK (tcp_info's
 * tcpi_last_ack_recv): in CLOSE_WAIT, since the peer's FIN at the latest.
 * rcv_tstamp is in jiffies, 32 bits of them.
 */
static __always_inline __u32 ack_age_ms(struct sock *sk)
{
	__u32 then = BPF_CORE_READ((struct tcp_sock *)sk, rcv_tstamp);
	__u32 ticks = (__u32)bpf_jiffies64() - then;

	return (__u32)((__u64)ticks * 1000 / CONFIG_HZ);
}

static __always_inline void accept_record(struct sock *sk, bool direct, __u8 hook)
{
	bool adopted = false, disowned = false;
	struct tt_event *e;
	struct sk_view v;
	__u8 state;
	__u64 key;
	__u8 one = 1;

	if (!sk || SK_READ(direct, sk, sk_protocol) != IPPROTO_TCP)
		return;
	if (read_sk(sk, &v, direct))
		return;
	if (!pass_filters(&v))
		return;
	if (cfg.tgid) {
		key = (__u64)sk;
		if ((bpf_get_current_pid_tgid() >> 32) != cfg.tgid) {
			/*
			 * Another process accepted a child of the process's
			 * listener, kept from its birth: a worker sharing the
			 * listener.  It is not the process's: said, and left.
			 */
			if (!bpf_map_lookup_elem(&owned, &key))
				return;
			bpf_map_delete_elem(&owned, &key);
			disowned = true;
		} else if (!owned_sk(sk, &v, direct)) {
			/* not the process's before: what came before was left out */
			adopted = true;
			bpf_map_update_elem(&owned, &key, &one, BPF_ANY);
		}
	}
	v.owner = true;
	state = SK_READ(direct, sk, __sk_common.skc_state);
	/* no cookie, from either hook: the engine finds the child by its sock */
	e = reserve(TT_EV_ACCEPT, sk, &v, hook, direct);
	if (!e)
		return;
	e->new_state = state;
	if (adopted)
		e->flags |= TT_F_ADOPTED;
	if (disowned)
		e->flags |= TT_F_DISOWNED;
	/* rare, and what a replay with -p needs to date a leak accepted late */
	if (state == BPF_TCP_CLOSE_WAIT && CONFIG_HZ) {
		e->flags |= TT_F_ACK_AGE;
		e->aux[2] = ack_age_ms(sk);
	}
	bpf_ringbuf_submit(e, submit_flags());
}

/* accept() and accept4() returned fd (or an error): from 6.2, where bpf_rdonly_cast() is */
static __always_inline int on_accept_typed(long fd)
{
	if (fd >= 0)
		accept_record(accept_sk_typed(fd), true, TT_HOOK_TP_ACCEPT);
	return 0;
}

/* before 6.2 */
static __always_inline int on_accept_probed(long fd)
{
	if (fd >= 0)
		accept_record(accept_sk_probed(fd), false, TT_HOOK_TP_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_exit_accept4_typed(struct syscall_trace_exit *ctx)
{
	return on_accept_typed(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_exit_accept_typed(struct syscall_trace_exit *ctx)
{
	return on_accept_typed(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_exit_accept4(struct syscall_trace_exit *ctx)
{
	return on_accept_probed(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_exit_accept(struct syscall_trace_exit *ctx)
{
	return on_accept_probed(ctx->ret);
}

/*
 * Where fexit works: inet_accept() returns with the child grafted on the
 * new socket (sock_graft() sets newsock->sk; on failure it stays NULL), in
 * the accepting task, whatever called it: accept() and accept4(), io_uring,
 * an in-kernel server.  No fd to follow, and no syscall tracepoint, which
 * sends every syscall of every task down the slow path in and out.  Its
 * arguments after the second changed in 6.10; the two first did not.
 */
SEC("fexit/inet_accept")
int BPF_PROG(fexit_inet_accept, struct socket *sock, struct socket *newsock)
{
	struct sock *sk = newsock ? newsock->sk : NULL;

	if (sk)
		accept_record(sk, true, TT_HOOK_FEXIT_ACCEPT);
	return 0;
}

/*
 * Where kprobes work but fentry does not: sock_graft() ends with
 * security_sock_graft(child, new socket), a function of its own, in the
 * accepting task and after the child left the accept queue, in
 * inet_accept() (__inet_accept() from 6.10) for every accept: accept(),
 * accept4(), io_uring, an in-kernel server.  An entry probe, so no
 * kretprobe instance is held by an accept() that blocks, as one on
 * inet_csk_accept() would be (a few per CPU: a pool of blocked workers
 * would use them up and lose owners).  Other families graft too; the
 * protocol and family checks keep TCP's.  Kernels built without
 * CONFIG_SECURITY have no such function: the attach fails, and the
 * syscall tracepoints serve.
 */
SEC("kprobe/security_sock_graft")
int BPF_KPROBE(kprobe_sock_graft, struct sock *sk)
{
	accept_record(sk, false, TT_HOOK_KPROBE_ACCEPT);
	return 0;
}
