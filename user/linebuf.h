/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An output line built in memory and handed to stdio with one fwrite: the
 * per-record JSON lines, where an fprintf per field was half the daemon's
 * time.  No append can overrun: one that does not fit writes out what is
 * there first, so any input gives the same bytes, at worst in two writes.
 *
 * The struct is open so that a line needs no allocation: the sink keeps one,
 * json_str() puts one on the stack.
 */
#ifndef TT_LINEBUF_H
#define TT_LINEBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

/* A flow line is about 750 bytes and at most ~1.5 KiB (every comm byte escaped). */
#define LINEBUF_SIZE 4096

struct linebuf {
	FILE *out;
	size_t len;
	char buf[LINEBUF_SIZE];
};

static inline void linebuf__init(struct linebuf *lb, FILE *out)
{
	lb->out = out;
	lb->len = 0;
}

/* Write out what is buffered; a stdio error is left in ferror(out) as fprintf leaves it. */
void linebuf__flush(struct linebuf *lb);

/*
 * Room for n <= LINEBUF_SIZE more bytes at the end; the caller adds what it
 * used to len, or writes at the cursor returned and hands it to
 * linebuf__commit().
 */
static inline char *linebuf__room(struct linebuf *lb, size_t n)
{
	if (n > sizeof(lb->buf) - lb->len)
		linebuf__flush(lb);
	return lb->buf + lb->len;
}

static inline void linebuf__mem(struct linebuf *lb, const void *p, size_t n)
{
	if (n > sizeof(lb->buf)) {
		linebuf__flush(lb);
		fwrite(p, 1, n, lb->out);
		return;
	}
	memcpy(linebuf__room(lb, n), p, n);
	lb->len += n;
}

/* A string literal, its length known at compile time. */
#define linebuf__lit(lb, s) linebuf__mem((lb), "" s, sizeof(s) - 1)

static inline void linebuf__str(struct linebuf *lb, const char *s)
{
	/* "" is common (a colour when colours are off): no libc call for it */
	if (s[0])
		linebuf__mem(lb, s, strlen(s));
}

static inline void linebuf__char(struct linebuf *lb, char c)
{
	*linebuf__room(lb, 1) = c;
	lb->len++;
}

/*
 * A run of appends whose most is known: linebuf__room() makes room for it
 * once, the lbc_*() writers append at the cursor it returns with no check,
 * and linebuf__commit() takes the cursor back.  The per-record lines go
 * this way: appends that each checked and stored the length sent it
 * through memory between every two, a tenth of the daemon's time.  Ask
 * room for the run's most: writing past it can write past the buffer.
 */
static inline void linebuf__commit(struct linebuf *lb, char *p)
{
	lb->len = (size_t)(p - lb->buf);
}

/* A string literal at cursor p, which moves past it. */
#define lbc_lit(p, s) ((p) = (char *)memcpy((p), "" s, sizeof(s) - 1) + sizeof(s) - 1)

/* Decimal, at most TT_UTOA_MAX bytes. */
static inline char *lbc_u64(char *p, uint64_t v)
{
	return p + tt_utoa(p, v);
}

/* "true" (4) or "false" (5). */
static inline char *lbc_bool(char *p, int v)
{
	if (v)
		return lbc_lit(p, "true");
	return lbc_lit(p, "false");
}

/* A NUL-terminated string whose length the run's most allows for. */
static inline char *lbc_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* The most a JSON string of n bytes takes, with its quotes (lbc_json_str). */
#define LBC_JSON_STR_MAX(n) (2 + 6 * (n))

/* As linebuf__json_str(), at most LBC_JSON_STR_MAX(maxlen) bytes. */
char *lbc_json_str(char *p, const char *s, size_t maxlen);

/* Decimal, as printf's %u / PRIu64. */
void linebuf__u64(struct linebuf *lb, uint64_t v);

/* As printf's %d. */
void linebuf__int(struct linebuf *lb, int v);

/* "true" or "false". */
static inline void linebuf__bool(struct linebuf *lb, int v)
{
	if (v)
		linebuf__lit(lb, "true");
	else
		linebuf__lit(lb, "false");
}

/* An address as tt_fmt_addr() writes it. */
void linebuf__addr(struct linebuf *lb, uint8_t family, const uint8_t addr[16]);

/* As fprintf; for the lines written once an interval, not per record. */
void linebuf__printf(struct linebuf *lb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A JSON string with its quotes, escaped as json_str() documents. */
void linebuf__json_str(struct linebuf *lb, const char *s, size_t maxlen);

#endif /* TT_LINEBUF_H */
