// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gencap: a large synthetic capture, to time and profile the daemon's
 * userspace path (engine and sinks) by replay, without root or BPF:
 *
 *   gencap [-f] [-n RECORDS] > big.ttcap	(default 1000000)
 *   /usr/bin/time ./tcptrail -r big.ttcap --json -i 10 > /dev/null
 *
 * The records are those of short loopback connections to a few listeners,
 * as tests/captures/close.ttcap shows them, with CONCURRENT connections in
 * flight and their records interleaved: the client's CLOSE > SYN_SENT
 * (no local port yet), SYN_SENT > ESTABLISHED, ESTABLISHED > FIN_WAIT1,
 * FIN_WAIT1 > FIN_WAIT2 and TIME_WAIT entry (the rule's record); the
 * server's LISTEN > SYN_RECV, SYN_RECV > ESTABLISHED, accept(),
 * ESTABLISHED > CLOSE_WAIT, CLOSE_WAIT > LAST_ACK and LAST_ACK > CLOSE.
 * A quarter are IPv6, socket addresses are reused as the kernel's slab
 * reuses them, and a few comms need JSON escaping.
 *
 * -f: the same connections as flow records (struct tt_flowrec, format
 * version 3), as the kernel side sends them where it keeps each socket's
 * timeline: a listener's record at LISTEN; the client's one record at its
 * TIME-WAIT hand-over, with its stats; the server's early record at
 * CLOSE_WAIT and its last at CLOSE, with its stats; accept() stays an
 * event.  Four records a connection instead of eleven.  Without -f the
 * stream is format version 2 (events only), which tcptrail versions before
 * flow records read too (tests/replay-compare.sh runs old binaries on it).
 *
 * The output is the uncompressed capture stream (what zcat prints), which
 * tcptrail reads as is, so that no inflate time is in the measurement;
 * pipe it through gzip for a file like -w writes.  Deterministic: the same
 * arguments give the same bytes.  libc only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "tcptrail.h"
#include "ttcap.h"

#define CONCURRENT	64
#define STEPS		11
#define NETNS		4026531833u
#define START_NS	1000000000000ull
#define COUNTERS_NS	1000000000ull	/* -w writes a COUNTERS frame a second */

struct conn {
	unsigned int step;
	struct tt_flowrec cfr, sfr;	/* -f: the records being filled */
	uint64_t csk, ssk;		/* client and server struct sock */
	uint64_t ccookie, scookie;
	uint16_t cport;
	unsigned int listener;
	unsigned int client;		/* index into clients[] */
	uint8_t family;
};

struct task {
	uint32_t tgid;
	const char *comm;
};

/* A few comms JSON must escape: a quote, a control byte, UTF-8, Latin-1. */
static const struct task clients[] = {
	{ 2101, "curl" }, { 2102, "python3" }, { 2103, "java" }, { 2104, "wget" },
	{ 2105, "redis-cli" }, { 2106, "psql" }, { 2107, "node" }, { 2108, "grpc \"worker\"" },
	{ 2109, "t\x01tab\x7f" }, { 2110, "w\xc3\xb6rker" }, { 2111, "lat\xe9n1" },
	{ 2112, "envoy" },
};

struct listener {
	uint16_t port;
	uint8_t family;
	uint64_t sk, cookie;
	struct task owner;
};

static struct listener listeners[] = {
	{ 8080, TT_AF_INET, 0, 0, { 1001, "nginx" } },
	{ 5432, TT_AF_INET, 0, 0, { 1002, "postgres" } },
	{ 6379, TT_AF_INET, 0, 0, { 1003, "redis-server" } },
	{ 8443, TT_AF_INET6, 0, 0, { 1004, "envoy" } },
};
#define N_LISTENERS (sizeof(listeners) / sizeof(listeners[0]))
#define N_CLIENTS (sizeof(clients) / sizeof(clients[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, fast, good enough to interleave */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* struct sock addresses: 2 KiB slab objects, reused as sockets are freed */
#define SK_POOL (2 * CONCURRENT + N_LISTENERS)
static uint64_t sk_free[SK_POOL];
static unsigned int n_sk_free;

static uint64_t sk_get(void)
{
	unsigned int i = (unsigned int)(rnd() % n_sk_free);
	uint64_t sk = sk_free[i];

	sk_free[i] = sk_free[--n_sk_free];
	return sk;
}

static void sk_put(uint64_t sk)
{
	sk_free[n_sk_free++] = sk;
}

static uint64_t ts = START_NS, next_counters = START_NS + COUNTERS_NS;
static uint64_t next_cookie = 4096, events;
static uint16_t next_port = 32768;
static bool flows;		/* -f */

static void put(uint32_t kind, const void *p, uint32_t len)
{
	struct ttcap_frame fr = { .kind = kind, .len = len };

	if (fwrite(&fr, sizeof(fr), 1, stdout) != 1 || fwrite(p, len, 1, stdout) != 1) {
		fprintf(stderr, "gencap: write: %s\n", strerror(errno));
		exit(1);
	}
}

static void put_counters(void)
{
	struct ttcap_counters k = { .ts_ns = ts, .events = events };

	put(TTCAP_COUNTERS, &k, sizeof(k));
}

static void addr(uint8_t family, uint8_t a[16])
{
	memset(a, 0, 16);
	if (family == TT_AF_INET) {
		a[0] = 127;
		a[3] = 1;
	} else {
		a[15] = 1;
	}
}

/* 10..40 us apart: a loopback host doing a few tens of thousands a second */
static void advance(void)
{
	ts += 10000 + rnd() % 30000;
}

static void emitted(void)
{
	events++;
	if (ts >= next_counters) {
		put_counters();
		next_counters += COUNTERS_NS;
	}
}

static void emit(struct tt_event *e)
{
	advance();
	e->ts_ns = ts;
	e->cpu = (uint32_t)(rnd() & 1);
	put(TTCAP_EVENT, e, sizeof(*e));
	emitted();
}

/* -f: a transition at this step's time, into the socket's record */
static void fr_add(struct tt_flowrec *r, uint8_t old, uint8_t new, uint8_t tflags)
{
	advance();
	if (r->n == TT_FR_STATES)
		return;		/* no path here has more than 5 */
	r->ts_ns[r->n] = ts;
	r->old_state[r->n] = old;
	r->new_state[r->n] = new;
	r->tflags[r->n] = tflags;
	r->n++;
}

/* -f: send the record (at its last transition's time) and start the next one */
static void fr_emit(struct tt_flowrec *r, uint8_t flags)
{
	r->flags |= flags;
	r->cpu = (uint16_t)(rnd() & 1);
	if (flags & TT_FR_STATS) {
		/* a small request and answer; the passive end sees them the other way round */
		r->bytes_sent = 64 + rnd() % 512;
		r->bytes_received = 128 + rnd() % 8192;
		r->segs_out = 4 + (uint32_t)(rnd() % 4);
		r->segs_in = 4 + (uint32_t)(rnd() % 4);
		r->retransmits = rnd() % 64 ? 0 : 1;
		r->srtt_us = 20 + (uint32_t)(rnd() % 80);
	}
	put(TTCAP_FLOW, r, sizeof(*r));
	emitted();
	r->n = 0;
	r->flags &= (uint8_t)~(TT_FR_END | TT_FR_STATS);
	memset(r->ts_ns, 0, sizeof(r->ts_ns));
	memset(r->old_state, 0, sizeof(r->old_state));
	memset(r->new_state, 0, sizeof(r->new_state));
	memset(r->tflags, 0, sizeof(r->tflags));
}

static void fr_task(struct tt_flowrec *r, unsigned int slot, const struct task *t)
{
	r->task_pid[slot] = r->task_tgid[slot] = t->tgid;
	strncpy(r->task_comm[slot], t->comm, sizeof(r->task_comm[slot]) - 1);
}

static void fr_init(struct tt_flowrec *r, uint8_t family, uint64_t sk, uint64_t cookie,
		    uint16_t sport, uint16_t dport, const struct task *owner)
{
	memset(r, 0, sizeof(*r));
	r->type = TT_EV_FLOW;
	r->family = family;
	r->flags = TT_FR_COOKIE | TT_FR_BORN;
	r->hook = TT_HOOK_TP_BTF_SET_STATE;
	r->sport = sport;
	r->dport = dport;
	r->netns = NETNS;
	r->sk = sk;
	r->cookie = cookie;
	addr(family, r->saddr);
	addr(family, r->daddr);
	fr_task(r, 0, owner);
}

static void base(struct tt_event *e, uint8_t type, uint8_t family, uint8_t old, uint8_t new,
		 uint8_t flags, const struct task *t)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->family = family;
	e->old_state = old;
	e->new_state = new;
	e->flags = flags;
	e->hook = TT_HOOK_TP_BTF_SET_STATE;
	e->netns = NETNS;
	e->pid = e->tgid = t->tgid;
	strncpy(e->comm, t->comm, sizeof(e->comm) - 1);
	addr(family, e->saddr);
	addr(family, e->daddr);
}

static void conn_start(struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->listener = (unsigned int)(rnd() % N_LISTENERS);
	c->family = listeners[c->listener].family;
	c->client = (unsigned int)(rnd() % N_CLIENTS);
	c->csk = sk_get();
	c->ssk = sk_get();
	c->ccookie = next_cookie++;
	c->scookie = next_cookie++;
	c->cport = next_port;
	next_port = next_port == 60999 ? 32768 : next_port + 1;
	if (flows) {
		const struct listener *l = &listeners[c->listener];

		fr_init(&c->cfr, c->family, c->csk, c->ccookie, c->cport, l->port,
			&clients[c->client]);
		fr_init(&c->sfr, c->family, c->ssk, c->scookie, l->port, c->cport, &l->owner);
		/* the child was born in softirq: no task made its first transitions */
		c->sfr.flags &= (uint8_t)~TT_FR_BORN;
	}
}

/*
 * -f: one step of c's life as the flow records see it (the same steps and
 * times as conn_step); returns false when it has no more.
 */
static bool conn_step_flow(struct conn *c)
{
	const struct listener *l = &listeners[c->listener];
	struct tt_event e;

	switch (c->step) {
	case 0: fr_add(&c->cfr, TT_CLOSE, TT_SYN_SENT, TT_T_TASK0); break;
	case 1: fr_add(&c->sfr, TT_LISTEN, TT_SYN_RECV, 0); break;
	case 2: fr_add(&c->cfr, TT_SYN_SENT, TT_ESTABLISHED, TT_T_TASK0); break;
	case 3: fr_add(&c->sfr, TT_SYN_RECV, TT_ESTABLISHED, 0); break;
	case 4:
		base(&e, TT_EV_ACCEPT, c->family, 0, 0, TT_F_OWNER, &l->owner);
		e.hook = TT_HOOK_TP_ACCEPT;
		e.sk = c->ssk;
		e.sport = l->port;
		e.dport = c->cport;
		emit(&e);
		break;
	case 5: fr_add(&c->cfr, TT_ESTABLISHED, TT_FIN_WAIT1, TT_T_TASK0); break;
	case 6:
		/* the early record: a CLOSE_WAIT leak is reported while it lasts */
		fr_add(&c->sfr, TT_ESTABLISHED, TT_CLOSE_WAIT, 0);
		fr_emit(&c->sfr, 0);
		break;
	case 7: fr_add(&c->cfr, TT_FIN_WAIT1, TT_FIN_WAIT2, 0); break;
	case 8: fr_add(&c->sfr, TT_CLOSE_WAIT, TT_LAST_ACK, TT_T_TASK0); break;
	case 9:
		/* the hand-over to TIME-WAIT ends the client's record */
		fr_add(&c->cfr, TT_FIN_WAIT2, TT_TIME_WAIT, TT_T_TW_SUB);
		c->cfr.tw_substate = TT_TIME_WAIT;
		fr_emit(&c->cfr, TT_FR_END | TT_FR_STATS);
		sk_put(c->csk);
		break;
	case 10:
		fr_add(&c->sfr, TT_LAST_ACK, TT_CLOSE, TT_T_TASK0);
		fr_emit(&c->sfr, TT_FR_END | TT_FR_STATS);
		sk_put(c->ssk);
		break;
	default:
		return false;
	}
	c->step++;
	return c->step < STEPS;
}

/* One record of c's life; returns false when it has no more. */
static bool conn_step(struct conn *c)
{
	const struct listener *l = &listeners[c->listener];
	const struct task *cl = &clients[c->client];
	struct tt_event e;
	/* client side: sport is ours, dport the server's */
	bool client = true;
	uint8_t old = 0, new = 0, flags = TT_F_OWNER | TT_F_COOKIE;

	switch (c->step) {
	case 0: old = TT_CLOSE; new = TT_SYN_SENT; break;
	case 1: old = TT_LISTEN; new = TT_SYN_RECV; client = false; flags = TT_F_COOKIE; break;
	case 2: old = TT_SYN_SENT; new = TT_ESTABLISHED; break;
	case 3: old = TT_SYN_RECV; new = TT_ESTABLISHED; client = false; flags = TT_F_COOKIE; break;
	case 4:
		/* accept() returns the child to the listener's owner */
		base(&e, TT_EV_ACCEPT, c->family, 0, 0, TT_F_OWNER, &l->owner);
		e.hook = TT_HOOK_TP_ACCEPT;
		e.sk = c->ssk;
		e.sport = l->port;
		e.dport = c->cport;
		emit(&e);
		c->step++;
		return true;
	case 5: old = TT_ESTABLISHED; new = TT_FIN_WAIT1; break;
	case 6: old = TT_ESTABLISHED; new = TT_CLOSE_WAIT; client = false; flags = TT_F_COOKIE; break;
	case 7: old = TT_FIN_WAIT1; new = TT_FIN_WAIT2; flags = TT_F_COOKIE; break;
	case 8: old = TT_CLOSE_WAIT; new = TT_LAST_ACK; client = false; break;
	case 9:
		/* the rule's record: FIN_WAIT2 > CLOSE became a TIME-WAIT entry */
		base(&e, TT_EV_TIME_WAIT, c->family, TT_FIN_WAIT2, TT_TIME_WAIT,
		     TT_F_COOKIE | TT_F_SUBSTATE, cl);
		e.sk = c->csk;
		e.cookie = c->ccookie;
		e.sport = c->cport;
		e.dport = l->port;
		e.aux[0] = TT_TIME_WAIT;
		emit(&e);
		sk_put(c->csk);
		c->step++;
		return true;
	case 10: old = TT_LAST_ACK; new = TT_CLOSE; client = false; break;
	default:
		return false;
	}
	/* in softirq the task is whatever ran: the peer, on loopback */
	base(&e, TT_EV_TRANSITION, c->family, old, new, flags,
	     client == !!(flags & TT_F_OWNER) ? cl : &l->owner);
	if (client) {
		e.sk = c->csk;
		e.cookie = c->ccookie;
		/* tcp_v4_connect() picks the local port after SYN_SENT */
		e.sport = c->step == 0 ? 0 : c->cport;
		e.dport = l->port;
	} else {
		e.sk = c->ssk;
		e.cookie = c->scookie;
		e.sport = l->port;
		e.dport = c->cport;
		if (new == TT_CLOSE)
			sk_put(c->ssk);
	}
	emit(&e);
	c->step++;
	return c->step < STEPS;
}

int main(int argc, char **argv)
{
	static struct conn conns[CONCURRENT];
	unsigned long long n = 1000000;
	/* events alone are format 2: a tcptrail from before flow records reads it */
	struct ttcap_file_header h = {
		.magic = TTCAP_MAGIC, .version = 2,
		.record_size = sizeof(struct tt_event), .event_version = TT_EVENT_VERSION,
	};
	struct {
		struct ttcap_meta m;
		__u16 tag, len;
		char v[6];
	} __attribute__((packed)) meta = {
		.m = { .version = 2, .wall_offset_ns = 1700000000000000000ull,
		       .start_ns = START_NS },
		.tag = TTCAP_TAG_TOOL_VERSION, .len = 6, .v = "gencap",
	};
	struct ttcap_end end = { .reason = TTCAP_END_CLOSED };
	char *endp;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f")) {
			flows = true;
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			const char *v = argv[++i];

			errno = 0;
			n = strtoull(v, &endp, 10);
			if (errno || *endp || v[0] < '1' || v[0] > '9' || n > (1ull << 32)) {
				fprintf(stderr, "gencap: -n: '%s' is not a number from 1 to "
					"4294967296\n", v);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: gencap [-f] [-n RECORDS] > FILE\n");
			return 2;
		}
	}
	if (flows)
		h.version = meta.m.version = 3;	/* TTCAP_FLOW frames */
	/* the stream is little-endian: this writes host order */
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
		fprintf(stderr, "gencap: little-endian hosts only\n");
		return 1;
	}

	fwrite(&h, sizeof(h), 1, stdout);
	put(TTCAP_META, &meta, sizeof(meta));
	put_counters();
	for (unsigned int i = 0; i < SK_POOL; i++)
		sk_put(0xffff888120000000ull + (uint64_t)i * 2048);
	for (unsigned int i = 0; i < N_LISTENERS && events < n; i++) {
		struct listener *l = &listeners[i];
		struct tt_event e;

		l->sk = sk_get();
		l->cookie = next_cookie++;
		if (flows) {
			struct tt_flowrec r;

			/* the early record at LISTEN: overflows name their listener */
			fr_init(&r, l->family, l->sk, l->cookie, l->port, 0, &l->owner);
			memset(r.daddr, 0, 16);
			fr_add(&r, TT_CLOSE, TT_LISTEN, TT_T_TASK0);
			fr_emit(&r, 0);
			continue;
		}
		base(&e, TT_EV_TRANSITION, l->family, TT_CLOSE, TT_LISTEN,
		     TT_F_OWNER | TT_F_COOKIE, &l->owner);
		e.sk = l->sk;
		e.cookie = l->cookie;
		e.sport = l->port;
		memset(e.daddr, 0, 16);
		emit(&e);
	}
	for (unsigned int i = 0; i < CONCURRENT; i++)
		conn_start(&conns[i]);
	while (events < n) {
		struct conn *c = &conns[rnd() % CONCURRENT];

		if (!(flows ? conn_step_flow(c) : conn_step(c)))
			conn_start(c);
	}
	put_counters();
	put(TTCAP_END, &end, sizeof(end));
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gencap: write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
