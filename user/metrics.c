// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: the Prometheus exposition, written as a file
 * (sink_metrics.c) or served at /metrics over HTTP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "metrics.h"
#include "opts.h"
#include "util.h"

/*
 * Label values: backslash, double quote and newline are escaped; control
 * characters and bytes that are not UTF-8 (a comm the kernel cut at 15
 * bytes, inside a character) become '?', since one invalid value makes
 * Prometheus and node_exporter reject the whole scrape.
 */
static void label_text(char *out, size_t outlen, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, max), l, k = 0;

	/* each byte takes at most two: outlen >= 2 * max + 1 always fits */
	for (size_t i = 0; i < n && k + 3 < outlen; i++) {
		unsigned char c = u[i];

		if (c == '\\' || c == '"') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			out[k++] = '?';
		} else if (c < 0x80) {
			out[k++] = (char)c;
		} else if (c == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] < 0xa0) {
			/* C1 (U+0080-U+009F: a CSI moves a terminal's cursor), as C0 */
			out[k++] = '?';
			i++;
		} else if ((l = tt_utf8_len(u + i, n - i)) && k + l < outlen) {
			memcpy(out + k, u + i, l);
			k += l;
			i += l - 1;
		} else {
			out[k++] = '?';
		}
	}
	out[k] = '\0';
}

static void label(FILE *f, const char *s, size_t max)
{
	char buf[2 * 80 + 1];

	label_text(buf, sizeof(buf), s, max < 80 ? max : 80);
	fputs(buf, f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* a millisecond (loopback RPC) to an hour (a long-lived pool member) */
const double tt_dur_bounds[TT_DUR_BUCKETS] = { 0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, INFINITY };

void metrics__observe_flow(struct tt_duration_hist *h, const struct tt_flow *f)
{
	double s;
	int b;

	if (!f->nstates || f->role == TT_ROLE_LISTENER ||
	    (f->flags & (TT_FLOW_SEEDED | TT_FLOW_PARTIAL)) ||
	    f->end == TT_END_NONE || f->end == TT_END_EVICTED || f->end == TT_END_SUPERSEDED ||
	    f->end == TT_END_GONE ||
	    f->ts_ns[f->nstates - 1] < f->ts_ns[0])
		return;
	s = (double)(f->ts_ns[f->nstates - 1] - f->ts_ns[0]) / 1e9;
	for (b = 0; b < TT_DUR_BUCKETS - 1 && s > tt_dur_bounds[b]; b++)
		;
	h->bucket[b]++;
	h->count++;
	h->sum_s += s;
}

static void duration_histogram(FILE *f, const struct tt_duration_hist *h)
{
	uint64_t cum = 0;

	head(f, "tcptrail_flow_duration_seconds", "histogram",
	     "How long connections lived, first state to end (those seen from birth to their own end).");
	for (int b = 0; b < TT_DUR_BUCKETS; b++) {
		cum += h->bucket[b];
		if (isinf(tt_dur_bounds[b]))
			fprintf(f, "tcptrail_flow_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
		else
			fprintf(f, "tcptrail_flow_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
				tt_dur_bounds[b], cum);
	}
	fprintf(f, "tcptrail_flow_duration_seconds_sum %.6f\n", h->sum_s);
	fprintf(f, "tcptrail_flow_duration_seconds_count %" PRIu64 "\n", h->count);
}

struct state_count {
	uint64_t n[TT_STATE_MAX];
};

static void count_state(const struct tt_flow *fl, void *ctx)
{
	struct state_count *c = ctx;

	if (fl->nstates && fl->state[fl->nstates - 1] < TT_STATE_MAX)
		c->n[fl->state[fl->nstates - 1]]++;
}

struct overflow_ctx {
	FILE *f;
	int queue;
};

static void listener_overflows(const struct tt_listener_stats *ls, void *ctx)
{
	struct overflow_ctx *c = ctx;
	uint64_t v = c->queue == TT_Q_ACCEPT ? ls->accept_overflows : ls->syn_drops;
	char addr[64];

	if (!v && !(c->queue == TT_Q_SYN && ls->syn_cookies))
		return;
	tt_fmt_addr(ls->family, ls->addr, addr, sizeof(addr));
	fprintf(c->f, "tcptrail_overflows_total{queue=\"%s\",addr=\"%s\",port=\"%u\",netns=\"%u\"} %"
		PRIu64 "\n", c->queue == TT_Q_ACCEPT ? "accept" : "syn", addr, ls->port, ls->netns, v);
}

static void listener_cookies(const struct tt_listener_stats *ls, void *ctx)
{
	FILE *f = ctx;
	char addr[64];

	if (!ls->syn_cookies)
		return;
	tt_fmt_addr(ls->family, ls->addr, addr, sizeof(addr));
	fprintf(f, "tcptrail_syncookies_total{addr=\"%s\",port=\"%u\",netns=\"%u\"} %" PRIu64 "\n",
		addr, ls->port, ls->netns, ls->syn_cookies);
}

/*
 * CLOSE-WAIT leaks by container and service: a container label only where
 * the count of series is bounded, per container and service (never per flow
 * or per pid), at most MAX_LEAK_CONTAINERS of them, the rest summed as
 * container="other".  Sockets of no container are not here: they are in the
 * by-comm series above.
 */
#define MAX_LEAK_CONTAINERS 50

static void container_leaks(FILE *f, const struct tt_metrics_input *in)
{
	struct { const char *c; uint8_t kind, family; uint8_t addr[16]; uint16_t port;
		 uint64_t n; } s[MAX_LEAK_CONTAINERS];
	size_t n = 0;
	uint64_t other = 0;
	char svc[80];

	/* the report lists a container's groups together; services may repeat across pids */
	for (size_t i = 0; i < in->n_cw; i++) {
		const struct tt_cw_group *g = &in->cw[i];
		size_t j;

		if (!g->container)
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(s[j].c, g->container) && s[j].kind == g->kind &&
			    s[j].port == g->port && s[j].family == g->family &&
			    !memcmp(s[j].addr, g->addr, 16))
				break;
		if (j == n) {
			if (n == MAX_LEAK_CONTAINERS) {
				other += g->count;
				continue;
			}
			s[n].c = g->container;
			s[n].kind = g->kind;
			s[n].family = g->family;
			memcpy(s[n].addr, g->addr, 16);
			s[n].port = g->port;
			s[n].n = 0;
			n++;
		}
		s[j].n += g->count;
	}
	if (!n && !other)
		return;
	head(f, "tcptrail_container_close_wait_suspected_leaks", "gauge",
	     "Sockets in CLOSE_WAIT longer than --close-wait-age, by container and service.");
	for (size_t j = 0; j < n; j++) {
		if (s[j].kind == TT_SVC_LOCAL)
			snprintf(svc, sizeof(svc), "local:%u", s[j].port);
		else
			tt_fmt_endpoint(s[j].family, s[j].addr, s[j].port, svc, sizeof(svc));
		fputs("tcptrail_container_close_wait_suspected_leaks{container=\"", f);
		label(f, s[j].c, 64);
		fputs("\",service=\"", f);
		label(f, svc, sizeof(svc));
		fprintf(f, "\"} %" PRIu64 "\n", s[j].n);
	}
	if (other)
		fprintf(f, "tcptrail_container_close_wait_suspected_leaks{container=\"other\","
			"service=\"other\"} %" PRIu64 "\n", other);
}

/*
 * Fixed label cardinality: at most this many comms, the rest summed under
 * LEAK_OTHER.  Both reserved values are 16 characters: no comm (15 bytes at
 * most) prints as either, so every series of a scrape is a different one.
 */
#define MAX_LEAK_COMMS 20
#define LEAK_OTHER	"(other commands)"
#define LEAK_UNKNOWN	"(no owner known)"

/*
 * The leaks by comm as they are labelled: comms that print the same (a
 * control character prints as ?) are one series, never two with one label.
 */
static void comm_leaks(FILE *f, const struct tt_metrics_input *in)
{
	char comms[MAX_LEAK_COMMS][2 * 16 + 1], text[2 * 16 + 1];
	uint64_t counts[MAX_LEAK_COMMS] = {}, other = 0;
	int n_comms = 0;

	for (size_t i = 0; i < in->n_cw; i++) {
		const struct tt_cw_group *g = &in->cw[i];
		int j;

		if (g->comm[0])
			label_text(text, sizeof(text), g->comm, tt_comm_len(g->comm));
		else
			snprintf(text, sizeof(text), "%s", LEAK_UNKNOWN);
		for (j = 0; j < n_comms; j++)
			if (!strcmp(comms[j], text))
				break;
		if (j == n_comms) {
			if (n_comms == MAX_LEAK_COMMS) {
				other += g->count;
				continue;
			}
			memcpy(comms[j], text, sizeof(text));
			n_comms++;
		}
		counts[j] += g->count;
	}
	head(f, "tcptrail_close_wait_suspected_leaks", "gauge",
	     "Sockets in CLOSE_WAIT longer than --close-wait-age, by owning command.");
	for (int j = 0; j < n_comms; j++)
		fprintf(f, "tcptrail_close_wait_suspected_leaks{comm=\"%s\"} %" PRIu64 "\n",
			comms[j], counts[j]);
	if (other)
		fprintf(f, "tcptrail_close_wait_suspected_leaks{comm=\"" LEAK_OTHER "\"} %" PRIu64
			"\n", other);
}

void metrics__render(FILE *f, const struct tt_metrics_input *in)
{
	const struct tt_engine_stats *t = engine__total(in->eng);
	struct state_count sc = {};
	struct overflow_ctx oc = { .f = f };

	head(f, "tcptrail_build_info", "gauge", "Always 1; the version of tcptrail serving these.");
	fputs("tcptrail_build_info{version=\"", f);
	label(f, tt_version, 64);
	fputs("\"} 1\n", f);

	head(f, "tcptrail_transitions_total", "counter",
	     "TCP state transitions seen, by old and new state.");
	for (int o = 0; o < TT_STATE_MAX; o++)
		for (int n = 0; n < TT_STATE_MAX; n++)
			if (t->transitions[o][n])
				fprintf(f, "tcptrail_transitions_total{from=\"%s\",to=\"%s\"} %" PRIu64 "\n",
					tt_state_name(o), tt_state_name(n), t->transitions[o][n]);

	engine__for_each(in->eng, count_state, &sc);
	head(f, "tcptrail_flows", "gauge", "Flows in tcptrail's table now, by their current state "
	     "(with flow records, a connection is there from its first record: CLOSE_WAIT, "
	     "LISTEN or its end).");
	for (int s = 1; s < TT_STATE_MAX; s++)
		if (s != TT_TIME_WAIT && s != TT_NEW_SYN_RECV)
			fprintf(f, "tcptrail_flows{state=\"%s\"} %" PRIu64 "\n", tt_state_name(s), sc.n[s]);

	if (in->tw_population >= 0) {
		head(f, "tcptrail_timewait_sockets", "gauge",
		     "TIME-WAIT sockets now, as the kernel counts them (sock_diag).");
		fprintf(f, "tcptrail_timewait_sockets %" PRId64 "\n", in->tw_population);
	}

	/*
	 * At most TW_TOP destinations: the ones holding the most local ports.
	 * Each namespace has its ports of its own, so host-wide the same
	 * destination may come once per namespace: netns tells them apart.
	 */
	if (in->tw) {
		head(f, "tcptrail_timewait_port_pressure_ratio", "gauge",
		     "Share of a namespace's ephemeral port range held toward a destination "
		     "(TIME-WAIT and open).");
		for (size_t i = 0; i < in->tw->n_pressure; i++) {
			const struct tw_pressure *p = &in->tw->pressure[i];
			char addr[64];

			tt_fmt_addr(p->family, p->addr, addr, sizeof(addr));
			fprintf(f, "tcptrail_timewait_port_pressure_ratio{addr=\"%s\",port=\"%u\","
				"netns=\"%u\"} %.6g\n", addr, p->port, p->netns, p->share_pct / 100.0);
		}
		head(f, "tcptrail_timewait_port_pressure_warn_ratio", "gauge",
		     "The share past which tcptrail warns (--tw-warn), for alert rules.");
		fprintf(f, "tcptrail_timewait_port_pressure_warn_ratio %.4f\n", in->tw_warn_pct / 100.0);
	}

	/* bounded labels: one series per comm, the tail folded into LEAK_OTHER */
	comm_leaks(f, in);
	container_leaks(f, in);

	head(f, "tcptrail_overflows_total", "counter",
	     "Connections a listener dropped: accept queue full, or SYN queue full without cookies.");
	oc.queue = TT_Q_ACCEPT;
	engine__for_each_listener_stats(in->eng, listener_overflows, &oc);
	oc.queue = TT_Q_SYN;
	engine__for_each_listener_stats(in->eng, listener_overflows, &oc);
	head(f, "tcptrail_syncookies_total", "counter",
	     "SYNs answered with a syncookie because the SYN queue was full.");
	engine__for_each_listener_stats(in->eng, listener_cookies, f);

	/* apart: a restart finds every open socket, which rate() of opens must not count */
	head(f, "tcptrail_flows_opened_total", "counter",
	     "Connections opened while tracing: connect(), listen(), a handshake completed.");
	fprintf(f, "tcptrail_flows_opened_total %" PRIu64 "\n", t->flows_opened - t->flows_found);
	head(f, "tcptrail_flows_found_total", "counter",
	     "Sockets found already open: at the start (seeded), or first seen mid-life.");
	fprintf(f, "tcptrail_flows_found_total %" PRIu64 "\n", t->flows_found);
	/* every end, always: the parts sum to the flows closed, with no total beside them */
	head(f, "tcptrail_flows_closed_total", "counter",
	     "Flows that ended, by how; sum() over end is every flow closed.");
	for (int e = TT_END_NONE + 1; e < TT_END_MAX; e++)
		fprintf(f, "tcptrail_flows_closed_total{end=\"%s\"} %" PRIu64 "\n", tt_end_name(e),
			t->ends[e]);
	if (in->duration)
		duration_histogram(f, in->duration);
	head(f, "tcptrail_synack_retransmits_total", "counter", "SYN-ACKs sent again.");
	fprintf(f, "tcptrail_synack_retransmits_total %" PRIu64 "\n", t->synack_retrans);
	head(f, "tcptrail_lost_events_total", "counter",
	     "Events the kernel could not queue: the ring buffer was full.");
	fprintf(f, "tcptrail_lost_events_total %" PRIu64 "\n", in->lost_total);
	head(f, "tcptrail_evicted_total", "counter",
	     "Flows pushed out of the full flow table (see --max-flows).");
	fprintf(f, "tcptrail_evicted_total %" PRIu64 "\n", t->evicted);
	head(f, "tcptrail_invalid_records_total", "counter", "Records rejected as impossible.");
	fprintf(f, "tcptrail_invalid_records_total %" PRIu64 "\n", in->invalid_total);
	head(f, "tcptrail_transitions_inferred_total", "counter",
	     "Transitions no hook saw, inferred from the gap the next one left "
	     "(counted in tcptrail_transitions_total too).");
	fprintf(f, "tcptrail_transitions_inferred_total %" PRIu64 "\n", t->inferred);
}

/* A tt_metrics_render_fn of a tt_metrics_input */
static void render_input(FILE *f, void *ctx)
{
	metrics__render(f, ctx);
}

int metrics__write_file(const char *path, const struct tt_metrics_input *in, int *held)
{
	return metrics__write_file_by(path, render_input, (void *)in, held);
}

int metrics__write_file_by(const char *path, tt_metrics_render_fn render, void *ctx, int *held)
{
	char tmp[4096];
	FILE *f;
	int fd, dfd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* never through a link someone planted; readable by node_exporter */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* whatever the umask (027 on hardened hosts), as the man page says; a new file: ours to lock */
	if (fchmod(fd, 0644) || (held && flock(fd, LOCK_EX | LOCK_NB))) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	dfd = dup(fd);
	f = dfd < 0 ? NULL : fdopen(dfd, "w");
	if (!f) {
		err = -errno;
		if (dfd >= 0)
			close(dfd);
		close(fd);
		unlink(tmp);
		return err;
	}
	render(f, ctx);
	if (fflush(f) || fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		close(fd);
		unlink(tmp);
		return err;
	}
	/* the lock moves to the file now at path: a second run is refused it (outfile__busy) */
	if (held) {
		if (*held >= 0)
			close(*held);
		*held = fd;
	} else {
		close(fd);
	}
	return 0;
}

int metrics__check_file(const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	struct stat st;
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "name too long");
		return -ENAMETOOLONG;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory; give a file name in it");
		return -EISDIR;
	}
	/* what every write does first, so that a wrong place fails now, not at each interval */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(-e));
		return e;
	}
	close(fd);
	unlink(tmp);
	return 0;
}

/* ---- the HTTP endpoint ---- */

#define MAX_CLIENTS	16
#define WAIT_MAX	64
#define REQ_MAX		4096
#define CLIENT_MS	3000

struct client {
	int fd;
	uint64_t deadline_ms;
	size_t got;
	char req[REQ_MAX];
	char *resp;		/* owned copy of the response being sent */
	size_t resp_len, sent;
};

struct tt_metrics_server {
	int lfd;
	char addr[80];
	char *body;
	size_t body_len;
	uint64_t body_ms;	/* when the body was made */
	uint64_t now_ms;	/* as of the last metrics_server__work() */
	tt_metrics_render_fn render;
	void *render_ctx;
	struct client c[MAX_CLIENTS];
	/* accepted, waiting for a slot: oldest first */
	int wait_fd[WAIT_MAX];
	uint64_t wait_ms[WAIT_MAX];	/* when accepted */
	int n_wait;
};

int metrics__parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			  char *why, size_t whylen)
{
	char host[64];
	const char *colon;
	long long port;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof(host)) {
			snprintf(why, whylen, "'%s' is not [IPV6]:PORT (e.g. [::1]:9464)", spec);
			return -EINVAL;
		}
		memcpy(host, spec + 1, end - spec - 1);
		host[end - spec - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
			snprintf(why, whylen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9464 or "
				 "[::1]:9464)", spec);
			return -EINVAL;
		}
		memcpy(host, spec, colon - spec);
		host[colon - spec] = '\0';
		if (!host[0])
			strcpy(host, "127.0.0.1");
		/* "::1:9464": which colon ends the address is anyone's guess */
		if (strchr(host, ':')) {
			snprintf(why, whylen, "'%s': an IPv6 address goes in brackets "
				 "(e.g. [::1]:9464)", spec);
			return -EINVAL;
		}
	}
	if (tt_parse_num(colon + 1, 1, 65535, &port)) {
		snprintf(why, whylen, "'%s': port '%s' is not a port from 1 to 65535", spec,
			 colon + 1);
		return -EINVAL;
	}
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1)
			return 0;
		snprintf(why, whylen, "'%s': '%s' is not an IPv6 address", spec, host);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1)
			return 0;
		/* a name such as localhost: resolving it could pick either family */
		snprintf(why, whylen, "'%s': '%s' is not an IPv4 address (names are not "
			 "resolved; IPv6 goes in brackets)", spec, host);
	}
	return -EINVAL;
}

int metrics_server__new(struct tt_metrics_server **out, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss, bound;
	socklen_t len, blen = sizeof(bound);
	struct tt_metrics_server *m;
	char host[INET6_ADDRSTRLEN];
	int one = 1, e;

	*out = NULL;
	if (metrics__parse_listen(spec, &ss, &len, err, errlen))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		m->c[i].fd = -1;
	m->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0 || setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->lfd, (struct sockaddr *)&ss, len) || listen(m->lfd, SOMAXCONN) ||
	    getsockname(m->lfd, (struct sockaddr *)&bound, &blen)) {
		e = -errno;
		snprintf(err, errlen, "listen on %s: %s", spec, strerror(-e));
		metrics_server__free(m);
		return e;
	}
	if (bound.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, host, sizeof(host));
		snprintf(m->addr, sizeof(m->addr), "[%s]:%u", host,
			 ntohs(((struct sockaddr_in6 *)&bound)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, host, sizeof(host));
		snprintf(m->addr, sizeof(m->addr), "%s:%u", host,
			 ntohs(((struct sockaddr_in *)&bound)->sin_port));
	}
	*out = m;
	return 0;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->resp);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void metrics_server__free(struct tt_metrics_server *m)
{
	if (!m)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		client_close(&m->c[i]);
	for (int i = 0; i < m->n_wait; i++)
		close(m->wait_fd[i]);
	if (m->lfd >= 0)
		close(m->lfd);
	free(m->body);
	free(m);
}

static int set_body(struct tt_metrics_server *m, tt_metrics_render_fn render, void *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	render(f, ctx);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	free(m->body);
	m->body = buf;
	m->body_len = len;
	m->body_ms = m->now_ms;
	return 0;
}

int metrics_server__update(struct tt_metrics_server *m, const struct tt_metrics_input *in)
{
	return set_body(m, render_input, (void *)in);
}

void metrics_server__set_render(struct tt_metrics_server *m, tt_metrics_render_fn render,
				void *ctx)
{
	m->render = render;
	m->render_ctx = ctx;
}

const char *metrics_server__address(const struct tt_metrics_server *m)
{
	return m->addr;
}

int metrics_server__pollfds(struct tt_metrics_server *m, struct pollfd *fds, int max)
{
	int n = 0;

	if (n < max)
		fds[n++] = (struct pollfd){ .fd = m->lfd, .events = POLLIN };
	for (int i = 0; i < MAX_CLIENTS && n < max; i++)
		if (m->c[i].fd >= 0)
			fds[n++] = (struct pollfd){ .fd = m->c[i].fd,
						    .events = m->c[i].resp ? POLLOUT : POLLIN };
	return n;
}

static void respond(struct tt_metrics_server *m, struct client *c, int code, const char *reason,
		    const char *body, size_t body_len)
{
	char hdr[256];
	int h;

	h = snprintf(hdr, sizeof(hdr), "HTTP/1.0 %d %s\r\n%s"
		     "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", code, reason,
		     code == 405 ? "Allow: GET, HEAD\r\n" : "", body_len);
	c->resp = malloc((size_t)h + body_len);
	if (!c->resp) {
		client_close(c);
		return;
	}
	memcpy(c->resp, hdr, (size_t)h);
	memcpy(c->resp + h, body, body_len);
	c->resp_len = (size_t)h + body_len;
	/* HEAD: the headers GET would have, and no body, whatever the status */
	if (!strncmp(c->req, "HEAD ", 5))
		c->resp_len = (size_t)h;
	c->sent = 0;
	(void)m;
}

/* Decide once the request line and headers are in. */
static void handle_request(struct tt_metrics_server *m, struct client *c)
{
	static const char notfound[] = "not found: try /metrics\n";
	static const char bad[] = "bad request\n";
	static const char method[] = "method not allowed: GET or HEAD\n";
	static const char empty[] = "# no summary yet\n";
	static const char version[] = "HTTP version not supported: HTTP/1.0 or HTTP/1.1\n";
	const char *path, *ver, *sp = strchr(c->req, ' ');
	size_t eol = strcspn(c->req, "\r\n");

	/* a method is a token of capitals before the first blank */
	if (!sp || sp == c->req || strspn(c->req, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != (size_t)(sp - c->req)) {
		respond(m, c, 400, "Bad Request", bad, sizeof(bad) - 1);
		return;
	}
	/* METHOD SP TARGET SP HTTP/1.x: no version (HTTP/0.9) is no request of ours */
	ver = memrchr(c->req, ' ', eol);
	if (sp >= c->req + eol || ver == sp || memchr(sp + 1, ' ', (size_t)(ver - sp - 1)) ||
	    strncmp(ver + 1, "HTTP/", 5)) {
		respond(m, c, 400, "Bad Request", bad, sizeof(bad) - 1);
		return;
	}
	if (c->req + eol - (ver + 1) != 8 || strncmp(ver + 1, "HTTP/1.", 7) ||
	    (ver[8] != '0' && ver[8] != '1')) {
		respond(m, c, 505, "HTTP Version Not Supported", version, sizeof(version) - 1);
		return;
	}
	if (strncmp(c->req, "GET ", 4) && strncmp(c->req, "HEAD ", 5)) {
		respond(m, c, 405, "Method Not Allowed", method, sizeof(method) - 1);
		return;
	}
	/* GET and HEAD alike: /metrics (a query ignored), and / */
	path = sp + 1;
	/* the absolute form (RFC 9112 3.2.2), as a proxy would send it: the path after the host */
	if (!strncasecmp(path, "http://", 7)) {
		const char *slash = strpbrk(path + 7, "/ ");

		path = slash && *slash == '/' ? slash : "/ ";
	}
	if (strncmp(path, "/metrics ", 9) && strncmp(path, "/metrics?", 9) && strncmp(path, "/ ", 2)) {
		respond(m, c, 404, "Not Found", notfound, sizeof(notfound) - 1);
		return;
	}
	/* one render a second at most, however many scrapers ask */
	if (m->render && (!m->body || m->now_ms >= m->body_ms + 1000 || m->now_ms < m->body_ms))
		set_body(m, m->render, m->render_ctx);
	if (!m->body)
		respond(m, c, 200, "OK", empty, sizeof(empty) - 1);
	else
		respond(m, c, 200, "OK", m->body, m->body_len);
}

/* Each client's request read, or its answer sent, as far as it goes now. */
static void serve_clients(struct tt_metrics_server *m, uint64_t now_ms)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &m->c[i];
		ssize_t n;

		if (c->fd < 0)
			continue;
		if (now_ms > c->deadline_ms) {
			client_close(c);	/* too slow: the next client gets the slot */
			continue;
		}
		if (!c->resp) {
			n = recv(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				client_close(c);
				continue;
			}
			if (n > 0) {
				c->got += (size_t)n;
				c->req[c->got] = '\0';
			}
			/* a NUL is no HTTP (TLS, say): it would hide the blank line */
			if (memchr(c->req, '\0', c->got))
				respond(m, c, 400, "Bad Request", "bad request\n", 12);
			else if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
				handle_request(m, c);
			else if (c->got >= sizeof(c->req) - 1)
				respond(m, c, 400, "Bad Request", "request too large\n", 18);
		}
		if (c->resp) {
			n = send(c->fd, c->resp + c->sent, c->resp_len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				client_close(c);
				continue;
			}
			if (n > 0)
				c->sent += (size_t)n;
			if (c->sent == c->resp_len)
				client_close(c);
		}
	}
}

/*
 * A slot for a new client: a free one, or else the one that has waited
 * longest, and IDLE_MS at least, without a whole request (a scraper sends
 * its request as it connects); none while all are answering or new.
 */
#define IDLE_MS		250

static struct client *client_slot(struct tt_metrics_server *m, uint64_t now_ms)
{
	struct client *oldest = NULL;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &m->c[i];

		if (c->fd < 0)
			return c;
		if (!c->resp && c->deadline_ms - CLIENT_MS + IDLE_MS <= now_ms &&
		    (!oldest || c->deadline_ms < oldest->deadline_ms))
			oldest = c;
	}
	return oldest;
}

/* The client that has waited longest without a whole request, however briefly; or NULL */
static struct client *client_waiting(struct tt_metrics_server *m)
{
	struct client *oldest = NULL;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &m->c[i];

		if (c->fd >= 0 && !c->resp && (!oldest || c->deadline_ms < oldest->deadline_ms))
			oldest = c;
	}
	return oldest;
}

/* fd's whole request is already in (peeked, left to read): a scraper's, sent as it connected */
static bool request_in(int fd)
{
	char buf[REQ_MAX];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_PEEK | MSG_DONTWAIT);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return (size_t)n == sizeof(buf) - 1 || memchr(buf, '\0', (size_t)n) ||
	       strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n");
}

static void client_start(struct tt_metrics_server *m, struct client *c, int fd, uint64_t now_ms)
{
	client_close(c);
	c->fd = fd;
	c->deadline_ms = now_ms + CLIENT_MS;
	/* answered now, if it can be, before a later one takes its slot */
	serve_clients(m, now_ms);
}

/*
 * The client for fd: a free slot or an idle client's; where there is none
 * and fd's request is in, the slot of the client that has waited longest
 * without one, however briefly.  NULL: fd waits.
 */
static struct client *slot_for(struct tt_metrics_server *m, int fd, uint64_t now_ms)
{
	struct client *c = client_slot(m, now_ms);

	return c || !request_in(fd) ? c : client_waiting(m);
}

/*
 * Every connection queued is accepted, up to ACCEPT_MAX a call, so the
 * kernel's queue never stays full (a SYN it drops is retried seconds
 * later).  Past MAX_CLIENTS, a connection waits here, WAIT_MAX at most
 * (past that the oldest is closed), until a slot is free or idle; one
 * whose request is in goes ahead of the rest, to the slot of a client that
 * has not sent one.  So idle connections, however many, cannot hold up a
 * scrape, and clients that connect before they ask still get their turn.
 */
#define ACCEPT_MAX	256

static void wait_drop(struct tt_metrics_server *m, int i, bool close_it)
{
	if (close_it)
		close(m->wait_fd[i]);
	m->n_wait--;
	memmove(&m->wait_fd[i], &m->wait_fd[i + 1], (size_t)(m->n_wait - i) * sizeof(m->wait_fd[0]));
	memmove(&m->wait_ms[i], &m->wait_ms[i + 1], (size_t)(m->n_wait - i) * sizeof(m->wait_ms[0]));
}

void metrics_server__work(struct tt_metrics_server *m, uint64_t now_ms)
{
	m->now_ms = now_ms;
	/* what the clients have sent first: a request already in is answered, never cut off */
	serve_clients(m, now_ms);
	for (int i = 0; i < ACCEPT_MAX; i++) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		/* a scrape, its request in: a slot now, before the crowd behind it pushes it out */
		if (request_in(fd)) {
			struct client *c = client_slot(m, now_ms) ?: client_waiting(m);

			if (c) {
				client_start(m, c, fd, now_ms);
				continue;
			}
		}
		if (m->n_wait == WAIT_MAX)
			wait_drop(m, 0, true);
		m->wait_fd[m->n_wait] = fd;
		m->wait_ms[m->n_wait++] = now_ms;
	}
	/* the waiting, oldest first: a slot each while there are any */
	for (int i = 0; i < m->n_wait;) {
		struct client *c;

		if (now_ms > m->wait_ms[i] + CLIENT_MS) {
			wait_drop(m, i, true);
			continue;
		}
		c = slot_for(m, m->wait_fd[i], now_ms);
		if (!c) {
			i++;
			continue;
		}
		client_start(m, c, m->wait_fd[i], now_ms);
		wait_drop(m, i, false);
	}
	serve_clients(m, now_ms);
}

