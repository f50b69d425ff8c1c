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
 *
 * Host-wide (no --netns), every namespace is counted every interval, and a
 * container started later has to be entered then: the census thread,
 * started before the drop, keeps CAP_SYS_ADMIN (setns), CAP_SYS_PTRACE
 * (opening another user's /proc/PID/ns/net) and CAP_DAC_READ_SEARCH
 * (reading another user's /proc/PID/fd, for the holder of a leak) for
 * itself.  Capabilities belong to a thread, so the drop, made by the main
 * thread, leaves the census thread's alone, and privs__limit_thread()
 * lowers them to those three.
 */
#ifndef TT_PRIVS_H
#define TT_PRIVS_H

#include <stdbool.h>
#include <stdint.h>
#include "opts.h"

/*
 * Keep only the capabilities above that this host needs, as the permitted,
 * effective and bounding sets (the bounding set only if CAP_SETPCAP is
 * ours); empty the inheritable and ambient sets; set no_new_privs.  Call
 * once, after the last privileged step of start-up and before the first
 * event is parsed.  0, or -errno after a message naming the step.
 */
int privs__drop(const struct tt_opts *o);

/*
 * The calling thread keeps only the capabilities in `caps` (CAP_* bit
 * numbers as 1ull << CAP_X) that it has now, as its effective and
 * permitted sets; the other threads keep theirs.  0 or -errno.
 */
int privs__limit_thread(uint64_t caps);

/* Whether the calling thread has every capability in `caps` effective now. */
bool privs__thread_has(uint64_t caps);

#endif /* TT_PRIVS_H */
