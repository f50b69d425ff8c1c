// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flowmem: what a tracked flow costs the daemon, measured on the real flow
 * engine (user/engine.c) with N concurrent flows fed synthetically: each
 * flow gets the two records an outgoing connect() produces (CLOSE > SYN_SENT
 * with no local port yet, then SYN_SENT > ESTABLISHED) and stays open.
 *
 *   flowmem [-n FLOWS]		(default 1048576, the table sized to match)
 *
 * Prints key=value lines: the bytes engine__mem_bytes() accounts for, the
 * resident memory the process grew by, both per flow, and the engine's
 * time per record.  No root, no BPF.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine.h"

/* Resident set, from /proc/self/status, in bytes; 0 if unreadable. */
static unsigned long long vm_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			kb = strtoull(line + len + 1, NULL, 10);
			break;
		}
	}
	if (f)
		fclose(f);
	return kb * 1024;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill(struct tt_event *e, uint64_t i, uint8_t old, uint8_t new, uint64_t ts)
{
	memset(e, 0, sizeof(*e));
	e->type = TT_EV_TRANSITION;
	e->family = TT_AF_INET;
	e->old_state = old;
	e->new_state = new;
	e->flags = TT_F_OWNER;
	e->hook = TT_HOOK_TP_BTF_SET_STATE;
	/* tcp_v4_connect() picks the local port after the SYN_SENT transition */
	e->sport = new == TT_SYN_SENT ? 0 : (uint16_t)(1024 + i % 64000);
	e->dport = 443;
	e->netns = 4026531840u;
	e->pid = e->tgid = 4242;
	e->ts_ns = ts;
	/* struct sock addresses: 2 KiB slab objects in the direct map */
	e->sk = 0xffff888100000000ull + i * 2048;
	e->saddr[0] = 10;
	e->saddr[3] = 1;
	e->daddr[0] = 10;
	e->daddr[1] = (uint8_t)(i >> 16);
	e->daddr[2] = (uint8_t)(i >> 8);
	e->daddr[3] = (uint8_t)i;
	memcpy(e->comm, "client", 7);
}

int main(int argc, char **argv)
{
	uint64_t n = 1048576, ts = 1000000000ull;
	unsigned long long rss0, rss1, rss2;
	const struct tt_engine_stats *st;
	struct tt_engine *eng;
	struct tt_event e;
	double t0, t1;
	char *end;

	if (argc == 3 && !strcmp(argv[1], "-n")) {
		errno = 0;
		n = strtoull(argv[2], &end, 10);
		if (errno || *end || argv[2][0] < '1' || argv[2][0] > '9' || n > (1ull << 26)) {
			fprintf(stderr, "flowmem: -n: '%s' is not a number from 1 to 67108864\n",
				argv[2]);
			return 2;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: flowmem [-n FLOWS]\n");
		return 2;
	}

	rss0 = vm_kb("VmRSS");
	eng = engine__new(&(struct tt_engine_opts){ .max_flows = n });
	if (!eng) {
		fprintf(stderr, "flowmem: engine__new(%llu flows): %s\n", (unsigned long long)n,
			strerror(errno));
		return 1;
	}
	rss1 = vm_kb("VmRSS");
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		fill(&e, i, TT_CLOSE, TT_SYN_SENT, ts++);
		engine__feed(eng, &e);
		fill(&e, i, TT_SYN_SENT, TT_ESTABLISHED, ts++);
		engine__feed(eng, &e);
	}
	t1 = now_s();
	rss2 = vm_kb("VmRSS");
	st = engine__total(eng);
	if (st->active != n || st->evicted) {
		fprintf(stderr, "flowmem: %zu flows active and %llu evicted, expected %llu and 0\n",
			st->active, (unsigned long long)st->evicted, (unsigned long long)n);
		engine__free(eng);
		return 1;
	}
	printf("flows=%llu\n", (unsigned long long)n);
	printf("entry_bytes=%zu\n", sizeof(struct tt_flow));
	printf("mem_bytes=%zu\n", engine__mem_bytes(eng));
	printf("mem_per_flow=%.1f\n", (double)engine__mem_bytes(eng) / (double)n);
	printf("rss_new_bytes=%llu\n", rss1 - rss0);
	printf("rss_growth_bytes=%llu\n", rss2 - rss0);
	printf("rss_per_flow=%.1f\n", (double)(rss2 - rss0) / (double)n);
	printf("feed_ns_per_record=%.1f\n", (t1 - t0) * 1e9 / (2.0 * (double)n));
	engine__free(eng);
	return 0;
}
