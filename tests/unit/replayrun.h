/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one way the unit tests run a replay in process: `tcptrail ARGS...`
 * parsed as main() parses it (tt_opts_parse, the verbosity it sets), then
 * replay__run(), with stdout and stderr captured into strings.
 */
#ifndef TT_REPLAYRUN_H
#define TT_REPLAYRUN_H

struct replay_run {
	int status;	/* the exit status tcptrail would have */
	char *out;	/* stdout, NUL-terminated */
	char *err;	/* stderr */
};

/* argv[0] is "tcptrail"; argc counts it.  Free the result with replay_run_free(). */
struct replay_run replay_run_argv(int argc, char **argv);

/* tcptrail -r PATH, then up to three more arguments (NULL: none). */
struct replay_run replay_run_path(const char *path, const char *a1, const char *a2,
				  const char *a3);

void replay_run_free(struct replay_run *r);

#endif /* TT_REPLAYRUN_H */
