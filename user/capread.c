// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source: a capture file (-r).  The reader drives inflate over a file
 * descriptor or a memory buffer, so the fuzzer needs no temporary files,
 * and so that it can tell a stream that was cut short (killed writer) from
 * one that is damaged.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>
#include "capformat.h"
#include "ident.h"
#include "modes.h"
#include "opts.h"
#include "outfile.h"
#include "sink.h"
#include "util.h"


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
	bool z_done;		/* inflate saw the end of a gzip member */
	bool z_cut;		/* the compressed input ended mid-stream */
	bool z_at_member;	/* version 4: it ended after a whole gzip member */
	bool z_unchecked;	/* versions 1 to 3: a member too big to hold, handed on as inflated */
	int z_err;		/* inflate failed after the output we hold */
	bool in_eof;
	size_t in_len, in_pos;	/* raw mode: bytes of in[] not yet handed on */
	unsigned char *out;	/* what refill() hands on: raw_out[], or zbuf */
	size_t out_len, out_pos;
	unsigned char *zbuf;	/* gzip: one member, TTCAP_MEMBER_MAX + 1 bytes */
	size_t zlen;		/* bytes of the member being inflated, not handed on yet */
	unsigned char head[12];	/* the stream's first bytes: magic and version */
	size_t head_len;
	volatile sig_atomic_t *stop;	/* capreader__set_stop(); NULL: none */

	uint64_t offset;	/* uncompressed bytes consumed */
	bool started, ended, failed;
	uint32_t end_reason;
	struct tt_capmeta meta;
	struct tt_capcg cg;	/* the last TTCAP_CGROUP frame */
	enum tt_caperr err;
	char msg[512];

	unsigned char in[BUF_SIZE];
	unsigned char raw_out[BUF_SIZE];
};

__attribute__((format(printf, 3, 4)))
static int rfail(struct tt_capreader *r, enum tt_caperr kind, const char *fmt, ...)
{
	char name[200];
	va_list ap;
	int n;

	if (r->failed)
		return -1;
	r->failed = true;
	r->err = kind;
	/* the name cut short if need be: the reason after it is the point */
	tt_fmt_name(r->name, name, sizeof(name));
	n = snprintf(r->msg, sizeof(r->msg), "%s: ", name);
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
	r->out = r->raw_out;
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
	free(r->zbuf);
	free(r->name);
	free(r->path);
	free(r);
}

/* A signal interrupted a wait, and capreader__set_stop()'s flag is up. */
static bool stop_asked(const struct tt_capreader *r)
{
	return r->stop && *r->stop;
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

		if (k >= 0 || errno != EINTR || stop_asked(r))
			return k;	/* -1 with EINTR: read_failed() says stopped */
	}
}

/* A src_read() that returned -1: stopped by a signal, or an I/O error. */
static int read_failed(struct tt_capreader *r)
{
	if (errno == EINTR)
		return rfail(r, TT_CAPERR_STOPPED, "stopped by a signal while waiting for input");
	return rfail(r, TT_CAPERR_IO, "read: %s", strerror(errno));
}

void capreader__set_stop(struct tt_capreader *r, volatile sig_atomic_t *stop)
{
	r->stop = stop;
}

/* Compressed input into in[] for inflate: the byte count, 0 at its end, -1 on error. */
static ssize_t feed_in(struct tt_capreader *r)
{
	ssize_t k = src_read(r, r->in, sizeof(r->in));

	if (k < 0)
		return read_failed(r);
	if (k == 0)
		r->in_eof = true;
	r->z.next_in = r->in;
	r->z.avail_in = (uInt)k;
	return k;
}

/*
 * The format version in the stream's header, from the bytes handed on and
 * the member being inflated; 0 while fewer than 12 are there, or when they
 * are no capture's header (then capreader__meta() says what is wrong).
 */
static uint32_t stream_version(const struct tt_capreader *r)
{
	unsigned char h[sizeof(r->head)];
	size_t n = r->head_len, k = sizeof(h) - n;
	uint32_t v;

	if (k > r->zlen)
		k = r->zlen;
	memcpy(h, r->head, n);
	memcpy(h + n, r->zbuf, k);
	if (n + k < sizeof(h) || memcmp(h, TTCAP_MAGIC, 8))
		return 0;
	memcpy(&v, h + 8, sizeof(v));
	return le32toh(v);
}

/*
 * Version 4 and any later version this reader knows: each member is whole
 * and checked (CRC32 and length) before any of its bytes are used.
 */
static bool members_checked(const struct tt_capreader *r)
{
	uint32_t v = stream_version(r);

	return v >= 4 && v <= TTCAP_VERSION;
}

/* Hand on the zlen bytes inflated into zbuf: refill()'s count. */
static ssize_t hand_on(struct tt_capreader *r)
{
	size_t k = sizeof(r->head) - r->head_len;

	if (k > r->zlen)
		k = r->zlen;
	memcpy(r->head + r->head_len, r->zbuf, k);
	r->head_len += k;
	r->out_pos = 0;
	r->out_len = r->zlen;
	r->zlen = 0;
	return (ssize_t)r->out_len;
}

/*
 * After a gzip member: from format version 4 a capture is members one after
 * another, and another follows if any input does (anything else is corrupt
 * data, as inflate says).  A version 1 to 3 file is one member, and what
 * follows it is not ours: ignored.  1 if another member starts, 0 at the
 * end, -1 on a read error.
 */
static int next_member(struct tt_capreader *r)
{
	/*
	 * Until the magic and version are whole, the file may be of version 4,
	 * whose members may end anywhere, even inside the file header: go on.
	 */
	if (r->head_len + r->zlen >= sizeof(r->head) && stream_version(r) < 4)
		return 0;
	if (r->z.avail_in == 0 && !r->in_eof && feed_in(r) < 0)
		return -1;
	if (r->z.avail_in == 0) {
		r->z_at_member = true;
		return 0;
	}
	if (inflateReset(&r->z) != Z_OK)
		return rfail(r, TT_CAPERR_CORRUPT, "decompress: cannot start the gzip member after "
			     "offset %" PRIu64, r->offset);
	r->z_done = false;
	return 1;
}

/*
 * Refill out[] from a gzip stream: the byte count, 0 at the end of the
 * data, -1 on error.  A member's bytes are handed on only once inflate has
 * checked its trailer (Z_STREAM_END), so that a damaged member gives an
 * error and not records: with every member of a version 4 file, and with
 * the one member of an older file if it fits in zbuf.  An older file's
 * larger member is handed on as it is inflated, as it always was; its
 * damage shows only after the records before it.
 */
static ssize_t refill_gzip(struct tt_capreader *r)
{
	const size_t cap = TTCAP_MEMBER_MAX + 1;

	for (;;) {
		bool fed = false;
		uInt before;
		int ret;

		if (r->z_done) {
			int more = next_member(r);

			if (more <= 0)
				return more;
		}
		if (r->z.avail_in == 0 && !r->in_eof) {
			ssize_t k = feed_in(r);

			if (k < 0)
				return -1;
			fed = k > 0;
		}
		before = r->z.avail_in;
		r->z.next_out = r->zbuf + r->zlen;
		r->z.avail_out = (uInt)(cap - r->zlen);
		ret = inflate(&r->z, Z_NO_FLUSH);
		r->zlen = cap - r->z.avail_out;
		switch (ret) {
		case Z_OK:
		case Z_BUF_ERROR:
			break;
		case Z_STREAM_END:
			/* the member's end: next_member() says whether another follows */
			r->z_done = true;
			if (r->zlen)
				return hand_on(r);
			continue;	/* an empty member */
		case Z_MEM_ERROR:
			return rfail(r, TT_CAPERR_NOMEM, "decompress: out of memory");
		default:
			if (r->z_unchecked && r->zlen) {
				/* hand on what came before the damage, then fail */
				r->z_err = 1;
				return hand_on(r);
			}
			/* none of a damaged member is used */
			r->zlen = 0;
			return rfail(r, TT_CAPERR_CORRUPT, "corrupt compressed data after offset %"
				     PRIu64 " (%s)", r->offset, r->z.msg ? r->z.msg : "zlib error");
		}
		if (r->z_unchecked && r->zlen)
			return hand_on(r);
		if (r->zlen == cap) {
			/*
			 * One byte more than a version 4 member may hold (the
			 * one more lets inflate reach a full member's trailer).
			 */
			if (members_checked(r)) {
				r->zlen = 0;
				return rfail(r, TT_CAPERR_CORRUPT, "corrupt compressed data after "
					     "offset %" PRIu64 " (a gzip member of more than %d KiB "
					     "uncompressed, which tcptrail never writes; if another "
					     "tool compressed the capture, zcat FILE | tcptrail -r - "
					     "reads it)", r->offset, TTCAP_MEMBER_MAX / 1024);
			}
			/* an older capture's one member, or none at all: as inflated */
			r->z_unchecked = true;
			return hand_on(r);
		}
		if (r->in_eof && r->z.avail_in == 0) {
			r->z_cut = true;
			/* the part of a member whose checksum never came is not used */
			if (members_checked(r)) {
				r->zlen = 0;
				return 0;
			}
			return r->zlen ? hand_on(r) : 0;
		}
		/* inflate never stalls with input and room for output; be sure */
		if (!fed && r->z.avail_in == before)
			return rfail(r, TT_CAPERR_CORRUPT, "corrupt compressed data after offset %"
				     PRIu64 " (no progress)", r->offset);
	}
}

/* Refill out[]: the byte count, 0 at the end of the data, -1 on error. */
static ssize_t refill(struct tt_capreader *r)
{
	ssize_t k;

	r->out_pos = r->out_len = 0;
	if (r->z_err)
		return rfail(r, TT_CAPERR_CORRUPT, "corrupt compressed data after offset %" PRIu64
			     " (%s)", r->offset, r->z.msg ? r->z.msg : "zlib error");
	if (!r->raw)
		return refill_gzip(r);
	if (r->in_pos < r->in_len) {
		k = (ssize_t)(r->in_len - r->in_pos);
		memcpy(r->out, r->in + r->in_pos, (size_t)k);
		r->in_pos = r->in_len;
	} else {
		k = src_read(r, r->out, BUF_SIZE);
		if (k < 0)
			return read_failed(r);
	}
	r->out_len = (size_t)k;
	return k;
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

/*
 * Does a running tcptrail -w still write this file?  Its writer holds an
 * exclusive flock for as long as it has the file open (outfile_how.lock),
 * so a shared one of ours is refused.
 */
static bool being_written(struct tt_capreader *r)
{
	if (!r->path || r->fd < 0)
		return false;
	if (!flock(r->fd, LOCK_SH | LOCK_NB)) {
		flock(r->fd, LOCK_UN);
		return false;
	}
	return errno == EWOULDBLOCK;
}

static int truncated(struct tt_capreader *r, uint64_t at)
{
	if (being_written(r))
		return rfail(r, TT_CAPERR_LIVE, "a running tcptrail is still writing it; read up "
			     "to offset %" PRIu64 ", the last record it has written out", at);
	return rfail(r, TT_CAPERR_TRUNCATED, "truncated at offset %" PRIu64 ": no end record "
		     "(%s); everything before it is intact", at,
		     r->z_cut || r->z_at_member ?
		     "the compressed stream stops early: was tcptrail killed, or its disk full?" :
		     "the capture stops mid-stream");
}

static int open_source(struct tt_capreader *r)
{
	size_t n = 0;

	r->opened = true;
	if (r->path) {
		/* a FIFO with no writer yet waits in open() */
		do {
			r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
		} while (r->fd < 0 && errno == EINTR && !stop_asked(r));
		if (r->fd < 0)
			return errno == EINTR ? read_failed(r) :
			       rfail(r, TT_CAPERR_IO, "%s", strerror(errno));
		r->own_fd = true;
	}
	/* enough to tell gzip from a raw capture from anything else */
	while (n < 8) {
		ssize_t k = src_read(r, r->in + n, sizeof(r->in) - n);

		if (k < 0)
			return read_failed(r);
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
		r->zbuf = malloc(TTCAP_MEMBER_MAX + 1);
		if (!r->zbuf || inflateInit2(&r->z, 15 + 16) != Z_OK)
			return rfail(r, TT_CAPERR_NOMEM, "decompress: out of memory");
		r->z_ready = true;
		r->out = r->zbuf;
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

/*
 * The next field of a META or CGROUP record's tail, { u16 tag; u16 len;
 * value }, at p + *pos of its len bytes; *pos moves to the value.  `what`
 * names the record in the messages, `at` is where it starts.
 */
static int next_field(struct tt_capreader *r, const unsigned char *p, size_t len, size_t *pos,
		      uint64_t at, const char *what, uint16_t *tag, uint16_t *flen)
{
	if (len - *pos < 4)
		return rfail(r, TT_CAPERR_LENGTH, "%s field at offset %" PRIu64 " is cut short",
			     what, at + 8 + *pos);
	memcpy(tag, p + *pos, 2);
	memcpy(flen, p + *pos + 2, 2);
	*tag = le16toh(*tag);
	*flen = le16toh(*flen);
	if (*flen > len - *pos - 4)
		return rfail(r, TT_CAPERR_LENGTH, "%s field of %u bytes at offset %" PRIu64
			     " overruns its record", what, *flen, at + 8 + *pos);
	*pos += 4;
	return 0;
}

static int parse_meta(struct tt_capreader *r, const unsigned char *p, uint32_t len,
		      uint64_t at)
{
	struct tt_capmeta *m = &r->meta;
	struct ttcap_meta fixed;
	size_t pos = sizeof(fixed);
	bool prev = false;

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
		uint16_t tag = 0, flen = 0;
		char num[16];
		long long v;

		if (next_field(r, p, len, &pos, at, "metadata", &tag, &flen))
			return -1;
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
		case TTCAP_TAG_PREV_INDEX:
			copy_field(num, sizeof(num), p + pos, flen);
			prev = true;
			m->prev_index = UINT32_MAX;	/* not a number: no file before known */
			if (!tt_parse_num(num, 0, UINT32_MAX, &v))
				m->prev_index = (uint32_t)v;
			break;
		case TTCAP_TAG_PORT_RANGE: {
			char *sp;
			long long lo;

			copy_field(num, sizeof(num), p + pos, flen);
			sp = strchr(num, ' ');
			/* not two ports in order: no range known, as in an older file */
			if (sp) {
				*sp++ = '\0';
				if (!tt_parse_num(num, 1, 65535, &lo) && !tt_parse_num(sp, 1, 65535, &v) &&
				    lo <= v) {
					m->port_lo = (uint16_t)lo;
					m->port_hi = (uint16_t)v;
				}
			}
			break;
		}
		default:
			break;	/* a field a newer writer added */
		}
		pos += flen;
	}
	/* the file before is the one with the index before, unless it says another */
	if (!prev)
		m->prev_index = m->file_index - 1;
	if (!m->file_index || m->prev_index >= m->file_index)
		m->prev_index = UINT32_MAX;
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
	if ((size_t)k < sizeof(h) && being_written(r))
		return rfail(r, TT_CAPERR_LIVE, "a running tcptrail has just begun writing it; "
			     "its header is not written out yet");
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
		uint16_t tag = 0, flen = 0;
		bool name;

		if (next_field(r, buf, len, &pos, at, "cgroup", &tag, &flen))
			return -1;
		/* a name longer than its field holds is none tcptrail writes: not cut to fit */
		name = tag == TTCAP_CG_CONTAINER || tag == TTCAP_CG_RUNTIME || tag == TTCAP_CG_POD;
		if (name && flen >= (tag == TTCAP_CG_CONTAINER ? sizeof(r->cg.container) :
				     tag == TTCAP_CG_RUNTIME ? sizeof(r->cg.runtime) :
				     sizeof(r->cg.pod)))
			return rfail(r, TT_CAPERR_RECORD, "the cgroup record at offset %" PRIu64
				     " names a container, pod or runtime as tcptrail never does", at);
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
	if (!ident__valid_names(r->cg.container, r->cg.pod, r->cg.runtime))
		return rfail(r, TT_CAPERR_RECORD, "the cgroup record at offset %" PRIu64 " names a "
			     "container, pod or runtime as tcptrail never does", at);
	return 0;
}

bool capreader__ready(const struct tt_capreader *r)
{
	if (r->failed || r->ended || r->is_mem || r->out_pos < r->out_len)
		return true;
	/* compressed input still held: inflating it does not read */
	if (r->raw)
		return r->in_pos < r->in_len;
	/* inflating input held does not read, but a member is used only whole */
	if (r->z_unchecked && r->z.avail_in > 0)
		return true;
	/* at a member's end, a version 4 file may go on: that takes a read */
	return r->z_done && (r->meta.version < 4 || (r->in_eof && r->z.avail_in == 0));
}

int capreader__next(struct tt_capreader *r, struct tt_caprec *rec)
{
	struct ttcap_frame fr;
	struct ttcap_end end;
	uint64_t at;
	uint32_t kind, len;
	unsigned char extra;
	char why[96];
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
		ttcap_event_swap(&rec->ev, &le);
		if (capture__check_event(&rec->ev, why, sizeof(why)))
			return rfail(r, TT_CAPERR_RECORD, "%s in the event record at offset %" PRIu64,
				     why, at);
		break;
	}
	case TTCAP_FLOW: {
		struct tt_flowrec le;

		if (r->meta.version < 3)
			return rfail(r, TT_CAPERR_KIND, "a flow record at offset %" PRIu64
				     " in a format version %u file", at, r->meta.version);
		if (len != sizeof(le))
			return rfail(r, TT_CAPERR_LENGTH, "impossible length %u for a flow record "
				     "at offset %" PRIu64 " (flow records are %zu bytes)", len, at,
				     sizeof(le));
		k = pull(r, &le, sizeof(le));
		if (k < 0)
			return -1;
		if ((size_t)k < sizeof(le))
			return truncated(r, at);
		ttcap_flowrec_swap(&rec->fr, &le);
		if (capture__check_flowrec(&rec->fr, why, sizeof(why)))
			return rfail(r, TT_CAPERR_RECORD, "%s in the flow record at offset %" PRIu64,
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
		ttcap_counters_swap(&rec->counters);
		if (rec->counters.ts_ns >= TIME_LIMIT)
			return rfail(r, TT_CAPERR_RECORD, "impossible time %" PRIu64 " ns in the "
				     "counters record at offset %" PRIu64, (uint64_t)rec->counters.ts_ns, at);
		/* more than one a nanosecond since boot: damage (a raw file has no CRC) */
		if (rec->counters.lost > rec->counters.ts_ns ||
		    rec->counters.evicted > rec->counters.ts_ns)
			return rfail(r, TT_CAPERR_RECORD, "impossible counts (%" PRIu64 " lost, %"
				     PRIu64 " evicted by %" PRIu64 " ns) in the counters record at "
				     "offset %" PRIu64, (uint64_t)rec->counters.lost,
				     (uint64_t)rec->counters.evicted, (uint64_t)rec->counters.ts_ns, at);
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
