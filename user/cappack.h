/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The capture writer's compression (capwrite.c): frame bytes gathered into
 * blocks, each block deflated whole into a gzip member of its own, the
 * members written to the file in the order their bytes were put.  The
 * deflating runs on threads of its own, so that the thread that drains the
 * ring buffer does not do it; with none, on the thread that puts.
 */
#ifndef TT_CAPPACK_H
#define TT_CAPPACK_H

#include <stddef.h>
#include <stdint.h>

/* A block's size, and so the most one put may hand over. */
#define CAPPACK_BLOCK	(512 * 1024)
#define CAPPACK_MAX_THREADS 4

struct tt_cappack;

/*
 * level: libdeflate's (1 to 12).  threads: 0 picks by the CPU count (none on one CPU, one
 * per four CPUs, at least one, at most CAPPACK_MAX_THREADS), -1 none, N
 * that many, at most CAPPACK_MAX_THREADS.  NULL when out of memory.  The
 * threads hold no capability and take no signal.
 */
struct tt_cappack *cappack__new(int level, int threads);

/* Stop the threads and free it all; call cappack__drain() first. */
void cappack__free(struct tt_cappack *p);

/* How many threads deflate (0: the thread that puts does). */
int cappack__threads(const struct tt_cappack *p);

/* The file the next members go to, its byte count from 0; only with nothing in flight. */
void cappack__set_fd(struct tt_cappack *p, int fd);

/*
 * n <= CAPPACK_BLOCK bytes of frames, none split across blocks.  0, or
 * -errno with *step saying what failed ("write capture", "compress
 * capture"); an error is for the caller to make sticky.
 */
int cappack__put(struct tt_cappack *p, const void *buf, size_t n, const char **step);

/*
 * Everything put so far into the file: the block being filled handed on,
 * every member written.  *written: the file's bytes then.  0 or -errno, as
 * cappack__put().
 */
int cappack__sync(struct tt_cappack *p, uint64_t *written, const char **step);

/*
 * After an error: the block being filled dropped, and what is in flight
 * waited for, so that the file can be closed.
 */
void cappack__drain(struct tt_cappack *p);

#endif /* TT_CAPPACK_H */
