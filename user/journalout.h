/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --journal's client: entries to journald's socket in its native protocol
 * (systemd.io/JOURNAL_NATIVE_PROTOCOL).  Our own, rather than
 * sd_journal_sendv(), whose socket blocks: a journald that stops reading
 * (its queue of net.unix.max_dgram_qlen datagrams full) would stall tracing.
 * And so that the tests can give the socket's path.
 */
#ifndef TT_JOURNALOUT_H
#define TT_JOURNALOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define TT_JOURNAL_SOCKET "/run/systemd/journal/socket"

struct tt_journalout;

/* path NULL: $TCPTRAIL_JOURNAL_SOCKET if set, else TT_JOURNAL_SOCKET.  NULL and errno. */
struct tt_journalout *journalout__new(const char *path);
void journalout__free(struct tt_journalout *j);
const char *journalout__path(const struct tt_journalout *j);

/*
 * One entry of n fields, each "NAME=value" (a value may hold newlines).
 * Never waits: 0 sent, -EAGAIN when journald does not read now (its queue
 * is full), else -errno.  An entry longer than a datagram the socket takes
 * goes in a sealed memfd, as sd_journal_sendv() sends one.
 */
int journalout__send(struct tt_journalout *j, const struct iovec *iov, int n);

#endif /* TT_JOURNALOUT_H */
