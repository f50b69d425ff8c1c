/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --syslog: logfmt lines to a syslog daemon's local socket (/dev/log), one
 * datagram per line, in the format glibc's syslog(3) sends.  Our own client,
 * rather than syslog(3), so that the socket's path can be given (the tests
 * bind a receiver at a path of their own) and so that a send error is seen.
 */
#ifndef TT_SYSLOGOUT_H
#define TT_SYSLOGOUT_H

#include <stddef.h>
#include <stdint.h>
#include "sink.h"

#define TT_SYSLOG_PATH "/dev/log"

struct tt_syslog;

/*
 * path NULL: $TCPTRAIL_SYSLOG_SOCKET if set, else /dev/log.  The socket is
 * connected at the first send, and again after the daemon restarts.
 */
struct tt_syslog *syslogout__new(const char *path);
void syslogout__free(struct tt_syslog *s);
const char *syslogout__path(const struct tt_syslog *s);

/*
 * Send buf[0..len) a line each (empty lines skipped, no byte past len read):
 * facility daemon, warning for a line whose second field is level=warn, else info.
 * Where the daemon's queue is full, waits for it to take more, 100 ms at
 * most in all; a line it still cannot take (or a daemon that is gone) is
 * dropped and counted in syslogout__lost().
 * Returns how many lines were sent, or -errno of the first failure (the rest
 * are still tried): -EAGAIN when the daemon does not read.
 */
int syslogout__send_lines(struct tt_syslog *s, const char *buf, size_t len);

/* Lines dropped since syslogout__new(): the daemon did not take them whole. */
uint64_t syslogout__lost(const struct tt_syslog *s);

/*
 * The --syslog sink (sink_syslog.c): fmt's wall offset and namespace, lines
 * as logfmt, cgroups named by id.  0 or -ENOMEM.
 */
int syslogout__sink(struct tt_sink_ref *ref, const struct tt_sink_opts *fmt, struct tt_ident *id);

#endif /* TT_SYSLOGOUT_H */
