/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The record bpf/iter.bpf.c writes for every TCP socket of the host, in one
 * walk of the kernel's TCP hash tables (user/sockwalk.c reads them).  Like
 * tcptrail.h: it includes nothing, uses only __u8..__u64, and pins its size.
 */
#ifndef TTWALK_H
#define TTWALK_H

enum tt_walk_kind {
	TT_WALK_FULL = 1,	/* a full socket, listener or connection */
	TT_WALK_TIMEWAIT = 2,	/* a timewait minisock: state is its substate */
	TT_WALK_REQUEST = 3,	/* a request minisock of a listener: state SYN_RECV */
};

/* tt_walk_sock.flags */
#define TT_WALK_F_AGES	0x01	/* the two *_recv_ms are valid (not for listeners) */
#define TT_WALK_F_OWN_TABLE 0x02	/* a listener of a namespace whose established
					 * table is its own: not walked here */

struct tt_walk_sock {
	__u8 kind;		/* enum tt_walk_kind */
	__u8 family;		/* the kernel's: AF_INET 2, AF_INET6 10 */
	__u8 state;		/* as sock_diag shows it (see kind) */
	__u8 flags;
	__u16 sport;		/* host order */
	__u16 dport;		/* host order; 0 for a listener */
	__u32 netns;		/* inode of the socket's network namespace */
	__u32 ifindex;		/* bound device, 0 if none */
	__u8 saddr[16];		/* network order, IPv4 in the first 4 */
	__u8 daddr[16];
	__u32 rqueue, wqueue;	/* as sock_diag's idiag_rqueue/wqueue */
	__u32 uid;
	__u32 inode;		/* 0: no file (orphan) or a minisock */
	__u64 cookie;		/* 0: none made yet (sock_diag would make one) */
	__u64 cgroup;		/* cgroup v2 id of a full socket, else 0 */
	__u32 last_data_recv_ms;	/* tcp_info's tcpi_last_data_recv */
	__u32 last_ack_recv_ms;		/* tcp_info's tcpi_last_ack_recv */
	__u32 last_data_sent_ms;	/* tcp_info's tcpi_last_data_sent */
	__u32 reserved;
};
_Static_assert(sizeof(struct tt_walk_sock) == 96, "tt_walk_sock is 96 bytes");

/* walk_err: why the walk could not run at all */
enum tt_walk_err {
	TT_WALK_OK = 0,
	TT_WALK_E_HASHINFO = 1,	/* no hash table found from our namespace */
	TT_WALK_E_HZ = 2,	/* CONFIG_HZ unknown: no ages */
	TT_WALK_E_LISTEN = 3,	/* listeners not on hlist_nulls chains (before 5.19) */
};

#endif /* TTWALK_H */
