// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The capture's compression (cappack.h).  At 400,000 connections a second
 * a capture is about 360 MB/s of frames, more than a CPU of deflate at its
 * fastest level: more than the thread that drains the ring buffer can
 * give.  So frames go into blocks, each block becomes a whole gzip member
 * on whichever thread takes it, and the members are written in order; gzip
 * reads members one after another as one stream (format version 4,
 * include/CAPTURE.md).
 *
 * A whole block at once is what libdeflate does, at level 1 1.7 times as
 * fast as zlib's level 1 on capture frames (452 against 267 MB/s here), for
 * members as small; zlib still reads them (capread.c).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include "cappack.h"
#include "privs.h"

/* room for a block's member: more than libdeflate's bound (cappack__new() checks) */
#define BLOCK_OUT	(CAPPACK_BLOCK + CAPPACK_BLOCK / 8 + 1024)

enum block_state { BLOCK_FREE, BLOCK_FILLING, BLOCK_QUEUED, BLOCK_BUSY, BLOCK_DONE };

struct block {
	enum block_state state;
	uint64_t seq;		/* its member's place in the file */
	size_t in_len, out_len;
	int err;		/* deflate failed on it */
	unsigned char *in, *out;
};

struct tt_cappack {
	int level;
	int fd;
	struct block *cur;	/* being filled by the putting thread, or NULL */
	size_t nblocks;
	struct block *blocks;

	/* no threads: the putting thread deflates with its own */
	struct libdeflate_compressor *z;

	/*
	 * Under mu: every block's state, next_seq, write_seq, writing,
	 * written, werr, stop.
	 */
	int nthreads;
	pthread_t threads[CAPPACK_MAX_THREADS];
	pthread_mutex_t mu;
	pthread_cond_t queued;	/* a block to deflate, or stop */
	pthread_cond_t freed;	/* a member written, its block free again */
	uint64_t next_seq;	/* the next block handed on gets this */
	uint64_t write_seq;	/* the next member to write */
	bool writing;		/* a thread is writing members (outside mu) */
	bool stop;
	uint64_t written;	/* bytes in the file */
	int werr;		/* the first error, and its step: nothing is written after it */
	const char *werr_step;
};

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The block's bytes into one whole gzip member, so zcat and zgrep -a work on a capture. */
static int deflate_block(struct libdeflate_compressor *z, struct block *b)
{
	/* 0: no room, which the bound checked at the start rules out */
	b->out_len = libdeflate_gzip_compress(z, b->in, b->in_len, b->out, BLOCK_OUT);
	return b->out_len ? 0 : -EINVAL;
}

static struct libdeflate_compressor *deflate_start(int level)
{
	struct libdeflate_compressor *z = libdeflate_alloc_compressor(level);

	if (z && libdeflate_gzip_compress_bound(z, CAPPACK_BLOCK) > BLOCK_OUT) {
		libdeflate_free_compressor(z);
		return NULL;
	}
	return z;
}

/* The block in state st with the lowest seq (any: or with just this seq). */
static struct block *block_in(struct tt_cappack *p, enum block_state st, uint64_t seq, bool any)
{
	struct block *best = NULL;

	for (size_t i = 0; i < p->nblocks; i++) {
		struct block *b = &p->blocks[i];

		if (b->state != st || (!any && b->seq != seq))
			continue;
		if (!best || b->seq < best->seq)
			best = b;
	}
	return best;
}

static void set_werr(struct tt_cappack *p, int err, const char *step)
{
	if (err && !p->werr) {
		p->werr = err;
		p->werr_step = step;
	}
}

/*
 * Under mu: write the deflated members that are next in order, one thread
 * at a time, and outside mu, so that a slow disk holds up only the
 * threads.  After an error, members are dropped, not written.
 */
static void write_ready(struct tt_cappack *p)
{
	struct block *b;

	while (!p->writing && (b = block_in(p, BLOCK_DONE, p->write_seq, false))) {
		int err = b->err;
		const char *step = "compress capture";

		p->writing = true;
		if (!err && !p->werr) {
			pthread_mutex_unlock(&p->mu);
			err = write_all(p->fd, b->out, b->out_len);
			pthread_mutex_lock(&p->mu);
			step = "write capture";
			if (!err)
				p->written += b->out_len;
		}
		set_werr(p, err, step);
		p->writing = false;
		b->state = BLOCK_FREE;
		p->write_seq++;
		pthread_cond_broadcast(&p->freed);
	}
}

static void *thread_main(void *arg)
{
	struct tt_cappack *p = arg;
	const char *step = "compress capture";
	struct libdeflate_compressor *z = NULL;
	int err;

	/* it writes to a file already open, and that is all: no capability */
	err = privs__limit_thread(0);
	if (err)
		step = "drop the compression thread's privileges for";
	else if (!(z = deflate_start(p->level)))
		err = -ENOMEM;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct block *b;

		while (!(b = block_in(p, BLOCK_QUEUED, 0, true)) && !p->stop)
			pthread_cond_wait(&p->queued, &p->mu);
		if (!b)
			break;
		b->state = BLOCK_BUSY;
		pthread_mutex_unlock(&p->mu);
		b->err = err ? err : deflate_block(z, b);
		pthread_mutex_lock(&p->mu);
		set_werr(p, err, step);
		b->state = BLOCK_DONE;
		write_ready(p);
	}
	pthread_mutex_unlock(&p->mu);
	libdeflate_free_compressor(z);
	return NULL;
}

static int threads_for(int threads)
{
	long ncpu;

	if (threads < 0)
		return 0;
	if (threads > 0)
		return threads < CAPPACK_MAX_THREADS ? threads : CAPPACK_MAX_THREADS;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2)
		return 0;
	if (ncpu / 4 > CAPPACK_MAX_THREADS)
		return CAPPACK_MAX_THREADS;
	return ncpu < 8 ? 1 : (int)(ncpu / 4);
}

struct tt_cappack *cappack__new(int level, int threads)
{
	struct tt_cappack *p = calloc(1, sizeof(*p));
	int want = threads_for(threads);
	sigset_t all, old;

	if (!p)
		return NULL;
	p->level = level;
	p->fd = -1;
	/* one deflating per thread, one being filled, one queued or being written */
	p->nblocks = want ? (size_t)want + 2 : 1;
	p->blocks = calloc(p->nblocks, sizeof(*p->blocks));
	if (!p->blocks)
		goto nomem;
	for (size_t i = 0; i < p->nblocks; i++) {
		p->blocks[i].in = malloc(CAPPACK_BLOCK);
		p->blocks[i].out = malloc(BLOCK_OUT);
		if (!p->blocks[i].in || !p->blocks[i].out)
			goto nomem;
	}
	if (want) {
		pthread_mutex_init(&p->mu, NULL);
		pthread_cond_init(&p->queued, NULL);
		pthread_cond_init(&p->freed, NULL);
		/* signals are the main loop's: the threads inherit them blocked */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		/* those started do the work; with none, the putting thread does */
		for (int i = 0; i < want && !pthread_create(&p->threads[i], NULL, thread_main, p); i++) {
			pthread_setname_np(p->threads[i], "tcptrail-pack");
			p->nthreads++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!p->nthreads) {
			pthread_mutex_destroy(&p->mu);
			pthread_cond_destroy(&p->queued);
			pthread_cond_destroy(&p->freed);
		}
	}
	if (!p->nthreads && !(p->z = deflate_start(level)))
		goto nomem;
	return p;
nomem:
	cappack__free(p);
	return NULL;
}

void cappack__free(struct tt_cappack *p)
{
	if (!p)
		return;
	if (p->nthreads) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_broadcast(&p->queued);
		pthread_mutex_unlock(&p->mu);
		for (int i = 0; i < p->nthreads; i++)
			pthread_join(p->threads[i], NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->queued);
		pthread_cond_destroy(&p->freed);
	}
	libdeflate_free_compressor(p->z);
	for (size_t i = 0; p->blocks && i < p->nblocks; i++) {
		free(p->blocks[i].in);
		free(p->blocks[i].out);
	}
	free(p->blocks);
	free(p);
}

int cappack__threads(const struct tt_cappack *p)
{
	return p->nthreads;
}

void cappack__set_fd(struct tt_cappack *p, int fd)
{
	/* nothing in flight: the threads touch neither until the next block */
	p->fd = fd;
	p->written = 0;
}

/* A block being filled goes back unused. */
static void release(struct tt_cappack *p, struct block *b)
{
	if (!p->nthreads) {
		b->state = BLOCK_FREE;
		return;
	}
	pthread_mutex_lock(&p->mu);
	b->state = BLOCK_FREE;
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

/* Hand the block being filled on, to be deflated and written. */
static int hand_on(struct tt_cappack *p, const char **step)
{
	struct block *b = p->cur;
	int err;

	p->cur = NULL;
	if (!b || !b->in_len) {
		if (b)
			release(p, b);
		return 0;
	}
	if (p->nthreads) {
		pthread_mutex_lock(&p->mu);
		b->seq = p->next_seq++;
		b->state = BLOCK_QUEUED;
		pthread_cond_signal(&p->queued);
		err = p->werr;
		*step = p->werr_step;
		pthread_mutex_unlock(&p->mu);
		return err;
	}
	b->state = BLOCK_FREE;
	*step = "compress capture";
	err = deflate_block(p->z, b);
	if (err)
		return err;
	*step = "write capture";
	err = write_all(p->fd, b->out, b->out_len);
	if (!err)
		p->written += b->out_len;
	return err;
}

/* A free block to fill, waiting for one while the threads have them all. */
static void take_block(struct tt_cappack *p)
{
	struct block *b = &p->blocks[0];

	if (p->nthreads) {
		pthread_mutex_lock(&p->mu);
		while (!(b = block_in(p, BLOCK_FREE, 0, true)))
			pthread_cond_wait(&p->freed, &p->mu);
		b->state = BLOCK_FILLING;
		pthread_mutex_unlock(&p->mu);
	} else {
		b->state = BLOCK_FILLING;
	}
	b->in_len = 0;
	p->cur = b;
}

int cappack__put(struct tt_cappack *p, const void *buf, size_t n, const char **step)
{
	int err;

	if (n > CAPPACK_BLOCK) {
		*step = "compress capture";
		return -E2BIG;
	}
	if (p->cur && n > CAPPACK_BLOCK - p->cur->in_len) {
		err = hand_on(p, step);
		if (err)
			return err;
	}
	if (!p->cur)
		take_block(p);
	memcpy(p->cur->in + p->cur->in_len, buf, n);
	p->cur->in_len += n;
	return 0;
}

/* Wait until every member handed on is written (or dropped after an error). */
static void wait_written(struct tt_cappack *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->write_seq != p->next_seq)
		pthread_cond_wait(&p->freed, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

int cappack__sync(struct tt_cappack *p, uint64_t *written, const char **step)
{
	int err = hand_on(p, step);

	if (err)
		return err;
	if (p->nthreads) {
		pthread_mutex_lock(&p->mu);
		while (p->write_seq != p->next_seq)
			pthread_cond_wait(&p->freed, &p->mu);
		err = p->werr;
		*step = p->werr_step;
		pthread_mutex_unlock(&p->mu);
	}
	if (!err)
		*written = p->written;
	return err;
}

void cappack__drain(struct tt_cappack *p)
{
	if (p->cur) {
		release(p, p->cur);
		p->cur = NULL;
	}
	if (p->nthreads)
		wait_written(p);
}
