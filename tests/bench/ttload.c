// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ttload: TCP load for `make bench`, on loopback in a network namespace of
 * its own (so the namespace's TIME-WAIT sockets and port space start empty
 * every run and are freed with it).
 *
 *   ttload rate [-d SECS] [-w SECS] [-p PROCS] [-a ADDRS]
 *	PROCS client and PROCS server processes make short connections as
 *	fast as they can: the client connects and closes at once (it closes
 *	first, as a typical client does, and keeps the TIME-WAIT); the server
 *	accepts, reads to EOF and closes.  After -w seconds of warm-up, counts
 *	connections for -d seconds, or until SIGTERM or SIGINT.
 *
 *   ttload hold -n SOCKETS [-t SECS]
 *	SOCKETS/2 connections over loopback, both ends kept open (SOCKETS
 *	sockets plus the listener, spread over processes if RLIMIT_NOFILE
 *	asks), then "ready" on stdout; holds them until SIGTERM or SIGINT, or
 *	for -t seconds (default 300).
 *
 *   ttload hold-ns -N NAMESPACES -n SOCKETS [-e ENTRIES] [-t SECS]
 *	The same in each of NAMESPACES network namespaces (one process tree
 *	each), where the client half-closes every tenth connection: the
 *	server's end waits in CLOSE_WAIT and the client's in FIN_WAIT2, as
 *	on a host of containers with a leak or two.  -e: the namespaces are
 *	made from one of ours whose net.ipv4.tcp_child_ehash_entries is
 *	ENTRIES, so each gets an established hash table of its own instead
 *	of sharing the host's (the host's sysctl is left alone).
 *
 * Both print key=value lines on stdout; errors go to stderr, exit 1.  Every
 * wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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

#define PORT		9000
#define MAX_PROCS	64
#define MAX_ADDRS	250

static const char usage[] =
"usage: ttload rate [-d SECS] [-w SECS] [-p PROCS] [-a ADDRS]\n"
"       ttload hold -n SOCKETS [-t SECS]\n"
"       ttload hold-ns -N NAMESPACES -n SOCKETS [-e ENTRIES] [-t SECS]\n";

static pid_t children[2 * MAX_PROCS];
static int n_children;
static pid_t main_pid;
static int half_close_every;	/* hold-ns: shut the client's writes every Nth */
static int quiet_netns;		/* hold-ns: no netns=/pid= lines per namespace */

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

	fputs("ttload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	kill_children();
	exit(1);
}

static long parse_num(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = s && *s >= '0' && *s <= '9' ? strtol(s, &end, 10) : -1;
	if (!s || *s < '0' || *s > '9' || *end || errno == ERANGE || v < min || v > max) {
		fprintf(stderr, "ttload: %s: '%s' is not a number from %ld to %ld\n%s", opt,
			s ? s : "", min, max, usage);
		exit(2);
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Writes a sysctl of the namespace we are in: /proc/sys/net follows the opener's. */
static void set_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(val, f) < 0 || fclose(f))
		die(errno, "write %s", path);
}

static void setup_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	struct stat st;
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
	 * The whole port range, and TIME-WAIT for every connection of a run:
	 * past tcp_max_tw_buckets the kernel skips TIME-WAIT and the flows
	 * would change shape half-way through a run.
	 */
	set_sysctl("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
	set_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets", "4000000");
	set_sysctl("/proc/sys/net/core/somaxconn", "65535");
	if (stat("/proc/self/ns/net", &st))
		die(errno, "stat /proc/self/ns/net");
	if (quiet_netns)
		return;
	printf("netns=%llu\npid=%d\n", (unsigned long long)st.st_ino, (int)getpid());
	fflush(stdout);
}

/* TcpExt counters of this namespace, by name; 0 if absent. */
static unsigned long long tcpext(const char *name)
{
	char hdr[4096], val[4096], *hs, *vs, *h, *v;
	unsigned long long out = 0;
	FILE *f = fopen("/proc/self/net/netstat", "re");

	if (!f)
		return 0;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, "TcpExt:", 7))
			continue;
		h = strtok_r(hdr + 7, " \n", &hs);
		v = strtok_r(val + 7, " \n", &vs);
		for (; h && v; h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs))
			if (!strcmp(h, name))
				out = strtoull(v, NULL, 10);
	}
	fclose(f);
	return out;
}

static int listener(int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(errno, "socket for the listener");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die(errno, "bind 0.0.0.0:%d", PORT);
	if (listen(fd, backlog))
		die(errno, "listen");
	return fd;
}

/* 127.0.0.(1 + i % naddrs): every address of lo's 127/8 is local. */
static void peer(struct sockaddr_in *sin, unsigned long i, int naddrs)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(PORT);
	sin->sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i % (unsigned long)naddrs));
}

/* ---- rate -------------------------------------------------------------- */

/* One cache line per process, so counting does not bounce lines between CPUs. */
struct slot {
	volatile uint64_t conns;
	volatile uint64_t errors;
	volatile int first_errno;
	char pad[64 - 2 * sizeof(uint64_t) - sizeof(int)];
} __attribute__((aligned(64)));

struct shared {
	volatile int stop;
	char pad[60];
	struct slot client[MAX_PROCS];
	struct slot server[MAX_PROCS];
};

static void client_loop(struct shared *sh, int idx, int naddrs)
{
	struct slot *me = &sh->client[idx];
	struct sockaddr_in sin;
	unsigned long i = (unsigned long)idx;
	int fd;

	while (!sh->stop) {
		peer(&sin, i++, naddrs);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			/* refused after the stop: the listener is gone, not an error */
			if (sh->stop) {
				if (fd >= 0)
					close(fd);
				break;
			}
			if (!me->errors)
				me->first_errno = errno;
			me->errors++;
			if (fd >= 0)
				close(fd);
			/* a broken setup must not spin for the whole run */
			if (me->errors > 1000)
				_exit(1);
			continue;
		}
		close(fd);
		me->conns++;
	}
	_exit(0);
}

static void server_loop(struct shared *sh, int idx, int lfd)
{
	struct slot *me = &sh->server[idx];
	char buf[64];
	ssize_t n;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (sh->stop)
				_exit(0);
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (!me->errors)
				me->first_errno = errno;
			me->errors++;
			if (me->errors > 1000)
				_exit(1);
			continue;
		}
		/* the client closes first: read to its FIN, then close */
		do
			n = read(fd, buf, sizeof(buf));
		while (n > 0 || (n < 0 && errno == EINTR));
		close(fd);
		me->conns++;
	}
}

static uint64_t sum_conns(const struct slot *s, int n)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		t += s[i].conns;
	return t;
}

/* SIGTERM or SIGINT: rate ends its count early, hold lets go */
static volatile sig_atomic_t stop_hold;

static void on_term(int sig)
{
	(void)sig;
	stop_hold = 1;
}

static int cmd_rate(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	double dur = 5, warm = 1, t0, t1, deadline;
	int procs = 2, naddrs = 64, lfd, opt, status, err_no = 0;
	unsigned long long ovf0, drop0;
	uint64_t c0, c1, errors = 0;
	struct shared *sh;
	struct rusage ru;

	while ((opt = getopt(argc, argv, "d:w:p:a:")) != -1) {
		switch (opt) {
		case 'd': dur = (double)parse_num("-d", optarg, 1, 600); break;
		case 'w': warm = (double)parse_num("-w", optarg, 0, 60); break;
		case 'p': procs = (int)parse_num("-p", optarg, 1, MAX_PROCS); break;
		case 'a': naddrs = (int)parse_num("-a", optarg, 1, MAX_ADDRS); break;
		default: fputs(usage, stderr); return 2;
		}
	}
	setup_netns();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die(errno, "mmap the counters");
	memset(sh, 0, sizeof(*sh));
	lfd = listener(65535);
	ovf0 = tcpext("ListenOverflows");
	drop0 = tcpext("ListenDrops");

	for (int i = 0; i < 2 * procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die(errno, "fork");
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (i < procs)
				server_loop(sh, i, lfd);
			else
				client_loop(sh, i - procs, naddrs);
		}
		children[n_children++] = pid;
	}

	/* set after the forks: a child keeps the default action and dies by it */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sleep_s(warm);
	c0 = sum_conns(sh->client, procs);
	t0 = now_s();
	while (!stop_hold && now_s() < t0 + dur)
		sleep_s(0.05);
	c1 = sum_conns(sh->client, procs);
	t1 = now_s();

	sh->stop = 1;
	/* wakes the servers blocked in accept(): it returns EINVAL */
	shutdown(lfd, SHUT_RDWR);
	deadline = now_s() + 10;
	while (n_children > 0 && now_s() < deadline) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0) {
			sleep_s(0.01);
			continue;
		}
		for (int i = 0; i < n_children; i++) {
			if (children[i] == pid) {
				children[i] = children[--n_children];
				break;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			errors++;
	}
	if (n_children > 0)
		die(0, "%d load processes did not stop within 10 s", n_children);

	for (int i = 0; i < procs; i++) {
		errors += sh->client[i].errors + sh->server[i].errors;
		if (!err_no)
			err_no = sh->client[i].first_errno ? sh->client[i].first_errno :
				 sh->server[i].first_errno;
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("procs=%d\naddrs=%d\nsecs=%.3f\nconns=%llu\nrate=%.0f\ntotal=%llu\nerrors=%llu\n",
	       procs, naddrs, t1 - t0, (unsigned long long)(c1 - c0), (c1 - c0) / (t1 - t0),
	       (unsigned long long)sum_conns(sh->client, procs), (unsigned long long)errors);
	if (err_no)
		printf("first_error=%s\n", strerror(err_no));
	printf("listen_overflows=%llu\nlisten_drops=%llu\n", tcpext("ListenOverflows") - ovf0,
	       tcpext("ListenDrops") - drop0);
	printf("load_cpu_s=%.3f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
}

/* ---- hold -------------------------------------------------------------- */

/*
 * One holder: `conns` connections, both ends kept open; its fds must fit
 * in its RLIMIT_NOFILE.  Says "done" with a byte on `ready`, then waits to
 * be killed (by the parent, or by PDEATHSIG with it).
 */
static void __attribute__((noreturn)) hold_some(int lfd, long conns, long first, int ready)
{
	struct sockaddr_in sin;
	char ok = 1;

	for (long i = 0; i < conns; i++) {
		int fd;

		/* 16 peer addresses keep the port search short with 50k+ ports in use */
		peer(&sin, (unsigned long)(first + i), 16);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die(errno, "socket %ld", first + i);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
			die(errno, "connect %ld", first + i);
		if (half_close_every && (first + i) % half_close_every == 0)
			shutdown(fd, SHUT_WR);
		/* the queue is shared: this is some holder's connection, which is as good */
		if (accept4(lfd, NULL, NULL, SOCK_CLOEXEC) < 0)
			die(errno, "accept %ld", first + i);
	}
	if (write(ready, &ok, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* n sockets in a namespace of our own, over holders; returns how many holders. */
static int hold_up(long n)
{
	long conns = n / 2, per, first;
	int lfd, pipefd[2], done = 0;
	struct rlimit rl;

	/*
	 * Raising the hard limit takes CAP_SYS_RESOURCE, which a container's
	 * root may lack: spread the sockets over as many holders as the hard
	 * limit asks for, each with its soft limit raised to the hard one.
	 */
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die(errno, "getrlimit RLIMIT_NOFILE");
	if (rl.rlim_max < (rlim_t)n + 64) {
		struct rlimit want = { (rlim_t)n + 64, (rlim_t)n + 64 };

		if (!setrlimit(RLIMIT_NOFILE, &want))
			rl = want;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die(errno, "raise RLIMIT_NOFILE to its hard limit");
	per = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)n + 64 ? conns :
	      ((long)rl.rlim_max - 64) / 2;
	if (per < 1)
		die(0, "RLIMIT_NOFILE %llu is too low", (unsigned long long)rl.rlim_max);
	if ((conns + per - 1) / per > 2 * MAX_PROCS)
		die(0, "%ld sockets need more than %d holders of %ld", n, 2 * MAX_PROCS, 2 * per);

	setup_netns();
	lfd = listener(65535);
	if (pipe2(pipefd, O_CLOEXEC))
		die(errno, "pipe");

	for (first = 0; first < conns; first += per) {
		long k = conns - first < per ? conns - first : per;
		pid_t pid = fork();

		if (pid < 0)
			die(errno, "fork");
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(pipefd[0]);
			/* one holder at a time: they share the accept queue */
			hold_some(lfd, k, first, pipefd[1]);
		}
		children[n_children++] = pid;
		{
			struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
			char c;

			if (poll(&p, 1, 120000) <= 0 || read(pipefd[0], &c, 1) != 1)
				die(0, "holder %d did not finish its %ld connections in 120 s",
				    n_children, k);
			done++;
		}
	}
	close(pipefd[0]);
	close(pipefd[1]);
	close(lfd);
	return done;
}

static void hold_wait(long secs)
{
	double deadline = now_s() + (double)secs;

	while (!stop_hold && now_s() < deadline)
		sleep_s(0.1);
	kill_children();
}

static int cmd_hold(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	long n = 0, secs = 300;
	int opt, done;

	while ((opt = getopt(argc, argv, "n:t:")) != -1) {
		switch (opt) {
		case 'n': n = parse_num("-n", optarg, 2, 2000000); break;
		case 't': secs = parse_num("-t", optarg, 1, 3600); break;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!n) {
		fputs(usage, stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	done = hold_up(n);
	printf("holders=%d\nsockets=%ld\nready\n", done, n / 2 * 2);
	fflush(stdout);
	hold_wait(secs);
	return 0;
}

static int cmd_hold_ns(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	long n = 0, secs = 300, nns = 0, ehash = 0;
	int opt, pipefd[2];

	while ((opt = getopt(argc, argv, "N:n:e:t:")) != -1) {
		switch (opt) {
		case 'N': nns = parse_num("-N", optarg, 1, 2 * MAX_PROCS); break;
		case 'e': ehash = parse_num("-e", optarg, 128, 1 << 24); break;
		case 'n': n = parse_num("-n", optarg, 2, 100000); break;
		case 't': secs = parse_num("-t", optarg, 1, 3600); break;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!n || !nns) {
		fputs(usage, stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (pipe2(pipefd, O_CLOEXEC))
		die(errno, "pipe");
	half_close_every = 10;
	quiet_netns = 1;
	if (ehash) {
		char v[32];

		/* a parent namespace of ours: its sysctl is for the namespaces it makes */
		if (unshare(CLONE_NEWNET))
			die(errno, "unshare(CLONE_NEWNET) for the parent namespace");
		snprintf(v, sizeof(v), "%ld", ehash);
		set_sysctl("/proc/sys/net/ipv4/tcp_child_ehash_entries", v);
	}
	for (long i = 0; i < nns; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die(errno, "fork");
		if (pid == 0) {
			char c = 1;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(pipefd[0]);
			/* a tree of its own: its holders are its children */
			main_pid = getpid();
			n_children = 0;
			hold_up(n);
			if (write(pipefd[1], &c, 1) != 1)
				_exit(1);
			hold_wait(secs);
			_exit(0);
		}
		children[n_children++] = pid;
	}
	close(pipefd[1]);
	for (long i = 0; i < nns; i++) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		char c;

		if (poll(&p, 1, 120000) <= 0 || read(pipefd[0], &c, 1) != 1)
			die(0, "namespace %ld of %ld was not ready in 120 s", i + 1, nns);
	}
	printf("namespaces=%ld\nsockets=%ld\nready\n", nns, nns * (n / 2 * 2));
	fflush(stdout);
	/* a namespace's holders die with its process (PR_SET_PDEATHSIG) */
	hold_wait(secs);
	return 0;
}

int main(int argc, char **argv)
{
	main_pid = getpid();
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "rate"))
		return cmd_rate(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "hold"))
		return cmd_hold(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "hold-ns"))
		return cmd_hold_ns(argc - 1, argv + 1);
	fputs(usage, stderr);
	return 2;
}
