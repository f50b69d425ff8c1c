// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sock_diag parsing on hand-built netlink buffers (every length checked,
 * lies included), a live dump of a socket of our own, owner resolution
 * through /proc and the seed records built from a dump.  The live parts
 * need no root: sock_diag answers anyone about TCP sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "diag.h"
#include "engine.h"
#include "procfd.h"
#include "seed.h"
#include "sockkit.h"
#include "tt_test.h"

#define MAX_GOT 16

struct got {
	struct diag_sock s[MAX_GOT];
	int n;
	int stop_after;		/* return -ECANCELED after this many; 0 = never */
};

static int collect(const struct diag_sock *s, void *ctx)
{
	struct got *g = ctx;

	if (g->n < MAX_GOT)
		g->s[g->n] = *s;
	g->n++;
	if (g->stop_after && g->n >= g->stop_after)
		return -ECANCELED;
	return 0;
}

/* A netlink buffer as recvmsg() fills it: aligned, messages back to back. */
struct nlbuf {
	uint32_t w[4096];
	size_t len;
};

static char *tail(struct nlbuf *b)
{
	return (char *)b->w + b->len;
}

/*
 * Message building, as a sender lays it out: a header, fixed payloads and
 * attributes each padded to 4 bytes, nlmsg_len counting it all.  Tests reuse
 * a buffer, so whatever is put is zeroed first, padding included.
 */
static void *put_extra(struct nlmsghdr *nlh, size_t len)
{
	char *p = (char *)nlh + nlh->nlmsg_len;

	memset(p, 0, NLMSG_ALIGN(len));
	nlh->nlmsg_len += NLMSG_ALIGN(len);
	return p;
}

static void put_attr(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data)
{
	struct nlattr *a = (struct nlattr *)((char *)nlh + nlh->nlmsg_len);

	memset(a, 0, NLA_HDRLEN + NLA_ALIGN(len));
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nlh->nlmsg_len += NLA_ALIGN(a->nla_len);
}

static void *payload(struct nlmsghdr *nlh)
{
	return (char *)nlh + NLMSG_HDRLEN;
}

static struct nlmsghdr *put_hdr(struct nlbuf *b, uint16_t type)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)tail(b);

	memset(nlh, 0, NLMSG_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = 1;
	return nlh;
}

static void done(struct nlbuf *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

struct sock_spec {
	int family;
	uint8_t state;
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t inode;
	uint64_t cookie;
	int info_len;		/* bytes of tcp_info to attach; 0 none, -1 all */
	uint32_t ldr, lar;
};

static struct nlmsghdr *put_sock(struct nlbuf *b, const struct sock_spec *sp)
{
	struct nlmsghdr *nlh = put_hdr(b, SOCK_DIAG_BY_FAMILY);
	struct inet_diag_msg *m = put_extra(nlh, sizeof(*m));
	struct tcp_info ti;

	m->idiag_family = sp->family;
	m->idiag_state = sp->state;
	m->idiag_timer = 2;
	m->idiag_retrans = 1;
	m->id.idiag_sport = htons(sp->sport);
	m->id.idiag_dport = htons(sp->dport);
	inet_pton(sp->family, sp->src, m->id.idiag_src);
	inet_pton(sp->family, sp->dst, m->id.idiag_dst);
	m->id.idiag_if = 3;
	m->id.idiag_cookie[0] = (uint32_t)sp->cookie;
	m->id.idiag_cookie[1] = (uint32_t)(sp->cookie >> 32);
	m->idiag_expires = 7000;
	m->idiag_rqueue = 11;
	m->idiag_wqueue = 22;
	m->idiag_uid = 1000;
	m->idiag_inode = sp->inode;
	/* an attribute we do not read, before the one we do */
	put_attr(nlh, INET_DIAG_SHUTDOWN, 1, &(uint8_t){ 1 });
	if (sp->info_len) {
		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = sp->state;
		ti.tcpi_last_data_recv = sp->ldr;
		ti.tcpi_last_ack_recv = sp->lar;
		put_attr(nlh, INET_DIAG_INFO, sp->info_len < 0 ? sizeof(ti) : (size_t)sp->info_len,
			 &ti);
	}
	done(b, nlh);
	return nlh;
}

static void put_done(struct nlbuf *b, int status)
{
	struct nlmsghdr *nlh = put_hdr(b, NLMSG_DONE);

	*(int *)put_extra(nlh, sizeof(int)) = status;
	done(b, nlh);
}

static void put_error(struct nlbuf *b, int error)
{
	struct nlmsghdr *nlh = put_hdr(b, NLMSG_ERROR);
	struct nlmsgerr *e = put_extra(nlh, sizeof(*e));

	e->error = error;
	done(b, nlh);
}

static const struct sock_spec v4_est = {
	.family = AF_INET, .state = TT_CLOSE_WAIT, .src = "10.0.0.1", .dst = "10.0.0.2",
	.sport = 8080, .dport = 50123, .inode = 4242, .cookie = 0x123456789abcull,
	.info_len = -1, .ldr = 3100, .lar = 1000,
};
static const struct sock_spec v6_listen = {
	.family = AF_INET6, .state = TT_LISTEN, .src = "2001:db8::1", .dst = "::",
	.sport = 443, .inode = 4243, .cookie = 7,
};

static struct nlbuf *mkbuf(void)
{
	return calloc(1, sizeof(struct nlbuf));
}

TEST(diag_parse_dump)
{
	struct nlbuf *b = mkbuf();
	struct got g = { 0 };
	const struct diag_sock *s;
	uint8_t want[16] = { 0 };

	REQUIRE(b);
	put_sock(b, &v4_est);
	put_sock(b, &v6_listen);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), 0);	/* more to come */
	CHECK_EQ_INT(g.n, 2);
	put_done(b, 0);
	g.n = 0;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), 1);
	REQUIRE(g.n == 2);

	s = &g.s[0];
	CHECK_EQ_INT(s->family, TT_AF_INET);
	CHECK_EQ_INT(s->state, TT_CLOSE_WAIT);
	CHECK_EQ_INT(s->sport, 8080);
	CHECK_EQ_INT(s->dport, 50123);
	want[0] = 10, want[3] = 1;
	CHECK(!memcmp(s->saddr, want, 16));
	want[3] = 2;
	CHECK(!memcmp(s->daddr, want, 16));
	CHECK_EQ_INT(s->inode, 4242);
	CHECK_EQ_INT(s->uid, 1000);
	CHECK(s->cookie == 0x123456789abcull);
	CHECK_EQ_INT(s->rqueue, 11);
	CHECK_EQ_INT(s->wqueue, 22);
	CHECK_EQ_INT(s->timer, 2);
	CHECK_EQ_INT(s->retrans, 1);
	CHECK_EQ_INT(s->expires_ms, 7000);
	CHECK_EQ_INT(s->ifindex, 3);
	CHECK(s->has_info);
	CHECK_EQ_INT(s->tcpi_state, TT_CLOSE_WAIT);
	CHECK_EQ_INT(s->last_data_recv_ms, 3100);
	CHECK_EQ_INT(s->last_ack_recv_ms, 1000);

	s = &g.s[1];
	CHECK_EQ_INT(s->family, TT_AF_INET6);
	CHECK_EQ_INT(s->state, TT_LISTEN);
	CHECK_EQ_INT(s->sport, 443);
	CHECK_EQ_INT(s->dport, 0);
	CHECK_EQ_INT(s->saddr[0], 0x20);
	CHECK_EQ_INT(s->saddr[1], 0x01);
	CHECK_EQ_INT(s->saddr[15], 1);
	CHECK_EQ_INT(s->cookie, 7);
	CHECK(!s->has_info);
	CHECK_EQ_INT(s->last_data_recv_ms, 0);

	/* nothing at all is a buffer with more to come */
	CHECK_EQ_INT(diag__parse(b->w, 0, collect, &g), 0);
	CHECK_EQ_INT(diag__parse(NULL, 0, collect, &g), 0);
	CHECK_EQ_INT(diag__parse(NULL, 16, collect, &g), -EINVAL);
	free(b);
}

TEST(diag_parse_done_and_errors)
{
	struct nlbuf *b = mkbuf();
	struct got g = { 0 };
	struct nlmsghdr *nlh;

	REQUIRE(b);
	/* the dump failed on the kernel side: NLMSG_DONE carries the error */
	put_sock(b, &v4_est);
	put_done(b, -EINTR);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINTR);
	CHECK_EQ_INT(g.n, 1);

	/* a bare NLMSG_DONE (no status) ends the dump; what follows is not read */
	b->len = 0;
	g.n = 0;
	nlh = put_hdr(b, NLMSG_DONE);
	done(b, nlh);
	put_sock(b, &v4_est);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), 1);
	CHECK_EQ_INT(g.n, 0);

	b->len = 0;
	put_error(b, -ENOENT);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -ENOENT);
	b->len = 0;
	put_error(b, 0);	/* an ACK */
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), 1);
	b->len = 0;
	put_error(b, 5);	/* errors are negative */
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EPROTO);
	b->len = 0;
	put_error(b, -100000);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EPROTO);
	b->len = 0;
	put_done(b, 1 << 30);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EPROTO);

	/* an NLMSG_ERROR too short for its struct nlmsgerr */
	b->len = 0;
	nlh = put_hdr(b, NLMSG_ERROR);
	*(int *)put_extra(nlh, sizeof(int)) = -ENOENT;
	done(b, nlh);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);

	/* NOOPs are skipped; other types are not a TCP dump */
	b->len = 0;
	g.n = 0;
	nlh = put_hdr(b, NLMSG_NOOP);
	done(b, nlh);
	put_sock(b, &v4_est);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), 0);
	CHECK_EQ_INT(g.n, 1);
	b->len = 0;
	nlh = put_hdr(b, NLMSG_OVERRUN);
	done(b, nlh);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EPROTO);
	b->len = 0;
	nlh = put_hdr(b, 16);	/* RTM_NEWLINK */
	put_extra(nlh, 100);
	done(b, nlh);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EPROTO);
	free(b);
}

TEST(diag_parse_lying_lengths)
{
	struct nlbuf *b = mkbuf();
	struct got g = { 0 };
	struct nlmsghdr *nlh;
	struct sock_spec sp = v4_est;
	size_t one;

	REQUIRE(b);
	put_sock(b, &v4_est);
	one = b->len;
	put_sock(b, &v6_listen);

	/* nlmsg_len beyond the buffer */
	nlh = (struct nlmsghdr *)((char *)b->w + one);
	nlh->nlmsg_len = (uint32_t)(b->len - one + 4);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	CHECK_EQ_INT(g.n, 1);	/* the first was whole */
	/* (int)len would be negative: NLMSG_OK() and libmnl let these through */
	nlh->nlmsg_len = UINT32_MAX;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	nlh->nlmsg_len = UINT32_MAX - 2;	/* NLMSG_ALIGN() wraps to 0 */
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	nlh->nlmsg_len = 0x80000000u;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	nlh->nlmsg_type = NLMSG_NOOP;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	/* shorter than its own header */
	nlh->nlmsg_len = 8;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	nlh->nlmsg_len = 0;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	/* too short for an inet_diag_msg */
	nlh->nlmsg_len = 16 + sizeof(struct inet_diag_msg) - 4;
	CHECK_EQ_INT(diag__parse(b->w, one + nlh->nlmsg_len, collect, &g), -EINVAL);
	/* a buffer that ends inside a header */
	g.n = 0;
	CHECK_EQ_INT(diag__parse(b->w, one + 8, collect, &g), -EINVAL);
	CHECK_EQ_INT(g.n, 1);

	/* rta_len beyond the message, and smaller than an attribute header */
	b->len = 0;
	nlh = put_sock(b, &sp);
	{
		struct nlattr *a = (struct nlattr *)((char *)payload(nlh) +
						     NLMSG_ALIGN(sizeof(struct inet_diag_msg)));

		a->nla_len = (uint16_t)(nlh->nlmsg_len);
		g.n = 0;
		CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
		CHECK_EQ_INT(g.n, 0);
		a->nla_len = 2;
		CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
		a->nla_len = 0;
		CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);
	}
	/* a message cut inside its tcp_info attribute */
	b->len = 0;
	nlh = put_sock(b, &sp);
	nlh->nlmsg_len -= 40;
	b->len = nlh->nlmsg_len;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EINVAL);

	/* a tcp_info too small to hold the fields we read: as if absent */
	for (int len = 1; len <= (int)sizeof(struct tcp_info); len++) {
		bool need = (size_t)len >= offsetof(struct tcp_info, tcpi_last_ack_recv) + 4;

		b->len = 0;
		g.n = 0;
		sp.info_len = len;
		put_sock(b, &sp);
		put_done(b, 0);
		CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), 1);
		REQUIRE(g.n == 1);
		CHECK_EQ_INT(g.s[0].has_info, need);
		CHECK_EQ_INT(g.s[0].last_data_recv_ms, need ? 3100 : 0);
	}
	/* a longer tcp_info from a newer kernel is fine */
	{
		char big[sizeof(struct tcp_info) + 64] = { 0 };
		struct tcp_info ti = { .tcpi_last_data_recv = 9 };

		memcpy(big, &ti, sizeof(ti));
		b->len = 0;
		g.n = 0;
		sp.info_len = 0;
		nlh = put_sock(b, &sp);
		put_attr(nlh, INET_DIAG_INFO, sizeof(big), big);
		b->len = nlh->nlmsg_len;
		CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), 0);
		CHECK(g.n == 1 && g.s[0].has_info && g.s[0].last_data_recv_ms == 9);
	}

	/* a family we did not ask for */
	b->len = 0;
	sp = v4_est;
	sp.family = AF_INET;
	nlh = put_sock(b, &sp);
	((struct inet_diag_msg *)payload(nlh))->idiag_family = AF_UNIX;
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -EPROTO);

	/* an unaligned buffer is refused, not read */
	CHECK_EQ_INT(diag__parse((char *)b->w + 1, b->len - 1, collect, &g), -EINVAL);
	free(b);
}

/* Every prefix of a valid dump: no crash, no socket read past the end. */
TEST(diag_parse_every_truncation)
{
	struct nlbuf *b = mkbuf();
	struct got g;
	size_t full;
	int bad = 0;

	REQUIRE(b);
	put_sock(b, &v4_est);
	put_sock(b, &v6_listen);
	put_sock(b, &v4_est);
	put_done(b, 0);
	full = b->len;
	for (size_t len = 0; len <= full; len++) {
		int ret;

		/* a copy of exactly len bytes, so that ASan sees any overread */
		char *p = malloc(len ? len : 1);

		memcpy(p, b->w, len);
		memset(&g, 0, sizeof(g));
		ret = diag__parse(p, len, collect, &g);
		if (len == full ? ret != 1 : ret == 1)
			bad++;
		if (ret != 0 && ret != 1 && ret != -EINVAL)
			bad++;
		free(p);
	}
	CHECK_EQ_INT(bad, 0);
	free(b);
}

TEST(diag_parse_callback_stops)
{
	struct nlbuf *b = mkbuf();
	struct got g = { .stop_after = 2 };

	REQUIRE(b);
	for (int i = 0; i < 4; i++)
		put_sock(b, &v4_est);
	put_done(b, 0);
	CHECK_EQ_INT(diag__parse(b->w, b->len, collect, &g), -ECANCELED);
	CHECK_EQ_INT(g.n, 2);
	free(b);
}

struct find_port {
	uint16_t port;
	struct diag_sock s;
	int n;
};

static int find_port(const struct diag_sock *s, void *ctx)
{
	struct find_port *f = ctx;

	if (s->sport == f->port) {
		f->s = *s;
		f->n++;
	}
	return 0;
}

static int listener(uint16_t *port, int backlog)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static uint32_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (uint32_t)st.st_ino;
}

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

/* Our own listener, through the kernel: the fields we rely on are the kernel's. */
TEST(diag_dump_our_listener)
{
	struct find_port f = { 0 };
	struct diag_counts c;
	uint64_t cookie = 0;
	socklen_t clen = sizeof(cookie);
	int fd = listener(&f.port, 7), ret;

	REQUIRE(fd >= 0);
	ret = diag__dump(-1, DIAG_STATE(TT_LISTEN), find_port, &f);
	if (ret == -EPERM || ret == -EACCES || ret == -EAFNOSUPPORT || ret == -EPROTONOSUPPORT) {
		close(fd);
		SKIP("no sock_diag here: %s", strerror(-ret));
	}
	CHECK_EQ_INT(ret, 0);
	REQUIRE(f.n == 1);
	CHECK_EQ_INT(f.s.state, TT_LISTEN);
	CHECK_EQ_INT(f.s.family, TT_AF_INET);
	CHECK_EQ_INT(f.s.saddr[0], 127);
	CHECK_EQ_INT(f.s.dport, 0);
	CHECK_EQ_INT(f.s.inode, inode_of(fd));
	CHECK_EQ_INT(f.s.uid, getuid());
	CHECK_EQ_INT(f.s.rqueue, 0);
	CHECK_EQ_INT(f.s.wqueue, 7);	/* the backlog */
	CHECK(f.s.has_info);
	CHECK(!getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &clen));	/* Linux 4.12+ */
	CHECK(f.s.cookie == cookie);

	/* not in the state mask: not dumped */
	f.n = 0;
	CHECK_EQ_INT(diag__dump(-1, DIAG_STATE(TT_ESTABLISHED), find_port, &f), 0);
	CHECK_EQ_INT(f.n, 0);
	/* the IPv6 half alone does not have it */
	f.n = 0;
	CHECK_EQ_INT(diag__dump_req(&(struct diag_req){ .netns_fd = -1, .family = TT_AF_INET6 },
				    find_port, &f), 0);
	CHECK_EQ_INT(f.n, 0);
	CHECK_EQ_INT(diag__count(-1, DIAG_STATE(TT_LISTEN), &c), 0);
	CHECK(c.state[TT_LISTEN] >= 1);
	CHECK_EQ_INT(c.state[TT_ESTABLISHED], 0);
	close(fd);
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t clen = sizeof(cookie);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &clen) ? 0 : cookie;
}

/*
 * One socket asked for alone (the CLOSE-WAIT check's confirmation of what
 * a dump did not show): a listener and a connection by tuple and cookie,
 * not with another cookie or at another tuple, and a connection closed
 * first as its timewait sock.
 */
TEST(diag_find_one_socket)
{
	uint8_t lo[16] = { 127, 0, 0, 1 }, any[16] = { 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct diag_sock s;
	uint16_t port, cport;
	int lfd = listener(&port, 4), cfd, afd, nl;

	REQUIRE(lfd >= 0);
	nl = diag__open_here();
	if (nl < 0) {
		close(lfd);
		SKIP("no sock_diag socket here: %s", strerror(-nl));
	}
	memset(&s, 0, sizeof(s));
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET, lo, port, any, 0, cookie_of(lfd), &s), 1);
	CHECK_EQ_INT(s.state, TT_LISTEN);
	CHECK_EQ_INT(s.inode, inode_of(lfd));
	CHECK(s.cookie == cookie_of(lfd));
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET, lo, port, any, 0, cookie_of(lfd) + 1, &s), 0);

	a.sin_port = htons(port);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(cfd >= 0);
	REQUIRE(!connect(cfd, (struct sockaddr *)&a, sizeof(a)));
	afd = accept(lfd, NULL, NULL);
	REQUIRE(afd >= 0);
	REQUIRE(!getsockname(cfd, (struct sockaddr *)&a, &alen));
	cport = ntohs(a.sin_port);
	memset(&s, 0, sizeof(s));
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET, lo, cport, lo, port, cookie_of(cfd), &s), 1);
	CHECK_EQ_INT(s.state, TT_ESTABLISHED);
	CHECK_EQ_INT(s.inode, inode_of(cfd));
	CHECK(s.has_info);
	/* no cookie: whatever is at the tuple */
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET, lo, cport, lo, port, 0, &s), 1);
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET, lo, cport, lo, port, cookie_of(afd), &s), 0);
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET, lo, port, lo, cport, cookie_of(afd), &s), 1);
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET, lo, (uint16_t)(cport ^ 1), lo, port, 0, &s), 0);
	CHECK_EQ_INT(diag__find(nl, TT_AF_INET6, lo, cport, lo, port, 0, &s), 0);
	CHECK_EQ_INT(diag__find(nl, 9, lo, cport, lo, port, 0, &s), -EINVAL);

	/* the client closes first, then the server: the client's timewait sock */
	{
		uint64_t ck = cookie_of(cfd);
		int r = -1;

		close(cfd);
		close(afd);
		for (int i = 0; i < 100; i++) {
			r = diag__find(nl, TT_AF_INET, lo, cport, lo, port, ck, &s);
			if (r != 1 || s.timer == DIAG_TIMER_TIME_WAIT)
				break;
			usleep(10000);
		}
		CHECK_EQ_INT(r, 1);
		CHECK_EQ_INT(s.timer, DIAG_TIMER_TIME_WAIT);
		CHECK(s.state == TT_TIME_WAIT || s.state == TT_FIN_WAIT2);
	}
	close(nl);
	close(lfd);
}

/*
 * In a namespace of its own, one IPv6 listener: sockstat's "TCP: inuse" is
 * IPv4's alone, and a seed that skipped namespaces by it skipped IPv6-only
 * ones (their leaks never seeded).  Needs CAP_SYS_ADMIN for the namespace.
 */
TEST(diag_sockstat_counts_ipv6)
{
	int pfd[2], st;
	long long got = -1;
	pid_t pid;

	REQUIRE(pipe(pfd) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6 };	/* [::]:0 */
		struct diag_sockstat ss;
		long long r = -2;
		int fd;

		if (!unshare(CLONE_NEWNET)) {
			r = -3;
			fd = socket(AF_INET6, SOCK_STREAM, 0);
			if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !listen(fd, 1) &&
			    !diag__sockstat_here(&ss))
				r = ss.inuse;
		}
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &got, sizeof(got)) != sizeof(got))
		got = -4;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (got == -2)
		SKIP("no network namespace of our own (needs CAP_SYS_ADMIN)");
	CHECK_EQ_INT(got, 1);
}

TEST(diag_netns_helpers)
{
	struct diag_sysctls sy;
	uint32_t self = diag__self_netns();
	int fd;

	REQUIRE(self != 0);
	fd = diag__open_netns(self);
	REQUIRE(fd >= 0);
	CHECK_EQ_INT(inode_of(fd), self);
	CHECK_EQ_INT(diag__read_sysctls(fd, &sy), 0);
	CHECK(sy.port_lo >= 1 && sy.port_lo <= sy.port_hi);
	CHECK(sy.tw_reuse >= 0 && sy.tw_reuse <= 2);
	CHECK(sy.timestamps >= 0 && sy.timestamps <= 2);
	close(fd);
	CHECK_EQ_INT(diag__open_netns(0), -ENOENT);
	/* inode 1 is never a namespace */
	CHECK_EQ_INT(diag__open_netns(1), -ENOENT);
}

static void read_self_comm(char comm[16])
{
	FILE *f = fopen("/proc/self/comm", "r");

	memset(comm, 0, 16);
	if (f) {
		if (!fgets(comm, 16, f))
			comm[0] = '\0';
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = '\0';
}

TEST(procfd_finds_our_socket)
{
	struct procfd *pf;
	struct procfd_owner o;
	char comm[16];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int dup1 = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	REQUIRE(fd >= 0 && dup1 >= 0);
	REQUIRE(procfd__scan(&pf, 0) == 0);
	CHECK(procfd__stats(pf)->procs >= 1);
	CHECK(procfd__stats(pf)->sockets >= 1);
	REQUIRE(procfd__lookup(pf, inode_of(fd), &o) == 0);
	CHECK_EQ_INT(o.tgid, getpid());
	CHECK_EQ_INT(o.nholders, 1);	/* two fds, one process */
	read_self_comm(comm);
	CHECK_STR(o.comm, comm);
	CHECK_EQ_INT(procfd__lookup(pf, 0, &o), -ENOENT);
	CHECK_EQ_INT(procfd__lookup(NULL, inode_of(fd), &o), -ENOENT);
	procfd__free(pf);
	close(dup1);
	close(fd);
}

/*
 * A comm is any 15 bytes (prctl(PR_SET_NAME)), a newline among them: only
 * the newline the kernel adds after it goes, and 15 bytes stay 15.
 */
TEST(procfd_comm_keeps_its_own_newline)
{
	static const char *names[] = { "q\"x\nz", "fifteen_chars_x", "a" };
	char saved[17] = "";
	struct procfd *pf;
	struct procfd_owner o;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	REQUIRE(fd >= 0 && !prctl(PR_GET_NAME, saved));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		REQUIRE(!prctl(PR_SET_NAME, names[i]));
		REQUIRE(procfd__scan(&pf, 0) == 0);
		REQUIRE(procfd__lookup(pf, inode_of(fd), &o) == 0);
		CHECK_STR(o.comm, names[i]);
		procfd__free(pf);
	}
	prctl(PR_SET_NAME, saved);
	close(fd);
}

TEST(procfd_cmdline)
{
	char want[4096], got[4096], small[12];
	FILE *f = fopen("/proc/self/cmdline", "r");
	size_t n;
	int len;

	REQUIRE(f);
	n = fread(want, 1, sizeof(want) - 1, f);
	fclose(f);
	while (n && want[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (!want[i])
			want[i] = ' ';
	want[n] = '\0';
	len = procfd__cmdline((uint32_t)getpid(), got, sizeof(got));
	CHECK_EQ_INT(len, n);
	CHECK_STR(got, want);
	if (n > sizeof(small) - 1) {
		len = procfd__cmdline((uint32_t)getpid(), small, sizeof(small));
		CHECK_EQ_INT(len, sizeof(small) - 1);
		CHECK(!memcmp(small, want, sizeof(small) - 4));
		CHECK_STR(small + sizeof(small) - 4, "...");
	}
	CHECK_EQ_INT(procfd__cmdline(0, got, sizeof(got)), -ENOENT);
	CHECK_EQ_INT(procfd__cmdline((uint32_t)getpid(), got, 0), -EINVAL);
}

/*
 * A command line with C1 controls (U+009B is CSI) and one cut inside a
 * character: the controls come out as '?', as C0 ones do, and the cut
 * takes the whole character, never leaving half of one.
 */
TEST(procfd_cmdline_hostile)
{
	/* "sh -c sleep 5; : " is 17 bytes, the C1 argument and its space 6 more: the cut (at 60) falls in an e-acute */
	char e_acute[61] = "", got[64], want[64] = "sh -c sleep 5; : a??xy ";
	pid_t child;
	int len = -1;

	for (int i = 0; i < 30; i++)
		strcat(e_acute, "\xc3\xa9");
	child = fork();
	REQUIRE(child >= 0);
	if (!child) {
		execl("/bin/sh", "sh", "-c", "sleep 5; :", "a\xc2\x9bxy", e_acute, (char *)NULL);
		_exit(127);
	}
	/* until the child is sh, at most 2 s */
	for (int i = 0; i < 200; i++) {
		len = procfd__cmdline((uint32_t)child, got, sizeof(got));
		if (len > 0 && !strncmp(got, "sh -c", 5))
			break;
		usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	for (int i = 0; i < 18; i++)
		strcat(want, "\xc3\xa9");
	strcat(want, "...");
	CHECK_STR(got, want);
	CHECK_EQ_INT(len, (int)strlen(want));
}

TEST(seed_records)
{
	struct nlbuf *b = mkbuf();
	struct got g = { 0 };
	struct procfd_owner own = { .tgid = 77, .nholders = 1, .comm = "leaky" };
	struct tt_opts o;
	struct tt_event e;

	REQUIRE(b);
	put_sock(b, &v4_est);
	put_sock(b, &v6_listen);
	REQUIRE(diag__parse(b->w, b->len, collect, &g) == 0 && g.n == 2);

	seed__event(&e, &g.s[0], 4026531840u, &own, 123456789);
	CHECK_EQ_INT(e.type, TT_EV_SEED);
	CHECK_EQ_INT(e.hook, TT_HOOK_SOCK_DIAG);
	CHECK_EQ_INT(e.old_state, 0);
	CHECK_EQ_INT(e.new_state, TT_CLOSE_WAIT);
	CHECK_EQ_INT(e.family, TT_AF_INET);
	CHECK_EQ_INT(e.sport, 8080);
	CHECK_EQ_INT(e.dport, 50123);
	CHECK_EQ_INT(e.netns, 4026531840u);
	CHECK_EQ_INT(e.flags, TT_F_COOKIE | TT_F_OWNER | TT_F_SEED_AGE);
	CHECK(e.cookie == 0x123456789abcull);
	CHECK_EQ_INT(e.tgid, 77);
	CHECK_STR(e.comm, "leaky");
	CHECK(e.ts_ns == 123456789);
	CHECK_EQ_INT(e.aux[0], 3100);
	CHECK_EQ_INT(e.aux[1], 4242);
	CHECK_EQ_INT(e.aux[2], 1000);
	CHECK(e.sk & 1);
	CHECK(e.sk == engine__pseudo_sk(&e));

	seed__event(&e, &g.s[1], 1, NULL, 1);
	CHECK_EQ_INT(e.flags, TT_F_COOKIE);
	CHECK_EQ_INT(e.tgid, 0);
	CHECK_EQ_INT(e.aux[0], 0);
	CHECK_EQ_INT(e.family, TT_AF_INET6);

	/* the filters are the kernel side's */
	memset(&o, 0, sizeof(o));
	CHECK(seed__wanted(&o, &g.s[0]));
	o.family = TT_AF_INET6;
	CHECK(!seed__wanted(&o, &g.s[0]));
	CHECK(seed__wanted(&o, &g.s[1]));
	o.family = 0;
	o.n_ports = 1;
	o.ports[0] = 50123;
	CHECK(seed__wanted(&o, &g.s[0]));
	CHECK(!seed__wanted(&o, &g.s[1]));
	o.n_ports = 0;
	o.n_lports = 1;
	o.lports[0] = 50123;
	CHECK(!seed__wanted(&o, &g.s[0]));
	o.lports[0] = 8080;
	CHECK(seed__wanted(&o, &g.s[0]));
	o.n_rports = 1;
	o.rports[0] = 1;
	CHECK(!seed__wanted(&o, &g.s[0]));
	free(b);
}

struct seeded {
	uint16_t port;
	int n;
	struct tt_event e;
};

static int on_seed(void *ctx, const struct tt_event *e)
{
	struct seeded *s = ctx;

	if (e->sport == s->port) {
		s->e = *e;
		s->n++;
	}
	return 0;
}

/* The whole path on our own listener: dump, owner, record. */
TEST(seed_run_our_listener)
{
	struct seeded s = { 0 };
	struct seed_stats st;
	struct tt_opts o;
	int fd = listener(&s.port, 5), ret;

	REQUIRE(fd >= 0);
	memset(&o, 0, sizeof(o));
	o.lports[0] = s.port;
	o.n_lports = 1;
	ret = seed__run(&o, SEED_OURS, on_seed, &s, &st);
	if (ret == -EPERM || ret == -EACCES || ret == -EAFNOSUPPORT) {
		close(fd);
		SKIP("no sock_diag here: %s", strerror(-ret));
	}
	CHECK_EQ_INT(ret, 1);
	REQUIRE(s.n == 1);
	CHECK_EQ_INT(s.e.new_state, TT_LISTEN);
	CHECK_EQ_INT(s.e.netns, diag__self_netns());
	CHECK_EQ_INT(s.e.aux[1], inode_of(fd));
	CHECK(s.e.flags & TT_F_OWNER);
	CHECK_EQ_INT(s.e.tgid, getpid());
	CHECK_EQ_INT(st.seeded, 1);
	CHECK_EQ_INT(st.namespaces, 1);

	/* host-wide: every namespace is dumped, ours among them, once */
	s.n = 0;
	o.pid = (uint32_t)getpid();
	ret = seed__run(&o, SEED_ALL, on_seed, &s, &st);
	CHECK_EQ_INT(ret, 1);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.e.netns, diag__self_netns());
	CHECK_EQ_INT(s.e.tgid, getpid());
	CHECK(st.namespaces >= 1);

	/* a pid filter that is not us leaves it out */
	s.n = 0;
	o.pid = (uint32_t)getpid() + 1000000;
	CHECK_EQ_INT(seed__run(&o, SEED_ALL, on_seed, &s, NULL), 0);
	CHECK_EQ_INT(s.n, 0);
	close(fd);
}

static int count_none(const struct diag_sock *s, void *ctx)
{
	(void)s;
	(void)ctx;
	return 0;
}

/*
 * A dump that fails the same way every time (out of descriptors, as at
 * every namespace of every summary under a low `ulimit -n`): said the
 * first time, then at the 10th and the 100th with the count, not 100
 * times.  In a child whose descriptors are all taken, its stderr a pipe.
 */
TEST(diag_same_failure_is_said_once_then_counted)
{
	char buf[4096] = "";
	int p[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	REQUIRE(pipe(p) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], 2) < 0)
			_exit(2);
		close(p[1]);
		if (sockkit_no_free_fds())
			_exit(3);
		for (int i = 0; i < 100; i++)
			if (diag__dump(-1, 0, count_none, NULL) != -EMFILE)
				_exit(4);
		_exit(0);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(p[0]);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_INT(tt_count(buf, "\n"), 3);
	CHECK_EQ_INT(tt_count(buf, "tcptrail: sock_diag: open a netlink socket: Too many open "
			     "files"), 3);
	CHECK(strstr(buf, "files (10 times so far)\n") != NULL);
	CHECK(strstr(buf, "files (100 times so far)\n") != NULL);
}
