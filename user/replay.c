// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source: replay, the capture is the source.  Its records are fed in file order
 * (the order the live run fed them), time is the records' time, and the
 * summary clock ticks with each record, so intervals, durations and
 * timestamps come out as they did live.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "app.h"
#include "filter.h"
#include "replay.h"
#include "source.h"
#include "view.h"
#include "util.h"

/*
 * The record clock at a frame: an event's time, a flow record's last
 * transition (when the live run read it, near enough), a counters frame's.
 */
static uint64_t record_ts(const struct tt_caprec *rec)
{
	switch (rec->kind) {
	case TTCAP_EVENT:
		return rec->ev.ts_ns;
	case TTCAP_FLOW:
		return capture__flowrec_ts(&rec->fr);
	default:
		return rec->counters.ts_ns;
	}
}

static void describe(const char *name, const struct tt_capmeta *m)
{
	time_t t = (time_t)((int64_t)(m->start_ns + (uint64_t)m->wall_offset_ns) / 1000000000);
	char when[64] = "?";
	struct tm tm;

	/* UTC, as every record's time is: a replay is often read on another host */
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	tt_info("replaying %s: started %s on %s (kernel %s, tcptrail %s); hooks: %s; "
		"filters: %s", name, when, m->hostname[0] ? m->hostname : "?",
		m->kernel[0] ? m->kernel : "?", m->tool_version[0] ? m->tool_version : "?",
		m->hooks[0] ? m->hooks : "?", m->filters[0] ? m->filters : "none");
	if (m->file_index)
		tt_info("%s is rotated file %u: flows that began in the file before it show "
			"as first seen mid-life", name, m->file_index);
}

/*
 * A rotated set read as one capture: a file that ends "rotated" goes on in
 * the next one beside it (FILE.N+1), when that file is there and is the
 * same run's (the same host and start, index N+1).  Only a file read by
 * its path is followed; stdin and memory end where they end.
 */
struct chain {
	struct tt_capreader *r;		/* the file being read */
	bool own;			/* r is ours (a later file), not the caller's */
	char *base;			/* FILE of FILE.N; NULL: no following */
	char *path;			/* the later file being read */
	struct tt_capmeta first;
	uint32_t index;			/* the file being read's */
	uint64_t start_ns;		/* and its start */
	uint32_t gaps;			/* files of the set missing, or another run's */
	volatile sig_atomic_t *stop;
};

static void chain_init(struct chain *ch, struct tt_capreader *r, const char *path,
		       const struct tt_capmeta *m, volatile sig_atomic_t *stop)
{
	*ch = (struct chain){ .r = r, .first = *m, .index = m->file_index, .start_ns = m->start_ns,
			      .stop = stop };
	if (!path || !strcmp(path, "-"))
		return;
	if (!m->file_index) {
		ch->base = strdup(path);
	} else {
		char suffix[16];
		size_t n = strlen(path), k = (size_t)snprintf(suffix, sizeof(suffix), ".%u",
							       m->file_index);

		/* a rotated file renamed since is not followed: its next has no known name */
		if (n > k && !strcmp(path + n - k, suffix))
			ch->base = strndup(path, n - k);
	}
}

static void chain_free(struct chain *ch)
{
	if (ch->own)
		capreader__free(ch->r);
	free(ch->base);
	free(ch->path);
}

/*
 * The first of FILE.N beside FILE with N >= min, into out: with min 0, the
 * oldest file of a set whose first files --rotate-count removed (FILE is
 * not there).  False if none.
 */
static bool first_rotated(const char *path, unsigned long min, char *out, size_t len)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	size_t nlen = strlen(name);
	unsigned long best = ULONG_MAX;
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	/* the directory: ".", "/" for "/FILE", else what comes before the last slash */
	if (!nlen || (size_t)snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0,
				      path) >= sizeof(dir))
		return false;
	d = opendir(!slash ? "." : dir[0] ? dir : "/");
	if (!d)
		return false;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		char *end;
		unsigned long k;

		if (strncmp(n, name, nlen) || n[nlen] != '.' || n[nlen + 1] < '0' || n[nlen + 1] > '9')
			continue;
		k = strtoul(n + nlen + 1, &end, 10);
		if (!*end && k >= min && k < best)
			best = k;
	}
	closedir(d);
	return best != ULONG_MAX && (size_t)snprintf(out, len, "%s.%lu", path, best) < len;
}

/* The next file of the run at path, or NULL (a message says why not). */
static struct tt_capreader *chain_open(struct chain *ch, const char *path, uint32_t index,
				       struct tt_capmeta *m)
{
	struct tt_capreader *r;
	struct stat st;

	/*
	 * A name the writer stepped past (a directory, a link, a FIFO that
	 * would block the open) is no file of the set: not even opened.
	 */
	if (lstat(path, &st) || !S_ISREG(st.st_mode))
		return NULL;
	r = capreader__new(path);
	if (!r) {
		tt_err("read %s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	capreader__set_stop(r, ch->stop);
	/* a run's files share its host, clock offset, hooks and filters; each starts later */
	if (!capreader__meta(r, m) &&
	    (strcmp(m->hostname, ch->first.hostname) ||
	     m->wall_offset_ns != ch->first.wall_offset_ns || strcmp(m->hooks, ch->first.hooks) ||
	     strcmp(m->filters, ch->first.filters) || m->file_index != index ||
	     m->start_ns < ch->start_ns)) {
		capreader__free(r);
		return NULL;
	}
	return r;
}

/*
 * The run's first file from FILE.from on whose header reads (its path in
 * later, its index in *k, its META in *m), or NULL.
 */
static struct tt_capreader *next_readable(struct chain *ch, unsigned long from, unsigned long *k,
					  struct tt_capmeta *m, char *later, size_t len)
{
	while (first_rotated(ch->base, from, later, len)) {
		struct tt_capreader *r;

		*k = strtoul(later + strlen(ch->base) + 1, NULL, 10);
		if (*k > UINT32_MAX)
			return NULL;
		r = chain_open(ch, later, (uint32_t)*k, m);
		if (r && !capreader__meta(r, NULL))
			return r;
		capreader__free(r);
		from = *k + 1;
	}
	return NULL;
}

/*
 * After a file's end record: go on in the next file if the set has one.
 * True when ch->r is now the next file (whose first read may fail: a
 * damaged file is bad input as any other).  A file missing from the set, or
 * another run's under its name, is a gap: what it held is lost, the replay
 * goes on with the next file of the run there is, and ends with status 2.
 * damaged: ch->r failed before its end (damaged, cut, unreadable); its
 * error is said and the rest of it is a gap, if the run has a file after it.
 */
static bool chain_follow(struct chain *ch, bool damaged)
{
	struct tt_capreader *r = NULL;
	struct tt_capreader *stepped = NULL;
	struct tt_capmeta m;
	char *next, later[PATH_MAX];
	uint32_t index = ch->index + 1;
	unsigned long stepped_k = 0;

	if (!damaged && capreader__end_reason(ch->r) != TTCAP_END_ROTATED)
		return false;
	if (!ch->base) {
		if (damaged)
			return false;
		tt_info("the capture goes on in the next rotated file (.%u)", ch->index + 1);
		return false;
	}
	if (asprintf(&next, "%s.%u", ch->base, index) < 0)
		return false;
	if (!access(next, F_OK))
		r = chain_open(ch, next, index, &m);
	/*
	 * A file there with no readable header: damaged, or a name the writer
	 * stepped past (no capture, or not ours to read), which the run's next
	 * readable file says by naming this one's predecessor as its own.
	 */
	if (r && capreader__meta(r, NULL)) {
		struct tt_capmeta m2;
		unsigned long k2;
		struct tt_capreader *r2 = next_readable(ch, index + 1, &k2, &m2, later,
							sizeof(later));

		if (r2 && m2.prev_index == ch->index) {
			capreader__free(r);
			r = NULL;
			stepped = r2;
			m = m2;
			stepped_k = k2;
		} else {
			capreader__free(r2);
		}
	}
	if (!r) {
		unsigned long k = index + 1;

		/* the run's next file there is, past any of another run's */
		if (stepped) {
			r = stepped;
			k = stepped_k;
		}
		while (!r && first_rotated(ch->base, k, later, sizeof(later))) {
			k = strtoul(later + strlen(ch->base) + 1, NULL, 10);
			if (k > UINT32_MAX)
				break;
			r = chain_open(ch, later, (uint32_t)k, &m);
			if (r)
				break;
			k++;
		}
		if (!r) {
			/* a damaged file with none after it: its error ends the replay */
			if (!damaged) {
				ch->gaps++;
				tt_warn("warning: the capture goes on in %s, which is %s: the "
					"replay ends there, and what it held is missing", next,
					access(next, F_OK) ? "not here" : "another run's (or renamed)");
			}
			free(next);
			return false;
		}
		if (damaged)
			tt_err("%s", capreader__error(ch->r));
		if (m.prev_index == ch->index) {
			/* the writer found the names held by something else: nothing is lost */
			if (k == index + 1)
				tt_info("%s was stepped past by the capture (something else held "
					"the name): the replay goes on in %s", next, later);
			else
				tt_info("%s to .%lu were stepped past by the capture (something "
					"else held the names): the replay goes on in %s", next,
					k - 1, later);
		} else if (k == index + 1) {
			ch->gaps++;
			tt_warn("warning: %s is missing (or another run's): what it held is not in "
				"this replay, which goes on in %s", next, later);
		} else {
			ch->gaps++;
			tt_warn("warning: %s to .%lu are missing (or another run's): what they held "
				"is not in this replay, which goes on in %s", next, k - 1, later);
		}
		free(next);
		next = strdup(later);
		index = (uint32_t)k;
		if (!next) {
			capreader__free(r);
			return false;
		}
	}
	/* what is left of the damaged file is lost, as a missing file's is: said, and on */
	if (damaged) {
		if (index == ch->index + 1)
			tt_err("%s", capreader__error(ch->r));
		tt_warn("warning: what %s held past there is not in this replay, which goes "
			"on in %s", ch->path, next);
		ch->gaps++;
	}
	/* a file whose header did not read is bad input: its first read says why */
	if (!capreader__meta(r, NULL)) {
		tt_info("replaying %s: rotated file %u, the same run", next, index);
		ch->start_ns = m.start_ns;
	}
	if (ch->own)
		capreader__free(ch->r);
	free(ch->path);
	ch->r = r;
	ch->own = true;
	ch->path = next;
	ch->index = index;
	return true;
}

/* capreader__next() across the set: 0 only at the end of its last file */
static int chain_next(struct chain *ch, struct tt_caprec *rec)
{
	int ret;

	for (;;) {
		ret = capreader__next(ch->r, rec);
		if (ret == 0 && chain_follow(ch, false))
			continue;
		/* a damaged file of a set is skipped, as a missing one is, if the run goes on */
		if (ret < 0 && capreader__errkind(ch->r) != TT_CAPERR_STOPPED &&
		    capreader__errkind(ch->r) != TT_CAPERR_LIVE &&
		    capreader__errkind(ch->r) != TT_CAPERR_NOMEM && chain_follow(ch, true))
			continue;
		return ret;
	}
}

/*
 * --snapshot and --top on a capture: there is no socket table to read, so
 * the view is the engine's flow table at that moment of the capture (the
 * flows open then), plus the TIME-WAIT entries of the 60 s before it
 * (TCP_TIMEWAIT_LEN; a timewait sock the kernel killed sooner is not
 * told apart), with no owner, as sock_diag shows timewait socks.
 */
#define TW_KEEP_NS (60ull * 1000000000)

struct view_replay {
	const struct tt_opts *o;
	struct tt_engine *eng;
	struct tt_view *v;
	struct tt_ident *ident;	/* the names the capture kept */
	struct view_sock *tw;	/* a ring of the last TIME-WAIT entries */
	uint64_t *tw_cgid;	/* and their cgroups, named when shown */
	size_t tw_head, tw_n, tw_cap;
	uint64_t tw_ts_dropped;
	int64_t wall_offset_ns;
};

/*
 * A timewait sock in FIN_WAIT2 (its process closed before the peer's FIN)
 * goes on to TIME_WAIT when that FIN comes, in the timewait code, which no
 * hook sees.  Where the peer is on this host too, its flow tells: it ended
 * LAST_ACK > CLOSE, our last ACK received.  Its entry in the ring, the one
 * with the mirrored tuple made since the peer entered CLOSE_WAIT, is in
 * TIME_WAIT now.
 */
/* Whether a and b are the same endpoint, an IPv4 one and its IPv4-mapped form alike. */
static bool same_ep(uint8_t fa, const uint8_t *a, uint8_t fb, const uint8_t *b)
{
	uint8_t va[16], vb[16];

	a = tt_unmap_v4(&fa, a, va);
	b = tt_unmap_v4(&fb, b, vb);
	return fa == fb && !memcmp(a, b, fa == TT_AF_INET6 ? 16 : 4);
}

static void peer_saw_last_ack(struct view_replay *vr, const struct tt_flow *f)
{
	unsigned int n = f->nstates;
	uint64_t since = 0;

	if (f->end != TT_END_CLOSE || n < 3 || f->state[n - 2] != TT_LAST_ACK ||
	    f->state[n - 1] != TT_CLOSE)
		return;
	for (unsigned int i = 0; i < n; i++)
		if (f->state[i] == TT_CLOSE_WAIT)
			since = f->ts_ns[i];
	for (size_t i = vr->tw_n; i-- > 0;) {
		struct view_sock *s = &vr->tw[(vr->tw_head + i) % vr->tw_cap];

		if (s->age_ms < since)
			break;
		/* a v4 client of a dual-stack server sees it as IPv4, the server it as mapped */
		if (s->state == TT_FIN_WAIT2 && s->netns == f->netns &&
		    s->sport == f->dport && s->dport == f->sport &&
		    same_ep(s->family, s->saddr, f->family, f->daddr) &&
		    same_ep(s->family, s->daddr, f->family, f->saddr)) {
			s->state = TT_TIME_WAIT;
			return;
		}
	}
}

static void remember_time_wait(const struct tt_flow *f, void *ctx)
{
	struct view_replay *vr = ctx;
	struct view_sock *s;

	if (f->nstates && vr->tw_n)
		peer_saw_last_ack(vr, f);
	if (f->end != TT_END_TIME_WAIT || !f->nstates || !vr->tw_cap)
		return;
	if (vr->tw_n == vr->tw_cap) {
		vr->tw_head = (vr->tw_head + 1) % vr->tw_cap;	/* the oldest goes */
		vr->tw_n--;
	}
	vr->tw_cgid[(vr->tw_head + vr->tw_n) % vr->tw_cap] = f->cgroup;
	s = &vr->tw[(vr->tw_head + vr->tw_n++) % vr->tw_cap];
	memset(s, 0, sizeof(*s));
	s->family = f->family;
	s->state = f->tw_substate == TT_FIN_WAIT2 ? TT_FIN_WAIT2 : TT_TIME_WAIT;
	s->timewait = true;
	s->sport = f->sport;
	s->dport = f->dport;
	memcpy(s->saddr, f->saddr, 16);
	memcpy(s->daddr, f->daddr, 16);
	s->netns = f->netns;
	s->cookie = f->cookie;
	s->age_kind = VIEW_AGE_EXACT;
	s->age_ms = f->ts_ns[f->nstates - 1];	/* the entry's time until shown */
}

static void show_view(struct view_replay *vr, uint64_t now)
{
	engine__settle(vr->eng, now);
	view__reset(vr->v);
	view__add_engine(vr->v, vr->eng, now, vr->ident);
	while (vr->tw_n && vr->tw[vr->tw_head].age_ms + TW_KEEP_NS <= now) {
		vr->tw_head = (vr->tw_head + 1) % vr->tw_cap;
		vr->tw_n--;
	}
	for (size_t i = 0; i < vr->tw_n; i++) {
		struct view_sock s = vr->tw[(vr->tw_head + i) % vr->tw_cap];

		/* named now: a name looked up then may have been replaced since */
		s.cg = ident__lookup(vr->ident, vr->tw_cgid[(vr->tw_head + i) % vr->tw_cap], 0);
		s.age_ms = now > s.age_ms ? (now - s.age_ms) / 1000000 : 0;
		if (view__add(vr->v, &s))
			break;
	}
	view__print(vr->v, (int64_t)now + vr->wall_offset_ns, "capture", 0);
}

static int replay_view(struct chain *ch, const struct tt_opts *o,
		       const struct tt_capmeta *m, volatile sig_atomic_t *stop)
{
	struct view_replay vr = { .o = o, .wall_offset_ns = m->wall_offset_ns };
	uint64_t now = m->start_ns, next = m->start_ns + o->interval_ns;
	struct tt_filter *flt = filter__new(o);
	struct tt_caprec rec;
	int ret = 0;

	vr.tw_cap = o->max_flows;
	vr.tw = calloc(vr.tw_cap, sizeof(*vr.tw));
	vr.tw_cgid = calloc(vr.tw_cap, sizeof(*vr.tw_cgid));
	vr.eng = engine__new(&(struct tt_engine_opts){
		.max_flows = o->max_flows, .on_flow_end = remember_time_wait, .ctx = &vr });
	/* a replay is not a terminal's live picture: frames follow each other */
	vr.v = view__new(o, stdout, false);
	vr.ident = ident__new(false);
	if (!flt || !vr.tw || !vr.tw_cgid || !vr.eng || !vr.v || !vr.ident) {
		tt_err("out of memory for a flow table of %llu flows",
		       (unsigned long long)o->max_flows);
		ret = -ENOMEM;
		goto out;
	}
	while (!(stop && *stop)) {
		uint64_t ts;
		bool end;

		ret = chain_next(ch, &rec);
		if (ret <= 0)
			break;
		if (rec.kind == TTCAP_CGROUP) {
			ident__learn(vr.ident, rec.cg->id, rec.cg->path, rec.cg->container,
				     rec.cg->pod, rec.cg->runtime);
			continue;
		}
		ts = record_ts(&rec);
		if (ts > now)
			now = ts;
		/* -d: the capture's clock stops at the duration's very end */
		end = o->duration_ns && now - m->start_ns >= o->duration_ns;
		if (end)
			now = m->start_ns + o->duration_ns;
		/*
		 * --top: a frame for every interval the capture's clock has
		 * passed; one at the very time of the end is the end's frame.
		 * As for the summaries (app.c), a stretch without a record
		 * draws 10,000 at most: past that, the last one before now.
		 */
		for (unsigned int n = 1; o->top && next < now && !ferror_unlocked(stdout); n++) {
			if (n == 10000)
				next += (now - 1 - next) / o->interval_ns * o->interval_ns;
			show_view(&vr, next);
			next += o->interval_ns;
		}
		if (end)
			break;
		if (rec.kind == TTCAP_EVENT && filter__pass(flt, &rec.ev))
			engine__feed(vr.eng, &rec.ev);
		else if (rec.kind == TTCAP_FLOW && filter__pass_flow(flt, &rec.fr))
			engine__feed_flow(vr.eng, &rec.fr);
		if (ferror_unlocked(stdout))
			break;
	}
	/* the end of the capture: what --snapshot shows, and --top's last frame */
	if (!ferror_unlocked(stdout))
		show_view(&vr, now);
out:
	view__free(vr.v);
	ident__free(vr.ident);
	engine__free(vr.eng);
	free(vr.tw);
	free(vr.tw_cgid);
	filter__free(flt);
	fflush(stdout);
	switch (tt_stdout_failed()) {
	case 1:
		return 1;
	case -1:
		return 0;
	}
	if (ret == -ENOMEM)
		return 1;
	if (ret < 0 && capreader__errkind(ch->r) == TT_CAPERR_STOPPED)
		return ch->gaps ? 2 : 0;
	if (ret < 0 && capreader__errkind(ch->r) == TT_CAPERR_LIVE) {
		/* a capture in progress: what it holds so far is the whole answer */
		tt_info("%s", capreader__error(ch->r));
		return ch->gaps ? 2 : 0;
	}
	if (ret < 0) {
		/* bad input: what was read stands, the status says the rest is bad */
		tt_err("%s", capreader__error(ch->r));
		return 2;
	}
	/* a file of the set missing: said where it was, and incomplete all the same */
	return ch->gaps ? 2 : 0;
}

/*
 * The capture as a source: its clock is its records' time (records from
 * different CPUs can be a little out of order: never backwards), each
 * record ticks it, and its counters frames say what the live run lost.
 */
struct capsource {
	struct chain ch;
	const struct tt_opts *o;
	struct tt_filter *flt;
	uint64_t start_ns, now;
	struct tt_caprec rec;	/* made ready by next() */
	int ret;		/* capreader__next's last: 0 the end, -1 an error */
	uint64_t base_lost, base_evicted, lost, evicted;
	bool have_base;
	uint64_t n_events, n_flows;	/* EVENT and FLOW frames read */
	uint64_t n_passed;		/* ... that the filters kept */
};

static int cap_next(void *priv, struct app *a, uint64_t *now_ns)
{
	struct capsource *c = priv;
	uint64_t ts;

	for (;;) {
		c->ret = chain_next(&c->ch, &c->rec);
		if (c->ret <= 0)
			return 1;
		if (c->rec.kind != TTCAP_CGROUP)
			break;
		app__cgroup_name(a, c->rec.cg->id, c->rec.cg->path, c->rec.cg->container,
				 c->rec.cg->runtime, c->rec.cg->pod);
	}
	ts = record_ts(&c->rec);
	if (ts < c->now)
		ts = c->now;
	/*
	 * --duration: the record past it is not taken, nor its tick, and the
	 * replay ends at the duration's very end, not at that record's time
	 * (start <= now <= ts: the sum cannot wrap).
	 */
	if (c->o->duration_ns && ts - c->start_ns >= c->o->duration_ns) {
		c->now = c->start_ns + c->o->duration_ns;
		return 1;
	}
	c->now = ts;
	*now_ns = c->now;
	return 0;
}

static uint64_t cap_lost(void *priv)
{
	return ((struct capsource *)priv)->lost;
}

static int cap_feed(void *priv, struct app *a, int timeout_ms)
{
	struct capsource *c = priv;

	(void)timeout_ms;
	if (c->rec.kind == TTCAP_COUNTERS) {
		/* totals since the live run began; this file's share is what it lacks */
		if (!c->have_base) {
			c->base_lost = c->rec.counters.lost;
			c->base_evicted = c->rec.counters.evicted;
			c->have_base = true;
		}
		c->lost = c->rec.counters.lost > c->base_lost ?
			  c->rec.counters.lost - c->base_lost : 0;
		c->evicted = c->rec.counters.evicted > c->base_evicted ?
			     c->rec.counters.evicted - c->base_evicted : 0;
		app__set_lost(a, c->lost);
		return 0;
	}
	if (c->rec.kind == TTCAP_FLOW) {
		c->n_flows++;
		/* a replay has no capture sink (-r and -w exclude each other) */
		if (filter__pass_flow(c->flt, &c->rec.fr)) {
			c->n_passed++;
			app__flowrec(a, &c->rec.fr);
		}
		return 0;
	}
	c->n_events++;
	if (filter__pass(c->flt, &c->rec.ev)) {
		c->n_passed++;
		app__event(a, &c->rec.ev);
	}
	return 0;
}

static bool cap_ready(void *priv)
{
	return capreader__ready(((struct capsource *)priv)->ch.r);
}

static const struct tt_source_ops capture_source = {
	.name = "capture", .next = cap_next, .lost = cap_lost, .feed = cap_feed,
	.ready = cap_ready,
};

int replay__reader(struct tt_capreader *r, const struct tt_opts *o, bool color,
		   volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen)
{
	struct capsource c = { .o = o };
	struct tt_capmeta m;
	struct tt_drive d;
	int status = 0;
	const char *name;
	struct app a;

	capreader__set_stop(r, stop);
	/* a file that is no capture, or none at all: bad input */
	if (capreader__meta(r, &m)) {
		/* SIGINT or SIGTERM while a pipe had not sent the header yet */
		if (capreader__errkind(r) == TT_CAPERR_STOPPED)
			return 0;
		if (capreader__errkind(r) == TT_CAPERR_LIVE) {
			tt_info("%s; nothing to replay yet", capreader__error(r));
			return 0;
		}
		/* (a FILE that --rotate-count removed is replaced by its set's oldest: replay__run) */
		tt_err("%s", capreader__error(r));
		return 2;
	}
	name = !o->read_path ? "capture" : strcmp(o->read_path, "-") ? o->read_path : "stdin";
	chain_init(&c.ch, r, o->read_path, &m, stop);
	if (o->snapshot || o->top) {
		describe(name, &m);
		status = replay_view(&c.ch, o, &m, stop);
		chain_free(&c.ch);
		return status;
	}
	c.flt = filter__new(o);
	if (!c.flt) {
		tt_err("out of memory");
		chain_free(&c.ch);
		return 1;
	}
	/* app__init says what went wrong itself, in one line: before the banner */
	if (app__init(&a, o, m.wall_offset_ns, color)) {
		filter__free(c.flt);
		chain_free(&c.ch);
		return 1;
	}
	describe(name, &m);
	app__set_port_range(&a, m.port_lo, m.port_hi);
	c.start_ns = c.now = m.start_ns;
	app__start(&a, c.now);
	app__clock_jumps(&a);
	/* --duration is the source's own: the record clock, checked before the record's tick */
	d = (struct tt_drive){ .stop = stop, .reopen = reopen, .start_ns = m.start_ns };
	source__drive(&capture_source, &c, &a, &d);
	app__finish(&a, c.now);
	/* a filter that matched nothing: an empty replay looks like a quiet capture */
	if (c.n_events + c.n_flows && c.n_passed == a.id_dropped) {
		char f[512];

		filter__describe(o, f, sizeof(f));
		if (o->container)
			snprintf(f + strlen(f), sizeof(f) - strlen(f), "%scontainer=%s",
				 f[0] ? " " : "", o->container);
		if (f[0])
			tt_warn("warning: none of the capture's %" PRIu64 " records matched the "
				"filters (%s)", c.n_events + c.n_flows, f);
	} else if (o->states && c.n_events + c.n_flows && !a.state_matched) {
		/* --state picks flows, not records: none of them went through its states */
		char names[256];
		size_t n = 0;

		names[0] = '\0';
		for (unsigned int st = 0; st < 32 && n < sizeof(names); st++)
			if (o->states & (1u << st))
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
						      n ? "," : "", tt_state_name(st));
		tt_warn("warning: no flow of the capture passed through --state %s", names);
	}
	app__free(&a);
	filter__free(c.flt);
	fflush(stdout);
	/* a full disk is a failure; a reader that closed the pipe (| head) is not */
	switch (tt_stdout_failed()) {
	case 1:
		chain_free(&c.ch);
		return 1;
	case -1:
		chain_free(&c.ch);
		return 0;
	}
	tt_debug("read %" PRIu64 " event records and %" PRIu64 " flow records (capture format "
		 "version %u)", c.n_events, c.n_flows, m.version);
	if (c.evicted)
		tt_info("the capturing run evicted %" PRIu64 " flows from its flow table "
			"(its --max-flows); their records are all in the capture", c.evicted);
	if (c.ret < 0 && capreader__errkind(c.ch.r) == TT_CAPERR_STOPPED) {
		/* stopped while a pipe sent nothing more: as a live run stops */
		tt_debug("%s", capreader__error(c.ch.r));
	} else if (c.ret < 0 && capreader__errkind(c.ch.r) == TT_CAPERR_LIVE) {
		/* a capture in progress ends where its writer has got to: no fault */
		tt_info("%s", capreader__error(c.ch.r));
	} else if (c.ret < 0) {
		/* bad input: the output above stands; the status tells scripts it is incomplete */
		tt_err("%s", capreader__error(c.ch.r));
		status = 2;
	}
	/* a file of the set missing: said where it was, and incomplete all the same */
	if (c.ch.gaps && !status)
		status = 2;
	chain_free(&c.ch);
	return status;
}
/*
 * The oldest file of the set at path (FILE.N, N >= 1) that is a capture:
 * past a name the writer stepped past (a directory, a link, a file of
 * another user or none of ours), which --rotate-count never removes.
 */
static bool oldest_capture(const char *path, char *out, size_t len)
{
	unsigned long k = 1;

	while (first_rotated(path, k, out, len)) {
		struct tt_capreader *r;
		struct tt_capmeta m;
		struct stat st;
		bool ok;

		if (!lstat(out, &st) && S_ISREG(st.st_mode) && (r = capreader__new(out))) {
			ok = !capreader__meta(r, &m);
			capreader__free(r);
			if (ok)
				return true;
		}
		k = strtoul(out + strlen(path) + 1, NULL, 10) + 1;
		if (k > UINT32_MAX)
			break;
	}
	return false;
}

int replay__run(const struct tt_opts *o, bool color, volatile sig_atomic_t *stop,
		volatile sig_atomic_t *reopen)
{
	struct tt_opts from = *o;
	char oldest[PATH_MAX];
	struct tt_capreader *r;
	int status;

	/*
	 * -r FILE of a set --rotate-count has been trimming: FILE went first,
	 * and the set is what is left of it, from its oldest file on (as
	 * `-w FILE --rotate-count N` and `-r FILE` ask for the same set).
	 */
	if (o->read_path && strcmp(o->read_path, "-") && access(o->read_path, F_OK) &&
	    errno == ENOENT && oldest_capture(o->read_path, oldest, sizeof(oldest))) {
		tt_info("%s is gone (--rotate-count removed the oldest files of its set): "
			"replaying the set from %s", o->read_path, oldest);
		from.read_path = oldest;
	}
	r = capreader__new(from.read_path);
	if (!r) {
		tt_err("read %s: %s", from.read_path, strerror(ENOMEM));
		return 1;
	}
	status = replay__reader(r, &from, color, stop, reopen);
	capreader__free(r);
	return status;
}
