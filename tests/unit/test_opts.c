// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include "opts.h"
#include "tt_test.h"

/* Parse a NULL-terminated argument list; stderr is silenced. */
static int parse(struct tt_opts *o, bool *exit_now, ...)
{
	char *argv[32] = { "tcptrail" };
	int argc = 1, saved, devnull, status;
	va_list ap;

	va_start(ap, exit_now);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	fflush(stderr);
	saved = dup(2);
	devnull = open("/dev/null", 1);
	dup2(devnull, 2);
	status = tt_opts_parse(argc, argv, o, exit_now);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	return status;
}

TEST(opts_defaults)
{
	struct tt_opts o;
	bool x;

	CHECK_EQ_INT(parse(&o, &x, NULL), 0);
	CHECK(!x);
	CHECK_EQ_INT(o.interval_ns, 10000000000ull);
	CHECK_EQ_INT(o.ringbuf_bytes, 8 << 20);
	CHECK_EQ_INT(o.priority_boost, 5);
	CHECK_EQ_INT(o.max_flows, 262144);
	CHECK_EQ_INT(o.attach, TT_ATTACH_AUTO);
	CHECK(!o.json && !o.events);
}

TEST(opts_good_values)
{
	struct tt_opts o;
	bool x;

	CHECK_EQ_INT(parse(&o, &x, "-4", "-p", "1234", "-P", "80,443", "-L", "1",
			   "-D", "65535", "-N", "4026531840", "--json", "-e", "-i", "500ms",
			   "-d", "2m", "--attach", "tracepoint", "--ringbuf-size", "16M",
			   "--max-flows", "1000", "--priority-boost", "0", "-vv", NULL), 0);
	CHECK_EQ_INT(o.family, TT_AF_INET);
	CHECK_EQ_INT(o.pid, 1234);
	CHECK_EQ_INT(o.n_ports, 2);
	CHECK_EQ_INT(o.ports[0], 80);
	CHECK_EQ_INT(o.ports[1], 443);
	CHECK_EQ_INT(o.n_lports, 1);
	CHECK_EQ_INT(o.lports[0], 1);
	CHECK_EQ_INT(o.rports[0], 65535);
	CHECK_EQ_INT(o.netns, 4026531840u);
	CHECK(o.json && o.events);
	CHECK_EQ_INT(o.interval_ns, 500000000ull);
	CHECK_EQ_INT(o.duration_ns, 120000000000ull);
	CHECK_EQ_INT(o.attach, TT_ATTACH_TRACEPOINT);
	CHECK_EQ_INT(o.ringbuf_bytes, 16 << 20);
	CHECK_EQ_INT(o.max_flows, 1000);
	CHECK_EQ_INT(o.priority_boost, 0);
	CHECK_EQ_INT(o.verbose, 2);
}

TEST(opts_netns_path)
{
	struct tt_opts o;
	bool x;

	CHECK_EQ_INT(parse(&o, &x, "-N", "/proc/self/ns/net", NULL), 0);
	CHECK(o.netns != 0);
	CHECK_EQ_INT(parse(&o, &x, "-N", "/nonexistent/ns", NULL), 2);
}

TEST(opts_help_and_version_exit_zero)
{
	struct tt_opts o;
	bool x;
	int saved = dup(1), devnull = open("/dev/null", 1);

	fflush(stdout);
	dup2(devnull, 1);
	int s1 = parse(&o, &x, "--version", NULL);
	bool x1 = x;
	int s2 = parse(&o, &x, "--help", NULL);
	bool x2 = x;
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(devnull);
	CHECK_EQ_INT(s1, 0);
	CHECK(x1);
	CHECK_EQ_INT(s2, 0);
	CHECK(x2);
}

/* Every one of these must be refused with status 2, never accepted or crashed. */
TEST(opts_bad_input)
{
	static const char *bad[][3] = {
		{ "--bogus" }, { "-Z" }, { "extra-arg" },
		{ "-P", "0" }, { "-P", "65536" }, { "-P", "80x" }, { "-P", "" },
		{ "-P", "80,,90" }, { "-P", ",80" }, { "-P", "80," }, { "-P", "-1" },
		{ "-P", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" },
		{ "-L", "abc" }, { "-D", "99999" }, { "-p", "0" }, { "-p", "12ab" },
		{ "-p", "-5" }, { "-p", " 12" }, { "-p", "99999999999999999999" },
		{ "-i", "soon" }, { "-i", "-1" }, { "-d", "0" }, { "-d", "x" },
		{ "--attach", "magic" }, { "--ringbuf-size", "1000" },
		{ "--ringbuf-size", "2K" }, { "--ringbuf-size", "4G" },
		{ "--max-flows", "0" }, { "--max-flows", "1e6" }, { "--color", "pink" },
		{ "--priority-boost", "20" }, { "--priority-boost", "-1" },
		{ "-N", "abc" }, { "-N", "0" }, { "-4", "-6" }, { "-p" },
	};
	struct tt_opts o;
	bool x;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int s = parse(&o, &x, bad[i][0], bad[i][1], bad[i][2], NULL);

		if (s != 2)
			fprintf(stderr, "    accepted: %s %s -> %d\n", bad[i][0],
				bad[i][1] ? bad[i][1] : "", s);
		CHECK_EQ_INT(s, 2);
	}
}

TEST(opts_bad_input_message_is_one_line_naming_the_option)
{
	char *argv[] = { "tcptrail", "-P", "65536", NULL };
	char buf[512] = "";
	struct tt_opts o;
	bool x;
	int fds[2], saved;
	ssize_t n;

	REQUIRE(pipe(fds) == 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fds[1], 2);
	int s = tt_opts_parse(3, argv, &o, &x);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	CHECK_EQ_INT(s, 2);
	REQUIRE(n > 0);
	buf[n] = '\0';
	CHECK(strstr(buf, "--port") != NULL);
	CHECK(strstr(buf, "65536") != NULL);
	CHECK(strchr(buf, '\n') == buf + n - 1);
}

TEST(parse_duration_units)
{
	uint64_t ns;

	CHECK_EQ_INT(tt_parse_duration("10", &ns), 0);
	CHECK_EQ_INT(ns, 10000000000ull);
	CHECK_EQ_INT(tt_parse_duration("250ms", &ns), 0);
	CHECK_EQ_INT(ns, 250000000ull);
	CHECK_EQ_INT(tt_parse_duration("1h", &ns), 0);
	CHECK_EQ_INT(ns, 3600000000000ull);
	CHECK_EQ_INT(tt_parse_duration("2.5", &ns), 0);
	CHECK_EQ_INT(ns, 2500000000ull);
	CHECK_EQ_INT(tt_parse_duration("0.25s", &ns), 0);
	CHECK_EQ_INT(ns, 250000000ull);
	CHECK_EQ_INT(tt_parse_duration("1.5m", &ns), 0);
	CHECK_EQ_INT(ns, 90000000000ull);
	CHECK_EQ_INT(tt_parse_duration("0.000000001", &ns), 0);
	CHECK_EQ_INT(ns, 1);
	CHECK(tt_parse_duration("1.", &ns) != 0);
	CHECK(tt_parse_duration(".5", &ns) != 0);
	CHECK(tt_parse_duration("1.2.3", &ns) != 0);
	CHECK(tt_parse_duration("1.x", &ns) != 0);
	CHECK(tt_parse_duration("1.0000000001", &ns) != 0);
	CHECK(tt_parse_duration("1d", &ns) != 0);
	CHECK(tt_parse_duration("ms", &ns) != 0);
	CHECK(tt_parse_duration("99999999999999h", &ns) != 0);
}

/* ---- on-call views: --state, --remote, --local, --snapshot, --top ---- */

TEST(opts_views_good_values)
{
	struct tt_opts o;
	bool x;

	CHECK_EQ_INT(parse(&o, &x, "--state", "close-wait,FIN_WAIT2", "--state", "listening",
			   "--remote", "10.0.0.0/8,192.0.2.1", "--remote", "2001:db8::/32",
			   "--local", "127.0.0.1", NULL), 0);
	CHECK_EQ_INT(o.states, (1u << TT_CLOSE_WAIT) | (1u << TT_FIN_WAIT2) | (1u << TT_LISTEN));
	/* repeated options add up */
	CHECK_EQ_INT(o.n_remote, 3);
	CHECK_EQ_INT(o.remote[2].family, TT_AF_INET6);
	CHECK_EQ_INT(o.remote[1].bits, 32);
	CHECK_EQ_INT(o.n_local, 1);
	CHECK(!o.snapshot && !o.top);

	/* --top redraws every 2 s unless -i says otherwise, in either order */
	CHECK_EQ_INT(parse(&o, &x, "--top", NULL), 0);
	CHECK(o.top);
	CHECK_EQ_INT(o.interval_ns, 2000000000ull);
	CHECK_EQ_INT(parse(&o, &x, "-i", "5", "--top", NULL), 0);
	CHECK_EQ_INT(o.interval_ns, 5000000000ull);
	CHECK_EQ_INT(parse(&o, &x, "--top", "-i", "500ms", "-d", "3", "--json", NULL), 0);
	CHECK_EQ_INT(o.interval_ns, 500000000ull);
	/* -i alone keeps its 10 s default without --top */
	CHECK_EQ_INT(parse(&o, &x, "--snapshot", "--quiet-flows", "-r", "x.ttcap", NULL), 0);
	CHECK(o.snapshot && o.quiet_flows);
	CHECK_EQ_INT(o.interval_ns, 10000000000ull);
}

TEST(opts_views_bad_input)
{
	static const char *bad[][4] = {
		{ "--state", "bogus" }, { "--state", "" }, { "--state", "close-wait," },
		{ "--state", "close wait" }, { "--state" },
		{ "--remote", "10.0.0.0/33" }, { "--remote", "" }, { "--remote", "host.example" },
		{ "--local", "::/129" }, { "--local", "10.0.0.1," }, { "--local", "1.2.3" },
		{ "--remote",
		  "1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8,1.0.0.9,"
		  "1.0.0.10,1.0.0.11,1.0.0.12,1.0.0.13,1.0.0.14,1.0.0.15,1.0.0.16,1.0.0.17" },
		{ "--snapshot", "--top" }, { "--snapshot", "-w", "/tmp/x.ttcap" },
		{ "--top", "-e" }, { "--snapshot", "--ladder" },
		{ "--top", "--metrics-file", "/tmp/m.prom" },
		{ "--top", "--metrics-listen", "127.0.0.1:9464" }, { "--snapshot", "--syslog" },
		{ "--snapshot", "--probe" }, { "--snapshot", "-d", "5" }, { "--top", "-i", "0" },
		{ "--snapshot", "extra" },
	};
	struct tt_opts o;
	bool x;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int s = parse(&o, &x, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);

		if (s != 2)
			fprintf(stderr, "    accepted: %s %s %s -> %d\n", bad[i][0],
				bad[i][1] ? bad[i][1] : "", bad[i][2] ? bad[i][2] : "", s);
		CHECK_EQ_INT(s, 2);
	}
}

/* The one line on stderr for argv, into buf. */
static int one_line(char **argv, int argc, char *buf, size_t len)
{
	struct tt_opts o;
	bool x;
	int fds[2], saved, s;
	ssize_t n;

	if (pipe(fds))
		return -1;
	fflush(stderr);
	saved = dup(2);
	dup2(fds[1], 2);
	s = tt_opts_parse(argc, argv, &o, &x);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, len - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
	return s;
}

TEST(opts_views_messages_are_one_line_naming_option_and_value)
{
	char *a1[] = { "tcptrail", "--state", "close-wiat", NULL };
	char *a2[] = { "tcptrail", "--remote", "10.0.0.0/8,10.0.0.300", NULL };
	char *a3[] = { "tcptrail", "--local", "fe80::/200", NULL };
	char *a4[] = { "tcptrail", "--top", "-w", "/tmp/x", NULL };
	char buf[512];

	CHECK_EQ_INT(one_line(a1, 3, buf, sizeof(buf)), 2);
	CHECK(strstr(buf, "--state: 'close-wiat'") != NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);
	CHECK_EQ_INT(one_line(a2, 3, buf, sizeof(buf)), 2);
	/* the item that is wrong, not the whole list */
	CHECK(strstr(buf, "--remote: '10.0.0.300'") != NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);
	CHECK_EQ_INT(one_line(a3, 3, buf, sizeof(buf)), 2);
	CHECK(strstr(buf, "--local: 'fe80::/200'") != NULL);
	CHECK_EQ_INT(one_line(a4, 4, buf, sizeof(buf)), 2);
	CHECK(strstr(buf, "-w/--write") != NULL && strstr(buf, "--top") != NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);
}
