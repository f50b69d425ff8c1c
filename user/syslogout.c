// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: our syslog client (syslogout.h); sink_syslog.c is the sink.
 */
#include <errno.h>
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
	free(s);
}

const char *syslogout__path(const struct tt_syslog *s)
{
	return s->sa.sun_path;
}

static int connect_log(struct tt_syslog *s)
{
	int err = 0;

	if (s->fd >= 0)
		return 0;
	/* a datagram socket, as syslog(3) prefers; a stream one if that is what listens */
	for (int i = 0; i < 2; i++) {
		s->fd = socket(AF_UNIX, s->type | SOCK_CLOEXEC, 0);
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

/* "<30>Dec  4 12:00:01 tcptrail[42]: MSG", as glibc's syslog(3) writes it. */
static int send_one(struct tt_syslog *s, int prio, const char *msg, size_t len)
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
		if (!err && writev(s->fd, iov, s->type == SOCK_STREAM ? 3 : 2) >= 0)
			return 0;
		if (!err)
			err = -errno;
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
	}
	return err;
}

int syslogout__send_lines(struct tt_syslog *s, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	int sent = 0, first_err = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (nl ? nl : end) - p;

		if (n) {
			/* the logfmt sink writes " level=warn " on every warning line */
			int prio = memmem(p, n, " level=warn ", 12) ? LOG_WARNING : LOG_INFO;
			int err = send_one(s, prio, p, n);

			if (err && !first_err)
				first_err = err;
			else if (!err)
				sent++;
		}
		p += n + 1;
	}
	return first_err ? first_err : sent;
}
