// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <jansson.h>
#include <locale.h>
#include <stdlib.h>
#include <wchar.h>
#include "sink.h"
#include "tt_test.h"

/*
 * Run fn against a sink writing to memory; returns the malloc'd text.  Not
 * inlined: gcc 12 then takes the text for a pointer to the local that
 * open_memstream() wrote it to (-Wdangling-pointer).
 */
static __attribute__((noinline)) char *render(bool json, void (*fn)(struct tt_sink *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = f, .json = json });

	fn(s, arg);
	sink__free(s);
	fclose(f);
	return buf;
}

static void do_flow(struct tt_sink *s, const void *arg)
{
	sink__flow(s, arg);
}

static void do_transition(struct tt_sink *s, const void *arg)
{
	sink__transition(s, arg, NULL);
}

static void do_summary(struct tt_sink *s, const void *arg)
{
	sink__summary(s, arg);
}

static struct tt_flow active_flow(void)
{
	struct tt_flow f = {
		.id = 7, .sk = 0xffff888001234000ull, .netns = 4026531840u,
		.family = TT_AF_INET, .role = TT_ROLE_ACTIVE, .end = TT_END_CLOSE,
		.flags = TT_FLOW_OWNER_KNOWN, .nstates = 5, .sport = 43210, .dport = 80,
		.saddr = { 10, 0, 0, 1 }, .daddr = { 10, 0, 0, 2 }, .owner_pid = 4242,
		.owner_comm = "curl",
		.state = { TT_SYN_SENT, TT_ESTABLISHED, TT_FIN_WAIT1, TT_FIN_WAIT2, TT_CLOSE },
		.ts_ns = { 1000000000, 1000410000, 3100410000ull, 3100460000ull, 3100470000ull },
	};
	return f;
}

TEST(sink_human_flow_line)
{
	struct tt_flow f = active_flow();
	char *out = render(false, do_flow, &f);

	REQUIRE(out);
	CHECK(strstr(out, " 4242 curl ") != NULL);
	CHECK(strstr(out, "10.0.0.1:43210") != NULL);
	CHECK(strstr(out, "> 10.0.0.2:80") != NULL);
	CHECK(strstr(out, "SYN_SENT 410us ESTABLISHED 2.10s FIN_WAIT1 50us FIN_WAIT2 10us > CLOSE") != NULL);
	CHECK(strstr(out, "total 2.10s") != NULL);
	CHECK(strchr(out, '\033') == NULL);	/* no colour unless asked */
	CHECK_EQ_INT(strchr(out, '\n') - out + 1, (long long)strlen(out));
	free(out);
}

TEST(sink_human_flow_shows_trouble)
{
	struct tt_flow f = active_flow();
	char *out;

	f.nstates = 2;
	f.state[1] = TT_CLOSE;
	f.end = TT_END_REFUSED;
	out = render(false, do_flow, &f);
	CHECK(strstr(out, "SYN_SENT 410us > CLOSE (refused)") != NULL);
	free(out);
}

/*
 * A flow another process closed names it: a fork-per-connection server's
 * child (a PostgreSQL backend), under the listener's process that accepted.
 */
TEST(sink_human_flow_names_another_closer)
{
	struct tt_flow f = active_flow();
	char *out;

	f.closer_pid = 4243;
	out = render(false, do_flow, &f);
	CHECK(strstr(out, "total 2.10s  closer=4243\n") != NULL);
	free(out);
	/* the owner itself, or none known: nothing more */
	f.closer_pid = 4242;
	out = render(false, do_flow, &f);
	CHECK(strstr(out, "closer=") == NULL);
	free(out);
	f.closer_pid = 0;
	out = render(false, do_flow, &f);
	CHECK(strstr(out, "closer=") == NULL);
	free(out);
}

TEST(sink_json_flow_parses_back)
{
	struct tt_flow f = active_flow();
	char *out = render(true, do_flow, &f);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr), *st;

	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "type")), "flow");
	CHECK_STR(json_string_value(json_object_get(j, "saddr")), "10.0.0.1");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "sport")), 43210);
	CHECK_STR(json_string_value(json_object_get(j, "daddr")), "10.0.0.2");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "dport")), 80);
	CHECK_STR(json_string_value(json_object_get(j, "family")), "ipv4");
	CHECK_STR(json_string_value(json_object_get(j, "role")), "active");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "pid")), 4242);
	CHECK_STR(json_string_value(json_object_get(j, "comm")), "curl");
	CHECK_STR(json_string_value(json_object_get(j, "end")), "close");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "duration_ns")), 2100470000ll);
	st = json_object_get(j, "states");
	REQUIRE(json_is_array(st) && json_array_size(st) == 5);
	CHECK_STR(json_string_value(json_object_get(json_array_get(st, 0), "state")), "SYN_SENT");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(st, 0), "t_ns")), 0);
	CHECK_STR(json_string_value(json_object_get(json_array_get(st, 1), "state")), "ESTABLISHED");
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(st, 1), "t_ns")), 410000);
	CHECK_STR(json_string_value(json_object_get(json_array_get(st, 4), "state")), "CLOSE");
	json_decref(j);
	free(out);
}

TEST(sink_json_ipv6_addresses)
{
	struct tt_flow f = active_flow();
	char *out;
	json_t *j;

	f.family = TT_AF_INET6;
	memset(f.saddr, 0, 16);
	memset(f.daddr, 0, 16);
	f.saddr[15] = 1;
	f.daddr[0] = 0x20;
	f.daddr[1] = 0x01;
	f.daddr[2] = 0x0d;
	f.daddr[3] = 0xb8;
	f.daddr[15] = 2;
	out = render(true, do_flow, &f);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "saddr")), "::1");
	CHECK_STR(json_string_value(json_object_get(j, "daddr")), "2001:db8::2");
	CHECK_STR(json_string_value(json_object_get(j, "family")), "ipv6");
	json_decref(j);
	free(out);
}

/* A comm is whatever a task wrote with prctl(PR_SET_NAME): all of it must survive. */
TEST(sink_json_hostile_comm_round_trips)
{
	static const char *comms[] = {
		"a\"b\\c", "tab\there", "nl\nx\r\x01\x1f", "\x7f" "del", "caf\xc3\xa9",
		"bad\xff\xfe", "\xe2\x82", "\xed\xa0\x80sur",
		/* cut by the kernel at 15 bytes inside a character: the stub goes */
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3",
		"abcdefghijkl\xf0\x9f\x98", "abcdefghijklm\xe2\x82",
		/* 15 bytes, but no cut character: kept, escaped */
		"abcdefghijklmn\x80", "abcdefghijklm\xc3\xa9",
	};
	static const char *want[] = {
		"a\"b\\c", "tab\there", "nl\nx\r\x01\x1f", "\x7f" "del", "caf\xc3\xa9",
		"bad\xc3\xbf\xc3\xbe", "\xc3\xa2\xc2\x82", "\xc3\xad\xc2\xa0\xc2\x80sur",
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		"abcdefghijkl", "abcdefghijklm",
		"abcdefghijklmn\xc2\x80", "abcdefghijklm\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(comms) / sizeof(comms[0]); i++) {
		struct tt_flow f = active_flow();
		char *out;
		json_t *j;

		/* as the kernel gives a comm of 16: no NUL */
		memset(f.owner_comm, 0, sizeof(f.owner_comm));
		memcpy(f.owner_comm, comms[i], strnlen(comms[i], sizeof(f.owner_comm)));
		out = render(true, do_flow, &f);
		j = json_loads(out, 0, NULL);
		if (!j)
			fprintf(stderr, "    unparsable: %s", out);
		REQUIRE(j);
		CHECK_STR(json_string_value(json_object_get(j, "comm")), want[i]);
		json_decref(j);
		free(out);
	}
}

TEST(sink_json_comm_of_full_length_has_no_nul)
{
	struct tt_flow f = active_flow();
	char *out;
	json_t *j;

	memset(f.owner_comm, 'x', sizeof(f.owner_comm));	/* no terminator */
	out = render(true, do_flow, &f);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(strlen(json_string_value(json_object_get(j, "comm"))), 16);
	json_decref(j);
	free(out);
}

/* Every field at its longest: the line's runs are reserved by their most (sink_json.c). */
TEST(sink_json_flow_at_every_most)
{
	struct tt_flow f = active_flow();
	char *out;
	json_t *j, *st;

	f.id = f.cookie = UINT64_MAX;
	f.netns = UINT32_MAX;
	f.family = TT_AF_INET6;
	memset(f.saddr, 0xfe, 16);	/* fefe:fefe:...: 39 characters */
	memset(f.daddr, 0xfe, 16);
	f.sport = f.dport = 65535;
	f.owner_pid = f.closer_pid = UINT32_MAX;
	memset(f.owner_comm, 0x01, sizeof(f.owner_comm));	/* each one \u0001, no NUL */
	memset(f.closer_comm, 0x01, sizeof(f.closer_comm));
	f.flags = TT_FLOW_OWNER_KNOWN | TT_FLOW_SEEDED | TT_FLOW_PARTIAL | TT_FLOW_TRUNCATED |
		  TT_FLOW_STATS;
	f.role = TT_ROLE_LISTENER;
	f.nstates = TT_FLOW_MAX_STATES;
	for (int i = 0; i < TT_FLOW_MAX_STATES; i++) {
		f.state[i] = TT_NEW_SYN_RECV;
		f.ts_ns[i] = i ? UINT64_MAX : 0;
	}
	f.end = TT_END_TIME_WAIT;
	f.tw_substate = TT_NEW_SYN_RECV;
	f.synack_retrans = f.resets_sent = f.resets_recv = UINT8_MAX;
	f.inferred = UINT16_MAX;
	f.bytes_sent = f.bytes_received = UINT64_MAX;
	f.segs_out = f.segs_in = f.retransmits = f.srtt_us = UINT32_MAX;
	out = render(true, do_flow, &f);
	REQUIRE(out);
	j = json_loads(out, JSON_DECODE_INT_AS_REAL, NULL);
	if (!j)
		fprintf(stderr, "    unparsable: %s", out);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "saddr")),
		  "fefe:fefe:fefe:fefe:fefe:fefe:fefe:fefe");
	CHECK_EQ_INT(strlen(json_string_value(json_object_get(j, "closer_comm"))), 16);
	st = json_object_get(j, "states");
	REQUIRE(json_is_array(st) && json_array_size(st) == TT_FLOW_MAX_STATES);
	CHECK_STR(json_string_value(json_object_get(json_array_get(st, 7), "state")), "NEW_SYN_RECV");
	CHECK_STR(json_string_value(json_object_get(j, "tw_substate")), "NEW_SYN_RECV");
	CHECK(json_real_value(json_object_get(j, "srtt_us")) == (double)UINT32_MAX);
	CHECK(strstr(out, "\"bytes_received\":18446744073709551615,") != NULL);
	CHECK_EQ_INT(strchr(out, '\n') - out + 1, (long long)strlen(out));
	json_decref(j);
	free(out);
}

TEST(sink_json_transition)
{
	struct tt_event e = {
		.type = TT_EV_TRANSITION, .family = TT_AF_INET, .old_state = TT_SYN_SENT,
		.new_state = TT_ESTABLISHED, .flags = TT_F_OWNER, .sport = 5000, .dport = 80,
		.tgid = 99, .ts_ns = 123, .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
		.comm = "q\"x",
	};
	char *out = render(true, do_transition, &e);
	json_t *j = json_loads(out, 0, NULL);

	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "type")), "transition");
	CHECK_STR(json_string_value(json_object_get(j, "old")), "SYN_SENT");
	CHECK_STR(json_string_value(json_object_get(j, "new")), "ESTABLISHED");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "pid")), 99);
	CHECK_STR(json_string_value(json_object_get(j, "comm")), "q\"x");
	json_decref(j);
	free(out);
}

TEST(sink_summary_json_and_logfmt)
{
	struct tt_engine_stats iv = { .flows_opened = 3, .flows_closed = 2, .active = 1 };
	struct tt_summary sum = { .t_ns = 5, .interval_ns = 10000000000ull, .final = true,
				  .interval = &iv, .total = &iv, .lost_total = 4,
				  .lost_interval = 4 };
	char *out;
	json_t *j, *t;

	iv.transitions[TT_ESTABLISHED][TT_CLOSE_WAIT] = 12;
	iv.transitions[TT_CLOSE][TT_SYN_SENT] = 3;
	out = render(true, do_summary, &sum);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "type")), "summary");
	CHECK(json_is_true(json_object_get(j, "final")));
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "lost")), 4);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "evicted")), 0);
	t = json_object_get(j, "transitions");
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "ESTABLISHED>CLOSE_WAIT")), 12);
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "CLOSE>SYN_SENT")), 3);
	CHECK_EQ_INT(json_object_size(t), 2);
	json_decref(j);
	free(out);

	/* human: the time column, the level, the report, its pairs */
	out = render(false, do_summary, &sum);
	CHECK(strncmp(out, "1970-01-01T00:00:00.000Z warn final_summary interval=10.0s ", 59) == 0);
	/* lost and evicted since the start, as active is; and in the interval, as the rest */
	CHECK(strstr(out, " lost=4 lost_interval=4 evicted=0 evicted_interval=0 ") != NULL);
	/* not final, and none lost in its interval: info, though the run lost some */
	sum.final = false;
	sum.lost_interval = 0;
	free(out);
	out = render(false, do_summary, &sum);
	CHECK(strncmp(out, "1970-01-01T00:00:00.000Z info summary interval=10.0s ", 53) == 0);
	CHECK(strstr(out, " lost=4 lost_interval=0 ") != NULL);
	sum.lost_interval = 1;
	free(out);
	out = render(false, do_summary, &sum);
	CHECK(strncmp(out, "1970-01-01T00:00:00.000Z warn summary interval=10.0s ", 53) == 0);
	sum.final = true;
	sum.lost_interval = 4;
	CHECK(strstr(out, "time=") == NULL);
	CHECK(strstr(out, " ESTABLISHED>CLOSE_WAIT=12") != NULL);
	CHECK(strchr(out, '\n') == out + strlen(out) - 1);
	free(out);

	/* logfmt, as --syslog and --journal send it */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = f, .logfmt = true });

		REQUIRE(s);
		sink__summary(s, &sum);
		sink__free(s);
		fclose(f);
		CHECK(strncmp(buf, "time=1970-01-01T00:00:00.000000Z level=warn msg=final_summary ",
			      62) == 0);
		CHECK(strstr(buf, " ESTABLISHED>CLOSE_WAIT=12") != NULL);
		free(buf);
	}
}

static void do_two_flows(struct tt_sink *s, const void *arg)
{
	const struct tt_flow *f = arg;

	sink__flow(s, &f[0]);
	sink__flow(s, &f[1]);
}

/*
 * Defect 10: a long IPv6 endpoint widens the address columns rather than
 * pushing the rest of its line out of them; the lines after it keep the
 * width, so the arrows line up; the time column is UTC with its date.
 */
TEST(sink_human_ipv6_columns_and_utc_clock)
{
	struct tt_flow f[2] = { active_flow(), active_flow() };
	char *out, *second;
	const char *a1, *a2;

	f[0].family = TT_AF_INET6;
	memcpy(f[0].saddr, "\x20\x01\x0d\xb8\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x78", 16);
	memcpy(f[0].daddr, "\x20\x01\x0d\xb8\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x79", 16);
	out = render(false, do_two_flows, f);
	REQUIRE(out);
	second = strchr(out, '\n');
	REQUIRE(second);
	second++;
	a1 = strstr(out, " > ");
	a2 = strstr(second, " > ");
	REQUIRE(a1 && a2);
	CHECK_EQ_INT(a1 - out, a2 - second);
	CHECK(strstr(out, "[2001:db8:1234:5678:9abc:def0:1234:5678]:43210 > "
			  "[2001:db8:1234:5678:9abc:def0:1234:5679]:80    SYN_SENT") != NULL);
	CHECK(strncmp(out, "1970-01-01T00:00:01.000Z ", 25) == 0);
	free(out);
}

/* The terminal columns of s up to at: one per UTF-8 character. */
/* columns on a terminal, as the C library's wcwidth() counts them (-1 when it cannot) */
static long cols_to(const char *s, const char *at)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), old;
	mbstate_t st = { 0 };
	long n = 0;

	if (!l)
		return -1;
	old = uselocale(l);
	while (s < at) {
		wchar_t w;
		size_t k = mbrtowc(&w, s, (size_t)(at - s), &st);

		if (k == 0 || k > (size_t)(at - s)) {
			n = -1;
			break;
		}
		n += wcwidth(w) > 0 ? wcwidth(w) : 0;
		s += k;
	}
	uselocale(old);
	freelocale(l);
	return n;
}

/*
 * A comm in UTF-8 (a task may name itself anything) is padded by its
 * columns, not its bytes: the columns after it stay where an ASCII one's
 * are, even for 15 bytes of 4-byte characters, and wide ones (CJK, emoji).
 */
TEST(sink_human_utf8_comm_keeps_columns)
{
	static const char *const names[] = { "w\xc3\xb6rker-\xc3\xbc", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80" "abc",
		"\xe6\x95\xb0\xe6\x8d\xae\xe5\xba\x93\xe6\x9c\x8d\xe5\x8a\xa1" };
	struct tt_flow f[2] = { active_flow(), active_flow() };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *out, *second;
		const char *a1, *a2;

		memset(f[1].owner_comm, 0, sizeof(f[1].owner_comm));
		memcpy(f[1].owner_comm, names[i], strlen(names[i]));
		out = render(false, do_two_flows, f);
		REQUIRE(out);
		second = strchr(out, '\n');
		REQUIRE(second);
		second++;
		CHECK(strstr(second, names[i]) != NULL);
		a1 = strstr(out, " > ");
		a2 = strstr(second, " > ");
		REQUIRE(a1 && a2);
		CHECK(cols_to(out, a1) > 0);
		CHECK_EQ_INT(cols_to(out, a1), cols_to(second, a2));
		free(out);
	}
	/* cut by the kernel (15 bytes) inside its sixth character: five are shown, no '?' */
	{
		char *out, *second;
		const char *a1, *a2;

		memcpy(f[1].owner_comm, "a\xe6\x95\xb0\xe6\x8d\xae\xe5\xba\x93\xe6\x9c\x8d\xe5\x8a\0",
		       16);
		out = render(false, do_two_flows, f);
		REQUIRE(out);
		second = strchr(out, '\n');
		REQUIRE(second);
		second++;
		CHECK(strstr(second, " a\xe6\x95\xb0\xe6\x8d\xae\xe5\xba\x93\xe6\x9c\x8d ") != NULL);
		CHECK(strchr(second, '?') == NULL);
		a1 = strstr(out, " > ");
		a2 = strstr(second, " > ");
		REQUIRE(a1 && a2);
		CHECK_EQ_INT(cols_to(out, a1), cols_to(second, a2));
		free(out);
	}
}

/* Every field at its longest, in colour: the line's runs are reserved by their most (sink_human.c). */
TEST(sink_human_flow_at_every_most)
{
	struct tt_flow f = active_flow();
	char *buf = NULL, *nl;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = out, .color = true,
							      .own_netns = 1 });

	REQUIRE(out && s);
	f.family = TT_AF_INET6;
	memset(f.saddr, 0xfe, 16);
	memset(f.daddr, 0xfe, 16);
	f.sport = f.dport = 65535;
	f.owner_pid = UINT32_MAX;
	memset(f.owner_comm, 0x01, sizeof(f.owner_comm));	/* each one '?', no NUL */
	f.flags = TT_FLOW_PARTIAL | TT_FLOW_SEEDED | TT_FLOW_TRUNCATED | TT_FLOW_STATS;
	f.nstates = TT_FLOW_MAX_STATES;
	for (int i = 0; i < TT_FLOW_MAX_STATES; i++) {
		f.state[i] = i % 2 ? TT_ESTABLISHED : TT_NEW_SYN_RECV;
		f.ts_ns[i] = i * (UINT64_MAX / 8);
	}
	f.end = TT_END_SUPERSEDED;
	f.tw_substate = TT_FIN_WAIT2;
	f.synack_retrans = UINT8_MAX;
	f.inferred = UINT16_MAX;
	f.netns = UINT32_MAX;
	f.bytes_sent = f.bytes_received = UINT64_MAX;
	f.srtt_us = f.retransmits = UINT32_MAX;
	f.closer_pid = UINT32_MAX - 1;
	sink__flow(s, &f);
	sink__free(s);
	fclose(out);
	REQUIRE(buf);
	nl = strchr(buf, '\n');
	CHECK(nl && nl[1] == '\0');
	CHECK(strstr(buf, " 4294967295 ????????????????"
			  " [fefe:fefe:fefe:fefe:fefe:fefe:fefe:fefe]:65535 > "
			  "[fefe:fefe:fefe:fefe:fefe:fefe:fefe:fefe]:65535 ...") != NULL);
	CHECK(strstr(buf, "\033[31m(superseded)\033[0m (orphan FIN_WAIT2)  total ") != NULL);
	CHECK(strstr(buf, "  tx=16.0E rx=16.0E rtt=") != NULL);
	CHECK(strstr(buf, " \033[33mrtx=4294967295\033[0m  closer=4294967294  synack_retrans=255"
			  "  inferred=65535"
			  "  [seeded]  netns=4294967295  [truncated]\n") != NULL);
	free(buf);
}

/*
 * Live, a human line of another namespace's flow ends in netns=, ours does
 * not; a replay's (every_netns) always does.
 */
TEST(sink_human_flow_netns_of_others)
{
	struct tt_flow f = active_flow();
	const uint32_t own[] = { 4026531840u, 4026531999u, 0, 0 };
	const bool every[] = { false, false, false, true };
	const char *want[] = { NULL, "  netns=4026531840\n", NULL, "  netns=4026531840\n" };

	for (int i = 0; i < 4; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);
		struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = out,
								      .own_netns = own[i],
								      .every_netns = every[i] });

		REQUIRE(out && s);
		sink__flow(s, &f);
		sink__free(s);
		fclose(out);
		if (want[i])
			CHECK(strstr(buf, want[i]) != NULL);
		else
			CHECK(strstr(buf, "netns=") == NULL);
		free(buf);
	}
}

static void do_overflow(struct tt_sink *s, const void *arg)
{
	sink__overflow(s, arg, NULL);
}

/*
 * -e lines as flow lines: a transition's and an overflow's (a queue full,
 * a cookie by policy) of another namespace end in netns=, ours do not; a
 * replay's always do.
 */
TEST(sink_human_event_lines_netns_of_others)
{
	struct tt_event tr = {
		.type = TT_EV_TRANSITION, .family = TT_AF_INET, .old_state = TT_ESTABLISHED,
		.new_state = TT_CLOSE_WAIT, .netns = 4026531840u, .ts_ns = 5000, .sport = 80,
		.dport = 40000, .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
	};
	struct tt_event ov = tr, pol;
	const uint32_t own[] = { 4026531840u, 4026531999u, 0, 0 };
	const bool every[] = { false, false, false, true };

	ov.type = TT_EV_OVERFLOW;
	ov.old_state = ov.new_state = 0;
	ov.aux[0] = TT_Q_ACCEPT;
	ov.aux[1] = 2;
	ov.aux[2] = 3;
	pol = ov;
	pol.aux[0] = TT_Q_SYN;
	pol.flags = TT_F_SYNCOOKIE | TT_F_COOKIE_POLICY;
	for (int i = 0; i < 4; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);
		struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = out,
								      .own_netns = own[i],
								      .every_netns = every[i] });
		bool named = i == 1 || i == 3;

		REQUIRE(out && s);
		sink__transition(s, &tr, NULL);
		sink__overflow(s, &ov, NULL);
		sink__overflow(s, &pol, NULL);
		sink__free(s);
		fclose(out);
		REQUIRE(buf);
		CHECK_EQ_INT(tt_count(buf, "\n"), 3);
		CHECK_EQ_INT(tt_count(buf, "  netns=4026531840\n"), named ? 3 : 0);
		CHECK(strstr(buf, named ? " ESTABLISHED -> CLOSE_WAIT  netns=4026531840\n" :
				   " ESTABLISHED -> CLOSE_WAIT\n") != NULL);
		CHECK(strstr(buf, named ? "backlog 3/2  syn_queue 0  netns=4026531840\n" :
				   "backlog 3/2  syn_queue 0\n") != NULL);
		if (!named)
			CHECK(strstr(buf, "netns=") == NULL);
		free(buf);
	}
}

/*
 * A cookie sent because net.ipv4.tcp_syncookies is 2, with the SYN queue
 * not full, is a "syncookie" record of reason "policy", never an overflow;
 * a full queue answered with a cookie stays an overflow.
 */
TEST(sink_policy_cookie_is_no_overflow)
{
	struct tt_event e = {
		.type = TT_EV_OVERFLOW, .family = TT_AF_INET, .sport = 8000, .dport = 40000,
		.flags = TT_F_SYNCOOKIE | TT_F_COOKIE_POLICY, .ts_ns = 123,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
		.aux = { TT_Q_SYN, 128, 0, 0 },
	};
	struct tt_engine_stats iv = { .policy_cookies = 7 };
	struct tt_summary sum = { .t_ns = 5, .interval_ns = 1000000000ull, .interval = &iv,
				  .total = &iv };
	char *out = render(true, do_overflow, &e);
	json_t *j = json_loads(out, 0, NULL);

	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "type")), "syncookie");
	CHECK_STR(json_string_value(json_object_get(j, "reason")), "policy");
	CHECK(!json_object_get(j, "queue"));
	CHECK(!json_object_get(j, "syncookie"));
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "syn_queue")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "sport")), 8000);
	json_decref(j);
	free(out);
	out = render(false, do_overflow, &e);
	CHECK(strstr(out, "syncookie sent by policy") != NULL);
	CHECK(strstr(out, "overflow") == NULL);
	free(out);

	e.flags = TT_F_SYNCOOKIE;
	e.aux[3] = 129;
	out = render(true, do_overflow, &e);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "type")), "overflow");
	CHECK(json_is_true(json_object_get(j, "syncookie")));
	json_decref(j);
	free(out);

	out = render(true, do_summary, &sum);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "policy_cookies")), 7);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "syn_cookies")), 0);
	json_decref(j);
	free(out);
	out = render(false, do_summary, &sum);
	CHECK(strstr(out, " policy_cookies=7") != NULL);
	free(out);
}

static void do_close_wait(struct tt_sink *s, const void *arg)
{
	sink__close_wait_report(s, arg);
}

/*
 * A client leaking toward 150 remote services: the report names the 100
 * first groups, in its order, and one more record counts the 50 others and
 * their sockets, in JSON and in the log line format alike.
 */
TEST(sink_close_wait_report_names_100_groups_and_counts_the_rest)
{
	static struct tt_cw_group g[150];
	struct tt_cw_report r = { .g = g, .n = 150, .t_ns = 1000, .min_age_ns = 10 };
	uint64_t rest = 0;
	char want[128], *text;

	for (int i = 0; i < 150; i++) {
		g[i] = (struct tt_cw_group){ .pid = 7, .comm = "crawler", .netns = 1,
					     .family = TT_AF_INET, .kind = TT_SVC_REMOTE,
					     .addr = { 10, 1, (uint8_t)(i / 250), (uint8_t)(i % 250) },
					     .port = 443, .count = 150 - (uint32_t)i };
		if (i >= TT_CW_REPORT_MAX)
			rest += g[i].count;
	}
	CHECK_EQ_INT(TT_CW_REPORT_MAX, 100);
	tt_cw_report_limit(&r, TT_CW_REPORT_MAX);
	CHECK_EQ_INT(r.n, 100);
	CHECK_EQ_INT(r.rest_groups, 50);
	CHECK_EQ_INT(r.rest_count, rest);

	text = render(true, do_close_wait, &r);
	REQUIRE(text);
	CHECK_EQ_INT(tt_count(text, "\"type\":\"close_wait\""), 100);
	/* the last named is the 100th, 10.1.0.99 */
	CHECK(strstr(text, "\"service_addr\":\"10.1.0.99\"") != NULL);
	CHECK(strstr(text, "\"service_addr\":\"10.1.0.100\"") == NULL);
	snprintf(want, sizeof(want), "\"type\":\"close_wait_not_shown\",\"version\":%d,"
		 "\"t_ns\":1000,", TT_JSON_VERSION);
	CHECK_EQ_INT(tt_count(text, want), 1);
	snprintf(want, sizeof(want), "\"groups\":50,\"count\":%llu,\"shown\":100,",
		 (unsigned long long)rest);
	CHECK_EQ_INT(tt_count(text, want), 1);
	free(text);

	{
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = f, .logfmt = true });

		sink__close_wait_report(s, &r);
		sink__free(s);
		fclose(f);
	}
	REQUIRE(text);
	CHECK_EQ_INT(tt_count(text, "msg=close_wait_leak "), 100);
	snprintf(want, sizeof(want), " level=warn msg=close_wait_leaks_not_shown groups=50 count=%llu "
		 "shown=100", (unsigned long long)rest);
	CHECK_EQ_INT(tt_count(text, want), 1);
	free(text);

	/* and the columns */
	text = render(false, do_close_wait, &r);
	REQUIRE(text);
	CHECK_EQ_INT(tt_count(text, " warn close_wait_leak pid="), 100);
	snprintf(want, sizeof(want), " warn close_wait_leaks_not_shown groups=50 count=%llu shown=100",
		 (unsigned long long)rest);
	CHECK_EQ_INT(tt_count(text, want), 1);
	free(text);

	/* at 100 or fewer, nothing more */
	r = (struct tt_cw_report){ .g = g, .n = 100, .t_ns = 1000 };
	tt_cw_report_limit(&r, TT_CW_REPORT_MAX);
	CHECK_EQ_INT(r.rest_groups, 0);
	text = render(true, do_close_wait, &r);
	REQUIRE(text);
	CHECK_EQ_INT(tt_count(text, "close_wait_not_shown"), 0);
	free(text);
}
