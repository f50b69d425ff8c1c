/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --journal: the reports --syslog sends, as structured journal entries
 * (journalout.h), and readiness for systemd (sd_notify).  Every entry
 * has MESSAGE= (the logfmt line), PRIORITY=, SYSLOG_IDENTIFIER=tcptrail and
 * TCPTRAIL_EVENT=summary|overflow|close_wait|time_wait|port_pressure, with
 * its numbers as fields of their own (tcptrail(8), JOURNAL FIELDS):
 *
 *	journalctl TCPTRAIL_EVENT=close_wait PID=4242
 *	journalctl TCPTRAIL_EVENT=close_wait CONTAINER=<64 hex>
 *
 * The sink reads what the engine hands it, as the others do.
 */
#ifndef TT_JOURNAL_H
#define TT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ident.h"
#include "journalout.h"
#include "report.h"
#include "sink.h"
#include "twreport.h"

struct tt_journal;

/*
 * NULL after one line on stderr if entries cannot be sent: no journald
 * socket here ($TCPTRAIL_JOURNAL_SOCKET, else TT_JOURNAL_SOCKET), or a
 * build without libsystemd.  lines: the output lines' options, whose clock
 * and naming of namespaces the MESSAGE= lines share.  netns: the -N
 * namespace, 0 for all (then summaries carry no NETNS=).  Entries are sent never waiting for journald:
 * one it cannot take now is lost, and said so.
 */
struct tt_journal *journal__new(const struct tt_sink_opts *lines, uint32_t netns);
void journal__free(struct tt_journal *j);

/*
 * Whose entries these are.  ident names each overflow entry's listener
 * (CONTAINER=, POD=, CGROUP= of its cgroup, where known).  container and
 * cgroup_path (--container as given, --cgroup; NULL or "" when not given):
 * the one container or cgroup every summary, time_wait and port_pressure
 * entry then concerns, as CONTAINER= and CGROUP=.
 */
void journal__set_scope(struct tt_journal *j, struct tt_ident *ident, const char *container,
			const char *cgroup_path);

/* The summary, and an overflow entry for each listener that dropped connections in it. */
void journal__summary(struct tt_journal *j, const struct tt_summary *sum);
/* An entry per leak group, and one for the groups the report leaves out. */
void journal__close_wait(struct tt_journal *j, const struct tt_cw_report *r);
void journal__time_wait(struct tt_journal *j, const struct tw_report *r);

/* The sink: priv is a struct tt_journal. */
extern const struct tt_sink_ops tt_journal_sink_ops;

/*
 * sd_notify(3) for a service of Type=notify: "READY=1" once attached,
 * "STOPPING=1" at the start of shutdown.  Nothing without $NOTIFY_SOCKET.
 */
void journal__notify(const char *state);

/* The build links libsystemd (the static qemu-guest build does not). */
bool journal__available(void);

#endif /* TT_JOURNAL_H */
