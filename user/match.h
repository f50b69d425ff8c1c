/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The on-call selectors: --state (which TCP states) and --remote/--local
 * (which addresses).  Parsing and matching only, over plain values, so the
 * live path, replay, --snapshot and --top all ask the same questions.
 */
#ifndef TT_MATCH_H
#define TT_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --remote and --local take at most this many prefixes each, all given. */
#define TT_MAX_CIDRS 16

/* An address prefix: 10.0.0.0/8, 2001:db8::/32; a plain address is /32 or /128. */
struct tt_cidr {
	uint8_t family;		/* TT_AF_INET or TT_AF_INET6 */
	uint8_t bits;		/* prefix length, 0..32 or 0..128 */
	uint8_t addr[16];	/* network order, host bits cleared, IPv4 in the first 4 */
};

/*
 * Add the states of a comma list to *mask (1 << enum tt_tcp_state).  A
 * name is taken in any case, with '-' or '_' alike, as tcptrail prints it
 * (CLOSE_WAIT, FIN_WAIT1) or as ss does (close-wait, fin-wait-1,
 * listening, closed, syn-recv); ss's groups "connected" (every state but
 * LISTEN and CLOSE) and "synchronized" (those but SYN_SENT) are taken too.
 * 0, or -EINVAL with the offending name copied to bad (may be NULL).
 */
int tt_parse_states(const char *s, uint32_t *mask, char *bad, size_t bad_len);

/*
 * Append the prefixes of a comma list to list[*n..max), but for those
 * already there.  0, -EINVAL with the offending item copied to bad, or
 * -E2BIG past max.
 */
int tt_parse_cidrs(const char *s, struct tt_cidr *list, uint32_t *n, uint32_t max,
		   char *bad, size_t bad_len);

/*
 * Whether addr (family, network order, IPv4 in the first 4 bytes) is in one
 * of the n prefixes; true when n is 0.  An IPv4-mapped IPv6 address
 * (::ffff:10.1.2.3, what a dual-stack socket shows for an IPv4 peer) is
 * matched as the IPv4 address it carries, as well as by IPv6 prefixes.
 */
bool tt_cidr_match(const struct tt_cidr *list, uint32_t n, uint8_t family, const uint8_t addr[16]);

/*
 * --remote: the same for a peer's address, where the unspecified one (a
 * listener's, which has no peer) is in none of them; true when n is 0.
 */
bool tt_cidr_match_peer(const struct tt_cidr *list, uint32_t n, uint8_t family,
			const uint8_t addr[16]);

/* "10.0.0.0/8", "2001:db8::/32" */
void tt_cidr_format(const struct tt_cidr *c, char *buf, size_t len);

#endif /* TT_MATCH_H */
