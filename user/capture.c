// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture files.  The writer drives zlib's deflate itself, rather than
 * gzwrite, so that it knows how many compressed bytes reached the file
 * (rotation) and sees every write error as it happens (a full disk).  The
 * reader drives inflate over a file descriptor or a memory buffer, so the
 * fuzzer needs no temporary files, and so that it can tell a stream that
 * was cut short (killed writer) from one that is damaged.
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
#include "capture.h"
#include "modes.h"
#include "opts.h"
#include "outfile.h"
#include "sink.h"
#include "util.h"

#define FLUSH_EVERY_NS	1000000000ull
/*
 * No monotonic clock reaches 2^62 ns (146 years of uptime), nor a wall
 * clock offset: refusing them keeps every ts + offset inside an int64_t.
 */
#define TIME_LIMIT	(1ull << 62)
#define BUF_SIZE	(1 << 16)

_Static_assert(sizeof(struct tt_event) == 128, "capture format");

/*
 * struct tt_event in file byte order (little-endian) from host order, or
 * back: the same swaps either way.  A no-op on little-endian hosts.
 */
static void event_swap(struct tt_event *dst, const struct tt_event *src)
{
	*dst = *src;
#if __BYTE_ORDER == __BIG_ENDIAN
	dst->sport = htole16(src->sport);
	dst->dport = htole16(src->dport);
	dst->cpu = htole16(src->cpu);
	dst->netns = htole32(src->netns);
	dst->pid = htole32(src->pid);
	dst->tgid = htole32(src->tgid);
	dst->cgroup = htole64(src->cgroup);
	dst->ts_ns = htole64(src->ts_ns);
	dst->sk = htole64(src->sk);
	dst->cookie = htole64(src->cookie);
	for (int i = 0; i < 6; i++)
		dst->aux[i] = htole32(src->aux[i]);
#endif
}

static void counters_swap(struct ttcap_counters *c)
{
	c->ts_ns = htole64(c->ts_ns);
	c->lost = htole64(c->lost);
	c->evicted = htole64(c->evicted);
	c->events = htole64(c->events);
}

int capture__check_event(const struct tt_event *e, char *why, size_t len)
{
	if (e->type == 0 || e->type >= TT_EV_MAX) {
		snprintf(why, len, "impossible event type %u", e->type);
		return -EINVAL;
	}
	if (e->old_state >= TT_STATE_MAX || e->new_state >= TT_STATE_MAX) {
		snprintf(why, len, "impossible TCP state %u",
			 e->old_state >= TT_STATE_MAX ? e->old_state : e->new_state);
		return -EINVAL;
	}
	if (e->family != TT_AF_INET && e->family != TT_AF_INET6) {
		snprintf(why, len, "impossible address family %u", e->family);
		return -EINVAL;
	}
	if (e->ts_ns >= TIME_LIMIT) {
		snprintf(why, len, "impossible time %llu ns", (unsigned long long)e->ts_ns);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ writer */

struct tt_capture {
	struct tt_capture_opts o;
	char *base;		/* the path the user gave */
	char *path;		/* the file being written: base, or base.N */
	char *hooks;
	char *filters;
	int fd;
	z_stream z;
	bool z_ready;
	uint32_t index;		/* 0 for base, N for base.N */
	uint64_t compressed;	/* bytes that reached this file */
	uint64_t unflushed;	/* bytes given to deflate since it last had to emit */
	uint64_t events;	/* event frames in this file */
	uint64_t last_flush_ns;
	uint64_t now_ns;	/* the latest time we were told */
	uint64_t lost, evicted;	/* the latest totals we were told */
	uint64_t flushed_lost, flushed_evicted;
	bool dirty;		/* frames written since the last flush */
	uint64_t *cg_seen;	/* cgroup ids named in this file (open addressing) */
	size_t cg_cap, cg_used;
	int err;		/* the first error; sticky */
	unsigned char out[BUF_SIZE];
};

static int fail(struct tt_capture *c, int err, const char *step)
{
	if (!c->err) {
		c->err = err;
		tt_err("%s %s: %s", step, c->path, strerror(-err));
	}
	return c->err;
}

static int write_all(struct tt_capture *c, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t k = write(c->fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return fail(c, -errno, "write capture");
		}
		p += k;
		n -= (size_t)k;
		c->compressed += (uint64_t)k;
	}
	return 0;
}

/* Run deflate over what is queued in c->z with `flush`, writing all it emits. */
static int deflate_out(struct tt_capture *c, int flush)
{
	int ret;

	if (flush != Z_NO_FLUSH)
		c->unflushed = 0;
	do {
		c->z.next_out = c->out;
		c->z.avail_out = sizeof(c->out);
		ret = deflate(&c->z, flush);
		if (ret == Z_STREAM_ERROR)
			return fail(c, -EINVAL, "compress capture");
		if (write_all(c, c->out, sizeof(c->out) - c->z.avail_out))
			return c->err;
	} while (c->z.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
	return 0;
}

static int put(struct tt_capture *c, const void *p, size_t n)
{
	if (c->err)
		return c->err;
	c->z.next_in = (unsigned char *)p;
	c->z.avail_in = (uInt)n;
	c->unflushed += n;
	return deflate_out(c, Z_NO_FLUSH);
}

static int put_frame(struct tt_capture *c, uint32_t kind, const void *payload, uint32_t len)
{
	unsigned char buf[sizeof(struct ttcap_frame) + sizeof(struct tt_event)];
	struct ttcap_frame fr = { .kind = htole32(kind), .len = htole32(len) };

	c->dirty = true;
	/* one deflate call for the common case */
	if (len <= sizeof(struct tt_event)) {
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

	counters_swap(&k);
	c->flushed_lost = c->lost;
	c->flushed_evicted = c->evicted;
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
	char host[256] = "", index[16];
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

	if (put(c, &h, sizeof(h)) || put_frame(c, TTCAP_META, buf, (uint32_t)n))
		return c->err;
	/* the totals this file starts from, so it can be read alone */
	return put_counters(c);
}

static int open_capture_file(const char *path)
{
	return outfile__open(&(struct outfile_how){ .opt = "-w", .what = "capture",
						    .truncate = true, .mode = 0600 }, path);
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
	/*
	 * Level 1: this runs in the loop that drains the ring buffer, and it
	 * compresses about 4x faster than the default 6 for a tenth more bytes
	 * (records are very alike: either level makes them ~10x smaller).
	 */
	int fd, level = c->o.level ? c->o.level : 1;

	/* each file names its own cgroups, so that it can be read alone */
	if (c->cg_cap)
		memset(c->cg_seen, 0, c->cg_cap * sizeof(*c->cg_seen));
	c->cg_used = 0;
	free(c->path);
	c->path = file_name(c, c->index);
	if (!c->path)
		return c->err = -ENOMEM;
	fd = open_capture_file(c->path);
	if (fd < 0)
		return c->err = fd;
	c->fd = fd;
	memset(&c->z, 0, sizeof(c->z));
	/* 15 + 16: a gzip wrapper, so zcat and zgrep -a work on a capture */
	if (deflateInit2(&c->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return fail(c, -ENOMEM, "compress capture");
	c->z_ready = true;
	c->compressed = 0;
	c->events = 0;
	if (put_header(c))
		return c->err;
	/* a capture killed in its first second still has a readable header */
	c->last_flush_ns = c->now_ns;
	c->dirty = false;
	return deflate_out(c, Z_SYNC_FLUSH);
}

static int end_file(struct tt_capture *c, uint32_t reason)
{
	struct ttcap_end end = { .reason = htole32(reason) };

	if (!c->err && !put_counters(c) && !put_frame(c, TTCAP_END, &end, sizeof(end)))
		deflate_out(c, Z_FINISH);
	if (c->z_ready)
		deflateEnd(&c->z);
	c->z_ready = false;
	if (c->fd >= 0 && close(c->fd) && !c->err)
		fail(c, -errno, "close capture");
	c->fd = -1;
	return c->err;
}

/* FILE, FILE.1, FILE.2...: each a whole capture; the oldest beyond the count go. */
static int rotate(struct tt_capture *c)
{
	if (end_file(c, TTCAP_END_ROTATED))
		return c->err;
	c->index++;
	if (start_file(c))
		return c->err;
	if (c->o.rotate_count && c->index >= c->o.rotate_count) {
		char *old = file_name(c, c->index - c->o.rotate_count);

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
	if (!c->base || !c->hooks || !c->filters) {
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

/* Remember that id was named in this file (id not there yet). */
static void cg_add(struct tt_capture *c, uint64_t id)
{
	size_t i;

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
	struct tt_capcg cg = { .id = id };
	size_t n = sizeof(fixed);

	if (cg_has(c, id) || c->o.cgroup_name(c->o.cgroup_ctx, e, &cg))
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

int capture__write(struct tt_capture *c, const struct tt_event *e)
{
	struct tt_event le;

	if (c->err)
		return c->err;
	if (e->cgroup && c->o.cgroup_name && put_cgroup(c, e))
		return c->err;
	event_swap(&le, e);
	if (put_frame(c, TTCAP_EVENT, &le, sizeof(le)))
		return c->err;
	c->events++;
	if (e->ts_ns > c->now_ns)
		c->now_ns = e->ts_ns;
	if (!c->o.rotate_bytes)
		return 0;
	/*
	 * deflate holds up to tens of KB before it emits a block, so the file
	 * size lags.  Once what it holds could reach the limit even
	 * uncompressed, make it emit (Z_BLOCK: no marker, a few bits of cost):
	 * the gap halves or better each time, and a file ends within a record
	 * of the size asked for.
	 */
	if (c->compressed + c->unflushed >= c->o.rotate_bytes && deflate_out(c, Z_BLOCK))
		return c->err;
	if (c->compressed >= c->o.rotate_bytes)
		return rotate(c);
	return 0;
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
	if (!c->dirty && lost == c->flushed_lost && evicted == c->flushed_evicted)
		return 0;
	if (put_counters(c) || deflate_out(c, Z_SYNC_FLUSH))
		return c->err;
	c->dirty = false;
	if (c->o.rotate_bytes && c->compressed >= c->o.rotate_bytes)
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

/* ------------------------------------------------------------------ reader */

struct tt_capreader {
	char *name;
	char *path;		/* NULL for memory and stdin */
	int fd;
	bool own_fd;
	bool is_mem;
	const unsigned char *mem;
	size_t mem_len, mem_pos;

	bool opened;
	bool raw;		/* an uncompressed capture (zcat's output) */
	z_stream z;
	bool z_ready;
	bool z_done;		/* inflate saw the end of the gzip stream */
	bool z_cut;		/* the compressed input ended mid-stream */
	int z_err;		/* inflate failed after the output we hold */
	bool in_eof;
	size_t in_len, in_pos;	/* raw mode: bytes of in[] not yet handed on */
	size_t out_len, out_pos;

	uint64_t offset;	/* uncompressed bytes consumed */
	bool started, ended, failed;
	uint32_t end_reason;
	struct tt_capmeta meta;
	struct tt_capcg cg;	/* the last TTCAP_CGROUP frame */
	enum tt_caperr err;
	char msg[512];

	unsigned char in[BUF_SIZE];
	unsigned char out[BUF_SIZE];
};

__attribute__((format(printf, 3, 4)))
static int rfail(struct tt_capreader *r, enum tt_caperr kind, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->failed)
		return -1;
	r->failed = true;
	r->err = kind;
	n = snprintf(r->msg, sizeof(r->msg), "%s: ", r->name);
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - n, fmt, ap);
	va_end(ap);
	return -1;
}

static struct tt_capreader *reader_alloc(const char *name)
{
	struct tt_capreader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	r->name = strdup(name ? name : "capture");
	if (!r->name) {
		free(r);
		return NULL;
	}
	return r;
}

struct tt_capreader *capreader__new(const char *path)
{
	bool is_stdin = !strcmp(path, "-");
	struct tt_capreader *r = reader_alloc(is_stdin ? "stdin" : path);

	if (!r)
		return NULL;
	if (is_stdin) {
		r->fd = STDIN_FILENO;
		return r;
	}
	r->path = strdup(path);
	if (!r->path) {
		capreader__free(r);
		return NULL;
	}
	return r;
}

struct tt_capreader *capreader__new_mem(const void *buf, size_t len, const char *name)
{
	struct tt_capreader *r = reader_alloc(name);

	if (!r)
		return NULL;
	r->is_mem = true;
	r->mem = buf;
	r->mem_len = buf ? len : 0;
	return r;
}

void capreader__free(struct tt_capreader *r)
{
	if (!r)
		return;
	if (r->z_ready)
		inflateEnd(&r->z);
	if (r->own_fd)
		close(r->fd);
	free(r->name);
	free(r->path);
	free(r);
}

static ssize_t src_read(struct tt_capreader *r, void *buf, size_t n)
{
	if (r->is_mem) {
		size_t k = r->mem_len - r->mem_pos;

		if (k > n)
			k = n;
		if (k)
			memcpy(buf, r->mem + r->mem_pos, k);
		r->mem_pos += k;
		return (ssize_t)k;
	}
	for (;;) {
		ssize_t k = read(r->fd, buf, n);

		if (k >= 0 || errno != EINTR)
			return k;
	}
}

/* Refill out[]: the byte count, 0 at the end of the data, -1 on error. */
static ssize_t refill(struct tt_capreader *r)
{
	r->out_pos = r->out_len = 0;
	if (r->z_err)
		return rfail(r, TT_CAPERR_CORRUPT, "corrupt compressed data after offset %" PRIu64
			     " (%s)", r->offset, r->z.msg ? r->z.msg : "zlib error");
	if (r->raw) {
		ssize_t k;

		if (r->in_pos < r->in_len) {
			k = (ssize_t)(r->in_len - r->in_pos);
			memcpy(r->out, r->in + r->in_pos, (size_t)k);
			r->in_pos = r->in_len;
		} else {
			k = src_read(r, r->out, sizeof(r->out));
			if (k < 0)
				return rfail(r, TT_CAPERR_IO, "read: %s", strerror(errno));
		}
		r->out_len = (size_t)k;
		return k;
	}
	for (;;) {
		bool fed = false;
		uInt before;
		size_t made;
		int ret;

		if (r->z_done)
			return 0;
		if (r->z.avail_in == 0 && !r->in_eof) {
			ssize_t k = src_read(r, r->in, sizeof(r->in));

			if (k < 0)
				return rfail(r, TT_CAPERR_IO, "read: %s", strerror(errno));
			if (k == 0)
				r->in_eof = true;
			r->z.next_in = r->in;
			r->z.avail_in = (uInt)k;
			fed = k > 0;
		}
		before = r->z.avail_in;
		r->z.next_out = r->out;
		r->z.avail_out = sizeof(r->out);
		ret = inflate(&r->z, Z_NO_FLUSH);
		made = sizeof(r->out) - r->z.avail_out;
		switch (ret) {
		case Z_OK:
		case Z_BUF_ERROR:
			break;
		case Z_STREAM_END:
			/* anything after the gzip member is not ours: ignore it */
			r->z_done = true;
			break;
		case Z_MEM_ERROR:
			return rfail(r, TT_CAPERR_NOMEM, "decompress: out of memory");
		default:
			/* hand on what came before the damage, then fail */
			r->z_err = 1;
			if (!made)
				return refill(r);
			break;
		}
		if (made) {
			r->out_len = made;
			return (ssize_t)made;
		}
		if (r->z_done)
			return 0;
		if (r->in_eof && r->z.avail_in == 0) {
			r->z_cut = true;
			return 0;
		}
		/* inflate never stalls with input and room for output; be sure */
		if (!fed && r->z.avail_in == before)
			return rfail(r, TT_CAPERR_CORRUPT, "corrupt compressed data after offset %"
				     PRIu64 " (no progress)", r->offset);
	}
}

/* Copy up to n bytes: the count (short only at the end), or -1. */
static ssize_t pull(struct tt_capreader *r, void *dst, size_t n)
{
	unsigned char *d = dst;
	size_t got = 0;

	while (got < n) {
		size_t k;

		if (r->out_pos == r->out_len) {
			ssize_t m = refill(r);

			if (m < 0)
				return -1;
			if (m == 0)
				break;
		}
		k = r->out_len - r->out_pos;
		if (k > n - got)
			k = n - got;
		memcpy(d + got, r->out + r->out_pos, k);
		r->out_pos += k;
		got += k;
	}
	return (ssize_t)got;
}

static int truncated(struct tt_capreader *r, uint64_t at)
{
	return rfail(r, TT_CAPERR_TRUNCATED, "truncated at offset %" PRIu64 ": no end record "
		     "(%s); everything before it is intact", at,
		     r->z_cut ? "the compressed stream stops early: was tcptrail killed, or its disk full?" :
		     "the capture stops mid-stream");
}

static int open_source(struct tt_capreader *r)
{
	size_t n = 0;

	r->opened = true;
	if (r->path) {
		r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			return rfail(r, TT_CAPERR_IO, "%s", strerror(errno));
		r->own_fd = true;
	}
	/* enough to tell gzip from a raw capture from anything else */
	while (n < 8) {
		ssize_t k = src_read(r, r->in + n, sizeof(r->in) - n);

		if (k < 0)
			return rfail(r, TT_CAPERR_IO, "read: %s", strerror(errno));
		if (k == 0) {
			r->in_eof = true;
			break;
		}
		n += (size_t)k;
	}
	if (n == 0)
		return rfail(r, TT_CAPERR_MAGIC, "empty file: not a tcptrail capture");
	if (n >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
		/* 15 + 16: gzip only; a bare zlib stream is not a capture */
		if (inflateInit2(&r->z, 15 + 16) != Z_OK)
			return rfail(r, TT_CAPERR_NOMEM, "decompress: out of memory");
		r->z_ready = true;
		r->z.next_in = r->in;
		r->z.avail_in = (uInt)n;
		return 0;
	}
	if (n >= 8 && !memcmp(r->in, TTCAP_MAGIC, 8)) {
		r->raw = true;
		r->in_len = n;
		return 0;
	}
	return rfail(r, TT_CAPERR_MAGIC, "not a tcptrail capture (bad magic at offset 0: "
		     "neither gzip nor \"" TTCAP_MAGIC "\")");
}

static void copy_field(char *dst, size_t cap, const unsigned char *s, size_t n)
{
	size_t i;

	/* metadata is printed to terminals: keep it printable ASCII */
	for (i = 0; i < n && i < cap - 1; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[i] = '\0';
}

static int parse_meta(struct tt_capreader *r, const unsigned char *p, uint32_t len,
		      uint64_t at)
{
	struct tt_capmeta *m = &r->meta;
	struct ttcap_meta fixed;
	size_t pos = sizeof(fixed);

	memcpy(&fixed, p, sizeof(fixed));
	if (le32toh(fixed.version) != m->version)
		return rfail(r, TT_CAPERR_VERSION, "metadata at offset %" PRIu64 " says format "
			     "version %u, the header %u", at, le32toh(fixed.version), m->version);
	m->wall_offset_ns = (int64_t)le64toh(fixed.wall_offset_ns);
	m->start_ns = le64toh(fixed.start_ns);
	if (m->start_ns >= TIME_LIMIT || m->wall_offset_ns >= (int64_t)TIME_LIMIT ||
	    m->wall_offset_ns <= -(int64_t)TIME_LIMIT)
		return rfail(r, TT_CAPERR_RECORD, "impossible clock in the metadata at offset %"
			     PRIu64 " (start %" PRIu64 " ns, wall offset %" PRId64 " ns)", at,
			     m->start_ns, m->wall_offset_ns);
	while (pos < len) {
		uint16_t tag, flen;
		char num[16];
		long long v;

		if (len - pos < 4)
			return rfail(r, TT_CAPERR_LENGTH, "metadata field at offset %" PRIu64
				     " is cut short", at + 8 + pos);
		memcpy(&tag, p + pos, 2);
		memcpy(&flen, p + pos + 2, 2);
		tag = le16toh(tag);
		flen = le16toh(flen);
		if (flen > len - pos - 4)
			return rfail(r, TT_CAPERR_LENGTH, "metadata field of %u bytes at offset %"
				     PRIu64 " overruns its record", flen, at + 8 + pos);
		pos += 4;
		switch (tag) {
		case TTCAP_TAG_TOOL_VERSION:
			copy_field(m->tool_version, sizeof(m->tool_version), p + pos, flen);
			break;
		case TTCAP_TAG_HOSTNAME:
			copy_field(m->hostname, sizeof(m->hostname), p + pos, flen);
			break;
		case TTCAP_TAG_KERNEL:
			copy_field(m->kernel, sizeof(m->kernel), p + pos, flen);
			break;
		case TTCAP_TAG_HOOKS:
			copy_field(m->hooks, sizeof(m->hooks), p + pos, flen);
			break;
		case TTCAP_TAG_FILTERS:
			copy_field(m->filters, sizeof(m->filters), p + pos, flen);
			break;
		case TTCAP_TAG_FILE_INDEX:
			copy_field(num, sizeof(num), p + pos, flen);
			if (!tt_parse_num(num, 0, UINT32_MAX, &v))
				m->file_index = (uint32_t)v;
			break;
		default:
			break;	/* a field a newer writer added */
		}
		pos += flen;
	}
	return 0;
}

int capreader__meta(struct tt_capreader *r, struct tt_capmeta *meta)
{
	struct ttcap_file_header h;
	struct ttcap_frame fr;
	unsigned char *buf;
	uint32_t kind, len;
	ssize_t k;
	int err;

	if (r->started) {
		if (meta)
			*meta = r->meta;
		return 0;
	}
	if (r->failed || (!r->opened && open_source(r)))
		return -1;

	k = pull(r, &h, sizeof(h));
	if (k < 0)
		return -1;
	if (k == 0 && !r->z_cut)
		return rfail(r, TT_CAPERR_MAGIC, "not a tcptrail capture (an empty gzip stream)");
	if (memcmp(h.magic, TTCAP_MAGIC, (size_t)k < 8 ? (size_t)k : 8))
		return rfail(r, TT_CAPERR_MAGIC, "not a tcptrail capture (bad magic at offset 0)");
	if ((size_t)k < sizeof(h))
		return rfail(r, TT_CAPERR_TRUNCATED, "truncated at offset %zd, inside the file header",
			     k);
	r->meta.version = le32toh(h.version);
	r->meta.record_size = le32toh(h.record_size);
	r->meta.event_version = le32toh(h.event_version);
	if (r->meta.version == 0)
		return rfail(r, TT_CAPERR_VERSION, "format version 0 at offset 8 is not valid");
	if (r->meta.version > TTCAP_VERSION)
		return rfail(r, TT_CAPERR_VERSION, "format version %u is newer than this tcptrail "
			     "(%s) reads (%d); read it with a newer tcptrail",
			     r->meta.version, tt_version, TTCAP_VERSION);
	if (r->meta.record_size != sizeof(struct tt_event))
		return rfail(r, TT_CAPERR_VERSION, "records of %u bytes (offset 12); this tcptrail "
			     "reads %zu-byte records", r->meta.record_size, sizeof(struct tt_event));
	/* format 1 carries version 1 records, format 2 version 2 */
	if (r->meta.event_version != (r->meta.version == 1 ? 1 : TT_EVENT_VERSION))
		return rfail(r, TT_CAPERR_VERSION, "record version %u (offset 16) in a format "
			     "version %u file; this tcptrail reads version %d there",
			     r->meta.event_version, r->meta.version,
			     r->meta.version == 1 ? 1 : TT_EVENT_VERSION);
	r->offset = sizeof(h);

	k = pull(r, &fr, sizeof(fr));
	if (k < 0)
		return -1;
	if ((size_t)k < sizeof(fr))
		return truncated(r, r->offset);
	kind = le32toh(fr.kind);
	len = le32toh(fr.len);
	if (kind != TTCAP_META)
		return rfail(r, TT_CAPERR_KIND, "record of kind %u at offset %" PRIu64 " where the "
			     "metadata record belongs", kind, r->offset);
	if (len < sizeof(struct ttcap_meta) || len > TTCAP_META_MAX)
		return rfail(r, TT_CAPERR_LENGTH, "impossible length %u for the metadata record "
			     "at offset %" PRIu64, len, r->offset);
	buf = malloc(len);
	if (!buf)
		return rfail(r, TT_CAPERR_NOMEM, "out of memory");
	k = pull(r, buf, len);
	if (k < 0 || (size_t)k < len) {
		free(buf);
		return k < 0 ? -1 : truncated(r, r->offset);
	}
	err = parse_meta(r, buf, len, r->offset);
	free(buf);
	if (err)
		return -1;
	r->offset += sizeof(fr) + len;
	r->started = true;
	if (meta)
		*meta = r->meta;
	return 0;
}

static int parse_cgroup(struct tt_capreader *r, uint32_t len, uint64_t at)
{
	unsigned char buf[TTCAP_CGROUP_MAX];
	struct ttcap_cgroup fixed;
	size_t pos = sizeof(fixed);
	ssize_t k;

	if (len < sizeof(fixed) || len > sizeof(buf))
		return rfail(r, TT_CAPERR_LENGTH, "impossible length %u for a cgroup record at "
			     "offset %" PRIu64, len, at);
	k = pull(r, buf, len);
	if (k < 0)
		return -1;
	if ((size_t)k < len)
		return truncated(r, at);
	memcpy(&fixed, buf, sizeof(fixed));
	memset(&r->cg, 0, sizeof(r->cg));
	r->cg.id = le64toh(fixed.id);
	if (!r->cg.id)
		return rfail(r, TT_CAPERR_RECORD, "cgroup id 0 in the cgroup record at offset %"
			     PRIu64, at);
	strcpy(r->cg.path, "/");
	while (pos < len) {
		uint16_t tag, flen;

		if (len - pos < 4)
			return rfail(r, TT_CAPERR_LENGTH, "cgroup field at offset %" PRIu64
				     " is cut short", at + 8 + pos);
		memcpy(&tag, buf + pos, 2);
		memcpy(&flen, buf + pos + 2, 2);
		tag = le16toh(tag);
		flen = le16toh(flen);
		if (flen > len - pos - 4)
			return rfail(r, TT_CAPERR_LENGTH, "cgroup field of %u bytes at offset %"
				     PRIu64 " overruns its record", flen, at + 8 + pos);
		pos += 4;
		switch (tag) {
		case TTCAP_CG_PATH:
			copy_field(r->cg.path, sizeof(r->cg.path), buf + pos, flen);
			break;
		case TTCAP_CG_CONTAINER:
			copy_field(r->cg.container, sizeof(r->cg.container), buf + pos, flen);
			break;
		case TTCAP_CG_RUNTIME:
			copy_field(r->cg.runtime, sizeof(r->cg.runtime), buf + pos, flen);
			break;
		case TTCAP_CG_POD:
			copy_field(r->cg.pod, sizeof(r->cg.pod), buf + pos, flen);
			break;
		default:
			break;	/* a field a newer writer added */
		}
		pos += flen;
	}
	return 0;
}

int capreader__next(struct tt_capreader *r, struct tt_caprec *rec)
{
	struct ttcap_frame fr;
	struct ttcap_end end;
	uint64_t at;
	uint32_t kind, len;
	unsigned char extra;
	char why[64];
	ssize_t k;

	if (r->failed)
		return -1;
	if (r->ended)
		return 0;
	if (!r->started && capreader__meta(r, NULL))
		return -1;

	at = r->offset;
	k = pull(r, &fr, sizeof(fr));
	if (k < 0)
		return -1;
	if ((size_t)k < sizeof(fr))
		return truncated(r, at);
	kind = le32toh(fr.kind);
	len = le32toh(fr.len);
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->offset = at;

	switch (kind) {
	case TTCAP_EVENT: {
		struct tt_event le;

		if (len != r->meta.record_size)
			return rfail(r, TT_CAPERR_LENGTH, "impossible length %u for an event record "
				     "at offset %" PRIu64 " (records are %u bytes)", len, at,
				     r->meta.record_size);
		k = pull(r, &le, sizeof(le));
		if (k < 0)
			return -1;
		if ((size_t)k < sizeof(le))
			return truncated(r, at);
		if (r->meta.event_version == 1) {
			uint32_t cpu;

			/* version 1: a __u32 cpu at 24, padding at 10 and 28; no cgroup */
			memcpy(&cpu, (unsigned char *)&le + TT_EVENT_V1_CPU_OFFSET, sizeof(cpu));
			le.cpu = htole16((uint16_t)le32toh(cpu));
			le.cgroup = 0;
		}
		event_swap(&rec->ev, &le);
		if (capture__check_event(&rec->ev, why, sizeof(why)))
			return rfail(r, TT_CAPERR_RECORD, "%s in the event record at offset %" PRIu64,
				     why, at);
		break;
	}
	case TTCAP_COUNTERS:
		if (len != sizeof(rec->counters))
			return rfail(r, TT_CAPERR_LENGTH, "impossible length %u for a counters record "
				     "at offset %" PRIu64, len, at);
		k = pull(r, &rec->counters, sizeof(rec->counters));
		if (k < 0)
			return -1;
		if ((size_t)k < sizeof(rec->counters))
			return truncated(r, at);
		counters_swap(&rec->counters);
		if (rec->counters.ts_ns >= TIME_LIMIT)
			return rfail(r, TT_CAPERR_RECORD, "impossible time %" PRIu64 " ns in the "
				     "counters record at offset %" PRIu64, (uint64_t)rec->counters.ts_ns, at);
		break;
	case TTCAP_END:
		if (len != sizeof(end))
			return rfail(r, TT_CAPERR_LENGTH, "impossible length %u for an end record "
				     "at offset %" PRIu64, len, at);
		k = pull(r, &end, sizeof(end));
		if (k < 0)
			return -1;
		if ((size_t)k < sizeof(end))
			return truncated(r, at);
		r->end_reason = le32toh(end.reason);
		if (r->end_reason != TTCAP_END_CLOSED && r->end_reason != TTCAP_END_ROTATED)
			return rfail(r, TT_CAPERR_RECORD, "impossible end reason %u at offset %" PRIu64,
				     r->end_reason, at);
		r->offset += sizeof(fr) + len;
		/* reading on checks the gzip trailer's CRC and length too */
		k = pull(r, &extra, 1);
		if (k < 0)
			return -1;
		if (k > 0)
			return rfail(r, TT_CAPERR_CORRUPT, "data after the end record at offset %"
				     PRIu64, r->offset);
		/* the records are all here, but nothing vouches for them */
		if (r->z_cut)
			return rfail(r, TT_CAPERR_TRUNCATED, "truncated at offset %" PRIu64 ": the "
				     "compressed stream stops before its checksum", r->offset);
		r->ended = true;
		return 0;
	case TTCAP_CGROUP:
		if (r->meta.version < 2)
			return rfail(r, TT_CAPERR_KIND, "a cgroup record at offset %" PRIu64
				     " in a format version %u file", at, r->meta.version);
		if (parse_cgroup(r, len, at))
			return -1;
		rec->cg = &r->cg;
		break;
	case TTCAP_META:
		return rfail(r, TT_CAPERR_KIND, "a second metadata record at offset %" PRIu64, at);
	default:
		return rfail(r, TT_CAPERR_KIND, "impossible record kind %u at offset %" PRIu64,
			     kind, at);
	}
	r->offset += sizeof(fr) + len;
	return 1;
}

const char *capreader__error(const struct tt_capreader *r)
{
	return r->failed ? r->msg : "";
}

enum tt_caperr capreader__errkind(const struct tt_capreader *r)
{
	return r->err;
}

uint32_t capreader__end_reason(const struct tt_capreader *r)
{
	return r->end_reason;
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
