/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TT_KCOUNT_H
#define TT_KCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The kernel's own counters of the network namespace we are in, to check
 * at exit that every connection it counted reached us: the kernel can fire
 * a tracepoint and still not run a BPF program on it, without counting a
 * miss (README, Known limits).
 */
struct tt_kcounts {
	uint64_t active_opens;		/* Tcp: ActiveOpens */
	uint64_t time_wait;		/* TcpExt: TW + TWKilled, timewait socks scheduled */
};

/*
 * Whether a kernel of this release (uname -r) counts TW and TWKilled as
 * timewait socks expire, not as they are made: before Linux 5.18 the timer
 * counted them, 60 s after the entry, and never one that died early.  A
 * release that does not parse is taken as new.
 */
bool kcount__tw_at_expiry(const char *release);

/* From /proc/self/net/snmp and /proc/self/net/netstat: 0 or -errno. */
int kcount__read(struct tt_kcounts *k);

/*
 * Find section's counters in text, a /proc/net/snmp or netstat file: a line
 * "Section: Name Name ..." then "Section: value value ...".  For each of
 * the n names, out[i] gets its value.  Returns 0, or -ENOENT if the section
 * or a name is missing, -EINVAL if the lines do not pair up or a value is
 * not a number.
 */
int kcount__parse(const char *text, const char *section, const char *const names[],
		  uint64_t out[], size_t n);

#endif /* TT_KCOUNT_H */
