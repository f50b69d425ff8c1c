// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Issue 16: a flow's bytes, segments, retransmits and RTT (read by the
 * kernel from tcp_sock at the end, TT_FLOW_STATS) and its inferred
 * transitions, in every format: JSON, the human line, the summaries
 * (JSON, human, logfmt) and Prometheus.  A flow with stats and one without
 * (the per-transition stream, an evicted flow): the fields are there, or
 * absent, never 0 standing for "unknown".  Then the whole way from a
 * TT_EV_FLOW record through the engine to the sinks.
 */
#include <jansson.h>
#include <stdlib.h>
#include "engine.h"
#include "metrics.h"
#include "sink.h"
#include "tt_test.h"

static const char *const stat_keys[] = {
	"bytes_sent", "bytes_received", "segs_out", "segs_in", "retransmits", "srtt_us",
};
#define N_STAT_KEYS (sizeof(stat_keys) / sizeof(stat_keys[0]))

/* A client's orderly close, 100000 bytes out and 2345 in, as the kernel counts them. */
static struct tt_flow stats_flow(void)
{
	struct tt_flow f = {
		.id = 9, .sk = 0xffff888001235000ull, .netns = 4026531840u,
		.family = TT_AF_INET, .role = TT_ROLE_ACTIVE, .end = TT_END_TIME_WAIT,
		.tw_substate = TT_TIME_WAIT, .flags = TT_FLOW_OWNER_KNOWN | TT_FLOW_STATS,
		.nstates = 5, .sport = 43210, .dport = 8000,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 }, .owner_pid = 77,
		.owner_comm = "ttdrive",
		.state = { TT_SYN_SENT, TT_ESTABLISHED, TT_FIN_WAIT1, TT_FIN_WAIT2, TT_TIME_WAIT },
		.ts_ns = { 1000000000, 1000050000, 1002000000, 1002000040, 1002100000 },
		.bytes_sent = 100000, .bytes_received = 2345, .segs_out = 9, .segs_in = 7,
		.retransmits = 0, .srtt_us = 52,
	};
	return f;
}

/* The same flow as the per-transition stream leaves it: no stats, whatever the fields hold. */
static struct tt_flow plain_flow(void)
{
	struct tt_flow f = stats_flow();

	f.flags &= (uint8_t)~TT_FLOW_STATS;
	return f;
}

static char *render_flow(bool json, const struct tt_flow *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = out, .json = json });

	if (!out || !s)
		return NULL;
	sink__flow(s, f);
	sink__free(s);
	fclose(out);
	return buf;
}

static char *render_summary(bool json, bool logfmt, const struct tt_summary *sum)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = out, .json = json,
							      .logfmt = logfmt });

	if (!out || !s)
		return NULL;
	sink__summary(s, sum);
	sink__free(s);
	fclose(out);
	return buf;
}

TEST(flowstats_json_flow_with_stats)
{
	struct tt_flow f = stats_flow();
	char *out;
	json_t *j;

	f.retransmits = 3;
	f.bytes_sent = 5ull << 32;	/* past 32 bits: a long transfer */
	out = render_flow(true, &f);
	REQUIRE(out);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_sent")), 5ll << 32);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_received")), 2345);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "segs_out")), 9);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "segs_in")), 7);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "retransmits")), 3);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "srtt_us")), 52);
	for (size_t i = 0; i < N_STAT_KEYS; i++)
		CHECK(json_is_integer(json_object_get(j, stat_keys[i])));
	/* none inferred: no key */
	CHECK(!json_object_get(j, "inferred"));
	json_decref(j);
	free(out);

	/* a flow with no payload either way says 0, not nothing */
	f = stats_flow();
	f.bytes_sent = f.bytes_received = 0;
	out = render_flow(true, &f);
	REQUIRE(out);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK(json_is_integer(json_object_get(j, "bytes_sent")));
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_sent")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_received")), 0);
	json_decref(j);
	free(out);
}

TEST(flowstats_json_flow_without_stats_has_no_keys)
{
	struct tt_flow f = plain_flow();
	char *out = render_flow(true, &f);
	json_t *j;

	REQUIRE(out);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	for (size_t i = 0; i < N_STAT_KEYS; i++)
		CHECK(!json_object_get(j, stat_keys[i]));
	CHECK(!json_object_get(j, "inferred"));
	CHECK_STR(json_string_value(json_object_get(j, "type")), "flow");
	json_decref(j);
	free(out);

	/* inferred stands on its own: a flow of the per-transition stream has none */
	f.inferred = 2;
	out = render_flow(true, &f);
	REQUIRE(out);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "inferred")), 2);
	CHECK(!json_object_get(j, "bytes_sent"));
	json_decref(j);
	free(out);
}

TEST(flowstats_human_flow_line)
{
	static const struct { uint64_t sent, recv; uint32_t rtt; const char *want; } cases[] = {
		{ 100000, 2345, 52, "  total 2.10ms  tx=97.7K rx=2.29K rtt=52us\n" },
		{ 0, 0, 3, "  tx=0 rx=0 rtt=3us\n" },
		{ 1, 1023, 1520, "  tx=1 rx=1023 rtt=1.52ms\n" },
		{ 1, 1, 999, "  tx=1 rx=1 rtt=999us\n" },
		{ 1, 1, 1000, "  tx=1 rx=1 rtt=1.00ms\n" },
		{ 1024, 1048575, 0, "  tx=1.00K rx=1.00M\n" },	/* no RTT measured */
		{ 5ull << 30, 10ull << 40, 250000, "  tx=5.00G rx=10.0T rtt=250ms\n" },
		{ UINT64_MAX, 999 * 1024, 1, "  tx=16.0E rx=999K rtt=1us\n" },
	};
	struct tt_flow f;
	char *out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = stats_flow();
		f.bytes_sent = cases[i].sent;
		f.bytes_received = cases[i].recv;
		f.srtt_us = cases[i].rtt;
		out = render_flow(false, &f);
		REQUIRE(out);
		if (!strstr(out, cases[i].want))
			fprintf(stderr, "    case %zu: want '%s' in: %s", i, cases[i].want, out);
		CHECK(strstr(out, cases[i].want) != NULL);
		CHECK(strstr(out, "rtx=") == NULL);	/* said only when it retransmitted */
		CHECK_EQ_INT(strchr(out, '\n') - out + 1, (long long)strlen(out));
		free(out);
	}

	f = stats_flow();
	f.retransmits = 4;
	f.inferred = 1;
	f.synack_retrans = 2;
	out = render_flow(false, &f);
	REQUIRE(out);
	CHECK(strstr(out, "  tx=97.7K rx=2.29K rtt=52us rtx=4  synack_retrans=2  inferred=1\n")
	      != NULL);
	CHECK(strchr(out, '\033') == NULL);
	free(out);
}

TEST(flowstats_human_flow_line_without_stats)
{
	struct tt_flow f = plain_flow();
	char *out = render_flow(false, &f);

	REQUIRE(out);
	CHECK(strstr(out, "tx=") == NULL);
	CHECK(strstr(out, "rx=") == NULL);
	CHECK(strstr(out, "rtt=") == NULL);
	CHECK(strstr(out, "inferred") == NULL);
	CHECK(strstr(out, "> TIME_WAIT  total 2.10ms\n") != NULL);
	free(out);

	f.inferred = 3;
	out = render_flow(false, &f);
	REQUIRE(out);
	CHECK(strstr(out, "  total 2.10ms  inferred=3\n") != NULL);
	free(out);

	/* a listener's stats are zeros: not on its line, in JSON all the same */
	f = stats_flow();
	f.role = TT_ROLE_LISTENER;
	f.nstates = 2;
	f.state[0] = TT_LISTEN;
	f.state[1] = TT_CLOSE;
	f.bytes_sent = f.bytes_received = f.segs_out = f.segs_in = f.srtt_us = 0;
	out = render_flow(false, &f);
	REQUIRE(out);
	CHECK(strstr(out, "LISTEN 50us > CLOSE  total 50us\n") != NULL);
	CHECK(strstr(out, "tx=") == NULL);
	free(out);
	out = render_flow(true, &f);
	REQUIRE(out);
	CHECK(strstr(out, ",\"bytes_sent\":0,") != NULL);
	free(out);
}

TEST(flowstats_summary_inferred)
{
	struct tt_engine_stats iv = { .flows_opened = 2, .flows_closed = 2, .inferred = 5 };
	struct tt_summary sum = { .t_ns = 5, .interval_ns = 1000000000ull, .interval = &iv,
				  .total = &iv };
	char *out;
	json_t *j;

	out = render_summary(true, false, &sum);
	REQUIRE(out);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "inferred")), 5);
	json_decref(j);
	free(out);
	out = render_summary(false, true, &sum);
	REQUIRE(out);
	CHECK(strstr(out, " inferred=5") != NULL);
	free(out);
	out = render_summary(false, false, &sum);
	REQUIRE(out);
	CHECK(strstr(out, " inferred=5") != NULL);
	free(out);

	/* none: JSON says 0, the lines say nothing */
	iv.inferred = 0;
	out = render_summary(true, false, &sum);
	REQUIRE(out);
	j = json_loads(out, 0, NULL);
	REQUIRE(j);
	CHECK(json_is_integer(json_object_get(j, "inferred")));
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "inferred")), 0);
	json_decref(j);
	free(out);
	out = render_summary(false, true, &sum);
	REQUIRE(out);
	CHECK(strstr(out, "inferred") == NULL);
	free(out);
	out = render_summary(false, false, &sum);
	REQUIRE(out);
	CHECK(strstr(out, "inferred") == NULL);
	free(out);
}

/* ---- from a TT_EV_FLOW record, through the engine, to the sinks -------- */

struct collect {
	FILE *json, *human;
	struct tt_sink *js, *hs;
	char *jbuf, *hbuf;	/* what the sinks wrote, once collect_close() has run */
	size_t jlen, hlen;
	int flows;
};

static void on_end(const struct tt_flow *f, void *ctx)
{
	struct collect *c = ctx;

	c->flows++;
	sink__flow(c->js, f);
	sink__flow(c->hs, f);
}

/* A JSON and a human sink writing to memory, and an engine whose ended flows go to both. */
static struct tt_engine *collect_open(struct collect *c)
{
	c->json = open_memstream(&c->jbuf, &c->jlen);
	c->human = open_memstream(&c->hbuf, &c->hlen);
	if (!c->json || !c->human)
		return NULL;
	c->js = sink__new(&(struct tt_sink_opts){ .out = c->json, .json = true });
	c->hs = sink__new(&(struct tt_sink_opts){ .out = c->human });
	if (!c->js || !c->hs)
		return NULL;
	return engine__new(&(struct tt_engine_opts){ .max_flows = 16, .on_flow_end = on_end,
						     .ctx = c });
}

/* The sinks closed: c->jbuf and c->hbuf hold their output, for the caller to free. */
static void collect_close(struct collect *c)
{
	sink__free(c->js);
	sink__free(c->hs);
	fclose(c->json);
	fclose(c->human);
}

/*
 * A passive child's whole life in one record, its ESTABLISHED > CLOSE_WAIT
 * one that no hook saw (inferred from LAST_ACK's old state).
 */
static struct tt_flowrec child_record(uint64_t sk, bool stats)
{
	static const uint8_t old[] = { TT_LISTEN, TT_SYN_RECV, TT_ESTABLISHED, TT_CLOSE_WAIT,
				       TT_LAST_ACK };
	static const uint8_t new[] = { TT_SYN_RECV, TT_ESTABLISHED, TT_CLOSE_WAIT, TT_LAST_ACK,
				       TT_CLOSE };
	struct tt_flowrec r = {
		.type = TT_EV_FLOW, .family = TT_AF_INET, .n = 5,
		.flags = TT_FR_END | TT_FR_COOKIE | (stats ? TT_FR_STATS : 0),
		.sport = 8000, .dport = 40000, .netns = 4026531840u, .sk = sk, .cookie = 77,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
		.task_pid = { 100 }, .task_tgid = { 100 }, .task_comm = { "srv" },
		.bytes_sent = 2345, .bytes_received = 100000, .segs_out = 6, .segs_in = 8,
		.retransmits = 1, .srtt_us = 41,
	};

	for (unsigned int i = 0; i < r.n; i++) {
		r.old_state[i] = old[i];
		r.new_state[i] = new[i];
		r.ts_ns[i] = 1000000 * (i + 1);
	}
	r.tflags[2] = TT_T_INFERRED;
	r.tflags[3] = TT_T_TASK0;
	return r;
}

TEST(flowstats_flow_record_to_every_sink)
{
	char *jbuf, *hbuf, *mbuf = NULL;
	size_t mlen = 0;
	struct collect c = { 0 };
	struct tt_engine *eng;
	struct tt_flowrec r;
	struct tt_metrics_input in = { .tw_population = -1 };
	FILE *m;
	char *nl;
	json_t *j;

	eng = collect_open(&c);
	REQUIRE(eng);
	r = child_record(0xffff888000010000ull, true);
	CHECK_EQ_INT(engine__feed_flow(eng, &r), 0);
	r = child_record(0xffff888000020000ull, false);
	r.dport = 40001;
	CHECK_EQ_INT(engine__feed_flow(eng, &r), 0);
	CHECK_EQ_INT(c.flows, 2);
	CHECK_EQ_INT(engine__total(eng)->inferred, 2);
	CHECK_EQ_INT(engine__interval(eng)->inferred, 2);

	in.eng = eng;
	m = open_memstream(&mbuf, &mlen);
	REQUIRE(m);
	metrics__render(m, &in);
	fclose(m);
	CHECK(strstr(mbuf, "# TYPE tcptrail_transitions_inferred_total counter\n") != NULL);
	CHECK(strstr(mbuf, "\ntcptrail_transitions_inferred_total 2\n") != NULL);
	free(mbuf);

	collect_close(&c);
	jbuf = c.jbuf;
	hbuf = c.hbuf;

	/* JSON: the first flow has its stats, the second none; both have inferred */
	REQUIRE(jbuf && (nl = strchr(jbuf, '\n')));
	*nl = '\0';
	j = json_loads(jbuf, 0, NULL);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "role")), "passive");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "dport")), 40000);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_sent")), 2345);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_received")), 100000);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "segs_out")), 6);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "segs_in")), 8);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "retransmits")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "srtt_us")), 41);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "inferred")), 1);
	json_decref(j);
	j = json_loads(nl + 1, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "dport")), 40001);
	for (size_t i = 0; i < N_STAT_KEYS; i++)
		CHECK(!json_object_get(j, stat_keys[i]));
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "inferred")), 1);
	json_decref(j);

	/* human: the first line has tx/rx, the second not */
	REQUIRE(hbuf && (nl = strchr(hbuf, '\n')));
	*nl = '\0';
	CHECK(strstr(hbuf, "  tx=2.29K rx=97.7K rtt=41us rtx=1  inferred=1") != NULL);
	CHECK(strstr(nl + 1, "tx=") == NULL);
	CHECK(strstr(nl + 1, "  inferred=1\n") != NULL);
	free(jbuf);
	free(hbuf);
	engine__free(eng);
}

/*
 * The record tp_btf_destroy_sock sends for a client whose FIN_WAIT2 > CLOSE
 * no transitions program recorded: its hand-over to TIME-WAIT inferred at
 * the socket's destruction.  It ends the flow in TIME-WAIT like a seen one,
 * is counted as an entry, and shows as inferred.
 */
TEST(flowstats_end_inferred_at_destruction)
{
	static const uint8_t old[] = { TT_CLOSE, TT_SYN_SENT, TT_ESTABLISHED, TT_FIN_WAIT1,
				       TT_FIN_WAIT2 };
	static const uint8_t new[] = { TT_SYN_SENT, TT_ESTABLISHED, TT_FIN_WAIT1, TT_FIN_WAIT2,
				       TT_TIME_WAIT };
	struct tt_flowrec r = {
		.type = TT_EV_FLOW, .family = TT_AF_INET, .n = 5,
		.flags = TT_FR_END | TT_FR_COOKIE | TT_FR_STATS, .tw_substate = TT_TIME_WAIT,
		.sport = 40002, .dport = 8000, .netns = 4026531840u,
		.sk = 0xffff888000030000ull, .cookie = 78,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
		.task_pid = { 101 }, .task_tgid = { 101 }, .task_comm = { "cli" },
	};
	struct collect c = { 0 };
	struct tt_engine *eng;
	json_t *j;

	for (unsigned int i = 0; i < r.n; i++) {
		r.old_state[i] = old[i];
		r.new_state[i] = new[i];
		r.ts_ns[i] = 1000000 * (i + 1);
	}
	r.tflags[0] = TT_T_TASK0;
	r.tflags[4] = TT_T_INFERRED | TT_T_TW_SUB;
	eng = collect_open(&c);
	REQUIRE(eng);
	CHECK_EQ_INT(engine__feed_flow(eng, &r), 0);
	CHECK_EQ_INT(c.flows, 1);
	CHECK_EQ_INT(engine__total(eng)->inferred, 1);
	CHECK_EQ_INT(engine__total(eng)->time_wait, 1);
	CHECK_EQ_INT(engine__total(eng)->ends[TT_END_TIME_WAIT], 1);
	CHECK_EQ_INT(engine__total(eng)->transitions[TT_CLOSE][TT_SYN_SENT], 1);
	CHECK_EQ_INT(engine__total(eng)->active, 0);
	collect_close(&c);
	j = json_loads(c.jbuf, 0, NULL);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "role")), "active");
	CHECK_STR(json_string_value(json_object_get(j, "end")), "time_wait");
	CHECK_STR(json_string_value(json_object_get(j, "tw_substate")), "TIME_WAIT");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "inferred")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "pid")), 101);
	json_decref(j);
	CHECK(strstr(c.hbuf, "inferred=1") != NULL);
	free(c.jbuf);
	free(c.hbuf);
	engine__free(eng);
}

/*
 * A client's whole life, its FIN_WAIT2 > TIME_WAIT by the rule: the flow
 * waits 2 ms for a reset before it counts (engine.c, settle()).
 */
static struct tt_flowrec client_record(uint64_t sk, uint64_t t0, uint16_t sport, uint32_t srtt)
{
	static const uint8_t old[] = { TT_CLOSE, TT_SYN_SENT, TT_ESTABLISHED, TT_FIN_WAIT1,
				       TT_FIN_WAIT2 };
	static const uint8_t new[] = { TT_SYN_SENT, TT_ESTABLISHED, TT_FIN_WAIT1, TT_FIN_WAIT2,
				       TT_TIME_WAIT };
	struct tt_flowrec r = {
		.type = TT_EV_FLOW, .family = TT_AF_INET, .n = 5, .hook = TT_HOOK_TP_BTF_SET_STATE,
		.flags = TT_FR_END | TT_FR_STATS, .tw_substate = TT_FIN_WAIT2,
		.sport = sport, .dport = 8000, .netns = 4026531840u, .sk = sk,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
		.task_pid = { 101 }, .task_tgid = { 101 }, .task_comm = { "cli" },
		.segs_out = 3, .segs_in = 2, .srtt_us = srtt,
	};

	for (unsigned int i = 0; i < r.n; i++) {
		r.old_state[i] = old[i];
		r.new_state[i] = new[i];
		r.ts_ns[i] = t0 + 1000 * i;
	}
	r.tflags[0] = TT_T_TASK0;
	r.tflags[4] = TT_T_TW_SUB;
	return r;
}

/*
 * A new socket at the address of one still waiting for its 2 ms: the
 * waiting flow ends with its own stats, and the new one keeps its own.
 */
TEST(flowstats_socket_reused_while_time_wait_pending)
{
	struct collect c = { 0 };
	struct tt_engine *eng = collect_open(&c);
	struct tt_flowrec r;
	char *nl;
	json_t *j;

	REQUIRE(eng);
	r = client_record(0xffff888000040000ull, 1000000, 40010, 111);
	CHECK_EQ_INT(engine__feed_flow(eng, &r), 0);
	CHECK_EQ_INT(c.flows, 0);		/* pending */
	r = client_record(0xffff888000040000ull, 1500000, 40011, 222);
	CHECK_EQ_INT(engine__feed_flow(eng, &r), 0);
	CHECK_EQ_INT(c.flows, 1);		/* the first, settled by the birth */
	engine__settle(eng, UINT64_MAX);
	CHECK_EQ_INT(c.flows, 2);
	collect_close(&c);
	REQUIRE(c.jbuf && (nl = strchr(c.jbuf, '\n')));
	*nl = '\0';
	j = json_loads(c.jbuf, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "sport")), 40010);
	CHECK_STR(json_string_value(json_object_get(j, "end")), "time_wait");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "srtt_us")), 111);
	json_decref(j);
	j = json_loads(nl + 1, 0, NULL);
	REQUIRE(j);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "sport")), 40011);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "srtt_us")), 222);
	json_decref(j);
	free(c.jbuf);
	free(c.hbuf);
	engine__free(eng);
}

/* The per-transition stream (-e) gives flows no stats: the same life, fed as tt_events. */
TEST(flowstats_per_transition_stream_has_none)
{
	struct collect c = { 0 };
	struct tt_flowrec r = child_record(0xffff888000030000ull, true);
	struct tt_engine *eng;
	json_t *j;

	eng = collect_open(&c);
	REQUIRE(eng);
	for (unsigned int i = 0; i < r.n; i++) {
		struct tt_event e = {
			.type = TT_EV_TRANSITION, .family = r.family, .sport = r.sport,
			.dport = r.dport, .netns = r.netns, .sk = r.sk, .ts_ns = r.ts_ns[i],
			.old_state = r.old_state[i], .new_state = r.new_state[i],
		};

		memcpy(e.saddr, r.saddr, 16);
		memcpy(e.daddr, r.daddr, 16);
		CHECK_EQ_INT(engine__feed(eng, &e), 0);
	}
	CHECK_EQ_INT(c.flows, 1);
	CHECK_EQ_INT(engine__total(eng)->inferred, 0);
	collect_close(&c);
	REQUIRE(c.jbuf);
	j = json_loads(c.jbuf, 0, NULL);
	REQUIRE(j);
	for (size_t i = 0; i < N_STAT_KEYS; i++)
		CHECK(!json_object_get(j, stat_keys[i]));
	CHECK(!json_object_get(j, "inferred"));
	json_decref(j);
	free(c.jbuf);
	free(c.hbuf);
	engine__free(eng);
}

/* The first flow line collect() took, parsed; NULL if none. */
static json_t *first_flow(struct collect *c)
{
	char *nl;

	if (!c->jbuf || !(nl = strchr(c->jbuf, '\n')))
		return NULL;
	*nl = '\0';
	return json_loads(c->jbuf, 0, NULL);
}

/* The first flow collect() took, parsed, once it and the engine are done with. */
static json_t *take_first_flow(struct collect *c, struct tt_engine *eng)
{
	json_t *j;

	collect_close(c);
	j = first_flow(c);
	free(c->jbuf);
	free(c->hbuf);
	engine__free(eng);
	return j;
}

/*
 * The kernel aborts a socket as CLOSE first and sends its RST after:
 * tcp_disconnect() (SO_LINGER 0), close() with unread data, data after
 * close() in FIN_WAIT2.  The stats were read at the CLOSE, so that RST is
 * one more segment out, as resets_sent says.
 */
TEST(flowstats_an_aborts_reset_is_a_segment_out)
{
	struct collect c = { 0 };
	struct tt_engine *eng = collect_open(&c);
	struct tt_flowrec r;
	struct tt_event rst = { .type = TT_EV_RESET_SENT, .family = TT_AF_INET, .sport = 40020,
				.dport = 8000, .netns = 4026531840u };
	json_t *j;

	REQUIRE(eng);
	/* ESTABLISHED > CLOSE with no error: an abort, its RST inferred */
	r = client_record(0xffff888000050000ull, 1000000, 40020, 100);
	r.n = 3;
	r.new_state[2] = TT_CLOSE;
	r.tflags[4] = 0;
	r.tw_substate = 0;
	CHECK_EQ_INT(engine__feed_flow(eng, &r), 0);
	engine__settle(eng, UINT64_MAX);
	CHECK_EQ_INT(c.flows, 1);
	j = take_first_flow(&c, eng);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "end")), "abort");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "resets_sent")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "segs_out")), 4);
	json_decref(j);

	/* the rule's FIN_WAIT2 entry, waiting: the reset right behind it settles it an abort */
	memset(&c, 0, sizeof(c));
	eng = collect_open(&c);
	REQUIRE(eng);
	r = client_record(0xffff888000060000ull, 1000000, 40021, 100);
	CHECK_EQ_INT(engine__feed_flow(eng, &r), 0);
	CHECK_EQ_INT(c.flows, 0);		/* pending */
	rst.sk = r.sk;
	rst.sport = 40021;
	rst.ts_ns = 1000000 + 5000;
	CHECK_EQ_INT(engine__feed(eng, &rst), 0);
	CHECK_EQ_INT(c.flows, 1);
	j = take_first_flow(&c, eng);
	REQUIRE(j);
	CHECK_STR(json_string_value(json_object_get(j, "end")), "abort");
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "resets_sent")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(j, "segs_out")), 4);
	json_decref(j);
}
