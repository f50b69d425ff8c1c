// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: our syslog client (syslogout.h); sink_syslog.c is the sink.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include "syslogout.h"

struct tt_syslog {
	int fd;
	int type;		/* SOCK_DGRAM, or SOCK_STREAM for a daemon that listens so */
	struct sockaddr_un sa;
	/* on a stream, the tail of a message the daemon took only part of */
	char *tail;
	size_t tail_len;
	uint64_t lost;
};

struct tt_syslog *syslogout__new(const char *path)
{
	struct tt_syslog *s;

	if (!path)
		path = getenv("TCPTRAIL_SYSLOG_SOCKET");
	if (!path || !*path)
		path = TT_SYSLOG_PATH;
	if (strlen(path) >= sizeof(s->sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = -1;
	s->type = SOCK_DGRAM;
	s->sa.sun_family = AF_UNIX;
	strcpy(s->sa.sun_path, path);
	return s;
}

void syslogout__free(struct tt_syslog *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->tail);
	free(s);
}

const char *syslogout__path(const struct tt_syslog *s)
{
	return s->sa.sun_path;
}

uint64_t syslogout__lost(const struct tt_syslog *s)
{
	return s->lost;
}

static void disconnect(struct tt_syslog *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	/* the daemon saw the start of that message and never will its end */
	if (s->tail_len)
		s->lost++;
	s->tail_len = 0;
}

static int connect_log(struct tt_syslog *s)
{
	int err = 0;

	if (s->fd >= 0)
		return 0;
	/* a datagram socket, as syslog(3) prefers; a stream one if that is what listens */
	for (int i = 0; i < 2; i++) {
		/*
		 * Never blocking: a daemon that stops reading fills a datagram
		 * queue after net.unix.max_dgram_qlen messages (10 by default),
		 * and a blocked send would stall tracing and SIGTERM with it.
		 */
		s->fd = socket(AF_UNIX, s->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s->fd < 0)
			return -errno;
		if (!connect(s->fd, (struct sockaddr *)&s->sa, sizeof(s->sa)))
			return 0;
		err = -errno;
		close(s->fd);
		s->fd = -1;
		if (err != -EPROTOTYPE)
			break;
		s->type = s->type == SOCK_DGRAM ? SOCK_STREAM : SOCK_DGRAM;
	}
	return err;
}

/* Write what a stream still owes the daemon of an earlier message: 0 once none. */
static int flush_tail(struct tt_syslog *s)
{
	while (s->tail_len) {
		ssize_t n = send(s->fd, s->tail, s->tail_len, MSG_NOSIGNAL);

		if (n < 0)
			return -errno;
		s->tail_len -= (size_t)n;
		memmove(s->tail, s->tail + n, s->tail_len);
	}
	return 0;
}

/*
 * One message, whole or not at all: a datagram is, and on a stream what the
 * daemon did not take yet is kept and written before the next message, so
 * that no message is cut in two.
 */
static int write_msg(struct tt_syslog *s, const struct iovec *iov, int n)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
	size_t total = 0, off;
	ssize_t w;
	char *t;
	int err;

	err = flush_tail(s);
	if (err)
		return err;
	w = sendmsg(s->fd, &mh, MSG_NOSIGNAL);
	if (w < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if ((size_t)w == total)
		return 0;
	t = realloc(s->tail, total - (size_t)w);
	if (!t) {
		/* the rest of it never comes: start clean */
		disconnect(s);
		s->lost++;
		return 0;
	}
	s->tail = t;
	off = (size_t)w;
	for (int i = 0; i < n; i++) {
		size_t skip = off < iov[i].iov_len ? off : iov[i].iov_len;

		memcpy(t, (char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
		t += iov[i].iov_len - skip;
		off -= skip;
	}
	s->tail_len = total - (size_t)w;
	return 0;
}

/*
 * A datagram queue holds net.unix.max_dgram_qlen messages, 10 by default
 * where no systemd raised it: a summary's batch is longer, and the daemon
 * reading them as they come was still outrun.  So a full queue is waited
 * on, but never blocks tracing for long: SEND_WAIT_MS at most a batch.
 */
#define SEND_WAIT_MS	100

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 once s->fd takes more, within what is left of *wait_ms (spent here) */
static int wait_writable(struct tt_syslog *s, int *wait_ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	uint64_t t0 = mono_ms(), spent;
	int r;

	if (*wait_ms <= 0)
		return -EAGAIN;
	r = poll(&p, 1, *wait_ms);
	spent = mono_ms() - t0;
	*wait_ms = spent >= (uint64_t)*wait_ms ? 0 : *wait_ms - (int)spent;
	return r == 1 && (p.revents & POLLOUT) ? 0 : -EAGAIN;
}

/* "<30>Dec  4 12:00:01 tcptrail[42]: MSG", as glibc's syslog(3) writes it. */
static int send_one(struct tt_syslog *s, int prio, const char *msg, size_t len, int *wait_ms)
{
	char head[64], stamp[32];
	struct iovec iov[3];
	struct tm tm;
	time_t now = time(NULL);
	int n, err = 0;

	if (!localtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%h %e %T", &tm))
		strcpy(stamp, "Jan  1 00:00:00");
	n = snprintf(head, sizeof(head), "<%d>%s tcptrail[%d]: ", LOG_DAEMON | prio, stamp,
		     (int)getpid());
	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ (void *)msg, len };
	/* on a stream, a NUL ends each message, as syslog(3) sends it */
	iov[2] = (struct iovec){ (void *)"", 1 };
	/* twice: a daemon that restarted left our connected socket behind */
	for (int i = 0; i < 2; i++) {
		err = connect_log(s);
		if (!err)
			err = write_msg(s, iov, s->type == SOCK_STREAM ? 3 : 2);
		while (err == -EAGAIN && !wait_writable(s, wait_ms))
			err = write_msg(s, iov, s->type == SOCK_STREAM ? 3 : 2);
		if (!err)
			return 0;
		/* a daemon too busy to read: this line is dropped, the socket kept */
		if (err == -EAGAIN)
			break;
		disconnect(s);
	}
	s->lost++;
	return err;
}

int syslogout__send_lines(struct tt_syslog *s, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	int sent = 0, first_err = 0, wait_ms = SEND_WAIT_MS;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (nl ? nl : end) - p;

		if (n) {
			/*
			 * The logfmt sink starts every line "time=... level=...":
			 * only that field says, not a command name further on
			 */
			const char *sp = memchr(p, ' ', n);
			int prio = sp && (size_t)(p + n - sp) > 12 && !memcmp(sp, " level=warn ", 12) ?
				   LOG_WARNING : LOG_INFO;
			int err = send_one(s, prio, p, n, &wait_ms);

			if (err && !first_err)
				first_err = err;
			else if (!err)
				sent++;
		}
		p += n + 1;
	}
	return first_err ? first_err : sent;
}
