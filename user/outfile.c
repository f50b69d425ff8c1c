// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: the files we write (-o, -w, --metrics-file's checks),
 * opened one careful way (outfile.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <zlib.h>
#include "outfile.h"
#include "util.h"

/* Does this line begin as one tcptrail prints first? (-o) */
static bool line_ours(const char *line, size_t n)
{
	static const char *const text[] = { "{\"type\":\"", "tcptrail ", "ladder legend:", "\033[" };
	static const char iso[] = "dddd-dd-ddTdd:dd:dd.";
	size_t i;

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (n >= strlen(text[i]) && !memcmp(line, text[i], strlen(text[i])))
			return true;
	for (i = 0; i < sizeof(iso) - 1; i++)
		if (i >= n || (iso[i] == 'd' ? line[i] < '0' || line[i] > '9' : line[i] != iso[i]))
			return false;
	/* the fraction, then Z: not an rsyslog line, whose time ends +00:00 */
	while (i < n && line[i] >= '0' && line[i] <= '9')
		i++;
	return i < n && line[i] == 'Z';
}

/*
 * Does head, the first n bytes of an existing file, begin as a file of ours
 * that opt writes does?  -w: a capture ("TCPTRAIL", or gzip).  --metrics-file:
 * our Prometheus text.  -o: its first line, or its second (a logrotate
 * copytruncate may cut the file inside a line), begins as a line tcptrail
 * prints first: a JSON record, a human line's time
 * ("2026-12-06T08:31:00.700Z"), a colored line, --probe's or the ladder's
 * heading.  Root may write anywhere, and a slip of the finger (-o
 * /etc/sudoers, -w /etc/passwd) must not append to or wipe a file that is
 * not ours.
 */
/*
 * A gzip stream whose first bytes, inflated, are a capture's magic: any
 * other .gz (an archive, a rotated log) is not ours to overwrite.
 */
static bool gzip_of_capture(const char *head, size_t n)
{
	unsigned char out[8];
	z_stream z = { .next_in = (Bytef *)head, .avail_in = (uInt)n,
		       .next_out = out, .avail_out = sizeof(out) };
	bool ours;
	int r;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return false;
	r = inflate(&z, Z_SYNC_FLUSH);
	ours = (r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR) && !z.avail_out &&
	       !memcmp(out, "TCPTRAIL", sizeof(out));
	inflateEnd(&z);
	return ours;
}

bool outfile__holds_ours(const char *opt, const char *head, size_t n)
{
	const char *nl;

#define STARTS(lit) (n >= sizeof(lit) - 1 && !memcmp(head, lit, sizeof(lit) - 1))
	if (!strcmp(opt, "-w"))
		return STARTS("TCPTRAIL") || (STARTS("\x1f\x8b") && gzip_of_capture(head, n));
	if (!strcmp(opt, "--metrics-file"))
		return STARTS("# HELP tcptrail_");
#undef STARTS
	if (line_ours(head, n))
		return true;
	nl = memchr(head, '\n', n);
	return nl && line_ours(nl + 1, n - (size_t)(nl + 1 - head));
}

/*
 * An existing file that holds something (st, as fstat or lstat saw it) may
 * be written only if it is ours (outfile__holds_ours): read its head by
 * name, and make sure the name still leads to st's inode.  0, or -EPERM
 * after one line.  A file the caller may not read is its own to spoil.
 */
static int check_ours(const char *opt, const char *path, const struct stat *st, bool truncate)
{
	char head[4096];
	struct stat now;
	ssize_t n;
	int fd, err;

	if (!st->st_size)
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == EACCES)
		return 0;
	if (fd < 0 || fstat(fd, &now) || (n = pread(fd, head, sizeof(head), 0)) < 0) {
		err = -errno;
		tt_err("%s %s: read its start: %s", opt, path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	close(fd);
	if (now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		tt_err("%s %s: replaced while it was checked; refusing to write to it", opt, path);
		return -EPERM;
	}
	if (outfile__holds_ours(opt, head, (size_t)n))
		return 0;
	tt_err("%s %s: holds something other than tcptrail's %s; refusing to %s it "
	       "(name a new file, or empty this one)", opt, path,
	       !strcmp(opt, "-w") ? "capture" : !strcmp(opt, "-o") ? "output" : "metrics",
	       !strcmp(opt, "-o") && !truncate ? "append to" : "overwrite");
	return -EPERM;
}

/*
 * The user named this path, and we are likely root: never follow a symlink
 * (a planted /tmp/x -> /etc/shadow), never write into a FIFO or a device,
 * and write only to a regular file that is ours, has one name, and is empty
 * or holds what we write there.  The one open for every file we write (-o,
 * -w): a fix here is a fix for both.
 */
int outfile__open(const struct outfile_how *how, const char *path)
{
	const char *opt = how->opt;
	struct stat st;
	int fd, err;

	/*
	 * O_NOFOLLOW: a link planted at /tmp/tt.log -> /etc/passwd is not
	 * followed.  O_NONBLOCK: a FIFO without a reader fails (ENXIO) rather
	 * than hanging start-up, and is refused below either way.
	 */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
		  (how->truncate ? 0 : O_APPEND), how->mode);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)
			tt_err("%s %s: is a symbolic link; refusing to follow it", opt, path);
		else if (err == -ENXIO)
			tt_err("%s %s: not a regular file; refusing to write to it", opt, path);
		else
			tt_err("%s %s %s: %s", how->truncate ? "create" : "open", how->what, path,
			       strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		tt_err("stat %s %s: %s", how->what, path, strerror(-err));
		goto fail;
	}
	err = -EPERM;
	if (!S_ISREG(st.st_mode)) {
		tt_err("%s %s: not a regular file; refusing to write to it", opt, path);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		tt_err("%s %s: %sbelongs to uid %u; refusing to %s it", opt, path,
		       how->truncate ? "exists and " : "", (unsigned int)st.st_uid,
		       how->truncate ? "overwrite" : "append to");
		goto fail;
	}
	/* a hard link someone made to a file of ours elsewhere */
	if (st.st_nlink > 1) {
		tt_err("%s %s: %s %u hard links; refusing to %s it", opt, path,
		       how->truncate ? "exists with" : "has", (unsigned int)st.st_nlink,
		       how->truncate ? "overwrite" : "append to");
		goto fail;
	}
	err = check_ours(opt, path, &st, how->truncate);
	if (err)
		goto fail;
	err = -EPERM;
	/* before the truncation: the file another tcptrail writes is left whole */
	if (how->lock && flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EWOULDBLOCK)
			tt_err("%s %s: a running tcptrail is writing it (it holds the file's lock); "
			       "refusing to %s it", opt, path, how->truncate ? "overwrite" : "append to");
		else
			tt_err("lock %s %s: %s", how->what, path, strerror(-err));
		goto fail;
	}
	/*
	 * One appended to that others may write: anyone could add lines that
	 * look like ours (a fake "no leak"), so their write permission goes.
	 */
	if (!how->truncate && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		mode_t mode = st.st_mode & 07777 & ~(mode_t)(S_IWGRP | S_IWOTH);

		if (fchmod(fd, mode)) {
			err = -errno;
			tt_err("%s %s: writable by %s, and its mode cannot be changed: %s", opt,
			       path, st.st_mode & S_IWOTH ? "anyone" : "its group", strerror(-err));
			goto fail;
		}
		tt_warn("warning: %s %s was writable by %s (mode %04o): made %04o, so that no "
			"one else can append lines to it", opt, path,
			st.st_mode & S_IWOTH ? "anyone" : "its group",
			(unsigned int)(st.st_mode & 07777), (unsigned int)mode);
	}
	/* a file that passes is truncated and made 0600, as tcpdump -w overwrites */
	if ((how->truncate && (ftruncate(fd, 0) || fchmod(fd, how->mode))) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		err = -errno;
		tt_err("%s %s %s: %s", how->truncate ? "prepare" : "open", how->what, path,
		       strerror(-err));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int outfile__stdout(const char *path)
{
	int fd, err;

	fd = outfile__open(&(struct outfile_how){ .opt = "-o", .what = "output", .lock = true,
						  .mode = 0640 }, path);
	if (fd < 0)
		return fd;
	fflush(stdout);
	/* dup2 clears close-on-exec on fd 1, as stdout should have it */
	if (dup2(fd, STDOUT_FILENO) < 0) {
		err = -errno;
		tt_err("make %s stdout: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	close(fd);
	/* a write error on the old file is no error of the new one */
	clearerr(stdout);
	return 0;
}

void outfile__forget_made(const char *path)
{
	struct stat named, out;

	fflush(stdout);
	/* the name still leads to our stdout, and nothing was written to it */
	if (!lstat(path, &named) && !fstat(STDOUT_FILENO, &out) && named.st_dev == out.st_dev &&
	    named.st_ino == out.st_ino && !out.st_size)
		unlink(path);
}

bool outfile__busy(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	bool busy;

	if (fd < 0)
		return false;
	/* a shared lock of our own, on our own open file: the writer's exclusive one refuses it */
	busy = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* Filesystems whose files are kernel interfaces, not storage. */
static const char *pseudo_fs(long type)
{
	switch (type) {
	case PROC_SUPER_MAGIC: return "procfs";
	case SYSFS_MAGIC: return "sysfs";
	case DEBUGFS_MAGIC: return "debugfs";
	case TRACEFS_MAGIC: return "tracefs";
	case CGROUP_SUPER_MAGIC: return "cgroupfs";
	case CGROUP2_SUPER_MAGIC: return "cgroup2";
	case BPF_FS_MAGIC: return "bpffs";
	case SECURITYFS_MAGIC: return "securityfs";
	case NSFS_MAGIC: return "nsfs";
	case EFIVARFS_MAGIC: return "efivarfs";
	case DEVPTS_SUPER_MAGIC: return "devpts";
	}
	return NULL;
}

static int check_fs(const char *opt, const char *path, const char *at)
{
	struct statfs sf;
	const char *fs;

	if (statfs(at, &sf))
		return 0;	/* the open says why, if it cannot */
	fs = pseudo_fs((long)sf.f_type);
	if (!fs)
		return 0;
	if (at == path)
		tt_err("%s %s: is on %s, a kernel interface, not storage; refusing to write to it",
		       opt, path, fs);
	else
		tt_err("%s %s: %s is on %s, a kernel interface, not storage; refusing to write to it",
		       opt, path, at, fs);
	return -EPERM;
}

/* The directory part of path, "." for a bare name; false if too long. */
static bool dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		snprintf(dir, len, ".");
		return true;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return false;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return true;
}

/* name is base "." and digits only (a rotated capture's name)? */
static bool rotated_name(const char *name, const char *base, size_t blen)
{
	const char *d = name + blen + 1;

	if (strncmp(name, base, blen) || name[blen] != '.' || !*d)
		return false;
	for (; *d; d++)
		if (*d < '0' || *d > '9')
			return false;
	return true;
}

/* A file named base, or base.N in its directory, that its writer holds locked. */
static bool set_busy(const char *base, char *which, size_t len)
{
	char dir[PATH_MAX], p[PATH_MAX];
	const char *name = strrchr(base, '/');
	struct dirent *de;
	bool busy = false;
	size_t blen;
	DIR *d;

	if (outfile__busy(base)) {
		snprintf(which, len, "%s", base);
		return true;
	}
	name = name ? name + 1 : base;
	blen = strlen(name);
	if (!blen || !dir_of(base, dir, sizeof(dir)) || !(d = opendir(dir)))
		return false;
	while (!busy && (de = readdir(d))) {
		/* named as the user named base: relative stays relative */
		if (!rotated_name(de->d_name, name, blen) ||
		    snprintf(p, sizeof(p), "%.*s%s", (int)(name - base), base,
			     de->d_name) >= (int)sizeof(p))
			continue;
		if ((busy = outfile__busy(p)))
			snprintf(which, len, "%s", p);
	}
	closedir(d);
	return busy;
}

bool outfile__set_busy(const char *path, char *which, size_t len)
{
	char base[PATH_MAX];
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

	if (set_busy(path, which, len))
		return true;
	/* path.N: the set of path, whose writer may be on another of its files by now */
	if (!dot || (slash && dot < slash) || !dot[1] || strspn(dot + 1, "0123456789") !=
	    strlen(dot + 1) || (size_t)(dot - path) >= sizeof(base))
		return false;
	memcpy(base, path, dot - path);
	base[dot - path] = '\0';
	return set_busy(base, which, len);
}

/*
 * Said before anything is attached: path, or a file of the capture set it
 * is part of (path.N, or path itself is one), is being written.
 */
static int check_busy(const char *opt, const char *path)
{
	char which[PATH_MAX];

	if (!outfile__set_busy(path, which, sizeof(which)))
		return 0;
	if (!strcmp(which, path))
		tt_err("%s %s: a running tcptrail is writing it (it holds the file's lock); "
		       "refusing to write to it", opt, path);
	else
		tt_err("%s %s: a running tcptrail is writing %s, of the same rotated set; "
		       "refusing to write to it", opt, path, which);
	return -EBUSY;
}

int outfile__check(const char *opt, const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	int err;

	if (!lstat(path, &st)) {
		if (S_ISLNK(st.st_mode)) {
			tt_err("%s %s: is a symbolic link; refusing to follow it", opt, path);
			return -ELOOP;
		}
		if (S_ISDIR(st.st_mode)) {
			tt_err("%s %s: is a directory; name a file in it", opt, path);
			return -EISDIR;
		}
		if (!S_ISREG(st.st_mode)) {
			tt_err("%s %s: not a regular file; refusing to write to it", opt, path);
			return -EPERM;
		}
		/* what the open refuses too, said before anything is attached */
		if (st.st_uid != geteuid()) {
			tt_err("%s %s: belongs to uid %u; refusing to write to it", opt, path,
			       (unsigned int)st.st_uid);
			return -EPERM;
		}
		if (st.st_nlink > 1) {
			tt_err("%s %s: has %u hard links; refusing to write to it", opt, path,
			       (unsigned int)st.st_nlink);
			return -EPERM;
		}
		err = check_busy(opt, path);
		if (!err)
			err = check_fs(opt, path, path);
		if (!err)
			err = check_ours(opt, path, &st, !!strcmp(opt, "-o"));
		/* a read-only mount, an immutable or append-only file: said before attaching */
		if (!err && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS)) {
			err = -errno;
			tt_err("%s %s: cannot write to it: %s", opt, path, strerror(-err));
		}
		return err;
	}
	if (errno != ENOENT) {
		err = -errno;
		tt_err("%s %s: %s", opt, path, strerror(-err));
		return err;
	}
	if (!dir_of(path, dir, sizeof(dir))) {
		tt_err("%s %s: %s", opt, path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (stat(dir, &st)) {
		err = -errno;
		tt_err("%s %s: directory %s: %s", opt, path, dir, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		tt_err("%s %s: %s is not a directory", opt, path, dir);
		return -ENOTDIR;
	}
	err = check_fs(opt, path, dir);
	if (!err)
		err = check_busy(opt, path);
	if (err)
		return err;
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS)) {
		err = -errno;
		tt_err("%s %s: cannot create it in %s: %s", opt, path, dir, strerror(-err));
		return err;
	}
	return 0;
}

int outfile__check_set(const char *opt, const char *path)
{
	const char *name = strrchr(path, '/');
	char dir[PATH_MAX], p[PATH_MAX];
	struct dirent *de;
	size_t blen;
	int err = 0;
	DIR *d;

	name = name ? name + 1 : path;
	blen = strlen(name);
	/* the longest name it may take: ".4294967295" */
	if (blen + 11 > NAME_MAX || strlen(path) + 11 >= PATH_MAX) {
		tt_err("%s %s: too long a name for its rotated files (%s.N); name a shorter one",
		       opt, path, path);
		return -ENAMETOOLONG;
	}
	if (!dir_of(path, dir, sizeof(dir)) || !(d = opendir(dir)))
		return 0;	/* outfile__check() said what was wrong with it */
	while (!err && (de = readdir(d))) {
		/* named as the user named path: relative stays relative */
		if (!rotated_name(de->d_name, name, blen) ||
		    snprintf(p, sizeof(p), "%.*s%s", (int)(name - path), path,
			     de->d_name) >= (int)sizeof(p))
			continue;
		err = outfile__check(opt, p);
	}
	closedir(d);
	return err;
}

/* The directory through realpath, then the last component; false if none. */
static bool canonical(const char *path, char *out, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *base = strrchr(path, '/');

	if (!dir_of(path, dir, sizeof(dir)) || !realpath(dir, real))
		return false;
	base = base ? base + 1 : path;
	return (size_t)snprintf(out, len, "%s/%s", real, base) < len;
}

bool outfile__same(const char *a, const char *b)
{
	char ca[PATH_MAX + 256], cb[PATH_MAX + 256];
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	if (!stat(a, &sa) && !stat(b, &sb))
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	return canonical(a, ca, sizeof(ca)) && canonical(b, cb, sizeof(cb)) && !strcmp(ca, cb);
}
