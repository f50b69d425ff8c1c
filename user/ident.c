// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup ids to names, for the engine to give each flow its cgroup and
 * container before the sinks print it (what a path says is cgpath.c's
 * part).  On cgroup2 (kernfs) a directory's inode number is
 * its kernfs node id, which is the cgroup id the kernel keeps in
 * sk->sk_cgrp_data (cgroup_id(): kernfs_node_id), so one readdir() walk of
 * the v2 tree maps every id to its path with no call per directory.  The
 * walk is redone on a miss, at most once per RESCAN_NS.
 */
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
#define MAX_NAMES	65536		/* cgroups remembered at once */
/*
 * With MAX_NAMES in the table, names not looked up for IDLE_NS make room
 * (checked at most once per PRUNE_NS): a daemon on a node where pods come
 * and go runs through more cgroups than that in a few weeks.  An hour is
 * far longer than a report holds a name (until the next report's, which
 * ident__hold() extends to three intervals when they are longer).
 */
#define IDLE_NS		(3600ull * 1000000000ull)
#define PRUNE_NS	(60ull * 1000000000ull)
#define MAX_PIDS	16384
#define MAX_DEPTH	32

struct slot {
	uint64_t key;		/* cgroup id, or pid; 0 free */
	uint64_t read_ns;	/* pid slots: when /proc was read; id slots: last looked up */
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
	bool v1;		/* cgroup v1 hierarchies mounted too (hybrid): a runtime
				 * may have put a container in v1 only */
	struct table ids;	/* cgroup id -> name */
	struct table pids;	/* pid -> name from /proc/PID/cgroup */
	struct table retired;	/* names a pid had before, and when (read_ns) */
	struct table misses;	/* ids a scan did not find, and when (read_ns) */
	uint64_t last_scan_ns;
	uint64_t now;		/* ident__tick()'s clock, for the id slots' stamps */
	uint64_t last_prune_ns, last_pid_prune_ns;
	/* MAX_NAMES, MAX_PIDS, IDLE_NS, PRUNE_NS, PID_TTL_NS unless a test says */
	size_t max_names, max_pids;
	uint64_t idle_ns, prune_ns, pid_ttl_ns;
	uint64_t hold_ns;	/* the longest ident__hold(): names no table drops younger */
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

static struct tt_cgname *new_name(uint64_t cgid, const char *path, uint8_t source);

/*
 * Drop the slots of t stamped before `before` (but key `keep`), freeing
 * their names: the table is built again, as open addressing cannot leave
 * holes.  The number dropped.
 */
static size_t table_drop_older(struct table *t, uint64_t before, uint64_t keep)
{
	struct table n = { 0 };
	size_t dropped = 0;

	if (!t->cap)
		return 0;
	n.cap = t->cap;
	n.slots = calloc(n.cap, sizeof(*n.slots));
	if (!n.slots)
		return 0;
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *o = &t->slots[i];
		size_t j;

		if (!o->key)
			continue;
		if (o->key != keep && o->read_ns < before) {
			free_name(o->name);
			dropped++;
			continue;
		}
		for (j = hash64(o->key) & (n.cap - 1); n.slots[j].key; j = (j + 1) & (n.cap - 1))
			;
		n.slots[j] = *o;
		n.used++;
	}
	free(t->slots);
	*t = n;
	return dropped;
}

/*
 * Drop the older half of t's entries, by when each was last read, but none
 * read at or after before: room made when none is idle long enough, as a
 * full table must not leave every new key unnamed.  The number dropped.
 */
static size_t table_drop_older_half(struct table *t, uint64_t before)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i].key)
			continue;
		if (t->slots[i].read_ns < lo)
			lo = t->slots[i].read_ns;
		if (t->slots[i].read_ns > hi)
			hi = t->slots[i].read_ns;
	}
	if (hi < lo)
		return 0;
	return table_drop_older(t, lo + (hi - lo) / 2 + 1 < before ? lo + (hi - lo) / 2 + 1 : before,
				0);
}

/* Drop the names idle for IDLE_NS (never the root's); true if any went. */
static bool prune(struct tt_ident *id)
{
	size_t dropped;

	if (id->last_prune_ns && id->now - id->last_prune_ns < id->prune_ns)
		return false;
	id->last_prune_ns = id->now;
	if (id->now < id->idle_ns)
		return false;
	dropped = table_drop_older(&id->ids, id->now - id->idle_ns, id->root_id);
	if (dropped)
		tt_debug("cgroup names: %zu idle ones dropped to make room", dropped);
	return dropped > 0;
}

/*
 * The pids' table full: drop the pids not looked up for IDLE_NS, and the
 * names retired as long ago.  A pid's stamp is when /proc was last read
 * for it, at most PID_TTL_NS before its last lookup, hence the margin.
 * At most once per PRUNE_NS, as for the names; true if room was made.
 */
static bool prune_pids(struct tt_ident *id)
{
	uint64_t idle = id->idle_ns + id->pid_ttl_ns < id->idle_ns ? UINT64_MAX :
			id->idle_ns + id->pid_ttl_ns;
	size_t dropped;

	if (id->last_pid_prune_ns && id->now - id->last_pid_prune_ns < id->prune_ns)
		return false;
	id->last_pid_prune_ns = id->now;
	if (id->now < idle)
		return false;
	dropped = table_drop_older(&id->pids, id->now - idle, 0);
	dropped += table_drop_older(&id->retired, id->now - id->idle_ns, 0);
	if (dropped)
		tt_debug("cgroup names: %zu idle pids' names dropped to make room", dropped);
	return dropped > 0;
}

/* The id slot for cgid, new if absent, stamped as used now. */
static struct slot *ids_get(struct tt_ident *id, uint64_t cgid)
{
	struct slot *s = table_get(&id->ids, cgid, id->max_names);

	if (!s && prune(id))
		s = table_get(&id->ids, cgid, id->max_names);
	if (s)
		s->read_ns = id->now;
	return s;
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

/* -------------------------------------------------------------- the host */

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
		s = ids_get(id, (uint64_t)de->d_ino);
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
	ident__tick(id);
	id->max_names = MAX_NAMES;
	id->max_pids = MAX_PIDS;
	id->idle_ns = IDLE_NS;
	id->prune_ns = PRUNE_NS;
	id->pid_ttl_ns = PID_TTL_NS;
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
	mi = tt_read_text("/proc/self/mountinfo", 1 << 20);
	if (!mi || ident__find_mount(mi, id->mount, sizeof(id->mount)))
		id->mount[0] = '\0';
	id->v1 = mi && strstr(mi, " - cgroup ");
	free(mi);
	if (id->mount[0]) {
		struct slot *s;

		id->root_id = dir_id(id->mount);
		s = id->root_id ? ids_get(id, id->root_id) : NULL;
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
	s = ids_get(id, cgid);
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
	/*
	 * Each file of a rotated set names its ids again: the name stays the
	 * one already given out (views and reports hold it) when it is the same.
	 */
	if (s->name && s->name->source == n->source && !strcmp(s->name->path, n->path) &&
	    !strcmp(s->name->container, n->container) && !strcmp(s->name->runtime, n->runtime) &&
	    !strcmp(s->name->pod, n->pod)) {
		free_name(n);
		return 0;
	}
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
	text = tt_read_text(file, 1 << 16);
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
		s = ids_get(id, cgid);
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

	if (s && s->name) {
		s->read_ns = id->now;
		return s->name;
	}
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
	/* full: the misses older than a retry's wait say nothing any more */
	if (!miss && now > MISS_RETRY_NS &&
	    table_drop_older(&id->misses, now - MISS_RETRY_NS, 0))
		miss = table_get(&id->misses, cgid, MAX_PIDS);
	if (miss)
		miss->read_ns = now;
	return NULL;
}


static const struct tt_cgname *by_pid(struct tt_ident *id, uint32_t pid)
{
	struct slot *s = table_find(&id->pids, pid);
	uint64_t now = id->now;		/* per record: ident__tick()'s, not a clock call */
	char file[32], path[PATH_MAX], *text;
	struct tt_cgname *n;

	if (s && s->name && now - s->read_ns < id->pid_ttl_ns)
		return s->name;
	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	text = tt_read_text(file, 1 << 16);
	/* a process gone since keeps the name it had, stamped as used now */
	if (!text || ident__parse_proc_cgroup(text, path, sizeof(path))) {
		free(text);
		if (!s)
			return NULL;
		s->read_ns = now;
		return s->name;
	}
	free(text);
	if (!s)
		s = table_get(&id->pids, pid, id->max_pids);
	if (!s && prune_pids(id))
		s = table_get(&id->pids, pid, id->max_pids);
	if (!s) {
		/*
		 * None idle long enough: a new owner unnamed is worse than an old
		 * one read again.  Not a name a report may hold (ident__hold()),
		 * looked up as long as PID_TTL_NS after it was read.
		 */
		uint64_t held = id->hold_ns + id->pid_ttl_ns;
		size_t dropped = now > held ? table_drop_older_half(&id->pids, now - held) : 0;

		tt_debug("cgroup names: the pids' table full, none idle: the %zu read longest ago "
			 "dropped", dropped);
		s = dropped ? table_get(&id->pids, pid, id->max_pids) : NULL;
	}
	if (!s)
		return NULL;
	s->read_ns = now;
	if (s->name && !strcmp(s->name->path, path))
		return s->name;
	n = new_name(0, path, TT_CGSRC_PROC);
	if (!n)
		return s->name;
	/*
	 * A report may still hold the old name's strings: retire it, to be
	 * freed once idle; with no room for that, the pid keeps its old name.
	 */
	if (s->name) {
		struct slot *old = table_get(&id->retired, (uint64_t)(uintptr_t)s->name,
					     id->max_pids);

		if (!old && prune_pids(id)) {
			/* the pids' table was built again: s moved (stamped now, it stayed) */
			s = table_find(&id->pids, pid);
			old = s ? table_get(&id->retired, (uint64_t)(uintptr_t)s->name,
					    id->max_pids) : NULL;
		}
		if (!old) {
			free_name(n);
			return s ? s->name : NULL;
		}
		old->name = s->name;
		old->read_ns = now;
	}
	s->name = n;
	if (!id->proc_fallbacks++)
		tt_debug("cgroup of pid %u from /proc/%u/cgroup (%s): its sockets' cgroup v2 id "
			 "names no cgroup below the root; so for every such owner", pid, pid, n->path);
	return n;
}

void ident__set_capacity(struct tt_ident *id, size_t max_names, size_t max_pids,
			 uint64_t idle_ns, uint64_t prune_ns, uint64_t pid_ttl_ns)
{
	id->max_names = max_names;
	id->max_pids = max_pids;
	id->idle_ns = idle_ns;
	id->prune_ns = prune_ns;
	id->pid_ttl_ns = pid_ttl_ns;
}

void ident__hold(struct tt_ident *id, uint64_t ns)
{
	if (id && ns > id->idle_ns)
		id->idle_ns = ns;
	if (id && ns > id->hold_ns)
		id->hold_ns = ns;
}

/*
 * The stamps it sets are compared with TTLs of seconds, and it runs once a
 * batch of records (once a record in a replay): the coarse clock, a few
 * milliseconds behind the other at most, costs no counter read.
 */
void ident__tick(struct tt_ident *id)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	id->now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A runtime's own v2 cgroup (containerd.service, docker.service, crio's,
 * podman's) naming no container: where v1 is mounted too, the runtime may
 * have put a container in v1 only, leaving its tasks here.  Other cgroups
 * (the host's services) are what they say, with no /proc read.
 */
static bool runtime_cgroup(const struct tt_ident *id, const struct tt_cgname *n)
{
	static const char *const runtimes[] = { "containerd", "docker", "crio", "libpod",
						"podman" };
	const char *last;

	if (!id->v1 || !n || n->container[0] || !n->path)
		return false;
	last = strrchr(n->path, '/');
	last = last ? last + 1 : n->path;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strstr(last, runtimes[i]))
			return true;
	return false;
}

bool ident__names(const struct tt_ident *id, uint64_t cgid)
{
	const struct slot *s = cgid ? table_find(&id->ids, cgid) : NULL;

	if (!s || !s->name)
		return false;
	return !id->live || (cgid != id->root_id && !runtime_cgroup(id, s->name));
}

bool ident__vague(const struct tt_ident *id, uint64_t cgid)
{
	const struct slot *s;

	if (!cgid || (id->live && cgid == id->root_id))
		return true;
	s = id->live ? table_find(&id->ids, cgid) : NULL;
	return s && runtime_cgroup(id, s->name);
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
	/*
	 * Where v1 is mounted too, a runtime that made v1 cgroups only leaves
	 * a container's tasks in its own v2 cgroup (docker on some hybrid
	 * hosts: containerd.service): the owner's v1 lines name the container.
	 */
	if (id->live && pid && runtime_cgroup(id, n)) {
		const struct tt_cgname *p = by_pid(id, pid);

		if (p && p->container[0])
			return p;
	}
	return n;
}

const struct tt_cgname *ident__lookup_v2(struct tt_ident *id, uint64_t cgid, uint32_t pid)
{
	return id && cgid ? by_id(id, cgid, pid) : NULL;
}

size_t ident__running_containers(const char *prefix, char (*ids)[TT_CONTAINER_MAX], size_t max)
{
	size_t plen = strlen(prefix), n = 0, seen_n = 0, seen_cap = 0;
	char (*seen)[TT_CONTAINER_MAX] = NULL;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char file[32 + sizeof(de->d_name)], path[PATH_MAX], *text;
		struct tt_cgname nm;
		size_t k;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(file, sizeof(file), "/proc/%s/cgroup", de->d_name);
		text = tt_read_text(file, 1 << 16);
		if (!text)
			continue;
		memset(&nm, 0, sizeof(nm));
		if (!ident__parse_proc_cgroup(text, path, sizeof(path)))
			ident__parse_path(path, &nm);
		free(text);
		if (!nm.container[0] || strncmp(nm.container, prefix, plen))
			continue;
		for (k = 0; k < seen_n && strcmp(seen[k], nm.container); k++)
			;
		if (k < seen_n)
			continue;
		if (seen_n == seen_cap) {
			size_t cap = seen_cap ? seen_cap * 2 : 8;
			void *m = realloc(seen, cap * sizeof(*seen));

			if (!m)
				break;
			seen = m;
			seen_cap = cap;
		}
		memcpy(seen[seen_n++], nm.container, TT_CONTAINER_MAX);
		if (n < max)
			memcpy(ids[n++], nm.container, TT_CONTAINER_MAX);
	}
	closedir(d);
	free(seen);
	return seen_n;
}

/* Is the process whose /proc entry is dir in the container (id prefix) and under cgroup_path? */
static bool process_in(int dir, const char *container, const char *cgroup_path)
{
	char text[4096], path[PATH_MAX];
	struct tt_cgname n;
	ssize_t len;
	int fd = openat(dir, "cgroup", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return false;
	text[len] = '\0';
	if (ident__parse_proc_cgroup(text, path, sizeof(path)))
		return false;
	if (cgroup_path && cgroup_path[0] && !ident__path_under(path, cgroup_path))
		return false;
	if (container) {
		memset(&n, 0, sizeof(n));
		if (!ident__parse_path(path, &n) || strncmp(n.container, container, strlen(container)))
			return false;
	}
	return true;
}

size_t ident__process_namespaces(const char *container, const char *cgroup_path, uint32_t **out)
{
	uint32_t *v = NULL;
	size_t n = 0;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/proc");

	*out = NULL;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int dir;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		dir = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		/* a container's processes share one namespace, and come in a run */
		if (process_in(dir, container, cgroup_path) && !fstatat(dir, "ns/net", &st, 0) &&
		    (!n || v[n - 1] != (uint32_t)st.st_ino)) {
			uint32_t *nv = realloc(v, (n + 1) * sizeof(*nv));

			if (nv) {
				v = nv;
				v[n++] = (uint32_t)st.st_ino;
			}
		}
		close(dir);
	}
	closedir(d);
	*out = v;
	return n;
}
