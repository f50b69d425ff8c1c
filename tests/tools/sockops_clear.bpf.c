// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Another tool's sock_ops program, for sock-ops-other.sh: on the cgroup
 * v2 root beside tcptrail's, it clears every callback flag of a socket
 * with port 8555 at an end at its first STATE_CB call, as a program that
 * sets its own flags without OR-ing the others' does.  tcp_set_state()
 * calls sock_ops programs before the tracepoint fires, so the tracepoint
 * then finds STATE_CB off on a transition sock_ops has recorded.  Only
 * port 8555: it is attached host-wide.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PORT 8555

SEC("sockops")
int clear_state_cb(struct bpf_sock_ops *ops)
{
	if (ops->local_port != PORT && bpf_ntohl(ops->remote_port) != PORT)
		return 1;
	if (ops->op == BPF_SOCK_OPS_STATE_CB)
		bpf_sock_ops_cb_flags_set(ops, 0);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
