/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every record that crosses the kernel boundary, and the unit of the capture
 * file.  Shared by bpf/ and user/: it includes nothing but its sibling
 * tthooks.h (the hook ids), uses only __u8..__u64
 * (the includer provides them) and pins every size, so that the BPF object,
 * the daemon and a capture written on another machine agree byte for byte.
 * See include/CAPTURE.md for the file format built on top of it.
 */
#ifndef TCPTRAIL_H
#define TCPTRAIL_H

/* Bumped whenever struct tt_event changes shape. */
#define TT_EVENT_VERSION 2	/* 2: cpu moved to offset 10, cgroup added */

enum tt_event_type {
	TT_EV_TRANSITION = 1,	/* tcp_set_state: old_state -> new_state */
	TT_EV_TIME_WAIT = 2,	/* the full socket handed over to a timewait sock */
	TT_EV_OVERFLOW = 3,	/* a listener dropped a SYN or a third ACK */
	TT_EV_ACCEPT = 4,	/* accept() returned sk to pid/tgid: the owner */
	TT_EV_SYNACK_RETRANS = 5,
	TT_EV_RESET_SENT = 6,
	TT_EV_RESET_RECV = 7,
	TT_EV_SEED = 8,		/* socket that existed at start (sock_diag) */
	TT_EV_FLOW = 9,		/* struct tt_flowrec, not tt_event: a socket's
				 * transitions, kept in the kernel and sent at
				 * its end (or early, see TT_FR_*) */
	TT_EV_MAX,
};

/* The kernel's TCP states (include/net/tcp_states.h), which are uapi-stable. */
enum tt_tcp_state {
	TT_ESTABLISHED = 1,
	TT_SYN_SENT,
	TT_SYN_RECV,
	TT_FIN_WAIT1,
	TT_FIN_WAIT2,
	TT_TIME_WAIT,
	TT_CLOSE,
	TT_CLOSE_WAIT,
	TT_LAST_ACK,
	TT_LISTEN,
	TT_CLOSING,
	TT_NEW_SYN_RECV,
	TT_STATE_MAX,
};

/* tt_event.flags */
#define TT_F_OWNER	0x01	/* pid/tgid/comm are the socket's owner or closer
				 * (process context holding the socket lock),
				 * not whatever task a softirq interrupted */
#define TT_F_COOKIE	0x02	/* cookie is the kernel's socket cookie */
#define TT_F_SUBSTATE	0x04	/* TIME_WAIT: aux[0] is the substate, aux[1] timeo */
#define TT_F_SYNCOOKIE	0x08	/* OVERFLOW: a syncookie was sent, nothing dropped */
#define TT_F_TIMEO	0x10	/* TIME_WAIT: aux[1] is the timeout */
#define TT_F_SEED_AGE	0x20	/* SEED: aux[0] and aux[2] are valid (tcp_info) */
#define TT_F_NESTED	0x40	/* TRANSITION: recorded by the second program copy,
				 * for a run the first did not note; rarely a
				 * repeat of what the first recorded */
#define TT_F_COOKIE_POLICY 0x80	/* OVERFLOW, with TT_F_SYNCOOKIE: the cookie was
				 * sent because net.ipv4.tcp_syncookies is 2
				 * (always), with the SYN queue not full: no
				 * overflow */
#define TT_F_ADOPTED	0x04	/* ACCEPT: under a pid filter, the socket became
				 * the process's at this accept, so its records
				 * before were left out: its flow starts here */
#define TT_F_ACK_AGE	0x08	/* ACCEPT in CLOSE_WAIT: aux[2] is valid */
#define TT_F_DISOWNED	0x10	/* ACCEPT: under a pid filter, another process
				 * accepted a child of the process's listener
				 * (shared, as a pre-fork server's): not the
				 * process's, its flow is dropped */

/* tt_event.aux for TT_EV_OVERFLOW */
enum tt_overflow_queue {
	TT_Q_ACCEPT = 1,
	TT_Q_SYN = 2,
};

/* Address families, as the kernel numbers them. */
#define TT_AF_INET	2
#define TT_AF_INET6	10

/*
 * One kernel fact.  Addresses are in network byte order (IPv4 in the first 4
 * bytes), ports in host byte order; s* is always the local end.
 */
struct tt_event {
	__u8  type;		/* enum tt_event_type */
	__u8  family;		/* TT_AF_INET or TT_AF_INET6 */
	__u8  old_state;	/* enum tt_tcp_state, 0 when not a transition */
	__u8  new_state;
	__u8  flags;		/* TT_F_* */
	__u8  hook;		/* enum tt_hook_id of the program that wrote it */
	__u16 sport;
	__u16 dport;
	__u16 cpu;
	__u32 netns;		/* network namespace inode */
	__u32 pid;		/* thread id of the current task */
	__u32 tgid;		/* process id of the current task */
	__u64 cgroup;		/* the socket's own cgroup v2 id (kernfs inode),
				 * fixed when it was created; 0 unknown */
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 sk;		/* struct sock address: unique among live sockets */
	__u64 cookie;		/* socket cookie when TT_F_COOKIE, else 0 */
	__u8  saddr[16];
	__u8  daddr[16];
	char  comm[16];
	__u32 aux[6];		/* per type, see below; 0 when unused */
};
/*
 * aux by type:
 *   TT_EV_TRANSITION: [0] sk_err at the time of the transition (ECONNREFUSED,
 *                     ETIMEDOUT, ECONNRESET... tells how a flow ended)
 *   TT_EV_TIME_WAIT:  [0] substate (TT_TIME_WAIT or TT_FIN_WAIT2) if
 *                     TT_F_SUBSTATE, [1] timeout in jiffies (0: the
 *                     default TIME-WAIT length) when TT_F_TIMEO
 *   TT_EV_OVERFLOW:   [0] queue (enum tt_overflow_queue), [1] max backlog,
 *                     [2] accept queue length, [3] SYN queue length;
 *                     s* is the listener, d* the peer that was turned away
 *   TT_EV_SYNACK_RETRANS: sk is the listener, the tuple the request's;
 *                     [0] retransmits so far
 *   TT_EV_ACCEPT:     new_state is the socket's state at the accept (0 in
 *                     captures before this field); [2] ms since an ACK was
 *                     last received (the peer's FIN, in CLOSE_WAIT) when
 *                     TT_F_ACK_AGE
 *   TT_EV_SEED:       [0] ms since data was last received (tcpi_last_data_recv:
 *                     an upper bound on CLOSE_WAIT age), [1] socket inode,
 *                     [2] ms since an ACK was last received (tcpi_last_ack_recv:
 *                     the peer's FIN carried one, so a lower bound on the time
 *                     in CLOSE_WAIT); [0] and [2] valid with TT_F_SEED_AGE.
 *                     sk is not a kernel address (sock_diag shows none) but
 *                     a pseudo key from the tuple and netns with bit 0 set,
 *                     which the first real record for the socket adopts
 */
_Static_assert(sizeof(struct tt_event) == 128, "tt_event is part of the capture format");

/*
 * One socket's timeline, kept in BPF socket storage and sent in one record
 * (TT_EV_FLOW) instead of one tt_event per transition.  Sent when the
 * connection ends (> CLOSE, or the hand-over to TIME-WAIT: TT_FR_END), and
 * earlier only where a live report needs it: at the entry to CLOSE_WAIT and
 * LISTEN (leak and overflow reports), and when t[] is full.  Each record
 * carries the transitions since the previous one, so a socket's records put
 * together are its whole timeline.  Same conventions as tt_event.
 */
#define TT_FR_STATES	8	/* transitions per record */

/* tt_flowrec.flags */
#define TT_FR_END	0x01	/* the last record of this socket */
#define TT_FR_STATS	0x02	/* bytes_* .. srtt_us are valid (read at the end) */
#define TT_FR_COOKIE	0x04	/* cookie is the kernel's socket cookie */
#define TT_FR_BORN	0x08	/* t[0] is the socket's birth as the kernel made it */

/* tt_flowrec.tflags[i] */
#define TT_T_TASK0	0x01	/* made by task[0] holding the socket lock (TT_F_OWNER) */
#define TT_T_TASK1	0x02	/* made by task[1] holding the socket lock */
#define TT_T_INFERRED	0x04	/* no hook saw it: the next transition started from
				 * another state than the last one seen, so this
				 * one happened between the two; ts_ns is that
				 * next transition's time, an upper bound */
#define TT_T_TW_SUB	0x08	/* new_state TIME_WAIT: the hand-over; the substate
				 * is tw_substate (replaces the kernel's > CLOSE) */

struct tt_flowrec {
	__u8  type;		/* TT_EV_FLOW */
	__u8  family;
	__u8  n;		/* transitions in the arrays below, 0..TT_FR_STATES */
	__u8  flags;		/* TT_FR_* */
	__u8  hook;		/* enum tt_hook_id of the program that sent it */
	__u8  tw_substate;	/* TT_TIME_WAIT or TT_FIN_WAIT2 with TT_T_TW_SUB */
	__u16 sport;
	__u16 dport;
	__u16 cpu;
	__u32 netns;
	__u32 sk_err;		/* sk_err at the last transition (how it ended) */
	__u8  resets_sent;	/* saturating, since the previous record */
	__u8  resets_recv;
	__u16 reserved;
	__u64 cgroup;
	__u64 sk;
	__u64 cookie;		/* with TT_FR_COOKIE */
	__u8  saddr[16];
	__u8  daddr[16];
	/*
	 * The tasks that held the socket lock for a transition: [0] the first
	 * (connect, listen: the owner), [1] the latest after it (close: the
	 * closer).  tflags says which made each transition; 0 for none.
	 */
	__u32 task_pid[2];
	__u32 task_tgid[2];
	char  task_comm[2][16];
	/* with TT_FR_STATS: tcp_sock at the end */
	__u64 bytes_sent;	/* payload bytes the peer acknowledged */
	__u64 bytes_received;	/* payload bytes received in order */
	__u32 segs_out;
	__u32 segs_in;
	__u32 retransmits;	/* total_retrans */
	__u32 srtt_us;		/* smoothed RTT, microseconds */
	__u64 ts_ns[TT_FR_STATES];
	__u8  old_state[TT_FR_STATES];
	__u8  new_state[TT_FR_STATES];
	__u8  tflags[TT_FR_STATES];	/* TT_T_* */
	__u8  pad[8];
};
_Static_assert(sizeof(struct tt_flowrec) == 256, "tt_flowrec is part of the capture format");

/*
 * The hook ids (enum tt_hook_id: tt_event.hook) come from the hook table,
 * which names every program variant; like this header it includes nothing.
 */
#include "tthooks.h"

#define TT_MAX_PORTS 16

enum tt_tw_mode {
	TT_TW_NONE = 0,
	TT_TW_RULE = 1,		/* decided in the transition program at X > CLOSE */
	TT_TW_HOOK = 2,		/* a tcp_time_wait() hook reports it; the transition
				 * program drops the X > CLOSE that follows */
};

/* How the sock_ops program reads the current task (helpers differ by kernel). */
enum tt_task_access {
	TT_TASK_HELPERS = 0,	/* bpf_get_current_pid_tgid() and _comm() (6.2+) */
	TT_TASK_BTF = 1,	/* bpf_get_current_task_btf() */
	TT_TASK_NONE = 2,	/* neither: no pid, comm or owner in its records */
};

/*
 * The keys of two maps of the pid filter that userspace fills too, from the
 * seed: owned_listeners (the process's listeners) and owned_seeded (its
 * other sockets, by tuple; addresses and ports as in tt_event).
 */
struct tt_listener_key {
	__u32 netns;
	__u32 port;
};

struct tt_seeded_key {
	__u32 netns;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8  saddr[16];
	__u8  daddr[16];
};

/*
 * Settings the BPF side reads; one const volatile instance, written between
 * skeleton open and load so the verifier prunes disabled branches.
 */
struct tt_config {
	__u32 family;		/* 0 = any, else TT_AF_INET / TT_AF_INET6 */
	__u32 tgid;		/* 0 = any: only flows owned by this process */
	__u32 netns;		/* 0 = any */
	__u32 n_lports;
	__u32 n_rports;
	__u32 n_ports;		/* either end */
	__u32 wake_bytes;	/* wake the consumer once this much is queued */
	__u32 tw_mode;		/* enum tt_tw_mode: how TIME-WAIT entry is seen */
	__u32 sockops_task;	/* enum tt_task_access: sock_ops' view of the current task */
	__u32 cgroup_level;	/* --cgroup: the level of cgroup_id (root: 0) */
	__u32 flow_records;	/* 1: typed transitions hooks keep each socket's
				 * transitions in socket storage and send
				 * struct tt_flowrec; 0: one tt_event each (-e) */
	__u32 nest_copy;	/* 1: set_state_nest runs after tp_btf_set_state,
				 * which leaves it notes; 0: it is not attached */
	__u32 no_cookie;	/* 1: tracing programs may not call
				 * bpf_get_socket_cookie() (before Linux 5.12):
				 * their records carry none, as a tracepoint's */
	__u64 cgroup_id;	/* --cgroup: 0 = any, else the socket's cgroup must be
				 * this one or below it (its ancestor at
				 * cgroup_level has this id) */
	__u16 lports[TT_MAX_PORTS];
	__u16 rports[TT_MAX_PORTS];
	__u16 ports[TT_MAX_PORTS];
};

#endif /* TCPTRAIL_H */
