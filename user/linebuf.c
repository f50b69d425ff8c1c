// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: the output line built in memory, one fwrite a line (linebuf.h).
 */
#include <stdarg.h>
#include "linebuf.h"
#include "util.h"

void linebuf__flush(struct linebuf *lb)
{
	if (lb->len)
		fwrite(lb->buf, 1, lb->len, lb->out);
	lb->len = 0;
}

/* In place: a flow line has some twenty numbers, and a scratch copy was a libc memcpy each. */
void linebuf__u64(struct linebuf *lb, uint64_t v)
{
	lb->len += tt_utoa(linebuf__room(lb, TT_UTOA_MAX), v);
}

void linebuf__int(struct linebuf *lb, int v)
{
	if (v < 0) {
		linebuf__char(lb, '-');
		/* INT_MIN too: negated as an unsigned value */
		linebuf__u64(lb, -(uint64_t)(int64_t)v);
		return;
	}
	linebuf__u64(lb, (uint64_t)v);
}

void linebuf__addr(struct linebuf *lb, uint8_t family, const uint8_t addr[16])
{
	lb->len += tt_addr_str(linebuf__room(lb, TT_ADDR_STRLEN), family, addr);
}

/* "\u00XX": the one escape longer than two bytes */
#define ESC_MAX 6

static char *put_u00(char *p, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	memcpy(p, "\\u00", 4);
	p[4] = hex[c >> 4];
	p[5] = hex[c & 0xf];
	return p + ESC_MAX;
}

/* One step of a JSON string: s[i] and what it begins, at p; at most ESC_MAX bytes from at most 4. */
static inline char *json_step(char *p, const unsigned char *s, size_t *i, size_t n)
{
	unsigned char c = s[*i];
	size_t l;

	if (c == '"' || c == '\\') {
		*p++ = '\\';
		*p++ = (char)c;
		(*i)++;
	} else if (c < 0x20 || c == 0x7f) {
		p = put_u00(p, c);
		(*i)++;
	} else if (c < 0x80) {
		*p++ = (char)c;
		(*i)++;
	} else if (c == 0xc2 && *i + 1 < n && s[*i + 1] < 0xa0 && s[*i + 1] >= 0x80) {
		/* C1 (U+0080-U+009F), escaped as C0 is: raw, a CSI would move a terminal's cursor */
		p = put_u00(p, s[*i + 1]);
		*i += 2;
	} else if ((l = tt_utf8_len(s + *i, n - *i))) {
		memcpy(p, s + *i, l);
		p += l;
		*i += l;
	} else {
		p = put_u00(p, c);
		(*i)++;
	}
	return p;
}

char *lbc_json_str(char *p, const char *str, size_t maxlen)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, maxlen);

	*p++ = '"';
	for (size_t i = 0; i < n;)
		p = json_step(p, s, &i, n);
	*p++ = '"';
	return p;
}

/*
 * A chunk's steps start within its (at most) JSON_CHUNK bytes; the last may
 * take 3 more, and no input byte gives more than ESC_MAX: room for that
 * once a chunk, so a path of any length goes out whole.
 */
#define JSON_CHUNK 256

void linebuf__json_str(struct linebuf *lb, const char *str, size_t maxlen)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, maxlen);

	linebuf__char(lb, '"');
	for (size_t i = 0; i < n;) {
		size_t stop = n - i > JSON_CHUNK ? i + JSON_CHUNK : n;
		char *p = linebuf__room(lb, ESC_MAX * (stop - i + 3));

		while (i < stop)
			p = json_step(p, s, &i, n);
		linebuf__commit(lb, p);
	}
	linebuf__char(lb, '"');
}

void linebuf__printf(struct linebuf *lb, const char *fmt, ...)
{
	size_t room = sizeof(lb->buf) - lb->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(lb->buf + lb->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < room) {
		lb->len += (size_t)n;
		return;
	}
	/* it did not fit: what is there goes out first, then it is made again */
	linebuf__flush(lb);
	va_start(ap, fmt);
	n = vsnprintf(lb->buf, sizeof(lb->buf), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(lb->buf)) {
		lb->len = (size_t)n;
		return;
	}
	va_start(ap, fmt);
	vfprintf(lb->out, fmt, ap);
	va_end(ap);
}
