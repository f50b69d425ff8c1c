// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Replays in process, their output captured (replayrun.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "opts.h"
#include "replay.h"
#include "replayrun.h"
#include "util.h"

static char *slurp(int fd)
{
	struct stat st;
	char *buf;
	ssize_t n;

	if (fstat(fd, &st) || !(buf = malloc(st.st_size + 1)))
		return strdup("");
	n = pread(fd, buf, st.st_size, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

struct replay_run replay_run_argv(int argc, char **argv)
{
	char opath[] = "/tmp/tt_replay_out_XXXXXX", epath[] = "/tmp/tt_replay_err_XXXXXX";
	struct replay_run r = { 0 };
	int ofd, efd, so, se, level = tt_verbosity;
	struct tt_opts o;
	bool exit_now;

	fflush(stdout);
	fflush(stderr);
	ofd = mkstemp(opath);
	efd = mkstemp(epath);
	so = dup(1);
	se = dup(2);
	dup2(ofd, 1);
	dup2(efd, 2);
	r.status = tt_opts_parse(argc, argv, &o, &exit_now);
	if (!r.status) {
		tt_verbosity = TT_LOG_INFO + o.verbose;
		r.status = replay__run(&o, false, NULL, NULL);
	}
	fflush(stdout);
	fflush(stderr);
	clearerr(stdout);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	tt_verbosity = level;
	r.out = slurp(ofd);
	r.err = slurp(efd);
	close(ofd);
	close(efd);
	unlink(opath);
	unlink(epath);
	return r;
}

struct replay_run replay_run_path(const char *path, const char *a1, const char *a2,
				  const char *a3)
{
	char *argv[8] = { "tcptrail", "-r", (char *)path };
	int argc = 3;

	for (const char *a[] = { a1, a2, a3 }, **p = a; p < a + 3 && *p; p++)
		argv[argc++] = (char *)*p;
	return replay_run_argv(argc, argv);
}

void replay_run_free(struct replay_run *r)
{
	free(r->out);
	free(r->err);
}
