// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include "diag.h"
#include "ident.h"
#include "netns.h"
#include "privs.h"
#include "sockwalk.h"
#include "twreport.h"
#include "util.h"

#define TW_LEN_NS	(60ull * 1000000000ull)	/* TCP_TIMEWAIT_LEN */
#define WINDOW_MAX	(1u << 18)		/* entries kept for the estimate */
#define AGG_BUCKETS	16384

struct tw_entry {
	uint64_t ts_ns;
	uint8_t family;
	uint8_t saddr[16], daddr[16];
	uint16_t dport;
	const struct tt_cgname *name;	/* its cgroup's, if it names a container */
};

/* A small open-addressing count table for endpoints, per namespace or not. */
struct agg {
	struct tw_endpoint e[AGG_BUCKETS];
	uint64_t extra[AGG_BUCKETS];	/* in-use count, for pressure */
	uint32_t ns[AGG_BUCKETS];	/* the namespace, 0 where they add up */
	bool used[AGG_BUCKETS];
	size_t n;
};

struct open_sock {
	uint32_t netns;
	uint8_t family;
	uint16_t dport;
	uint8_t daddr[16];
};

/* What one namespace's sysctls say, and its population. */
struct ns_info {
	uint32_t netns;
	int64_t population;
	uint16_t lo, hi;		/* ephemeral range; 0, 0 unknown */
	int tw_reuse, timestamps;
};

/* One sock_diag count: of one namespace, or of all of them. */
struct census {
	struct agg remote;		/* by namespace: pressure is per namespace */
	struct agg local;		/* local addresses, added up */
	struct open_sock *open;
	size_t n_open, cap_open;
	struct ns_info *ns;
	size_t n_ns, cap_ns;
	struct ns_info *cur;		/* the namespace being dumped */
	int64_t population;
	uint32_t failed;		/* namespaces that could not be dumped */
	uint32_t no_tw;			/* ... that sockstat showed had no TIME-WAIT */
	uint64_t dumped;		/* sockets the dumps returned */
	uint64_t took_ns;		/* how long the count took */
	/* host-wide by one walk: TIME-WAIT sockets wait for their namespace's sysctls */
	struct tw_sock { uint32_t netns; struct diag_sock s; } *tw;
	size_t n_tw, cap_tw;
	uint64_t walked;		/* sockets the walk read (0: no walk) */
	uint32_t dumped_ns;		/* namespaces dumped with sock_diag */
	uint32_t only;			/* the walk keeps this namespace only, if set */
	bool ok;			/* at least one dump went through */
	/* inline counts: the caller's drain */
	void (*between)(void *ctx);
	void *between_ctx;
};

enum census_state { CENSUS_IDLE, CENSUS_REQUESTED, CENSUS_RUNNING, CENSUS_DONE };

/* The host-wide census thread and what it shares with the caller. */
struct census_thread {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* state changed, or stop */
	enum census_state state;	/* under mu */
	bool stop;			/* under mu */
	uint32_t self;
	bool no_setns;			/* setns() refused: ours only from then on */
	bool warned_slow;		/* the caller's */
	struct sockwalk *walk;		/* every namespace in one walk, or NULL */
	bool setns_tried;		/* whether setns() works, asked once for the walk */
	bool walk_idle;			/* the last count found TIME-WAIT sockets in < 2 namespaces */
};

struct tw_tracker {
	int netns_fd;
	uint32_t warn_pct;
	uint64_t entries, by_client, by_server;
	struct tw_entry *win;		/* ring of recent entries */
	size_t head, len;
	/*
	 * Written by whoever counts (the census thread while it runs), read
	 * by the report once the count is done: never both at once.
	 */
	struct census *c;
	struct agg *top;		/* remote endpoints added up, for the report */
	struct census_thread *th;	/* TW_NETNS_ALL */
	void (*drain)(void *ctx);
	void *drain_ctx;
	struct tt_ident *ident;
};

void tw_tracker__set_ident(struct tw_tracker *t, struct tt_ident *id)
{
	t->ident = id;
}

/* The containers with the most entries in the window: they hold that many now. */
static void top_containers(const struct tw_tracker *t, struct tw_report *r)
{
	enum { MAX_SEEN = 256 };
	struct tw_container seen[MAX_SEEN];
	size_t n = 0;

	for (size_t i = 0; i < t->len; i++) {
		const struct tt_cgname *nm = t->win[(t->head + i) % WINDOW_MAX].name;
		size_t k;

		if (!nm)
			continue;
		for (k = 0; k < n && strcmp(seen[k].container, nm->container); k++)
			;
		if (k == n) {
			if (n == MAX_SEEN)
				continue;
			seen[n++] = (struct tw_container){ .container = nm->container,
				.pod = nm->pod[0] ? nm->pod : NULL, .cgroup = nm->path };
		}
		seen[k].count++;
	}
	/* a partial selection sort: TW_TOP of at most MAX_SEEN */
	for (size_t i = 0; i < n && r->n_containers < TW_TOP; i++) {
		size_t best = i;

		for (size_t k = i + 1; k < n; k++)
			if (seen[k].count > seen[best].count)
				best = k;
		r->containers[r->n_containers++] = seen[best];
		seen[best] = seen[i];
	}
}

static void census_run_all(struct census *c, struct census_thread *th);

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *census_main(void *arg)
{
	struct tw_tracker *t = arg;
	struct census_thread *th = t->th;
	int err;

	/* setns(), and another user's /proc/PID/ns/net: nothing else */
	err = privs__limit_thread(1ull << CAP_SYS_ADMIN | 1ull << CAP_SYS_PTRACE);
	if (err)
		tt_warn("warning: namespace census thread: lower its capabilities: %s",
			strerror(-err));
	pthread_mutex_lock(&th->mu);
	for (;;) {
		while (!th->stop && th->state != CENSUS_REQUESTED)
			pthread_cond_wait(&th->cv, &th->mu);
		if (th->stop)
			break;
		th->state = CENSUS_RUNNING;
		pthread_mutex_unlock(&th->mu);
		census_run_all(t->c, th);
		pthread_mutex_lock(&th->mu);
		th->state = CENSUS_DONE;
		pthread_cond_broadcast(&th->cv);
	}
	pthread_mutex_unlock(&th->mu);
	return NULL;
}

static int thread_start(struct tw_tracker *t)
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
	sockwalk__open(&th->walk);
	tt_debug("TIME-WAIT census: %s%s%s%s", sockwalk__method(th->walk),
		 th->walk ? "" : " (", th->walk ? "" : sockwalk__why(), th->walk ? "" : ")");
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
		free(th);
		t->th = NULL;
		return -err;
	}
	return 0;
}

static void thread_stop(struct tw_tracker *t)
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

struct tw_tracker *tw_tracker__new(int netns_fd, uint32_t warn_pct)
{
	struct tw_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->win = calloc(WINDOW_MAX, sizeof(*t->win));
	t->c = calloc(1, sizeof(*t->c));
	t->top = calloc(1, sizeof(*t->top));
	if (!t->win || !t->c || !t->top)
		goto fail;
	t->netns_fd = netns_fd;
	t->warn_pct = warn_pct;
	if (netns_fd == TW_NETNS_ALL && thread_start(t))
		goto fail;
	return t;
fail:
	tw_tracker__free(t);
	return NULL;
}

void tw_tracker__free(struct tw_tracker *t)
{
	if (!t)
		return;
	thread_stop(t);
	if (t->c) {
		free(t->c->open);
		free(t->c->ns);
		free(t->c->tw);
	}
	free(t->c);
	free(t->top);
	free(t->win);
	free(t);
}

void tw_tracker__set_drain(struct tw_tracker *t, void (*drain)(void *ctx), void *ctx)
{
	t->drain = drain;
	t->drain_ctx = ctx;
}

void tw_tracker__flow(struct tw_tracker *t, const struct tt_flow *f)
{
	struct tw_entry *w;

	if (f->end != TT_END_TIME_WAIT)
		return;
	t->entries++;
	if (f->role == TT_ROLE_ACTIVE)
		t->by_client++;
	else if (f->role == TT_ROLE_PASSIVE)
		t->by_server++;
	/* the oldest entry gives way when the window is full */
	w = &t->win[(t->head + t->len) % WINDOW_MAX];
	if (t->len == WINDOW_MAX)
		t->head = (t->head + 1) % WINDOW_MAX;
	else
		t->len++;
	w->ts_ns = f->ts_ns[f->nstates - 1];
	w->family = f->family;
	memcpy(w->saddr, f->saddr, 16);
	memcpy(w->daddr, f->daddr, 16);
	w->dport = f->dport;
	w->name = NULL;
	if (t->ident) {
		const struct tt_cgname *n = ident__lookup(t->ident, f->cgroup, f->owner_pid);

		if (n && n->container[0])
			w->name = n;
	}
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

static void agg_reset(struct agg *a)
{
	memset(a->used, 0, sizeof(a->used));
	memset(a->extra, 0, sizeof(a->extra));
	a->n = 0;
}

/* Count n more for (netns, family, addr, port); in_use counts open sockets instead. */
static void agg_add(struct agg *a, uint32_t netns, uint8_t family, const uint8_t *addr,
		    uint16_t port, bool in_use, uint64_t n)
{
	uint32_t i = ep_hash(netns, family, addr, port) % AGG_BUCKETS;

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

static void top(const struct agg *a, struct tw_endpoint *out, size_t *n)
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

static int on_sock(const struct diag_sock *s, void *ctx)
{
	struct census *c = ctx;
	struct ns_info *ns = c->cur;
	static const uint8_t zero[16];

	c->dumped++;
	if (s->state == TT_TIME_WAIT) {
		/*
		 * Where the local port is ephemeral we connected and the peer's
		 * address:port is the destination using up our ports.  Otherwise
		 * we accepted: the peer's port is its own ephemeral one, so the
		 * peer is counted by address alone (port 0, shown as "*").
		 */
		bool ours = ns->hi && s->sport >= ns->lo && s->sport <= ns->hi;

		ns->population++;
		agg_add(&c->remote, ns->netns, s->family, s->daddr, ours || !ns->hi ? s->dport : 0,
			false, 1);
		agg_add(&c->local, 0, s->family, s->saddr, 0, false, 1);
	} else if (s->state != TT_LISTEN && s->dport && memcmp(s->daddr, zero, 16)) {
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
static void add_in_use(struct agg *a, const struct open_sock *o)
{
	uint32_t i = ep_hash(o->netns, o->family, o->daddr, o->dport) % AGG_BUCKETS;

	for (size_t probes = 0; probes < AGG_BUCKETS && a->used[i];
	     probes++, i = (i + 1) % AGG_BUCKETS) {
		const struct tw_endpoint *e = &a->e[i];

		if (a->ns[i] == o->netns && e->family == o->family && e->port == o->dport &&
		    !memcmp(e->addr, o->daddr, 16)) {
			a->extra[i]++;
			return;
		}
	}
}

static void census_reset(struct census *c)
{
	agg_reset(&c->remote);
	agg_reset(&c->local);
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
	return &c->ns[c->n_ns++];
}

/* Count the namespace this thread is in now (netns_fd -1) or netns_fd. */
static int census_one(struct census *c, int netns_fd, uint32_t netns)
{
	struct diag_sysctls sys = { .tw_reuse = -1, .timestamps = -1 };
	struct ns_info *ns = census_ns(c, netns);
	int err;

	if (!ns)
		return -ENOMEM;
	diag__read_sysctls(netns_fd, &sys);
	ns->lo = sys.port_lo;
	ns->hi = sys.port_hi;
	ns->tw_reuse = sys.tw_reuse;
	ns->timestamps = sys.timestamps;
	c->cur = ns;
	err = diag__dump_req(&(struct diag_req){ .netns_fd = netns_fd,
		.states = DIAG_STATES_ALL, .no_info = true,
		.between = c->between, .between_ctx = c->between_ctx }, on_sock, c);
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
	if (s->state != TT_TIME_WAIT)
		return 0;	/* a listener: only there to show its namespace */
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
	if (!bsearch(&key, c->tw, c->n_tw, sizeof(*c->tw), cmp_tw))
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
		struct diag_sysctls sys = { .tw_reuse = -1, .timestamps = -1 };
		struct ns_info *ns = census_ns(c, netns);

		if (!ns) {
			err = -ENOMEM;
			goto fail;
		}
		if (k >= 0 && (netns == th->self || !th->no_setns))
			diag__read_sysctls(netns == th->self ? -1 : netns_set__fd(set, (size_t)k),
					   &sys);
		ns->lo = sys.port_lo;
		ns->hi = sys.port_hi;
		ns->tw_reuse = sys.tw_reuse;
		ns->timestamps = sys.timestamps;
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

		if (!done[i] || bsearch(&key, c->tw, c->n_tw, sizeof(*c->tw), cmp_tw))
			continue;
		if (!census_ns(c, netns)) {
			err = -ENOMEM;
			goto fail;
		}
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
		tt_err("list the network namespaces in /proc: %s", strerror(-n));
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
	 * The walk reads every namespace sharing our table; the rest are
	 * dumped.  Where at most one namespace holds TIME-WAIT sockets,
	 * sockstat read in each one and that one dump cost less than a walk
	 * of every socket (measured: 30-80 ms against 100-120 ms for 100
	 * namespaces of 1,000 sockets on a loaded 2-CPU VM), so the count
	 * after such a count does that; one that found two or more such
	 * namespaces, each a dump of every socket of the host, is followed
	 * by a walk again.
	 */
	if (th->walk && !th->walk_idle) {
		done = calloc(n ? (size_t)n : 1, sizeof(*done));
		if (!done || census_walk(c, th, set, done)) {
			tt_debug("TIME-WAIT census: %s this time (%s)", sockwalk__method(NULL),
				 sockwalk__why());
			free(done);
			done = NULL;
		}
	}
	for (size_t i = 0; i < (size_t)n; i++) {
		struct in_ns x = { .c = c, .netns = netns_set__inode(set, i) };
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

static bool is_loopback(uint8_t family, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return family == TT_AF_INET ? a[0] == 127 : !memcmp(a, v6lo, 16);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * Ask the thread for a count and wait for it, draining meanwhile.  true
 * when t->c holds a finished count; false after TW_CENSUS_WAIT_MS, with the
 * count still under way (the next report waits for that one).
 */
static bool census_wait(struct tw_tracker *t)
{
	struct census_thread *th = t->th;
	uint64_t deadline = mono_ms() + TW_CENSUS_WAIT_MS;
	bool done;

	pthread_mutex_lock(&th->mu);
	if (th->state == CENSUS_IDLE) {
		th->state = CENSUS_REQUESTED;
		pthread_cond_broadcast(&th->cv);
	}
	while (th->state != CENSUS_DONE && mono_ms() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&th->cv, &th->mu, &ts);
		if (th->state == CENSUS_DONE || !t->drain)
			continue;
		/* the ring buffer fills while we wait: empty it, without the lock */
		pthread_mutex_unlock(&th->mu);
		t->drain(t->drain_ctx);
		pthread_mutex_lock(&th->mu);
	}
	done = th->state == CENSUS_DONE;
	if (done)
		th->state = CENSUS_IDLE;
	pthread_mutex_unlock(&th->mu);
	if (!done && !th->warned_slow) {
		th->warned_slow = true;
		tt_warn("warning: counting the TIME-WAIT sockets of every network namespace takes "
			"more than %d ms; until it is done, reports estimate the population from "
			"traced entries", TW_CENSUS_WAIT_MS);
	}
	return done;
}

/* The inode of the namespace netns_fd (-1: ours), for the pressure lines. */
static uint32_t fd_netns(int netns_fd)
{
	struct stat st;

	if (netns_fd < 0)
		return diag__self_netns();
	return fstat(netns_fd, &st) ? 0 : (uint32_t)st.st_ino;
}

static int cmp_netns(const void *a, const void *b)
{
	const struct ns_info *x = a, *y = b;

	if (x->population != y->population)
		return x->population < y->population ? 1 : -1;
	return x->netns < y->netns ? -1 : x->netns > y->netns;
}

static const struct ns_info *ns_of(const struct census *c, uint32_t netns)
{
	for (size_t i = 0; i < c->n_ns; i++)
		if (c->ns[i].netns == netns)
			return &c->ns[i];
	return NULL;
}

void tw_tracker__report(struct tw_tracker *t, uint64_t now_ns, uint64_t interval_ns,
			struct tw_report *r)
{
	struct census *c = t->c;
	const struct ns_info *self = NULL;
	bool counted = false;

	memset(r, 0, sizeof(*r));
	r->t_ns = now_ns;
	r->interval_ns = interval_ns;
	r->entries = t->entries;
	r->by_client = t->by_client;
	r->by_server = t->by_server;
	r->tw_reuse_sysctl = -1;
	t->entries = t->by_client = t->by_server = 0;

	/* the window keeps the last TCP_TIMEWAIT_LEN of entries */
	while (t->len && t->win[t->head].ts_ns + TW_LEN_NS < now_ns) {
		t->head = (t->head + 1) % WINDOW_MAX;
		t->len--;
	}
	top_containers(t, r);
	if (t->th) {
		r->host_wide = true;
		counted = census_wait(t) && c->ok;
		if (counted && c->walked)
			tt_debug("TIME-WAIT census: %zu network namespaces (%u with no TIME-WAIT; "
				 "%u dumped with sock_diag, %u could not be read), %llu sockets read "
				 "by one walk of the TCP hash tables and the dumps in %.1f ms",
				 c->n_ns, c->no_tw, c->dumped_ns, c->failed,
				 (unsigned long long)c->dumped, c->took_ns / 1e6);
		else if (counted)
			tt_debug("TIME-WAIT census: %zu network namespaces (%u with no TIME-WAIT, not "
				 "dumped; %u could not be read), %llu sockets dumped in %.1f ms",
				 c->n_ns, c->no_tw, c->failed, (unsigned long long)c->dumped,
				 c->took_ns / 1e6);
	} else if (t->netns_fd != -2) {
		census_reset(c);
		c->between = t->drain;
		c->between_ctx = t->drain_ctx;
		census_one(c, t->netns_fd, fd_netns(t->netns_fd));
		counted = c->ok;
	}
	agg_reset(t->top);
	if (counted) {
		r->population = c->population;
		for (size_t i = 0; i < c->n_open; i++)
			add_in_use(&c->remote, &c->open[i]);
		/* the top destinations add up over namespaces */
		for (size_t i = 0; i < AGG_BUCKETS; i++)
			if (c->remote.used[i] && c->remote.e[i].count)
				agg_add(t->top, 0, c->remote.e[i].family, c->remote.e[i].addr,
					c->remote.e[i].port, false, c->remote.e[i].count);
		top(&c->local, r->local, &r->n_local);
		r->namespaces = (uint32_t)c->n_ns;
		self = t->th ? ns_of(c, t->th->self) : c->n_ns ? &c->ns[0] : NULL;
		if (t->th) {
			qsort(c->ns, c->n_ns, sizeof(c->ns[0]), cmp_netns);
			for (size_t i = 0; i < c->n_ns && r->n_netns < TW_NETNS_MAX; i++) {
				if (c->ns[i].population <= 0)
					break;
				r->by_netns[r->n_netns++] = (struct tw_netns){
					.netns = c->ns[i].netns, .population = c->ns[i].population,
					.port_lo = c->ns[i].lo, .port_hi = c->ns[i].hi };
			}
			/* sorted: find ours again */
			self = ns_of(c, t->th->self);
		}
	} else {
		struct agg *local = &c->local;

		/* a census still running owns c: the estimate uses t->top alone */
		if (t->th)
			local = NULL;
		else
			agg_reset(local);
		r->estimated = true;
		r->population = (int64_t)t->len;
		for (size_t i = 0; i < t->len; i++) {
			const struct tw_entry *w = &t->win[(t->head + i) % WINDOW_MAX];

			agg_add(t->top, 0, w->family, w->daddr, w->dport, false, 1);
			if (local)
				agg_add(local, 0, w->family, w->saddr, 0, false, 1);
		}
		if (local)
			top(local, r->local, &r->n_local);
	}
	top(t->top, r->remote, &r->n_remote);

	if (self) {
		r->port_lo = self->lo;
		r->port_hi = self->hi;
		r->tw_reuse_sysctl = self->tw_reuse;
	}
	if (!counted)
		return;
	/* pressure: the destinations with the most local ports tied up, in their namespace */
	for (size_t i = 0; i < AGG_BUCKETS; i++) {
		const struct tw_endpoint *e = &c->remote.e[i];
		const struct ns_info *ns;
		uint64_t held;
		uint32_t range;
		struct tw_pressure p;
		size_t k;

		/* only destinations we connected to hold our ephemeral ports */
		if (!c->remote.used[i] || !e->count || !e->port)
			continue;
		ns = t->th ? ns_of(c, c->remote.ns[i]) : self;
		if (!ns || !ns->hi || ns->hi < ns->lo)
			continue;
		range = ns->hi - ns->lo + 1u;
		held = e->count + c->remote.extra[i];
		memset(&p, 0, sizeof(p));
		p.netns = c->remote.ns[i];
		p.family = e->family;
		memcpy(p.addr, e->addr, 16);
		p.port = e->port;
		p.time_wait = e->count;
		p.in_use = c->remote.extra[i];
		p.range = range;
		p.share_pct = 100.0 * (double)held / range;
		/* tw_reuse needs timestamps; 2 means for loopback traffic only */
		p.tw_reuse = ns->timestamps != 0 &&
			     (ns->tw_reuse == 1 || (ns->tw_reuse == 2 && is_loopback(e->family, e->addr)));
		p.warn = p.share_pct > t->warn_pct;
		for (k = r->n_pressure; k > 0 && r->pressure[k - 1].share_pct < p.share_pct; k--)
			if (k < TW_TOP)
				r->pressure[k] = r->pressure[k - 1];
		if (k < TW_TOP) {
			r->pressure[k] = p;
			if (r->n_pressure < TW_TOP)
				r->n_pressure++;
		}
	}
}

void tw_tracker__peek(struct tw_tracker *t, uint64_t now_ns, struct tw_report *r)
{
	uint64_t entries = t->entries, by_client = t->by_client, by_server = t->by_server;

	tw_tracker__report(t, now_ns, 0, r);
	/* added back: the count's drain may have noted entries meanwhile */
	t->entries += entries;
	t->by_client += by_client;
	t->by_server += by_server;
}
