// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "opts.h"
#include "tt_test.h"
#include "util.h"

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

	struct stat st;
	char ino[32];

	REQUIRE(stat("/proc/self/ns/net", &st) == 0);
	snprintf(ino, sizeof(ino), "%lu", (unsigned long)st.st_ino);
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	CHECK_EQ_INT(parse(&o, &x, "-4", "-p", pid, "-P", "80,443", "-L", "1",
			   "-D", "65535", "-N", ino, "--json", "-e", "-i", "500ms",
			   "-d", "2m", "--attach", "tracepoint", "--ringbuf-size", "16M",
			   "--max-flows", "1000", "--priority-boost", "0", "-vv", NULL), 0);
	CHECK_EQ_INT(o.family, TT_AF_INET);
	CHECK_EQ_INT(o.pid, getpid());
	CHECK_EQ_INT(o.n_ports, 2);
	CHECK_EQ_INT(o.ports[0], 80);
	CHECK_EQ_INT(o.ports[1], 443);
	CHECK_EQ_INT(o.n_lports, 1);
	CHECK_EQ_INT(o.lports[0], 1);
	CHECK_EQ_INT(o.rports[0], 65535);
	CHECK_EQ_INT(o.netns, st.st_ino);
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

	struct stat st;
	int cwd = open(".", O_RDONLY | O_DIRECTORY);

	REQUIRE(cwd >= 0 && !stat("/proc/self/ns/net", &st));
	CHECK_EQ_INT(parse(&o, &x, "-N", "/proc/self/ns/net", NULL), 0);
	CHECK(o.netns == (uint32_t)st.st_ino);
	CHECK_EQ_INT(parse(&o, &x, "-N", "/nonexistent/ns", NULL), 2);
	/* relative: a path, and a name with no /run/netns entry that is a file here */
	REQUIRE(!chdir("/proc/self"));
	memset(&o, 0, sizeof(o));
	CHECK_EQ_INT(parse(&o, &x, "-N", "ns/net", NULL), 0);
	CHECK(o.netns == (uint32_t)st.st_ino);
	REQUIRE(!chdir("ns"));
	if (access("/run/netns/net", F_OK)) {
		memset(&o, 0, sizeof(o));
		CHECK_EQ_INT(parse(&o, &x, "-N", "net", NULL), 0);
		CHECK(o.netns == (uint32_t)st.st_ino);
	}
	REQUIRE(!fchdir(cwd));
	close(cwd);
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
	static const char *bad[][4] = {
		{ "--bogus" }, { "-Z" }, { "extra-arg" },
		{ "-P", "0" }, { "-P", "65536" }, { "-P", "80x" }, { "-P", "" },
		{ "-P", "80,,90" }, { "-P", ",80" }, { "-P", "80," }, { "-P", "-1" },
		{ "-P", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" },
		{ "-L", "abc" }, { "-D", "99999" }, { "-p", "0" }, { "-p", "12ab" },
		{ "-p", "-5" }, { "-p", " 12" }, { "-p", "99999999999999999999" },
		/* strtoll skips any white space: none is taken */
		{ "-i", "\n5" }, { "-p", "\v12" }, { "--max-flows", "\r100" }, { "-P", "\f80" },
		{ "--metrics-listen", ":\n9000" },
		{ "-i", "soon" }, { "-i", "-1" }, { "-d", "0" }, { "-d", "x" },
		{ "--attach", "magic" }, { "--ringbuf-size", "1000" },
		{ "--ringbuf-size", "2K" }, { "--ringbuf-size", "4G" },
		{ "--max-flows", "0" }, { "--max-flows", "1e6" }, { "--color", "pink" },
		{ "--priority-boost", "20" }, { "--priority-boost", "-1" },
		{ "-N", "abc" }, { "-N", "0" }, { "-4", "-6" }, { "-p" },
		/* the live loop's tick is 100 ms; pid_max is at most 4194304 */
		{ "-i", "50ms" }, { "-i", "0.000000001" }, { "-p", "4194304" },
		{ "--container", "ab", "--container", "cd" },
		{ "--cgroup", "/sys/fs/cgroup", "--cgroup", "/sys/fs/cgroup" },
	};
	struct tt_opts o;
	bool x;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int s = parse(&o, &x, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);

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
	/* days, as the reports print ages (oldest=3d07h) */
	CHECK_EQ_INT(tt_parse_duration("2d", &ns), 0);
	CHECK(ns == 2 * 86400000000000ull);
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
	CHECK(tt_parse_duration("1w", &ns) != 0);
	CHECK(tt_parse_duration("ms", &ns) != 0);
	CHECK(tt_parse_duration("99999999999999h", &ns) != 0);
}

/* stderr of one parse, in buf; returns the exit status. */
static int parse_msg(char *buf, size_t len, const char **args)
{
	char *argv[16] = { "tcptrail" };
	int argc = 1, fds[2], saved, s;
	struct tt_opts o;
	ssize_t n;
	bool x;

	while (argc < 15 && args[argc - 1]) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	buf[0] = '\0';
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

/*
 * Status 2 and one line on stderr that names the option and each given
 * word of its value.
 */
#define CHECK_REFUSED(opt, want, ...)						\
	do {									\
		const char *args_[] = { __VA_ARGS__, NULL };			\
		const char *want_[] = { want };					\
		char m_[1024];							\
		int s_ = parse_msg(m_, sizeof(m_), args_);			\
		CHECK_EQ_INT(s_, 2);						\
		CHECK(strstr(m_, opt) != NULL);					\
		for (size_t w_ = 0; w_ < sizeof(want_) / sizeof(want_[0]); w_++)	\
			CHECK(strstr(m_, want_[w_]) != NULL);			\
		CHECK(m_[0] && strchr(m_, '\n') == m_ + strlen(m_) - 1);		\
		if (s_ != 2 || !strstr(m_, opt))				\
			fprintf(stderr, "    said: %s", m_);			\
	} while (0)

/* 2^64 ns and more wrapped: -d 18446744074 ran 0.3 s. Ten years at most. */
TEST(parse_duration_and_size_refuse_overflow)
{
	uint64_t v;

	CHECK_EQ_INT(tt_parse_duration("87600h", &v), 0);
	CHECK_EQ_INT(v, TT_DURATION_MAX_NS);
	CHECK_EQ_INT(tt_parse_duration("315360000", &v), 0);
	CHECK_EQ_INT(tt_parse_duration("87600.000000001h", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_duration("315360001", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_duration("18446744074", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_duration("18446744073710ms", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_duration("5124096h", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_duration("99999999999999999999", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_size("16G", &v), 0);
	CHECK_EQ_INT(v, 16ull << 30);
	CHECK_EQ_INT(tt_parse_size("17179869184G", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_size("17179869185G", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_size("99999999999999999999", &v), -ERANGE);
	/* every count that fits 64 bits, digits alone: 2^40 + 1 bytes was refused */
	CHECK_EQ_INT(tt_parse_size("1099511627777", &v), 0);
	CHECK(v == 1099511627777ull);
	CHECK_EQ_INT(tt_parse_size("18446744073709551615", &v), 0);
	CHECK_EQ_INT(tt_parse_size("18446744073709551616", &v), -ERANGE);
	CHECK_EQ_INT(tt_parse_size("0", &v), 0);
	CHECK_EQ_INT(tt_parse_size("-1", &v), -EINVAL);
	CHECK_EQ_INT(tt_parse_size(" 1", &v), -EINVAL);
	CHECK_EQ_INT(tt_parse_size("+1", &v), -EINVAL);
	CHECK_EQ_INT(tt_parse_size("1x", &v), -EINVAL);
	CHECK_EQ_INT(tt_parse_size("G", &v), -EINVAL);
	/* 0 is too small, not too large */
	CHECK_REFUSED("--rotate-size", "is under 4K", "-w", "/tmp/tt-x.ttcap",
		      "--rotate-size", "0");
	/* a unit it does not know is named as such, not as too small */
	CHECK_REFUSED("--rotate-size", "K, M or G", "-w", "/tmp/tt-x.ttcap", "--rotate-size", "1T");
	CHECK_REFUSED("-d/--duration", "ms, s, m, h or d", "-d", "1us");

	CHECK_REFUSED("-d/--duration", "out of range", "-d", "18446744074");
	CHECK_REFUSED("-d/--duration", "out of range", "-r", "x.ttcap", "-d", "18446744073710ms");
	CHECK_REFUSED("-i/--interval", "out of range", "-i", "18446744073710ms");
	CHECK_REFUSED("--close-wait-age", "out of range", "--close-wait-age", "18446744074");
	CHECK_REFUSED("--ringbuf-size", "out of range", "--ringbuf-size", "17179869185G");
	CHECK_REFUSED("--ringbuf-size", "out of range", "--ringbuf-size", "99999999999999999999999");
	CHECK_REFUSED("--rotate-size", "out of range", "-w", "/tmp/tt-x.ttcap",
		      "--rotate-size", "17179869185G");
}

/* -4 -4 said "-4 and -6 exclude each other": only both families together are wrong. */
TEST(opts_family_repeated_is_harmless)
{
	struct tt_opts o;
	bool x;

	CHECK_EQ_INT(parse(&o, &x, "-4", "-4", NULL), 0);
	CHECK_EQ_INT(o.family, TT_AF_INET);
	CHECK_EQ_INT(parse(&o, &x, "-6", "--ipv6", NULL), 0);
	CHECK_EQ_INT(o.family, TT_AF_INET6);
	CHECK_REFUSED("-4/-6", "exclude", "-4", "-6");
	CHECK_REFUSED("-4/-6", "exclude", "-6", "-6", "-4");
}

/* A replay has no kernel side: its options were accepted with -r and did nothing. */
TEST(opts_replay_refuses_kernel_side_options)
{
	struct tt_opts o;
	bool x;

	CHECK_REFUSED("--attach", "replay", "-r", "x.ttcap", "--attach", "fentry");
	CHECK_REFUSED("--ringbuf-size", "replay", "--ringbuf-size", "16M", "-r", "x.ttcap");
	CHECK_REFUSED("--no-sock-ops", "replay", "-r", "x.ttcap", "--no-sock-ops");
	CHECK_REFUSED("--no-seed", "replay", "-r", "x.ttcap", "--no-seed");
	CHECK_REFUSED("--priority-boost", "replay", "-r", "x.ttcap", "--priority-boost", "0");
	/* a replay's flow table has --max-flows entries too */
	CHECK_EQ_INT(parse(&o, &x, "-r", "x.ttcap", "--max-flows", "1000", NULL), 0);
	CHECK_EQ_INT(o.max_flows, 1000);
	CHECK_EQ_INT(parse(&o, &x, "--attach", "fentry", "--ringbuf-size", "16M", "--no-sock-ops",
			   "--no-seed", "--priority-boost", "0", NULL), 0);
}

/* Defect 5: only a network namespace, by path or by the inode of a live one. */
TEST(opts_netns_only_a_network_namespace)
{
	struct tt_opts o;
	struct stat st;
	char ino[32];
	bool x;

	CHECK_REFUSED("-N/--netns", "/etc/passwd", "-N", "/etc/passwd");
	CHECK_REFUSED("-N/--netns", "/proc/self/ns/mnt", "-N", "/proc/self/ns/mnt");
	CHECK_REFUSED("-N/--netns", "/proc/self/ns", "-N", "/proc/self/ns");
	CHECK_REFUSED("-N/--netns", "12345", "-N", "12345");
	CHECK_REFUSED("-N/--netns", "'no-such-netns-name' is neither a namespace inode, a name in "
		      "/run/netns nor a file", "-N", "no-such-netns-name");
	/* a FIFO: refused, not waited on */
	{
		char fifo[] = "/tmp/tt-fifo-XXXXXX";
		int fd = mkstemp(fifo);

		REQUIRE(fd >= 0);
		close(fd);
		unlink(fifo);
		REQUIRE(mkfifo(fifo, 0600) == 0);
		CHECK_REFUSED("-N/--netns", fifo, "-N", fifo);
		unlink(fifo);
	}
	CHECK_REFUSED("-N/--netns", "'4'", "-N", "/proc/self/ns/net", "-N", "4");
	/* a replay filters the capture's host's namespaces: any inode */
	CHECK_EQ_INT(parse(&o, &x, "-r", "x.ttcap", "-N", "12345", NULL), 0);
	CHECK_EQ_INT(o.netns, 12345);
	CHECK_REFUSED("-N/--netns", "/etc/passwd", "-r", "x.ttcap", "-N", "/etc/passwd");
	REQUIRE(stat("/proc/self/ns/net", &st) == 0);
	snprintf(ino, sizeof(ino), "%lu", (unsigned long)st.st_ino);
	CHECK_EQ_INT(parse(&o, &x, "-N", ino, NULL), 0);
	CHECK_EQ_INT(o.netns, st.st_ino);
	CHECK_EQ_INT(parse(&o, &x, "-N", "/proc/thread-self/ns/net", NULL), 0);
	CHECK_EQ_INT(o.netns, st.st_ino);
}

/* Defect 6: every bad address exits 2 and says what is wrong with it. */
TEST(opts_metrics_listen_addresses)
{
	struct tt_opts o;
	bool x;

	CHECK_REFUSED("--metrics-listen", "999.1.1.1", "--metrics-listen", "999.1.1.1:9464");
	CHECK_REFUSED("--metrics-listen", "localhost", "--metrics-listen", "localhost:9464");
	CHECK_REFUSED("--metrics-listen", "port '99999'", "--metrics-listen", "127.0.0.1:99999");
	CHECK_REFUSED("--metrics-listen", "port '0'", "--metrics-listen", "[::1]:0");
	CHECK_REFUSED("--metrics-listen", "brackets", "--metrics-listen", "::1:9464");
	CHECK_REFUSED("--metrics-listen", "9464", "--metrics-listen", "9464");
	CHECK_REFUSED("--metrics-listen", "[::1", "--metrics-listen", "[::1:9464");
	CHECK_REFUSED("--metrics-listen", "[fe80::zz]", "--metrics-listen", "[fe80::zz]:9464");
	CHECK_EQ_INT(parse(&o, &x, "--metrics-listen", "[::1]:9464", NULL), 0);
	CHECK_EQ_INT(parse(&o, &x, "--metrics-listen", ":9464", NULL), 0);
	CHECK_EQ_INT(parse(&o, &x, "--metrics-listen", "0.0.0.0:1", NULL), 0);
}

/* Defect 7: two outputs in one file; repeated filters. */
TEST(opts_conflicting_outputs_and_repeats)
{
	char dir[] = "/tmp/tt-opts-XXXXXX", f[64], g[64], dotf[80];
	struct tt_opts o;
	bool x;

	REQUIRE(mkdtemp(dir));
	snprintf(f, sizeof(f), "%s/F", dir);
	snprintf(g, sizeof(g), "%s/G", dir);
	snprintf(dotf, sizeof(dotf), "%s/./F", dir);
	/* by name, while neither exists */
	CHECK_REFUSED("-w/--write", f, "-w", f, "-o", f);
	CHECK_REFUSED("--metrics-file", dotf, "-o", f, "--metrics-file", dotf);
	CHECK_REFUSED("-r/--read", f, "-r", f, "-o", f);
	/* by inode: G is another name of F */
	{
		FILE *fp = fopen(f, "w");

		REQUIRE(fp);
		fclose(fp);
	}
	REQUIRE(link(f, g) == 0);
	CHECK_REFUSED("--metrics-file", g, "-w", f, "--metrics-file", g);
	unlink(g);
	CHECK_EQ_INT(parse(&o, &x, "-w", f, "--metrics-file", g, NULL), 0);
	unlink(f);
	rmdir(dir);

	/* repeated port lists add up, once each; one pid, one namespace */
	CHECK_EQ_INT(parse(&o, &x, "-P", "80", "-P", "443,80", "-L", "1", "-L", "2", NULL), 0);
	CHECK_EQ_INT(o.n_ports, 2);
	CHECK_EQ_INT(o.ports[0], 80);
	CHECK_EQ_INT(o.ports[1], 443);
	CHECK_EQ_INT(o.n_lports, 2);
	CHECK_REFUSED("-P/--port", "'17'", "-P", "1,2,3,4,5,6,7,8", "-P",
		      "9,10,11,12,13,14,15,16", "-P", "17");
	/* a port repeated within one list takes no room either, however long the list */
	CHECK_EQ_INT(parse(&o, &x, "-D", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,16,1", NULL), 0);
	CHECK_EQ_INT(o.n_rports, 16);
	{
		char many[1200] = "443";

		for (int i = 0; i < 200; i++)
			strcat(many, i % 2 ? ",443" : ",8080");
		CHECK_EQ_INT(parse(&o, &x, "-P", many, NULL), 0);
		CHECK_EQ_INT(o.n_ports, 2);
	}
	CHECK_REFUSED("-D/--dport", "at most 16 ports", "-D",
		      "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,16,17");
	CHECK_REFUSED("-p/--pid", "'2'", "-p", "1", "-p", "2");
	/* a second capture is not read after the first: refused, not dropped */
	CHECK_REFUSED("-r/--read", "given twice (then 'r.ttcap.71')", "-r", "r.ttcap.70", "-r",
		      "r.ttcap.71");
	CHECK_REFUSED("-r/--read", "given twice (then '-')", "-r", "-", "--read=-");
	/* one of each output: the second silently won before */
	CHECK_REFUSED("-w/--write", "given twice (then 'b.ttcap')", "-w", "a.ttcap", "-w",
		      "b.ttcap");
	CHECK_REFUSED("-o/--output", "given twice (then 'b.log')", "-o", "-", "-o", "b.log");
	CHECK_REFUSED("--metrics-file", "given twice (then 'b.prom')", "--metrics-file",
		      "a.prom", "--metrics-file", "b.prom");
	CHECK_REFUSED("--metrics-listen", "given twice (then '127.0.0.1:2')", "--metrics-listen",
		      "127.0.0.1:1", "--metrics-listen", "127.0.0.1:2");
}

/* Defect 8: outputs that cannot be written are refused before anything is attached. */
TEST(opts_outputs_checked_up_front)
{
	CHECK_REFUSED("-o", "/proc/sys/net/ipv4/tcp_syncookies", "-o",
		      "/proc/sys/net/ipv4/tcp_syncookies");
	CHECK_REFUSED("-o", "/proc/tt-new", "-o", "/proc/tt-new");
	CHECK_REFUSED("-w", "/tmp", "-w", "/tmp");
	CHECK_REFUSED("-w", "/sys/kernel/tt.ttcap", "-w", "/sys/kernel/tt.ttcap");
	CHECK_REFUSED("-o", "/nonexistent-dir/tt.log", "-o", "/nonexistent-dir/tt.log");
	CHECK_REFUSED("-o", "/etc/passwd/x", "-o", "/etc/passwd/x");
	CHECK_REFUSED("-o", "/dev/null", "-o", "/dev/null");
	/* replaced by a rename at every interval: a device in its place would go */
	CHECK_REFUSED("--metrics-file", "not a regular file", "--metrics-file", "/dev/null");
	CHECK_REFUSED("--metrics-file", "/proc", "--metrics-file", "/proc/tt.prom");
}

/*
 * A file another uid owns, or one with a second name, is refused by the
 * open: said up front as well, with exit 2, before anything is attached.
 */
TEST(opts_outputs_of_another_uid_or_hard_linked_refused_up_front)
{
	char dir[] = "/tmp/tt-opts-XXXXXX", a[64], b[64];
	struct tt_opts o;
	bool x;
	int fd;

	REQUIRE(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	CHECK_EQ_INT(parse(&o, &x, "-o", a, NULL), 0);
	REQUIRE(link(a, b) == 0);
	CHECK_REFUSED("-o", "2 hard links", "-o", a);
	CHECK_REFUSED("-w", "2 hard links", "-w", b);
	CHECK_REFUSED("--metrics-file", "2 hard links", "--metrics-file", a);
	unlink(b);
	/* as root, give it away; otherwise /etc/passwd is another uid's (root's) */
	if (geteuid() == 0) {
		REQUIRE(chown(a, 65534, 65534) == 0);
		CHECK_REFUSED("-o", "belongs to uid 65534", "-o", a);
		CHECK_REFUSED("-w", "belongs to uid 65534", "-w", a);
	} else {
		CHECK_REFUSED("-o", "belongs to uid 0", "-o", "/etc/passwd");
	}
	unlink(a);
	rmdir(dir);
	/* '-' is stdout */
	CHECK_EQ_INT(parse(&o, &x, "-o", "-", NULL), 0);
	CHECK(o.output_path == NULL);
}

/* --probe traces nothing: what would shape a run is refused, not ignored. */
TEST(opts_probe_refuses_what_it_would_ignore)
{
	struct tt_opts o;
	bool x;

	CHECK_REFUSED("-w/--write", "--probe", "--probe", "-w", "/tmp/tt-probe.ttcap");
	CHECK_REFUSED("-j/--json", "--probe", "--probe", "--json");
	CHECK_REFUSED("-e/--events", "--probe", "--probe", "-e");
	CHECK_REFUSED("--journal", "--probe", "--probe", "--journal");
	CHECK_REFUSED("-d/--duration", "--probe", "--probe", "-d", "5");
	CHECK_REFUSED("-i/--interval", "--probe", "--probe", "-i", "5");
	CHECK_REFUSED("--metrics-file", "--probe", "--probe", "--metrics-file", "/tmp/tt.prom");
	/* filters, the reports' and the table's options, rotation: nothing to act on */
	CHECK_REFUSED("-P/--port", "--probe", "--probe", "-P", "80");
	CHECK_REFUSED("--state", "--probe", "--probe", "--state", "LISTEN");
	CHECK_REFUSED("-p/--pid", "--probe", "--probe", "-p", "1");
	CHECK_REFUSED("--tw-warn", "--probe", "--probe", "--tw-warn", "5");
	CHECK_REFUSED("--max-flows", "--probe", "--probe", "--max-flows", "10");
	CHECK_REFUSED("--no-seed", "--probe", "--probe", "--no-seed");
	CHECK_REFUSED("--ringbuf-size", "--probe", "--probe", "--ringbuf-size", "16M");
	CHECK_REFUSED("--priority-boost", "--probe", "--probe", "--priority-boost", "3");
	/* its own reason, not "add -w FILE", which it would refuse next */
	CHECK_REFUSED("--rotate-size", "--probe", "--probe", "--rotate-size", "1M");
	CHECK_EQ_INT(parse(&o, &x, "--snapshot", "-r", "x.ttcap", "--max-flows", "100", NULL), 0);
	CHECK_EQ_INT(parse(&o, &x, "--probe", "--attach", "tp_btf", "--no-sock-ops", "-v", NULL), 0);
	CHECK(o.probe);
}

/* Defect 10: NO_COLOR (no-color.org) turns auto off; --color always still wins. */
TEST(opts_color_and_no_color)
{
	struct tt_opts o;
	bool x;

	unsetenv("NO_COLOR");
	setenv("TERM", "xterm", 1);
	CHECK_EQ_INT(parse(&o, &x, NULL), 0);
	CHECK(tt_opts_color(&o, true));
	CHECK(!tt_opts_color(&o, false));
	setenv("NO_COLOR", "1", 1);
	CHECK(!tt_opts_color(&o, true));
	setenv("NO_COLOR", "", 1);
	CHECK(tt_opts_color(&o, true));
	setenv("NO_COLOR", "1", 1);
	CHECK_EQ_INT(parse(&o, &x, "--color", "always", NULL), 0);
	CHECK(tt_opts_color(&o, false));
	CHECK_EQ_INT(parse(&o, &x, "--color", "never", NULL), 0);
	CHECK(!tt_opts_color(&o, true));
	unsetenv("NO_COLOR");
	CHECK_EQ_INT(parse(&o, &x, "--json", NULL), 0);
	CHECK(!tt_opts_color(&o, true));
}

/* TERM=dumb (or unset, as systemd and git take it) turns auto colour and --top's clears off. */
TEST(opts_color_not_on_a_dumb_terminal)
{
	const char *saved = getenv("TERM");
	char *keep = saved ? strdup(saved) : NULL;
	struct tt_opts o;
	bool x;

	unsetenv("NO_COLOR");
	CHECK_EQ_INT(parse(&o, &x, NULL), 0);
	setenv("TERM", "xterm-256color", 1);
	CHECK(!tt_term_dumb());
	CHECK(tt_opts_color(&o, true));
	setenv("TERM", "dumb", 1);
	CHECK(tt_term_dumb());
	CHECK(!tt_opts_color(&o, true));
	setenv("TERM", "", 1);
	CHECK(tt_term_dumb());
	unsetenv("TERM");
	CHECK(tt_term_dumb());
	CHECK(!tt_opts_color(&o, true));
	CHECK_EQ_INT(parse(&o, &x, "--color", "always", NULL), 0);
	CHECK(tt_opts_color(&o, true));
	if (keep)
		setenv("TERM", keep, 1);
	free(keep);
}

/* Defect 10: --help fits 79 columns: no example's comment wraps onto a line of its own. */
TEST(opts_help_fits_the_terminal)
{
	char *argv[] = { "tcptrail", "--help", NULL };
	char path[] = "/tmp/tt-help-XXXXXX", line[512];
	int fd = mkstemp(path), saved, examples = 0, n = 0;
	struct tt_opts o;
	bool x, in_examples = false;
	FILE *f;

	REQUIRE(fd >= 0);
	unsetenv("ARGP_HELP_FMT");
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	CHECK_EQ_INT(tt_opts_parse(2, argv, &o, &x), 0);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	f = fdopen(fd, "r");
	REQUIRE(f);
	rewind(f);
	while (fgets(line, sizeof(line), f) && n++ < 500) {
		CHECK(strlen(line) <= 80);	/* 79 and the newline */
		if (!strcmp(line, "EXAMPLES:\n")) {
			in_examples = true;
			continue;
		}
		if (in_examples && line[0] == '\n')
			in_examples = false;
		if (!in_examples)
			continue;
		examples++;
		if (strncmp(line, "  tcptrail ", 11) || !strstr(line, " # "))
			fprintf(stderr, "    wrapped: %s", line);
		CHECK(!strncmp(line, "  tcptrail ", 11) && strstr(line, " # "));
	}
	CHECK(examples >= 10);
	fclose(f);
	unlink(path);
}

/* stdout and the status of one parse; stderr is silenced. */
static int parse_stdout(char *buf, size_t len, bool *exit_now, const char **args)
{
	char *argv[16] = { "tcptrail" };
	char path[] = "/tmp/tt-out-XXXXXX";
	int argc = 1, fd = mkstemp(path), saved, errfd, devnull, s;
	struct tt_opts o;
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	unlink(path);
	while (argc < 15 && args[argc - 1]) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	fflush(stdout);
	fflush(stderr);
	saved = dup(1);
	dup2(fd, 1);
	errfd = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	close(devnull);
	s = tt_opts_parse(argc, argv, &o, exit_now);
	fflush(stdout);
	fflush(stderr);
	dup2(errfd, 2);
	close(errfd);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, buf, len - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return s;
}

/* --help's text, in buf; returns the parse's status. */
static int help_text(char *buf, size_t len)
{
	const char *args[] = { "--help", NULL };
	bool x;

	unsetenv("ARGP_HELP_FMT");
	return parse_stdout(buf, len, &x, args);
}

/* --help foo printed the whole help, then the error: bad input wins, with nothing on stdout. */
TEST(opts_bad_input_wins_over_help_and_version)
{
	static const char *bad[][4] = {
		{ "--help", "foo" }, { "foo", "--help" }, { "--version", "--bogus" },
		{ "--help", "-4", "-6" }, { "--version", "-p" }, { "-h", "--j" },
	};
	static char out[65536];
	bool x;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };

		CHECK_EQ_INT(parse_stdout(out, sizeof(out), &x, args), 2);
		CHECK(!x);
		if (out[0])
			fprintf(stderr, "    %s %s printed: %.60s\n", bad[i][0], bad[i][1], out);
		CHECK(!out[0]);
	}
	{
		const char *args[] = { "--version", NULL };

		CHECK_EQ_INT(parse_stdout(out, sizeof(out), &x, args), 0);
		CHECK(x);
		CHECK(!strncmp(out, "tcptrail ", 9));
	}
	{
		const char *args[] = { "-4", "--help", "-v", NULL };

		CHECK_EQ_INT(parse_stdout(out, sizeof(out), &x, args), 0);
		CHECK(x);
		CHECK(strstr(out, "Usage: tcptrail") != NULL);
	}
}

/* getopt's rejections were all "unknown option or missing value": say which it is. */
TEST(opts_rejected_option_says_why)
{
	CHECK_REFUSED("'--j' is ambiguous", "--json, --journal", "--j");
	CHECK_REFUSED("'--no' is ambiguous", "--no-sock-ops, --no-seed", "--no");
	CHECK_REFUSED("unknown option '--bogus'", "'--bogus'", "--bogus");
	CHECK_REFUSED("unknown option '-Z'", "'-Z'", "-Z");
	CHECK_REFUSED("-p/--pid", "needs a value", "-p");
	CHECK_REFUSED("--pid", "needs a value", "--pi");
	CHECK_REFUSED("--json", "takes no value", "--json=1");
	/* a letter inside a word of them: that letter and word, not the word before */
	CHECK_REFUSED("unknown option '-Z' in '-eZj'", "'-eZj'", "-P", "80", "-eZj");
	CHECK_REFUSED("unknown option '-x' in '-4x'", "'-4x'", "-4x");
	CHECK_REFUSED("-e takes no value", "'-e=1'", "-e=1");
	CHECK_REFUSED("-e takes no value", "'-e=1'", "-r", "x.ttcap", "-e=1");
	CHECK_REFUSED("unknown option '-Z' in '-Ze'", "'-Ze'", "-j", "-Ze");
	CHECK_REFUSED("unknown option '-Z' in '-Ze'", "'-Ze'", "-Ze");
	/* a value that starts with a dash is the value, not a word of options */
	CHECK_REFUSED("-P/--port", "'-Zq'", "-P", "-Zq");
	CHECK_REFUSED("unknown option '-Z' in '-Zq'", "'-Zq'", "-o", "-ejx.log", "-Zq");
	CHECK_REFUSED("unknown option '-Z' in '-Zq'", "'-Zq'", "--out", "-ejx.log", "-Zq");
	/* a long option refused first is the one named, not a word after it */
	CHECK_REFUSED("unknown option '--bogus'", "'--bogus'", "--bogus", "-eZ");
	CHECK_REFUSED("--json", "takes no value", "--json=1", "-eZ");
	CHECK_REFUSED("unknown option '--bogus'", "'--bogus'", "--out", "-ejx.log", "--bogus");
}

/* --quiet-flows -e prints transitions: the help said only summaries, reports and warnings. */
TEST(opts_help_says_quiet_flows_keeps_events)
{
	static char buf[65536];
	char *q, *next, *e;

	CHECK_EQ_INT(help_text(buf, sizeof(buf)), 0);
	q = strstr(buf, "      --quiet-flows ");
	REQUIRE(q);
	next = strstr(q + 1, "\n      --");
	e = strstr(q, "with -e its transitions");
	CHECK(e && next && e < next);
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
	/* --state picks the transitions -e prints, and a view's sockets, --quiet-flows or not */
	CHECK_EQ_INT(parse(&o, &x, "--state", "close-wait", "--quiet-flows", "-e", NULL), 0);
	CHECK_EQ_INT(parse(&o, &x, "--snapshot", "--quiet-flows", "--state", "close-wait", NULL), 0);
}

/* What an option would do that another undoes is refused, not ignored */
TEST(opts_refuses_what_quiet_flows_undoes)
{
	CHECK_REFUSED("--ladder", "--quiet-flows prints none", "--ladder", "--quiet-flows");
	CHECK_REFUSED("--ladder", "--quiet-flows", "-r", "x.ttcap", "--quiet-flows", "--ladder");
	CHECK_REFUSED("--state", "add -e", "--state", "close-wait", "--quiet-flows");
	/* --top's -i has no 0, so its message offers none */
	CHECK_REFUSED("-i/--interval", "give 100ms or more (see", "--top", "-i", "50ms");
	CHECK_REFUSED("-i/--interval", "or 0 for a summary only at exit", "-i", "50ms");
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
		{ "--snapshot", "--journal" }, { "--snapshot", "-i", "5" }, { "--top", "--journal" },
		{ "--snapshot", "extra" },
		/* the kernel side: live, the views attach nothing */
		{ "--snapshot", "--attach", "tp_btf" }, { "--top", "--ringbuf-size", "8M" },
		{ "--snapshot", "--no-sock-ops" }, { "--top", "--no-seed" },
		{ "--snapshot", "--priority-boost", "3" },
		/* the reports' thresholds, rotation, and a live view's flow table */
		{ "--snapshot", "--tw-warn", "5" }, { "--top", "--close-wait-age", "3" },
		{ "--top", "--rotate-count", "3" }, { "--snapshot", "--rotate-size", "1M" },
		{ "--snapshot", "--max-flows", "100" },
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

/* The one line on stderr for argv (NULL-terminated), into buf. */
static int one_line(char **argv, int argc, char *buf, size_t len)
{
	(void)argc;
	return parse_msg(buf, len, (const char **)argv + 1);
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

/* An empty item was named '': the whole value names where it is, as -P 80, does. */
TEST(opts_views_empty_item_names_the_whole_value)
{
	CHECK_REFUSED("--state", "'close-wait,' has an empty item", "--state", "close-wait,");
	CHECK_REFUSED("--state", "',listen' has an empty item", "--state", ",listen");
	CHECK_REFUSED("--state", "'listen,,close-wait' has an empty item", "--state",
		      "listen,,close-wait");
	CHECK_REFUSED("--remote", "'10.0.0.0/8,' has an empty item", "--remote", "10.0.0.0/8,");
	CHECK_REFUSED("--local", "',::1' has an empty item", "--local", ",::1");
	/* a wrong item is still named alone */
	CHECK_REFUSED("--state", "'bogus' is not", "--state", "listen,bogus");
	CHECK_REFUSED("--state", "''", "--state", "");
}

/*
 * -r FILE replays the rotated set after it: -o or --metrics-file on any
 * file of the set (FILE, FILE.N, by another spelling too) would destroy it
 * before it is read, and is refused.
 */
TEST(opts_outputs_never_name_a_file_of_the_replayed_set)
{
	char dir[] = "/tmp/tt-set-XXXXXX", cap[64], c3[64], other[64], dotted[96];
	struct tt_opts o;
	bool x;
	int fd;

	REQUIRE(mkdtemp(dir));
	snprintf(cap, sizeof(cap), "%s/s.ttcap", dir);
	snprintf(c3, sizeof(c3), "%s/s.ttcap.3", dir);
	snprintf(other, sizeof(other), "%s/s.ttcap.log", dir);
	snprintf(dotted, sizeof(dotted), "%s/./s.ttcap.12", dir);
	fd = open(c3, O_CREAT | O_WRONLY, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	CHECK_EQ_INT(parse(&o, &x, "-r", cap, "-o", c3, NULL), 2);
	CHECK_EQ_INT(parse(&o, &x, "-r", c3, "--metrics-file", cap, NULL), 2);
	CHECK_EQ_INT(parse(&o, &x, "-r", c3, "-o", dotted, NULL), 2);
	/* a file of its own */
	CHECK_EQ_INT(parse(&o, &x, "-r", cap, "-o", other, NULL), 0);
	unlink(c3);
	unlink(other);
	rmdir(dir);
}

/*
 * -w FILE --rotate-size writes FILE.1, FILE.2...: -o or --metrics-file on
 * one of them was taken, and the run stopped at the rotation that reached
 * it (exit 1, hours in).  Refused at start; FILE.N's own set is FILE.N.1...
 */
TEST(opts_outputs_never_name_a_file_of_the_written_set)
{
	char dir[] = "/tmp/tt-wset-XXXXXX", cap[64], c1[64], c3[64], c31[64];
	struct tt_opts o;
	bool x;

	REQUIRE(mkdtemp(dir));
	snprintf(cap, sizeof(cap), "%s/w.ttcap", dir);
	snprintf(c1, sizeof(c1), "%s/w.ttcap.1", dir);
	snprintf(c3, sizeof(c3), "%s/w.ttcap.3", dir);
	snprintf(c31, sizeof(c31), "%s/w.ttcap.3.1", dir);
	CHECK_EQ_INT(parse(&o, &x, "-w", cap, "--rotate-size", "1M", "-o", c1, NULL), 2);
	CHECK_EQ_INT(parse(&o, &x, "-w", cap, "--rotate-size", "1M", "--metrics-file", c3, NULL),
		     2);
	CHECK_EQ_INT(parse(&o, &x, "-w", c3, "--rotate-size", "1M", "-o", c31, NULL), 2);
	CHECK_EQ_INT(parse(&o, &x, "-w", c3, "--rotate-size", "1M", "-o", cap, NULL), 0);
	/* no rotation: FILE.1 is never written */
	CHECK_EQ_INT(parse(&o, &x, "-w", cap, "-o", c1, NULL), 0);
	rmdir(dir);
}

/*
 * A value may hold anything: a newline made the message two lines, an
 * escape reached the terminal, and 5,000 bytes were echoed whole.  Each
 * control byte is shown as '?', a long value by its two ends.
 */
TEST(opts_values_in_messages_are_one_printable_line)
{
	static char huge[5001];
	char m[8192];
	const char *nl[] = { "-P", "a\nb", NULL }, *esc[] = { "-L", "\033]0;x\a80", NULL },
		   *word[] = { "--bogus\nx", NULL }, *cidr[] = { "--remote", "10.0.0.0/8,\n", NULL },
		   *big[] = { "--attach", huge, NULL };

	CHECK_EQ_INT(parse_msg(m, sizeof(m), nl), 2);
	CHECK(strstr(m, "'a?b'") != NULL);
	CHECK(m[0] && strchr(m, '\n') == m + strlen(m) - 1);
	CHECK_EQ_INT(parse_msg(m, sizeof(m), esc), 2);
	CHECK(strstr(m, "'?]0;x?80'") != NULL);
	CHECK(!strchr(m, '\033') && !strchr(m, '\a'));
	CHECK_EQ_INT(parse_msg(m, sizeof(m), word), 2);
	CHECK(strstr(m, "'--bogus?x'") != NULL);
	CHECK_EQ_INT(parse_msg(m, sizeof(m), cidr), 2);
	CHECK(m[0] && strchr(m, '\n') == m + strlen(m) - 1);
	memset(huge, 'x', sizeof(huge) - 1);
	CHECK_EQ_INT(parse_msg(m, sizeof(m), big), 2);
	CHECK(strlen(m) < 300);
	CHECK(strstr(m, "xxx...xxx") != NULL);
	CHECK(strstr(m, "(see --help)\n") != NULL);
}

struct tid_box {
	pid_t tid;
	int ready[2];	/* the thread says its tid is set */
	int done[2];	/* the test says the thread may end */
};

static void *report_tid(void *arg)
{
	struct tid_box *b = arg;
	char c;

	b->tid = gettid();
	if (write(b->ready[1], "x", 1) == 1 && read(b->done[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

/* -p with a thread's id (top -H): refused, naming the process to give instead. */
TEST(opts_pid_of_a_thread_names_its_process)
{
	struct tid_box b = { 0 };
	char want[80], tid[16], c;
	pthread_t th;

	REQUIRE(!pipe(b.ready) && !pipe(b.done));
	REQUIRE(!pthread_create(&th, NULL, report_tid, &b));
	REQUIRE(read(b.ready[0], &c, 1) == 1);
	snprintf(want, sizeof(want), "is a thread of process %d; give -p %d", (int)getpid(),
		 (int)getpid());
	snprintf(tid, sizeof(tid), "%d", (int)b.tid);
	CHECK_REFUSED("-p/--pid", want, "-p", tid);
	close(b.done[1]);
	pthread_join(th, NULL);
	close(b.done[0]);
	close(b.ready[0]);
	close(b.ready[1]);
}
