// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --state, --remote and --local: the parsers and the matching (user/match.c, user/filter.c). */
#include <errno.h>
#include <arpa/inet.h>
#include "filter.h"
#include "match.h"
#include "tt_test.h"

#define BIT(s) (1u << (s))

static uint32_t states(const char *s, int *err)
{
	uint32_t mask = 0;
	char bad[64] = "untouched";

	*err = tt_parse_states(s, &mask, bad, sizeof(bad));
	return *err ? 0 : mask;
}

TEST(match_state_names_as_ss_and_tcptrail_print_them)
{
	int err;

	CHECK_EQ_INT(states("close-wait", &err), BIT(TT_CLOSE_WAIT));
	CHECK_EQ_INT(states("CLOSE_WAIT", &err), BIT(TT_CLOSE_WAIT));
	CHECK_EQ_INT(states("Close_Wait", &err), BIT(TT_CLOSE_WAIT));
	CHECK_EQ_INT(states("fin-wait-1", &err), BIT(TT_FIN_WAIT1));
	CHECK_EQ_INT(states("FIN_WAIT1", &err), BIT(TT_FIN_WAIT1));
	CHECK_EQ_INT(states("FIN-WAIT-2", &err), BIT(TT_FIN_WAIT2));
	CHECK_EQ_INT(states("listening", &err), BIT(TT_LISTEN));
	CHECK_EQ_INT(states("LISTEN", &err), BIT(TT_LISTEN));
	CHECK_EQ_INT(states("estab", &err), BIT(TT_ESTABLISHED));
	CHECK_EQ_INT(states("closed", &err), BIT(TT_CLOSE));
	CHECK_EQ_INT(states("time-wait,last-ack", &err), BIT(TT_TIME_WAIT) | BIT(TT_LAST_ACK));
	/* ss shows a listener's request socks as SYN-RECV */
	CHECK_EQ_INT(states("syn-recv", &err), BIT(TT_SYN_RECV) | BIT(TT_NEW_SYN_RECV));
	/* ss's groups, as ss(8) defines them */
	CHECK((states("connected", &err) & (BIT(TT_LISTEN) | BIT(TT_CLOSE))) == 0);
	CHECK(states("connected", &err) & BIT(TT_CLOSE_WAIT));
	CHECK(states("connected", &err) & BIT(TT_SYN_SENT));
	CHECK(!(states("synchronized", &err) & BIT(TT_SYN_SENT)));
	CHECK(states("synchronized", &err) & BIT(TT_ESTABLISHED));
	CHECK(states("all", &err) & BIT(TT_LISTEN));
	CHECK_EQ_INT(err, 0);
}

TEST(match_state_errors_name_the_bad_one)
{
	uint32_t mask = 0;
	char bad[64];

	CHECK_EQ_INT(tt_parse_states("close-wait,bogus", &mask, bad, sizeof(bad)), -EINVAL);
	CHECK_STR(bad, "bogus");
	CHECK_EQ_INT(tt_parse_states("close_wait,,listen", &mask, bad, sizeof(bad)), -EINVAL);
	CHECK_STR(bad, "");
	CHECK_EQ_INT(tt_parse_states("", &mask, bad, sizeof(bad)), -EINVAL);
	CHECK_EQ_INT(tt_parse_states("listen,", &mask, bad, sizeof(bad)), -EINVAL);
	CHECK_EQ_INT(tt_parse_states(",listen", &mask, bad, sizeof(bad)), -EINVAL);
	CHECK_EQ_INT(tt_parse_states("close wait", &mask, bad, sizeof(bad)), -EINVAL);
	CHECK_STR(bad, "close wait");
	CHECK_EQ_INT(tt_parse_states("7", &mask, bad, sizeof(bad)), -EINVAL);
	CHECK_EQ_INT(tt_parse_states("closewaitclosewaitclosewait", &mask, bad, sizeof(bad)), -EINVAL);
	/* a long bad name is cut to fit, not overflowed */
	CHECK_EQ_INT(tt_parse_states("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &mask, bad, 8),
		     -EINVAL);
	CHECK_STR(bad, "xxxxxxx");
}

static int cidrs(const char *s, struct tt_cidr *list, uint32_t *n, char *bad)
{
	return tt_parse_cidrs(s, list, n, TT_MAX_CIDRS, bad, 64);
}

static const char *fmt(const struct tt_cidr *c)
{
	static char buf[64];

	tt_cidr_format(c, buf, sizeof(buf));
	return buf;
}

TEST(match_cidr_parse)
{
	struct tt_cidr l[TT_MAX_CIDRS];
	uint32_t n = 0;
	char bad[64];

	REQUIRE(cidrs("10.0.0.0/8", l, &n, bad) == 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(l[0].family, TT_AF_INET);
	CHECK_EQ_INT(l[0].bits, 8);
	CHECK_STR(fmt(&l[0]), "10.0.0.0/8");
	/* a plain address is one host; host bits of a prefix are dropped, as ip(8) does */
	REQUIRE(cidrs("192.0.2.7,10.1.2.3/12,2001:db8::1/32,::1,[fe80::1]/10", l, &n, bad) == 0);
	CHECK_EQ_INT(n, 6);
	CHECK_STR(fmt(&l[1]), "192.0.2.7/32");
	CHECK_STR(fmt(&l[2]), "10.0.0.0/12");
	CHECK_STR(fmt(&l[3]), "2001:db8::/32");
	CHECK_STR(fmt(&l[4]), "::1/128");
	CHECK_STR(fmt(&l[5]), "fe80::/10");
	n = 0;
	REQUIRE(cidrs("0.0.0.0/0,::/0", l, &n, bad) == 0);
	CHECK_STR(fmt(&l[0]), "0.0.0.0/0");
	CHECK_STR(fmt(&l[1]), "::/0");
}

TEST(match_cidr_errors_name_the_bad_one)
{
	static const char *const bad_inputs[] = {
		"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/-1",
		"10.0.0/8", "256.0.0.1", "example.com", "10.0.0.0/8/8", "1.2.3.4 ",
		"10.0.0.0,,10.0.0.1", "10.0.0.0,", ",10.0.0.0", "::1::2", "10.0.0.0/08x",
	};
	struct tt_cidr l[TT_MAX_CIDRS];
	uint32_t n;
	char bad[64];

	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		n = 0;
		if (cidrs(bad_inputs[i], l, &n, bad) != -EINVAL)
			fprintf(stderr, "    accepted '%s'\n", bad_inputs[i]);
		CHECK_EQ_INT(cidrs(bad_inputs[i], l, &n, bad), -EINVAL);
	}
	n = 0;
	CHECK_EQ_INT(cidrs("10.0.0.0/8,bogus/8", l, &n, bad), -EINVAL);
	CHECK_STR(bad, "bogus/8");
	/* more than TT_MAX_CIDRS in all, over repeated options; a repeat takes no room */
	n = 0;
	for (int i = 0; i < TT_MAX_CIDRS; i++) {
		char one[32];

		snprintf(one, sizeof(one), "10.0.0.%d,10.0.0.%d/32", i + 1, i + 1);
		REQUIRE(cidrs(one, l, &n, bad) == 0);
	}
	CHECK_EQ_INT(n, TT_MAX_CIDRS);
	CHECK_EQ_INT(cidrs("10.0.0.1", l, &n, bad), 0);
	CHECK_EQ_INT(cidrs("10.0.0.3/32,10.0.0.100", l, &n, bad), -E2BIG);
	CHECK_STR(bad, "10.0.0.100");
	CHECK_EQ_INT(n, TT_MAX_CIDRS);
}

static bool in(const char *list, const char *addr)
{
	struct tt_cidr l[TT_MAX_CIDRS];
	uint32_t n = 0;
	uint8_t a[16] = { 0 };
	char bad[64];
	uint8_t family = strchr(addr, ':') ? TT_AF_INET6 : TT_AF_INET;

	if (list && cidrs(list, l, &n, bad))
		return false;
	inet_pton(family == TT_AF_INET6 ? AF_INET6 : AF_INET, addr, a);
	return tt_cidr_match(l, n, family, a);
}

TEST(match_cidr_match)
{
	CHECK(in("10.0.0.0/8", "10.255.1.2"));
	CHECK(!in("10.0.0.0/8", "11.0.0.1"));
	CHECK(in("10.0.0.0/9", "10.127.0.1"));
	CHECK(!in("10.0.0.0/9", "10.128.0.1"));
	CHECK(in("192.0.2.7", "192.0.2.7"));
	CHECK(!in("192.0.2.7", "192.0.2.8"));
	CHECK(in("0.0.0.0/0", "203.0.113.9"));
	CHECK(!in("0.0.0.0/0", "::1"));		/* families do not mix */
	CHECK(!in("::/0", "127.0.0.1"));
	CHECK(in("2001:db8::/32", "2001:db8:1::5"));
	CHECK(!in("2001:db8::/33", "2001:db8:8000::5"));
	CHECK(in("::1", "::1"));
	CHECK(in("192.0.2.1,10.0.0.0/8", "10.9.9.9"));	/* any of them */
	CHECK(in(NULL, "10.9.9.9"));			/* no prefixes: everything */
	/* a dual-stack socket's IPv4 peer, ::ffff:10.1.2.3, is in 10.0.0.0/8 */
	CHECK(in("10.0.0.0/8", "::ffff:10.1.2.3"));
	CHECK(!in("10.0.0.0/8", "::ffff:11.1.2.3"));
	CHECK(in("::ffff:0:0/96", "::ffff:11.1.2.3"));
	/* and the other way: ::ffff:10.1.2.3 (pasted from a Java log) is 10.1.2.3 */
	CHECK(in("::ffff:127.0.0.1", "127.0.0.1"));
	CHECK(in("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"));
	CHECK(!in("::ffff:127.0.0.1", "127.0.0.2"));
	CHECK(in("::ffff:10.0.0.0/104", "10.200.1.2"));
	CHECK(!in("::ffff:10.0.0.0/104", "11.0.0.1"));
	CHECK(in("::ffff:0:0/96", "203.0.113.9"));
	CHECK(!in("::ffff:0:0/95", "203.0.113.9"));
}

static struct tt_event ev(const char *saddr, const char *daddr)
{
	struct tt_event e = { .type = TT_EV_TRANSITION, .old_state = TT_CLOSE,
			      .new_state = TT_SYN_SENT, .sk = 1 };
	bool v6 = strchr(saddr, ':') != NULL;

	e.family = v6 ? TT_AF_INET6 : TT_AF_INET;
	inet_pton(v6 ? AF_INET6 : AF_INET, saddr, e.saddr);
	inet_pton(v6 ? AF_INET6 : AF_INET, daddr, e.daddr);
	return e;
}

TEST(match_filter_addresses_on_records)
{
	struct tt_opts o = { 0 };
	struct tt_event e = ev("10.0.0.5", "192.0.2.80");
	struct tt_filter *f;
	char bad[64], desc[256];

	CHECK(filter__addr_pass(&o, &e));
	REQUIRE(!tt_parse_cidrs("192.0.2.0/24", o.remote, &o.n_remote, TT_MAX_CIDRS, bad, 64));
	CHECK(filter__addr_pass(&o, &e));
	e = ev("10.0.0.5", "198.51.100.1");
	CHECK(!filter__addr_pass(&o, &e));
	/* --local and --remote together: both */
	REQUIRE(!tt_parse_cidrs("10.0.0.0/8", o.local, &o.n_local, TT_MAX_CIDRS, bad, 64));
	e = ev("10.0.0.5", "192.0.2.80");
	CHECK(filter__addr_pass(&o, &e));
	e = ev("172.16.0.5", "192.0.2.80");
	CHECK(!filter__addr_pass(&o, &e));
	/* the same answer through replay's filter__pass */
	f = filter__new(&o);
	REQUIRE(f);
	CHECK(!filter__pass(f, &e));
	e = ev("10.0.0.5", "192.0.2.80");
	CHECK(filter__pass(f, &e));
	filter__free(f);
	/* and in the capture's description of the filters */
	filter__describe(&o, desc, sizeof(desc));
	CHECK_STR(desc, "remote=192.0.2.0/24 local=10.0.0.0/8");

	/* a listener has no peer: even --remote 0.0.0.0/0,::/0 leaves it out */
	o = (struct tt_opts){ 0 };
	REQUIRE(!tt_parse_cidrs("0.0.0.0/0,::/0", o.remote, &o.n_remote, TT_MAX_CIDRS, bad, 64));
	e = ev("10.0.0.5", "0.0.0.0");
	e.new_state = TT_LISTEN;
	CHECK(!filter__addr_pass(&o, &e));
	e = ev("::", "::");
	e.new_state = TT_LISTEN;
	CHECK(!filter__addr_pass(&o, &e));
	e = ev("10.0.0.5", "192.0.2.80");
	CHECK(filter__addr_pass(&o, &e));
	/* --local takes it by its own address */
	o = (struct tt_opts){ 0 };
	REQUIRE(!tt_parse_cidrs("10.0.0.5", o.local, &o.n_local, TT_MAX_CIDRS, bad, 64));
	e = ev("10.0.0.5", "0.0.0.0");
	CHECK(filter__addr_pass(&o, &e));
}

TEST(match_filter_states_of_flows_and_transitions)
{
	struct tt_opts o = { 0 };
	struct tt_flow f = { .nstates = 5, .state = { TT_SYN_RECV, TT_ESTABLISHED, TT_CLOSE_WAIT,
						      TT_LAST_ACK, TT_CLOSE } };
	char bad[64];

	CHECK(filter__flow_states(&o, &f));
	CHECK(filter__transition_states(&o, TT_CLOSE, TT_SYN_SENT));
	REQUIRE(!tt_parse_states("close-wait", &o.states, bad, sizeof(bad)));
	CHECK(filter__flow_states(&o, &f));
	CHECK(filter__transition_states(&o, TT_ESTABLISHED, TT_CLOSE_WAIT));	/* into */
	CHECK(filter__transition_states(&o, TT_CLOSE_WAIT, TT_LAST_ACK));	/* out of */
	CHECK(!filter__transition_states(&o, TT_LAST_ACK, TT_CLOSE));
	f.state[2] = TT_FIN_WAIT1;
	CHECK(!filter__flow_states(&o, &f));
	/* only the states the flow has: not the slots past nstates */
	f.nstates = 2;
	f.state[2] = TT_CLOSE_WAIT;
	CHECK(!filter__flow_states(&o, &f));
	o.states = 0;
	REQUIRE(!tt_parse_states("time-wait,listen", &o.states, bad, sizeof(bad)));
	CHECK(!filter__flow_states(&o, &f));
	f.state[1] = TT_LISTEN;
	CHECK(filter__flow_states(&o, &f));
}
