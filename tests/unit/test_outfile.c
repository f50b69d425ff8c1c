// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -o FILE: stdout made an append-only regular file of ours, and what is refused. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include "outfile.h"
#include "util.h"
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
	CHECK_EQ_INT(redirect(d.file, "{\"type\":\"one\"}\n"), 0);
	CHECK_EQ_INT(redirect(d.file, "two\n"), 0);
	umask(old);
	REQUIRE(!stat(d.file, &st));
	CHECK_EQ_INT(st.st_mode & 07777, 0640);
	slurp(d.file, buf, sizeof(buf));
	CHECK_STR(buf, "{\"type\":\"one\"}\ntwo\n");
	remove_dir(&d);
}

/*
 * An -o file others may write (a logrotate "create 0666", a chmod by hand):
 * anyone could append lines that look like ours, so that permission goes
 * when it is opened; the lines in it stay, and the mode is otherwise kept.
 */
TEST(outfile_takes_write_away_from_others)
{
	struct dir d;
	struct stat st;
	char buf[64];

	REQUIRE(!make_dir(&d));
	CHECK_EQ_INT(redirect(d.file, "{\"type\":\"one\"}\n"), 0);
	REQUIRE(!chmod(d.file, 0666));
	CHECK_EQ_INT(redirect(d.file, "two\n"), 0);
	REQUIRE(!stat(d.file, &st));
	CHECK_EQ_INT(st.st_mode & 07777, 0644);
	REQUIRE(!chmod(d.file, 0660));
	CHECK_EQ_INT(redirect(d.file, NULL), 0);
	REQUIRE(!stat(d.file, &st));
	CHECK_EQ_INT(st.st_mode & 07777, 0640);
	slurp(d.file, buf, sizeof(buf));
	CHECK_STR(buf, "{\"type\":\"one\"}\ntwo\n");
	remove_dir(&d);
}

/*
 * As root every file is "ours": -o appends, and -w and --metrics-file
 * replace, only a file that is empty or holds what they write.  -o
 * /etc/sudoers by a slip of the finger is refused, and the file left whole.
 */
TEST(outfile_writes_only_files_that_hold_its_own_output)
{
	static const char *const text_ours[] = {
		"2026-12-06T08:31:00.700Z info final_summary interval=1.04s\n",
		"2026-11-21T23:43:06.593123Z   15843 python3\n",
		"{\"type\":\"summary\",\"version\":4}\n",
		"tcptrail 0.1.0: hooks for this kernel (--attach auto)\n",
		"ladder legend: arrows are segments\n",
		"\033[1m2026-12-06T08:31:00.700Z\n",
	};
	static const char *const text_not[] = {
		"root:x:0:0:root:/root:/bin/bash\n",
		"127.0.0.1\tlocalhost\n",
		"2026-12-06T08:31:00.700000+00:00 host sshd[1]: x\n",	/* rsyslog's */
		"2026-12-06\n",
		"{\"other\":1}\n",
		"\x7f" "ELF",
		"",
	};
	struct dir d;
	char buf[128];
	int fd;

	for (size_t i = 0; i < sizeof(text_ours) / sizeof(text_ours[0]); i++) {
		CHECK(outfile__holds_ours("-o", text_ours[i], strlen(text_ours[i])));
		CHECK(!outfile__holds_ours("-w", text_ours[i], strlen(text_ours[i])));
	}
	for (size_t i = 0; i < sizeof(text_not) / sizeof(text_not[0]); i++)
		CHECK(!outfile__holds_ours("-o", text_not[i], strlen(text_not[i])));
	/* a copytruncate that cut the first line: the second tells */
	{
		static const char cut[] = "ry\n2026-12-06T08:31:00.700Z info\n",
				  third[] = "ry\nroot:x:0:0\n2026-12-06T08:31:00.700Z\n";

		CHECK(outfile__holds_ours("-o", cut, strlen(cut)));
		CHECK(!outfile__holds_ours("-o", third, strlen(third)));
	}
	/* cut short inside the time: not enough to tell, so not ours */
	CHECK(!outfile__holds_ours("-o", "2026-12-06T08:31:00.700", 23));
	CHECK(outfile__holds_ours("-w", "TCPTRAIL\x04", 9));
	/* gzip: only of a capture, not of anything else (a rotated log, an archive) */
	{
		unsigned char gz[128];
		uLongf len;
		z_stream z = { 0 };

		for (int i = 0; i < 2; i++) {
			const char *text = i ? "TCPTRAIL\x04\0\0\0 the rest" : "1\n2\n3\n4\n5\n6\n";

			memset(&z, 0, sizeof(z));
			REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
					     Z_DEFAULT_STRATEGY) == Z_OK);
			z.next_in = (Bytef *)text;
			z.avail_in = (uInt)(i ? 19 : strlen(text));
			z.next_out = gz;
			z.avail_out = sizeof(gz);
			REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
			len = sizeof(gz) - z.avail_out;
			deflateEnd(&z);
			CHECK(outfile__holds_ours("-w", (const char *)gz, len) == (i == 1));
		}
	}
	CHECK(!outfile__holds_ours("-w", "\x1f\x8b\x08", 3));
	CHECK(!outfile__holds_ours("-w", "TCPTRAI", 7));
	CHECK(outfile__holds_ours("--metrics-file", "# HELP tcptrail_build_info 1", 28));
	CHECK(!outfile__holds_ours("--metrics-file", "# HELP node_load1 x", 19));

	REQUIRE(!make_dir(&d));
	fd = open(d.file, O_WRONLY | O_CREAT, 0640);
	REQUIRE(fd >= 0 && write(fd, text_not[0], strlen(text_not[0])) > 0);
	close(fd);
	CHECK_EQ_INT(redirect(d.file, "x\n"), -EPERM);
	CHECK_EQ_INT(outfile__check("-o", d.file), -EPERM);
	CHECK_EQ_INT(outfile__check("-w", d.file), -EPERM);
	CHECK_EQ_INT(outfile__check("--metrics-file", d.file), -EPERM);
	slurp(d.file, buf, sizeof(buf));
	CHECK_STR(buf, text_not[0]);
	/* emptied, it is anyone's to use */
	REQUIRE(!truncate(d.file, 0));
	CHECK_EQ_INT(outfile__check("-o", d.file), 0);
	CHECK_EQ_INT(redirect(d.file, "x\n"), 0);
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

/*
 * -w FILE --rotate-size: the rotated files that exist now are checked at
 * start, as FILE is, and so is the length of the longest name the set may
 * take; before, the rotation that reached one stopped tracing mid-run.
 */
TEST(outfile_a_rotated_set_is_checked_before_tracing)
{
	struct dir d;
	char cap[128], p[160], xs[251], longname[320];
	int err, null, ret[5];

	REQUIRE(!make_dir(&d));
	snprintf(cap, sizeof(cap), "%s/cap", d.path);
	fflush(stderr);
	err = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	ret[0] = outfile__check_set("-w", cap);
	/* cap.3 a directory, then a symbolic link, then someone else's text */
	snprintf(p, sizeof(p), "%s.3", cap);
	ret[1] = mkdir(p, 0700) ? -errno : outfile__check_set("-w", cap);
	ret[2] = rmdir(p) || symlink("/etc/passwd", p) ? -errno : outfile__check_set("-w", cap);
	if (!unlink(p)) {
		int fd = open(p, O_WRONLY | O_CREAT, 0600);

		ret[3] = fd < 0 || write(fd, "hello\n", 6) != 6 ? -errno : outfile__check_set("-w", cap);
		if (fd >= 0)
			close(fd);
	} else {
		ret[3] = -errno;
	}
	/* a name that leaves no room for ".N" */
	memset(xs, 'x', 250);
	xs[250] = '\0';
	snprintf(longname, sizeof(longname), "%s/%s", d.path, xs);
	ret[4] = outfile__check_set("-w", longname);
	fflush(stderr);
	dup2(err, STDERR_FILENO);
	close(err);
	close(null);
	CHECK_EQ_INT(ret[0], 0);
	CHECK_EQ_INT(ret[1], -EISDIR);
	CHECK_EQ_INT(ret[2], -ELOOP);
	CHECK_EQ_INT(ret[3], -EPERM);
	CHECK_EQ_INT(ret[4], -ENAMETOOLONG);
	remove_dir(&d);
}

static void give_up(int sig)
{
	(void)sig;
	tt_stdout_give_up_if_writing();
}

/*
 * In a child whose stdout is a full pipe nobody reads: a write waits; a stop
 * signal that gives stdout up ends it (ECANCELED), and fd 1 is left as it
 * was, blocking (a terminal the shell shares).  Exit status: 0, or the
 * first check that failed.
 */
static int stuck_stdout_child(void)
{
	struct sigaction sa = { .sa_handler = give_up };
	char line[4096];
	int p[2], fl;

	if (pipe(p) || fcntl(p[1], F_SETFL, O_NONBLOCK))
		return 10;
	memset(line, 'x', sizeof(line));
	while (write(p[1], line, sizeof(line)) > 0)
		;
	if (errno != EAGAIN || fcntl(p[1], F_SETFL, 0) || dup2(p[1], STDOUT_FILENO) < 0)
		return 11;
	if (tt_stdout_track() || sigaction(SIGALRM, &sa, NULL))
		return 12;
	alarm(1);
	fputs("a line that waits\n", stdout);
	fflush(stdout);
	if (!ferror(stdout))
		return 1;
	if (tt_stdout_errno() != ECANCELED)
		return 2;
	fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return 3;
	/* and none waits again */
	clearerr(stdout);
	fputs("another\n", stdout);
	fflush(stdout);
	if (!ferror(stdout))
		return 4;
	return 0;
}

TEST(outfile_stdout_given_up_stops_waiting_and_stays_blocking)
{
	pid_t pid = fork();
	int status = -1, i;

	REQUIRE(pid >= 0);
	if (!pid)
		_exit(stuck_stdout_child());
	/* bounded: a write that still waits is a failure, not a hang */
	for (i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	if (i == 100) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(!"the write still waits 5 s after the signal");
		return;
	}
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
}
