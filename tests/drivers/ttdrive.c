// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ttdrive: known TCP traffic for the kernel tests.
 *
 * It moves into a network namespace of its own, so the flows tcptrail sees
 * there (--netns) are exactly the ones made here, and prints what it did as
 * key=value lines for the test scripts to compare against.  It also runs in
 * the busybox-only qemu guest: libc and syscalls only, and every wait is
 * bounded by --timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define PORT		8000
#define PORT_A		8100	/* filter: the port tcptrail is told to trace */
#define PORT_B		8200	/* filter: the port it must leave out */
#define MAX_ARG		100000

#define UNUSED(x)	x __attribute__((unused))

static const char usage[] =
"usage: ttdrive [--go-file PATH] [--timeout SECS] SCENARIO [ARG]\n"
"\n"
"Makes a network namespace, prints netns=INODE and pid=PID, waits for\n"
"PATH to exist if given, runs SCENARIO on loopback there and prints what\n"
"it did and the namespace's TCP counter deltas as key=value lines.\n"
"\n"
"scenarios: active, passive, refused, reset, ipv6, concurrent [N=1000],\n"
"           accept-owner [K=5], filter [N=3 per port]\n";

static int timeout_s = 20;	/* bounds every wait, and each socket call */
static pid_t main_pid;
static pid_t children[2];
static int n_children;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int err, const char *fmt, ...)
{
	va_list ap;
	int i;

	fputs("ttdrive: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	/* a server left blocked in accept() would outlive the test */
	for (i = 0; getpid() == main_pid && i < n_children; i++) {
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	exit(1);
}

static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
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

	nanosleep(&ts, NULL);
}

/* ---- the namespace ----------------------------------------------------- */

/*
 * addrconf gives lo ::1 as it comes up (init_loopback); this is for a setup
 * where that did not happen.
 */
static int add_ipv6_loopback(int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		struct rtattr rta;
		struct in6_addr addr;
	} req = {
		.nh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_NEWADDR,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		},
		.ifa = {
			.ifa_family = AF_INET6,
			.ifa_prefixlen = 128,
			.ifa_flags = IFA_F_NODAD,
			.ifa_scope = RT_SCOPE_HOST,
			.ifa_index = ifindex,
		},
		.rta = { .rta_len = RTA_LENGTH(sizeof(struct in6_addr)), .rta_type = IFA_LOCAL },
		.addr = IN6ADDR_LOOPBACK_INIT,
	};
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	int fd, n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0 || (n = recv(fd, &ack, sizeof(ack), 0)) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	if (n < (int)sizeof(ack) || ack.nh.nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ack.err.error;
}

/* 0 when ::1 is usable, -EAFNOSUPPORT on a kernel without IPv6. */
static int ipv6_loopback_ready(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd, err = 0;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)))
		err = -errno;
	close(fd);
	return err;
}

static void setup_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err;

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
	if (ioctl(fd, SIOCGIFINDEX, &ifr))
		die(errno, "SIOCGIFINDEX lo");
	close(fd);

	err = ipv6_loopback_ready();
	if (err == -EADDRNOTAVAIL) {
		err = add_ipv6_loopback(ifr.ifr_ifindex);
		if (err)
			die(-err, "add ::1 to lo");
		err = ipv6_loopback_ready();
	}
	/* no IPv6 in this kernel: only the ipv6 scenario fails, at socket() */
	if (err && err != -EAFNOSUPPORT)
		die(-err, "bind ::1");
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
	{ "TcpExt:", "TW" },
	{ "TcpExt:", "ListenOverflows" },
	{ "TcpExt:", "ListenDrops" },
	{ "TcpExt:", "TCPReqQFullDrop" },
	{ "TcpExt:", "TCPReqQFullDoCookies" },
	{ "TcpExt:", "TCPAbortOnClose" },
	{ "TcpExt:", "TCPAbortOnData" },
	{ "Tcp:", "ActiveOpens" },
	{ "Tcp:", "PassiveOpens" },
	{ "Tcp:", "AttemptFails" },
	{ "Tcp:", "EstabResets" },
	{ "Tcp:", "OutRsts" },
};
#define N_COUNTERS (sizeof(counters) / sizeof(counters[0]))


/* /proc/self/net/{snmp,netstat}: a line of names, then a line of values. */
static void read_counter_file(const char *path, long long *vals)
{
	static char names[8192], values[8192];
	char *ns, *vs, *section, *n, *v;
	size_t i;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		die(errno, "open %s", path);
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (!strchr(names, '\n') || !strchr(values, '\n'))
			die(0, "%s: line longer than %zu", path, sizeof(names));
		section = strtok_r(names, " \n", &ns);
		v = strtok_r(values, " \n", &vs);
		if (!section || !v || strcmp(section, v))
			die(0, "%s: names and values out of step", path);
		while ((n = strtok_r(NULL, " \n", &ns)) && (v = strtok_r(NULL, " \n", &vs)))
			for (i = 0; i < N_COUNTERS; i++)
				if (!strcmp(counters[i].section, section) &&
				    !strcmp(counters[i].name, n))
					vals[i] = strtoll(v, NULL, 10);
	}
	fclose(f);
}

/* /proc/self/net follows the reader's netns: these are the namespace's own. */
static void read_counters(long long *vals)
{
	read_counter_file("/proc/self/net/netstat", vals);
	read_counter_file("/proc/self/net/snmp", vals);
}

/* Sockets in the namespace not in TIME_WAIT; *tw counts those that are. */
static int count_sockets(int *tw)
{
	static const char *const files[] = { "/proc/self/net/tcp", "/proc/self/net/tcp6" };
	unsigned int i, st;
	char line[512];
	int other = 0;
	FILE *f;

	*tw = 0;
	for (i = 0; i < 2; i++) {
		f = fopen(files[i], "r");
		if (!f)
			continue;	/* no tcp6 without IPv6 */
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, " %*u: %*s %*s %x", &st) == 1)
				(st == 6 ? (*tw)++ : other++);
		fclose(f);
	}
	return other;
}

/*
 * Loopback delivers in softirq, nearly always before the sending call
 * returns; wait out the rest so that every transition the scenario causes
 * has happened when we exit and the test stops tracing.
 */
static void settle(void)
{
	long long deadline = now_ms() + 2000;
	int left, tw;

	while ((left = count_sockets(&tw)) && now_ms() < deadline)
		sleep_ms(10);
	printf("timewait_sockets=%d\nsockets_left=%d\n", tw, left);
}

/* ---- sockets ------------------------------------------------------------ */

static socklen_t loopback(int family, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*sin);
}

static int tcp_socket(int family, int flags)
{
	struct timeval tv = { .tv_sec = timeout_s };
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		die(errno, "socket");
	/* bounds connect(), accept() and read(); accepted sockets inherit it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die(errno, "set socket timeouts");
	return fd;
}

static int tcp_listen(int family, int port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = tcp_socket(family, 0), one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die(errno, "SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&ss, len))
		die(errno, "bind port %d", port);
	if (listen(fd, backlog))
		die(errno, "listen on port %d", port);
	return fd;
}

/* The connected socket, or -errno. */
static int try_connect(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = tcp_socket(family, 0), err;

	if (connect(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int tcp_connect(int family, int port)
{
	int fd = try_connect(family, port);

	if (fd < 0)
		die(-fd, "connect to port %d", port);
	return fd;
}

static int tcp_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		die(errno == EAGAIN ? ETIMEDOUT : errno, "accept");
	return fd;
}

static void send_str(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(errno, "write");
}

/* Reads to end of stream: 0, or -errno (a timeout is -ETIMEDOUT). */
static int drain(int fd)
{
	char buf[256];
	ssize_t n;
	int i;

	for (i = 0; i < 1000; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	return -EFBIG;
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die(errno, "getrlimit RLIMIT_NOFILE");
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;	/* root may raise the hard limit too */
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die(errno, "raise RLIMIT_NOFILE to %lu", (unsigned long)want);
}

/* ---- server and client -------------------------------------------------- */

/* Who ends each connection, which decides both ends' state sequences. */
enum ending {
	CLIENT_CLOSES,	/* server reads to EOF, then closes: CLOSE_WAIT > LAST_ACK */
	SERVER_CLOSES,	/* server writes a line and closes: FIN_WAIT1 > FIN_WAIT2 */
	SERVER_RESETS,	/* SO_LINGER {1, 0}: the server's close() sends a RST */
};

/* Accepts n connections on lfd, then ends each; runs in a child process. */
static void serve(int lfd, int n, enum ending ending)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int *fds, i, err;

	fds = calloc(n, sizeof(*fds));
	if (!fds)
		die(ENOMEM, "server");
	/* all first, so that a client may hold every connection open at once */
	for (i = 0; i < n; i++)
		fds[i] = tcp_accept(lfd);
	for (i = 0; i < n; i++) {
		switch (ending) {
		case CLIENT_CLOSES:
			err = drain(fds[i]);
			if (err)
				die(-err, "server read");
			break;
		case SERVER_CLOSES:
			send_str(fds[i], "bye\n");
			break;
		case SERVER_RESETS:
			if (setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
				die(errno, "SO_LINGER");
			break;
		}
		close(fds[i]);
	}
	free(fds);
}

static pid_t start_server(int lfd, int n, enum ending ending)
{
	pid_t pid;

	if (n_children == (int)(sizeof(children) / sizeof(children[0])))
		die(0, "too many servers");
	fflush(stdout);		/* or the child would print it again */
	pid = fork();
	if (pid < 0)
		die(errno, "fork");
	if (pid == 0) {
		/* go down with ttdrive, even when a test kills it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != main_pid)
			_exit(1);
		serve(lfd, n, ending);
		exit(0);
	}
	children[n_children++] = pid;
	return pid;
}

/* Waits for a server to finish; its failure is ours. */
static void reap(pid_t pid)
{
	long long deadline = now_ms() + timeout_s * 1000LL;
	int status, i;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		sleep_ms(10);
	if (r == 0)
		die(0, "server %d still running after %d s", pid, timeout_s);
	if (r < 0)
		die(errno, "wait for server %d", pid);
	for (i = 0; i < n_children; i++)
		if (children[i] == pid)
			children[i] = children[--n_children];
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die(0, "server %d failed (wait status %#x)", pid, status);
}

static void client_closes_first(int family, int port)
{
	int fd = tcp_connect(family, port);

	send_str(fd, "hello\n");
	close(fd);
}

/* n non-blocking connects in flight together; their sockets once all are up. */
static int *connect_all(int family, int port, int n)
{
	long long deadline = now_ms() + timeout_s * 1000LL;
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss), elen;
	struct pollfd *pfd;
	int *fds, i, left, ready, err, pending = 0;

	fds = calloc(n, sizeof(*fds));
	pfd = calloc(n, sizeof(*pfd));
	if (!fds || !pfd)
		die(ENOMEM, "connect_all");
	for (i = 0; i < n; i++) {
		fds[i] = tcp_socket(family, SOCK_NONBLOCK);
		pfd[i].fd = -1;		/* poll() skips it */
		pfd[i].events = POLLOUT;
		if (!connect(fds[i], (struct sockaddr *)&ss, len))
			continue;	/* loopback may finish the handshake inline */
		if (errno != EINPROGRESS)
			die(errno, "connect %d of %d", i + 1, n);
		pfd[i].fd = fds[i];
		pending++;
	}
	while (pending) {
		left = deadline - now_ms();
		if (left <= 0)
			die(0, "%d of %d connections not up after %d s", pending, n, timeout_s);
		ready = poll(pfd, n, left);
		if (ready < 0 && errno != EINTR)
			die(errno, "poll");
		for (i = 0; ready > 0 && i < n; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			elen = sizeof(err);
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &elen))
				die(errno, "SO_ERROR");
			if (err)
				die(err, "connect %d of %d", i + 1, n);
			pfd[i].fd = -1;
			pending--;
		}
	}
	free(pfd);
	return fds;
}

/* ---- scenarios ---------------------------------------------------------- */

struct scenario {
	const char *name;
	void (*run)(const struct scenario *sc, long arg);
	long def_arg;		/* 0: takes no argument */
	int family;		/* for one_connection */
	enum ending ending;
};

/* active, passive, reset, ipv6: one connection, and who ends it. */
static void one_connection(const struct scenario *sc, long UNUSED(arg))
{
	enum ending ending = sc->ending;
	int family = sc->family;
	int lfd = tcp_listen(family, PORT, 1), fd, err;
	pid_t server = start_server(lfd, 1, ending);

	close(lfd);
	fd = tcp_connect(family, PORT);
	switch (ending) {
	case CLIENT_CLOSES:
		send_str(fd, "hello\n");
		break;
	case SERVER_CLOSES:
		err = drain(fd);
		if (err)
			die(-err, "client read");
		break;
	case SERVER_RESETS:
		err = drain(fd);
		if (err != -ECONNRESET)
			die(0, "client read: want ECONNRESET, got %s",
			    err ? strerror(-err) : "end of stream");
		printf("reset=1\n");
		break;
	}
	close(fd);
	reap(server);
	printf("family=%s\nport=%d\nconnections=1\nclient_pid=%d\nserver_pid=%d\naccept_pid=%d\n",
	       family == AF_INET6 ? "ipv6" : "ipv4", PORT, main_pid, server, server);
}

static void refused(const struct scenario *UNUSED(sc), long UNUSED(arg))
{
	int fd = try_connect(AF_INET, PORT);

	if (fd >= 0)
		die(0, "connect to port %d: want ECONNREFUSED, it succeeded", PORT);
	if (fd != -ECONNREFUSED)
		die(-fd, "connect to port %d: want ECONNREFUSED, got", PORT);
	printf("refused=1\nport=%d\nclient_pid=%d\n", PORT, main_pid);
}

static void concurrent(const struct scenario *UNUSED(sc), long n)
{
	pid_t server;
	int lfd, *fds, i;

	raise_nofile(n + 64);	/* each side holds n sockets */
	lfd = tcp_listen(AF_INET, PORT, n);
	server = start_server(lfd, n, CLIENT_CLOSES);
	close(lfd);
	fds = connect_all(AF_INET, PORT, n);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	reap(server);
	printf("connections=%ld\nport=%d\nclient_pid=%d\nserver_pid=%d\naccept_pid=%d\n",
	       n, PORT, main_pid, server, server);
}

/*
 * The listener is made (and kept) here, the connections are accepted in a
 * child: the process that owns an accepted socket is the one that accept()ed
 * it, not the listener's, and not whichever task the handshake's softirq
 * interrupted (here, the connecting client).
 */
static void accept_owner(const struct scenario *UNUSED(sc), long k)
{
	pid_t acceptor;
	int lfd, i;

	raise_nofile(k + 64);
	lfd = tcp_listen(AF_INET, PORT, k);
	acceptor = start_server(lfd, k, CLIENT_CLOSES);
	for (i = 0; i < k; i++)
		client_closes_first(AF_INET, PORT);
	reap(acceptor);
	close(lfd);
	printf("connections=%ld\nport=%d\nlistener_pid=%d\nclient_pid=%d\naccept_pid=%d\n",
	       k, PORT, main_pid, main_pid, acceptor);
}

/* The same traffic on two ports, for -P. */
static void filter(const struct scenario *UNUSED(sc), long per_port)
{
	const int ports[2] = { PORT_A, PORT_B };
	pid_t servers[2];
	int i, j, lfd;

	raise_nofile(per_port + 64);
	for (i = 0; i < 2; i++) {
		lfd = tcp_listen(AF_INET, ports[i], per_port);
		servers[i] = start_server(lfd, per_port, CLIENT_CLOSES);
		close(lfd);	/* before the next fork, so each server has one listener */
	}
	for (i = 0; i < 2; i++)
		for (j = 0; j < per_port; j++)
			client_closes_first(AF_INET, ports[i]);
	for (i = 0; i < 2; i++)
		reap(servers[i]);
	printf("port_a=%d\nport_b=%d\nper_port=%ld\nconnections=%ld\nclient_pid=%d\n",
	       PORT_A, PORT_B, per_port, 2 * per_port, main_pid);
}

static const struct scenario scenarios[] = {
	{ .name = "active", .run = one_connection, .family = AF_INET, .ending = CLIENT_CLOSES },
	{ .name = "passive", .run = one_connection, .family = AF_INET, .ending = SERVER_CLOSES },
	{ .name = "reset", .run = one_connection, .family = AF_INET, .ending = SERVER_RESETS },
	{ .name = "ipv6", .run = one_connection, .family = AF_INET6, .ending = CLIENT_CLOSES },
	{ .name = "refused", .run = refused },
	{ .name = "concurrent", .run = concurrent, .def_arg = 1000 },
	{ .name = "accept-owner", .run = accept_owner, .def_arg = 5 },
	{ .name = "filter", .run = filter, .def_arg = 3 },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "go-file", required_argument, NULL, 'g' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long before[N_COUNTERS] = { 0 }, after[N_COUNTERS] = { 0 };
	const struct scenario *sc = NULL;
	const char *go_file = NULL;
	struct stat st;
	long arg, v;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			go_file = optarg;
			break;
		case 't':
			if (parse_num(optarg, 1, 3600, &v))
				die(0, "--timeout: want seconds in 1..3600, got '%s'", optarg);
			timeout_s = v;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind == argc || argc - optind > 2) {
		fputs(usage, stderr);
		return 2;
	}
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, argv[optind]))
			sc = &scenarios[i];
	if (!sc)
		die(0, "unknown scenario '%s' (see --help)", argv[optind]);
	arg = sc->def_arg;
	if (optind + 1 < argc) {
		if (!sc->def_arg)
			die(0, "%s takes no argument", sc->name);
		if (parse_num(argv[optind + 1], 1, MAX_ARG, &arg))
			die(0, "%s: want a count in 1..%d, got '%s'", sc->name, MAX_ARG,
			    argv[optind + 1]);
	}

	/* a write to a socket the peer reset should fail with EPIPE, not kill us */
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
	printf("scenario=%s\n", sc->name);
	sc->run(sc, arg);
	settle();
	read_counters(after);
	for (i = 0; i < N_COUNTERS; i++)
		printf("kernel.%s=%lld\n", counters[i].name, after[i] - before[i]);
	return 0;
}
