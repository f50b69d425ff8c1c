/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The capture file (tcptrail -w / -r), byte for byte.  Like tcptrail.h it
 * includes nothing and uses only __u8..__u64, so another program can read a
 * capture with this header alone; include/CAPTURE.md says the same in prose.
 *
 * A capture is gzip members one after another (up to version 3, one
 * member), read as one stream.  Uncompressed, it is:
 *
 *   struct ttcap_file_header
 *   frame TTCAP_META        (always first)
 *   frame TTCAP_COUNTERS    (the totals when this file began)
 *   frame TTCAP_CGROUP      (version 2: a cgroup id's names, before the
 *                            first record of the file that carries the id)
 *   frame TTCAP_EVENT ...   (struct tt_event, as the kernel wrote it)
 *   frame TTCAP_FLOW ...    (version 3: struct tt_flowrec, as the kernel
 *                            wrote it; interleaved with EVENT frames in the
 *                            order the records were read)
 *   frame TTCAP_COUNTERS    (at every flush, once a second, idle or not)
 *   ...
 *   frame TTCAP_COUNTERS    (at close)
 *   frame TTCAP_END
 *
 * where a frame is struct ttcap_frame followed by `len` bytes of payload.
 * Every integer is little-endian.  A reader rejects a version it does not
 * know, a kind it does not know and a length other than the one given here:
 * a new kind or a longer payload is a new version.
 */
#ifndef TTCAP_H
#define TTCAP_H

#define TTCAP_MAGIC	"TCPTRAIL"	/* 8 bytes, no NUL */
/*
 * 2: tt_event version 2 (cgroup), TTCAP_CGROUP frames
 * 3: TTCAP_FLOW frames (struct tt_flowrec); events as in version 2
 * 4: gzip members of at most TTCAP_MEMBER_MAX bytes each, uncompressed
 */
#define TTCAP_VERSION	4
/*
 * Version 4: the most one gzip member holds, uncompressed.  A reader keeps
 * a whole member, checks its CRC32 and length, and only then uses it, so it
 * may refuse a larger member as damaged.
 */
#define TTCAP_MEMBER_MAX	(512 * 1024)

struct ttcap_file_header {
	char  magic[8];		/* TTCAP_MAGIC */
	__u32 version;		/* TTCAP_VERSION */
	__u32 record_size;	/* sizeof(struct tt_event): 128 (a FLOW frame is
				 * always sizeof(struct tt_flowrec): 256) */
	__u32 event_version;	/* TT_EVENT_VERSION of the records */
	__u32 reserved;		/* 0 */
};
_Static_assert(sizeof(struct ttcap_file_header) == 24, "capture format");

enum ttcap_kind {
	TTCAP_META = 1,
	TTCAP_EVENT = 2,
	TTCAP_COUNTERS = 3,
	TTCAP_END = 4,
	TTCAP_CGROUP = 5,	/* version 2 and later */
	TTCAP_FLOW = 6,		/* version 3 and later: one struct tt_flowrec */
};

#define TTCAP_FLOW_SIZE	256	/* a TTCAP_FLOW payload: sizeof(struct tt_flowrec) */

struct ttcap_frame {
	__u32 kind;		/* enum ttcap_kind */
	__u32 len;		/* payload bytes that follow */
};
_Static_assert(sizeof(struct ttcap_frame) == 8, "capture format");

/*
 * TTCAP_META payload: this fixed part, then fields to the end of the payload,
 * each { __u16 tag; __u16 len; __u8 value[len]; } with no padding and no NUL.
 * A reader skips tags it does not know.
 */
struct ttcap_meta {
	__u32 version;		/* TTCAP_VERSION again */
	__u32 reserved;		/* 0 */
	__u64 wall_offset_ns;	/* signed (two's complement): CLOCK_REALTIME minus
				 * CLOCK_MONOTONIC at start, so a record's wall
				 * time is ts_ns + wall_offset_ns */
	__u64 start_ns;		/* CLOCK_MONOTONIC when this file was started */
};
_Static_assert(sizeof(struct ttcap_meta) == 24, "capture format");

#define TTCAP_META_MAX		65536	/* payload bytes */

enum ttcap_meta_tag {
	TTCAP_TAG_TOOL_VERSION = 1,	/* tcptrail version that wrote it */
	TTCAP_TAG_HOSTNAME = 2,
	TTCAP_TAG_KERNEL = 3,		/* uname -r */
	TTCAP_TAG_HOOKS = 4,		/* "transitions=tp_btf/inet_sock_set_state owner=..." */
	TTCAP_TAG_FILTERS = 5,		/* "family=ipv4 ports=80,443", or "" for none */
	TTCAP_TAG_FILE_INDEX = 6,	/* decimal: 0 for FILE, N for rotated FILE.N */
	TTCAP_TAG_PREV_INDEX = 7,	/* decimal: the run's file before this one, when
					 * the writer stepped past names between them */
	TTCAP_TAG_PORT_RANGE = 8,	/* "32768 60999": the traced namespace's (-N) or the
					 * tracer's ip_local_port_range, where it was read */
};

/*
 * TTCAP_COUNTERS payload.  lost and evicted are totals since tracing started,
 * not since this file began: the first COUNTERS frame of a file holds the
 * totals at its start, so a reader of one rotated file subtracts it.
 */
struct ttcap_counters {
	__u64 ts_ns;		/* CLOCK_MONOTONIC when written */
	__u64 lost;		/* ring buffer records the kernel could not queue */
	__u64 evicted;		/* flows pushed out of the live flow table */
	__u64 events;		/* records in this file so far: TTCAP_EVENT and
				 * TTCAP_FLOW frames (one each, whatever a
				 * flow record holds) */
};
_Static_assert(sizeof(struct ttcap_counters) == 32, "capture format");

enum ttcap_end_reason {
	TTCAP_END_CLOSED = 1,	/* tracing stopped */
	TTCAP_END_ROTATED = 2,	/* continued in the next file (FILE.N+1) */
};

/* TTCAP_END payload. */
struct ttcap_end {
	__u32 reason;		/* enum ttcap_end_reason */
	__u32 reserved;		/* 0 */
};
_Static_assert(sizeof(struct ttcap_end) == 8, "capture format");

/*
 * TTCAP_CGROUP payload (format version 2): what the capturing host resolved
 * a tt_event.cgroup id to, so that a replay anywhere names the same
 * containers.  This fixed part, then fields to the end of the payload as in
 * TTCAP_META ({ __u16 tag; __u16 len; __u8 value[len]; }).  Written once per
 * file for each id, before the first record (EVENT or FLOW) that carries it.
 */
struct ttcap_cgroup {
	__u64 id;		/* tt_event.cgroup, never 0 */
};
_Static_assert(sizeof(struct ttcap_cgroup) == 8, "capture format");

#define TTCAP_CGROUP_MAX	8192	/* payload bytes */

enum ttcap_cgroup_tag {
	TTCAP_CG_PATH = 1,	/* "/libpod_parent/libpod-4219...", relative to the v2 mount */
	TTCAP_CG_CONTAINER = 2,	/* full container id, when the path names one */
	TTCAP_CG_RUNTIME = 3,	/* "docker", "containerd", "crio", "podman", "cri" */
	TTCAP_CG_POD = 4,	/* Kubernetes pod UID */
};

/*
 * struct tt_event version 1 (format version 1 files) differs only here:
 * bytes 10..11 were padding, bytes 24..27 a __u32 cpu and 28..31 padding;
 * there was no cgroup.  A reader converts: cpu from bytes 24..27, cgroup 0.
 */
#define TT_EVENT_V1_CPU_OFFSET	24

#endif /* TTCAP_H */
