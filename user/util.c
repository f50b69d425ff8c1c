// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Support: logging, formatting of times, addresses and durations, stdout.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "tcptrail.h"
#include "util.h"

int tt_verbosity = TT_LOG_INFO;

void tt_log(enum tt_log_level level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	if ((int)level > tt_verbosity)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		memcpy(line + n - 3, "...", 3);
	}
	/*
	 * One line, and nothing a terminal takes for a command: a value from
	 * the command line, a path or a comm may hold a newline or an escape.
	 */
	tt_printable(line, (size_t)n);
	fprintf(stderr, "tcptrail: %.*s\n", n, line);
}

/* the calls tt_log_counted() keeps counts for; any past them are said every time */
#define COUNTED_MAX 32

static struct {
	const char *fmt;
	uint64_t n;
} counted[COUNTED_MAX];
static pthread_mutex_t counted_mu = PTHREAD_MUTEX_INITIALIZER;

static bool power_of_ten(uint64_t n)
{
	while (n >= 10 && n % 10 == 0)
		n /= 10;
	return n == 1;
}

void tt_log_counted(enum tt_log_level level, const char *fmt, ...)
{
	char line[4096];
	uint64_t n = 1;
	va_list ap;
	size_t i;

	if ((int)level > tt_verbosity)
		return;
	/* the census thread and the main loop both say these */
	pthread_mutex_lock(&counted_mu);
	for (i = 0; i < COUNTED_MAX && counted[i].fmt && counted[i].fmt != fmt; i++)
		;
	if (i < COUNTED_MAX) {
		counted[i].fmt = fmt;
		n = ++counted[i].n;
	}
	pthread_mutex_unlock(&counted_mu);
	if (!power_of_ten(n))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 1)
		tt_log(level, "%s (%llu times so far)", line, (unsigned long long)n);
	else
		tt_log(level, "%s", line);
}

int tt_parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	/* strtoll skips leading white space and takes a sign; we want neither quietly */
	if (isspace((unsigned char)*s) || *s == '+' || (*s == '-' && min >= 0))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Digits in v's decimal form, 1 to 20. */
static unsigned int dec_digits(uint64_t v)
{
	unsigned int n = 1;

	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

void tt_fmt_name(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name), head, tail, k = 0;

	if (!len)
		return;
	if (n < len) {
		head = n;
		tail = 0;
	} else {
		/* "..." and the NUL: the rest split between the ends */
		head = len > 4 ? (len - 4) / 2 : 0;
		tail = len > 4 ? len - 4 - head : 0;
	}
	for (size_t i = 0; i < head; i++)
		buf[k++] = name[i];
	if (n >= len && len > 4) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	for (size_t i = n - tail; i < n; i++)
		buf[k++] = name[i];
	buf[k] = '\0';
	tt_printable(buf, k);
}

const char *tt_errno_name(unsigned int err, char buf[TT_ERRNO_NAME_MAX])
{
	/* the C library numbers errors as its kernel does (a capture of another architecture's may differ) */
	const char *name = err ? strerrorname_np((int)err) : NULL;

	if (name)
		snprintf(buf, TT_ERRNO_NAME_MAX, "%s", name);
	else
		snprintf(buf, TT_ERRNO_NAME_MAX, "errno %u", err);
	return buf;
}

size_t tt_utoa(char buf[TT_UTOA_MAX], uint64_t v)
{
	unsigned int n = dec_digits(v);
	char *p = buf + n;
	uint32_t w;

	/* from the last digit back: eight a 64-bit division, then two a 32-bit one */
	while (v > UINT32_MAX) {
		uint32_t lo = (uint32_t)(v % 100000000);

		v /= 100000000;
		for (int i = 0; i < 4; i++, lo /= 100) {
			p -= 2;
			memcpy(p, digit_pairs + 2 * (lo % 100), 2);
		}
	}
	for (w = (uint32_t)v; w >= 100; w /= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (w % 100), 2);
	}
	if (w >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * w, 2);
	} else {
		*--p = (char)('0' + w);
	}
	return n;
}

/* src[0..n) into buf as a string, cut to len - 1 as snprintf cuts: the length written. */
static size_t copy_cut(char *buf, size_t len, const char *src, size_t n)
{
	if (!len)
		return 0;
	n = n < len - 1 ? n : len - 1;
	memcpy(buf, src, n);
	buf[n] = '\0';
	return n;
}

/*
 * ns in units of `unit` ns, rounded to nearest, as "%.<places>f" + suffix
 * prints the double ns / (unit * 10^places): exactly when ns is not half
 * way between two units (printf rounds the double's exact value, which a
 * tie's is not; those go through printf).  False if it is a tie.
 */
static bool fmt_units(uint64_t ns, uint64_t unit, int places, const char *suffix, char *buf,
		      size_t len, size_t *out)
{
	uint64_t q = ns / unit, r = ns % unit, scale = places == 2 ? 100 : places == 1 ? 10 : 1;
	char tmp[TT_UTOA_MAX + 8], *p = tmp;

	if (unit % 2 == 0 && r == unit / 2)
		return false;
	q += r > unit / 2;
	p += tt_utoa(p, q / scale);
	if (places) {
		*p++ = '.';
		for (int i = places - 1; i >= 0; i--, q /= 10)
			p[i] = (char)('0' + q % 10);
		p += places;
	}
	p = stpcpy(p, suffix);
	*out = copy_cut(buf, len, tmp, (size_t)(p - tmp));
	return true;
}

/* snprintf's return as the length it wrote */
static size_t cut_len(int n, size_t len)
{
	if (n < 0 || !len)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

size_t tt_fmt_duration(uint64_t ns, char *buf, size_t len)
{
	/* below, the unit it is counted in, decimals, suffix; ns as a double over div */
	static const struct {
		uint64_t below, unit;
		int places;
		const char *suffix;
		double div;
	} steps[] = {
		{ 1000ull, 1, 0, "ns", 1 },
		{ 10000ull, 10, 2, "us", 1e3 },
		{ 1000000ull, 1000, 0, "us", 1e3 },
		{ 10000000ull, 10000, 2, "ms", 1e6 },
		{ 1000000000ull, 1000000, 0, "ms", 1e6 },
		{ 10000000000ull, 10000000, 2, "s", 1e9 },
		{ 60000000000ull, 100000000, 1, "s", 1e9 },
	};
	/* rounded, as the steps round: 59.96 s is 1m00s, not 0m59s */
	uint64_t secs = ns / 1000000000ull + (ns % 1000000000ull >= 500000000ull);
	size_t n;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		/* by the value it rounds to: 999.6 us is 1.00ms, not 1000us */
		if (ns >= steps[i].below - steps[i].unit / 2)
			continue;
		/* in integers (a fifth of a flow line's cost was printf's doubles), but for a tie */
		if (fmt_units(ns, steps[i].unit, steps[i].places, steps[i].suffix, buf, len, &n))
			return n;
		return cut_len(snprintf(buf, len, "%.*f%s", steps[i].places,
					(double)ns / steps[i].div, steps[i].suffix), len);
	}
	if (secs < 3600)
		return cut_len(snprintf(buf, len, "%um%02us", (unsigned int)(secs / 60),
					(unsigned int)(secs % 60)), len);
	if (secs < 86400)
		return cut_len(snprintf(buf, len, "%uh%02um", (unsigned int)(secs / 3600),
					(unsigned int)(secs % 3600 / 60)), len);
	return cut_len(snprintf(buf, len, "%ud%02uh", (unsigned int)(secs / 86400),
				(unsigned int)(secs % 86400 / 3600)), len);
}

static char *put_byte(char *p, unsigned int v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *put_ipv4(char *p, const uint8_t a[4])
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_byte(p, a[i]);
	}
	return p;
}

/* As "%x": lowercase, no leading zeros. */
static char *put_hex16(char *p, unsigned int w)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && !(w >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hex[(w >> shift) & 0xf];
	return p;
}

/*
 * glibc's inet_ntop(), which the output always had, rule for rule: the first
 * longest run of two or more zero groups becomes "::", and ::a.b.c.d and
 * ::ffff:a.b.c.d keep their dotted tail.  The unit tests hold the two equal.
 */
size_t tt_addr_str(char dst[TT_ADDR_STRLEN], uint8_t family, const uint8_t addr[16])
{
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	unsigned int w[8];
	char *p = dst;

	if (family != 10) {
		p = put_ipv4(p, addr);
		*p = '\0';
		return (size_t)(p - dst);
	}
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned int)addr[2 * i] << 8 | addr[2 * i + 1];
	for (int i = 0; i <= 8; i++) {
		if (i < 8 && !w[i]) {
			if (cur < 0)
				cur = i, cur_len = 0;
			cur_len++;
		} else if (cur >= 0) {
			if (best < 0 || cur_len > best_len)
				best = cur, best_len = cur_len;
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			p = put_ipv4(p, addr + 12);
			break;
		}
		p = put_hex16(p, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = '\0';
	return (size_t)(p - dst);
}

void tt_fmt_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	char a[TT_ADDR_STRLEN];
	size_t n = tt_addr_str(a, family, addr);

	/* inet_ntop's ENOSPC, which the output showed as "?" */
	if (n >= len) {
		snprintf(buf, len, "?");
		return;
	}
	memcpy(buf, a, n + 1);
}

size_t tt_fmt_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port,
		       char *buf, size_t len)
{
	char tmp[TT_ADDR_STRLEN + 16], *p = tmp;

	if (family == 10)
		*p++ = '[';
	p += tt_addr_str(p, family, addr);
	if (family == 10)
		*p++ = ']';
	*p++ = ':';
	p += tt_utoa(p, port);
	return copy_cut(buf, len, tmp, (size_t)(p - tmp));
}

int64_t tt_mono_to_wall_offset(void)
{
	struct timespec m1, r, m2;

	/* bracket the realtime read so the offset errs by at most half the gap */
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	int64_t mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec +
			(int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) / 2;
	return (int64_t)r.tv_sec * 1000000000 + r.tv_nsec - mono;
}

void tt_fmt_clock(int64_t wall_ns, char *buf, size_t len)
{
	time_t t = wall_ns / 1000000000;
	struct tm tm;

	/* UTC, as the JSON and logfmt times: one clock in every output */
	if (wall_ns < 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(wall_ns / 1000000 % 1000));
}

/* errno of the first write to fd 1 that failed, 0 while none has */
static int stdout_err;
volatile sig_atomic_t tt_stdout_abandoned;
static volatile sig_atomic_t stdout_writing;	/* in stdout_write(), maybe waiting */

int tt_stdout_errno(void)
{
	return ferror(stdout) ? (stdout_err ? stdout_err : EIO) : 0;
}

/* fd 1's flags before a give-up made its writes stop waiting; -1 while none has */
static volatile sig_atomic_t stdout_flags = -1;

void tt_stdout_give_up_if_writing(void)
{
	int fl;

	if (!stdout_writing)
		return;
	tt_stdout_abandoned = 1;
	/*
	 * A write that was waiting has been interrupted; one about to start,
	 * past its check of the flag above, would wait for good: make it not
	 * wait.  fcntl() may be called here; the write that stops puts them back.
	 */
	fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK) && stdout_flags < 0 &&
	    !fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK))
		stdout_flags = fl;
}

bool tt_v4_mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

const uint8_t *tt_unmap_v4(uint8_t *family, const uint8_t *addr, uint8_t v4[16])
{
	if (*family != TT_AF_INET6 || !tt_v4_mapped(addr))
		return addr;
	memset(v4, 0, 16);
	memcpy(v4, addr + 12, 4);
	*family = TT_AF_INET;
	return v4;
}

char *tt_read_text(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (len < max) {
		ssize_t k = read(fd, buf + len, max - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static uint64_t stdout_blocked;

uint64_t tt_stdout_blocked_ns(void)
{
	return stdout_blocked;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* a write that took this long was held up, not merely slow */
#define STDOUT_BLOCKED_NS	(100ull * 1000000ull)

static ssize_t stdout_write(void *cookie, const char *buf, size_t n)
{
	uint64_t t0 = mono_ns(), took;
	size_t done = 0;

	(void)cookie;
	stdout_writing = 1;
	while (done < n) {
		ssize_t k;

		/* a reader that does not read, and a second signal: no more waiting for it */
		if (tt_stdout_abandoned) {
			if (!stdout_err)
				stdout_err = ECANCELED;
			break;
		}
		k = write(STDOUT_FILENO, buf + done, n - done);
		if (k < 0 && (errno == EINTR || (errno == EAGAIN && tt_stdout_abandoned)))
			continue;
		if (k <= 0) {
			if (!stdout_err)
				stdout_err = k < 0 ? errno : EIO;
			break;
		}
		done += (size_t)k;
	}
	stdout_writing = 0;
	took = mono_ns() - t0;
	if (took >= STDOUT_BLOCKED_NS)
		stdout_blocked += took;
	/* a terminal the shell shares must not be left non-blocking */
	if (stdout_flags >= 0) {
		fcntl(STDOUT_FILENO, F_SETFL, (int)stdout_flags);
		stdout_flags = -1;
	}
	/* fopencookie: the bytes written, 0 for an error, never negative */
	return (ssize_t)done;
}

int tt_stdout_track(void)
{
	FILE *f = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = stdout_write });

	if (!f)
		return -errno;
	fflush(stdout);
	stdout = f;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return 0;
}

void tt_stdout_batch(void)
{
	/*
	 * Not a terminal: whole batches, one write each, flushed by the
	 * driver loop after every batch (at least every 50 ms), instead of
	 * a write per line (12% of the daemon under load).
	 */
	static char buf[1 << 16];

	/* glibc ignores the size without a buffer, and takes 8 KiB: 7 lines a write */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, buf, _IOFBF, sizeof(buf));
}

bool tt_term_dumb(void)
{
	const char *term = getenv("TERM");

	/* Emacs' shell, a serial console, a CI log: colours and clears come out as junk */
	return !term || !*term || !strcmp(term, "dumb");
}

int tt_stdout_failed(void)
{
	int err;

	if (!ferror(stdout))
		return 0;
	err = stdout_err ? stdout_err : EIO;
	if (err == EPIPE) {
		tt_debug("the reader of our output closed the pipe: stopping");
		return -1;
	}
	if (err == ECANCELED)
		tt_err("write output: given up at the second signal, its reader not reading: "
		       "the output's last lines are lost");
	else
		tt_err("write output: %s", strerror(err));
	return 1;
}

#define HUGE_PAGE	(2u << 20)

static size_t big_len(size_t n)
{
	return (n + HUGE_PAGE - 1) & ~((size_t)HUGE_PAGE - 1);
}

void *tt_big_zalloc(size_t n)
{
	size_t len = big_len(n);
	char *p, *at;

	if (!n || len < n) {
		errno = EINVAL;
		return NULL;
	}
	/* a huge page must be aligned: map one more and trim both ends */
	p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	at = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~((uintptr_t)HUGE_PAGE - 1));
	if (at > p)
		munmap(p, (size_t)(at - p));
	munmap(at + len, (size_t)(p + HUGE_PAGE - at));
	/* where the kernel has no huge pages for us this fails, and small ones do */
	madvise(at, len, MADV_HUGEPAGE);
	return at;
}

void tt_big_free(void *p, size_t n)
{
	if (p)
		munmap(p, big_len(n));
}

size_t tt_comm_len(const char *comm)
{
	const unsigned char *u = (const unsigned char *)comm;
	size_t n = strnlen(comm, 16), lead = n, need;

	/* only a comm of 15 bytes was cut (TASK_COMM_LEN is 16 with its NUL) */
	if (n != 15)
		return n;
	while (lead > 0 && n - lead < 3 && (u[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (!lead--)
		return n;
	need = u[lead] >= 0xf0 ? 4 : u[lead] >= 0xe0 ? 3 : 2;
	/* a lead byte with fewer continuation bytes than it needs, at the end */
	return u[lead] >= 0xc2 && u[lead] <= 0xf4 && n - lead < need ? lead : n;
}

void tt_printable(char *s, size_t n)
{
	unsigned char *u = (unsigned char *)s;

	for (size_t i = 0; i < n && u[i];) {
		size_t len = u[i] < 0x80 ? 1 : tt_utf8_len(u + i, strnlen(s + i, n - i));

		/* C0, DEL, a byte that is no UTF-8 (a lone 0x9b is CSI to some), C1 */
		if (u[i] < 0x20 || u[i] == 0x7f || !len || (u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			size_t k = len ? len : 1;

			memset(u + i, '?', k);
			i += k;
			continue;
		}
		i += len;
	}
}

/*
 * Code points a terminal gives two columns: Unicode's East Asian Wide and
 * Fullwidth, and the emoji shown as pictures, as glibc 2.36's wcwidth() has
 * them (Unicode 14), each run merged across the code points unassigned in
 * it, and the last two runs (emoji, CJK) to the ends of their blocks, where
 * later Unicode versions add more.  Sorted, for a binary search.
 */
static const struct { uint32_t lo, hi; } wide[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a },
	{ 0x23e9, 0x23ec }, { 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 },
	{ 0x25fd, 0x25fe }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 },
	{ 0x26ce, 0x26ce }, { 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea },
	{ 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 }, { 0x26fa, 0x26fa },
	{ 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e },
	{ 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf }, { 0x2b1b, 0x2b1c },
	{ 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x3029 },
	{ 0x302e, 0x303e }, { 0x3041, 0x3096 }, { 0x309b, 0xa4c6 },
	{ 0xa960, 0xa97c }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfad9 },
	{ 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6b }, { 0xff01, 0xff60 },
	{ 0xffe0, 0xffe6 }, { 0x16fe0, 0x16fe3 }, { 0x16ff0, 0x1b2fb },
	{ 0x1f004, 0x1f004 }, { 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e },
	{ 0x1f191, 0x1f19a }, { 0x1f200, 0x1f320 }, { 0x1f32d, 0x1f335 },
	{ 0x1f337, 0x1f37c }, { 0x1f37e, 0x1f393 }, { 0x1f3a0, 0x1f3ca },
	{ 0x1f3cf, 0x1f3d3 }, { 0x1f3e0, 0x1f3f0 }, { 0x1f3f4, 0x1f3f4 },
	{ 0x1f3f8, 0x1f43e }, { 0x1f440, 0x1f440 }, { 0x1f442, 0x1f4fc },
	{ 0x1f4ff, 0x1f53d }, { 0x1f54b, 0x1f54e }, { 0x1f550, 0x1f567 },
	{ 0x1f57a, 0x1f57a }, { 0x1f595, 0x1f596 }, { 0x1f5a4, 0x1f5a4 },
	{ 0x1f5fb, 0x1f64f }, { 0x1f680, 0x1f6c5 }, { 0x1f6cc, 0x1f6cc },
	{ 0x1f6d0, 0x1f6d2 }, { 0x1f6d5, 0x1f6df }, { 0x1f6eb, 0x1f6ec },
	{ 0x1f6f4, 0x1f6fc }, { 0x1f7e0, 0x1f7f0 }, { 0x1f90c, 0x1f93a },
	{ 0x1f93c, 0x1f945 }, { 0x1f947, 0x1f9ff }, { 0x1fa70, 0x1faff },
	{ 0x20000, 0x3fffd },
};

static unsigned int cp_cols(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(wide) / sizeof(wide[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cp < wide[mid].lo)
			hi = mid;
		else if (cp > wide[mid].hi)
			lo = mid + 1;
		else
			return 2;
	}
	return 1;
}

size_t tt_utf8_cols(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t cols = 0, i = 0;

	while (i < n && u[i]) {
		size_t len = tt_utf8_len(u + i, n - i);
		uint32_t cp;

		/* not UTF-8 (tt_printable() makes it so): a column a byte */
		if (len <= 1) {
			cols++;
			i++;
			continue;
		}
		cp = u[i] & (0x7f >> len);
		for (size_t k = 1; k < len; k++)
			cp = cp << 6 | (u[i + k] & 0x3f);
		cols += cp_cols(cp);
		i += len;
	}
	return cols;
}

size_t tt_utf8_len(const unsigned char *s, size_t n)
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
	/* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int tt_unix_listens(const char *path, bool dgram_only)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err = -ENAMETOOLONG;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (size_t i = 0; i < (dgram_only ? 1 : sizeof(types) / sizeof(types[0])); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0)
			return -errno;
		err = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
		close(fd);
		/* a stream daemon whose backlog is full is there all the same */
		if (err == -EAGAIN)
			err = 0;
		if (err != -EPROTOTYPE)
			break;
	}
	return err;
}

static const char *unix_why(int err)
{
	switch (err) {
	case ENOTSOCK:
		return "not a socket";
	case ECONNREFUSED:
		return "nothing listens on it";
	case EPROTOTYPE:
		return "a socket of another type (not datagram)";
	default:
		return strerror(err);
	}
}

int tt_daemon_socket_check(const char *opt, const char *path, bool dgram_only,
			   const char *none_here)
{
	struct stat st;
	int err;

	err = stat(path, &st) ? errno : !S_ISSOCK(st.st_mode) ? ENOTSOCK :
	      -tt_unix_listens(path, dgram_only);
	if (err == EACCES)
		tt_err("%s: %s: %s: this user may not send there", opt, path, strerror(err));
	else if (err)
		tt_err("%s: %s: %s: %s", opt, path, unix_why(err), none_here);
	return -err;
}
