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
