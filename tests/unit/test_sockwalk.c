// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The records bpf/iter.bpf.c writes, read as sock_diag would have shown the
 * same sockets: a full socket has tcp_info (ages only where the kernel gives
 * them), a timewait sock shows its substate with the TIME_WAIT timer, a
 * request sock is SYN_RECV, a listener of a namespace with a table of its own
 * is told apart, and a short record or an unknown kind, family or state is
 * refused.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "sockwalk.h"
#include "ttwalk.h"
#include "tt_test.h"

static struct tt_walk_sock rec(uint8_t kind, uint8_t family, uint8_t state)
{
	struct tt_walk_sock r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.family = family;
	r.state = state;
	r.sport = 8000;
	r.dport = 40000;
	r.netns = 4026532001u;
	r.saddr[0] = 127, r.saddr[3] = 1;
	r.daddr[0] = 127, r.daddr[3] = 2;
	return r;
}

TEST(sockwalk_full_socket)
{
	struct tt_walk_sock r = rec(TT_WALK_FULL, AF_INET, TT_CLOSE_WAIT);
	struct diag_sock s;
	uint32_t netns = 0;

	r.flags = TT_WALK_F_AGES;
	r.inode = 12345;
	r.uid = 1000;
	r.cookie = 0x1122334455667788ull;
	r.cgroup = 77;
	r.rqueue = 1;
	r.wqueue = 3;
	r.last_data_recv_ms = 9000;
	r.last_ack_recv_ms = 8000;
	/* garbage past the IPv4 address is not passed on */
	r.saddr[9] = 0xff;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), 0);
	CHECK_EQ_INT(netns, 4026532001u);
	CHECK_EQ_INT(s.family, TT_AF_INET);
	CHECK_EQ_INT(s.state, TT_CLOSE_WAIT);
	CHECK(s.has_info);
	CHECK_EQ_INT(s.tcpi_state, TT_CLOSE_WAIT);
	CHECK_EQ_INT(s.sport, 8000);
	CHECK_EQ_INT(s.dport, 40000);
	CHECK_EQ_INT(s.saddr[0], 127);
	CHECK_EQ_INT(s.saddr[3], 1);
	CHECK_EQ_INT(s.saddr[9], 0);
	CHECK_EQ_INT(s.daddr[3], 2);
	CHECK_EQ_INT(s.inode, 12345);
	CHECK_EQ_INT(s.uid, 1000);
	CHECK(s.cookie == 0x1122334455667788ull);
	CHECK(s.cgroup == 77);
	CHECK_EQ_INT(s.rqueue, 1);
	CHECK_EQ_INT(s.wqueue, 3);
	CHECK_EQ_INT(s.last_data_recv_ms, 9000);
	CHECK_EQ_INT(s.last_ack_recv_ms, 8000);
	CHECK_EQ_INT(s.timer, DIAG_TIMER_NONE);
}

TEST(sockwalk_listener_has_no_ages)
{
	struct tt_walk_sock r = rec(TT_WALK_FULL, AF_INET6, TT_LISTEN);
	struct diag_sock s;
	uint32_t netns;

	/* the kernel set no TT_WALK_F_AGES: whatever is there is not read */
	r.last_data_recv_ms = 5;
	r.dport = 0;
	r.saddr[15] = 1;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), 0);
	CHECK_EQ_INT(s.family, TT_AF_INET6);
	CHECK(s.has_info);
	CHECK_EQ_INT(s.last_data_recv_ms, 0);
	CHECK_EQ_INT(s.saddr[15], 1);
	/* the same, of a namespace whose established table is its own */
	r.flags = TT_WALK_F_OWN_TABLE;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), 1);
}

TEST(sockwalk_minisocks)
{
	struct tt_walk_sock r = rec(TT_WALK_TIMEWAIT, AF_INET, TT_TIME_WAIT);
	struct diag_sock s;
	uint32_t netns;

	/* what the kernel has of a minisock only: no tcp_info, no inode */
	r.inode = 99;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), 0);
	CHECK_EQ_INT(s.state, TT_TIME_WAIT);
	CHECK_EQ_INT(s.timer, DIAG_TIMER_TIME_WAIT);
	CHECK(!s.has_info);
	CHECK_EQ_INT(s.inode, 0);
	/* a timewait sock in its FIN_WAIT2 substate, as ss shows it */
	r.state = TT_FIN_WAIT2;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), 0);
	CHECK_EQ_INT(s.state, TT_FIN_WAIT2);
	CHECK_EQ_INT(s.timer, DIAG_TIMER_TIME_WAIT);
	/* any other substate is no timewait sock */
	r.state = TT_ESTABLISHED;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), -EINVAL);

	r = rec(TT_WALK_REQUEST, AF_INET, TT_SYN_RECV);
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), 0);
	CHECK_EQ_INT(s.state, TT_SYN_RECV);
	CHECK_EQ_INT(s.timer, DIAG_TIMER_RETRANS);
	CHECK(!s.has_info);
	r.state = TT_NEW_SYN_RECV;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), -EINVAL);
}

TEST(sockwalk_refuses_bad_records)
{
	struct tt_walk_sock r = rec(TT_WALK_FULL, AF_INET, TT_ESTABLISHED);
	struct diag_sock s;
	uint32_t netns;

	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r) - 1, &s, &netns), -EINVAL);
	CHECK_EQ_INT(sockwalk__parse(&r, 0, &s, &netns), -EINVAL);
	r.family = AF_UNIX;
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), -EINVAL);
	r = rec(0, AF_INET, TT_ESTABLISHED);
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), -EINVAL);
	r = rec(TT_WALK_REQUEST + 1, AF_INET, TT_ESTABLISHED);
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), -EINVAL);
	/* a state past those we know (a newer kernel's) */
	r = rec(TT_WALK_FULL, AF_INET, TT_STATE_MAX);
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), -EINVAL);
	r = rec(TT_WALK_FULL, AF_INET, 0);
	CHECK_EQ_INT(sockwalk__parse(&r, sizeof(r), &s, &netns), -EINVAL);
	/* a longer record (a newer writer) is read by its known part */
	{
		unsigned char big[sizeof(r) + 16];

		r = rec(TT_WALK_FULL, AF_INET, TT_ESTABLISHED);
		memset(big, 0xee, sizeof(big));
		memcpy(big, &r, sizeof(r));
		CHECK_EQ_INT(sockwalk__parse(big, sizeof(big), &s, &netns), 0);
		CHECK_EQ_INT(s.state, TT_ESTABLISHED);
	}
}
