// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Driver: tcptrail, source -> engine -> sinks.  main() picks the source, turns
 * signals into a clean stop, and owns the live clock that paces summaries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/capability.h>
#include "app.h"
#include "capture.h"
#include "filter.h"
#include "journal.h"
#include "kcount.h"
#include "live.h"
#include "livesys.h"
#include "metrics.h"
#include "netns.h"
#include "opts.h"
#include "outfile.h"
#include "privs.h"
#include "diag.h"
#include "replay.h"
#include "seedsrc.h"
#include "source.h"
#include "ident.h"
#include "util.h"
#include "view.h"

/*
 * contrib/prometheus's TcptrailTextfileStale fires for a metrics file more
 * than 5 min old for 5 min: rewritten every 10 min it may, every 9 never.
 */
#define METRICS_FILE_STALE_NS (540ull * 1000000000ull)

static volatile sig_atomic_t exiting, reopen;
static int64_t wall_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC at start */

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		reopen = 1;
		return;
	}
	/* the second, while a write waits: stop waiting for a reader that does not read */
	if (exiting)
		tt_stdout_give_up_if_writing();
	exiting = 1;
}

static int on_record(void *ctx, const struct tt_event *e)
{
	/*
	 * Past a failed write, draining on only feeds a dead end while the
	 * kernel keeps up the supply (a full disk under load kept us at it for
	 * as long as the traffic lasted): stop, and let the loop see why.
	 */
	return app__record(ctx, e) ? -ECANCELED : 0;
}

static int on_flowrec(void *ctx, const struct tt_flowrec *r)
{
	return app__flowrec(ctx, r) ? -ECANCELED : 0;
}

static void on_hint(void *ctx, const uint64_t *sk, unsigned int n)
{
	app__prefetch(ctx, sk, n);
}

/*
 * The names a capture keeps for a record's cgroup id, as this host resolves
 * them; asked before the pipeline has seen the record, so the record's owner
 * helps name a new id.  Only a name of that very id: never the owner's
 * /proc/PID/cgroup stand-in for the root's.
 */
static int capture_cgroup_name(void *ctx, const struct tt_event *e, struct tt_capcg *out)
{
	struct app *a = ctx;
	const struct tt_cgname *n = app__cgname(a, e);

	if (!n || n->id != e->cgroup)
		n = app__cgname_id(a, e->cgroup);

	if (!n)
		return -1;
	snprintf(out->path, sizeof(out->path), "%s", n->path);
	snprintf(out->container, sizeof(out->container), "%s", n->container);
	snprintf(out->runtime, sizeof(out->runtime), "%s", n->runtime);
	snprintf(out->pod, sizeof(out->pod), "%s", n->pod);
	return 0;
}

/*
 * What this process lacked of what tracing takes (root, or CAP_BPF,
 * CAP_PERFMON and CAP_NET_ADMIN), read at start, before it gave its
 * capabilities up: NULL, or the name of what.
 */
static const char *lacking;

static void note_lacking(void)
{
	const uint64_t all = 1ull << CAP_BPF | 1ull << CAP_PERFMON | 1ull << CAP_NET_ADMIN;

	if (!privs__thread_has(1ull << CAP_SYS_ADMIN) && !privs__thread_has(all))
		lacking = !privs__thread_has(1ull << CAP_NET_ADMIN) ? "CAP_NET_ADMIN" :
			  "a capability";
	else if (geteuid())
		lacking = "root's uid, as tracefs is root's";
}

/*
 * A capability no hook of which this process could attach, some refusing it
 * (EPERM, EACCES), while it lacked part of what tracing takes: its
 * privileges may be why, not the kernel.  NULL, or what it lacked.
 */
static const char *cap_lacking(const struct tt_selection *sel, int cap)
{
	for (size_t i = 0; i < tt_n_variants && i < 32; i++)
		if ((int)tt_variants[i].cap == cap &&
		    (sel->result[i] == -EPERM || sel->result[i] == -EACCES))
			return lacking;
	return NULL;
}

/*
 * Whether a cgroup program of cap was refused EPERM with every privilege
 * held: the kernel's answer when another program holds the cgroup v2 root
 * without BPF_F_ALLOW_MULTI (exclusive, or override).
 */
static bool cgroup_held(const struct tt_selection *sel, int cap)
{
	for (size_t i = 0; i < tt_n_variants && i < 32; i++)
		if ((int)tt_variants[i].cap == cap && sel->result[i] == -EPERM && !lacking &&
		    (tt_variants[i].kind == TT_KIND_CGROUP_SKB ||
		     tt_variants[i].kind == TT_KIND_SOCK_OPS))
			return true;
	return false;
}

/* Whether cap has a plain tracepoint among its hooks: none works without tracefs. */
static bool has_tracepoint(int cap)
{
	for (size_t i = 0; i < tt_n_variants; i++)
		if ((int)tt_variants[i].cap == cap && tt_variants[i].kind == TT_KIND_TRACEPOINT)
			return true;
	return false;
}

/* Say which hook each capability got; nothing degrades silently. */
static void announce(const struct tt_selection *sel, enum tt_attach_mode mode,
		     const char *mode_name, bool flow_records)
{
	const char *lack;
	char line[1024];
	size_t n = 0;

	if (tt_verbosity >= TT_LOG_DEBUG) {
		fprintf(stderr, "tcptrail: hooks:\n");
		live__print_selection(stderr, sel, true);
	}
	for (int cap = 0; cap < TT_CAP_MAX; cap++) {
		int c = sel->chosen[cap];

		if (sel->forced_fallback[cap] && !tt_cap_off(sel, cap))
			tt_warn("warning: --attach %s: no %s hook works for %s here (%s); using %s",
				mode_name, mode_name, tt_cap_name(cap), tt_forced_why(sel, mode, cap),
				c >= 0 ? tt_variants[c].name : "nothing");
		/* a capability turned off by an option is no news */
		if (c < 0 && !tt_cap_off(sel, cap) && (lack = cap_lacking(sel, cap)))
			tt_warn("warning: %s unavailable to this process, which lacks %s (run as "
				"root): %s will be missing (tcptrail --probe says why)",
				tt_cap_name(cap), lack, tt_cap_desc(cap));
		else if (c < 0 && !tt_cap_off(sel, cap) && cgroup_held(sel, cap))
			tt_warn("warning: %s unavailable: another program is attached to the cgroup "
				"v2 root without BPF_F_ALLOW_MULTI, which keeps any other off it "
				"(bpftool cgroup show on the cgroup2 mount names it): %s will be "
				"missing", tt_cap_name(cap), tt_cap_desc(cap));
		else if (c < 0 && !tt_cap_off(sel, cap) && sel->tracefs_err && has_tracepoint(cap))
			tt_warn("warning: %s unavailable: its tracepoint needs tracefs, which is not "
				"mounted and could not be mounted (%s%s): %s will be missing "
				"(tcptrail --probe says why)", tt_cap_name(cap),
				strerror(-sel->tracefs_err),
				sel->tracefs_err == -EPERM ? ": that needs CAP_SYS_ADMIN, or mount "
				"tracefs at /sys/kernel/tracing first" : "", tt_cap_desc(cap));
		else if (c < 0 && !tt_cap_off(sel, cap) && cap == TT_CAP_SOCK_OPS)
			tt_warn("warning: sock-ops unavailable on this kernel: the transitions hook "
				"records every transition, and the kernel skips it now and then under "
				"load (tcptrail --probe says why)");
		else if (c < 0 && !tt_cap_off(sel, cap))
			tt_warn("warning: %s unavailable on this kernel: %s will be missing "
				"(tcptrail --probe says why)", tt_cap_name(cap), tt_cap_desc(cap));
		n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, "%s%s=%s",
				      cap ? " " : "", tt_cap_name(cap),
				      c >= 0 ? tt_kind_name(tt_variants[c].kind) :
				      tt_cap_off(sel, cap) ? "off" : "UNAVAILABLE");
	}
	/* in a container's cgroup namespace, the cgroup hooks hang under its cgroup only */
	for (int cap = 0; cap < TT_CAP_MAX; cap++) {
		int c = sel->chosen[cap];

		if (c >= 0 && (tt_variants[c].kind == TT_KIND_CGROUP_SKB ||
			       tt_variants[c].kind == TT_KIND_SOCK_OPS) && livesys__own_cgroupns()) {
			tt_warn("warning: tcptrail runs in a cgroup namespace of its own (a "
				"container's): the cgroup v2 root it attaches to is that "
				"namespace's, so overflow (cgroup_skb) and sock-ops see only the "
				"sockets of cgroups under it; run it in the host's cgroup namespace "
				"(docker run --cgroupns=host)");
			break;
		}
	}
	tt_info("tracing: %s records=%s%s", line, flow_records ? "per-flow" : "per-transition",
		isatty(STDIN_FILENO) ? " (-v or --probe for details; Ctrl-C to stop)" : "");
}

/* -p: the kernel side follows the process's sockets the seed found */
static int own_seeded(void *ctx, const struct tt_event *e)
{
	return live__own_seeded(ctx, e);
}

/*
 * The reports look at the namespaces being traced, every one on the host
 * without -N: sock_diag for TIME-WAIT counts, and a seed of the sockets that
 * existed before we started.  Before privileges are dropped: the census
 * thread started here keeps what it needs to enter a namespace born later.
 */
static int start_reports(struct app *a, const struct tt_opts *o, struct tt_live *live)
{
	int fd = o->netns ? -1 : TW_NETNS_ALL;

	if (o->netns && o->netns != diag__self_netns()) {
		fd = diag__open_netns(o->netns);
		if (fd < 0) {
			tt_warn("warning: cannot enter network namespace %u (%s): TIME-WAIT counts "
				"are estimated from traced entries", o->netns, strerror(-fd));
			fd = -2;
		}
	}
	if (app__go_live(a, fd)) {
		tt_err("out of memory");
		return -ENOMEM;
	}
	app__keep_namespaces(a);
	if (o->no_seed)
		return 0;
	/* a source of its own (seedsrc.c), driven to its end before the ring buffer's */
	seedsrc__drive(o, a, own_seeded, live);
	return 0;
}

/*
 * When the traced load keeps every CPU busy, the scheduler gives the
 * reader no more than its share, and the ring buffer overflows: in make
 * bench, 8+8 load processes starved a --json >file run into losing 40% of
 * its events, and 5 nice levels brought that to none.  As auditd does with
 * its priority_boost, run that much ahead of the caller; while root can.
 */
static void boost_priority(const struct tt_opts *o)
{
	int cur, want;

	if (!o->priority_boost)
		return;
	errno = 0;
	cur = getpriority(PRIO_PROCESS, 0);
	if (cur == -1 && errno) {
		tt_warn("warning: --priority-boost: read our priority: %s", strerror(errno));
		return;
	}
	want = cur - o->priority_boost < -20 ? -20 : cur - o->priority_boost;
	if (setpriority(PRIO_PROCESS, 0, want)) {
		tt_warn("warning: --priority-boost: set nice %d: %s; under a load that keeps the "
			"CPUs busy, events may be lost", want, strerror(errno));
		return;
	}
	tt_debug("running at nice %d (was %d)", want, cur);
}

/*
 * The kernel can fire the tracepoint and run no BPF program on it, without
 * counting a miss (README, Known limits).  With --netns and no other filter,
 * the daemon lives in the traced namespace once it has dropped its
 * privileges, and that namespace's own counters say how many active opens
 * and TIME-WAIT entries there were: seeing fewer is a loss, and is said.
 * Not passive opens: both children of a clone race between two CPUs count
 * one, and the loser is no connection (bpf/transitions.bpf.c, births).
 */
struct kcheck {
	bool on;
	struct tt_kcounts start;
	uint64_t open;		/* connections open at the end: their records are not sent */
	/*
	 * Before Linux 5.18 the TIME-WAIT counters count expiries
	 * (kcount__tw_at_expiry()): those of the timewait socks there were at
	 * the start count too, and may exceed this run's entries.
	 */
	bool tw_at_expiry;
	uint64_t tw_start;	/* timewait socks at the start, where they count */
};

static void kcheck_start(struct kcheck *k, const struct tt_opts *o)
{
	/* the other filters leave out what the counters count */
	bool whole = !o->family && !o->pid && !o->n_ports && !o->n_lports && !o->n_rports &&
		     !o->n_remote && !o->n_local && !o->cgroup_path[0] && !o->container;
	struct diag_counts c;
	struct utsname u;

	k->on = whole && o->netns && diag__self_netns() == o->netns && !kcount__read(&k->start);
	k->tw_at_expiry = !uname(&u) && kcount__tw_at_expiry(u.release);
	if (k->on && k->tw_at_expiry) {
		if (diag__count(-1, DIAG_STATE(TT_TIME_WAIT), &c))
			k->on = false;
		k->tw_start = c.total;
	}
}

/*
 * The counters at the end, and the connections still open then: with flow
 * records, an active open still connected has sent nothing yet, and is no
 * loss.  They are counted all, passive ones too, so the check can only be
 * quieter than it might be, never wrong.
 */
static void kcheck_stop(struct kcheck *k, struct tt_kcounts *end)
{
	uint32_t open = DIAG_STATES_ALL & ~DIAG_STATE(TT_LISTEN) & ~DIAG_STATE(TT_TIME_WAIT) &
			~DIAG_STATE(TT_CLOSE);
	struct diag_counts c;

	if (!k->on || kcount__read(end) || diag__count(-1, open, &c)) {
		k->on = false;
		return;
	}
	k->open = c.total;
}

/*
 * A cgroup link of ours that someone detached while we run (`bpftool link
 * detach`, another tool's clean-up) takes its hook away without a word from
 * the kernel: looked at once a second, and said once.
 */
static struct {
	uint64_t next_ns;
	unsigned int gone;	/* 1 << TT_CAP_...: the capabilities lost so */
} links;

static void kcheck_end(const struct kcheck *k, const struct tt_kcounts *end,
		       const struct tt_engine_stats *t, uint32_t netns, uint64_t lost)
{
	uint64_t ao = end->active_opens - k->start.active_opens;
	uint64_t tw = end->time_wait - k->start.time_wait;
	uint64_t seen_ao = t->transitions[TT_CLOSE][TT_SYN_SENT];
	uint64_t seen_tw = t->time_wait + k->tw_start;

	if (seen_ao + k->open >= ao && seen_tw >= tw) {
		tt_debug("namespace %u counted %llu active opens and %llu TIME-WAIT %s; "
			 "we saw %llu and %llu, and %llu connections are still open%s", netns,
			 (unsigned long long)ao, (unsigned long long)tw,
			 k->tw_at_expiry ? "expiries" : "entries",
			 (unsigned long long)seen_ao, (unsigned long long)t->time_wait,
			 (unsigned long long)k->open,
			 k->tw_at_expiry ? " (this kernel counts TIME-WAIT as it expires: the "
					   "timewait socks there were at the start count too)" : "");
		return;
	}
	tt_warn("warning: namespace %u's own counters show %llu active opens and %llu "
		"TIME-WAIT entries that tcptrail did not see: %s", netns,
		(unsigned long long)(ao > seen_ao + k->open ? ao - seen_ao - k->open : 0),
		(unsigned long long)(tw > seen_tw ? tw - seen_tw : 0),
		lost ? "events lost from the ring buffer may account for them" :
		t->evicted ? "flows evicted from the full flow table (--max-flows) may account "
			     "for them" :
		links.gone & (1u << TT_CAP_SOCK_OPS) ?
			"tcptrail's sock_ops program was detached while it ran (the warning "
			"above), and what no hook saw then may account for them" :
		       "the kernel skipped our hooks without counting it (README, Known limits)");
}

/*
 * What the filters name can go while we trace: the process of -p, the
 * container behind -N (its process, its /run/netns name, or for an inode,
 * every process and bind mount in it), the cgroup of --cgroup.  Then
 * nothing more is traced, and, for -N, the namespace lives on only because
 * tcptrail runs in it: said once each, not found out from summaries of
 * zeros.
 */
struct gone_check {
	uint64_t next_ns;
	uint32_t ns_pid;		/* -N /proc/PID/ns/net */
	const char *ns_path;		/* -N as a path of another kind, or a NAME's */
	uint32_t ns_inode;		/* -N INODE: held by anything but us? */
	uint64_t ns_net_stat;		/* its /proc/net/stat's inode, where we are in it */
	uint32_t ns_hint;		/* the pid that held it at the last look */
	char cg_dir[PATH_MAX];		/* --cgroup, under the v2 mount */
	uint64_t cg_id;			/* its id, which the kernel side keeps */
	uint64_t cg_next_ns;		/* when to look at it again */
	bool pid_said, ns_said, cg_said;
};

static struct gone_check gone;

static void gone_start(const struct tt_opts *o, const char *mount)
{
	int end = 0;

	gone = (struct gone_check){ .next_ns = live__now_ns() + 2000000000ull };
	/* a NAME is its /run/netns file; only an inode has no path */
	if (o->netns_path[0] &&
	    (sscanf(o->netns_path, "/proc/%u/ns/net%n", &gone.ns_pid, &end) != 1 ||
	     o->netns_path[end])) {
		gone.ns_pid = 0;
		gone.ns_path = o->netns_path;
	} else if (o->netns && !o->netns_path[0]) {
		struct stat st;

		gone.ns_inode = o->netns;
		/* privs.c moved us into it: our /proc/net answers for it */
		if (diag__self_netns() == o->netns && !stat("/proc/thread-self/net/stat", &st))
			gone.ns_net_stat = (uint64_t)st.st_ino;
	}
	if (o->cgroup_path[0] && mount)
		snprintf(gone.cg_dir, sizeof(gone.cg_dir), "%s%s", mount,
			 strcmp(o->cgroup_path, "/") ? o->cgroup_path : "");
	gone.cg_id = o->cgroup_id;
}

static bool pid_gone(uint32_t pid)
{
	/* EPERM: there, and not ours to signal */
	return kill((pid_t)pid, 0) && errno == ESRCH;
}

/*
 * --cgroup names a path: a container that restarts (podman restart) gets a
 * new cgroup there, with a new id, which the kernel side then keeps
 * instead.  Looked at every 20 ms, a stat(): a restarted container's
 * runtime makes the cgroup before its first process starts in it, and
 * sockets made before the new id is in are not traced.
 */
static void cgroup_tick(struct tt_live *live, const struct tt_opts *o, uint64_t now)
{
	struct stat st;

	if (!gone.cg_dir[0] || now < gone.cg_next_ns)
		return;
	gone.cg_next_ns = now + 20000000ull;
	if (stat(gone.cg_dir, &st)) {
		if (errno == ENOENT && !gone.cg_said) {
			gone.cg_said = true;
			tt_warn("warning: --cgroup %s was removed: nothing more is traced until a "
				"cgroup is made again under that name", o->cgroup_path);
		}
	} else if ((uint64_t)st.st_ino != gone.cg_id) {
		gone.cg_id = (uint64_t)st.st_ino;
		gone.cg_said = false;
		live__follow_cgroup(live, gone.cg_id);
		tt_warn("--cgroup %s was made again (cgroup id %" PRIu64 "): traced from now on",
			o->cgroup_path, gone.cg_id);
	}
}

/*
 * -N PATH (or NAME, its /run/netns file): gone when the file is, or names
 * another namespace now (`ip netns del` and `ip netns add` again under the
 * same name).
 */
static bool path_gone(const char *path, uint32_t netns)
{
	struct stat st;

	if (stat(path, &st))
		return errno == ENOENT;
	return (uint32_t)st.st_ino != netns;
}

static void gone_tick(struct tt_live *live, const struct tt_opts *o, uint64_t now)
{
	cgroup_tick(live, o, now);
	if (now < gone.next_ns)
		return;
	gone.next_ns = now + 2000000000ull;
	if (o->pid && !gone.pid_said && pid_gone(o->pid)) {
		gone.pid_said = true;
		tt_warn("warning: process %u has exited: -p traces nothing more", o->pid);
	}
	if (!gone.ns_said && ((gone.ns_pid && pid_gone(gone.ns_pid)) ||
			      (gone.ns_path && path_gone(gone.ns_path, o->netns)) ||
			      (gone.ns_inode && !netns__held("/proc", gone.ns_inode,
							     (uint32_t)getpid(), gone.ns_net_stat,
							     &gone.ns_hint)))) {
		gone.ns_said = true;
		tt_warn("warning: -N %s is gone (its container stopped?): if nothing else holds "
			"network namespace %u, nothing more happens there, and tcptrail, which "
			"runs in it, is all that keeps it", o->netns_arg, o->netns);
	}
}

/* links: is a cgroup link of ours gone? */
static void links_tick(struct tt_live *live, uint64_t now)
{
	unsigned int lost;

	if (now < links.next_ns)
		return;
	links.next_ns = now + 1000000000ull;
	lost = live__detached(live);
	links.gone |= lost;
	if (lost & (1u << TT_CAP_SOCK_OPS))
		tt_warn("warning: tcptrail's sock_ops program was detached from the cgroup v2 "
			"root (bpftool link detach, or another tool): the transitions hook "
			"records every transition from now on; those made since the detach, up "
			"to a second ago, were seen by no hook and show as inferred (-v)");
	if (lost & (1u << TT_CAP_OVERFLOW))
		tt_warn("warning: tcptrail's overflow hook (cgroup_skb on the cgroup v2 root) "
			"was detached (bpftool link detach, or another tool): SYN-queue and "
			"accept-queue overflows are no longer seen; restart tcptrail to see them "
			"again");
}

/* The ring buffer as a source: the clock is now, and a feed is a poll. */
/*
 * The loop looks at the clock every 50 ms or so, when it runs.  A gap of a
 * second or more, and the events found lost after it: tcptrail itself did
 * not read the ring buffer (app__not_read()).
 */
static struct {
	uint64_t last_ns;	/* the last look */
	uint64_t gap_ns;	/* a gap before it whose loss is not known yet */
	uint64_t lost_before;	/* lost_total then */
} look;

static int live_next(void *priv, struct app *a, uint64_t *now_ns)
{
	*now_ns = live__now_ns();
	/* the loss of a gap is read after the look that found the gap */
	if (look.gap_ns && a->lost_total > look.lost_before)
		app__not_read(a, look.gap_ns, a->lost_total - look.lost_before);
	look.gap_ns = 0;
	if (look.last_ns && *now_ns >= look.last_ns + 1000000000ull) {
		look.gap_ns = *now_ns - look.last_ns;
		look.lost_before = a->lost_total;
	}
	look.last_ns = *now_ns;
	gone_tick(priv, a->opts, *now_ns);
	links_tick(priv, *now_ns);
	return 0;
}

static uint64_t live_lost(void *priv)
{
	return live__lost(priv);
}

static int live_feed(void *priv, struct app *a, int timeout_ms)
{
	int err = live__poll(priv, timeout_ms);

	(void)a;
	if (err < 0)
		tt_err("read ring buffer: %s", strerror(-err));
	return err < 0 ? err : 0;
}

static uint64_t live_drained(void *priv)
{
	return live__drained(priv);
}

static const struct tt_source_ops live_source = {
	.name = "live", .next = live_next, .lost = live_lost, .feed = live_feed,
	.drained = live_drained,
};

static int run_live(struct app *a, const struct tt_opts *o)
{
	struct tt_live *live;
	struct kcheck kcheck = { .on = false };
	struct tt_kcounts kend;
	struct tt_drive d;
	uint64_t start, now, missed;
	int err, status = 0;

	err = live__open(&live, o, on_record, on_flowrec, a);
	if (err)
		return err;
	live__set_hint(live, on_hint);

	start = live__now_ns();
	/* before the capture's compression threads start: they run at the same nice */
	boost_priority(o);
	if (o->write_path) {
		char hooks[1024], filters[512];
		struct diag_sysctls sys = {};
		struct tt_sink_ref ref;

		capture__describe_hooks(live__selection(live), hooks, sizeof(hooks));
		filter__describe(o, filters, sizeof(filters));
		/* ours, or with -N the traced namespace's, which tcptrail is in */
		diag__read_sysctls(-1, &sys);
		if (capture__sink(&ref, &(struct tt_capture_opts){
			.path = o->write_path, .rotate_bytes = o->rotate_bytes,
			.rotate_count = o->rotate_count, .hooks = hooks, .filters = filters,
			.port_lo = sys.port_lo, .port_hi = sys.port_hi,
			.wall_offset_ns = wall_offset, .start_ns = start,
			.cgroup_name = capture_cgroup_name, .cgroup_ctx = a })) {
			live__free(live);
			return 1;
		}
		/* first in the list: the record as the kernel wrote it, before anything reads it */
		app__add_sink(a, &ref);
	}
	err = start_reports(a, o, live);
	/* start-up's privileged work ends here: the ring buffer is read without it */
	if (err || privs__drop(o)) {
		live__free(live);
		return 1;
	}
	kcheck_start(&kcheck, o);
	gone_start(o, ident__mount(a->ident));
	/*
	 * Said once the seed is read and the namespace's counters taken: a
	 * socket made before this line may be seeded as well as traced, and
	 * the kernel tests start their traffic on it.
	 */
	{
		static const char *const mode_names[] = { "auto", "fentry", "kprobe", "tp_btf",
							   "tracepoint" };

		announce(live__selection(live), o->attach, mode_names[o->attach],
			 live__flow_mode(live));
	}
	app__start(a, start);
	/* Type=notify: attached, seeded, and about to read */
	journal__notify("READY=1");
	d = (struct tt_drive){ .stop = &exiting, .reopen = &reopen, .start_ns = start,
			       .duration_ns = o->duration_ns, .serve = true };
	switch (source__drive(&live_source, live, a, &d)) {
	/*
	 * Reading stopped early, ours not the kernel's doing: what the
	 * namespace counted since is not a skipped hook, so no comparison.
	 */
	case TT_DRIVE_ERROR:
		status = 1;
		kcheck.on = false;
		break;
	case TT_DRIVE_SINK:
		/* the capture said what failed, in one line; it is readable up to its last flush */
		status = 1;
		kcheck.on = false;
		break;
	case TT_DRIVE_STDOUT:
		/*
		 * A reader that closed the pipe (0), one given up (1), or a
		 * full disk (1), said: stdout is done, but the journal and the
		 * metrics file still get the final summary, as at any other
		 * stop, and the capture takes what the ring buffer holds.  On a
		 * full disk the capture, likely on it too, is closed at once:
		 * the stop's drain would only add what no longer fits, and cut
		 * it back to its last flush.
		 */
		err = tt_stdout_errno();
		if ((err == ENOSPC || err == EDQUOT) && app__close(a, d.now_ns))
			status = 1;
		kcheck.on = false;
		break;
	default:
		break;
	}
	/*
	 * Counted before the last drain, and a little while before it: a
	 * transition the kernel counted by now is in the ring buffer by then
	 * (TIME-WAIT counts just before tcp_done(), and a child's birth is told
	 * at its next transition, microseconds later).
	 */
	journal__notify("STOPPING=1");
	kcheck_stop(&kcheck, &kend);
	if (kcheck.on)
		usleep(20000);
	/*
	 * The leaks the final report would count, checked with the kernel
	 * before the last drain, which then takes in every end record the
	 * kernel wrote before the check.
	 */
	if (status == 0) {
		uint64_t drain_at = app__check_leaks(a, live__now_ns()), t = live__now_ns();

		if (drain_at > t)
			nanosleep(&(struct timespec){ .tv_nsec = (long)(drain_at - t) }, NULL);
	}
	/* what the kernel queued before we stopped is still ours to report */
	app__stopping(a);
	live__drain(live);
	app__set_lost(a, live__lost(live));
	app__set_drained(a, live__drained(live));
	now = live__now_ns();
	if (app__close(a, now))
		status = 1;
	app__finish(a, now);
	if (kcheck.on)
		kcheck_end(&kcheck, &kend, app__total(a), o->netns, app__lost(a));
	missed = live__missed(live);
	if (app__total(a)->inferred)
		tt_debug("inferred transitions: %llu (no hook saw them; the next transition of "
			 "their socket started from another state)",
			 (unsigned long long)app__total(a)->inferred);
	if (missed)
		tt_warn("warning: the kernel skipped %llu runs of our hooks, each already running "
			"on its CPU when a softirq hit it again: up to that many events are missing "
			"(some may have been outside the filters); a bigger ring buffer does not help",
			(unsigned long long)missed);
	live__free(live);
	fflush(stdout);
	return tt_stdout_failed() > 0 ? 1 : status;
}

/*
 * --container PREFIX, live: said at once when no running container has
 * such an id (a typo, or a container gone: one that starts later is still
 * kept), or when more than one has (all are kept).
 */
static void check_container(const char *prefix, bool once)
{
	char ids[3][TT_CONTAINER_MAX];
	size_t n = ident__running_containers(prefix, ids, 3);

	/* --snapshot looks once: a container that starts later is not in it */
	if (!n)
		tt_warn("warning: --container %s: no running container's id starts with %s; %s",
			prefix, prefix, once ? "the snapshot shows no socket" :
			"its sockets are kept if one starts");
	else if (n > 1)
		tt_warn("warning: --container %s: %zu running containers' ids start with %s "
			"(%.12s, %.12s%s%.12s%s); all of them are kept", prefix, n, prefix, ids[0],
			ids[1], n > 2 ? ", " : "", n > 2 ? ids[2] : "", n > 3 ? ", ..." : "");
}

/*
 * The census, the seed and --snapshot hold a descriptor for each network
 * namespace while they read them all (netns.c, up to 65536), and any user
 * may make namespaces (unshare -Urn): a soft limit of 1024, systemd's
 * default, left the namespaces past it uncounted, with a line for each at
 * every count.  The hard limit is ours to take.
 */
static void raise_nofile(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &r))
			tt_debug("raise the open file limit to %llu: %s",
				 (unsigned long long)r.rlim_max, strerror(errno));
	}
}

/*
 * What a start takes beyond the descriptors open when it begins (stdin,
 * stdout, stderr and any the caller left open): measured on 6.18 with
 * every hook, about 45 held from the attach on (the BPF
 * object's maps, programs and links, the ring buffer's epoll, the census's
 * walk), and while the seed runs, its own walk, its workers' sockets and
 * the owner scan's directories as well.  The namespaces take theirs from
 * what is left (netns.h).  Below it, a start failed halfway (at `ulimit -n
 * 32`, "open private cgroup2 mount: Too many open files") or went on
 * without its walks.
 */
#define START_FDS 60

/* The descriptors open now (those the caller left open to us too); 3 if unknown. */
static uint64_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	uint64_t n = 0;

	if (!d)
		return 3;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	/* the directory's own */
	return n > 3 ? n - 1 : 3;
}

/*
 * Too few descriptors to trace at all, even with the soft limit raised to
 * the hard one: a broken environment, which no restart mends, so status 2
 * (RestartPreventExitStatus=2), as for a kernel without what tracing needs,
 * in one line before anything is attached or made.
 */
static int check_nofile(void)
{
	uint64_t need = open_fds() + START_FDS;
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= need)
		return 0;
	tt_err("too few file descriptors to trace: the open file limit is %llu%s, and tracing "
	       "takes %llu, one more for each network namespace it reads: raise it (ulimit -Hn "
	       "and -n in the shell that starts tcptrail, LimitNOFILE= for a service)",
	       (unsigned long long)r.rlim_cur,
	       r.rlim_cur == r.rlim_max ? " (the hard limit; tcptrail raises the soft one to it)" :
	       "", (unsigned long long)need);
	return 2;
}

/*
 * The output of --help, --version and --probe, which print and exit before
 * the write tracking: one that did not reach its file (a full disk,
 * /dev/full) is said, and status 1, as any other output's.
 */
static int flushed_out(int status)
{
	if (!fflush(stdout) && !ferror(stdout))
		return status;
	/* `tcptrail --help | head -3`: the reader has what it wanted */
	if (errno == EPIPE)
		return status;
	tt_err("write output: %s", errno ? strerror(errno) : "failed");
	return 1;
}

/*
 * Started with fd 0, 1 or 2 closed (`>&-`), the first file we open takes
 * its number: the output went into a BPF object ("write output: Invalid
 * argument", after attaching).  /dev/null holds each place; true if it was
 * stdout's.
 */
static bool hold_std_fds(void)
{
	bool out_closed = false;

	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		out_closed |= fd == STDOUT_FILENO;
		/* the lowest free number: this one, as the lower ones are open */
		n = open("/dev/null", (fd ? O_WRONLY : O_RDONLY) | O_NOCTTY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
	return out_closed;
}

/* The run itself, once its output is in place. */
static int run(const struct tt_opts *o, struct app *a)
{
	bool color = tt_opts_color(o, isatty(STDOUT_FILENO));
	int status;

	if (o->read_path)
		return replay__run(o, color, &exiting, &reopen);
	/* --snapshot, --top: sock_diag and /proc; no BPF, nothing to attach */
	if (o->snapshot || o->top)
		return view__run_live(o, &exiting);
	/* one offset for output and capture, so a replay prints the same times */
	wall_offset = tt_mono_to_wall_offset();
	status = app__init(a, o, wall_offset, color);
	/* --metrics-listen on an address this host has not: bad input; in use: 1 (said) */
	if (status)
		return status == -EADDRNOTAVAIL ? 2 : 1;
	status = run_live(a, o);
	app__free(a);
	return status;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	bool exit_now, made_output, out_closed = hold_std_fds();
	struct tt_opts o;
	struct stat st;
	struct app a;
	int status;

	/* a reader that goes away is EPIPE, from the first line on (--help | head) */
	signal(SIGPIPE, SIG_IGN);
	status = tt_opts_parse(argc, argv, &o, &exit_now);
	/* --help, --version: what they printed went to the /dev/null holding fd 1 */
	if (!status && exit_now && out_closed) {
		tt_err("stdout is closed: the text has nowhere to go (redirect it)");
		return 2;
	}
	if (status || exit_now)
		return status ? status : flushed_out(0);
	if (out_closed && !o.output_path) {
		tt_err("stdout is closed: the output has nowhere to go (redirect it, or give -o FILE)");
		return 2;
	}
	tt_verbosity = TT_LOG_INFO + o.verbose;
	raise_nofile();
	if (o.probe) {
		/* a caller or kernel that cannot run us is told before -o makes a file */
		if ((status = check_nofile()) || (status = live__preflight()))
			return status;
		/* -o is every output's place, --probe's lines too: they went to stdout */
		if (o.output_path && outfile__stdout(o.output_path))
			return 1;
		return flushed_out(live__probe(&o));
	}

	/* a failed write remembered with its errno; batches, flushed as each ends */
	if (tt_stdout_track() && !isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
	tt_stdout_batch();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* kill -USR1, as some daemons take it for a stats dump, must not end the run */
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);

	/* a metrics file that can never be written is bad input, said now */
	if (o.metrics_path) {
		char why[256];

		if (metrics__check_file(o.metrics_path, why, sizeof(why))) {
			tt_err("--metrics-file %s: %s", o.metrics_path, why);
			return 2;
		}
		/* written at start and each summary: under -i 0, only the start until the end */
		if (!o.interval_ns && !o.read_path)
			tt_warn("warning: --metrics-file with -i 0 is written at start and at "
				"exit only: give -i SECS to have it written every SECS");
		/* node_exporter gives the file's age: METRICS_FILE_STALE_NS */
		if (o.interval_ns > METRICS_FILE_STALE_NS && !o.read_path) {
			char every[32];

			tt_fmt_duration(o.interval_ns, every, sizeof(every));
			tt_warn("warning: --metrics-file is written every %s (-i): the packaged "
				"alert TcptrailTextfileStale takes a file more than 5 min old for "
				"5 min for tcptrail not running; give -i 9m or less", every);
		}
	}
	if (o.container && !o.read_path)
		check_container(o.container, o.snapshot);
	/* live: a caller or kernel that cannot trace is told before -o makes a file */
	if (!o.read_path && !o.snapshot && !o.top) {
		if ((status = check_nofile()) || (status = live__preflight()))
			return status;
		note_lacking();
	}
	made_output = o.output_path && lstat(o.output_path, &st) && errno == ENOENT;
	if (o.output_path && outfile__stdout(o.output_path))
		return 1;
	if (o.output_path)
		tt_stdout_batch();
	status = run(&o, &a);
	if (status && made_output)
		outfile__forget_made(o.output_path);
	return status;
}
