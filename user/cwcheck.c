// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The CLOSE-WAIT check's candidates and verdicts (cwcheck.h): which flows
 * to ask the kernel about, what its dump says of each, and the ends of
 * those it no longer has.  No I/O: the census thread does the dumps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cwcheck.h"
#include "procfd.h"

struct cwcheck *cwcheck__new(void)
{
	return calloc(1, sizeof(struct cwcheck));
}

void cwcheck__free(struct cwcheck *k)
{
	if (!k)
		return;
	free(k->c);
	free(k->searched);
	free(k);
}

struct collect {
	struct cwcheck *k;
	const struct tt_engine *eng;
	uint64_t now_ns, age_ns;
	uint32_t only;
	bool all, oom, listeners;
};

static struct cw_cand *add(struct collect *x, const struct tt_flow *f, unsigned int state)
{
	struct cwcheck *k = x->k;
	struct cw_cand *c;

	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct cw_cand *n = realloc(k->c, cap * sizeof(*n));

		if (!n) {
			x->oom = true;
			return NULL;
		}
		k->c = n;
		k->cap = cap;
	}
	c = &k->c[k->n++];
	memset(c, 0, sizeof(*c));
	c->sk = f->sk;
	c->flow_id = f->id;
	c->cookie = f->cookie;
	c->netns = f->netns;
	c->owner_pid = (f->flags & TT_FLOW_OWNER_KNOWN) ? f->owner_pid : 0;
	c->family = f->family;
	c->sport = f->sport;
	c->dport = f->dport;
	memcpy(c->saddr, f->saddr, 16);
	memcpy(c->daddr, f->daddr, 16);
	c->state = (uint8_t)state;
	return c;
}

/*
 * A listener that a report names, by its owner: the listener of an
 * unaccepted leak, or one that overflowed.  Its owner is the process that
 * called listen(), which a daemon's start leaves behind (nginx and haproxy
 * fork and exit), and a master process may hold it no more: it is checked
 * as a leak is, and given to the process that holds it.
 */
static void take_listener(struct collect *x, const struct tt_flow *l)
{
	struct cw_cand *c;

	if (x->oom || !l || !l->netns || (x->only && l->netns != x->only) || !l->nstates ||
	    l->state[l->nstates - 1] != TT_LISTEN)
		return;
	c = add(x, l, TT_LISTEN);
	if (c)
		c->listener = true;
	x->listeners = true;
}

static void take_overflowed(const struct tt_listener_stats *ls, void *ctx)
{
	struct collect *x = ctx;
	struct tt_event e = { .netns = ls->netns, .family = ls->family, .sport = ls->port };

	if (!ls->accept_overflows && !ls->syn_drops && !ls->syn_cookies)
		return;
	memcpy(e.saddr, ls->addr, 16);
	take_listener(x, engine__overflow_listener(x->eng, &e));
}

static void take(const struct tt_flow *f, void *ctx)
{
	struct collect *x = ctx;
	unsigned int state = f->nstates ? f->state[f->nstates - 1] : 0;
	uint64_t since = f->nstates ? f->ts_ns[f->nstates - 1] : 0;
	struct cw_cand *c;
	bool leak;

	/*
	 * The report's test (report.c) from the entry into CLOSE_WAIT, not
	 * from the last data sent: one seen sending is asked about again.
	 */
	leak = state == TT_CLOSE_WAIT && (x->now_ns > since ? x->now_ns - since : 0) >= x->age_ns;
	/*
	 * One waiting for its TIME-WAIT is over in the kernel; one with no
	 * local port yet (CLOSE > SYN_SENT, or a listen() with no bind(), as
	 * its record told it) can be found by its cookie alone, if it has one.
	 */
	if (x->oom || !state ||
	    (!leak && (!x->all || (f->flags & TT_FLOW_TW_PENDING) || (!f->sport && !f->cookie))))
		return;
	/* a flow that never told its namespace cannot be looked for */
	if (!f->netns || (x->only && f->netns != x->only))
		return;
	c = add(x, f, state);
	if (!c)
		return;
	c->leak = leak;
	/* not accepted: the report names its listener's holder */
	if (leak && !(f->flags & TT_FLOW_OWNER_KNOWN))
		take_listener(x, engine__listener_of(x->eng, f));
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cw_cand *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->sport != y->sport)
		return x->sport < y->sport ? -1 : 1;
	if (x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	/* one flow taken twice comes together */
	if (x->sk != y->sk)
		return x->sk < y->sk ? -1 : 1;
	return x->flow_id < y->flow_id ? -1 : x->flow_id > y->flow_id;
}

int cwcheck__collect(struct cwcheck *k, const struct tt_engine *eng, uint64_t now_ns,
		     uint64_t age_ns, uint32_t only_netns, bool all)
{
	struct collect x = { .k = k, .eng = eng, .now_ns = now_ns, .age_ns = age_ns,
			     .only = only_netns, .all = all };
	size_t m = 0;

	/* what a check of every flow took, given back at the next one of the leaks */
	if (!all && k->all) {
		free(k->c);
		k->c = NULL;
		k->cap = 0;
	}
	k->all = all;
	k->states = all ? CW_ALL_STATES : CW_DIAG_STATES;
	k->n = 0;
	k->done_ns = 0;
	k->namespaces = 0;
	k->unchecked_ns = 0;
	engine__for_each(eng, take, &x);
	engine__for_each_listener_stats(eng, take_overflowed, &x);
	if (x.oom) {
		k->n = 0;
		return -ENOMEM;
	}
	/* c is NULL until the first candidate: qsort() takes no NULL, even for 0 */
	if (k->n > 1)
		qsort(k->c, k->n, sizeof(*k->c), cmp_cand);
	/* a listener taken twice (a flow of its own, and named) is one candidate */
	for (size_t i = 0; i < k->n; i++) {
		if (m && k->c[m - 1].sk == k->c[i].sk && k->c[m - 1].flow_id == k->c[i].flow_id) {
			k->c[m - 1].listener |= k->c[i].listener;
			k->c[m - 1].leak |= k->c[i].leak;
			continue;
		}
		k->c[m++] = k->c[i];
	}
	k->n = m;
	if (x.listeners)
		k->states |= DIAG_STATE(TT_LISTEN);
	for (size_t i = 0; i < k->n; i = cwcheck__ns_next(k, i))
		k->namespaces++;
	return (int)(k->n > INT32_MAX ? INT32_MAX : k->n);
}

size_t cwcheck__ns_next(const struct cwcheck *k, size_t i)
{
	size_t j = i;

	while (j < k->n && k->c[j].netns == k->c[i].netns)
		j++;
	return j;
}

void cwcheck__ns_begin(struct cwcheck *k, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		k->c[i].verdict = CW_GONE;
}

static bool same_socket(const struct cw_cand *c, const struct diag_sock *s)
{
	/* cookies are never reused: a socket at the same tuple with another one is a new one */
	if (c->cookie && s->cookie)
		return c->cookie == s->cookie;
	return c->family == s->family && !memcmp(c->saddr, s->saddr, 16) &&
	       !memcmp(c->daddr, s->daddr, 16);
}

/* The candidates at (sport, dport) in [lo, hi) that are s. */
static void mark_there(struct cwcheck *k, size_t lo, size_t hi, uint16_t sport,
		       const struct diag_sock *s)
{
	size_t a = lo, b = hi;

	/* the first candidate at or after (sport, dport); the run is sorted so */
	while (a < b) {
		size_t m = a + (b - a) / 2;
		const struct cw_cand *c = &k->c[m];

		if (c->sport < sport || (c->sport == sport && c->dport < s->dport))
			a = m + 1;
		else
			b = m;
	}
	for (; a < hi && k->c[a].sport == sport && k->c[a].dport == s->dport; a++)
		if (same_socket(&k->c[a], s)) {
			uint64_t ago = (uint64_t)s->last_data_sent_ms * 1000000;

			k->c[a].verdict = CW_THERE;
			k->c[a].inode = s->inode;
			/* from before the dump started: it sent at that time or later */
			if (s->has_info && s->last_data_sent_ms != UINT32_MAX && k->dump_ns > ago)
				k->c[a].sent_ns = k->dump_ns - ago;
		}
}

void cwcheck__ns_sock(struct cwcheck *k, size_t lo, size_t hi, const struct diag_sock *s)
{
	/* a timewait sock shows its substate (FIN_WAIT2): its flow is over */
	if (s->timer == DIAG_TIMER_TIME_WAIT || s->state >= 32 ||
	    !(k->states & DIAG_STATE(s->state)))
		return;
	mark_there(k, lo, hi, s->sport, s);
	/* a flow that never told its local port (taken with a cookie only): by the cookie */
	if (k->all && s->sport && s->cookie && lo < hi && k->c[lo].sport == 0)
		mark_there(k, lo, hi, 0, s);
}

void cwcheck__ns_end(struct cwcheck *k, size_t lo, size_t hi, bool ok)
{
	if (ok)
		return;
	for (size_t i = lo; i < hi; i++)
		k->c[i].verdict = CW_UNCHECKED;
	k->unchecked_ns++;
}

void cwcheck__ns_end_unfound(struct cwcheck *k, size_t lo, size_t hi, bool covered,
			     bool (*alive)(uint32_t pid))
{
	bool unchecked = false;

	for (size_t i = lo; i < hi; i++) {
		struct cw_cand *c = &k->c[i];

		if (c->verdict != CW_GONE)
			continue;
		if (!covered || !c->owner_pid || alive(c->owner_pid)) {
			c->verdict = CW_UNCHECKED;
			unchecked = true;
		}
	}
	if (unchecked)
		k->unchecked_ns++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

#define FULL_SCAN_EVERY_NS	(60ull * 1000000000)
#define FULL_SCAN_MIN_NS	(2ull * 1000000000)
#define FULL_SCAN_SHARE		100	/* its spacing, in what the last one took */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * Is a scan of every process due for the candidates left to look for?  At
 * once for one that no scan has looked for (a leak handed on since), as the
 * last scan's cost allows; otherwise once a minute.
 */
static bool full_scan_due(const struct cwcheck *k, uint64_t now_ns)
{
	uint64_t since = now_ns - k->full_scan_ns, gap;

	if (!k->full_scan_ns || since >= FULL_SCAN_EVERY_NS)
		return true;
	gap = k->full_scan_cost_ns > FULL_SCAN_EVERY_NS / FULL_SCAN_SHARE
		      ? FULL_SCAN_EVERY_NS
		      : k->full_scan_cost_ns * FULL_SCAN_SHARE;
	if (gap < FULL_SCAN_MIN_NS)
		gap = FULL_SCAN_MIN_NS;
	if (since < gap)
		return false;
	for (size_t i = 0; i < k->n; i++) {
		uint64_t id = k->c[i].flow_id;

		if (k->c[i].holder_pid == UINT32_MAX &&
		    !(k->nsearched &&
		      bsearch(&id, k->searched, k->nsearched, sizeof(id), cmp_u64)))
			return true;
	}
	return false;
}

/*
 * The candidates a scan of every process looked for and found in no
 * process, kept by id: the next scan waits the minute for them.  One it
 * found is not kept: handed on again later, it is looked for at once.
 */
static void remember_unfound(struct cwcheck *k, uint64_t *ids, size_t n)
{
	if (n > 1)
		qsort(ids, n, sizeof(*ids), cmp_u64);
	free(k->searched);
	k->searched = ids;
	k->nsearched = n;
}

void cwcheck__holders(struct cwcheck *k, uint64_t now_ns)
{
	struct procfd *pf = NULL;
	struct procfd_owner o;
	uint32_t *pids = calloc(k->n ? k->n : 1, sizeof(*pids));
	size_t n = 0, m = 0, lost = 0;

	if (!pids)
		return;
	for (size_t i = 0; i < k->n; i++) {
		struct cw_cand *c = &k->c[i];

		c->holder_pid = 0;
		if (!(c->leak || c->listener) || c->verdict != CW_THERE || !c->inode)
			continue;
		/* to be looked for, unless its owner is seen holding it */
		c->holder_pid = UINT32_MAX;
		lost++;
		if (c->owner_pid)
			pids[n++] = c->owner_pid;
	}
	qsort(pids, n, sizeof(*pids), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (!m || pids[m - 1] != pids[i])
			pids[m++] = pids[i];
	/* each owner's fds alone: does it still hold its own? */
	for (size_t p = 0; p < m && lost; p++) {
		if (procfd__scan_pids(&pf, &pids[p], 1))
			continue;
		for (size_t i = 0; i < k->n; i++) {
			struct cw_cand *c = &k->c[i];

			if (c->holder_pid == UINT32_MAX && c->owner_pid == pids[p] &&
			    !procfd__lookup(pf, c->inode, &o)) {
				c->holder_pid = 0;
				lost--;
			}
		}
		procfd__free(pf);
		pf = NULL;
	}
	free(pids);
	/* the others, in every process: a fork's child, the receiver of an fd */
	if (lost && full_scan_due(k, now_ns)) {
		uint64_t t0 = mono_now();

		k->full_scan_ns = now_ns;
		if (procfd__scan(&pf, 0))
			pf = NULL;
		k->full_scan_cost_ns = mono_now() - t0;
	}
	if (pf) {
		/* NULL: the old list stays, and at worst a scan comes sooner */
		uint64_t *unfound = malloc(lost * sizeof(*unfound));
		size_t nu = 0;

		for (size_t i = 0; i < k->n; i++) {
			struct cw_cand *c = &k->c[i];

			if (c->holder_pid != UINT32_MAX)
				continue;
			c->holder_pid = 0;
			if (procfd__lookup(pf, c->inode, &o)) {
				if (unfound && nu < lost)
					unfound[nu++] = c->flow_id;
			} else if (o.tgid != c->owner_pid) {
				c->holder_pid = o.tgid;
				memcpy(c->holder_comm, o.comm, sizeof(c->holder_comm));
			}
		}
		if (unfound)
			remember_unfound(k, unfound, nu);
	}
	procfd__free(pf);
	for (size_t i = 0; i < k->n; i++)
		if (k->c[i].holder_pid == UINT32_MAX)
			k->c[i].holder_pid = 0;
}

size_t cwcheck__apply(const struct cwcheck *k, struct tt_engine *eng)
{
	size_t ended = 0;

	if (!k->done_ns)
		return 0;
	engine__cw_checked(eng, k->done_ns);
	for (size_t i = 0; i < k->n; i++) {
		const struct cw_cand *c = &k->c[i];

		/*
		 * a listener is asked about for its holder alone, outside a check
		 * of every flow: a dump can miss one (an SO_REUSEPORT group's
		 * lookup finds one member), and its close has a record of its own
		 */
		if (c->verdict == CW_GONE && (k->all || !c->listener) &&
		    engine__end_gone(eng, c->sk, c->flow_id, c->state))
			ended++;
		else if (c->verdict == CW_THERE && (c->leak || c->listener)) {
			if (c->holder_pid)
				engine__reown(eng, c->sk, c->flow_id, c->holder_pid,
					      c->holder_comm);
			if (c->leak && c->sent_ns)
				engine__cw_sent(eng, c->sk, c->flow_id, c->sent_ns);
		}
	}
	return ended;
}
