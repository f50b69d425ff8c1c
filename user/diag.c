// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Source (the seed) and the TIME-WAIT census: sock_diag over a plain netlink
 * socket.  A dump is one SOCK_DIAG_BY_FAMILY request per
 * family: the kernel dispatches on sdiag_family (AF_INET -> inet_diag,
 * AF_INET6 -> inet6_diag) and has no AF_UNSPEC handler, although both walk
 * the same TCP hash tables and filter by family per socket.
 *
 * To dump another namespace the netlink socket is created inside it: a
 * NETLINK_SOCK_DIAG socket answers for the namespace it was created in, and
 * keeps doing so after we setns() back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "diag.h"
#include "util.h"

/* linux/inet_diag.h has it since 5.9; older headers do not */
#define TT_INET_DIAG_CGROUP_ID 21

/*
 * The kernel sizes a dump's skbs after our largest recvmsg() buffer, up to
 * 32 KiB less overhead; twice that leaves room and costs nothing per socket.
 */
#define DIAG_RECV_BUF	(64 * 1024)

/* /proc entries looked at when looking for a process in a namespace */
#define MAX_PROC_SCAN	(1u << 22)

/* The highest errno Linux uses; an error code past it is garbage. */
#define MAX_ERRNO	4095

/* The tcp_info fields we read must all be inside the attribute. */
#define TCPI_NEED	(offsetof(struct tcp_info, tcpi_last_ack_recv) + \
			 sizeof(((struct tcp_info *)0)->tcpi_last_ack_recv))

struct parse_ctx {
	diag_sock_cb cb;
	void *ctx;
	uint32_t seq;		/* 0: any (diag__parse); else the request's */
	uint16_t type;		/* the answers' type: the request's */
	int cb_err;		/* the callback's value when it stopped us */
	uint64_t delivered;	/* sockets handed to cb */
};

static int kernel_err(int err)
{
	/* an NLMSG_ERROR carries a negative errno; anything else is garbage */
	if (err < -MAX_ERRNO || err > 0)
		return -EPROTO;
	return err;
}

/* The payload of a message whose nlmsg_len has been checked already. */
static const void *nl_payload(const struct nlmsghdr *nlh)
{
	return (const char *)nlh + NLMSG_HDRLEN;
}

static size_t nl_payload_len(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_len - NLMSG_HDRLEN;
}

static void parse_info(struct diag_sock *s, const struct nlattr *a)
{
	struct tcp_info ti;
	size_t len = a->nla_len - NLA_HDRLEN;

	/*
	 * tcp_info only grows; an older or truncated one without the fields
	 * we need counts as absent.  Copied out: the payload is only 4-byte
	 * aligned and struct tcp_info has u64 members.
	 */
	if (len < TCPI_NEED)
		return;
	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, (const char *)a + NLA_HDRLEN, len < sizeof(ti) ? len : sizeof(ti));
	s->has_info = true;
	s->tcpi_state = ti.tcpi_state;
	s->last_data_recv_ms = ti.tcpi_last_data_recv;
	s->last_ack_recv_ms = ti.tcpi_last_ack_recv;
	s->last_data_sent_ms = ti.tcpi_last_data_sent;
}

static int parse_sock(struct parse_ctx *pc, const struct nlmsghdr *nlh)
{
	const struct inet_diag_msg *m;
	const char *p, *end;
	struct diag_sock s;
	int ret;

	if (nl_payload_len(nlh) < sizeof(*m))
		return -EINVAL;
	m = nl_payload(nlh);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return -EPROTO;

	memset(&s, 0, sizeof(s));
	s.family = m->idiag_family == AF_INET ? TT_AF_INET : TT_AF_INET6;
	s.state = m->idiag_state;
	s.timer = m->idiag_timer;
	s.retrans = m->idiag_retrans;
	s.sport = ntohs(m->id.idiag_sport);
	s.dport = ntohs(m->id.idiag_dport);
	/* for AF_INET the kernel zeroes the rest of the 16 bytes */
	memcpy(s.saddr, m->id.idiag_src, 16);
	memcpy(s.daddr, m->id.idiag_dst, 16);
	s.ifindex = m->id.idiag_if;
	s.expires_ms = m->idiag_expires;
	s.rqueue = m->idiag_rqueue;
	s.wqueue = m->idiag_wqueue;
	s.uid = m->idiag_uid;
	s.inode = m->idiag_inode;
	/* sock_diag_save_cookie(): the low word first */
	s.cookie = m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;

	p = (const char *)m + NLMSG_ALIGN(sizeof(*m));
	end = (const char *)nlh + nlh->nlmsg_len;
	while (p < end) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step;

		/* nla_len counts its own header and must fit in what is left */
		if ((size_t)(end - p) < NLA_HDRLEN || a->nla_len < NLA_HDRLEN ||
		    a->nla_len > (size_t)(end - p))
			return -EINVAL;
		if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO)
			parse_info(&s, a);
		/* the kernel adds it to every reply, unasked, where it has cgroups */
		if ((a->nla_type & NLA_TYPE_MASK) == TT_INET_DIAG_CGROUP_ID &&
		    a->nla_len >= NLA_HDRLEN + sizeof(uint64_t))
			memcpy(&s.cgroup, (const char *)a + NLA_HDRLEN, sizeof(uint64_t));
		step = NLA_ALIGN(a->nla_len);
		/* the last attribute's padding may be missing */
		if (step >= (size_t)(end - p))
			break;
		p += step;
	}

	pc->delivered++;
	ret = pc->cb(&s, pc->ctx);
	if (ret < 0)
		pc->cb_err = ret;
	return ret < 0 ? ret : 0;
}

/* 0: more to come, 1: done, <0: error. */
static int parse_msgs(struct parse_ctx *pc, const void *buf, size_t len)
{
	const char *p = buf;
	int ret, err;

	/* the headers are read in place; recv and malloc buffers are aligned */
	if (((uintptr_t)buf & (NLMSG_ALIGNTO - 1)) || len > INT_MAX)
		return -EINVAL;
	while (len > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		size_t step;

		/*
		 * Unsigned all the way, unlike NLMSG_OK() and mnl_nlmsg_ok(),
		 * which compare (int)nlmsg_len <= len, so that a length past
		 * 2 GiB passes as negative (and NLMSG_ALIGN of one near 4 GiB
		 * wraps to 0).
		 */
		if (len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len)
			return -EINVAL;
		if (pc->seq && nlh->nlmsg_seq != pc->seq)
			return -EPROTO;

		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_DONE:
			/* netlink_dump_done(): the dump's own status follows */
			if (nl_payload_len(nlh) >= sizeof(int)) {
				memcpy(&err, nl_payload(nlh), sizeof(err));
				if (err)
					return kernel_err(err);
			}
			return 1;
		case NLMSG_ERROR: {
			const struct nlmsgerr *e = nl_payload(nlh);

			if (nl_payload_len(nlh) < sizeof(*e))
				return -EINVAL;
			/* 0 is an acknowledgement: nothing more will come */
			return e->error ? kernel_err(e->error) : 1;
		}
		case SOCK_DIAG_BY_FAMILY:
		case TCPDIAG_GETSOCK:
			/* an answer to the question we asked, not the other one */
			if (nlh->nlmsg_type != pc->type)
				return -EPROTO;
			ret = parse_sock(pc, nlh);
			if (ret)
				return ret;
			break;
		default:
			/* NLMSG_OVERRUN, or an answer to a question we did not ask */
			return -EPROTO;
		}
		step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

int diag__parse(const void *buf, size_t len, diag_sock_cb cb, void *ctx)
{
	struct parse_ctx pc = { .cb = cb, .ctx = ctx, .type = SOCK_DIAG_BY_FAMILY };

	if (!buf && len)
		return -EINVAL;
	return parse_msgs(&pc, buf, len);
}

struct sock_in_ns {
	int fd;
	int err;
};

static int open_sock(void *ctx)
{
	struct sock_in_ns *s = ctx;

	/* no bind(): the first sendmsg() gives the socket a port id */
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s->fd < 0) {
		s->err = -errno;
		return s->err;
	}
	return 0;
}

static uint32_t fd_inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (uint32_t)st.st_ino;
}

uint32_t diag__self_netns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

int diag__in_netns(int netns_fd, int (*fn)(void *ctx), void *ctx)
{
	int self, ret, err;

	if (netns_fd < 0)
		return fn(ctx);
	/* thread-self: setns() moves this thread only, so come back to its own */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err = -errno;
		tt_err_counted("open /proc/thread-self/ns/net: %s", strerror(-err));
		return err;
	}
	if (fd_inode(self) == fd_inode(netns_fd)) {
		close(self);
		return fn(ctx);
	}
	if (setns(netns_fd, CLONE_NEWNET)) {
		err = -errno;
		/* not allowed: each caller says once what it cannot do without it */
		if (err != -EPERM)
			tt_err_counted("setns into network namespace %u: %s", fd_inode(netns_fd),
				       strerror(-err));
		close(self);
		return err;
	}
	ret = fn(ctx);
	if (setns(self, CLONE_NEWNET)) {
		err = -errno;
		tt_err("setns back to our network namespace: %s", strerror(-err));
		close(self);
		return err;
	}
	close(self);
	return ret;
}

/* One recvmsg() of an answer (a part of a dump, or a lookup's): bytes read or -errno. */
static ssize_t recv_answer(int fd, void *buf, size_t len)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;

	n = recvmsg(fd, &msg, 0);
	if (n < 0)
		return -errno;
	/* a datagram larger than the buffer: its tail is lost, so is the dump */
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	/* only the kernel (port id 0) answers a dump; anything else is not ours */
	if (msg.msg_namelen != sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
		return -EPROTO;
	return n;
}

/*
 * family AF_UNSPEC: both at once, through the older TCPDIAG_GETSOCK request,
 * whose dump the kernel runs with no family (inet_diag_dump_compat()): one
 * walk of the hash tables instead of one per family.  The walk is what a
 * dump costs, as it visits the sockets of every namespace sharing them.
 * -EOPNOTSUPP, with no message, if the kernel refuses it before any socket.
 */
static int dump_family(int fd, char *buf, const struct diag_req *dr, uint8_t family,
		       uint32_t states, uint32_t seq, struct parse_ctx *pc)
{
	union {
		struct {
			struct nlmsghdr nlh;
			struct inet_diag_req_v2 r;
		} v2;
		struct {
			struct nlmsghdr nlh;
			struct inet_diag_req r;
		} compat;
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct iovec iov = { .iov_base = &req };
	struct msghdr msg = {
		.msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = &iov, .msg_iovlen = 1,
	};
	uint8_t ext = dr->no_info ? 0 : 1 << (INET_DIAG_INFO - 1);
	uint64_t before = pc->delivered;
	ssize_t n;
	int ret;

	_Static_assert(sizeof(req.v2) == NLMSG_SPACE(sizeof(struct inet_diag_req_v2)),
		       "the request is one header and one inet_diag_req_v2, no padding");
	_Static_assert(sizeof(req.compat) == NLMSG_SPACE(sizeof(struct inet_diag_req)),
		       "the request is one header and one inet_diag_req, no padding");
	memset(&req, 0, sizeof(req));
	if (family == AF_UNSPEC) {
		iov.iov_len = sizeof(req.compat);
		req.compat.nlh.nlmsg_type = TCPDIAG_GETSOCK;
		/* ignored by the dump, which takes every family */
		req.compat.r.idiag_family = AF_INET;
		req.compat.r.idiag_states = states;
		req.compat.r.idiag_ext = ext;
	} else {
		iov.iov_len = sizeof(req.v2);
		req.v2.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req.v2.r.sdiag_family = family;
		req.v2.r.sdiag_protocol = IPPROTO_TCP;
		req.v2.r.idiag_states = states;
		req.v2.r.idiag_ext = ext;
	}
	req.v2.nlh.nlmsg_len = (uint32_t)iov.iov_len;
	req.v2.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.v2.nlh.nlmsg_seq = seq;

	n = sendmsg(fd, &msg, 0);
	if (n != (ssize_t)iov.iov_len) {
		ret = n < 0 ? -errno : -EIO;
		tt_err_counted("sock_diag: send the dump request: %s", strerror(-ret));
		return ret;
	}
	pc->seq = seq;
	pc->type = req.v2.nlh.nlmsg_type;
	for (;;) {
		n = recv_answer(fd, buf, DIAG_RECV_BUF);
		if (n < 0) {
			ret = (int)n;
			/* a signal: the caller decides whether to stop */
			if (ret != -EINTR)
				tt_err_counted("sock_diag: read the dump: %s", strerror(-ret));
			return ret;
		}
		if (n == 0) {
			tt_err_counted("sock_diag: read the dump: the kernel closed it early");
			return -EPROTO;
		}
		ret = parse_msgs(pc, buf, (size_t)n);
		if (ret == 1)
			return 0;
		if (ret == 0 && dr->between)
			dr->between(dr->between_ctx);
		if (ret < 0) {
			if (ret == pc->cb_err)
				return ret;
			/* no IPv6 in this kernel: nothing to dump, not an error */
			if (family == AF_INET6 && ret == -ENOENT)
				return 0;
			/* no compat handler: the caller asks family by family */
			if (family == AF_UNSPEC && pc->delivered == before && ret != -EINTR)
				return -EOPNOTSUPP;
			if (ret == -EINVAL || ret == -EPROTO)
				tt_err_counted("sock_diag: malformed answer to the TCP dump");
			else
				tt_err_counted("sock_diag: the kernel refused the TCP dump: %s%s",
					       strerror(-ret),
					       ret == -ENOENT ? " (is tcp_diag loaded?)" : "");
			return ret;
		}
	}
}

int diag__dump_req(const struct diag_req *req, diag_sock_cb cb, void *ctx)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct sock_in_ns sn = { .fd = -1 };
	struct parse_ctx pc = { .cb = cb, .ctx = ctx };
	uint32_t states = req->states ? req->states : DIAG_STATES_ALL;
	char *buf;
	int ret = 0;

	if (req->family && req->family != TT_AF_INET && req->family != TT_AF_INET6)
		return -EINVAL;
	ret = diag__in_netns(req->netns_fd, open_sock, &sn);
	if (ret < 0 || sn.fd < 0) {
		/* a failed setns() has been reported already */
		if (sn.err)
			tt_err_counted("sock_diag: open a netlink socket: %s", strerror(-sn.err));
		if (sn.fd >= 0)
			close(sn.fd);
		return ret < 0 ? ret : -EIO;
	}
	/* malloc: aligned for the nlmsghdr that parse_msgs reads in place */
	buf = malloc(DIAG_RECV_BUF);
	if (!buf) {
		close(sn.fd);
		return -ENOMEM;
	}
	/* both families in one walk where the kernel lets us */
	if (!req->family) {
		ret = dump_family(sn.fd, buf, req, AF_UNSPEC, states, 3, &pc);
		if (ret != -EOPNOTSUPP)
			goto out;
		ret = 0;
	}
	for (size_t i = 0; i < sizeof(families) && !ret; i++) {
		if (req->family && req->family != (families[i] == AF_INET ? TT_AF_INET : TT_AF_INET6))
			continue;
		ret = dump_family(sn.fd, buf, req, families[i], states, (uint32_t)i + 1, &pc);
	}
out:
	free(buf);
	close(sn.fd);
	return ret;
}

int diag__open_here(void)
{
	struct sock_in_ns sn = { .fd = -1 };

	return open_sock(&sn) ? sn.err : sn.fd;
}

static int found_cb(const struct diag_sock *s, void *ctx)
{
	*(struct diag_sock *)ctx = *s;
	return 0;
}

int diag__find(int nl_fd, uint8_t family, const uint8_t saddr[16], uint16_t sport,
	       const uint8_t daddr[16], uint16_t dport, uint64_t cookie, struct diag_sock *out)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	/* one answer: the socket (with tcp_info, its attributes) or an error */
	union {
		struct nlmsghdr nlh;
		char b[8192];
	} ans;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr msg = {
		.msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = &iov, .msg_iovlen = 1,
	};
	struct parse_ctx pc = { .cb = found_cb, .ctx = out, .seq = 9, .type = SOCK_DIAG_BY_FAMILY };
	ssize_t n;
	int ret;

	if (family != TT_AF_INET && family != TT_AF_INET6)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = pc.seq;
	req.r.sdiag_family = family == TT_AF_INET ? AF_INET : AF_INET6;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = DIAG_STATES_ALL;
	req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	req.r.id.idiag_sport = htons(sport);
	req.r.id.idiag_dport = htons(dport);
	/* IPv4 in the first word of each, as the kernel reads them */
	memcpy(req.r.id.idiag_src, saddr, 16);
	memcpy(req.r.id.idiag_dst, daddr, 16);
	req.r.id.idiag_cookie[0] = cookie ? (uint32_t)cookie : INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = cookie ? (uint32_t)(cookie >> 32) : INET_DIAG_NOCOOKIE;
	n = sendmsg(nl_fd, &msg, 0);
	if (n != (ssize_t)sizeof(req))
		return n < 0 ? -errno : -EIO;
	n = recv_answer(nl_fd, &ans, sizeof(ans));
	if (n < 0)
		return (int)n;
	ret = parse_msgs(&pc, &ans, (size_t)n);
	if (pc.delivered)
		return 1;
	/* none at the tuple, or another socket there (the cookie: ENOENT, ESTALE before 4.x) */
	if (ret == -ENOENT || ret == -ESTALE)
		return 0;
	return ret < 0 ? ret : -EPROTO;
}

int diag__dump(int netns_fd, uint32_t state_mask, diag_sock_cb cb, void *ctx)
{
	struct diag_req req = { .netns_fd = netns_fd, .states = state_mask };

	return diag__dump_req(&req, cb, ctx);
}

static int count_cb(const struct diag_sock *s, void *ctx)
{
	struct diag_counts *c = ctx;

	c->total++;
	if (s->timer == DIAG_TIMER_TIME_WAIT) {
		/* a timewait sock, whatever substate it shows */
		c->state[TT_TIME_WAIT]++;
		if (s->state == TT_FIN_WAIT2)
			c->tw_fin_wait2++;
	} else if (s->state < TT_STATE_MAX) {
		c->state[s->state]++;
	}
	return 0;
}

int diag__count(int netns_fd, uint32_t state_mask, struct diag_counts *out)
{
	struct diag_req req = { .netns_fd = netns_fd, .states = state_mask, .no_info = true };

	memset(out, 0, sizeof(*out));
	return diag__dump_req(&req, count_cb, out);
}

/* An fd to `path` if it is the namespace `inode`; -1 if not. */
static int open_if_ns(const char *path, uint32_t inode)
{
	struct stat st;
	int fd;

	if (stat(path, &st) || (uint32_t)st.st_ino != inode)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* the process may have exited and its pid been reused in between */
	if (fd_inode(fd) != inode) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int diag__open_netns(uint32_t inode)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int seen = 0;
	DIR *d;
	int fd;

	if (!inode)
		return -ENOENT;
	fd = open_if_ns("/proc/thread-self/ns/net", inode);
	if (fd >= 0)
		return fd;
	/* `ip netns add` pins a namespace with a bind mount and no process */
	d = opendir("/run/netns");
	if (d) {
		while ((de = readdir(d)) && fd < 0) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
			fd = open_if_ns(path, inode);
		}
		closedir(d);
		if (fd >= 0)
			return fd;
	}
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && fd < 0 && seen++ < MAX_PROC_SCAN) {
		if (!all_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		fd = open_if_ns(path, inode);
	}
	closedir(d);
	return fd >= 0 ? fd : -ENOENT;
}

/* The first line of a small file, without its newline; 0 or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int read_int(const char *path, long long min, long long max, int *out)
{
	char buf[64];
	long long v;

	if (read_line(path, buf, sizeof(buf)) || tt_parse_num(buf, min, max, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int read_sysctls(void *ctx)
{
	struct diag_sysctls *s = ctx;
	char buf[64], *tab;
	long long lo, hi;

	s->port_lo = s->port_hi = 0;
	s->tw_reuse = s->timestamps = -1;
	/* "32768\t60999" */
	if (!read_line("/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof(buf))) {
		tab = strchr(buf, '\t');
		if (tab) {
			*tab++ = '\0';
			if (!tt_parse_num(buf, 1, 65535, &lo) && !tt_parse_num(tab, 1, 65535, &hi)) {
				s->port_lo = (uint16_t)lo;
				s->port_hi = (uint16_t)hi;
			}
		}
	}
	read_int("/proc/sys/net/ipv4/tcp_tw_reuse", 0, 2, &s->tw_reuse);
	read_int("/proc/sys/net/ipv4/tcp_timestamps", 0, 2, &s->timestamps);
	return 0;
}

int diag__read_sysctls(int netns_fd, struct diag_sysctls *out)
{
	return diag__in_netns(netns_fd, read_sysctls, out);
}

int diag__sockstat_here(struct diag_sockstat *out)
{
	char buf[512], *line;
	long long inuse, tw;
	ssize_t n;
	int fd;

	/* thread-self: setns() moved this thread only */
	fd = open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* "TCP: inuse 1 orphan 0 tw 49 alloc 7 mem 2" */
	line = strstr(buf, "\nTCP: ");
	if (!line || sscanf(line, "\nTCP: inuse %lld orphan %*d tw %lld", &inuse, &tw) != 2 ||
	    inuse < 0 || tw < 0)
		return -EPROTO;
	out->inuse = inuse;
	out->tw = tw;
	/*
	 * "TCP: inuse" is IPv4's sockets alone (tcp_prot); IPv6's are
	 * "TCP6: inuse" in sockstat6, which a kernel without IPv6 has not.
	 * tw counts both families.
	 */
	fd = open("/proc/thread-self/net/sockstat6", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	if (!strncmp(buf, "TCP6: inuse ", 12) && sscanf(buf, "TCP6: inuse %lld", &inuse) == 1 &&
	    inuse > 0)
		out->inuse += inuse;
	return 0;
}
