// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -o FILE: stdout made an append-only regular file of ours, and what is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "outfile.h"
#include "tt_test.h"

struct dir {
	char path[64];
	char file[96];
};

static int make_dir(struct dir *d)
{
	strcpy(d->path, "/tmp/tt_outfile_XXXXXX");
	if (!mkdtemp(d->path))
		return -1;
	snprintf(d->file, sizeof(d->file), "%s/out.log", d->path);
	return 0;
}

static void remove_dir(struct dir *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd))
		fprintf(stderr, "    could not remove %s\n", d->path);
}

/* outfile__stdout(path) with our stdout put back afterwards; stderr muted. */
static int redirect(const char *path, const char *line)
{
	int out, err, null, ret;

	fflush(stdout);
	fflush(stderr);
	out = dup(STDOUT_FILENO);
	err = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	ret = outfile__stdout(path);
	if (!ret && line) {
		fputs(line, stdout);
		fflush(stdout);
	}
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	close(null);
	return ret;
}

static size_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0 ? (size_t)n : 0;
}

TEST(outfile_creates_0640_and_appends)
{
	struct dir d;
	struct stat st;
	char buf[64];
	mode_t old = umask(022);

	REQUIRE(!make_dir(&d));
	CHECK_EQ_INT(redirect(d.file, "one\n"), 0);
	CHECK_EQ_INT(redirect(d.file, "two\n"), 0);
	umask(old);
	REQUIRE(!stat(d.file, &st));
	CHECK_EQ_INT(st.st_mode & 07777, 0640);
	slurp(d.file, buf, sizeof(buf));
	CHECK_STR(buf, "one\ntwo\n");
	remove_dir(&d);
}

TEST(outfile_refuses_links_fifos_and_hard_links)
{
	struct dir d;
	char sym[128], fifo[128], hard[128], target[128], buf[8];
	struct stat before, after;

	REQUIRE(!make_dir(&d));
	snprintf(target, sizeof(target), "%s/target", d.path);
	snprintf(sym, sizeof(sym), "%s/link", d.path);
	snprintf(fifo, sizeof(fifo), "%s/fifo", d.path);
	snprintf(hard, sizeof(hard), "%s/hard", d.path);
	REQUIRE(close(open(target, O_WRONLY | O_CREAT, 0600)) == 0);
	REQUIRE(!symlink(target, sym));
	REQUIRE(!mkfifo(fifo, 0600));
	REQUIRE(!link(target, hard));
	REQUIRE(!fstat(STDOUT_FILENO, &before));

	CHECK_EQ_INT(redirect(sym, "x\n"), -ELOOP);
	/* no reader: ENXIO at open; with one it would be refused as not regular */
	CHECK_EQ_INT(redirect(fifo, "x\n"), -ENXIO);
	CHECK_EQ_INT(redirect(hard, "x\n"), -EPERM);
	CHECK_EQ_INT(slurp(target, buf, sizeof(buf)), 0);
	/* a refusal leaves stdout where it was */
	REQUIRE(!fstat(STDOUT_FILENO, &after));
	CHECK(before.st_ino == after.st_ino && before.st_dev == after.st_dev);
	remove_dir(&d);
}

/*
 * Two runs on one file: -o holds a lock on its file as -w does, and a file
 * of a rotated capture set whose current file a run writes is refused too
 * (the head FILE, an older FILE.N, a FILE.N to come), so a second run
 * cannot wipe the first's output.
 */
TEST(outfile_a_file_another_run_writes_is_refused)
{
	struct dir d;
	char cap[128], cap1[128], cap2[128], cap9[128], other[128], which[256];
	int out, err, null, holder;
	bool busy;

	REQUIRE(!make_dir(&d));
	/* our -o: locked while it is stdout */
	fflush(stdout);
	out = dup(STDOUT_FILENO);
	err = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	REQUIRE(outfile__stdout(d.file) == 0);
	busy = outfile__busy(d.file);
	CHECK_EQ_INT(outfile__check("-o", d.file), -EBUSY);
	CHECK_EQ_INT(outfile__check("-w", d.file), -EBUSY);
	dup2(out, STDOUT_FILENO);
	CHECK(busy);
	CHECK(!outfile__busy(d.file));
	CHECK_EQ_INT(outfile__check("-o", d.file), 0);
	/* another run's -o */
	holder = open(d.file, O_RDONLY);
	REQUIRE(holder >= 0 && !flock(holder, LOCK_EX));
	CHECK_EQ_INT(redirect(d.file, "x\n"), -EWOULDBLOCK);
	close(holder);

	/* a rotated set: cap, cap.1, and cap.2 being written */
	snprintf(cap, sizeof(cap), "%s/cap", d.path);
	snprintf(cap1, sizeof(cap1), "%s/cap.1", d.path);
	snprintf(cap2, sizeof(cap2), "%s/cap.2", d.path);
	snprintf(cap9, sizeof(cap9), "%s/cap.9", d.path);
	snprintf(other, sizeof(other), "%s/cap2", d.path);
	REQUIRE(close(open(cap, O_WRONLY | O_CREAT, 0600)) == 0);
	REQUIRE(close(open(cap1, O_WRONLY | O_CREAT, 0600)) == 0);
	holder = open(cap2, O_WRONLY | O_CREAT, 0600);
	REQUIRE(holder >= 0 && !flock(holder, LOCK_EX));
	CHECK(outfile__set_busy(cap, which, sizeof(which)));
	CHECK_STR(which, cap2);
	CHECK_EQ_INT(outfile__check("-w", cap), -EBUSY);
	CHECK_EQ_INT(outfile__check("-o", cap1), -EBUSY);
	CHECK_EQ_INT(outfile__check("-w", cap9), -EBUSY);
	CHECK_EQ_INT(outfile__check("--metrics-file", cap2), -EBUSY);
	/* another name is another set */
	CHECK_EQ_INT(outfile__check("-w", other), 0);
	close(holder);
	CHECK(!outfile__set_busy(cap, which, sizeof(which)));
	CHECK_EQ_INT(outfile__check("-w", cap), 0);
	CHECK_EQ_INT(outfile__check("-w", cap9), 0);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	close(null);
	remove_dir(&d);
}
