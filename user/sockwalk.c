// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source (the seed) and the TIME-WAIT census: every namespace's TCP sockets
 * in one walk of the kernel's hash tables (bpf/iter.bpf.c), read back as
 * struct diag_sock; sock_diag (diag.c) where the walk does not load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "iter.skel.h"
#include "kconfig.h"
#include "sockwalk.h"
#include "ttwalk.h"
#include "util.h"

/*
 * The ring buffer one iterator read fills, at most: 4 MiB is ~40,000
 * sockets; a host with more takes several reads, each going on from the
 * bucket where the last stopped.  Kernel memory, held while loaded.
 */
#define WALK_RING	(4u << 20)
/* reads of one walk: each takes at least one bucket, and there are at most 2^26 */
#define WALK_READS_MAX	(1u << 26)

struct sockwalk {
	struct iter_bpf *skel;
	struct bpf_link *link;
	struct ring_buffer *rb;
	/* the walk under way */
	sockwalk_cb cb;
	void *ctx;
	int cb_err;
	uint64_t records;
	/* namespaces seen: open addressing, 0 is free (no namespace has inode 0) */
	uint32_t *seen;
	size_t seen_cap, seen_n;
	uint32_t *own;
	size_t own_n, own_cap;
};

/*
 * Why the walker did not load or run, for -v and --probe: each thread's
 * own (the seed's walk runs on the main thread, the census's on its own).
 */
static _Thread_local char why_not[160];

const char *sockwalk__why(void)
{
	return why_not;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sockwalk__parse(const void *rec, size_t len, struct diag_sock *s, uint32_t *netns)
{
	struct tt_walk_sock r;

	if (len < sizeof(r))
		return -EINVAL;
	memcpy(&r, rec, sizeof(r));
	memset(s, 0, sizeof(*s));
	if (r.family == AF_INET)
		s->family = TT_AF_INET;
	else if (r.family == AF_INET6)
		s->family = TT_AF_INET6;
	else
		return -EINVAL;
	switch (r.kind) {
	case TT_WALK_FULL:
		/* sock_diag asked for INET_DIAG_INFO: every full socket has tcp_info */
		s->has_info = true;
		s->tcpi_state = r.state;
		if (r.flags & TT_WALK_F_AGES) {
			s->last_data_recv_ms = r.last_data_recv_ms;
			s->last_ack_recv_ms = r.last_ack_recv_ms;
			s->last_data_sent_ms = r.last_data_sent_ms;
		} else {
			s->last_data_sent_ms = UINT32_MAX;	/* not known: not lately */
		}
		s->rqueue = r.rqueue;
		s->wqueue = r.wqueue;
		s->uid = r.uid;
		s->inode = r.inode;
		s->cgroup = r.cgroup;
		break;
	case TT_WALK_TIMEWAIT:
		if (r.state != TT_TIME_WAIT && r.state != TT_FIN_WAIT2)
			return -EINVAL;
		s->timer = DIAG_TIMER_TIME_WAIT;
		break;
	case TT_WALK_REQUEST:
		if (r.state != TT_SYN_RECV)
			return -EINVAL;
		s->timer = DIAG_TIMER_RETRANS;
		break;
	default:
		return -EINVAL;
	}
	if (r.state < 1 || r.state >= TT_STATE_MAX)
		return -EINVAL;
	s->state = r.state;
	s->sport = r.sport;
	s->dport = r.dport;
	memcpy(s->saddr, r.saddr, 16);
	memcpy(s->daddr, r.daddr, 16);
	if (s->family == TT_AF_INET) {
		memset(s->saddr + 4, 0, 12);
		memset(s->daddr + 4, 0, 12);
	}
	s->ifindex = r.ifindex;
	s->cookie = r.cookie;
	*netns = r.netns;
	return r.kind == TT_WALK_FULL && (r.flags & TT_WALK_F_OWN_TABLE) ? 1 : 0;
}

static uint32_t ns_hash(uint32_t v)
{
	return v * 2654435761u;
}

/* Note netns as seen; -ENOMEM if the set cannot grow. */
static int seen_add(struct sockwalk *w, uint32_t netns)
{
	size_t i;

	if (!netns)
		return 0;
	if ((w->seen_n + 1) * 2 > w->seen_cap) {
		size_t cap = w->seen_cap ? w->seen_cap * 2 : 256;
		uint32_t *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t k = 0; k < w->seen_cap; k++) {
			if (!w->seen[k])
				continue;
			for (i = ns_hash(w->seen[k]) & (cap - 1); n[i]; i = (i + 1) & (cap - 1))
				;
			n[i] = w->seen[k];
		}
		free(w->seen);
		w->seen = n;
		w->seen_cap = cap;
	}
	for (i = ns_hash(netns) & (w->seen_cap - 1); w->seen[i]; i = (i + 1) & (w->seen_cap - 1))
		if (w->seen[i] == netns)
			return 0;
	w->seen[i] = netns;
	w->seen_n++;
	return 0;
}

bool sockwalk__seen(const struct sockwalk *w, uint32_t netns)
{
	if (!w->seen_cap || !netns)
		return false;
	for (size_t i = ns_hash(netns) & (w->seen_cap - 1); w->seen[i];
	     i = (i + 1) & (w->seen_cap - 1))
		if (w->seen[i] == netns)
			return true;
	return false;
}

const uint32_t *sockwalk__own_table(const struct sockwalk *w, size_t *n)
{
	*n = w->own_n;
	return w->own;
}

static bool is_own(const struct sockwalk *w, uint32_t netns)
{
	for (size_t i = 0; i < w->own_n; i++)
		if (w->own[i] == netns)
			return true;
	return false;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct sockwalk *w = ctx;
	struct diag_sock s;
	uint32_t netns;
	int ret;

	if (!w->cb)
		return 0;
	w->records++;
	ret = sockwalk__parse(data, size, &s, &netns);
	if (ret < 0)
		return 0;	/* a state or family of a newer kernel: not one to count */
	if (ret == 1) {
		/* listeners walk first: nothing of that namespace was delivered */
		if (is_own(w, netns))
			return 0;
		if (w->own_n == w->own_cap) {
			size_t cap = w->own_cap ? w->own_cap * 2 : 16;
			uint32_t *n = realloc(w->own, cap * sizeof(*n));

			if (!n) {
				w->cb_err = -ENOMEM;
				return -ENOMEM;
			}
			w->own = n;
			w->own_cap = cap;
		}
		w->own[w->own_n++] = netns;
		return 0;
	}
	if (w->own_n && is_own(w, netns))
		return 0;
	if (seen_add(w, netns)) {
		w->cb_err = -ENOMEM;
		return -ENOMEM;
	}
	ret = w->cb(&s, netns, w->ctx);
	if (ret < 0) {
		w->cb_err = ret;
		return ret;
	}
	return 0;
}

int sockwalk__open(struct sockwalk **out)
{
	const char *force = getenv("TCPTRAIL_SEED");
	struct sockwalk *w;
	int err;

	*out = NULL;
	if (force && !strcmp(force, "diag")) {
		snprintf(why_not, sizeof(why_not), "TCPTRAIL_SEED=diag");
		tt_debug("TCPTRAIL_SEED=diag: seeding and counting with sock_diag, one namespace "
			 "at a time");
		return -EOPNOTSUPP;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	{
		LIBBPF_OPTS(bpf_object_open_opts, oo, .kconfig = kconfig__for_libbpf());

		w->skel = iter_bpf__open_opts(&oo);
	}
	if (!w->skel) {
		err = -errno;
		goto fail;
	}
	err = bpf_map__set_max_entries(w->skel->maps.walk_out, WALK_RING);
	if (!err)
		err = iter_bpf__load(w->skel);
	if (err)
		goto fail;
	w->link = bpf_program__attach_iter(w->skel->progs.tt_walk, NULL);
	if (!w->link) {
		err = -errno;
		goto fail;
	}
	w->rb = ring_buffer__new(bpf_map__fd(w->skel->maps.walk_out), on_record, w, NULL);
	if (!w->rb) {
		err = -errno;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	snprintf(why_not, sizeof(why_not), "bpf/iter.bpf.c does not load: %s",
		 strerror(err < 0 ? -err : EINVAL));
	tt_debug("the one-walk socket reader (bpf/iter.bpf.c) does not load here (%s): "
		 "sock_diag dumps each namespace", strerror(err < 0 ? -err : EINVAL));
	sockwalk__free(w);
	return err < 0 ? err : -EINVAL;
}

void sockwalk__free(struct sockwalk *w)
{
	if (!w)
		return;
	ring_buffer__free(w->rb);
	bpf_link__destroy(w->link);
	iter_bpf__destroy(w->skel);
	free(w->seen);
	free(w->own);
	free(w);
}

/* One read of the iterator: the program walks on from where it stopped. */
static int walk_read(struct sockwalk *w)
{
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	/* BPF_ITER_CREATE needs no capability: the census thread has dropped them */
	fd = bpf_iter_create(bpf_link__fd(w->link));
	if (fd < 0) {
		err = -errno;
		tt_err("walk the TCP sockets: create an iterator: %s", strerror(-err));
		return err;
	}
	/* the program writes nothing to the file: reading it runs the walk */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0) {
		err = -errno;
		tt_err("walk the TCP sockets: read the iterator: %s", strerror(-err));
	}
	close(fd);
	return err;
}

int sockwalk__run(struct sockwalk *w, uint32_t states, bool light, sockwalk_cb cb, void *ctx,
		  struct sockwalk_stats *st)
{
	struct iter_bpf__bss *b = w->skel->bss;
	uint64_t t0 = mono_ns();
	uint32_t reads;
	int err = 0;

	memset(st, 0, sizeof(*st));
	/* the records of a walk its callback stopped may still be queued: dropped */
	w->cb = NULL;
	ring_buffer__consume(w->rb);
	w->cb = cb;
	w->ctx = ctx;
	w->cb_err = 0;
	w->records = 0;
	w->own_n = 0;
	w->seen_n = 0;
	if (w->seen)
		memset(w->seen, 0, w->seen_cap * sizeof(*w->seen));
	b->walk_lbucket = b->walk_bucket = 0;
	b->walk_done = b->walk_err = 0;
	b->walk_states = states;
	b->walk_light = light;
	b->walk_sockets = b->walk_lost = b->walk_moved = b->walk_long = 0;
	for (reads = 0; reads < WALK_READS_MAX; reads++) {
		uint32_t lb = b->walk_lbucket, eb = b->walk_bucket;

		err = walk_read(w);
		if (err)
			break;
		if (b->walk_err) {
			snprintf(why_not, sizeof(why_not), "the walk cannot run: %s",
				 b->walk_err == TT_WALK_E_HZ ? "CONFIG_HZ unknown" :
				 b->walk_err == TT_WALK_E_LISTEN ? "listeners not on nulls lists" :
				 "no TCP hash table found");
			tt_debug("the one-walk socket reader cannot run here (%s): sock_diag dumps "
				 "each namespace", b->walk_err == TT_WALK_E_HZ ? "CONFIG_HZ unknown" :
				 b->walk_err == TT_WALK_E_LISTEN ? "listeners not on nulls lists" :
				 "no TCP hash table found");
			err = -EOPNOTSUPP;
			break;
		}
		err = ring_buffer__consume(w->rb);
		if (err < 0 || w->cb_err) {
			err = w->cb_err ? w->cb_err : err;
			break;
		}
		err = 0;
		if (b->walk_done)
			break;
		if (b->walk_lbucket == lb && b->walk_bucket == eb) {
			tt_err("walk the TCP sockets: no progress at bucket %u", eb);
			err = -EIO;
			break;
		}
	}
	if (err && err != -EOPNOTSUPP)
		snprintf(why_not, sizeof(why_not), "the walk failed: %s", strerror(-err));
	st->sockets = w->records;
	st->moved = b->walk_moved;
	st->cut = b->walk_long;
	st->lost = b->walk_lost;
	st->reads = reads + 1;
	st->took_ns = mono_ns() - t0;
	if (!err && (st->lost || st->cut))
		tt_warn("warning: walking the TCP sockets: %llu found no room in the ring buffer, "
			"and %llu hash chains longer than 64 were cut short",
			(unsigned long long)st->lost, (unsigned long long)st->cut);
	return err;
}

const char *sockwalk__method(const struct sockwalk *w)
{
	return w ? "one walk of the TCP hash tables (bpf/iter.bpf.c)" :
		   "sock_diag, one namespace at a time";
}


static int count_one(const struct diag_sock *s, uint32_t netns, void *ctx)
{
	(void)s;
	(void)netns;
	(*(uint64_t *)ctx)++;
	return 0;
}

int sockwalk__probe(char *line, size_t len)
{
	struct sockwalk_stats st;
	struct sockwalk *w;
	uint64_t n = 0;
	int err;

	err = sockwalk__open(&w);
	if (!err) {
		err = sockwalk__run(w, DIAG_STATE(TT_LISTEN), true, count_one, &n, &st);
		sockwalk__free(w);
	}
	if (err) {
		snprintf(line, len, "%s (%s)", sockwalk__method(NULL), why_not);
		return err;
	}
	snprintf(line, len, "%s (%llu listener%s of every namespace in %.1f ms)",
		 sockwalk__method(w), (unsigned long long)n, n == 1 ? "" : "s", st.took_ns / 1e6);
	return 0;
}
