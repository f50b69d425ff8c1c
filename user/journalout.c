// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sink support: our journald client (journalout.h); journal.c is the sink.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "journalout.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL	0x0008U		/* Linux 6.3 */
#endif

/* what journald itself asks of a client socket; the kernel caps it at net.core.wmem_max */
#define SNDBUF_SIZE (8 * 1024 * 1024)

struct tt_journalout {
	int fd;
	struct sockaddr_un sa;
	char *buf;		/* the entry as sent */
	size_t size;
};

struct tt_journalout *journalout__new(const char *path)
{
	struct tt_journalout *j;
	int sndbuf = SNDBUF_SIZE;

	if (!path)
		path = getenv("TCPTRAIL_JOURNAL_SOCKET");
	if (!path || !*path)
		path = TT_JOURNAL_SOCKET;
	if (strlen(path) >= sizeof(j->sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->sa.sun_family = AF_UNIX;
	strcpy(j->sa.sun_path, path);
	/* unconnected: a journald that restarts is found at its path at the next send */
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (j->fd < 0) {
		free(j);
		return NULL;
	}
	/* a bigger datagram before the memfd; no matter if refused */
	(void)setsockopt(j->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return j;
}

void journalout__free(struct tt_journalout *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->buf);
	free(j);
}

const char *journalout__path(const struct tt_journalout *j)
{
	return j->sa.sun_path;
}

/* The native protocol: NAME=value\n, or NAME\n<le64 length>value\n for a value with newlines. */
static ssize_t encode(struct tt_journalout *j, const struct iovec *iov, int n)
{
	size_t need = 0, at = 0;

	for (int i = 0; i < n; i++)
		need += iov[i].iov_len + 1 + sizeof(uint64_t) + 1;
	if (need > j->size) {
		char *b = realloc(j->buf, need);

		if (!b)
			return -ENOMEM;
		j->buf = b;
		j->size = need;
	}
	for (int i = 0; i < n; i++) {
		const char *f = iov[i].iov_base, *eq = memchr(f, '=', iov[i].iov_len);
		size_t len = iov[i].iov_len;

		if (!eq || eq == f)
			return -EINVAL;
		if (memchr(eq, '\n', len - (size_t)(eq - f))) {
			size_t name = (size_t)(eq - f);
			uint64_t vlen = htole64(len - name - 1);

			memcpy(j->buf + at, f, name);
			at += name;
			j->buf[at++] = '\n';
			memcpy(j->buf + at, &vlen, sizeof(vlen));
			at += sizeof(vlen);
			memcpy(j->buf + at, eq + 1, len - name - 1);
			at += len - name - 1;
		} else {
			memcpy(j->buf + at, f, len);
			at += len;
		}
		j->buf[at++] = '\n';
	}
	return (ssize_t)at;
}

/*
 * Past what a datagram takes: the entry in a memfd, sealed so journald
 * knows it cannot change under it, and the fd alone in the datagram.
 */
static int send_memfd(struct tt_journalout *j, size_t len)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl = {};
	struct msghdr mh = { .msg_name = &j->sa, .msg_namelen = sizeof(j->sa),
			     .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fd, err = 0;

	/* not executable, as vm.memfd_noexec=2 requires; before Linux 6.3 the flag is unknown */
	fd = memfd_create("tcptrail-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("tcptrail-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	for (size_t at = 0; at < len && !err;) {
		ssize_t w = write(fd, j->buf + at, len - at);

		if (w < 0)
			err = -errno;
		else
			at += (size_t)w;
	}
	if (!err && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
		err = -errno;
	if (!err) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(j->fd, &mh, MSG_NOSIGNAL) < 0)
			err = -errno;
	}
	close(fd);
	return err;
}

int journalout__send(struct tt_journalout *j, const struct iovec *iov, int n)
{
	ssize_t len = encode(j, iov, n);

	if (len < 0)
		return (int)len;
	if (sendto(j->fd, j->buf, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&j->sa,
		   sizeof(j->sa)) >= 0)
		return 0;
	/* longer than the socket's send buffer (af_unix takes sk_sndbuf - 32 bytes) */
	if (errno == EMSGSIZE || errno == ENOBUFS)
		return send_memfd(j, (size_t)len);
	return -errno;
}
