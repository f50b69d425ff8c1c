// SPDX-License-Identifier: GPL-2.0
/*
 * Transitions: every TCP state change, from whichever hook works here.
 *
 * The kernel fact: every TCP state change goes through one of two functions.
 * inet_sk_state_store() ends tcp_set_state() and makes
 * inet_csk_listen_start()'s CLOSE > LISTEN; inet_sk_set_state() makes a new
 * child's LISTEN > SYN_RECV in inet_csk_clone_lock() and LISTEN > CLOSE when
 * listen_start() fails.  Both fire the sock:inet_sock_set_state tracepoint,
 * which the tp_btf and tracepoint variants take; the fentry and kprobe ones
 * hook the two functions.  tcp_set_state() also calls the cgroup sock_ops
 * programs of a socket that asked for BPF_SOCK_OPS_STATE_CB_FLAG, before the
 * tracepoint and with no recursion guard: sockops_state below.  All of them
 * share one body, on_set_state(), which also decides TIME-WAIT entry by rule
 * where no tcp_time_wait() hook works (time_wait.bpf.c).
 */
#include "tcptrail.bpf.h"
#include "flowrec.bpf.h"

/*
 * The pid filter follows ownership, not the current task: a flow is kept from
 * the moment its owner acts on it (connect, listen, accept) or, for a passive
 * child, from birth if its listener is owned.
 */
static __always_inline bool pass_owner(struct sock *sk, const struct sk_view *v,
				       int oldstate, int newstate, __u8 hook, bool direct)
{
	__u64 key = (__u64)sk;
	__u8 one = 1;

	if (!cfg.tgid)
		return true;
	if (v->owner && (cur_pid_tgid(hook) >> 32) == cfg.tgid) {
		bpf_map_update_elem(&owned, &key, &one, BPF_ANY);
		if (newstate == BPF_TCP_LISTEN) {
			struct tt_listener_key lk = { .netns = v->netns, .port = v->sport };

			bpf_map_update_elem(&owned_listeners, &lk, &one, BPF_ANY);
		}
		return true;
	}
	if (owned_sk(sk, v, direct))
		return true;
	if (oldstate == BPF_TCP_LISTEN && newstate == BPF_TCP_SYN_RECV) {
		struct tt_listener_key lk = { .netns = v->netns, .port = v->sport };

		if (bpf_map_lookup_elem(&owned_listeners, &lk)) {
			bpf_map_update_elem(&owned, &key, &one, BPF_ANY);
			return true;
		}
	}
	return false;
}

static __always_inline void forget_owned(struct sock *sk, const struct sk_view *v,
					 int oldstate, int newstate, bool direct)
{
	__u64 key = (__u64)sk;
	__u32 zero = 0;
	__u64 *closed;

	if (!cfg.tgid || newstate != BPF_TCP_CLOSE)
		return;
	bpf_map_delete_elem(&owned, &key);
	closed = bpf_map_lookup_elem(&owned_closed, &zero);
	if (closed)
		*closed = key;
	forget_seeded(sk, v, direct);
	if (oldstate == BPF_TCP_LISTEN) {
		struct tt_listener_key lk = { .netns = v->netns, .port = v->sport };

		bpf_map_delete_elem(&owned_listeners, &lk);
	}
}

/*
 * The tcp_time_wait() hook's hand-over of this socket, if it is the one
 * waiting on this CPU: taken, and with flow records *substate set to what
 * tcp_time_wait() was called with.
 */
static __always_inline bool take_handover(struct sock *sk, int *substate)
{
	__u32 zero = 0;
	struct tw_hand *handed = bpf_map_lookup_elem(&tw_handover, &zero);

	if (!handed || handed->sk != (__u64)sk)
		return false;
	handed->sk = 0;
	*substate = handed->substate;
	return true;
}

#define RCV_SHUTDOWN_	1

/*
 * Without a tcp_time_wait() hook, decide at X > CLOSE whether the socket
 * went to TIME-WAIT.  tcp_time_wait() runs only after our FIN was sent
 * (FIN_WAIT1/FIN_WAIT2/CLOSING) and either the peer's FIN arrived (tcp_fin()
 * set RCV_SHUTDOWN and SOCK_DONE) or an orphan waits for it (tcp_close() set
 * SHUTDOWN_MASK, SOCK_DEAD, and linger2 >= 0 allows the FIN_WAIT2 timewait).
 * Resets set sk_err first; tcp_disconnect() (SO_LINGER 0) runs before
 * sock_orphan() and without SOCK_DONE.  Returns the substate, or 0.
 */
static __always_inline int tw_rule(struct sock *sk, int oldstate, bool direct)
{
	unsigned long flags;
	__u8 shutdown;

	if (oldstate != BPF_TCP_FIN_WAIT1 && oldstate != BPF_TCP_FIN_WAIT2 && oldstate != BPF_TCP_CLOSING)
		return 0;
	if (SK_READ(direct, sk, sk_err))
		return 0;
	shutdown = direct ? BPF_CORE_READ_BITFIELD(sk, sk_shutdown) :
			    BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown);
	if (!(shutdown & RCV_SHUTDOWN_))
		return 0;
	flags = SK_READ(direct, sk, __sk_common.skc_flags);
	if (flags & (1UL << SOCK_DONE))
		return BPF_TCP_TIME_WAIT;
	if ((flags & (1UL << SOCK_DEAD)) &&
	    BPF_CORE_READ((struct tcp_sock *)sk, linger2) >= 0)
		return BPF_TCP_FIN_WAIT2;
	return 0;
}

/*
 * A child's LISTEN > SYN_RECV is held back until its next transition.  When
 * two segments of one handshake are handled on two CPUs at once (say the
 * third ACK in ksoftirqd and the next segment in the sender's own softirq),
 * both clone a child from the request, and the one that loses the race for
 * the established hash is destroyed at once: inet_ehash_nolisten() stores
 * SYN_RECV > CLOSE with inet_sk_set_state().  That child was never a
 * connection; its birth and death are dropped together.  The birth is kept
 * by socket with its time; a child normally moves on within microseconds,
 * and is told then with its ports set, which they are not yet at the clone.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} births SEC(".maps");

/*
 * The loser of that race, as SYN_RECV > CLOSE shows it: no error, not
 * accepted (a Fast Open child may be, in SYN_RECV), and with its port
 * number, which inet_csk_prepare_forced_close() zeroes in a child whose
 * creation failed.  (Not SOCK_DEAD, which that also sets: a child cloned
 * from a listener closed in the meantime copies the flag from it.)  Nor a
 * Fast Open child still waiting in the accept queue when its listener is
 * closed: inet_child_forget() disconnects it (> CLOSE, no error yet) while
 * its fastopen_rsk still points at its request, which a loser never has
 * (tcp_fastopen_create_child() sets it only once the child is hashed).
 */
static __always_inline bool lost_clone_race(struct sock *sk, int newstate, bool direct)
{
	if (newstate != BPF_TCP_CLOSE || SK_READ(direct, sk, sk_socket) || SK_READ(direct, sk, sk_err))
		return false;
	if (!SK_READ(direct, sk, __sk_common.skc_num))
		return false;
	if (direct) {
		/* as sockops_records(): sock_ops may not probe-read on every kernel */
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

		return tp && !tp->fastopen_rsk;
	}
	return !BPF_CORE_READ((struct tcp_sock *)sk, fastopen_rsk);
}

/*
 * At a child's first transition after its birth: false if it is the loser
 * (drop this transition too), else tell the birth first.  Only tp_btf and
 * fentry programs may ask for the socket cookie; hook says which this is.
 */
static __always_inline bool release_birth(struct sock *sk, const struct sk_view *v,
					  int newstate, __u8 hook, bool direct)
{
	__u64 key = (__u64)sk, *ts = bpf_map_lookup_elem(&births, &key);
	struct tt_event *e;
	__u64 born;

	if (!ts)
		return true;
	born = *ts;
	bpf_map_delete_elem(&births, &key);
	if (lost_clone_race(sk, newstate, direct))
		return false;
	if (!pass_filters(v))
		return true;
	e = reserve(TT_EV_TRANSITION, sk, v, hook, direct);
	if (!e)
		return true;
	/* as it was then: in softirq, not in its owner's syscall */
	e->old_state = BPF_TCP_LISTEN;
	e->new_state = BPF_TCP_SYN_RECV;
	e->flags &= ~TT_F_OWNER;
	e->ts_ns = born;
	/* sock_ops has the cookie helper for its context only; the next record brings it */
	if (direct && hook != TT_HOOK_SOCKOPS_STATE && !cfg.no_cookie) {
		e->cookie = bpf_get_socket_cookie(sk);
		e->flags |= TT_F_COOKIE;
	}
	bpf_ringbuf_submit(e, submit_flags());
	return true;
}

/*
 * inet_csk_clone_lock() makes a child's LISTEN > SYN_RECV from the state
 * the child copied from its listener, which is CLOSE when the listener was
 * closed while a segment of the handshake was being handled: the softirq
 * found the request, then the clone came after close() (seen in a 6.1
 * guest, its ksoftirqd preempted for milliseconds).  Such a child is born
 * all the same, and is told as LISTEN > SYN_RECV, so that its birth is held
 * and, if it loses the race for the established hash, dropped with its death.
 */
static __always_inline int clone_old(int oldstate, int newstate)
{
	return newstate == BPF_TCP_SYN_RECV && oldstate == BPF_TCP_CLOSE ? BPF_TCP_LISTEN : oldstate;
}

/*
 * Set by userspace once the sock_ops program below is attached.  From then
 * on, a TCP socket that carries BPF_SOCK_OPS_STATE_CB_FLAG has every
 * tcp_set_state() reported to that program, which records it; the
 * tracepoint, fentry and kprobe variants leave such transitions alone.
 * (Another tool's sock_ops program may set the flag too: ours, on the
 * cgroup root, is run for those sockets as well.)
 */
volatile __u32 sockops_on = 0;

/*
 * True when the sock_ops program records this transition.  It is told only
 * of tcp_set_state(): CLOSE > LISTEN (inet_csk_listen_start()) and a child's
 * LISTEN > SYN_RECV (inet_sk_set_state()) stay with the hook that sees them,
 * and so, for a simple rule, does anything else from or to LISTEN.  Where
 * sock_ops cannot know the current task, the transitions its owner makes in
 * a syscall (connect, close) stay with the other hooks too, which tell the
 * closer; both read the same lock word within one tcp_set_state().
 */
static __always_inline bool sockops_skips(struct sock *sk, int oldstate, int newstate,
					  bool direct)
{
	oldstate = clone_old(oldstate, newstate);
	if (oldstate == BPF_TCP_LISTEN || newstate == BPF_TCP_LISTEN)
		return true;
	return cfg.sockops_task == TT_TASK_NONE && SK_READ(direct, sk, sk_lock.owned);
}

static __always_inline bool sockops_records(struct sock *sk, int oldstate, int newstate,
					    bool direct)
{
	__u8 cb_flags;

	if (!sockops_on || sockops_skips(sk, oldstate, newstate, direct))
		return false;
	if (direct) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

		if (!tp)
			return false;
		cb_flags = tp->bpf_sock_ops_cb_flags;
	} else {
		cb_flags = BPF_CORE_READ((struct tcp_sock *)sk, bpf_sock_ops_cb_flags);
	}
	return cb_flags & BPF_SOCK_OPS_STATE_CB_FLAG;
}


/* The socket's > CLOSE (or hand-over to TIME-WAIT) is in st: send its last record. */
static __always_inline void flow_end(struct sock *sk, struct tt_skstore *st, __u8 old,
				     int substate, __u8 hook)
{
	st->sk_err = substate ? 0 : sk->sk_err;
	if (old == BPF_TCP_LAST_ACK && !st->sk_err)
		st->fin_acked = 1;
	flow_flush(sk, st, hook, true);
	st->ended = 1;
	st->last = BPF_TCP_CLOSE;
	st->syn_acked = 0;
	st->fin_acked = 0;
	st->sk_err = 0;
}

/*
 * Flow records (cfg.flow_records; flowrec.bpf.h sends them): one transition
 * into its socket's record, with what the hooks skipped inferred.
 */
static __always_inline void flow_transition(struct sock *sk, struct sk_view *v, int oldstate,
					    int newstate, int substate, __u8 hook, bool nested,
					    void *ops)
{
	__u8 old = oldstate, new = newstate, tfl = 0;
	struct tt_skstore *st;
	__u64 now, id;

	if (!pass_owner(sk, v, oldstate, newstate, hook, true))
		return;
	forget_owned(sk, v, oldstate, newstate, true);
	st = bpf_sk_storage_get(&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		count_lost(TT_EV_FLOW);
		return;
	}
	/*
	 * Not at a passive child's birth: Linux 6.1 and 6.12 answer the
	 * listener's cookie there (the clone's copy; the child gets its own
	 * later), every child of a listener one cookie.  Its next transition
	 * brings its own, as release_birth()'s record does.
	 */
	if (!st->cookie && !(old == BPF_TCP_LISTEN && new == BPF_TCP_SYN_RECV)) {
		if (hook == TT_HOOK_SOCKOPS_STATE)
			st->cookie = bpf_get_socket_cookie(ops);
		else
			st->cookie = bpf_get_socket_cookie(sk);
	}
	/*
	 * The second program copy, for a run the first did make; or the
	 * tracepoint after sock_ops recorded this very transition and another
	 * sock_ops program then cleared STATE_CB on the socket (tcp_set_state()
	 * runs them before the tracepoint), which sockops_records() reads as
	 * "not sock_ops'".  A transition to another state cannot repeat.
	 */
	if ((nested || (hook != TT_HOOK_SOCKOPS_STATE && old != new && sockops_on)) &&
	    st->last == new && st->last_old == old)
		return;
	/* a child that lost the clone race: its birth and death go together */
	if (st->n == 1 && st->old_state[0] == BPF_TCP_LISTEN && st->new_state[0] == BPF_TCP_SYN_RECV &&
	    old == BPF_TCP_SYN_RECV && lost_clone_race(sk, newstate, true)) {
		bpf_sk_storage_delete(&flows, sk);
		return;
	}
	now = bpf_ktime_get_ns();
	st->ended = 0;
	/*
	 * A child's first transition from SYN_RECV with nothing stored: its
	 * birth was skipped (a child moves on within microseconds of it, so
	 * it is no socket from before the start, but for a Fast Open child
	 * then).  A loser of the clone race still goes unseen.
	 */
	if (!st->last && old == BPF_TCP_SYN_RECV) {
		if (lost_clone_race(sk, newstate, true)) {
			bpf_sk_storage_delete(&flows, sk);
			return;
		}
		flow_push(st, BPF_TCP_LISTEN, BPF_TCP_SYN_RECV, now, TT_T_INFERRED);
	}
	/* a gap: a hook skipped the transition that led here */
	if (st->last && st->last != old && !(old == BPF_TCP_LISTEN && new == BPF_TCP_SYN_RECV)) {
		if (st->n >= TT_FR_STATES)
			flow_flush(sk, st, hook, false);
		flow_push(st, st->last, old, now, TT_T_INFERRED);
	}
	if (st->n >= TT_FR_STATES)
		flow_flush(sk, st, hook, false);
	id = v->owner ? cur_pid_tgid(hook) : 0;
	if (id && !st->ntask) {
		st->task_pid[0] = (__u32)id;
		st->task_tgid[0] = id >> 32;
		cur_comm(st->task_comm[0], sizeof(st->task_comm[0]), hook);
		st->ntask = 1;
		tfl = TT_T_TASK0;
	} else if (id) {
		st->task_pid[1] = (__u32)id;
		st->task_tgid[1] = id >> 32;
		cur_comm(st->task_comm[1], sizeof(st->task_comm[1]), hook);
		st->ntask = 2;
		tfl = TT_T_TASK1;
	}
	if (substate) {
		st->tw_substate = substate;
		flow_push(st, old, BPF_TCP_TIME_WAIT, now, tfl | TT_T_TW_SUB);
	} else {
		flow_push(st, old, new, now, tfl);
	}
	if (new == BPF_TCP_CLOSE) {
		flow_end(sk, st, old, substate, hook);
	} else if (new == BPF_TCP_CLOSE_WAIT || new == BPF_TCP_LISTEN || st->n >= TT_FR_STATES) {
		flow_flush(sk, st, hook, false);
	}
}

/* The shared body of every transition variant; returns the event or NULL. */
static __always_inline struct tt_event *
on_set_state(struct sock *sk, int oldstate, int newstate, __u8 hook, bool nested, void *ops)
{
	/* the typed hooks: their sk can be read directly */
	bool direct = hook == TT_HOOK_TP_BTF_SET_STATE || hook == TT_HOOK_FENTRY_SET_STATE ||
		      hook == TT_HOOK_SOCKOPS_STATE;
	bool flow = cfg.flow_records && direct;
	struct tt_event *e;
	struct sk_view v;
	int substate = 0;

	oldstate = clone_old(oldstate, newstate);
	/*
	 * Self-transitions are recorded too, as tcpstates shows them: close()
	 * after shutdown() calls tcp_set_state() with the state it is in
	 * (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK).  The engine counts them and
	 * prints them with -e; a flow's states leave them out.
	 */
	if (cfg.tw_mode == TT_TW_HOOK && newstate == BPF_TCP_CLOSE && take_handover(sk, &substate)) {
		if (!flow) {
			/* the socket's end, told by the TIME-WAIT record: its address may be reused */
			if (cfg.tgid) {
				__u64 key = (__u64)sk;

				bpf_map_delete_elem(&owned, &key);
			}
			return NULL;
		}
		/* flow records: this > CLOSE is the hand-over, substate its substate */
	}
	if (flow && !cfg.tgid) {
		/*
		 * Per transition only the lock tells anything (the owner);
		 * the tuple, namespace and cgroup are read when the record
		 * is sent (flow_flush).
		 */
		v.family = sk->__sk_common.skc_family;
		if (v.family != AF_INET && v.family != AF_INET6)
			return NULL;
		v.owner = sk->sk_lock.owned != 0;
	} else if (read_sk(sk, &v, direct)) {
		return NULL;
	} else if (oldstate == BPF_TCP_CLOSE && newstate == BPF_TCP_SYN_SENT) {
		/*
		 * connect() picks its port after this transition.  A socket
		 * connected again after connect(AF_UNSPEC) still holds its last
		 * connection's inet_sport here, which read_sk() would take for
		 * this one's: a birth carries no port, the next record brings it.
		 */
		v.sport = SK_READ(direct, sk, __sk_common.skc_num);
	}
	if (flow) {
		if (!substate && cfg.tw_mode == TT_TW_RULE && newstate == BPF_TCP_CLOSE)
			substate = tw_rule(sk, oldstate, direct);
		flow_transition(sk, &v, oldstate, newstate, substate, hook, nested, ops);
		return NULL;
	}
	if (oldstate == BPF_TCP_LISTEN && newstate == BPF_TCP_SYN_RECV) {
		__u64 key = (__u64)sk, now = bpf_ktime_get_ns();

		/* the listener's owner decides, now: pass_owner() marks the child */
		if (pass_owner(sk, &v, oldstate, newstate, hook, direct))
			bpf_map_update_elem(&births, &key, &now, BPF_ANY);
		return NULL;
	}
	if (oldstate == BPF_TCP_SYN_RECV && !release_birth(sk, &v, newstate, hook, direct))
		return NULL;
	if (!pass_filters(&v))
		return NULL;
	if (!pass_owner(sk, &v, oldstate, newstate, hook, direct))
		return NULL;
	forget_owned(sk, &v, oldstate, newstate, direct);
	if (cfg.tw_mode == TT_TW_RULE && newstate == BPF_TCP_CLOSE)
		substate = tw_rule(sk, oldstate, direct);

	e = reserve(substate ? TT_EV_TIME_WAIT : TT_EV_TRANSITION, sk, &v, hook, direct);
	if (!e)
		return NULL;
	e->old_state = oldstate;
	if (substate) {
		/* replaces the kernel's > CLOSE for this socket */
		e->new_state = BPF_TCP_TIME_WAIT;
		e->flags |= TT_F_SUBSTATE;
		e->aux[0] = substate;
		return e;
	}
	e->new_state = newstate;
	/* tcp_reset() and tcp_write_err() set sk_err before tcp_done() */
	if (newstate == BPF_TCP_CLOSE)
		e->aux[0] = SK_READ(direct, sk, sk_err);
	return e;
}

/*
 * The kernel does not run a tp_btf or fentry program inside itself: when a
 * softirq fires the hook while the program is active on that CPU, the
 * nested run is skipped and only counted in recursion_misses.  Under load
 * that loses transitions without a trace.  A second copy of the program,
 * attached to the same hook after the first, has its own guard.  The
 * first copy notes each transition it is run for, on entry; the second
 * records a transition only when it finds no such note, and takes the note
 * away when it does.  That covers the whole time the first copy is active,
 * including the kernel's own code around its body, which a "busy" flag set
 * inside the body would not: those few nanoseconds lost TIME-WAIT entries
 * in the soak.
 *
 * The second copy normally runs right after the first, so at most a few
 * notes wait for it at once; a softirq in between adds and takes its own.
 * A note waits for ever only when the second copy was the one skipped
 * (the first then ran nested, and its twin never comes): it goes stale,
 * and a later note may take its slot once DONE_STALE notes followed it.
 *
 * With flow records and sock_ops the second copy earns nothing and is not
 * attached (cfg.nest_copy 0): the first copy's skipped runs are of
 * transitions sock_ops records, or are inferred from the gap they leave
 * (a child's birth, a syscall's transition, which then names no task); an
 * end is made good by tp_btf_destroy_sock.  Under load 4,629 of 4,629
 * skipped runs were sock_ops' (ttload, 750,000 connections).
 */
#define DONE_SLOTS	8
#define DONE_STALE	32

struct done_notes {
	__u64 sk[DONE_SLOTS];		/* 0: free */
	__u32 states[DONE_SLOTS];	/* old << 8 | new */
	__u32 seq[DONE_SLOTS];
	__u32 next_seq;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct done_notes);
} done SEC(".maps");

/*
 * The first copy's misses that the second made good: [0] it recorded them,
 * [1] sock_ops did.  The first copy's misses less these are lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} nest_caught SEC(".maps");

static __always_inline void set_state_btf(struct sock *sk, int oldstate, int newstate,
					  bool nested)
{
	struct tt_event *e;

	if (sk->sk_protocol != IPPROTO_TCP)
		return;
	e = on_set_state(sk, oldstate, newstate, TT_HOOK_TP_BTF_SET_STATE, nested, NULL);
	if (!e)
		return;
	if (!cfg.no_cookie) {
		e->cookie = bpf_get_socket_cookie(sk);
		e->flags |= TT_F_COOKIE;
	}
	e->flags |= nested ? TT_F_NESTED : 0;
	bpf_ringbuf_submit(e, submit_flags());
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_btf_set_state, struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0;
	struct done_notes *d = cfg.nest_copy ? bpf_map_lookup_elem(&done, &zero) : NULL;

	if (d) {
		__u32 seq = ++d->next_seq, pick = 0, oldest = 0;

		for (__u32 i = 0; i < DONE_SLOTS; i++) {
			if (!d->sk[i] || seq - d->seq[i] > DONE_STALE) {
				pick = i;
				break;
			}
			/* none free: the oldest note goes */
			if (seq - d->seq[i] > oldest) {
				oldest = seq - d->seq[i];
				pick = i;
			}
		}
		if (pick < DONE_SLOTS) {
			d->sk[pick] = (__u64)sk;
			d->states[pick] = (__u32)oldstate << 8 | (__u8)newstate;
			d->seq[pick] = seq;
		}
	}
	/* noted all the same: the twin's count of our misses stays whole */
	if (!sockops_records(sk, oldstate, newstate, true))
		set_state_btf(sk, oldstate, newstate, false);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_nest, struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0, st = (__u32)oldstate << 8 | (__u8)newstate, slot;
	struct done_notes *d = bpf_map_lookup_elem(&done, &zero);
	__u64 *n;

	if (!d)
		return 0;
	for (int i = 0; i < DONE_SLOTS; i++) {
		if (d->sk[i] == (__u64)sk && d->states[i] == st) {
			__u32 seq = d->seq[i];

			/*
			 * The first copy ran for this one.  Its note and every
			 * older one go: an older note is stale (its twin was
			 * skipped) or waits for a twin in a run this one
			 * interrupted, which then records a repeat that the
			 * daemon drops (TT_F_NESTED).  A stale note left in
			 * place would hide a later transition of a socket
			 * reusing the same address, which slab reuse makes
			 * likely: the soak lost TIME-WAIT entries that way.
			 */
			for (int j = 0; j < DONE_SLOTS; j++)
				if ((__s32)(d->seq[j] - seq) <= 0)
					d->sk[j] = 0;
			return 0;
		}
	}
	/* the first copy was skipped for this one: record it, or leave it to sock_ops */
	slot = sockops_records(sk, oldstate, newstate, true);
	n = bpf_map_lookup_elem(&nest_caught, &slot);
	if (n)
		*n += 1;
	if (!slot)
		set_state_btf(sk, oldstate, newstate, true);
	return 0;
}

/*
 * Flow records: an end that no transitions program recorded.  Every full
 * TCP socket passes tcp_v4_destroy_sock() (IPv6 ones too) once it is CLOSE,
 * before its storage is freed.  A socket whose > CLOSE went unrecorded (the
 * transitions program was skipped, nested, with no second copy to make it
 * good) still has an open timeline there: its end is inferred, TIME-WAIT
 * decided as at the > CLOSE, and the record sent, so the flow is not lost
 * whole.  Loaded with flow records only; two runs a connection, most of
 * them one storage lookup.  The tracepoint is in tcp_v4_destroy_sock().
 */
static __always_inline void flow_destroyed(struct sock *sk, __u8 hook)
{
	struct tt_skstore *st;
	int substate = 0;
	__u8 old;

	if (!cfg.flow_records || sk->sk_protocol != IPPROTO_TCP)
		return;
	st = bpf_sk_storage_get(&flows, sk, 0, 0);
	if (!st || st->ended || !st->last)
		return;
	/* -p: a child another process accepted (owner.bpf.c) is not told */
	if (cfg.tgid) {
		__u64 key = (__u64)sk;

		if (!bpf_map_lookup_elem(&owned, &key)) {
			bpf_sk_storage_delete(&flows, sk);
			return;
		}
	}
	old = st->last;
	if (old == BPF_TCP_SYN_RECV && lost_clone_race(sk, BPF_TCP_CLOSE, true)) {
		bpf_sk_storage_delete(&flows, sk);
		return;
	}
	if (cfg.tw_mode == TT_TW_HOOK)
		take_handover(sk, &substate);
	else if (cfg.tw_mode == TT_TW_RULE)
		substate = tw_rule(sk, old, true);
	if (st->n >= TT_FR_STATES)
		flow_flush(sk, st, hook, false);
	if (substate) {
		st->tw_substate = substate;
		flow_push(st, old, BPF_TCP_TIME_WAIT, bpf_ktime_get_ns(),
			  TT_T_INFERRED | TT_T_TW_SUB);
	} else {
		flow_push(st, old, BPF_TCP_CLOSE, bpf_ktime_get_ns(), TT_T_INFERRED);
	}
	flow_end(sk, st, old, substate, hook);
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tp_btf_destroy_sock, struct sock *sk)
{
	flow_destroyed(sk, TT_HOOK_TP_BTF_SET_STATE);
	return 0;
}

/* The fentry variant's: where fentry works, so does this (tcp_v6_destroy_sock() calls it) */
SEC("fentry/tcp_v4_destroy_sock")
int BPF_PROG(fentry_destroy_sock, struct sock *sk)
{
	flow_destroyed(sk, TT_HOOK_FENTRY_SET_STATE);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	struct tt_event *e;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	/* each ctx field read once: the verifier refuses a ctx pointer kept moved */
	barrier_var(oldstate);
	barrier_var(newstate);
	if (sockops_records(sk, oldstate, newstate, false))
		return 0;
	e = on_set_state(sk, oldstate, newstate, TT_HOOK_TP_SET_STATE, false, NULL);
	if (e)
		bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/*
 * The tracepoint fires in two functions, and fentry and kprobes hook those:
 * inet_sk_state_store(), where tcp_set_state() ends and where
 * inet_csk_listen_start() makes CLOSE > LISTEN, and inet_sk_set_state(),
 * which makes a new child's LISTEN > SYN_RECV in inet_csk_clone_lock() and
 * LISTEN > CLOSE when listen_start() fails.  tcp_set_state() alone misses
 * those three.  MPTCP and DCCP sockets change state there as well.
 */
static __always_inline void
on_state_store(struct sock *sk, int newstate, __u8 hook, bool cookie)
{
	struct tt_event *e;
	int oldstate;

	/* cookie: an fentry program, whose sk is typed */
	if (SK_READ(cookie, sk, sk_protocol) != IPPROTO_TCP)
		return;
	oldstate = SK_READ(cookie, sk, __sk_common.skc_state);
	if (sockops_records(sk, oldstate, newstate, cookie))
		return;
	e = on_set_state(sk, oldstate, newstate, hook, false, NULL);
	if (!e)
		return;
	if (cookie && !cfg.no_cookie) {
		/* kprobe programs have no bpf_get_socket_cookie() */
		e->cookie = bpf_get_socket_cookie(sk);
		e->flags |= TT_F_COOKIE;
	}
	bpf_ringbuf_submit(e, submit_flags());
}

SEC("fentry/inet_sk_state_store")
int BPF_PROG(fentry_state_store, struct sock *sk, int newstate)
{
	on_state_store(sk, newstate, TT_HOOK_FENTRY_SET_STATE, true);
	return 0;
}

SEC("fentry/inet_sk_set_state")
int BPF_PROG(fentry_sk_set_state, struct sock *sk, int state)
{
	on_state_store(sk, state, TT_HOOK_FENTRY_SET_STATE, true);
	return 0;
}

SEC("kprobe/inet_sk_state_store")
int BPF_KPROBE(kprobe_state_store, struct sock *sk, int newstate)
{
	on_state_store(sk, newstate, TT_HOOK_KPROBE_SET_STATE, false);
	return 0;
}

SEC("kprobe/inet_sk_set_state")
int BPF_KPROBE(kprobe_sk_set_state, struct sock *sk, int state)
{
	on_state_store(sk, state, TT_HOOK_KPROBE_SET_STATE, false);
	return 0;
}

/*
 * The transitions the kernel never skips.  A tracepoint, fentry or kprobe
 * program is not run when it is already running on that CPU, and Linux 6.18
 * also drops some tracepoint runs of every BPF program without counting
 * them (perf's own probe on the same tracepoint sees them; the soak lost
 * about 1 in 5,000 FIN_WAIT1 > FIN_WAIT2 and > CLOSE).  tcp_set_state()
 * calls the cgroup sock_ops programs of a socket whose STATE_CB flag is set
 * before it fires the tracepoint, with no recursion guard at all.  This
 * program, on the cgroup v2 root, sets the flag when a socket connects or
 * is established, and records the socket's transitions from then on;
 * sockops_records() keeps the other hooks off them.  It may run nested in
 * a softirq on its own CPU, which is why the record is built in the ring
 * buffer and nothing per CPU is kept across helper calls.
 */
SEC("sockops")
int sockops_state(struct bpf_sock_ops *ops)
{
	struct bpf_sock *bsk;
	struct tcp_sock *tp;
	struct tt_event *e;
	int oldstate, newstate;

	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		if (!(ops->bpf_sock_ops_cb_flags & BPF_SOCK_OPS_STATE_CB_FLAG))
			bpf_sock_ops_cb_flags_set(ops, ops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_STATE_CB_FLAG);
		return 1;
	case BPF_SOCK_OPS_STATE_CB:
		break;
	default:
		return 1;
	}
	if (!sockops_on)
		return 1;
	oldstate = ops->args[0];
	newstate = ops->args[1];
	bsk = ops->sk;
	if (!bsk)
		return 1;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp || sockops_skips((struct sock *)tp, oldstate, newstate, true))
		return 1;
	e = on_set_state((struct sock *)tp, oldstate, newstate, TT_HOOK_SOCKOPS_STATE, false, ops);
	if (!e)
		return 1;
	e->cookie = bpf_get_socket_cookie(ops);
	e->flags |= TT_F_COOKIE;
	bpf_ringbuf_submit(e, submit_flags());
	return 1;
}
