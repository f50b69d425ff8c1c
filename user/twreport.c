// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "diag.h"
#include "ident.h"
#include "twreport.h"

#define TW_LEN_NS	(60ull * 1000000000ull)	/* TCP_TIMEWAIT_LEN */
#define WINDOW_MAX	(1u << 18)		/* entries kept for the estimate */
#define AGG_BUCKETS	4096

struct tw_entry {
	uint64_t ts_ns;
	uint8_t family;
	uint8_t saddr[16], daddr[16];
	uint16_t dport;
	const struct tt_cgname *name;	/* its cgroup's, if it names a container */
};

/* A small open-addressing count table for endpoints. */
struct agg {
	struct tw_endpoint e[AGG_BUCKETS];
	uint64_t extra[AGG_BUCKETS];	/* in-use count, for pressure */
	bool used[AGG_BUCKETS];
	size_t n;
};

struct tw_tracker {
	int netns_fd;
	uint32_t warn_pct;
	uint64_t entries, by_client, by_server;
	struct tw_entry *win;		/* ring of recent entries */
	size_t head, len;
	struct agg remote, local;
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

struct tw_tracker *tw_tracker__new(int netns_fd, uint32_t warn_pct)
{
	struct tw_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->win = calloc(WINDOW_MAX, sizeof(*t->win));
	if (!t->win) {
		free(t);
		return NULL;
	}
	t->netns_fd = netns_fd;
	t->warn_pct = warn_pct;
	return t;
}

void tw_tracker__free(struct tw_tracker *t)
{
	if (!t)
		return;
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

static uint32_t ep_hash(uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint32_t h = 2166136261u ^ family;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h = (h ^ port) * 16777619u;
	return h;
}

static void agg_reset(struct agg *a)
{
	memset(a->used, 0, sizeof(a->used));
	memset(a->extra, 0, sizeof(a->extra));
	a->n = 0;
}

/* Count one more for (family, addr, port); in_use counts open sockets instead. */
static void agg_add(struct agg *a, uint8_t family, const uint8_t *addr, uint16_t port, bool in_use)
{
	uint32_t i = ep_hash(family, addr, port) % AGG_BUCKETS;

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
		} else if (e->family != family || e->port != port || memcmp(e->addr, addr, 16)) {
			continue;
		}
		if (in_use)
			a->extra[i]++;
		else
			e->count++;
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

struct open_sock {
	uint8_t family;
	uint16_t dport;
	uint8_t daddr[16];
};

struct dump_ctx {
	struct tw_tracker *t;
	int64_t population;
	uint16_t lo, hi;		/* ephemeral range; 0, 0 unknown */
	struct open_sock *open;
	size_t n_open, cap_open;
};

static int on_sock(const struct diag_sock *s, void *ctx)
{
	struct dump_ctx *c = ctx;
	static const uint8_t zero[16];

	if (s->state == TT_TIME_WAIT) {
		/*
		 * Where the local port is ephemeral we connected and the peer's
		 * address:port is the destination using up our ports.  Otherwise
		 * we accepted: the peer's port is its own ephemeral one, so the
		 * peer is counted by address alone (port 0, shown as "*").
		 */
		bool ours = c->hi && s->sport >= c->lo && s->sport <= c->hi;

		c->population++;
		agg_add(&c->t->remote, s->family, s->daddr, ours || !c->hi ? s->dport : 0, false);
		agg_add(&c->t->local, s->family, s->saddr, 0, false);
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
	uint32_t i = ep_hash(o->family, o->daddr, o->dport) % AGG_BUCKETS;

	for (size_t probes = 0; probes < AGG_BUCKETS && a->used[i];
	     probes++, i = (i + 1) % AGG_BUCKETS) {
		const struct tw_endpoint *e = &a->e[i];

		if (e->family == o->family && e->port == o->dport && !memcmp(e->addr, o->daddr, 16)) {
			a->extra[i]++;
			return;
		}
	}
}

static bool is_loopback(uint8_t family, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return family == TT_AF_INET ? a[0] == 127 : !memcmp(a, v6lo, 16);
}

void tw_tracker__report(struct tw_tracker *t, uint64_t now_ns, uint64_t interval_ns,
			struct tw_report *r)
{
	struct dump_ctx c = { .t = t };
	struct diag_sysctls sys = { .tw_reuse = -1, .timestamps = -1 };
	uint32_t range;

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
	agg_reset(&t->remote);
	agg_reset(&t->local);
	if (t->netns_fd != -2)
		diag__read_sysctls(t->netns_fd, &sys);
	c.lo = sys.port_lo;
	c.hi = sys.port_hi;
	if (t->netns_fd != -2 && diag__dump_req(&(struct diag_req){ .netns_fd = t->netns_fd,
		    .states = DIAG_STATES_ALL, .no_info = true,
		    .between = t->drain, .between_ctx = t->drain_ctx }, on_sock, &c) == 0) {
		r->population = c.population;
		for (size_t i = 0; i < c.n_open; i++)
			add_in_use(&t->remote, &c.open[i]);
	} else {
		agg_reset(&t->remote);
		agg_reset(&t->local);
		r->estimated = true;
		r->population = (int64_t)t->len;
		for (size_t i = 0; i < t->len; i++) {
			const struct tw_entry *w = &t->win[(t->head + i) % WINDOW_MAX];

			agg_add(&t->remote, w->family, w->daddr, w->dport, false);
			agg_add(&t->local, w->family, w->saddr, 0, false);
		}
	}
	free(c.open);
	top(&t->remote, r->remote, &r->n_remote);
	top(&t->local, r->local, &r->n_local);

	r->port_lo = sys.port_lo;
	r->port_hi = sys.port_hi;
	r->tw_reuse_sysctl = sys.tw_reuse;
	range = sys.port_hi >= sys.port_lo && sys.port_hi ? sys.port_hi - sys.port_lo + 1u : 0;
	/* pressure: the destinations with the most local ports tied up */
	for (size_t i = 0; i < AGG_BUCKETS && range; i++) {
		const struct tw_endpoint *e = &t->remote.e[i];
		uint64_t held = e->count + t->remote.extra[i];
		struct tw_pressure p;
		size_t k;

		/* only destinations we connected to hold our ephemeral ports */
		if (!t->remote.used[i] || !e->count || !e->port)
			continue;
		memset(&p, 0, sizeof(p));
		p.family = e->family;
		memcpy(p.addr, e->addr, 16);
		p.port = e->port;
		p.time_wait = e->count;
		p.in_use = t->remote.extra[i];
		p.range = range;
		p.share_pct = 100.0 * (double)held / range;
		/* tw_reuse needs timestamps; 2 means for loopback traffic only */
		p.tw_reuse = sys.timestamps != 0 &&
			     (sys.tw_reuse == 1 || (sys.tw_reuse == 2 && is_loopback(e->family, e->addr)));
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
