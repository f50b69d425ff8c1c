// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The options against this system, before anything is attached or read
 * (the start of the data path: what opts.c parsed, checked here): -N names
 * a network namespace, --cgroup a cgroup v2 directory, and the output files
 * are writable and distinct.  opts.c calls these once every option is known;
 * each prints its own one line and the parse exits 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include "diag.h"
#include "ident.h"
#include "opts.h"
#include "outfile.h"
#include "util.h"

/*
 * -N PATH: a file whose inode is a network namespace (NS_GET_NSTYPE, Linux
 * 4.11; before it, any nsfs file).  -N INODE: live, a namespace some process
 * or /run/netns entry holds now; on replay, any inode (the capture's host's).
 */
static int resolve_netns(struct tt_opts *o, const char *s, bool replay)
{
	char named[PATH_MAX];
	struct statfs sf;
	struct stat st;
	bool number;
	long long v;
	int fd, type;

	if (!s[0]) {
		tt_err("-N/--netns: '' is neither a namespace inode, a name nor a path (see --help)");
		return -EINVAL;
	}
	number = s[0] != '/' && !tt_parse_num(s, 1, UINT32_MAX, &v);
	/* NAME, as ip netns names them (digits too), else a file of that name here */
	if (!strchr(s, '/')) {
		if (snprintf(named, sizeof(named), "/run/netns/%s", s) >= (int)sizeof(named)) {
			tt_err("-N/--netns: '%s' is too long a name", s);
			return -ENAMETOOLONG;
		}
		if (!access(named, F_OK)) {
			s = named;
			number = false;
		} else if (!number && access(s, F_OK)) {
			tt_err("-N/--netns: '%s' is neither a namespace inode, a name in "
			       "/run/netns nor a file (see --help)", s);
			return -ENOENT;
		}
	}
	if (number) {
		if (!replay) {
			fd = diag__open_netns((uint32_t)v);
			if (fd < 0) {
				tt_err("-N/--netns: '%s' is the inode of no network "
					"namespace on this host (none in /proc/*/ns/net or /run/netns)", s);
				return -ENOENT;
			}
			close(fd);
		}
		o->netns = (uint32_t)v;
		return 0;
	}
	/* O_NONBLOCK: a FIFO named by mistake must not hang the parse */
	fd = open(s, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int err = -errno;

		tt_err("-N/--netns: %s: %s", s, strerror(-err));
		return err;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0 && (errno == ENOTTY || errno == EINVAL) && !fstatfs(fd, &sf) &&
	    sf.f_type == NSFS_MAGIC)
		type = CLONE_NEWNET;	/* a kernel before 4.11: nsfs, of a type it cannot tell */
	if (type != CLONE_NEWNET || fstat(fd, &st)) {
		tt_err("-N/--netns: %s is not a network namespace (e.g. "
			"/proc/PID/ns/net, /run/netns/NAME)", s);
		close(fd);
		return -EINVAL;
	}
	close(fd);
	o->netns = (uint32_t)st.st_ino;
	/* what the live run watches for its going */
	snprintf(o->netns_path, sizeof(o->netns_path), "%s", s);
	return 0;
}

/* Two outputs, or an output and the replayed input, that name one file. */
static int check_same_files(const struct tt_opts *o)
{
	const struct { const char *opt, *path; } f[] = {
		{ "-o/--output", o->output_path }, { "-w/--write", o->write_path },
		{ "--metrics-file", o->metrics_path }, { "-r/--read", o->read_path },
	};
	const size_t n = sizeof(f) / sizeof(f[0]);

	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (!f[i].path || !f[j].path || !strcmp(f[j].path, "-") ||
			    !outfile__same(f[i].path, f[j].path))
				continue;
			tt_err("%s %s and %s %s name the same file; give each "
				"its own", f[i].opt, f[i].path, f[j].opt, f[j].path);
			return -EINVAL;
		}
	}
	return 0;
}

/* The length of FILE in "FILE.N", or 0 when path has no such suffix. */
static size_t rotated_stem(const char *path)
{
	size_t n = strlen(path), i = n;

	while (i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9')
		i--;
	return i < n && i > 1 && path[i - 1] == '.' ? i - 1 : 0;
}

/*
 * -r FILE replays FILE.1, FILE.2... after it, and -w FILE --rotate-size
 * writes them: an output that names one of them would destroy the rest of
 * the set before it is read, or be refused at the rotation that reaches it,
 * hours into a run.  set_opt and set_path: -r's or -w's.
 */
static int check_set(const struct tt_opts *o, const char *set_opt, const char *set_path,
		     const char *what)
{
	const struct { const char *opt, *path; } f[] = {
		{ "-o/--output", o->output_path }, { "--metrics-file", o->metrics_path },
	};
	char base[PATH_MAX], stem[PATH_MAX];
	size_t k;

	if (!set_path || !strcmp(set_path, "-"))
		return 0;
	/* -r FILE.N reads FILE's set; -w FILE.N writes FILE.N.1 and on */
	k = strcmp(set_opt, "-r") ? 0 : rotated_stem(set_path);
	snprintf(base, sizeof(base), "%.*s", (int)(k ? k : strlen(set_path)), set_path);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].path || !strcmp(f[i].path, "-"))
			continue;
		k = rotated_stem(f[i].path);
		snprintf(stem, sizeof(stem), "%.*s", (int)(k ? k : strlen(f[i].path)), f[i].path);
		if (!outfile__same(stem, base))
			continue;
		tt_err("%s %s is a file of the rotated capture that %s %s "
			"%s; give it a file of its own", f[i].opt, f[i].path, set_opt, set_path,
			what);
		return -EINVAL;
	}
	return 0;
}

/* The process (thread group) that thread tid is in, from /proc; 0 when unknown. */
static uint32_t tgid_of(uint32_t tid)
{
	char path[40], line[128];
	unsigned int tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %u", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

int tt_opts_check_system(struct tt_opts *o, const char *netns_arg)
{
	if (netns_arg && resolve_netns(o, netns_arg, o->read_path != NULL))
		return 2;
	if (check_same_files(o) || check_set(o, "-r", o->read_path, "replays") ||
	    (o->rotate_bytes && check_set(o, "-w", o->write_path, "writes")))
		return 2;
	if (o->output_path && outfile__check("-o", o->output_path))
		return 2;
	if (o->write_path && (outfile__check("-w", o->write_path) ||
			      (o->rotate_bytes && outfile__check_set("-w", o->write_path))))
		return 2;
	/* replaced at every interval: never a device, a FIFO or a link in its place */
	if (o->metrics_path && outfile__check("--metrics-file", o->metrics_path))
		return 2;
	/* live, the pid is this host's; a replay's may be gone, or another host's */
	if (o->pid && !o->read_path && kill((pid_t)o->pid, 0) && errno == ESRCH) {
		tt_err("-p/--pid: no process %u on this host", o->pid);
		return 2;
	}
	/* a thread's id (top -H shows them): its records carry the process's */
	if (o->pid && !o->read_path) {
		uint32_t tgid = tgid_of(o->pid);

		if (tgid && tgid != o->pid) {
			tt_err("-p/--pid: %u is a thread of process %u; give -p %u", o->pid, tgid,
			       tgid);
			return 2;
		}
	}
	return 0;
}

/* This host's cgroup v2 mount into mount: 0, or -ENOENT. */
static int v2_mount(char *mount, size_t len)
{
	char *mi = NULL;
	size_t cap = 0;
	FILE *f;
	int err = -ENOENT;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return err;
	if (getdelim(&mi, &cap, '\0', f) >= 0 && !ident__find_mount(mi, mount, len))
		err = 0;
	free(mi);
	fclose(f);
	return err;
}

/* An absolute path without "//", "/./", "/../" or a trailing '/', in place. */
static void lexical_path(char *path)
{
	char *out = path + 1, *in = path;

	while (*in) {
		char *end;
		size_t len;
		bool last;

		while (*in == '/')
			in++;
		end = strchrnul(in, '/');
		len = (size_t)(end - in);
		/* out never passes in, but the '/' after a name kept may land on its NUL */
		last = !*end;
		if (len == 2 && in[0] == '.' && in[1] == '.') {
			/* back over the last name kept, never past the root */
			while (out > path + 1 && out[-1] == '/')
				out--;
			while (out > path + 1 && out[-1] != '/')
				out--;
		} else if (len && !(len == 1 && in[0] == '.')) {
			memmove(out, in, len);
			out += len;
			*out++ = '/';
		}
		if (last)
			break;
		in = end;
	}
	if (out > path + 1)
		out--;
	*out = '\0';
}

/* path less prefix, if path is prefix or below it. */
static bool strip_prefix(char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!n || strncmp(path, prefix, n) || (path[n] && path[n] != '/'))
		return false;
	if (!path[n])
		strcpy(path, "/");
	else
		memmove(path, path + n, strlen(path + n) + 1);
	return true;
}

/*
 * --cgroup live: the kernel compares ids, so the path must exist now, under
 * the cgroup v2 mount.  On replay it names a path in the capture's names,
 * which may be another host's: only the spelling is checked, and a path
 * under a v2 mount (this host's, or where Linux mounts one), as a live run
 * takes it, loses the mount: the capture's names are paths in the hierarchy.
 */
int tt_opts_resolve_cgroup(struct tt_opts *o)
{
	char mount[4096], canon[sizeof(o->cgroup_path)], why[256];

	if (!o->cgroup_path[0])
		return 0;
	if (o->read_path) {
		/* "/a//b/./c/../" is "/a/b", as a live run's realpath() makes it */
		lexical_path(o->cgroup_path);
		if (!(!v2_mount(mount, sizeof(mount)) && strip_prefix(o->cgroup_path, mount)) &&
		    !strip_prefix(o->cgroup_path, "/sys/fs/cgroup/unified"))
			strip_prefix(o->cgroup_path, "/sys/fs/cgroup");
		return 0;
	}
	if (v2_mount(mount, sizeof(mount))) {
		tt_err("--cgroup: %s: this host has no cgroup v2 mount (see --help)",
			o->cgroup_path);
		return -ENOENT;
	}
	if (ident__resolve_path(mount, o->cgroup_path, &o->cgroup_id, &o->cgroup_level, canon,
				sizeof(canon), why, sizeof(why))) {
		tt_err("--cgroup: %s: %s (see --help)", o->cgroup_path, why);
		return -EINVAL;
	}
	strcpy(o->cgroup_path, canon);
	return 0;
}
