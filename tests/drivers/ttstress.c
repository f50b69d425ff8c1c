// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ttstress: loopback traffic for the soak and fault tests, in a network
 * namespace of its own, like ttdrive (tests/drivers/ttdrive.c): it prints
 * netns=INODE and pid=PID, waits for --go-file, runs a scenario, and prints
 * what it did and the namespace's own TCP counter deltas as key=value
 * lines.  Static, libc and syscalls only; every wait is bounded.
 *
 *   rate SECS [PROCS]   PROCS client and PROCS server processes (default 2)
 *                       make short connections as fast as they can for SECS
 *                       seconds (the client closes first, as tests/bench/ttload
 *                       does); the counters are read after every socket but
 *                       the TIME-WAIT ones is gone
 *   burst N M           N connections back to back on port 8000, a pause of
 *                       1 s, then M connections on port 8001, 20 ms apart
 *   lru                 three connections on port 8000 in the order that
 *                       tells least-recently-active eviction from oldest-first
 *                       (see lru() below), all closed at the end
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define PORT		8000
#define QUIET_PORT	8001
#define MAX_PROCS	16
#define MAX_ARG		1000000
#define NADDRS		64	/* 127.0.0.1..64: 64 times the port space */

static const char usage[] =
"usage: ttstress [--go-file PATH] [--timeout SECS] SCENARIO ARGS...\n"
"scenarios: rate SECS [PROCS], burst N M, lru\n";

static int timeout_s = 20;
static pid_t main_pid;
static pid_t children[2 * MAX_PROCS + 1];
static int n_children;

static void kill_children(void)
{
	for (int i = 0; getpid() == main_pid && i < n_children; i++)
		kill(children[i], SIGKILL);
	for (int i = 0; getpid() == main_pid && i < n_children; i++)
		waitpid(children[i], NULL, 0);
	n_children = 0;
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("ttstress: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	kill_children();
	exit(1);
}

static long parse_num(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		die(0, "%s: want a number in %ld..%ld, got '%s'", what, min, max, s ? s : "");
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno == ERANGE || v < min || v > max)
		die(0, "%s: want a number in %ld..%ld, got '%s'", what, min, max, s);
	return v;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void set_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(val, f) < 0 || fclose(f))
		die(errno, "write %s", path);
}

static void setup_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET))
		die(errno, "unshare(CLONE_NEWNET)%s", geteuid() ? " (needs root)" : "");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(errno, "socket for ioctl");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		die(errno, "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		die(errno, "bring lo up");
	close(fd);
	/*
	 * The whole port range and TIME-WAIT for every connection: past
	 * tcp_max_tw_buckets the kernel skips TIME-WAIT and flows change shape.
	 */
	set_sysctl("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
	set_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets", "4000000");
	set_sysctl("/proc/sys/net/core/somaxconn", "65535");
}

static void wait_for_file(const char *path)
{
	long long deadline = now_ms() + timeout_s * 1000LL;

	while (access(path, F_OK)) {
		if (now_ms() >= deadline)
			die(0, "%s did not appear within %d s", path, timeout_s);
		sleep_ms(100);
	}
}

/* ---- counters ----------------------------------------------------------- */

static const struct counter {
	const char *section;
	const char *name;
} counters[] = {
	{ "Tcp:", "ActiveOpens" },
	{ "Tcp:", "PassiveOpens" },
	{ "Tcp:", "AttemptFails" },
	{ "Tcp:", "EstabResets" },
	{ "TcpExt:", "TW" },
	{ "TcpExt:", "ListenOverflows" },
	{ "TcpExt:", "ListenDrops" },
};
#define N_COUNTERS (sizeof(counters) / sizeof(counters[0]))

/* /proc/self/net/{snmp,netstat}: a line of names, then a line of values. */
static void read_counter_file(const char *path, long long *vals)
{
	static char names[8192], values[8192];
	char *ns, *vs, *section, *n, *v;
	FILE *f = fopen(path, "re");

	if (!f)
		die(errno, "open %s", path);
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		section = strtok_r(names, " \n", &ns);
		v = strtok_r(values, " \n", &vs);
		if (!section || !v || strcmp(section, v))
			die(0, "%s: names and values out of step", path);
		while ((n = strtok_r(NULL, " \n", &ns)) && (v = strtok_r(NULL, " \n", &vs)))
			for (size_t i = 0; i < N_COUNTERS; i++)
				if (!strcmp(counters[i].section, section) && !strcmp(counters[i].name, n))
					vals[i] = strtoll(v, NULL, 10);
	}
	fclose(f);
}

/* /proc/self/net follows the reader's netns: the namespace's own counters. */
static void read_counters(long long *vals)
{
	read_counter_file("/proc/self/net/netstat", vals);
	read_counter_file("/proc/self/net/snmp", vals);
}

/* Sockets in the namespace that are not in TIME_WAIT (st 6) or LISTEN (st 10). */
static int busy_sockets(void)
{
	char line[512];
	unsigned int st;
	int n = 0;
	FILE *f = fopen("/proc/self/net/tcp", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*u: %*s %*s %x", &st) == 1 && st != 6 && st != 10)
			n++;
	fclose(f);
	return n;
}

/* Every transition the traffic causes has happened once this returns. */
static void settle(void)
{
	long long deadline = now_ms() + 5000;
	int left;

	while ((left = busy_sockets()) && now_ms() < deadline)
		sleep_ms(10);
	printf("sockets_left=%d\n", left);
}

/* ---- sockets ------------------------------------------------------------ */

static void addr(struct sockaddr_in *sin, int port, unsigned long i)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i % NADDRS));
}

static int tcp_socket(void)
{
	struct timeval tv = { .tv_sec = timeout_s };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die(errno, "socket");
	/* bounds connect(), accept() and read(); accepted sockets inherit it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die(errno, "set socket timeouts");
	return fd;
}

static int tcp_listen(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = tcp_socket(), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die(errno, "bind port %d", port);
	if (listen(fd, 65535))
		die(errno, "listen on port %d", port);
	return fd;
}

static int tcp_connect(int port, unsigned long i)
{
	struct sockaddr_in sin;
	int fd = tcp_socket();

	addr(&sin, port, i);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die(errno, "connect to port %d", port);
	return fd;
}

static int tcp_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		die(errno == EAGAIN ? ETIMEDOUT : errno, "accept");
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		die(errno, "getsockname");
	return ntohs(sin.sin_port);
}

/* Reads to the peer's FIN; 0 or -errno. */
static int drain(int fd)
{
	char buf[256];
	ssize_t n;

	for (int i = 0; i < 1000; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	return -EFBIG;
}

static pid_t spawn(void (*fn)(void *), void *arg)
{
	pid_t pid;

	if (n_children == (int)(sizeof(children) / sizeof(children[0])))
		die(0, "too many children");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die(errno, "fork");
	if (pid == 0) {
		/* go down with ttstress, even when a test kills it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != main_pid)
			_exit(1);
		fn(arg);
		_exit(0);
	}
	children[n_children++] = pid;
	return pid;
}

/* Waits for every child, at most `secs`; returns how many failed. */
static int reap_all(int secs)
{
	long long deadline = now_ms() + secs * 1000LL;
	int failed = 0, status;

	while (n_children > 0) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid < 0)
			die(errno, "waitpid");
		if (pid == 0) {
			if (now_ms() >= deadline)
				die(0, "%d children still running after %d s", n_children, secs);
			sleep_ms(5);
			continue;
		}
		for (int i = 0; i < n_children; i++)
			if (children[i] == pid)
				children[i] = children[--n_children];
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	return failed;
}

/* Waits for these children only, at most `secs`; returns how many failed. */
static int reap_some(const pid_t *pids, int n, int secs)
{
	long long deadline = now_ms() + secs * 1000LL;
	int failed = 0, status;

	for (int k = 0; k < n; k++) {
		pid_t r;

		while ((r = waitpid(pids[k], &status, WNOHANG)) == 0) {
			if (now_ms() >= deadline)
				die(0, "child %d still running after %d s", pids[k], secs);
			sleep_ms(5);
		}
		if (r < 0)
			die(errno, "waitpid %d", pids[k]);
		for (int i = 0; i < n_children; i++)
			if (children[i] == pids[k])
				children[i] = children[--n_children];
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	return failed;
}

/* ---- rate --------------------------------------------------------------- */

struct slot {
	volatile uint64_t conns;
	volatile uint64_t errors;
	char pad[48];
};

struct shared {
	volatile int stop_clients;
	volatile int stop_servers;
	int lfd;
	struct slot client[MAX_PROCS];
	struct slot server[MAX_PROCS];
};

static struct shared *sh;

static void client_loop(void *arg)
{
	struct slot *me = arg;
	struct sockaddr_in sin;
	unsigned long i = (unsigned long)(me - sh->client);
	int fd;

	while (!sh->stop_clients) {
		addr(&sin, PORT, i++);
		fd = tcp_socket();
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			me->errors++;
			close(fd);
			/* a broken setup must not spin for the whole run */
			if (me->errors > 1000)
				_exit(1);
			continue;
		}
		close(fd);
		me->conns++;
	}
}

static void server_loop(void *arg)
{
	struct slot *me = arg;
	struct pollfd p = { .fd = sh->lfd, .events = POLLIN };

	for (;;) {
		int fd, r = poll(&p, 1, 100);

		if (r < 0 && errno != EINTR)
			_exit(1);
		if (r <= 0) {
			/* the clients are done and the accept queue is empty */
			if (sh->stop_servers)
				return;
			continue;
		}
		fd = accept4(sh->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			if (++me->errors > 1000)
				_exit(1);
			continue;
		}
		/* blocking again, bounded by the inherited SO_RCVTIMEO */
		{
			int fl = 0;

			ioctl(fd, FIONBIO, &fl);
		}
		if (drain(fd))
			me->errors++;
		close(fd);
		me->conns++;
	}
}

static uint64_t total(const struct slot *s, int n, bool errors)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		t += errors ? s[i].errors : s[i].conns;
	return t;
}

static void rate(long secs, long procs)
{
	pid_t clients[MAX_PROCS];
	long long t0, last;
	int failed;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die(errno, "mmap the counters");
	memset(sh, 0, sizeof(*sh));
	sh->lfd = tcp_listen(PORT);
	for (int i = 0; i < procs; i++)
		spawn(server_loop, &sh->server[i]);
	for (int i = 0; i < procs; i++)
		clients[i] = spawn(client_loop, &sh->client[i]);
	t0 = last = now_ms();
	/* a line a second, so a test can tell how far the load has got */
	while (now_ms() - t0 < secs * 1000) {
		sleep_ms(100);
		if (now_ms() - last >= 1000) {
			last += 1000;
			printf("progress=%lld conns=%llu\n", (last - t0) / 1000,
			       (unsigned long long)total(sh->client, (int)procs, false));
			fflush(stdout);
		}
	}
	sh->stop_clients = 1;
	/*
	 * The clients first, then the servers once the accept queue is empty.
	 * A server may still wait in drain() for a straggler's FIN (one in a
	 * few runs, with or without tcptrail: a handshake that completed late,
	 * on a retransmit), which SO_RCVTIMEO (timeout_s) bounds.
	 */
	failed = reap_some(clients, (int)procs, 10);
	sh->stop_servers = 1;
	failed += reap_all(timeout_s + 5);
	close(sh->lfd);
	printf("secs=%ld\nprocs=%ld\nconns=%llu\naccepted=%llu\nerrors=%llu\nfailed_procs=%d\n"
	       "rate=%.0f\n", secs, procs,
	       (unsigned long long)total(sh->client, (int)procs, false),
	       (unsigned long long)total(sh->server, (int)procs, false),
	       (unsigned long long)(total(sh->client, (int)procs, true) +
				    total(sh->server, (int)procs, true)), failed,
	       total(sh->client, (int)procs, false) * 1000.0 / (double)(secs * 1000));
	if (failed)
		die(0, "%d load processes failed", failed);
}

/* ---- burst -------------------------------------------------------------- */

struct serve_arg {
	int lfd;
	long n;
};

static void serve_n(void *p)
{
	struct serve_arg *a = p;

	for (long i = 0; i < a->n; i++) {
		int fd = tcp_accept(a->lfd);

		if (drain(fd))
			_exit(1);
		close(fd);
	}
}

static void burst(long n, long m)
{
	struct serve_arg a;
	int fd;

	a.lfd = tcp_listen(PORT);
	a.n = n;
	spawn(serve_n, &a);
	close(a.lfd);
	for (long i = 0; i < n; i++)
		close(tcp_connect(PORT, (unsigned long)i));
	if (reap_all(timeout_s))
		die(0, "the burst's server failed");
	printf("burst=%ld\nburst_port=%d\n", n, PORT);
	fflush(stdout);

	/* the quiet phase: its listener is born after the burst has drained */
	sleep_ms(1000);
	a.lfd = tcp_listen(QUIET_PORT);
	a.n = m;
	spawn(serve_n, &a);
	close(a.lfd);
	for (long i = 0; i < m; i++) {
		fd = tcp_connect(QUIET_PORT, 0);
		close(fd);
		sleep_ms(20);
	}
	if (reap_all(timeout_s))
		die(0, "the quiet phase's server failed");
	printf("quiet=%ld\nquiet_port=%d\n", m, QUIET_PORT);
}

/* ---- lru ---------------------------------------------------------------- */

/*
 * With room for 5 flows: the listener L, then c1 (active a1, passive p1),
 * then c2 (a2, p2).  c1 then half-closes, which makes a1 and p1 the most
 * recently active.  c3 then pushes out a2 and p2, the least recently
 * active but for L, which a full table keeps; oldest-first would have taken
 * a1 and p1, and least-recently-active alone L first.  Then c1 ends (a1 in
 * TIME_WAIT, p1 closed), then c3, c2 and the listener.
 */
static void lru(void)
{
	int lfd = tcp_listen(PORT), c[3], s[3], port[3];

	sleep_ms(20);
	for (int i = 0; i < 2; i++) {
		c[i] = tcp_connect(PORT, 0);
		port[i] = local_port(c[i]);
		s[i] = tcp_accept(lfd);
		sleep_ms(20);
	}
	if (shutdown(c[0], SHUT_WR))
		die(errno, "shutdown c1");
	if (drain(s[0]))
		die(errno, "read c1's FIN");
	sleep_ms(20);
	c[2] = tcp_connect(PORT, 0);
	port[2] = local_port(c[2]);
	s[2] = tcp_accept(lfd);
	sleep_ms(20);
	close(s[0]);
	if (drain(c[0]))
		die(errno, "read the FIN of c1's server");
	close(c[0]);
	sleep_ms(20);
	for (int i = 2; i > 0; i--) {
		close(c[i]);
		if (drain(s[i]))
			die(errno, "read c%d's FIN", i + 1);
		close(s[i]);
		sleep_ms(20);
	}
	close(lfd);
	printf("listen_port=%d\nc1_port=%d\nc2_port=%d\nc3_port=%d\n", PORT, port[0], port[1],
	       port[2]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "go-file", required_argument, NULL, 'g' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long before[N_COUNTERS] = { 0 }, after[N_COUNTERS] = { 0 };
	const char *go_file = NULL, *sc;
	struct rlimit rl = { 65536, 65536 };
	struct stat st;
	int c, nargs;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			go_file = optarg;
			break;
		case 't':
			timeout_s = (int)parse_num("--timeout", optarg, 1, 3600);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind == argc) {
		fputs(usage, stderr);
		return 2;
	}
	sc = argv[optind];
	nargs = argc - optind - 1;
	if (!((!strcmp(sc, "rate") && (nargs == 1 || nargs == 2)) ||
	      (!strcmp(sc, "burst") && nargs == 2) || (!strcmp(sc, "lru") && nargs == 0))) {
		fputs(usage, stderr);
		return 2;
	}
	/* fine if it fails: only the fd-hungry runs need it */
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	main_pid = getpid();
	setup_netns();
	if (stat("/proc/self/ns/net", &st))
		die(errno, "stat /proc/self/ns/net");
	printf("netns=%llu\npid=%d\n", (unsigned long long)st.st_ino, main_pid);
	fflush(stdout);
	if (go_file)
		wait_for_file(go_file);

	read_counters(before);
	printf("scenario=%s\n", sc);
	fflush(stdout);
	if (!strcmp(sc, "rate"))
		rate(parse_num("SECS", argv[optind + 1], 1, 3600),
		     nargs == 2 ? parse_num("PROCS", argv[optind + 2], 1, MAX_PROCS) : 2);
	else if (!strcmp(sc, "burst"))
		burst(parse_num("N", argv[optind + 1], 1, MAX_ARG),
		      parse_num("M", argv[optind + 2], 1, MAX_ARG));
	else
		lru();
	settle();
	read_counters(after);
	for (size_t i = 0; i < N_COUNTERS; i++)
		printf("kernel.%s=%lld\n", counters[i].name, after[i] - before[i]);
	printf("done\n");
	return 0;
}
