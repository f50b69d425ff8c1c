// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "outfile.h"
#include "util.h"

int outfile__stdout(const char *path)
{
	struct stat st;
	int fd, err;

	/*
	 * O_NOFOLLOW: a link planted at /tmp/tt.log -> /etc/passwd is not
	 * followed.  O_NONBLOCK: a FIFO without a reader fails (ENXIO) rather
	 * than hanging start-up, and is refused below either way.
	 */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
		  O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)
			tt_err("-o %s: is a symbolic link; refusing to follow it", path);
		else if (err == -ENXIO)
			tt_err("-o %s: not a regular file; refusing to write to it", path);
		else
			tt_err("open output %s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		tt_err("stat output %s: %s", path, strerror(-err));
		goto fail;
	}
	err = -EPERM;
	if (!S_ISREG(st.st_mode)) {
		tt_err("-o %s: not a regular file; refusing to write to it", path);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		tt_err("-o %s: belongs to uid %u; refusing to append to it", path,
		       (unsigned int)st.st_uid);
		goto fail;
	}
	/* a hard link someone made to a file of ours elsewhere */
	if (st.st_nlink > 1) {
		tt_err("-o %s: has %u hard links; refusing to append to it", path,
		       (unsigned int)st.st_nlink);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		err = -errno;
		tt_err("open output %s: %s", path, strerror(-err));
		goto fail;
	}
	fflush(stdout);
	/* dup2 clears close-on-exec on fd 1, as stdout should have it */
	if (dup2(fd, STDOUT_FILENO) < 0) {
		err = -errno;
		tt_err("make %s stdout: %s", path, strerror(-err));
		goto fail;
	}
	close(fd);
	/* a write error on the old file is no error of the new one */
	clearerr(stdout);
	return 0;
fail:
	close(fd);
	return err;
}
