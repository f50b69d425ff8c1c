// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The mounts the live source needs: a process out of file descriptors
 * cannot read /proc/self/mountinfo, which says nothing of whether cgroup2
 * is mounted.  Run in a child, whose descriptors are all taken, so that the
 * runner's stay as they are (and any mount of the old behaviour is the
 * child's own).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "livesys.h"
#include "sockkit.h"
#include "tt_test.h"

struct answer {
	int ret;
	char why[256];
};

TEST(livesys_cgroup2_root_out_of_fds_is_not_unmounted)
{
	struct answer a = { 0 };
	int p[2], status;
	pid_t pid;

	REQUIRE(pipe(p) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (sockkit_no_free_fds())
			_exit(2);
		a.ret = livesys__cgroup2_root(a.why, sizeof(a.why));
		if (a.ret >= 0)
			close(a.ret);
		_exit(write(p[1], &a, sizeof(a)) == (ssize_t)sizeof(a) ? 0 : 3);
	}
	close(p[1]);
	CHECK_EQ_INT(read(p[0], &a, sizeof(a)), sizeof(a));
	close(p[0]);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(a.ret, -EMFILE);
	CHECK_STR(a.why, "find the cgroup2 mount: read /proc/self/mountinfo: Too many open files");
}
