/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the capture tests share: a scratch directory, and captures built
 * frame by frame in the raw (uncompressed) format (include/ttcap.h), to make
 * damaged and hostile files with.
 */
#ifndef TT_CAPKIT_H
#define TT_CAPKIT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcptrail.h"

/* A fresh directory under /tmp named after `who`; NULL if none could be made. */
char *capkit_tmpdir(const char *who);
/* Remove dir and all in it, and free the name. */
void capkit_rmtree(char *dir);
/* dir/name, malloc'd; NULL if dir is. */
char *capkit_join(const char *dir, const char *name);
/* The name of rotated file i of the capture at path: path itself for 0, path.i after. */
void capkit_rotated(char *buf, size_t len, const char *path, int i);
/*
 * A copy of the capture at path, as "SIGKILL" would leave the file: its
 * bytes now, with no writer's lock on them.  Its name, malloc'd (path.killed),
 * or NULL.
 */
char *capkit_killed_copy(const char *path);

struct raw {
	unsigned char b[16384];
	size_t n;
	size_t frame_at[64];	/* where each frame starts */
	int frames;
};

void raw_put(struct raw *r, const void *p, size_t n);
/* A frame of kind with len in its header (which may lie) and plen bytes of payload. */
void raw_frame(struct raw *r, uint32_t kind, uint32_t len, const void *payload, size_t plen);
/*
 * Start over: the file header of format version, then META, its fixed part
 * followed by the tags' bytes (tags_len of them; none when 0).
 */
void raw_start(struct raw *r, uint32_t version, const void *tags, size_t tags_len);
void raw_event(struct raw *r, const struct tt_event *e);
void raw_flow(struct raw *r, const struct tt_flowrec *f);
void raw_end(struct raw *r);

#endif /* TT_CAPKIT_H */
