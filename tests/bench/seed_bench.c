// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How long seeding takes with many sockets: opens N TCP sockets (N/2
 * loopback connections, both ends held, a tenth of them half-closed into
 * CLOSE_WAIT / FIN_WAIT2) inside a fresh network namespace, spread over
 * worker processes of at most PER_PROC fds each (RLIMIT_NOFILE may not be
 * raisable: a container without CAP_SYS_RESOURCE), then times
 * seed__run() - sock_diag dump, /proc owner scan, record building - and the
 * engine taking the records, first from inside that namespace, then from
 * our own with --netns pointing at it.  Root only (unshare, sysctls).
 *
 *   cc -O2 -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser tests/bench/seed_bench.c \
 *      user/seed.c user/diag.c user/procfd.c user/engine.c user/flowtab.c user/util.c -lmnl \
 *      -o .output/seed_bench
 *   .output/seed_bench [N=100000] [ROUNDS=5]
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "engine.h"
#include "seed.h"
#include "util.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int die(const char *what)
{
	fprintf(stderr, "seed_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		die(path);
	close(fd);
}

static void lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		die("get lo flags");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		die("set lo up");
	close(fd);
}

#define PER_PROC 16000
#define MAX_WORKERS 256

/* N/2 connections over loopback, both ends kept open. */
static void open_sockets(unsigned int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned int made = 0;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 65535) ||
	    getsockname(l, (struct sockaddr *)&a, &alen))
		die("listener");
	while (made + 2 <= n) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

		/* loopback: the handshake completes inside connect() */
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
			die("connect");
		s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			die("accept");
		if (made / 2 % 10 == 0)
			shutdown(c, SHUT_WR);	/* s: CLOSE_WAIT, c: FIN_WAIT2 */
		made += 2;
	}
}

struct sink {
	struct tt_engine *eng;
	uint64_t n;
};

static int count(void *ctx, const struct tt_event *e)
{
	((struct sink *)ctx)->n++;
	return 0;
}

static int feed(void *ctx, const struct tt_event *e)
{
	struct sink *s = ctx;

	s->n++;
	return engine__feed(s->eng, e);
}

/* CPU time of every thread of ours, in ms: what a busy host cannot inflate */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench(const char *what, const struct tt_opts *o, unsigned int rounds)
{
	double total[32], dump[32], scan[32], eng[32], cpu[32];
	struct seed_stats st;
	int ret = 0;

	if (rounds > 32)
		rounds = 32;
	for (unsigned int r = 0; r < rounds; r++) {
		struct sink s = { 0 };
		double c0 = cpu_ms();
		uint64_t t0 = now_ns();

		ret = seed__run(o, SEED_OURS, count, &s, &st);
		total[r] = (now_ns() - t0) / 1e6;
		cpu[r] = cpu_ms() - c0;
		dump[r] = st.dump_ns / 1e6;
		scan[r] = st.scan_ns / 1e6;
		if (ret < 0) {
			fprintf(stderr, "seed_bench: seed__run: %s\n", strerror(-ret));
			exit(1);
		}
		/* the same again, into a flow table, as the daemon does */
		s.eng = engine__new(&(struct tt_engine_opts){ .max_flows = 262144 });
		t0 = now_ns();
		seed__run(o, SEED_OURS, feed, &s, NULL);
		eng[r] = (now_ns() - t0) / 1e6;
		engine__free(s.eng);
	}
	qsort(total, rounds, sizeof(double), cmp);
	qsort(dump, rounds, sizeof(double), cmp);
	qsort(scan, rounds, sizeof(double), cmp);
	qsort(eng, rounds, sizeof(double), cmp);
	qsort(cpu, rounds, sizeof(double), cmp);
	printf("%s: %d seeded (%llu dumped, %llu with owner, %llu minisocks) in %u namespace(s)\n"
	       "  seed__run        median %7.1f ms  min %7.1f  max %7.1f  (CPU median %.1f ms)\n"
	       "    /proc scan     median %7.1f ms\n"
	       "    dump+records   median %7.1f ms\n"
	       "  seed+engine feed median %7.1f ms  min %7.1f  max %7.1f\n",
	       what, ret, (unsigned long long)st.dumped, (unsigned long long)st.owned,
	       (unsigned long long)st.minisocks, st.namespaces,
	       total[rounds / 2], total[0], total[rounds - 1], cpu[rounds / 2], scan[rounds / 2],
	       dump[rounds / 2],
	       eng[rounds / 2], eng[0], eng[rounds - 1]);
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 100000;
	unsigned int rounds = argc > 2 ? (unsigned int)atoi(argv[2]) : 5;
	pid_t workers[MAX_WORKERS];
	unsigned int nworkers = 0, share;
	int ready[2];
	char path[64];
	struct tt_opts o;
	uint64_t t0;
	int orig, fd;

	if (n < 2 || rounds < 1)
		return 2;
	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0 || unshare(CLONE_NEWNET))
		die("unshare a network namespace");
	lo_up();
	write_file("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
	write_file("/proc/sys/net/core/somaxconn", "65535");
	t0 = now_ns();
	if (pipe2(ready, O_CLOEXEC))
		die("pipe");
	for (unsigned int left = n; left >= 2; left -= share) {
		pid_t pid;

		share = left < PER_PROC ? left : PER_PROC;
		if (nworkers == MAX_WORKERS)
			break;
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			struct rlimit rl = { .rlim_cur = PER_PROC + 64, .rlim_max = PER_PROC + 64 };
			char c = 1;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max >= PER_PROC + 64) {
				rl.rlim_cur = PER_PROC + 64;
				setrlimit(RLIMIT_NOFILE, &rl);
			}
			open_sockets(share);
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		workers[nworkers++] = pid;
	}
	for (unsigned int i = 0; i < nworkers; i++) {
		char c;

		if (read(ready[0], &c, 1) != 1)
			die("wait for the workers");
	}
	printf("opened %u sockets in %u processes in %.0f ms (netns %u)\n", n, nworkers,
	       (now_ns() - t0) / 1e6, diag__self_netns());

	memset(&o, 0, sizeof(o));
	bench("own namespace", &o, rounds);

	/* pin it under /run/netns, go home and seed it through --netns */
	mkdir("/run/netns", 0755);
	snprintf(path, sizeof(path), "/run/netns/seed-bench-%d", getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	close(fd);
	if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL))
		die("bind-mount the namespace");
	o.netns = diag__self_netns();
	if (setns(orig, CLONE_NEWNET))
		die("setns back");
	bench("--netns from outside", &o, rounds);
	umount2(path, MNT_DETACH);
	unlink(path);
	for (unsigned int i = 0; i < nworkers; i++) {
		kill(workers[i], SIGKILL);
		waitpid(workers[i], NULL, 0);
	}
	return 0;
}
