// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Flow records (struct tt_flowrec) in captures, format version 3: the
 * writer puts them in TTCAP_FLOW frames as it does events (cgroup names
 * first, flushes, rotation, sticky errors), the reader gives them back
 * byte for byte in file order between the events, a replay of them is
 * what feeding them to the engine gives, and every way a flow frame can be
 * wrong is one line naming the offset.  Format 1 and 2 files are
 * test_capture.c's and test_replay.c's, unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "capture.h"
#include "engine.h"
#include "flowrec.h"
#include "opts.h"
#include "replay.h"
#include "sink.h"
#include "util.h"
#include "capkit.h"
#include "replayrun.h"
#include "tt_test.h"

#define NS	4026531840u
#define REC_BASE { .family = TT_AF_INET, .flags = TT_F_OWNER | TT_F_COOKIE, \
		   .hook = TT_HOOK_TP_BTF_SET_STATE, .netns = NS, .pid = 42, .tgid = 42, \
		   .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 }, .comm = "curl" }
#include "records.h"
/* MS milliseconds into the capture, which starts at 1 s */
#define AT(ms)	(1000000000ull + (uint64_t)(ms) * 1000000ull)

/* ---- flow records, as the kernel side fills them ---- */

static struct tt_flowrec fr(uint64_t sk, uint16_t sport, uint16_t dport)
{
	struct tt_flowrec r = {
		.type = TT_EV_FLOW, .family = TT_AF_INET, .flags = TT_FR_COOKIE | TT_FR_BORN,
		.hook = TT_HOOK_TP_BTF_SET_STATE, .sport = sport, .dport = dport, .cpu = 1,
		.netns = NS, .sk = sk, .cookie = sk ^ 0x5555,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
	};

	return r;
}

/* One more transition; TT_T_TASK0/1 name a task set with fr_task. */
static void fr_t(struct tt_flowrec *r, unsigned int old, unsigned int new, uint64_t ts,
		 unsigned int tflags)
{
	if (r->n >= TT_FR_STATES)
		return;
	r->old_state[r->n] = (uint8_t)old;
	r->new_state[r->n] = (uint8_t)new;
	r->ts_ns[r->n] = ts;
	r->tflags[r->n] = (uint8_t)tflags;
	r->n++;
}

static void fr_task(struct tt_flowrec *r, unsigned int slot, uint32_t tgid, const char *comm)
{
	r->task_pid[slot] = tgid + 1;	/* a thread of it */
	r->task_tgid[slot] = tgid;
	strncpy(r->task_comm[slot], comm, 15);
}

static void fr_stats(struct tt_flowrec *r, uint64_t sent, uint64_t received)
{
	r->flags |= TT_FR_END | TT_FR_STATS;
	r->bytes_sent = sent;
	r->bytes_received = received;
	r->segs_out = 7;
	r->segs_in = 6;
	r->retransmits = 1;
	r->srtt_us = 53;
}

/*
 * A listener, two connections to it and one refused, in the records a
 * flow-record kernel side sends, interleaved as they would be read: the
 * listener's early record, the client's one record at its TIME-WAIT
 * hand-over, the server child's early record at CLOSE_WAIT and its last
 * at CLOSE, an accept() event, a connection with a transition no hook saw
 * (inferred), and a refused one with no stats.  Returns how many; kinds[i]
 * says which of evs[i] and frs[i] is the record.
 */
struct mix {
	uint32_t kind[32];
	struct tt_event ev[32];
	struct tt_flowrec fr[32];
	int n;
};

static void mix_event(struct mix *m, struct tt_event e)
{
	m->kind[m->n] = TTCAP_EVENT;
	m->ev[m->n++] = e;
}

static void mix_flow(struct mix *m, struct tt_flowrec r)
{
	m->kind[m->n] = TTCAP_FLOW;
	m->fr[m->n++] = r;
}

static void make_mix(struct mix *m, uint64_t cgroup)
{
	struct tt_flowrec l = fr(0x100, 80, 0), c = fr(0x200, 40000, 80), s = fr(0x300, 80, 40000);
	struct tt_flowrec c2 = fr(0x400, 40001, 80), s2 = fr(0x500, 80, 40001), x = fr(0x600, 40002, 81);

	memset(m, 0, sizeof(*m));
	memset(l.daddr, 0, 16);
	l.cgroup = s.cgroup = s2.cgroup = cgroup;
	fr_task(&l, 0, 7, "server");
	fr_t(&l, TT_CLOSE, TT_LISTEN, AT(1), TT_T_TASK0);
	mix_flow(m, l);

	/* the server child's transitions, kept until CLOSE_WAIT */
	s.flags &= (uint8_t)~TT_FR_BORN;
	fr_t(&s, TT_LISTEN, TT_SYN_RECV, AT(3), 0);
	fr_t(&s, TT_SYN_RECV, TT_ESTABLISHED, AT(4), 0);
	/* (a cgroup id of its own, to see a flow record after it reuse its name) */
	mix_event(m, rec_cgroup(rec_ports(rec_by(rec(TT_EV_ACCEPT, 0x300, 0, 0, AT(5)), 7,
						 "server"), 80, 40000), 0x88));
	fr_t(&s, TT_ESTABLISHED, TT_CLOSE_WAIT, AT(7), 0);
	mix_flow(m, s);

	/* the client: one record at the hand-over, with its stats */
	fr_task(&c, 0, 42, "curl");
	fr_t(&c, TT_CLOSE, TT_SYN_SENT, AT(2), TT_T_TASK0);
	fr_t(&c, TT_SYN_SENT, TT_ESTABLISHED, AT(4), TT_T_TASK0);
	fr_t(&c, TT_ESTABLISHED, TT_FIN_WAIT1, AT(6), TT_T_TASK0);
	fr_t(&c, TT_FIN_WAIT1, TT_FIN_WAIT2, AT(8), 0);
	fr_t(&c, TT_FIN_WAIT2, TT_TIME_WAIT, AT(10), TT_T_TW_SUB);
	c.tw_substate = TT_TIME_WAIT;
	fr_stats(&c, 1000, 20000);
	mix_flow(m, c);

	/* the child's last record: close() by the server, then the final ACK */
	s = fr(0x300, 80, 40000);
	s.flags &= (uint8_t)~TT_FR_BORN;
	s.cgroup = cgroup;
	fr_task(&s, 0, 7, "server");
	fr_t(&s, TT_CLOSE_WAIT, TT_LAST_ACK, AT(11), TT_T_TASK0);
	fr_t(&s, TT_LAST_ACK, TT_CLOSE, AT(12), 0);
	fr_stats(&s, 20000, 1000);
	mix_flow(m, s);

	/* a second connection: the client's FIN_WAIT1 > FIN_WAIT2 was missed */
	c2.cgroup = 0x88;
	fr_task(&c2, 0, 43, "wget");
	fr_task(&c2, 1, 44, "closer");
	fr_t(&c2, TT_CLOSE, TT_SYN_SENT, AT(13), TT_T_TASK0);
	fr_t(&c2, TT_SYN_SENT, TT_ESTABLISHED, AT(14), TT_T_TASK0);
	fr_t(&c2, TT_ESTABLISHED, TT_FIN_WAIT1, AT(15), TT_T_TASK1);
	fr_t(&c2, TT_FIN_WAIT1, TT_FIN_WAIT2, AT(17), TT_T_INFERRED);
	fr_t(&c2, TT_FIN_WAIT2, TT_TIME_WAIT, AT(17), TT_T_TW_SUB);
	c2.tw_substate = TT_FIN_WAIT2;
	fr_stats(&c2, 0, 0);
	s2.flags &= (uint8_t)~TT_FR_BORN;
	fr_task(&s2, 0, 7, "server");
	fr_t(&s2, TT_LISTEN, TT_SYN_RECV, AT(13), 0);
	fr_t(&s2, TT_SYN_RECV, TT_ESTABLISHED, AT(14), 0);
	fr_t(&s2, TT_ESTABLISHED, TT_CLOSE_WAIT, AT(16), 0);
	fr_t(&s2, TT_CLOSE_WAIT, TT_LAST_ACK, AT(16), TT_T_TASK0);
	fr_t(&s2, TT_LAST_ACK, TT_CLOSE, AT(18), 0);
	s2.resets_recv = 1;
	s2.sk_err = ECONNRESET;
	fr_stats(&s2, 0, 0);
	mix_flow(m, s2);
	mix_flow(m, c2);

	/* refused: SYN_SENT > CLOSE with ECONNREFUSED, an IPv6 one */
	x.family = TT_AF_INET6;
	memset(x.saddr, 0, 16);
	memset(x.daddr, 0, 16);
	x.saddr[15] = x.daddr[15] = 1;
	fr_task(&x, 0, 42, "curl");
	fr_t(&x, TT_CLOSE, TT_SYN_SENT, AT(19), TT_T_TASK0);
	fr_t(&x, TT_SYN_SENT, TT_CLOSE, AT(20), 0);
	x.sk_err = ECONNREFUSED;
	x.resets_recv = 1;
	x.flags |= TT_FR_END;
	mix_flow(m, x);

	/* the listener closes */
	l = fr(0x100, 80, 0);
	memset(l.daddr, 0, 16);
	l.cgroup = cgroup;
	fr_task(&l, 0, 7, "server");
	fr_t(&l, TT_LISTEN, TT_CLOSE, AT(21), TT_T_TASK0);
	l.flags |= TT_FR_END;
	mix_flow(m, l);
}

/* ---- files ---- */

/* The capture writer's cgroup names: "/test/ID", the container "cID". */
static int names_asked;

static int name_cgroup(void *ctx, const struct tt_event *e, struct tt_capcg *out)
{
	(void)ctx;
	names_asked++;
	snprintf(out->path, sizeof(out->path), "/test/%llu", (unsigned long long)e->cgroup);
	snprintf(out->container, sizeof(out->container), "c%llu", (unsigned long long)e->cgroup);
	return 0;
}

/* The mix through the capture sink's ops, as the app hands records to it. */
static int write_mix(const char *path, const struct mix *m, uint64_t rotate_bytes)
{
	struct tt_sink_ref ref;
	int err;

	err = capture__sink(&ref, &(struct tt_capture_opts){
		.path = path, .rotate_bytes = rotate_bytes, .start_ns = AT(0),
		.cgroup_name = name_cgroup,
	});
	if (err)
		return err;
	if (!ref.ops->record || !ref.ops->flowrec || !ref.ops->tick) {
		ref.ops->free(ref.priv);
		return -ENOSYS;
	}
	for (int i = 0; i < m->n && !err; i++) {
		uint64_t ts;

		if (m->kind[i] == TTCAP_EVENT) {
			err = ref.ops->record(ref.priv, &m->ev[i]);
			ts = m->ev[i].ts_ns;
		} else {
			err = ref.ops->flowrec(ref.priv, &m->fr[i]);
			ts = capture__flowrec_ts(&m->fr[i]);
		}
		if (!err)
			err = ref.ops->tick(ref.priv, ts, 0, 0);
	}
	err = ref.ops->close(ref.priv, AT(30), 2, 1) ?: err;
	ref.ops->free(ref.priv);
	return err;
}

/* Everything a reader gives, in order. */
struct readout {
	int n, events, flows, last;
	uint32_t kind[256];
	uint64_t offset[256];
	struct tt_event ev[256];
	struct tt_flowrec fr[256];
	struct tt_capcg cg[8];
	int ncg;
	struct ttcap_counters last_counters;
	struct tt_capmeta meta;
	enum tt_caperr err;
	char msg[512];
};

static void read_all(struct tt_capreader *r, struct readout *o)
{
	struct tt_caprec rec;

	memset(o, 0, sizeof(*o));
	if (capreader__meta(r, &o->meta)) {
		o->last = -1;
	} else {
		while ((o->last = capreader__next(r, &rec)) > 0) {
			if (rec.kind == TTCAP_COUNTERS) {
				o->last_counters = rec.counters;
				continue;
			}
			if (o->n == 256)
				continue;
			o->kind[o->n] = rec.kind;
			o->offset[o->n] = rec.offset;
			if (rec.kind == TTCAP_EVENT) {
				o->ev[o->n] = rec.ev;
				o->events++;
			} else if (rec.kind == TTCAP_FLOW) {
				o->fr[o->n] = rec.fr;
				o->flows++;
			} else if (rec.kind == TTCAP_CGROUP && o->ncg < 8) {
				o->cg[o->ncg++] = *rec.cg;
			}
			o->n++;
		}
	}
	o->err = capreader__errkind(r);
	snprintf(o->msg, sizeof(o->msg), "%s", capreader__error(r));
}

static void read_path(const char *path, struct readout *o)
{
	struct tt_capreader *r = capreader__new(path);

	read_all(r, o);
	capreader__free(r);
}

static void read_mem(const void *buf, size_t len, struct readout *o)
{
	struct tt_capreader *r = capreader__new_mem(buf, len, "mem.ttcap");

	read_all(r, o);
	capreader__free(r);
}

TEST(capflow_round_trip_in_file_order)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "f.ttcap");
	struct mix *m = malloc(sizeof(*m));
	struct readout *o = malloc(sizeof(*o));
	int rec = 0, cg_before[8], ncg = 0;

	REQUIRE(dir && path && m && o);
	make_mix(m, 0x77);
	names_asked = 0;
	CHECK_EQ_INT(write_mix(path, m, 0), 0);
	read_path(path, o);
	CHECK_EQ_INT(o->last, 0);
	CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
	CHECK_EQ_INT(o->meta.version, TTCAP_VERSION);
	CHECK_EQ_INT(o->meta.record_size, 128);
	CHECK_EQ_INT(o->meta.event_version, TT_EVENT_VERSION);
	CHECK_EQ_INT(o->events, 1);
	CHECK_EQ_INT(o->flows, m->n - 1);
	/* byte for byte, in the order written; the CGROUP frames in their places */
	for (int i = 0; i < o->n; i++) {
		if (o->kind[i] == TTCAP_CGROUP) {
			if (ncg < 8)
				cg_before[ncg++] = rec;
			continue;
		}
		REQUIRE(rec < m->n);
		CHECK_EQ_INT(o->kind[i], m->kind[rec]);
		if (m->kind[rec] == TTCAP_FLOW)
			CHECK(!memcmp(&o->fr[i], &m->fr[rec], sizeof(struct tt_flowrec)));
		else
			CHECK(!memcmp(&o->ev[i], &m->ev[rec], sizeof(struct tt_event)));
		rec++;
	}
	CHECK_EQ_INT(rec, m->n);
	/*
	 * Each id is named once, just before the first record that carries
	 * it: 0x77 before the listener's flow record (four more carry it),
	 * 0x88 before the accept event (a flow record carries it later).
	 */
	REQUIRE(ncg == 2 && o->ncg == 2);
	CHECK_EQ_INT(cg_before[0], 0);
	CHECK_EQ_INT(o->cg[0].id, 0x77);
	CHECK_STR(o->cg[0].path, "/test/119");
	CHECK_STR(o->cg[0].container, "c119");
	CHECK_EQ_INT(cg_before[1], 1);
	CHECK_EQ_INT(m->kind[1], TTCAP_EVENT);
	CHECK_EQ_INT(o->cg[1].id, 0x88);
	CHECK_EQ_INT(names_asked, 2);
	/* COUNTERS.events counts records of either kind */
	CHECK_EQ_INT(o->last_counters.events, m->n);
	CHECK_EQ_INT(o->last_counters.lost, 2);
	CHECK_EQ_INT(o->last_counters.ts_ns, AT(30));
	free(m);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

TEST(capflow_rotated_files_each_name_their_cgroups)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "r.ttcap"), name[512];
	struct tt_capture *c;
	struct readout *o = malloc(sizeof(*o));
	int total = 0, files = 0;
	uint64_t next_sk = 0x1000;

	REQUIRE(dir && path && o);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .rotate_bytes = 4096, .start_ns = AT(0), .cgroup_name = name_cgroup }));
	srand(11);
	for (int i = 0; i < 200; i++) {
		struct tt_flowrec r = fr(0x1000 + (uint64_t)i, (uint16_t)(40000 + i), 80);

		/* incompressible, so that the files grow */
		for (int k = 0; k < 16; k++) {
			r.saddr[k] = (uint8_t)rand();
			r.daddr[k] = (uint8_t)rand();
		}
		r.family = TT_AF_INET6;
		r.cgroup = 0x99;
		fr_task(&r, 0, 42, "curl");
		fr_t(&r, TT_CLOSE, TT_SYN_SENT, AT(i), TT_T_TASK0);
		fr_t(&r, TT_SYN_SENT, TT_CLOSE, AT(i) + 1000, 0);
		r.flags |= TT_FR_END;
		REQUIRE(!capture__write_flow(c, &r));
		REQUIRE(!capture__tick(c, AT(i) + 1000, 0, 0));
	}
	CHECK_EQ_INT(capture__close(c, AT(300), 0, 0), 0);
	for (int i = 0; i < 100; i++) {
		struct stat st;
		bool named = false;

		capkit_rotated(name, sizeof(name), path, i);
		if (stat(name, &st))
			break;
		files++;
		/* a file ends within a record (and its trailer) of the size asked */
		CHECK(st.st_size < 4096 + 512);
		read_path(name, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
		CHECK_EQ_INT(o->meta.file_index, i);
		/* every file names the cgroup before its first flow record */
		REQUIRE(o->n > 1);
		CHECK_EQ_INT(o->kind[0], TTCAP_CGROUP);
		for (int k = 0; k < o->n; k++) {
			if (o->kind[k] == TTCAP_CGROUP) {
				CHECK(!named);
				named = true;
				continue;
			}
			CHECK_EQ_INT(o->kind[k], TTCAP_FLOW);
			/* in order, none lost or repeated across the files */
			CHECK_EQ_INT(o->fr[k].sk, next_sk);
			next_sk++;
		}
		CHECK_EQ_INT(o->last_counters.events, o->flows);
		total += o->flows;
	}
	CHECK(files >= 4);
	CHECK_EQ_INT(total, 200);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/* The names a hostile capture could carry, one per cgroup id. */
static int hostile_cgroup(void *ctx, const struct tt_event *e, struct tt_capcg *out)
{
	(void)ctx;
	snprintf(out->path, sizeof(out->path), "/evil");
	if (e->cgroup == 1)
		snprintf(out->container, sizeof(out->container), "x\",\"pid\":1,\"comm\":\"sshd");
	else if (e->cgroup == 2)
		snprintf(out->pod, sizeof(out->pod), "p\",\"role\":\"forged");
	else if (e->cgroup == 3)
		snprintf(out->runtime, sizeof(out->runtime), "a b=c");
	else
		snprintf(out->pod, sizeof(out->pod), "0123abcd-0000-4000-8000-00000000beef");
	return 0;
}

/*
 * A file that never rotates names each cgroup once, until it has named
 * CAPTURE_CG_SEEN_MAX of them: then it forgets them (its memory stays
 * bounded) and names each again at its next record, which a replay takes
 * as it took the first.
 */
TEST(capflow_cgroup_names_forgotten_past_the_limit_are_named_again)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "n.ttcap");
	struct tt_capreader *r;
	struct tt_caprec rec;
	struct tt_capture *c;
	struct tt_flowrec f = fr(0x1000, 40000, 80);
	int cgroups = 0, flows = 0, last_cg = 0, ret;

	REQUIRE(dir && path);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .start_ns = AT(0), .cgroup_name = name_cgroup }));
	fr_task(&f, 0, 42, "curl");
	fr_t(&f, TT_CLOSE, TT_SYN_SENT, AT(1), TT_T_TASK0);
	fr_t(&f, TT_SYN_SENT, TT_CLOSE, AT(2), 0);
	f.flags |= TT_FR_END;
	names_asked = 0;
	/* ids 1..MAX, each twice (named once), then id 1 and MAX + 1 */
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t id = 1; id <= CAPTURE_CG_SEEN_MAX; id++) {
			f.cgroup = id;
			REQUIRE(!capture__write_flow(c, &f));
		}
	CHECK_EQ_INT(names_asked, CAPTURE_CG_SEEN_MAX);
	f.cgroup = CAPTURE_CG_SEEN_MAX + 1;
	REQUIRE(!capture__write_flow(c, &f));
	f.cgroup = 1;
	REQUIRE(!capture__write_flow(c, &f));
	CHECK_EQ_INT(names_asked, CAPTURE_CG_SEEN_MAX + 2);
	CHECK_EQ_INT(capture__close(c, AT(3), 0, 0), 0);

	r = capreader__new(path);
	REQUIRE(r);
	while ((ret = capreader__next(r, &rec)) > 0) {
		if (rec.kind == TTCAP_CGROUP) {
			cgroups++;
			last_cg = (int)rec.cg->id;
		} else if (rec.kind == TTCAP_FLOW) {
			flows++;
		}
	}
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(flows, 2 * CAPTURE_CG_SEEN_MAX + 2);
	CHECK_EQ_INT(cgroups, CAPTURE_CG_SEEN_MAX + 2);
	CHECK_EQ_INT(last_cg, 1);
	capreader__free(r);
	free(path);
	capkit_rmtree(dir);
}

/*
 * A cgroup record names a container, pod and runtime as tcptrail makes them
 * (hex id, UUID, letters) or is refused: they are printed unquoted in
 * logfmt and the journal, and a capture from anywhere may do no worse than
 * an error.
 */
TEST(capflow_cgroup_names_are_only_as_tcptrail_makes_them)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "h.ttcap");
	struct readout *o = malloc(sizeof(*o));

	REQUIRE(dir && path && o);
	for (uint64_t cg = 1; cg <= 4; cg++) {
		struct tt_capture *c;
		struct tt_flowrec r = fr(0x1000, 40000, 80);

		REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
			.path = path, .start_ns = AT(0), .cgroup_name = hostile_cgroup }));
		r.cgroup = cg;
		fr_task(&r, 0, 42, "curl");
		fr_t(&r, TT_CLOSE, TT_SYN_SENT, AT(1), TT_T_TASK0);
		fr_t(&r, TT_SYN_SENT, TT_CLOSE, AT(2), 0);
		r.flags |= TT_FR_END;
		REQUIRE(!capture__write_flow(c, &r));
		CHECK_EQ_INT(capture__close(c, AT(3), 0, 0), 0);
		read_path(path, o);
		if (cg < 4) {
			CHECK_EQ_INT(o->err, TT_CAPERR_RECORD);
			CHECK(strstr(o->msg, "names a container, pod or runtime as tcptrail never does"));
			CHECK_EQ_INT(o->flows, 0);
		} else {
			CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
			CHECK_EQ_INT(o->ncg, 1);
			CHECK_STR(o->cg[0].pod, "0123abcd-0000-4000-8000-00000000beef");
			CHECK_EQ_INT(o->flows, 1);
		}
		unlink(path);
	}
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/* n incompressible IPv6 flows, one a tick, so that files fill; the first error, or 0. */
static int write_flows(struct tt_capture *c, int n)
{
	int err = 0;

	for (int i = 0; i < n && !err; i++) {
		struct tt_flowrec r = fr(0x1000 + (uint64_t)i, (uint16_t)(40000 + i), 80);

		for (int k = 0; k < 16; k++) {
			r.saddr[k] = (uint8_t)rand();
			r.daddr[k] = (uint8_t)rand();
		}
		r.family = TT_AF_INET6;
		fr_t(&r, TT_CLOSE, TT_SYN_SENT, AT(i), 0);
		fr_t(&r, TT_SYN_SENT, TT_CLOSE, AT(i) + 1000, 0);
		r.flags |= TT_FR_END;
		err = capture__write_flow(c, &r);
		if (!err)
			err = capture__tick(c, AT(i) + 1000, 0, 0);
	}
	return err;
}

/*
 * A name made at FILE.N after the start (a directory: root may not write
 * it either) is stepped past at the rotation, and never removed by
 * --rotate-count's cleanup; seventeen in a row end the capture.
 */
TEST(capflow_rotation_steps_past_a_name_in_the_way)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "w.ttcap"), name[512];
	struct tt_capture *c;
	struct stat st;
	int i, err = 0;

	REQUIRE(dir && path);
	capkit_rotated(name, sizeof(name), path, 4);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .rotate_bytes = 4096, .rotate_count = 3, .start_ns = AT(0) }));
	REQUIRE(!mkdir(name, 0700));
	err = write_flows(c, 1000);
	CHECK_EQ_INT(err, 0);
	CHECK_EQ_INT(capture__close(c, AT(300), 0, 0), 0);
	/* left alone, and the cleanup kept three files: none older, though 4 was skipped */
	CHECK(!stat(name, &st) && S_ISDIR(st.st_mode));
	for (i = 0, err = 0; i < 100; i++) {
		capkit_rotated(name, sizeof(name), path, i);
		if (i != 4 && !stat(name, &st))
			err++;
		if (i < 4)
			CHECK(stat(name, &st) != 0);
	}
	CHECK_EQ_INT(err, 3);
	/* FILE is gone: -r FILE starts at the oldest capture left, past the directory */
	{
		char *argv[] = { "tcptrail", "-r", path, "--json", "--quiet-flows", NULL };
		struct replay_run rr = replay_run_argv(5, argv);

		CHECK_EQ_INT(rr.status, 0);
		CHECK(rr.err && strstr(rr.err, "replaying the set from"));
		CHECK(rr.err && !strstr(rr.err, "w.ttcap.4"));
		CHECK(rr.out && strstr(rr.out, "\"final\":true"));
		replay_run_free(&rr);
	}
	free(path);

	/* a run of names in the way, one more than are stepped past: the capture fails */
	path = capkit_join(dir, "v.ttcap");
	REQUIRE(path);
	for (i = 1; i <= 17; i++) {
		capkit_rotated(name, sizeof(name), path, i);
		REQUIRE(!mkdir(name, 0700));
	}
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .rotate_bytes = 4096, .start_ns = AT(0) }));
	err = write_flows(c, 200);
	CHECK_EQ_INT(err, -EISDIR);
	capture__close(c, AT(300), 0, 0);
	free(path);
	capkit_rmtree(dir);
}

/*
 * A set whose writer stepped past names replays whole: the next file's
 * metadata names the file before it, so the replay says what it passed and
 * exits 0, with every flow, whether the thing in the way is still there or
 * not.  A file of the set gone is still a gap (status 2).
 */
TEST(capflow_replay_follows_a_set_past_names_stepped_past)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "s.ttcap"), name[512];
	char *argv[] = { "tcptrail", "-r", NULL, "--json", "-i", "0", NULL };
	struct replay_run rr;
	struct tt_capture *c;
	int files = 0;

	REQUIRE(dir && path);
	argv[2] = path;
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .rotate_bytes = 4096, .start_ns = AT(0) }));
	for (int i = 2; i <= 3; i++) {
		capkit_rotated(name, sizeof(name), path, i);
		REQUIRE(!mkdir(name, 0700));
	}
	CHECK_EQ_INT(write_flows(c, 600), 0);
	CHECK_EQ_INT(capture__close(c, AT(700), 0, 0), 0);
	for (int i = 0; i < 64; i++) {
		capkit_rotated(name, sizeof(name), path, i);
		if (!access(name, F_OK))
			files = i + 1;
	}
	REQUIRE(files >= 6);

	rr = replay_run_argv(6, argv);
	CHECK_EQ_INT(rr.status, 0);
	CHECK_EQ_INT(tt_count(rr.out, "{\"type\":\"flow\""), 600);
	CHECK(rr.err && strstr(rr.err, ".ttcap.2 to .3 were stepped past by the capture"));
	CHECK(rr.err && !strstr(rr.err, "missing"));
	replay_run_free(&rr);

	/* the directories gone since: the same */
	for (int i = 2; i <= 3; i++) {
		capkit_rotated(name, sizeof(name), path, i);
		REQUIRE(!rmdir(name));
	}
	rr = replay_run_argv(6, argv);
	CHECK_EQ_INT(rr.status, 0);
	CHECK_EQ_INT(tt_count(rr.out, "{\"type\":\"flow\""), 600);
	replay_run_free(&rr);

	/* a file that is no capture, stepped past the same way */
	{
		char *junk = capkit_join(dir, "j.ttcap");
		FILE *g;

		REQUIRE(junk);
		capkit_rotated(name, sizeof(name), junk, 1);
		REQUIRE((g = fopen(name, "w")) != NULL);
		fputs("not a capture\n", g);
		fclose(g);
		REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
			.path = junk, .rotate_bytes = 4096, .start_ns = AT(0) }));
		CHECK_EQ_INT(write_flows(c, 300), 0);
		CHECK_EQ_INT(capture__close(c, AT(700), 0, 0), 0);
		argv[2] = junk;
		rr = replay_run_argv(6, argv);
		CHECK_EQ_INT(rr.status, 0);
		CHECK_EQ_INT(tt_count(rr.out, "{\"type\":\"flow\""), 300);
		CHECK(rr.err && strstr(rr.err, "j.ttcap.1 was stepped past by the capture"));
		replay_run_free(&rr);
		argv[2] = path;
		free(junk);
	}

	/* a file of the set gone after them: a gap; with no file 4 to say what it
	 * passed, the gap takes in the names before it */
	capkit_rotated(name, sizeof(name), path, 4);
	REQUIRE(!unlink(name));
	rr = replay_run_argv(6, argv);
	CHECK_EQ_INT(rr.status, 2);
	CHECK(rr.err && strstr(rr.err, ".ttcap.2 to .4 are missing (or another run's)"));
	CHECK(tt_count(rr.out, "{\"type\":\"flow\"") < 600);
	replay_run_free(&rr);
	free(path);
	capkit_rmtree(dir);
}

TEST(capflow_killed_writer_keeps_flushed_flows)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "k.ttcap"), *killed;
	struct tt_capture *c;
	struct mix *m = malloc(sizeof(*m));
	struct readout *o = malloc(sizeof(*o));

	REQUIRE(dir && path && m && o);
	make_mix(m, 0);
	REQUIRE(m->kind[0] == TTCAP_FLOW && m->kind[2] == TTCAP_FLOW);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = AT(0) }));
	REQUIRE(!capture__write_flow(c, &m->fr[0]));
	REQUIRE(!capture__write(c, &m->ev[1]));
	REQUIRE(!capture__write_flow(c, &m->fr[2]));
	/* a flow record moves the writer's clock: a second after it, the tick flushes */
	REQUIRE(!capture__tick(c, AT(7) + 1000000000ull, 0, 0));
	REQUIRE(!capture__write_flow(c, &m->fr[3]));
	read_path(path, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_LIVE);
	CHECK(o->flows >= 2);
	/* "SIGKILL": the same bytes, with no writer holding them */
	killed = capkit_killed_copy(path);
	REQUIRE(killed);
	read_path(killed, o);
	free(killed);
	CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
	CHECK(o->flows >= 2);
	CHECK_EQ_INT(o->events, 1);
	CHECK(strstr(o->msg, "was tcptrail killed") != NULL);
	CHECK_EQ_INT(capture__close(c, AT(30) + 1000000000ull, 0, 0), 0);
	read_path(path, o);
	CHECK_EQ_INT(o->last, 0);
	CHECK_EQ_INT(o->flows, 3);
	free(m);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/* A full disk, without root: a file size limit makes write() fail the same way. */
TEST(capflow_write_error_is_sticky)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "full.ttcap");
	struct rlimit old, small;
	struct tt_capture *c;
	struct tt_flowrec r = fr(1, 40000, 80);
	int err = 0, written = 0, level = tt_verbosity;
	struct readout *o = malloc(sizeof(*o));

	REQUIRE(dir && path && o);
	REQUIRE(!getrlimit(RLIMIT_FSIZE, &old));
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = 1 }));
	signal(SIGXFSZ, SIG_IGN);
	small = old;
	small.rlim_cur = 6000;
	REQUIRE(!setrlimit(RLIMIT_FSIZE, &small));
	tt_verbosity = -1;
	srand(5);
	fr_t(&r, TT_CLOSE, TT_SYN_SENT, 0, 0);
	for (int i = 0; i < 2000 && !err; i++) {
		r.sk = ((uint64_t)rand() << 32) | (uint64_t)rand();
		r.ts_ns[0] = 1000 + i * 100000000ull;
		for (int k = 0; k < 16; k++)
			r.daddr[k] = (uint8_t)rand();
		err = capture__write_flow(c, &r);
		if (!err)
			written++;
		if (!err)
			err = capture__tick(c, r.ts_ns[0], 0, 0);
	}
	CHECK_EQ_INT(err, -EFBIG);
	CHECK_EQ_INT(capture__write_flow(c, &r), -EFBIG);
	CHECK_EQ_INT(capture__write(c, &(struct tt_event){ .type = TT_EV_TRANSITION }), -EFBIG);
	CHECK_EQ_INT(capture__close(c, UINT64_MAX / 2, 0, 0), -EFBIG);
	tt_verbosity = level;
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	read_path(path, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
	CHECK(o->flows > 5 && o->flows <= written);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/* ---- hostile files, built frame by frame (uncompressed) ---- */

static struct tt_flowrec good_flow(uint64_t sk)
{
	struct tt_flowrec r = fr(sk, 40000, 80);

	fr_task(&r, 0, 42, "curl");
	fr_t(&r, TT_CLOSE, TT_SYN_SENT, 10, TT_T_TASK0);
	fr_t(&r, TT_SYN_SENT, TT_ESTABLISHED, 20, TT_T_TASK0);
	return r;
}

TEST(capflow_reader_refuses_impossible_flow_records)
{
	static const struct {
		int field, value;
		const char *why;
	} cases[] = {
		{ 0, TT_EV_TRANSITION, "impossible type 1" },
		{ 0, 0, "impossible type 0" },
		{ 1, TT_FR_STATES + 1, "impossible transition count 9 (at most 8)" },
		{ 1, 255, "impossible transition count 255 (at most 8)" },
		{ 2, 0, "impossible address family 0" },
		{ 2, 7, "impossible address family 7" },
		{ 3, 0, "impossible TCP state 0 (transition 1)" },
		{ 3, TT_STATE_MAX, "impossible TCP state 13 (transition 1)" },
		{ 4, 0, "impossible TCP state 0 (transition 1)" },
		{ 4, 200, "impossible TCP state 200 (transition 1)" },
		{ 5, TT_ESTABLISHED, "a TIME-WAIT hand-over to state 1 (transition 1)" },
		{ 6, 62, "impossible time 4611686018427387904 ns (transition 1)" },
	};
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	struct tt_flowrec good = good_flow(1), bad;
	char want[128];

	REQUIRE(r && o);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_start(r, 3, NULL, 0);
		raw_flow(r, &good);
		bad = good;
		switch (cases[i].field) {
		case 0: bad.type = (uint8_t)cases[i].value; break;
		case 1: bad.n = (uint8_t)cases[i].value; break;
		case 2: bad.family = (uint8_t)cases[i].value; break;
		case 3: bad.old_state[1] = (uint8_t)cases[i].value; break;
		case 4: bad.new_state[1] = (uint8_t)cases[i].value; break;
		case 5: bad.tflags[1] |= TT_T_TW_SUB; break;
		case 6: bad.ts_ns[1] = 1ull << cases[i].value; break;
		}
		raw_flow(r, &bad);
		raw_flow(r, &good);
		raw_end(r);
		read_mem(r->b, r->n, o);
		CHECK_EQ_INT(o->last, -1);
		CHECK_EQ_INT(o->err, TT_CAPERR_RECORD);
		/* the one before it stands; nothing after it is read */
		CHECK_EQ_INT(o->flows, 1);
		snprintf(want, sizeof(want), "mem.ttcap: %s in the flow record at offset %zu",
			 cases[i].why, r->frame_at[2]);
		if (strncmp(o->msg, want, strlen(want)))
			fprintf(stderr, "    want \"%s\", got \"%s\"\n", want, o->msg);
		CHECK(!strncmp(o->msg, want, strlen(want)));
		CHECK(!strchr(o->msg, '\n'));
	}
	/* beyond n, the arrays are not read: junk there is no error */
	raw_start(r, 3, NULL, 0);
	bad = good;
	bad.old_state[5] = bad.new_state[6] = 255;
	bad.ts_ns[7] = UINT64_MAX;
	raw_flow(r, &bad);
	raw_end(r);
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
	CHECK_EQ_INT(o->flows, 1);
	free(r);
	free(o);
}

TEST(capflow_reader_refuses_wrong_lengths_and_old_versions)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	struct tt_flowrec good = good_flow(1);
	unsigned char big[512] = { 0 };
	char want[160];
	const uint32_t lens[] = { 0, 128, 255, 257, 512 };

	REQUIRE(r && o);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		raw_start(r, 3, NULL, 0);
		raw_flow(r, &good);
		memcpy(big, &good, sizeof(good));
		raw_frame(r, TTCAP_FLOW, lens[i], big, lens[i]);
		raw_end(r);
		read_mem(r->b, r->n, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_LENGTH);
		CHECK_EQ_INT(o->flows, 1);
		snprintf(want, sizeof(want), "mem.ttcap: impossible length %u for a flow record at "
			 "offset %zu (flow records are 256 bytes)", lens[i], r->frame_at[2]);
		CHECK_STR(o->msg, want);
	}
	/* 4 GB said: refused before anything is allocated or read */
	raw_start(r, 3, NULL, 0);
	raw_frame(r, TTCAP_FLOW, 0xffffffffu, &good, sizeof(good));
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_LENGTH);

	/* a flow record in a version 1 or 2 file: no writer of those made one */
	for (uint32_t v = 1; v <= 2; v++) {
		struct tt_event e = rec_tr(0x10, TT_CLOSE, TT_SYN_SENT, 10);

		raw_start(r, v, NULL, 0);
		raw_frame(r, TTCAP_EVENT, sizeof(e), &e, sizeof(e));
		raw_flow(r, &good);
		raw_end(r);
		read_mem(r->b, r->n, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_KIND);
		CHECK_EQ_INT(o->events, 1);
		CHECK_EQ_INT(o->flows, 0);
		snprintf(want, sizeof(want), "mem.ttcap: a flow record at offset %zu in a format "
			 "version %u file", r->frame_at[2], v);
		CHECK_STR(o->msg, want);
	}
	/* the same file as version 3 reads */
	raw_start(r, 3, NULL, 0);
	raw_flow(r, &good);
	raw_end(r);
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
	CHECK_EQ_INT(o->flows, 1);
	free(r);
	free(o);
}

TEST(capflow_truncated_at_every_offset)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	struct tt_event e = rec_tr(0x10, TT_CLOSE, TT_SYN_SENT, 15);
	struct tt_flowrec f = good_flow(0x20);
	char want[64];

	REQUIRE(r && o);
	raw_start(r, 3, NULL, 0);
	raw_flow(r, &f);
	raw_frame(r, TTCAP_EVENT, sizeof(e), &e, sizeof(e));
	f.sk = 0x30;
	raw_flow(r, &f);
	raw_end(r);
	for (size_t cut = r->frame_at[1]; cut < r->n; cut++) {
		int complete = 0;
		size_t last_end = r->frame_at[1];

		for (int k = 1; k < r->frames - 1; k++) {
			size_t end = r->frame_at[k + 1];

			if (end <= cut) {
				complete++;
				last_end = end;
			}
		}
		read_mem(r->b, cut, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
		CHECK_EQ_INT(o->n, complete);
		snprintf(want, sizeof(want), "truncated at offset %zu", last_end);
		if (!strstr(o->msg, want)) {
			fprintf(stderr, "    cut %zu: \"%s\" lacks \"%s\"\n", cut, o->msg, want);
			CHECK(0);
			break;
		}
	}
	free(r);
	free(o);
}

/* ---- replay ---- */


/* Each JSON line of type `type`, parsed; the caller json_decref()s. */
static int json_lines(const char *text, const char *type, json_t **out, int max, int *bad)
{
	int n = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		json_error_t jerr;
		json_t *j = json_loadb(line, end ? (size_t)(end - line) : strlen(line), 0, &jerr);

		if (!j || !json_is_object(j))
			(*bad)++;
		if (j && n < max && !strcmp(json_string_value(json_object_get(j, "type")) ?: "", type))
			out[n++] = j;
		else
			json_decref(j);
		line = end ? end + 1 : NULL;
	}
	return n;
}

struct flows {
	struct tt_flow f[32];
	int n;
};

static void collect(const struct tt_flow *f, void *ctx)
{
	struct flows *fl = ctx;

	if (fl->n < 32)
		fl->f[fl->n++] = *f;
}

/* The records straight to the engine: how many it refused. */
static int feed_mix(struct tt_engine *eng, const struct mix *m)
{
	int refused = 0;

	for (int i = 0; i < m->n; i++) {
		if (m->kind[i] == TTCAP_FLOW)
			refused += engine__feed_flow(eng, &m->fr[i]) != 0;
		else
			refused += engine__feed(eng, &m->ev[i]) != 0;
	}
	engine__settle(eng, UINT64_MAX);
	return refused;
}

TEST(capflow_replay_gives_the_flows_the_engine_makes)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "e.ttcap");
	struct mix *m = malloc(sizeof(*m));
	struct flows *direct = calloc(1, sizeof(*direct)), *reread = calloc(1, sizeof(*reread));
	struct readout *o = malloc(sizeof(*o));
	struct tt_engine *a, *b;
	json_t *js[32];
	int nj, bad = 0, found, named;
	struct replay_run r;

	REQUIRE(dir && path && m && direct && reread && o);
	make_mix(m, 0x77);
	REQUIRE(write_mix(path, m, 0) == 0);

	/* the records fed to the engine directly, and as read back from the file */
	a = engine__new(&(struct tt_engine_opts){ .on_flow_end = collect, .ctx = direct });
	b = engine__new(&(struct tt_engine_opts){ .on_flow_end = collect, .ctx = reread });
	REQUIRE(a && b);
	CHECK_EQ_INT(feed_mix(a, m), 0);
	read_path(path, o);
	REQUIRE(o->err == TT_CAPERR_NONE);
	for (int i = 0; i < o->n; i++) {
		if (o->kind[i] == TTCAP_FLOW)
			CHECK_EQ_INT(engine__feed_flow(b, &o->fr[i]), 0);
		else if (o->kind[i] == TTCAP_EVENT)
			CHECK_EQ_INT(engine__feed(b, &o->ev[i]), 0);
	}
	engine__settle(b, UINT64_MAX);
	/* listener, two clients, two children, the refused one */
	CHECK_EQ_INT(direct->n, 6);
	CHECK_EQ_INT(reread->n, direct->n);
	for (int i = 0; i < direct->n && i < reread->n; i++)
		CHECK(!memcmp(&direct->f[i], &reread->f[i], sizeof(struct tt_flow)));
	CHECK_EQ_INT(engine__total(b)->flow_records, m->n - 1);
	CHECK_EQ_INT(engine__total(b)->inferred, 1);
	CHECK(!memcmp(engine__total(a), engine__total(b), sizeof(struct tt_engine_stats)));
	/* the stats came through: the client's flow */
	found = 0;
	for (int i = 0; i < direct->n; i++) {
		if (direct->f[i].sk != 0x200)
			continue;
		found++;
		CHECK(direct->f[i].flags & TT_FLOW_STATS);
		CHECK_EQ_INT(direct->f[i].bytes_sent, 1000);
		CHECK_EQ_INT(direct->f[i].bytes_received, 20000);
		CHECK_EQ_INT(direct->f[i].srtt_us, 53);
	}
	CHECK_EQ_INT(found, 1);

	/* the whole replay pipeline: the same flows, in the same order */
	r = replay_run_path(path, "--json", NULL, NULL);
	CHECK_EQ_INT(r.status, 0);
	nj = json_lines(r.out, "flow", js, 32, &bad);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(nj, direct->n);
	named = 0;
	for (int i = 0; i < nj && i < direct->n; i++) {
		const struct tt_flow *f = &direct->f[i];
		json_t *st = json_object_get(js[i], "states");

		CHECK_EQ_INT(json_integer_value(json_object_get(js[i], "sport")), f->sport);
		CHECK_EQ_INT(json_integer_value(json_object_get(js[i], "dport")), f->dport);
		CHECK_EQ_INT(json_integer_value(json_object_get(js[i], "cookie")), f->cookie);
		CHECK_EQ_INT(json_integer_value(json_object_get(js[i], "closer_pid")),
			     f->closer_pid);
		CHECK_STR(json_string_value(json_object_get(js[i], "end")), tt_end_name(f->end));
		CHECK_EQ_INT(json_array_size(st), f->nstates);
		for (size_t k = 0; k < json_array_size(st) && k < f->nstates; k++) {
			json_t *s = json_array_get(st, k);

			CHECK_STR(json_string_value(json_object_get(s, "state")),
				  tt_state_name(f->state[k]));
			CHECK_EQ_INT(json_integer_value(json_object_get(s, "t_ns")),
				     f->ts_ns[k] - f->ts_ns[0]);
		}
		/* the capture's cgroup names, not this host's */
		if (f->cgroup == 0x77)
			CHECK_STR(json_string_value(json_object_get(js[i], "container")), "c119");
		if (f->cgroup == 0x88)
			CHECK_STR(json_string_value(json_object_get(js[i], "container")), "c136");
		named |= (f->cgroup == 0x77) | (f->cgroup == 0x88) << 1;
		json_decref(js[i]);
	}
	CHECK_EQ_INT(named, 3);		/* both names were checked */
	replay_run_free(&r);

	/* the text sinks with transitions and ladders take them too */
	r = replay_run_path(path, "-e", "--ladder", NULL);
	CHECK_EQ_INT(r.status, 0);
	CHECK(strstr(r.out, "FIN_WAIT2") != NULL);
	replay_run_free(&r);
	engine__free(a);
	engine__free(b);
	free(m);
	free(direct);
	free(reread);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

TEST(capflow_replay_filters_flow_records)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "p.ttcap");
	struct mix *m = malloc(sizeof(*m));
	json_t *js[32];
	int nj, bad = 0;
	struct replay_run r;

	REQUIRE(dir && path && m);
	make_mix(m, 0);
	REQUIRE(write_mix(path, m, 0) == 0);
	/* -p 43: the second client (its owner made its first transition) alone */
	r = replay_run_path(path, "--json", "-p", "43");
	CHECK_EQ_INT(r.status, 0);
	nj = json_lines(r.out, "flow", js, 32, &bad);
	CHECK_EQ_INT(nj, 1);
	if (nj == 1)
		CHECK_EQ_INT(json_integer_value(json_object_get(js[0], "sport")), 40001);
	for (int i = 0; i < nj; i++)
		json_decref(js[i]);
	replay_run_free(&r);
	/* -p 7: the listener and the children born of it, as the kernel's pass_owner */
	r = replay_run_path(path, "--json", "-p", "7");
	CHECK_EQ_INT(r.status, 0);
	nj = json_lines(r.out, "flow", js, 32, &bad);
	CHECK_EQ_INT(nj, 3);
	for (int i = 0; i < nj; i++) {
		CHECK_EQ_INT(json_integer_value(json_object_get(js[i], "sport")), 80);
		json_decref(js[i]);
	}
	replay_run_free(&r);
	/* -6: the refused one */
	r = replay_run_path(path, "--json", "-6", NULL);
	nj = json_lines(r.out, "flow", js, 32, &bad);
	CHECK_EQ_INT(nj, 1);
	if (nj == 1)
		CHECK_EQ_INT(json_integer_value(json_object_get(js[0], "dport")), 81);
	for (int i = 0; i < nj; i++)
		json_decref(js[i]);
	replay_run_free(&r);
	CHECK_EQ_INT(bad, 0);
	free(m);
	free(path);
	capkit_rmtree(dir);
}

/*
 * Values the reader lets through, impossible only in context: nothing may
 * crash or read out of bounds (SANITIZE=1), every line stays JSON.
 */
TEST(capflow_replay_survives_values_impossible_in_context)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "h.ttcap");
	struct tt_capture *c;
	struct tt_flowrec r;
	struct replay_run o;
	json_t *js[32];
	int bad = 0;

	REQUIRE(dir && path);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = AT(0) }));
	/* no transitions at all, END and STATS for a socket never seen */
	r = fr(0x900, 1, 2);
	fr_stats(&r, UINT64_MAX, UINT64_MAX);
	r.retransmits = r.segs_in = r.segs_out = r.srtt_us = UINT32_MAX;
	CHECK_EQ_INT(capture__write_flow(c, &r), 0);
	/* eight transitions, times going backwards, a substate of 200, empty task slots */
	r = fr(0x910, 3, 4);
	for (int i = 0; i < TT_FR_STATES; i++)
		fr_t(&r, i % 2 ? TT_CLOSE_WAIT : TT_ESTABLISHED, i % 2 ? TT_ESTABLISHED :
		     TT_CLOSE_WAIT, AT(20 - i), i % 2 ? TT_T_TASK1 | TT_T_INFERRED : 0xf0);
	r.new_state[7] = TT_TIME_WAIT;
	r.tflags[7] = TT_T_TW_SUB;
	r.tw_substate = 200;
	r.resets_sent = r.resets_recv = 255;
	r.flags = 0xff;
	CHECK_EQ_INT(capture__write_flow(c, &r), 0);
	/* the same record again, and the same socket as a listener and a child */
	CHECK_EQ_INT(capture__write_flow(c, &r), 0);
	r = fr(0x910, 80, 0);
	fr_t(&r, TT_CLOSE, TT_LISTEN, AT(21), TT_T_TASK0);
	fr_t(&r, TT_LISTEN, TT_SYN_RECV, AT(22), 0);
	fr_t(&r, TT_SYN_RECV, TT_SYN_RECV, AT(23), 0);
	CHECK_EQ_INT(capture__write_flow(c, &r), 0);
	/* an sk of 0; an IPv4 record with the rest of its addresses set */
	r = fr(0, 5, 6);
	memset(r.saddr + 4, 0xff, 12);
	memset(r.daddr + 4, 0xff, 12);
	memset(r.task_comm, 0xff, sizeof(r.task_comm));
	fr_t(&r, TT_CLOSE, TT_SYN_SENT, AT(24), TT_T_TASK0 | TT_T_TASK1);
	fr_t(&r, TT_SYN_SENT, TT_CLOSE, AT(25), TT_T_TASK0);
	r.flags |= TT_FR_END;
	CHECK_EQ_INT(capture__write_flow(c, &r), 0);
	CHECK_EQ_INT(capture__close(c, AT(30), 0, 0), 0);

	o = replay_run_path(path, "--json", "-e", NULL);
	CHECK_EQ_INT(o.status, 0);
	json_lines(o.out, "none", js, 0, &bad);
	CHECK_EQ_INT(bad, 0);
	replay_run_free(&o);
	o = replay_run_path(path, "-e", "--ladder", NULL);
	CHECK_EQ_INT(o.status, 0);
	replay_run_free(&o);
	o = replay_run_path(path, "-p", "42", "-v");
	CHECK_EQ_INT(o.status, 0);
	replay_run_free(&o);
	o = replay_run_path(path, "--snapshot", NULL, NULL);
	CHECK_EQ_INT(o.status, 0);
	replay_run_free(&o);
	free(path);
	capkit_rmtree(dir);
}

TEST(capflow_replay_stops_at_an_impossible_flow_record)
{
	static const struct {
		int field, value;
		const char *why;
	} cases[] = {
		{ 0, 9, "impossible transition count 9" },
		{ 1, TT_STATE_MAX, "impossible TCP state 13 (transition 0)" },
		{ 2, 0, "impossible TCP state 0 (transition 0)" },
		{ 3, 3, "impossible address family 3" },
		{ 4, TT_EV_TRANSITION, "impossible type 1" },
		{ 5, 0, "a TIME-WAIT hand-over to state 2 (transition 0)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "b.ttcap");
		struct tt_flowrec before = fr(0x200, 40000, 80), bad = fr(0x300, 40001, 80),
				  after = fr(0x400, 40002, 80);
		struct tt_capture *c;
		struct replay_run r;
		json_t *js[4];
		int bad_json = 0, lines = 0;

		REQUIRE(dir && path);
		fr_t(&before, TT_CLOSE, TT_SYN_SENT, AT(1), 0);
		fr_t(&before, TT_SYN_SENT, TT_CLOSE, AT(2), 0);
		before.flags |= TT_FR_END;
		after = before;
		after.sk = 0x400;
		after.sport = 40002;
		fr_t(&bad, TT_CLOSE, TT_SYN_SENT, AT(3), 0);
		switch (cases[i].field) {
		case 0: bad.n = (uint8_t)cases[i].value; break;
		case 1: bad.old_state[0] = (uint8_t)cases[i].value; break;
		case 2: bad.new_state[0] = (uint8_t)cases[i].value; break;
		case 3: bad.family = (uint8_t)cases[i].value; break;
		case 4: bad.type = (uint8_t)cases[i].value; break;
		case 5: bad.tflags[0] = TT_T_TW_SUB; break;
		}
		/* the writer writes what it is given: the reader is the gate */
		REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path,
								       .start_ns = AT(0) }));
		CHECK_EQ_INT(capture__write_flow(c, &before), 0);
		CHECK_EQ_INT(capture__write_flow(c, &bad), 0);
		CHECK_EQ_INT(capture__write_flow(c, &after), 0);
		CHECK_EQ_INT(capture__close(c, AT(5), 0, 0), 0);

		r = replay_run_path(path, "--json", NULL, NULL);
		/* what came before stands, with the final summary; the status says the file is bad */
		CHECK_EQ_INT(r.status, 2);
		CHECK_EQ_INT(json_lines(r.out, "flow", js, 4, &bad_json), 1);
		CHECK(strstr(r.out, "\"sport\":40000") != NULL);
		CHECK(strstr(r.out, "\"sport\":40002") == NULL);
		CHECK(strstr(r.out, "\"final\":true") != NULL);
		CHECK_EQ_INT(bad_json, 0);
		json_decref(js[0]);
		/* one line on stderr says it */
		for (const char *p = r.err; (p = strstr(p, "in the flow record at offset")); p++)
			lines++;
		CHECK_EQ_INT(lines, 1);
		if (!strstr(r.err, cases[i].why))
			fprintf(stderr, "    want \"%s\" in: %s", cases[i].why, r.err);
		CHECK(strstr(r.err, cases[i].why) != NULL);
		replay_run_free(&r);
		free(path);
		capkit_rmtree(dir);
	}
}

/*
 * A cgroup record whose container id, pod UID or runtime is longer than
 * tcptrail's own field is refused, not cut to a valid-looking prefix (a
 * 64-hex id with ";rm -rf /" after it was shown as the id).
 */
TEST(capflow_cgroup_names_too_long_are_refused_not_cut)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	static const struct { uint16_t tag; const char *v; bool ok; } cases[] = {
		{ TTCAP_CG_CONTAINER, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
		{ TTCAP_CG_CONTAINER,
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;rm -rf /", false },
		{ TTCAP_CG_POD, "0123abcd-0000-4000-8000-00000000beef", true },
		{ TTCAP_CG_POD, "0123abcd-0000-4000-8000-00000000beef\n", false },
	};
	struct tt_flowrec good = good_flow(1);

	REQUIRE(r && o);
	good.cgroup = 7;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char cg[256];
		uint64_t id = htole64(7);
		uint16_t tag = htole16(cases[i].tag), len = htole16((uint16_t)strlen(cases[i].v));
		size_t n = 0;

		memcpy(cg + n, &id, 8);
		n += 8;
		memcpy(cg + n, &tag, 2);
		memcpy(cg + n + 2, &len, 2);
		memcpy(cg + n + 4, cases[i].v, strlen(cases[i].v));
		n += 4 + strlen(cases[i].v);
		raw_start(r, 4, NULL, 0);
		raw_frame(r, TTCAP_CGROUP, (uint32_t)n, cg, n);
		raw_flow(r, &good);
		raw_end(r);
		read_mem(r->b, r->n, o);
		if (cases[i].ok) {
			CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
			CHECK_EQ_INT(o->flows, 1);
		} else {
			CHECK_EQ_INT(o->err, TT_CAPERR_RECORD);
			CHECK(strstr(o->msg, "names a container, pod or runtime as tcptrail never does"));
			CHECK_EQ_INT(o->flows, 0);
		}
	}
	free(r);
	free(o);
}

/* data as one gzip member, appended at out[*n] (of cap bytes); false if it did not fit. */
static bool gz_member(unsigned char *out, size_t cap, size_t *n, const unsigned char *data,
		      size_t len)
{
	z_stream z = { 0 };
	int ret;

	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out + *n;
	z.avail_out = (uInt)(cap - *n);
	ret = deflate(&z, Z_FINISH);
	*n = cap - z.avail_out;
	deflateEnd(&z);
	return ret == Z_STREAM_END;
}

/*
 * CAPTURE.md: a version 4 member may end anywhere, even inside the file
 * header.  A file whose first member holds fewer bytes than the magic and
 * version (12) was taken for a one-member file of an older version.
 */
TEST(capflow_v4_member_ending_inside_the_file_header)
{
	char *dir = capkit_tmpdir("capflow"), *path = capkit_join(dir, "m.ttcap");
	static unsigned char plain[1 << 16], gz[1 << 17];
	struct readout *o = malloc(sizeof(*o));
	static const size_t cuts[] = { 1, 7, 8, 11, 12, 40 };
	struct tt_capture *c;
	struct tt_flowrec f = fr(0x1000, 40000, 80);
	gzFile in;
	int len;

	REQUIRE(dir && path && o);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = AT(0) }));
	fr_task(&f, 0, 42, "curl");
	fr_t(&f, TT_CLOSE, TT_SYN_SENT, AT(1), TT_T_TASK0);
	fr_t(&f, TT_SYN_SENT, TT_CLOSE, AT(2), 0);
	f.flags |= TT_FR_END;
	REQUIRE(!capture__write_flow(c, &f));
	CHECK_EQ_INT(capture__close(c, AT(3), 0, 0), 0);
	in = gzopen(path, "rb");
	REQUIRE(in);
	len = gzread(in, plain, sizeof(plain));
	gzclose(in);
	REQUIRE(len > 40);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t n = 0;

		REQUIRE(gz_member(gz, sizeof(gz), &n, plain, cuts[i]));
		REQUIRE(gz_member(gz, sizeof(gz), &n, plain + cuts[i], (size_t)len - cuts[i]));
		read_mem(gz, n, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
		CHECK_EQ_INT(o->flows, 1);
	}
	free(o);
	free(path);
	capkit_rmtree(dir);
}
