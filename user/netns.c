// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Identity: every network namespace on the host (netns.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "netns.h"

/* /proc entries looked at in one scan: every loop is bounded */
#define MAX_PROC_SCAN	(1u << 22)
/* namespaces kept; a host with more is not one we can dump every interval */
#define MAX_NETNS	(1u << 16)
/* entries read from one bind-mount directory */
#define MAX_MOUNTS	(1u << 16)
/* lines read from mountinfo: a container host has thousands of mounts */
#define MAX_MOUNTINFO	(1u << 20)
#ifndef NSFS_MAGIC
#define NSFS_MAGIC	0x6e736673
#endif

struct ns_entry {
	uint32_t inode;
	dev_t dev;		/* nsfs's; a stray file may share the inode number */
	int fd;
	uint32_t gen;		/* the last scan that found it */
	char *path;
};

struct netns_set {
	char *proc_dir;
	char **mount_dirs;
	struct ns_entry *e;
	size_t n, cap;
	uint32_t gen;
	size_t added, dropped, denied;
	char denied_path[64];		/* the first link we could not read, this scan */
	/* the last hit: the processes of one namespace come in runs */
	size_t last;
	/*
	 * This scan's namespaces held by no fd for want of one: their inodes
	 * in a list and, for the look-up at every process, an open-addressing
	 * table (0 is free: no namespace has inode 0)
	 */
	uint32_t *short_ino, *short_tab;
	size_t n_short, cap_short, tab_size;
	int short_err;			/* EMFILE (our limit) or ENFILE (the system's) */
	int short_fd;			/* the fd number refused first, or -1 */
	bool spent;			/* no more fds this scan: none is opened */
	dev_t nsfs_dev;			/* our own namespace's: a stray file is not counted */
	bool nsfs_known;
	uint64_t limit;			/* the soft RLIMIT_NOFILE, read at each scan */
};

static const char *const default_mounts[] = { "/run/netns", "/var/run/netns", NULL };

struct netns_set *netns_set__new_at(const char *proc_dir, const char *const *mount_dirs)
{
	struct netns_set *s = calloc(1, sizeof(*s));
	size_t n = 0;

	if (!s)
		return NULL;
	while (mount_dirs && mount_dirs[n])
		n++;
	s->proc_dir = strdup(proc_dir);
	s->mount_dirs = calloc(n + 1, sizeof(*s->mount_dirs));
	if (!s->proc_dir || !s->mount_dirs)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		s->mount_dirs[i] = strdup(mount_dirs[i]);
		if (!s->mount_dirs[i])
			goto fail;
	}
	return s;
fail:
	netns_set__free(s);
	return NULL;
}

struct netns_set *netns_set__new(void)
{
	return netns_set__new_at("/proc", default_mounts);
}

void netns_set__free(struct netns_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		close(s->e[i].fd);
		free(s->e[i].path);
	}
	for (size_t i = 0; s->mount_dirs && s->mount_dirs[i]; i++)
		free(s->mount_dirs[i]);
	free(s->mount_dirs);
	free(s->proc_dir);
	free(s->e);
	free(s->short_ino);
	free(s->short_tab);
	free(s);
}

int netns_set__find(const struct netns_set *s, uint32_t inode)
{
	if (s->last < s->n && s->e[s->last].inode == inode)
		return (int)s->last;
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].inode == inode)
			return (int)i;
	return -1;
}

static int find_dev(const struct netns_set *s, dev_t dev, uint32_t inode)
{
	int i = netns_set__find(s, inode);

	return i >= 0 && s->e[i].dev == dev ? i : -1;
}

/*
 * A bind mount may be of any namespace type, and a file in /run/netns may
 * be no namespace at all (a mount that failed halfway).
 */
static bool is_netns(int fd)
{
	struct statfs sf;
	int type;

	if (fstatfs(fd, &sf) || sf.f_type != NSFS_MAGIC)
		return false;
	type = ioctl(fd, NS_GET_NSTYPE);
	/* before Linux 4.11 nsfs cannot say; trust the name */
	return type == CLONE_NEWNET || (type < 0 && errno == ENOTTY);
}

static size_t short_slot(const struct netns_set *s, uint32_t inode)
{
	size_t i = (inode * 2654435761u) & (s->tab_size - 1);

	while (s->short_tab[i] && s->short_tab[i] != inode)
		i = (i + 1) & (s->tab_size - 1);
	return i;
}

static bool is_short(const struct netns_set *s, uint32_t inode)
{
	return s->tab_size && s->short_tab[short_slot(s, inode)] == inode;
}

/* Namespace inode found, and no fd to hold it by: counted once, with why. */
static void note_short(struct netns_set *s, uint32_t inode, int err, int fd)
{
	if (is_short(s, inode) || s->n_short >= MAX_NETNS)
		return;
	/* the table at most half full */
	if (2 * (s->n_short + 1) > s->tab_size) {
		size_t size = s->tab_size ? s->tab_size * 2 : 64;
		uint32_t *tab = calloc(size, sizeof(*tab)), *old = s->short_tab;
		size_t old_size = s->tab_size;

		if (!tab)
			return;
		s->short_tab = tab;
		s->tab_size = size;
		for (size_t i = 0; i < old_size; i++)
			if (old[i])
				s->short_tab[short_slot(s, old[i])] = old[i];
		free(old);
	}
	if (s->n_short == s->cap_short) {
		size_t cap = s->cap_short ? s->cap_short * 2 : 16;
		uint32_t *l = realloc(s->short_ino, cap * sizeof(*l));

		if (!l)
			return;
		s->short_ino = l;
		s->cap_short = cap;
	}
	s->short_tab[short_slot(s, inode)] = inode;
	s->short_ino[s->n_short++] = inode;
	s->spent = true;
	if (!s->short_err)
		s->short_err = err;
	if (s->short_fd < 0 && fd >= 0)
		s->short_fd = fd;
}

/*
 * Whether holding fd leaves fewer than NETNS_FDS_SPARE descriptors under
 * the limit.  open() returns the lowest free number, so every number below
 * fd is taken: fd + 1 are in use at least.
 */
static bool over_budget(const struct netns_set *s, int fd)
{
	return (uint64_t)fd + 1 + NETNS_FDS_SPARE > s->limit;
}

/* always: ours, which the work needs in any case, whatever the budget */
static int add(struct netns_set *s, const char *path, dev_t dev, uint32_t inode, bool always)
{
	struct ns_entry *e;
	struct stat st;
	int fd;

	if (s->n >= MAX_NETNS)
		return -E2BIG;
	/* spent earlier in this scan: none is freed before its end */
	if (!always && s->spent) {
		note_short(s, inode, EMFILE, -1);
		return -EMFILE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			int err = errno;

			note_short(s, inode, err, -1);
			return -err;
		}
		return -errno;
	}
	/* the process may have exited and its pid been reused since the stat */
	if (fstat(fd, &st) || (uint32_t)st.st_ino != inode || st.st_dev != dev || !is_netns(fd)) {
		close(fd);
		return -ESRCH;
	}
	if (!always && over_budget(s, fd)) {
		close(fd);
		note_short(s, inode, EMFILE, fd);
		return -EMFILE;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct ns_entry *ne = realloc(s->e, cap * sizeof(*ne));

		if (!ne) {
			close(fd);
			return -ENOMEM;
		}
		s->e = ne;
		s->cap = cap;
	}
	e = &s->e[s->n];
	e->path = strdup(path);
	if (!e->path) {
		close(fd);
		return -ENOMEM;
	}
	e->inode = inode;
	e->dev = dev;
	e->fd = fd;
	e->gen = s->gen;
	s->last = s->n++;
	s->added++;
	return 0;
}

static void note_denied(struct netns_set *s, const char *path)
{
	if (!s->denied++)
		snprintf(s->denied_path, sizeof(s->denied_path), "%s", path);
}

/* One candidate path: mark it seen, or add it (always: ours, the first). */
static void visit(struct netns_set *s, const char *path, bool always)
{
	struct stat st;
	int i;

	/* stat() follows the magic link to the nsfs inode */
	if (stat(path, &st)) {
		if (errno == EACCES || errno == EPERM)
			note_denied(s, path);
		return;
	}
	i = find_dev(s, st.st_dev, (uint32_t)st.st_ino);
	if (i >= 0) {
		s->e[i].gen = s->gen;
		s->last = (size_t)i;
		return;
	}
	/* ours is nsfs; a file on another filesystem is no namespace to count short */
	if (always && !s->nsfs_known) {
		s->nsfs_dev = st.st_dev;
		s->nsfs_known = true;
	}
	if (is_short(s, (uint32_t)st.st_ino) ||
	    (s->spent && s->nsfs_known && st.st_dev != s->nsfs_dev))
		return;
	if (add(s, path, st.st_dev, (uint32_t)st.st_ino, always) == -EACCES)
		note_denied(s, path);
}

static bool all_digits(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* A mountinfo path with its \ooo escapes (space, tab, newline, backslash) undone. */
static void unescape(const char *in, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++, o++) {
		if (in[i] == '\\' && i + 3 < n && in[i + 1] >= '0' && in[i + 1] <= '3' &&
		    in[i + 2] >= '0' && in[i + 2] <= '7' && in[i + 3] >= '0' && in[i + 3] <= '7') {
			out[o] = (char)((in[i + 1] - '0') << 6 | (in[i + 2] - '0') << 3 |
					(in[i + 3] - '0'));
			i += 3;
		} else {
			out[o] = in[i];
		}
	}
	out[o] = '\0';
}

/*
 * Every network namespace bind-mounted anywhere, as mountinfo shows them:
 * root "net:[INODE]", type nsfs.  Beyond /run/netns, tools pin namespaces
 * in places of their own (docker's /run/docker/netns, podman's per-user
 * directory), and one may outlive its processes there.
 */
static void scan_mountinfo(struct netns_set *s)
{
	char path[PATH_MAX], *line = NULL;
	unsigned int lines = 0;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/mountinfo", s->proc_dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0 && lines++ < MAX_MOUNTINFO) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - TYPE SOURCE ... */
		char *root = line, *mnt, *end, *dash;

		for (int field = 0; field < 3 && root; field++) {
			root = strchr(root, ' ');
			root = root ? root + 1 : NULL;
		}
		if (!root || strncmp(root, "net:[", 5))
			continue;
		mnt = strchr(root, ' ');
		dash = mnt ? strstr(mnt, " - ") : NULL;
		if (!dash || strncmp(dash + 3, "nsfs ", 5))
			continue;
		mnt++;
		end = strchr(mnt, ' ');
		if (!end)
			continue;
		unescape(mnt, (size_t)(end - mnt), path, sizeof(path));
		visit(s, path, false);
	}
	free(line);
	fclose(f);
}

int netns_set__scan(struct netns_set *s)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int seen = 0;
	size_t kept = 0;
	struct rlimit rl;
	DIR *d;

	d = opendir(s->proc_dir);
	if (!d)
		return -errno;
	s->gen++;
	s->added = s->dropped = s->denied = 0;
	s->denied_path[0] = '\0';
	s->n_short = 0;
	s->short_err = 0;
	s->short_fd = -1;
	s->spent = false;
	if (s->tab_size)
		memset(s->short_tab, 0, s->tab_size * sizeof(*s->short_tab));
	s->limit = getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
		   (uint64_t)rl.rlim_cur;
	/* ours first, even where hidepid hides the rest */
	snprintf(path, sizeof(path), "%s/thread-self/ns/net", s->proc_dir);
	visit(s, path, true);
	while ((de = readdir(d)) && seen++ < MAX_PROC_SCAN) {
		if (!all_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/ns/net", s->proc_dir, de->d_name);
		visit(s, path, false);
	}
	closedir(d);
	for (size_t m = 0; s->mount_dirs[m]; m++) {
		unsigned int entries = 0;

		d = opendir(s->mount_dirs[m]);
		if (!d)
			continue;
		while ((de = readdir(d)) && entries++ < MAX_MOUNTS) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", s->mount_dirs[m], de->d_name);
			visit(s, path, false);
		}
		closedir(d);
	}
	scan_mountinfo(s);
	/* gone: no process and no mount holds it any more but our fd */
	for (size_t i = 0; i < s->n; i++) {
		if (s->e[i].gen != s->gen) {
			close(s->e[i].fd);
			free(s->e[i].path);
			s->dropped++;
			continue;
		}
		s->e[kept++] = s->e[i];
	}
	s->n = kept;
	s->last = 0;
	return (int)s->n;
}

size_t netns_set__count(const struct netns_set *s)
{
	return s->n;
}

uint32_t netns_set__inode(const struct netns_set *s, size_t i)
{
	return i < s->n ? s->e[i].inode : 0;
}

int netns_set__fd(const struct netns_set *s, size_t i)
{
	return i < s->n ? s->e[i].fd : -1;
}

const char *netns_set__path(const struct netns_set *s, size_t i)
{
	return i < s->n ? s->e[i].path : NULL;
}

size_t netns_set__added(const struct netns_set *s)
{
	return s->added;
}

size_t netns_set__dropped(const struct netns_set *s)
{
	return s->dropped;
}

size_t netns_set__denied(const struct netns_set *s)
{
	return s->denied;
}

const char *netns_set__denied_path(const struct netns_set *s)
{
	return s->denied ? s->denied_path : NULL;
}

size_t netns_set__short(const struct netns_set *s)
{
	return s->n_short;
}

uint32_t netns_set__short_inode(const struct netns_set *s, size_t i)
{
	return i < s->n_short ? s->short_ino[i] : 0;
}

const char *netns_set__short_why(const struct netns_set *s, char *buf, size_t len)
{
	uint64_t need;

	if (!s->n_short) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	if (s->short_err == ENFILE) {
		snprintf(buf, len, "the system's table of open files is full (ENFILE: see "
			 "fs.file-nr and fs.file-max)");
		return buf;
	}
	/* those in use, one for each namespace not held, and the spare ones */
	need = (s->short_fd >= 0 ? (uint64_t)s->short_fd : s->limit) + s->n_short +
	       NETNS_FDS_SPARE;
	snprintf(buf, len, "tcptrail holds a file descriptor for each network namespace while it "
		 "reads them, and its open file limit is %llu (tcptrail raises the soft limit "
		 "to the hard one): raise the hard limit to %llu or more (ulimit -Hn and -n in "
		 "the shell that starts it, LimitNOFILE= for a service)",
		 (unsigned long long)s->limit, (unsigned long long)need);
	return buf;
}

/* 1: process pid (digits) is in namespace inode; 0: it is not (or gone); -EACCES: cannot tell */
static int pid_in(const char *proc_dir, const char *pid, uint32_t inode, uint64_t net_stat_ino)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/ns/net", proc_dir, pid);
	if (!stat(path, &st))
		return (uint32_t)st.st_ino == inode;
	if (errno != EACCES && errno != EPERM)
		return 0;
	if (!net_stat_ino)
		return -EACCES;
	snprintf(path, sizeof(path), "%s/%s/net/stat", proc_dir, pid);
	if (!stat(path, &st))
		return (uint64_t)st.st_ino == net_stat_ino;
	return errno == EACCES || errno == EPERM ? -EACCES : 0;
}

/* Whether mountinfo shows a bind mount of namespace inode: root "net:[INODE]", type nsfs. */
static bool mounted(const char *proc_dir, uint32_t inode)
{
	char path[PATH_MAX], want[32], *line = NULL;
	unsigned int lines = 0;
	bool found = false;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/mountinfo", proc_dir);
	snprintf(want, sizeof(want), "net:[%u] ", inode);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0 && lines++ < MAX_MOUNTINFO) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - TYPE SOURCE ... */
		char *root = line, *dash;

		for (int field = 0; field < 3 && root; field++) {
			root = strchr(root, ' ');
			root = root ? root + 1 : NULL;
		}
		if (!root || strncmp(root, want, strlen(want)))
			continue;
		dash = strstr(root, " - ");
		found = dash && !strncmp(dash + 3, "nsfs ", 5);
	}
	free(line);
	fclose(f);
	return found;
}

int netns__held(const char *proc_dir, uint32_t inode, uint32_t self, uint64_t net_stat_ino,
		uint32_t *hint)
{
	char pid[16];
	struct dirent *de;
	unsigned int seen = 0;
	bool unsure = false;
	DIR *d;
	int in;

	if (*hint && *hint != self) {
		snprintf(pid, sizeof(pid), "%u", *hint);
		if (pid_in(proc_dir, pid, inode, net_stat_ino) == 1)
			return 1;
	}
	*hint = 0;
	if (mounted(proc_dir, inode))
		return 1;
	d = opendir(proc_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && seen++ < MAX_PROC_SCAN) {
		if (!all_digits(de->d_name) || strtoul(de->d_name, NULL, 10) == self)
			continue;
		in = pid_in(proc_dir, de->d_name, inode, net_stat_ino);
		if (in == 1) {
			*hint = (uint32_t)strtoul(de->d_name, NULL, 10);
			break;
		}
		unsure |= in < 0;
	}
	closedir(d);
	return *hint ? 1 : unsure ? -EACCES : 0;
}
