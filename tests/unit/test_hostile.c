// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Hostile records through the whole replay pipeline (reader, engine, every
 * sink), as tcptrail -r runs it.  The reader turns away what no kernel
 * writes (a state, type or family out of range: test_capture.c checks each
 * at the reader); these check what then happens to a replay, and what
 * becomes of values the reader lets through because they are only
 * impossible in context: an old state of 0 on a transition, an overflow of
 * no known queue, a TIME-WAIT substate of 200, retransmit and age counts of
 * 2^32 - 1, a flow of more states than a flow holds.  Nothing may crash or
 * read out of bounds (make test SANITIZE=1 runs these under ASan and
 * UBSan), every line must stay valid JSON, and what the engine refused is
 * counted as "invalid" in the summary.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "capture.h"
#include "opts.h"
#include "replay.h"
#include "util.h"
#include "replayrun.h"
#include "tt_test.h"

#define NS	4026531840u
/* every record: 127.0.0.1 at both ends, owned by pid 7 "hostile" */
#define REC_BASE { .family = TT_AF_INET, .flags = TT_F_OWNER, .hook = TT_HOOK_TP_BTF_SET_STATE, \
		   .netns = NS, .pid = 7, .tgid = 7, .saddr = { 127, 0, 0, 1 }, \
		   .daddr = { 127, 0, 0, 1 }, .comm = "hostile" }
#include "records.h"
/* MS milliseconds into the capture, which starts at 1 s */
#define AT(ms)	(1000000000ull + (uint64_t)(ms) * 1000000ull)


static char *write_capture(const struct tt_event *evs, size_t n)
{
	char *path = strdup("/tmp/tt_hostile_XXXXXX");
	struct tt_capture *c;
	int fd = mkstemp(path);

	close(fd);
	if (capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = 1000000000ull }))
		return path;
	for (size_t i = 0; i < n; i++)
		capture__write(c, &evs[i]);
	capture__close(c, 2000000000ull, 0, 0);
	return path;
}

/* Every stdout line parses as a JSON object; the final summary's "invalid". */
static long long check_json_lines(const char *text, int *failed_)
{
	long long invalid = -1;
	int *tt_failed_ = failed_;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		json_error_t jerr;
		json_t *j = json_loadb(line, len, 0, &jerr);

		if (!j || !json_is_object(j))
			fprintf(stderr, "    not JSON: %.*s\n", (int)len, line);
		CHECK(j && json_is_object(j));
		if (j && json_is_true(json_object_get(j, "final")))
			invalid = json_integer_value(json_object_get(j, "invalid"));
		json_decref(j);
		line = end ? end + 1 : line + len;
	}
	return invalid;
}

TEST(replay_survives_values_impossible_in_context)
{
	struct tt_event evs[64], e;
	size_t n = 0;
	char *path;
	struct replay_run r;
	long long invalid;

	/* a listener, and an active flow that goes back and forth 20 times */
	evs[n++] = rec_ports(rec_tr(0x100, TT_CLOSE, TT_LISTEN, AT(1)), 80, 0);
	evs[n++] = rec_ports(rec_tr(0x200, TT_CLOSE, TT_SYN_SENT, AT(2)), 0, 80);
	evs[n++] = rec_ports(rec_tr(0x200, TT_SYN_SENT, TT_ESTABLISHED, AT(3)), 40000, 80);
	for (int i = 0; i < 20; i++)
		evs[n++] = rec_ports(rec_tr(0x200, i % 2 ? TT_CLOSE_WAIT : TT_ESTABLISHED,
				i % 2 ? TT_ESTABLISHED : TT_CLOSE_WAIT, AT(4 + i)), 40000, 80);
	/* a transition from state 0: refused by the engine (1) */
	evs[n++] = rec_ports(rec_tr(0x300, 0, TT_ESTABLISHED, AT(30)), 40001, 80);
	/* an overflow of queue 9, which is no queue: refused (2) */
	e = rec_ports(rec(TT_EV_OVERFLOW, 0x100, 0, 0, AT(31)), 80, 40002);
	e.aux[0] = 9;
	e.aux[1] = e.aux[2] = e.aux[3] = 0xffffffffu;
	evs[n++] = e;
	/* SYN-ACK retransmits: 2^32 - 1 so far */
	e = rec_ports(rec(TT_EV_SYNACK_RETRANS, 0x100, 0, 0, AT(32)), 80, 40003);
	e.aux[0] = 0xffffffffu;
	evs[n++] = e;
	evs[n++] = rec_ports(rec_tr(0x400, TT_LISTEN, TT_SYN_RECV, AT(33)), 80, 40003);
	/* accept and resets for sockets never seen */
	evs[n++] = rec_ports(rec(TT_EV_ACCEPT, 0x500, 0, 0, AT(34)), 80, 40004);
	evs[n++] = rec_ports(rec(TT_EV_RESET_RECV, 0x600, 0, 0, AT(35)), 80, 40005);
	evs[n++] = rec_ports(rec(TT_EV_RESET_SENT, 0x200, 0, 0, AT(36)), 40000, 80);
	/* a seed in CLOSE_WAIT aged 2^32 - 1 ms, more than the clock has run */
	e = rec_ports(rec(TT_EV_SEED, 0x701, 0, TT_CLOSE_WAIT, AT(37)), 8080, 40006);
	e.flags |= TT_F_SEED_AGE;
	e.aux[0] = e.aux[2] = 0xffffffffu;
	evs[n++] = e;
	/* a seed in state 0: refused (3) */
	evs[n++] = rec_ports(rec(TT_EV_SEED, 0x703, 0, 0, AT(38)), 8080, 40007);
	/* TIME-WAIT with substate 200 and a timeout of 2^32 - 1 jiffies */
	e = rec_ports(rec(TT_EV_TIME_WAIT, 0x200, TT_CLOSE_WAIT, TT_TIME_WAIT, AT(39)), 40000, 80);
	e.flags |= TT_F_SUBSTATE | TT_F_TIMEO;
	e.aux[0] = 200;
	e.aux[1] = 0xffffffffu;
	evs[n++] = e;
	/* an IPv4 record with the rest of its 16 address bytes set */
	e = rec_ports(rec_tr(0x800, TT_CLOSE, TT_SYN_SENT, AT(40)), 40008, 80);
	memset(e.saddr + 4, 0xff, 12);
	memset(e.daddr + 4, 0xff, 12);
	evs[n++] = e;
	/* a transition to the state it is in; an sk of 0 */
	evs[n++] = rec_ports(rec_tr(0x800, TT_SYN_SENT, TT_SYN_SENT, AT(41)), 40008, 80);
	evs[n++] = rec_ports(rec_tr(0, TT_CLOSE, TT_SYN_SENT, AT(42)), 40009, 80);
	evs[n++] = rec_ports(rec_tr(0x100, TT_LISTEN, TT_CLOSE, AT(43)), 80, 0);
	REQUIRE(n <= sizeof(evs) / sizeof(evs[0]));
	path = write_capture(evs, n);

	r = replay_run_path(path, "--json", "-e", NULL);
	CHECK_EQ_INT(r.status, 0);
	invalid = check_json_lines(r.out, tt_failed_);
	CHECK_EQ_INT(invalid, 3);
	CHECK(strstr(r.out, "\"truncated\":true") != NULL);
	CHECK(strstr(r.out, "\"tw_substate\":\"?\"") != NULL);
	replay_run_free(&r);

	/* the text sinks, with ladders and a pid filter */
	r = replay_run_path(path, "-e", "--ladder", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "invalid=3") != NULL);
	replay_run_free(&r);
	r = replay_run_path(path, "-p", "7", NULL);
	CHECK_EQ_INT(r.status, 0);
	replay_run_free(&r);
	unlink(path);
	free(path);
}

TEST(replay_stops_at_an_impossible_record)
{
	static const struct {
		int field, value;
		const char *why;
	} cases[] = {
		{ 0, TT_EV_FLOW, "impossible event type 9" },
		{ 0, TT_EV_MAX, "impossible event type 10" },
		{ 0, 255, "impossible event type 255" },
		{ 1, TT_STATE_MAX, "impossible TCP state 13" },
		{ 2, 255, "impossible TCP state 255" },
		{ 3, 0, "impossible address family 0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_event evs[5] = {
			rec_ports(rec_tr(0x200, TT_CLOSE, TT_SYN_SENT, AT(1)), 0, 80),
			rec_ports(rec_tr(0x200, TT_SYN_SENT, TT_ESTABLISHED, AT(2)), 40000, 80),
			rec_ports(rec_tr(0x200, TT_ESTABLISHED, TT_CLOSE, AT(3)), 40000, 80),
			rec_ports(rec_tr(0x300, TT_CLOSE, TT_SYN_SENT, AT(4)), 0, 80),
			rec_ports(rec_tr(0x300, TT_SYN_SENT, TT_ESTABLISHED, AT(5)), 40001, 80),
		};
		struct tt_event *bad = &evs[3];
		char *path;
		struct replay_run r;

		switch (cases[i].field) {
		case 0: bad->type = (uint8_t)cases[i].value; break;
		case 1: bad->old_state = (uint8_t)cases[i].value; break;
		case 2: bad->new_state = (uint8_t)cases[i].value; break;
		case 3: bad->family = (uint8_t)cases[i].value; break;
		}
		path = write_capture(evs, 5);
		r = replay_run_path(path, "--json", NULL, NULL);
		/* what came before stands; the status says the file is bad */
		CHECK_EQ_INT(r.status, 2);
		CHECK(strstr(r.out, "\"sport\":40000") != NULL);
		CHECK(strstr(r.out, "\"sport\":40001") == NULL);
		check_json_lines(r.out, tt_failed_);
		if (!strstr(r.err, cases[i].why))
			fprintf(stderr, "    want \"%s\" in: %s", cases[i].why, r.err);
		CHECK(strstr(r.err, cases[i].why) != NULL);
		CHECK(strstr(r.err, "in the event record at offset") != NULL);
		replay_run_free(&r);
		unlink(path);
		free(path);
	}
}
