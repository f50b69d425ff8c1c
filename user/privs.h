/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege once tracing runs.  Loading and attaching BPF, private
 * mounts, seeding (sock_diag and every /proc/PID/fd) and opening the
 * --netns namespace need capabilities; draining the ring buffer, reading
 * the lost counters through a map fd we hold, the periodic sock_diag dumps,
 * /proc/PID/cmdline, syslog and the metrics socket do not.  So after
 * start-up tcptrail keeps no capability at all, unless this host needs one
 * for something it will still do:
 *
 *   CAP_BPF           kernels before 5.19 refuse every bpf() command, even
 *                     a lookup on a map fd we hold, while
 *                     kernel.unprivileged_bpf_disabled is set
 *   CAP_DAC_OVERRIDE  -o, --metrics-file or -w rotation writes where our
 *                     uid alone may not (a directory owned by another user)
 *   CAP_SYS_PTRACE    /proc is mounted hidepid= so that it hides other
 *                     users' /proc/PID/cmdline from us (hidepid=ptraceable,
 *                     or a gid= we are not in), for the CLOSE-WAIT report
 *
 * Each is found by trying the operation with the capability lowered and
 * then raised, never assumed (the cmdline on a child of ours turned
 * nobody).  The uid stays what it was.
 *
 * The TIME-WAIT count of another namespace (--netns) is a sock_diag dump
 * made from inside it, which took a setns() -- CAP_SYS_ADMIN -- every
 * interval.  Instead the process moves into that namespace once, here,
 * before the drop; the dumps then find themselves there already.  The
 * listening metrics socket stays in the namespace it was bound in, and
 * syslog's /dev/log is found by its path from any namespace.
 */
#ifndef TT_PRIVS_H
#define TT_PRIVS_H

#include "opts.h"

/*
 * Keep only the capabilities above that this host needs, as the permitted,
 * effective and bounding sets (the bounding set only if CAP_SETPCAP is
 * ours); empty the inheritable and ambient sets; set no_new_privs.  Call
 * once, after the last privileged step of start-up and before the first
 * event is parsed.  0, or -errno after a message naming the step.
 */
int privs__drop(const struct tt_opts *o);

#endif /* TT_PRIVS_H */
