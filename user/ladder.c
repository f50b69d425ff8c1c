// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: --ladder's diagrams (sink_ladder.c is the sink), drawn
 * from finished flows.  Nothing here sees a packet: each state change
 * implies the segments that caused it and the segments it sends (RFC
 * 9293's state diagram), and when both ends are traced each implied
 * segment is drawn once, at the end whose record shows it first.
 */
#include <stdlib.h>
#include <string.h>
#include "ident.h"
#include "ladder.h"
#include "util.h"

#define NBUCKETS	4096
#define ARROW_W		32	/* between the two timelines */

enum seg { SEG_NONE, SEG_SYN, SEG_SYNACK, SEG_ACK, SEG_FIN, SEG_RST, SEG_MAX };

static const char *const seg_name[SEG_MAX] = {
	[SEG_SYN] = "SYN", [SEG_SYNACK] = "SYN+ACK", [SEG_ACK] = "ACK",
	[SEG_FIN] = "FIN", [SEG_RST] = "RST",
};

struct pending {
	struct tt_flow f;
	uint8_t local[16], remote[16];	/* as IPv6 (IPv4-mapped) */
	uint64_t deadline;
	struct pending *hnext;
	struct pending *prev, *next;	/* oldest first */
};

struct tt_ladder {
	struct tt_ladder_opts o;
	struct pending *buckets[NBUCKETS];
	struct pending *head, *tail;
	size_t n;
	bool legend_done;
};

/* What one state change implies. */
struct implied {
	uint8_t recv[2], send[2];	/* enum seg, SEG_NONE-terminated */
	const char *note;
	char buf[16 + TT_ERRNO_NAME_MAX];	/* a note made for this flow */
};

/* ------------------------------------------------------------ pairing */

static void normalize(uint8_t family, const uint8_t in[16], uint8_t out[16])
{
	if (family == TT_AF_INET) {
		/* a dual-stack server sees an IPv4 client as ::ffff:a.b.c.d */
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, in, 4);
	} else {
		memcpy(out, in, 16);
	}
}

static bool is_loopback(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t one[16] = { [15] = 1 };

	return (!memcmp(a, mapped, 12) && a[12] == 127) || !memcmp(a, one, 16);
}

static bool is_zero(const uint8_t a[16])
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

static size_t bucket(const uint8_t l[16], uint16_t lport, const uint8_t r[16], uint16_t rport)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 16; i++)
		h = (h ^ l[i]) * 1099511628211ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ r[i]) * 1099511628211ull;
	h = (h ^ lport) * 1099511628211ull;
	h = (h ^ rport) * 1099511628211ull;
	return (size_t)(h % NBUCKETS);
}

static uint64_t first_ns(const struct tt_flow *f)
{
	return f->ts_ns[0];
}

static uint64_t last_ns(const struct tt_flow *f)
{
	return f->ts_ns[f->nstates ? f->nstates - 1 : 0];
}

static bool is_listener(const struct tt_flow *f)
{
	return f->role == TT_ROLE_LISTENER || (f->nstates && f->state[0] == TT_LISTEN);
}

static bool pairable(const struct tt_flow *f)
{
	return f->sport && f->dport && !is_zero(f->daddr) && f->end != TT_END_REFUSED;
}

/*
 * g's peer among the waiting flows: the reversed 4-tuple, lives that
 * overlap, not two servers, and the same namespace, or another one when the
 * addresses are not loopback (two namespaces joined by a veth pair).
 */
static struct pending *find_peer(struct tt_ladder *l, const struct tt_flow *g,
				 const uint8_t gl[16], const uint8_t gr[16])
{
	struct pending *other_ns = NULL;

	for (struct pending *p = l->buckets[bucket(gr, g->dport, gl, g->sport)]; p; p = p->hnext) {
		const struct tt_flow *f = &p->f;

		if (f->sport != g->dport || f->dport != g->sport || memcmp(p->local, gr, 16) ||
		    memcmp(p->remote, gl, 16))
			continue;
		if (f->role == TT_ROLE_PASSIVE && g->role == TT_ROLE_PASSIVE)
			continue;
		if (first_ns(f) > last_ns(g) || first_ns(g) > last_ns(f))
			continue;
		if (f->netns == g->netns)
			return p;
		if (!other_ns && !is_loopback(gl))
			other_ns = p;
	}
	return other_ns;
}

static void unlink_pending(struct tt_ladder *l, struct pending *p)
{
	struct pending **pp = &l->buckets[bucket(p->local, p->f.sport, p->remote, p->f.dport)];

	while (*pp && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = p->hnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		l->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		l->tail = p->prev;
	l->n--;
}

/* ------------------------------------------------------------ inference */

static void add(uint8_t list[2], enum seg s)
{
	if (!list[0])
		list[0] = s;
	else if (!list[1])
		list[1] = s;
}

/* tcp_need_reset(): the states in which an abort sends a RST */
static bool abort_sends_rst(unsigned int old)
{
	return old == TT_ESTABLISHED || old == TT_CLOSE_WAIT || old == TT_FIN_WAIT1 ||
	       old == TT_FIN_WAIT2 || old == TT_SYN_RECV;
}

static void implied_close(const struct tt_flow *f, unsigned int old, struct implied *m)
{
	switch (f->end) {
	case TT_END_RESET:
		add(m->recv, SEG_RST);
		m->note = "reset by the peer";
		return;
	case TT_END_REFUSED:
		add(m->recv, SEG_RST);
		m->note = "refused";
		return;
	case TT_END_TIMEOUT:
		m->note = "timed out";
		return;
	case TT_END_ERROR:
		/* which error, as the timeline says it: "socket error EHOSTUNREACH" */
		m->note = "socket error";
		if (f->sk_err) {
			char name[TT_ERRNO_NAME_MAX];

			snprintf(m->buf, sizeof(m->buf), "socket error %s",
				 tt_errno_name(f->sk_err, name));
			m->note = m->buf;
		}
		return;
	case TT_END_ABORT:
		if (abort_sends_rst(old))
			add(m->send, SEG_RST);
		m->note = "aborted";
		return;
	case TT_END_CANCELLED:
		/* close() in SYN_SENT sends nothing */
		m->note = "cancelled by its owner";
		return;
	case TT_END_NO_PORT:
		m->note = "no local port free: nothing sent";
		return;
	}
	/*
	 * An orderly X > CLOSE.  Without a TIME-WAIT record the hand-off to a
	 * timewait sock (tcp_time_wait() then tcp_done()) shows as X > CLOSE.
	 */
	switch (old) {
	case TT_FIN_WAIT1:
		add(m->recv, SEG_ACK);
		add(m->recv, SEG_FIN);
		add(m->send, SEG_ACK);
		m->note = "on to TIME_WAIT";
		break;
	case TT_FIN_WAIT2:
		add(m->recv, SEG_FIN);
		add(m->send, SEG_ACK);
		m->note = "on to TIME_WAIT";
		break;
	case TT_CLOSING:
		add(m->recv, SEG_ACK);
		m->note = "on to TIME_WAIT";
		break;
	case TT_LAST_ACK:
		add(m->recv, SEG_ACK);
		break;
	}
}

static void implied(const struct tt_flow *f, int i, struct implied *m)
{
	unsigned int old, new;

	memset(m, 0, sizeof(*m));
	if (i == 0) {
		if (f->flags & TT_FLOW_PARTIAL) {
			m->note = f->flags & TT_FLOW_SEEDED ? "open when tracing started" :
				  "first seen here";
		} else if (f->state[0] == TT_SYN_SENT) {
			add(m->send, SEG_SYN);
		} else if (f->state[0] == TT_SYN_RECV) {
			add(m->recv, SEG_SYN);
			add(m->send, SEG_SYNACK);
		}
		return;
	}
	if ((f->flags & TT_FLOW_TRUNCATED) && i == f->nstates - 1) {
		m->note = "states before this one were not kept";
		return;
	}
	old = f->state[i - 1];
	new = f->state[i];
	if (new == TT_CLOSE) {
		implied_close(f, old, m);
		return;
	}
	if (new == TT_TIME_WAIT && f->tw_substate == TT_FIN_WAIT2) {
		/* an orphan handed to a timewait sock before the peer's FIN came */
		if (old == TT_FIN_WAIT1)
			add(m->recv, SEG_ACK);
		m->note = "orphan: FIN_WAIT2 kept by a timewait sock";
		return;
	}
	switch (old << 8 | new) {
	case TT_SYN_SENT << 8 | TT_ESTABLISHED:
		add(m->recv, SEG_SYNACK);
		add(m->send, SEG_ACK);
		break;
	case TT_SYN_SENT << 8 | TT_SYN_RECV:	/* simultaneous open */
		add(m->recv, SEG_SYN);
		add(m->send, SEG_SYNACK);
		break;
	case TT_SYN_RECV << 8 | TT_ESTABLISHED:
		add(m->recv, SEG_ACK);
		break;
	case TT_ESTABLISHED << 8 | TT_FIN_WAIT1:
	case TT_SYN_RECV << 8 | TT_FIN_WAIT1:
	case TT_CLOSE_WAIT << 8 | TT_LAST_ACK:
		add(m->send, SEG_FIN);
		break;
	case TT_FIN_WAIT1 << 8 | TT_FIN_WAIT2:
	case TT_CLOSING << 8 | TT_TIME_WAIT:
		add(m->recv, SEG_ACK);
		break;
	case TT_FIN_WAIT1 << 8 | TT_CLOSING:	/* simultaneous close: FINs crossed */
	case TT_FIN_WAIT2 << 8 | TT_TIME_WAIT:
	case TT_ESTABLISHED << 8 | TT_CLOSE_WAIT:
	case TT_SYN_RECV << 8 | TT_CLOSE_WAIT:
		add(m->recv, SEG_FIN);
		add(m->send, SEG_ACK);
		break;
	case TT_FIN_WAIT1 << 8 | TT_TIME_WAIT:	/* the ACK of our FIN came with theirs */
		add(m->recv, SEG_ACK);
		add(m->recv, SEG_FIN);
		add(m->send, SEG_ACK);
		break;
	}
}

/* ------------------------------------------------------------ drawing */

struct row {
	uint64_t ts;
	int side;		/* 0 left (client), 1 right (server) */
	const struct tt_flow *f;
	int i;			/* index into f->state */
};

struct draw {
	struct tt_ladder *l;
	const struct tt_flow *side[2];	/* NULL: not traced here */
	uint64_t t0;
	/* implied segments drawn by one end and not yet matched at the other */
	int sent[2][SEG_MAX];		/* drawn at the sender, [sender][seg] */
	int early[2][SEG_MAX];		/* drawn at the receiver first, [sender][seg] */
	bool no_roles;			/* neither end's role is known */
};

static void fmt_offset(uint64_t ns, char *buf, size_t len)
{
	if (ns < 10000000000ull)
		snprintf(buf, len, "+%.3fms", ns / 1e6);
	else
		snprintf(buf, len, "+%.3fs", ns / 1e9);
}

static void arrow(char *buf, int from, const char *label)
{
	int n = (int)strlen(label) + 2, dashes = ARROW_W - n - 1, a, b, p = 0;

	if (dashes < 2)
		dashes = 2;
	a = dashes / 2;
	b = dashes - a;
	if (from == 1)
		buf[p++] = '<';
	for (int k = 0; k < a; k++)
		buf[p++] = '-';
	p += sprintf(buf + p, " %s ", label);
	for (int k = 0; k < b; k++)
		buf[p++] = '-';
	if (from == 0)
		buf[p++] = '>';
	buf[p] = '\0';
}

static void emit(struct draw *d, const char *time, int side, const char *state, const char *mid,
		 const char *note)
{
	char line[256];
	char ledge = d->side[0] ? '|' : ':', redge = d->side[1] ? '|' : ':';
	int n;

	n = snprintf(line, sizeof(line), "%11s  %-12s %c%-*s%c %-12s", time ? time : "",
		     side == 0 && state ? state : "", ledge, ARROW_W, mid ? mid : "", redge,
		     side == 1 && state ? state : "");
	if (note && n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "  (%s)", note);
	/* no trailing blanks */
	n = (int)strlen(line);
	while (n > 0 && line[n - 1] == ' ')
		line[--n] = '\0';
	fprintf(d->l->o.out, "%s\n", line);
}

/* Every arrow of one row: the first on the row's own line, the rest below. */
struct rowout {
	struct draw *d;
	bool first;
	char time[32];
	int side;
	const char *state;
	const char *note;
};

static void out_arrow(struct rowout *ro, int from, const char *label)
{
	char mid[ARROW_W + 8];

	if (label)
		arrow(mid, from, label);
	else
		mid[0] = '\0';
	if (ro->first)
		emit(ro->d, ro->time, ro->side, ro->state, mid, ro->note);
	else
		emit(ro->d, NULL, ro->side, NULL, mid, NULL);
	ro->first = false;
}

static void out_segment(struct rowout *ro, int from, enum seg s)
{
	const struct tt_flow *sender = ro->d->side[from];
	unsigned int rtx;

	out_arrow(ro, from, seg_name[s]);
	/* the kernel counts SYN-ACK retransmits, it does not time them */
	if (s != SEG_SYNACK || !sender || !sender->synack_retrans)
		return;
	rtx = sender->synack_retrans;
	if (rtx <= 3) {
		for (unsigned int k = 0; k < rtx; k++)
			out_arrow(ro, from, "SYN+ACK (retransmitted)");
	} else {
		char label[40];

		snprintf(label, sizeof(label), "SYN+ACK (retransmitted x%u)", rtx);
		out_arrow(ro, from, label);
	}
}

static void draw_row(struct draw *d, const struct row *r)
{
	struct rowout ro = { .d = d, .first = true, .side = r->side };
	int me = r->side, peer = 1 - r->side;
	bool pair = d->side[peer] != NULL;
	struct implied m;

	implied(r->f, r->i, &m);
	fmt_offset(r->ts - d->t0, ro.time, sizeof(ro.time));
	ro.state = tt_state_name(r->f->state[r->i]);
	ro.note = m.note;
	for (int k = 0; k < 2 && m.recv[k]; k++) {
		enum seg s = m.recv[k];

		if (pair && d->sent[peer][s] > 0) {
			d->sent[peer][s]--;	/* the peer's row drew it */
			continue;
		}
		if (pair)
			d->early[peer][s]++;
		out_segment(&ro, peer, s);
	}
	for (int k = 0; k < 2 && m.send[k]; k++) {
		enum seg s = m.send[k];

		if (pair && d->early[me][s] > 0) {
			d->early[me][s]--;	/* drawn when the peer received it */
			continue;
		}
		if (pair)
			d->sent[me][s]++;
		out_segment(&ro, me, s);
	}
	if (ro.first)
		out_arrow(&ro, me, NULL);
}

static void who(const struct tt_ladder *l, const struct tt_flow *f, char *buf, size_t len)
{
	const struct tt_cgname *n = l->o.ident && (f->cgroup || f->owner_pid) ?
				    ident__lookup(l->o.ident, f->cgroup, f->owner_pid) : NULL;
	char c[17], ctr[32] = "";

	/* as the flow lines name it: the short id */
	if (n && n->container[0])
		snprintf(ctr, sizeof(ctr), "  container %.12s", n->container);
	if (!f->owner_pid && !f->owner_comm[0]) {
		snprintf(buf, len, "%s", ctr);
		return;
	}
	/* a comm may hold anything; keep the line one line */
	memcpy(c, f->owner_comm, 16);
	c[tt_comm_len(c)] = '\0';
	tt_printable(c, 16);
	snprintf(buf, len, "  %s (pid %u)%s", c[0] ? c : "-", f->owner_pid, ctr);
}

/* Sockets seen only mid-life (seeded), and no peer that knows: no roles then. */
static const char *role_label(const struct draw *d, int side)
{
	if (d->no_roles)
		return side == 0 ? "one end" : "other end";
	return side == 0 ? "client" : "server";
}

static void legend(struct tt_ladder *l)
{
	if (l->legend_done)
		return;
	l->legend_done = true;
	fputs("ladder legend: arrows are segments inferred from state changes, not packets seen\n"
	      "  on the wire.  '|' is a socket traced on this host, ':' a peer that was not.  A\n"
	      "  server socket appears (SYN_RECV) only when the handshake's last ACK arrives: the\n"
	      "  listener answered the SYN before.  Retransmitted SYN+ACKs are counted, not timed.\n"
	      "\n", l->o.out);
}

/* The end whose timeline is missing: why. */
static const char *absent_peer(const struct tt_ladder *l, const struct tt_flow *f)
{
	static char why[128];

	uint8_t r[16];

	if (f->end == TT_END_REFUSED)
		return "no socket: the connection was refused";
	if (!f->dport || is_zero(f->daddr))
		return "unknown";
	/* connect() to its own address and port: a simultaneous open with itself */
	if (f->sport == f->dport && !memcmp(f->saddr, f->daddr, 16))
		return "the same socket: it is connected to itself";
	normalize(f->family, f->daddr, r);
	/*
	 * A port filter leaves out the peer's end of a loopback connection (its
	 * ports are the other way round), and an address filter does where the
	 * two addresses differ; -p, --cgroup and --container may keep it (a
	 * container's own loopback).  Where it may have kept it, that is said.
	 */
	if (is_loopback(r) && l->o.one_end_filter && !strcmp(l->o.one_end_filter, "--state")) {
		/* the two ends of one connection go through different states */
		return "on this host, maybe left out by --state (its end did not go through it), "
		       "or its end was not seen in time";
	}
	if (is_loopback(r) && l->o.one_end_filter) {
		const char *filt = l->o.one_end_filter;
		bool addr = !strcmp(filt, "--local") || !strcmp(filt, "--remote");
		bool sure = !strcmp(filt, "-L") || !strcmp(filt, "-D") ||
			    (addr && memcmp(f->saddr, f->daddr, 16));

		snprintf(why, sizeof(why), "on this host, %sleft out by %s (-P keeps both ends)%s",
			 sure ? "" : "maybe ", filt, sure ? "" : ", or its end was not seen in time");
		return why;
	}
	if (is_loopback(r))
		return "on this host, but its end was not seen in time";
	return "remote, or not traced on this host";
}

static void draw(struct tt_ladder *l, const struct tt_flow *a, const struct tt_flow *b)
{
	struct draw d = { .l = l };
	struct row rows[2 * TT_FLOW_MAX_STATES];
	int nrows = 0;
	char clock[32], ep[64], w[96], dur[32];
	const struct tt_flow *one;

	if (b) {
		/* the client (active opener) goes left */
		bool swap = a->role == TT_ROLE_PASSIVE || (b->role == TT_ROLE_ACTIVE &&
							   a->role != TT_ROLE_ACTIVE) ||
			    (a->role == b->role && first_ns(b) < first_ns(a));
		d.side[0] = swap ? b : a;
		d.side[1] = swap ? a : b;
	} else {
		d.side[a->role == TT_ROLE_PASSIVE ? 1 : 0] = a;
	}
	d.no_roles = (!d.side[0] || d.side[0]->role == TT_ROLE_UNKNOWN) &&
		     (!d.side[1] || d.side[1]->role == TT_ROLE_UNKNOWN);
	d.t0 = UINT64_MAX;
	for (int s = 0; s < 2; s++) {
		const struct tt_flow *f = d.side[s];

		if (!f)
			continue;
		if (first_ns(f) < d.t0)
			d.t0 = first_ns(f);
		for (int i = 0; i < f->nstates && i < TT_FLOW_MAX_STATES; i++) {
			struct row r = { .ts = f->ts_ns[i], .side = s, .f = f, .i = i };
			int j = nrows++;

			/* insertion sort, stable: equal times keep client first */
			while (j > 0 && rows[j - 1].ts > r.ts) {
				rows[j] = rows[j - 1];
				j--;
			}
			rows[j] = r;
		}
	}
	one = d.side[0] ? d.side[0] : d.side[1];

	legend(l);
	/* unsigned: wraps rather than overflows, whatever a capture holds */
	tt_fmt_clock((int64_t)(d.t0 + (uint64_t)l->o.wall_offset_ns), clock, sizeof(clock));
	if (b && d.side[0]->netns != d.side[1]->netns)
		fprintf(l->o.out, "ladder at %s, netns %u and %u\n", clock, d.side[0]->netns,
			d.side[1]->netns);
	else
		fprintf(l->o.out, "ladder at %s, netns %u\n", clock, one->netns);
	for (int s = 0; s < 2; s++) {
		const struct tt_flow *f = d.side[s];

		if (f) {
			tt_fmt_endpoint(f->family, f->saddr, f->sport, ep, sizeof(ep));
			who(l, f, w, sizeof(w));
			fprintf(l->o.out, "  %s %s%s\n", role_label(&d, s), ep, w);
		} else {
			tt_fmt_endpoint(one->family, one->daddr, one->dport, ep, sizeof(ep));
			fprintf(l->o.out, "  %s %s  (%s)\n", role_label(&d, s), ep, absent_peer(l, one));
		}
	}
	fprintf(l->o.out, "%11s  %-12s %*s%s\n", "", role_label(&d, 0), ARROW_W + 3, "",
		role_label(&d, 1));

	for (int k = 0; k < nrows; k++)
		draw_row(&d, &rows[k]);

	fputs("  end:", l->o.out);
	for (int s = 0; s < 2; s++) {
		const struct tt_flow *f = d.side[s];

		if (!f)
			continue;
		tt_fmt_duration(last_ns(f) - first_ns(f), dur, sizeof(dur));
		/* a socket first seen mid-life lived longer than we saw */
		fprintf(l->o.out, "%s %s %s after %s%s", f == one ? "" : ",", role_label(&d, s),
			tt_end_name(f->end), f->flags & TT_FLOW_PARTIAL ? "at least " : "", dur);
		if (f->flags & TT_FLOW_TRUNCATED)
			fputs(" [truncated]", l->o.out);
	}
	fputs("\n\n", l->o.out);
}

/* ------------------------------------------------------------ interface */

struct tt_ladder *ladder__new(const struct tt_ladder_opts *opts)
{
	struct tt_ladder *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->o = *opts;
	if (!l->o.out)
		l->o.out = stdout;
	if (!l->o.wait_ns)
		l->o.wait_ns = TT_LADDER_WAIT_NS;
	if (!l->o.max_pending)
		l->o.max_pending = 65536;
	return l;
}

void ladder__free(struct tt_ladder *l)
{
	if (!l)
		return;
	while (l->head) {
		struct pending *p = l->head;

		unlink_pending(l, p);
		free(p);
	}
	free(l);
}

static void draw_oldest_alone(struct tt_ladder *l)
{
	struct pending *p = l->head;

	unlink_pending(l, p);
	draw(l, &p->f, NULL);
	free(p);
}

void ladder__set_clock(struct tt_ladder *l, int64_t wall_offset_ns)
{
	l->o.wall_offset_ns = wall_offset_ns;
}

void ladder__tick(struct tt_ladder *l, uint64_t now_ns)
{
	while (l->head && l->head->deadline <= now_ns)
		draw_oldest_alone(l);
}

void ladder__flush(struct tt_ladder *l)
{
	while (l->head)
		draw_oldest_alone(l);
}

bool ladder__flow(struct tt_ladder *l, const struct tt_flow *f)
{
	uint8_t local[16], remote[16];
	struct pending *p;
	size_t b;

	if (!f->nstates || is_listener(f))
		return false;
	ladder__tick(l, last_ns(f));
	if (!pairable(f)) {
		draw(l, f, NULL);
		return true;
	}
	normalize(f->family, f->saddr, local);
	normalize(f->family, f->daddr, remote);
	p = find_peer(l, f, local, remote);
	if (p) {
		unlink_pending(l, p);
		draw(l, &p->f, f);
		free(p);
		return true;
	}
	if (l->n >= l->o.max_pending)
		draw_oldest_alone(l);
	p = calloc(1, sizeof(*p));
	if (!p) {
		draw(l, f, NULL);
		return true;
	}
	p->f = *f;
	memcpy(p->local, local, 16);
	memcpy(p->remote, remote, 16);
	p->deadline = last_ns(f) + l->o.wait_ns;
	b = bucket(local, f->sport, remote, f->dport);
	p->hnext = l->buckets[b];
	l->buckets[b] = p;
	p->prev = l->tail;
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	l->n++;
	return true;
}
