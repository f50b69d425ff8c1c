/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture files: -w writes every record as the kernel produced it into a
 * gzip stream (include/ttcap.h, include/CAPTURE.md), -r reads one back.
 * The writer flushes about once a second, so a SIGKILL loses at most the
 * last second and the file stays readable up to there.
 */
#ifndef TT_CAPTURE_H
#define TT_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcptrail.h"
#include "ttcap.h"

struct tt_selection;

/* A TTCAP_CGROUP frame: what the capturing host named a cgroup id. */
struct tt_capcg {
	uint64_t id;
	char path[4096];
	char container[65];
	char runtime[16];
	char pod[37];
};

/* ---- writer ---- */

/*
 * The cgroup ids a file remembers having named, at most: past this, it
 * names each again (a CGROUP frame is read as often as it comes).
 */
#define CAPTURE_CG_SEEN_MAX	65536

struct tt_capture_opts {
	const char *path;
	uint64_t rotate_bytes;	/* start FILE.1, FILE.2... past this; 0 = never */
	uint32_t rotate_count;	/* keep at most this many files; 0 = all */
	const char *hooks;	/* written to the metadata as is */
	const char *filters;
	uint16_t port_lo, port_hi;	/* ip_local_port_range, written when port_hi */
	int64_t wall_offset_ns;
	uint64_t start_ns;	/* the record clock when tracing started */
	int level;		/* libdeflate's level; 0 picks 1, the fastest */
	/*
	 * Compression threads: 0 picks by the CPU count (none on one CPU, one
	 * per four CPUs, 1 to 4), -1 none (the writing thread compresses),
	 * N that many, at most 4.
	 */
	int threads;
	/*
	 * The names of e->cgroup, for a TTCAP_CGROUP frame written before the
	 * first event of each file that carries the id; NULL writes none.
	 * Returns 0 and the strings (path never NULL), or -1 for an id it
	 * cannot name (asked again at its next event).
	 */
	int (*cgroup_name)(void *ctx, const struct tt_event *e, struct tt_capcg *out);
	void *cgroup_ctx;
};

struct tt_capture;

/*
 * Create opts->path (0600; see CAPTURE.md for what is refused) and write its
 * header.  Returns 0, or -errno after a one-line message naming the file.
 */
int capture__open(struct tt_capture **out, const struct tt_capture_opts *opts);

/* Append one record.  0, or -errno (sticky: later calls fail the same way). */
int capture__write(struct tt_capture *c, const struct tt_event *e);

/* Append one flow record (a TTCAP_FLOW frame); the same as capture__write. */
int capture__write_flow(struct tt_capture *c, const struct tt_flowrec *r);

/*
 * Once a second at most: write a counters frame and a zlib sync flush, so
 * that everything so far can be read even if we are killed.  Call it every
 * poll; it does nothing until a second has passed since the last flush, or
 * when nothing changed.  0 or -errno.
 */
int capture__tick(struct tt_capture *c, uint64_t now_ns, uint64_t lost, uint64_t evicted);

/* The same, now. */
int capture__flush(struct tt_capture *c, uint64_t now_ns, uint64_t lost, uint64_t evicted);

/*
 * Final counters, the end frame, the gzip trailer; frees c.  Returns the
 * first error the capture had, or 0.  NULL is a no-op.
 */
int capture__close(struct tt_capture *c, uint64_t now_ns, uint64_t lost, uint64_t evicted);

/*
 * The capture writer as a sink (records as they come, counters at each
 * tick, closed at the source's end): capture__open, then the ref.  0, or
 * -errno after a one-line message.
 */
struct tt_sink_ref;
int capture__sink(struct tt_sink_ref *ref, const struct tt_capture_opts *opts);

/* The file being written now (FILE or FILE.N), for messages. */
const char *capture__path(const struct tt_capture *c);

/* "transitions=tp_btf/inet_sock_set_state owner=..." for the metadata. */
void capture__describe_hooks(const struct tt_selection *sel, char *buf, size_t len);

/* ---- reader ---- */

enum tt_caperr {
	TT_CAPERR_NONE = 0,
	TT_CAPERR_IO,		/* cannot open or read: missing file, EIO */
	TT_CAPERR_MAGIC,	/* not a capture */
	TT_CAPERR_VERSION,	/* a format version or record size we cannot read */
	TT_CAPERR_CORRUPT,	/* the compressed stream is damaged */
	TT_CAPERR_TRUNCATED,	/* the file ends before its end record */
	TT_CAPERR_LIVE,		/* it does, and a running tcptrail -w still writes it */
	TT_CAPERR_LENGTH,	/* a frame with an impossible length */
	TT_CAPERR_KIND,		/* a frame of an unknown or misplaced kind */
	TT_CAPERR_RECORD,	/* an event no kernel writes (type, state, family) */
	TT_CAPERR_NOMEM,
	TT_CAPERR_STOPPED,	/* a signal asked us to stop while a read waited (capreader__set_stop) */
};

/* What the metadata says; strings are NUL-terminated, printable ASCII. */
struct tt_capmeta {
	uint32_t version;
	uint32_t record_size;
	uint32_t event_version;
	int64_t wall_offset_ns;
	uint64_t start_ns;
	uint32_t file_index;
	uint32_t prev_index;	/* the run's file before, when the writer stepped past
				 * names between them; else file_index - 1 */
	char tool_version[64];
	char hostname[256];
	char kernel[256];
	char hooks[1024];
	char filters[1024];
	uint16_t port_lo, port_hi;	/* ip_local_port_range; 0, 0 unknown */
};

struct tt_caprec {
	uint32_t kind;		/* TTCAP_EVENT, TTCAP_FLOW, TTCAP_COUNTERS or TTCAP_CGROUP */
	const struct tt_capcg *cg;	/* TTCAP_CGROUP: valid until the next call */
	uint64_t offset;	/* of the frame, in uncompressed bytes */
	struct tt_event ev;	/* TTCAP_EVENT, in host byte order */
	struct tt_flowrec fr;	/* TTCAP_FLOW, in host byte order, checked */
	struct ttcap_counters counters;	/* TTCAP_COUNTERS, in host byte order */
};

struct tt_capreader;

/*
 * A reader of the file at path ("-" is stdin), or of len bytes at buf (which
 * must outlive the reader).  name is used in messages.  NULL only when out
 * of memory; a file that cannot be opened is reported by capreader__meta.
 */
struct tt_capreader *capreader__new(const char *path);
struct tt_capreader *capreader__new_mem(const void *buf, size_t len, const char *name);
void capreader__free(struct tt_capreader *r);

/* Read and check the file header and the metadata.  0 or -1 (see error). */
int capreader__meta(struct tt_capreader *r, struct tt_capmeta *meta);

/*
 * The next event, flow, counters or cgroup frame: 1, or 0 at a clean end (the end frame),
 * or -1 on an error, after which every call returns -1.  Records before an
 * error are good: a truncated capture yields everything up to its last
 * complete record, then -1 with TT_CAPERR_TRUNCATED, or TT_CAPERR_LIVE when
 * a running tcptrail still writes the file (it holds the file's lock).
 */
int capreader__next(struct tt_capreader *r, struct tt_caprec *rec);

/*
 * Once *stop is set, a read that a signal interrupts stops the reader
 * (TT_CAPERR_STOPPED) instead of waiting on: a replay from a pipe whose
 * writer sends nothing ends on SIGINT or SIGTERM.  The signal's handler must
 * be installed without SA_RESTART.  Records before it are good.
 */
void capreader__set_stop(struct tt_capreader *r, volatile sig_atomic_t *stop);

/*
 * True when the next record is already in memory (decompressed, or its
 * bytes read): capreader__next() then does not wait on the file or pipe.
 */
bool capreader__ready(const struct tt_capreader *r);

/* One line naming the file and the offset: "x.ttcap: truncated at offset 4242". */
const char *capreader__error(const struct tt_capreader *r);
enum tt_caperr capreader__errkind(const struct tt_capreader *r);

/* The end frame's reason once next() returned 0 (enum ttcap_end_reason). */
uint32_t capreader__end_reason(const struct tt_capreader *r);

/* Check a record the way the reader does: 0, or -EINVAL with why written. */
int capture__check_event(const struct tt_event *e, char *why, size_t len);

/*
 * The same for a flow record: what flowrec__check() refuses (the engine's
 * test), said precisely, and a time no clock reaches.
 */
int capture__check_flowrec(const struct tt_flowrec *r, char *why, size_t len);

/* The record clock at a flow record: its last transition's time, 0 if it has none. */
uint64_t capture__flowrec_ts(const struct tt_flowrec *r);

#endif /* TT_CAPTURE_H */
