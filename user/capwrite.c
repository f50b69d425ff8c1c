// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink: the capture writer (-w).  Every record as the source gave it,
 * before the engine, as frames (include/CAPTURE.md) into gzip members that
 * cappack.c deflates on threads of their own and writes in order.  It
 * knows how many compressed bytes reached the file (rotation) and sees
 * every write error as it happens (a full disk).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>
#include "capformat.h"
#include "cappack.h"
#include "flowrec.h"
#include "modes.h"
#include "opts.h"
#include "outfile.h"
#include "sink.h"
#include "util.h"

/* a reader refuses a version 4 member that holds more (include/ttcap.h) */
_Static_assert(CAPPACK_BLOCK <= TTCAP_MEMBER_MAX, "a block is one gzip member");

/* Names in the way a run steps past, at most: more is no accident. */
#define SKIP_MAX	16

struct tt_capture {
	struct tt_capture_opts o;
	char *base;		/* the path the user gave */
	char *path;		/* the file being written: base, or base.N */
	char *hooks;
	char *filters;
	int fd;
	uint32_t index;		/* 0 for base, N for base.N */
	uint32_t prev_index;	/* the file before this one, when index > 0 */
	uint64_t synced;	/* bytes in this file when the blocks were last all written */
	uint64_t unflushed;	/* frame bytes since then */
	uint64_t events;	/* event and flow frames in this file */
	uint64_t last_flush_ns;
	uint64_t now_ns;	/* the latest time we were told */
	uint64_t lost, evicted;	/* the latest totals we were told */
	uint64_t *cg_seen;	/* cgroup ids named in this file (open addressing) */
	size_t cg_cap, cg_used;
	int err;		/* the first error; sticky */
	bool open_failed;	/* the last start_file() failed at its open */
	bool named;		/* the file had a name when opened: its dev and ino */
	dev_t dev;
	ino_t ino;
	/* indexes whose name something else held at a rotation: never removed */
	uint32_t skipped[SKIP_MAX];
	unsigned int n_skipped;
	struct tt_cappack *pack;
};

static int fail(struct tt_capture *c, int err, const char *step)
{
	if (!c->err) {
		c->err = err;
		tt_err("%s %s: %s", step, c->path, strerror(-err));
	}
	return c->err;
}

/*
 * Everything put so far into the file (cappack__sync()); then synced is its
 * size, and unflushed starts from 0.
 */
static int sync_all(struct tt_capture *c)
{
	const char *step;
	int err;

	if (c->err)
		return c->err;
	err = cappack__sync(c->pack, &c->synced, &step);
	if (err)
		return fail(c, err, step);
	c->unflushed = 0;
	return 0;
}

static int put(struct tt_capture *c, const void *p, size_t n)
{
	const char *step;
	int err;

	if (c->err)
		return c->err;
	c->unflushed += n;
	err = cappack__put(c->pack, p, n, &step);
	return err ? fail(c, err, step) : 0;
}

static int put_frame(struct tt_capture *c, uint32_t kind, const void *payload, uint32_t len)
{
	unsigned char buf[sizeof(struct ttcap_frame) + sizeof(struct tt_flowrec)];
	struct ttcap_frame fr = { .kind = htole32(kind), .len = htole32(len) };

	/* one deflate call for the common case: an event or a flow record */
	if (len <= sizeof(struct tt_flowrec)) {
		memcpy(buf, &fr, sizeof(fr));
		memcpy(buf + sizeof(fr), payload, len);
		return put(c, buf, sizeof(fr) + len);
	}
	if (put(c, &fr, sizeof(fr)))
		return c->err;
	return put(c, payload, len);
}

static int put_counters(struct tt_capture *c)
{
	struct ttcap_counters k = {
		.ts_ns = c->now_ns, .lost = c->lost, .evicted = c->evicted, .events = c->events,
	};

	ttcap_counters_swap(&k);
	return put_frame(c, TTCAP_COUNTERS, &k, sizeof(k));
}

static size_t put_field(unsigned char *buf, size_t pos, size_t cap, uint16_t tag, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint16_t t = htole16(tag), l;

	if (n > 4096)
		n = 4096;
	if (pos + 4 + n > cap)
		return pos;
	l = htole16((uint16_t)n);
	memcpy(buf + pos, &t, 2);
	memcpy(buf + pos + 2, &l, 2);
	if (n)
		memcpy(buf + pos + 4, s, n);
	return pos + 4 + n;
}

static int put_header(struct tt_capture *c)
{
	struct ttcap_file_header h = {
		.magic = { 'T', 'C', 'P', 'T', 'R', 'A', 'I', 'L' },
		.version = htole32(TTCAP_VERSION),
		.record_size = htole32(sizeof(struct tt_event)),
		.event_version = htole32(TT_EVENT_VERSION),
	};
	struct ttcap_meta m = {
		.version = htole32(TTCAP_VERSION),
		.wall_offset_ns = htole64((uint64_t)c->o.wall_offset_ns),
		.start_ns = htole64(c->now_ns),
	};
	unsigned char buf[5 * (4 + 4096) + 64 + sizeof(struct ttcap_meta)];
	char host[256] = "", index[16], prev[16], range[16];
	struct utsname u;
	size_t n;

	if (gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (uname(&u))
		u.release[0] = '\0';
	snprintf(index, sizeof(index), "%u", c->index);
	memcpy(buf, &m, sizeof(m));
	n = sizeof(m);
	n = put_field(buf, n, sizeof(buf), TTCAP_TAG_TOOL_VERSION, tt_version);
	n = put_field(buf, n, sizeof(buf), TTCAP_TAG_HOSTNAME, host);
	n = put_field(buf, n, sizeof(buf), TTCAP_TAG_KERNEL, u.release);
	n = put_field(buf, n, sizeof(buf), TTCAP_TAG_HOOKS, c->hooks);
	n = put_field(buf, n, sizeof(buf), TTCAP_TAG_FILTERS, c->filters);
	n = put_field(buf, n, sizeof(buf), TTCAP_TAG_FILE_INDEX, index);
	/* a replay tells a client's port from a server's by it */
	if (c->o.port_hi) {
		snprintf(range, sizeof(range), "%u %u", c->o.port_lo, c->o.port_hi);
		n = put_field(buf, n, sizeof(buf), TTCAP_TAG_PORT_RANGE, range);
	}
	/* names stepped past lie between: a replay then knows nothing is missing */
	if (c->index && c->prev_index != c->index - 1) {
		snprintf(prev, sizeof(prev), "%u", c->prev_index);
		n = put_field(buf, n, sizeof(buf), TTCAP_TAG_PREV_INDEX, prev);
	}

	if (put(c, &h, sizeof(h)) || put_frame(c, TTCAP_META, buf, (uint32_t)n))
		return c->err;
	/* the totals this file starts from, so it can be read alone */
	return put_counters(c);
}

static int open_capture_file(const char *path)
{
	return outfile__open(&(struct outfile_how){ .opt = "-w", .what = "capture",
						    .truncate = true, .lock = true,
						    .mode = 0600 }, path);
}

static char *file_name(const struct tt_capture *c, uint32_t index)
{
	char *p;

	if (!index)
		return strdup(c->base);
	if (asprintf(&p, "%s.%u", c->base, index) < 0)
		return NULL;
	return p;
}

static int start_file(struct tt_capture *c)
{
	int fd;

	/* each file names its own cgroups, so that it can be read alone */
	if (c->cg_cap)
		memset(c->cg_seen, 0, c->cg_cap * sizeof(*c->cg_seen));
	c->cg_used = 0;
	free(c->path);
	c->path = file_name(c, c->index);
	if (!c->path)
		return c->err = -ENOMEM;
	fd = open_capture_file(c->path);
	c->open_failed = fd < 0;
	if (fd < 0)
		return c->err = fd;
	/* nothing is in flight between files */
	c->fd = fd;
	{
		struct stat st;

		c->named = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_nlink > 0;
		c->dev = c->named ? st.st_dev : 0;
		c->ino = c->named ? st.st_ino : 0;
	}
	cappack__set_fd(c->pack, fd);
	c->synced = 0;
	c->unflushed = 0;
	c->events = 0;
	if (put_header(c))
		return c->err;
	/* a capture killed in its first second still has a readable header */
	c->last_flush_ns = c->now_ns;
	return sync_all(c);
}

static int end_file(struct tt_capture *c, uint32_t reason)
{
	struct ttcap_end end = { .reason = htole32(reason) };

	if (!c->err && !put_counters(c) && !put_frame(c, TTCAP_END, &end, sizeof(end)))
		sync_all(c);
	/* after an error: what is in flight, before the file closes */
	cappack__drain(c->pack);
	if (c->fd >= 0 && close(c->fd) && !c->err)
		fail(c, -errno, "close capture");
	c->fd = -1;
	return c->err;
}

static bool was_skipped(const struct tt_capture *c, uint32_t index)
{
	for (unsigned int i = 0; i < c->n_skipped; i++)
		if (c->skipped[i] == index)
			return true;
	return false;
}

/*
 * FILE, FILE.1, FILE.2...: each a whole capture; the oldest beyond the count
 * go.  A name that something else holds by then (a directory, a link, a file
 * of another user or no capture: what the start refused, made since) is
 * stepped past, said, and left alone: the set goes on at the next index, as
 * a replay follows it.  Any other failure ends the capture.
 */
static int rotate(struct tt_capture *c)
{
	uint32_t from = c->index;
	struct stat st;

	if (end_file(c, TTCAP_END_ROTATED))
		return c->err;
	c->prev_index = from;
	for (;;) {
		c->index++;
		if (!start_file(c))
			break;
		/* there before our open, which refused it: not the disk's fault */
		if (!c->open_failed || lstat(c->path, &st) || c->n_skipped == SKIP_MAX ||
		    c->index == UINT32_MAX)
			return c->err;
		c->skipped[c->n_skipped++] = c->index;
		tt_warn("warning: capture: %s is in the way (said above); the set goes on in "
			"%s.%u (a replay steps past it too)", c->path, c->base, c->index + 1);
		c->err = 0;
	}
	/* each index the set moved past takes the one count files before it out */
	for (uint32_t i = from + 1; c->o.rotate_count && i <= c->index; i++) {
		char *old;

		if (i < c->o.rotate_count || was_skipped(c, i - c->o.rotate_count))
			continue;
		old = file_name(c, i - c->o.rotate_count);
		if (old && unlink(old) && errno != ENOENT)
			tt_warn("warning: remove old capture %s: %s", old, strerror(errno));
		free(old);
	}
	return 0;
}

int capture__open(struct tt_capture **out, const struct tt_capture_opts *opts)
{
	struct tt_capture *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->o = *opts;
	c->fd = -1;
	c->base = strdup(opts->path);
	c->hooks = strdup(opts->hooks ? opts->hooks : "");
	c->filters = strdup(opts->filters ? opts->filters : "");
	c->now_ns = opts->start_ns;
	/*
	 * Level 1: libdeflate's fastest, 2.6 times as fast as its 6 on capture
	 * frames for a fifth more bytes (records are very alike: either level
	 * makes them 6 to 8 times smaller).
	 */
	c->pack = cappack__new(opts->level ? opts->level : 1, opts->threads);
	if (!c->base || !c->hooks || !c->filters || !c->pack) {
		tt_err("open capture %s: %s", opts->path, strerror(ENOMEM));
		capture__close(c, 0, 0, 0);
		return -ENOMEM;
	}
	if (start_file(c)) {
		int err = c->err;

		capture__close(c, 0, 0, 0);
		return err;
	}
	*out = c;
	return 0;
}

static size_t cg_slot(uint64_t id, size_t cap)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static bool cg_has(const struct tt_capture *c, uint64_t id)
{
	if (!c->cg_cap)
		return false;
	for (size_t i = cg_slot(id, c->cg_cap); c->cg_seen[i]; i = (i + 1) & (c->cg_cap - 1))
		if (c->cg_seen[i] == id)
			return true;
	return false;
}

/*
 * Remember that id was named in this file (id not there yet).  A file that
 * never rotates could name cgroups for years: past CAPTURE_CG_SEEN_MAX ids
 * (1 MiB of table), it forgets them all, and names each again at its next
 * record.
 */
static void cg_add(struct tt_capture *c, uint64_t id)
{
	size_t i;

	if (c->cg_used >= CAPTURE_CG_SEEN_MAX) {
		memset(c->cg_seen, 0, c->cg_cap * sizeof(*c->cg_seen));
		c->cg_used = 0;
	}
	if ((c->cg_used + 1) * 2 > c->cg_cap) {
		size_t cap = c->cg_cap ? c->cg_cap * 2 : 64;
		uint64_t *t = calloc(cap, sizeof(*t));

		if (!t)
			return;		/* then the names are written again: no harm */
		for (size_t k = 0; k < c->cg_cap; k++) {
			if (!c->cg_seen[k])
				continue;
			for (i = cg_slot(c->cg_seen[k], cap); t[i]; i = (i + 1) & (cap - 1))
				;
			t[i] = c->cg_seen[k];
		}
		free(c->cg_seen);
		c->cg_seen = t;
		c->cg_cap = cap;
	}
	for (i = cg_slot(id, c->cg_cap); c->cg_seen[i]; i = (i + 1) & (c->cg_cap - 1))
		;
	c->cg_seen[i] = id;
	c->cg_used++;
}

static int put_cgroup(struct tt_capture *c, const struct tt_event *e)
{
	uint64_t id = e->cgroup;
	unsigned char buf[sizeof(struct ttcap_cgroup) + 4 * 4 + 4096 + 65 + 16 + 37];
	struct ttcap_cgroup fixed = { .id = htole64(id) };
	struct tt_capcg cg;
	size_t n = sizeof(fixed);

	/* nearly every record's: named in this file already, and cg (4 KiB) is not cleared for it */
	if (cg_has(c, id))
		return 0;
	memset(&cg, 0, sizeof(cg));
	cg.id = id;
	if (c->o.cgroup_name(c->o.cgroup_ctx, e, &cg))
		return 0;
	cg_add(c, id);
	memcpy(buf, &fixed, sizeof(fixed));
	n = put_field(buf, n, sizeof(buf), TTCAP_CG_PATH, cg.path);
	if (cg.container[0])
		n = put_field(buf, n, sizeof(buf), TTCAP_CG_CONTAINER, cg.container);
	if (cg.runtime[0])
		n = put_field(buf, n, sizeof(buf), TTCAP_CG_RUNTIME, cg.runtime);
	if (cg.pod[0])
		n = put_field(buf, n, sizeof(buf), TTCAP_CG_POD, cg.pod);
	return put_frame(c, TTCAP_CGROUP, buf, (uint32_t)n);
}

/*
 * One record frame (EVENT or FLOW), after the CGROUP frame naming its
 * cgroup if this file has not named it yet (hdr: the record's socket, as an
 * event, for the naming callback); then rotation.
 */
static int put_record(struct tt_capture *c, uint32_t kind, const void *le, uint32_t len,
		      const struct tt_event *hdr, uint64_t ts_ns)
{
	if (c->err)
		return c->err;
	if (hdr->cgroup && c->o.cgroup_name && put_cgroup(c, hdr))
		return c->err;
	if (put_frame(c, kind, le, len))
		return c->err;
	c->events++;
	if (ts_ns > c->now_ns)
		c->now_ns = ts_ns;
	if (!c->o.rotate_bytes)
		return 0;
	/*
	 * The blocks in flight hold up to a few MB, so the file size lags.
	 * Once what was put since the file's size was last known could reach
	 * the limit even uncompressed, write it all and look (smaller members
	 * each time as the gap closes): a file ends within a record of the
	 * size asked for.
	 */
	if (c->synced + c->unflushed >= c->o.rotate_bytes && sync_all(c))
		return c->err;
	if (c->synced >= c->o.rotate_bytes)
		return rotate(c);
	return 0;
}

int capture__write(struct tt_capture *c, const struct tt_event *e)
{
	struct tt_event le;

	if (c->err)
		return c->err;
	ttcap_event_swap(&le, e);
	return put_record(c, TTCAP_EVENT, &le, sizeof(le), e, e->ts_ns);
}

int capture__write_flow(struct tt_capture *c, const struct tt_flowrec *r)
{
	struct tt_flowrec le;
	struct tt_event hdr;

	if (c->err)
		return c->err;
	flowrec__header(r, &hdr);
	/* the owner, for naming a cgroup from /proc when the id alone says nothing */
	for (unsigned int i = 0; i < r->n && i < TT_FR_STATES; i++) {
		if (r->tflags[i] & TT_T_TASK0) {
			hdr.flags |= TT_F_OWNER;
			hdr.pid = r->task_pid[0];
			hdr.tgid = r->task_tgid[0];
			break;
		}
	}
	ttcap_flowrec_swap(&le, r);
	return put_record(c, TTCAP_FLOW, &le, sizeof(le), &hdr, capture__flowrec_ts(r));
}

/*
 * The file we write, named when it was opened, has no name left (rm, a
 * clean-up): nobody can read it.  Its path, gone or another file's, says
 * so too (a filesystem that keeps no link count is not taken for one).
 */
static bool removed(const struct tt_capture *c)
{
	struct stat st;

	if (!c->named || c->fd < 0 || fstat(c->fd, &st) || st.st_nlink)
		return false;
	if (stat(c->path, &st))
		return errno == ENOENT;
	return st.st_dev != c->dev || st.st_ino != c->ino;
}

int capture__flush(struct tt_capture *c, uint64_t now_ns, uint64_t lost, uint64_t evicted)
{
	if (c->err)
		return c->err;
	if (now_ns > c->now_ns)
		c->now_ns = now_ns;
	c->lost = lost;
	c->evicted = evicted;
	c->last_flush_ns = c->now_ns;
	/*
	 * A COUNTERS frame even when nothing changed: it carries the clock, so
	 * that a replay of a killed capture reaches the kill's last second (a
	 * CLOSE-WAIT leak's age, the last summary) and not its last record's.
	 * Idle, that is one small member a second (CAPTURE.md says how small).
	 * Then all of it in the file, which a reader can then read up to here.
	 */
	if (put_counters(c) || sync_all(c))
		return c->err;
	if (removed(c)) {
		tt_warn("warning: capture: %s was removed while tcptrail wrote it: what it held "
			"is gone; the capture goes on in a new %s", c->path, c->path);
		if (end_file(c, TTCAP_END_ROTATED))
			return c->err;
		return start_file(c);
	}
	/* a file that is only heartbeats stays, rather than start another like it */
	if (c->o.rotate_bytes && c->synced >= c->o.rotate_bytes && c->events)
		return rotate(c);
	return 0;
}

int capture__tick(struct tt_capture *c, uint64_t now_ns, uint64_t lost, uint64_t evicted)
{
	if (c->err)
		return c->err;
	if (now_ns < c->last_flush_ns + FLUSH_EVERY_NS) {
		c->lost = lost;
		c->evicted = evicted;
		return 0;
	}
	return capture__flush(c, now_ns, lost, evicted);
}

int capture__close(struct tt_capture *c, uint64_t now_ns, uint64_t lost, uint64_t evicted)
{
	int err;

	if (!c)
		return 0;
	if (c->fd >= 0) {
		if (now_ns > c->now_ns)
			c->now_ns = now_ns;
		c->lost = lost;
		c->evicted = evicted;
		end_file(c, TTCAP_END_CLOSED);
	}
	cappack__free(c->pack);
	err = c->err;
	free(c->base);
	free(c->path);
	free(c->hooks);
	free(c->filters);
	free(c->cg_seen);
	free(c);
	return err;
}

const char *capture__path(const struct tt_capture *c)
{
	return c->path;
}

void capture__describe_hooks(const struct tt_selection *sel, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int cap = 0; cap < TT_CAP_MAX && n < len; cap++) {
		int v = sel->chosen[cap];

		n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", cap ? " " : "", tt_cap_name(cap),
				      v >= 0 ? tt_variants[v].name : "-");
	}
}

/* -w as a sink: every record as the source gave it, before the engine */
struct capture_sink {
	struct tt_capture *c;
};

static int capture_record_op(void *priv, const struct tt_event *e)
{
	struct capture_sink *s = priv;

	return s->c ? capture__write(s->c, e) : 0;
}

static int capture_flowrec_op(void *priv, const struct tt_flowrec *r)
{
	struct capture_sink *s = priv;

	return s->c ? capture__write_flow(s->c, r) : 0;
}

static int capture_tick_op(void *priv, uint64_t now_ns, uint64_t lost, uint64_t evicted)
{
	struct capture_sink *s = priv;

	return s->c ? capture__tick(s->c, now_ns, lost, evicted) : 0;
}

static int capture_close_op(void *priv, uint64_t now_ns, uint64_t lost, uint64_t evicted)
{
	struct capture_sink *s = priv;
	int err = capture__close(s->c, now_ns, lost, evicted);

	s->c = NULL;
	return err;
}

static void capture_free_op(void *priv)
{
	struct capture_sink *s = priv;

	if (s && s->c)
		capture__close(s->c, 0, 0, 0);
	free(s);
}

static const struct tt_sink_ops capture_sink_ops = {
	.name = "capture",
	.record = capture_record_op,
	.flowrec = capture_flowrec_op,
	.tick = capture_tick_op,
	.close = capture_close_op,
	.free = capture_free_op,
};

int capture__sink(struct tt_sink_ref *ref, const struct tt_capture_opts *opts)
{
	struct capture_sink *s = calloc(1, sizeof(*s));
	int err;

	if (!s) {
		tt_err("out of memory");
		return -ENOMEM;
	}
	err = capture__open(&s->c, opts);
	if (err) {
		free(s);
		return err;
	}
	*ref = (struct tt_sink_ref){ .ops = &capture_sink_ops, .priv = s };
	return 0;
}
