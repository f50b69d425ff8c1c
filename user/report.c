// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Engine aggregate: the suspected CLOSE-WAIT leaks, grouped by owner and
 * service, with their trend; the sinks print what it builds.
 */
#include <stdlib.h>
#include <string.h>
#include "ident.h"
#include "report.h"
#include "util.h"

#define GROUP_BUCKETS 1024
#define COMM_SLOTS 4096		/* the owners' names read in one report */
_Static_assert(COMM_SLOTS == 1 << 12, "name_now() hashes to 12 bits");

struct tt_report {
	uint64_t age_ns;
	uint16_t port_lo, port_hi;
	tt_cmdline_fn cmdline;
	tt_comm_fn comm;
	/* comm_fn's answers in this report, by pid (0: a free slot) */
	struct {
		uint32_t pid;
		char comm[16];
	} comms[COMM_SLOTS];
	size_t n_comms;
	struct tt_ident *ident;
	struct tt_cw_group *groups, *prev;
	size_t n, cap, n_prev, cap_prev;
	int32_t buckets[GROUP_BUCKETS];	/* index into groups, -1 = empty */
	int32_t *chain;			/* per group: next in its bucket */
	/* for the visit callback */
	const struct tt_engine *eng;
	uint64_t now_ns;
	bool oom;
};

struct tt_report *report__new(uint64_t close_wait_age_ns, tt_cmdline_fn cmdline)
{
	struct tt_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->age_ns = close_wait_age_ns;
	r->cmdline = cmdline;
	return r;
}

void report__free(struct tt_report *r)
{
	if (!r)
		return;
	free(r->groups);
	free(r->prev);
	free(r->chain);
	free(r);
}

void report__set_comm(struct tt_report *r, tt_comm_fn comm)
{
	r->comm = comm;
}

/* comm becomes pid's name now, if it can be read; once a report for each pid */
static void name_now(struct tt_report *r, uint32_t pid, char comm[16])
{
	char now[16] = "";
	/* Fibonacci hashing: the product's top 12 bits */
	size_t i = (uint32_t)(pid * 2654435761u) >> 20;

	for (size_t probes = 0; probes < COMM_SLOTS; probes++, i = (i + 1) % COMM_SLOTS) {
		if (r->comms[i].pid == pid) {
			if (r->comms[i].comm[0])
				memcpy(comm, r->comms[i].comm, 16);
			return;
		}
		if (!r->comms[i].pid)
			break;
	}
	if (r->comm(pid, now) || !now[0])
		now[0] = '\0';
	else
		memcpy(comm, now, 16);
	/* a full table: read again for the next socket, rather than hold more */
	if (r->n_comms < COMM_SLOTS * 3 / 4 && !r->comms[i].pid) {
		r->comms[i].pid = pid;
		memcpy(r->comms[i].comm, now, 16);
		r->n_comms++;
	}
}

void report__set_ident(struct tt_report *r, struct tt_ident *id)
{
	r->ident = id;
}

void report__set_port_range(struct tt_report *r, uint16_t lo, uint16_t hi)
{
	r->port_lo = lo;
	r->port_hi = hi;
}

const char *tt_trend_name(unsigned int trend)
{
	switch (trend) {
	case TT_TREND_NEW: return "new";
	case TT_TREND_GROWING: return "growing";
	case TT_TREND_STABLE: return "stable";
	case TT_TREND_SHRINKING: return "shrinking";
	}
	return "?";
}

static bool same_key(const struct tt_cw_group *a, const struct tt_cw_group *b)
{
	return !strcmp(a->container_id, b->container_id) && a->pid == b->pid && a->kind == b->kind && a->netns == b->netns &&
	       a->port == b->port && a->family == b->family && !memcmp(a->addr, b->addr, 16) &&
	       (a->pid || !strncmp(a->comm, b->comm, sizeof(a->comm)));
}

static uint32_t key_hash(const struct tt_cw_group *g)
{
	/* FNV-1a over the fields that make the key */
	uint32_t h = 2166136261u;
	const uint8_t *p;

#define MIX(x) do { p = (const uint8_t *)&(x); for (size_t i_ = 0; i_ < sizeof(x); i_++) \
		h = (h ^ p[i_]) * 16777619u; } while (0)
	MIX(g->pid);
	MIX(g->kind);
	MIX(g->netns);
	MIX(g->port);
	MIX(g->addr);
#undef MIX
	for (const char *c = g->container_id; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h % GROUP_BUCKETS;
}

/* Leaks are grouped by service, never by the ephemeral port of each socket. */
static bool ephemeral(const struct tt_report *r, uint16_t port)
{
	return r->port_hi && port >= r->port_lo && port <= r->port_hi;
}

/*
 * The group a leaked socket goes in; true if it is one that no process has
 * accepted: still in its listener's accept queue, and the listener's owner
 * (who does not call accept()) is the one named.
 */
static bool make_key(struct tt_report *r, const struct tt_engine *eng,
		     const struct tt_flow *f, struct tt_cw_group *k)
{
	bool passive = f->role == TT_ROLE_PASSIVE, queued = false;
	const struct tt_flow *l;

	/*
	 * A socket seen only mid-life: a listener on its port means we
	 * accepted it; failing that, the end holding an ephemeral port is the
	 * one that connected.
	 */
	if (f->role == TT_ROLE_UNKNOWN) {
		passive = engine__listener_of(eng, f) != NULL;
		if (!passive && ephemeral(r, f->dport) && !ephemeral(r, f->sport))
			passive = true;
	}
	memset(k, 0, sizeof(*k));
	if (r->ident) {
		const struct tt_cgname *n = ident__lookup(r->ident, f->cgroup, f->owner_pid);

		if (n) {
			k->cgroup = n->path;
			k->container = n->container[0] ? n->container : NULL;
			memcpy(k->container_id, n->container, sizeof(k->container_id));
			k->pod = n->pod[0] ? n->pod : NULL;
		}
	}
	k->pid = f->owner_pid;
	memcpy(k->comm, f->owner_comm, sizeof(k->comm));
	/*
	 * accepted, or seeded with a process holding it: its owner is known;
	 * not: its listener's holder, as the check last found it (the one
	 * that called listen() may have handed it on, or exited), else the
	 * owner it took from the listener at its birth
	 */
	if (passive && !(f->flags & TT_FLOW_OWNER_KNOWN)) {
		l = engine__listener_of(eng, f);
		if (l && l->owner_pid) {
			k->pid = l->owner_pid;
			memcpy(k->comm, l->owner_comm, sizeof(k->comm));
		}
		queued = k->pid != 0;
	}
	if (r->comm && k->pid)
		name_now(r, k->pid, k->comm);
	k->netns = f->netns;
	k->family = f->family;
	if (passive) {
		k->kind = TT_SVC_LOCAL;
		k->port = f->sport;
	} else {
		uint8_t v4[16];

		k->kind = TT_SVC_REMOTE;
		k->port = f->dport;
		/* a dual-stack socket's IPv4 peer is that IPv4 service, as AF_INET ones reach it */
		memcpy(k->addr, tt_unmap_v4(&k->family, f->daddr, v4), 16);
	}
	return queued;
}

static struct tt_cw_group *group_for(struct tt_report *r, const struct tt_cw_group *k)
{
	uint32_t b = key_hash(k);
	struct tt_cw_group *g;

	for (int32_t i = r->buckets[b]; i >= 0; i = r->chain[i])
		if (same_key(&r->groups[i], k))
			return &r->groups[i];
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct tt_cw_group *ng = realloc(r->groups, cap * sizeof(*ng));
		int32_t *nc = realloc(r->chain, cap * sizeof(*nc));

		if (ng)
			r->groups = ng;
		if (nc)
			r->chain = nc;
		if (!ng || !nc)
			return NULL;
		r->cap = cap;
	}
	g = &r->groups[r->n];
	*g = *k;
	r->chain[r->n] = r->buckets[b];
	r->buckets[b] = (int32_t)r->n;
	r->n++;
	return g;
}

static void visit(const struct tt_flow *f, void *ctx)
{
	struct tt_report *r = ctx;
	struct tt_cw_group k, *g;
	bool queued;
	uint64_t since, age;

	if (!f->nstates || f->state[f->nstates - 1] != TT_CLOSE_WAIT)
		return;
	/* quiet that long: a socket that still sends is answering a half-close */
	if (!engine__cw_quiet(r->eng, f, r->now_ns, r->age_ns))
		return;
	since = f->ts_ns[f->nstates - 1];
	age = r->now_ns > since ? r->now_ns - since : 0;
	queued = make_key(r, r->eng, f, &k);
	g = group_for(r, &k);
	if (!g) {
		r->oom = true;
		return;
	}
	g->count++;
	if (f->flags & TT_FLOW_SEEDED)
		g->seeded++;
	if (queued)
		g->unaccepted++;
	if (age > g->oldest_age_ns)
		g->oldest_age_ns = age;
}

static int by_owner(const void *a, const void *b)
{
	const struct tt_cw_group *x = a, *y = b;
	int c = strcmp(x->container_id, y->container_id);

	if (c)
		return c;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * The containers with the most first, then in each the processes with the
 * most, then each one's services with the most, the oldest first; the rest
 * of the key last, so that the order never depends on qsort's.
 */
static int by_count(const void *a, const void *b)
{
	const struct tt_cw_group *x = a, *y = b;
	int c;

	if (x->container_count != y->container_count)
		return x->container_count < y->container_count ? 1 : -1;
	c = strcmp(x->container_id, y->container_id);
	if (c)
		return c;
	if (x->process_count != y->process_count)
		return x->process_count < y->process_count ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->oldest_age_ns != y->oldest_age_ns)
		return x->oldest_age_ns < y->oldest_age_ns ? 1 : -1;
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

size_t report__close_wait(struct tt_report *r, const struct tt_engine *eng, uint64_t now_ns,
			  const struct tt_cw_group **groups)
{
	struct tt_cw_group *swap;
	size_t cap;

	/* this report's groups become the previous ones, for the trend */
	swap = r->prev;
	r->prev = r->groups;
	r->groups = swap;
	cap = r->cap_prev;
	r->cap_prev = r->cap;
	r->cap = cap;
	r->n_prev = r->n;
	r->n = 0;
	free(r->chain);
	r->chain = r->cap ? malloc(r->cap * sizeof(*r->chain)) : NULL;
	if (r->cap && !r->chain)
		r->cap = 0;
	for (size_t i = 0; i < GROUP_BUCKETS; i++)
		r->buckets[i] = -1;

	r->eng = eng;
	r->now_ns = now_ns;
	r->oom = false;
	if (r->n_comms) {
		memset(r->comms, 0, sizeof(r->comms));
		r->n_comms = 0;
	}
	engine__for_each(eng, visit, r);

	for (size_t i = 0; i < r->n; i++) {
		struct tt_cw_group *g = &r->groups[i];

		g->trend = TT_TREND_NEW;
		for (size_t j = 0; j < r->n_prev; j++) {
			if (!same_key(g, &r->prev[j]))
				continue;
			g->prev_count = r->prev[j].count;
			g->trend = g->count > g->prev_count ? TT_TREND_GROWING :
				   g->count < g->prev_count ? TT_TREND_SHRINKING : TT_TREND_STABLE;
			break;
		}
		g->cmdline[0] = '\0';
	}
	/*
	 * Each container's total and each of its processes', for the order:
	 * once sorted by container and pid, one run each
	 */
	if (r->n > 1)
		qsort(r->groups, r->n, sizeof(*r->groups), by_owner);
	for (size_t i = 0, j; i < r->n; i = j) {
		uint32_t total = 0;

		for (j = i; j < r->n && !strcmp(r->groups[i].container_id, r->groups[j].container_id); j++)
			total += r->groups[j].count;
		for (size_t k = i; k < j; k++)
			r->groups[k].container_count = total;
	}
	for (size_t i = 0, j; i < r->n; i = j) {
		uint32_t total = 0;

		for (j = i; j < r->n && !by_owner(&r->groups[i], &r->groups[j]); j++)
			total += r->groups[j].count;
		for (size_t k = i; k < j; k++)
			r->groups[k].process_count = total;
	}
	/* groups is NULL until the first group: qsort() takes no NULL, even for 0 */
	if (r->n > 1)
		qsort(r->groups, r->n, sizeof(*r->groups), by_count);
	/* the command lines of the groups a report names; a process's are next to each other */
	for (size_t i = 0; r->cmdline && i < r->n && i < TT_CW_REPORT_MAX; i++) {
		struct tt_cw_group *g = &r->groups[i];

		if (i && g->pid == g[-1].pid)
			memcpy(g->cmdline, g[-1].cmdline, sizeof(g->cmdline));
		else if (g->pid)
			r->cmdline(g->pid, g->cmdline, sizeof(g->cmdline));
	}
	*groups = r->groups;
	return r->n;
}
