// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flow engine, fed hand-written records.  Times are in ms (MS()) so the
 * expected durations read as in a trace.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "engine.h"
#include "report.h"
#include "sink.h"
#include "util.h"
#include "tt_test.h"


#define MS(x)	((uint64_t)(x) * 1000000ull)
#define NETNS	4026531840u
/* every record: 10.0.0.1:40000 > 10.0.0.2:443, written in softirq */
#define REC_BASE { .family = TT_AF_INET, .netns = NETNS, .sport = 40000, .dport = 443, \
		   .saddr = { 10, 0, 0, 1 }, .daddr = { 10, 0, 0, 2 }, .comm = "softirq" }
#include "records.h"
#define SK(n)	(0xffff888100000000ull + (uint64_t)(n) * 0x900)

#define MAX_ENDED 64

/* Every flow handed to on_flow_end, copied: the pointer dies with the call. */
struct ended {
	struct tt_flow flows[MAX_ENDED];
	int n;
	struct tt_engine *eng;
	int lookup_hits;	/* engine__lookup(flow->sk) from inside the callback */
};

static void on_end(const struct tt_flow *f, void *ctx)
{
	struct ended *r = ctx;

	if (r->n < MAX_ENDED)
		r->flows[r->n] = *f;
	if (r->eng && engine__lookup(r->eng, f->sk))
		r->lookup_hits++;
	r->n++;
}

static struct tt_engine *mk(struct ended *r, size_t max_flows)
{
	struct tt_engine_opts o = { .max_flows = max_flows, .on_flow_end = on_end, .ctx = r };

	memset(r, 0, sizeof(*r));
	r->eng = engine__new(&o);
	return r->eng;
}

static int feed(struct tt_engine *eng, struct tt_event e)
{
	return engine__feed(eng, &e);
}

static size_t count_open(const struct tt_engine *eng);

TEST(engine_active_open_close)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *st;
	const struct tt_flow *f;
	struct tt_event e;

	REQUIRE(eng);
	/* tcp_v4_connect sets SYN_SENT before it picks the local port */
	e = rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1000)), 0, 443), 4242, "curl");
	e.flags |= TT_F_COOKIE;
	e.cookie = 77;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->id, 1);	/* ours, not the cookie */
	CHECK_EQ_INT(f->cookie, 77);
	CHECK_EQ_INT(f->role, TT_ROLE_ACTIVE);
	CHECK_EQ_INT(f->sport, 0);
	CHECK_EQ_INT(f->end, TT_END_NONE);
	CHECK_EQ_INT(f->nstates, 1);
	CHECK_EQ_INT(f->owner_pid, 4242);
	CHECK_STR(f->owner_comm, "curl");
	CHECK(f->flags & TT_FLOW_OWNER_KNOWN);
	CHECK(!(f->flags & TT_FLOW_PARTIAL));

	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(1012))), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(1))->sport, 40000);
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(3012)), 4242,
			"curl")), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(3013))), 0);
	CHECK_EQ_INT(r.n, 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(3020))), 0);

	REQUIRE(r.n == 1);
	f = &r.flows[0];
	CHECK_EQ_INT(f->end, TT_END_CLOSE);
	CHECK_EQ_INT(f->sk, SK(1));
	CHECK_EQ_INT(f->nstates, 5);
	CHECK_EQ_INT(f->state[0], TT_SYN_SENT);
	CHECK_EQ_INT(f->state[1], TT_ESTABLISHED);
	CHECK_EQ_INT(f->state[2], TT_FIN_WAIT1);
	CHECK_EQ_INT(f->state[3], TT_FIN_WAIT2);
	CHECK_EQ_INT(f->state[4], TT_CLOSE);
	CHECK_EQ_INT(f->ts_ns[1] - f->ts_ns[0], MS(12));	/* handshake */
	CHECK_EQ_INT(f->ts_ns[2] - f->ts_ns[1], MS(2000));	/* established */
	CHECK_EQ_INT(f->ts_ns[4] - f->ts_ns[0], MS(2020));	/* whole life */
	CHECK_EQ_INT(f->closer_pid, 4242);
	CHECK_STR(f->closer_comm, "curl");
	CHECK_EQ_INT(f->sport, 40000);
	CHECK_EQ_INT(f->dport, 443);
	CHECK_EQ_INT(f->saddr[0], 10);
	CHECK_EQ_INT(f->family, TT_AF_INET);
	CHECK_EQ_INT(f->netns, NETNS);
	CHECK(!(f->flags & TT_FLOW_TRUNCATED));
	CHECK_EQ_INT(r.lookup_hits, 0);		/* unindexed before the callback */

	CHECK(engine__lookup(eng, SK(1)) == NULL);
	st = engine__total(eng);
	CHECK_EQ_INT(st->events, 5);
	CHECK_EQ_INT(st->flows_opened, 1);
	CHECK_EQ_INT(st->flows_closed, 1);
	CHECK_EQ_INT(st->active, 0);
	CHECK_EQ_INT(st->transitions[TT_CLOSE][TT_SYN_SENT], 1);
	CHECK_EQ_INT(st->transitions[TT_FIN_WAIT2][TT_CLOSE], 1);
	CHECK_EQ_INT(st->refused + st->resets + st->evicted + st->duplicates, 0);
	CHECK_EQ_INT(count_open(eng), 0);
	engine__free(eng);
}

TEST(engine_passive_accept_and_listener_owner)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;
	uint64_t lsk = SK(100);

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(lsk, TT_CLOSE, TT_LISTEN, MS(1)), 80, 0),
			900, "nginx")), 0);
	f = engine__lookup(eng, lsk);
	REQUIRE(f);
	CHECK_EQ_INT(f->role, TT_ROLE_LISTENER);
	CHECK_EQ_INT(f->owner_pid, 900);

	/* a child is born in softirq: no owner flag, owner defaults to the listener's */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_LISTEN, TT_SYN_RECV, MS(10)), 80,
			5555)), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->role, TT_ROLE_PASSIVE);
	CHECK_EQ_INT(f->owner_pid, 900);
	CHECK_STR(f->owner_comm, "nginx");
	CHECK(!(f->flags & TT_FLOW_OWNER_KNOWN));
	CHECK(!(f->flags & TT_FLOW_PARTIAL));
	CHECK_EQ_INT(f->state[0], TT_SYN_RECV);

	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_SYN_RECV, TT_ESTABLISHED, MS(11)), 80,
			5555)), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(1), 0, 0, MS(12)), 80, 5555),
			901, "nginx-worker")), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->owner_pid, 901);
	CHECK_STR(f->owner_comm, "nginx-worker");
	CHECK(f->flags & TT_FLOW_OWNER_KNOWN);
	CHECK_EQ_INT(f->nstates, 2);

	/* the peer closes first; our worker answers with close() */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(500)),
			80, 5555)), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE_WAIT, TT_LAST_ACK,
			MS(501)), 80, 5555), 901, "nginx-worker")), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_LAST_ACK, TT_CLOSE, MS(502)), 80,
			5555)), 0);
	REQUIRE(r.n == 1);
	f = &r.flows[0];
	CHECK_EQ_INT(f->end, TT_END_CLOSE);
	CHECK_EQ_INT(f->role, TT_ROLE_PASSIVE);
	CHECK_EQ_INT(f->owner_pid, 901);
	CHECK_EQ_INT(f->closer_pid, 901);
	CHECK_STR(f->closer_comm, "nginx-worker");
	CHECK_EQ_INT(f->nstates, 5);
	CHECK_EQ_INT(f->ts_ns[4] - f->ts_ns[0], MS(492));

	/* same port in another namespace: not this listener's child */
	struct tt_event other = rec_ports(rec_tr(SK(2), TT_LISTEN, TT_SYN_RECV, MS(600)), 80, 5556);
	other.netns = NETNS + 1;
	CHECK_EQ_INT(engine__feed(eng, &other), 0);
	f = engine__lookup(eng, SK(2));
	REQUIRE(f);
	CHECK_EQ_INT(f->owner_pid, 0);
	CHECK_STR(f->owner_comm, "");

	/* another port: no default either */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(3), TT_LISTEN, TT_SYN_RECV, MS(601)), 81,
			5557)), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->owner_pid, 0);

	/* the listener closes: its index entry goes with it */
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(lsk, TT_LISTEN, TT_CLOSE, MS(700)), 80, 0),
			900, "nginx")), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[1].end, TT_END_CLOSE);
	CHECK_EQ_INT(r.flows[1].role, TT_ROLE_LISTENER);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(4), TT_LISTEN, TT_SYN_RECV, MS(701)), 80,
			5558)), 0);
	f = engine__lookup(eng, SK(4));
	REQUIRE(f);
	CHECK_EQ_INT(f->owner_pid, 0);
	CHECK_EQ_INT(engine__total(eng)->transitions[TT_LISTEN][TT_SYN_RECV], 4);
	engine__free(eng);
}

TEST(engine_listener_owner_ipv6_dual_stack)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event l = rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1)), 8080, 0),
			10, "v6srv");
	struct tt_event l4 = rec_by(rec_ports(rec_tr(SK(2), TT_CLOSE, TT_LISTEN, MS(1)), 8080, 0),
			11, "v4srv");
	struct tt_event c = rec_ports(rec_tr(SK(3), TT_LISTEN, TT_SYN_RECV, MS(2)), 8080, 1000);

	REQUIRE(eng);
	l.family = TT_AF_INET6;
	CHECK_EQ_INT(engine__feed(eng, &l), 0);
	/* only a v6 listener: a v4 child takes it */
	CHECK_EQ_INT(engine__feed(eng, &c), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->owner_pid, 10);
	/* with both, the child of the same family wins */
	CHECK_EQ_INT(engine__feed(eng, &l4), 0);
	c.sk = SK(4);
	CHECK_EQ_INT(engine__feed(eng, &c), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(4))->owner_pid, 11);
	c.sk = SK(5);
	c.family = TT_AF_INET6;
	CHECK_EQ_INT(engine__feed(eng, &c), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(5))->owner_pid, 10);
	engine__free(eng);
}

TEST(engine_listener_port_learned_later)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	/* listen() without bind(), on the wildcard address */
	struct tt_event l = rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1)), 0, 0), 10,
			"srv");
	/* a SYNACK retransmit names the listener's sk with its request's tuple */
	struct tt_event rt = rec_ports(rec(TT_EV_SYNACK_RETRANS, SK(1), 0, 0, MS(3)), 33000, 5151);
	const struct tt_flow *f;

	REQUIRE(eng);
	memset(l.saddr, 0, sizeof(l.saddr));
	memset(l.daddr, 0, sizeof(l.daddr));
	/* the port is picked after the state changes: the birth record has none */
	CHECK_EQ_INT(engine__feed(eng, &l), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(2), TT_LISTEN, TT_SYN_RECV, MS(2)), 33000, 1)),
			0);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->owner_pid, 0);

	CHECK_EQ_INT(engine__feed(eng, &rt), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->sport, 33000);
	/* the retransmit belongs to the request, not to the listener */
	CHECK_EQ_INT(f->synack_retrans, 0);
	/* the request's addresses and remote port are not the listener's */
	CHECK_EQ_INT(f->dport, 0);
	CHECK(memcmp(f->saddr, l.saddr, sizeof(f->saddr)) == 0);
	CHECK(memcmp(f->daddr, l.daddr, sizeof(f->daddr)) == 0);
	/* now the listener is indexed under its port */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(3), TT_LISTEN, TT_SYN_RECV, MS(4)), 33000, 2)),
			0);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->owner_pid, 10);
	engine__free(eng);
}

TEST(engine_refused)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1)), 7, "nc")), 0);
	/* RST answering our SYN, handled in softirq */
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(1), TT_SYN_SENT, TT_CLOSE, MS(2)), 111)), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].end, TT_END_REFUSED);
	CHECK_EQ_INT(r.flows[0].closer_pid, 0);
	CHECK_STR(tt_end_name(r.flows[0].end), "refused");
	CHECK_EQ_INT(engine__total(eng)->refused, 1);
	CHECK_EQ_INT(engine__interval(eng)->refused, 1);
	CHECK_EQ_INT(engine__total(eng)->resets, 0);
	/*
	 * On loopback the RST comes back while connect() holds the socket
	 * lock, and release_sock() runs it in the caller's context: still no
	 * close call (the error says so), so no closer.
	 */
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(3)), 7, "nc")), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_err(rec_tr(SK(2), TT_SYN_SENT, TT_CLOSE, MS(4)), 111), 7,
				      "nc")), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[1].end, TT_END_REFUSED);
	CHECK_EQ_INT(r.flows[1].closer_pid, 0);
	CHECK_EQ_INT(r.flows[1].owner_pid, 7);
	engine__free(eng);
}

TEST(engine_reset)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(1), TT_ESTABLISHED, TT_CLOSE, MS(3)), 104)), 0);
	/* EPIPE: reset while in CLOSE_WAIT */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(3))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(2), TT_CLOSE_WAIT, TT_CLOSE, MS(4)), 32)), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[0].end, TT_END_RESET);
	CHECK_EQ_INT(r.flows[1].end, TT_END_RESET);
	CHECK_EQ_INT(engine__total(eng)->resets, 2);
	CHECK_EQ_INT(engine__total(eng)->refused, 0);
	engine__free(eng);
}

TEST(engine_abort)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);

	REQUIRE(eng);
	/* close() with unread data or SO_LINGER 0: ESTABLISHED > CLOSE, no error */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_ESTABLISHED, TT_CLOSE, MS(3)), 31, "app")),
			0);
	/* close() while still connecting (an application's connect timeout): no RST, cancelled */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(2), TT_SYN_SENT, TT_CLOSE, MS(5)), 32, "app2")), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[0].end, TT_END_ABORT);
	CHECK_EQ_INT(r.flows[0].closer_pid, 31);
	CHECK_STR(r.flows[0].closer_comm, "app");
	/* the first owner-flagged record names the owner when none is known */
	CHECK_EQ_INT(r.flows[0].owner_pid, 31);
	CHECK_EQ_INT(r.flows[1].end, TT_END_CANCELLED);
	CHECK_EQ_INT(r.flows[1].closer_pid, 32);
	CHECK_EQ_INT(r.flows[1].resets_sent, 0);
	CHECK_EQ_INT(r.flows[1].sk_err, 0);
	/* connect() that found no local port (EADDRNOTAVAIL): SYN_SENT, then CLOSE with port 0 */
	{
		struct tt_event born = rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(6));
		struct tt_event gave_up = rec_tr(SK(3), TT_SYN_SENT, TT_CLOSE, MS(6));

		born.sport = gave_up.sport = 0;
		CHECK_EQ_INT(feed(eng, born), 0);
		CHECK_EQ_INT(feed(eng, gave_up), 0);
		REQUIRE(r.n == 3);
		CHECK_EQ_INT(r.flows[2].end, TT_END_NO_PORT);
		CHECK_STR(tt_end_name(TT_END_NO_PORT), "no_port");
	}
	/* the kernel resets the peer after the state is CLOSE, not from SYN_SENT */
	CHECK_EQ_INT(r.flows[0].resets_sent, 1);
	CHECK_EQ_INT(r.flows[1].resets_sent, 0);
	/* that RST's own record, after the end: no flow of it, nothing more counted */
	CHECK_EQ_INT(feed(eng, rec(TT_EV_RESET_SENT, SK(1), 0, 0, MS(3))), 0);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(engine__total(eng)->resets, 0);
	engine__free(eng);
}

TEST(engine_timeout_and_other_errors)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(1), TT_SYN_SENT, TT_CLOSE, MS(127001)), 110)), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(2), TT_SYN_SENT, TT_CLOSE, MS(2)), 113)),
			0); /* EHOSTUNREACH */
	/* an error wins over an otherwise orderly state */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_ESTABLISHED, TT_FIN_WAIT1, MS(3))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(3), TT_FIN_WAIT1, TT_CLOSE, MS(4)), 110)), 0);
	REQUIRE(r.n == 3);
	CHECK_EQ_INT(r.flows[0].end, TT_END_TIMEOUT);
	CHECK_EQ_INT(r.flows[0].ts_ns[1] - r.flows[0].ts_ns[0], MS(127000));
	CHECK_EQ_INT(r.flows[1].end, TT_END_ERROR);
	CHECK_EQ_INT(r.flows[2].end, TT_END_TIMEOUT);
	/* which error, kept for the outputs */
	CHECK_EQ_INT(r.flows[0].sk_err, 110);
	CHECK_EQ_INT(r.flows[1].sk_err, 113);
	{
		char name[TT_ERRNO_NAME_MAX];

		CHECK_STR(tt_errno_name(113, name), "EHOSTUNREACH");
		CHECK_STR(tt_errno_name(250, name), "errno 250");
	}
	CHECK_EQ_INT(engine__total(eng)->flows_closed, 3);
	engine__free(eng);
}

TEST(engine_sk_reuse)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;
	uint64_t first_id;

	REQUIRE(eng);
	/* the socket is freed and its memory handed to a new one */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(1), TT_SYN_SENT, TT_CLOSE, MS(2)), 111)), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(3))), 0);
	REQUIRE(r.n == 1);
	first_id = r.flows[0].id;
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK(f->id != first_id);
	CHECK_EQ_INT(f->nstates, 1);
	CHECK_EQ_INT(f->ts_ns[0], MS(3));

	/* a birth on a socket still open: we missed its end */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(4))), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(9)), 3, "srv")), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[1].end, TT_END_SUPERSEDED);
	CHECK_EQ_INT(r.flows[1].nstates, 2);
	CHECK_EQ_INT(r.flows[1].state[1], TT_ESTABLISHED);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->role, TT_ROLE_LISTENER);
	CHECK_EQ_INT(f->state[0], TT_LISTEN);
	CHECK_EQ_INT(f->nstates, 1);
	CHECK(f->id != r.flows[1].id);
	CHECK_STR(tt_end_name(TT_END_SUPERSEDED), "superseded");
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 3);
	CHECK_EQ_INT(engine__total(eng)->flows_closed, 2);
	CHECK_EQ_INT(engine__total(eng)->active, 1);
	engine__free(eng);
}

TEST(engine_ids_sequence_and_cookie)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event e;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	/* a cookie counts only with its flag, and 0 is no cookie */
	e = rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(1));
	e.cookie = 999;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	e = rec_tr(SK(4), TT_CLOSE, TT_SYN_SENT, MS(1));
	e.flags = TT_F_COOKIE;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	e = rec_tr(SK(5), TT_CLOSE, TT_SYN_SENT, MS(1));
	e.flags = TT_F_COOKIE;
	e.cookie = 1ull << 40;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(1))->id, 1);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->id, 2);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->id, 3);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->cookie, 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(4))->id, 4);
	/* the id is ours whatever the cookie: never a mix of the two */
	CHECK_EQ_INT(engine__lookup(eng, SK(5))->id, 5);
	CHECK_EQ_INT(engine__lookup(eng, SK(5))->cookie, 1ull << 40);
	engine__free(eng);
}

TEST(engine_partial_flows)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(50))), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK(f->flags & TT_FLOW_PARTIAL);
	CHECK(!(f->flags & TT_FLOW_SEEDED));
	CHECK_EQ_INT(f->role, TT_ROLE_UNKNOWN);
	CHECK_EQ_INT(f->nstates, 2);
	CHECK_EQ_INT(f->state[0], TT_ESTABLISHED);
	CHECK_EQ_INT(f->state[1], TT_FIN_WAIT1);
	CHECK_EQ_INT(f->ts_ns[0], MS(50));
	CHECK_EQ_INT(f->ts_ns[1], MS(50));

	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_SYN_SENT, TT_ESTABLISHED, MS(51))), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->role, TT_ROLE_ACTIVE);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_SYN_RECV, TT_ESTABLISHED, MS(52))), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->role, TT_ROLE_PASSIVE);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(4), TT_LISTEN, TT_CLOSE, MS(53))), 0);
	CHECK(engine__lookup(eng, SK(4)) == NULL);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].role, TT_ROLE_LISTENER);
	CHECK_EQ_INT(r.flows[0].end, TT_END_CLOSE);
	CHECK(r.flows[0].flags & TT_FLOW_PARTIAL);

	/* the partial flow goes on like any other */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(60))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(70))), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[1].nstates, 4);
	CHECK_EQ_INT(r.flows[1].end, TT_END_CLOSE);
	CHECK_EQ_INT(r.flows[1].ts_ns[3] - r.flows[1].ts_ns[0], MS(20));

	CHECK_EQ_INT(engine__total(eng)->flows_opened, 4);
	CHECK_EQ_INT(engine__total(eng)->active, 2);
	/* the kernel drops X>X; if one came anyway, no flow is made of it */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(9), TT_CLOSE, TT_CLOSE, MS(80))), 0);
	CHECK(engine__lookup(eng, SK(9)) == NULL);
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 4);
	engine__free(eng);
}

TEST(engine_duplicates)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *st;
	const struct tt_flow *f;

	REQUIRE(eng);
	st = engine__total(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	/* a repeated birth is not a new flow */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(st->duplicates, 1);
	CHECK_EQ_INT(st->flows_opened, 1);
	CHECK_EQ_INT(r.n, 0);

	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(5))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(5))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(4))), 0);
	CHECK_EQ_INT(st->duplicates, 3);
	CHECK_EQ_INT(st->events, 5);
	CHECK_EQ_INT(st->transitions[TT_SYN_SENT][TT_ESTABLISHED], 1);
	CHECK_EQ_INT(st->transitions[TT_CLOSE][TT_SYN_SENT], 1);
	CHECK_EQ_INT(engine__interval(eng)->duplicates, 3);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->nstates, 2);

	/* later in time is not a repeat */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(6))), 0);
	CHECK_EQ_INT(st->duplicates, 3);
	CHECK_EQ_INT(f->nstates, 3);
	/* nor is another transition into the same state */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(7))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_CLOSE_WAIT, MS(7))), 0);
	CHECK_EQ_INT(st->duplicates, 3);
	CHECK_EQ_INT(f->nstates, 5);
	engine__free(eng);
}

/* The second program copy stamps its own, later time on a repeat. */
TEST(engine_nested_repeat)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *st;
	struct tt_event e;

	REQUIRE(eng);
	st = engine__total(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	e = rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(2));
	e.flags |= TT_F_NESTED;
	CHECK_EQ_INT(feed(eng, e), 0);
	CHECK_EQ_INT(st->duplicates, 1);
	CHECK_EQ_INT(st->flows_opened, 1);
	CHECK_EQ_INT(st->transitions[TT_CLOSE][TT_SYN_SENT], 1);
	CHECK_EQ_INT(r.n, 0);
	/* a nested record of the next transition is no repeat */
	e = rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(3));
	e.flags |= TT_F_NESTED;
	CHECK_EQ_INT(feed(eng, e), 0);
	CHECK_EQ_INT(st->duplicates, 1);
	CHECK_EQ_INT(engine__lookup(eng, SK(1))->nstates, 2);
	/* nor, without the flag, the same birth later: a new socket at that address */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(4))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_CLOSE, MS(5))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(6))), 0);
	CHECK_EQ_INT(st->flows_opened, 2);
	CHECK_EQ_INT(st->duplicates, 1);
	engine__free(eng);
}

TEST(engine_out_of_order_timestamps)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(100))), 0);
	/* handled on another CPU whose clock read came a hair earlier */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(100) - 300)), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(200))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(150))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(210))), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].nstates, 5);
	CHECK_EQ_INT(r.flows[0].ts_ns[1], MS(100));
	CHECK_EQ_INT(r.flows[0].ts_ns[3], MS(200));
	CHECK_EQ_INT(r.flows[0].ts_ns[4], MS(210));
	for (int i = 1; i < r.flows[0].nstates; i++)
		CHECK(r.flows[0].ts_ns[i] >= r.flows[0].ts_ns[i - 1]);
	CHECK_EQ_INT(engine__total(eng)->duplicates, 0);
	engine__free(eng);
}

TEST(engine_truncation)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;
	unsigned int cur = TT_ESTABLISHED;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(0))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(1))), 0);
	/* the engine keeps what the kernel says, not what RFC 793 allows */
	for (int i = 2; i < TT_FLOW_MAX_STATES; i++) {
		unsigned int next = cur == TT_ESTABLISHED ? TT_CLOSE_WAIT : TT_ESTABLISHED;

		CHECK_EQ_INT(feed(eng, rec_tr(SK(1), cur, next, MS(i))), 0);
		cur = next;
	}
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->nstates, TT_FLOW_MAX_STATES);
	CHECK(!(f->flags & TT_FLOW_TRUNCATED));
	CHECK_EQ_INT(cur, TT_ESTABLISHED);

	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(20))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE_WAIT, TT_LAST_ACK, MS(21))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_LAST_ACK, TT_CLOSE, MS(22))), 0);
	REQUIRE(r.n == 1);
	f = &r.flows[0];
	CHECK(f->flags & TT_FLOW_TRUNCATED);
	CHECK_EQ_INT(f->nstates, TT_FLOW_MAX_STATES);
	CHECK_EQ_INT(f->state[0], TT_SYN_SENT);
	CHECK_EQ_INT(f->state[TT_FLOW_MAX_STATES - 2], TT_CLOSE_WAIT);
	CHECK_EQ_INT(f->ts_ns[TT_FLOW_MAX_STATES - 2], MS(TT_FLOW_MAX_STATES - 2));
	CHECK_EQ_INT(f->state[TT_FLOW_MAX_STATES - 1], TT_CLOSE);
	CHECK_EQ_INT(f->ts_ns[TT_FLOW_MAX_STATES - 1], MS(22));
	CHECK_EQ_INT(f->end, TT_END_CLOSE);
	engine__free(eng);
}

TEST(engine_eviction_lru)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 3);
	const struct tt_engine_stats *st;

	REQUIRE(eng);
	st = engine__total(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(3))), 0);
	CHECK_EQ_INT(st->active, 3);
	/* oldest first: 1, 2, 3; a counter is activity: 2, 3, 1 */
	CHECK_EQ_INT(feed(eng, rec(TT_EV_RESET_RECV, SK(1), 0, 0, MS(4))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(4), TT_CLOSE, TT_SYN_SENT, MS(5))), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].sk, SK(2));
	CHECK_EQ_INT(r.flows[0].end, TT_END_EVICTED);
	CHECK_EQ_INT(r.flows[0].nstates, 1);
	CHECK(engine__lookup(eng, SK(2)) == NULL);
	/* 3, 1, 4; so is an accept: 1, 4, 3 */
	CHECK_EQ_INT(feed(eng, rec_by(rec(TT_EV_ACCEPT, SK(3), 0, 0, MS(6)), 1, "a")), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(5), TT_CLOSE, TT_SYN_SENT, MS(7))), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[1].sk, SK(1));
	CHECK_EQ_INT(r.flows[1].resets_recv, 1);
	/* 4, 3, 5; and a transition: 3, 5, 4 */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(4), TT_SYN_SENT, TT_ESTABLISHED, MS(8))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(6), TT_CLOSE, TT_SYN_SENT, MS(9))), 0);
	REQUIRE(r.n == 3);
	CHECK_EQ_INT(r.flows[2].sk, SK(3));
	CHECK_EQ_INT(r.flows[2].owner_pid, 1);
	CHECK_EQ_INT(st->evicted, 3);
	CHECK_EQ_INT(st->active, 3);
	CHECK_EQ_INT(engine__interval(eng)->evicted, 3);
	CHECK(engine__lookup(eng, SK(4)) != NULL);
	CHECK(engine__lookup(eng, SK(5)) != NULL);
	CHECK(engine__lookup(eng, SK(6)) != NULL);
	CHECK_STR(tt_end_name(TT_END_EVICTED), "evicted");

	/* a flow that ends makes room without evicting anyone */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(5), TT_SYN_SENT, TT_CLOSE, MS(10))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(7), TT_CLOSE, TT_SYN_SENT, MS(11))), 0);
	CHECK_EQ_INT(st->evicted, 3);
	REQUIRE(r.n == 4);
	CHECK_EQ_INT(r.flows[3].sk, SK(5));
	CHECK_EQ_INT(r.flows[3].end, TT_END_CANCELLED);
	CHECK_EQ_INT(st->active, 3);
	CHECK_EQ_INT(st->flows_opened, 7);
	CHECK_EQ_INT(st->flows_closed, 4);
	CHECK_EQ_INT(count_open(eng), 3);
	engine__free(eng);
}

TEST(engine_time_wait_swallows_close)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *st;
	struct tt_event tw;

	REQUIRE(eng);
	st = engine__total(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(3))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(4))), 0);
	tw = rec(TT_EV_TIME_WAIT, SK(1), 0, 0, MS(5));
	tw.flags = TT_F_SUBSTATE;
	tw.aux[0] = TT_TIME_WAIT;
	tw.aux[1] = 60000;
	CHECK_EQ_INT(engine__feed(eng, &tw), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].end, TT_END_TIME_WAIT);
	CHECK_EQ_INT(r.flows[0].tw_substate, TT_TIME_WAIT);
	CHECK_EQ_INT(r.flows[0].nstates, 5);
	CHECK_EQ_INT(r.flows[0].state[4], TT_TIME_WAIT);
	CHECK_EQ_INT(r.flows[0].ts_ns[4], MS(5));
	CHECK_EQ_INT(st->time_wait, 1);
	CHECK_EQ_INT(st->transitions[TT_FIN_WAIT2][TT_TIME_WAIT], 1);

	/* tcp_done() right behind it: told already, no partial flow */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(5))), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK(engine__lookup(eng, SK(1)) == NULL);
	CHECK_EQ_INT(st->flows_opened, 1);
	CHECK_EQ_INT(st->transitions[TT_FIN_WAIT2][TT_CLOSE], 0);
	CHECK_EQ_INT(st->active, 0);
	CHECK_EQ_INT(st->events, 6);

	/* only the one: another X>CLOSE for the sk is news (a lost life) */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(9))), 0);
	REQUIRE(r.n == 2);
	CHECK(r.flows[1].flags & TT_FLOW_PARTIAL);
	CHECK_EQ_INT(r.flows[1].end, TT_END_CLOSE);

	/* CLOSING > TIME_WAIT, old state given by the record, unknown sk */
	tw = rec(TT_EV_TIME_WAIT, SK(2), 0, 0, MS(20));
	tw.old_state = TT_CLOSING;
	CHECK_EQ_INT(engine__feed(eng, &tw), 0);
	REQUIRE(r.n == 3);
	CHECK(r.flows[2].flags & TT_FLOW_PARTIAL);
	CHECK_EQ_INT(r.flows[2].end, TT_END_TIME_WAIT);
	CHECK_EQ_INT(r.flows[2].nstates, 2);
	CHECK_EQ_INT(r.flows[2].state[0], TT_CLOSING);
	CHECK_EQ_INT(r.flows[2].state[1], TT_TIME_WAIT);
	CHECK_EQ_INT(r.flows[2].tw_substate, 0);
	CHECK_EQ_INT(st->transitions[TT_CLOSING][TT_TIME_WAIT], 1);
	/* a repeat of that record is a duplicate, not another flow */
	CHECK_EQ_INT(engine__feed(eng, &tw), 0);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(st->duplicates, 1);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSING, TT_CLOSE, MS(20))), 0);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(st->time_wait, 2);
	CHECK_EQ_INT(st->flows_opened, 3);
	CHECK_EQ_INT(st->active, 0);

	/* a TIME_WAIT record with neither flow nor old state */
	tw = rec(TT_EV_TIME_WAIT, SK(3), 0, 0, MS(30));
	tw.flags = TT_F_SUBSTATE;
	tw.aux[0] = TT_FIN_WAIT2;
	CHECK_EQ_INT(engine__feed(eng, &tw), 0);
	REQUIRE(r.n == 4);
	CHECK_EQ_INT(r.flows[3].nstates, 1);
	CHECK_EQ_INT(r.flows[3].state[0], TT_TIME_WAIT);
	CHECK_EQ_INT(r.flows[3].tw_substate, TT_FIN_WAIT2);
	/* ...and a new life on that sk clears the marker */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(31))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_SYN_SENT, TT_CLOSE, MS(32))), 0);
	REQUIRE(r.n == 5);
	CHECK_EQ_INT(r.flows[4].end, TT_END_CANCELLED);
	CHECK_EQ_INT(r.flows[4].nstates, 2);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_FIN_WAIT2, TT_CLOSE, MS(40))), 0);
	REQUIRE(r.n == 6);
	CHECK(r.flows[5].flags & TT_FLOW_PARTIAL);
	engine__free(eng);
}

TEST(engine_seeded_flows)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;
	struct tt_event s;

	REQUIRE(eng);
	s = rec(TT_EV_SEED, SK(1), 0, 0, MS(10));
	s.new_state = TT_CLOSE_WAIT;
	s.tgid = 77;
	memcpy(s.comm, "leaky", 6);
	s.aux[0] = 3600000;
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->flags & (TT_FLOW_SEEDED | TT_FLOW_PARTIAL | TT_FLOW_OWNER_KNOWN),
		     TT_FLOW_SEEDED | TT_FLOW_PARTIAL | TT_FLOW_OWNER_KNOWN);
	CHECK_EQ_INT(f->role, TT_ROLE_UNKNOWN);
	CHECK_EQ_INT(f->nstates, 1);
	CHECK_EQ_INT(f->state[0], TT_CLOSE_WAIT);
	CHECK_EQ_INT(f->ts_ns[0], MS(10));
	CHECK_EQ_INT(f->owner_pid, 77);
	CHECK_STR(f->owner_comm, "leaky");

	/* seen again: ignored */
	s.new_state = TT_ESTABLISHED;
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	CHECK_EQ_INT(f->state[0], TT_CLOSE_WAIT);
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 1);

	/* no owner in the seed */
	s = rec(TT_EV_SEED, SK(2), 0, 0, MS(10));
	s.new_state = TT_ESTABLISHED;
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	f = engine__lookup(eng, SK(2));
	REQUIRE(f);
	CHECK(!(f->flags & TT_FLOW_OWNER_KNOWN));
	CHECK_EQ_INT(f->owner_pid, 0);

	/* a seeded listener is a listener, and lends its owner to children */
	s = rec_ports(rec(TT_EV_SEED, SK(3), 0, 0, MS(10)), 22, 0);
	s.new_state = TT_LISTEN;
	s.tgid = 1;
	memcpy(s.comm, "sshd", 5);
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->role, TT_ROLE_LISTENER);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(4), TT_LISTEN, TT_SYN_RECV, MS(11)), 22,
			50000)), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(4))->owner_pid, 1);
	CHECK_STR(engine__lookup(eng, SK(4))->owner_comm, "sshd");

	/* timewait and request socks never reach tcp_set_state: nothing to follow */
	s = rec(TT_EV_SEED, SK(5), 0, 0, MS(10));
	s.new_state = TT_TIME_WAIT;
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	CHECK(engine__lookup(eng, SK(5)) == NULL);

	/* the seeded flow goes on */
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_CLOSE_WAIT, TT_LAST_ACK, MS(20)), 77,
			"leaky")), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_LAST_ACK, TT_CLOSE, MS(21))), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].nstates, 3);
	CHECK_EQ_INT(r.flows[0].end, TT_END_CLOSE);
	CHECK_EQ_INT(r.flows[0].closer_pid, 77);
	CHECK(r.flows[0].flags & TT_FLOW_SEEDED);
	CHECK_EQ_INT(engine__total(eng)->active, 3);
	engine__free(eng);
}

TEST(engine_invalid_records)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *st;
	struct tt_event e;
	uint64_t sum = 0;

	REQUIRE(eng);
	st = engine__total(eng);
	e = rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1));
	e.type = 0;
	CHECK_EQ_INT(engine__feed(eng, &e), -EINVAL);
	e.type = TT_EV_MAX;
	CHECK_EQ_INT(engine__feed(eng, &e), -EINVAL);
	e.type = 200;
	CHECK_EQ_INT(engine__feed(eng, &e), -EINVAL);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), 0, TT_SYN_SENT, MS(1))), -EINVAL);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, 0, MS(1))), -EINVAL);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_STATE_MAX, MS(1))), -EINVAL);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), 255, TT_CLOSE, MS(1))), -EINVAL);
	e = rec(TT_EV_SEED, SK(1), 0, 0, MS(1));
	CHECK_EQ_INT(engine__feed(eng, &e), -EINVAL);
	e.new_state = TT_STATE_MAX;
	CHECK_EQ_INT(engine__feed(eng, &e), -EINVAL);
	e = rec(TT_EV_TIME_WAIT, SK(1), 0, 0, MS(1));
	e.old_state = 99;
	CHECK_EQ_INT(engine__feed(eng, &e), -EINVAL);
	CHECK_EQ_INT(engine__feed(eng, NULL), -EINVAL);
	CHECK_EQ_INT(engine__feed(NULL, &e), -EINVAL);

	CHECK_EQ_INT(st->events, 10);
	CHECK_EQ_INT(st->flows_opened, 0);
	CHECK_EQ_INT(st->active, 0);
	CHECK_EQ_INT(st->time_wait, 0);
	for (int i = 0; i < TT_STATE_MAX; i++)
		for (int j = 0; j < TT_STATE_MAX; j++)
			sum += st->transitions[i][j];
	CHECK_EQ_INT(sum, 0);
	CHECK_EQ_INT(count_open(eng), 0);
	CHECK_EQ_INT(r.n, 0);

	/* valid records that make no flow */
	e = rec(TT_EV_OVERFLOW, SK(1), 0, 0, MS(1));
	e.aux[0] = TT_Q_ACCEPT;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec(TT_EV_ACCEPT, SK(1), 0, 0, MS(1)), 5, "x")), 0);
	CHECK_EQ_INT(feed(eng, rec(TT_EV_RESET_SENT, SK(1), 0, 0, MS(1))), 0);
	CHECK_EQ_INT(st->events, 13);
	CHECK_EQ_INT(st->flows_opened, 0);
	CHECK(engine__lookup(eng, SK(1)) == NULL);
	engine__free(eng);
}

/* SK(1) connects and is refused, then SK(2) connects: the start of the stats tests */
static void refused_then_connect(struct tt_engine *eng, int *tt_failed_)
{
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(1), TT_SYN_SENT, TT_CLOSE, MS(2)), 111)), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(3))), 0);
}

/* flows_peak: the most flows in the table at once, the total's since the start */
TEST(engine_peak_is_the_most_at_once)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *tot, *iv;

	REQUIRE(eng);
	tot = engine__total(eng);
	iv = engine__interval(eng);
	refused_then_connect(eng, tt_failed_);
	/* SK(1) ended before SK(2) began: one at a time so far */
	CHECK_EQ_INT(tot->peak, 1);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(4))), 0);
	CHECK_EQ_INT(tot->peak, 2);
	CHECK_EQ_INT(iv->peak, 2);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(3), TT_SYN_SENT, TT_CLOSE, MS(5)), 111)), 0);
	CHECK_EQ_INT(tot->active, 1);
	/* an interval's starts at what is open then */
	engine__reset_interval(eng);
	CHECK_EQ_INT(iv->peak, 1);
	CHECK_EQ_INT(tot->peak, 2);
	engine__free(eng);
}

TEST(engine_interval_reset)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *tot, *iv;

	REQUIRE(eng);
	tot = engine__total(eng);
	iv = engine__interval(eng);
	refused_then_connect(eng, tt_failed_);
	CHECK(memcmp(tot, iv, sizeof(*tot)) == 0);

	engine__reset_interval(eng);
	CHECK_EQ_INT(iv->events, 0);
	CHECK_EQ_INT(iv->flows_opened, 0);
	CHECK_EQ_INT(iv->flows_closed, 0);
	CHECK_EQ_INT(iv->refused, 0);
	CHECK_EQ_INT(iv->transitions[TT_CLOSE][TT_SYN_SENT], 0);
	CHECK_EQ_INT(iv->active, 1);
	CHECK_EQ_INT(tot->events, 3);
	CHECK_EQ_INT(tot->refused, 1);
	CHECK_EQ_INT(tot->transitions[TT_CLOSE][TT_SYN_SENT], 2);

	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_SYN_SENT, TT_ESTABLISHED, MS(4))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(5))), 0);
	CHECK_EQ_INT(iv->events, 2);
	CHECK_EQ_INT(iv->flows_opened, 1);
	CHECK_EQ_INT(iv->transitions[TT_SYN_SENT][TT_ESTABLISHED], 1);
	CHECK_EQ_INT(iv->transitions[TT_CLOSE][TT_SYN_SENT], 1);
	CHECK_EQ_INT(iv->active, 2);
	CHECK_EQ_INT(tot->active, 2);
	CHECK_EQ_INT(tot->events, 5);
	engine__free(eng);
}

TEST(engine_owner_rules)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;

	REQUIRE(eng);
	/* a birth in softirq context names nobody */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK(!(f->flags & TT_FLOW_OWNER_KNOWN));
	CHECK_EQ_INT(f->owner_pid, 0);
	/* an owner-flagged record later does */
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(2)), 10,
			"first")), 0);
	CHECK(f->flags & TT_FLOW_OWNER_KNOWN);
	CHECK_EQ_INT(f->owner_pid, 10);
	CHECK_EQ_INT(f->closer_pid, 0);
	/* and a known owner is not replaced by a later one */
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(3)), 11,
			"second")), 0);
	CHECK_EQ_INT(f->owner_pid, 10);
	CHECK_STR(f->owner_comm, "first");
	CHECK_EQ_INT(f->closer_pid, 11);
	CHECK_STR(f->closer_comm, "second");
	/* without the flag the current task is whoever was interrupted */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(4))), 0);
	CHECK_EQ_INT(f->closer_pid, 11);
	CHECK_EQ_INT(f->owner_pid, 10);

	/* an accept names the owner even when one is known; role stays */
	CHECK_EQ_INT(feed(eng, rec_by(rec(TT_EV_ACCEPT, SK(1), 0, 0, MS(5)), 12, "acceptor")), 0);
	CHECK_EQ_INT(f->owner_pid, 12);
	CHECK_EQ_INT(f->role, TT_ROLE_ACTIVE);
	/* an unknown role becomes passive on accept */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(5))), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->role, TT_ROLE_UNKNOWN);
	CHECK_EQ_INT(feed(eng, rec_by(rec(TT_EV_ACCEPT, SK(2), 0, 0, MS(6)), 13, "late")), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->role, TT_ROLE_PASSIVE);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->owner_pid, 13);
	/* comm is kept NUL-terminated whatever the record holds */
	struct tt_event e = rec_by(rec(TT_EV_ACCEPT, SK(2), 0, 0, MS(7)), 14, "x");
	memset(e.comm, 'A', sizeof(e.comm));
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK_EQ_INT(strlen(engine__lookup(eng, SK(2))->owner_comm), 15);

	/* a transition into CLOSE after an orderly close is not a close() call */
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(8)), 15, "other")),
			0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].closer_pid, 11);
	engine__free(eng);
}

TEST(engine_counters_saturate)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_LISTEN, TT_SYN_RECV, MS(1))), 0);
	for (int i = 0; i < 300; i++)
		CHECK_EQ_INT(feed(eng, rec(TT_EV_RESET_SENT, SK(1), 0, 0, MS(3))), 0);
	CHECK_EQ_INT(feed(eng, rec(TT_EV_RESET_RECV, SK(1), 0, 0, MS(3))), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->resets_sent, 255);
	CHECK_EQ_INT(f->resets_recv, 1);
	CHECK_EQ_INT(f->nstates, 1);
	CHECK_EQ_INT(engine__total(eng)->events, 302);
	engine__free(eng);
}

/* Retransmitted SYN-ACKs are counted per request, and the child born from it takes them. */
TEST(engine_synack_retransmits_reach_the_child)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event rt = rec_ports(rec(TT_EV_SYNACK_RETRANS, SK(1), 0, 0, MS(2)), 8080, 50000);
	const struct tt_flow *f;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1)), 8080, 0)), 0);
	for (uint32_t i = 0; i < 3; i++) {
		rt.aux[0] = i;		/* the kernel's num_retrans before each */
		CHECK_EQ_INT(engine__feed(eng, &rt), 0);
	}
	/* another request's retransmit must not leak into this child */
	CHECK_EQ_INT(feed(eng, rec_ports(rec(TT_EV_SYNACK_RETRANS, SK(1), 0, 0, MS(2)), 8080,
			50001)), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(2), TT_LISTEN, TT_SYN_RECV, MS(5)), 8080,
			50000)), 0);
	f = engine__lookup(eng, SK(2));
	REQUIRE(f);
	CHECK_EQ_INT(f->synack_retrans, 3);
	CHECK_EQ_INT(engine__lookup(eng, SK(1))->synack_retrans, 0);
	CHECK_EQ_INT(engine__total(eng)->synack_retrans, 4);
	/* claimed once: a later child on the same tuple starts clean */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(2), TT_SYN_RECV, TT_CLOSE, MS(6)), 8080,
			50000)), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(3), TT_LISTEN, TT_SYN_RECV, MS(7)), 8080,
			50000)), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->synack_retrans, 0);
	/*
	 * A request that died (no child: a scan, a client gone) leaves its
	 * note; a child on its tuple 200 s on, past any retransmit's reach,
	 * is not its child (it took the dead one's count before).
	 */
	CHECK_EQ_INT(feed(eng, rec_ports(rec(TT_EV_SYNACK_RETRANS, SK(1), 0, 0, MS(10)), 8080,
			50002)), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(4), TT_LISTEN, TT_SYN_RECV,
			MS(10) + 200000000000ull), 8080, 50002)), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(4))->synack_retrans, 0);
	/* and within it, the note is the child's */
	CHECK_EQ_INT(feed(eng, rec_ports(rec(TT_EV_SYNACK_RETRANS, SK(1), 0, 0,
			MS(20) + 200000000000ull), 8080, 50003)), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(5), TT_LISTEN, TT_SYN_RECV,
			MS(20) + 300000000000ull), 8080, 50003)), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(5))->synack_retrans, 1);
	engine__free(eng);
}

static void sum_listener(const struct tt_listener_stats *ls, void *ctx)
{
	const struct tt_listener_stats **out = ctx;

	if (ls->port == 8080)
		*out = ls;
}

/*
 * A listener's counts last until the summary after it closed: its namespace
 * may be gone, and the next namespace made takes its inode (a container's
 * restart), whose listener on the same port would add to them.  Evicted is
 * not closed; an overflow after the close (a listener there again) keeps
 * them.
 */
TEST(engine_overflows_of_a_closed_listener_end_with_the_summary_after)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event o = rec_ports(rec(TT_EV_OVERFLOW, SK(1), 0, 0, MS(3)), 8080, 50000);
	const struct tt_listener_stats *ls = NULL;

	REQUIRE(eng);
	o.aux[0] = TT_Q_ACCEPT;
	o.aux[1] = 1;
	/* open, an overflow, closed: reported once more, then gone */
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1)), 8080,
			0), 77, "srv")), 0);
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_LISTEN, TT_CLOSE, MS(5)), 8080, 0)), 0);
	engine__for_each_listener_stats(eng, sum_listener, &ls);
	REQUIRE(ls);
	CHECK_EQ_INT(ls->i_accept_overflows, 1);
	engine__reset_interval(eng);
	ls = NULL;
	engine__for_each_listener_stats(eng, sum_listener, &ls);
	CHECK(ls == NULL);

	/* closed, then a listener there again that overflows before the summary: kept */
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(2), TT_CLOSE, TT_LISTEN, MS(10)), 8080,
			0), 78, "srv")), 0);
	o.sk = SK(2);
	o.ts_ns = MS(11);
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(2), TT_LISTEN, TT_CLOSE, MS(12)), 8080, 0)), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(3), TT_CLOSE, TT_LISTEN, MS(13)), 8080,
			0), 79, "srv")), 0);
	o.sk = SK(3);
	o.ts_ns = MS(14);
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	engine__reset_interval(eng);
	ls = NULL;
	engine__for_each_listener_stats(eng, sum_listener, &ls);
	REQUIRE(ls);
	CHECK_EQ_INT(ls->accept_overflows, 2);
	/* and it stays while its listener is open */
	engine__reset_interval(eng);
	ls = NULL;
	engine__for_each_listener_stats(eng, sum_listener, &ls);
	CHECK(ls != NULL);
	engine__free(eng);
}

TEST(engine_overflows_per_listener)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event o = rec_ports(rec(TT_EV_OVERFLOW, SK(1), 0, 0, MS(3)), 8080, 50000);
	const struct tt_listener_stats *ls = NULL;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1)), 8080,
			0), 77, "srv")), 0);
	o.aux[0] = TT_Q_ACCEPT;
	o.aux[1] = 1;
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	o.aux[0] = TT_Q_SYN;
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	o.flags |= TT_F_SYNCOOKIE;
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	o.aux[0] = 9;
	CHECK_EQ_INT(engine__feed(eng, &o), -EINVAL);
	engine__for_each_listener_stats(eng, sum_listener, &ls);
	REQUIRE(ls);
	CHECK_EQ_INT(ls->accept_overflows, 2);
	CHECK_EQ_INT(ls->syn_drops, 1);
	CHECK_EQ_INT(ls->syn_cookies, 1);
	CHECK_EQ_INT(ls->i_accept_overflows, 2);
	CHECK_EQ_INT(ls->owner_pid, 77);
	CHECK_STR(ls->owner_comm, "srv");
	CHECK_EQ_INT(engine__total(eng)->accept_overflows, 2);
	engine__reset_interval(eng);
	CHECK_EQ_INT(ls->i_accept_overflows, 0);
	CHECK_EQ_INT(ls->accept_overflows, 2);
	engine__free(eng);
}

static void count_cb(const struct tt_flow *f, void *ctx)
{
	(*(size_t *)ctx)++;
	(void)f;
}

static size_t count_open(const struct tt_engine *eng)
{
	size_t n = 0;

	engine__for_each(eng, count_cb, &n);
	return n;
}

struct seen {
	uint64_t sks[8];
	int n;
	int bad;
};

static void seen_cb(const struct tt_flow *f, void *ctx)
{
	struct seen *s = ctx;

	if (f->end != TT_END_NONE)
		s->bad++;
	if (s->n < 8)
		s->sks[s->n] = f->sk;
	s->n++;
}

TEST(engine_for_each_and_lookup)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct seen s = { 0 };
	bool have[4] = { 0 };

	REQUIRE(eng);
	CHECK_EQ_INT(count_open(eng), 0);
	CHECK(engine__lookup(eng, SK(1)) == NULL);
	for (int i = 1; i <= 4; i++)
		CHECK_EQ_INT(feed(eng, rec_tr(SK(i), TT_CLOSE, TT_SYN_SENT, MS(i))), 0);
	CHECK_EQ_INT(feed(eng, rec_err(rec_tr(SK(3), TT_SYN_SENT, TT_CLOSE, MS(9)), 111)), 0);
	engine__for_each(eng, seen_cb, &s);
	REQUIRE(s.n == 3);
	CHECK_EQ_INT(s.bad, 0);
	for (int i = 0; i < 3; i++)
		for (int j = 1; j <= 4; j++)
			if (s.sks[i] == SK(j))
				have[j - 1] = true;
	CHECK(have[0] && have[1] && !have[2] && have[3]);
	CHECK(engine__lookup(eng, SK(3)) == NULL);
	CHECK_EQ_INT(engine__lookup(eng, SK(4))->sk, SK(4));
	engine__free(eng);
}

TEST(engine_names)
{
	CHECK_STR(tt_state_name(TT_ESTABLISHED), "ESTABLISHED");
	CHECK_STR(tt_state_name(TT_SYN_SENT), "SYN_SENT");
	CHECK_STR(tt_state_name(TT_SYN_RECV), "SYN_RECV");
	CHECK_STR(tt_state_name(TT_FIN_WAIT1), "FIN_WAIT1");
	CHECK_STR(tt_state_name(TT_FIN_WAIT2), "FIN_WAIT2");
	CHECK_STR(tt_state_name(TT_TIME_WAIT), "TIME_WAIT");
	CHECK_STR(tt_state_name(TT_CLOSE), "CLOSE");
	CHECK_STR(tt_state_name(TT_CLOSE_WAIT), "CLOSE_WAIT");
	CHECK_STR(tt_state_name(TT_LAST_ACK), "LAST_ACK");
	CHECK_STR(tt_state_name(TT_LISTEN), "LISTEN");
	CHECK_STR(tt_state_name(TT_CLOSING), "CLOSING");
	CHECK_STR(tt_state_name(TT_NEW_SYN_RECV), "NEW_SYN_RECV");
	CHECK_STR(tt_state_name(0), "?");
	CHECK_STR(tt_state_name(TT_STATE_MAX), "?");
	CHECK_STR(tt_state_name(~0u), "?");

	CHECK_STR(tt_role_name(TT_ROLE_UNKNOWN), "unknown");
	CHECK_STR(tt_role_name(TT_ROLE_ACTIVE), "active");
	CHECK_STR(tt_role_name(TT_ROLE_PASSIVE), "passive");
	CHECK_STR(tt_role_name(TT_ROLE_LISTENER), "listener");
	CHECK_STR(tt_role_name(4), "?");

	static const char *const ends[TT_END_MAX] = {
		"open", "close", "time_wait", "reset", "abort", "refused",
		"timeout", "error", "evicted", "superseded", "gone", "cancelled", "no_port",
	};
	for (unsigned int i = 0; i < TT_END_MAX; i++)
		CHECK_STR(tt_end_name(i), ends[i]);
	CHECK_STR(tt_end_name(TT_END_MAX), "?");
}

TEST(engine_memory_per_flow)
{
	/* 2^k + 1 is the worst case: the sk hash doubles its buckets */
	static const size_t sizes[] = { 0, 100000, 131073, 262144 };

	/* 200 before the flow records' bytes, segments and RTT (32 bytes) */
	CHECK(sizeof(struct tt_flow) <= 232);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct tt_engine_opts o = { .max_flows = sizes[i] };
		struct tt_engine *eng = engine__new(&o);
		size_t n = sizes[i] ? sizes[i] : 262144;
		size_t per;

		REQUIRE(eng);
		per = engine__mem_bytes(eng) / n;
		if (per > 288)
			fprintf(stderr, "    max_flows %zu: %zu bytes per flow\n", n, per);
		CHECK(per <= 288);
		CHECK(engine__mem_bytes(eng) >= n * sizeof(struct tt_flow));
		engine__free(eng);
	}
}

TEST(engine_new_options)
{
	struct tt_engine_opts o = { .max_flows = (size_t)UINT32_MAX };
	struct tt_engine *eng;
	struct tt_event e;

	/* no options at all: the defaults, and no callback to call */
	eng = engine__new(NULL);
	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_CLOSE, MS(2))), 0);
	CHECK_EQ_INT(engine__total(eng)->flows_closed, 1);
	engine__free(eng);
	engine__free(NULL);

	errno = 0;
	CHECK(engine__new(&o) == NULL);
	CHECK_EQ_INT(errno, EINVAL);

	/* a one-flow table evicts on every new flow */
	o.max_flows = 1;
	eng = engine__new(&o);
	REQUIRE(eng);
	for (int i = 1; i <= 5; i++) {
		e = rec_tr(SK(i), TT_CLOSE, TT_SYN_SENT, MS(i));
		CHECK_EQ_INT(engine__feed(eng, &e), 0);
	}
	CHECK_EQ_INT(engine__total(eng)->evicted, 4);
	CHECK_EQ_INT(engine__total(eng)->active, 1);
	CHECK(engine__lookup(eng, SK(5)) != NULL);
	engine__free(eng);
}

/* A fixed xorshift so a failure reproduces. */
static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

struct check_ctx {
	const struct tt_engine *eng;
	int bad;
};

static void check_flow(const struct tt_flow *f, void *ctx)
{
	struct check_ctx *c = ctx;

	if (f->end != TT_END_NONE || f->nstates < 1 || f->nstates > TT_FLOW_MAX_STATES)
		c->bad++;
	for (int i = 1; i < f->nstates; i++)
		if (f->ts_ns[i] < f->ts_ns[i - 1])
			c->bad++;
	for (int i = 0; i < f->nstates; i++)
		if (f->state[i] < 1 || f->state[i] >= TT_STATE_MAX)
			c->bad++;
	if (engine__lookup(c->eng, f->sk) != f)
		c->bad++;
}

/* Random records into a small table: the books must balance after each. */
TEST(engine_random_records_keep_invariants)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *st;
	uint64_t seed = 0x5eed1234abcdull;
	int broke = 0;

	REQUIRE(eng);
	st = engine__total(eng);
	for (int i = 0; i < 200000 && !broke; i++) {
		struct tt_event e = rec(1 + rnd(&seed) % (TT_EV_FLOW - 1), SK(rnd(&seed) % 40), 0,
				0, MS(i) - rnd(&seed) % 1000);
		struct check_ctx c = { .eng = eng };

		e.old_state = rnd(&seed) % 4 ? 1 + rnd(&seed) % (TT_STATE_MAX - 1) : TT_CLOSE;
		e.new_state = 1 + rnd(&seed) % (TT_STATE_MAX - 1);
		e.flags = rnd(&seed) & 0x0f;
		e.sport = rnd(&seed) % 4;
		e.tgid = rnd(&seed) % 3;
		e.aux[0] = rnd(&seed) % 2 ? 0 : 100 + rnd(&seed) % 15;
		e.cookie = rnd(&seed) % 5;
		if (e.type == TT_EV_OVERFLOW)
			e.aux[0] = 1 + rnd(&seed) % 2;
		if (engine__feed(eng, &e))
			broke = 1;
		if (st->flows_opened != st->flows_closed + st->active ||
		    (uint64_t)r.n != st->flows_closed || st->active > 16)
			broke = 2;
		if (i % 64 == 0) {
			engine__for_each(eng, check_flow, &c);
			if (c.bad || count_open(eng) != st->active)
				broke = 3;
		}
	}
	CHECK_EQ_INT(broke, 0);
	CHECK(st->evicted > 0);
	CHECK(st->duplicates > 0);
	CHECK(st->time_wait > 0);
	CHECK_EQ_INT(r.lookup_hits, 0);
	engine__free(eng);
}

/* A seed record as seed__event() writes it: filed under the tuple's pseudo key. */
static struct tt_event seed(unsigned int state, uint64_t ts)
{
	struct tt_event e = rec(TT_EV_SEED, 0, 0, 0, ts);

	e.new_state = state;
	e.flags = TT_F_COOKIE;
	e.cookie = 5000;
	e.sk = engine__pseudo_sk(&e);
	return e;
}

static struct tt_event pseudo(struct tt_event e)
{
	e.sk = engine__pseudo_sk(&e);
	return e;
}

TEST(engine_seed_rekeys_to_the_real_sk)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event s = rec_by(seed(TT_CLOSE_WAIT, MS(100)), 77, "leaky");
	uint64_t key = s.sk;
	const struct tt_flow *f;

	REQUIRE(eng);
	CHECK(key & 1);
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	REQUIRE(engine__lookup(eng, key));

	/* a transition that happened before the dump: an older repeat, dropped */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(9), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(99))), 0);
	CHECK_EQ_INT(engine__total(eng)->duplicates, 1);
	/* ...yet it named the real sk: the flow lives there now */
	CHECK(engine__lookup(eng, key) == NULL);
	f = engine__lookup(eng, SK(9));
	REQUIRE(f);
	CHECK_EQ_INT(f->sk, SK(9));
	CHECK_EQ_INT(f->nstates, 1);

	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(9), TT_CLOSE_WAIT, TT_LAST_ACK, MS(5000)), 77,
			"leaky")), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(9), TT_LAST_ACK, TT_CLOSE, MS(5001))), 0);
	REQUIRE(r.n == 1);
	f = &r.flows[0];
	CHECK_EQ_INT(f->sk, SK(9));
	CHECK_EQ_INT(f->cookie, 5000);
	CHECK_EQ_INT(f->flags & (TT_FLOW_SEEDED | TT_FLOW_PARTIAL),
			TT_FLOW_SEEDED | TT_FLOW_PARTIAL);
	CHECK_EQ_INT(f->end, TT_END_CLOSE);
	CHECK_EQ_INT(f->nstates, 3);
	CHECK_EQ_INT(f->state[0], TT_CLOSE_WAIT);
	CHECK_EQ_INT(f->ts_ns[0], MS(100));
	CHECK_EQ_INT(f->state[1], TT_LAST_ACK);
	CHECK_EQ_INT(f->ts_ns[1], MS(5000));
	CHECK_EQ_INT(f->state[2], TT_CLOSE);
	CHECK_EQ_INT(f->owner_pid, 77);
	CHECK_EQ_INT(f->closer_pid, 77);
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 1);
	CHECK_EQ_INT(engine__total(eng)->active, 0);
	CHECK_EQ_INT(r.lookup_hits, 0);
	engine__free(eng);
}

static struct tt_event with_cookie(struct tt_event e, uint64_t cookie)
{
	e.flags |= TT_F_COOKIE;
	e.cookie = cookie;
	return e;
}

/*
 * A socket born after the hooks were attached and before the seed read it:
 * the seed comes first, its birth after.  The same cookie makes them one
 * flow, the one born, with no seeded twin left behind as a CLOSE_WAIT leak.
 * Another cookie on the tuple is another socket: the seeded flow stays.
 */
TEST(engine_seed_of_a_socket_born_after_attach_gives_way_to_its_birth)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event s = seed(TT_CLOSE_WAIT, MS(100));
	const struct tt_flow *f;

	REQUIRE(eng);
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	CHECK_EQ_INT(feed(eng, with_cookie(rec_tr(SK(9), TT_LISTEN, TT_SYN_RECV, MS(90)), 5000)), 0);
	CHECK(engine__lookup(eng, s.sk) == NULL);
	CHECK_EQ_INT(engine__total(eng)->active, 1);
	CHECK_EQ_INT(engine__total(eng)->seed_twins, 1);
	CHECK_EQ_INT(feed(eng, with_cookie(rec_tr(SK(9), TT_SYN_RECV, TT_ESTABLISHED, MS(91)),
			5000)), 0);
	CHECK_EQ_INT(feed(eng, with_cookie(rec_tr(SK(9), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(92)),
			5000)), 0);
	CHECK_EQ_INT(feed(eng, with_cookie(rec_tr(SK(9), TT_CLOSE_WAIT, TT_LAST_ACK, MS(200)),
			5000)), 0);
	CHECK_EQ_INT(feed(eng, with_cookie(rec_tr(SK(9), TT_LAST_ACK, TT_CLOSE, MS(201)), 5000)),
		     0);
	REQUIRE(r.n == 1);
	f = &r.flows[0];
	CHECK_EQ_INT(f->flags & (TT_FLOW_SEEDED | TT_FLOW_PARTIAL), 0);
	CHECK_EQ_INT(f->nstates, 5);
	CHECK_EQ_INT(f->state[0], TT_SYN_RECV);
	CHECK_EQ_INT(f->end, TT_END_CLOSE);
	CHECK_EQ_INT(engine__total(eng)->active, 0);
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 1);
	CHECK_EQ_INT(engine__total(eng)->flows_closed, 1);

	/* another socket at the tuple: not the seeded one, which stays */
	s = seed(TT_CLOSE_WAIT, MS(300));
	s.cookie = 6000;
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	CHECK_EQ_INT(feed(eng, with_cookie(rec_tr(SK(10), TT_LISTEN, TT_SYN_RECV, MS(301)), 7000)),
		     0);
	CHECK(engine__lookup(eng, s.sk) != NULL);
	CHECK_EQ_INT(engine__total(eng)->active, 2);
	CHECK_EQ_INT(engine__total(eng)->seed_twins, 1);
	engine__free(eng);
}

/*
 * In the per-transition stream an active birth (CLOSE > SYN_SENT) comes
 * before connect() picks its port: its seeded twin is found when the next
 * transition brings the port.
 */
TEST(engine_seed_twin_of_a_portless_active_birth)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event s = rec_ports(seed(TT_ESTABLISHED, MS(100)), 40001, 443), b;

	REQUIRE(eng);
	s.flags = 0;
	s.cookie = 0;
	s = pseudo(s);
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	b = rec_ports(rec_tr(SK(9), TT_CLOSE, TT_SYN_SENT, MS(90)), 0, 443);
	CHECK_EQ_INT(feed(eng, b), 0);
	CHECK_EQ_INT(engine__total(eng)->active, 2);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(9), TT_SYN_SENT, TT_ESTABLISHED, MS(91)), 40001,
			443)), 0);
	CHECK(engine__lookup(eng, s.sk) == NULL);
	CHECK_EQ_INT(engine__total(eng)->seed_twins, 1);
	CHECK_EQ_INT(engine__total(eng)->active, 1);
	engine__free(eng);
}

/*
 * With no cookie (kprobe and classic tracepoint hooks), a birth at a seeded
 * tuple before the seed had read all is that socket's; one after is a new
 * socket's, as is a listener's (SO_REUSEPORT siblings share a tuple).
 */
TEST(engine_seed_twin_without_cookies_by_time)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event s = seed(TT_ESTABLISHED, MS(100)), l;

	REQUIRE(eng);
	s.flags = 0;
	s.cookie = 0;
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	/* after the seed: a new socket at the tuple, the seeded one stays */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(9), TT_CLOSE, TT_SYN_SENT, MS(101))), 0);
	CHECK(engine__lookup(eng, s.sk) != NULL);
	CHECK_EQ_INT(engine__total(eng)->seed_twins, 0);
	/* before it: the seeded socket itself */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(10), TT_CLOSE, TT_SYN_SENT, MS(99))), 0);
	CHECK(engine__lookup(eng, s.sk) == NULL);
	CHECK_EQ_INT(engine__total(eng)->seed_twins, 1);
	CHECK_EQ_INT(engine__total(eng)->active, 2);

	/* a listener born before the seed may be a sibling of the seeded one */
	l = rec_ports(seed(TT_LISTEN, MS(200)), 80, 0);
	l.flags = 0;
	l.cookie = 0;
	l = pseudo(l);
	CHECK_EQ_INT(engine__feed(eng, &l), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(11), TT_CLOSE, TT_LISTEN, MS(150)), 80, 0)), 0);
	CHECK(engine__lookup(eng, l.sk) != NULL);
	CHECK_EQ_INT(engine__total(eng)->seed_twins, 1);
	engine__free(eng);
}

TEST(engine_seed_adopted_by_time_wait_and_accept)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event s, e;
	const struct tt_flow *f;

	REQUIRE(eng);
	/* an active connection closing: FIN_WAIT2 then the timewait handover */
	s = rec_ports(seed(TT_FIN_WAIT2, MS(10)), 40001, 443);
	s = pseudo(s);
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	e = rec_ports(rec(TT_EV_TIME_WAIT, SK(1), 0, 0, MS(20)), 40001, 443);
	e.old_state = TT_FIN_WAIT2;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].end, TT_END_TIME_WAIT);
	CHECK(r.flows[0].flags & TT_FLOW_SEEDED);
	CHECK_EQ_INT(r.flows[0].nstates, 2);
	CHECK_EQ_INT(r.flows[0].state[0], TT_FIN_WAIT2);
	CHECK_EQ_INT(r.flows[0].state[1], TT_TIME_WAIT);
	/* the X > CLOSE behind it is swallowed as for any flow */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(20)), 40001,
			443)), 0);
	CHECK_EQ_INT(r.n, 1);
	CHECK_EQ_INT(engine__total(eng)->active, 0);

	/* a child that waited in the accept queue when we started */
	s = pseudo(rec_ports(seed(TT_ESTABLISHED, MS(30)), 8080, 50000));
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(2), 0, 0, MS(40)), 8080, 50000), 300, "server");
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	f = engine__lookup(eng, SK(2));
	REQUIRE(f);
	CHECK(f->flags & TT_FLOW_SEEDED);
	CHECK_EQ_INT(f->role, TT_ROLE_PASSIVE);
	CHECK_EQ_INT(f->owner_pid, 300);
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 2);
	engine__free(eng);
}

TEST(engine_seed_is_not_adopted_wrongly)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event s, e;
	const struct tt_flow *f;

	REQUIRE(eng);
	s = seed(TT_ESTABLISHED, MS(10));
	CHECK_EQ_INT(engine__feed(eng, &s), 0);

	/* another tuple: a flow of its own */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(11)),
			40001, 443)), 0);
	CHECK(engine__lookup(eng, s.sk) != NULL);
	CHECK(!(engine__lookup(eng, SK(1))->flags & TT_FLOW_SEEDED));

	/* the kernel may have cleared the port by X > CLOSE: no match, no harm */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(2), TT_ESTABLISHED, TT_CLOSE, MS(12)), 0,
			443)), 0);
	CHECK(engine__lookup(eng, s.sk) != NULL);

	/* a birth on the tuple is a new socket (SO_REUSEPORT listeners share one) */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(13))), 0);
	CHECK(engine__lookup(eng, s.sk) != NULL);
	CHECK(!(engine__lookup(eng, SK(3))->flags & TT_FLOW_SEEDED));

	/* same tuple, another cookie: the seeded socket closed unseen */
	e = rec_tr(SK(4), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(14));
	e.flags |= TT_F_COOKIE;
	e.cookie = 6000;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK(engine__lookup(eng, s.sk) == NULL);
	REQUIRE(r.n >= 1);
	CHECK_EQ_INT(r.flows[r.n - 1].end, TT_END_SUPERSEDED);
	CHECK(r.flows[r.n - 1].flags & TT_FLOW_SEEDED);
	f = engine__lookup(eng, SK(4));
	REQUIRE(f);
	CHECK(!(f->flags & TT_FLOW_SEEDED));
	CHECK_EQ_INT(f->cookie, 6000);

	/* the same cookie, or none, adopts */
	s = seed(TT_ESTABLISHED, MS(20));
	s = pseudo(rec_ports(s, 40100, 443));
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	e = rec_ports(rec_tr(SK(5), TT_ESTABLISHED, TT_FIN_WAIT1, MS(21)), 40100, 443);
	e.flags |= TT_F_COOKIE;
	e.cookie = 5000;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK(engine__lookup(eng, SK(5))->flags & TT_FLOW_SEEDED);
	s = pseudo(rec_ports(seed(TT_ESTABLISHED, MS(20)), 40101, 443));
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(6), TT_ESTABLISHED, TT_FIN_WAIT1, MS(22)),
			40101, 443)), 0);
	CHECK(engine__lookup(eng, SK(6))->flags & TT_FLOW_SEEDED);

	/* a flow that is not seeded is never moved, whatever its sk looks like */
	e = rec_ports(rec_tr(0, TT_ESTABLISHED, TT_FIN_WAIT1, MS(30)), 40200, 443);
	e.sk = engine__pseudo_sk(&e);
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	e.sk = SK(7);
	e.old_state = TT_FIN_WAIT1;
	e.new_state = TT_FIN_WAIT2;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK(engine__lookup(eng, engine__pseudo_sk(&e)) != NULL);
	CHECK(engine__lookup(eng, SK(7)) != NULL);
	engine__free(eng);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(engine_pseudo_keys)
{
	enum { N = 200000 };
	uint64_t *keys = malloc(N * sizeof(*keys)), rs = 0xabcdef12345ull;
	struct tt_event e = rec(TT_EV_SEED, 0, 0, 0, 0), f;
	size_t dup = 0, even = 0;

	REQUIRE(keys);
	for (int i = 0; i < N; i++) {
		/* the shapes a host has: one peer, many ports; a few peers, one port */
		e.family = i % 3 ? TT_AF_INET : TT_AF_INET6;
		e.netns = NETNS + (uint32_t)(i % 7 == 0);
		e.sport = (uint16_t)(1024 + i % 60000);
		e.dport = i % 2 ? 443 : (uint16_t)(rnd(&rs) % 65536);
		e.daddr[15] = (uint8_t)(i / 60000);
		e.daddr[3] = (uint8_t)(i / 60000);
		keys[i] = engine__pseudo_sk(&e);
		if (!(keys[i] & 1))
			even++;
	}
	qsort(keys, N, sizeof(*keys), cmp_u64);
	for (int i = 1; i < N; i++)
		if (keys[i] == keys[i - 1])
			dup++;
	/* every key odd: a struct sock's address, aligned, is never one */
	CHECK_EQ_INT(even, 0);
	CHECK_EQ_INT(dup, 0);
	free(keys);

	/* the bytes an IPv4 record leaves unset do not count; every field else does */
	e = rec(TT_EV_SEED, 0, 0, 0, 0);
	f = e;
	f.saddr[9] = 0xff;
	f.daddr[15] = 0xff;
	CHECK_EQ_INT(engine__pseudo_sk(&e), engine__pseudo_sk(&f));
	f = rec_ports(e, e.dport, e.sport);
	CHECK(engine__pseudo_sk(&e) != engine__pseudo_sk(&f));
	f = e;
	f.netns++;
	CHECK(engine__pseudo_sk(&e) != engine__pseudo_sk(&f));
	f = e;
	f.family = TT_AF_INET6;
	CHECK(engine__pseudo_sk(&e) != engine__pseudo_sk(&f));
	f = e;
	memcpy(f.saddr, e.daddr, 16);
	memcpy(f.daddr, e.saddr, 16);
	CHECK(engine__pseudo_sk(&e) != engine__pseudo_sk(&f));
	/* the type, time, sk and owner are not part of it */
	f = rec_by(rec_tr(SK(1), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(5)), 9, "x");
	CHECK_EQ_INT(engine__pseudo_sk(&e), engine__pseudo_sk(&f));
	/* pinned: captures carry these keys, the function must not change */
	CHECK(engine__pseudo_sk(&e) == 0x0d226df8c45ca6c7ull);
	e.family = TT_AF_INET6;
	memset(e.saddr, 0, 16);
	memset(e.daddr, 0, 16);
	e.saddr[15] = 1;		/* ::1 */
	e.daddr[0] = 0x20, e.daddr[1] = 0x01, e.daddr[15] = 1;	/* 2001::1 */
	CHECK(engine__pseudo_sk(&e) == 0x0e9378d18840a885ull);
}

/* 100k sockets at start, then a transition for each: every one is adopted. */
TEST(engine_seed_100k)
{
	enum { N = 100000 };
	struct ended r;
	struct tt_engine *eng = mk(&r, 0);
	const struct tt_engine_stats *st;
	size_t adopted = 0;

	REQUIRE(eng);
	st = engine__total(eng);
	for (int i = 0; i < N; i++) {
		struct tt_event s = seed(TT_ESTABLISHED, MS(1));

		s.sport = (uint16_t)(1024 + i % 60000);
		s.daddr[2] = (uint8_t)(i / 60000);
		s.cookie = 1000 + (uint64_t)i;
		s.sk = engine__pseudo_sk(&s);
		if (engine__feed(eng, &s))
			break;
	}
	CHECK_EQ_INT(st->active, N);
	CHECK_EQ_INT(st->flows_opened, N);
	for (int i = 0; i < N; i++) {
		struct tt_event e = rec_tr(SK(i), TT_ESTABLISHED, TT_FIN_WAIT1, MS(2));
		const struct tt_flow *f;

		e.sport = (uint16_t)(1024 + i % 60000);
		e.daddr[2] = (uint8_t)(i / 60000);
		engine__feed(eng, &e);
		f = engine__lookup(eng, SK(i));
		if (f && (f->flags & TT_FLOW_SEEDED) && f->cookie == 1000 + (uint64_t)i)
			adopted++;
	}
	CHECK_EQ_INT(adopted, N);
	CHECK_EQ_INT(st->flows_opened, N);
	CHECK_EQ_INT(st->active, N);
	engine__free(eng);
}

/* The random walk again, with seeds filed under pseudo keys that get adopted. */
TEST(engine_random_records_with_seeds_keep_invariants)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_engine_stats *st;
	uint64_t seed_ = 0x5eed5eedull;
	int broke = 0;

	REQUIRE(eng);
	st = engine__total(eng);
	for (int i = 0; i < 200000 && !broke; i++) {
		struct tt_event e = rec(1 + rnd(&seed_) % (TT_EV_FLOW - 1), SK(rnd(&seed_) % 40),
				0, 0, MS(i) - rnd(&seed_) % 1000);
		struct check_ctx c = { .eng = eng };

		if (rnd(&seed_) % 4 == 0)
			e.type = TT_EV_SEED;
		e.old_state = rnd(&seed_) % 4 ? 1 + rnd(&seed_) % (TT_STATE_MAX - 1) : TT_CLOSE;
		e.new_state = 1 + rnd(&seed_) % (TT_STATE_MAX - 1);
		e.flags = rnd(&seed_) & 0x0f;
		e.sport = rnd(&seed_) % 4;
		e.dport = rnd(&seed_) % 3;
		e.tgid = rnd(&seed_) % 3;
		e.aux[0] = rnd(&seed_) % 2 ? 0 : 100 + rnd(&seed_) % 15;
		e.cookie = rnd(&seed_) % 5;
		if (e.type == TT_EV_OVERFLOW)
			e.aux[0] = 1 + rnd(&seed_) % 2;
		if (e.type == TT_EV_SEED)
			e.sk = engine__pseudo_sk(&e);
		if (engine__feed(eng, &e))
			broke = 1;
		if (st->flows_opened != st->flows_closed + st->active ||
		    (uint64_t)r.n != st->flows_closed || st->active > 16)
			broke = 2;
		if (i % 64 == 0) {
			engine__for_each(eng, check_flow, &c);
			if (c.bad || count_open(eng) != st->active)
				broke = 3;
		}
	}
	CHECK_EQ_INT(broke, 0);
	CHECK_EQ_INT(r.lookup_hits, 0);
	engine__free(eng);
}

/*
 * A listener found at start, stuck: the seed files it by tuple, so an
 * overflow record (the listener's address, the peer's port) finds no flow
 * by address; it is the owned listener at the record's port and address.
 * The CLOSE_WAIT sockets in its queue (seeded, held by no process) are
 * reported under its owner, as unaccepted.
 */
TEST(engine_stuck_seeded_listener_names_its_owner)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event l = rec_by(seed(TT_LISTEN, MS(10)), 77, "srv");
	struct tt_event q = seed(TT_CLOSE_WAIT, MS(10));
	struct tt_event o = rec_ports(rec(TT_EV_OVERFLOW, SK(1), 0, 0, MS(300)), 8080, 50000);
	const struct tt_listener_stats *ls = NULL;
	struct tt_report *rep = report__new(MS(100), NULL);
	const struct tt_cw_group *g;

	REQUIRE(eng && rep);
	l = pseudo(rec_ports(l, 8080, 0));
	memset(l.daddr, 0, sizeof(l.daddr));
	l = pseudo(l);
	q = pseudo(rec_ports(q, 8080, 41000));
	CHECK_EQ_INT(engine__feed(eng, &l), 0);
	CHECK_EQ_INT(engine__feed(eng, &q), 0);
	o.aux[0] = TT_Q_ACCEPT;
	o.aux[1] = 2;
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	engine__for_each_listener_stats(eng, sum_listener, &ls);
	REQUIRE(ls);
	CHECK_EQ_INT(ls->accept_overflows, 1);
	CHECK_EQ_INT(ls->owner_pid, 77);
	CHECK_STR(ls->owner_comm, "srv");
	REQUIRE(report__close_wait(rep, eng, MS(400), &g) == 1);
	CHECK_EQ_INT(g[0].pid, 77);
	CHECK_STR(g[0].comm, "srv");
	CHECK_EQ_INT(g[0].count, 1);
	CHECK_EQ_INT(g[0].seeded, 1);
	CHECK_EQ_INT(g[0].unaccepted, 1);
	/* one that a process holds is its own, and accepted */
	q = pseudo(rec_by(rec_ports(seed(TT_CLOSE_WAIT, MS(10)), 8080, 41001), 88, "worker"));
	CHECK_EQ_INT(engine__feed(eng, &q), 0);
	REQUIRE(report__close_wait(rep, eng, MS(500), &g) == 2);
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(g[i].unaccepted, g[i].pid == 77 ? 1 : 0);
	report__free(rep);
	engine__free(eng);
}

static int comm_calls;

/* pid 88 is "sleep" now; every other pid is gone */
static int fake_comm(uint32_t pid, char comm[16])
{
	comm_calls++;
	if (pid != 88)
		return -2;
	memset(comm, 0, 16);
	strcpy(comm, "sleep");
	return 0;
}

/*
 * A leak's owner is named as it is now: pid 88's group, of a socket
 * recorded under a thread's name and one from before an exec, is named
 * "sleep", as ss names the process, not after whichever socket the table
 * gave first; /proc is read once a report for each pid.  A process gone
 * keeps its recorded name, and without comm_fn (replay) the recorded names
 * stand.
 */
TEST(report_names_the_owner_as_it_is_now)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_report *rep = report__new(MS(100), NULL);
	const struct tt_cw_group *g;
	struct tt_event q;

	REQUIRE(eng && rep);
	q = pseudo(rec_by(rec_ports(seed(TT_CLOSE_WAIT, MS(10)), 41001, 8080), 88, "worker-3"));
	CHECK_EQ_INT(engine__feed(eng, &q), 0);
	q = pseudo(rec_by(rec_ports(seed(TT_CLOSE_WAIT, MS(10)), 41002, 8080), 88, "busybox"));
	CHECK_EQ_INT(engine__feed(eng, &q), 0);
	q = pseudo(rec_by(rec_ports(seed(TT_CLOSE_WAIT, MS(10)), 41003, 8080), 99, "gone"));
	CHECK_EQ_INT(engine__feed(eng, &q), 0);
	/* recorded names: one of the two */
	REQUIRE(report__close_wait(rep, eng, MS(400), &g) == 2);
	for (int i = 0; i < 2; i++)
		if (g[i].pid == 88)
			CHECK(!strcmp(g[i].comm, "worker-3") || !strcmp(g[i].comm, "busybox"));
	report__set_comm(rep, fake_comm);
	comm_calls = 0;
	REQUIRE(report__close_wait(rep, eng, MS(500), &g) == 2);
	CHECK_EQ_INT(comm_calls, 2);
	for (int i = 0; i < 2; i++) {
		CHECK_STR(g[i].comm, g[i].pid == 88 ? "sleep" : "gone");
		CHECK_EQ_INT(g[i].count, g[i].pid == 88 ? 2 : 1);
	}
	/* the next report reads /proc again: a process may exec between two */
	REQUIRE(report__close_wait(rep, eng, MS(600), &g) == 2);
	CHECK_EQ_INT(comm_calls, 4);
	report__free(rep);
	engine__free(eng);
}

/*
 * A leak toward one IPv4 service is one group, whether the client's
 * sockets are AF_INET ones or a dual-stack process's AF_INET6 ones to
 * ::ffff:a.b.c.d: the same service, as the TIME-WAIT report counts it.
 */
TEST(report_a_v4_mapped_peer_is_its_ipv4_service)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_report *rep = report__new(MS(100), NULL);
	const struct tt_cw_group *g;

	REQUIRE(eng && rep);
	for (int i = 0; i < 4; i++) {
		static const unsigned int st[][2] = { { TT_CLOSE, TT_SYN_SENT },
						      { TT_SYN_SENT, TT_ESTABLISHED },
						      { TT_ESTABLISHED, TT_CLOSE_WAIT } };

		for (int k = 0; k < 3; k++) {
			struct tt_event e = rec_ports(rec_tr(SK(i + 1), st[k][0], st[k][1], MS(1 + k)),
						      (uint16_t)(41000 + i), 9130);

			if (!k)
				e = rec_by(e, 77, "client");
			memset(e.daddr, 0, 16);
			if (i < 2) {
				e.daddr[0] = 127;
				e.daddr[3] = 1;
			} else {
				e.family = TT_AF_INET6;
				e.daddr[10] = e.daddr[11] = 0xff;
				e.daddr[12] = 127;
				e.daddr[15] = 1;
			}
			CHECK_EQ_INT(engine__feed(eng, &e), 0);
		}
	}
	REQUIRE(report__close_wait(rep, eng, MS(400), &g) == 1);
	CHECK_EQ_INT(g[0].count, 4);
	CHECK_EQ_INT(g[0].kind, TT_SVC_REMOTE);
	CHECK_EQ_INT(g[0].family, TT_AF_INET);
	CHECK_EQ_INT(g[0].addr[0], 127);
	CHECK_EQ_INT(g[0].addr[3], 1);
	CHECK_EQ_INT(g[0].port, 9130);
	report__free(rep);
	engine__free(eng);
}

/*
 * The summary line lists each listener that overflowed or sent cookies: a
 * full SYN queue that cookies answered dropped nothing, so it shows
 * syncookies.EP=N alone, not an overflow.EP=0 beside it; one that dropped
 * shows its overflow.
 */
TEST(summary_line_cookies_alone_are_no_overflow)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event c = rec_ports(rec(TT_EV_OVERFLOW, SK(1), 0, 0, MS(300)), 8080, 50000);
	struct tt_event d = rec_ports(rec(TT_EV_OVERFLOW, SK(2), 0, 0, MS(300)), 8081, 50001);
	struct tt_summary sum = { .t_ns = MS(400), .interval_ns = MS(400) };
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	struct tt_sink *s;

	REQUIRE(eng);
	c.aux[0] = d.aux[0] = TT_Q_SYN;
	c.aux[1] = d.aux[1] = 128;
	c.aux[3] = d.aux[3] = 129;
	c.flags |= TT_F_SYNCOOKIE;
	CHECK_EQ_INT(engine__feed(eng, &c), 0);
	CHECK_EQ_INT(engine__feed(eng, &d), 0);
	sum.interval = engine__interval(eng);
	sum.total = engine__total(eng);
	sum.eng = eng;
	f = open_memstream(&out, &len);
	REQUIRE(f);
	s = sink__new(&(struct tt_sink_opts){ .out = f });
	REQUIRE(s);
	sink__summary(s, &sum);
	sink__free(s);
	fclose(f);
	CHECK(strstr(out, " syncookies.10.0.0.1:8080=1") != NULL);
	CHECK(strstr(out, "overflow.10.0.0.1:8080") == NULL);
	CHECK(strstr(out, " overflow.10.0.0.1:8081=1") != NULL);
	CHECK(strstr(out, "syncookies.10.0.0.1:8081") == NULL);
	free(out);
	engine__free(eng);
}

/* A seeded CLOSE_WAIT socket is dated back by the last ACK received: "at least N s". */
TEST(engine_seeded_close_wait_is_dated_back)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event s = rec(TT_EV_SEED, 0x1001, 0, 0, MS(100000));
	const struct tt_flow *f;

	REQUIRE(eng);
	s.new_state = TT_CLOSE_WAIT;
	s.flags = TT_F_SEED_AGE;
	s.aux[2] = 30000;		/* 30 s since the FIN's ACK */
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	f = engine__lookup(eng, 0x1001);
	REQUIRE(f);
	CHECK_EQ_INT(f->ts_ns[0], MS(70000));
	/* without the flag the record's own time stands */
	s = rec(TT_EV_SEED, 0x2001, 0, 0, MS(100000));
	s.new_state = TT_CLOSE_WAIT;
	s.aux[2] = 30000;
	CHECK_EQ_INT(engine__feed(eng, &s), 0);
	CHECK_EQ_INT(engine__lookup(eng, 0x2001)->ts_ns[0], MS(100000));
	engine__free(eng);
}

/*
 * -p: an accept that made the socket the process's (TT_F_ADOPTED) starts
 * its flow, in the state the record names: a CLOSE_WAIT dated back to the
 * peer's last ACK when the record has it.  Without the flag an unknown
 * socket's accept waits for its birth as before; a closed socket has none.
 */
TEST(engine_adopted_accept_starts_the_flow)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event e = rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(1), 0, 0, MS(50000)), 80, 5000),
				   300, "server");
	const struct tt_flow *f;

	REQUIRE(eng);
	e.new_state = TT_CLOSE_WAIT;
	e.flags |= TT_F_ADOPTED | TT_F_ACK_AGE;
	e.aux[2] = 1500;		/* the FIN 1.5 s before the accept */
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->role, TT_ROLE_PASSIVE);
	CHECK(f->flags & TT_FLOW_PARTIAL);
	CHECK_EQ_INT(f->nstates, 1);
	CHECK_EQ_INT(f->state[0], TT_CLOSE_WAIT);
	CHECK_EQ_INT(f->ts_ns[0], MS(48500));
	CHECK_EQ_INT(f->owner_pid, 300);
	/* its close goes on from there */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_CLOSE_WAIT, TT_LAST_ACK, MS(60000)), 80,
				 5000)), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_LAST_ACK, TT_CLOSE, MS(60001)), 80,
				 5000)), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].nstates, 3);
	CHECK_EQ_INT(r.flows[0].owner_pid, 300);

	/* ESTABLISHED, with no age: the accept's own time */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(2), 0, 0, MS(70000)), 80, 5001), 300, "server");
	e.new_state = TT_ESTABLISHED;
	e.flags |= TT_F_ADOPTED;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	f = engine__lookup(eng, SK(2));
	REQUIRE(f);
	CHECK_EQ_INT(f->state[0], TT_ESTABLISHED);
	CHECK_EQ_INT(f->ts_ns[0], MS(70000));

	/* already reset in the queue: nothing to follow */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(3), 0, 0, MS(70001)), 80, 5002), 300, "server");
	e.new_state = TT_CLOSE;
	e.flags |= TT_F_ADOPTED;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK(!engine__lookup(eng, SK(3)));
	/* no flag (no -p, or a capture from before): held for its birth */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(4), 0, 0, MS(70002)), 80, 5003), 300, "server");
	e.new_state = TT_CLOSE_WAIT;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK(!engine__lookup(eng, SK(4)));
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 2);

	/* a child of the listener, kept from birth, that another process accepted: gone, untold */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(5), TT_LISTEN, TT_SYN_RECV, MS(80000)), 80, 5004)),
		     0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(5), TT_SYN_RECV, TT_ESTABLISHED, MS(80000)), 80,
				 5004)), 0);
	REQUIRE(engine__lookup(eng, SK(5)));
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(5), 0, 0, MS(80001)), 80, 5004), 301, "worker");
	e.new_state = TT_ESTABLISHED;
	e.flags |= TT_F_DISOWNED;
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK(!engine__lookup(eng, SK(5)));
	CHECK_EQ_INT(engine__total(eng)->flows_opened, 2);
	CHECK_EQ_INT(engine__total(eng)->active, 1);
	CHECK_EQ_INT(r.n, 1);
	engine__free(eng);
}

/*
 * The rule's FIN_WAIT2 entry waits: a reset sent for the same socket right
 * behind it (data after close()) makes it an abort, whichever transitions
 * hook wrote it, sock_ops included.
 */
TEST(engine_rule_fin_wait2_entry_then_reset_is_an_abort)
{
	static const uint8_t hooks[] = {
		TT_HOOK_TP_BTF_SET_STATE, TT_HOOK_TP_SET_STATE, TT_HOOK_FENTRY_SET_STATE,
		TT_HOOK_KPROBE_SET_STATE, TT_HOOK_SOCKOPS_STATE,
	};

	for (size_t i = 0; i < sizeof(hooks); i++) {
		struct ended r;
		struct tt_engine *eng = mk(&r, 16);
		struct tt_event tw, rst;

		REQUIRE(eng);
		CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
		CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
		CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(3))), 0);
		CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(4))), 0);
		tw = rec(TT_EV_TIME_WAIT, SK(1), 0, 0, MS(5));
		tw.hook = hooks[i];
		tw.old_state = TT_FIN_WAIT2;
		tw.flags = TT_F_SUBSTATE;
		tw.aux[0] = TT_FIN_WAIT2;
		CHECK_EQ_INT(engine__feed(eng, &tw), 0);
		CHECK_EQ_INT(r.n, 0);		/* pending */
		rst = rec(TT_EV_RESET_SENT, SK(1), 0, 0, MS(5));
		CHECK_EQ_INT(engine__feed(eng, &rst), 0);
		REQUIRE(r.n == 1);
		CHECK_EQ_INT(r.flows[0].end, TT_END_ABORT);
		CHECK_EQ_INT(r.flows[0].state[r.flows[0].nstates - 1], TT_CLOSE);
		CHECK_EQ_INT(r.flows[0].resets_sent, 1);
		engine__free(eng);
	}
}

/* An orphan's FIN_WAIT2 > TIME_WAIT by the rule, for the pending tests: 0 if all fed. */
static int rule_fin_wait2_entry(struct tt_engine *eng, uint64_t sk, uint64_t t)
{
	struct tt_event tw = rec(TT_EV_TIME_WAIT, sk, 0, 0, t);

	tw.hook = TT_HOOK_TP_BTF_SET_STATE;
	tw.old_state = TT_FIN_WAIT2;
	tw.flags = TT_F_SUBSTATE;
	tw.aux[0] = TT_FIN_WAIT2;
	return feed(eng, rec_tr(sk, TT_CLOSE, TT_SYN_SENT, t)) |
	       feed(eng, rec_tr(sk, TT_SYN_SENT, TT_ESTABLISHED, t)) |
	       feed(eng, rec_tr(sk, TT_ESTABLISHED, TT_FIN_WAIT1, t)) |
	       feed(eng, rec_tr(sk, TT_FIN_WAIT1, TT_FIN_WAIT2, t)) | engine__feed(eng, &tw);
}

/*
 * A full table evicts its least recently active flow.  One whose TIME-WAIT
 * entry is waiting out its 2 ms has ended: it ends in TIME-WAIT, counted,
 * not as evicted (the exit check then called its entry one the kernel hid).
 */
TEST(engine_full_table_settles_a_pending_time_wait_instead_of_evicting_it)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 2);

	REQUIRE(eng);
	CHECK_EQ_INT(rule_fin_wait2_entry(eng, SK(1), MS(1)), 0);
	CHECK_EQ_INT(r.n, 0);		/* pending */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(1) + 100)), 0);
	/* a third flow, within the 2 ms: the table is full */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(1) + 200)), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].sk, SK(1));
	CHECK_EQ_INT(r.flows[0].end, TT_END_TIME_WAIT);
	CHECK_EQ_INT(engine__total(eng)->time_wait, 1);
	CHECK_EQ_INT(engine__total(eng)->evicted, 0);
	CHECK_EQ_INT(engine__total(eng)->transitions[TT_FIN_WAIT2][TT_TIME_WAIT], 1);
	/* settled early for the table's sake, not the ring's: counted apart, for the warning */
	CHECK_EQ_INT(engine__total(eng)->tw_early_table, 1);
	CHECK_EQ_INT(engine__total(eng)->tw_early, 0);
	/* its ring slot, when its time comes, finds the flow gone */
	engine__settle(eng, MS(4));
	CHECK_EQ_INT(r.n, 1);
	/* and an open flow is still evicted */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(4), TT_CLOSE, TT_SYN_SENT, MS(5))), 0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[1].sk, SK(2));
	CHECK_EQ_INT(r.flows[1].end, TT_END_EVICTED);
	engine__free(eng);
}

/*
 * A leak sends nothing while it waits, and nor does a listener: the least
 * recently active, they would be the first evicted while short flows churn,
 * and a leak evicted is gone from the report.  A full table evicts the
 * oldest flow that is neither, and them only when it holds nothing else.
 */
TEST(engine_full_table_keeps_close_wait_and_listeners)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 3);

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_SYN_SENT, MS(2))) |
		     feed(eng, rec_tr(SK(2), TT_SYN_SENT, TT_ESTABLISHED, MS(2))) |
		     feed(eng, rec_tr(SK(2), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(2))), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(feed(eng, rec_tr(SK(10 + i), TT_CLOSE, TT_SYN_SENT, MS(3 + i))), 0);
	/* each new one evicted the one before it: the flows that wait stayed */
	REQUIRE(r.n == 4);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(r.flows[i].sk, SK(10 + i));
		CHECK_EQ_INT(r.flows[i].end, TT_END_EVICTED);
	}
	/* a table of nothing else gives them up, oldest first */
	engine__free(eng);
	eng = mk(&r, 2);
	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(2), TT_CLOSE, TT_LISTEN, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(3), TT_CLOSE, TT_SYN_SENT, MS(3))), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].sk, SK(1));
	CHECK_EQ_INT(engine__total(eng)->evicted_waiting, 1);
	engine__free(eng);

	/*
	 * More leaks than one look takes in (64), oldest, then open flows: the
	 * churn evicts the open ones, not a leak (a look that found only
	 * leaks once evicted the oldest of them).
	 */
	eng = mk(&r, 100);
	REQUIRE(eng);
	for (int i = 0; i < 80; i++)
		CHECK_EQ_INT(feed(eng, rec_tr(SK(100 + i), TT_CLOSE, TT_SYN_SENT, MS(1))) |
			     feed(eng, rec_tr(SK(100 + i), TT_SYN_SENT, TT_ESTABLISHED, MS(1))) |
			     feed(eng, rec_tr(SK(100 + i), TT_ESTABLISHED, TT_CLOSE_WAIT, MS(1))), 0);
	for (int i = 0; i < 70; i++)
		CHECK_EQ_INT(feed(eng, rec_tr(SK(1000 + i), TT_CLOSE, TT_SYN_SENT, MS(2) + i)), 0);
	REQUIRE(r.n == 50);
	for (int i = 0; i < 50; i++)
		CHECK_EQ_INT(r.flows[i].state[r.flows[i].nstates - 1], TT_SYN_SENT);
	for (int i = 0; i < 80; i++)
		CHECK(engine__lookup(eng, SK(100 + i)) != NULL);
	CHECK_EQ_INT(engine__total(eng)->evicted, 50);
	CHECK_EQ_INT(engine__total(eng)->evicted_waiting, 0);
	/* the leaks passed over still count in a walk of the table */
	CHECK_EQ_INT(count_open(eng), 100);
	engine__free(eng);
}

/*
 * Under load the entries wait their whole 2 ms, however many come in it (a
 * list of 64 once settled them as fast as they came), and one settled out
 * of order leaves no slot that could settle a newer flow at its socket early.
 */
TEST(engine_rule_fin_wait2_entries_wait_2ms_under_load)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 1024);
	struct tt_event rst;

	REQUIRE(eng);
	/* 300 entries in 0.3 ms: 1M connections/s */
	for (uint64_t i = 0; i < 300; i++)
		CHECK_EQ_INT(rule_fin_wait2_entry(eng, SK(i + 1), MS(1) + i * 1000), 0);
	CHECK_EQ_INT(r.n, 0);
	/* the first one's reset, 0.5 ms late: data after close(), an abort */
	rst = rec(TT_EV_RESET_SENT, SK(1), 0, 0, MS(1) + 500000);
	CHECK_EQ_INT(engine__feed(eng, &rst), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].sk, SK(1));
	CHECK_EQ_INT(r.flows[0].end, TT_END_ABORT);

	/* a new flow at SK(1), pending from 2.5 ms: the old slot is due at 3 ms */
	CHECK_EQ_INT(rule_fin_wait2_entry(eng, SK(1), MS(2) + 500000), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(5000), TT_CLOSE, TT_SYN_SENT, MS(3) + 400000)), 0);
	CHECK_EQ_INT(r.n, 1 + 300 - 1);		/* the other 299, in TIME-WAIT */
	for (int i = 1; i < MAX_ENDED; i++)
		CHECK_EQ_INT(r.flows[i].end, TT_END_TIME_WAIT);
	REQUIRE(engine__lookup(eng, SK(1)));
	CHECK(engine__lookup(eng, SK(1))->flags & TT_FLOW_TW_PENDING);
	/* its own time comes at 4.5 ms */
	CHECK_EQ_INT(feed(eng, rec_tr(SK(5001), TT_CLOSE, TT_SYN_SENT, MS(4) + 500000)), 0);
	CHECK_EQ_INT(r.n, 301);
	CHECK(!engine__lookup(eng, SK(1)));
	CHECK_EQ_INT(engine__total(eng)->ends[TT_END_TIME_WAIT], 300);
	CHECK_EQ_INT(engine__total(eng)->ends[TT_END_ABORT], 1);
	engine__free(eng);
}

/*
 * Past TT_TW_PENDING_MAX entries in 2 ms the oldest settles before its
 * time, and is counted (a warning at exit); an entry whose 2 ms are up when
 * the ring is full is not.
 */
TEST(engine_rule_fin_wait2_ring_full_counts_early_settles)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 2 * TT_TW_PENDING_MAX + 16);
	uint64_t i;

	REQUIRE(eng);
	/* a full ring in 0.4 ms, then two more: the oldest two settle early */
	for (i = 0; i < TT_TW_PENDING_MAX + 2; i++)
		CHECK_EQ_INT(rule_fin_wait2_entry(eng, SK(i + 1), MS(1) + i * 100), 0);
	CHECK_EQ_INT(r.n, 2);
	CHECK_EQ_INT(r.flows[0].sk, SK(1));
	CHECK_EQ_INT(r.flows[0].end, TT_END_TIME_WAIT);
	CHECK_EQ_INT(engine__total(eng)->tw_early, 2);
	/* their own time: all settle at 4 ms, none early */
	engine__settle(eng, MS(4));
	CHECK_EQ_INT(engine__total(eng)->ends[TT_END_TIME_WAIT], TT_TW_PENDING_MAX + 2);
	CHECK_EQ_INT(engine__total(eng)->tw_early, 2);

	/* a full ring of entries 3 ms old: the next one's record settles them on time */
	for (i = 0; i < TT_TW_PENDING_MAX; i++)
		CHECK_EQ_INT(rule_fin_wait2_entry(eng, SK(20000 + i), MS(10)), 0);
	CHECK_EQ_INT(rule_fin_wait2_entry(eng, SK(30000), MS(13)), 0);
	CHECK_EQ_INT(engine__total(eng)->tw_early, 2);
	CHECK_EQ_INT(engine__total(eng)->ends[TT_END_TIME_WAIT], 2 * TT_TW_PENDING_MAX + 2);
	engine__free(eng);
}

/*
 * A socket waiting its 2 ms in TIME-WAIT is over in the kernel: an accept
 * or a reset naming its address is a new socket's, and waits for that
 * one's birth instead of renaming the old flow's owner.
 */
TEST(engine_records_for_a_pending_socket_are_a_new_ones)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(100), TT_CLOSE, TT_LISTEN, MS(1)), 80,
			0), 900, "srv")), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(2)), 0,
			443), 500, "cli")), 0);
	CHECK_EQ_INT(rule_fin_wait2_entry(eng, SK(1), MS(2)), 0);
	REQUIRE(engine__lookup(eng, SK(1)));
	CHECK(engine__lookup(eng, SK(1))->flags & TT_FLOW_TW_PENDING);
	/* a child at the same address, accepted and reset before its flow record */
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(1), 0, 0, MS(3)), 80, 5555),
			901, "worker")), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec(TT_EV_RESET_RECV, SK(1), 0, 0, MS(3)), 80, 5555)),
			0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->owner_pid, 500);
	CHECK_EQ_INT(f->resets_recv, 0);
	CHECK(f->flags & TT_FLOW_TW_PENDING);
	/* its birth, dated before them: the old flow is in TIME-WAIT, the child has both */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_LISTEN, TT_SYN_RECV, MS(2) + 500000), 80,
			5555)), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].end, TT_END_TIME_WAIT);
	CHECK_EQ_INT(r.flows[0].owner_pid, 500);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->role, TT_ROLE_PASSIVE);
	CHECK_EQ_INT(f->owner_pid, 901);
	CHECK_EQ_INT(f->resets_recv, 1);
	engine__free(eng);
}

/*
 * A Fast Open child can be accepted, and reset, while still in SYN_RECV,
 * before the kernel side tells its birth (held until its next transition):
 * those records wait for the birth and are its own then.  One left by an
 * earlier socket at the same address (older than the birth) is not.
 */
TEST(engine_records_before_a_held_birth_are_kept)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;
	struct tt_event e;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(100), TT_CLOSE, TT_LISTEN, MS(1)), 80,
			0), 900, "srv")), 0);
	/* accept() returned the child at 12 ms, the peer reset it at 112 ms */
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(1), 0, 0, MS(12)), 80, 5555),
			901, "worker")), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec(TT_EV_RESET_RECV, SK(1), 0, 0, MS(112)), 80, 5555)),
			0);
	CHECK(!engine__lookup(eng, SK(1)));
	/* then the birth, dated 10 ms, and the > CLOSE that released it */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_LISTEN, TT_SYN_RECV, MS(10)), 80,
			5555)), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->owner_pid, 901);
	CHECK_STR(f->owner_comm, "worker");
	CHECK(f->flags & TT_FLOW_OWNER_KNOWN);
	CHECK_EQ_INT(f->resets_recv, 1);
	CHECK_EQ_INT(feed(eng, rec_err(rec_ports(rec_tr(SK(1), TT_SYN_RECV, TT_CLOSE, MS(112)),
			80, 5555), 104)), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].end, TT_END_RESET);
	CHECK_EQ_INT(r.flows[0].resets_recv, 1);
	CHECK_EQ_INT(r.flows[0].owner_pid, 901);

	/* an accept of an older socket at SK(2): not the new child's */
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(2), 0, 0, MS(200)), 80,
			5556), 902, "old")), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(2), TT_LISTEN, TT_SYN_RECV, MS(300)), 80,
			5556)), 0);
	f = engine__lookup(eng, SK(2));
	REQUIRE(f);
	CHECK(!(f->flags & TT_FLOW_OWNER_KNOWN));
	CHECK_EQ_INT(f->owner_pid, 900);	/* the listener's, by default */
	/* nor one of another tuple at the same address */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, SK(3), 0, 0, MS(400)), 80, 6000), 903, "other");
	CHECK_EQ_INT(engine__feed(eng, &e), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(3), TT_LISTEN, TT_SYN_RECV, MS(350)), 80,
			5557)), 0);
	CHECK(!(engine__lookup(eng, SK(3))->flags & TT_FLOW_OWNER_KNOWN));
	engine__free(eng);
}

/* close() of a listener is a close call: its flow names the closer. */
TEST(engine_listener_close_names_the_closer)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(1), TT_CLOSE, TT_LISTEN, MS(1)), 80, 0),
			900, "srv")), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(1), TT_LISTEN, TT_CLOSE, MS(9)), 80, 0),
			900, "srv")), 0);
	REQUIRE(r.n == 1);
	CHECK_EQ_INT(r.flows[0].role, TT_ROLE_LISTENER);
	CHECK_EQ_INT(r.flows[0].end, TT_END_CLOSE);
	CHECK_EQ_INT(r.flows[0].closer_pid, 900);
	CHECK_STR(r.flows[0].closer_comm, "srv");
	engine__free(eng);
}

struct told {
	unsigned int old[8], new[8];
	int with_flow[8];
	int n;
};

static void on_told(const struct tt_transition *tr, void *ctx)
{
	struct told *t = ctx;

	if (t->n < 8) {
		t->old[t->n] = tr->old_state;
		t->new[t->n] = tr->new_state;
		t->with_flow[t->n] = tr->flow != NULL;
	}
	t->n++;
}

/*
 * Self-transitions (close() after shutdown()) are counted and told, as
 * tcpstates shows them, but are no new state of the flow.  One for a socket
 * already gone (CLOSE > CLOSE) must not take the TIME-WAIT marker that
 * swallows tcp_done()'s > CLOSE after a tcp_time_wait() hook's record.
 */
TEST(engine_self_transitions_are_told)
{
	struct told t = { .n = 0 };
	struct tt_engine_opts o = { .max_flows = 16, .on_transition = on_told, .ctx = &t };
	struct tt_engine *eng = engine__new(&o);
	const struct tt_engine_stats *st;
	const struct tt_flow *f;
	struct tt_event tw;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(3)), 7,
			"app")), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT1, MS(4)), 7,
			"app")), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(5))), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT2, TT_FIN_WAIT2, MS(6))), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->nstates, 4);	/* SYN_SENT ESTABLISHED FIN_WAIT1 FIN_WAIT2 */
	REQUIRE(t.n == 6);
	CHECK_EQ_INT(t.old[3], TT_FIN_WAIT1);
	CHECK_EQ_INT(t.new[3], TT_FIN_WAIT1);
	CHECK_EQ_INT(t.with_flow[3], 1);
	CHECK_EQ_INT(t.old[5], TT_FIN_WAIT2);
	CHECK_EQ_INT(t.new[5], TT_FIN_WAIT2);
	st = engine__total(eng);
	CHECK_EQ_INT(st->transitions[TT_FIN_WAIT1][TT_FIN_WAIT1], 1);
	CHECK_EQ_INT(st->transitions[TT_FIN_WAIT2][TT_FIN_WAIT2], 1);

	/* a tcp_time_wait() hook's record, a stray CLOSE > CLOSE, then tcp_done() */
	tw = rec(TT_EV_TIME_WAIT, SK(1), 0, 0, MS(7));
	tw.hook = TT_HOOK_FENTRY_TIME_WAIT;
	tw.old_state = TT_FIN_WAIT2;
	CHECK_EQ_INT(engine__feed(eng, &tw), 0);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_CLOSE, MS(7))), 0);
	CHECK_EQ_INT(st->transitions[TT_CLOSE][TT_CLOSE], 1);
	CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT2, TT_CLOSE, MS(7))), 0);
	CHECK(!engine__lookup(eng, SK(1)));
	CHECK_EQ_INT(st->transitions[TT_FIN_WAIT2][TT_CLOSE], 0);
	engine__free(eng);
}

/*
 * net.ipv4.tcp_syncookies=2 sends a cookie for every SYN: with the queue not
 * full that is policy, counted apart and never an overflow of the listener.
 */
TEST(engine_policy_cookies_are_no_overflow)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	struct tt_event o = rec_ports(rec(TT_EV_OVERFLOW, SK(1), 0, 0, MS(3)), 8080, 50000);
	const struct tt_listener_stats *ls = NULL;

	REQUIRE(eng);
	o.aux[0] = TT_Q_SYN;
	o.aux[1] = 128;
	o.flags = TT_F_SYNCOOKIE | TT_F_COOKIE_POLICY;
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	CHECK_EQ_INT(engine__total(eng)->policy_cookies, 2);
	CHECK_EQ_INT(engine__interval(eng)->policy_cookies, 2);
	CHECK_EQ_INT(engine__total(eng)->syn_cookies, 0);
	CHECK_EQ_INT(engine__total(eng)->syn_drops, 0);
	engine__for_each_listener_stats(eng, sum_listener, &ls);
	CHECK(!ls);
	/* the queue full as well: an overflow answered with a cookie */
	o.flags = TT_F_SYNCOOKIE;
	o.aux[3] = 129;
	CHECK_EQ_INT(engine__feed(eng, &o), 0);
	CHECK_EQ_INT(engine__total(eng)->syn_cookies, 1);
	CHECK_EQ_INT(engine__total(eng)->policy_cookies, 2);
	engine__reset_interval(eng);
	CHECK_EQ_INT(engine__interval(eng)->policy_cookies, 0);
	engine__free(eng);
}

/*
 * A Fast Open child left in the accept queue is told born only when its
 * listener's close() disconnects it, after the listener's LISTEN > CLOSE:
 * it still gets the owner of the listener that was open at its birth.
 */
TEST(engine_child_told_after_its_listener_closed)
{
	struct ended r;
	struct tt_engine *eng = mk(&r, 16);
	const struct tt_flow *f;

	REQUIRE(eng);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(100), TT_CLOSE, TT_LISTEN, MS(1)), 80,
			0), 900, "srv")), 0);
	CHECK_EQ_INT(feed(eng, rec_by(rec_ports(rec_tr(SK(100), TT_LISTEN, TT_CLOSE, MS(50)), 80,
			0), 900, "srv")), 0);
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_LISTEN, TT_SYN_RECV, MS(10)), 80,
			5555)), 0);
	f = engine__lookup(eng, SK(1));
	REQUIRE(f);
	CHECK_EQ_INT(f->owner_pid, 900);
	CHECK_STR(f->owner_comm, "srv");
	CHECK(!(f->flags & TT_FLOW_OWNER_KNOWN));
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(1), TT_SYN_RECV, TT_CLOSE, MS(50)), 80, 5555)),
			0);
	REQUIRE(r.n == 2);
	CHECK_EQ_INT(r.flows[1].end, TT_END_ABORT);
	CHECK_EQ_INT(r.flows[1].owner_pid, 900);
	/* born after that listener closed: not its child */
	CHECK_EQ_INT(feed(eng, rec_ports(rec_tr(SK(2), TT_LISTEN, TT_SYN_RECV, MS(60)), 80,
			5556)), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->owner_pid, 0);
	engine__free(eng);
}

/*
 * FIN_WAIT1 or FIN_WAIT2 straight to CLOSE, no error, from a transitions
 * program (where the TIME-WAIT rule said it was no hand-over): the kernel
 * aborted it, and its reset follows (SO_LINGER 0 after shutdown(): OutRsts
 * counted one, the flow said close and 0).  From a hook that cannot tell,
 * a close, as before.
 */
TEST(engine_fin_wait_straight_to_close_is_an_abort)
{
	for (int from_rule = 0; from_rule < 2; from_rule++) {
		for (unsigned int fw = TT_FIN_WAIT1; fw <= TT_FIN_WAIT2; fw++) {
			struct ended r;
			struct tt_engine *eng = mk(&r, 16);
			struct tt_event e;

			REQUIRE(eng);
			CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_CLOSE, TT_SYN_SENT, MS(1))), 0);
			CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_SYN_SENT, TT_ESTABLISHED, MS(2))), 0);
			CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_ESTABLISHED, TT_FIN_WAIT1, MS(3))), 0);
			if (fw == TT_FIN_WAIT2)
				CHECK_EQ_INT(feed(eng, rec_tr(SK(1), TT_FIN_WAIT1, TT_FIN_WAIT2, MS(4))),
					     0);
			e = rec_tr(SK(1), fw, TT_CLOSE, MS(5));
			if (from_rule)
				e.hook = TT_HOOK_TP_BTF_SET_STATE;
			CHECK_EQ_INT(engine__feed(eng, &e), 0);
			REQUIRE(r.n == 1);
			CHECK_EQ_INT(r.flows[0].end, from_rule ? TT_END_ABORT : TT_END_CLOSE);
			CHECK_EQ_INT(r.flows[0].resets_sent, from_rule);
			engine__free(eng);
		}
	}
}
