// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "engine.h"
#include "netns.h"
#include "seed.h"
#include "util.h"

struct seed_ctx {
	const struct tt_opts *o;
	const struct procfd *pf;
	uint32_t netns;
	tt_event_cb cb;
	void *ctx;
	struct seed_stats *st;
	int cb_err;		/* the callback's error, which stops every dump */
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
	if (sc->o->pid && (!have_owner || owner.tgid != sc->o->pid)) {
		sc->st->filtered++;
		return 0;
	}
	seed__event(&e, s, sc->netns, have_owner ? &owner : NULL, mono_ns());
	ret = sc->cb(sc->ctx, &e);
	if (ret < 0) {
		sc->cb_err = ret;
		return ret;
	}
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

/* -N: the one namespace the kernel filter lets through. */
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
 * Every namespace on the host.  One that cannot be dumped (it went away
 * meanwhile, or setns was refused) is skipped with a warning: the others
 * are still worth seeding.  The owners come from one scan of /proc for the
 * whole host: socket inodes are unique host-wide (one sockfs), and the pids
 * are those of our pid namespace, the host's when we run on the host.
 */
static int seed_all(struct seed_ctx *sc, uint32_t self)
{
	struct netns_set *set = netns_set__new();
	unsigned int failed = 0;
	int n, ret = 0;

	if (!set)
		return -ENOMEM;
	n = netns_set__scan(set);
	if (n < 0) {
		tt_err("seed: list the network namespaces in /proc: %s", strerror(-n));
		netns_set__free(set);
		return n;
	}
	/* most often a process of another user namespace: it may share one we have */
	if (netns_set__denied(set))
		tt_debug("seed: the network namespaces of %zu processes could not be opened "
			 "(ptrace access refused); any only they are in are not seeded",
			 netns_set__denied(set));
	for (size_t i = 0; i < (size_t)n; i++) {
		uint32_t ino = netns_set__inode(set, i);

		sc->netns = ino;
		ret = seed_netns(sc, ino == self ? -1 : netns_set__fd(set, i));
		if (ret < 0 && ret != -ENOMEM && sc->cb_err != ret) {
			/* the dump said why; go on with the next */
			failed++;
			ret = 0;
		}
		if (ret < 0)
			break;
	}
	if (failed)
		tt_warn("warning: seed: %u of %d network namespaces could not be read", failed, n);
	netns_set__free(set);
	return ret;
}

int seed__run(const struct tt_opts *o, int scope, tt_event_cb cb, void *ctx,
	      struct seed_stats *stats)
{
	struct seed_stats local;
	struct seed_ctx sc = { .o = o, .cb = cb, .ctx = ctx };
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

	if (o->netns) {
		sc.netns = o->netns;
		err = seed_one(&sc, self);
	} else if (scope == SEED_OURS) {
		sc.netns = self;
		err = seed_one(&sc, self);
	} else {
		err = seed_all(&sc, self);
	}
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
