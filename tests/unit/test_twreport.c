// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The host-wide TIME-WAIT census (TW_NETNS_ALL) on a few TIME-WAIT sockets
 * of our own: the thread counts every namespace it may enter, ours always,
 * and the report lists ours with at least our sockets.  Other processes on
 * the host may add theirs, so the checks are lower bounds where they must.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "diag.h"
#include "ident.h"
#include "twcensus.h"
#include "twreport.h"
#include "tt_test.h"

#define N_TW 4

/* n connections to a listener of ours that the client closes first; the listener's port */
static int make_time_wait(int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;
	char c;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, n) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	port = ntohs(a.sin_port);
	for (int i = 0; i < n; i++) {
		int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

		if (cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof(a)))
			return -1;
		s = accept(l, NULL, NULL);
		if (s < 0)
			return -1;
		close(cfd);
		/* EOF, then our close: the client's end goes to TIME_WAIT */
		if (read(s, &c, 1) != 0)
			return -1;
		close(s);
	}
	close(l);
	return port;
}

struct tw_mine {
	uint16_t port;
	int n;
};

static int count_mine(const struct diag_sock *s, void *ctx)
{
	struct tw_mine *m = ctx;

	if (s->timer == DIAG_TIMER_TIME_WAIT && s->state == TT_TIME_WAIT && s->dport == m->port)
		m->n++;
	return 0;
}

TEST(tw_census_host_wide)
{
	struct tw_mine m = { 0 };
	struct tw_tracker *t;
	struct tw_report *r = calloc(1, sizeof(*r));
	uint32_t self = diag__self_netns();
	int port, i, found = -1;

	REQUIRE(r && self);
	port = make_time_wait(N_TW);
	REQUIRE(port > 0);
	m.port = (uint16_t)port;
	/* the last FIN's ACK may still be on its way: at most 1 s */
	for (i = 0; i < 100; i++) {
		m.n = 0;
		REQUIRE(diag__dump(-1, DIAG_STATES_ALL, count_mine, &m) == 0);
		if (m.n == N_TW)
			break;
		usleep(10000);
	}
	REQUIRE(m.n == N_TW);

	t = tw_tracker__new(TW_NETNS_ALL, 50);
	REQUIRE(t);
	/* as the live loop does: ask, read on (here nothing) while the count runs */
	tw_tracker__census_start(t);
	for (i = 0; i < 600 && tw_tracker__census_busy(t); i++)
		usleep(10000);
	CHECK(!tw_tracker__census_busy(t));
	tw_tracker__report(t, 1000000000ull, 1000000000ull, r);
	CHECK(r->host_wide);
	CHECK(!r->estimated);
	CHECK(r->namespaces >= 1);
	CHECK(r->population >= N_TW);
	for (size_t k = 0; k < r->n_netns; k++)
		if (r->by_netns[k].netns == self)
			found = (int)k;
	REQUIRE(found >= 0);
	CHECK(r->by_netns[found].population >= N_TW);
	CHECK(r->by_netns[found].port_hi >= r->by_netns[found].port_lo);
	CHECK(r->by_netns[found].port_lo > 0);
	/* listed most first */
	for (size_t k = 1; k < r->n_netns; k++)
		CHECK(r->by_netns[k - 1].population >= r->by_netns[k].population);
	/* ours is the report's own port range */
	CHECK_EQ_INT(r->port_lo, r->by_netns[found].port_lo);

	/* a second report recounts: the same namespace again, nothing carried over */
	tw_tracker__report(t, 2000000000ull, 1000000000ull, r);
	CHECK(!r->estimated);
	found = -1;
	for (size_t k = 0; k < r->n_netns; k++)
		if (r->by_netns[k].netns == self)
			found = (int)k;
	REQUIRE(found >= 0);
	CHECK(r->by_netns[found].population >= N_TW);
	tw_tracker__free(t);
	free(r);
}

/* One namespace (-1, ours): no by_netns list, and the pressure lines name ours. */
/*
 * Connections to a.b.c.d from an AF_INET6 socket (::ffff:a.b.c.d) take
 * their ports from the same space as AF_INET ones: one destination, one
 * share.  They were two, each half as full, and a destination out of ports
 * got no warning.
 */
TEST(tw_census_v4_mapped_is_its_ipv4_address)
{
	struct agg *a = calloc(1, sizeof(*a));
	struct open_sock o = { .netns = 7, .family = TT_AF_INET6, .dport = 7000 };
	struct tw_endpoint top[TW_TOP];
	uint8_t v4[16] = { 127, 0, 0, 1 }, mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	size_t n;

	REQUIRE(a);
	twc_agg_add(a, 7, TT_AF_INET, v4, 7000, false, 5);
	twc_agg_add(a, 7, TT_AF_INET6, mapped, 7000, false, 5);
	memcpy(o.daddr, mapped, 16);
	twc_add_in_use(a, &o);
	twc_top(a, top, &n);
	REQUIRE(n == 1);
	CHECK_EQ_INT(top[0].family, TT_AF_INET);
	CHECK(!memcmp(top[0].addr, v4, 16));
	CHECK_EQ_INT(top[0].count, 10);
	CHECK_EQ_INT(a->n, 1);
	for (size_t i = 0; i < AGG_BUCKETS; i++)
		if (a->used[i])
			CHECK_EQ_INT(a->extra[i], 1);
	free(a);
}

TEST(tw_census_one_namespace)
{
	struct tw_report *r = calloc(1, sizeof(*r));
	struct tw_tracker *t = tw_tracker__new(-1, 0);
	int port = make_time_wait(2);

	REQUIRE(r && t && port > 0);
	usleep(50000);
	tw_tracker__report(t, 1000000000ull, 1000000000ull, r);
	CHECK(!r->host_wide);
	CHECK(!r->estimated);
	CHECK_EQ_INT(r->n_netns, 0);
	CHECK(r->population >= 2);
	/* --tw-warn 0: every destination we connected to is listed, in our namespace */
	CHECK(r->n_pressure >= 1);
	for (size_t k = 0; k < r->n_pressure; k++)
		CHECK_EQ_INT(r->pressure[k].netns, diag__self_netns());
	tw_tracker__free(t);
	free(r);
}

/*
 * A server on a port inside the ephemeral range that closes first: its
 * TIME-WAITs are on a listening port, so their peer is counted by address
 * (port 0), not each connection by its ephemeral port as a destination.
 * Addresses of their own in 127/8, so other TIME-WAITs on the host do not
 * mix in; the census's whole count is read, not the top five.
 */
TEST(tw_census_server_port_in_ephemeral_range_counts_peer_by_address)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f4d0001) };
	struct tw_report *r = calloc(1, sizeof(*r));
	struct tw_tracker *t = tw_tracker__new(-1, 0);
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint32_t peer = htonl(0x7f4d0002);
	uint64_t by_addr = 0, by_port = 0;
	uint16_t cport[3];
	char c;

	REQUIRE(r && t && l >= 0);
	/* port 0: the kernel picks it from the ephemeral range */
	REQUIRE(!bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 4) &&
		!getsockname(l, (struct sockaddr *)&a, &len));
	for (int i = 0; i < 3; i++) {
		struct sockaddr_in ca = { .sin_family = AF_INET, .sin_addr.s_addr = peer };
		socklen_t clen = sizeof(ca);
		int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

		REQUIRE(cfd >= 0 && !bind(cfd, (struct sockaddr *)&ca, sizeof(ca)) &&
			!connect(cfd, (struct sockaddr *)&a, sizeof(a)) &&
			!getsockname(cfd, (struct sockaddr *)&ca, &clen));
		cport[i] = ntohs(ca.sin_port);
		s = accept(l, NULL, NULL);
		REQUIRE(s >= 0);
		/* the server closes first: its end goes to TIME_WAIT, on the listening port */
		close(s);
		REQUIRE(read(cfd, &c, 1) == 0);
		close(cfd);
	}
	usleep(50000);
	/* as the live loop does: the count asked for, and done, before the report */
	tw_tracker__census_start(t);
	for (int i = 0; i < 600 && tw_tracker__census_busy(t); i++)
		usleep(10000);
	tw_tracker__report(t, 1000000000ull, 1000000000ull, r);
	REQUIRE(!r->estimated);
	CHECK(r->population >= 3);
	REQUIRE(t->c);
	for (size_t i = 0; i < AGG_BUCKETS; i++) {
		const struct tw_endpoint *e = &t->c->remote.e[i];

		if (!t->c->remote.used[i] || e->family != TT_AF_INET || memcmp(e->addr, &peer, 4))
			continue;
		/* earlier runs of this test may have left theirs: 60 s each, their listener gone */
		if (!e->port)
			by_addr += e->count;
		for (int k = 0; k < 3; k++)
			by_port += e->port == cport[k] ? e->count : 0;
	}
	CHECK_EQ_INT(by_port, 0);
	CHECK(by_addr >= 3);
	close(l);
	tw_tracker__free(t);
	free(r);
}

/*
 * Host-wide, the containers whose sockets entered TIME-WAIT in the last
 * 60 s are those that hold the most now, but for one whose namespace the
 * count found with none, or not at all: a --network=none container that
 * exited took its TIME-WAITs with its namespace, and was still listed.
 */
TEST(tw_top_containers_leave_out_a_namespace_gone)
{
	static const char gone[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const char here[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
	struct tw_report *r = calloc(1, sizeof(*r));
	struct tw_tracker *t = tw_tracker__new(TW_NETNS_ALL, 50);
	struct tt_ident *id = ident__new(false);
	struct tt_flow f = { .end = TT_END_TIME_WAIT, .role = TT_ROLE_ACTIVE, .family = TT_AF_INET,
			     .nstates = 1, .ts_ns = { 900000000ull } };
	int i;

	REQUIRE(r && t && id && make_time_wait(2) > 0);
	REQUIRE(ident__learn(id, 77, "/libpod_parent/libpod-0123", gone, "", "podman") == 0);
	REQUIRE(ident__learn(id, 78, "/libpod_parent/libpod-fedc", here, "", "podman") == 0);
	tw_tracker__set_ident(t, id);
	/* no namespace has inode 1; ours holds TIME-WAITs (ours, above) */
	f.netns = 1;
	f.cgroup = 77;
	tw_tracker__flow(t, &f);
	tw_tracker__flow(t, &f);
	f.netns = diag__self_netns();
	f.cgroup = 78;
	tw_tracker__flow(t, &f);
	usleep(50000);
	tw_tracker__census_start(t);
	for (i = 0; i < 600 && tw_tracker__census_busy(t); i++)
		usleep(10000);
	tw_tracker__report(t, 1000000000ull, 1000000000ull, r);
	REQUIRE(!r->estimated);
	REQUIRE(r->n_containers == 1);
	CHECK_STR(r->containers[0].container, here);
	tw_tracker__free(t);
	ident__free(id);
	free(r);
}
