// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "metrics.h"
#include "outfile.h"
#include "opts.h"
#include "tt_test.h"
/* every record: 127.0.0.1:8080 > 127.0.0.1:40000 (a server's), netns 1 */
#define REC_BASE { .family = TT_AF_INET, .netns = 1, .sport = 8080, .dport = 40000, \
		   .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 } }
#include "records.h"
#include "sink.h"
#include "twreport.h"
#include "util.h"

static struct tt_engine *busy_engine(void)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	struct tt_event e;

	e = rec(TT_EV_TRANSITION, 0x1000, TT_CLOSE, TT_LISTEN, 1);
	e.flags = TT_F_OWNER;
	e.tgid = 42;
	strcpy(e.comm, "srv\"x\\y");
	engine__feed(eng, &e);
	e = rec(TT_EV_TRANSITION, 0x2000, TT_LISTEN, TT_SYN_RECV, 2);
	engine__feed(eng, &e);
	e = rec(TT_EV_TRANSITION, 0x2000, TT_SYN_RECV, TT_ESTABLISHED, 3);
	engine__feed(eng, &e);
	e = rec(TT_EV_TRANSITION, 0x2000, TT_ESTABLISHED, TT_CLOSE_WAIT, 4);
	engine__feed(eng, &e);
	e = rec(TT_EV_OVERFLOW, 0x1000, 0, 0, 5);
	e.aux[0] = TT_Q_ACCEPT;
	engine__feed(eng, &e);
	return eng;
}

/*
 * A strict reading of the text exposition format: every line is a HELP or
 * TYPE comment, or `name{label="value",...} number`, with names and label
 * names of [a-zA-Z_:][a-zA-Z0-9_:]* and escaped label values; every sample
 * belongs to a family declared by TYPE before it.
 */
static int check_exposition(const char *text, char *why, size_t len)
{
	char typed[64][80];
	int ntyped = 0, lineno = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n'), *q = p;
		char name[80];
		size_t n = 0;

		lineno++;
		if (!eol) {
			snprintf(why, len, "line %d: no newline at end", lineno);
			return -1;
		}
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
			if (!strncmp(p, "# TYPE ", 7) && ntyped < 64) {
				sscanf(p + 7, "%79s", typed[ntyped]);
				const char *t = p + 7 + strlen(typed[ntyped]) + 1;

				if (strncmp(t, "counter\n", 8) && strncmp(t, "gauge\n", 6) &&
				    strncmp(t, "histogram\n", 10)) {
					snprintf(why, len, "line %d: bad TYPE", lineno);
					return -1;
				}
				ntyped++;
			}
			p = eol + 1;
			continue;
		}
		if (!(isalpha((unsigned char)*q) || *q == '_' || *q == ':')) {
			snprintf(why, len, "line %d: bad metric name", lineno);
			return -1;
		}
		while (q < eol && (isalnum((unsigned char)*q) || *q == '_' || *q == ':') && n < 79)
			name[n++] = *q++;
		name[n] = '\0';
		bool known = false;

		for (int i = 0; i < ntyped; i++) {
			size_t tl = strlen(typed[i]);

			known |= !strcmp(typed[i], name);
			/* a histogram's samples: NAME_bucket, NAME_sum, NAME_count */
			known |= !strncmp(typed[i], name, tl) && (!strcmp(name + tl, "_bucket") ||
				 !strcmp(name + tl, "_sum") || !strcmp(name + tl, "_count"));
		}
		if (!known) {
			snprintf(why, len, "line %d: %s has no TYPE before it", lineno, name);
			return -1;
		}
		if (*q == '{') {
			q++;
			while (*q != '}') {
				if (!(isalpha((unsigned char)*q) || *q == '_')) {
					snprintf(why, len, "line %d: bad label name", lineno);
					return -1;
				}
				while (isalnum((unsigned char)*q) || *q == '_')
					q++;
				if (q[0] != '=' || q[1] != '"') {
					snprintf(why, len, "line %d: label without =\"", lineno);
					return -1;
				}
				q += 2;
				while (*q != '"') {
					if (*q == '\n' || !*q) {
						snprintf(why, len, "line %d: unterminated label",
								lineno);
						return -1;
					}
					if (*q == '\\') {
						if (q[1] != '\\' && q[1] != '"' && q[1] != 'n') {
							snprintf(why, len, "line %d: bad escape",
									lineno);
							return -1;
						}
						q++;
					}
					q++;
				}
				q++;
				if (*q == ',')
					q++;
				else if (*q != '}') {
					snprintf(why, len, "line %d: bad label list", lineno);
					return -1;
				}
			}
			q++;
		}
		if (*q != ' ') {
			snprintf(why, len, "line %d: no space before value", lineno);
			return -1;
		}
		q++;
		char *end;

		strtod(q, &end);
		if (end == q || end != eol) {
			snprintf(why, len, "line %d: bad value", lineno);
			return -1;
		}
		p = eol + 1;
	}
	return 0;
}

TEST(metrics_exposition_is_strictly_valid)
{
	struct tt_engine *eng = busy_engine();
	struct tt_cw_group g = { .pid = 42, .count = 3, .kind = TT_SVC_LOCAL, .port = 8080 };
	struct tt_metrics_input in = { .eng = eng, .cw = &g, .n_cw = 1, .tw_population = 7,
				       .lost_total = 2 };
	char *buf = NULL, why[128] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	strcpy(g.comm, "ja\"va\n");
	metrics__render(f, &in);
	fclose(f);
	CHECK_EQ_INT(check_exposition(buf, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "    %s\n", why);
	CHECK(strstr(buf,
			"tcptrail_transitions_total{from=\"ESTABLISHED\",to=\"CLOSE_WAIT\"} 1\n"));
	CHECK(strstr(buf, "tcptrail_flows{state=\"CLOSE_WAIT\"} 1\n"));
	CHECK(strstr(buf, "tcptrail_timewait_sockets 7\n"));
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"ja\\\"va\\n\"} 3\n"));
	CHECK(strstr(buf,
			"tcptrail_overflows_total{queue=\"accept\",addr=\"127.0.0.1\",port=\"8080\",netns=\"1\"} 1\n"));
	CHECK(strstr(buf, "tcptrail_lost_events_total 2\n"));
	free(buf);
	engine__free(eng);
}

/* C1 controls in a comm (U+009B is CSI) come out as C0 ones do, '?': a label is read on terminals */
TEST(metrics_label_values_leave_out_c1_controls)
{
	struct tt_engine *eng = busy_engine();
	struct tt_cw_group g = { .pid = 42, .count = 1, .kind = TT_SVC_LOCAL, .port = 8080 };
	struct tt_metrics_input in = { .eng = eng, .cw = &g, .n_cw = 1, .tw_population = -1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	REQUIRE(eng && f);
	strcpy(g.comm, "a\xc2\x9b" "2K\xc2\xa0x");
	metrics__render(f, &in);
	fclose(f);
	REQUIRE(buf);
	/* C1 goes; U+00A0, the first character past it, stays */
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"a?2K\xc2\xa0x\"} 1\n"));
	CHECK(memmem(buf, len, "\xc2\x9b", 2) == NULL);
	free(buf);
	engine__free(eng);
}

/*
 * A comm the kernel cut at 15 bytes inside a character: one invalid label
 * value makes Prometheus and node_exporter drop the whole scrape, so the
 * stray byte is '?' and the characters before it stay.
 */
TEST(metrics_label_values_are_utf8)
{
	struct tt_engine *eng = busy_engine();
	struct tt_cw_group g = { .pid = 42, .count = 1, .kind = TT_SVC_LOCAL, .port = 8080 };
	struct tt_metrics_input in = { .eng = eng, .cw = &g, .n_cw = 1, .tw_population = -1 };
	char *buf = NULL;
	size_t len = 0, l;
	FILE *f = open_memstream(&buf, &len);

	/* seven 'é' (two bytes each) and the first byte of an eighth */
	strcpy(g.comm, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3");
	metrics__render(f, &in);
	fclose(f);
	REQUIRE(buf);
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"\xc3\xa9\xc3\xa9\xc3\xa9"
			  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"} 1\n"));
	for (size_t i = 0; i < len; i += l) {
		l = tt_utf8_len((const unsigned char *)buf + i, len - i);
		if (!l) {
			CHECK(!"the exposition is valid UTF-8");
			break;
		}
	}
	free(buf);
	engine__free(eng);
}

/*
 * Each series once a scrape: Prometheus keeps one of two samples with the
 * same labels and drops the other without a word.  A command named "other"
 * or "unknown" beside the tail of more than 20, and two names that print
 * the same (control characters print as ?), used to give two.
 */
TEST(metrics_comm_series_are_unique)
{
	struct tt_engine *eng = busy_engine();
	struct tt_cw_group g[26] = {};
	struct tt_metrics_input in = { .eng = eng, .cw = g, .n_cw = 26, .tw_population = -1 };
	char *buf = NULL, *p, *eol, seen[32][64];
	size_t len = 0;
	int n_seen = 0;
	uint64_t sum = 0;
	FILE *f = open_memstream(&buf, &len);

	for (int i = 0; i < 26; i++) {
		g[i] = (struct tt_cw_group){ .pid = 100 + i, .count = 1 + i, .kind = TT_SVC_LOCAL,
					     .port = 8000 };
		snprintf(g[i].comm, sizeof(g[i].comm), "c%d", i);
	}
	strcpy(g[0].comm, "other");
	strcpy(g[1].comm, "unknown");
	g[2].comm[0] = '\0';
	strcpy(g[3].comm, "a\x01");
	strcpy(g[4].comm, "a\x02");
	strcpy(g[25].comm, "other");		/* after the 20th name: still its own series */
	metrics__render(f, &in);
	fclose(f);
	REQUIRE(buf);
	for (p = buf; (p = strstr(p, "tcptrail_close_wait_suspected_leaks{")); p = eol) {
		char *val;

		eol = strchr(p, '\n');
		REQUIRE(eol);
		val = strchr(p, '}');
		REQUIRE(val && val < eol && n_seen < 32);
		snprintf(seen[n_seen], sizeof(seen[n_seen]), "%.*s", (int)(val - p), p);
		for (int k = 0; k < n_seen; k++)
			if (!strcmp(seen[k], seen[n_seen]))
				CHECK(!"a series twice in one scrape");
		n_seen++;
		sum += strtoull(val + 1, NULL, 10);
	}
	/* 20 series (a? is two comms) and the tail of c21..c24: every socket counted */
	CHECK_EQ_INT(n_seen, 21);
	CHECK_EQ_INT(sum, 26 * 27 / 2);
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"a?\"} 9\n"));
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"other\"} 27\n"));
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"unknown\"} 2\n"));
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"(no owner known)\"} 3\n"));
	CHECK(strstr(buf, "tcptrail_close_wait_suspected_leaks{comm=\"(other commands)\"} "));
	free(buf);
	engine__free(eng);
}

/* The checker itself must catch what it is there to catch. */
TEST(metrics_checker_rejects_bad_text)
{
	static const char *bad[] = {
		"x 1\n",
		"# TYPE x counter\nx{a=\"b} 1\n",
		"# TYPE x counter\nx{a=\"\\q\"} 1\n",
		"# TYPE x counter\nx one\n",
		"# TYPE x histogramm\nx 1\n",
		"# TYPE x counter\nx 1",
	};
	char why[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(check_exposition(bad[i], why, sizeof(why)) != 0);
	CHECK_EQ_INT(check_exposition("# TYPE x counter\nx{a=\"b\\\"c\"} 1.5\n", why,
			sizeof(why)), 0);
}

TEST(metrics_file_is_replaced_atomically)
{
	char dir[] = "/tmp/tt-metrics-XXXXXX", path[256], tmp[300];
	struct tt_engine *eng = busy_engine();
	struct tt_metrics_input in = { .eng = eng, .tw_population = -1 };
	struct stat st;
	FILE *f;
	char line[256];

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tcptrail.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK_EQ_INT(metrics__write_file(path, &in, NULL), 0);
	CHECK_EQ_INT(metrics__write_file(path, &in, NULL), 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	/* 0644 under a hardened umask too: node_exporter runs as another user */
	{
		mode_t old = umask(077);

		CHECK_EQ_INT(metrics__write_file(path, &in, NULL), 0);
		umask(old);
	}
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK(access(tmp, F_OK) != 0);
	f = fopen(path, "r");
	REQUIRE(f);
	CHECK(fgets(line, sizeof(line), f) && !strncmp(line, "# HELP tcptrail_", 16));
	fclose(f);
	/* a planted symlink at the temp name is not followed */
	CHECK(symlink("/etc/passwd-not-here", tmp) == 0);
	CHECK_EQ_INT(metrics__write_file(path, &in, NULL), 0);
	CHECK(access("/etc/passwd-not-here", F_OK) != 0);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
	engine__free(eng);
}

/* A --metrics-file that starts failing is said once, and so is its recovery. */
TEST(metrics_file_failure_said_once_and_recovery)
{
	char dir[] = "/tmp/tt-metrics-XXXXXX", path[256], errpath[] = "/tmp/tt-metrics-err-XXXXXX";
	struct tt_engine *eng = busy_engine();
	struct tw_report tw = { .population = -1 };
	struct tt_summary sum = { .eng = eng, .tw = &tw };
	struct tt_sink_ref ref;
	char text[2048] = "";
	int efd, saved, level = tt_verbosity;
	ssize_t n;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tcptrail.prom", dir);
	REQUIRE(metrics__file_sink(&ref, path, 50, NULL, NULL, NULL, NULL) == 0);
	efd = mkstemp(errpath);
	REQUIRE(efd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(efd, 2);
	tt_verbosity = TT_LOG_WARN;
	ref.ops->flush(ref.priv, &sum);		/* written */
	unlink(path);
	rmdir(dir);
	for (int i = 0; i < 3; i++)		/* three fail, one line */
		ref.ops->flush(ref.priv, &sum);
	mkdir(dir, 0700);
	ref.ops->flush(ref.priv, &sum);		/* written again */
	ref.ops->flush(ref.priv, &sum);
	fflush(stderr);
	tt_verbosity = level;
	dup2(saved, 2);
	close(saved);
	n = pread(efd, text, sizeof(text) - 1, 0);
	close(efd);
	unlink(errpath);
	REQUIRE(n > 0);
	CHECK_EQ_INT(tt_count(text, "No such file or directory"), 1);
	CHECK_EQ_INT(tt_count(text, "written again (3 summaries were not)"), 1);
	CHECK_EQ_INT(tt_count(text, "\n"), 2);
	CHECK(access(path, F_OK) == 0);
	ref.ops->free(ref.priv);
	unlink(path);
	rmdir(dir);
	engine__free(eng);
}

/*
 * Two runs on one --metrics-file overwrote each other's counts (a counter
 * reset at every other scrape) and removed each other's temp file.  The
 * file written keeps its writer's lock; a second run is refused at start.
 */
TEST(metrics_file_is_locked_while_written)
{
	char dir[] = "/tmp/tt-metrics-XXXXXX", path[256];
	struct tt_engine *eng = busy_engine();
	struct tw_report tw = { .population = -1 };
	struct tt_summary sum = { .eng = eng, .tw = &tw };
	struct tt_sink_ref ref;
	int level = tt_verbosity;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tcptrail.prom", dir);
	REQUIRE(metrics__file_sink(&ref, path, 50, NULL, NULL, NULL, NULL) == 0);
	ref.ops->flush(ref.priv, &sum);
	CHECK(outfile__busy(path));
	ref.ops->flush(ref.priv, &sum);		/* a new file at path: locked too */
	CHECK(outfile__busy(path));
	tt_verbosity = TT_LOG_ERROR - 1;
	CHECK_EQ_INT(outfile__check("--metrics-file", path), -EBUSY);
	tt_verbosity = level;
	ref.ops->free(ref.priv);
	CHECK(!outfile__busy(path));
	CHECK_EQ_INT(outfile__check("--metrics-file", path), 0);
	unlink(path);
	rmdir(dir);
	engine__free(eng);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A connection that the kernel completed within ms, or -1: a blocking
 * connect() to a full queue retries its SYN for minutes.
 */
static int dial_within(int port, int ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -1;
	if ((connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) ||
	    poll(&p, 1, ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Serve until fd has an answer, at most `rounds` passes. */
static ssize_t exchange(struct tt_metrics_server *m, int fd, const char *req, char *buf,
			size_t len, uint64_t now_ms)
{
	size_t got = 0;

	if (req)
		send(fd, req, strlen(req), 0);
	for (int round = 0; round < 200 && got < len - 1; round++) {
		ssize_t n;

		metrics_server__work(m, now_ms);
		n = recv(fd, buf + got, len - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		usleep(1000);
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

TEST(metrics_http_serves_and_survives_bad_clients)
{
	struct tt_engine *eng = busy_engine();
	struct tt_metrics_input in = { .eng = eng, .tw_population = 3 };
	struct tt_metrics_server *m;
	char spec[64], err[128], buf[16384];
	int port = free_port(), slow, fd;

	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	REQUIRE(metrics_server__new(&m, spec, err, sizeof(err)) == 0);
	CHECK_STR(metrics_server__address(m), spec);
	CHECK_EQ_INT(metrics_server__update(m, &in), 0);

	/* a client that connects and says nothing holds a slot, not the loop */
	slow = dial(port);
	REQUIRE(slow >= 0);
	fd = dial(port);
	REQUIRE(fd >= 0);
	exchange(m, fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf), 1000);
	CHECK(!strncmp(buf, "HTTP/1.0 200 OK\r\n", 17));
	CHECK(strstr(buf, "tcptrail_timewait_sockets 3\n") != NULL);
	close(fd);

	/* garbage gets a 400; a wrong path a 404 */
	fd = dial(port);
	exchange(m, fd, "\x01\x02garbage\r\n\r\n", buf, sizeof(buf), 1000);
	CHECK(!strncmp(buf, "HTTP/1.0 400", 12));
	close(fd);
	fd = dial(port);
	exchange(m, fd, "GET /secret HTTP/1.0\r\n\r\n", buf, sizeof(buf), 1000);
	CHECK(!strncmp(buf, "HTTP/1.0 404", 12));
	close(fd);
	/* no version (HTTP/0.9), or the target split: 400; a version not 1.x: 505 */
	static const char *const lines[][2] = {
		{ "GET /metrics\r\n\r\n", "HTTP/1.0 400" },
		{ "GET /metrics\n\n", "HTTP/1.0 400" },
		{ "GET /met rics HTTP/1.1\r\n\r\n", "HTTP/1.0 400" },
		{ "GET /metrics HTTP/9.9\r\n\r\n", "HTTP/1.0 505" },
		{ "GET /metrics HTTP/1.10\r\n\r\n", "HTTP/1.0 505" },
		{ "GET /metrics HTTP/2\r\n\r\n", "HTTP/1.0 505" },
		{ "GET /metrics HTTP/1.1\n\n", "HTTP/1.0 200" },
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		fd = dial(port);
		exchange(m, fd, lines[i][0], buf, sizeof(buf), 1000);
		CHECK(!strncmp(buf, lines[i][1], 12));
		if (strncmp(buf, lines[i][1], 12))
			fprintf(stderr, "    %s: got %.40s\n", lines[i][0], buf);
		close(fd);
	}
	/* HEAD answers where GET does, with the headers alone */
	static const char *const heads[] = { "HEAD / HTTP/1.0\r\n\r\n",
					     "HEAD /metrics HTTP/1.0\r\n\r\n",
					     "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n" };
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		fd = dial(port);
		exchange(m, fd, heads[i], buf, sizeof(buf), 1000);
		CHECK(!strncmp(buf, "HTTP/1.0 200", 12));
		CHECK(!strstr(buf, "tcptrail_"));
		close(fd);
	}
	fd = dial(port);
	exchange(m, fd, "HEAD /secret HTTP/1.0\r\n\r\n", buf, sizeof(buf), 1000);
	CHECK(!strncmp(buf, "HTTP/1.0 404", 12));
	CHECK(!strstr(buf, "not found"));	/* no body to a HEAD */
	close(fd);

	/* past its deadline the silent client is dropped */
	exchange(m, slow, NULL, buf, sizeof(buf), 1000 + 60000);
	CHECK_EQ_INT(recv(slow, buf, 1, MSG_DONTWAIT), 0);
	close(slow);

	/* more clients than slots: all are answered in turn */
	int many[40];

	for (int i = 0; i < 40; i++)
		many[i] = dial(port);
	for (int i = 0; i < 40; i++) {
		exchange(m, many[i], "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf), 70000);
		CHECK(!strncmp(buf, "HTTP/1.0 200", 12));
		close(many[i]);
	}

	/* a method other than GET and HEAD: 405, saying which; a NUL (TLS, say): 400 */
	fd = dial(port);
	exchange(m, fd, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", buf, sizeof(buf),
		 80000);
	CHECK(!strncmp(buf, "HTTP/1.0 405", 12) && strstr(buf, "\r\nAllow: GET, HEAD\r\n"));
	close(fd);
	fd = dial(port);
	send(fd, "GET /metrics\0 HTTP/1.0\r\n\r\n", 27, 0);
	exchange(m, fd, NULL, buf, sizeof(buf), 80000);
	CHECK(!strncmp(buf, "HTTP/1.0 400", 12));
	close(fd);
	/* the absolute form, as HTTP/1.1 servers must take it */
	fd = dial(port);
	exchange(m, fd, "GET http://127.0.0.1/metrics HTTP/1.1\r\nHost: x\r\n\r\n", buf,
		 sizeof(buf), 80000);
	CHECK(!strncmp(buf, "HTTP/1.0 200", 12) && strstr(buf, "tcptrail_timewait_sockets 3\n"));
	close(fd);

	/*
	 * More idle connections than slots, then a scrape: it is answered once
	 * they have idled IDLE_MS, not after each batch's 3 s (11 s for 79).
	 */
	int idle[20];

	for (int i = 0; i < 20; i++)
		idle[i] = dial(port);
	metrics_server__work(m, 100000);
	fd = dial(port);
	exchange(m, fd, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf), 100000 + 300);
	CHECK(!strncmp(buf, "HTTP/1.0 200", 12));
	close(fd);
	for (int i = 0; i < 20; i++)
		close(idle[i]);

	/*
	 * More idle connections than slots and waiting places, all new: a
	 * scrape behind them, its request sent as it connects, is answered at
	 * once.  Before, the kernel's queue of 64 filled, and the scrape's SYN
	 * was retried for seconds (a scrape took 11 s behind 100).
	 */
	int crowd[120];

	for (int i = 0; i < 120; i++) {
		crowd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		connect(crowd[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(20000);
	fd = dial_within(port, 2000);
	REQUIRE(fd >= 0);
	exchange(m, fd, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf), 200000);
	CHECK(!strncmp(buf, "HTTP/1.0 200", 12));
	close(fd);
	/* and one that connects first and asks later still gets its turn */
	fd = dial_within(port, 2000);
	REQUIRE(fd >= 0);
	metrics_server__work(m, 200000);
	exchange(m, fd, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf), 200001);
	CHECK(!strncmp(buf, "HTTP/1.0 200", 12));
	close(fd);
	for (int i = 0; i < 120; i++)
		close(crowd[i]);
	metrics_server__free(m);
	engine__free(eng);
}

/* sample NAME{LABELS} in text: its value, or -1 when absent */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

static char *render(const struct tt_metrics_input *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	metrics__render(f, in);
	fclose(f);
	return buf;
}

/*
 * Issue 15: the ends of flows_closed_total are parts of one whole: every end
 * the engine knows is there (close, abort, timeout...), there is no "any"
 * total beside them, and sum() over end is the flows closed.
 */
TEST(metrics_flows_closed_is_summable)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	static const struct { int err; unsigned int old; const char *end; } ends[] = {
		{ 0, TT_LAST_ACK, "close" }, { 0, TT_ESTABLISHED, "abort" },
		{ 111, TT_SYN_SENT, "refused" }, { 104, TT_ESTABLISHED, "reset" },
		{ 110, TT_ESTABLISHED, "timeout" }, { 5, TT_ESTABLISHED, "error" },
	};
	struct tt_metrics_input in = { .eng = eng, .tw_population = -1 };
	long long sum = 0;
	char *buf, series[128];

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		uint64_t sk = 0x1000 * (i + 1);
		struct tt_event e = rec(TT_EV_TRANSITION, sk, TT_CLOSE, TT_SYN_SENT, 10 * i + 1);

		engine__feed(eng, &e);
		if (ends[i].old != TT_SYN_SENT) {
			e = rec(TT_EV_TRANSITION, sk, TT_SYN_SENT, TT_ESTABLISHED, 10 * i + 2);
			engine__feed(eng, &e);
		}
		if (ends[i].old == TT_LAST_ACK) {
			e = rec(TT_EV_TRANSITION, sk, TT_ESTABLISHED, TT_CLOSE_WAIT, 10 * i + 3);
			engine__feed(eng, &e);
			e = rec(TT_EV_TRANSITION, sk, TT_CLOSE_WAIT, TT_LAST_ACK, 10 * i + 4);
			engine__feed(eng, &e);
		}
		e = rec(TT_EV_TRANSITION, sk, ends[i].old, TT_CLOSE, 10 * i + 5);
		e.aux[0] = (uint32_t)ends[i].err;
		engine__feed(eng, &e);
	}
	buf = render(&in);
	CHECK(strstr(buf, "end=\"any\"") == NULL);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		snprintf(series, sizeof(series), "tcptrail_flows_closed_total{end=\"%s\"}",
				ends[i].end);
		CHECK_EQ_INT(sample(buf, series), 1);
	}
	/* every end is there from the start, at 0, so rate() has a series to start from */
	for (int e = TT_END_NONE + 1; e < TT_END_MAX; e++) {
		snprintf(series, sizeof(series), "tcptrail_flows_closed_total{end=\"%s\"}",
			 tt_end_name(e));
		CHECK(sample(buf, series) >= 0);
		sum += sample(buf, series) > 0 ? sample(buf, series) : 0;
	}
	CHECK_EQ_INT(sum, engine__total(eng)->flows_closed);
	CHECK_EQ_INT(sum, 6);
	CHECK(strstr(buf, "# TYPE tcptrail_build_info gauge\n") != NULL);
	snprintf(series, sizeof(series), "tcptrail_build_info{version=\"%s\"}", tt_version);
	CHECK_EQ_INT(sample(buf, series), 1);
	free(buf);
	engine__free(eng);
}

/* TIME-WAIT port pressure: one series per top destination, and the warning share. */
TEST(metrics_timewait_pressure)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 8 });
	struct tw_report tw = { .population = 30000, .n_pressure = 1 };
	struct tt_metrics_input in = { .eng = eng, .tw_population = 30000, .tw = &tw,
				       .tw_warn_pct = 50 };
	char *buf;

	char why[128] = "";

	/* host-wide, the same destination from two namespaces: two series */
	tw.n_pressure = 2;
	tw.pressure[0] = (struct tw_pressure){ .netns = 11, .family = TT_AF_INET,
					       .addr = { 10, 0, 0, 7 }, .port = 5432,
					       .time_wait = 20000, .range = 28232,
							.share_pct = 75.5 };
	tw.pressure[1] = tw.pressure[0];
	tw.pressure[1].netns = 12;
	tw.pressure[1].share_pct = 20;
	buf = render(&in);
	CHECK_EQ_INT(check_exposition(buf, why, sizeof(why)), 0);
	CHECK(strstr(buf,
			"tcptrail_timewait_port_pressure_ratio{addr=\"10.0.0.7\",port=\"5432\",netns=\"11\"} 0.755\n"));
	CHECK(strstr(buf,
			"tcptrail_timewait_port_pressure_ratio{addr=\"10.0.0.7\",port=\"5432\",netns=\"12\"} 0.2\n"));
	CHECK(strstr(buf, "tcptrail_timewait_port_pressure_warn_ratio 0.5000\n"));
	free(buf);
	in.tw = NULL;
	buf = render(&in);
	CHECK(strstr(buf, "tcptrail_timewait_port_pressure") == NULL);
	free(buf);
	engine__free(eng);
}

/* Issue 15: a metrics file that can never be written is refused at start. */
TEST(metrics_check_file)
{
	char dir[] = "/tmp/tt-mcheck-XXXXXX", path[256], err[256];

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.prom", dir);
	CHECK_EQ_INT(metrics__check_file(path, err, sizeof(err)), 0);
	CHECK(access(path, F_OK) != 0);		/* the check leaves nothing behind */
	CHECK(metrics__check_file(dir, err, sizeof(err)) == -EISDIR);
	CHECK(strstr(err, "directory") != NULL);
	snprintf(path, sizeof(path), "%s/missing/t.prom", dir);
	CHECK(metrics__check_file(path, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "missing/t.prom.tmp") != NULL);
	rmdir(dir);
}

static void render_live(FILE *f, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	fprintf(f, "# TYPE x counter\nx %d\n", *calls);
}

/*
 * Issue 15: with -i 0, or before the first interval, a scrape has the counts
 * of that moment: the body is rendered on demand, at most once a second.
 */
TEST(metrics_http_renders_on_demand)
{
	struct tt_metrics_server *m;
	char spec[64], err[128], buf[4096];
	int port = free_port(), fd, calls = 0;

	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	REQUIRE(metrics_server__new(&m, spec, err, sizeof(err)) == 0);
	metrics_server__set_render(m, render_live, &calls);
	fd = dial(port);
	exchange(m, fd, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf), 5000);
	close(fd);
	CHECK(strstr(buf, "\r\n\r\n# TYPE x counter\nx 1\n") != NULL);
	CHECK(strstr(buf, "no summary") == NULL);
	/* within the second: the same body */
	fd = dial(port);
	exchange(m, fd, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf), 5500);
	close(fd);
	CHECK(strstr(buf, "\nx 1\n") != NULL);
	/* later: a fresh one */
	fd = dial(port);
	exchange(m, fd, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf), 6000);
	close(fd);
	CHECK(strstr(buf, "\nx 2\n") != NULL);
	CHECK_EQ_INT(calls, 2);
	metrics_server__free(m);
}

/* Connection lifetimes: cumulative buckets, and only flows seen whole. */
TEST(metrics_flow_duration_histogram)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 8 });
	struct tt_duration_hist h = {};
	struct tt_metrics_input in = { .eng = eng, .tw_population = -1, .duration = &h };
	struct tt_flow f = { .nstates = 2, .end = TT_END_CLOSE, .role = TT_ROLE_ACTIVE,
			     .ts_ns = { 1000000000, 1005000000 } };	/* 5 ms */
	char *buf, why[128] = "";

	metrics__observe_flow(&h, &f);
	f.ts_ns[1] = f.ts_ns[0] + 30ull * 1000000000;		/* 30 s */
	metrics__observe_flow(&h, &f);
	f.ts_ns[1] = f.ts_ns[0] + 7200ull * 1000000000;		/* 2 h */
	metrics__observe_flow(&h, &f);
	/* none of these has a known lifetime, or is a connection */
	f.flags = TT_FLOW_SEEDED;
	metrics__observe_flow(&h, &f);
	f.flags = TT_FLOW_PARTIAL;
	metrics__observe_flow(&h, &f);
	f.flags = 0;
	f.end = TT_END_EVICTED;
	metrics__observe_flow(&h, &f);
	f.end = TT_END_CLOSE;
	f.role = TT_ROLE_LISTENER;
	metrics__observe_flow(&h, &f);
	CHECK_EQ_INT(h.count, 3);

	buf = render(&in);
	CHECK_EQ_INT(check_exposition(buf, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "    %s\n", why);
	CHECK_EQ_INT(sample(buf, "tcptrail_flow_duration_seconds_bucket{le=\"0.001\"}"), 0);
	CHECK_EQ_INT(sample(buf, "tcptrail_flow_duration_seconds_bucket{le=\"0.01\"}"), 1);
	CHECK_EQ_INT(sample(buf, "tcptrail_flow_duration_seconds_bucket{le=\"60\"}"), 2);
	CHECK_EQ_INT(sample(buf, "tcptrail_flow_duration_seconds_bucket{le=\"3600\"}"), 2);
	CHECK_EQ_INT(sample(buf, "tcptrail_flow_duration_seconds_bucket{le=\"+Inf\"}"), 3);
	CHECK_EQ_INT(sample(buf, "tcptrail_flow_duration_seconds_count"), 3);
	CHECK(strstr(buf, "tcptrail_flow_duration_seconds_sum 7230.005000\n") != NULL);
	free(buf);
	engine__free(eng);
}

/*
 * A scrape between summaries peeks at the TIME-WAIT report: it sees the
 * entries so far, and the next summary still counts every entry of its
 * interval, the peeked ones too.
 */
TEST(metrics_tw_peek_keeps_the_interval)
{
	struct tw_tracker *t = tw_tracker__new(-2, 50);
	struct tt_flow f = { .nstates = 2, .end = TT_END_TIME_WAIT, .role = TT_ROLE_ACTIVE,
			     .family = TT_AF_INET, .dport = 80, .daddr = { 10, 0, 0, 1 },
			     .state = { TT_ESTABLISHED, TT_TIME_WAIT }, .ts_ns = { 1, 2 } };
	struct tw_report r;

	REQUIRE(t);
	tw_tracker__flow(t, &f);
	tw_tracker__flow(t, &f);
	tw_tracker__peek(t, 10, &r);
	CHECK_EQ_INT(r.population, 2);		/* the 60 s estimate: no sock_diag here */
	tw_tracker__flow(t, &f);
	tw_tracker__report(t, 20, 20, &r);
	CHECK_EQ_INT(r.entries, 3);
	CHECK_EQ_INT(r.by_client, 3);
	CHECK_EQ_INT(r.population, 3);
	tw_tracker__report(t, 30, 10, &r);
	CHECK_EQ_INT(r.entries, 0);
	tw_tracker__free(t);
}

/*
 * The 60 s estimate (replay) groups TIME-WAIT by destination as the census
 * does: our clients' entries by address:port, peers that connected to us
 * by address alone, whatever ephemeral port each came from.
 */
TEST(tw_estimate_groups_accepted_peers_by_address)
{
	struct tw_tracker *t = tw_tracker__new(-2, 50);
	struct tt_flow f = { .nstates = 2, .end = TT_END_TIME_WAIT, .role = TT_ROLE_PASSIVE,
			     .family = TT_AF_INET, .daddr = { 10, 0, 0, 2 },
			     .state = { TT_ESTABLISHED, TT_TIME_WAIT }, .ts_ns = { 1, 2 } };
	struct tw_report r;

	REQUIRE(t);
	for (int i = 0; i < 5; i++) {
		f.dport = (uint16_t)(40000 + i);
		tw_tracker__flow(t, &f);
	}
	f.role = TT_ROLE_ACTIVE;
	f.dport = 80;
	tw_tracker__flow(t, &f);
	tw_tracker__report(t, 20, 20, &r);
	CHECK(r.estimated);
	REQUIRE(r.n_remote == 2);
	CHECK_EQ_INT(r.remote[0].port, 0);
	CHECK_EQ_INT(r.remote[0].count, 5);
	CHECK_EQ_INT(r.remote[1].port, 80);
	CHECK_EQ_INT(r.remote[1].count, 1);
	tw_tracker__free(t);
}

TEST(metrics_listen_spec_errors)
{
	static const char *bad[] = { "nope", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
				     "[::1:80", "300.1.1.1:80", ":x" };
	struct tt_metrics_server *m;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(metrics_server__new(&m, bad[i], err, sizeof(err)) < 0);
		if (!err[0])
			fprintf(stderr, "    no message for '%s'\n", bad[i]);
		CHECK(err[0] != '\0');
	}
}

/*
 * The container series: strictly valid, one per container and service,
 * bounded (the 51st container and beyond sum under "other").
 */
TEST(metrics_container_leaks_bounded_and_valid)
{
	struct tt_engine *eng = busy_engine();
	enum { N = 60 };
	static char ids[N][65];
	struct tt_cw_group g[N + 2];
	struct tt_metrics_input in = { .eng = eng, .cw = g, .n_cw = N + 2, .tw_population = -1 };
	char *buf = NULL, why[128] = "";
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int series = 0;

	memset(g, 0, sizeof(g));
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%064x", i + 1);
		g[i] = (struct tt_cw_group){ .container = ids[i], .pid = 42, .count = 2,
					     .kind = TT_SVC_LOCAL, .port = 8080 };
	}
	/* the same container and service from another pid adds up; a remote service is its own */
	g[N] = (struct tt_cw_group){ .container = ids[0], .pid = 43, .count = 5,
				     .kind = TT_SVC_LOCAL, .port = 8080 };
	g[N + 1] = (struct tt_cw_group){ .container = ids[0], .pid = 43, .count = 1,
					 .kind = TT_SVC_REMOTE, .family = TT_AF_INET,
					 .addr = { 10, 0, 0, 7 }, .port = 5432 };
	metrics__render(f, &in);
	fclose(f);
	REQUIRE(buf);
	CHECK_EQ_INT(check_exposition(buf, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "    %s\n", why);
	for (const char *p = buf; (p = strstr(p,
			"\ntcptrail_container_close_wait_suspected_leaks{")); p++)
		series++;
	CHECK_EQ_INT(series, 50 + 1);
	CHECK(strstr(buf,
			"{container=\"0000000000000000000000000000000000000000000000000000000000000001\","
		     "service=\"local:8080\"} 7\n"));
	/* 10 containers of 2, and the remote service of the first, past the 50 */
	CHECK(strstr(buf, "{container=\"other\",service=\"other\"} 21\n"));
	free(buf);
	engine__free(eng);
}
