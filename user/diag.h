/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TCP sockets of one network namespace, as NETLINK_SOCK_DIAG dumps them
 * (what `ss -tan` reads).  This is how tcptrail learns about the sockets
 * that existed before it attached, and how it reconciles its TIME-WAIT
 * population with the kernel's.
 *
 * A dump streams: each socket is handed to a callback straight out of the
 * receive buffer, nothing is allocated per socket.
 */
#ifndef TT_DIAG_H
#define TT_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcptrail.h"

/* idiag_states bits: 1 << state, state as enum tt_tcp_state numbers it. */
#define DIAG_STATE(s)		(1u << (s))
/*
 * ESTABLISHED..NEW_SYN_RECV.  Not ~0: since Linux 6.5 bit 13 asks for
 * TCP_BOUND_INACTIVE sockets (bound, never listened or connected), which
 * only an explicit request returns and which have no TCP life to trace.
 */
#define DIAG_STATES_ALL		(((1u << TT_STATE_MAX) - 1) & ~1u)

/* idiag_timer: which timer was pending (the kernel's r->idiag_timer) */
enum diag_timer {
	DIAG_TIMER_NONE = 0,
	DIAG_TIMER_RETRANS = 1,	/* also every request sock (SYN_RECV minisock) */
	DIAG_TIMER_KEEPALIVE = 2,
	DIAG_TIMER_TIME_WAIT = 3,	/* a timewait minisock */
	DIAG_TIMER_PROBE = 4,	/* zero window probe */
};

/*
 * One socket.  The dump also returns minisocks: a timewait sock (timer
 * DIAG_TIMER_TIME_WAIT, state TIME_WAIT or FIN_WAIT2, its substate) and a
 * request sock of a listener (state SYN_RECV, although the kernel keeps it
 * as NEW_SYN_RECV).  Neither has an inode, an owner or tcp_info, and neither
 * ever goes through tcp_set_state: has_info tells a full socket when the
 * dump asked for INET_DIAG_INFO, as diag__dump does.
 */
struct diag_sock {
	uint8_t family;		/* TT_AF_INET or TT_AF_INET6 */
	uint8_t state;		/* kernel numbering (enum tt_tcp_state); see above */
	uint8_t timer;		/* enum diag_timer */
	uint8_t retrans;	/* idiag_retrans */
	uint16_t sport;		/* local port, host order */
	uint16_t dport;		/* remote port, host order; 0 for a listener */
	uint8_t saddr[16];	/* local, network order, IPv4 in the first 4 */
	uint8_t daddr[16];
	uint32_t ifindex;	/* bound device, 0 if none */
	uint32_t expires_ms;	/* until the pending timer fires */
	/*
	 * LISTEN: rqueue is the accept queue length now (sk_ack_backlog),
	 * wqueue its limit (the listen() backlog capped by somaxconn).
	 * Other states: rcv_nxt - copied_seq, the unread bytes plus 1 for a
	 * FIN the owner has not read yet (a CLOSE_WAIT socket at 1: the
	 * owner never even saw the EOF), and write_seq - snd_una (bytes sent
	 * or queued and not yet acknowledged).
	 */
	uint32_t rqueue, wqueue;
	uint32_t uid;
	uint32_t inode;		/* 0 once the last file closed (orphan) or a minisock */
	uint64_t cookie;	/* the value bpf_get_socket_cookie() returns */
	uint64_t cgroup;	/* the socket's cgroup v2 id (INET_DIAG_CGROUP_ID, 5.9+), or 0 */
	bool has_info;		/* the tcpi_* below are valid */
	/*
	 * ms since the last segment carrying data arrived (icsk_ack.lrcvtime;
	 * set at connection setup too, so a connection that never received
	 * data counts from its handshake).  A bare FIN does not move it, so
	 * for CLOSE_WAIT this is an upper bound on the time spent in
	 * CLOSE_WAIT: exact when the FIN rode on the last data, as with
	 * most request/response peers.  Either way the socket has been idle
	 * on the receive side for that long.
	 */
	uint32_t last_data_recv_ms;
	/*
	 * ms since the last acceptable ACK arrived (tp->rcv_tstamp).  The
	 * peer's FIN carries an ACK, so for CLOSE_WAIT this is a lower bound
	 * on the time spent in CLOSE_WAIT ("for at least N ms"), exact when
	 * the peer has sent nothing since, which is the leak case: we sent
	 * nothing it had to acknowledge.
	 */
	uint32_t last_ack_recv_ms;
	/*
	 * ms since a segment carrying data was last sent (tp->lsndtime),
	 * retransmissions included; keepalive and window probes carry none.
	 * A CLOSE_WAIT socket that sends is one whose application still
	 * answers a peer that half-closed: no leak.
	 */
	uint32_t last_data_sent_ms;
	uint8_t tcpi_state;	/* tcp_info's own idea of the state */
};

/* Return 0 to go on; a negative value stops the dump and is returned. */
typedef int (*diag_sock_cb)(const struct diag_sock *s, void *ctx);

struct diag_req {
	int netns_fd;		/* -1: our own network namespace */
	uint8_t family;		/* 0: both, else TT_AF_INET or TT_AF_INET6 */
	uint32_t states;	/* DIAG_STATE() bits; 0 means DIAG_STATES_ALL */
	bool no_info;		/* skip INET_DIAG_INFO: cheaper, has_info stays false */
	/*
	 * Called between two reads of the dump, if set.  A dump of a few
	 * hundred thousand sockets takes the better part of a second; a
	 * tracer that must not fall behind its ring buffer drains it here.
	 */
	void (*between)(void *ctx);
	void *between_ctx;
};

/*
 * Dump the TCP sockets of one namespace whose state is in state_mask
 * (DIAG_STATE bits), both families, with tcp_info.  Sockets come in the
 * kernel's hash order.  Returns 0, the callback's negative value, or -errno
 * (after a message naming the step that failed).
 */
int diag__dump(int netns_fd, uint32_t state_mask, diag_sock_cb cb, void *ctx);
int diag__dump_req(const struct diag_req *req, diag_sock_cb cb, void *ctx);

/* A sock_diag netlink socket in the namespace this thread is in, or -errno. */
int diag__open_here(void);

/*
 * One socket, asked for alone as `ss` asks for one (not a dump), through
 * nl_fd (diag__open_here()): the TCP socket of that family at local
 * saddr:sport and remote daddr:dport (a listener's remote is 0:0) with that
 * cookie (0: whatever one is at the tuple), with tcp_info.  1 and *out if
 * the kernel has it (a timewait sock too: timer DIAG_TIMER_TIME_WAIT), 0 if
 * not, -errno if it could not be asked.  A 0 proves little: another socket
 * at the tuple, a listener bound to a device, or one the kernel's lookup
 * did not pick from its SO_REUSEPORT group all give 0 too.
 */
int diag__find(int nl_fd, uint8_t family, const uint8_t saddr[16], uint16_t sport,
	       const uint8_t daddr[16], uint16_t dport, uint64_t cookie, struct diag_sock *out);

/*
 * Parse a buffer of netlink messages as one recvmsg() of a sock_diag dump
 * returns them, calling cb for each socket.  Every length is checked before
 * it is used.  Returns 0 when the buffer is used up and more is to come,
 * 1 after NLMSG_DONE (the dump is complete), the kernel's -errno from an
 * NLMSG_ERROR (or a failed NLMSG_DONE), the callback's negative value,
 * -EINVAL for a message or attribute whose length does not fit, -EPROTO
 * for a well-formed message that is not a TCP sock_diag answer.
 */
int diag__parse(const void *buf, size_t len, diag_sock_cb cb, void *ctx);

/*
 * Per-state counts of one namespace: TIME_WAIT population reconciliation
 * is diag__count(fd, DIAG_STATE(TT_TIME_WAIT), &c) then c.state[TT_TIME_WAIT]
 * (timewait minisocks whose substate is FIN_WAIT2 are counted there too,
 * as tw_fin_wait2, since they hold a TIME-WAIT slot).  No tcp_info is asked
 * for.  0 or -errno.
 */
struct diag_counts {
	uint64_t state[TT_STATE_MAX];	/* full sockets and request socks by state */
	uint64_t tw_fin_wait2;		/* timewait socks in their FIN_WAIT2 substate */
	uint64_t total;
};
int diag__count(int netns_fd, uint32_t state_mask, struct diag_counts *out);

/*
 * An O_RDONLY fd to the network namespace whose inode is `inode`: our own,
 * a name under /run/netns (ip netns add), or the first process found in
 * /proc living in it.  -ENOENT if none.
 */
int diag__open_netns(uint32_t inode);

/* The inode of our own network namespace, or 0. */
uint32_t diag__self_netns(void);

/*
 * Run fn(ctx) with this thread inside the namespace netns_fd (-1: no
 * switch), then return to ours.  fn's return value, or -errno if the switch
 * failed.  A failure to come back is reported and returned as -errno; the
 * thread is then left in the target namespace.
 */
int diag__in_netns(int netns_fd, int (*fn)(void *ctx), void *ctx);

/* The TCP sysctls that decide how TIME-WAIT behaves, as one namespace sees them. */
struct diag_sysctls {
	uint16_t port_lo, port_hi;	/* net.ipv4.ip_local_port_range */
	int tw_reuse;			/* net.ipv4.tcp_tw_reuse: 0, 1, 2 (loopback only) */
	int timestamps;			/* net.ipv4.tcp_timestamps: 0, 1, 2 (no offsets) */
};

/*
 * Read them from inside netns_fd (-1: ours): /proc/sys/net answers for the
 * namespace of the task that opens the file, so the files are opened while
 * setns()'d there.  A missing file leaves its field at -1 (ports at 0).
 * 0 or -errno.
 */
int diag__read_sysctls(int netns_fd, struct diag_sysctls *out);

/*
 * /proc/net/sockstat's TCP line (and sockstat6's TCP6 line), as the calling
 * thread's namespace sees it: inuse is that namespace's hashed TCP sockets
 * of both families (listeners and connections),
 * tw its timewait sockets (per namespace since Linux 5.19; before, the
 * host's, which is still an upper bound).  Cheap: no hash table walk, where
 * a sock_diag dump walks every namespace's sockets to find its own (the
 * established hash is shared unless net.ipv4.tcp_child_ehash_entries).
 * 0 or -errno.
 */
struct diag_sockstat {
	int64_t inuse;		/* TCP sockets in use, IPv4 and IPv6 */
	int64_t tw;
};
int diag__sockstat_here(struct diag_sockstat *out);

#endif /* TT_DIAG_H */
