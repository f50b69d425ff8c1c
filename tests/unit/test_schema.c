// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * include/tcptrail.schema.json against real output: the replay of every
 * capture in tests/captures (real loopback traffic, through the whole
 * pipeline), and the sinks' records of every type, the rarer shapes too (a
 * remote CLOSE-WAIT service, a SYN cookie, IPv6, a transition of no flow).
 * python3-jsonschema checks each line (tests/tools/check-json.py); the live
 * run is tests/kernel/json-schema.sh.  Run from the top of the tree.
 */
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "opts.h"
#include "replay.h"
#include "sink.h"
#include "util.h"
#include "view.h"
#include "tt_test.h"

#define SCHEMA "include/tcptrail.schema.json"
#define CHECKER "tests/tools/check-json.py"

/* check-json.py's exit status on path, its one line of output on stderr. */
static int check(const char *require, const char *path)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), "python3 %s %s %s%s %s 1>&2", CHECKER, SCHEMA,
		 require ? "--require " : "", require ? require : "", path);
	fflush(stderr);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Whether check-json.py rejects path for a record the schema does not
 * allow: exit 1 with that reason, not any failure (no jsonschema, a line
 * that is not JSON at all), which would pass for a rejection.
 */
static bool schema_rejects(const char *path)
{
	char cmd[512], why[] = "/tmp/tt-schema-why-XXXXXX", buf[1024];
	bool said = false;
	int st, fd = mkstemp(why);
	FILE *f;

	if (fd < 0)
		return false;
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 %s %s %s >/dev/null 2>%s", CHECKER, SCHEMA, path, why);
	st = system(cmd);
	f = fopen(why, "r");
	while (f && !said && fgets(buf, sizeof(buf), f))
		said = strstr(buf, "record does not match the schema") != NULL;
	if (f)
		fclose(f);
	unlink(why);
	return WIFEXITED(st) && WEXITSTATUS(st) == 1 && said;
}

static int tmpfile_fd(char *path)
{
	strcpy(path, "/tmp/tt-schema-XXXXXX");
	return mkstemp(path);
}

TEST(schema_replayed_captures_are_valid)
{
	glob_t g;
	char path[32];
	int fd, so, n = 0;

	REQUIRE(access(SCHEMA, R_OK) == 0 && access(CHECKER, R_OK) == 0);
	REQUIRE(glob("tests/captures/*.ttcap", 0, NULL, &g) == 0);
	REQUIRE(g.gl_pathc >= 4);
	fd = tmpfile_fd(path);
	REQUIRE(fd >= 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *argv[] = { "tcptrail", "-r", g.gl_pathv[i], "--json", "-e", "-i", "1",
				 "--close-wait-age", "1", NULL };
		struct tt_opts o;
		bool exit_now;
		int se = dup(2), devnull = open("/dev/null", O_WRONLY), level = tt_verbosity;

		fflush(stdout);
		so = dup(1);
		dup2(fd, 1);
		dup2(devnull, 2);
		if (!tt_opts_parse(9, argv, &o, &exit_now) && !replay__run(&o, false, NULL, NULL))
			n++;
		fflush(stdout);
		clearerr(stdout);
		dup2(so, 1);
		dup2(se, 2);
		close(so);
		close(se);
		close(devnull);
		tt_verbosity = level;
	}
	CHECK_EQ_INT(n, g.gl_pathc);
	CHECK_EQ_INT(check("flow,transition,summary,time_wait", path), 0);
	globfree(&g);
	close(fd);
	unlink(path);
}

static struct tt_flow flow6(void)
{
	struct tt_flow f = {
		.id = 3, .cookie = 1ull << 40, .sk = 0xffff888001234000ull, .netns = 4026531840u,
		.family = TT_AF_INET6, .role = TT_ROLE_PASSIVE, .end = TT_END_TIME_WAIT,
		.tw_substate = TT_FIN_WAIT2, .flags = TT_FLOW_OWNER_KNOWN | TT_FLOW_TRUNCATED,
		.nstates = 3, .sport = 443, .dport = 50000, .owner_pid = 42,
		.owner_comm = "nginx\"\\\n", .closer_pid = 42, .closer_comm = "nginx",
		.state = { TT_SYN_RECV, TT_ESTABLISHED, TT_TIME_WAIT },
		.ts_ns = { 1000, 2000, 3000 },
	};

	memset(f.saddr, 0xfe, 16);
	f.daddr[15] = 1;
	return f;
}

TEST(schema_every_record_type_is_valid)
{
	struct tt_flow f = flow6();
	struct tt_event e = { .type = TT_EV_TRANSITION, .family = TT_AF_INET, .old_state = TT_LISTEN,
			      .new_state = TT_CLOSE, .netns = 1, .ts_ns = 5000, .sport = 80,
			      .tgid = 9, .comm = "srv" };
	struct tt_event ov = { .type = TT_EV_OVERFLOW, .family = TT_AF_INET6, .netns = 1,
			       .flags = TT_F_SYNCOOKIE, .ts_ns = 6000, .sport = 80, .dport = 1234,
			       .aux = { TT_Q_SYN, 128, 3, 128 } };
	struct tt_cw_group cw[2] = {
		{ .pid = 7, .comm = "leaky", .cmdline = "leaky --port 8000", .netns = 1,
		  .family = TT_AF_INET, .kind = TT_SVC_LOCAL, .trend = TT_TREND_GROWING,
		  .port = 8000, .count = 3, .seeded = 1, .prev_count = 2, .oldest_age_ns = 99 },
		{ .pid = 8, .comm = "client", .netns = 1, .family = TT_AF_INET6,
		  .kind = TT_SVC_REMOTE, .trend = TT_TREND_NEW, .addr = { 0x20, 0x01, 0x0d, 0xb8 },
		  .port = 5432, .count = 1 },
	};
	struct tw_report tw = { .t_ns = 7000, .interval_ns = 1000000000, .entries = 3,
				.by_client = 3, .population = -1, .estimated = true,
				.port_lo = 32768, .port_hi = 60999, .tw_reuse_sysctl = -1,
				.n_remote = 1, .n_local = 1, .n_pressure = 1 };
	struct tt_engine_stats st = { .flows_opened = 1, .active = 2 };
	struct tt_summary sum = { .t_ns = 8000, .interval_ns = 1000, .final = true,
				  .interval = &st, .total = &st };
	struct tt_cw_report rep = { .g = cw, .n = 2, .t_ns = 6500, .min_age_ns = 10 };
	struct tt_sink *s;
	char path[32];
	FILE *out;
	int fd;

	tw.remote[0] = (struct tw_endpoint){ .family = TT_AF_INET, .addr = { 10, 0, 0, 2 },
					     .port = 80, .count = 3 };
	tw.local[0] = (struct tw_endpoint){ .family = TT_AF_INET, .addr = { 10, 0, 0, 1 },
					    .count = 3 };
	tw.pressure[0] = (struct tw_pressure){ .family = TT_AF_INET, .addr = { 10, 0, 0, 2 },
					       .port = 80, .time_wait = 3, .range = 28232,
					       .share_pct = 0.01 };
	st.transitions[TT_SYN_SENT][TT_ESTABLISHED] = 1;
	fd = tmpfile_fd(path);
	REQUIRE(fd >= 0);
	out = fdopen(fd, "w");
	REQUIRE(out);
	s = sink__new(&(struct tt_sink_opts){ .out = out, .json = true, .wall_offset_ns = 1 });
	REQUIRE(s);
	sink__flow(s, &f);
	sink__transition(s, &e, NULL);
	sink__transition(s, &e, &f);
	sink__overflow(s, &ov, NULL);
	ov.flags = 0;
	ov.aux[0] = TT_Q_ACCEPT;
	sink__overflow(s, &ov, &f);
	sink__close_wait(s, cw, 2, 6500, 10);
	/* a report past its groups: the first named, the other counted */
	tt_cw_report_limit(&rep, 1);
	sink__close_wait_report(s, &rep);
	sink__time_wait(s, &tw);
	sink__summary(s, &sum);
	sink__free(s);
	fclose(out);
	CHECK_EQ_INT(check("flow,transition,overflow,close_wait,close_wait_not_shown,time_wait,"
			   "summary", path), 0);
	unlink(path);
}

/* --snapshot's records: a listener, and a connection in its accept queue, unaccepted */
TEST(schema_snapshot_records_are_valid)
{
	struct view_sock s[2] = {
		{ .family = TT_AF_INET, .state = TT_LISTEN, .sport = 8080, .netns = 4026531840u,
		  .pid = 42, .holders = 1, .comm = "srv", .inode = 1234, .has_queues = true },
		{ .family = TT_AF_INET, .state = TT_CLOSE_WAIT, .sport = 8080, .dport = 50000,
		  .netns = 4026531840u, .pid = 42, .comm = "srv", .unaccepted = true,
		  .has_queues = true, .rqueue = 7, .age_kind = VIEW_AGE_AT_LEAST, .age_ms = 3000 },
	};
	struct tt_opts o = { .snapshot = true, .json = true };
	char path[32];
	int fd = tmpfile_fd(path);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct tt_view *v = view__new(&o, out, false);

	REQUIRE(out && v);
	for (int i = 0; i < 2; i++)
		view__add(v, &s[i]);
	view__print(v, 1764849600000000000ll, "sock_diag", 1);
	view__free(v);
	fclose(out);
	CHECK_EQ_INT(check("socket,snapshot", path), 0);
	unlink(path);
}

/* The check can fail: unknown fields, missing ones, an old version. */
TEST(schema_rejects_what_it_does_not_describe)
{
	static const char *bad[] = {
		"{\"type\":\"summary\",\"version\":6,\"t_ns\":1,\"time\":\"2026-12-04T12:00:01.000000Z\"}",
		"{\"type\":\"nope\",\"version\":6,\"t_ns\":1,\"time\":\"2026-12-04T12:00:01.000000Z\"}",
	};
	struct tt_flow f = flow6();
	char path[32], *line = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&line, &len);
	struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = mem, .json = true });

	REQUIRE(s && mem);
	sink__flow(s, &f);
	sink__free(s);
	fclose(mem);
	for (int i = 0; i < 5; i++) {
		FILE *out;
		int fd = tmpfile_fd(path);
		char *p;

		REQUIRE(fd >= 0);
		out = fdopen(fd, "w");
		REQUIRE(out);
		if (i < 2) {
			fprintf(out, "%s\n", bad[i]);
		} else if (i == 2) {	/* a field the schema does not name */
			fprintf(out, "{\"extra\":1,%s", line + 1);
		} else if (i == 3) {	/* without its time */
			p = strstr(line, ",\"time\":");
			fprintf(out, "%.*s%s", (int)(p - line), line, strchr(p + 8, '"' ) ?
				strchr(strchr(p + 9, '"') + 1, ',') : "");
		} else {		/* the old version */
			char now[32];

			snprintf(now, sizeof(now), "\"version\":%d", TT_JSON_VERSION);
			p = strstr(line, now);
			REQUIRE(p);
			fprintf(out, "%.*s\"version\":3%s", (int)(p - line), line, p + strlen(now));
		}
		fclose(out);
		CHECK(schema_rejects(path));
		unlink(path);
	}
	free(line);
}

/*
 * Issue 16: a flow with the kernel's stats at its end and inferred
 * transitions, one without either, a summary with inferred: valid; a
 * negative byte count, or "inferred" 0 (absent means none), is not.
 */
TEST(schema_flow_stats)
{
	struct tt_flow f = flow6(), g = flow6();
	struct tt_engine_stats st = { .inferred = 3 };
	struct tt_summary sum = { .t_ns = 8000, .interval_ns = 1000, .interval = &st, .total = &st };
	char path[32], *line = NULL, *p;
	size_t len = 0;
	struct tt_sink *s;
	FILE *out;
	int fd;

	f.flags |= TT_FLOW_STATS;
	f.bytes_sent = 1ull << 40;
	f.bytes_received = 0;
	f.segs_out = 3;
	f.segs_in = 4;
	f.retransmits = 1;
	f.srtt_us = 17;
	f.inferred = 2;
	fd = tmpfile_fd(path);
	REQUIRE(fd >= 0);
	out = fdopen(fd, "w");
	REQUIRE(out);
	s = sink__new(&(struct tt_sink_opts){ .out = out, .json = true });
	REQUIRE(s);
	sink__flow(s, &f);
	sink__flow(s, &g);
	sink__summary(s, &sum);
	sink__free(s);
	fclose(out);
	CHECK_EQ_INT(check("flow,summary", path), 0);
	unlink(path);

	out = open_memstream(&line, &len);
	REQUIRE(out);
	s = sink__new(&(struct tt_sink_opts){ .out = out, .json = true });
	REQUIRE(s);
	sink__flow(s, &f);
	sink__free(s);
	fclose(out);
	REQUIRE(line && strstr(line, "\"bytes_received\":0,") && strstr(line, "\"inferred\":2,"));
	for (int i = 0; i < 2; i++) {
		fd = tmpfile_fd(path);
		REQUIRE(fd >= 0);
		out = fdopen(fd, "w");
		REQUIRE(out);
		if (i == 0) {
			p = strstr(line, "\"bytes_received\":0,");
			fprintf(out, "%.*s\"bytes_received\":-1,%s", (int)(p - line), line, p + 19);
		} else {
			p = strstr(line, "\"inferred\":2,");
			fprintf(out, "%.*s\"inferred\":0,%s", (int)(p - line), line, p + 13);
		}
		fclose(out);
		CHECK(schema_rejects(path));
		unlink(path);
	}
	free(line);
}

/*
 * The README's JSON section names the version the program writes, and its
 * history says what that version added: both went stale once (it said 6
 * when 7 was written).  The schema's description of "version" and the man
 * page are checked the same way.
 */
TEST(schema_readme_names_the_version_written)
{
	char want[64], hist[64], desc[64], man[64];
	char *readme = NULL, *schema = NULL, *page = NULL;
	size_t n = 0;
	FILE *f;

	f = fopen("README.md", "r");
	REQUIRE(f);
	CHECK(getdelim(&readme, &n, '\0', f) > 0);
	fclose(f);
	n = 0;
	f = fopen(SCHEMA, "r");
	REQUIRE(f);
	CHECK(getdelim(&schema, &n, '\0', f) > 0);
	fclose(f);
	n = 0;
	f = fopen("user/tcptrail.8", "r");
	REQUIRE(f);
	CHECK(getdelim(&page, &n, '\0', f) > 0);
	fclose(f);
	REQUIRE(readme && schema && page);
	snprintf(want, sizeof(want), "`version` (now %d)", TT_JSON_VERSION);
	snprintf(hist, sizeof(hist), "Version %d:", TT_JSON_VERSION);
	snprintf(desc, sizeof(desc), "their meaning. %d: ", TT_JSON_VERSION);
	CHECK(strstr(readme, want) != NULL);
	CHECK(strstr(readme, hist) != NULL);
	CHECK(strstr(schema, desc) != NULL);
	snprintf(man, sizeof(man), "(now %d; raised", TT_JSON_VERSION);
	CHECK(strstr(page, man) != NULL);
	free(readme);
	free(schema);
	free(page);
}
