// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Identity: owners from /proc/PID/fd.  The scan costs one readlinkat()
 * per open fd on the host and one read of
 * /proc/PID/comm per process that holds a socket, spread over up to
 * MAX_THREADS threads; nothing is allocated per fd.  Sockets go into an open-addressing table keyed by inode (inode 0 is
 * never a socket's, so it marks a free slot), processes into an array the
 * table points into.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procfd.h"
#include "util.h"

/* Bounds: a host past these gets owners for what was scanned so far. */
#define MAX_PROCS	(1u << 22)	/* pid_max's ceiling */
#define MAX_FDS		(1ull << 26)
#define MAX_SOCKETS	(1u << 24)

#define NO_PROC		UINT32_MAX
#define MAX_THREADS	8

struct proc_ent {
	uint32_t tgid;
	char comm[16];
};

struct sock_ent {
	uint32_t inode;		/* 0: free */
	uint32_t proc;		/* index into procs: the owner kept */
	uint32_t last_proc;	/* the holder counted last, to count each once */
	uint32_t nholders;
};

struct procfd {
	struct sock_ent *tab;
	uint32_t mask;		/* capacity - 1, a power of two less one */
	uint32_t used;
	struct proc_ent *procs;
	uint32_t nprocs, cap_procs;
	uint32_t prefer_tgid;
	struct procfd_stats stats;
};

static inline uint32_t slot_of(const struct procfd *p, uint32_t inode)
{
	return (uint32_t)(((uint64_t)inode * 0x9E3779B97F4A7C15ull) >> 32) & p->mask;
}

static struct sock_ent *probe(const struct procfd *p, uint32_t inode)
{
	uint32_t i = slot_of(p, inode);

	while (p->tab[i].inode && p->tab[i].inode != inode)
		i = (i + 1) & p->mask;
	return &p->tab[i];
}

static int grow(struct procfd *p)
{
	struct sock_ent *old = p->tab;
	uint32_t old_cap = p->mask + 1, cap = old_cap * 2;

	p->tab = calloc(cap, sizeof(*p->tab));
	if (!p->tab) {
		p->tab = old;
		return -ENOMEM;
	}
	p->mask = cap - 1;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i].inode)
			*probe(p, old[i].inode) = old[i];
	free(old);
	return 0;
}

/*
 * The kernel prints the comm and a newline: only that last one goes, since
 * a comm may hold a newline of its own (prctl(PR_SET_NAME) takes any byte).
 */
static void read_comm(int pid_dir, char comm[16])
{
	char buf[17];
	ssize_t n;
	int fd;

	memset(comm, 0, 16);
	fd = openat(pid_dir, "comm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	if (buf[n - 1] == '\n')
		n--;
	memcpy(comm, buf, n < 15 ? (size_t)n : 15);
}

/* The index of the process being scanned, added on its first socket. */
static int cur_proc(struct procfd *p, uint32_t *cur, uint32_t tgid, int pid_dir)
{
	if (*cur != NO_PROC)
		return 0;
	if (p->nprocs == p->cap_procs) {
		uint32_t cap = p->cap_procs ? p->cap_procs * 2 : 256;
		struct proc_ent *n = realloc(p->procs, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->procs = n;
		p->cap_procs = cap;
	}
	p->procs[p->nprocs].tgid = tgid;
	read_comm(pid_dir, p->procs[p->nprocs].comm);
	*cur = p->nprocs++;
	return 0;
}

static int add_socket(struct procfd *p, uint32_t inode, uint32_t proc)
{
	struct sock_ent *s;
	int err;

	if ((uint64_t)(p->used + 1) * 2 > (uint64_t)p->mask + 1) {
		if (p->used >= MAX_SOCKETS) {
			p->stats.truncated = 1;
			return 0;
		}
		err = grow(p);
		if (err)
			return err;
	}
	s = probe(p, inode);
	if (!s->inode) {
		s->inode = inode;
		s->proc = s->last_proc = proc;
		s->nholders = 1;
		p->used++;
		return 0;
	}
	/* the same process may hold it in several fds: count it once */
	if (s->last_proc == proc)
		return 0;
	s->last_proc = proc;
	if (s->nholders < UINT32_MAX)
		s->nholders++;
	if (p->prefer_tgid && p->procs[proc].tgid == p->prefer_tgid)
		s->proc = proc;
	return 0;
}

/* "socket:[12345]" -> 12345; 0 for any other link */
static uint32_t socket_inode(const char *l, ssize_t n)
{
	uint64_t v = 0;
	ssize_t i;

	if (n < 10 || memcmp(l, "socket:[", 8) || l[n - 1] != ']')
		return 0;
	for (i = 8; i < n - 1; i++) {
		if (l[i] < '0' || l[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(l[i] - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	return (uint32_t)v;
}

static int scan_proc(struct procfd *p, int proc_dir, uint32_t tgid, uint64_t max_fds)
{
	uint32_t cur = NO_PROC;
	struct dirent *de;
	char name[16], link[64];
	int pid_dir, fd_dir, err = 0;
	DIR *d;

	snprintf(name, sizeof(name), "%u", tgid);
	pid_dir = openat(proc_dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pid_dir < 0)
		return 0;	/* gone already */
	fd_dir = openat(pid_dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd_dir < 0) {
		if (errno == EACCES || errno == EPERM)
			p->stats.procs_denied++;
		close(pid_dir);
		return 0;
	}
	d = fdopendir(fd_dir);
	if (!d) {
		close(fd_dir);
		close(pid_dir);
		return 0;
	}
	p->stats.procs++;
	while (!err && (de = readdir(d))) {
		ssize_t n;
		uint32_t inode;

		if (de->d_name[0] == '.')
			continue;
		if (p->stats.fds >= max_fds) {
			p->stats.truncated = 1;
			break;
		}
		p->stats.fds++;
		n = readlinkat(fd_dir, de->d_name, link, sizeof(link));
		inode = n > 0 && n < (ssize_t)sizeof(link) ? socket_inode(link, n) : 0;
		if (!inode)
			continue;
		err = cur_proc(p, &cur, tgid, pid_dir);
		if (!err)
			err = add_socket(p, inode, cur);
	}
	closedir(d);
	close(pid_dir);
	return err;
}

static bool parse_pid(const char *s, uint32_t *pid)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*pid = (uint32_t)v;
	return v != 0;
}

static struct procfd *table_new(uint32_t prefer_tgid)
{
	struct procfd *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->prefer_tgid = prefer_tgid;
	p->mask = 4096 - 1;
	p->tab = calloc(p->mask + 1, sizeof(*p->tab));
	if (!p->tab) {
		free(p);
		return NULL;
	}
	return p;
}

/*
 * The kernel work per fd (a dentry per /proc/PID/fd entry, a path walk and
 * d_path per readlink) dwarfs ours, so the processes are shared out among
 * threads, each filling a table of its own, merged at the end.
 */
struct scan {
	int proc_dir;
	const uint32_t *pids;
	size_t npids;
	_Atomic size_t next;
	uint64_t max_fds;	/* per thread */
};

struct worker {
	struct scan *scan;
	struct procfd *p;
	pthread_t th;
	bool started;
	int err;
};

static void *scan_worker(void *arg)
{
	struct worker *w = arg;
	struct scan *sc = w->scan;
	size_t i;

	while (!w->err && (i = atomic_fetch_add(&sc->next, 1)) < sc->npids)
		w->err = scan_proc(w->p, sc->proc_dir, sc->pids[i], sc->max_fds);
	return NULL;
}

/* Fold table `from` into `to`: the same socket in both has several holders. */
static int merge(struct procfd *to, const struct procfd *from)
{
	uint32_t base = to->nprocs;
	int err;

	if (from->nprocs) {
		struct proc_ent *n = realloc(to->procs, ((size_t)to->nprocs + from->nprocs) *
							    sizeof(*n));

		if (!n)
			return -ENOMEM;
		memcpy(n + to->nprocs, from->procs, (size_t)from->nprocs * sizeof(*n));
		to->procs = n;
		to->nprocs += from->nprocs;
		to->cap_procs = to->nprocs;
	}
	for (uint32_t i = 0; i <= from->mask; i++) {
		const struct sock_ent *f = &from->tab[i];
		struct sock_ent *t;
		uint32_t proc = base + f->proc;

		if (!f->inode)
			continue;
		t = probe(to, f->inode);
		if (t->inode) {
			uint32_t tg = to->procs[t->proc].tgid, ftg = to->procs[proc].tgid;

			t->nholders = t->nholders > UINT32_MAX - f->nholders ? UINT32_MAX :
				      t->nholders + f->nholders;
			/* as one thread would have chosen: preferred, else lowest pid */
			if (tg != to->prefer_tgid &&
			    (ftg == to->prefer_tgid || ftg < tg))
				t->proc = proc;
			continue;
		}
		err = add_socket(to, f->inode, proc);
		if (err)
			return err;
		t = probe(to, f->inode);
		if (t->inode)	/* not if the table was full */
			t->nholders = f->nholders;
	}
	to->stats.procs += from->stats.procs;
	to->stats.procs_denied += from->stats.procs_denied;
	to->stats.fds += from->stats.fds;
	to->stats.truncated |= from->stats.truncated;
	return 0;
}

static int list_pids(DIR *d, uint32_t **out, size_t *n, uint32_t *truncated)
{
	uint32_t *pids = NULL;
	size_t cap = 0;
	struct dirent *de;

	*n = 0;
	while ((de = readdir(d))) {
		uint32_t pid;

		if (!parse_pid(de->d_name, &pid))
			continue;
		if (*n >= MAX_PROCS) {
			*truncated = 1;
			break;
		}
		if (*n == cap) {
			uint32_t *np;

			cap = cap ? cap * 2 : 1024;
			np = realloc(pids, cap * sizeof(*np));
			if (!np) {
				free(pids);
				return -ENOMEM;
			}
			pids = np;
		}
		pids[(*n)++] = pid;
	}
	*out = pids;
	return 0;
}

int procfd__scan(struct procfd **out, uint32_t prefer_tgid)
{
	struct worker w[MAX_THREADS] = { 0 };
	struct scan sc = { 0 };
	uint32_t *pids = NULL, truncated = 0;
	struct procfd *p = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int nthreads;
	DIR *d;
	int err;

	*out = NULL;
	d = opendir("/proc");
	if (!d)
		return -errno;
	err = list_pids(d, &pids, &sc.npids, &truncated);
	if (err)
		goto out;
	sc.proc_dir = dirfd(d);
	sc.pids = pids;
	nthreads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned int)cpus;
	/* a thread is worth it for a few hundred fds at least */
	if (sc.npids < 32 * nthreads)
		nthreads = 1;
	sc.max_fds = MAX_FDS / nthreads;

	for (unsigned int i = 0; i < nthreads; i++) {
		w[i].scan = &sc;
		w[i].p = table_new(prefer_tgid);
		if (!w[i].p) {
			err = -ENOMEM;
			goto out;
		}
	}
	/* thread 0 is us; a thread that cannot start leaves its share to the rest */
	for (unsigned int i = 1; i < nthreads; i++)
		w[i].started = !pthread_create(&w[i].th, NULL, scan_worker, &w[i]);
	scan_worker(&w[0]);
	for (unsigned int i = 1; i < nthreads; i++)
		if (w[i].started)
			pthread_join(w[i].th, NULL);
	for (unsigned int i = 0; i < nthreads && !err; i++)
		err = w[i].err;
	for (unsigned int i = 1; i < nthreads && !err; i++)
		err = merge(w[0].p, w[i].p);
	if (!err) {
		p = w[0].p;
		w[0].p = NULL;
		p->stats.truncated |= truncated;
		p->stats.sockets = p->used;
		*out = p;
	}
out:
	for (unsigned int i = 0; i < MAX_THREADS; i++)
		procfd__free(w[i].p);
	free(pids);
	closedir(d);
	return err;
}

int procfd__scan_pids(struct procfd **out, const uint32_t *pids, size_t n)
{
	struct procfd *p = table_new(0);
	int proc_dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	*out = NULL;
	if (!p || proc_dir < 0) {
		err = p ? -errno : -ENOMEM;
		procfd__free(p);
		if (proc_dir >= 0)
			close(proc_dir);
		return err;
	}
	for (size_t i = 0; i < n && !err; i++)
		err = scan_proc(p, proc_dir, pids[i], MAX_FDS);
	close(proc_dir);
	if (err) {
		procfd__free(p);
		return err;
	}
	p->stats.sockets = p->used;
	*out = p;
	return 0;
}

void procfd__free(struct procfd *p)
{
	if (!p)
		return;
	free(p->tab);
	free(p->procs);
	free(p);
}

int procfd__lookup(const struct procfd *p, uint32_t inode, struct procfd_owner *out)
{
	const struct sock_ent *s;
	const struct proc_ent *pe;

	if (!p || !inode)
		return -ENOENT;
	s = probe(p, inode);
	if (!s->inode)
		return -ENOENT;
	pe = &p->procs[s->proc];
	out->tgid = pe->tgid;
	out->nholders = s->nholders;
	memcpy(out->comm, pe->comm, sizeof(out->comm));
	return 0;
}

const struct procfd_stats *procfd__stats(const struct procfd *p)
{
	return &p->stats;
}

int procfd__comm(uint32_t pid, char comm[16])
{
	char path[32];
	int dir;

	snprintf(path, sizeof(path), "/proc/%u", pid);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	read_comm(dir, comm);
	close(dir);
	return 0;
}

int procfd__cmdline(uint32_t pid, char *buf, size_t len)
{
	char path[32];
	size_t n = 0;
	ssize_t r;
	bool cut = false;
	int fd;

	if (!buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < len - 1) {
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (n == len - 1) {
		char c;

		/* more than fits: say so */
		cut = read(fd, &c, 1) == 1;
	}
	close(fd);
	/* the arguments end in NULs; a process that rewrote its title may not */
	while (n > 0 && (buf[n - 1] == '\0' || buf[n - 1] == ' '))
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	if (cut && len > 4) {
		size_t at = n > len - 4 ? len - 4 : n, back = 0;

		/* not in a character: the one cut goes whole (at most 3 bytes back) */
		while (at > 0 && back++ < 3 && ((unsigned char)buf[at] & 0xc0) == 0x80)
			at--;
		memcpy(buf + at, "...", 4);
		n = strlen(buf);
	}
	/* one line, and nothing a terminal would act on: C0, DEL, C1, bytes that are no UTF-8 */
	tt_printable(buf, n);
	return (int)n;
}
