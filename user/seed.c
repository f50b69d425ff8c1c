// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source: the start-up seed, the sockets that existed before tracing, from
 * one walk of every namespace (sockwalk.c) or sock_diag in each, as
 * TT_EV_SEED records.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "engine.h"
#include "netns.h"
#include "seed.h"
#include "sockwalk.h"
#include "util.h"

/* -p PID: its listeners seen so far */
struct pid_listener {
	uint32_t netns;
	uint16_t port;
	uint8_t addr[16];	/* all zero: any address (a wildcard listener) */
};

struct pid_listeners {
	struct pid_listener *l;
	size_t n, cap;
};

struct seed_ctx {
	const struct tt_opts *o;
	const struct procfd *pf;
	uint32_t netns;
	tt_event_cb cb;
	void *ctx;
	struct seed_stats *st;
	struct pid_listeners *pl;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool port_in(const uint16_t *list, uint32_t n, uint16_t port)
{
	for (uint32_t i = 0; i < n; i++)
		if (list[i] == port)
			return true;
	return false;
}

/* The same tests as the BPF side's pass_filters(). */
bool seed__wanted(const struct tt_opts *o, const struct diag_sock *s)
{
	if (o->family && s->family != o->family)
		return false;
	if (o->n_lports && !port_in(o->lports, o->n_lports, s->sport))
		return false;
	if (o->n_rports && !port_in(o->rports, o->n_rports, s->dport))
		return false;
	if (o->n_ports && !port_in(o->ports, o->n_ports, s->sport) &&
	    !port_in(o->ports, o->n_ports, s->dport))
		return false;
	return true;
}

void seed__event(struct tt_event *e, const struct diag_sock *s, uint32_t netns,
		 const struct procfd_owner *owner, uint64_t ts_ns)
{
	memset(e, 0, sizeof(*e));
	e->type = TT_EV_SEED;
	e->family = s->family;
	e->new_state = s->state;
	e->hook = TT_HOOK_SOCK_DIAG;
	e->sport = s->sport;
	e->dport = s->dport;
	e->netns = netns;
	e->ts_ns = ts_ns;
	memcpy(e->saddr, s->saddr, sizeof(e->saddr));
	memcpy(e->daddr, s->daddr, sizeof(e->daddr));
	if (e->family == TT_AF_INET) {
		/* as the BPF side writes them: only the first 4 bytes */
		memset(e->saddr + 4, 0, 12);
		memset(e->daddr + 4, 0, 12);
	}
	e->cookie = s->cookie;
	e->cgroup = s->cgroup;
	e->flags = TT_F_COOKIE;
	if (owner) {
		e->flags |= TT_F_OWNER;
		e->pid = e->tgid = owner->tgid;
		memcpy(e->comm, owner->comm, sizeof(e->comm));
		e->comm[sizeof(e->comm) - 1] = '\0';
	}
	if (s->has_info) {
		e->flags |= TT_F_SEED_AGE;
		e->aux[0] = s->last_data_recv_ms;
		e->aux[2] = s->last_ack_recv_ms;
	}
	e->aux[1] = s->inode;
	e->sk = engine__pseudo_sk(e);
}

/*
 * -p PID keeps the sockets PID holds, and those of its listeners' accept
 * queues: no file holds them yet, so they have no owner, and the CLOSE-WAIT
 * report counts them under the listener's owner.  A socket waits there in
 * SYN_RECV (Fast Open), ESTABLISHED or CLOSE_WAIT, on its listener's port
 * and address (or any, for a wildcard listener); one closed by its process
 * (FIN_WAIT1 and on) has no file either, and is not PID's.  A namespace's
 * listeners come first, in its dump and in the walk.  e has its owner, if any.
 */
static bool pid_keeps(struct pid_listeners *pl, uint32_t pid, const struct tt_event *e)
{
	static const uint8_t any[16];

	if ((e->flags & TT_F_OWNER) && e->tgid == pid) {
		if (e->new_state == TT_LISTEN && pl->n < 65536) {
			if (pl->n == pl->cap) {
				size_t cap = pl->cap ? pl->cap * 2 : 16;
				struct pid_listener *l = realloc(pl->l, cap * sizeof(*l));

				if (!l)
					return true;
				pl->l = l;
				pl->cap = cap;
			}
			pl->l[pl->n].netns = e->netns;
			pl->l[pl->n].port = e->sport;
			memcpy(pl->l[pl->n].addr, e->saddr, 16);
			pl->n++;
		}
		return true;
	}
	if ((e->flags & TT_F_OWNER) || e->aux[1] ||
	    (e->new_state != TT_SYN_RECV && e->new_state != TT_ESTABLISHED &&
	     e->new_state != TT_CLOSE_WAIT))
		return false;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->l[i].netns == e->netns && pl->l[i].port == e->sport &&
		    (!memcmp(pl->l[i].addr, any, 16) || !memcmp(pl->l[i].addr, e->saddr, 16)))
			return true;
	return false;
}

static int on_sock(const struct diag_sock *s, void *ctx)
{
	struct seed_ctx *sc = ctx;
	struct procfd_owner owner;
	struct tt_event e;
	bool have_owner;
	int ret;

	sc->st->dumped++;
	/* a minisock, or a state the kernel added after TT_STATE_MAX */
	if (!s->has_info || s->state < 1 || s->state >= TT_STATE_MAX ||
	    !(SEED_STATES & DIAG_STATE(s->state))) {
		sc->st->minisocks++;
		return 0;
	}
	if (!seed__wanted(sc->o, s)) {
		sc->st->filtered++;
		return 0;
	}
	have_owner = procfd__lookup(sc->pf, s->inode, &owner) == 0;
	seed__event(&e, s, sc->netns, have_owner ? &owner : NULL, mono_ns());
	if (sc->o->pid && !pid_keeps(sc->pl, sc->o->pid, &e)) {
		sc->st->filtered++;
		return 0;
	}
	ret = sc->cb(sc->ctx, &e);
	if (ret < 0)
		return ret;
	sc->st->seeded++;
	if (have_owner)
		sc->st->owned++;
	return 0;
}

/* One namespace: netns_fd -1 is ours; sc->netns is its inode. */
static int seed_netns(struct seed_ctx *sc, int netns_fd)
{
	struct diag_req req = {
		.netns_fd = netns_fd,
		.family = (uint8_t)sc->o->family,
		.states = SEED_STATES,
	};
	uint64_t t0 = mono_ns();
	int ret;

	ret = diag__dump_req(&req, on_sock, sc);
	sc->st->dump_ns += mono_ns() - t0;
	sc->st->namespaces++;
	return ret;
}

/* One namespace: -N's (the only one the kernel filter lets through), or ours. */
static int seed_one(struct seed_ctx *sc, uint32_t self)
{
	int fd = -1, ret;

	if (sc->netns != self) {
		fd = diag__open_netns(sc->netns);
		if (fd < 0) {
			tt_err("seed: find network namespace %u: %s", sc->netns, strerror(-fd));
			return fd;
		}
	}
	ret = seed_netns(sc, fd);
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Every namespace on the host, at once:
 *
 * Each namespace's dump walks the established hash table, which namespaces
 * share unless tcp_child_ehash_entries gave them their own, so the dumps
 * are the cost, and they are kernel time that parallelises: workers, one
 * per CPU, take the namespaces in turn, each in a thread setns()'d there,
 * and keep their records; the /proc scan for owners runs meanwhile on the
 * calling thread.  Then the owners are filled in (a socket inode is unique
 * host-wide, and the pids are those of our pid namespace, the host's when
 * we run on the host) and the records handed on.  A namespace with no TCP
 * socket (sockstat) is not dumped.  One that cannot be (it is gone, or
 * setns was refused) is skipped with a warning: the others are still
 * worth seeding.
 */
#define SEED_WORKERS_MAX	8

struct seed_all {
	const struct tt_opts *o;
	struct netns_set *set;
	uint32_t self;
	bool no_setns;			/* setns() refused: ours only */
	bool *walked;			/* per namespace: the walk read it, no dump */
	size_t n;
	size_t next;			/* the next namespace to take, atomically */
};

struct seed_worker {
	struct seed_all *all;
	pthread_t tid;
	bool started;
	struct tt_event *ev;		/* records, owners not yet filled in */
	size_t n_ev, cap_ev;
	struct seed_stats st;
	uint32_t netns;			/* the namespace being dumped */
	unsigned int failed;
	int err;			/* -ENOMEM: stop */
	uint64_t done_ns;		/* when it ran out of namespaces */
};

static int buffer_sock(const struct diag_sock *s, void *ctx)
{
	struct seed_worker *w = ctx;
	struct tt_event *e;

	w->st.dumped++;
	if (!s->has_info || s->state < 1 || s->state >= TT_STATE_MAX ||
	    !(SEED_STATES & DIAG_STATE(s->state))) {
		w->st.minisocks++;
		return 0;
	}
	if (!seed__wanted(w->all->o, s)) {
		w->st.filtered++;
		return 0;
	}
	if (w->n_ev == w->cap_ev) {
		size_t cap = w->cap_ev ? w->cap_ev * 2 : 4096;

		e = realloc(w->ev, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		w->ev = e;
		w->cap_ev = cap;
	}
	seed__event(&w->ev[w->n_ev++], s, w->netns, NULL, mono_ns());
	return 0;
}

/* In the namespace: this thread is setns()'d there, or it is ours. */
static int dump_here(void *ctx)
{
	struct seed_worker *w = ctx;
	struct diag_sockstat ss;
	struct diag_req req = {
		.netns_fd = -1,
		.family = (uint8_t)w->all->o->family,
		.states = SEED_STATES,
	};

	w->st.namespaces++;
	if (!diag__sockstat_here(&ss) && ss.inuse == 0) {
		w->st.empty++;
		return 0;
	}
	return diag__dump_req(&req, buffer_sock, w);
}

static void *seed_worker_main(void *arg)
{
	struct seed_worker *w = arg;
	struct seed_all *all = w->all;

	for (;;) {
		size_t i = __atomic_fetch_add(&all->next, 1, __ATOMIC_RELAXED);
		int ret;

		if (i >= all->n)
			break;
		w->netns = netns_set__inode(all->set, i);
		if (all->walked && all->walked[i])
			continue;
		if (w->netns != all->self && all->no_setns)
			continue;
		ret = diag__in_netns(w->netns == all->self ? -1 : netns_set__fd(all->set, i),
				     dump_here, w);
		if (ret == -ENOMEM) {
			w->err = ret;
			break;
		}
		/* the dump or the setns said why */
		if (ret < 0)
			w->failed++;
	}
	w->done_ns = mono_ns();
	return NULL;
}

static int walked_sock(const struct diag_sock *s, uint32_t netns, void *ctx)
{
	struct seed_worker *w = ctx;

	/* setns() refused: ours only, as the dumps would */
	if (w->all->no_setns && netns != w->all->self)
		return 0;
	w->netns = netns;
	return buffer_sock(s, w);
}

/* The /proc scan for owners, while the sockets are read. */
struct scan_job {
	struct procfd **pf;
	uint32_t pid;
	int err;
	uint64_t took_ns;
};

static void *scan_main(void *arg)
{
	struct scan_job *j = arg;
	uint64_t t0 = mono_ns();

	j->err = procfd__scan(j->pf, j->pid);
	j->took_ns = mono_ns() - t0;
	return NULL;
}

/*
 * Every namespace sharing our TCP hash table in one walk (sockwalk.h), into
 * w's records.  Marks the namespaces it read; a namespace with a table of
 * its own, or that it saw no socket of, is left to the sock_diag workers
 * (which skip it if sockstat shows it has no socket).  0 or -errno.
 */
static int seed_walk(struct seed_all *all, struct sockwalk *sw, struct seed_worker *w,
		     struct seed_stats *st)
{
	struct sockwalk_stats ws;
	size_t n_own;
	int err;

	w->all = all;
	/* the states seeded: a namespace with none is left to the workers, who skip it if empty */
	err = sockwalk__run(sw, SEED_STATES, false, walked_sock, w, &ws);
	if (err) {
		/* nothing of it is kept: the dumps read it all again */
		w->n_ev = 0;
		memset(&w->st, 0, sizeof(w->st));
		return err;
	}
	sockwalk__own_table(sw, &n_own);
	for (size_t i = 0; i < all->n; i++) {
		uint32_t netns = netns_set__inode(all->set, i);

		all->walked[i] = sockwalk__seen(sw, netns) || (all->no_setns && netns != all->self);
	}
	st->walked = ws.sockets;
	st->walk_ns = ws.took_ns;
	st->own_table = (uint32_t)n_own;
	return 0;
}

static int noop(void *ctx)
{
	(void)ctx;
	return 0;
}

static int seed_all(struct seed_ctx *sc, uint32_t self, struct procfd **pf)
{
	struct seed_worker w[SEED_WORKERS_MAX + 1], walk = { .started = false };
	struct seed_all all = { .o = sc->o, .self = self };
	struct scan_job scan = { .pf = pf, .pid = sc->o->pid };
	struct sockwalk *sw = NULL;
	pthread_t scan_tid;
	bool scan_started;
	uint64_t tw;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int nw, failed = 0;
	size_t unread = 0;
	sigset_t block, old;
	uint64_t t0 = mono_ns();
	int n, ret = 0, err;

	all.set = netns_set__new();
	if (!all.set)
		return -ENOMEM;
	n = netns_set__scan(all.set);
	if (n < 0) {
		tt_err("seed: list the network namespaces in /proc: %s", strerror(-n));
		netns_set__free(all.set);
		return n;
	}
	all.n = (size_t)n;
	/* most often a process of another user namespace: it may share one we have */
	if (netns_set__denied(all.set))
		tt_debug("seed: the network namespaces of %zu process%s could not be opened "
			 "(ptrace access refused); any only %s in are not seeded",
			 netns_set__denied(all.set), netns_set__denied(all.set) == 1 ? "" : "es",
			 netns_set__denied(all.set) == 1 ? "it is" : "they are");
	/* one try before the workers, so that a refusal is told once */
	for (size_t i = 0; i < all.n; i++) {
		if (netns_set__inode(all.set, i) == self)
			continue;
		if (diag__in_netns(netns_set__fd(all.set, i), noop, NULL) == -EPERM) {
			all.no_setns = true;
			tt_warn("warning: seed: cannot enter the other network namespaces (no "
				"CAP_SYS_ADMIN?): only our own is seeded");
		}
		break;
	}
	nw = cpus < 1 ? 1 : cpus > SEED_WORKERS_MAX ? SEED_WORKERS_MAX : (unsigned int)cpus;
	if (nw > all.n)
		nw = all.n ? (unsigned int)all.n : 1;
	memset(w, 0, sizeof(w));
	/* signals are the main loop's: a worker's dump is not to be interrupted */
	sigfillset(&block);
	pthread_sigmask(SIG_SETMASK, &block, &old);
	/* owners meanwhile: a socket opened after the scan has none, which is fine */
	scan_started = !pthread_create(&scan_tid, NULL, scan_main, &scan);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!scan_started)
		scan_main(&scan);
	/* the walk first, if it loads; the workers dump what it did not read */
	all.walked = calloc(all.n ? all.n : 1, sizeof(*all.walked));
	tw = mono_ns();
	if (all.walked && !sockwalk__open(&sw)) {
		sc->st->load_ns = mono_ns() - tw;
		if (seed_walk(&all, sw, &walk, sc->st))
			memset(all.walked, 0, all.n * sizeof(*all.walked));
		else
			sc->st->method = "walk";
	}
	/*
	 * The namespaces the scan had no descriptor for: the walk read those
	 * sharing the host's tables, with no descriptor; the rest are not read
	 * (and without setns(), none but ours would be anyway)
	 */
	for (size_t i = 0; i < netns_set__short(all.set) && !all.no_setns; i++)
		unread += !sc->st->method ||
			  !sockwalk__seen(sw, netns_set__short_inode(all.set, i));
	sockwalk__free(sw);
	sw = NULL;
	pthread_sigmask(SIG_SETMASK, &block, &old);
	for (unsigned int i = 0; i < nw; i++) {
		w[i].all = &all;
		w[i].started = !pthread_create(&w[i].tid, NULL, seed_worker_main, &w[i]);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (scan_started)
		pthread_join(scan_tid, NULL);
	err = scan.err;
	sc->st->scan_ns = scan.took_ns;
	if (err) {
		tt_warn("warning: seed: scan /proc for socket owners: %s; seeded flows will have "
			"none", strerror(-err));
		*pf = NULL;
	} else if (procfd__stats(*pf)->truncated) {
		tt_warn("warning: seed: too many open files to scan them all; some seeded flows "
			"will have no owner");
	}
	/* no thread could start: the namespaces are dumped here */
	if (!w[0].started)
		seed_worker_main(&w[0]);
	for (unsigned int i = 0; i < nw; i++)
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
	/* the walk's records go out with the workers' */
	w[nw++] = walk;
	for (size_t i = 0; i < all.n; i++)
		if (all.walked && all.walked[i])
			sc->st->walked_ns++;
	for (unsigned int i = 0; i < nw; i++) {
		if (w[i].done_ns > t0 && w[i].done_ns - t0 > sc->st->dump_ns)
			sc->st->dump_ns = w[i].done_ns - t0;
		sc->st->dumped += w[i].st.dumped;
		sc->st->minisocks += w[i].st.minisocks;
		sc->st->filtered += w[i].st.filtered;
		sc->st->namespaces += w[i].st.namespaces;
		sc->st->dumped_ns += w[i].st.namespaces;
		sc->st->empty += w[i].st.empty;
		failed += w[i].failed;
		if (w[i].err)
			ret = w[i].err;
	}
	if (ret)
		tt_err("seed: out of memory for the records of %zu namespaces", all.n);
	for (unsigned int i = 0; i < nw && !ret; i++) {
		for (size_t k = 0; k < w[i].n_ev && ret >= 0; k++) {
			struct tt_event *e = &w[i].ev[k];
			struct procfd_owner owner;
			bool have = *pf && procfd__lookup(*pf, (uint32_t)e->aux[1], &owner) == 0;

			if (have) {
				e->flags |= TT_F_OWNER;
				e->pid = e->tgid = owner.tgid;
				memcpy(e->comm, owner.comm, sizeof(e->comm));
				e->comm[sizeof(e->comm) - 1] = '\0';
			}
			if (sc->o->pid && !pid_keeps(sc->pl, sc->o->pid, e)) {
				sc->st->filtered++;
				continue;
			}
			if (have)
				sc->st->owned++;
			ret = sc->cb(sc->ctx, e);
			if (ret >= 0)
				sc->st->seeded++;
		}
	}
	for (unsigned int i = 0; i < nw; i++)
		free(w[i].ev);
	if (failed)
		tt_warn("warning: seed: %u of %d network namespaces could not be read", failed, n);
	if (unread) {
		char why[512];

		tt_warn("warning: seed: %zu of %zu network namespaces are not read (the sockets "
			"open there before the start are not seen): %s", unread,
			all.n + netns_set__short(all.set),
			netns_set__short_why(all.set, why, sizeof(why)));
	}
	sc->st->namespaces += sc->st->walked_ns;
	sc->st->total_ns = mono_ns() - t0;
	free(all.walked);
	netns_set__free(all.set);
	return ret < 0 ? ret : 0;
}

static int seed_run(const struct tt_opts *o, int scope, tt_event_cb cb, void *ctx,
		    struct seed_stats *stats, struct pid_listeners *pl)
{
	struct seed_stats local;
	struct seed_ctx sc = { .o = o, .cb = cb, .ctx = ctx, .pl = pl };
	struct procfd *pf = NULL;
	uint32_t self = diag__self_netns();
	uint64_t t0;
	int err = 0;

	sc.st = stats ? stats : &local;
	memset(sc.st, 0, sizeof(*sc.st));
	if (!self) {
		err = -errno;
		tt_err("seed: read our network namespace: %s", strerror(-err));
		return err;
	}

	if (!o->netns && scope == SEED_ALL) {
		err = seed_all(&sc, self, &pf);
		procfd__free(pf);
		if (err < 0)
			return err;
		if (sc.st->method)
			tt_debug("seeded %llu sockets (%llu with an owner) of %llu dumped from %u "
				 "namespace%s (%u with no TCP socket) in %.1f ms: one walk of the TCP "
				 "hash tables %.1f ms (%llu sockets; loading it %.1f ms), %u "
				 "namespace%s dumped with sock_diag (%u with a table of their own) "
				 "by %.1f ms, and /proc %.1f ms at once",
				 (unsigned long long)sc.st->seeded, (unsigned long long)sc.st->owned,
				 (unsigned long long)sc.st->dumped, sc.st->namespaces,
				 sc.st->namespaces == 1 ? "" : "s", sc.st->empty,
				 sc.st->total_ns / 1e6, sc.st->walk_ns / 1e6,
				 (unsigned long long)sc.st->walked, sc.st->load_ns / 1e6, sc.st->dumped_ns,
				 sc.st->dumped_ns == 1 ? "" : "s", sc.st->own_table,
				 sc.st->dump_ns / 1e6, sc.st->scan_ns / 1e6);
		else
			tt_debug("seeded %llu sockets (%llu with an owner) of %llu dumped from %u "
				 "namespace%s (%u with no TCP socket) in %.1f ms: the dumps (sock_diag, "
				 "one namespace at a time, as %s) %.1f ms and /proc %.1f ms at once",
				 (unsigned long long)sc.st->seeded, (unsigned long long)sc.st->owned,
				 (unsigned long long)sc.st->dumped, sc.st->namespaces,
				 sc.st->namespaces == 1 ? "" : "s", sc.st->empty,
				 sc.st->total_ns / 1e6, sockwalk__why()[0] ? sockwalk__why() : "asked",
				 sc.st->dump_ns / 1e6, sc.st->scan_ns / 1e6);
		return sc.st->seeded > INT32_MAX ? INT32_MAX : (int)sc.st->seeded;
	}

	/* owners first: a socket opened after the scan has none, which is fine */
	t0 = mono_ns();
	err = procfd__scan(&pf, o->pid);
	sc.st->scan_ns = mono_ns() - t0;
	if (err) {
		tt_warn("warning: seed: scan /proc for socket owners: %s; seeded flows will have "
			"none", strerror(-err));
		err = 0;
	} else if (procfd__stats(pf)->truncated)
		tt_warn("warning: seed: too many open files to scan them all; some seeded flows "
			"will have no owner");
	sc.pf = pf;

	sc.netns = o->netns ? o->netns : self;
	err = seed_one(&sc, self);
	procfd__free(pf);
	if (err < 0)
		return err;
	tt_debug("seeded %llu sockets (%llu with an owner) of %llu dumped from %u namespace%s: "
		 "dump and records %.1f ms, /proc %.1f ms",
		 (unsigned long long)sc.st->seeded, (unsigned long long)sc.st->owned,
		 (unsigned long long)sc.st->dumped, sc.st->namespaces,
		 sc.st->namespaces == 1 ? "" : "s", sc.st->dump_ns / 1e6, sc.st->scan_ns / 1e6);
	return sc.st->seeded > INT32_MAX ? INT32_MAX : (int)sc.st->seeded;
}

int seed__run(const struct tt_opts *o, int scope, tt_event_cb cb, void *ctx,
	      struct seed_stats *stats)
{
	struct pid_listeners pl = { 0 };
	int ret = seed_run(o, scope, cb, ctx, stats, &pl);

	free(pl.l);
	return ret;
}
