// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where a --snapshot or --top view's sockets come from: on replay the
 * engine's open flows at the end of the capture, live the host's sockets
 * through sock_diag in every network namespace, with owners from /proc.
 * view.c groups and prints them.
 *
 * Ages from sock_diag.  The kernel keeps no birth time per socket, but
 * tcp_info says when an acceptable ACK last arrived (tcpi_last_ack_recv,
 * from tp->rcv_tstamp, which tcp_ack() moves on every ACK it takes).  The
 * states ESTABLISHED, CLOSE_WAIT and FIN_WAIT2 are each entered on such an
 * ACK (the handshake's, the peer's FIN, the ACK of our FIN), so the time
 * since the last one is a lower bound on the time in the state: exact
 * while the peer has sent nothing since, which is the leak case.  A
 * timewait sock's timer is armed for TCP_TIMEWAIT_LEN (60 s) when it is
 * made and re-armed for as long when a segment arrives, so 60 s less what
 * is left is a lower bound too.  Other states get no age rather than a
 * guess.  Replay knows every age exactly, from the records.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "diag.h"
#include "netns.h"
#include "procfd.h"
#include "seed.h"
#include "util.h"
#include "view.h"

#define TIMEWAIT_LEN_MS	60000u		/* TCP_TIMEWAIT_LEN */

/* ---- the engine's flows (replay) ----------------------------------------- */

struct engine_visit {
	struct tt_view *v;
	const struct tt_engine *eng;
	struct tt_ident *ident;
	uint64_t now_ns;
	int err;
};

static void visit_flow(const struct tt_flow *f, void *ctx)
{
	struct engine_visit *ev = ctx;
	struct view_sock s = { 0 };
	const struct tt_flow *l;
	unsigned int last;
	uint64_t since;

	if (!f->nstates || ev->err)
		return;
	last = f->nstates - 1;
	since = f->ts_ns[last];
	s.family = f->family;
	s.state = f->state[last];
	s.sport = f->sport;
	s.dport = f->dport;
	memcpy(s.saddr, f->saddr, 16);
	memcpy(s.daddr, f->daddr, 16);
	s.netns = f->netns;
	s.pid = f->owner_pid;
	memcpy(s.comm, f->owner_comm, sizeof(s.comm));
	/*
	 * A child no process was seen to accept, in a state it can wait in the
	 * accept queue in: its listener's owner's, as the CLOSE-WAIT report
	 * counts it (report.c).  The engine names one born under tracing so
	 * already; one found at start (seeded, no process holding it) is
	 * named here.
	 */
	if (!(f->flags & TT_FLOW_OWNER_KNOWN) &&
	    (f->role == TT_ROLE_PASSIVE || f->role == TT_ROLE_UNKNOWN) &&
	    (s.state == TT_ESTABLISHED || s.state == TT_CLOSE_WAIT || s.state == TT_SYN_RECV)) {
		if (!s.pid && (l = engine__listener_of(ev->eng, f))) {
			s.pid = l->owner_pid;
			memcpy(s.comm, l->owner_comm, sizeof(s.comm));
		}
		s.unaccepted = s.pid != 0;
	}
	s.comm[15] = '\0';
	s.cookie = f->cookie;
	s.cg = ident__lookup(ev->ident, f->cgroup,
			     ident__vague(ev->ident, f->cgroup) ? f->owner_pid : 0);
	s.age_ms = ev->now_ns > since ? (ev->now_ns - since) / 1000000 : 0;
	/* a flow first seen mid-life was in its first state before that */
	s.age_kind = last == 0 && (f->flags & TT_FLOW_PARTIAL) ? VIEW_AGE_AT_LEAST : VIEW_AGE_EXACT;
	ev->err = view__add(ev->v, &s);
}

void view__add_engine(struct tt_view *v, const struct tt_engine *eng, uint64_t now_ns,
		      struct tt_ident *ident)
{
	struct engine_visit ev = { .v = v, .eng = eng, .ident = ident, .now_ns = now_ns };

	engine__for_each(eng, visit_flow, &ev);
	if (ev.err)
		tt_warn("warning: out of memory listing the flows of the capture");
}

/* ---- the host's sockets (live) ------------------------------------------- */

/* A listener a process holds, in the namespace being read: its accept queue's owner. */
struct live_listener {
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];	/* all zero: any address (a wildcard listener) */
	uint32_t ifindex;	/* bound device, 0 if none */
	uint32_t pid;
	char comm[16];
};

struct live_ctx {
	struct tt_view *v;
	const struct tt_opts *o;
	const struct procfd *pf;
	struct tt_ident *ident;
	uint32_t netns;
	int err;
	struct live_listener *ls;	/* the namespace's listeners with an owner, so far */
	size_t nls, cap_ls;
};

static void sock_age(struct view_sock *s, const struct diag_sock *d)
{
	if (d->timer == DIAG_TIMER_TIME_WAIT) {
		s->timewait = true;
		if (d->state == TT_TIME_WAIT && d->expires_ms <= TIMEWAIT_LEN_MS) {
			s->age_kind = VIEW_AGE_AT_LEAST;
			s->age_ms = TIMEWAIT_LEN_MS - d->expires_ms;
		}
		return;
	}
	if (!d->has_info)
		return;		/* a request sock */
	/* a SYN_SENT socket has received nothing: the kernel's figure is from no time at all */
	if (d->state != TT_LISTEN && d->state != TT_SYN_SENT) {
		s->has_idle = true;
		s->idle_ms = d->last_data_recv_ms;
	}
	if (d->state == TT_ESTABLISHED || d->state == TT_CLOSE_WAIT || d->state == TT_FIN_WAIT2) {
		s->age_kind = VIEW_AGE_AT_LEAST;
		s->age_ms = d->last_ack_recv_ms;
	}
}

/* Best effort: a listener left out for want of memory leaves its queue with no owner. */
static void note_listener(struct live_ctx *lc, const struct diag_sock *d,
			  const struct procfd_owner *owner)
{
	struct live_listener *l;

	if (lc->nls == lc->cap_ls) {
		size_t cap = lc->cap_ls ? lc->cap_ls * 2 : 16;

		if (!(l = realloc(lc->ls, cap * sizeof(*l))))
			return;
		lc->ls = l;
		lc->cap_ls = cap;
	}
	l = &lc->ls[lc->nls++];
	l->family = d->family;
	l->port = d->sport;
	memcpy(l->addr, d->saddr, 16);
	l->ifindex = d->ifindex;
	l->pid = owner->tgid;
	memcpy(l->comm, owner->comm, sizeof(l->comm));
	l->comm[15] = '\0';
}

/*
 * A connection the kernel has made but no process has accept()ed yet
 * waits in its listener's accept queue: a full socket (not a request or
 * timewait one) that no file holds (inode 0), in ESTABLISHED, in
 * CLOSE_WAIT once its client gave up, or in SYN_RECV (a Fast Open child).
 * An orphan, one its process closed, has no file either, but close()
 * always takes a socket out of those states (FIN_WAIT1, LAST_ACK, or a
 * reset), so it is never taken for one.
 */
static bool in_accept_queue(const struct diag_sock *d)
{
	return d->has_info && !d->inode && d->timer != DIAG_TIMER_TIME_WAIT &&
	       (d->state == TT_ESTABLISHED || d->state == TT_CLOSE_WAIT || d->state == TT_SYN_RECV);
}

/*
 * The listener whose queue holds d, as the kernel's lookup chose it: a
 * child is a clone of its listener, so of its family, at its port, and at
 * its address unless the listener is a wildcard one; one bound to that
 * address goes before a wildcard one, and one bound to d's device before
 * one bound to none.  NULL if no listener a process holds fits.  *shared:
 * listeners of different processes fit as well as each other (SO_REUSEPORT),
 * and sock_diag does not say whose queue holds it.  inet_diag dumps a
 * namespace's listening hash before its established one, so its listeners
 * are all known by the time its children come.
 */
static const struct live_listener *queue_owner(const struct live_ctx *lc,
					       const struct diag_sock *d, bool *shared)
{
	static const uint8_t any[16];
	const struct live_listener *best = NULL;
	size_t alen = d->family == TT_AF_INET6 ? 16 : 4;
	int best_score = -1;
	bool tie = false;

	for (size_t i = 0; i < lc->nls; i++) {
		const struct live_listener *l = &lc->ls[i];
		bool exact = !memcmp(l->addr, d->saddr, alen);
		int score;

		if (l->family != d->family || l->port != d->sport ||
		    (!exact && memcmp(l->addr, any, alen)) ||
		    (l->ifindex && l->ifindex != d->ifindex))
			continue;
		score = (exact && memcmp(l->addr, any, alen) ? 2 : 0) + (l->ifindex ? 1 : 0);
		if (score > best_score) {
			best = l;
			best_score = score;
			tie = false;
		} else if (score == best_score && l->pid != best->pid) {
			tie = true;
		}
	}
	*shared = tie;
	return best;
}

static int on_live_sock(const struct diag_sock *d, void *ctx)
{
	struct live_ctx *lc = ctx;
	const struct live_listener *l;
	struct procfd_owner owner;
	struct view_sock s = { 0 };
	bool shared;

	/* before the filters: -D leaves listeners out, not their queues */
	if (d->state == TT_LISTEN && procfd__lookup(lc->pf, d->inode, &owner) == 0)
		note_listener(lc, d, &owner);
	if (!seed__wanted(lc->o, d))
		return 0;
	s.family = d->family;
	s.state = d->state;
	s.sport = d->sport;
	s.dport = d->dport;
	memcpy(s.saddr, d->saddr, 16);
	memcpy(s.daddr, d->daddr, 16);
	s.netns = lc->netns;
	s.inode = d->inode;
	s.cookie = d->cookie;
	s.rqueue = d->rqueue;
	s.wqueue = d->wqueue;
	s.has_queues = true;
	if (procfd__lookup(lc->pf, d->inode, &owner) == 0) {
		s.pid = owner.tgid;
		s.holders = owner.nholders;
		memcpy(s.comm, owner.comm, sizeof(s.comm));
		s.comm[15] = '\0';
	} else if (in_accept_queue(d) && (l = queue_owner(lc, d, &shared))) {
		/* no process holds it yet: the listener's owner's, who does not accept() */
		s.unaccepted = true;
		if (!shared) {
			s.pid = l->pid;
			memcpy(s.comm, l->comm, sizeof(s.comm));
		}
	}
	if (lc->o->pid && s.pid != lc->o->pid)
		return 0;
	/* a request or timewait sock has no cgroup id and no owner: none */
	/* the owner, where the id says too little or is new (a cgroup made since the last walk) */
	s.cg = ident__lookup(lc->ident, d->cgroup,
			     !ident__names(lc->ident, d->cgroup) ? s.pid : 0);
	sock_age(&s, d);
	lc->err = view__add(lc->v, &s);
	return lc->err;
}

/* ", first pid 1 (systemd)" for a link /proc/PID/ns/net we could not read, else "". */
static void denied_who(const char *path, char *buf, size_t len)
{
	char comm[16] = "";
	unsigned int pid;
	int end = 0;

	buf[0] = '\0';
	if (!path || sscanf(path, "/proc/%u/ns/net%n", &pid, &end) != 1 || path[end])
		return;
	procfd__comm(pid, comm);
	for (int i = 0; i < 15 && comm[i]; i++)
		if ((unsigned char)comm[i] < 0x20 || comm[i] == 0x7f)
			comm[i] = '?';
	snprintf(buf, len, comm[0] ? ", first pid %u (%.15s)" : ", first pid %u", pid, comm);
}

/*
 * Every process outside our own namespace, with its cgroup, for the
 * timewait socks of its namespace: a container's, or shared by two.  Only
 * when there are such socks to name; a /proc walk, as the namespaces'.
 */
static void name_netns(struct tt_view *v, struct tt_ident *ident)
{
	uint32_t self = diag__self_netns();
	unsigned int seen = 0;
	struct dirent *de;
	DIR *d;

	if (!view__unnamed_timewait(v) || !(d = opendir("/proc")))
		return;
	while ((de = readdir(d)) && seen++ < 1000000) {
		char path[64];
		struct stat st;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid || pid > UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/%lu/ns/net", pid);
		if (stat(path, &st) || (uint32_t)st.st_ino == self)
			continue;
		view__name_netns(v, (uint32_t)st.st_ino, ident__lookup(ident, 0, (uint32_t)pid));
	}
	closedir(d);
}

static int64_t wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * One moment of the host: every namespace's sockets (or -N's), owners from
 * one scan of /proc (socket inodes are unique across namespaces).  0 or
 * -errno after a message.
 */
static int collect_live(struct tt_view *v, const struct tt_opts *o, struct netns_set *set,
			struct tt_ident *ident, uint32_t *namespaces, bool *warned)
{
	struct live_ctx lc = { .v = v, .o = o, .ident = ident };
	struct procfd *pf = NULL;
	uint32_t skipped = 0;
	size_t n = 0;
	int err, one = -1;

	view__reset(v);
	*namespaces = 0;
	if (o->netns) {
		one = diag__open_netns(o->netns);
		if (one < 0) {
			tt_err("-N/--netns: find network namespace %u: %s", o->netns, strerror(-one));
			return one;
		}
		n = 1;
	} else {
		err = netns_set__scan(set);
		if (err < 0) {
			tt_err("list network namespaces: %s", strerror(-err));
			return err;
		}
		n = netns_set__count(set);
		if (netns_set__denied(set) && !*warned) {
			char who[64];

			denied_who(netns_set__denied_path(set), who, sizeof(who));
			tt_warn("warning: the network namespace of %zu process%s could not be opened "
				"(permission denied%s): sockets only there are not shown",
				netns_set__denied(set), netns_set__denied(set) == 1 ? "" : "es", who);
			view__note(v, "some network namespaces could not be opened: sockets only "
				   "there are not shown (stderr said which)");
		}
		if (netns_set__short(set) && !*warned) {
			char why[512];

			tt_warn("warning: %zu of %zu network namespaces are not shown: %s",
				netns_set__short(set), n + netns_set__short(set),
				netns_set__short_why(set, why, sizeof(why)));
			view__note(v, "some network namespaces are not shown, for want of file "
				   "descriptors (stderr said how many)");
		}
	}
	err = procfd__scan(&pf, o->pid);
	if (err && !*warned) {
		tt_warn("warning: scan /proc for socket owners: %s; sockets will have none",
			strerror(-err));
		view__note(v, "/proc could not be scanned: sockets show no owner");
	} else if (!err && procfd__stats(pf)->procs_denied && !*warned) {
		tt_warn("warning: %u %s open files could not be read (not root?): their "
			"sockets show no owner", procfd__stats(pf)->procs_denied,
			procfd__stats(pf)->procs_denied == 1 ? "process's" : "processes'");
		view__note(v, "some processes' open files could not be read: their sockets show "
			   "no owner");
	}
	lc.pf = pf;
	err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		struct diag_req req = {
			.netns_fd = o->netns ? one : netns_set__fd(set, i),
			.family = (uint8_t)o->family,
		};
		int ret;

		lc.netns = o->netns ? o->netns : netns_set__inode(set, i);
		lc.nls = 0;
		ret = diag__dump_req(&req, on_live_sock, &lc);
		if (lc.err) {
			err = lc.err;
			tt_err("out of memory listing sockets");
		} else if (ret < 0) {
			/* a namespace that went away, or one we may not enter: said, and skipped */
			skipped++;
		} else {
			(*namespaces)++;
		}
	}
	/* with -N too: its timewait socks are named by its processes as host-wide */
	if (!err)
		name_netns(v, ident);
	if (skipped && !*warned) {
		tt_warn("warning: %u network namespace%s could not be read (see above)", skipped,
			skipped == 1 ? "" : "s");
		view__note(v, "some network namespaces could not be read: their sockets are not "
			   "shown (stderr said which)");
	}
	*warned = true;
	free(lc.ls);
	procfd__free(pf);
	if (one >= 0)
		close(one);
	return err;
}

int view__run_live(const struct tt_opts *o, volatile sig_atomic_t *stop)
{
	struct tt_view *v = view__new(o, stdout, o->top && isatty(STDOUT_FILENO) && !tt_term_dumb());
	struct netns_set *set = netns_set__new();
	struct tt_ident *ident = ident__new(true);
	uint64_t start = mono_now_ns(), next = start;
	uint32_t namespaces;
	bool warned = false;
	int status = 0, out = 0;

	if (!v || !set || !ident) {
		tt_err("out of memory");
		view__free(v);
		netns_set__free(set);
		ident__free(ident);
		return 1;
	}
	for (;;) {
		/* the names' clock: idle ones make room, a pid's file is read again */
		ident__tick(ident);
		if (collect_live(v, o, set, ident, &namespaces, &warned)) {
			status = 1;
			break;
		}
		view__print(v, wall_now_ns(), "sock_diag", namespaces);
		/* said once: a full disk is 1, a reader gone (| head) is not */
		out = tt_stdout_failed();
		if (out || !o->top)
			break;
		/*
		 * Sleep to the next interval in small steps, so a signal ends it
		 * at once.  Frames keep to a grid from the start, as summaries
		 * do; one that took longer than an interval skips to the next
		 * point of it.
		 */
		next += o->interval_ns;
		if (next <= mono_now_ns())
			next += (mono_now_ns() - next) / o->interval_ns * o->interval_ns +
				o->interval_ns;
		while (!*stop && mono_now_ns() < next &&
		       !(o->duration_ns && mono_now_ns() - start >= o->duration_ns)) {
			uint64_t left = next - mono_now_ns();
			struct timespec ts = { .tv_nsec = left > 100000000 ? 100000000 : (long)left };

			nanosleep(&ts, NULL);
		}
		if (*stop || (o->duration_ns && mono_now_ns() - start >= o->duration_ns))
			break;
	}
	view__free(v);
	netns_set__free(set);
	ident__free(ident);
	if (!out) {
		fflush(stdout);
		out = tt_stdout_failed();
	}
	return out > 0 ? 1 : status;
}
