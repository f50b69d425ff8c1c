// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The capture file: what the writer writes, the reader reads back, and
 * every way a file can be wrong fails with one line naming the offset.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>
#include "capture.h"
#include "modes.h"
#include "outfile.h"
#include "util.h"
#include "tt_test.h"
/* every field set, so that a round trip that drops one shows */
#define REC_BASE { .family = TT_AF_INET, .flags = TT_F_OWNER | TT_F_COOKIE, \
		   .hook = TT_HOOK_TP_BTF_SET_STATE, .sport = 40000, .dport = 80, \
		   .netns = 4026531840u, .pid = 42, .tgid = 42, .cpu = 3, .cgroup = 0x1234, \
		   .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 }, .comm = "curl", \
		   .aux = { 0, 1, 2, 3, 4, 5 } }
#include "records.h"
#include "capkit.h"

static void quiet(bool on)
{
	static int saved;

	if (on) {
		saved = tt_verbosity;
		tt_verbosity = -1;
	} else {
		tt_verbosity = saved;
	}
}

static int write_capture(const char *path, const struct tt_event *evs, int n,
			 uint64_t rotate_bytes, uint32_t rotate_count)
{
	struct tt_capture *c;
	int err;

	err = capture__open(&c, &(struct tt_capture_opts){
		.path = path, .rotate_bytes = rotate_bytes, .rotate_count = rotate_count,
		.hooks = "transitions=tp_btf/inet_sock_set_state owner=-",
		.filters = "family=ipv4 ports=80", .wall_offset_ns = -1234567890123ll,
		.start_ns = 1000, .port_lo = 20000, .port_hi = 29999,
	});
	if (err)
		return err;
	for (int i = 0; i < n && !err; i++) {
		err = capture__write(c, &evs[i]);
		if (!err)
			err = capture__tick(c, evs[i].ts_ns, i / 10, i / 20);
	}
	err = capture__close(c, n ? evs[n - 1].ts_ns + 1 : 2000, 7, 3) ?: err;
	return err;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY);

	*len = 0;
	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && (buf = malloc(st.st_size + 1)))
		*len = (size_t)read(fd, buf, st.st_size);
	close(fd);
	return buf;
}

static unsigned char *gzip(const unsigned char *in, size_t len, size_t *out_len)
{
	size_t cap = len + 1024;
	unsigned char *out = malloc(cap);
	z_stream z = { 0 };

	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = cap;
	deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* Read everything: the number of events, 0/-1 from the last next(), the error. */
struct readout {
	int events, counters, last;
	enum tt_caperr err;
	char msg[512];
	struct tt_event ev[64];
	struct tt_event last_ev;
	struct ttcap_counters cnt[64];
	struct tt_capmeta meta;
};

static void read_all(struct tt_capreader *r, struct readout *o)
{
	struct tt_caprec rec;

	memset(o, 0, sizeof(*o));
	if (capreader__meta(r, &o->meta)) {
		o->last = -1;
	} else {
		while ((o->last = capreader__next(r, &rec)) > 0) {
			if (rec.kind == TTCAP_EVENT && o->events < 64)
				o->ev[o->events] = rec.ev;
			if (rec.kind == TTCAP_EVENT) {
				o->events++;
				o->last_ev = rec.ev;
			}
			else if (o->counters < 64)
				o->cnt[o->counters++] = rec.counters;
		}
	}
	o->err = capreader__errkind(r);
	snprintf(o->msg, sizeof(o->msg), "%s", capreader__error(r));
}

static void read_mem(const void *buf, size_t len, struct readout *o)
{
	struct tt_capreader *r = capreader__new_mem(buf, len, "mem.ttcap");

	read_all(r, o);
	capreader__free(r);
}

static void read_path(const char *path, struct readout *o)
{
	struct tt_capreader *r = capreader__new(path);

	read_all(r, o);
	capreader__free(r);
}

static void sample(struct tt_event *evs, int n)
{
	for (int i = 0; i < n; i++)
		evs[i] = rec(TT_EV_TRANSITION, 0xffff888000000000ull + i * 0x1000, TT_SYN_SENT,
				TT_ESTABLISHED, 1000000 + i * 300000000ull);
}

TEST(capture_round_trip)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "a.ttcap");
	struct tt_event evs[20];
	struct readout *o = malloc(sizeof(*o));
	struct stat st;

	REQUIRE(dir && path && o);
	sample(evs, 20);
	evs[5].family = TT_AF_INET6;
	evs[5].saddr[15] = 1;
	CHECK_EQ_INT(write_capture(path, evs, 20, 0, 0), 0);
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600);

	read_path(path, o);
	CHECK_EQ_INT(o->last, 0);
	CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
	CHECK_EQ_INT(o->events, 20);
	for (int i = 0; i < 20; i++)
		CHECK(!memcmp(&o->ev[i], &evs[i], sizeof(evs[i])));
	CHECK_EQ_INT(o->meta.version, TTCAP_VERSION);
	CHECK_EQ_INT(o->meta.record_size, 128);
	CHECK_EQ_INT(o->meta.wall_offset_ns, -1234567890123ll);
	CHECK_EQ_INT(o->meta.start_ns, 1000);
	CHECK_EQ_INT(o->meta.file_index, 0);
	CHECK_STR(o->meta.tool_version, tt_version);
	CHECK_STR(o->meta.hooks, "transitions=tp_btf/inet_sock_set_state owner=-");
	CHECK_STR(o->meta.filters, "family=ipv4 ports=80");
	/* the traced namespace's ephemeral ports, for the leak report's client or server */
	CHECK_EQ_INT(o->meta.port_lo, 20000);
	CHECK_EQ_INT(o->meta.port_hi, 29999);
	CHECK(o->meta.hostname[0] && o->meta.kernel[0]);
	/* the baseline, one per flush (events 300 ms apart: every 4th), the final */
	REQUIRE(o->counters >= 3);
	CHECK_EQ_INT(o->cnt[0].lost, 0);
	CHECK_EQ_INT(o->cnt[0].events, 0);
	CHECK_EQ_INT(o->cnt[o->counters - 1].lost, 7);
	CHECK_EQ_INT(o->cnt[o->counters - 1].evicted, 3);
	CHECK_EQ_INT(o->cnt[o->counters - 1].events, 20);
	CHECK_EQ_INT(o->cnt[o->counters - 1].ts_ns, evs[19].ts_ns + 1);
	for (int i = 1; i < o->counters; i++)
		CHECK(o->cnt[i].ts_ns >= o->cnt[i - 1].ts_ns);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

TEST(capture_is_plain_gzip)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "z.ttcap"), cmd[512], head[9] = "";
	struct tt_event evs[3];
	FILE *p;

	REQUIRE(dir && path);
	sample(evs, 3);
	REQUIRE(write_capture(path, evs, 3, 0, 0) == 0);
	/* zcat reads it: the uncompressed stream starts with the magic */
	snprintf(cmd, sizeof(cmd), "gzip -dc '%s' 2>/dev/null | head -c 8", path);
	p = popen(cmd, "r");
	REQUIRE(p);
	CHECK_EQ_INT(fread(head, 1, 8, p), 8);
	pclose(p);
	CHECK_STR(head, "TCPTRAIL");
	free(path);
	capkit_rmtree(dir);
}

/* Raw captures here carry a hostile host name: an escape in it. */
static void raw_start_hostile(struct raw *r, uint32_t version)
{
	uint16_t tag = TTCAP_TAG_HOSTNAME, len = 4;
	unsigned char tags[8];

	memcpy(tags, &tag, 2);
	memcpy(tags + 2, &len, 2);
	memcpy(tags + 4, "h\033st", 4);
	raw_start(r, version, tags, sizeof(tags));
}

static void raw_sample(struct raw *r, int n)
{
	raw_start_hostile(r, 1);
	for (int i = 0; i < n; i++) {
		struct tt_event e = rec(TT_EV_TRANSITION, 0x1000 + i, TT_CLOSE, TT_SYN_SENT,
				10 + i);

		raw_event(r, &e);
	}
	raw_end(r);
}

TEST(capture_raw_stream_reads_too)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));

	REQUIRE(r && o);
	raw_sample(r, 5);
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->last, 0);
	CHECK_EQ_INT(o->events, 5);
	CHECK_STR(o->meta.hostname, "h?st");	/* control bytes never reach a terminal */
	free(r);
	free(o);
}

/*
 * capreader__ready(): the replay holds its output while the next record is
 * in memory, and writes it out before a read that may wait, as on a pipe
 * whose writer is still sending (tail -f tt.ttcap | tcptrail -r -).
 */
TEST(capture_ready_until_a_read_would_wait)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "fifo");
	struct raw *r = malloc(sizeof(*r));
	struct tt_capreader *rd = NULL;
	struct tt_caprec rec;
	int w = -1, events = 0, ret;
	size_t cut;

	REQUIRE(dir && path && r);
	raw_sample(r, 6);
	/* all but the last event and the end frame: 5 events to read at once */
	cut = r->frame_at[r->frames - 2];
	REQUIRE(mkfifo(path, 0600) == 0);
	w = open(path, O_RDWR);		/* a writer that stays, and no wait to open */
	REQUIRE(w >= 0);
	REQUIRE(write(w, r->b, cut) == (ssize_t)cut);
	rd = capreader__new(path);
	REQUIRE(rd);
	CHECK(!capreader__ready(rd));	/* nothing read yet */
	REQUIRE(capreader__meta(rd, NULL) == 0);
	do {
		ret = capreader__next(rd, &rec);
		REQUIRE(ret == 1);
		events += rec.kind == TTCAP_EVENT;
	} while (capreader__ready(rd));
	/* the pipe's bytes all taken; one more next() would wait for the writer */
	CHECK_EQ_INT(events, 5);
	REQUIRE(write(w, r->b + cut, r->n - cut) == (ssize_t)(r->n - cut));
	close(w);
	while ((ret = capreader__next(rd, &rec)) > 0)
		events += rec.kind == TTCAP_EVENT;
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(events, 6);
	CHECK(capreader__ready(rd));	/* at its end: nothing to wait for */
	capreader__free(rd);
	/* a capture in memory never waits */
	rd = capreader__new_mem(r->b, r->n, "mem.ttcap");
	REQUIRE(rd);
	CHECK(capreader__ready(rd));
	capreader__free(rd);
	free(r);
	free(path);
	capkit_rmtree(dir);
}

static volatile sig_atomic_t alarm_stop;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_stop = 1;
}

/* A reader of path that SIGALRM stops 200 ms from now; alarm_off() after. */
static struct tt_capreader *reader_stopped_soon(const char *path, struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct tt_capreader *rd = capreader__new(path);

	if (!rd)
		return NULL;
	alarm_stop = 0;
	capreader__set_stop(rd, &alarm_stop);
	if (sigaction(SIGALRM, &sa, old) || setitimer(ITIMER_REAL, &it, NULL)) {
		capreader__free(rd);
		return NULL;
	}
	return rd;
}

static void alarm_off(const struct sigaction *old)
{
	struct itimerval off = { 0 };

	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, old, NULL);
}

/*
 * capreader__set_stop(): a replay waiting on a pipe that sends nothing more
 * ends on a signal (SIGINT, SIGTERM; here SIGALRM), its records kept; so
 * does one waiting for a FIFO's writer to open it.
 */
TEST(capture_signal_stops_a_read_that_waits)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "fifo");
	struct sigaction old;
	struct raw *r = malloc(sizeof(*r));
	struct tt_capreader *rd;
	struct tt_caprec rec;
	int w, events = 0, ret;
	size_t cut;

	REQUIRE(dir && path && r);
	raw_sample(r, 3);
	cut = r->frame_at[r->frames - 1];	/* all but the end frame */
	REQUIRE(mkfifo(path, 0600) == 0);
	w = open(path, O_RDWR);
	REQUIRE(w >= 0);
	REQUIRE(write(w, r->b, cut) == (ssize_t)cut);
	rd = reader_stopped_soon(path, &old);
	REQUIRE(rd);
	while ((ret = capreader__next(rd, &rec)) > 0)
		events += rec.kind == TTCAP_EVENT;
	alarm_off(&old);
	CHECK_EQ_INT(ret, -1);
	CHECK_EQ_INT(capreader__errkind(rd), TT_CAPERR_STOPPED);
	CHECK_EQ_INT(events, 3);
	CHECK(alarm_stop);
	capreader__free(rd);
	close(w);

	/* a FIFO with no writer waits in open() itself */
	rd = reader_stopped_soon(path, &old);
	REQUIRE(rd);
	CHECK_EQ_INT(capreader__meta(rd, NULL), -1);
	alarm_off(&old);
	CHECK_EQ_INT(capreader__errkind(rd), TT_CAPERR_STOPPED);
	capreader__free(rd);
	free(r);
	free(path);
	capkit_rmtree(dir);
}

TEST(capture_truncated_raw_at_every_offset)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	char want[64];

	REQUIRE(r && o);
	raw_sample(r, 4);
	for (size_t cut = 24; cut < r->n; cut++) {
		int complete = 0;
		size_t last_end = r->frame_at[1];	/* after the metadata */

		/* events whose frame ends at or before the cut */
		for (int f = 1; f < r->frames - 1; f++) {
			size_t end = r->frame_at[f] + 8 + 128;

			if (end <= cut) {
				complete++;
				last_end = end;
			}
		}
		read_mem(r->b, cut, o);
		CHECK_EQ_INT(o->last, -1);
		CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
		CHECK_EQ_INT(o->events, complete);
		if (cut >= r->frame_at[1]) {
			snprintf(want, sizeof(want), "truncated at offset %zu", last_end);
			if (!strstr(o->msg, want)) {
				fprintf(stderr, "    cut %zu: \"%s\" lacks \"%s\"\n", cut, o->msg,
						want);
				CHECK(0);
				break;
			}
		}
		CHECK(!strncmp(o->msg, "mem.ttcap: ", 11));
	}
	free(r);
	free(o);
}

TEST(capture_truncated_compressed)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "t.ttcap");
	struct tt_event evs[40];
	struct readout *o = malloc(sizeof(*o));
	unsigned char *file;
	size_t len;
	int prev = 0;

	REQUIRE(dir && path && o);
	sample(evs, 40);
	REQUIRE(write_capture(path, evs, 40, 0, 0) == 0);
	file = slurp(path, &len);
	REQUIRE(file && len > 100);
	for (size_t cut = 10; cut < len; cut += (cut < 64 ? 1 : 7)) {
		read_mem(file, cut, o);
		CHECK_EQ_INT(o->last, -1);
		if (o->err != TT_CAPERR_TRUNCATED) {
			fprintf(stderr, "    cut %zu of %zu: %s\n", cut, len, o->msg);
			CHECK(0);
			break;
		}
		/* what was read is a prefix of what was written, and grows with the cut */
		CHECK(o->events >= prev);
		prev = o->events;
		for (int i = 0; i < o->events && i < 40; i++)
			CHECK(!memcmp(&o->ev[i], &evs[i], sizeof(evs[i])));
	}
	/* cut inside the last member's trailer: none of that member is used */
	read_mem(file, len - 1, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
	CHECK(o->events < 40);
	CHECK(strstr(o->msg, "was tcptrail killed") != NULL);
	free(file);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/*
 * A version 1 to 3 capture is one member; when it is cut in its trailer,
 * its records are all there, unvouched for, and are used as they always
 * were (a big one is not held whole: CAPTURE.md).
 */
TEST(capture_truncated_in_an_old_captures_trailer)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	unsigned char *gz;
	size_t gzlen;

	REQUIRE(r && o);
	raw_start(r, 3, NULL, 0);
	for (int i = 0; i < 5; i++) {
		struct tt_event e = rec(TT_EV_TRANSITION, 0x1000 + i, TT_CLOSE, TT_SYN_SENT, 10 + i);

		raw_event(r, &e);
	}
	raw_end(r);
	gz = gzip(r->b, r->n, &gzlen);
	REQUIRE(gz);
	read_mem(gz, gzlen - 1, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
	CHECK_EQ_INT(o->events, 5);
	CHECK(strstr(o->msg, "stops before its checksum") != NULL);
	free(gz);
	free(r);
	free(o);
}

TEST(capture_killed_writer_leaves_a_readable_file)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "k.ttcap"), *killed;
	struct tt_capture *c;
	struct tt_event evs[10];
	struct readout *o = malloc(sizeof(*o));

	REQUIRE(dir && path && o);
	sample(evs, 10);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = 1 }));
	for (int i = 0; i < 6; i++)
		REQUIRE(!capture__write(c, &evs[i]));
	/* a second has passed: the tick flushes, as the main loop's does */
	REQUIRE(!capture__tick(c, 2000000000ull, 0, 0));
	REQUIRE(!capture__write(c, &evs[6]));	/* after the flush: may be lost */
	/* read while the writer still has it open: a capture in progress, no fault */
	read_path(path, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_LIVE);
	CHECK(o->events >= 6);
	CHECK(strstr(o->msg, "a running tcptrail is still writing it") != NULL);
	/* "SIGKILL": the same bytes, with no writer holding them */
	killed = capkit_killed_copy(path);
	REQUIRE(killed);
	read_path(killed, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
	CHECK(o->events >= 6);
	CHECK(strstr(o->msg, "was tcptrail killed") != NULL);
	capture__close(c, 3000000000ull, 0, 0);
	read_path(path, o);
	CHECK_EQ_INT(o->last, 0);
	CHECK_EQ_INT(o->events, 7);
	free(o);
	free(killed);
	free(path);
	capkit_rmtree(dir);
}

TEST(capture_corrupt_bytes_are_caught)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "c.ttcap");
	struct tt_event evs[30];
	struct readout *o = malloc(sizeof(*o));
	unsigned char *file;
	size_t len;

	REQUIRE(dir && path && o);
	sample(evs, 30);
	REQUIRE(write_capture(path, evs, 30, 0, 0) == 0);
	file = slurp(path, &len);
	REQUIRE(file);
	/* past the gzip header (its mtime and OS bytes are not checksummed) */
	for (size_t at = 10; at < len; at += 3) {
		file[at] ^= 0x24;
		read_mem(file, len, o);
		file[at] ^= 0x24;
		/*
		 * The padding bits before a sync flush's stored block are not
		 * read by anyone: a flip there changes nothing, and is fine.
		 */
		if (o->last == 0 && o->events == 30 && !memcmp(o->ev, evs, 30 * sizeof(evs[0])))
			continue;
		if (o->last != -1 || o->err == TT_CAPERR_NONE || !o->msg[0]) {
			fprintf(stderr, "    flip at %zu of %zu went unnoticed\n", at, len);
			CHECK(0);
			break;
		}
	}
	/* a damaged block deep inside: a clear message that says so */
	file[len / 2] ^= 0xff;
	read_mem(file, len, o);
	CHECK_EQ_INT(o->last, -1);
	CHECK(o->err == TT_CAPERR_CORRUPT || o->err == TT_CAPERR_KIND ||
	      o->err == TT_CAPERR_LENGTH || o->err == TT_CAPERR_RECORD);
	CHECK(strstr(o->msg, "offset") != NULL);
	free(file);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

TEST(capture_bad_magic)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	unsigned char *gz;
	size_t gzlen;

	REQUIRE(r && o);
	read_mem("GET / HTTP/1.1\r\n", 16, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_MAGIC);
	CHECK_STR(o->msg, "mem.ttcap: not a tcptrail capture (bad magic at offset 0: neither "
		  "gzip nor \"TCPTRAIL\")");
	read_mem("", 0, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_MAGIC);
	read_mem(NULL, 0, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_MAGIC);

	/* gzip, but of something else */
	gz = gzip((const unsigned char *)"hello, world\n", 13, &gzlen);
	read_mem(gz, gzlen, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_MAGIC);
	CHECK_STR(o->msg, "mem.ttcap: not a tcptrail capture (bad magic at offset 0)");
	free(gz);

	/* an empty gzip stream */
	gz = gzip((const unsigned char *)"", 0, &gzlen);
	read_mem(gz, gzlen, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_MAGIC);
	free(gz);

	raw_sample(r, 1);
	memcpy(r->b, "TCPTRAIX", 8);
	gz = gzip(r->b, r->n, &gzlen);
	read_mem(gz, gzlen, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_MAGIC);
	free(gz);
	free(r);
	free(o);
}

TEST(capture_missing_file)
{
	struct readout o;

	read_path("/nonexistent/dir/x.ttcap", &o);
	CHECK_EQ_INT(o.err, TT_CAPERR_IO);
	CHECK_STR(o.msg, "/nonexistent/dir/x.ttcap: No such file or directory");
	read_path("/tmp", &o);
	CHECK_EQ_INT(o.err, TT_CAPERR_IO);
	CHECK(strstr(o.msg, "Is a directory") != NULL);
}

TEST(capture_newer_version)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	struct ttcap_file_header *h = (void *)r->b;
	char want[96];

	REQUIRE(r && o);
	raw_start_hostile(r, TTCAP_VERSION + 1);
	raw_end(r);
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_VERSION);
	snprintf(want, sizeof(want), "format version %d is newer than this tcptrail",
		 TTCAP_VERSION + 1);
	CHECK(strstr(o->msg, want) != NULL);

	raw_sample(r, 1);
	h->record_size = 160;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_VERSION);
	CHECK(strstr(o->msg, "records of 160 bytes") != NULL);

	raw_sample(r, 1);
	h->version = 0;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_VERSION);
	free(r);
	free(o);
}

TEST(capture_impossible_frames)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	struct tt_event e = rec(TT_EV_TRANSITION, 1, TT_CLOSE, TT_SYN_SENT, 10);
	struct ttcap_frame *f;
	char want[96];

	REQUIRE(r && o);
	/* an event frame one byte short */
	raw_sample(r, 3);
	f = (void *)(r->b + r->frame_at[2]);
	f->len = 127;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_LENGTH);
	CHECK_EQ_INT(o->events, 1);
	snprintf(want, sizeof(want),
			"mem.ttcap: impossible length 127 for an event record at offset %zu",
		 r->frame_at[2]);
	CHECK(!strncmp(o->msg, want, strlen(want)));

	/* 4 GB of metadata */
	raw_sample(r, 1);
	f = (void *)(r->b + r->frame_at[0]);
	f->len = 0xffffffffu;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_LENGTH);

	/* a wall clock offset no clock has: every ts + offset must fit */
	raw_sample(r, 1);
	{
		int64_t huge = INT64_MAX - 4;

		memcpy(r->b + r->frame_at[0] + 8 + 8, &huge, 8);
	}
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_RECORD);
	CHECK(strstr(o->msg, "impossible clock in the metadata at offset 24") != NULL);

	/* a metadata field longer than its record */
	raw_sample(r, 1);
	r->b[r->frame_at[0] + 8 + sizeof(struct ttcap_meta) + 2] = 200;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_LENGTH);
	CHECK(strstr(o->msg, "overruns") != NULL);

	/* an unknown kind */
	raw_sample(r, 3);
	f = (void *)(r->b + r->frame_at[3]);
	f->kind = 9;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_KIND);
	CHECK_EQ_INT(o->events, 2);
	snprintf(want, sizeof(want), "mem.ttcap: impossible record kind 9 at offset %zu",
		 r->frame_at[3]);
	CHECK_STR(o->msg, want);

	/* a second metadata record; an event before the metadata */
	raw_sample(r, 2);
	f = (void *)(r->b + r->frame_at[2]);
	f->kind = TTCAP_META;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_KIND);
	raw_sample(r, 2);
	f = (void *)(r->b + r->frame_at[0]);
	f->kind = TTCAP_EVENT;
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_KIND);

	/* data after the end record */
	raw_sample(r, 1);
	raw_event(r, &e);
	read_mem(r->b, r->n, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_CORRUPT);
	CHECK(strstr(o->msg, "data after the end record") != NULL);
	free(r);
	free(o);
}

TEST(capture_impossible_events)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	struct tt_event good = rec(TT_EV_TRANSITION, 1, TT_CLOSE, TT_SYN_SENT, 10), bad;
	char want[128];

	REQUIRE(r && o);
	struct { int field; int value; const char *why; } cases[] = {
		{ 0, 0, "impossible event type 0" },
		{ 0, TT_EV_MAX, "impossible event type" },
		{ 1, TT_STATE_MAX, "impossible TCP state 13" },
		{ 2, 200, "impossible TCP state 200" },
		{ 3, 7, "impossible address family 7" },
		{ 4, 62, "impossible time 4611686018427387904 ns" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_start_hostile(r, 1);
		raw_event(r, &good);
		bad = good;
		switch (cases[i].field) {
		case 0: bad.type = cases[i].value; break;
		case 1: bad.old_state = cases[i].value; break;
		case 2: bad.new_state = cases[i].value; break;
		case 3: bad.family = cases[i].value; break;
		case 4: bad.ts_ns = 1ull << cases[i].value; break;
		}
		raw_event(r, &bad);
		raw_end(r);
		read_mem(r->b, r->n, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_RECORD);
		CHECK_EQ_INT(o->events, 1);
		snprintf(want, sizeof(want), "in the event record at offset %zu", r->frame_at[2]);
		CHECK(strstr(o->msg, cases[i].why) != NULL);
		CHECK(strstr(o->msg, want) != NULL);
	}
	free(r);
	free(o);
}

TEST(capture_rotation_keeps_the_newest_files)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "r.ttcap"), name[512];
	static struct tt_event evs[1000];
	struct readout *o = malloc(sizeof(*o));
	int total = 0, last_file = -1, kept = 0;

	REQUIRE(dir && path && o);
	srand(7);
	for (int i = 0; i < 1000; i++) {
		evs[i] = rec(TT_EV_TRANSITION, ((uint64_t)rand() << 32) | rand(), TT_SYN_SENT,
				TT_ESTABLISHED, 1000 + i * 10000000ull);
		/* incompressible bytes, so that the files grow */
		for (int k = 0; k < 16; k++)
			evs[i].saddr[k] = (uint8_t)rand();
		evs[i].family = TT_AF_INET6;
	}
	REQUIRE(write_capture(path, evs, 1000, 4096, 3) == 0);
	for (int i = 0; i < 100; i++) {
		struct stat st;

		capkit_rotated(name, sizeof(name), path, i);
		if (stat(name, &st))
			continue;
		kept++;
		last_file = i;
		/* each file replays alone, with its own header */
		read_path(name, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
		CHECK_EQ_INT(o->meta.file_index, i);
		CHECK_STR(o->meta.hooks, "transitions=tp_btf/inet_sock_set_state owner=-");
		CHECK(st.st_size < 4096 + 512);
		total += o->events;
	}
	CHECK_EQ_INT(kept, 3);
	CHECK(last_file >= 5);
	/* the three newest: FILE.(n-2), FILE.(n-1), FILE.n */
	for (int i = last_file - 2; i <= last_file; i++) {
		snprintf(name, sizeof(name), "%s.%d", path, i);
		CHECK(access(name, F_OK) == 0);
	}
	/* the newest files hold the newest records, up to the last one */
	CHECK(total > 0 && total < 1000);
	snprintf(name, sizeof(name), "%s.%d", path, last_file);
	read_path(name, o);
	REQUIRE(o->events > 0);
	CHECK(!memcmp(&o->last_ev, &evs[999], sizeof(struct tt_event)));
	CHECK_EQ_INT(o->ev[0].ts_ns, evs[1000 - o->events].ts_ns);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

TEST(capture_refuses_unsafe_paths)
{
	char *dir = capkit_tmpdir("capture"), *sym = capkit_join(dir, "link"), *target = capkit_join(dir, "target"),
	     *fifo = capkit_join(dir, "fifo"), *hard = capkit_join(dir, "hard"), *mine = capkit_join(dir, "mine");
	struct tt_capture *c;
	struct stat st;
	int fd;

	REQUIRE(dir && sym && target && fifo && hard && mine);
	quiet(true);
	/* a symlink, dangling or not, is never followed */
	CHECK(!symlink(target, sym));
	CHECK_EQ_INT(capture__open(&c, &(struct tt_capture_opts){ .path = sym }), -ELOOP);
	CHECK(access(target, F_OK) != 0);
	fd = open(target, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, "keep", 4) == 4);
	close(fd);
	CHECK_EQ_INT(capture__open(&c, &(struct tt_capture_opts){ .path = sym }), -ELOOP);
	CHECK(!stat(target, &st) && st.st_size == 4);

	/* a FIFO (no reader) is not a file */
	CHECK(!mkfifo(fifo, 0600));
	CHECK(capture__open(&c, &(struct tt_capture_opts){ .path = fifo }) < 0);

	/* a file with a second name elsewhere is not overwritten */
	CHECK(!link(target, hard));
	CHECK_EQ_INT(capture__open(&c, &(struct tt_capture_opts){ .path = hard }), -EPERM);
	CHECK(!stat(target, &st) && st.st_size == 4);

	/* a file of ours that holds no capture (-w /etc/passwd as root) is left whole */
	fd = open(mine, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && write(fd, "old contents", 12) == 12);
	close(fd);
	CHECK_EQ_INT(capture__open(&c, &(struct tt_capture_opts){ .path = mine }), -EPERM);
	CHECK(!stat(mine, &st) && st.st_size == 12);

	/* an old capture of ours is overwritten, and made private */
	fd = open(mine, O_TRUNC | O_WRONLY);
	CHECK(fd >= 0 && write(fd, "TCPTRAIL old capture", 20) == 20);
	close(fd);
	CHECK_EQ_INT(capture__open(&c, &(struct tt_capture_opts){ .path = mine }), 0);
	CHECK_EQ_INT(capture__close(c, 1, 0, 0), 0);
	CHECK(!stat(mine, &st) && (st.st_mode & 0777) == 0600);
	quiet(false);

	free(sym);
	free(target);
	free(fifo);
	free(hard);
	free(mine);
	capkit_rmtree(dir);
}

/* Two runs with one -w FILE: the second leaves the first's capture whole. */
TEST(capture_refuses_a_file_another_capture_writes)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "busy.ttcap");
	struct tt_capture *c, *c2;
	struct tt_event evs[4];
	struct readout *o = malloc(sizeof(*o));
	struct stat before, after;

	REQUIRE(dir && path && o);
	sample(evs, 4);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = 1 }));
	for (int i = 0; i < 4; i++)
		REQUIRE(!capture__write(c, &evs[i]));
	REQUIRE(!capture__tick(c, 2000000000ull, 0, 0));
	REQUIRE(!stat(path, &before) && before.st_size > 0);
	CHECK(outfile__busy(path));
	quiet(true);
	/* refused before anything is attached, and at the open itself */
	CHECK_EQ_INT(outfile__check("-w", path), -EBUSY);
	CHECK_EQ_INT(outfile__check("-o", path), -EBUSY);
	CHECK_EQ_INT(capture__open(&c2, &(struct tt_capture_opts){ .path = path, .start_ns = 1 }),
		     -EWOULDBLOCK);
	quiet(false);
	CHECK(!stat(path, &after) && after.st_size == before.st_size);
	CHECK_EQ_INT(capture__close(c, 3000000000ull, 0, 0), 0);
	/* closed: the lock went with it, and the file is whole */
	CHECK(!outfile__busy(path));
	CHECK_EQ_INT(outfile__check("-w", path), 0);
	read_path(path, o);
	CHECK_EQ_INT(o->last, 0);
	CHECK_EQ_INT(o->events, 4);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/* A full disk, without root: a file size limit makes write() fail the same way. */
TEST(capture_write_error_is_reported_and_sticky)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "full.ttcap");
	struct readout *o = malloc(sizeof(*o));
	struct rlimit old, small;
	struct tt_capture *c;
	struct tt_event e;
	int err = 0, written = 0;

	REQUIRE(dir && path && o);
	REQUIRE(!getrlimit(RLIMIT_FSIZE, &old));
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = 1 }));
	signal(SIGXFSZ, SIG_IGN);
	small = old;
	small.rlim_cur = 6000;
	REQUIRE(!setrlimit(RLIMIT_FSIZE, &small));
	quiet(true);
	srand(3);
	for (int i = 0; i < 2000 && !err; i++) {
		e = rec(TT_EV_TRANSITION, ((uint64_t)rand() << 32) | rand(), TT_SYN_SENT,
				TT_ESTABLISHED, 1000 + i * 100000000ull);
		for (int k = 0; k < 16; k++)
			e.daddr[k] = (uint8_t)rand();
		err = capture__write(c, &e);
		if (!err)
			written++;
		if (!err)
			err = capture__tick(c, e.ts_ns, 0, 0);
	}
	CHECK_EQ_INT(err, -EFBIG);
	/* sticky: nothing more is written, and close says so */
	CHECK_EQ_INT(capture__write(c, &e), -EFBIG);
	CHECK_EQ_INT(capture__tick(c, UINT64_MAX / 2, 0, 0), -EFBIG);
	CHECK_EQ_INT(capture__close(c, UINT64_MAX / 2, 0, 0), -EFBIG);
	quiet(false);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);

	/* what reached the disk before the error reads back, then "truncated" */
	read_path(path, o);
	CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
	CHECK(o->events > 10 && o->events <= written);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

TEST(capture_describe_hooks)
{
	struct tt_selection sel = { 0 };
	char buf[512];

	for (int i = 0; i < TT_CAP_MAX; i++)
		sel.chosen[i] = -1;
	sel.chosen[TT_CAP_TRANSITIONS] = 0;
	capture__describe_hooks(&sel, buf, sizeof(buf));
	CHECK(!strncmp(buf, "transitions=tp_btf/inet_sock_set_state ", 39));
	CHECK(strstr(buf, "owner=-") != NULL);
}

/* gzip members in buf, one after another, up to the first that is not one: their count */
static int gzip_members(const unsigned char *buf, size_t len)
{
	unsigned char out[65536];
	z_stream z = { 0 };
	int members = 0, ret;

	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)buf;
	z.avail_in = (uInt)len;
	while (z.avail_in) {
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			ret = inflate(&z, Z_NO_FLUSH);
		} while (ret == Z_OK);
		if (ret != Z_STREAM_END)
			break;
		members++;
		inflateReset(&z);
	}
	inflateEnd(&z);
	return members;
}

/*
 * Blocks of frames deflated on the compression threads (or, with none, by
 * the writing thread) go into the file as gzip members in the order they
 * were put: every record comes back, in order, whatever thread packed it.
 */
TEST(capture_members_come_back_in_order_whichever_thread_packed_them)
{
	static const int threads[] = { -1, 1, 3 };
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "m.ttcap"), cmd[600];
	enum { N = 40000 };
	struct tt_event *evs = malloc(N * sizeof(*evs));

	REQUIRE(dir && path && evs);
	srand(11);
	for (int i = 0; i < N; i++) {
		evs[i] = rec(TT_EV_TRANSITION, ((uint64_t)rand() << 32) | rand(), TT_SYN_SENT,
				TT_ESTABLISHED, 1000 + i * 100000ull);
		/* some incompressible bytes: about ten 512 KiB blocks in all */
		for (int k = 0; k < 8; k++)
			evs[i].saddr[k] = (uint8_t)rand();
	}
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct tt_capture *c;
		struct tt_capreader *r;
		struct tt_caprec rec;
		unsigned char *file;
		size_t len;
		int got = 0, bad = 0, ret;

		REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
			.path = path, .start_ns = 1000, .threads = threads[t] }));
		for (int i = 0; i < N; i++) {
			REQUIRE(!capture__write(c, &evs[i]));
			/* a flush a second (every 10,000 records here) */
			REQUIRE(!capture__tick(c, evs[i].ts_ns, 0, 0));
		}
		REQUIRE(!capture__close(c, evs[N - 1].ts_ns + 1, 0, 0));
		r = capreader__new(path);
		REQUIRE(r && !capreader__meta(r, NULL));
		while ((ret = capreader__next(r, &rec)) > 0) {
			if (rec.kind != TTCAP_EVENT)
				continue;
			if (got >= N || memcmp(&rec.ev, &evs[got], sizeof(rec.ev)))
				bad++;
			got++;
		}
		CHECK_EQ_INT(ret, 0);
		CHECK_STR(capreader__error(r), "");
		capreader__free(r);
		CHECK_EQ_INT(got, N);
		CHECK_EQ_INT(bad, 0);
		/* many members, and gzip takes them as one stream */
		file = slurp(path, &len);
		REQUIRE(file);
		CHECK(gzip_members(file, len) > 5);
		free(file);
		snprintf(cmd, sizeof(cmd), "gzip -t '%s'", path);
		CHECK_EQ_INT(system(cmd), 0);
	}
	free(evs);
	free(path);
	capkit_rmtree(dir);
}

/* Rotation with compression threads: each file near the size asked for, nothing lost. */
TEST(capture_rotation_with_threads_loses_nothing)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "t.ttcap"), name[512];
	enum { N = 6000 };
	struct tt_event *evs = malloc(N * sizeof(*evs));
	struct tt_capture *c;
	int total = 0, files = 0;

	REQUIRE(dir && path && evs);
	srand(5);
	for (int i = 0; i < N; i++) {
		evs[i] = rec(TT_EV_TRANSITION, ((uint64_t)rand() << 32) | rand(), TT_SYN_SENT,
				TT_ESTABLISHED, 1000 + i * 1000000ull);
		for (int k = 0; k < 16; k++)
			evs[i].saddr[k] = (uint8_t)rand();
		evs[i].family = TT_AF_INET6;
	}
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .start_ns = 1000, .rotate_bytes = 65536, .threads = 3 }));
	for (int i = 0; i < N; i++)
		REQUIRE(!capture__write(c, &evs[i]));
	REQUIRE(!capture__close(c, evs[N - 1].ts_ns + 1, 0, 0));
	for (int i = 0; i < 1000; i++) {
		struct tt_capreader *r;
		struct tt_caprec rec;
		struct stat st;
		int ret;

		capkit_rotated(name, sizeof(name), path, i);
		if (stat(name, &st))
			break;
		files++;
		CHECK(st.st_size < 65536 + 512);
		r = capreader__new(name);
		REQUIRE(r && !capreader__meta(r, NULL));
		while ((ret = capreader__next(r, &rec)) > 0)
			if (rec.kind == TTCAP_EVENT && total < N &&
			    !memcmp(&rec.ev, &evs[total], sizeof(rec.ev)))
				total++;
		CHECK_EQ_INT(ret, 0);
		capreader__free(r);
	}
	CHECK(files > 3);
	CHECK_EQ_INT(total, N);
	free(evs);
	free(path);
	capkit_rmtree(dir);
}

/*
 * Up to version 3 a capture is one gzip member and what follows it is not
 * read; from version 4 the members go on to the end of the input.
 */
TEST(capture_members_after_the_first_count_from_version_4)
{
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));

	REQUIRE(r && o);
	for (uint32_t v = 3; v <= TTCAP_VERSION; v++) {
		unsigned char *a, *b, *both;
		size_t alen, blen, cut;

		raw_start(r, v, NULL, 0);
		for (int i = 0; i < 5; i++) {
			struct tt_event e = rec(TT_EV_TRANSITION, 0x1000 + i, TT_CLOSE, TT_SYN_SENT, 10 + i);

			raw_event(r, &e);
		}
		raw_end(r);
		/* split in the middle of a frame: a member is bytes, not frames */
		cut = r->frame_at[3] + 5;
		a = gzip(r->b, cut, &alen);
		b = gzip(r->b + cut, r->n - cut, &blen);
		both = malloc(alen + blen);
		REQUIRE(a && b && both);
		memcpy(both, a, alen);
		memcpy(both + alen, b, blen);
		read_mem(both, alen + blen, o);
		if (v < 4) {
			/* the first member alone: cut short */
			CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
		} else {
			CHECK_EQ_INT(o->last, 0);
			CHECK_EQ_INT(o->err, TT_CAPERR_NONE);
			CHECK_EQ_INT(o->events, 5);
			/* a member after the end record's is an error, not ignored */
			both = realloc(both, alen + blen + alen);
			REQUIRE(both);
			memcpy(both + alen + blen, a, alen);
			read_mem(both, alen + blen + alen, o);
			CHECK_EQ_INT(o->err, TT_CAPERR_CORRUPT);
			CHECK(strstr(o->msg, "data after the end record") != NULL);
		}
		/* the first member alone: a writer killed there */
		read_mem(a, alen, o);
		CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
		CHECK(v < 4 || strstr(o->msg, "was tcptrail killed") != NULL);
		free(a);
		free(b);
		free(both);
	}
	free(r);
	free(o);
}

/*
 * Where each gzip member of buf ends, compressed (cend) and in the
 * uncompressed stream (uend): the member count, -1 if buf is not all members.
 */
static int member_ends(const unsigned char *buf, size_t len, size_t *cend, size_t *uend, int max)
{
	unsigned char out[65536];
	z_stream z = { 0 };
	int n = 0, ret = Z_OK;

	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)buf;
	z.avail_in = (uInt)len;
	while (z.avail_in && n < max) {
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			ret = inflate(&z, Z_NO_FLUSH);
		} while (ret == Z_OK);
		if (ret != Z_STREAM_END)
			break;
		cend[n] = len - z.avail_in;
		uend[n] = z.total_out + (n ? uend[n - 1] : 0);
		n++;
		inflateReset(&z);
	}
	inflateEnd(&z);
	return ret == Z_STREAM_END ? n : -1;
}

/* EVENT frames in a raw stream that end at or before `upto`. */
static int events_before(const unsigned char *raw, size_t len, size_t upto)
{
	size_t at = sizeof(struct ttcap_file_header);
	int n = 0;

	while (at + sizeof(struct ttcap_frame) <= len) {
		struct ttcap_frame fr;

		memcpy(&fr, raw + at, sizeof(fr));
		if (at + sizeof(fr) + le32toh(fr.len) > upto)
			break;
		n += le32toh(fr.kind) == TTCAP_EVENT;
		at += sizeof(fr) + le32toh(fr.len);
	}
	return n;
}

/*
 * A version 4 member is used only once inflate has checked its CRC32 and
 * length: a byte flipped anywhere in a later member, even in the deflate
 * data where it still inflates to frames, or in the trailer, gives none of
 * that member's records, all of the members' before it, and an error.
 */
TEST(capture_damaged_member_gives_none_of_its_records)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "d.ttcap");
	struct readout *o = malloc(sizeof(*o));
	size_t cend[64], uend[64], len, rawlen = 0, start;
	unsigned char *file, *raw = malloc(1 << 20);
	struct tt_event evs[40];
	int members, k, want, corrupt = 0;
	z_stream z = { 0 };

	REQUIRE(dir && path && o && raw);
	sample(evs, 40);
	REQUIRE(write_capture(path, evs, 40, 0, 0) == 0);
	file = slurp(path, &len);
	REQUIRE(file);
	members = member_ends(file, len, cend, uend, 64);
	REQUIRE(members >= 4);
	/* the whole stream, to count the records of the members before */
	REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
	for (int m = 0; m < members; m++) {
		z.next_in = file + (m ? cend[m - 1] : 0);
		z.avail_in = (uInt)(cend[m] - (m ? cend[m - 1] : 0));
		z.next_out = raw + rawlen;
		z.avail_out = (uInt)((1 << 20) - rawlen);
		REQUIRE(inflate(&z, Z_FINISH) == Z_STREAM_END);
		rawlen = (1 << 20) - z.avail_out;
		inflateReset(&z);
	}
	inflateEnd(&z);
	REQUIRE(rawlen == uend[members - 1]);

	/* a member in the middle, with records in it and in the ones before */
	k = members / 2;
	want = events_before(raw, rawlen, uend[k - 1]);
	REQUIRE(want > 0 && want < events_before(raw, rawlen, uend[k]));
	start = cend[k - 1];
	for (size_t at = start; at < cend[k]; at++) {
		/* the gzip header's MTIME, XFL and OS bytes are not checked by anyone */
		if (at >= start + 4 && at < start + 10)
			continue;
		file[at] ^= 0xff;
		read_mem(file, len, o);
		file[at] ^= 0xff;
		if (o->last != -1 || o->events != want || (o->err != TT_CAPERR_CORRUPT &&
		    o->err != TT_CAPERR_TRUNCATED)) {
			fprintf(stderr, "    flip at %zu (member %d, %zu..%zu): %d records, want %d; "
				"%s\n", at, k, start, cend[k], o->events, want, o->msg);
			CHECK(0);
			break;
		}
		for (int i = 0; i < want; i++)
			CHECK(!memcmp(&o->ev[i], &evs[i], sizeof(evs[i])));
		corrupt += o->err == TT_CAPERR_CORRUPT;
	}
	CHECK(corrupt > 0);
	/* the CRC32 and the length in the trailer: said so, and nothing of it used */
	file[cend[k] - 8] ^= 0xff;
	read_mem(file, len, o);
	file[cend[k] - 8] ^= 0xff;
	CHECK_EQ_INT(o->events, want);
	CHECK(strstr(o->msg, "mem.ttcap: corrupt compressed data after offset ") == o->msg);
	CHECK(strstr(o->msg, "(incorrect data check)") != NULL);
	file[cend[k] - 1] ^= 0xff;
	read_mem(file, len, o);
	file[cend[k] - 1] ^= 0xff;
	CHECK_EQ_INT(o->events, want);
	CHECK(strstr(o->msg, "(incorrect length check)") != NULL);
	free(raw);
	free(file);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/*
 * The reader holds one member whole, so a version 4 member must fit what
 * the writer makes (TTCAP_MEMBER_MAX): a larger one is refused before any
 * of it is used.  A member of exactly that size is fine, and so is a
 * version 3 capture's one big member, read as it is inflated.
 */
TEST(capture_member_larger_than_the_writer_makes_is_refused)
{
	enum { N = TTCAP_MEMBER_MAX / (8 + 128) + 100 };
	struct raw *r = malloc(sizeof(*r));
	struct readout *o = malloc(sizeof(*o));
	unsigned char *big = malloc((size_t)N * 136 + 4096);

	REQUIRE(r && o && big);
	for (uint32_t v = 3; v <= 4; v++) {
		struct tt_event e = rec(TT_EV_TRANSITION, 0x1000, TT_CLOSE, TT_SYN_SENT, 10);
		unsigned char *a, *b, *both;
		size_t n, alen, blen, head, frame;

		raw_start(r, v, NULL, 0);
		head = r->n;
		raw_event(r, &e);
		frame = r->n - head;
		memcpy(big, r->b, head);
		n = head;
		for (int i = 0; i < N; i++, n += frame)
			memcpy(big + n, r->b + head, frame);
		raw_end(r);
		memcpy(big + n, r->b + head + frame, r->n - head - frame);
		n += r->n - head - frame;
		REQUIRE(n > TTCAP_MEMBER_MAX + 1);

		a = gzip(big, n, &alen);
		REQUIRE(a);
		read_mem(a, alen, o);
		if (v < 4) {
			CHECK_EQ_INT(o->last, 0);
			CHECK_EQ_INT(o->events, N);
		} else {
			CHECK_EQ_INT(o->last, -1);
			CHECK_EQ_INT(o->events, 0);
			CHECK_EQ_INT(o->err, TT_CAPERR_CORRUPT);
			CHECK(strstr(o->msg, "a gzip member of more than 512 KiB") != NULL);
		}
		free(a);
		/* the first member exactly TTCAP_MEMBER_MAX bytes: read whole */
		a = gzip(big, TTCAP_MEMBER_MAX, &alen);
		b = gzip(big + TTCAP_MEMBER_MAX, n - TTCAP_MEMBER_MAX, &blen);
		both = malloc(alen + blen);
		REQUIRE(a && b && both);
		memcpy(both, a, alen);
		memcpy(both + alen, b, blen);
		read_mem(both, alen + blen, o);
		if (v < 4) {
			/* the one member; what follows is not read */
			CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
		} else {
			CHECK_EQ_INT(o->last, 0);
			CHECK_EQ_INT(o->events, N);
		}
		free(a);
		free(b);
		free(both);
	}
	free(big);
	free(r);
	free(o);
}

/*
 * The flush every second writes a COUNTERS frame even when nothing changed
 * (a heartbeat with the capture's clock), so a capture killed during an
 * idle stretch still says how long it lasted.
 */
TEST(capture_idle_seconds_have_heartbeats)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "h.ttcap"), *killed;
	struct readout *o = malloc(sizeof(*o));
	struct tt_event e = rec(TT_EV_TRANSITION, 0x1000, TT_ESTABLISHED, TT_CLOSE_WAIT,
				1500000000ull);
	struct tt_capture *c;
	uint64_t t;

	REQUIRE(dir && path && o);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = 1000000000 }));
	REQUIRE(!capture__write(c, &e));
	/* ten idle seconds, ticked as the main loop ticks (every 50 ms) */
	for (t = 1550000000ull; t <= 11500000000ull; t += 50000000)
		REQUIRE(!capture__tick(c, t, 0, 0));
	/* "SIGKILL": the file as it is, with no writer holding it */
	killed = capkit_killed_copy(path);
	REQUIRE(killed);
	read_path(killed, o);
	free(killed);
	CHECK_EQ_INT(o->err, TT_CAPERR_TRUNCATED);
	CHECK_EQ_INT(o->events, 1);
	/* the one at the start, then one a second */
	CHECK(o->counters >= 11);
	CHECK(o->cnt[o->counters - 1].ts_ns >= 10500000000ull);
	for (int i = 2; i < o->counters; i++) {
		CHECK(o->cnt[i].ts_ns >= o->cnt[i - 1].ts_ns + 1000000000ull);
		CHECK(o->cnt[i].ts_ns <= o->cnt[i - 1].ts_ns + 1050000000ull);
		CHECK_EQ_INT(o->cnt[i].events, 1);
	}
	capture__close(c, t, 0, 0);
	free(o);
	free(path);
	capkit_rmtree(dir);
}

/*
 * Heartbeats alone never start a file with no record in it: with
 * --rotate-size far below an idle day's heartbeats, a file with records
 * ends at SIZE, the next one grows past it while idle, and ends only after
 * its first record.  (Otherwise, with --rotate-count, an idle night would
 * rotate the files with records away.)
 */
TEST(capture_heartbeats_alone_do_not_rotate)
{
	char *dir = capkit_tmpdir("capture"), *path = capkit_join(dir, "r.ttcap"), name[512];
	struct tt_event e = rec(TT_EV_TRANSITION, 0x1000, TT_ESTABLISHED, TT_CLOSE_WAIT,
				1500000000ull);
	struct tt_capture *c;
	struct stat st;
	uint64_t t;
	int files = 0;

	REQUIRE(dir && path);
	REQUIRE(!capture__open(&c, &(struct tt_capture_opts){
		.path = path, .start_ns = 1000000000, .rotate_bytes = 4096, .rotate_count = 3 }));
	REQUIRE(!capture__write(c, &e));
	/* 1000 idle seconds: about 63 KB of heartbeats */
	for (t = 2000000000ull; t <= 1002000000000ull; t += 1000000000ull)
		REQUIRE(!capture__tick(c, t, 0, 0));
	capkit_rotated(name, sizeof(name), path, 1);
	CHECK(!stat(name, &st) && st.st_size > 4096 * 4);
	capkit_rotated(name, sizeof(name), path, 2);
	CHECK(stat(name, &st) && errno == ENOENT);
	/* the first record after that: it goes in, and the file ends there */
	e.ts_ns = t;
	REQUIRE(!capture__write(c, &e));
	REQUIRE(!capture__close(c, t + 1, 0, 0));
	for (int i = 0; i < 10; i++) {
		capkit_rotated(name, sizeof(name), path, i);
		if (!stat(name, &st))
			files++;
	}
	CHECK_EQ_INT(files, 3);
	free(path);
	capkit_rmtree(dir);
}
