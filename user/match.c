// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source side: the --state, --remote and --local selectors (match.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "match.h"
#include "tcptrail.h"
#include "util.h"

#define STATE_BIT(s)	(1u << (s))
#define ALL_STATES	(((1u << TT_STATE_MAX) - 1) & ~1u & ~STATE_BIT(TT_NEW_SYN_RECV))
/* ss(8): "all the states except for listening and closed" */
#define CONNECTED	(ALL_STATES & ~(STATE_BIT(TT_LISTEN) | STATE_BIT(TT_CLOSE)))

/*
 * Every spelling, compared with case and separators dropped, so that
 * CLOSE_WAIT, close-wait and Close_Wait are one name, as are fin-wait-1
 * (ss) and FIN_WAIT1 (tcptrail).
 */
static const struct { const char *name; uint32_t mask; } names[] = {
	{ "established", STATE_BIT(TT_ESTABLISHED) },
	{ "estab", STATE_BIT(TT_ESTABLISHED) },		/* ss's column */
	{ "synsent", STATE_BIT(TT_SYN_SENT) },
	/* a request sock (NEW_SYN_RECV) is what ss shows as SYN-RECV */
	{ "synrecv", STATE_BIT(TT_SYN_RECV) | STATE_BIT(TT_NEW_SYN_RECV) },
	{ "synreceived", STATE_BIT(TT_SYN_RECV) | STATE_BIT(TT_NEW_SYN_RECV) },
	{ "newsynrecv", STATE_BIT(TT_NEW_SYN_RECV) },
	{ "finwait1", STATE_BIT(TT_FIN_WAIT1) },
	{ "finwait2", STATE_BIT(TT_FIN_WAIT2) },
	{ "timewait", STATE_BIT(TT_TIME_WAIT) },
	{ "close", STATE_BIT(TT_CLOSE) },
	{ "closed", STATE_BIT(TT_CLOSE) },
	{ "unconn", STATE_BIT(TT_CLOSE) },		/* ss's column */
	{ "closewait", STATE_BIT(TT_CLOSE_WAIT) },
	{ "lastack", STATE_BIT(TT_LAST_ACK) },
	{ "listen", STATE_BIT(TT_LISTEN) },
	{ "listening", STATE_BIT(TT_LISTEN) },
	{ "closing", STATE_BIT(TT_CLOSING) },
	{ "all", ALL_STATES | STATE_BIT(TT_NEW_SYN_RECV) },
	{ "connected", CONNECTED | STATE_BIT(TT_NEW_SYN_RECV) },
	/* ss(8): "all the connected states except for syn-sent" */
	{ "synchronized", (CONNECTED | STATE_BIT(TT_NEW_SYN_RECV)) & ~STATE_BIT(TT_SYN_SENT) },
};

static void copy_bad(char *bad, size_t len, const char *s, size_t n)
{
	if (!bad || !len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(bad, s, n);
	bad[n] = '\0';
}

static int one_state(const char *s, size_t n, uint32_t *mask)
{
	char key[24];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '-' || c == '_')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) || k + 1 >= sizeof(key))
			return -EINVAL;
		key[k++] = c;
	}
	key[k] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(key, names[i].name)) {
			*mask |= names[i].mask;
			return 0;
		}
	}
	return -EINVAL;
}

int tt_parse_states(const char *s, uint32_t *mask, char *bad, size_t bad_len)
{
	const char *p = s;

	if (!s || !*s) {
		copy_bad(bad, bad_len, "", 0);
		return -EINVAL;
	}
	for (;;) {
		size_t n = strcspn(p, ",");

		/* "a,,b", ",a", "a,": an empty name is a typo, not "nothing" */
		if (!n || one_state(p, n, mask)) {
			copy_bad(bad, bad_len, p, n);
			return -EINVAL;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static int one_cidr(const char *s, size_t n, struct tt_cidr *c)
{
	char buf[TT_ADDR_STRLEN + 8], *slash;
	unsigned int max;
	long long bits;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	/* "[::1]" as in an endpoint: the brackets are not part of the address */
	if (buf[0] == '[' && buf[strlen(buf) - 1] == ']') {
		buf[strlen(buf) - 1] = '\0';
		memmove(buf, buf + 1, strlen(buf));
	}
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = TT_AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = TT_AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	bits = max;
	if (slash && tt_parse_num(slash, 0, max, &bits))
		return -EINVAL;
	/*
	 * ::ffff:10.1.2.3 (as a Java log gives it) is the IPv4 address: it
	 * then matches IPv4 flows too, as 10.1.2.3 matches mapped ones
	 */
	if (c->family == TT_AF_INET6 && bits >= 96 && tt_v4_mapped(c->addr)) {
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->family = TT_AF_INET;
		bits -= 96;
	}
	c->bits = (uint8_t)bits;
	/* 10.1.2.3/8 means 10.0.0.0/8, as ip(8) takes it */
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int from = i * 8;

		if (from >= c->bits)
			c->addr[i] = 0;
		else if (from + 8 > c->bits)
			c->addr[i] &= (uint8_t)(0xff00u >> (c->bits - from));
	}
	return 0;
}

/* c is in list[0..n) already (a repeat takes no room, as a port's does) */
static bool cidr_in(const struct tt_cidr *list, uint32_t n, const struct tt_cidr *c)
{
	for (uint32_t i = 0; i < n; i++)
		if (list[i].family == c->family && list[i].bits == c->bits &&
		    !memcmp(list[i].addr, c->addr, sizeof(c->addr)))
			return true;
	return false;
}

int tt_parse_cidrs(const char *s, struct tt_cidr *list, uint32_t *n, uint32_t max,
		   char *bad, size_t bad_len)
{
	const char *p = s;

	if (!s || !*s) {
		copy_bad(bad, bad_len, "", 0);
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		struct tt_cidr c;

		if (one_cidr(p, len, &c)) {
			copy_bad(bad, bad_len, p, len);
			return -EINVAL;
		}
		if (!cidr_in(list, *n, &c)) {
			if (*n >= max) {
				copy_bad(bad, bad_len, p, len);
				return -E2BIG;
			}
			list[(*n)++] = c;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static bool prefix_match(const struct tt_cidr *c, const uint8_t *addr)
{
	unsigned int full = c->bits / 8, rest = c->bits % 8;

	if (memcmp(c->addr, addr, full))
		return false;
	return !rest || ((addr[full] ^ c->addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool tt_cidr_match(const struct tt_cidr *list, uint32_t n, uint8_t family, const uint8_t addr[16])
{
	bool mapped = family == TT_AF_INET6 && tt_v4_mapped(addr);

	for (uint32_t i = 0; i < n; i++) {
		if (list[i].family == family && prefix_match(&list[i], addr))
			return true;
		if (mapped && list[i].family == TT_AF_INET && prefix_match(&list[i], addr + 12))
			return true;
	}
	return n == 0;
}

bool tt_cidr_match_peer(const struct tt_cidr *list, uint32_t n, uint8_t family,
			const uint8_t addr[16])
{
	static const uint8_t none[16];

	if (n && !memcmp(addr, none, sizeof(none)))
		return false;
	return tt_cidr_match(list, n, family, addr);
}

void tt_cidr_format(const struct tt_cidr *c, char *buf, size_t len)
{
	char a[TT_ADDR_STRLEN];

	tt_addr_str(a, c->family, c->addr);
	snprintf(buf, len, "%s/%u", a, c->bits);
}
