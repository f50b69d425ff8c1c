// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ladder diagrams: the segments each pair of timelines implies, drawn once
 * each, in time order, in the right direction; and which flows pair up.
 */
#include <stdarg.h>
#include <stdlib.h>
#include "ident.h"
#include "ladder.h"
#include "tt_test.h"

#define MS 1000000ull
#define T0 5000000000ull

struct fl {
	struct tt_flow f;
};

static struct tt_flow flow(int role, uint16_t sport, uint16_t dport, int end, int n, ...)
{
	struct tt_flow f = {
		.id = sport, .sk = 0xffff000000000000ull | sport, .netns = 4026531840u,
		.family = TT_AF_INET, .role = role, .end = end, .flags = TT_FLOW_OWNER_KNOWN,
		.sport = sport, .dport = dport, .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
		.owner_pid = 4242, .owner_comm = "python3",
	};
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		f.state[i] = (uint8_t)va_arg(ap, int);
		f.ts_ns[i] = T0 + va_arg(ap, unsigned long long);
	}
	va_end(ap);
	f.nstates = n;
	return f;
}

struct out {
	char *text;
	size_t len;
	FILE *f;
	struct tt_ladder *l;
};

static void open_out(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->f = open_memstream(&o->text, &o->len);
	o->l = ladder__new(&(struct tt_ladder_opts){ .out = o->f });
}

static void close_out(struct out *o)
{
	ladder__free(o->l);
	fclose(o->f);
}

/*
 * The arrows, in order, as "SYN>" (client to server) or "<SYN+ACK" (server to
 * client), space-separated; '.' after one whose far end is not traced.
 */
static void arrows(const char *text, char *buf, size_t len)
{
	static const char *labels[] = { "SYN+ACK (retransmitted)", "SYN+ACK", "SYN", "ACK",
					"FIN", "RST" };
	const char *line = text;
	size_t n = 0;

	buf[0] = '\0';
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		char l[256];

		snprintf(l, sizeof(l), "%.*s", (int)ll, line);
		for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++) {
			char pat[40], *at;
			bool dotted;

			snprintf(pat, sizeof(pat), " %s ", labels[k]);
			at = strstr(l, pat);
			if (!at || (!strstr(l, "-<") && !strchr(l, '<') && !strstr(l, "->")))
				continue;
			dotted = strstr(l, "-:") || strstr(l, ">:") || strstr(l, ":<") ||
				 strstr(l, ":-");
			if (strchr(l, '<') && strchr(l, '<') < at)
				n += snprintf(buf + n, len - n, "%s<%s%s", n ? " " : "", labels[k],
					      dotted ? "." : "");
			else
				n += snprintf(buf + n, len - n, "%s%s>%s", n ? " " : "", labels[k],
					      dotted ? "." : "");
			break;
		}
		line = end ? end + 1 : NULL;
	}
}

static struct tt_flow client_fin_first_client(void)
{
	return flow(TT_ROLE_ACTIVE, 38800, 8080, TT_END_TIME_WAIT, 5,
		    TT_SYN_SENT, 0ull, TT_ESTABLISHED, 267000ull, TT_FIN_WAIT1, 352000ull,
		    TT_FIN_WAIT2, 385000ull, TT_TIME_WAIT, 392000ull);
}

static struct tt_flow client_fin_first_server(void)
{
	return flow(TT_ROLE_PASSIVE, 8080, 38800, TT_END_CLOSE, 5,
		    TT_SYN_RECV, 275000ull, TT_ESTABLISHED, 283000ull, TT_CLOSE_WAIT, 360000ull,
		    TT_LAST_ACK, 362000ull, TT_CLOSE, 395000ull);
}

TEST(ladder_active_passive_client_closes_first)
{
	struct tt_flow c = client_fin_first_client(), s = client_fin_first_server();
	char got[512];
	struct out o;

	open_out(&o);
	/* the client's flow ends first and waits for its peer */
	CHECK(ladder__flow(o.l, &c));
	fflush(o.f);
	CHECK_EQ_INT(o.len, 0);
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN> <SYN+ACK ACK> FIN> <ACK <FIN ACK>");
	CHECK(strstr(o.text, "inferred from state changes, not packets seen") != NULL);
	CHECK(strstr(o.text, "  client 127.0.0.1:38800  python3 (pid 4242)\n") != NULL);
	CHECK(strstr(o.text, "  server 127.0.0.1:8080  python3 (pid 4242)\n") != NULL);
	/* times are offsets from the first state, client left, server right */
	CHECK(strstr(o.text, "   +0.000ms  SYN_SENT     |------------- SYN ------------->|\n") != NULL);
	CHECK(strstr(o.text, "   +0.267ms  ESTABLISHED  |<----------- SYN+ACK -----------|\n"
			     "                          |------------- ACK ------------->|\n") != NULL);
	CHECK(strstr(o.text, "   +0.275ms               |                                | SYN_RECV\n") != NULL);
	CHECK(strstr(o.text, "   +0.360ms               |<------------- ACK -------------| CLOSE_WAIT\n") != NULL);
	CHECK(strstr(o.text, "   +0.392ms  TIME_WAIT    |------------- ACK ------------->|\n") != NULL);
	CHECK(strstr(o.text, "   +0.395ms               |                                | CLOSE\n") != NULL);
	CHECK(strstr(o.text, "  end: client time_wait after 392us, server close after 120us\n") != NULL);
	free(o.text);
}

/* Each end's container, as the flow lines name it, when the ident knows one. */
TEST(ladder_names_each_end_s_container)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct tt_flow c = client_fin_first_client(), s = client_fin_first_server();
	struct tt_ident *ident = ident__new(false);
	struct out o = { 0 };

	REQUIRE(ident && !ident__learn(ident, 77, "/libpod_parent/libpod-0123", id, "", "podman"));
	c.cgroup = 77;
	o.f = open_memstream(&o.text, &o.len);
	o.l = ladder__new(&(struct tt_ladder_opts){ .out = o.f, .ident = ident });
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	CHECK(strstr(o.text, "  client 127.0.0.1:38800  python3 (pid 4242)  container 0123456789ab\n"));
	CHECK(strstr(o.text, "  server 127.0.0.1:8080  python3 (pid 4242)\n") != NULL);
	free(o.text);
	ident__free(ident);
}

TEST(ladder_without_a_time_wait_record)
{
	/* the transitions hook alone: the hand-off to TIME_WAIT shows as FIN_WAIT2 > CLOSE */
	struct tt_flow c = flow(TT_ROLE_ACTIVE, 38800, 8080, TT_END_CLOSE, 5,
				TT_SYN_SENT, 0ull, TT_ESTABLISHED, 267000ull, TT_FIN_WAIT1, 352000ull,
				TT_FIN_WAIT2, 385000ull, TT_CLOSE, 392000ull);
	struct tt_flow s = client_fin_first_server();
	char got[512];
	struct out o;

	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN> <SYN+ACK ACK> FIN> <ACK <FIN ACK>");
	if (!strstr(o.text, "CLOSE        |------------- ACK ------------->|               (on to TIME_WAIT)"))
		fprintf(stderr, "    no CLOSE row with the last ACK in:\n%s", o.text);
	CHECK(strstr(o.text, "CLOSE        |------------- ACK ------------->|               (on to TIME_WAIT)") != NULL);
	free(o.text);
}

TEST(ladder_simultaneous_close)
{
	struct tt_flow c = flow(TT_ROLE_ACTIVE, 40000, 9000, TT_END_TIME_WAIT, 5,
				TT_SYN_SENT, 0ull, TT_ESTABLISHED, 100000ull, TT_FIN_WAIT1, 10 * MS,
				TT_CLOSING, 12 * MS, TT_TIME_WAIT, 14 * MS);
	struct tt_flow s = flow(TT_ROLE_PASSIVE, 9000, 40000, TT_END_TIME_WAIT, 5,
				TT_SYN_RECV, 110000ull, TT_ESTABLISHED, 111000ull, TT_FIN_WAIT1, 11 * MS,
				TT_CLOSING, 13 * MS, TT_TIME_WAIT, 15 * MS);
	char got[512];
	struct out o;

	open_out(&o);
	/* the server's flow ends last here: order of arrival does not matter */
	CHECK(ladder__flow(o.l, &s));
	CHECK(ladder__flow(o.l, &c));
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	/* both FINs cross, each side ACKs the other's, both end in TIME_WAIT */
	CHECK_STR(got, "SYN> <SYN+ACK ACK> FIN> <FIN ACK> <ACK");
	CHECK(strstr(o.text, " +10.000ms  FIN_WAIT1    |------------- FIN ------------->|\n") != NULL);
	CHECK(strstr(o.text, " +11.000ms               |<------------- FIN -------------| FIN_WAIT1\n") != NULL);
	CHECK(strstr(o.text, " +12.000ms  CLOSING      |------------- ACK ------------->|\n") != NULL);
	CHECK(strstr(o.text, " +13.000ms               |<------------- ACK -------------| CLOSING\n") != NULL);
	CHECK(strstr(o.text, " +14.000ms  TIME_WAIT    |                                |\n") != NULL);
	CHECK(strstr(o.text, " +15.000ms               |                                | TIME_WAIT\n") != NULL);
	CHECK(strstr(o.text, "  client 127.0.0.1:40000") != NULL);
	free(o.text);
}

TEST(ladder_reset)
{
	/* the server aborts (SO_LINGER 0): it sends a RST, the client is reset */
	struct tt_flow c = flow(TT_ROLE_ACTIVE, 40001, 9000, TT_END_RESET, 3,
				TT_SYN_SENT, 0ull, TT_ESTABLISHED, 100000ull, TT_CLOSE, 5 * MS);
	struct tt_flow s = flow(TT_ROLE_PASSIVE, 9000, 40001, TT_END_ABORT, 3,
				TT_SYN_RECV, 110000ull, TT_ESTABLISHED, 111000ull, TT_CLOSE, 4 * MS);
	char got[512];
	struct out o;

	open_out(&o);
	CHECK(ladder__flow(o.l, &s));
	CHECK(ladder__flow(o.l, &c));
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN> <SYN+ACK ACK> <RST");
	CHECK(strstr(o.text, "  +4.000ms               |<------------- RST -------------| CLOSE         (aborted)\n") != NULL);
	CHECK(strstr(o.text, "  +5.000ms  CLOSE        |                                |               (reset by the peer)\n") != NULL);
	CHECK(strstr(o.text, "end: client reset after 5.00ms, server abort after 3.89ms") != NULL);
	free(o.text);
}

TEST(ladder_reset_from_a_remote_peer)
{
	struct tt_flow c = flow(TT_ROLE_ACTIVE, 40002, 443, TT_END_RESET, 3,
				TT_SYN_SENT, 0ull, TT_ESTABLISHED, 1 * MS, TT_CLOSE, 9 * MS);
	char got[512];
	struct out o;

	c.daddr[0] = 192;
	c.daddr[1] = 0;
	c.daddr[2] = 2;
	c.daddr[3] = 7;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	ladder__flush(o.l);
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	/* the peer's segments are implied by ours: all drawn, its edge dotted */
	CHECK_STR(got, "SYN>. <SYN+ACK. ACK>. <RST.");
	CHECK(strstr(o.text, "  server 192.0.2.7:443  (remote, or not traced on this host)\n") != NULL);
	free(o.text);
}

TEST(ladder_refused_connect_is_one_column)
{
	struct tt_flow c = flow(TT_ROLE_ACTIVE, 40003, 9, TT_END_REFUSED, 2,
				TT_SYN_SENT, 0ull, TT_CLOSE, 50000ull);
	char got[512];
	struct out o;

	open_out(&o);
	/* nothing can pair with it: drawn at once */
	CHECK(ladder__flow(o.l, &c));
	fflush(o.f);
	CHECK(o.len > 0);
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN>. <RST.");
	CHECK(strstr(o.text, "  server 127.0.0.1:9  (no socket: the connection was refused)\n") != NULL);
	CHECK(strstr(o.text, "   +0.000ms  SYN_SENT     |------------- SYN ------------->:\n") != NULL);
	CHECK(strstr(o.text, "   +0.050ms  CLOSE        |<------------- RST -------------:               (refused)\n") != NULL);
	CHECK(strstr(o.text, "  end: client refused after 50us\n") != NULL);
	free(o.text);
}

/* a connect an ICMP error ended names the error, as the timeline does */
TEST(ladder_socket_error_is_named)
{
	struct tt_flow c = flow(TT_ROLE_ACTIVE, 40006, 80, TT_END_ERROR, 2,
				TT_SYN_SENT, 0ull, TT_CLOSE, 3 * MS);
	char got[512];
	struct out o;

	c.daddr[0] = 10;
	c.daddr[1] = 9;
	c.daddr[2] = 9;
	c.daddr[3] = 2;
	c.sk_err = 113;	/* EHOSTUNREACH */
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	ladder__flush(o.l);
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN>.");
	CHECK(strstr(o.text, "(socket error EHOSTUNREACH)\n") != NULL);
	free(o.text);

	/* with no errno on record, the note is the end's alone */
	c.sk_err = 0;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	ladder__flush(o.l);
	close_out(&o);
	CHECK(strstr(o.text, "(socket error)\n") != NULL);
	free(o.text);
}

TEST(ladder_retransmitted_synack)
{
	struct tt_flow c = flow(TT_ROLE_ACTIVE, 40004, 9000, TT_END_TIME_WAIT, 5,
				TT_SYN_SENT, 0ull, TT_ESTABLISHED, 3001 * MS, TT_FIN_WAIT1, 3100 * MS,
				TT_FIN_WAIT2, 3101 * MS, TT_TIME_WAIT, 3102 * MS);
	struct tt_flow s = flow(TT_ROLE_PASSIVE, 9000, 40004, TT_END_CLOSE, 5,
				TT_SYN_RECV, 3002 * MS, TT_ESTABLISHED, 3002 * MS, TT_CLOSE_WAIT, 3100 * MS,
				TT_LAST_ACK, 3100 * MS + 1, TT_CLOSE, 3102 * MS + 1);
	char got[512];
	struct out o;

	s.synack_retrans = 2;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN> <SYN+ACK <SYN+ACK (retransmitted) <SYN+ACK (retransmitted) ACK> "
		  "FIN> <ACK <FIN ACK>");
	CHECK(strstr(o.text, "retransmitted SYN+ACKs are counted, not timed") ||
	      strstr(o.text, "Retransmitted SYN+ACKs are counted, not timed"));
	free(o.text);

	/* alone, the server draws its own SYN+ACKs */
	open_out(&o);
	CHECK(ladder__flow(o.l, &s));
	ladder__flush(o.l);
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN>. <SYN+ACK. <SYN+ACK (retransmitted). <SYN+ACK (retransmitted). ACK>. "
		  "FIN>. <ACK. <FIN. ACK>.");
	CHECK(strstr(o.text, "  client 127.0.0.1:40004  (on this host, but its end was not seen in time)\n"));
	free(o.text);

	/* many: one line says how many */
	s.synack_retrans = 6;
	open_out(&o);
	CHECK(ladder__flow(o.l, &s));
	ladder__flush(o.l);
	close_out(&o);
	CHECK(strstr(o.text, " SYN+ACK (retransmitted x6) ") != NULL);
	free(o.text);
}

/*
 * One flow drawn alone under a filter that may keep one end: the text, to
 * free; NULL if the ladder could not be made or did not take the flow.
 */
static char *drawn_alone_under(const struct tt_flow *f, const char *filter)
{
	struct out o;
	bool took;

	memset(&o, 0, sizeof(o));
	o.f = open_memstream(&o.text, &o.len);
	o.l = ladder__new(&(struct tt_ladder_opts){ .out = o.f, .one_end_filter = filter });
	if (!o.l) {
		fclose(o.f);
		free(o.text);
		return NULL;
	}
	took = ladder__flow(o.l, f);
	ladder__flush(o.l);
	close_out(&o);
	if (!took) {
		free(o.text);
		return NULL;
	}
	return o.text;
}

/* Under a filter that keeps one end (-L 8000: the server's), the other is said to be filtered. */
TEST(ladder_one_end_filter_named)
{
	struct tt_flow s = client_fin_first_server();
	char *text;

	text = drawn_alone_under(&s, "-L");
	REQUIRE(text);
	CHECK(strstr(text, "(on this host, left out by -L (-P keeps both ends))") != NULL);
	CHECK(!strstr(text, "not seen in time"));
	free(text);

	/* --container may keep both ends (a container's own loopback): not said for sure */
	text = drawn_alone_under(&s, "--container");
	REQUIRE(text);
	CHECK(strstr(text, "(on this host, maybe left out by --container (-P keeps both ends), "
			   "or its end was not seen in time)") != NULL);
	free(text);

	/* --local: 127.0.0.1 to 127.0.0.1, both ends pass or neither: not sure */
	text = drawn_alone_under(&s, "--local");
	REQUIRE(text);
	CHECK(strstr(text, "(on this host, maybe left out by --local (") != NULL);
	free(text);
	/* 127.0.0.1 to 127.0.0.2: it left the other end out */
	s.daddr[3] = 2;
	text = drawn_alone_under(&s, "--local");
	REQUIRE(text);
	CHECK(strstr(text, "(on this host, left out by --local (-P keeps both ends))") != NULL);
	free(text);
	/* --state: the other end may not have gone through the state (-P is no help) */
	text = drawn_alone_under(&s, "--state");
	REQUIRE(text);
	CHECK(strstr(text, "(on this host, maybe left out by --state (its end did not go through "
			   "it), or its end was not seen in time)") != NULL);
	free(text);
}

/* Two sockets seen only mid-life (seeded): neither opener is known, so no "client". */
TEST(ladder_seeded_pair_names_no_roles)
{
	struct tt_flow c = client_fin_first_client(), s = client_fin_first_server();
	struct out o;

	c.role = TT_ROLE_UNKNOWN;
	s.role = TT_ROLE_UNKNOWN;
	c.flags |= TT_FLOW_PARTIAL;
	s.flags |= TT_FLOW_PARTIAL;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	/* and they lived longer than was seen */
	CHECK(strstr(o.text, "  end: one end time_wait after at least ") != NULL);
	CHECK(strstr(o.text, ", other end close after at least ") != NULL);
	CHECK(strstr(o.text, "  one end 127.0.0.1:38800  python3 (pid 4242)\n") != NULL);
	CHECK(strstr(o.text, "  other end 127.0.0.1:8080  python3 (pid 4242)\n") != NULL);
	CHECK(!strstr(o.text, "client") && !strstr(o.text, "server 127"));
	free(o.text);
	/* one role known: the labels stand */
	c = client_fin_first_client();
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	CHECK(strstr(o.text, "  client 127.0.0.1:38800  python3 (pid 4242)\n") != NULL);
	free(o.text);
}

/*
 * A socket connected to itself (connect() to its own address and port) has
 * no other end: it was said to be on this host but not seen in time.
 */
TEST(ladder_socket_connected_to_itself)
{
	struct tt_flow f = flow(TT_ROLE_ACTIVE, 8000, 8000, TT_END_CLOSE, 4,
				TT_SYN_SENT, 0ull, TT_SYN_RECV, 100000ull,
				TT_ESTABLISHED, 200000ull, TT_CLOSE, 300000ull);
	struct out o;

	open_out(&o);
	CHECK(ladder__flow(o.l, &f));
	ladder__flush(o.l);
	close_out(&o);
	CHECK(strstr(o.text, " 127.0.0.1:8000  (the same socket: it is connected to itself)\n"));
	CHECK(!strstr(o.text, "not seen in time"));
	free(o.text);
}

TEST(ladder_waits_one_second_of_record_time)
{
	struct tt_flow c = client_fin_first_client(), s = client_fin_first_server();
	struct out o;

	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	ladder__tick(o.l, T0 + 392000 + 999 * MS);
	fflush(o.f);
	CHECK_EQ_INT(o.len, 0);
	ladder__tick(o.l, T0 + 392000 + 1000 * MS);
	fflush(o.f);
	CHECK(o.len > 0);
	CHECK(strstr(o.text, "(on this host, but its end was not seen in time)") != NULL);
	/* its peer, later, is alone too */
	CHECK(ladder__flow(o.l, &s));
	ladder__flush(o.l);
	close_out(&o);
	CHECK(strstr(o.text, "  client 127.0.0.1:38800  (on this host") != NULL);
	free(o.text);
}

TEST(ladder_pairs_only_plausible_peers)
{
	struct tt_flow c = client_fin_first_client(), s = client_fin_first_server();
	char got[512];
	struct out o;

	/* loopback in two namespaces: two different connections */
	s.netns = 4026532000u;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	ladder__flush(o.l);
	close_out(&o);
	CHECK(strstr(o.text, "(on this host, but its end was not seen in time)") != NULL);
	free(o.text);

	/* two namespaces joined by a veth pair: one connection */
	c.saddr[0] = s.daddr[0] = 10;
	c.daddr[0] = s.saddr[0] = 10;
	c.saddr[3] = s.daddr[3] = 1;
	c.daddr[3] = s.saddr[3] = 2;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN> <SYN+ACK ACK> FIN> <ACK <FIN ACK>");
	CHECK(strstr(o.text, "netns 4026531840 and 4026532000") != NULL);
	free(o.text);

	/* a dual-stack server sees the IPv4 client as ::ffff:127.0.0.1 */
	c = client_fin_first_client();
	s = client_fin_first_server();
	s.family = TT_AF_INET6;
	memset(s.saddr, 0, 16);
	memset(s.daddr, 0, 16);
	s.saddr[10] = s.saddr[11] = s.daddr[10] = s.daddr[11] = 0xff;
	s.saddr[12] = s.daddr[12] = 127;
	s.saddr[15] = s.daddr[15] = 1;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "SYN> <SYN+ACK ACK> FIN> <ACK <FIN ACK>");
	CHECK(strstr(o.text, "  server [::ffff:127.0.0.1]:8080") != NULL);
	free(o.text);

	/* an earlier connection on the same ports does not pair with this one */
	c = client_fin_first_client();
	s = client_fin_first_server();
	for (int i = 0; i < s.nstates; i++)
		s.ts_ns[i] += 900 * MS;
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	CHECK(ladder__flow(o.l, &s));
	ladder__flush(o.l);
	close_out(&o);
	CHECK(strstr(o.text, "(on this host, but its end was not seen in time)") != NULL);
	free(o.text);
}

TEST(ladder_leaves_listeners_to_the_timeline)
{
	struct tt_flow l = flow(TT_ROLE_LISTENER, 8080, 0, TT_END_CLOSE, 2,
				TT_LISTEN, 0ull, TT_CLOSE, 5 * MS);
	struct out o;

	l.daddr[0] = 0;
	open_out(&o);
	CHECK(!ladder__flow(o.l, &l));
	close_out(&o);
	CHECK_EQ_INT(o.len, 0);
	free(o.text);
}

TEST(ladder_partial_and_hostile_flows_stay_sane)
{
	struct tt_flow c = flow(TT_ROLE_UNKNOWN, 40005, 9000, TT_END_CLOSE, 3,
				TT_ESTABLISHED, 0ull, TT_FIN_WAIT1, 1 * MS, TT_CLOSE, 2 * MS);
	char got[512];
	struct out o;

	c.flags |= TT_FLOW_PARTIAL | TT_FLOW_SEEDED;
	memcpy(c.owner_comm, "a\nb\033[31mred\x7f!!", 15);
	open_out(&o);
	CHECK(ladder__flow(o.l, &c));
	ladder__flush(o.l);
	close_out(&o);
	arrows(o.text, got, sizeof(got));
	CHECK_STR(got, "FIN>. <ACK. <FIN. ACK>.");
	CHECK(strstr(o.text, "(open when tracing started)") != NULL);
	CHECK(strchr(o.text, '\033') == NULL);
	CHECK(strstr(o.text, "a?b?[31mred?!!") != NULL);
	free(o.text);
}
