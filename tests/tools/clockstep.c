// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * LD_PRELOAD shim for tests/kernel/clock-step.sh: the time set while
 * tcptrail runs, with no change to the host's clock.  CLOCK_REALTIME reads
 * as the real one plus the seconds that the file $TT_CLOCK_STEP_FILE holds
 * (read at each call; none, or no file: nothing added).  Other clocks, and
 * CLOCK_MONOTONIC above all, are as they are.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long step_s(void)
{
	const char *path = getenv("TT_CLOCK_STEP_FILE");
	char buf[32];
	ssize_t n;
	int fd;

	if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	int saved = errno, r;

	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	r = real(id, ts);
	if (!r && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
		ts->tv_sec += step_s();
		errno = saved;
	}
	return r;
}
