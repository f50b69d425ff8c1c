// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --snapshot's grouping and printing (user/view.c), over sockets made up
 * here; and its sources (user/viewsrc.c): a replay's engine, and the live
 * path over loopback sockets of our own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "diag.h"
#include "engine.h"
#include "util.h"
#include "view.h"
#define REC_BASE { .family = TT_AF_INET, .netns = 4026531840u, .sport = 8080, .dport = 40000, \
		   .saddr = { 10, 0, 0, 1 }, .daddr = { 10, 1, 0, 1 }, .comm = "softirq" }
#include "records.h"
#include "tt_test.h"

static struct view_sock sk(uint8_t state, uint32_t pid, const char *comm, uint16_t lport,
			   const char *raddr, uint8_t kind, uint64_t age_ms,
			   const struct tt_cgname *cg)
{
	struct view_sock s = { .family = TT_AF_INET, .state = state, .pid = pid, .sport = lport,
			       .dport = 40000, .netns = 4026531840u, .age_kind = kind,
			       .age_ms = age_ms, .cg = cg };

	snprintf(s.comm, sizeof(s.comm), "%s", comm);
	inet_pton(AF_INET, "10.0.0.1", s.saddr);
	inet_pton(AF_INET, raddr, s.daddr);
	return s;
}

/* What view__print writes for these sockets under o. */
/* not inlined: gcc then takes the memstream buffer for a dangling local */
static __attribute__((noinline)) char *print(const struct tt_opts *o, const struct view_sock *socks,
					    int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tt_view *v = view__new(o, f, false);

	for (int i = 0; i < n; i++)
		view__add(v, &socks[i]);
	view__print(v, 1764849600000000000ll, "sock_diag", 3);
	view__free(v);
	fclose(f);
	return buf;
}

static const struct tt_cgname ctr = {
	.id = 42, .path = "/libpod_parent/libpod-0123456789abcdef", .source = TT_CGSRC_V2,
	.container = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	.runtime = "podman",
};

TEST(view_groups_by_state_owner_and_container)
{
	struct view_sock s[6] = {
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, NULL),
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "10.1.0.2", VIEW_AGE_AT_LEAST, 9000, NULL),
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "10.1.0.3", VIEW_AGE_AT_LEAST, 5000, &ctr),
		sk(TT_CLOSE_WAIT, 200, "other", 9090, "10.1.0.4", VIEW_AGE_AT_LEAST, 1000, NULL),
		sk(TT_TIME_WAIT, 0, "", 40001, "192.0.2.1", VIEW_AGE_AT_LEAST, 12000, NULL),
		sk(TT_LISTEN, 100, "leaky", 8080, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, NULL),
	};
	struct tt_opts o = { .snapshot = true };
	char *out;

	s[4].timewait = true;
	out = print(&o, s, 6);
	REQUIRE(out);
	CHECK(strstr(out, "6 TCP sockets in 3 network namespaces (sock_diag)\n") != NULL);
	CHECK(strstr(out, "2025-12-04T12:00:00.000000Z") == out);
	CHECK(strstr(out, "\nTIME_WAIT 1  CLOSE_WAIT 4  LISTEN 1\n") != NULL);
	/* pid 100's two sockets outside the container, the oldest's age first */
	CHECK(strstr(out, "CLOSE_WAIT         2   >=9.00s      100 leaky            4026531840  -\n"
			  "    10.0.0.1:8080              10.1.0.2:40000             age >=9.00s ") != NULL);
	/* the one inside the container is a group of its own, by its short id */
	CHECK(strstr(out, "CLOSE_WAIT         1   >=5.00s      100 leaky            4026531840  "
			  "0123456789ab\n") != NULL);
	CHECK(strstr(out, "CLOSE_WAIT         1   >=1.00s      200 other ") != NULL);
	CHECK(strstr(out, "TIME_WAIT          1   >=12.0s        - -  ") != NULL);
	/* a listener: no age, "*" for its peer as ss shows it */
	CHECK(strstr(out, "LISTEN             1         -      100 leaky ") != NULL);
	CHECK(strstr(out, "    10.0.0.1:8080              *  ") != NULL);
	/* in state order: TIME_WAIT (6) before CLOSE_WAIT (8) before LISTEN (10) */
	CHECK(strstr(out, "TIME_WAIT    ") < strstr(out, "CLOSE_WAIT   "));
	CHECK(strstr(out, "CLOSE_WAIT   ") < strstr(out, "LISTEN    "));
	free(out);

	/* --quiet-flows: the groups alone */
	o.quiet_flows = true;
	out = print(&o, s, 6);
	CHECK_EQ_INT(tt_count(out, "\n    "), 0);
	CHECK_EQ_INT(tt_count(out, "\nCLOSE_WAIT "), 3);
	free(out);
}

/*
 * A socket a fork kept (or an fd passed on) is shown under the lowest pid:
 * the group says others hold it too, the row how many, and JSON holders.
 */
TEST(view_shared_socket_says_who_else_holds_it)
{
	struct view_sock s[2] = {
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, NULL),
		sk(TT_CLOSE_WAIT, 100, "a-long-comm-nam", 8080, "10.1.0.2", VIEW_AGE_AT_LEAST,
		   3000, NULL),
	};
	struct tt_opts o = { .snapshot = true };
	char *out;

	s[0].holders = 3;
	s[1].holders = 2;
	s[1].pid = 101;
	out = print(&o, s, 2);
	REQUIRE(out);
	CHECK(strstr(out, "      100 leaky +2         4026531840") != NULL);
	CHECK(strstr(out, "      101 a-long-comm- +1  4026531840") != NULL);
	CHECK(strstr(out, "rq - wq -  held by 3 processes\n") != NULL);
	free(out);
	o.json = true;
	out = print(&o, s, 2);
	REQUIRE(out);
	CHECK(strstr(out, "\"pid\":100,\"comm\":\"leaky\",\"holders\":3,") != NULL);
	free(out);
}

TEST(view_filters_state_address_container)
{
	struct view_sock s[3] = {
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, &ctr),
		sk(TT_ESTABLISHED, 100, "leaky", 8080, "192.0.2.9", VIEW_AGE_AT_LEAST, 10, NULL),
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "192.0.2.7", VIEW_AGE_AT_LEAST, 10, NULL),
	};
	struct tt_opts o = { .snapshot = true, .quiet_flows = true };
	char bad[64], *out;

	REQUIRE(!tt_parse_states("close-wait", &o.states, bad, sizeof(bad)));
	out = print(&o, s, 3);
	CHECK(strstr(out, "  2 TCP sockets") != NULL);
	CHECK_EQ_INT(tt_count(out, "ESTABLISHED"), 0);
	free(out);
	REQUIRE(!tt_parse_cidrs("192.0.2.0/24", o.remote, &o.n_remote, TT_MAX_CIDRS, bad, 64));
	out = print(&o, s, 3);
	CHECK(strstr(out, "  1 TCP socket in ") != NULL);
	free(out);
	o = (struct tt_opts){ .snapshot = true, .quiet_flows = true, .container = "0123" };
	out = print(&o, s, 3);
	CHECK(strstr(out, "  1 TCP socket in ") != NULL);
	CHECK(strstr(out, "0123456789ab\n") != NULL);
	free(out);
	o.container = "fff";
	out = print(&o, s, 3);
	CHECK(strstr(out, "  0 TCP sockets in ") != NULL);
	CHECK(strstr(out, "\n(none)") != NULL);
	free(out);

	/* a listener has no peer: even --remote 0.0.0.0/0 leaves it out */
	struct view_sock l[2] = {
		sk(TT_LISTEN, 100, "srv", 8080, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, NULL),
		s[1],
	};

	o = (struct tt_opts){ .snapshot = true, .quiet_flows = true };
	REQUIRE(!tt_parse_cidrs("0.0.0.0/0", o.remote, &o.n_remote, TT_MAX_CIDRS, bad, 64));
	out = print(&o, l, 2);
	CHECK(strstr(out, "  1 TCP socket in ") != NULL);
	CHECK_EQ_INT(tt_count(out, "LISTEN"), 0);
	free(out);
}

/*
 * --top on a terminal: every line cut to its width.  A line that wrapped
 * took two rows, and the frame's top (the time, the counts, the header)
 * scrolled off at every redraw: 88 columns of header on an 80-column one.
 */
TEST(view_top_on_a_terminal_cuts_lines_to_its_width)
{
	struct view_sock s[2] = {
		sk(TT_CLOSE_WAIT, 100, "lea\xc3\xa9k\xc3\xa9\xc3\xa9\xc3\xa9", 8080,
		   "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, &ctr),
		sk(TT_LISTEN, 100, "leaky", 8080, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, NULL),
	};
	struct tt_opts o = { .top = true, .interval_ns = 2000000000ull };
	struct winsize ws = { .ws_row = 24, .ws_col = 50 };
	int ptm = posix_openpt(O_RDWR | O_NOCTTY), pts, saved;
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f;
	struct tt_view *v;
	int lines = 0;

	REQUIRE(ptm >= 0 && !grantpt(ptm) && !unlockpt(ptm));
	pts = open(ptsname(ptm), O_RDWR | O_NOCTTY);
	REQUIRE(pts >= 0 && !ioctl(pts, TIOCSWINSZ, &ws));
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(pts, STDOUT_FILENO);
	f = open_memstream(&buf, &len);
	v = view__new(&o, f, true);
	for (int i = 0; i < 2; i++)
		view__add(v, &s[i]);
	view__print(v, 1764849600000000000ll, "sock_diag", 1);
	view__free(v);
	fclose(f);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(pts);
	close(ptm);
	REQUIRE(buf);
	/* after the clear, each line 50 columns at most (the comm's é is one, of two bytes) */
	line = strstr(buf, "\033[2J");
	REQUIRE(line);
	line += 4;
	for (char *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
		size_t cols = tt_utf8_cols(line, (size_t)(nl - line));

		if (cols > 50)
			fprintf(stderr, "    %zu columns: %.*s\n", cols, (int)(nl - line), line);
		CHECK(cols <= 50);
	}
	CHECK(lines >= 4);
	CHECK(strstr(buf, "\nSTATE        SOCKETS    OLDEST      PID COMMAND   \n") != NULL);
	CHECK(strstr(buf, "      100 lea\xc3\xa9k\xc3\xa9\xc3\xa9\xc3\xa9  \n") != NULL);
	free(buf);
}

static const struct tt_cgname host = {
	.id = 1, .path = "/", .source = TT_CGSRC_V2,
};

/*
 * A timewait sock keeps no cgroup: it is its namespace's container's when
 * every socket there with a cgroup names that one container, and then
 * --container and --cgroup keep it; in the host's namespace it names none.
 */
TEST(view_timewait_named_by_its_namespace)
{
	struct view_sock s[7] = {
		sk(TT_LISTEN, 100, "srv", 8080, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, &ctr),
		sk(TT_TIME_WAIT, 0, "", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 1000, NULL),
		sk(TT_LISTEN, 1, "sshd", 22, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, &host),
		sk(TT_TIME_WAIT, 0, "", 22, "10.1.0.2", VIEW_AGE_AT_LEAST, 1000, NULL),
		/* a namespace the host and a container share: no name */
		sk(TT_LISTEN, 1, "sshd", 23, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, &host),
		sk(TT_LISTEN, 100, "srv", 24, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, &ctr),
		sk(TT_TIME_WAIT, 0, "", 24, "10.1.0.3", VIEW_AGE_AT_LEAST, 1000, NULL),
	};
	struct tt_opts o = { .snapshot = true, .json = true };
	char *out;

	s[0].netns = s[1].netns = 4026532000u;
	s[4].netns = s[5].netns = s[6].netns = 4026532001u;
	s[1].timewait = s[3].timewait = s[6].timewait = true;
	out = print(&o, s, 7);
	REQUIRE(out);
	/* the container's TIME_WAIT socket names it; the host's names none */
	CHECK_EQ_INT(tt_count(out, "\"state\":\"TIME_WAIT\",\"netns\":4026532000,\"cgroup\":"
			 "\"/libpod_parent/libpod-0123456789abcdef\",\"container\":\"0123"), 1);
	CHECK_EQ_INT(tt_count(out, "\"state\":\"TIME_WAIT\",\"netns\":4026531840,\"cgroup\":null,"
			 "\"container\":null"), 1);
	CHECK_EQ_INT(tt_count(out, "\"state\":\"TIME_WAIT\",\"netns\":4026532001,\"cgroup\":null,"
			 "\"container\":null"), 1);
	free(out);
	o.container = "0123";
	out = print(&o, s, 7);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"socket\""), 3);
	free(out);
	out = print(&o, s, 4);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"socket\""), 2);
	CHECK_EQ_INT(tt_count(out, "\"state\":\"TIME_WAIT\",\"netns\":4026532000,"), 1);
	free(out);
	o.container = NULL;
	snprintf(o.cgroup_path, sizeof(o.cgroup_path), "/libpod_parent");
	out = print(&o, s, 4);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"socket\""), 2);
	free(out);
}

static const struct tt_cgname ctr2 = {
	.id = 43, .path = "/libpod_parent/libpod-fedcba9876543210", .source = TT_CGSRC_V2,
	.container = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
	.runtime = "podman",
};

/*
 * A namespace two containers share (--network=container:, a pod's
 * sidecar): the TIME-WAIT socket of the one with no open socket was named
 * after the other, whose listener was the only socket there with a cgroup.
 * Every process there is told of: two containers, no name.  One
 * container's processes alone still name it, and so they do beside a host
 * process that entered the namespace (nsenter ... ss, which once took the
 * name away, and with --container the sockets).
 */
TEST(view_timewait_of_a_shared_namespace_names_no_container)
{
	struct view_sock s[2] = {
		sk(TT_LISTEN, 100, "httpd", 8080, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, &ctr),
		sk(TT_TIME_WAIT, 0, "", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 1000, NULL),
	};
	struct tt_opts o = { .snapshot = true, .json = true };

	s[0].netns = s[1].netns = 4026532000u;
	s[1].timewait = true;
	/* 0: the container's processes alone; 1: another container's too; 2: host processes too */
	for (int c = 0; c < 3; c++) {
		int shared = c == 1;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		struct tt_view *v = view__new(&o, f, false);

		REQUIRE(f && v);
		for (int i = 0; i < 2; i++)
			view__add(v, &s[i]);
		CHECK(view__unnamed_timewait(v));
		view__name_netns(v, 4026532000u, &ctr);
		if (shared)
			view__name_netns(v, 4026532000u, &ctr2);
		/* a shell that entered it (nsenter ... ss), and one whose cgroup is not known */
		if (c == 2) {
			view__name_netns(v, 4026532000u, &host);
			view__name_netns(v, 4026532000u, NULL);
		}
		view__print(v, 1764849600000000000ll, "sock_diag", 1);
		view__free(v);
		fclose(f);
		CHECK_EQ_INT(tt_count(buf, "\"state\":\"TIME_WAIT\",\"netns\":4026532000,\"cgroup\":null,"
				 "\"container\":null"), shared);
		CHECK_EQ_INT(tt_count(buf, "\"state\":\"TIME_WAIT\",\"netns\":4026532000,\"cgroup\":"
				 "\"/libpod_parent/libpod-0123456789abcdef\""), !shared);
		free(buf);
	}
}

TEST(view_json_records)
{
	struct view_sock s[3] = {
		sk(TT_CLOSE_WAIT, 100, "le\"aky", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, &ctr),
		sk(TT_CLOSE_WAIT, 100, "le\"aky", 8080, "10.1.0.2", VIEW_AGE_EXACT, 7000, &ctr),
		sk(TT_SYN_SENT, 0, "", 0, "10.1.0.3", VIEW_AGE_UNKNOWN, 0, NULL),
	};
	struct tt_opts o = { .snapshot = true, .json = true };
	json_t *j[8];
	int n = 0;
	char *out;

	s[0].has_idle = true;
	s[0].idle_ms = 2999;
	out = print(&o, s, 3);
	for (char *line = out; line && *line && n < 8;) {
		char *end = strchr(line, '\n');
		json_error_t err;

		j[n] = json_loadb(line, end ? (size_t)(end - line) : strlen(line), 0, &err);
		CHECK(j[n] != NULL);
		if (!j[n])
			fprintf(stderr, "    not JSON: %.*s\n", (int)(end ? end - line : 80), line);
		else
			n++;
		line = end ? end + 1 : NULL;
	}
	REQUIRE(n == 4);
	for (int i = 0; i < 3; i++)
		CHECK_STR(json_string_value(json_object_get(j[i], "type")), "socket");
	/* in state order (SYN_SENT is 2), then the group's oldest first: 7000 ms, exact */
	CHECK_STR(json_string_value(json_object_get(j[0], "state")), "SYN_SENT");
	CHECK(json_is_null(json_object_get(j[0], "age_ms")));
	CHECK(json_is_false(json_object_get(j[0], "age_exact")));
	CHECK(json_is_null(json_object_get(j[0], "idle_ms")));
	CHECK(json_is_null(json_object_get(j[0], "container")));
	CHECK_EQ_INT(json_integer_value(json_object_get(j[1], "age_ms")), 7000);
	CHECK(json_is_true(json_object_get(j[1], "age_exact")));
	CHECK(json_is_false(json_object_get(j[2], "age_exact")));
	CHECK_EQ_INT(json_integer_value(json_object_get(j[2], "idle_ms")), 2999);
	CHECK_STR(json_string_value(json_object_get(j[2], "comm")), "le\"aky");
	CHECK_STR(json_string_value(json_object_get(j[2], "container")), ctr.container);
	CHECK_STR(json_string_value(json_object_get(j[2], "cgroup")), ctr.path);
	CHECK(json_is_null(json_object_get(j[2], "pod")));
	CHECK_STR(json_string_value(json_object_get(j[3], "type")), "snapshot");
	CHECK_EQ_INT(json_integer_value(json_object_get(j[3], "sockets")), 3);
	CHECK_EQ_INT(json_integer_value(json_object_get(j[3], "namespaces")), 3);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(j[3], "states"),
							 "CLOSE_WAIT")), 2);
	CHECK_EQ_INT(json_array_size(json_object_get(j[3], "groups")), 2);
	for (int i = 0; i < n; i++)
		json_decref(j[i]);
	free(out);

	/* --top --json: the snapshot record alone */
	o = (struct tt_opts){ .top = true, .json = true };
	out = print(&o, s, 3);
	CHECK_EQ_INT(tt_count(out, "\n"), 1);
	CHECK(strncmp(out, "{\"type\":\"snapshot\",", 19) == 0);
	free(out);
}

TEST(view_top_says_what_changed_since_the_last_frame)
{
	struct view_sock s[4] = {
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, NULL),
		sk(TT_CLOSE_WAIT, 100, "leaky", 8080, "10.1.0.2", VIEW_AGE_AT_LEAST, 3000, NULL),
		sk(TT_ESTABLISHED, 200, "web", 443, "10.1.0.3", VIEW_AGE_AT_LEAST, 10, NULL),
		sk(TT_LISTEN, 200, "web", 443, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, NULL),
	};
	struct tt_opts o = { .top = true, .interval_ns = 1000000000 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tt_view *v = view__new(&o, f, false);

	REQUIRE(v);
	/* frame 1: the leak's first socket and the listener */
	view__add(v, &s[0]);
	view__add(v, &s[3]);
	view__print(v, 0, "sock_diag", 1);
	fflush(f);
	CHECK(strstr(buf, " CHANGE\n") != NULL);
	CHECK(strstr(buf, "new") == NULL);	/* nothing to compare the first with */
	/* frame 2: the leak grew, a connection is new, the listener is as it was */
	view__reset(v);
	for (int i = 0; i < 4; i++)
		view__add(v, &s[i]);
	view__print(v, 1000000000, "sock_diag", 1);
	fclose(f);
	{
		const char *f2 = strstr(buf, "1970-01-01T00:00:01");

		REQUIRE(f2);
		CHECK(strstr(f2, "CLOSE_WAIT         2   >=3.00s      100 leaky            "
				 "4026531840  -            +1\n") != NULL);
		CHECK(strstr(f2, "ESTABLISHED        1    >=10ms      200 web              "
				 "4026531840  -            new\n") != NULL);
		CHECK(strstr(f2, "LISTEN             1         -      200 web              "
				 "4026531840  -\n") != NULL);
		CHECK(strstr(f2, "gone") == NULL);
	}
	/* then the leak is fixed: its group says so, once */
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	view__free(v);
	v = view__new(&o, f, false);
	REQUIRE(v);
	view__add(v, &s[0]);
	view__add(v, &s[3]);
	view__print(v, 0, "sock_diag", 1);
	view__reset(v);
	view__add(v, &s[3]);
	view__print(v, 1000000000, "sock_diag", 1);
	view__reset(v);
	view__add(v, &s[3]);
	view__print(v, 2000000000, "sock_diag", 1);
	fclose(f);
	{
		const char *f2 = strstr(buf, "1970-01-01T00:00:01");

		REQUIRE(f2);
		CHECK(strstr(f2, "CLOSE_WAIT         0         -      100 leaky            "
				 "4026531840  -            gone\n") != NULL);
		f2 = strstr(buf, "1970-01-01T00:00:02");
		REQUIRE(f2);
		CHECK(strstr(f2, "gone") == NULL);
	}
	view__free(v);
	free(buf);
}

/* --top on a terminal clears the screen each frame: a start-up warning stays in it as a note */
TEST(view_top_keeps_the_warning_the_screen_cleared)
{
	struct view_sock s = sk(TT_LISTEN, 100, "srv", 8080, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, NULL);
	struct tt_opts o = { .top = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tt_view *v = view__new(&o, f, true);

	REQUIRE(f && v);
	view__note(v, "some network namespaces could not be opened");
	view__note(v, "a second is not kept");
	view__add(v, &s);
	view__print(v, 1764849600000000000ll, "sock_diag", 1);
	view__free(v);
	fclose(f);
	CHECK(strstr(buf, "\033[H\033[2J") == buf);
	CHECK(strstr(buf, "\nnote: some network namespaces could not be opened\nSTATE ") != NULL);
	CHECK(!strstr(buf, "a second"));
	free(buf);
}

/* A long IPv6 endpoint widens the columns: every row's age stays under the others' */
TEST(view_rows_widen_for_long_ipv6_endpoints)
{
	struct view_sock s[2] = {
		sk(TT_ESTABLISHED, 100, "srv", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, NULL),
		sk(TT_ESTABLISHED, 100, "srv", 8080, "10.1.0.2", VIEW_AGE_AT_LEAST, 3000, NULL),
	};
	struct tt_opts o = { .snapshot = true };
	const char *a, *b;
	char *out;

	s[1].family = TT_AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678", s[1].saddr);
	inet_pton(AF_INET6, "fd00:aaaa:bbbb:cccc:dddd:eeee:ffff:1111", s[1].daddr);
	out = print(&o, s, 2);
	REQUIRE(out);
	a = strstr(out, "\n    10.0.0.1:8080");
	b = strstr(out, "\n    [2001:db8:");
	REQUIRE(a && b);
	CHECK_EQ_INT((int)(strstr(a, " age ") - a), (int)(strstr(b, " age ") - b));
	CHECK(strstr(a + 1, "\n") > strstr(a, " age "));
	free(out);
}

/* A UTF-8 COMMAND is padded by its characters: NETNS starts where an ASCII one's does. */
TEST(view_rows_pad_a_utf8_command_by_characters)
{
	struct view_sock s[2] = {
		sk(TT_ESTABLISHED, 100, "worker", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, NULL),
		sk(TT_CLOSE_WAIT, 200, "w\xc3\xb6rker", 8081, "10.1.0.2", VIEW_AGE_AT_LEAST, 3000, NULL),
	};
	struct tt_opts o = { .snapshot = true };
	const char *a, *b, *na, *nb;
	char *out;

	out = print(&o, s, 2);
	REQUIRE(out);
	na = strstr(out, " 100 worker ");
	nb = strstr(out, " 200 w\xc3\xb6rker ");
	REQUIRE(na && nb);
	for (a = na; a > out && a[-1] != '\n'; a--)
		;
	for (b = nb; b > out && b[-1] != '\n'; b--)
		;
	/* the NETNS column: the same characters in, the UTF-8 row one byte longer */
	na = strstr(na, " 4026531840 ");
	nb = strstr(nb, " 4026531840 ");
	REQUIRE(na && nb);
	CHECK_EQ_INT((int)(na - a), (int)(nb - b) - 1);
	free(out);
}

/*
 * Connections no process has accepted yet are shown under their listener's
 * owner, marked: the row, the group's count (after --top's CHANGE), JSON.
 */
TEST(view_unaccepted_sockets_are_marked)
{
	struct view_sock s[3] = {
		sk(TT_CLOSE_WAIT, 100, "stuck", 8080, "10.1.0.1", VIEW_AGE_AT_LEAST, 3000, NULL),
		sk(TT_CLOSE_WAIT, 100, "stuck", 8080, "10.1.0.2", VIEW_AGE_AT_LEAST, 2000, NULL),
		sk(TT_LISTEN, 100, "stuck", 8080, "0.0.0.0", VIEW_AGE_UNKNOWN, 0, NULL),
	};
	struct tt_opts o = { .snapshot = true };
	json_t *j;
	char *out, *g;

	s[0].unaccepted = true;
	s[0].has_queues = s[1].has_queues = true;
	out = print(&o, s, 3);
	REQUIRE(out);
	CHECK(strstr(out, "CLOSE_WAIT         2   >=3.00s      100 stuck            4026531840  -"
			  "  1 unaccepted\n") != NULL);
	CHECK(strstr(out, ":40000             age >=3.00s   idle -        rq 0 wq 0  unaccepted\n"));
	CHECK_EQ_INT(tt_count(out, "unaccepted"), 2);
	CHECK(strstr(out, "LISTEN             1         -      100 stuck            4026531840  -\n"));
	free(out);
	/* --top: after the CHANGE column, whether it says something or not */
	o = (struct tt_opts){ .top = true };
	out = print(&o, s, 3);
	REQUIRE(out);
	CHECK(strstr(out, "100 stuck            4026531840  -                    1 unaccepted\n"));
	free(out);
	o = (struct tt_opts){ .snapshot = true, .json = true };
	out = print(&o, s, 3);
	REQUIRE(out);
	CHECK(strstr(out, "\"holders\":0,\"unaccepted\":true,") != NULL);
	CHECK_EQ_INT(tt_count(out, "\"unaccepted\":false,"), 2);
	g = strstr(out, "{\"type\":\"snapshot\"");
	REQUIRE(g);
	j = json_loads(g, 0, NULL);
	REQUIRE(j);
	g = NULL;
	for (size_t i = 0; i < json_array_size(json_object_get(j, "groups")); i++) {
		json_t *gr = json_array_get(json_object_get(j, "groups"), i);
		bool cw = !strcmp(json_string_value(json_object_get(gr, "state")), "CLOSE_WAIT");

		CHECK_EQ_INT(json_integer_value(json_object_get(gr, "unaccepted")), cw ? 1 : 0);
		CHECK(json_is_integer(json_object_get(gr, "unaccepted")));
	}
	json_decref(j);
	free(out);
}

/*
 * On replay, a child whose accept() the capture never saw, in a state it
 * waits in the accept queue in, is its listener's owner's and unaccepted
 * (as the CLOSE-WAIT report counts it), whether born under tracing or
 * found at start held by no process; one accepted is the accepter's, in
 * the queue's states or closed since (LAST_ACK).
 */
TEST(view_replay_names_the_listener_owner_of_a_child_not_accepted)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 16 });
	struct tt_opts o = { .snapshot = true, .json = true };
	struct tt_event e[] = {
		rec_by(rec_ports(rec_tr(0x100, TT_CLOSE, TT_LISTEN, 1000), 8080, 0), 77, "srv"),
		/* in the queue, its client gone */
		rec_tr(0x200, TT_LISTEN, TT_SYN_RECV, 2000),
		rec_tr(0x200, TT_SYN_RECV, TT_ESTABLISHED, 2100),
		rec_tr(0x200, TT_ESTABLISHED, TT_CLOSE_WAIT, 2200),
		/* accepted by a worker */
		rec_ports(rec_tr(0x300, TT_LISTEN, TT_SYN_RECV, 3000), 8080, 40001),
		rec_ports(rec_tr(0x300, TT_SYN_RECV, TT_ESTABLISHED, 3100), 8080, 40001),
		rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x300, 0, TT_ESTABLISHED, 3200), 8080, 40001),
		       88, "worker"),
		/* accepted, closed, its last ACK not come */
		rec_ports(rec_tr(0x400, TT_LISTEN, TT_SYN_RECV, 4000), 8080, 40002),
		rec_ports(rec_tr(0x400, TT_SYN_RECV, TT_ESTABLISHED, 4100), 8080, 40002),
		rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x400, 0, TT_ESTABLISHED, 4150), 8080, 40002),
		       88, "worker"),
		rec_ports(rec_tr(0x400, TT_ESTABLISHED, TT_CLOSE_WAIT, 4200), 8080, 40002),
		rec_by(rec_ports(rec_tr(0x400, TT_CLOSE_WAIT, TT_LAST_ACK, 4300), 8080, 40002),
		       88, "worker"),
		/* found at start in the queue, no process holding it */
		rec_ports(rec(TT_EV_SEED, 0, 0, TT_CLOSE_WAIT, 4400), 8080, 40003),
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tt_view *v = view__new(&o, f, false);
	int seen = 0;

	REQUIRE(eng && f && v);
	memset(e[0].daddr, 0, 16);
	e[12].sk = engine__pseudo_sk(&e[12]);
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		CHECK_EQ_INT(engine__feed(eng, &e[i]), 0);
	view__add_engine(v, eng, 5000, NULL);
	view__print(v, 0, "capture", 0);
	view__free(v);
	fclose(f);
	for (char *line = buf; line && *line;) {
		char *end = strchr(line, '\n');
		json_t *j = json_loadb(line, end ? (size_t)(end - line) : strlen(line), 0, NULL);
		const char *st = json_string_value(json_object_get(j, "state"));
		json_int_t pid = json_integer_value(json_object_get(j, "pid"));
		bool unacc = json_is_true(json_object_get(j, "unaccepted"));

		REQUIRE(j);
		line = end ? end + 1 : NULL;
		if (strcmp(json_string_value(json_object_get(j, "type")), "socket")) {
			json_decref(j);
			continue;
		}
		seen++;
		if (!strcmp(st, "CLOSE_WAIT")) {
			CHECK_EQ_INT(pid, 77);
			CHECK_STR(json_string_value(json_object_get(j, "comm")), "srv");
			CHECK(unacc);
		} else if (!strcmp(st, "ESTABLISHED")) {
			CHECK_EQ_INT(pid, 88);
			CHECK(!unacc);
		} else {
			CHECK_EQ_INT(pid, !strcmp(st, "LISTEN") ? 77 : 88);
			CHECK(!unacc);
		}
		json_decref(j);
	}
	CHECK_EQ_INT(seen, 5);
	free(buf);
	engine__free(eng);
}

/* ---- live: loopback sockets of our own, read back through sock_diag and /proc ---- */

static int lo_listener(uint16_t *port, int backlog)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int lo_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A socket that drops everything that arrives: its peer's FIN and data stay unacknowledged. */
static bool deaf(int fd)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = code };

	return !setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/* close() with a RST: the orphan at the other end goes at once */
static void rst_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

struct port_states {
	uint16_t port;
	unsigned int n[TT_STATE_MAX];
};

static int count_port(const struct diag_sock *d, void *ctx)
{
	struct port_states *ps = ctx;

	if (d->sport == ps->port && d->state < TT_STATE_MAX && d->has_info)
		ps->n[d->state]++;
	return 0;
}

/* `tcptrail ARGS...` live, as main() runs it: its stdout, and its exit status in *status. */
static char *run_live(int argc, char **argv, int *status)
{
	char path[] = "/tmp/tt_view_out_XXXXXX";
	volatile sig_atomic_t stop = 0;
	int fd = mkstemp(path), saved;
	struct tt_opts o;
	bool exit_now;
	char *out = NULL;
	off_t n;

	if (fd < 0)
		return NULL;
	unlink(path);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	*status = tt_opts_parse(argc, argv, &o, &exit_now);
	if (!*status)
		*status = view__run_live(&o, &stop);
	fflush(stdout);
	clearerr(stdout);
	dup2(saved, 1);
	close(saved);
	n = lseek(fd, 0, SEEK_END);
	if (n >= 0 && (out = calloc(1, (size_t)n + 1)))
		pread(fd, out, (size_t)n, 0);
	close(fd);
	return out;
}

/*
 * A listener that stopped accepting: its queue holds a connection still up
 * (ESTABLISHED) and one whose client gave up (CLOSE_WAIT), which no process
 * holds.  They are shown under the listener's owner, us, as unaccepted, and
 * -p keeps them.  Two connections it did accept, closed since (orphans in
 * LAST_ACK and FIN_WAIT1, their FINs unacknowledged by deaf clients), have
 * no file either, at the same port: no owner, as ss shows them, and not -p's.
 */
TEST(view_live_names_the_listener_owner_of_its_accept_queue)
{
	struct port_states ps = { 0 };
	int lfd, est = -1, gone = -1, c3 = -1, c4 = -1, a, b, status, found = 0;
	char ns[16], port[8], pid[16], buf[8];
	char *argv[] = { "tcptrail", "--snapshot", "--json", "-N", ns, "-L", port, NULL, NULL, NULL };
	char *out = NULL, *line;
	long long deadline;

	lfd = lo_listener(&ps.port, 8);
	REQUIRE(lfd >= 0);
	/* accepted, then closed by us after the client's FIN: LAST_ACK */
	c3 = lo_connect(ps.port);
	a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	/* accepted, then closed by us with data out: FIN_WAIT1 */
	c4 = lo_connect(ps.port);
	b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	REQUIRE(c3 >= 0 && a >= 0 && c4 >= 0 && b >= 0);
	CHECK(!shutdown(c3, SHUT_WR));
	CHECK(read(a, buf, sizeof(buf)) == 0);	/* its FIN: a is in CLOSE_WAIT */
	CHECK(deaf(c3) && deaf(c4));
	close(a);
	CHECK(write(b, "x", 1) == 1);
	close(b);
	/* never accepted */
	est = lo_connect(ps.port);
	gone = lo_connect(ps.port);
	REQUIRE(est >= 0 && gone >= 0);
	close(gone);
	/* loopback delivers in the sender's call, mostly: a bounded wait for the rest */
	deadline = (long long)time(NULL) + 3;
	do {
		memset(ps.n, 0, sizeof(ps.n));
		status = diag__dump(-1, 0, count_port, &ps);
		if (status == -EPERM || status == -EACCES || status == -EAFNOSUPPORT ||
		    status == -EPROTONOSUPPORT)
			break;
		if (ps.n[TT_ESTABLISHED] == 1 && ps.n[TT_CLOSE_WAIT] == 1 &&
		    ps.n[TT_LAST_ACK] == 1 && ps.n[TT_FIN_WAIT1] == 1)
			break;
		usleep(10000);
	} while (time(NULL) < deadline);
	if (status < 0) {
		rst_close(c3);
		rst_close(c4);
		close(est);
		close(lfd);
		SKIP("no sock_diag here: %s", strerror(-status));
	}
	CHECK_EQ_INT(ps.n[TT_ESTABLISHED], 1);
	CHECK_EQ_INT(ps.n[TT_CLOSE_WAIT], 1);
	CHECK_EQ_INT(ps.n[TT_LAST_ACK], 1);
	CHECK_EQ_INT(ps.n[TT_FIN_WAIT1], 1);

	snprintf(ns, sizeof(ns), "%u", diag__self_netns());
	snprintf(port, sizeof(port), "%u", ps.port);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (int with_p = 0; with_p < 2; with_p++) {
		int argc = 7;

		if (with_p) {
			argv[argc++] = "-p";
			argv[argc++] = pid;
		}
		free(out);
		out = run_live(argc, argv, &status);
		REQUIRE(out);
		CHECK_EQ_INT(status, 0);
		found = 0;
		for (line = out; line && *line;) {
			char *end = strchr(line, '\n');
			json_t *j = json_loadb(line, end ? (size_t)(end - line) : strlen(line), 0,
					       NULL);
			const char *st;
			json_int_t owner;
			bool unacc;

			line = end ? end + 1 : NULL;
			REQUIRE(j);
			if (strcmp(json_string_value(json_object_get(j, "type")), "socket")) {
				json_decref(j);
				continue;
			}
			st = json_string_value(json_object_get(j, "state"));
			owner = json_integer_value(json_object_get(j, "pid"));
			unacc = json_is_true(json_object_get(j, "unaccepted"));
			found++;
			if (!strcmp(st, "ESTABLISHED") || !strcmp(st, "CLOSE_WAIT")) {
				CHECK_EQ_INT(owner, getpid());
				CHECK(unacc);
				CHECK_EQ_INT(json_integer_value(json_object_get(j, "inode")), 0);
			} else if (!strcmp(st, "LISTEN")) {
				CHECK_EQ_INT(owner, getpid());
				CHECK(!unacc);
			} else {
				/* the orphans: FIN_WAIT1, LAST_ACK */
				CHECK(!with_p);
				CHECK_EQ_INT(owner, 0);
				CHECK(!unacc);
			}
			json_decref(j);
		}
		/* the listener, its queue's two, and without -p the two orphans */
		CHECK_EQ_INT(found, with_p ? 3 : 5);
	}
	free(out);
	rst_close(c3);
	rst_close(c4);
	close(est);
	close(lfd);
}
