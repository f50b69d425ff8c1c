// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TIME-WAIT report, an aggregate the engine's flow ends feed (twreport.h):
 * entries per interval, the population (counted by twcensus.c, or estimated
 * from the last 60 s of entries), the top destinations and the port
 * pressure; the sinks print what tw_tracker__report builds.
 */
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
#include "twcensus.h"
#include "util.h"

void tw_tracker__set_ident(struct tw_tracker *t, struct tt_ident *id)
{
	t->ident = id;
}

/*
 * The containers with the most entries in the window: they hold that many
 * now, but for a container whose namespace a count (c, host-wide) found
 * with no TIME-WAIT socket, or not at all: gone with its namespace
 * (--network=none), it holds none.
 */
static void top_containers(const struct tw_tracker *t, const struct census *c,
			   struct tw_report *r)
{
	enum { MAX_SEEN = 256 };
	struct tw_container seen[MAX_SEEN];
	uint32_t netns[MAX_SEEN];
	size_t n = 0, kept = 0;

	for (size_t i = 0; i < t->len; i++) {
		const struct tw_entry *w = &t->win[(t->head + i) % WINDOW_MAX];
		const struct tt_cgname *nm = w->name;
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
		netns[k] = w->netns;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ns_info *ns = c ? twc_ns_of(c, netns[i]) : NULL;

		if (!c || (ns && ns->population > 0))
			seen[kept++] = seen[i];
	}
	n = kept;
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
	t->win = tt_big_zalloc(WINDOW_MAX * sizeof(*t->win));
	t->c = calloc(1, sizeof(*t->c));
	t->top = calloc(1, sizeof(*t->top));
	if (!t->win || !t->c || !t->top)
		goto fail;
	t->netns_fd = netns_fd;
	t->warn_pct = warn_pct;
	/* a count runs on a thread of its own: the caller's loop keeps reading meanwhile */
	if (netns_fd != -2 && twc_thread_start(t))
		goto fail;
	return t;
fail:
	tw_tracker__free(t);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int tw_tracker__scope(struct tw_tracker *t, const uint32_t *netns, size_t n)
{
	size_t need = n + t->len, k = 0;

	t->scoped = false;
	if (need > t->cap_scope) {
		uint32_t *s = realloc(t->scope, (need ? need : 1) * sizeof(*s));

		if (!s)
			return -ENOMEM;
		t->scope = s;
		t->cap_scope = need;
	}
	for (size_t i = 0; i < n; i++)
		t->scope[k++] = netns[i];
	for (size_t i = 0; i < t->len; i++)
		t->scope[k++] = t->win[(t->head + i) % WINDOW_MAX].netns;
	if (k > 1)
		qsort(t->scope, k, sizeof(*t->scope), cmp_u32);
	t->n_scope = 0;
	for (size_t i = 0; i < k; i++)
		if (!t->n_scope || t->scope[t->n_scope - 1] != t->scope[i])
			t->scope[t->n_scope++] = t->scope[i];
	t->scoped = true;
	return 0;
}

static bool in_scope(const struct tw_tracker *t, uint32_t netns)
{
	return !t->scoped ||
	       (t->n_scope && bsearch(&netns, t->scope, t->n_scope, sizeof(*t->scope), cmp_u32));
}

void tw_tracker__free(struct tw_tracker *t)
{
	if (!t)
		return;
	twc_thread_stop(t);
	free(t->scope);
	if (t->c) {
		free(t->c->open);
		free(t->c->ns);
		free(t->c->tw);
		free(t->c->listening);
	}
	free(t->c);
	free(t->top);
	tt_big_free(t->win, WINDOW_MAX * sizeof(*t->win));
	free(t);
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
	/*
	 * As the census counts them: a peer that connected to us is one
	 * address (port 0, "addr:*"), its port being its own ephemeral one.
	 */
	w->dport = f->role == TT_ROLE_PASSIVE ? 0 : f->dport;
	w->netns = f->netns;
	w->name = NULL;
	if (t->ident) {
		const struct tt_cgname *n = ident__lookup(t->ident, f->cgroup, f->owner_pid);

		if (n && n->container[0])
			w->name = n;
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
	struct census *c = t->c;
	const struct ns_info *self = NULL;
	bool counted = false, hostwide = t->netns_fd == TW_NETNS_ALL;

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
	if (t->th) {
		r->host_wide = hostwide;
		counted = twc_census_take(t) && c->ok;
		if (counted && hostwide && c->walked)
			tt_debug("TIME-WAIT census: %zu network namespaces (%u with no TIME-WAIT; "
				 "%u dumped with sock_diag, %u could not be read, %u not entered for "
				 "want of file descriptors), %llu sockets read by one walk of the TCP "
				 "hash tables and the dumps in %.1f ms",
				 c->n_ns, c->no_tw, c->dumped_ns, c->failed, c->short_ns,
				 (unsigned long long)c->dumped, c->took_ns / 1e6);
		else if (counted && hostwide)
			tt_debug("TIME-WAIT census: %zu network namespaces (%u with no TIME-WAIT, not "
				 "dumped; %u could not be read, %u not entered for want of file "
				 "descriptors), %llu sockets dumped in %.1f ms",
				 c->n_ns, c->no_tw, c->failed, c->short_ns, (unsigned long long)c->dumped,
				 c->took_ns / 1e6);
	}
	twc_agg_reset(t->top);
	/* --container, --cgroup: the namespaces their sockets live in (host-wide only) */
	if (!hostwide)
		t->scoped = false;
	if (counted) {
		r->population = t->scoped ? 0 : c->population;
		for (size_t i = 0; i < c->n_open; i++)
			twc_add_in_use(&c->remote, &c->open[i]);
		/* the top destinations add up over namespaces */
		for (size_t i = 0; i < AGG_BUCKETS; i++)
			if (c->remote.used[i] && c->remote.e[i].count && in_scope(t, c->remote.ns[i]))
				twc_agg_add(t->top, 0, c->remote.e[i].family, c->remote.e[i].addr,
					c->remote.e[i].port, false, c->remote.e[i].count);
		twc_top(t->top, r->remote, &r->n_remote);
		/* the local addresses add up over the namespaces in scope */
		twc_agg_reset(t->top);
		for (size_t i = 0; i < AGG_BUCKETS; i++)
			if (c->local.used[i] && c->local.e[i].count && in_scope(t, c->local.ns[i]))
				twc_agg_add(t->top, 0, c->local.e[i].family, c->local.e[i].addr, 0,
					false, c->local.e[i].count);
		twc_top(t->top, r->local, &r->n_local);
		r->namespaces = (uint32_t)c->n_ns;
		self = hostwide ? twc_ns_of(c, t->th->self) : c->n_ns ? &c->ns[0] : NULL;
		if (hostwide) {
			if (c->n_ns > 1)
				qsort(c->ns, c->n_ns, sizeof(c->ns[0]), twc_cmp_netns);
			if (t->scoped) {
				r->namespaces = 0;
				for (size_t i = 0; i < c->n_ns; i++) {
					if (!in_scope(t, c->ns[i].netns))
						continue;
					r->namespaces++;
					if (c->ns[i].population > 0)
						r->population += c->ns[i].population;
				}
			}
			for (size_t i = 0; i < c->n_ns && r->n_netns < TW_NETNS_MAX; i++) {
				if (c->ns[i].population <= 0)
					break;
				if (!in_scope(t, c->ns[i].netns))
					continue;
				r->by_netns[r->n_netns++] = (struct tw_netns){
					.netns = c->ns[i].netns, .population = c->ns[i].population,
					.port_lo = c->ns[i].lo, .port_hi = c->ns[i].hi };
			}
			/* sorted: find ours again; scoped to one namespace, that one is ours */
			self = twc_ns_of(c, t->scoped && t->n_scope == 1 ? t->scope[0] : t->th->self);
		}
		top_containers(t, hostwide ? c : NULL, r);
	} else {
		top_containers(t, NULL, r);
		struct agg *local = &c->local;

		/* a census still running owns c: the estimate uses t->top alone */
		if (t->th)
			local = NULL;
		else
			twc_agg_reset(local);
		r->estimated = true;
		r->population = (int64_t)t->len;
		for (size_t i = 0; i < t->len; i++) {
			const struct tw_entry *w = &t->win[(t->head + i) % WINDOW_MAX];

			twc_agg_add(t->top, 0, w->family, w->daddr, w->dport, false, 1);
			if (local)
				twc_agg_add(local, 0, w->family, w->saddr, 0, false, 1);
		}
		if (local)
			twc_top(local, r->local, &r->n_local);
		twc_top(t->top, r->remote, &r->n_remote);
	}

	if (self) {
		/* one namespace's report (-N) names it, as a summary does */
		if (!hostwide)
			r->netns = self->netns;
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
		if (!c->remote.used[i] || !e->count || !e->port || !in_scope(t, c->remote.ns[i]))
			continue;
		ns = hostwide ? twc_ns_of(c, c->remote.ns[i]) : self;
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
	/* added back: what the interval noted stays for the next report */
	t->entries += entries;
	t->by_client += by_client;
	t->by_server += by_server;
}
