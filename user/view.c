// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The --snapshot and --top view, at the end of the data path: the sockets
 * of one moment (viewsrc.c collects them, from the host or from a replay's
 * engine) filtered by --state/--remote/--local, grouped by state, owner and
 * namespace, and printed as text or JSON, --top redrawing in place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "json.h"
#include "sink.h"
#include "util.h"
#include "view.h"

/* 4M sockets of about 112 bytes: past this a moment is shown in part, and says so */
#define MAX_SOCKS	(1u << 22)

struct group {
	size_t first, n;	/* socks[first..first+n) */
	size_t unaccepted;	/* of n, in a listener's accept queue */
	uint64_t oldest_ms;
	uint8_t oldest_kind;	/* enum view_age of oldest_ms */
};

struct prev_group {
	uint32_t netns, pid;
	uint8_t state;
	char container[TT_CONTAINER_MAX];
	char comm[16];		/* for the row that says it is gone */
	size_t count;
};

struct ns_name {
	uint32_t netns;
	const struct tt_cgname *cg;
};

struct tt_view {
	const struct tt_opts *o;
	FILE *out;
	bool tty;
	struct view_sock *socks;
	size_t n, cap;
	uint64_t dropped;	/* past MAX_SOCKS */
	struct group *groups;
	size_t ngroups, cap_groups;
	/* --top: the previous frame's groups, by key, for the CHANGE column */
	struct prev_group *prev;
	size_t nprev;
	bool have_prev;
	/* view__name_netns(): a process's cgroup per namespace, for its timewait socks */
	struct ns_name *ns_names;
	size_t n_ns_names, cap_ns_names;
	/* every socket's namespace and cgroup, before the filters: what names them */
	struct ns_name *seen;
	size_t n_seen, cap_seen;
	bool seen_oom;
	/* what the start-up warnings said, for a redrawn screen that clears them */
	char note[160];
};

struct tt_view *view__new(const struct tt_opts *o, FILE *out, bool tty)
{
	struct tt_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->o = o;
	v->out = out ? out : stdout;
	v->tty = tty;
	return v;
}

void view__free(struct tt_view *v)
{
	if (!v)
		return;
	free(v->socks);
	free(v->groups);
	free(v->prev);
	free(v->ns_names);
	free(v->seen);
	free(v);
}

void view__note(struct tt_view *v, const char *note)
{
	if (!v->note[0])
		snprintf(v->note, sizeof(v->note), "%s", note);
}

void view__reset(struct tt_view *v)
{
	v->n = 0;
	v->ngroups = 0;
	v->dropped = 0;
	v->n_ns_names = 0;
	v->n_seen = 0;
	v->seen_oom = false;
}

static void note_seen(struct tt_view *v, const struct view_sock *s)
{
	struct ns_name *last = v->n_seen ? &v->seen[v->n_seen - 1] : NULL;

	/* a namespace's sockets come together: its cgroups repeat */
	if (!s->cg || v->seen_oom || (last && last->netns == s->netns && last->cg == s->cg))
		return;
	if (v->n_seen == v->cap_seen) {
		size_t cap = v->cap_seen ? v->cap_seen * 2 : 256;
		struct ns_name *m = realloc(v->seen, cap * sizeof(*m));

		if (!m) {
			v->seen_oom = true;
			return;
		}
		v->seen = m;
		v->cap_seen = cap;
	}
	v->seen[v->n_seen++] = (struct ns_name){ s->netns, s->cg };
}

bool view__unnamed_timewait(const struct tt_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->socks[i].timewait && !v->socks[i].cg)
			return true;
	return false;
}

void view__name_netns(struct tt_view *v, uint32_t netns, const struct tt_cgname *cg)
{
	if (v->n_ns_names == v->cap_ns_names) {
		size_t cap = v->cap_ns_names ? v->cap_ns_names * 2 : 64;
		struct ns_name *m = realloc(v->ns_names, cap * sizeof(*m));

		if (!m)
			return;
		v->ns_names = m;
		v->cap_ns_names = cap;
	}
	v->ns_names[v->n_ns_names++] = (struct ns_name){ netns, cg };
}

static bool pass_names(const struct tt_opts *o, const struct view_sock *s)
{
	if (o->container && (!s->cg || strncmp(s->cg->container, o->container, strlen(o->container))))
		return false;
	/* the whole tree: a socket no cgroup names (a host's timewait sock) too */
	if (o->cgroup_path[0] && strcmp(o->cgroup_path, "/") &&
	    (!s->cg || !ident__path_under(s->cg->path, o->cgroup_path)))
		return false;
	return true;
}

int view__add(struct tt_view *v, const struct view_sock *s)
{
	const struct tt_opts *o = v->o;

	note_seen(v, s);
	if (o->states && (s->state >= 32 || !(o->states & (1u << s->state))))
		return 0;
	if (!tt_cidr_match_peer(o->remote, o->n_remote, s->family, s->daddr) ||
	    !tt_cidr_match(o->local, o->n_local, s->family, s->saddr))
		return 0;
	/*
	 * --container and --cgroup by name: no kernel filter has seen these
	 * sockets.  A timewait sock has no cgroup: it waits for its namespace's
	 * (name_timewait()), and the filter then.
	 */
	if (!(s->timewait && !s->cg) && !pass_names(o, s))
		return 0;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		struct view_sock *ns;

		if (v->n >= MAX_SOCKS) {
			v->dropped++;
			return 0;
		}
		ns = realloc(v->socks, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		v->socks = ns;
		v->cap = cap;
	}
	v->socks[v->n++] = *s;
	return 0;
}

/* ---- grouping ------------------------------------------------------------ */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static const char *container_of(const struct view_sock *s)
{
	return s->cg ? s->cg->container : "";
}

/* Groups: state, namespace, container, owner; inside one, the oldest first. */
static int by_group(const void *pa, const void *pb)
{
	const struct view_sock *a = pa, *b = pb;
	int c;

	if ((c = cmp_u64(a->state, b->state)) || (c = cmp_u64(a->netns, b->netns)) ||
	    (c = strcmp(container_of(a), container_of(b))) || (c = cmp_u64(a->pid, b->pid)))
		return c;
	/* known ages first, oldest first */
	if ((c = cmp_u64(b->age_kind != VIEW_AGE_UNKNOWN, a->age_kind != VIEW_AGE_UNKNOWN)) ||
	    (c = cmp_u64(b->age_ms, a->age_ms)))
		return c;
	return cmp_u64(a->sport, b->sport) ?: cmp_u64(a->dport, b->dport);
}

static bool same_group(const struct view_sock *a, const struct view_sock *b)
{
	return a->state == b->state && a->netns == b->netns && a->pid == b->pid &&
	       !strcmp(container_of(a), container_of(b));
}

/* Groups in state order, the biggest first within a state. */
static int by_size(const void *pa, const void *pb, void *ctx)
{
	const struct tt_view *v = ctx;
	const struct group *a = pa, *b = pb;
	const struct view_sock *sa = &v->socks[a->first], *sb = &v->socks[b->first];
	int c;

	if ((c = cmp_u64(sa->state, sb->state)) || (c = cmp_u64(b->n, a->n)))
		return c;
	return cmp_u64(a->first, b->first);
}

static int by_netns(const void *pa, const void *pb)
{
	const struct ns_name *a = pa, *b = pb;

	return a->netns < b->netns ? -1 : a->netns > b->netns;
}

static bool in_container(const struct tt_cgname *cg)
{
	return cg && cg->container[0];
}

/*
 * Sorted by namespace, one entry each, in place: its one container's name,
 * or NULL.  Of processes (procs), those of no container are left out: a
 * shell or a tracer the host put in a container's namespace (nsenter, ss)
 * is no container sharing it; a namespace with none of a container has no
 * entry.
 */
static size_t one_per_netns(struct ns_name *m, size_t n, bool procs)
{
	size_t k = 0;

	if (n > 1)
		qsort(m, n, sizeof(*m), by_netns);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		const struct tt_cgname *cg = NULL;
		bool any = false, mixed = false;

		for (; j < n && m[j].netns == m[i].netns; j++) {
			if (procs && !in_container(m[j].cg))
				continue;
			if (!any)
				cg = m[j].cg;
			else if (!in_container(cg) || !in_container(m[j].cg) ||
				 strcmp(m[j].cg->container, cg->container))
				mixed = true;
			any = true;
		}
		if (any)
			m[k++] = (struct ns_name){ m[i].netns,
						   !mixed && in_container(cg) ? cg : NULL };
		i = j;
	}
	return k;
}

/*
 * A timewait sock (TIME_WAIT, or an orphan's FIN_WAIT2) keeps no cgroup,
 * but a container has a network namespace of its own: where every socket
 * of a namespace with a known cgroup names one container, and every
 * process there the source told of (view__name_netns) is that container's,
 * its timewait socks are that container's too; where no socket there has
 * a cgroup, the processes alone name it.  Processes of no container (a
 * host shell that entered it) do not count.  The host's namespace, or one
 * that containers share (a pod's sidecar, --network=container:), names none.
 * Then --container and --cgroup apply to them.
 */
static void name_timewait(struct tt_view *v)
{
	struct ns_name *m = v->seen;
	size_t n = v->n_seen, k, tw = 0, np;

	for (size_t i = 0; i < v->n; i++)
		tw += v->socks[i].timewait && !v->socks[i].cg;
	if (!tw)
		return;
	np = v->n_ns_names = one_per_netns(v->ns_names, v->n_ns_names, true);
	/* what the filters dropped still names a namespace; out of memory, none does */
	if (v->seen_oom)
		n = 0;
	k = one_per_netns(m, n, false);
	for (size_t i = 0; i < v->n;) {
		struct view_sock *s = &v->socks[i];

		if (s->timewait && !s->cg) {
			struct ns_name key = { .netns = s->netns }, *e, *p;

			e = k ? bsearch(&key, m, k, sizeof(*m), by_netns) : NULL;
			p = np ? bsearch(&key, v->ns_names, np, sizeof(*m), by_netns) : NULL;
			if (e)
				s->cg = e->cg;
			else if (p)
				s->cg = p->cg;
			/* a process of another container, or of none, there too */
			if (s->cg && p && (!p->cg || strcmp(p->cg->container, s->cg->container)))
				s->cg = NULL;
		}
		if (s->timewait && !pass_names(v->o, s)) {
			v->socks[i] = v->socks[--v->n];
			continue;
		}
		i++;
	}
	v->n_seen = k = 0;
}

static int make_groups(struct tt_view *v)
{
	if (v->n)
		qsort(v->socks, v->n, sizeof(*v->socks), by_group);
	v->ngroups = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct group *g;

		if (!i || !same_group(&v->socks[i - 1], &v->socks[i])) {
			if (v->ngroups == v->cap_groups) {
				size_t cap = v->cap_groups ? v->cap_groups * 2 : 64;
				struct group *ng = realloc(v->groups, cap * sizeof(*ng));

				if (!ng)
					return -ENOMEM;
				v->groups = ng;
				v->cap_groups = cap;
			}
			g = &v->groups[v->ngroups++];
			/* the first is the oldest: sorted so */
			*g = (struct group){ .first = i, .oldest_ms = v->socks[i].age_ms,
					     .oldest_kind = v->socks[i].age_kind };
		}
		v->groups[v->ngroups - 1].n++;
		v->groups[v->ngroups - 1].unaccepted += v->socks[i].unaccepted;
	}
	if (v->ngroups)
		qsort_r(v->groups, v->ngroups, sizeof(*v->groups), by_size, v);
	return 0;
}

/* ---- printing ------------------------------------------------------------ */

static void fmt_age(uint8_t kind, uint64_t ms, char *buf, size_t len)
{
	char d[32];

	if (kind == VIEW_AGE_UNKNOWN) {
		snprintf(buf, len, "-");
		return;
	}
	tt_fmt_duration(ms * 1000000ull, d, sizeof(d));
	snprintf(buf, len, "%s%s", kind == VIEW_AGE_AT_LEAST ? ">=" : "", d);
}

static void fmt_iso(int64_t wall_ns, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	size_t n;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06uZ", (unsigned int)(wall_ns % 1000000000 / 1000));
}

static void state_counts(const struct tt_view *v, uint64_t counts[TT_STATE_MAX])
{
	memset(counts, 0, sizeof(uint64_t) * TT_STATE_MAX);
	for (size_t i = 0; i < v->n; i++)
		if (v->socks[i].state < TT_STATE_MAX)
			counts[v->socks[i].state]++;
}

static void json_age(FILE *out, const char *key, uint8_t kind, uint64_t ms)
{
	if (kind == VIEW_AGE_UNKNOWN)
		fprintf(out, ",\"%s_ms\":null,\"%s_exact\":false", key, key);
	else
		fprintf(out, ",\"%s_ms\":%llu,\"%s_exact\":%s", key, (unsigned long long)ms, key,
			kind == VIEW_AGE_EXACT ? "true" : "false");
}

static void json_name(FILE *out, const char *key, const char *v)
{
	fprintf(out, ",\"%s\":", key);
	if (v && v[0])
		json_str(out, v, 4096);
	else
		fputs("null", out);
}

static void json_owner(FILE *out, const struct view_sock *s)
{
	fprintf(out, ",\"netns\":%u", s->netns);
	json_name(out, "cgroup", s->cg ? s->cg->path : NULL);
	json_name(out, "container", s->cg ? s->cg->container : NULL);
	json_name(out, "pod", s->cg ? s->cg->pod : NULL);
	fprintf(out, ",\"pid\":%u,\"comm\":", s->pid);
	json_str(out, s->pid ? s->comm : "", tt_comm_len(s->comm));
}

static void json_socket(const struct tt_view *v, const struct view_sock *s, const char *iso)
{
	char a[TT_ADDR_STRLEN];
	FILE *out = v->out;

	fprintf(out, "{\"type\":\"socket\",\"version\":%d,\"time\":\"%s\",\"state\":\"%s\"",
		TT_JSON_VERSION, iso, tt_state_name(s->state));
	json_owner(out, s);
	fprintf(out, ",\"holders\":%u,\"unaccepted\":%s", s->holders,
		s->unaccepted ? "true" : "false");
	fprintf(out, ",\"family\":\"%s\"", s->family == TT_AF_INET6 ? "ipv6" : "ipv4");
	tt_addr_str(a, s->family, s->saddr);
	fprintf(out, ",\"saddr\":\"%s\",\"sport\":%u", a, s->sport);
	tt_addr_str(a, s->family, s->daddr);
	fprintf(out, ",\"daddr\":\"%s\",\"dport\":%u", a, s->dport);
	json_age(out, "age", s->age_kind, s->age_ms);
	if (s->has_idle)
		fprintf(out, ",\"idle_ms\":%llu", (unsigned long long)s->idle_ms);
	else
		fputs(",\"idle_ms\":null", out);
	if (s->has_queues)
		fprintf(out, ",\"rqueue\":%u,\"wqueue\":%u", s->rqueue, s->wqueue);
	else
		fputs(",\"rqueue\":null,\"wqueue\":null", out);
	fprintf(out, ",\"inode\":%u,\"cookie\":%llu,\"timewait\":%s}\n", s->inode,
		(unsigned long long)s->cookie, s->timewait ? "true" : "false");
}

static void json_view(const struct tt_view *v, const char *iso, const char *source,
		      uint32_t namespaces)
{
	uint64_t counts[TT_STATE_MAX];
	FILE *out = v->out;
	bool first = true;

	if (v->o->snapshot && !v->o->quiet_flows)
		for (size_t g = 0; g < v->ngroups; g++)
			for (size_t i = 0; i < v->groups[g].n; i++)
				json_socket(v, &v->socks[v->groups[g].first + i], iso);
	state_counts(v, counts);
	fprintf(out, "{\"type\":\"snapshot\",\"version\":%d,\"time\":\"%s\",\"source\":\"%s\","
		"\"namespaces\":%u,\"sockets\":%zu,\"not_shown\":%llu,\"states\":{", TT_JSON_VERSION,
		iso, source, namespaces, v->n, (unsigned long long)v->dropped);
	for (unsigned int s = 1; s < TT_STATE_MAX; s++) {
		if (!counts[s])
			continue;
		fprintf(out, "%s\"%s\":%llu", first ? "" : ",", tt_state_name(s),
			(unsigned long long)counts[s]);
		first = false;
	}
	fputs("},\"groups\":[", out);
	for (size_t g = 0; g < v->ngroups; g++) {
		const struct group *gr = &v->groups[g];
		const struct view_sock *s = &v->socks[gr->first];

		fprintf(out, "%s{\"state\":\"%s\",\"count\":%zu,\"unaccepted\":%zu", g ? "," : "",
			tt_state_name(s->state), gr->n, gr->unaccepted);
		json_owner(out, s);
		json_age(out, "oldest_age", gr->oldest_kind, gr->oldest_ms);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

static int cmp_prev(const void *pa, const void *pb)
{
	const struct prev_group *a = pa, *b = pb;
	int c;

	if ((c = cmp_u64(a->state, b->state)) || (c = cmp_u64(a->netns, b->netns)) ||
	    (c = cmp_u64(a->pid, b->pid)))
		return c;
	return strcmp(a->container, b->container);
}

static void prev_key(struct prev_group *k, const struct view_sock *s)
{
	memset(k, 0, sizeof(*k));
	k->state = s->state;
	k->netns = s->netns;
	k->pid = s->pid;
	snprintf(k->container, sizeof(k->container), "%s", container_of(s));
	memcpy(k->comm, s->comm, sizeof(k->comm));
}

/* "+3", "-1", "new" against the previous frame; "" on the first. */
static void fmt_change(const struct tt_view *v, const struct group *g, char *buf, size_t len)
{
	struct prev_group k;
	const struct prev_group *p;

	buf[0] = '\0';
	if (!v->have_prev)
		return;
	prev_key(&k, &v->socks[g->first]);
	p = v->nprev ? bsearch(&k, v->prev, v->nprev, sizeof(*v->prev), cmp_prev) : NULL;
	if (!p)
		snprintf(buf, len, "new");
	else if (p->count != g->n)
		snprintf(buf, len, "%+lld", (long long)g->n - (long long)p->count);
}

static void printable(const char *src, char dst[16]);

/* The spaces that pad comm, once printable(), to width columns. */
static int comm_pad(const char *comm, size_t width)
{
	size_t cols = tt_utf8_cols(comm, strlen(comm));

	return cols < width ? (int)(width - cols) : 0;
}

/*
 * --top: the previous frame's groups that this one has not, as rows of 0
 * with "gone" (a leak fixed, a container stopped), so that nothing
 * vanishes without a word.  Returns the rows printed.
 */
static unsigned int print_gone(const struct tt_view *v, FILE *out, unsigned int room)
{
	struct prev_group *cur = v->ngroups ? calloc(v->ngroups, sizeof(*cur)) : NULL;
	unsigned int n = 0;
	char pid[16], comm[16], ctr[16];

	if (!v->have_prev || (v->ngroups && !cur)) {
		free(cur);
		return 0;
	}
	for (size_t g = 0; g < v->ngroups; g++)
		prev_key(&cur[g], &v->socks[v->groups[g].first]);
	if (v->ngroups)
		qsort(cur, v->ngroups, sizeof(*cur), cmp_prev);
	for (size_t i = 0; i < v->nprev; i++) {
		const struct prev_group *p = &v->prev[i];

		if (v->ngroups && bsearch(p, cur, v->ngroups, sizeof(*cur), cmp_prev))
			continue;
		if (room && n + 1 >= room) {
			fputs("... more groups gone\n", out);
			n++;
			break;
		}
		if (p->pid)
			snprintf(pid, sizeof(pid), "%u", p->pid);
		else
			snprintf(pid, sizeof(pid), "-");
		printable(p->pid ? p->comm : "-", comm);
		snprintf(ctr, sizeof(ctr), "%.12s", p->container[0] ? p->container : "-");
		fprintf(out, "%-12s %7u %9s %8s %s%*s %-11u %-12s gone\n", tt_state_name(p->state),
			0, "-", pid, comm, comm_pad(comm, 16), "", p->netns, ctr);
		n++;
	}
	free(cur);
	return n;
}

/* This frame's groups become the previous frame's. */
static void remember_frame(struct tt_view *v)
{
	struct prev_group *p = realloc(v->prev, (v->ngroups + 1) * sizeof(*p));

	v->have_prev = p != NULL;
	if (!p)
		return;
	v->prev = p;
	v->nprev = v->ngroups;
	for (size_t g = 0; g < v->ngroups; g++) {
		prev_key(&p[g], &v->socks[v->groups[g].first]);
		p[g].count = v->groups[g].n;
	}
	qsort(p, v->nprev, sizeof(*p), cmp_prev);
}

/* A comm is whatever the task set: nothing in it may move a terminal's cursor. */
static void printable(const char *src, char dst[16])
{
	size_t n = tt_comm_len(src), i;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
	dst[i] = '\0';
	tt_printable(dst, i);
	/* a task may name itself nothing: say so, as the timelines do */
	if (!i)
		strcpy(dst, "-");
}

/*
 * A socket held by more processes than its owner (a fork that kept it, an
 * fd passed on): the group's COMMAND says "+N", N the most others of any
 * of its sockets, as the owner alone would hide who keeps a leak open.
 */
static void shared_mark(const struct tt_view *v, const struct group *gr, char comm[16])
{
	uint32_t most = 0;
	char mark[16];
	int n;
	size_t keep;

	for (size_t i = 0; i < gr->n; i++)
		if (v->socks[gr->first + i].holders > most)
			most = v->socks[gr->first + i].holders;
	if (most < 2)
		return;
	n = snprintf(mark, sizeof(mark), " +%u", most - 1);
	keep = strlen(comm);
	if (keep + (size_t)n > 15)
		keep = 15 - (size_t)n;
	/* not within a UTF-8 character */
	while (keep && ((unsigned char)comm[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(comm + keep, mark, (size_t)n + 1);
}

static unsigned int term_rows(const struct tt_view *v)
{
	struct winsize ws;

	/* fd 1: stdout is a stream of our own over it (tt_stdout_track), with no fileno */
	if (!v->tty || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_row < 8)
		return 0;
	return ws.ws_row;
}

static unsigned int term_cols(const struct tt_view *v)
{
	struct winsize ws;

	if (!v->tty || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_col < 20)
		return 0;
	return ws.ws_col;
}

/*
 * A frame's lines to a terminal, each cut to its width: a line that
 * wrapped took two rows, and the frame's top (the time, the counts, the
 * header) scrolled off at every redraw.
 */
static void put_cut(FILE *out, const char *frame, size_t len, unsigned int cols)
{
	const char *p = frame, *end = frame + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p), i = 0, used = 0;

		while (i < n) {
			size_t k = tt_utf8_len((const unsigned char *)p + i, n - i);
			size_t c = tt_utf8_cols(p + i, k ? k : 1);

			if (used + c > cols)
				break;
			used += c;
			i += k ? k : 1;
		}
		fwrite(p, 1, i, out);
		if (nl)
			fputc('\n', out);
		p += n + 1;
	}
}

/* "... 11 more groups (sockets: TIME_WAIT 435, CLOSE_WAIT 12)": what a full screen left out */
static void more_groups(const struct tt_view *v, size_t from, FILE *out)
{
	uint64_t n[TT_STATE_MAX] = { 0 };
	const char *sep = " (sockets: ";

	for (size_t g = from; g < v->ngroups; g++)
		n[v->socks[v->groups[g].first].state] += v->groups[g].n;
	fprintf(out, "... %zu more group%s", v->ngroups - from, v->ngroups - from == 1 ? "" : "s");
	for (unsigned int s = 1; s < TT_STATE_MAX; s++) {
		if (!n[s])
			continue;
		fprintf(out, "%s%s %llu", sep, tt_state_name(s), (unsigned long long)n[s]);
		sep = ", ";
	}
	fputs(")\n", out);
}

static void human_view(struct tt_view *v, const char *iso, const char *source,
		       uint32_t namespaces)
{
	uint64_t counts[TT_STATE_MAX];
	unsigned int rows = term_rows(v), cols = term_cols(v), used;
	bool sockets = v->o->snapshot && !v->o->quiet_flows;
	FILE *out = v->out;
	char *frame = NULL;
	size_t frame_len = 0;
	char age[40], idle[32], l[64], r[64], pid[16], comm[16], ctr[16], change[24], queued[40];
	int wl = 26, wr = 26;

	state_counts(v, counts);
	/*
	 * The endpoint columns widen for the longest shown, as timelines do:
	 * only an IPv6 one can pass 26 ("255.255.255.255:65535" is 21).
	 */
	for (size_t i = 0; sockets && i < v->n; i++) {
		const struct view_sock *k = &v->socks[i];
		int n;

		if (k->family != TT_AF_INET6)
			continue;
		n = (int)tt_fmt_endpoint(k->family, k->saddr, k->sport, l, sizeof(l));
		wl = n > wl ? n : wl;
		n = k->state == TT_LISTEN ? 1 :
		    (int)tt_fmt_endpoint(k->family, k->daddr, k->dport, r, sizeof(r));
		wr = n > wr ? n : wr;
	}
	if (v->tty)
		fputs("\033[H\033[2J", out);	/* home, clear: top's redraw */
	/* on a terminal, the frame is made whole, then each line cut to its width */
	if (cols) {
		out = open_memstream(&frame, &frame_len);
		if (!out)
			out = v->out;
	}
	fprintf(out, "%s  %zu TCP socket%s in %u network namespace%s (%s)", iso, v->n,
		v->n == 1 ? "" : "s", namespaces, namespaces == 1 ? "" : "s", source);
	if (v->dropped)
		fprintf(out, ", %llu more not shown", (unsigned long long)v->dropped);
	fputc('\n', out);
	for (unsigned int s = 1, k = 0; s < TT_STATE_MAX; s++)
		if (counts[s])
			fprintf(out, "%s%s %llu", k++ ? "  " : "", tt_state_name(s),
				(unsigned long long)counts[s]);
	fprintf(out, "%s\n", v->n ? "" : "(none)");
	used = 3;
	/* the screen just cleared took the warnings on stderr with it */
	if (v->tty && v->note[0]) {
		fprintf(out, "note: %s\n", v->note);
		used++;
	}
	fprintf(out, "%-12s %7s %9s %8s %-16s %-11s %-*s%s\n", "STATE", "SOCKETS", "OLDEST", "PID",
		"COMMAND", "NETNS", v->o->top ? 12 : 0, "CONTAINER", v->o->top ? " CHANGE" : "");
	for (size_t g = 0; g < v->ngroups; g++) {
		const struct group *gr = &v->groups[g];
		const struct view_sock *s = &v->socks[gr->first];

		/* a terminal shows what fits, and says how much did not */
		if (rows && used + 2 >= rows) {
			more_groups(v, g, out);
			break;
		}
		fmt_age(gr->oldest_kind, gr->oldest_ms, age, sizeof(age));
		if (s->pid)
			snprintf(pid, sizeof(pid), "%u", s->pid);
		else
			snprintf(pid, sizeof(pid), "-");
		printable(s->pid ? s->comm : "-", comm);
		shared_mark(v, gr, comm);
		/* 12 digits, as docker ps and podman ps show an id */
		snprintf(ctr, sizeof(ctr), "%.12s", container_of(s));
		fmt_change(v, gr, change, sizeof(change));
		/* last, after --top's CHANGE: how many of them no process has accepted yet */
		queued[0] = '\0';
		if (gr->unaccepted)
			snprintf(queued, sizeof(queued), "  %zu unaccepted", gr->unaccepted);
		fprintf(out, "%-12s %7zu %9s %8s %s%*s %-11u %-*s", tt_state_name(s->state),
			gr->n, age, pid, comm, comm_pad(comm, 16), "", s->netns,
			change[0] || (queued[0] && v->o->top) ? 12 : 0,
			container_of(s)[0] ? ctr : "-");
		if (queued[0] && v->o->top)
			fprintf(out, " %-6s", change);
		else if (change[0])
			fprintf(out, " %s", change);
		fprintf(out, "%s\n", queued);
		used++;
		for (size_t i = 0; sockets && i < gr->n; i++) {
			const struct view_sock *k = &v->socks[gr->first + i];

			tt_fmt_endpoint(k->family, k->saddr, k->sport, l, sizeof(l));
			if (k->state == TT_LISTEN)
				snprintf(r, sizeof(r), "*");	/* as ss shows a listener's peer */
			else
				tt_fmt_endpoint(k->family, k->daddr, k->dport, r, sizeof(r));
			fmt_age(k->age_kind, k->age_ms, age, sizeof(age));
			if (k->has_idle)
				tt_fmt_duration(k->idle_ms * 1000000ull, idle, sizeof(idle));
			else
				snprintf(idle, sizeof(idle), "-");
			if (k->has_queues)
				fprintf(out, "    %-*s %-*s age %-9s idle %-8s rq %u wq %u", wl, l,
					wr, r, age, idle, k->rqueue, k->wqueue);
			else
				fprintf(out, "    %-*s %-*s age %-9s idle %-8s rq - wq -", wl, l,
					wr, r, age, idle);
			if (k->holders > 1)
				fprintf(out, "  held by %u processes", k->holders);
			/* no process holds it: it waits in its listener's accept queue */
			if (k->unaccepted)
				fputs("  unaccepted", out);
			fputc('\n', out);
		}
	}
	if (v->o->top)
		used += print_gone(v, out, rows > used + 1 ? rows - used - 1 : rows ? 1 : 0);
	if (!v->tty)
		fputc('\n', out);
	if (out != v->out) {
		fclose(out);
		put_cut(v->out, frame, frame_len, cols);
		free(frame);
	}
	fflush(v->out);
	if (v->o->top)
		remember_frame(v);
}

/* The namespaces the sockets are in (groups are sorted by state first). */
static uint32_t count_namespaces(const struct tt_view *v)
{
	uint32_t n = 0, *seen = malloc(v->ngroups * sizeof(*seen) + 1);

	for (size_t g = 0; seen && g < v->ngroups; g++) {
		uint32_t ns = v->socks[v->groups[g].first].netns;
		size_t i;

		for (i = 0; i < n && seen[i] != ns; i++)
			;
		if (i == n)
			seen[n++] = ns;
	}
	free(seen);
	return n;
}

void view__print(struct tt_view *v, int64_t wall_ns, const char *source, uint32_t namespaces)
{
	char iso[48];

	name_timewait(v);
	if (make_groups(v))
		tt_warn("warning: out of memory grouping %zu sockets", v->n);
	if (!namespaces)
		namespaces = count_namespaces(v);
	fmt_iso(wall_ns, iso, sizeof(iso));
	if (v->o->json) {
		json_view(v, iso, source, namespaces);
		fflush(v->out);
	} else {
		human_view(v, iso, source, namespaces);
	}
}
