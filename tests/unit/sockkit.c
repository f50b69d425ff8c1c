// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "sockkit.h"

int sockkit_no_free_fds(void)
{
	/* every number below the lowest free one is taken: a limit there leaves none */
	int lowest = dup(0);
	struct rlimit rl;

	if (lowest >= 0)
		close(lowest);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	rl.rlim_cur = lowest > 0 ? (rlim_t)lowest : 3;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -1 : 0;
}

int sockkit_dgram_qlen(void)
{
	FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

bool sockkit_returns_within(void (*fn)(void *), void *arg, int secs)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0)
		return false;
	for (int i = 0; i < secs * 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return false;
}
