// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup ids to names.  On cgroup2 (kernfs) a directory's inode number is
 * its kernfs node id, which is the cgroup id the kernel keeps in
 * sk->sk_cgrp_data (cgroup_id(): kernfs_node_id), so one readdir() walk of
 * the v2 tree maps every id to its path with no call per directory.  The
 * walk is redone on a miss, at most once per RESCAN_NS.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include "ident.h"
#include "util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define RESCAN_NS	100000000ull	/* misses rescan the tree at most this often */
#define MISS_RETRY_NS	1000000000ull	/* an id a scan missed is looked for again after this */
#define PID_TTL_NS	5000000000ull	/* a pid's /proc/PID/cgroup is read again after this */
#define MAX_NAMES	65536		/* cgroups remembered; past it new ones go unnamed */
#define MAX_PIDS	16384
#define MAX_DEPTH	32

struct slot {
	uint64_t key;		/* cgroup id, or pid; 0 free */
	uint64_t read_ns;	/* pid slots: when /proc was read */
	struct tt_cgname *name;
};

struct table {
	struct slot *slots;
	size_t cap, used;
};

struct tt_ident {
	bool live;
	char mount[PATH_MAX];	/* "" when the host has no cgroup v2 mount */
	uint64_t root_id;	/* the mount root's id: says nothing about a socket */
	struct table ids;	/* cgroup id -> name */
	struct table pids;	/* pid -> name from /proc/PID/cgroup */
	struct table retired;	/* names a pid had before, freed at the end */
	struct table misses;	/* ids a scan did not find, and when (read_ns) */
	uint64_t last_scan_ns;
	bool scanned;
	uint64_t proc_fallbacks;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- tables */

static size_t hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k;
}

static struct slot *table_find(const struct table *t, uint64_t key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = hash64(key) & (t->cap - 1), n = 0; n < t->cap; i = (i + 1) & (t->cap - 1), n++) {
		if (t->slots[i].key == key)
			return &t->slots[i];
		if (!t->slots[i].key)
			return NULL;
	}
	return NULL;
}

static int table_grow(struct table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->slots[i].key)
			continue;
		for (j = hash64(t->slots[i].key) & (cap - 1); s[j].key; j = (j + 1) & (cap - 1))
			;
		s[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = s;
	t->cap = cap;
	return 0;
}

/* The slot for key, new (name NULL) if absent; NULL when full or out of memory. */
static struct slot *table_get(struct table *t, uint64_t key, size_t max)
{
	struct slot *s = table_find(t, key);
	size_t i;

	if (s)
		return s;
	if (t->used >= max)
		return NULL;
	if ((t->used + 1) * 2 > t->cap && table_grow(t))
		return NULL;
	for (i = hash64(key) & (t->cap - 1); t->slots[i].key; i = (i + 1) & (t->cap - 1))
		;
	t->slots[i].key = key;
	t->used++;
	return &t->slots[i];
}

static void free_name(struct tt_cgname *n)
{
	if (n)
		free((char *)n->path);
	free(n);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free_name(t->slots[i].name);
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
}

static struct tt_cgname *new_name(uint64_t cgid, const char *path, uint8_t source)
{
	struct tt_cgname *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->path = strdup(path && path[0] ? path : "/");
	if (!n->path) {
		free(n);
		return NULL;
	}
	n->id = cgid;
	n->source = source;
	ident__parse_path(n->path, n);
	return n;
}

/* --------------------------------------------------------------- parsers */

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* comp (clen bytes) is prefix, 64 hex digits, suffix: copy the digits to out. */
static bool id_between(const char *comp, size_t clen, const char *prefix, const char *suffix,
		       char out[TT_CONTAINER_MAX])
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (clen != p + 64 + s || strncmp(comp, prefix, p) || strncmp(comp + p + 64, suffix, s) ||
	    !all_hex(comp + p, 64))
		return false;
	memcpy(out, comp + p, 64);
	out[64] = '\0';
	return true;
}

/* A pod UID as 8-4-4-4-12 hex, with sep ('-' or '_') between: copy it with dashes. */
static bool pod_uid(const char *s, size_t n, char sep, char out[TT_POD_MAX])
{
	static const int dash[] = { 8, 13, 18, 23 };

	if (n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool d = i == 8 || i == 13 || i == 18 || i == 23;

		if (d ? s[i] != sep : !isxdigit((unsigned char)s[i]))
			return false;
	}
	memcpy(out, s, 36);
	for (int i = 0; i < 4; i++)
		out[dash[i]] = '-';
	out[36] = '\0';
	return true;
}

/*
 * One path component.  Shapes, by runtime and cgroup driver:
 *   docker        /system.slice/docker-<id>.scope, /docker/<id>
 *   containerd    .../cri-containerd-<id>.scope
 *   CRI-O         .../crio-<id>.scope, /kubepods/.../pod<uid>/crio-<id>
 *   podman        .../libpod-<id>.scope, /libpod_parent/libpod-<id>
 *   kubepods      /kubepods.slice/kubepods-burstable.slice/
 *                 kubepods-burstable-pod<uid_with_underscores>.slice/...
 *                 /kubepods/besteffort/pod<uid>/<id> (cgroupfs driver: the
 *                 container is a bare id below its pod)
 * conmon's own scopes (libpod-conmon-<id>.scope) are not the container.
 */
static void parse_comp(const char *c, size_t len, const char *prev, size_t plen,
		       struct tt_cgname *n, bool *named)
{
	char id[TT_CONTAINER_MAX];
	const char *rt = NULL;

	if (id_between(c, len, "docker-", ".scope", id))
		rt = "docker";
	else if (id_between(c, len, "cri-containerd-", ".scope", id))
		rt = "containerd";
	else if (id_between(c, len, "crio-", ".scope", id) || id_between(c, len, "crio-", "", id))
		rt = "crio";
	else if (id_between(c, len, "libpod-", ".scope", id) || id_between(c, len, "libpod-", "", id))
		rt = "podman";
	else if (plen == 6 && !strncmp(prev, "docker", 6) && id_between(c, len, "", "", id))
		rt = "docker";
	else if (n->pod[0] && id_between(c, len, "", "", id))
		rt = "cri";
	if (rt) {
		memcpy(n->container, id, sizeof(id));
		snprintf(n->runtime, sizeof(n->runtime), "%s", rt);
		*named = true;
		return;
	}
	/* cgroupfs: pod<uid> */
	if (len == 39 && !strncmp(c, "pod", 3) && pod_uid(c + 3, 36, '-', n->pod)) {
		*named = true;
		return;
	}
	/* systemd: kubepods[-qos]-pod<uid_>.slice */
	if (len > 6 + 36 + 9 && !strncmp(c, "kubepods-", 9) && !strncmp(c + len - 6, ".slice", 6)) {
		const char *u = c + len - 6 - 36;

		if (!strncmp(u - 4, "-pod", 4) && pod_uid(u, 36, '_', n->pod))
			*named = true;
	}
}

bool ident__parse_path(const char *path, struct tt_cgname *n)
{
	const char *p = path, *prev = "";
	size_t plen = 0;
	bool named = false;

	n->container[0] = n->runtime[0] = n->pod[0] = '\0';
	if (!path)
		return false;
	while (*p) {
		const char *c;
		size_t len;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (!len)
			break;
		parse_comp(c, len, prev, plen, n, &named);
		prev = c;
		plen = len;
	}
	return named;
}

int ident__parse_proc_cgroup(const char *text, char *path, size_t len)
{
	const char *line = text, *v2 = NULL, *systemd = NULL, *first = NULL;
	struct tt_cgname n;
	size_t v2n = 0, sdn = 0, firstn = 0;

	if (len)
		path[0] = '\0';
	while (line && *line) {
		const char *end = strchr(line, '\n'), *c1, *c2, *p;
		size_t ln = end ? (size_t)(end - line) : strlen(line), pn;
		char buf[PATH_MAX];

		c1 = memchr(line, ':', ln);
		c2 = c1 ? memchr(c1 + 1, ':', ln - (size_t)(c1 + 1 - line)) : NULL;
		if (c2 && c2[1] == '/') {
			p = c2 + 1;
			pn = ln - (size_t)(p - line);
			if (pn < sizeof(buf)) {
				memcpy(buf, p, pn);
				buf[pn] = '\0';
				if (ident__parse_path(buf, &n) && n.container[0]) {
					if (pn >= len)
						return -ENAMETOOLONG;
					memcpy(path, buf, pn + 1);
					return 0;
				}
			}
			if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1 && pn > 1) {
				v2 = p;
				v2n = pn;
			} else if ((size_t)(c2 - c1 - 1) == 12 && !strncmp(c1 + 1, "name=systemd", 12)) {
				systemd = p;
				sdn = pn;
			}
			if (!first) {
				first = p;
				firstn = pn;
			}
		}
		line = end ? end + 1 : NULL;
	}
	if (!v2) {
		v2 = systemd ? systemd : first;
		v2n = systemd ? sdn : firstn;
	}
	if (!v2)
		return -ENOENT;
	if (v2n >= len)
		return -ENAMETOOLONG;
	memcpy(path, v2, v2n);
	path[v2n] = '\0';
	return 0;
}

int ident__find_mount(const char *mountinfo, char *buf, size_t len)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *dash;
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64];
		size_t ln = end ? (size_t)(end - line) : strlen(line);
		char copy[2 * PATH_MAX];

		if (ln < sizeof(copy)) {
			memcpy(copy, line, ln);
			copy[ln] = '\0';
			dash = strstr(copy, " - ");
			if (dash && sscanf(dash + 3, "%63s", fstype) == 1 && !strcmp(fstype, "cgroup2") &&
			    sscanf(copy, "%*s %*s %*s %4095s %4095s", root, mnt) == 2 &&
			    !strcmp(root, "/") && strlen(mnt) < len) {
				strcpy(buf, mnt);
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

bool ident__path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (n == 1 && prefix[0] == '/')
		return path[0] == '/';
	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

bool ident__valid_container_prefix(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && all_hex(s, n);
}

/* -------------------------------------------------------------- the host */

static char *read_text(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (len < max) {
		ssize_t k = read(fd, buf + len, max - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static uint64_t dir_id(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

int ident__resolve_path(const char *mount, const char *arg, uint64_t *cgid, uint32_t *level,
			char *canon, size_t canon_len, char *why, size_t why_len)
{
	char full[PATH_MAX], real[PATH_MAX];
	const char *rel;
	struct statfs sf;
	struct stat st;
	size_t mlen;
	uint32_t lv = 0;

	if (!arg[0] || arg[0] != '/') {
		snprintf(why, why_len, "not an absolute cgroup path");
		return -EINVAL;
	}
	if (!mount || !mount[0]) {
		snprintf(why, why_len, "this host has no cgroup v2 mount");
		return -ENOENT;
	}
	mlen = strlen(mount);
	if (ident__path_under(arg, mount)) {
		snprintf(full, sizeof(full), "%s", arg);
	} else if (!strncmp(arg, "/sys/fs/cgroup", 14) && (arg[14] == '/' || !arg[14])) {
		snprintf(why, why_len, "not under the cgroup v2 mount %s", mount);
		return -EINVAL;
	} else if (snprintf(full, sizeof(full), "%s%s", mount, arg) >= (int)sizeof(full)) {
		snprintf(why, why_len, "path too long");
		return -ENAMETOOLONG;
	}
	if (!realpath(full, real)) {
		int err = errno;

		snprintf(why, why_len, "no such cgroup under %s (%s)", mount, strerror(err));
		return -err;
	}
	if (!ident__path_under(real, mount)) {
		snprintf(why, why_len, "not under the cgroup v2 mount %s", mount);
		return -EINVAL;
	}
	if (stat(real, &st) || !S_ISDIR(st.st_mode) || statfs(real, &sf) ||
	    sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(why, why_len, "not a cgroup v2 directory");
		return -ENOTDIR;
	}
	rel = real + mlen;
	if (!*rel)
		rel = "/";
	for (const char *p = rel; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			lv++;
	if (strlen(rel) >= canon_len) {
		snprintf(why, why_len, "path too long");
		return -ENAMETOOLONG;
	}
	strcpy(canon, rel);
	*cgid = (uint64_t)st.st_ino;
	*level = lv;
	return 0;
}

/* Remember every directory below dir (rel is its cgroup path) by inode number. */
static void walk(struct tt_ident *id, int dfd, char *rel, size_t rlen, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct slot *s;
		size_t n;
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		n = strlen(de->d_name);
		if (rlen + 1 + n >= PATH_MAX)
			continue;
		rel[rlen] = '/';
		memcpy(rel + rlen + 1, de->d_name, n + 1);
		s = table_get(&id->ids, (uint64_t)de->d_ino, MAX_NAMES);
		if (s && !s->name)
			s->name = new_name((uint64_t)de->d_ino, rel, TT_CGSRC_V2);
		if (depth < MAX_DEPTH) {
			sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub >= 0)
				walk(id, sub, rel, rlen + 1 + n, depth + 1);
		}
		rel[rlen] = '\0';
	}
	closedir(d);
}

static void scan(struct tt_ident *id)
{
	char rel[PATH_MAX] = "";
	int fd;

	id->last_scan_ns = now_ns();
	id->scanned = true;
	fd = open(id->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		walk(id, fd, rel, 0, 0);
}

struct tt_ident *ident__new(bool live)
{
	struct tt_ident *id = calloc(1, sizeof(*id));

	if (!id)
		return NULL;
	if (live)
		ident__go_live(id);
	return id;
}

void ident__go_live(struct tt_ident *id)
{
	char *mi;

	if (id->live)
		return;
	id->live = true;
	mi = read_text("/proc/self/mountinfo", 1 << 20);
	if (!mi || ident__find_mount(mi, id->mount, sizeof(id->mount)))
		id->mount[0] = '\0';
	free(mi);
	if (id->mount[0]) {
		struct slot *s;

		id->root_id = dir_id(id->mount);
		s = id->root_id ? table_get(&id->ids, id->root_id, MAX_NAMES) : NULL;
		if (s && !s->name)
			s->name = new_name(id->root_id, "/", TT_CGSRC_V2);
	}
	tt_debug("cgroup names: the v2 tree at %s%s", id->mount[0] ? id->mount : "(none)",
		 id->mount[0] ? "" : ": only the owners' /proc/PID/cgroup name sockets' cgroups");
}

void ident__free(struct tt_ident *id)
{
	if (!id)
		return;
	table_free(&id->ids);
	table_free(&id->pids);
	table_free(&id->retired);
	table_free(&id->misses);
	free(id);
}

const char *ident__mount(const struct tt_ident *id)
{
	return id->mount[0] ? id->mount : NULL;
}

uint64_t ident__proc_fallbacks(const struct tt_ident *id)
{
	return id->proc_fallbacks;
}

int ident__learn(struct tt_ident *id, uint64_t cgid, const char *path, const char *container,
		 const char *pod, const char *runtime)
{
	struct slot *s;
	struct tt_cgname *n;

	if (!cgid)
		return -EINVAL;
	s = table_get(&id->ids, cgid, MAX_NAMES);
	if (!s)
		return -ENOSPC;
	n = new_name(cgid, path, TT_CGSRC_CAPTURE);
	if (!n)
		return -ENOMEM;
	/* what the capturing host said wins over what the path looks like here */
	if (container && container[0]) {
		snprintf(n->container, sizeof(n->container), "%s", container);
		snprintf(n->runtime, sizeof(n->runtime), "%s", runtime ? runtime : "");
	}
	if (pod && pod[0])
		snprintf(n->pod, sizeof(n->pod), "%s", pod);
	free_name(s->name);
	s->name = n;
	return 0;
}

/*
 * The owner's own v2 cgroup is usually the socket's (a socket takes its
 * creator's): one read of /proc/PID/cgroup and one stat() confirm it,
 * before a container that lives for a second is gone.
 */
static const struct tt_cgname *by_owner(struct tt_ident *id, uint64_t cgid, uint32_t pid)
{
	char file[32], full[PATH_MAX], *text, *line;
	struct stat st;
	struct slot *s;

	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	text = read_text(file, 1 << 16);
	if (!text)
		return NULL;
	for (line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t n;

		if (strncmp(line, "0::/", 4))
			continue;
		n = strcspn(line + 3, "\n");
		if (snprintf(full, sizeof(full), "%s%.*s", id->mount, (int)n, line + 3) >=
		    (int)sizeof(full) || stat(full, &st) || (uint64_t)st.st_ino != cgid)
			break;
		s = table_get(&id->ids, cgid, MAX_NAMES);
		if (s && !s->name) {
			full[strlen(id->mount) + n] = '\0';
			s->name = new_name(cgid, full + strlen(id->mount), TT_CGSRC_V2);
		}
		free(text);
		return s ? s->name : NULL;
	}
	free(text);
	return NULL;
}

static const struct tt_cgname *by_id(struct tt_ident *id, uint64_t cgid, uint32_t pid)
{
	struct slot *s = table_find(&id->ids, cgid), *miss;
	const struct tt_cgname *n;
	uint64_t now;

	if (s && s->name)
		return s->name;
	if (!id->live || !id->mount[0])
		return NULL;
	if (pid && (n = by_owner(id, cgid, pid)))
		return n;
	/*
	 * A walk of the tree names every cgroup at once.  A new id is worth one
	 * at once (a container may be gone within the second), but no more than
	 * one per RESCAN_NS in all, and an id a walk missed waits MISS_RETRY_NS.
	 */
	now = now_ns();
	miss = table_find(&id->misses, cgid);
	if (miss && now - miss->read_ns < MISS_RETRY_NS)
		return NULL;
	if (id->scanned && now - id->last_scan_ns < RESCAN_NS)
		return NULL;
	scan(id);
	s = table_find(&id->ids, cgid);
	if (s && s->name)
		return s->name;
	miss = table_get(&id->misses, cgid, MAX_PIDS);
	if (miss)
		miss->read_ns = now;
	return NULL;
}

bool ident__known(const struct tt_ident *id, uint64_t cgid)
{
	const struct slot *s = table_find(&id->ids, cgid);

	return s && s->name;
}

static const struct tt_cgname *by_pid(struct tt_ident *id, uint32_t pid)
{
	struct slot *s = table_find(&id->pids, pid);
	uint64_t now = now_ns();
	char file[32], path[PATH_MAX], *text;
	struct tt_cgname *n;

	if (s && s->name && now - s->read_ns < PID_TTL_NS)
		return s->name;
	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	text = read_text(file, 1 << 16);
	/* a process gone since keeps the name it had */
	if (!text || ident__parse_proc_cgroup(text, path, sizeof(path))) {
		free(text);
		return s ? s->name : NULL;
	}
	free(text);
	if (!s)
		s = table_get(&id->pids, pid, MAX_PIDS);
	if (!s)
		return NULL;
	s->read_ns = now;
	if (s->name && !strcmp(s->name->path, path))
		return s->name;
	n = new_name(0, path, TT_CGSRC_PROC);
	if (!n)
		return s->name;
	/* a report may still hold the old name's strings: retire it, do not free it */
	if (s->name) {
		struct slot *old = table_get(&id->retired, (uint64_t)(uintptr_t)s->name, MAX_PIDS);

		if (old && !old->name)
			old->name = s->name;
		else
			free_name(s->name);
	}
	s->name = n;
	if (!id->proc_fallbacks++)
		tt_debug("cgroup of pid %u from /proc/%u/cgroup (%s): its sockets' cgroup v2 id "
			 "names no cgroup below the root; so for every such owner", pid, pid, n->path);
	return n;
}

bool ident__vague(const struct tt_ident *id, uint64_t cgid)
{
	return !cgid || (id->live && cgid == id->root_id);
}

const struct tt_cgname *ident__lookup(struct tt_ident *id, uint64_t cgid, uint32_t pid)
{
	const struct tt_cgname *n = NULL;

	if (!id)
		return NULL;
	if (cgid)
		n = by_id(id, cgid, pid);
	/*
	 * The root, or no id at all: the runtime may have made v1 cgroups only
	 * (or this is a v1-only host), and the owner's own file says more.
	 */
	if (id->live && pid && (!n || (cgid == id->root_id && !n->container[0])))
		return by_pid(id, pid) ?: n;
	return n;
}
