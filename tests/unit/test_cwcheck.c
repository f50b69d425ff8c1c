// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The CLOSE-WAIT check (cwcheck.h) without a kernel: flows fed as records,
 * the dumps of their namespaces handed in as sock_diag would, and what is
 * ended then.  A flow whose end record was lost must leave the table and
 * the leak report; one the kernel still has, or one that could not be
 * checked, must stay.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include "cwcheck.h"
#include "engine.h"
#include "report.h"
#include "tt_test.h"

#define MS(x)	((uint64_t)(x) * 1000000ull)
#define S(x)	((uint64_t)(x) * 1000000000ull)
#define NS1	4026531840u
#define NS2	4026532999u
#define REC_BASE { .family = TT_AF_INET, .netns = NS1, .sport = 8080, .dport = 40000, \
		   .saddr = { 10, 0, 0, 1 }, .daddr = { 10, 0, 0, 2 }, .comm = "softirq" }
#include "records.h"
#define SK(n)	(0xffff888100000000ull + (uint64_t)(n) * 0x900)

struct ends {
	int n, gone;
	uint64_t gone_sk[8];
};

static void on_end(const struct tt_flow *f, void *ctx)
{
	struct ends *e = ctx;

	e->n++;
	if (f->end == TT_END_GONE && e->gone < 8)
		e->gone_sk[e->gone++] = f->sk;
}

/* A passive connection in CLOSE_WAIT since at_ms, at dport, in netns; cookie 0: none. */
static void cw_flow(struct tt_engine *eng, uint64_t sk, uint32_t netns, uint16_t dport,
		    uint64_t cookie, uint64_t at_ms)
{
	struct tt_event e = rec_tr(sk, TT_LISTEN, TT_SYN_RECV, MS(at_ms) - MS(2));

	e.netns = netns;
	e.dport = dport;
	if (cookie) {
		e.flags |= TT_F_COOKIE;
		e.cookie = cookie;
	}
	engine__feed(eng, &e);
	e.old_state = TT_SYN_RECV;
	e.new_state = TT_ESTABLISHED;
	e.ts_ns = MS(at_ms) - MS(1);
	engine__feed(eng, &e);
	e.old_state = TT_ESTABLISHED;
	e.new_state = TT_CLOSE_WAIT;
	e.ts_ns = MS(at_ms);
	engine__feed(eng, &e);
}

/* What a dump of the namespace would give for that socket. */
static struct diag_sock sock_of(uint16_t dport, uint64_t cookie, uint8_t state)
{
	struct diag_sock s = { .family = TT_AF_INET, .state = state, .sport = 8080,
			       .dport = dport, .saddr = { 10, 0, 0, 1 }, .daddr = { 10, 0, 0, 2 },
			       .cookie = cookie };

	return s;
}

/* The oldest age of the report's groups at now (time in CLOSE_WAIT), and their count. */
static size_t leaks_oldest(const struct tt_engine *eng, uint64_t now, uint64_t *oldest)
{
	struct tt_report *r = report__new(S(10), NULL);
	const struct tt_cw_group *g;
	size_t n, count = 0;

	*oldest = 0;
	if (!r)
		return SIZE_MAX;
	n = report__close_wait(r, eng, now, &g);
	for (size_t i = 0; i < n; i++) {
		count += g[i].count;
		if (g[i].oldest_age_ns > *oldest)
			*oldest = g[i].oldest_age_ns;
	}
	report__free(r);
	return count;
}

static size_t leaks(const struct tt_engine *eng, uint64_t now)
{
	uint64_t oldest;

	return leaks_oldest(eng, now, &oldest);
}

TEST(cwcheck_ends_only_what_the_kernel_no_longer_has)
{
	struct ends ends = { 0 };
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64,
		.on_flow_end = on_end, .ctx = &ends });
	struct cwcheck *k = cwcheck__new();
	struct diag_sock s;
	size_t lo, hi;

	REQUIRE(eng && k);
	cw_flow(eng, SK(1), NS1, 40001, 501, 1000);	/* there (cookie) */
	cw_flow(eng, SK(2), NS1, 40002, 502, 1000);	/* its end was lost */
	cw_flow(eng, SK(3), NS1, 40003, 0, 1000);	/* no cookie: there (tuple) */
	cw_flow(eng, SK(4), NS1, 40004, 0, 1000);	/* no cookie, lost */
	cw_flow(eng, SK(5), NS1, 40005, 505, 1000);	/* closed: LAST_ACK, record on its way */
	cw_flow(eng, SK(6), NS1, 40006, 506, 1000);	/* a new socket at its tuple: lost */
	cw_flow(eng, SK(7), NS2, 40007, 507, 1000);	/* namespace not checked */
	cw_flow(eng, SK(8), NS1, 40008, 508, 9000);	/* too young to be a leak */
	CHECK_EQ_INT(leaks(eng, S(12)), 7);

	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, false), 7);
	CHECK_EQ_INT(k->namespaces, 2);
	CHECK_EQ_INT(k->done_ns, 0);
	/* the runs come in netns order */
	lo = 0;
	hi = cwcheck__ns_next(k, lo);
	CHECK_EQ_INT(k->c[lo].netns, NS1);
	CHECK_EQ_INT(hi - lo, 6);
	cwcheck__ns_begin(k, lo, hi);
	s = sock_of(40001, 501, TT_CLOSE_WAIT);
	cwcheck__ns_sock(k, lo, hi, &s);
	s = sock_of(40003, 7777, TT_CLOSE_WAIT);	/* the flow has no cookie: the tuple */
	cwcheck__ns_sock(k, lo, hi, &s);
	s = sock_of(40005, 505, TT_LAST_ACK);
	cwcheck__ns_sock(k, lo, hi, &s);
	s = sock_of(40006, 9999, TT_CLOSE_WAIT);	/* same tuple, another socket */
	cwcheck__ns_sock(k, lo, hi, &s);
	s = sock_of(40004, 0, TT_ESTABLISHED);		/* not a state a dump of ours returns */
	cwcheck__ns_sock(k, lo, hi, &s);
	cwcheck__ns_end(k, lo, hi, true);
	lo = hi;
	hi = cwcheck__ns_next(k, lo);
	CHECK_EQ_INT(k->c[lo].netns, NS2);
	CHECK_EQ_INT(hi, k->n);
	cwcheck__ns_begin(k, lo, hi);
	cwcheck__ns_end(k, lo, hi, false);		/* could not enter it */
	CHECK_EQ_INT(k->unchecked_ns, 1);

	/* not applied before the check says it is done */
	CHECK_EQ_INT(cwcheck__apply(k, eng), 0);
	k->done_ns = 1;
	CHECK_EQ_INT(cwcheck__apply(k, eng), 3);
	CHECK_EQ_INT(ends.gone, 3);
	CHECK(engine__lookup(eng, SK(2)) == NULL);
	CHECK(engine__lookup(eng, SK(4)) == NULL);
	CHECK(engine__lookup(eng, SK(6)) == NULL);
	CHECK(engine__lookup(eng, SK(1)) && engine__lookup(eng, SK(3)) && engine__lookup(eng, SK(5)));
	CHECK(engine__lookup(eng, SK(7)) != NULL);
	CHECK_EQ_INT(engine__total(eng)->gone, 3);
	CHECK_EQ_INT(engine__interval(eng)->gone, 3);
	CHECK_EQ_INT(engine__total(eng)->ends[TT_END_GONE], 3);
	CHECK_EQ_INT(engine__total(eng)->active, 5);
	CHECK_EQ_INT(leaks(eng, S(12)), 4);
	CHECK_STR(tt_end_name(TT_END_GONE), "gone");
	/* applied twice, nothing more */
	CHECK_EQ_INT(cwcheck__apply(k, eng), 0);
	cwcheck__free(k);
	engine__free(eng);
}

/*
 * Between the dump and the apply the source goes on: a record that moves
 * the flow on, or a new socket at its address, and the verdict no longer
 * holds for the flow in the table.
 */
TEST(cwcheck_leaves_flows_that_moved_on)
{
	struct ends ends = { 0 };
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64,
		.on_flow_end = on_end, .ctx = &ends });
	struct cwcheck *k = cwcheck__new();
	struct tt_event e;

	REQUIRE(eng && k);
	cw_flow(eng, SK(1), NS1, 40001, 501, 1000);
	cw_flow(eng, SK(2), NS1, 40002, 502, 1000);
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, false), 2);
	cwcheck__ns_begin(k, 0, k->n);
	cwcheck__ns_end(k, 0, k->n, true);	/* neither in the dump */
	k->done_ns = 1;
	/* SK(1) closes after all: its records come now */
	e = rec_tr(SK(1), TT_CLOSE_WAIT, TT_LAST_ACK, S(12) + 1);
	e.dport = 40001;
	engine__feed(eng, &e);
	/* SK(2) ended and its address went to a new connection */
	e = rec_tr(SK(2), TT_CLOSE_WAIT, TT_CLOSE, S(12) + 2);
	e.dport = 40002;
	engine__feed(eng, &e);
	cw_flow(eng, SK(2), NS1, 40009, 0, 12100);
	CHECK_EQ_INT(cwcheck__apply(k, eng), 0);
	CHECK_EQ_INT(ends.gone, 0);
	CHECK_EQ_INT(engine__total(eng)->gone, 0);
	CHECK(engine__lookup(eng, SK(1)) && engine__lookup(eng, SK(2)));
	cwcheck__free(k);
	engine__free(eng);
}

/* -N: the flows of that namespace only; a flow with no namespace is never asked about. */
TEST(cwcheck_collects_the_report_s_candidates)
{
	struct ends ends = { 0 };
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64,
		.on_flow_end = on_end, .ctx = &ends });
	struct cwcheck *k = cwcheck__new();

	REQUIRE(eng && k);
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, false), 0);
	cw_flow(eng, SK(1), NS1, 40001, 501, 1000);
	cw_flow(eng, SK(2), NS2, 40002, 502, 1000);
	cw_flow(eng, SK(3), 0, 40003, 503, 1000);
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, false), 2);
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), NS2, false), 1);
	CHECK_EQ_INT(k->c[0].sk, SK(2));
	CHECK_EQ_INT(k->c[0].cookie, 502);
	CHECK_EQ_INT(k->namespaces, 1);
	/* exactly at the age, as the report counts it */
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(11), S(10), 0, false), 2);
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(11) - 1, S(10), 0, false), 0);
	cwcheck__free(k);
	engine__free(eng);
}

static bool only_100_alive(uint32_t pid)
{
	return pid == 100;
}

/*
 * A namespace no process is in may be alive still, held by sockets whose
 * owner moved out: a candidate the walk did not find is gone only if the
 * walk covered its table and its owner has exited.
 */
TEST(cwcheck_unfound_namespace_needs_an_exited_owner)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	struct cwcheck *k = cwcheck__new();

	REQUIRE(eng && k);
	cw_flow(eng, SK(1), NS2, 40001, 501, 1000);
	cw_flow(eng, SK(2), NS2, 40002, 502, 1000);
	cw_flow(eng, SK(3), NS2, 40003, 503, 1000);
	REQUIRE(cwcheck__collect(k, eng, S(12), S(10), 0, false) == 3);
	k->c[0].owner_pid = 100;	/* alive: it may hold its socket elsewhere */
	k->c[1].owner_pid = 200;	/* exited */
	k->c[2].owner_pid = 0;		/* unknown */
	cwcheck__ns_begin(k, 0, k->n);
	cwcheck__ns_end_unfound(k, 0, k->n, true, only_100_alive);
	CHECK_EQ_INT(k->c[0].verdict, CW_UNCHECKED);
	CHECK_EQ_INT(k->c[1].verdict, CW_GONE);
	CHECK_EQ_INT(k->c[2].verdict, CW_UNCHECKED);
	CHECK_EQ_INT(k->unchecked_ns, 1);
	/* a table the walk did not read (or no walk, no whole scan): nothing is gone */
	cwcheck__ns_begin(k, 0, k->n);
	cwcheck__ns_end_unfound(k, 0, k->n, false, only_100_alive);
	for (size_t i = 0; i < k->n; i++)
		CHECK_EQ_INT(k->c[i].verdict, CW_UNCHECKED);
	cwcheck__free(k);
	engine__free(eng);
}

/*
 * A leak is its holder's: one that the process that accepted it handed on
 * (or left to a child when it exited) is given the process that holds it
 * now, which /proc tells, as ss -p does.  Here the holder is this test,
 * holding a real socket; the flows say their owner is pid 1 and this test.
 */
TEST(cwcheck_gives_a_leak_to_the_process_that_holds_it_now)
{
	struct ends ends = { 0 };
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64,
		.on_flow_end = on_end, .ctx = &ends });
	struct cwcheck *k = cwcheck__new();
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct diag_sock s;
	struct stat st;
	uint32_t me = (uint32_t)getpid();
	const char acceptor[16] = "acceptor", tcptrail[16] = "tcptrail";

	REQUIRE(eng && k && fd >= 0 && !fstat(fd, &st));
	cw_flow(eng, SK(1), NS1, 40001, 501, 1000);
	cw_flow(eng, SK(2), NS1, 40002, 502, 1000);
	/* owners as an accept under tracing would have named them */
	REQUIRE(engine__reown(eng, SK(1), engine__lookup(eng, SK(1))->id, 1, acceptor));
	REQUIRE(engine__reown(eng, SK(2), engine__lookup(eng, SK(2))->id, me, tcptrail));
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, false), 2);
	cwcheck__ns_begin(k, 0, k->n);
	s = sock_of(40001, 501, TT_CLOSE_WAIT);
	s.inode = (uint32_t)st.st_ino;
	cwcheck__ns_sock(k, 0, k->n, &s);
	s = sock_of(40002, 502, TT_CLOSE_WAIT);
	s.inode = (uint32_t)st.st_ino;
	cwcheck__ns_sock(k, 0, k->n, &s);
	cwcheck__ns_end(k, 0, k->n, true);
	cwcheck__holders(k, S(20));
	k->done_ns = 1;
	CHECK_EQ_INT(cwcheck__apply(k, eng), 0);
	/* pid 1 does not hold it: this test does */
	CHECK_EQ_INT(engine__lookup(eng, SK(1))->owner_pid, me);
	CHECK(engine__lookup(eng, SK(1))->flags & TT_FLOW_OWNER_KNOWN);
	/* its owner holds it: left as it is */
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->owner_pid, me);
	CHECK_STR(engine__lookup(eng, SK(2))->owner_comm, "tcptrail");
	close(fd);
	cwcheck__free(k);
	engine__free(eng);
}

/* A check at now of the flows at dports 40001.., each dumped with its inode. */
static bool check_holders_at(struct cwcheck *k, struct tt_engine *eng, uint64_t now,
			     const uint32_t *inodes, int n)
{
	if (cwcheck__collect(k, eng, now, S(10), 0, false) != n)
		return false;
	cwcheck__ns_begin(k, 0, k->n);
	for (int i = 0; i < n; i++) {
		struct diag_sock s = sock_of((uint16_t)(40001 + i), (uint64_t)(601 + i),
					     TT_CLOSE_WAIT);

		s.inode = inodes[i];
		cwcheck__ns_sock(k, 0, k->n, &s);
	}
	cwcheck__ns_end(k, 0, k->n, true);
	cwcheck__holders(k, now);
	k->done_ns = now;
	return cwcheck__apply(k, eng) == 0;	/* none gone */
}

static bool leak_of_pid_1(struct tt_engine *eng, int i, uint64_t at_ms)
{
	const char init[16] = "init";

	cw_flow(eng, SK(10 + i), NS1, (uint16_t)(40001 + i), (uint64_t)(601 + i), at_ms);
	return engine__reown(eng, SK(10 + i), engine__lookup(eng, SK(10 + i))->id, 1, init);
}

/*
 * A leak handed on after the last scan of every process is looked for at
 * the next check, not up to a minute later: until then its report named a
 * process known not to hold it (a postmaster for its backend's leak).  So
 * is one a scan found, handed on again.  One that a scan looked for and
 * found nowhere waits the minute.  Each scan's cost is taken as 0 here
 * (the spacing is then its least, 2 s), whatever the machine's /proc.
 */
TEST(cwcheck_looks_for_a_newly_handed_on_leak_at_once)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	struct cwcheck *k = cwcheck__new();
	int fd1 = socket(AF_INET, SOCK_STREAM, 0), fd2 = socket(AF_INET, SOCK_STREAM, 0);
	uint32_t me = (uint32_t)getpid(), inodes[3];
	const char init[16] = "init";
	struct stat st1, st2;

	REQUIRE(eng && k && fd1 >= 0 && fd2 >= 0 && !fstat(fd1, &st1) && !fstat(fd2, &st2));
	inodes[0] = (uint32_t)st1.st_ino;
	inodes[1] = (uint32_t)st2.st_ino;
	inodes[2] = 0x7ffffff1;	/* a socket no process holds */
	REQUIRE(leak_of_pid_1(eng, 0, 1000));
	CHECK(check_holders_at(k, eng, S(20), inodes, 1));
	CHECK_EQ_INT(k->full_scan_ns, S(20));
	CHECK_EQ_INT(engine__lookup(eng, SK(10))->owner_pid, me);
	/* found, then handed on again: looked for at once too */
	REQUIRE(engine__reown(eng, SK(10), engine__lookup(eng, SK(10))->id, 1, init));
	k->full_scan_cost_ns = 0;
	CHECK(check_holders_at(k, eng, S(23), inodes, 1));
	CHECK_EQ_INT(k->full_scan_ns, S(23));
	CHECK_EQ_INT(engine__lookup(eng, SK(10))->owner_pid, me);
	/* another handed on 5 s later: looked for at once */
	REQUIRE(leak_of_pid_1(eng, 1, 14000));
	k->full_scan_cost_ns = 0;
	CHECK(check_holders_at(k, eng, S(28), inodes, 2));
	CHECK_EQ_INT(k->full_scan_ns, S(28));
	CHECK_EQ_INT(engine__lookup(eng, SK(11))->owner_pid, me);
	/* within 2 s of the last scan: the next check's */
	REQUIRE(leak_of_pid_1(eng, 2, 15000));
	k->full_scan_cost_ns = 0;
	CHECK(check_holders_at(k, eng, S(29), inodes, 3));
	CHECK_EQ_INT(k->full_scan_ns, S(28));
	k->full_scan_cost_ns = 0;
	CHECK(check_holders_at(k, eng, S(31), inodes, 3));
	CHECK_EQ_INT(k->full_scan_ns, S(31));
	CHECK_EQ_INT(engine__lookup(eng, SK(12))->owner_pid, 1);
	/* looked for and not found: once a minute */
	k->full_scan_cost_ns = 0;
	CHECK(check_holders_at(k, eng, S(40), inodes, 3));
	CHECK_EQ_INT(k->full_scan_ns, S(31));
	k->full_scan_cost_ns = 0;
	CHECK(check_holders_at(k, eng, S(91), inodes, 3));
	CHECK_EQ_INT(k->full_scan_ns, S(91));
	close(fd1);
	close(fd2);
	cwcheck__free(k);
	engine__free(eng);
}

/* One CLOSE_WAIT socket of a dump, as sock_diag gives it with tcp_info. */
static void dump_sent(struct cwcheck *k, uint16_t dport, uint64_t cookie, bool info,
		      uint32_t sent_ms_ago)
{
	struct diag_sock s = sock_of(dport, cookie, TT_CLOSE_WAIT);

	s.has_info = info;
	s.last_data_sent_ms = sent_ms_ago;
	cwcheck__ns_sock(k, 0, k->n, &s);
}

/*
 * A socket in CLOSE_WAIT that still sends answers a peer that half-closed:
 * it is a leak only once it has sent nothing for the report's age, and its
 * age is still its time in CLOSE_WAIT.
 */
TEST(cwcheck_a_socket_that_sends_is_no_leak)
{
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	struct cwcheck *k = cwcheck__new();
	uint64_t oldest;

	REQUIRE(eng && k);
	for (int i = 1; i <= 5; i++)
		cw_flow(eng, SK(i), NS1, (uint16_t)(40000 + i), (uint64_t)(500 + i), 1000);
	CHECK_EQ_INT(leaks(eng, S(12)), 5);
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, false), 5);
	cwcheck__ns_begin(k, 0, k->n);
	k->dump_ns = S(12);
	dump_sent(k, 40001, 501, true, 500);		/* sent at 11.5 s */
	dump_sent(k, 40002, 502, true, 20000);		/* before the check's clock began */
	dump_sent(k, 40003, 503, true, 10500);		/* at 1.5 s, then nothing */
	dump_sent(k, 40004, 504, false, 0);		/* no tcp_info: not known */
	dump_sent(k, 40005, 505, true, UINT32_MAX);	/* the walk knew no ages */
	cwcheck__ns_end(k, 0, k->n, true);
	k->done_ns = S(12);
	CHECK_EQ_INT(cwcheck__apply(k, eng), 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(1))->cw_sent_ms, 10500);
	CHECK_EQ_INT(engine__lookup(eng, SK(2))->cw_sent_ms, 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->cw_sent_ms, 500);
	CHECK_EQ_INT(engine__lookup(eng, SK(4))->cw_sent_ms, 0);
	CHECK_EQ_INT(engine__lookup(eng, SK(5))->cw_sent_ms, 0);
	CHECK_EQ_INT(leaks(eng, S(12)), 4);
	/* a report between checks (a scrape) knows no later send: still no leak */
	CHECK_EQ_INT(leaks_oldest(eng, S(30), &oldest), 4);
	CHECK_EQ_INT(oldest, S(29));			/* in CLOSE_WAIT since 1 s */

	/* a later dump that saw an older send (a check's stale view) keeps the newest */
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(22), S(10), 0, false), 5);
	cwcheck__ns_begin(k, 0, k->n);
	k->dump_ns = S(22);
	dump_sent(k, 40001, 501, true, 15000);		/* at 7 s */
	dump_sent(k, 40003, 503, true, 100);		/* at 21.9 s */
	cwcheck__ns_end(k, 0, k->n, true);
	k->done_ns = S(22);
	CHECK_EQ_INT(cwcheck__apply(k, eng), 3);	/* the three not in this dump */
	CHECK_EQ_INT(engine__lookup(eng, SK(1))->cw_sent_ms, 10500);
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->cw_sent_ms, 20900);
	/* by this check, SK(1) has been quiet 10.5 s: a leak; SK(3) sent 0.1 s before it */
	CHECK_EQ_INT(leaks(eng, S(22)), 1);
	CHECK_EQ_INT(leaks(eng, S(40)), 1);
	/* a later check that saw no newer send from SK(3) makes it one too */
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(40), S(10), 0, false), 2);
	cwcheck__ns_begin(k, 0, k->n);
	k->dump_ns = S(40);
	dump_sent(k, 40001, 501, true, 33000);
	dump_sent(k, 40003, 503, true, 18100);		/* at 21.9 s still */
	cwcheck__ns_end(k, 0, k->n, true);
	k->done_ns = S(40);
	CHECK_EQ_INT(cwcheck__apply(k, eng), 0);
	CHECK_EQ_INT(leaks(eng, S(40)), 2);

	/* the flow moves on: what it sent in CLOSE_WAIT goes with that state */
	{
		struct tt_event e = rec_tr(SK(3), TT_CLOSE_WAIT, TT_LAST_ACK, S(33));

		e.dport = 40003;
		engine__feed(eng, &e);
	}
	CHECK_EQ_INT(engine__lookup(eng, SK(3))->cw_sent_ms, 0);
	cwcheck__free(k);
	engine__free(eng);
}

/* A flow in state since at_ms, at dport, with a cookie. */
static void flow_in(struct tt_engine *eng, uint64_t sk, unsigned int old, unsigned int state,
		    uint16_t dport, uint64_t cookie, uint64_t at_ms)
{
	struct tt_event e = rec_tr(sk, old, state, MS(at_ms));

	e.dport = dport;
	e.flags |= TT_F_COOKIE;
	e.cookie = cookie;
	engine__feed(eng, &e);
}

/*
 * After a loss, every flow is asked about, in whatever state: a listener or
 * a connection whose end record was lost leaves the table, and so does one
 * whose socket the kernel has handed over to TIME_WAIT; one the kernel has
 * stays, and so does one that moved on since it was taken.  The next
 * check of the leaks alone gives the array back and dumps CLOSE_WAIT and
 * LAST_ACK again.
 */
TEST(cwcheck_after_a_loss_asks_about_every_flow)
{
	struct ends ends = { 0 };
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64,
		.on_flow_end = on_end, .ctx = &ends });
	struct cwcheck *k = cwcheck__new();
	struct diag_sock s;
	struct tt_event e;

	REQUIRE(eng && k);
	flow_in(eng, SK(1), TT_CLOSE, TT_LISTEN, 0, 601, 1000);		/* there */
	flow_in(eng, SK(2), TT_CLOSE, TT_LISTEN, 1, 602, 1000);		/* its close was lost */
	flow_in(eng, SK(3), TT_SYN_SENT, TT_ESTABLISHED, 40003, 603, 1000);	/* lost */
	flow_in(eng, SK(4), TT_ESTABLISHED, TT_FIN_WAIT1, 40004, 604, 1000);	/* TIME_WAIT: over */
	flow_in(eng, SK(5), TT_CLOSE, TT_SYN_SENT, 40005, 605, 1000);	/* moves on */
	cw_flow(eng, SK(6), NS1, 40006, 606, 11000);	/* CLOSE_WAIT, too young a leak: lost */
	cw_flow(eng, SK(7), NS1, 40007, 607, 1000);	/* a leak, there */
	/*
	 * No local port yet (CLOSE > SYN_SENT, the rest lost): found by its
	 * cookie (SK(8)), or gone (SK(9)); with no cookie, not taken (SK(10)).
	 */
	for (int i = 8; i <= 10; i++) {
		e = rec_tr(SK(i), TT_CLOSE, TT_SYN_SENT, MS(1000));
		e.sport = 0;
		e.dport = (uint16_t)(40000 + i);
		if (i < 10) {
			e.flags |= TT_F_COOKIE;
			e.cookie = (uint64_t)(600 + i);
		}
		engine__feed(eng, &e);
		REQUIRE(engine__lookup(eng, SK(i)) && engine__lookup(eng, SK(i))->sport == 0);
	}

	/* the leaks alone: one */
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, false), 1);
	CHECK(!k->all && k->states == CW_DIAG_STATES);
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(12), S(10), 0, true), 9);
	CHECK(k->all && k->states == CW_ALL_STATES);
	CHECK(!(k->states & DIAG_STATE(TT_NEW_SYN_RECV)) && !(k->states & DIAG_STATE(TT_TIME_WAIT)));
	for (unsigned int st = TT_ESTABLISHED; st <= TT_CLOSING; st++)
		CHECK(st == TT_TIME_WAIT || (k->states & DIAG_STATE(st)));
	for (size_t i = 0; i < k->n; i++)
		CHECK_EQ_INT(k->c[i].leak, k->c[i].sk == SK(7));
	cwcheck__ns_begin(k, 0, k->n);
	s = sock_of(0, 601, TT_LISTEN);
	cwcheck__ns_sock(k, 0, k->n, &s);
	s = sock_of(40004, 604, TT_TIME_WAIT);
	cwcheck__ns_sock(k, 0, k->n, &s);
	s = sock_of(40007, 607, TT_CLOSE_WAIT);
	cwcheck__ns_sock(k, 0, k->n, &s);
	s = sock_of(40008, 608, TT_ESTABLISHED);	/* SK(8), its port 8080 now */
	cwcheck__ns_sock(k, 0, k->n, &s);
	s = sock_of(40009, 0, TT_ESTABLISHED);		/* no cookie: not SK(9) */
	cwcheck__ns_sock(k, 0, k->n, &s);
	s = sock_of(40003, 0, TT_NEW_SYN_RECV);		/* a request: not asked for */
	cwcheck__ns_sock(k, 0, k->n, &s);
	s = sock_of(40004, 604, TT_FIN_WAIT2);		/* a timewait sock, in its substate */
	s.timer = DIAG_TIMER_TIME_WAIT;
	cwcheck__ns_sock(k, 0, k->n, &s);
	cwcheck__ns_end(k, 0, k->n, true);
	/* SK(5)'s handshake ends before the check is applied */
	e = rec_tr(SK(5), TT_SYN_SENT, TT_ESTABLISHED, S(12) + 1);
	e.dport = 40005;
	engine__feed(eng, &e);
	k->done_ns = S(12);
	CHECK_EQ_INT(cwcheck__apply(k, eng), 5);
	CHECK_EQ_INT(ends.gone, 5);
	CHECK(!engine__lookup(eng, SK(2)) && !engine__lookup(eng, SK(3)) &&
	      !engine__lookup(eng, SK(4)) && !engine__lookup(eng, SK(6)) &&
	      !engine__lookup(eng, SK(9)));
	CHECK(engine__lookup(eng, SK(1)) && engine__lookup(eng, SK(5)) &&
	      engine__lookup(eng, SK(7)) && engine__lookup(eng, SK(8)) &&
	      engine__lookup(eng, SK(10)));
	CHECK_EQ_INT(engine__total(eng)->active, 5);
	CHECK_EQ_INT(engine__total(eng)->gone, 5);

	/* the leaks alone again */
	CHECK_EQ_INT(cwcheck__collect(k, eng, S(13), S(10), 0, false), 1);
	CHECK(!k->all && k->states == CW_DIAG_STATES && k->c[0].sk == SK(7));
	cwcheck__free(k);
	engine__free(eng);
}
