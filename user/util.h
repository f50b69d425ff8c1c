/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TT_UTIL_H
#define TT_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tt_log_level { TT_LOG_ERROR, TT_LOG_WARN, TT_LOG_INFO, TT_LOG_DEBUG };

extern int tt_verbosity;	/* messages above this level are not printed */

/* Every diagnostic goes through here, to stderr, prefixed "tcptrail: ". */
void tt_log(enum tt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * For a failure that can come back at every namespace of every count (the
 * census at each summary, each frame of --top): said the first time; after
 * that the same call (its format) is only counted, and said again at its
 * 10th, 100th, 1000th... time with the count, "... (100 times so far)", so
 * that a standing fault neither floods the log nor goes quiet.
 */
void tt_log_counted(enum tt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define tt_err(...)   tt_log(TT_LOG_ERROR, __VA_ARGS__)
#define tt_err_counted(...) tt_log_counted(TT_LOG_ERROR, __VA_ARGS__)
#define tt_warn(...)  tt_log(TT_LOG_WARN, __VA_ARGS__)
#define tt_info(...)  tt_log(TT_LOG_INFO, __VA_ARGS__)
#define tt_debug(...) tt_log(TT_LOG_DEBUG, __VA_ARGS__)

/*
 * The one checked number parser: whole decimal string, no sign unless min < 0,
 * within [min, max].  Returns 0 or -EINVAL / -ERANGE.
 */
int tt_parse_num(const char *s, long long min, long long max, long long *out);

/*
 * A kernel errno's name, "EHOSTUNREACH", or "errno N" for one this libc
 * does not name, at buf (TT_ERRNO_NAME_MAX with its NUL): buf.
 */
#define TT_ERRNO_NAME_MAX 32
const char *tt_errno_name(unsigned int err, char buf[TT_ERRNO_NAME_MAX]);

/* The most digits a uint64_t has in decimal. */
#define TT_UTOA_MAX 20

/* v in decimal at buf, with no NUL: the digit count. */
size_t tt_utoa(char buf[TT_UTOA_MAX], uint64_t v);

/*
 * A file name for a one-line message: control characters as '?', and one
 * longer than len - 1 cut in its middle ("head...tail"), so the reason
 * after it is never lost.
 */
void tt_fmt_name(const char *name, char *buf, size_t len);

/*
 * "0.41ms", "2.1s", "3m04s", "1h02m": at most 6 characters of precision.
 * The length written, cut to len - 1 as snprintf cuts.
 */
size_t tt_fmt_duration(uint64_t ns, char *buf, size_t len);

/*
 * Address (network byte order) and port as "10.0.0.1:80" or "[::1]:80"; the
 * length written (cut to len - 1, as snprintf cuts).
 */
size_t tt_fmt_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port,
		       char *buf, size_t len);
void tt_fmt_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t len);

/* The longest address text, with its NUL: INET6_ADDRSTRLEN. */
#define TT_ADDR_STRLEN 46

/*
 * The same text, always whole, as inet_ntop() writes it (family 10 is
 * IPv6, anything else IPv4); returns its length.
 */
size_t tt_addr_str(char dst[TT_ADDR_STRLEN], uint8_t family, const uint8_t addr[16]);

/*
 * Zeroed memory for a big table read and written at random (the flow
 * table, the TIME-WAIT window), in 2 MiB pages where the kernel gives them
 * (transparent huge pages, "madvise" or "always"): one TLB entry and one
 * page fault where 512 would be.  Pages are still made as they are first
 * written.  NULL with errno set; tt_big_free() with the same n.
 */
void *tt_big_zalloc(size_t n);
void tt_big_free(void *p, size_t n);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns: maps record times to wall time. */
int64_t tt_mono_to_wall_offset(void);

/*
 * "2026-12-04T12:00:01.234Z" (UTC, milliseconds) for a wall-clock ns
 * timestamp: the time column of every human line.  TT_CLOCK_LEN with its NUL.
 */
#define TT_CLOCK_LEN 25
void tt_fmt_clock(int64_t wall_ns, char *buf, size_t len);

/*
 * Make stdout a line-buffered stream over fd 1 that keeps the errno of its
 * first failed write: stdio keeps only a flag, and by the time the main
 * loop looks, errno is some later call's (a full disk said ENOENT).  Call
 * before anything is written to stdout.  0 or -errno (stdout unchanged).
 */
int tt_stdout_track(void);
/* Fully buffer stdout unless it is a terminal: the driver loop flushes each batch. */
void tt_stdout_batch(void);

/*
 * A terminal that takes no escape sequences: $TERM unset or "dumb" (as
 * systemd and git judge it).  Auto colour and --top's redraw are off there.
 */
bool tt_term_dumb(void);

/*
 * 0 while stdout works.  After a failed write: -1 for a pipe whose reader
 * has gone (tcptrail | head: it has what it wanted, so no message and no
 * failure), else 1 after "write output: ERROR" on stderr (a full disk).
 */
int tt_stdout_failed(void);

/*
 * Set to give up on stdout: a write waiting for a reader that does not read
 * (a paused `| less`) ends, and none waits again.  The output's next check
 * says so.  tt_stdout_give_up_if_writing(), for a signal handler, sets it
 * only while a write is under way (and may be waiting).
 */
extern volatile sig_atomic_t tt_stdout_abandoned;
void tt_stdout_give_up_if_writing(void);

/* Whether a is an IPv4-mapped IPv6 address, ::ffff:a.b.c.d. */
bool tt_v4_mapped(const uint8_t a[16]);

/*
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, a dual-stack socket's IPv4
 * peer or local address) as the IPv4 one it is on the wire: *family becomes
 * TT_AF_INET and v4 is returned, holding the IPv4 address zero-padded; any
 * other is returned as it is.
 */
const uint8_t *tt_unmap_v4(uint8_t *family, const uint8_t *addr, uint8_t v4[16]);

/* A small file's text (at most max bytes), NUL-terminated, to free(); NULL if unreadable. */
char *tt_read_text(const char *path, size_t max);

/*
 * How long stdout's writes have waited in all, in ns: a write that a pipe's
 * full buffer holds up, its reader not reading (a paused pager), holds up
 * the reading of the ring buffer too.  Only waits of 100 ms or more count.
 */
uint64_t tt_stdout_blocked_ns(void);

/* The errno of stdout's first failed write, 0 while none has failed; says nothing. */
int tt_stdout_errno(void);

/*
 * Make the first n bytes of s (to a NUL) safe to print on a terminal, in
 * place and at the same length: C0 controls, DEL, bytes that are no UTF-8
 * and C1 controls (U+0080 to U+009F) become '?'; other UTF-8 stays.
 */
void tt_printable(char *s, size_t n);

/*
 * The columns the first n bytes of s (to a NUL) take on a terminal, once
 * tt_printable() has made them valid UTF-8: one per character, two for a
 * wide East Asian character or an emoji (a combining mark, which takes
 * none, is counted as one).
 */
size_t tt_utf8_cols(const char *s, size_t n);

/*
 * The bytes of a task's comm (16 bytes, NUL-padded) to show: all of them,
 * but for a character the kernel cut in two at its 15-byte limit, whose
 * first bytes end the comm.  Shown, they would be bytes that are no UTF-8.
 */
size_t tt_comm_len(const char *comm);

/* Length of the valid UTF-8 sequence at s (at most n bytes, n >= 1), or 0. */
size_t tt_utf8_len(const unsigned char *s, size_t n);

/*
 * Whether a daemon listens on the AF_UNIX socket at path (datagram, or
 * stream too unless dgram_only): 0, or -errno; -ECONNREFUSED is a socket
 * file that a daemon that stopped left behind, -EPROTOTYPE one of the other
 * type.  A probe: the connection is closed at once.
 */
int tt_unix_listens(const char *path, bool dgram_only);

/*
 * At start, before anything is attached: the daemon's socket at path is
 * there and something listens on it (tt_unix_listens).  0, or -errno after
 * one line "OPT: PATH: WHY: NONE_HERE" (or that this user may not send
 * there).
 */
int tt_daemon_socket_check(const char *opt, const char *path, bool dgram_only,
			   const char *none_here);

#endif /* TT_UTIL_H */
