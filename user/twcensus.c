// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Identity side of the TIME-WAIT report: the census.  sock_diag dumps of
 * one namespace or of every one on the host (a setns() into each), or for
 * the host, one walk of the kernel's TCP hash tables (sockwalk.h) where it
 * loads; counted on a thread of the tracker's own, so that the caller's
 * loop keeps reading its source meanwhile; the endpoint tables the report
 * adds up.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include "cwcheck.h"
#include "diag.h"
#include "ident.h"
#include "netns.h"
#include "privs.h"
#include "sockwalk.h"
#include "twcensus.h"
#include "util.h"


static void census_run_all(struct census *c, struct census_thread *th);
static void census_check(struct tw_tracker *t, struct cwcheck *k);
static void census_reset(struct census *c);
static int census_one(struct census *c, int netns_fd, uint32_t netns);
static uint32_t fd_netns(int netns_fd);

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *census_main(void *arg)
{
	struct tw_tracker *t = arg;
	struct census_thread *th = t->th;
	int err;

	/*
	 * setns(), another user's /proc/PID/ns/net, and another user's
	 * /proc/PID/fd (0500, its owner's) for the CLOSE-WAIT check's holders:
	 * nothing else
	 */
	err = privs__limit_thread(1ull << CAP_SYS_ADMIN | 1ull << CAP_SYS_PTRACE |
				  1ull << CAP_DAC_READ_SEARCH);
	if (err)
		tt_warn("warning: namespace census thread: lower its capabilities: %s",
			strerror(-err));
	pthread_mutex_lock(&th->mu);
	for (;;) {
		struct cwcheck *k;

		while (!th->stop && th->state != CENSUS_REQUESTED)
			pthread_cond_wait(&th->cv, &th->mu);
		if (th->stop)
			break;
		th->state = CENSUS_RUNNING;
		k = th->cw;
		pthread_mutex_unlock(&th->mu);
		if (t->netns_fd == TW_NETNS_ALL) {
			census_run_all(t->c, th);
		} else {
			uint64_t t0 = mono_ns();

			census_reset(t->c);
			/*
			 * -N of a namespace we could not move into (no
			 * CAP_SYS_ADMIN; privs.c said so): a setns() that
			 * fails once fails every time, so it is tried once.
			 */
			if (!th->no_setns &&
			    census_one(t->c, t->netns_fd, fd_netns(t->netns_fd)) == -EPERM)
				th->no_setns = true;
			t->c->took_ns = mono_ns() - t0;
		}
		if (k && k->n)
			census_check(t, k);
		pthread_mutex_lock(&th->mu);
		th->state = CENSUS_DONE;
		pthread_cond_broadcast(&th->cv);
	}
	pthread_mutex_unlock(&th->mu);
	return NULL;
}

int twc_thread_start(struct tw_tracker *t)
{
	struct census_thread *th = calloc(1, sizeof(*th));
	pthread_condattr_t ca;
	sigset_t all, old;
	int err;

	if (!th)
		return -ENOMEM;
	th->self = diag__self_netns();
	/*
	 * Loaded now, while we may: the walks need no capability later, and
	 * the census thread keeps CAP_SYS_ADMIN only for setns()
	 */
	if (t->netns_fd == TW_NETNS_ALL) {
		sockwalk__open(&th->walk);
		tt_debug("TIME-WAIT census: %s%s%s%s", sockwalk__method(th->walk),
			 th->walk ? "" : " (", th->walk ? "" : sockwalk__why(),
			 th->walk ? "" : ")");
	}
	pthread_mutex_init(&th->mu, NULL);
	/* timed waits on the monotonic clock: a clock step must not stall them */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&th->cv, &ca);
	pthread_condattr_destroy(&ca);
	t->th = th;
	/* signals are the main loop's: the thread inherits them blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&th->tid, NULL, census_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		tt_err("start the namespace census thread: %s", strerror(err));
		pthread_cond_destroy(&th->cv);
		pthread_mutex_destroy(&th->mu);
		sockwalk__free(th->walk);
		free(th);
		t->th = NULL;
		return -err;
	}
	return 0;
}

void twc_thread_stop(struct tw_tracker *t)
{
	struct census_thread *th = t->th;

	if (!th)
		return;
	pthread_mutex_lock(&th->mu);
	th->stop = true;
	pthread_cond_broadcast(&th->cv);
	pthread_mutex_unlock(&th->mu);
	/* a count under way ends first: its dumps are bounded by the sockets there are */
	pthread_join(th->tid, NULL);
	pthread_cond_destroy(&th->cv);
	pthread_mutex_destroy(&th->mu);
	sockwalk__free(th->walk);
	free(th);
	t->th = NULL;
}

/* With th->mu held: a count (and the CLOSE-WAIT check k, or none) if none is under way. */
static void request_locked(struct census_thread *th, struct cwcheck *k)
{
	if (th->state != CENSUS_IDLE)
		return;
	th->cw = k;
	th->state = CENSUS_REQUESTED;
	th->requested_ms = mono_ms();
	pthread_cond_broadcast(&th->cv);
}

/* With th->mu held: until the count asked for is done, for TW_CENSUS_WAIT_MS at most. */
static void wait_locked(struct census_thread *th)
{
	while ((th->state == CENSUS_REQUESTED || th->state == CENSUS_RUNNING) &&
	       mono_ms() < th->requested_ms + TW_CENSUS_WAIT_MS) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&th->cv, &th->mu, &ts);
	}
}

static bool census_in(struct tw_tracker *t, enum census_state state)
{
	struct census_thread *th = t->th;
	bool in;

	if (!th)
		return false;
	pthread_mutex_lock(&th->mu);
	in = th->state == state;
	pthread_mutex_unlock(&th->mu);
	return in;
}

void tw_tracker__census_start(struct tw_tracker *t)
{
	tw_tracker__census_start_check(t, NULL);
}

bool tw_tracker__census_idle(struct tw_tracker *t)
{
	return census_in(t, CENSUS_IDLE);
}

void tw_tracker__census_start_check(struct tw_tracker *t, struct cwcheck *k)
{
	struct census_thread *th = t->th;

	if (!th)
		return;
	pthread_mutex_lock(&th->mu);
	request_locked(th, k);
	pthread_mutex_unlock(&th->mu);
}

bool tw_tracker__census_done(struct tw_tracker *t)
{
	return census_in(t, CENSUS_DONE);
}

bool tw_tracker__census_wait(struct tw_tracker *t)
{
	struct census_thread *th = t->th;
	bool done;

	if (!th)
		return false;
	pthread_mutex_lock(&th->mu);
	wait_locked(th);
	done = th->state == CENSUS_DONE;
	pthread_mutex_unlock(&th->mu);
	return done;
}

bool tw_tracker__census_busy(struct tw_tracker *t)
{
	struct census_thread *th = t->th;
	bool busy;

	if (!th)
		return false;
	pthread_mutex_lock(&th->mu);
	busy = (th->state == CENSUS_REQUESTED || th->state == CENSUS_RUNNING) &&
	       mono_ms() < th->requested_ms + TW_CENSUS_WAIT_MS;
	pthread_mutex_unlock(&th->mu);
	return busy;
}

static uint32_t ep_hash(uint32_t netns, uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint32_t h = 2166136261u ^ family;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h = (h ^ port) * 16777619u;
	h = (h ^ netns) * 16777619u;
	return h;
}

void twc_agg_reset(struct agg *a)
{
	memset(a->used, 0, sizeof(a->used));
	memset(a->extra, 0, sizeof(a->extra));
	a->n = 0;
}

/* Count n more for (netns, family, addr, port); in_use counts open sockets instead. */
void twc_agg_add(struct agg *a, uint32_t netns, uint8_t family, const uint8_t *addr,
		    uint16_t port, bool in_use, uint64_t n)
{
	uint8_t v4[16];
	uint32_t i;

	addr = tt_unmap_v4(&family, addr, v4);
	i = ep_hash(netns, family, addr, port) % AGG_BUCKETS;

	for (size_t probes = 0; probes < AGG_BUCKETS; probes++, i = (i + 1) % AGG_BUCKETS) {
		struct tw_endpoint *e = &a->e[i];

		if (!a->used[i]) {
			/* a full table drops new endpoints rather than loop */
			if (a->n >= AGG_BUCKETS * 3 / 4)
				return;
			a->used[i] = true;
			a->n++;
			memset(e, 0, sizeof(*e));
			e->family = family;
			memcpy(e->addr, addr, 16);
			e->port = port;
			a->ns[i] = netns;
		} else if (e->family != family || e->port != port || a->ns[i] != netns ||
			   memcmp(e->addr, addr, 16)) {
			continue;
		}
		if (in_use)
			a->extra[i] += n;
		else
			e->count += n;
		return;
	}
}

void twc_top(const struct agg *a, struct tw_endpoint *out, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < AGG_BUCKETS; i++) {
		size_t k;

		if (!a->used[i] || !a->e[i].count)
			continue;
		for (k = *n; k > 0 && out[k - 1].count < a->e[i].count; k--)
			if (k < TW_TOP)
				out[k] = out[k - 1];
		if (k < TW_TOP) {
			out[k] = a->e[i];
			if (*n < TW_TOP)
				(*n)++;
		}
	}
}

static size_t listening_slot(const struct census *c, uint64_t key)
{
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (c->cap_listening - 1);

	while (c->listening[i] && c->listening[i] != key)
		i = (i + 1) & (c->cap_listening - 1);
	return i;
}

/* A listener's port in its namespace; forgotten at the next count. */
static void listening_add(struct census *c, uint32_t netns, uint16_t port)
{
	uint64_t key = ((uint64_t)netns << 16 | port) + 1;
	size_t i;

	if (2 * (c->n_listening + 1) > c->cap_listening) {
		size_t cap = c->cap_listening ? 2 * c->cap_listening : 256;
		uint64_t *old = c->listening, *n = calloc(cap, sizeof(*n));
		size_t old_cap = c->cap_listening;

		if (!n)
			return;	/* the port range's guess, then */
		c->listening = n;
		c->cap_listening = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i])
				c->listening[listening_slot(c, old[i])] = old[i];
		free(old);
	}
	i = listening_slot(c, key);
	if (!c->listening[i]) {
		c->listening[i] = key;
		c->n_listening++;
	}
}

static bool listening_has(const struct census *c, uint32_t netns, uint16_t port)
{
	uint64_t key = ((uint64_t)netns << 16 | port) + 1;

	return c->cap_listening && c->listening[listening_slot(c, key)] == key;
}

static int on_sock(const struct diag_sock *s, void *ctx)
{
	struct census *c = ctx;
	struct ns_info *ns = c->cur;
	static const uint8_t zero[16];

	c->dumped++;
	if (s->state == TT_TIME_WAIT) {
		/*
		 * On a port something listens on, we accepted: the peer's port
		 * is its own ephemeral one, so the peer is counted by address
		 * alone (port 0, shown as "*").  The listeners come first, in
		 * the dump (the kernel's listening hash before its established
		 * one) and in the walk.  On no such port, where the local port
		 * is ephemeral we connected, and the peer's address:port is
		 * the destination using up our ports; outside the range, we
		 * accepted on a port whose listener is gone.
		 */
		bool accepted = listening_has(c, ns->netns, s->sport) ||
				(ns->hi && (s->sport < ns->lo || s->sport > ns->hi));

		ns->population++;
		twc_agg_add(&c->remote, ns->netns, s->family, s->daddr, accepted ? 0 : s->dport,
			false, 1);
		twc_agg_add(&c->local, ns->netns, s->family, s->saddr, 0, false, 1);
	} else if (s->state == TT_LISTEN) {
		listening_add(c, ns->netns, s->sport);
	} else if (s->dport && memcmp(s->daddr, zero, 16)) {
		/* counted after the dump, toward destinations that have TIME-WAITs */
		if (c->n_open == c->cap_open) {
			size_t cap = c->cap_open ? c->cap_open * 2 : 1024;
			struct open_sock *o = realloc(c->open, cap * sizeof(*o));

			if (!o)
				return 0;
			c->open = o;
			c->cap_open = cap;
		}
		c->open[c->n_open].netns = ns->netns;
		c->open[c->n_open].family = s->family;
		c->open[c->n_open].dport = s->dport;
		memcpy(c->open[c->n_open].daddr, s->daddr, 16);
		c->n_open++;
	}
	return 0;
}

/* An open socket holds its local port toward its destination too. */
void twc_add_in_use(struct agg *a, const struct open_sock *o)
{
	uint8_t v4[16], family = o->family;
	const uint8_t *daddr = tt_unmap_v4(&family, o->daddr, v4);
	uint32_t i = ep_hash(o->netns, family, daddr, o->dport) % AGG_BUCKETS;

	for (size_t probes = 0; probes < AGG_BUCKETS && a->used[i];
	     probes++, i = (i + 1) % AGG_BUCKETS) {
		const struct tw_endpoint *e = &a->e[i];

		if (a->ns[i] == o->netns && e->family == family && e->port == o->dport &&
		    !memcmp(e->addr, daddr, 16)) {
			a->extra[i]++;
			return;
		}
	}
}

static void census_reset(struct census *c)
{
	twc_agg_reset(&c->remote);
	twc_agg_reset(&c->local);
	c->n_open = 0;
	c->n_ns = 0;
	c->population = 0;
	c->failed = 0;
	c->no_tw = 0;
	c->dumped = 0;
	c->ok = false;
	c->n_tw = 0;
	c->walked = 0;
	c->dumped_ns = 0;
	c->short_ns = 0;
	if (c->n_listening)
		memset(c->listening, 0, c->cap_listening * sizeof(*c->listening));
	c->n_listening = 0;
}

static struct ns_info *census_ns(struct census *c, uint32_t netns)
{
	if (c->n_ns == c->cap_ns) {
		size_t cap = c->cap_ns ? c->cap_ns * 2 : 16;
		struct ns_info *n = realloc(c->ns, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->ns = n;
		c->cap_ns = cap;
	}
	memset(&c->ns[c->n_ns], 0, sizeof(c->ns[0]));
	c->ns[c->n_ns].netns = netns;
	/* not read yet: unknown, not off */
	c->ns[c->n_ns].tw_reuse = -1;
	c->ns[c->n_ns].timestamps = -1;
	return &c->ns[c->n_ns++];
}

/* ns's port range, tw_reuse and timestamps, from netns_fd (-1: ours); unknown where unread */
static void ns_sysctls(struct ns_info *ns, int netns_fd, bool read)
{
	struct diag_sysctls sys = { .tw_reuse = -1, .timestamps = -1 };

	if (read)
		diag__read_sysctls(netns_fd, &sys);
	ns->lo = sys.port_lo;
	ns->hi = sys.port_hi;
	ns->tw_reuse = sys.tw_reuse;
	ns->timestamps = sys.timestamps;
}

/* Count the namespace this thread is in now (netns_fd -1) or netns_fd. */
static int census_one(struct census *c, int netns_fd, uint32_t netns)
{
	struct ns_info *ns = census_ns(c, netns);
	int err;

	if (!ns)
		return -ENOMEM;
	ns_sysctls(ns, netns_fd, true);
	c->cur = ns;
	err = diag__dump_req(&(struct diag_req){ .netns_fd = netns_fd,
		.states = DIAG_STATES_ALL, .no_info = true }, on_sock, c);
	if (err) {
		/* nothing of it counts: the caller tells a partial count apart */
		c->n_ns--;
		c->failed++;
		return err;
	}
	c->population += ns->population;
	c->ok = true;
	return 0;
}

struct in_ns {
	struct census *c;
	uint32_t netns;
	bool self;	/* ours: its sysctls are the report's, TIME-WAIT or not */
};

/*
 * Inside the namespace: one with no timewait socket (sockstat) has a
 * population of 0 and nothing toward pressure, and is not dumped, since a
 * dump walks the sockets of every namespace to find its own.
 */
static int census_here(void *ctx)
{
	struct in_ns *x = ctx;
	struct diag_sockstat ss;
	struct ns_info *ns;

	if (!diag__sockstat_here(&ss) && ss.tw == 0) {
		ns = census_ns(x->c, x->netns);
		if (!ns)
			return -ENOMEM;
		if (x->self)
			ns_sysctls(ns, -1, true);
		x->c->no_tw++;
		x->c->ok = true;
		return 0;
	}
	return census_one(x->c, -1, x->netns);
}

/*
 * Every namespace, one setns() there and back each: the sysctls and the
 * netlink socket are both opened inside.  The set is made afresh and let
 * go each time, so that our fds never keep a stopped container's
 * namespace (and its devices) alive from one summary to the next.
 */
/* Walk A: TIME-WAIT sockets, which wait for their namespace's sysctls, and listeners. */
static int walked_tw(const struct diag_sock *s, uint32_t netns, void *ctx)
{
	struct census *c = ctx;

	/* setns() refused: ours only, as the dumps would */
	if (c->only && netns != c->only)
		return 0;
	c->dumped++;
	if (s->state != TT_TIME_WAIT) {
		/* a listener: it shows its namespace, and which TIME-WAITs were accepted */
		listening_add(c, netns, s->sport);
		return 0;
	}
	if (c->n_tw == c->cap_tw) {
		size_t cap = c->cap_tw ? c->cap_tw * 2 : 1024;
		struct tw_sock *n = realloc(c->tw, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->tw = n;
		c->cap_tw = cap;
	}
	c->tw[c->n_tw].netns = netns;
	c->tw[c->n_tw].s = *s;
	c->n_tw++;
	return 0;
}

static int cmp_tw(const void *a, const void *b)
{
	const struct tw_sock *x = a, *y = b;

	return x->netns < y->netns ? -1 : x->netns > y->netns;
}

/* Walk B: the open sockets of the namespaces that have TIME-WAIT sockets. */
static int walked_open(const struct diag_sock *s, uint32_t netns, void *ctx)
{
	struct census *c = ctx;
	struct tw_sock key = { .netns = netns };
	struct ns_info tmp = { .netns = netns };

	if (c->only && netns != c->only)
		return 0;
	if (!c->n_tw || !bsearch(&key, c->tw, c->n_tw, sizeof(*c->tw), cmp_tw))
		return 0;
	/* on_sock() counts it toward pressure; its own sysctls are not needed */
	c->cur = &tmp;
	return on_sock(s, c);
}

static bool is_own_table(const uint32_t *own, size_t n, uint32_t netns)
{
	for (size_t i = 0; i < n; i++)
		if (own[i] == netns)
			return true;
	return false;
}

/*
 * The walks' share of a census (sockwalk.h): one for the TIME-WAIT sockets
 * and the listeners of every namespace sharing our table, and only where
 * there are TIME-WAIT sockets, one for the open sockets that hold ports too.
 * A namespace is entered only for the sysctls of one with TIME-WAIT
 * sockets.  Marks in done[] the namespaces of the set it counted: one it
 * saw no listener or timewait sock of, or with a table of its own, is left
 * to sock_diag (which skips it when sockstat shows no TIME-WAIT).  0, or
 * -errno when a walk failed (nothing of it is kept).
 */
static int census_walk(struct census *c, struct census_thread *th, struct netns_set *set,
		       bool *done)
{
	struct sockwalk_stats ws;
	const uint32_t *own;
	size_t n = netns_set__count(set), n_own;
	int err;

	c->only = th->no_setns ? th->self : 0;
	err = sockwalk__run(th->walk, DIAG_STATE(TT_TIME_WAIT) | DIAG_STATE(TT_LISTEN), true,
			    walked_tw, c, &ws);
	if (err)
		goto fail;
	c->walked = ws.sockets;
	own = sockwalk__own_table(th->walk, &n_own);
	for (size_t i = 0; i < n; i++) {
		uint32_t netns = netns_set__inode(set, i);

		done[i] = sockwalk__seen(th->walk, netns) && !is_own_table(own, n_own, netns) &&
			  (!c->only || netns == c->only);
	}
	/* tw is NULL until the first socket: qsort() takes no NULL, even for 0 */
	if (c->n_tw > 1)
		qsort(c->tw, c->n_tw, sizeof(*c->tw), cmp_tw);
	if (c->n_tw) {
		/* the second walk forgets the first's namespaces: done[] has them */
		err = sockwalk__run(th->walk, DIAG_STATES_ALL & ~(DIAG_STATE(TT_TIME_WAIT) |
				    DIAG_STATE(TT_LISTEN)), true, walked_open, c, &ws);
		if (err)
			goto fail;
		c->walked += ws.sockets;
	}
	for (size_t i = 0; i < c->n_tw;) {
		uint32_t netns = c->tw[i].netns;
		int k = netns_set__find(set, netns);
		struct ns_info *ns = census_ns(c, netns);

		if (!ns) {
			err = -ENOMEM;
			goto fail;
		}
		ns_sysctls(ns, netns == th->self || k < 0 ? -1 : netns_set__fd(set, (size_t)k),
			   k >= 0 && (netns == th->self || !th->no_setns));
		c->cur = ns;
		for (; i < c->n_tw && c->tw[i].netns == netns; i++) {
			on_sock(&c->tw[i].s, c);
			c->dumped--;	/* counted once, by the walk */
		}
		c->population += ns->population;
		if (k >= 0)
			done[k] = true;
	}
	/* the namespaces it read with no TIME-WAIT: there, with none */
	for (size_t i = 0; i < n; i++) {
		uint32_t netns = netns_set__inode(set, i);
		struct tw_sock key = { .netns = netns };

		struct ns_info *ns;

		if (!done[i] || (c->n_tw && bsearch(&key, c->tw, c->n_tw, sizeof(*c->tw), cmp_tw)))
			continue;
		ns = census_ns(c, netns);
		if (!ns) {
			err = -ENOMEM;
			goto fail;
		}
		/* ours: the report gives its port range and tw_reuse, TIME-WAIT or not */
		if (netns == th->self)
			ns_sysctls(ns, -1, true);
		c->no_tw++;
	}
	c->ok = true;
	return 0;
fail:
	census_reset(c);
	memset(done, 0, n * sizeof(*done));
	return err;
}

static int census_noop(void *ctx)
{
	(void)ctx;
	return 0;
}

static void census_run_all(struct census *c, struct census_thread *th)
{
	uint64_t t0 = mono_ns();
	struct netns_set *set = netns_set__new();
	int n = set ? netns_set__scan(set) : -ENOMEM;
	bool *done = NULL;

	census_reset(c);
	if (n < 0) {
		tt_err_counted("list the network namespaces in /proc: %s", strerror(-n));
		netns_set__free(set);
		return;
	}
	/*
	 * Without CAP_SYS_ADMIN the dumps cover our namespace only, and so
	 * does the walk, which could read them all: asked once, told once
	 */
	for (size_t i = 0; th->walk && !th->setns_tried && i < (size_t)n; i++) {
		if (netns_set__inode(set, i) == th->self)
			continue;
		th->setns_tried = true;
		if (diag__in_netns(netns_set__fd(set, i), census_noop, NULL) == -EPERM) {
			th->no_setns = true;
			tt_warn("warning: cannot enter the other network namespaces (no "
				"CAP_SYS_ADMIN?): TIME-WAIT counts cover our own from now on");
		}
	}
	/*
	 * Short of descriptors (netns.h), the scan holds none for some: they
	 * cannot be entered, and only the walk, which needs none, reads them
	 * (where they share the host's tables).  Said once; -v counts them at
	 * every count.
	 */
	c->short_ns = (uint32_t)netns_set__short(set);
	if (c->short_ns && !th->said_short && !th->no_setns) {
		char why[512];

		th->said_short = true;
		tt_warn("warning: %u of %zu network namespaces cannot be entered: %s: %s",
			c->short_ns, (size_t)n + c->short_ns, th->walk ?
			"one walk of the TCP tables still reads their sockets for the TIME-WAIT "
			"counts and the CLOSE-WAIT check where they share the host's tables, but "
			"not their own port range (port pressure)" :
			"the TIME-WAIT counts and the CLOSE-WAIT check leave them out",
			netns_set__short_why(set, why, sizeof(why)));
	}
	/*
	 * The walk reads every namespace sharing our table; the rest are
	 * dumped.  Where at most one namespace holds TIME-WAIT sockets,
	 * sockstat read in each one and that one dump cost less than a walk
	 * of every socket (measured: 30-80 ms against 100-120 ms for 100
	 * namespaces of 1,000 sockets on a loaded 2-CPU VM), so the count
	 * after such a count does that; one that found two or more such
	 * namespaces, each a dump of every socket of the host, is followed
	 * by a walk again.  Not with namespaces the set has no descriptor
	 * for: those only the walk reads.
	 */
	if (th->walk && (!th->walk_idle || c->short_ns)) {
		done = calloc(n ? (size_t)n : 1, sizeof(*done));
		if (!done || census_walk(c, th, set, done)) {
			tt_debug("TIME-WAIT census: %s this time (%s)", sockwalk__method(NULL),
				 !done ? "out of memory" : sockwalk__why());
			free(done);
			done = NULL;
		}
	}
	for (size_t i = 0; i < (size_t)n; i++) {
		struct in_ns x = { .c = c, .netns = netns_set__inode(set, i),
				   .self = netns_set__inode(set, i) == th->self };
		size_t before = c->n_ns + c->failed;
		int ret;

		if (done && done[i])
			continue;
		if (x.netns != th->self && th->no_setns)
			continue;
		c->dumped_ns++;
		ret = diag__in_netns(x.netns == th->self ? -1 : netns_set__fd(set, i), census_here,
				     &x);
		if (c->n_ns + c->failed != before)
			continue;
		/* the setns itself failed: census_one never ran */
		c->failed++;
		if (ret == -EPERM) {
			th->no_setns = true;
			tt_warn("warning: cannot enter the other network namespaces (no "
				"CAP_SYS_ADMIN?): TIME-WAIT counts cover our own from now on");
		}
	}
	if (th->walk && c->ok) {
		size_t holding = 0;

		for (size_t i = 0; i < c->n_ns; i++)
			holding += c->ns[i].population > 0;
		th->walk_idle = holding < 2;
	}
	free(done);
	netns_set__free(set);
	c->took_ns = mono_ns() - t0;
}

/*
 * The count the thread finished, if there is one.  None asked for yet (the
 * final summary, a scrape): ask, and wait for it.  One asked for and still
 * under way past TW_CENSUS_WAIT_MS: false, and the report estimates (the
 * next one takes it in).  The caller's loop does the waiting for a summary
 * (tw_tracker__census_start, tw_tracker__census_busy), reading its source
 * meanwhile; nothing here reads it.
 */
bool twc_census_take(struct tw_tracker *t)
{
	struct census_thread *th = t->th;
	bool done;

	pthread_mutex_lock(&th->mu);
	request_locked(th, NULL);
	wait_locked(th);
	done = th->state == CENSUS_DONE;
	if (done)
		th->state = CENSUS_IDLE;
	pthread_mutex_unlock(&th->mu);
	if (!done && !th->warned_slow) {
		th->warned_slow = true;
		tt_warn("warning: counting the TIME-WAIT sockets of %s takes more than %d ms; until "
			"it is done, reports estimate the population from traced entries",
			t->netns_fd == TW_NETNS_ALL ? "every network namespace" : "the namespace",
			TW_CENSUS_WAIT_MS);
	}
	return done;
}

/* ---- the CLOSE-WAIT check (cwcheck.h): after a count, on the same thread ---- */

struct cw_dump {
	struct cwcheck *k;
	size_t lo, hi;
};

static int cw_sock(const struct diag_sock *s, void *ctx)
{
	struct cw_dump *x = ctx;

	cwcheck__ns_sock(x->k, x->lo, x->hi, s);
	return 0;
}

/*
 * A dump resumes each hash bucket by position: a socket ahead of the
 * cursor that goes between two reads moves the rest back one, and a live
 * socket behind it is not shown.  So each candidate the dump did not show
 * is asked for alone; one the kernel has after all is there.
 */
static void cw_confirm_gone(struct cw_dump *x)
{
	int fd = -1;

	for (size_t i = x->lo; i < x->hi; i++) {
		const struct cw_cand *c = &x->k->c[i];
		struct diag_sock s;

		/* one with no local port yet cannot be asked for by its tuple */
		if (c->verdict != CW_GONE || !c->sport)
			continue;
		if (fd < 0 && (fd = diag__open_here()) < 0)
			return;
		if (diag__find(fd, c->family, c->saddr, c->sport, c->daddr, c->dport, c->cookie,
			       &s) == 1)
			cwcheck__ns_sock(x->k, i, i + 1, &s);
	}
	if (fd >= 0)
		close(fd);
}

/*
 * Inside the namespace: its CLOSE_WAIT and LAST_ACK sockets, or after a
 * loss its every socket, with tcp_info (when each last sent); then those
 * it did not show, one by one.
 */
static int cw_dump_here(void *ctx)
{
	struct cw_dump *x = ctx;
	int ret = diag__dump_req(&(struct diag_req){ .netns_fd = -1, .states = x->k->states },
				 cw_sock, ctx);

	if (!ret)
		cw_confirm_gone(x);
	return ret;
}

/* The runs of candidates left to the walk: their namespaces, sorted as k's. */
struct cw_walk {
	struct cwcheck *k;
	uint32_t *ns;
	size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cw_walked(const struct diag_sock *s, uint32_t netns, void *ctx)
{
	struct cw_walk *w = ctx;
	size_t lo = 0, hi = w->k->n;

	/* the walk reads listeners for its own sake (which tables it covered) */
	if ((s->state == TT_LISTEN && !(w->k->states & DIAG_STATE(TT_LISTEN))) ||
	    !bsearch(&netns, w->ns, w->n, sizeof(*w->ns), cmp_u32))
		return 0;
	/* the run of that namespace */
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (w->k->c[m].netns < netns)
			lo = m + 1;
		else
			hi = m;
	}
	cwcheck__ns_sock(w->k, lo, cwcheck__ns_next(w->k, lo), s);
	return 0;
}

/* A process of that pid exists (one we may not signal too). */
static bool pid_alive(uint32_t pid)
{
	return !kill((pid_t)pid, 0) || errno == EPERM;
}

/*
 * The namespaces the scan did not find, in one walk of the TCP hash tables
 * (sockwalk.h), which reads every namespace sharing ours, a process in it or
 * not, and one whose process we may not read (another user namespace's).
 * Such a namespace may be gone with its sockets, or alive, held by sockets
 * that processes elsewhere keep (a setns() back out, fds handed on).  A
 * namespace with a table of its own is not in the walk where no listener
 * shows it.  So a candidate not found is gone only where the walk covered
 * its namespace (or, without the walk, the scan could read every
 * process's) and its owner has exited too (cwcheck__ns_end_unfound).
 */
static void cw_check_missing(struct census_thread *th, struct cwcheck *k, struct cw_walk *w,
			     bool scan_whole)
{
	struct sockwalk_stats ws;
	const uint32_t *own;
	size_t n_own = 0;
	int err = -ENOENT;

	k->dump_ns = mono_ns();
	if (th->walk)
		err = sockwalk__run(th->walk, k->states | DIAG_STATE(TT_LISTEN), false,
				    cw_walked, w, &ws);
	own = err ? NULL : sockwalk__own_table(th->walk, &n_own);
	for (size_t lo = 0, hi; lo < k->n; lo = hi) {
		uint32_t netns = k->c[lo].netns;
		bool covered;

		hi = cwcheck__ns_next(k, lo);
		if (!bsearch(&netns, w->ns, w->n, sizeof(*w->ns), cmp_u32))
			continue;
		/* a walk that left sockets out (no room, chains too long) covered nothing */
		covered = err ? scan_whole : !ws.lost && !ws.cut && !is_own_table(own, n_own, netns);
		cwcheck__ns_end_unfound(k, lo, hi, covered, pid_alive);
	}
}

/*
 * Dump each namespace that holds candidates, once, where this thread may:
 * ours always; with -N the one of netns_fd; host-wide, each one the scan
 * finds, entered with setns() (CAP_SYS_ADMIN), and those it does not find
 * by the walk (cw_check_missing).  Without CAP_SYS_ADMIN, ours only, as the
 * census.  Everything else stays unchecked.
 */
static void census_check(struct tw_tracker *t, struct cwcheck *k)
{
	struct census_thread *th = t->th;
	bool hostwide = t->netns_fd == TW_NETNS_ALL, others;
	struct cw_walk w = { .k = k };
	struct netns_set *set = NULL;
	uint32_t fixed = t->netns_fd >= 0 ? fd_netns(t->netns_fd) : 0;

	others = hostwide && !th->no_setns && privs__thread_has(1ull << CAP_SYS_ADMIN);
	if (others) {
		set = netns_set__new();
		if (set && netns_set__scan(set) < 0) {
			netns_set__free(set);
			set = NULL;
		}
		w.ns = calloc(k->namespaces ? k->namespaces : 1, sizeof(*w.ns));
	}
	for (size_t lo = 0, hi; lo < k->n; lo = hi) {
		uint32_t netns = k->c[lo].netns;
		struct cw_dump x = { .k = k, .lo = lo };
		int fd = -2, ret, at = -1;

		hi = cwcheck__ns_next(k, lo);
		x.hi = hi;
		if (netns == th->self)
			fd = -1;
		else if (fixed && netns == fixed && !th->no_setns &&
			 privs__thread_has(1ull << CAP_SYS_ADMIN))
			fd = t->netns_fd;
		else if (others && set && (at = netns_set__find(set, netns)) >= 0)
			fd = netns_set__fd(set, (size_t)at);
		cwcheck__ns_begin(k, lo, hi);
		k->dump_ns = mono_ns();
		if (fd == -2) {
			/* netns is sorted: so is w.ns */
			if (others && set && w.ns && at < 0)
				w.ns[w.n++] = netns;
			else
				cwcheck__ns_end(k, lo, hi, false);
			continue;
		}
		ret = diag__in_netns(fd, cw_dump_here, &x);
		if (ret == -EPERM && fd != -1)
			th->no_setns = true;
		cwcheck__ns_end(k, lo, hi, ret == 0);
	}
	/* a namespace the scan had no descriptor for is not found in the set, and not gone */
	if (w.n)
		cw_check_missing(th, k, &w, !netns_set__denied(set) && !netns_set__short(set));
	free(w.ns);
	netns_set__free(set);
	cwcheck__holders(k, mono_ns());
	k->done_ns = mono_ns();
}

/* The inode of the namespace netns_fd (-1: ours), for the pressure lines. */
static uint32_t fd_netns(int netns_fd)
{
	struct stat st;

	if (netns_fd < 0)
		return diag__self_netns();
	return fstat(netns_fd, &st) ? 0 : (uint32_t)st.st_ino;
}

int twc_cmp_netns(const void *a, const void *b)
{
	const struct ns_info *x = a, *y = b;

	if (x->population != y->population)
		return x->population < y->population ? 1 : -1;
	return x->netns < y->netns ? -1 : x->netns > y->netns;
}

const struct ns_info *twc_ns_of(const struct census *c, uint32_t netns)
{
	for (size_t i = 0; i < c->n_ns; i++)
		if (c->ns[i].netns == netns)
			return &c->ns[i];
	return NULL;
}
