// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source side: the filters applied to records before the engine (the
 * kernel applies most of them live; replay and the seed apply them here).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "filter.h"
#include "flowrec.h"
#include "util.h"

/*
 * A set of u64 keys, bounded like the BPF hash maps it mirrors: past the
 * bound an insert fails quietly, as bpf_map_update_elem does when full.
 */
struct set_node {
	uint64_t key;
	uint64_t val;
	struct set_node *next;
};

struct set {
	struct set_node *buckets[4096];
	size_t n, max;
};

#define CLOSED_KEPT 64

struct tt_filter {
	struct tt_opts o;
	struct set owned;		/* sks the pid owns ("owned" in BPF) */
	struct set listeners;		/* (netns, port) of its listeners */
	struct set disowned;		/* children of its listener another process accepted */
	struct set adopted;		/* sks it adopted at accept(), with that time */
	bool seeded;			/* owned holds seeded sockets' pseudo keys
					 * ("owned_seeded" in BPF, by tuple) */
	/*
	 * The process's last sockets to go > CLOSE, each with the CPU that
	 * recorded it: owned_closed in BPF, which keeps each CPU's last
	 */
	struct {
		uint64_t sk;
		uint16_t cpu;
	} closed[CLOSED_KEPT];
	unsigned int closed_next;
	/* its last listeners to close, with the time: their children born before are its */
	struct {
		uint64_t key;
		uint64_t ts_ns;
	} lclosed[CLOSED_KEPT];
	unsigned int lclosed_next;
};

static size_t slot(uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 52);	/* 12 bits */
}

static bool set_has(const struct set *s, uint64_t key)
{
	for (const struct set_node *n = s->buckets[slot(key)]; n; n = n->next)
		if (n->key == key)
			return true;
	return false;
}

/* key's value, or 0 if it is not in s */
static uint64_t set_val(const struct set *s, uint64_t key)
{
	for (const struct set_node *n = s->buckets[slot(key)]; n; n = n->next)
		if (n->key == key)
			return n->val;
	return 0;
}

static void set_put(struct set *s, uint64_t key, uint64_t val)
{
	struct set_node *n;

	if (set_has(s, key) || s->n >= s->max)
		return;
	n = malloc(sizeof(*n));
	if (!n)
		return;
	n->key = key;
	n->val = val;
	n->next = s->buckets[slot(key)];
	s->buckets[slot(key)] = n;
	s->n++;
}

static void set_add(struct set *s, uint64_t key)
{
	set_put(s, key, 0);
}

static void set_del(struct set *s, uint64_t key)
{
	for (struct set_node **p = &s->buckets[slot(key)]; *p; p = &(*p)->next) {
		if ((*p)->key == key) {
			struct set_node *n = *p;

			*p = n->next;
			free(n);
			s->n--;
			return;
		}
	}
}

static void set_clear(struct set *s)
{
	for (size_t i = 0; i < sizeof(s->buckets) / sizeof(s->buckets[0]); i++) {
		while (s->buckets[i]) {
			struct set_node *n = s->buckets[i];

			s->buckets[i] = n->next;
			free(n);
		}
	}
	s->n = 0;
}

struct tt_filter *filter__new(const struct tt_opts *o)
{
	struct tt_filter *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->o = *o;
	f->owned.max = 65536;		/* the BPF maps' max_entries */
	f->listeners.max = 4096;
	f->disowned.max = 65536;
	f->adopted.max = 65536;
	return f;
}

void filter__free(struct tt_filter *f)
{
	if (!f)
		return;
	set_clear(&f->owned);
	set_clear(&f->listeners);
	set_clear(&f->disowned);
	set_clear(&f->adopted);
	free(f);
}

static bool port_in(const uint16_t *list, uint32_t n, uint16_t port)
{
	for (uint32_t i = 0; i < n && i < TT_MAX_PORTS; i++)
		if (list[i] == port)
			return true;
	return false;
}

static uint64_t listener_key(const struct tt_event *e)
{
	return (uint64_t)e->netns << 16 | e->sport;
}

/* pass_filters() in bpf/tcptrail.bpf.h */
static bool pass_filters(const struct tt_opts *o, const struct tt_event *e)
{
	if (o->family && e->family != o->family)
		return false;
	if (o->netns && e->netns != o->netns)
		return false;
	if (o->n_lports && !port_in(o->lports, o->n_lports, e->sport))
		return false;
	if (o->n_rports && !port_in(o->rports, o->n_rports, e->dport))
		return false;
	if (o->n_ports && !port_in(o->ports, o->n_ports, e->sport) &&
	    !port_in(o->ports, o->n_ports, e->dport))
		return false;
	return true;
}

/* owned_sk(): by the record's sk, or a seeded socket's by its tuple (then filed by sk) */
static bool owned_sk(struct tt_filter *f, const struct tt_event *e)
{
	uint64_t pseudo;

	if (set_has(&f->owned, e->sk))
		return true;
	if (!f->seeded)
		return false;
	pseudo = engine__pseudo_sk(e);
	if (!set_has(&f->owned, pseudo))
		return false;
	set_del(&f->owned, pseudo);
	set_add(&f->owned, e->sk);
	return true;
}

/* e (CLOSE > LISTEN) made a listener of the process's */
static void listener_open(struct tt_filter *f, const struct tt_event *e)
{
	set_add(&f->listeners, listener_key(e));
}

/* e (LISTEN > CLOSE) closed it: its children born before are still the process's */
static void listener_closed(struct tt_filter *f, const struct tt_event *e)
{
	set_del(&f->listeners, listener_key(e));
	f->lclosed[f->lclosed_next].key = listener_key(e);
	f->lclosed[f->lclosed_next].ts_ns = e->ts_ns;
	f->lclosed_next = (f->lclosed_next + 1) % CLOSED_KEPT;
}

static bool listener_is_open(const struct tt_filter *f, const struct tt_event *e)
{
	return set_has(&f->listeners, listener_key(e));
}

/*
 * e (LISTEN > SYN_RECV) is the birth of a child of the process's listener,
 * as the kernel side judged it at the birth: the child's record comes at
 * its end, which may be after the listener's close (children reset as it
 * closed), so a listener closed lately counts for the children born before.
 */
static bool listener_had(const struct tt_filter *f, const struct tt_event *e)
{
	uint64_t key = listener_key(e);

	if (listener_is_open(f, e))
		return true;
	for (unsigned int k = 1; k <= CLOSED_KEPT; k++) {
		unsigned int i = (f->lclosed_next + CLOSED_KEPT - k) % CLOSED_KEPT;

		if (f->lclosed[i].key == key && f->lclosed[i].ts_ns)
			return e->ts_ns <= f->lclosed[i].ts_ns;
	}
	return false;
}

/* The kernel side's forget_owned(): e, the process's, went > CLOSE (or to TIME-WAIT) */
static void note_closed(struct tt_filter *f, const struct tt_event *e)
{
	f->closed[f->closed_next].sk = e->sk;
	f->closed[f->closed_next].cpu = e->cpu;
	f->closed_next = (f->closed_next + 1) % CLOSED_KEPT;
}

/* e's socket is the last of the process's to go > CLOSE on e's CPU */
static bool closed_here(const struct tt_filter *f, const struct tt_event *e)
{
	for (unsigned int k = 1; k <= CLOSED_KEPT; k++) {
		unsigned int i = (f->closed_next + CLOSED_KEPT - k) % CLOSED_KEPT;

		if (f->closed[i].cpu == e->cpu)
			return f->closed[i].sk == e->sk && e->sk;
	}
	return false;
}

/*
 * pass_owner() and forget_owned() for transitions, and each hook's own pid
 * test for the other types.  The kernel keys its maps by the struct sock
 * address, which is what e->sk holds, so the same sets give the same answer.
 */
static bool pass_owner(struct tt_filter *f, struct tt_event *e)
{
	bool mine = (e->flags & TT_F_OWNER) && e->tgid == f->o.pid;
	bool keep, ours;

	switch (e->type) {
	case TT_EV_TRANSITION:
		if (mine) {
			set_add(&f->owned, e->sk);
			if (e->new_state == TT_LISTEN)
				listener_open(f, e);
			keep = true;
		} else if (owned_sk(f, e)) {
			keep = true;
		} else if (e->old_state == TT_LISTEN && e->new_state == TT_SYN_RECV &&
			   listener_had(f, e)) {
			set_add(&f->owned, e->sk);
			keep = true;
		} else {
			keep = false;
		}
		if (e->new_state == TT_CLOSE)
			set_del(&f->disowned, e->sk);
		if (keep && e->new_state == TT_CLOSE) {
			set_del(&f->owned, e->sk);
			note_closed(f, e);
			set_del(&f->adopted, e->sk);
			/* forget_seeded(): a later socket of the tuple is another */
			if (f->seeded)
				set_del(&f->owned, engine__pseudo_sk(e));
			if (e->old_state == TT_LISTEN)
				listener_closed(f, e);
		}
		return keep;
	case TT_EV_ACCEPT:
		/*
		 * The accepting task is the current one: the kernel tests tgid
		 * alone.  A child's own record may come after its accept (one
		 * record a connection, sent at its end): then our listener's
		 * port says the child is of our listener, as its LISTEN >
		 * SYN_RECV said to the kernel side when it happened.
		 */
		ours = set_has(&f->owned, e->sk) || listener_is_open(f, e);
		if (e->tgid != f->o.pid) {
			/* a child of our listener another process accepted: not ours (dropped) */
			if (!ours)
				return false;
			set_del(&f->owned, e->sk);
			/* its flow record, sent at its end, still holds the birth that made it ours */
			set_add(&f->disowned, e->sk);
			e->flags |= TT_F_DISOWNED;
			return true;
		}
		/* not the process's before: its flow starts here, as the kernel side marks it */
		if (ours) {
			set_add(&f->owned, e->sk);
		} else if (!owned_sk(f, e)) {
			set_add(&f->owned, e->sk);
			/* its flow record, sent at the end, still holds what came before */
			set_put(&f->adopted, e->sk, e->ts_ns ? e->ts_ns : 1);
			e->flags |= TT_F_ADOPTED;
		}
		return true;
	case TT_EV_SEED:
		/*
		 * sock_diag's owner, when it knows one; e->sk is the pseudo key of
		 * its tuple.  A socket no file holds (aux[1], its inode, is 0) on
		 * our listener's port, in a state it can wait in the accept queue
		 * in, is there: ours, as a LISTEN > SYN_RECV of our listener is
		 * (the seed's pid_keeps() also matches the listener's address).
		 */
		if (!mine && ((e->flags & TT_F_OWNER) || e->aux[1] ||
			      (e->new_state != TT_SYN_RECV && e->new_state != TT_ESTABLISHED &&
			       e->new_state != TT_CLOSE_WAIT) ||
			      !listener_is_open(f, e)))
			return false;
		set_add(&f->owned, e->sk);
		f->seeded = true;
		if (e->new_state == TT_LISTEN)
			listener_open(f, e);
		return true;
	case TT_EV_TIME_WAIT:
		/* no X > CLOSE follows a reported TIME-WAIT entry: forget it here */
		if (!owned_sk(f, e))
			return false;
		set_del(&f->owned, e->sk);
		set_del(&f->adopted, e->sk);
		note_closed(f, e);
		return true;
	case TT_EV_RESET_SENT:
		/*
		 * A reset right after the socket's > CLOSE, on its CPU (data
		 * after close(), a close() with data unread): no longer in
		 * owned, and still the process's.  It tells an abort from a
		 * TIME-WAIT entry.
		 */
		return owned_sk(f, e) || closed_here(f, e);
	case TT_EV_RESET_RECV:
		return owned_sk(f, e);
	default:
		/* overflows and SYN-ACK retransmits are not filtered by pid */
		return true;
	}
}

bool filter__addr_pass(const struct tt_opts *o, const struct tt_event *e)
{
	if (!o->n_remote && !o->n_local)
		return true;
	/* records without a socket tuple (none so far) are not the filters' business */
	if (e->family != TT_AF_INET && e->family != TT_AF_INET6)
		return true;
	return tt_cidr_match_peer(o->remote, o->n_remote, e->family, e->daddr) &&
	       tt_cidr_match(o->local, o->n_local, e->family, e->saddr);
}

bool filter__flow_states(const struct tt_opts *o, const struct tt_flow *f)
{
	if (!o->states)
		return true;
	for (unsigned int i = 0; i < f->nstates && i < TT_FLOW_MAX_STATES; i++)
		if (f->state[i] < 32 && (o->states & (1u << f->state[i])))
			return true;
	return false;
}

bool filter__transition_states(const struct tt_opts *o, unsigned int old, unsigned int new)
{
	if (!o->states)
		return true;
	return (old < 32 && (o->states & (1u << old))) || (new < 32 && (o->states & (1u << new)));
}

bool filter__pass(struct tt_filter *f, struct tt_event *e)
{
	if (!pass_filters(&f->o, e) || !filter__addr_pass(&f->o, e))
		return false;
	return !f->o.pid || pass_owner(f, e);
}

/*
 * A socket the process adopted at accept(): the kernel side keeps nothing of
 * it from before (pass_owner in transitions.bpf.c), so a live run's record
 * starts at the accept.  A capture made without -p holds the whole socket:
 * what came before is taken out, as the flow that the accept began goes on.
 */
static void trim_adopted(struct tt_filter *f, struct tt_flowrec *r)
{
	uint64_t since = set_val(&f->adopted, r->sk);
	unsigned int k = 0;

	if (!since)
		return;
	if (r->flags & TT_FR_END)
		set_del(&f->adopted, r->sk);
	while (k < r->n && k < TT_FR_STATES && r->ts_ns[k] < since)
		k++;
	if (!k)
		return;
	r->n = (uint8_t)(r->n - k);
	memmove(r->ts_ns, r->ts_ns + k, r->n * sizeof(r->ts_ns[0]));
	memmove(r->old_state, r->old_state + k, r->n);
	memmove(r->new_state, r->new_state + k, r->n);
	memmove(r->tflags, r->tflags + k, r->n);
	r->flags &= (uint8_t)~TT_FR_BORN;
}

bool filter__pass_flow(struct tt_filter *f, struct tt_flowrec *r)
{
	struct tt_event e;
	bool keep = false;

	flowrec__header(r, &e);
	if (!pass_filters(&f->o, &e) || !filter__addr_pass(&f->o, &e))
		return false;
	if (!f->o.pid)
		return true;
	/*
	 * Another process accepted this child of the process's listener: the
	 * kernel side kept nothing of it from then on, and sends no record
	 */
	if (set_has(&f->disowned, r->sk)) {
		if (r->flags & TT_FR_END)
			set_del(&f->disowned, r->sk);
		return false;
	}
	trim_adopted(f, r);
	/* a record with no transitions (the stats at the end): the socket's */
	if (!r->n)
		return set_has(&f->owned, r->sk);
	for (unsigned int i = 0; i < r->n && i < TT_FR_STATES; i++) {
		flowrec__event(r, i, &e);
		if (pass_owner(f, &e))
			keep = true;
	}
	return keep;
}

static size_t put_ports(char *buf, size_t len, size_t n, const char *name,
			const uint16_t *ports, uint32_t count)
{
	if (!count || n >= len)
		return n;
	n += (size_t)snprintf(buf + n, len - n, "%s%s=", n ? " " : "", name);
	for (uint32_t i = 0; i < count && i < TT_MAX_PORTS && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "," : "", ports[i]);
	return n;
}

static size_t put_cidrs(char *buf, size_t len, size_t n, const char *name,
			const struct tt_cidr *list, uint32_t count)
{
	char c[TT_ADDR_STRLEN + 8];

	if (!count || n >= len)
		return n;
	n += (size_t)snprintf(buf + n, len - n, "%s%s=", n ? " " : "", name);
	for (uint32_t i = 0; i < count && i < TT_MAX_CIDRS && n < len; i++) {
		tt_cidr_format(&list[i], c, sizeof(c));
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "", c);
	}
	return n;
}

void filter__describe(const struct tt_opts *o, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (o->family)
		n += (size_t)snprintf(buf + n, len - n, "family=%s",
				      o->family == TT_AF_INET6 ? "ipv6" : "ipv4");
	if (o->pid && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%spid=%u", n ? " " : "", o->pid);
	if (o->netns && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%snetns=%u", n ? " " : "", o->netns);
	n = put_ports(buf, len, n, "ports", o->ports, o->n_ports);
	n = put_ports(buf, len, n, "lports", o->lports, o->n_lports);
	n = put_ports(buf, len, n, "rports", o->rports, o->n_rports);
	n = put_cidrs(buf, len, n, "remote", o->remote, o->n_remote);
	n = put_cidrs(buf, len, n, "local", o->local, o->n_local);
	if (o->cgroup_path[0] && n < len)
		snprintf(buf + n, len - n, "%scgroup=%s", n ? " " : "", o->cgroup_path);
}
