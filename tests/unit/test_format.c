// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The hand-rolled formatters against what the output used before them:
 * inet_ntop(), printf, and the fprintf-based JSON string escaper.  They
 * must agree byte for byte on every input.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <linux/types.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
#include "json.h"
#include "linebuf.h"
#include "tcptrail.h"
#include "util.h"
#include "tt_test.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int addr_differs(uint8_t family, const uint8_t a[16])
{
	char want[INET6_ADDRSTRLEN], got[TT_ADDR_STRLEN];
	size_t n = tt_addr_str(got, family, a);

	if (!inet_ntop(family == TT_AF_INET6 ? AF_INET6 : AF_INET, a, want, sizeof(want)))
		return 1;
	if (strcmp(got, want) || n != strlen(want)) {
		fprintf(stderr, "    inet_ntop %s, tt_addr_str %s\n", want, got);
		return 1;
	}
	return 0;
}

TEST(format_ipv4_as_inet_ntop)
{
	uint8_t a[16] = {};
	int bad = 0;

	for (int pos = 0; pos < 4; pos++) {
		for (int v = 0; v < 256; v++) {
			memset(a, 0, sizeof(a));
			a[pos] = (uint8_t)v;
			a[3 - pos] = (uint8_t)(255 - v);
			bad += addr_differs(TT_AF_INET, a);
		}
	}
	for (int i = 0; i < 100000; i++) {
		for (int k = 0; k < 16; k++)
			a[k] = (uint8_t)rnd();
		bad += addr_differs(TT_AF_INET, a);
	}
	CHECK_EQ_INT(bad, 0);
}

TEST(format_ipv6_as_inet_ntop)
{
	/* what decides the text: which groups are zero, group 5 = ffff, the group widths */
	static const uint16_t fill[] = { 1, 0xffff, 0xf, 0x10, 0xabc, 0x100, 0x1000, 0x7f00 };
	uint8_t a[16];
	int bad = 0;

	for (unsigned int zeros = 0; zeros < 256; zeros++) {
		for (unsigned int f = 0; f < sizeof(fill) / sizeof(fill[0]); f++) {
			for (int g = 0; g < 8; g++) {
				uint16_t w = zeros >> g & 1 ? 0 : fill[(f + (unsigned int)g) % 8];

				a[2 * g] = (uint8_t)(w >> 8);
				a[2 * g + 1] = (uint8_t)w;
			}
			bad += addr_differs(TT_AF_INET6, a);
			/* and the same with group 5 ffff: the IPv4-mapped form */
			a[10] = a[11] = 0xff;
			bad += addr_differs(TT_AF_INET6, a);
		}
	}
	for (int i = 0; i < 100000; i++) {
		for (int k = 0; k < 16; k++)
			a[k] = rnd() % 4 ? 0 : (uint8_t)rnd();
		bad += addr_differs(TT_AF_INET6, a);
	}
	CHECK_EQ_INT(bad, 0);
}

TEST(format_addr_short_buffer_is_a_question_mark)
{
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	char buf[12];

	/* inet_ntop() needs the NUL's byte too */
	tt_fmt_addr(TT_AF_INET6, a, buf, 11);
	CHECK_STR(buf, "?");
	tt_fmt_addr(TT_AF_INET6, a, buf, sizeof(buf));
	CHECK_STR(buf, "2001:db8::1");
}

/* The escaper the sinks had before the line buffer, kept as the reference. */
static size_t ref_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void ref_json_str(FILE *f, const char *str, size_t maxlen)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = 0;

	while (n < maxlen && s[n])
		n++;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else if ((l = ref_utf8_len(s + i, n - i)) == 2 && c == 0xc2 && s[i + 1] < 0xa0) {
			/* C1: escaped, as C0 is (a raw CSI moves a terminal's cursor) */
			fprintf(f, "\\u%04x", s[i + 1]);
			i += 2;
		} else if (l) {
			fwrite(s + i, 1, l, f);
			i += l;
		} else {
			fprintf(f, "\\u%04x", c);
			i++;
		}
	}
	fputc('"', f);
}

static int json_differs(const char *s, size_t maxlen)
{
	char *want = NULL, *got = NULL;
	size_t wlen = 0, glen = 0;
	FILE *w = open_memstream(&want, &wlen), *g = open_memstream(&got, &glen);
	int differs;

	ref_json_str(w, s, maxlen);
	json_str(g, s, maxlen);
	fclose(w);
	fclose(g);
	differs = wlen != glen || memcmp(want, got, wlen);
	if (differs)
		fprintf(stderr, "    reference %s, json_str %s\n", want, got);
	/* the cursor's writer, in exactly the room it asks for */
	if (!differs && maxlen <= 64) {
		char room[LBC_JSON_STR_MAX(64)];
		char *at = room + sizeof(room) - LBC_JSON_STR_MAX(maxlen);
		size_t n = (size_t)(lbc_json_str(at, s, maxlen) - at);

		differs = n != wlen || memcmp(at, want, n);
		if (differs)
			fprintf(stderr, "    reference %s, lbc_json_str %.*s\n", want, (int)n, at);
	}
	free(want);
	free(got);
	return differs;
}

TEST(format_json_str_as_before)
{
	/* the bytes that pick a branch: escapes, UTF-8 leads, continuations */
	static const unsigned char pick[] = {
		0, 1, 0x1f, ' ', '"', '\\', 'a', 0x7f, 0x80, 0x9f, 0xbf, 0xc0, 0xc1, 0xc2,
		0xc3, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xf8, 0xff,
	};
	const size_t np = sizeof(pick);
	char s[17];
	int bad = 0;

	for (int c = 0; c < 256; c++) {
		s[0] = (char)c;
		s[1] = 'x';
		bad += json_differs(s, 2);
	}
	/* every 4-byte string over pick[], cut at each length */
	for (size_t a = 0; a < np; a++)
		for (size_t b = 0; b < np; b++)
			for (size_t c = 0; c < np; c++)
				for (size_t d = 0; d < np; d++) {
					s[0] = (char)pick[a];
					s[1] = (char)pick[b];
					s[2] = (char)pick[c];
					s[3] = (char)pick[d];
					s[4] = 'z';
					bad += json_differs(s, 4 + rnd() % 2);
				}
	for (int i = 0; i < 20000; i++) {
		for (int k = 0; k < 17; k++)
			s[k] = (char)(rnd() % 3 ? pick[rnd() % np] : rnd());
		bad += json_differs(s, 16);
		bad += json_differs(s, 17);
	}
	/* longer than a line buffer, of the bytes that pick a branch: sequences cross its chunks */
	for (int round = 0; round < 200; round++) {
		size_t n = LINEBUF_SIZE + rnd() % 1024;
		char *big = malloc(n);

		REQUIRE(big);
		for (size_t k = 0; k < n; k++)
			big[k] = (char)(rnd() % 4 ? pick[1 + rnd() % (np - 1)] : 'a');	/* no NUL */
		bad += json_differs(big, n);
		free(big);
	}
	/* longer than a line buffer, every byte escaped */
	{
		size_t n = LINEBUF_SIZE;
		char *big = malloc(n);

		REQUIRE(big);
		for (size_t k = 0; k < n; k++)
			big[k] = k % 2 ? 0x01 : '"';
		bad += json_differs(big, n);
		free(big);
	}
	CHECK_EQ_INT(bad, 0);
}

/*
 * Close the two memory streams (g: through a linebuf, w: by stdio) and check
 * that they hold the same bytes, more of them than a line buffer holds.
 */
static void check_same_past_buffer(FILE *g, char **got, size_t *glen, FILE *w, char **want,
				   size_t *wlen, int *tt_failed_)
{
	fclose(g);
	fclose(w);
	CHECK(*glen > LINEBUF_SIZE);
	CHECK(*glen == *wlen && !memcmp(*got, *want, *wlen));
	free(*got);
	free(*want);
}

TEST(format_numbers_and_overflow)
{
	static const uint64_t vals[] = { 0, 1, 9, 10, 99, 100, 65535, 4294967295ull,
					 4294967296ull, 10000000000000000000ull, UINT64_MAX };
	static const int ints[] = { 0, 1, -1, 42, -2147483647 - 1, 2147483647 };
	char *got = NULL, *want = NULL;
	size_t glen = 0, wlen = 0;
	FILE *g = open_memstream(&got, &glen), *w = open_memstream(&want, &wlen);
	struct linebuf lb;

	linebuf__init(&lb, g);
	/* past the buffer's size many times over: flushed on the way, nothing lost */
	for (int round = 0; round < 500; round++) {
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			linebuf__u64(&lb, vals[i]);
			linebuf__char(&lb, ',');
			fprintf(w, "%" PRIu64 ",", vals[i]);
		}
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
			linebuf__int(&lb, ints[i]);
			linebuf__lit(&lb, ";");
			fprintf(w, "%d;", ints[i]);
		}
		linebuf__bool(&lb, round & 1);
		fputs(round & 1 ? "true" : "false", w);
	}
	linebuf__flush(&lb);
	check_same_past_buffer(g, &got, &glen, w, &want, &wlen, tt_failed_);
}

/* A run reserved near the buffer's end: what is there goes out first, and the run whole after it. */
TEST(format_reserved_runs_as_printf)
{
	char *got = NULL, *want = NULL;
	size_t glen = 0, wlen = 0;
	FILE *g = open_memstream(&got, &glen), *w = open_memstream(&want, &wlen);
	struct linebuf lb;

	linebuf__init(&lb, g);
	for (size_t fill = LINEBUF_SIZE - 300; fill <= LINEBUF_SIZE; fill += 7) {
		char *p;

		for (size_t k = 0; k < fill % 509; k++) {
			linebuf__char(&lb, 'a');
			fputc('a', w);
		}
		p = linebuf__room(&lb, 2 * TT_UTOA_MAX + LBC_JSON_STR_MAX(16) + 20);
		lbc_lit(p, ",\"n\":");
		p = lbc_u64(p, UINT64_MAX - fill);
		p = lbc_bool(p, fill & 1);
		p = lbc_str(p, "x\"y");
		p = lbc_json_str(p, "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01", 16);
		linebuf__commit(&lb, p);
		fprintf(w, ",\"n\":%" PRIu64 "%sx\"y\"%s\"", UINT64_MAX - fill, fill & 1 ? "true" : "false",
			"\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001"
			"\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001\\u0001");
		CHECK(lb.len <= LINEBUF_SIZE);
	}
	linebuf__flush(&lb);
	check_same_past_buffer(g, &got, &glen, w, &want, &wlen, tt_failed_);
}

TEST(format_u64_as_printf)
{
	char want[32];
	struct linebuf lb;
	int bad = 0;

	for (uint64_t i = 0; i < 300000; i++) {
		/* every value up to 300000, then around each power of ten, then at random */
		uint64_t pow = 1, v = i;

		if (i >= 200000) {
			for (uint64_t k = (i - 200000) / 3 % 20; k; k--)
				pow *= 10;
			v = i % 3 == 0 ? pow - 1 : i % 3 == 1 ? pow : pow + 1;
			if (i >= 200060)
				v = rnd() >> (rnd() % 64);
		}
		linebuf__init(&lb, NULL);
		linebuf__u64(&lb, v);
		snprintf(want, sizeof(want), "%" PRIu64, v);
		if (lb.len != strlen(want) || memcmp(lb.buf, want, lb.len))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
}

/*
 * tt_fmt_duration() all in printf: the integer path must say the same.  A
 * unit is chosen by the value as it rounds there (999.6 us is 1.00ms, not
 * 1000us; 59.96 s is 1m00s, not 60.0s), which printf's rounding is not told.
 */
static void duration_by_printf(uint64_t ns, char *buf, size_t len)
{
	double us = ns / 1e3, ms = ns / 1e6, s = ns / 1e9;
	uint64_t secs = ns / 1000000000ull + (ns % 1000000000ull >= 500000000ull);

	if (ns < 1000)
		snprintf(buf, len, "%uns", (unsigned int)ns);
	else if (ns < 10000 - 5)
		snprintf(buf, len, "%.2fus", us);
	else if (ns < 1000000 - 500)
		snprintf(buf, len, "%.0fus", us);
	else if (ns < 10000000 - 5000)
		snprintf(buf, len, "%.2fms", ms);
	else if (ns < 1000000000 - 500000)
		snprintf(buf, len, "%.0fms", ms);
	else if (ns < 10000000000ull - 5000000)
		snprintf(buf, len, "%.2fs", s);
	else if (ns < 60000000000ull - 50000000)
		snprintf(buf, len, "%.1fs", s);
	else if (secs < 3600)
		snprintf(buf, len, "%um%02us", (unsigned int)(secs / 60), (unsigned int)(secs % 60));
	else if (secs < 86400)
		snprintf(buf, len, "%uh%02um", (unsigned int)(secs / 3600),
			 (unsigned int)(secs % 3600 / 60));
	else
		snprintf(buf, len, "%ud%02uh", (unsigned int)(secs / 86400),
			 (unsigned int)(secs % 86400 / 3600));
}

static int duration_differs(uint64_t ns)
{
	char want[64], got[64];

	duration_by_printf(ns, want, sizeof(want));
	/* and its length is the string's */
	return tt_fmt_duration(ns, got, sizeof(got)) != strlen(got) || strcmp(want, got) != 0;
}

TEST(format_duration_as_printf_did)
{
	char small[5];
	int bad = 0;

	/* every value to 2 ms, then around every unit's ties and edges, then at random */
	for (uint64_t ns = 0; ns < 2000000; ns++)
		bad += duration_differs(ns);
	for (uint64_t p = 1; p <= 100000000000000000ull; p *= 10)
		for (uint64_t k = 1; k < 10; k++)
			for (int64_t d = -3; d <= 3; d++)
				for (int half = 0; half < 2; half++)
					bad += duration_differs((half ? p * k / 2 : p * k) + (uint64_t)d);
	for (int i = 0; i < 1000000; i++)
		bad += duration_differs(rnd() >> (rnd() % 54 + 10));
	CHECK_EQ_INT(bad, 0);
	/* cut to the buffer, as snprintf cuts, and the length is what was written */
	CHECK_EQ_INT((int)tt_fmt_duration(1234567, small, sizeof(small)), 4);
	CHECK_STR(small, "1.23");
	CHECK_EQ_INT((int)tt_fmt_duration(3723000000000ull, small, sizeof(small)), 4);
	CHECK_STR(small, "1h02");
	CHECK_EQ_INT((int)tt_fmt_duration(1500, small, 0), 0);
	/* at a unit's edge, the next unit */
	static const struct { uint64_t ns; const char *want; } edges[] = {
		{ 999999, "1.00ms" }, { 999600000, "1.00s" }, { 9999999999ull, "10.0s" },
		{ 59960000000ull, "1m00s" }, { 9996, "10us" }, { 999, "999ns" },
		{ 3599600000000ull, "1h00m" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		tt_fmt_duration(edges[i].ns, buf, sizeof(buf));
		CHECK_STR(buf, edges[i].want);
	}
}

/*
 * A comm or a path may hold anything: what reaches a terminal has no C0 or
 * C1 control (an 8-bit CSI, 0x9b, starts an escape on some), and no byte
 * that is no UTF-8; real UTF-8 stays, and the length does too.
 */
TEST(format_printable_leaves_no_terminal_control)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "x\x9b" "31my", "x?31my" },
		{ "h\xc3\xa9llo", "h\xc3\xa9llo" },
		{ "\xc2\x9b[31m", "??[31m" },
		{ "a\x1b[2J", "a?[2J" },
		{ "tab\there\x7f", "tab?here?" },
		{ "cut\xe2\x82", "cut??" },
		{ "\xe2\x82\xac euro", "\xe2\x82\xac euro" },
		{ "\xc2\xa0nbsp", "\xc2\xa0nbsp" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		tt_printable(buf, strlen(buf));
		CHECK_STR(buf, cases[i].want);
	}
	/* n bounds it: a name of 16 bytes without a NUL */
	memcpy(buf, "abcdefghijklmno\x9b" "Z", 18);
	tt_printable(buf, 16);
	CHECK(!memcmp(buf, "abcdefghijklmno?Z", 17));
}

static size_t put_utf8(char *p, uint32_t cp)
{
	if (cp < 0x80) {
		p[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		p[0] = (char)(0xc0 | cp >> 6);
		p[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		p[0] = (char)(0xe0 | cp >> 12);
		p[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		p[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	p[0] = (char)(0xf0 | cp >> 18);
	p[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	p[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	p[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A character takes the columns the C library's wcwidth() gives it (two for
 * wide East Asian ones and emoji), for every code point it gives one or two;
 * those it gives none (combining marks) or calls unprintable count one.
 */
TEST(format_utf8_columns_are_wcwidth)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), old;
	unsigned int wrong = 0, wide = 0;
	uint32_t first = 0;

	if (!l)
		SKIP("no C.UTF-8 locale to compare with");
	old = uselocale(l);
	for (uint32_t cp = 0xa0; cp <= 0x3ffff; cp++) {
		char s[8];
		size_t n;
		int w;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		w = wcwidth((wchar_t)cp);
		if (w != 1 && w != 2)
			continue;
		n = put_utf8(s, cp);
		s[n] = 'x';
		wide += w == 2;
		if (tt_utf8_cols(s, n + 1) != (size_t)w + 1 && !wrong++)
			first = cp;
	}
	uselocale(old);
	freelocale(l);
	CHECK(wide > 100000);
	CHECK_EQ_INT((int)wrong, 0);
	if (wrong)
		fprintf(stderr, "    first at U+%04X\n", (unsigned int)first);
	/* the two forms a terminal shows of each: a byte no UTF-8, a '?' */
	CHECK_EQ_INT((int)tt_utf8_cols("\xe4\xb8\xad\xe6\x96\x87", 6), 4);
	CHECK_EQ_INT((int)tt_utf8_cols("\xe4\xb8\xad\xe6\x96\x87", 3), 2);
	CHECK_EQ_INT((int)tt_utf8_cols("a\xff" "b", 3), 3);
	CHECK_EQ_INT((int)tt_utf8_cols("ab\0cd", 5), 2);
}
