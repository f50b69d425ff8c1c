// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source: the live ring buffer.  Opens the BPF object, picks a hook for
 * each capability (modes.c), attaches, and polls the ring buffer, handing
 * each record to the driver's callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kconfig.h"
#include "live.h"
#include "privs.h"
#include "livesys.h"
#include "sockwalk.h"
#include "tcptrail.skel.h"
#include "util.h"

/* The skeleton, opened with the kernel config libbpf cannot find (kconfig.h). */
static struct tcptrail_bpf *open_skel(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .kconfig = kconfig__for_libbpf());

	return tcptrail_bpf__open_opts(&oo);
}

struct tt_live {
	struct tcptrail_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[TT_CAP_MAX * TT_VARIANT_PROGS];	/* a variant per capability */
	int n_links;
	uint64_t links_gone;	/* by index: found detached (live__detached()) */
	tt_event_cb cb;
	tt_flowrec_cb flow_cb;
	tt_hint_cb hint;
	void *ctx;
	int ncpus;
	uint64_t flow_records;	/* TT_EV_FLOW records read */
	bool flow_mode;		/* the kernel side sends flow records */
	uint64_t bad_size;
	/* records per hook id and type (the last of each: out of range) */
	uint64_t by_hook[TT_HOOK_MAX + 1][TT_EV_MAX + 1];
	uint32_t taken;		/* records taken in this live__poll() */
	uint64_t drained_ns;	/* when a consume that emptied the ring buffer began */
	struct tt_selection sel;
};

/*
 * libbpf drains for as long as records keep coming, which under a flood
 * faster than we take them is forever: no summary, no reaction to SIGINT.
 * Hand control back after this many (8 MiB of them, some 65 ms of work).
 */
#define POLL_BUDGET	65536

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf is loud while we probe hooks that are expected to fail: -vv */
	if (tt_verbosity <= TT_LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

uint64_t live__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void autoload_only(struct tcptrail_bpf *skel, const struct tt_variant **vs, int n)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		bool on = false;

		for (int i = 0; i < n && !on; i++)
			for (int j = 0; vs[i] && vs[i]->progs[j] && !on; j++)
				on = !strcmp(bpf_program__name(prog), vs[i]->progs[j]);
		bpf_program__set_autoload(prog, on);
	}
}

/*
 * Has the kernel bpf_rdonly_cast() (Linux 6.2 on), for the typed accept
 * tracepoints?  Its BTF says, read once.  The other pair calls no kfunc:
 * 5.13 to 5.15 refuse a program with an unresolved one in it (bpf/owner.bpf.c).
 */
static bool has_rdonly_cast(void)
{
	static int has = -1;

	if (has < 0) {
		struct btf *btf = btf__load_vmlinux_btf();

		has = btf && btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
		btf__free(btf);
		tt_debug("accept tracepoints: %s", has ? "typed, with bpf_rdonly_cast()" :
			 "probe reads (no bpf_rdonly_cast() in this kernel)");
	}
	return has;
}

/* Of a variant's programs, those this configuration does not use stay unloaded. */
static void drop_unused(struct tcptrail_bpf *skel, const struct tt_config *c)
{
	bool typed_accept;

	if (bpf_program__autoload(skel->progs.tp_exit_accept4) ||
	    bpf_program__autoload(skel->progs.tp_exit_accept4_typed)) {
		typed_accept = has_rdonly_cast();
		bpf_program__set_autoload(skel->progs.tp_exit_accept4_typed, typed_accept);
		bpf_program__set_autoload(skel->progs.tp_exit_accept_typed, typed_accept);
		bpf_program__set_autoload(skel->progs.tp_exit_accept4, !typed_accept);
		bpf_program__set_autoload(skel->progs.tp_exit_accept, !typed_accept);
	}
	if (!c->nest_copy)
		bpf_program__set_autoload(skel->progs.set_state_nest, false);
	if (!c->flow_records) {
		bpf_program__set_autoload(skel->progs.tp_btf_destroy_sock, false);
		bpf_program__set_autoload(skel->progs.fentry_destroy_sock, false);
	}
}

static int attach_variant(struct tcptrail_bpf *skel, const struct tt_variant *v,
			  struct bpf_link **links, int *n_links, int max_links,
			  char *why, size_t len)
{
	for (int j = 0; v->progs[j]; j++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, v->progs[j]);
		struct bpf_link *link;
		int err;

		if (!prog) {
			snprintf(why, len, "program %s missing from the object", v->progs[j]);
			return -ENOENT;
		}
		if (!bpf_program__autoload(prog))
			continue;	/* drop_unused(): not for this configuration */
		if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SKB ||
		    bpf_program__type(prog) == BPF_PROG_TYPE_SOCK_OPS) {
			int cg = livesys__cgroup2_root(why, len);

			if (cg < 0)
				return cg;
			link = bpf_program__attach_cgroup(prog, cg);
			err = -errno;
			close(cg);
		} else {
			link = bpf_program__attach(prog);
			err = -errno;
		}
		if (!link) {
			snprintf(why, len, "attach %s: %s%s", v->progs[j], strerror(-err),
				 v->kind == TT_KIND_KPROBE && err == -ENOENT ?
				 " (no kprobe support: CONFIG_KPROBES unset?)" :
				 v->kind == TT_KIND_TRACEPOINT && err == -ENOENT && livesys__tracefs() ?
				 " (tracefs is not mounted, and could not be mounted)" :
				 (v->kind == TT_KIND_CGROUP_SKB || v->kind == TT_KIND_SOCK_OPS) &&
				 err == -EPERM ? " (another program attached to the cgroup v2 root "
				 "without BPF_F_ALLOW_MULTI keeps others off it?)" : "");
			return err;
		}
		if (*n_links >= max_links) {
			bpf_link__destroy(link);
			snprintf(why, len, "too many links");
			return -E2BIG;
		}
		links[(*n_links)++] = link;
	}
	return 0;
}

/*
 * Whether a sock_ops program may call helper id: load one that calls it
 * (with a 16-byte stack buffer in r1/r2, for bpf_get_current_comm) and
 * see.  libbpf_probe_bpf_helper() cannot tell: it takes only "unknown
 * func" and "invalid func" for a no, and from Linux 6.12 on the verifier
 * says "program of this type cannot use helper" instead, so a 6.12 kernel
 * was taken to have bpf_get_current_comm() in sock_ops, and the program
 * then failed to load.
 */
static bool sockops_has_helper(int id)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_1, .imm = -16 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 16 },
		{ .code = BPF_JMP | BPF_CALL, .imm = id },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCK_OPS, NULL, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * What the sock_ops program may call to know the current task, asked once,
 * then kept: bpf_get_current_task_btf() where it may (6.1 has it), which
 * reaches the process's name; else the pid/comm helpers, which came to it
 * late (not in 6.1 nor 6.12; 6.18 has them) and name the current thread.
 * TCPTRAIL_SOCKOPS_TASK=btf, helpers or none forces one way, so that the
 * tests can run each where the kernel has it.
 */
static unsigned int sockops_task_access(void)
{
	static int access = -1;
	const char *force = getenv("TCPTRAIL_SOCKOPS_TASK");

	if (access >= 0)
		return (unsigned int)access;
	if (force && !strcmp(force, "btf"))
		access = TT_TASK_BTF;
	else if (force && !strcmp(force, "none"))
		access = TT_TASK_NONE;
	else if (force && !strcmp(force, "helpers"))
		access = TT_TASK_HELPERS;
	else if (sockops_has_helper(BPF_FUNC_get_current_task_btf))
		access = TT_TASK_BTF;	/* first: it names the process, not the thread */
	else if (sockops_has_helper(BPF_FUNC_get_current_pid_tgid) &&
		 sockops_has_helper(BPF_FUNC_get_current_comm))
		access = TT_TASK_HELPERS;
	else
		access = TT_TASK_NONE;
	tt_debug("sock_ops reads the current task %s", access == TT_TASK_HELPERS ?
		 "with bpf_get_current_pid_tgid()" : access == TT_TASK_BTF ?
		 "through bpf_get_current_task_btf()" : "not at all: no pid or comm in its records");
	return (unsigned int)access;
}

/*
 * How each kind of typed transitions hook loaded, by probe_variant(): --probe
 * loads every variant, so what holds for the one chosen is looked up by its kind.
 */
static struct typed_load {
	char no_flow_why[128];	/* why its flow-record code did not load ("": it did) */
	/*
	 * It loads only without bpf_get_socket_cookie(), which tracing programs
	 * have from Linux 5.12: its records then carry no cookie, as a
	 * tracepoint's do.
	 */
	bool no_cookie;
} typed_load[TT_KIND_RULE + 1];

/* -e aside, is the chosen transitions hook one with a typed socket? */
static bool typed_transitions(const struct tt_opts *o, const struct tt_selection *sel)
{
	int t = sel->chosen[TT_CAP_TRANSITIONS];

	if (o->events || t < 0)
		return false;
	return tt_variants[t].kind == TT_KIND_TP_BTF || tt_variants[t].kind == TT_KIND_FENTRY;
}

/* How the chosen transitions hook loaded; zeroes for a kind without a typed socket. */
static const struct typed_load *chosen_load(const struct tt_selection *sel)
{
	int t = sel->chosen[TT_CAP_TRANSITIONS];

	return &typed_load[t >= 0 ? tt_variants[t].kind : TT_KIND_RULE];
}

/* Load and attach just this variant, in a throw-away copy of the object. */
static int probe_variant(const struct tt_variant *v, void *ctx, char *why, size_t len)
{
	const struct tt_opts *o = ctx;
	struct bpf_link *links[TT_VARIANT_PROGS];
	struct tcptrail_bpf *skel;

	if (!v->progs[0])
		return 0;
	if (v->kind == TT_KIND_SOCK_OPS && o && o->no_sock_ops) {
		snprintf(why, len, "turned off by --no-sock-ops");
		return -ECANCELED;
	}
	int err, n = 0;
	bool typed = v->cap == TT_CAP_TRANSITIONS &&
		     (v->kind == TT_KIND_TP_BTF || v->kind == TT_KIND_FENTRY);
	/* the flow-record code of a typed transitions hook loads too, where it can */
	bool flow = v->kind == TT_KIND_SOCK_OPS || typed;
	/* and its cookie helper, where the kernel lets tracing programs call it */
	bool cookie = typed;
	int flow_err = 0;

again:
	skel = open_skel();
	if (!skel) {
		snprintf(why, len, "open BPF object: %s", strerror(errno));
		return -errno ? -errno : -ENOMEM;
	}
	autoload_only(skel, &v, 1);
	if (v->kind == TT_KIND_SOCK_OPS)
		((struct tt_config *)&skel->rodata->cfg)->sockops_task = sockops_task_access();
	((struct tt_config *)&skel->rodata->cfg)->flow_records = flow;
	((struct tt_config *)&skel->rodata->cfg)->nest_copy = 1;
	((struct tt_config *)&skel->rodata->cfg)->no_cookie = !cookie;
	drop_unused(skel, &skel->rodata->cfg);
	bpf_map__set_max_entries(skel->maps.events, 4096);
	bpf_map__set_max_entries(skel->maps.owned, 1);
	bpf_map__set_max_entries(skel->maps.owned_listeners, 1);
	bpf_map__set_max_entries(skel->maps.owned_seeded, 1);
	err = tcptrail_bpf__load(skel);
	if (err && flow) {
		/* socket storage from tracing programs came in Linux 5.11: try without */
		flow_err = err;
		tcptrail_bpf__destroy(skel);
		flow = false;
		goto again;
	}
	if (err == -EINVAL && cookie) {
		/* tracing programs got bpf_get_socket_cookie() in Linux 5.12 */
		tcptrail_bpf__destroy(skel);
		cookie = false;
		goto again;
	}
	/* how a typed transitions hook loaded, for whichever one is chosen */
	if (!err && typed) {
		struct typed_load *t = &typed_load[v->kind];

		snprintf(t->no_flow_why, sizeof(t->no_flow_why), "%s%s",
			 flow_err ? strerror(-flow_err) : "",
			 flow_err == -EINVAL ? "; tracing programs may use it from Linux 5.11 on" : "");
		t->no_cookie = !cookie;
	}
	if (err) {
		/* the verifier's refusal is EACCES, which reads as a privilege */
		snprintf(why, len, "load: %s%s", strerror(-err),
			 err == -EPERM && v->kind == TT_KIND_FENTRY ?
			 " (this kernel denies fentry programs)" :
			 err == -EACCES ? " (the verifier refused a program: -vv shows why)" :
			 err == -EINVAL ? " (-vv shows what libbpf or the kernel refused)" : "");
	} else {
		err = attach_variant(skel, v, links, &n, TT_VARIANT_PROGS, why, len);
		while (n > 0)
			bpf_link__destroy(links[--n]);
	}
	tcptrail_bpf__destroy(skel);
	return err;
}

void live__print_selection(FILE *f, const struct tt_selection *sel, bool verbose)
{
	for (int cap = 0; cap < TT_CAP_MAX; cap++) {
		int c = sel->chosen[cap];

		if (c >= 0)
			fprintf(f, "  %-12s %s", tt_cap_name(cap), tt_variants[c].name);
		else if (tt_cap_off(sel, cap))
			fprintf(f, "  %-12s off: %s", tt_cap_name(cap), tt_cap_off(sel, cap));
		else
			fprintf(f, "  %-12s UNAVAILABLE: no hook for %s works on this kernel",
				tt_cap_name(cap), tt_cap_desc(cap));
		if (sel->forced_fallback[cap])
			fputs(" (the forced kind failed; fell back)", f);
		fputc('\n', f);
		if (c >= 0 && tt_variants[c].caveat)
			fprintf(f, "  %-12s   note: %s\n", "", tt_variants[c].caveat);
		if (cap == TT_CAP_TRANSITIONS && chosen_load(sel)->no_cookie)
			fprintf(f, "  %-12s   note: no socket cookie (tracing programs may read it "
				"from Linux 5.12 on): flows are identified by sock address and "
				"birth\n", "");
		if (!verbose && c >= 0)
			continue;
		for (size_t i = 0; i < tt_n_variants; i++) {
			if ((int)tt_variants[i].cap != cap || (int)i == c)
				continue;
			if (sel->result[i] == 1)
				fprintf(f, "  %-12s   not tried %s: the chosen hook comes first\n", "",
					tt_variants[i].name);
			else if (sel->result[i] == 0)
				fprintf(f, "  %-12s   available %s, ranked lower\n", "",
					tt_variants[i].name);
			else
				fprintf(f, "  %-12s   passed over %s: %s\n", "", tt_variants[i].name,
					sel->why[i][0] ? sel->why[i] : strerror(-sel->result[i]));
		}
	}
}

/*
 * What must hold before any hook is worth trying; prints the reason.  A
 * kernel that lacks what tcptrail needs is bad input (2: a service manager
 * does not restart it); a caller without the privileges is a runtime
 * problem (1).
 */
int live__preflight(void)
{
	int r, fd;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		tt_err("this kernel has no BTF (/sys/kernel/btf/vmlinux: %s); tcptrail needs "
		       "CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
		return 2;
	}
	/*
	 * Made by hand, not by libbpf_probe_bpf_map_type(): that one says
	 * "unsupported" for every failure, and a caller without CAP_BPF (EPERM)
	 * was told the kernel is too old.  An unknown map type is EINVAL.
	 */
	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (uint32_t)getpagesize(), NULL);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	r = fd;
	if (r == -EPERM || r == -EACCES) {
		/* a map takes CAP_BPF (or CAP_SYS_ADMIN); with them, something else said no */
		if (!privs__thread_has(1ull << CAP_BPF) && !privs__thread_has(1ull << CAP_SYS_ADMIN))
			tt_err("not allowed to use BPF: this process lacks CAP_BPF (run as root, or "
			       "with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)");
		else
			tt_err("not allowed to use BPF: the kernel refused a BPF map (%s) though this "
			       "process has CAP_BPF or CAP_SYS_ADMIN: a security module, kernel "
			       "lockdown, or a user namespace?", strerror(-r));
		return 1;
	}
	if (r == -EINVAL) {
		tt_err("this kernel has no BPF ring buffer (Linux 5.8 or later is needed)");
		return 2;
	}
	tt_err("probe BPF ring buffer support: %s", strerror(-r));
	return 1;
}

/*
 * False, once said, when every transitions hook refused with EPERM and
 * this process lacks what loading tracing programs takes (CAP_BPF and
 * CAP_PERFMON, or CAP_SYS_ADMIN): the caller's privileges said no, not the
 * kernel, which is a runtime problem (1), not a kernel that lacks the
 * hooks (2).
 */
static bool caps_suffice(const struct tt_selection *sel)
{
	uint64_t admin = 1ull << CAP_SYS_ADMIN;
	const char *lack;

	for (size_t i = 0; i < tt_n_variants; i++)
		if (tt_variants[i].cap == TT_CAP_TRANSITIONS && sel->result[i] != -EPERM &&
		    sel->result[i] != -EACCES)
			return true;
	if (privs__thread_has(admin))
		return true;
	lack = !privs__thread_has(1ull << CAP_BPF) ?
	       (!privs__thread_has(1ull << CAP_PERFMON) ? "CAP_BPF and CAP_PERFMON" : "CAP_BPF") :
	       !privs__thread_has(1ull << CAP_PERFMON) ? "CAP_PERFMON" : NULL;
	if (!lack)
		return true;
	tt_err("not allowed to load BPF tracing programs: this process lacks %s (run as root, or "
	       "with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)", lack);
	return false;
}

/*
 * Returns what mounting tracefs gave, for the caller to tell with
 * say_tracefs() where it matters: not before a start that the caller's
 * privileges stop anyway.
 */
static int select_hooks(const struct tt_opts *o, bool all, struct tt_selection *sel)
{
	int err = livesys__tracefs();

	tt_select(o->attach, all, probe_variant, (void *)o, sel);
	sel->tracefs_err = err;
	return err;
}

static void say_tracefs(int err)
{
	if (err)
		tt_info("tracefs is not mounted and could not be mounted privately (%s): "
			"plain tracepoints are unavailable", strerror(-err));
}

int live__probe(const struct tt_opts *o)
{
	struct tt_selection sel;

	libbpf_set_print(libbpf_print);
	say_tracefs(select_hooks(o, true, &sel));
	printf("tcptrail %s: hooks for this kernel (--attach %s)\n", tt_version,
	       o->attach == TT_ATTACH_AUTO ? "auto" : o->attach == TT_ATTACH_FENTRY ? "fentry" :
	       o->attach == TT_ATTACH_KPROBE ? "kprobe" : o->attach == TT_ATTACH_TP_BTF ? "tp_btf" :
	       "tracepoint");
	live__print_selection(stdout, &sel, true);
	{
		char line[256];

		sockwalk__probe(line, sizeof(line));
		printf("  seed+census  %s\n", line);
	}
	if (typed_transitions(o, &sel) && chosen_load(&sel)->no_flow_why[0])
		printf("  records      one per transition (socket storage does not load: %s)\n",
		       chosen_load(&sel)->no_flow_why);
	else if (live__flow_records(o, &sel))
		printf("  records      one per connection, at its end (and at CLOSE_WAIT and LISTEN),\n"
		       "               from socket storage; -e: one per transition\n");
	else
		printf("  records      one per transition (%s)\n",
		       o->events ? "-e" : "the transitions hook has no typed socket");
	return sel.chosen[TT_CAP_TRANSITIONS] >= 0 ? 0 : 1;
}

void live__set_hint(struct tt_live *l, tt_hint_cb hint)
{
	l->hint = hint;
}

/*
 * The record after this one starts where libbpf will look next: past this
 * one, rounded up to 8 bytes, a header whose length the kernel stores with
 * release semantics once the record is complete (the ring's pages are
 * mapped twice, so it never runs off the end).  A length with the busy or
 * discard bit, or of neither record's size, says nothing; a stale header
 * from the ring's previous lap only makes a useless hint.
 */
static void hint_next(struct tt_live *l, const void *data, size_t size)
{
	const char *rec = data;
	uint64_t sk[2];
	unsigned int n;

	for (n = 0; n < 2; n++) {
		const char *hdr = rec + ((size + 7) & ~(size_t)7);
		uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);

		rec = hdr + BPF_RINGBUF_HDR_SZ;
		if (len == sizeof(struct tt_flowrec))
			memcpy(&sk[n], rec + offsetof(struct tt_flowrec, sk), sizeof(sk[n]));
		else if (len == sizeof(struct tt_event))
			memcpy(&sk[n], rec + offsetof(struct tt_event, sk), sizeof(sk[n]));
		else
			break;
		size = len;
	}
	if (n)
		l->hint(l->ctx, sk, n);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct tt_live *l = ctx;
	const struct tt_event *e = data;
	int err;

	if (l->hint)
		hint_next(l, data, size);

	/* a tt_event, or a struct tt_flowrec (TT_EV_FLOW): both start with type, then hook at 4 */
	if (size == sizeof(struct tt_flowrec) && e->type == TT_EV_FLOW) {
		const struct tt_flowrec *r = data;

		l->by_hook[r->hook < TT_HOOK_MAX ? r->hook : TT_HOOK_MAX][TT_EV_FLOW]++;
		l->flow_records++;
		err = l->flow_cb(l->ctx, r);
		if (err)
			return err;
		return ++l->taken >= POLL_BUDGET ? -ECANCELED : 0;
	}
	if (size != sizeof(struct tt_event) || e->type == TT_EV_FLOW) {
		l->bad_size++;
		return 0;
	}
	l->by_hook[e->hook < TT_HOOK_MAX ? e->hook : TT_HOOK_MAX][e->type < TT_EV_MAX ? e->type :
								     TT_EV_MAX]++;
	err = l->cb(l->ctx, data);
	if (err)
		return err;
	return ++l->taken >= POLL_BUDGET ? -ECANCELED : 0;
}

bool live__flow_records(const struct tt_opts *o, const struct tt_selection *sel)
{
	/* probe_variant() loaded the chosen one with its flow-record code, or said why not */
	return typed_transitions(o, sel) && !chosen_load(sel)->no_flow_why[0];
}

int live__own_seeded(struct tt_live *l, const struct tt_event *e)
{
	struct tt_seeded_key k = {
		.netns = e->netns, .family = e->family, .sport = e->sport, .dport = e->dport,
	};
	uint8_t one = 1;
	int err;

	memcpy(k.saddr, e->saddr, sizeof(k.saddr));
	memcpy(k.daddr, e->daddr, sizeof(k.daddr));
	err = bpf_map__update_elem(l->skel->maps.owned_seeded, &k, sizeof(k), &one, sizeof(one),
				   BPF_ANY);
	if (!err && e->new_state == TT_LISTEN) {
		struct tt_listener_key lk = { .netns = e->netns, .port = e->sport };

		err = bpf_map__update_elem(l->skel->maps.owned_listeners, &lk, sizeof(lk), &one,
					   sizeof(one), BPF_ANY);
	}
	if (!err)
		l->skel->bss->owned_seeded_n = 1;
	return err;
}

uint64_t live__flow_count(const struct tt_live *l)
{
	return l->flow_records;
}

bool live__flow_mode(const struct tt_live *l)
{
	return l->flow_mode;
}

static void fill_config(struct tt_config *c, const struct tt_opts *o,
			const struct tt_selection *sel)
{
	int tw = sel->chosen[TT_CAP_TIME_WAIT];

	memset(c, 0, sizeof(*c));
	c->family = o->family;
	c->tgid = o->pid;
	c->netns = o->netns;
	c->cgroup_id = o->cgroup_id;
	c->cgroup_level = o->cgroup_level;
	c->n_ports = o->n_ports;
	c->n_lports = o->n_lports;
	c->n_rports = o->n_rports;
	memcpy(c->ports, o->ports, sizeof(c->ports));
	memcpy(c->lports, o->lports, sizeof(c->lports));
	memcpy(c->rports, o->rports, sizeof(c->rports));
	/* wake the reader early only when a quarter of the buffer is queued */
	c->wake_bytes = (uint32_t)(o->ringbuf_bytes / 4);
	if (tw >= 0)
		c->tw_mode = tt_variants[tw].kind == TT_KIND_RULE ? TT_TW_RULE : TT_TW_HOOK;
	if (sel->chosen[TT_CAP_SOCK_OPS] >= 0)
		c->sockops_task = sockops_task_access();
	c->flow_records = live__flow_records(o, sel);
	c->no_cookie = chosen_load(sel)->no_cookie;
	/* the second copy catches nothing sock_ops and flow records do not (transitions.bpf.c) */
	c->nest_copy = !(c->flow_records && sel->chosen[TT_CAP_SOCK_OPS] >= 0);
}

int live__open(struct tt_live **out, const struct tt_opts *o, tt_event_cb cb,
	       tt_flowrec_cb flow_cb, void *ctx)
{
	const struct tt_variant *chosen[TT_CAP_MAX];
	struct tt_live *l;
	char why[TT_WHY_LEN];
	int err, n = 0;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	l = calloc(1, sizeof(*l));
	if (!l) {
		tt_err("out of memory");
		return 1;
	}
	l->cb = cb;
	l->flow_cb = flow_cb;
	l->ctx = ctx;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		tt_err("count possible CPUs: %s", strerror(-l->ncpus));
		goto fail;
	}

	err = select_hooks(o, false, &l->sel);
	if (l->sel.chosen[TT_CAP_TRANSITIONS] < 0 && !caps_suffice(&l->sel)) {
		live__free(l);
		return 1;
	}
	say_tracefs(err);
	if (l->sel.chosen[TT_CAP_TRANSITIONS] < 0) {
		tt_err("no hook for TCP state transitions works on this kernel:");
		live__print_selection(stderr, &l->sel, true);
		live__free(l);
		return 2;
	}
	for (int cap = 0; cap < TT_CAP_MAX; cap++)
		if (l->sel.chosen[cap] >= 0)
			chosen[n++] = &tt_variants[l->sel.chosen[cap]];

	l->skel = open_skel();
	if (!l->skel) {
		tt_err("open BPF object: %s", strerror(errno));
		goto fail;
	}
	fill_config((struct tt_config *)&l->skel->rodata->cfg, o, &l->sel);
	if (typed_transitions(o, &l->sel) && chosen_load(&l->sel)->no_flow_why[0])
		tt_info("flow records: socket storage does not load here (%s); one record per "
			"transition instead", chosen_load(&l->sel)->no_flow_why);
	l->flow_mode = l->skel->rodata->cfg.flow_records;
	autoload_only(l->skel, chosen, n);
	drop_unused(l->skel, &l->skel->rodata->cfg);
	err = bpf_map__set_max_entries(l->skel->maps.events, (uint32_t)o->ringbuf_bytes);
	if (err) {
		tt_err("size ring buffer to %llu bytes: %s", (unsigned long long)o->ringbuf_bytes,
		       strerror(-err));
		goto fail;
	}
	if (!o->pid) {
		/* the ownership maps serve only the pid filter */
		bpf_map__set_max_entries(l->skel->maps.owned, 1);
		bpf_map__set_max_entries(l->skel->maps.owned_listeners, 1);
		bpf_map__set_max_entries(l->skel->maps.owned_seeded, 1);
	}
	l->skel->bss->cgroup_id_live = o->cgroup_id;
	err = tcptrail_bpf__load(l->skel);
	if (err) {
		/* maps are charged to our memory cgroup: a unit's MemoryMax, a container's limit */
		tt_err("load BPF programs: %s%s", strerror(-err),
		       err == -ENOMEM ? " (the BPF maps, the ring buffer's "
		       "--ringbuf-size among them, count against this process's memory cgroup: "
		       "a limit below about 64 MB, a service's MemoryMax or a container's, "
		       "is too low)" : "");
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		err = attach_variant(l->skel, chosen[i], l->links, &l->n_links,
				     (int)(sizeof(l->links) / sizeof(l->links[0])), why, sizeof(why));
		if (err) {
			tt_err("%s", why);
			goto fail;
		}
	}
	/* only now may the other hooks leave flagged sockets to it */
	if (l->sel.chosen[TT_CAP_SOCK_OPS] >= 0)
		l->skel->bss->sockops_on = 1;
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), handle_record, l, NULL);
	if (!l->rb) {
		tt_err("open ring buffer: %s", strerror(errno));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	live__free(l);
	return 1;
}

unsigned int live__detached(struct tt_live *l)
{
	unsigned int lost = 0;

	_Static_assert(sizeof(l->links) / sizeof(l->links[0]) <= 64, "links_gone is 64 bits");
	for (int i = 0; i < l->n_links; i++) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if ((l->links_gone >> i & 1) ||
		    bpf_obj_get_info_by_fd(bpf_link__fd(l->links[i]), &info, &len) ||
		    info.type != BPF_LINK_TYPE_CGROUP || info.cgroup.cgroup_id)
			continue;
		/* a cgroup link the kernel has let go of: it names no cgroup */
		l->links_gone |= 1ull << i;
		if (info.cgroup.attach_type == BPF_CGROUP_SOCK_OPS) {
			/* flagged sockets are no longer the sock_ops program's */
			l->skel->bss->sockops_on = 0;
			lost |= 1u << TT_CAP_SOCK_OPS;
		} else {
			lost |= 1u << TT_CAP_OVERFLOW;
		}
	}
	return lost;
}

void live__follow_cgroup(struct tt_live *l, uint64_t id)
{
	l->skel->bss->cgroup_id_live = id;
}

void live__free(struct tt_live *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	while (l->n_links > 0)
		bpf_link__destroy(l->links[--l->n_links]);
	tcptrail_bpf__destroy(l->skel);
	free(l);
}

int live__poll(struct tt_live *l, int timeout_ms)
{
	uint64_t t;
	int err;

	l->taken = 0;
	err = ring_buffer__poll(l->rb, timeout_ms);
	/* the callback stopped the draining: no error, the rest stays queued */
	if (err == -ECANCELED)
		return 0;
	if (err < 0 && err != -EINTR)
		return err;
	/* records submitted without a wakeup are only seen by consuming */
	t = live__now_ns();
	err = ring_buffer__consume(l->rb);
	if (err >= 0)
		l->drained_ns = t;
	return err == -EINTR || err == -ECANCELED ? 0 : err;
}

uint64_t live__drained(const struct tt_live *l)
{
	return l->drained_ns;
}

/*
 * A BPF program does not nest on a CPU: a hook hit from a softirq that
 * interrupted a run of the same program (of any program, for plain
 * tracepoints and kprobes) is skipped, and the kernel only counts it in the
 * program's recursion_misses (5.12 on).  Under load that is a transition a
 * flow never shows.  Not part of live__lost(): the program never ran, so
 * the count includes hits the filters would have dropped (another
 * namespace's traffic), which no summary of ours should call lost.
 */
int live__drain(struct tt_live *l)
{
	int err = 0;

	/* bounded: the hooks are still attached and may keep up the supply */
	for (int round = 0; round < 64; round++) {
		uint64_t t = live__now_ns();

		l->taken = 0;
		err = ring_buffer__consume(l->rb);
		if (err >= 0)
			l->drained_ns = t;
		if (err != -ECANCELED || l->taken < POLL_BUDGET)
			break;
	}
	return err == -EINTR || err == -ECANCELED ? 0 : err;
}

/* -v: how many records each hook gave, e.g. "tp_btf_set_state=3 sockops_state=9" */
static void log_by_hook(const struct tt_live *l)
{
	char line[512];

	tt_debug("records by hook:%s",
		 tt_hook_counts(line, sizeof(line), &l->sel, l->by_hook) ? line : " none");
	if (l->flow_mode)
		tt_debug("flow records: %llu (one per connection end, CLOSE_WAIT, LISTEN or 8 transitions)",
			 (unsigned long long)l->flow_records);
}

uint64_t live__missed(const struct tt_live *l)
{
	uint64_t total = 0, primary = 0, twin = 0, catch = 0, caught[2] = { 0, 0 };
	uint64_t vals[l->ncpus > 0 ? l->ncpus : 1];
	/* the tp_btf transitions program, its second copy and its end catch, as the hook table names them */
	const char *const *nest = tt_variant_of_hook(TT_HOOK_TP_BTF_SET_STATE)->progs;
	const char *fentry_catch = tt_variant_of_hook(TT_HOOK_FENTRY_SET_STATE)->progs[2];
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, l->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		if (!strcmp(bpf_program__name(prog), nest[0]))
			primary = info.recursion_misses;
		else if (!strcmp(bpf_program__name(prog), nest[1]))
			twin = info.recursion_misses;
		/*
		 * The end catch sends only an end the transitions programs did
		 * not record: a skipped run of it loses nothing by itself.
		 */
		else if (!strcmp(bpf_program__name(prog), nest[2]) ||
			 !strcmp(bpf_program__name(prog), fentry_catch))
			catch += info.recursion_misses;
		/*
		 * The second copy is skipped only while it is active itself, and
		 * then the first copy is not: nothing is lost there.
		 */
		else
			total += info.recursion_misses;
	}
	if (!l->skel->rodata->cfg.nest_copy) {
		/* sock_ops records them, or the next transition's gap shows them (inferred) */
		tt_debug("nested runs: %llu skipped by the transition program, which sock_ops "
			 "records or the flow's next transition infers; %llu by the end catch; "
			 "%llu skipped elsewhere", (unsigned long long)primary,
			 (unsigned long long)catch, (unsigned long long)total);
		log_by_hook(l);
		return total;
	}
	/* the first copy's nested runs, less those its twin or sock_ops recorded */
	for (__u32 k = 0; k < 2; k++)
		if (!bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.nest_caught), &k, vals))
			for (int cpu = 0; cpu < l->ncpus; cpu++)
				caught[k] += vals[cpu];
	tt_debug("nested runs: %llu skipped by the transition program, %llu recorded by its "
		 "second copy and %llu by sock_ops; the second copy was skipped %llu times, "
		 "the end catch %llu; %llu skipped elsewhere",
		 (unsigned long long)primary, (unsigned long long)caught[0],
		 (unsigned long long)caught[1], (unsigned long long)twin,
		 (unsigned long long)catch, (unsigned long long)total);
	caught[0] += caught[1];
	log_by_hook(l);
	return total + (primary > caught[0] ? primary - caught[0] : 0);
}

uint64_t live__lost(const struct tt_live *l)
{
	uint64_t total = 0, vals[l->ncpus > 0 ? l->ncpus : 1];
	int fd = bpf_map__fd(l->skel->maps.lost);

	for (__u32 type = 0; type < TT_EV_MAX; type++) {
		if (bpf_map_lookup_elem(fd, &type, vals))
			continue;
		for (int cpu = 0; cpu < l->ncpus; cpu++)
			total += vals[cpu];
	}
	return total;
}

const struct tt_selection *live__selection(const struct tt_live *l)
{
	return &l->sel;
}
