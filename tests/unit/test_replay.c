// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Replay through the real pipeline, in process: the captures that
 * tcptrail made of real loopback traffic (tests/captures/README.md), and
 * small ones written here with the writer API.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "capture.h"
#include "opts.h"
#include "replay.h"
#include "util.h"
#include "capkit.h"
#include "records.h"
#include "replayrun.h"
#include "tt_test.h"

/* tcptrail ARGS... with stdout and stderr captured; NULL-terminated. */
static struct replay_run replay(const char *first, ...)
{
	char *argv[32] = { "tcptrail", (char *)first };
	int argc = 2;
	va_list ap;

	va_start(ap, first);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return replay_run_argv(argc, argv);
}


/* The last line of s (which ends with a newline), or "" */
static const char *last_line_of(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || s[n - 1] != '\n')
		return "";
	while (n > 1 && s[n - 2] != '\n')
		n--;
	return s + n - 1;
}

/*
 * The captures are part of the tree, so one that cannot be read is a
 * failure, not a skip: the unit tests run from the top of the tree.
 */
static bool have(const char *path)
{
	if (!access(path, R_OK))
		return true;
	fprintf(stderr, "    %s: %s (run unit_tests from the top of the tree)\n",
		path, strerror(errno));
	return false;
}

/* Each JSON line of type `type`, parsed; the caller json_decref()s. */
static int json_lines(const char *text, const char *type, json_t **out, int max)
{
	int n = 0;

	for (const char *line = text; line && *line && n < max;) {
		const char *end = strchr(line, '\n');
		json_error_t jerr;
		json_t *j = json_loadb(line, end ? (size_t)(end - line) : strlen(line), 0, &jerr);

		if (j && !strcmp(json_string_value(json_object_get(j, "type")) ?: "", type))
			out[n++] = j;
		else
			json_decref(j);
		line = end ? end + 1 : NULL;
	}
	return n;
}

TEST(replay_close_capture_json)
{
	const char *path = "tests/captures/close.ttcap";
	json_t *flows[32], *sums[8];
	struct replay_run r;
	int nf, ns, active = 0, passive = 0, listeners = 0;

	REQUIRE(have(path));
	/* a zone of its own (a POSIX rule, no tzdata needed): the start is still said in UTC */
	setenv("TZ", "IST-5:30", 1);
	tzset();
	r = replay("-r", path, "--json", NULL);
	unsetenv("TZ");
	tzset();
	CHECK_EQ_INT(r.status, 0);
	nf = json_lines(r.out, "flow", flows, 32);
	ns = json_lines(r.out, "summary", sums, 8);
	CHECK_EQ_INT(nf, 10);
	for (int i = 0; i < nf; i++) {
		const char *role = json_string_value(json_object_get(flows[i], "role"));
		const char *end = json_string_value(json_object_get(flows[i], "end"));
		json_t *states = json_object_get(flows[i], "states");

		if (!strcmp(role, "active"))
			active++;
		else if (!strcmp(role, "passive"))
			passive++;
		else if (!strcmp(role, "listener"))
			listeners++;
		/* every connection was born and ended in the capture */
		CHECK(!json_is_true(json_object_get(flows[i], "partial")));
		CHECK(!strcmp(end, "time_wait") || !strcmp(end, "close"));
		CHECK(json_array_size(states) >= 2);
		CHECK(json_integer_value(json_object_get(flows[i], "sport")) == 47001 ||
		      json_integer_value(json_object_get(flows[i], "dport")) == 47001);
		CHECK(!strncmp(json_string_value(json_object_get(flows[i], "start")), "20", 2));
		json_decref(flows[i]);
	}
	CHECK_EQ_INT(active, 4);
	CHECK_EQ_INT(passive, 4);
	CHECK_EQ_INT(listeners, 2);
	REQUIRE(ns >= 1);
	CHECK(json_is_true(json_object_get(sums[ns - 1], "final")));
	CHECK_EQ_INT(json_integer_value(json_object_get(sums[ns - 1], "flows_opened")), 10);
	CHECK_EQ_INT(json_integer_value(json_object_get(sums[ns - 1], "time_wait")), 4);
	CHECK_EQ_INT(json_integer_value(json_object_get(sums[ns - 1], "lost")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(sums[ns - 1], "invalid")), 0);
	for (int i = 0; i < ns; i++)
		json_decref(sums[i]);
	/* the capture says where it came from */
	CHECK(strstr(r.err, "tcptrail: replaying tests/captures/close.ttcap: started ") != NULL);
	/* in UTC, as the records are, whatever TZ says */
	CHECK(strstr(r.err, " UTC on ") != NULL);
	CHECK(strstr(r.err, " IST on ") == NULL);
	CHECK(strstr(r.err, "filters: ports=47001") != NULL);
	replay_run_free(&r);
}

TEST(replay_reset_capture_human_and_events)
{
	const char *path = "tests/captures/reset.ttcap";
	struct replay_run r;

	REQUIRE(have(path));
	r = replay("-r", path, NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(tt_count(r.out, " > CLOSE (refused)"), 1);
	CHECK_EQ_INT(tt_count(r.out, " > CLOSE (reset)"), 2);
	CHECK_EQ_INT(tt_count(r.out, " > CLOSE (abort)"), 2);
	CHECK(strstr(r.out, "Z info final_summary ") != NULL);
	CHECK(strstr(r.out, " refused=1 resets=2 ") != NULL);
	replay_run_free(&r);

	r = replay("-r", path, "-e", "--color", "never", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(tt_count(r.out, "SYN_SENT -> CLOSE"), 1);
	CHECK_EQ_INT(tt_count(r.out, "CLOSE -> SYN_SENT"), 3);
	replay_run_free(&r);
}

TEST(replay_filters_match_the_kernel)
{
	const char *close = "tests/captures/close.ttcap", *reset = "tests/captures/reset.ttcap";
	char pid[16];
	json_t *flows[32];
	struct replay_run r;
	int n;

	REQUIRE(have(close) && have(reset));
	r = replay("-r", reset, "--json", "-P", "47013", NULL);
	n = json_lines(r.out, "flow", flows, 32);
	CHECK_EQ_INT(n, 1);
	if (n)
		CHECK_STR(json_string_value(json_object_get(flows[0], "end")), "refused");
	while (n)
		json_decref(flows[--n]);
	replay_run_free(&r);

	r = replay("-r", close, "--json", "-6", NULL);
	n = json_lines(r.out, "flow", flows, 32);
	CHECK_EQ_INT(n, 5);
	for (int i = 0; i < n; i++) {
		CHECK_STR(json_string_value(json_object_get(flows[i], "family")), "ipv6");
		json_decref(flows[i]);
	}
	replay_run_free(&r);

	/* -L: the server's side only (as in the kernel, the client's birth has no port yet) */
	r = replay("-r", close, "--json", "-L", "47001", NULL);
	n = json_lines(r.out, "flow", flows, 32);
	CHECK_EQ_INT(n, 6);
	while (n)
		json_decref(flows[--n]);
	replay_run_free(&r);

	r = replay("-r", close, "--json", "-N", "1", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 0);
	replay_run_free(&r);

	/* -p: the owner's flows, found as the kernel finds them */
	r = replay("-r", close, "--json", NULL);
	n = json_lines(r.out, "flow", flows, 32);
	REQUIRE(n > 0);
	snprintf(pid, sizeof(pid), "%lld", json_integer_value(json_object_get(flows[0], "pid")));
	while (n)
		json_decref(flows[--n]);
	replay_run_free(&r);
	r = replay("-r", close, "--json", "-p", pid, NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 10);
	replay_run_free(&r);
	r = replay("-r", close, "--json", "-p", "1", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 0);
	replay_run_free(&r);
}

TEST(replay_ladders_from_real_captures)
{
	struct replay_run r;

	REQUIRE(have("tests/captures/simclose.ttcap") && have("tests/captures/synack.ttcap"));
	r = replay("-r", "tests/captures/simclose.ttcap", "--ladder", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(tt_count(r.out, "ladder legend:"), 1);
	CHECK_EQ_INT(tt_count(r.out, "\nladder at "), 1);
	/* both ends FIN_WAIT1 > CLOSING > TIME_WAIT, and the FINs cross */
	CHECK(strstr(r.out, "  FIN_WAIT1    |------------- FIN ------------->|\n") != NULL);
	CHECK(strstr(r.out, "|<------------- FIN -------------| FIN_WAIT1\n") != NULL);
	CHECK(strstr(r.out, "  CLOSING      |------------- ACK ------------->|\n") != NULL);
	CHECK(strstr(r.out, "|<------------- ACK -------------| CLOSING\n") != NULL);
	CHECK(strstr(r.out, "  TIME_WAIT    |                                |\n") != NULL);
	CHECK(strstr(r.out, "|                                | TIME_WAIT\n") != NULL);
	CHECK(strstr(r.out, "end: client time_wait after") != NULL);
	/* the listener keeps its one-line timeline */
	CHECK(strstr(r.out, "LISTEN ") != NULL);
	replay_run_free(&r);

	r = replay("-r", "tests/captures/synack.ttcap", "--ladder", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(tt_count(r.out, "|<--- SYN+ACK (retransmitted) ---|") >= 1);
	CHECK(strstr(r.out, "|<----------- SYN+ACK -----------|\n") != NULL);
	replay_run_free(&r);

	r = replay("-r", "tests/captures/reset.ttcap", "--ladder", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\nladder at "), 3);
	CHECK(strstr(r.out, "(no socket: the connection was refused)") != NULL);
	CHECK_EQ_INT(tt_count(r.out, " RST "), 3);
	replay_run_free(&r);
}

TEST(replay_summaries_follow_the_capture_clock)
{
	const char *path = "tests/captures/synack.ttcap";
	json_t *sums[32];
	struct replay_run r;
	int n;

	REQUIRE(have(path));
	r = replay("-r", path, "--json", "-i", "1", NULL);
	n = json_lines(r.out, "summary", sums, 32);
	/* the capture spans about 6 s of record time: several 1 s summaries */
	CHECK(n >= 3);
	for (int i = 0; i < n; i++) {
		if (i < n - 1)
			CHECK(json_integer_value(json_object_get(sums[i], "interval_ns")) >= 1000000000);
		json_decref(sums[i]);
	}
	replay_run_free(&r);

	/* -d: stop after 2 s of capture time */
	r = replay("-r", path, "--json", "-d", "2", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 0);
	CHECK_EQ_INT(tt_count(r.out, "\"final\":true"), 1);
	replay_run_free(&r);
}

static char *tmpfile_path(void)
{
	char *p = strdup("/tmp/tt_replay_XXXXXX");
	int fd = mkstemp(p);

	close(fd);
	return p;
}

/* tests/captures/close.ttcap's bytes (more than 200), or -1. */
static ssize_t close_capture(unsigned char *buf, size_t len)
{
	const char *path = "tests/captures/close.ttcap";
	ssize_t n;
	int fd;

	if (!have(path))
		return -1;
	fd = open(path, O_RDONLY);
	n = read(fd, buf, len);
	close(fd);
	return n > 200 ? n : -1;
}

TEST(replay_of_a_cut_capture_outputs_all_then_fails)
{
	char *cut = tmpfile_path();
	unsigned char buf[1 << 16];
	struct replay_run r;
	ssize_t n = close_capture(buf, sizeof(buf));
	int fd;

	if (n < 0) {
		CHECK(!"tests/captures/close.ttcap readable");
		goto out;
	}
	fd = open(cut, O_WRONLY | O_TRUNC);
	REQUIRE(write(fd, buf, n - 60) == n - 60);
	close(fd);
	r = replay("-r", cut, "--json", NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(tt_count(r.out, "\"type\":\"flow\"") >= 1);
	CHECK_EQ_INT(tt_count(r.out, "\"final\":true"), 1);
	CHECK(strstr(r.err, ": truncated at offset ") != NULL);
	/* the error is the last thing said: the last line */
	CHECK(strstr(last_line_of(r.err), ": truncated at offset ") != NULL);
	replay_run_free(&r);
	/* --snapshot: the view of what was read, then the same failure */
	r = replay("-r", cut, "--snapshot", "--json", NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"snapshot\""), 1);
	CHECK(strstr(r.err, ": truncated at offset ") != NULL);
	replay_run_free(&r);
out:
	unlink(cut);
	free(cut);
}

/*
 * The same cut file while its writer still holds it (a tcptrail -w locks
 * the file it writes): a capture in progress, replayed as far as it goes,
 * and no fault.
 */
TEST(replay_of_a_capture_in_progress_outputs_all_and_succeeds)
{
	char *cut = tmpfile_path();
	unsigned char buf[1 << 16];
	struct replay_run r;
	ssize_t n = close_capture(buf, sizeof(buf));
	int writer = -1;

	if (n < 0) {
		CHECK(!"tests/captures/close.ttcap readable");
		goto out;
	}
	writer = open(cut, O_WRONLY | O_TRUNC);
	REQUIRE(writer >= 0 && !flock(writer, LOCK_EX));
	REQUIRE(write(writer, buf, n - 60) == n - 60);
	r = replay("-r", cut, "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(tt_count(r.out, "\"type\":\"flow\"") >= 1);
	CHECK_EQ_INT(tt_count(r.out, "\"final\":true"), 1);
	CHECK(strstr(r.err, ": a running tcptrail is still writing it; read up to offset ") != NULL);
	CHECK(!strstr(r.err, "truncated"));
	replay_run_free(&r);
	r = replay("-r", cut, "--snapshot", "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"snapshot\""), 1);
	CHECK(strstr(r.err, ": a running tcptrail is still writing it") != NULL);
	replay_run_free(&r);
	/* just begun: not even the header is out yet */
	REQUIRE(!ftruncate(writer, 0) && pwrite(writer, buf, 10, 0) == 10);
	r = replay("-r", cut, NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK_STR(r.out, "");
	CHECK(strstr(r.err, "has just begun writing it; its header is not written out yet; "
			    "nothing to replay yet\n") != NULL);
	replay_run_free(&r);
	/* the writer gone (killed): the same bytes are a cut capture again */
	close(writer);
	writer = -1;
	r = replay("-r", cut, NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "truncated") != NULL);
	replay_run_free(&r);
out:
	if (writer >= 0)
		close(writer);
	unlink(cut);
	free(cut);
}

TEST(replay_errors_are_one_line_and_status_2)
{
	struct replay_run r;
	char *junk = tmpfile_path();
	int fd = open(junk, O_WRONLY);

	CHECK(write(fd, "not a capture at all\n", 21) == 21);
	close(fd);
	r = replay("-r", "/nonexistent.ttcap", NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK_STR(r.err, "tcptrail: /nonexistent.ttcap: No such file or directory\n");
	CHECK_STR(r.out, "");
	replay_run_free(&r);

	r = replay("-r", junk, NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "not a tcptrail capture (bad magic at offset 0") != NULL);
	CHECK_EQ_INT(tt_count(r.err, "\n"), 1);
	replay_run_free(&r);
	unlink(junk);
	free(junk);

	/* a name too long, or with a newline: one line still, ending with the reason */
	{
		char long_name[5001];

		memset(long_name, 'z', 5000);
		long_name[5000] = '\0';
		r = replay("-r", long_name, NULL);
		CHECK_EQ_INT(r.status, 2);
		CHECK_EQ_INT(tt_count(r.err, "\n"), 1);
		CHECK(strstr(r.err, "zzz...zzz") && strstr(r.err, "zzz: File name too long\n"));
		replay_run_free(&r);
	}
	r = replay("-r", "/nonexistent\nname", NULL);
	CHECK_STR(r.err, "tcptrail: /nonexistent?name: No such file or directory\n");
	replay_run_free(&r);
}

TEST(replay_lost_events_come_from_the_capture)
{
	char *path = tmpfile_path();
	struct tt_capture *c;
	struct tt_event e = {
		.type = TT_EV_TRANSITION, .family = TT_AF_INET, .old_state = TT_CLOSE,
		.new_state = TT_SYN_SENT, .sport = 0, .dport = 80, .ts_ns = 2000000000ull, .sk = 1,
		.saddr = { 10, 0, 0, 1 }, .daddr = { 10, 0, 0, 2 },
	};
	struct replay_run r;

	unlink(path);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path,
							       .start_ns = 1000000000ull }));
	REQUIRE(!capture__write(c, &e));
	REQUIRE(!capture__tick(c, 2500000000ull, 5, 0));
	e.old_state = TT_SYN_SENT;
	e.new_state = TT_CLOSE;
	e.sport = 5555;
	e.aux[0] = 111;	/* ECONNREFUSED */
	e.ts_ns = 3000000000ull;
	REQUIRE(!capture__write(c, &e));
	REQUIRE(!capture__close(c, 4000000000ull, 9, 2));

	r = replay("-r", path, "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "\"end\":\"refused\"") != NULL);
	CHECK(strstr(r.out, "\"final\":true") != NULL);
	CHECK(strstr(r.out, "\"lost\":9,") != NULL);
	/* the final summary falls on the capture's last time: 3 s after its start */
	CHECK(strstr(r.out, "\"t_ns\":4000000000,") != NULL);
	CHECK(strstr(r.out, "\"interval_ns\":3000000000,") != NULL);
	CHECK(strstr(r.err, "warning: 9 events were lost") != NULL);
	CHECK(strstr(r.err, "evicted 2 flows") != NULL);
	replay_run_free(&r);

	r = replay("-r", path, "--ladder", NULL);
	CHECK(strstr(r.out, "  server 10.0.0.2:80  (no socket: the connection was refused)\n") != NULL);
	replay_run_free(&r);
	unlink(path);
	free(path);
}

/* ---- on-call views on replay: --state, --remote/--local, --snapshot, --top ---- */

TEST(replay_state_and_address_filters)
{
	const char *path = "tests/captures/close.ttcap";
	json_t *flows[32], *sums[8];
	struct replay_run r;
	int n, ns;

	REQUIRE(have(path));
	/* the ends that were left in CLOSE_WAIT: 2 servers and 2 clients, IPv4 and IPv6 */
	r = replay("-r", path, "--json", "--state", "close-wait", NULL);
	CHECK_EQ_INT(r.status, 0);
	n = json_lines(r.out, "flow", flows, 32);
	CHECK_EQ_INT(n, 4);
	for (int i = 0; i < n; i++) {
		json_t *st = json_object_get(flows[i], "states");
		bool cw = false;

		for (size_t k = 0; k < json_array_size(st); k++)
			cw |= !strcmp(json_string_value(json_object_get(json_array_get(st, k),
									 "state")) ?: "", "CLOSE_WAIT");
		CHECK(cw);
		json_decref(flows[i]);
	}
	/* an output filter: the summary still counts every flow traced */
	ns = json_lines(r.out, "summary", sums, 8);
	REQUIRE(ns >= 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(sums[ns - 1], "flows_opened")), 10);
	while (ns)
		json_decref(sums[--ns]);
	replay_run_free(&r);

	r = replay("-r", path, "--json", "--state", "LISTEN", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"role\":\"listener\""), 2);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 2);
	replay_run_free(&r);

	/* -e: the transitions into or out of the states */
	r = replay("-r", path, "-e", "--quiet-flows", "--color", "never", "--state", "close-wait",
		   NULL);
	CHECK_EQ_INT(tt_count(r.out, "-> CLOSE_WAIT"), 4);
	CHECK_EQ_INT(tt_count(r.out, "CLOSE_WAIT -> LAST_ACK"), 4);
	CHECK_EQ_INT(tt_count(r.out, "SYN_SENT ->"), 0);
	CHECK_EQ_INT(tt_count(r.out, "-> FIN_WAIT"), 0);
	replay_run_free(&r);

	/* --remote: the connections to the IPv6 loopback (a listener has no remote) */
	r = replay("-r", path, "--json", "--remote", "::1", NULL);
	n = json_lines(r.out, "flow", flows, 32);
	CHECK_EQ_INT(n, 4);
	for (int i = 0; i < n; i++) {
		CHECK_STR(json_string_value(json_object_get(flows[i], "daddr")), "::1");
		json_decref(flows[i]);
	}
	CHECK(strstr(r.out, "\"flows_opened\":4,") != NULL);	/* a record filter */
	replay_run_free(&r);
	r = replay("-r", path, "--json", "--remote", "10.0.0.0/8", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 0);
	replay_run_free(&r);
	r = replay("-r", path, "--json", "--local", "127.0.0.0/8", "--local", "::1", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 10);
	replay_run_free(&r);
	/* both: an IPv4 local end and an IPv6 remote one never meet */
	r = replay("-r", path, "--json", "--local", "127.0.0.1", "--remote", "::1", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 0);
	replay_run_free(&r);
}

TEST(replay_snapshot_is_the_end_of_the_capture)
{
	const char *path = "tests/captures/close.ttcap";
	json_t *socks[16], *snap[4];
	struct replay_run r;
	int n, ns, tw = 0, fw2 = 0;

	REQUIRE(have(path));
	/*
	 * At the end, every connection had closed: left are the clients' 2
	 * TIME-WAIT entries and the 2 servers' orphans.  Those were timewait
	 * socks in FIN_WAIT2 until their peers' FIN, which their peers' flows
	 * show (CLOSE_WAIT > LAST_ACK > CLOSE: our last ACK came): TIME_WAIT
	 * now, as ss shows them then.
	 */
	r = replay("-r", path, "--snapshot", "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	n = json_lines(r.out, "socket", socks, 16);
	ns = json_lines(r.out, "snapshot", snap, 4);
	CHECK_EQ_INT(n, 4);
	REQUIRE(ns == 1);
	for (int i = 0; i < n; i++) {
		const char *st = json_string_value(json_object_get(socks[i], "state"));

		tw += !strcmp(st, "TIME_WAIT");
		fw2 += !strcmp(st, "FIN_WAIT2");
		CHECK(json_is_true(json_object_get(socks[i], "timewait")));
		CHECK(json_is_true(json_object_get(socks[i], "age_exact")));
		CHECK(json_integer_value(json_object_get(socks[i], "age_ms")) > 1000);
		CHECK(json_integer_value(json_object_get(socks[i], "age_ms")) < 5000);
		/* a capture has no queue sizes: unknown, not 0 */
		CHECK(json_is_null(json_object_get(socks[i], "rqueue")));
		CHECK(json_is_null(json_object_get(socks[i], "wqueue")));
		json_decref(socks[i]);
	}
	CHECK_EQ_INT(tw, 4);
	CHECK_EQ_INT(fw2, 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(snap[0], "sockets")), 4);
	CHECK_STR(json_string_value(json_object_get(snap[0], "source")), "capture");
	CHECK_EQ_INT(json_array_size(json_object_get(snap[0], "groups")), 1);
	json_decref(snap[0]);
	/* no flow lines and no summary: a view, and nothing else */
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"flow\""), 0);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"summary\""), 0);
	replay_run_free(&r);

	/* --state picks sockets by their state now; --quiet-flows leaves the groups */
	r = replay("-r", path, "--snapshot", "--json", "--quiet-flows", "--state", "time-wait",
		   NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"socket\""), 0);
	CHECK(strstr(r.out, "\"sockets\":4,") != NULL);
	CHECK(strstr(r.out, "\"states\":{\"TIME_WAIT\":4}") != NULL);
	replay_run_free(&r);

	/* human: a header, the groups, their sockets with ages */
	r = replay("-r", path, "--snapshot", "--remote", "::1", NULL);
	CHECK(strstr(r.out, "2 TCP sockets in 1 network namespace (capture)") != NULL);
	CHECK(strstr(r.out, "STATE ") != NULL);
	CHECK_EQ_INT(tt_count(r.out, "[::1]:"), 4);
	CHECK_EQ_INT(tt_count(r.out, "127.0.0.1"), 0);
	CHECK_EQ_INT(tt_count(r.out, " rq - wq -\n"), 2);
	CHECK_EQ_INT(tt_count(r.out, " rq 0"), 0);
	replay_run_free(&r);
}

TEST(replay_top_draws_a_frame_per_interval)
{
	const char *path = "tests/captures/simclose.ttcap";
	json_t *snap[16];
	struct replay_run r;
	int n;

	REQUIRE(have(path));
	/* 4 s of capture: a frame each second of its clock, and one at its end */
	r = replay("-r", path, "--top", "-i", "1", "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	n = json_lines(r.out, "snapshot", snap, 16);
	CHECK_EQ_INT(tt_count(r.out, "\n"), n);
	CHECK(n >= 4 && n <= 6);
	/* the simultaneous close: both ends in FIN_WAIT1, then both in TIME_WAIT */
	CHECK(strstr(r.out, "\"states\":{\"FIN_WAIT1\":2,\"LISTEN\":1}") != NULL);
	if (n) {
		json_t *st = json_object_get(snap[n - 1], "states");

		CHECK_EQ_INT(json_object_size(st), 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(st, "TIME_WAIT")), 2);
	}
	while (n)
		json_decref(snap[--n]);
	replay_run_free(&r);

	/* not a terminal: plain frames, no escape codes */
	r = replay("-r", path, "--top", "-i", "1", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\033"), 0);
	CHECK(tt_count(r.out, "STATE ") >= 4);
	replay_run_free(&r);
}

/* ---- the capture's clock over a quiet stretch, and -d ---- */

#define SEC(x) ((uint64_t)((x) * 1e9 + 0.5))

/*
 * A CLOSE-WAIT leak as a live run records it: META at 1 s, four accepted
 * sockets of port 8000 in CLOSE_WAIT from 1.1 s, then nothing at all
 * (live, the capture writer adds no frame while nothing changes) until the
 * leak is fixed at 12 s; the capture closed at 15.5 s.  With `netns`, the
 * sockets are in that namespace, one in its own.
 */
static char *write_leak_capture(uint32_t netns)
{
	char *path = tmpfile_path();
	struct tt_capture *c;
	int ok = 1;

	unlink(path);
	if (capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = SEC(1) })) {
		free(path);
		return NULL;
	}
	for (int i = 0; i < 4; i++) {
		struct tt_event e = rec_by(rec_ports(rec_tr(i + 1, TT_SYN_RECV, TT_ESTABLISHED,
							     SEC(1.05) + i), 8000, 50000 + i),
					   77, "leaky");

		if (netns)
			e.netns = i ? netns : netns + 1;
		ok &= !capture__write(c, &e);
		e.old_state = TT_ESTABLISHED;
		e.new_state = TT_CLOSE_WAIT;
		e.ts_ns = SEC(1.1) + i;
		e.flags &= ~TT_F_OWNER;
		ok &= !capture__write(c, &e);
	}
	ok &= !capture__tick(c, SEC(1.2), 0, 0);
	for (int i = 0; i < 4; i++) {
		struct tt_event e = rec_by(rec_ports(rec_tr(i + 1, TT_CLOSE_WAIT, TT_LAST_ACK,
							     SEC(12) + i), 8000, 50000 + i),
					   77, "leaky");

		if (netns)
			e.netns = i ? netns : netns + 1;
		ok &= !capture__write(c, &e);
		e.old_state = TT_LAST_ACK;
		e.new_state = TT_CLOSE;
		e.ts_ns = SEC(12.01) + i;
		e.flags &= ~TT_F_OWNER;
		ok &= !capture__write(c, &e);
	}
	ok &= !capture__close(c, SEC(15.5), 0, 0);
	if (!ok) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

static long long jint(json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

TEST(replay_summaries_every_interval_across_a_quiet_stretch)
{
	char *path = write_leak_capture(0);
	json_t *sums[16], *cw[16];
	struct replay_run r;
	int n, ncw;

	REQUIRE(path);
	/*
	 * Live, -i 3 made a summary every 3 s through the quiet stretch, the
	 * leak in those of 4, 7 and 10 s (new, stable, stable); the capture's
	 * clock jumps from 1.2 s to 12 s, and the replay makes them all the same.
	 */
	r = replay("-r", path, "--json", "-i", "3", "--close-wait-age", "2", NULL);
	CHECK_EQ_INT(r.status, 0);
	n = json_lines(r.out, "summary", sums, 16);
	ncw = json_lines(r.out, "close_wait", cw, 16);
	CHECK_EQ_INT(n, 5);
	for (int i = 0; i < n; i++) {
		bool last = i == n - 1;

		CHECK_EQ_INT(jint(sums[i], "t_ns"), last ? SEC(15.5) : SEC(1 + 3 * (i + 1)));
		CHECK_EQ_INT(jint(sums[i], "interval_ns"), last ? SEC(2.5) : SEC(3));
		CHECK(json_is_true(json_object_get(sums[i], "final")) == last);
		json_decref(sums[i]);
	}
	CHECK_EQ_INT(ncw, 3);
	for (int i = 0; i < ncw; i++) {
		CHECK_EQ_INT(jint(cw[i], "t_ns"), SEC(1 + 3 * (i + 1)));
		CHECK_EQ_INT(jint(cw[i], "count"), 4);
		/* the age at the summary's own time */
		CHECK_EQ_INT(jint(cw[i], "oldest_age_ns"), SEC(3 * (i + 1) - 0.1));
		CHECK_STR(json_string_value(json_object_get(cw[i], "trend")),
			  i ? "stable" : "new");
		json_decref(cw[i]);
	}
	replay_run_free(&r);

	/* human: one final summary, and the leak only while it lasted */
	r = replay("-r", path, "-i", "3", "--close-wait-age", "2", NULL);
	CHECK_EQ_INT(tt_count(r.out, "final_summary"), 1);
	CHECK_EQ_INT(tt_count(r.out, " interval=0"), 0);
	CHECK_EQ_INT(tt_count(r.out, "close_wait_leak"), 3);
	replay_run_free(&r);
	unlink(path);
	free(path);
}

/* A clock that leaps a century (a damaged capture) makes no billions of summaries or frames. */
TEST(replay_summaries_of_a_leap_are_bounded)
{
	char *path = tmpfile_path();
	struct tt_event e = rec_tr(1, TT_CLOSE, TT_SYN_SENT, SEC(1.05));
	struct tt_capture *c;
	struct replay_run r;

	unlink(path);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = SEC(1) }));
	REQUIRE(!capture__write(c, &e));
	e.old_state = TT_SYN_SENT;
	e.new_state = TT_CLOSE;
	e.ts_ns = (1ull << 62) - SEC(1);	/* the reader takes no later time */
	REQUIRE(!capture__write(c, &e));
	REQUIRE(!capture__close(c, (1ull << 62) - SEC(0.95), 0, 0));
	r = replay("-r", path, "--json", "-i", "0.1", NULL);
	CHECK_EQ_INT(r.status, 0);
	/* 9,999 of 100 ms, one for the rest of the leap, and the final one */
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"summary\""), 10001);
	CHECK_EQ_INT(tt_count(r.out, "\"interval_ns\":100000000,"), 9999);
	CHECK_EQ_INT(tt_count(r.out, "\"final\":true"), 1);
	CHECK(strstr(r.err, "the capture holds no record for ") != NULL);
	replay_run_free(&r);
	/* --top's frames likewise, and the end's */
	r = replay("-r", path, "--top", "--json", "-i", "0.1", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"snapshot\""), 10001);
	replay_run_free(&r);
	unlink(path);
	free(path);
}

TEST(replay_duration_ends_at_its_very_end)
{
	char *path = write_leak_capture(0);
	json_t *sums[16], *cw[4], *snap[8];
	const char *want[] = { "1970-01-01T00:00:06.000000Z", "1970-01-01T00:00:11.000000Z",
			       "1970-01-01T00:00:13.000000Z" };
	struct replay_run r;
	int n, ncw;

	REQUIRE(path);
	/* -d 10: the replay ends at 1 s + 10 s, not at the first record after it (12 s) */
	r = replay("-r", path, "--json", "-i", "0", "-d", "10", "--close-wait-age", "2", NULL);
	CHECK_EQ_INT(r.status, 0);
	n = json_lines(r.out, "summary", sums, 16);
	ncw = json_lines(r.out, "close_wait", cw, 4);
	REQUIRE(n == 1 && ncw == 1);
	CHECK_EQ_INT(jint(sums[0], "t_ns"), SEC(11));
	CHECK_EQ_INT(jint(sums[0], "interval_ns"), SEC(10));
	CHECK_EQ_INT(jint(cw[0], "oldest_age_ns"), SEC(9.9));
	json_decref(sums[0]);
	json_decref(cw[0]);
	replay_run_free(&r);

	/* a boundary at the end's very time is the final summary, not one more before it */
	r = replay("-r", path, "--json", "-i", "3", "-d", "9", NULL);
	n = json_lines(r.out, "summary", sums, 16);
	CHECK_EQ_INT(n, 3);
	for (int i = 0; i < n; i++) {
		CHECK_EQ_INT(jint(sums[i], "t_ns"), SEC(1 + 3 * (i + 1)));
		CHECK_EQ_INT(jint(sums[i], "interval_ns"), SEC(3));
		json_decref(sums[i]);
	}
	replay_run_free(&r);

	/* --top -d: a frame at every interval passed before the end, and one at the end */
	r = replay("-r", path, "--top", "--json", "-i", "5", "-d", "12", NULL);
	CHECK_EQ_INT(r.status, 0);
	n = json_lines(r.out, "snapshot", snap, 8);
	CHECK_EQ_INT(n, 3);
	for (int i = 0; i < n; i++) {
		if (i < 3)
			CHECK_STR(json_string_value(json_object_get(snap[i], "time")), want[i]);
		json_decref(snap[i]);
	}
	replay_run_free(&r);
	/* -d 10 -i 5: the frame at 5 s, and the end's at 10 s */
	r = replay("-r", path, "--top", "--json", "-i", "5", "-d", "10", NULL);
	CHECK_EQ_INT(tt_count(r.out, "\"type\":\"snapshot\""), 2);
	CHECK(strstr(r.out, "\"time\":\"1970-01-01T00:00:11.000000Z\"") != NULL);
	replay_run_free(&r);
	unlink(path);
	free(path);
}

/*
 * Live, a human line of another namespace than tcptrail's ends in netns=;
 * a capture does not say which namespace was the tracer's, so on replay
 * every line names its own: 127.0.0.1:8000 in two namespaces is told apart.
 */
TEST(replay_human_lines_name_their_netns)
{
	char *path = write_leak_capture(4026532173u);
	struct replay_run r;
	const char *line;
	int flows = 0;

	REQUIRE(path);
	r = replay("-r", path, "-i", "3", "--close-wait-age", "2", NULL);
	CHECK_EQ_INT(r.status, 0);
	for (line = r.out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *want = memmem(line, len, "127.0.0.1:50000", 15) ?
				   "  netns=4026532174" : "  netns=4026532173";

		if (!memmem(line, len, " > 127.0.0.1:", 13) && !memmem(line, len, " < 127.0.0.1:", 13))
			continue;
		flows++;
		CHECK(len > strlen(want) && !memcmp(line + len - strlen(want), want, strlen(want)));
	}
	CHECK_EQ_INT(flows, 4);
	/* the leak: three sockets in one namespace, one in the other, a line each */
	CHECK_EQ_INT(tt_count(r.out, "close_wait_leak"), 6);
	CHECK_EQ_INT(tt_count(r.out, "count=3 "), 3);
	/* each namespace's flows (3 and 1) and its 3 leak lines */
	CHECK_EQ_INT(tt_count(r.out, " netns=4026532173\n"), 6);
	CHECK_EQ_INT(tt_count(r.out, " netns=4026532174\n"), 4);
	replay_run_free(&r);
	unlink(path);
	free(path);
}

#define MS(x)	((uint64_t)(x) * 1000000ull)

/*
 * A set of rotated files, one capture: `-r FILE` goes on in FILE.1, FILE.2
 * (the same run: host, start, index), so a leak that began in the first
 * file is still one in the last.  A missing file, or another run's, is a
 * gap, said in one line, and the replay goes on past it, with status 2.
 */
static int write_rotated_leak(const char *path, uint64_t start_ns)
{
	struct tt_capture *c;
	struct tt_event e;
	int err;

	/* a run of its own: each run's wall-clock offset differs from another's */
	err = capture__open(&c, &(struct tt_capture_opts){ .path = path, .rotate_bytes = 4096,
							     .start_ns = start_ns,
							     .wall_offset_ns = (int64_t)start_ns * 3 });
	if (err)
		return err;
	/* the leak, at 1.1 s: a server socket the peer closed */
	e = rec_by(rec_ports(rec_tr(0x500, TT_CLOSE, TT_LISTEN, MS(1050)), 80, 0), 42, "srv");
	err = capture__write(c, &e);
	e = rec_ports(rec_tr(0x501, TT_LISTEN, TT_SYN_RECV, MS(1100)), 80, 5000);
	err = err ?: capture__write(c, &e);
	e = rec_ports(rec_tr(0x501, TT_SYN_RECV, TT_ESTABLISHED, MS(1100)), 80, 5000);
	err = err ?: capture__write(c, &e);
	e = rec_ports(rec_tr(0x501, TT_ESTABLISHED, TT_CLOSE_WAIT, MS(1200)), 80, 5000);
	err = err ?: capture__write(c, &e);
	/* then resets nobody follows, incompressible, for the files to fill: 1.3 to 9.3 s */
	srand(11);
	for (int i = 0; i < 800 && !err; i++) {
		uint64_t ts = MS(1300) + (uint64_t)i * MS(10);

		e = rec(TT_EV_RESET_RECV, 0x10000 + (uint64_t)i, 0, 0, ts);
		for (int k = 0; k < 16; k++)
			e.daddr[k] = (uint8_t)rand();
		err = capture__write(c, &e) ?: capture__tick(c, ts, 0, 0);
	}
	return capture__close(c, MS(10000), 0, 0) ?: err;
}

TEST(replay_follows_a_rotated_set)
{
	char *dir = capkit_tmpdir("replay"), *path = capkit_join(dir, "set.ttcap"), name[512];
	char *other = capkit_join(dir, "other.ttcap"), later[512];
	struct replay_run r;
	json_t *cw[64];
	int n, files = 0;

	REQUIRE(dir && path && other);
	REQUIRE(write_rotated_leak(path, MS(1000)) == 0);
	for (int i = 0; i < 64; i++) {
		capkit_rotated(name, sizeof(name), path, i);
		if (!access(name, F_OK))
			files = i + 1;
	}
	REQUIRE(files >= 5);

	r = replay("-r", path, "--json", "-i", "1", "--close-wait-age", "1", NULL);
	CHECK_EQ_INT(r.status, 0);
	capkit_rotated(name, sizeof(name), path, files - 1);
	CHECK(strstr(r.err, name) && strstr(r.err, "the same run"));
	/* the leak is reported to the end of the last file, and the final summary is at its end */
	n = json_lines(r.out, "close_wait", cw, 64);
	CHECK(n >= 8);
	CHECK(n && json_integer_value(json_object_get(cw[n - 1], "t_ns")) >= (json_int_t)MS(9000));
	CHECK(n && json_integer_value(json_object_get(cw[n - 1], "count")) == 1);
	for (int i = 0; i < n; i++)
		json_decref(cw[i]);
	CHECK(strstr(r.out, "\"final\":true") && strstr(r.out, "\"t_ns\":10000000000,"));
	replay_run_free(&r);

	/* from a later file on: that file's flows, then the rest of the set */
	capkit_rotated(name, sizeof(name), path, 1);
	r = replay("-r", name, "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.err, "is rotated file 1") != NULL);
	capkit_rotated(name, sizeof(name), path, files - 1);
	CHECK(strstr(r.err, name) != NULL);
	CHECK(strstr(r.out, "\"t_ns\":10000000000,") != NULL);
	replay_run_free(&r);

	/*
	 * A file of the set gone: what it held is lost, and said so; the
	 * replay goes on in the next file of the run there is, to the end,
	 * and its status says it is incomplete.
	 */
	capkit_rotated(name, sizeof(name), path, 2);
	capkit_rotated(later, sizeof(later), path, 3);
	REQUIRE(!unlink(name));
	r = replay("-r", path, "--json", NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, name) && strstr(r.err, "is missing") &&
	      strstr(r.err, "which goes on in ") && strstr(r.err, later));
	CHECK(strstr(r.out, "\"t_ns\":10000000000,") != NULL);
	replay_run_free(&r);

	/* another run's file in its place: not followed, skipped as a gap */
	REQUIRE(write_rotated_leak(other, MS(2000)) == 0);
	REQUIRE(!rename(other, name));
	r = replay("-r", path, "--snapshot", NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, name) && strstr(r.err, "another run's") && strstr(r.err, later));
	replay_run_free(&r);
	r = replay("-r", path, "--json", NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.out, "\"t_ns\":10000000000,") != NULL);
	replay_run_free(&r);

	/*
	 * A damaged file in its place: bad input, said once, and not called
	 * the same run; a gap all the same, and the replay goes on past it to
	 * the end of the set (it ended there, and the intact files after it
	 * were never read).
	 */
	{
		FILE *g = fopen(name, "w");
		char said[600];

		REQUIRE(g);
		fputs("not a capture at all\n", g);
		fclose(g);
		r = replay("-r", path, "--json", NULL);
		CHECK_EQ_INT(r.status, 2);
		CHECK(strstr(r.err, name) && strstr(r.err, "not a tcptrail capture"));
		CHECK_EQ_INT(tt_count(r.err, "not a tcptrail capture"), 1);
		snprintf(said, sizeof(said), "replaying %s: rotated file 2, the same run", name);
		CHECK(!strstr(r.err, said));
		CHECK(strstr(r.err, "which goes on in ") && strstr(r.err, later));
		CHECK(strstr(r.out, "\"t_ns\":10000000000,") != NULL);
		replay_run_free(&r);
		/* another run's again, for what follows */
		REQUIRE(write_rotated_leak(other, MS(2000)) == 0);
		REQUIRE(!rename(other, name));
	}

	/* the last file gone: the replay ends there, incomplete */
	capkit_rotated(later, sizeof(later), path, files - 1);
	REQUIRE(!unlink(later));
	r = replay("-r", path, "--json", NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, later) && strstr(r.err, "which is not here: the replay ends there"));
	CHECK(!strstr(r.out, "\"t_ns\":10000000000,"));
	replay_run_free(&r);

	/*
	 * FILE and FILE.1 removed, as --rotate-count does: -r FILE replays what
	 * is left of the set, from its oldest file, and says so (it was an
	 * error naming FILE.2, so the README's own -w/-r pair failed once the
	 * set had rotated N times).
	 */
	REQUIRE(write_rotated_leak(other, MS(1000)) == 0);
	REQUIRE(!unlink(other));
	capkit_rotated(name, sizeof(name), other, 1);
	REQUIRE(!unlink(name));
	r = replay("-r", other, "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	capkit_rotated(name, sizeof(name), other, 2);
	CHECK(strstr(r.err, "is gone (--rotate-count removed the oldest files of its set): "
			    "replaying the set from ") && strstr(r.err, name));
	CHECK(strstr(r.out, "\"final\":true") && strstr(r.out, "\"t_ns\":10000000000,"));
	replay_run_free(&r);
	/* a name with no set at all: as any missing file */
	capkit_rmtree(dir);
	r = replay("-r", path, NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "No such file or directory") != NULL);
	CHECK_EQ_INT(tt_count(r.err, "\n"), 1);
	replay_run_free(&r);
	free(path);
	free(other);
}

static int name_container(void *ctx, const struct tt_event *e, struct tt_capcg *out)
{
	(void)ctx;
	snprintf(out->path, sizeof(out->path), "/libpod_parent/libpod-%064llx",
		 (unsigned long long)e->cgroup);
	snprintf(out->container, sizeof(out->container), "%064llx", (unsigned long long)e->cgroup);
	snprintf(out->runtime, sizeof(out->runtime), "podman");
	return 0;
}

/*
 * Every file of a set names its cgroups again.  The views keep the
 * TIME-WAIT entries of the last 60 s with their names: a name replaced by
 * the next file's was freed under them (garbage for a container, a crash
 * with --json).  Every socket is named that one container.
 */
TEST(replay_views_of_a_rotated_set_name_their_containers)
{
	char *dir = capkit_tmpdir("replay"), *path = capkit_join(dir, "cg.ttcap"), name[512];
	struct tt_capture *c;
	struct replay_run r;
	int err = 0;

	REQUIRE(dir && path);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .rotate_bytes = 4096, .start_ns = MS(1000),
		.cgroup_name = name_container }));
	srand(5);
	for (int i = 0; i < 600 && !err; i++) {
		uint64_t ts = MS(1000) + (uint64_t)i * MS(10);
		struct tt_event e = rec_ports(rec(TT_EV_TIME_WAIT, 0x10000 + (uint64_t)i,
						  TT_FIN_WAIT2, TT_TIME_WAIT, ts), 40000 + i, 80);

		e.cgroup = 0xabc;
		for (int k = 0; k < 16; k++)
			e.daddr[k] = (uint8_t)rand();
		err = capture__write(c, &e) ?: capture__tick(c, ts, 0, 0);
	}
	REQUIRE(!capture__close(c, MS(7100), 0, 0) && !err);
	capkit_rotated(name, sizeof(name), path, 2);
	REQUIRE(!access(name, F_OK));

	r = replay("-r", path, "--snapshot", "--json", NULL);
	CHECK_EQ_INT(r.status, 0);
	/* every socket of the capture's end, each named that container, and nothing else */
	CHECK(tt_count(r.out, "\"container\":") >= 600);
	CHECK_EQ_INT(tt_count(r.out, "\"container\":\"0000000000000000000000000000000000000000000000000000000000000abc\""),
		     tt_count(r.out, "\"container\":"));
	replay_run_free(&r);
	r = replay("-r", path, "--top", "--json", "-i", "2", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(tt_count(r.out, "0000000000000000000000000000000000000000000000000000000000000abc") >= 3);
	replay_run_free(&r);
	capkit_rmtree(dir);
	free(path);
}

/*
 * Filters that match nothing in the capture: an empty replay, exit 0, looked
 * like a quiet capture (a container id from another host, a port mistyped).
 * One warning names the filters, or the --state that no flow went through; a
 * filter that matches says nothing.
 */
TEST(replay_filters_that_match_nothing_say_so)
{
	struct replay_run r;

	r = replay("-r", "tests/captures/close.ttcap", "--container", "abc", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.err, "warning: none of the capture's ") &&
	      strstr(r.err, " records matched the filters (container=abc)\n"));
	replay_run_free(&r);
	r = replay("-r", "tests/captures/close.ttcap", "-P", "1", "-N", "7", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.err, "matched the filters (netns=7 ports=1)\n") != NULL);
	replay_run_free(&r);
	r = replay("-r", "tests/captures/close.ttcap", "--quiet-flows", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "final_summary") != NULL);
	CHECK(!strstr(r.err, "matched the filters"));
	replay_run_free(&r);
	/* --state picks flows: one that none goes through prints no flow, and says so */
	r = replay("-r", "tests/captures/reset.ttcap", "--state", "LAST_ACK,CLOSING", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.err, "warning: no flow of the capture passed through --state "
			    "LAST_ACK,CLOSING\n") != NULL);
	replay_run_free(&r);
	r = replay("-r", "tests/captures/close.ttcap", "--state", "CLOSING,CLOSE_WAIT", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, " CLOSE_WAIT ") != NULL);	/* a flow's line */
	CHECK(!strstr(r.err, "warning"));
	replay_run_free(&r);
	/* with --quiet-flows it would pick nothing: refused, not ignored */
	r = replay("-r", "tests/captures/close.ttcap", "--state", "CLOSE_WAIT", "--quiet-flows",
		   NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(!strstr(r.out, "final_summary"));
	CHECK(strstr(r.err, "--state: picks the flows printed, and --quiet-flows prints none") !=
	      NULL);
	replay_run_free(&r);
	/* with -e too, it picks the transitions printed */
	r = replay("-r", "tests/captures/close.ttcap", "--state", "CLOSE_WAIT", "--quiet-flows",
		   "-e", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "CLOSE_WAIT") != NULL);
	CHECK(!strstr(r.out, " total "));		/* no flow's line */
	CHECK(!strstr(r.err, "warning"));
	replay_run_free(&r);
}

/*
 * A counters record that counts more lost events than nanoseconds since
 * boot is damage (an uncompressed capture has no CRC): one flipped byte
 * reported 18374686479671623680 lost events, and advice to raise
 * --ringbuf-size.  Bad input: said, and status 2.
 */
TEST(replay_impossible_counters_are_damage)
{
	char *path = tmpfile_path();
	struct tt_capture *c;
	struct replay_run r;

	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path,
							       .start_ns = 1000000ull }));
	REQUIRE(!capture__tick(c, 2000000ull, 1ull << 40, 0));
	REQUIRE(!capture__close(c, 3000000ull, 1ull << 40, 0));
	r = replay("-r", path, NULL);
	CHECK_EQ_INT(r.status, 2);
	CHECK(strstr(r.err, "impossible counts (1099511627776 lost, 0 evicted by ") != NULL);
	CHECK(!strstr(r.err, "raise --ringbuf-size"));
	replay_run_free(&r);
	unlink(path);
	free(path);
}
