// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

int tt_verbosity = TT_LOG_INFO;

void tt_log(enum tt_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > tt_verbosity)
		return;
	fputs("tcptrail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int tt_parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	/* strtoll skips leading blanks and takes a sign; we want neither quietly */
	if (*s == ' ' || *s == '\t' || *s == '+' || (*s == '-' && min >= 0))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

void tt_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	double us = ns / 1e3, ms = ns / 1e6, s = ns / 1e9;
	uint64_t secs = ns / 1000000000ull;

	if (ns < 1000)
		snprintf(buf, len, "%uns", (unsigned int)ns);
	else if (us < 10)
		snprintf(buf, len, "%.2fus", us);
	else if (us < 1000)
		snprintf(buf, len, "%.0fus", us);
	else if (ms < 10)
		snprintf(buf, len, "%.2fms", ms);
	else if (ms < 1000)
		snprintf(buf, len, "%.0fms", ms);
	else if (s < 10)
		snprintf(buf, len, "%.2fs", s);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else if (secs < 3600)
		snprintf(buf, len, "%um%02us", (unsigned int)(secs / 60), (unsigned int)(secs % 60));
	else if (secs < 86400)
		snprintf(buf, len, "%uh%02um", (unsigned int)(secs / 3600),
			 (unsigned int)(secs % 3600 / 60));
	else
		snprintf(buf, len, "%ud%02uh", (unsigned int)(secs / 86400),
			 (unsigned int)(secs % 86400 / 3600));
}

void tt_fmt_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	if (!inet_ntop(family == 10 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

void tt_fmt_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port,
		     char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	tt_fmt_addr(family, addr, a, sizeof(a));
	if (family == 10)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

int64_t tt_mono_to_wall_offset(void)
{
	struct timespec m1, r, m2;

	/* bracket the realtime read so the offset errs by at most half the gap */
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	int64_t mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec +
			(int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) / 2;
	return (int64_t)r.tv_sec * 1000000000 + r.tv_nsec - mono;
}

void tt_fmt_clock(int64_t wall_ns, char *buf, size_t len)
{
	time_t t = wall_ns / 1000000000;
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "??:??:??.???");
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(wall_ns / 1000000 % 1000));
}

/* errno of the first write to fd 1 that failed, 0 while none has */
static int stdout_err;

static ssize_t stdout_write(void *cookie, const char *buf, size_t n)
{
	size_t done = 0;

	(void)cookie;
	while (done < n) {
		ssize_t k = write(STDOUT_FILENO, buf + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (!stdout_err)
				stdout_err = k < 0 ? errno : EIO;
			break;
		}
		done += (size_t)k;
	}
	/* fopencookie: the bytes written, 0 for an error, never negative */
	return (ssize_t)done;
}

int tt_stdout_track(void)
{
	FILE *f = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = stdout_write });

	if (!f)
		return -errno;
	fflush(stdout);
	stdout = f;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return 0;
}

int tt_stdout_failed(void)
{
	int err;

	if (!ferror(stdout))
		return 0;
	err = stdout_err ? stdout_err : EIO;
	if (err == EPIPE) {
		tt_debug("the reader of our output closed the pipe: stopping");
		return -1;
	}
	tt_err("write output: %s", strerror(err));
	return 1;
}
