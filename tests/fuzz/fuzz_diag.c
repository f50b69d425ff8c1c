// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for diag__parse(): any bytes as one recvmsg() of a
 * sock_diag dump.  Build and run:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser tests/fuzz/fuzz_diag.c \
 *     user/diag.c user/util.c -o .output/fuzz_diag
 *   .output/fuzz_diag -max_len=65536 .output/fuzz-corpus-diag tests/fuzz/corpus/diag
 *
 * Built with -DDIAG_CAPTURE instead (no -fsanitize=fuzzer) it is the tool
 * that wrote the seed corpus: it dumps this namespace's TCP sockets as
 * tcptrail does and writes every buffer the kernel returned to DIR/N.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "diag.h"

#ifndef DIAG_CAPTURE

struct sum {
	uint64_t v;
	unsigned int n;
};

static int on_sock(const struct diag_sock *s, void *ctx)
{
	struct sum *sum = ctx;

	/* read every field, so that the sanitizers check each was written */
	sum->v += s->family + s->state + s->timer + s->retrans + s->sport + s->dport +
		  s->ifindex + s->expires_ms + s->rqueue + s->wqueue + s->uid + s->inode +
		  s->cookie + s->has_info + s->last_data_recv_ms + s->last_ack_recv_ms +
		  s->tcpi_state;
	for (int i = 0; i < 16; i++)
		sum->v += s->saddr[i] ^ s->daddr[i];
	/* and take the path where the consumer stops the dump */
	if (++sum->n == 1000 || s->inode == 0xdeadbeef)
		return -ECANCELED;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly size bytes, so that any read past the end is caught */
	uint8_t *buf = malloc(size ? size : 1);
	struct sum sum = { 0 };
	int ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = diag__parse(buf, size, on_sock, &sum);
	if (ret > 1 || ret < -4095)
		abort();
	free(buf);
	return 0;
}

#else /* DIAG_CAPTURE */

#include <stdio.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

int main(int argc, char **argv)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	static uint32_t buf[8192];	/* 32 KiB: what the kernel fills at most */
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	for (int fam = 0; fam < 2; fam++) {
		memset(&req, 0, sizeof(req));
		req.nlh.nlmsg_len = sizeof(req);
		req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.nlh.nlmsg_seq = 1;
		req.r.sdiag_family = fam ? AF_INET6 : AF_INET;
		req.r.sdiag_protocol = IPPROTO_TCP;
		req.r.idiag_states = DIAG_STATES_ALL;
		/* half of them with tcp_info, as tcptrail asks; half as diag__count */
		req.r.idiag_ext = fam ? 0 : 1 << (INET_DIAG_INFO - 1);
		if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("sendto");
			return 1;
		}
		for (;;) {
			char path[4096];
			ssize_t len = recv(fd, buf, sizeof(buf), 0);
			const struct nlmsghdr *last = NULL;
			FILE *f;

			if (len <= 0) {
				perror("recv");
				return 1;
			}
			snprintf(path, sizeof(path), "%s/dump-%s-%02d", argv[1], fam ? "v6" : "v4-info",
				 n++);
			f = fopen(path, "w");
			if (!f || fwrite(buf, 1, (size_t)len, f) != (size_t)len || fclose(f)) {
				perror(path);
				return 1;
			}
			for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, len);
			     h = NLMSG_NEXT(h, len))
				last = h;
			if (last && (last->nlmsg_type == NLMSG_DONE || last->nlmsg_type == NLMSG_ERROR))
				break;
		}
	}
	close(fd);
	return 0;
}

#endif /* DIAG_CAPTURE */
