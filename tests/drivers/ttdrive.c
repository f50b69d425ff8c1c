// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ttdrive: known TCP traffic for the kernel tests.
 *
 * It moves into a network namespace of its own, so the flows tcptrail sees
 * there (--netns) are exactly the ones made here, and prints what it did as
 * key=value lines for the test scripts to compare against.  It also runs in
 * the busybox-only qemu guest: libc and syscalls only, and every wait is
 * bounded by --timeout.  In a busybox container it stays in the container's own
 * namespace (--no-netns).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
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
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* --port: the scenarios' server port, for a test that filters on it */
static int scenario_port = 8000;
#define PORT		scenario_port
#define PORT_A		8100	/* filter: the port tcptrail is told to trace */
#define PORT_B		8200	/* filter: the port it must leave out */
#define MAX_ARG		100000

#define UNUSED(x)	x __attribute__((unused))

static const char usage[] =
"usage: ttdrive [--go-file PATH] [--resume-file PATH] [--timeout SECS] SCENARIO [ARG]\n"
"\n"
"Makes a network namespace, prints netns=INODE and pid=PID, waits for\n"
"PATH to exist if given, runs SCENARIO on loopback there and prints what\n"
"it did and the namespace's TCP counter deltas as key=value lines.\n"
"\n"
"scenarios: active, passive, refused, reset, ipv6, concurrent [N=1000],\n"
"           accept-owner [K=5], filter [N=3 per port],\n"
"           tw-clean [50], tw-peer-rst, tw-peer-rst-late, tw-data-after-close,\n"
"           tw-shutdown-rst, tw-simultaneous, tw-linger2, tw-fin-wait2-abort,\n"
"           tw-orphan, tw-buckets [20 each]: TIME-WAIT entry, case by case,\n"
"           overflow-accept, overflow-syn [N=10]: queue overflows,\n"
"           overflow-both [N=10]: SYNs that find both queues full, syncookies on\n"
"           tw-load, tw-load-server [N=200]: TIME-WAIT population, then a pause,\n"
"           close-wait, close-wait-seeded [K=5]: a CLOSE-WAIT leak, then a pause,\n"
"           close-wait-handoff [K=5]: the same, handed on to a forked worker\n"
"           close-wait-handoff-twice [K=6]: K/2 handed on, then a pause, then\n"
"           the rest to a second worker, then a pause\n"
"           close-wait-sending [K=5]: the same, and K more on PORT+1 whose\n"
"           clients half-closed, answered with a byte every 100 ms (no leak)\n"
"           close-wait-pid [K=5]: 3K leaked sockets not their owner's from birth\n"
"           close-wait-services [N=120]: a client leaking one socket toward\n"
"           each of N services (ports PORT..PORT+N-1), then a pause\n"
"           stuck-listener [N=4]: a listener that stopped accepting, its queue\n"
"           in CLOSE_WAIT before tracing and two it accepted left orphans\n"
"           (LAST_ACK, FIN_WAIT1), then N connects it turns away\n"
"           stuck-listener-daemon [N=4]: a listener made under tracing by a\n"
"           process that forks the daemon and exits, its queue in CLOSE_WAIT\n"
"           (a pause), then N connects it turns away (a pause)\n"
"           mix: a bit of everything, two-phase [K=5]: K closes, a pause, K more\n"
"           open [K=5]: K connections left open at a pause, then closed\n"
"           tfo-listener-close, tfo-accept-reset [N=3]: Fast Open children in\n"
"           SYN_RECV, their listener closed / accepted then reset,\n"
"           self-transitions [N=5]: close() after shutdown(), FIN_WAIT1 and 2,\n"
"           syncookies-policy [N=5]: tcp_syncookies=2, N connections per family\n"
"           bytes: connections that carry known payloads each way, orderly closed\n"
"           self-connect [N=3000]: a socket connected to itself, N bytes round\n"
"           reconnect: one socket connected twice, connect(AF_UNSPEC) between\n"
"           connect-fail: through a TUN device at 10.9.9.1/24, a connect whose\n"
"           SYN is never answered, closed by its owner, and one answered by an\n"
"           ICMP host unreachable; then a connect that finds no local port\n"
"\n"
"--resume-file PATH: at a pause (paused=NAME), wait for PATH, then remove it.\n"
"--port N: the scenarios' server port (8000; the filter ones use 8100, 8200; the\n"
"overflow ones N + 1101..1106, N + 1201..1206 and N + 1301..1306).\n"
"--no-netns: stay in the caller's network namespace (a container's own, made\n"
"            with --network=none) instead of making one; its lo must be up.\n"
"--free-port: print a free TCP port on 127.0.0.1 and exit.\n"
"--http-get A.B.C.D:PORT/PATH: print the HTTP/1.0 response and exit.\n";

static int timeout_s = 20;	/* bounds every wait, and each socket call */
static bool no_netns;		/* --no-netns: the namespace is the caller's */
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

	/*
	 * A container keeps its default capabilities, which lack CAP_SYS_ADMIN
	 * (unshare) and CAP_NET_ADMIN (lo up, ::1): its runtime brings lo up.
	 */
	if (!no_netns && unshare(CLONE_NEWNET))
		die(errno, "unshare(CLONE_NEWNET)%s", geteuid() ? " (needs root)" : "");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(errno, "socket for ioctl");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		die(errno, "SIOCGIFFLAGS lo");
	if (no_netns && (ifr.ifr_flags & IFF_UP)) {
		close(fd);
		return;
	}
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
	/*
	 * TW and TWKilled both count timewait socks as they are made
	 * (__inet_twsk_schedule): TWKilled those whose timeout is 4 s or
	 * less, TW the others.  TCPTimeWaitOverflow counts tcp_time_wait()
	 * calls that could make none (tcp_max_tw_buckets).
	 */
	{ "TcpExt:", "TW" },
	{ "TcpExt:", "TWKilled" },
	{ "TcpExt:", "TCPTimeWaitOverflow" },
	{ "TcpExt:", "ListenOverflows" },
	{ "TcpExt:", "ListenDrops" },
	{ "TcpExt:", "TCPReqQFullDrop" },
	{ "TcpExt:", "TCPReqQFullDoCookies" },
	{ "TcpExt:", "TCPAbortOnClose" },
	{ "TcpExt:", "TCPAbortOnData" },
	{ "TcpExt:", "TCPAbortOnLinger" },
	{ "TcpExt:", "TCPFastOpenPassive" },
	{ "TcpExt:", "TCPFastOpenActive" },
	{ "TcpExt:", "SyncookiesSent" },
	{ "TcpExt:", "SyncookiesRecv" },
	{ "Tcp:", "ActiveOpens" },
	{ "Tcp:", "PassiveOpens" },
	{ "Tcp:", "AttemptFails" },
	{ "Tcp:", "EstabResets" },
	{ "Tcp:", "OutRsts" },
	/*
	 * Segments sent (every one a socket's segs_out counts, and more:
	 * timewait ACKs, RSTs) and retransmitted (every one total_retrans
	 * counts, and a request socket's SYN-ACKs): the sums of the flows'
	 * stats are at most these.
	 */
	{ "Tcp:", "OutSegs" },
	{ "Tcp:", "RetransSegs" },
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

static void print_deltas(const char *prefix, const long long *before, const long long *after)
{
	size_t i;

	for (i = 0; i < N_COUNTERS; i++)
		printf("%skernel.%s=%lld\n", prefix, counters[i].name, after[i] - before[i]);
}

/* ---- the namespace's socket table ----------------------------------------- */

/* TCP states as /proc/net/tcp prints them (include/net/tcp_states.h). */
enum {
	ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1, ST_FIN_WAIT2,
	ST_TIME_WAIT, ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK, ST_LISTEN, ST_CLOSING,
};

/* The "tr" column: 3 is the timewait timer, which only timewait socks run. */
#define TR_TIMEWAIT	3

/* One line of /proc/net/tcp{,6}. */
struct sock_row {
	int family;
	unsigned char laddr[16], raddr[16];
	unsigned int lport, rport, st, tr;
	unsigned long inode;
};

/*
 * The kernel prints each 32-bit word of an address as a native-endian
 * %08X; reading it back the same way gives the bytes in network order.
 */
static int parse_hex_addr(const char *hex, int family, unsigned char *addr)
{
	size_t words = family == AF_INET6 ? 4 : 1, i;
	char w[9];
	uint32_t v;

	if (strlen(hex) != words * 8)
		return -1;
	memset(addr, 0, 16);
	for (i = 0; i < words; i++) {
		memcpy(w, hex + 8 * i, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, NULL, 16);
		memcpy(addr + 4 * i, &v, 4);
	}
	return 0;
}

typedef void (*row_fn)(const struct sock_row *r, void *ctx);

/* Every TCP socket of the namespace, timewait and request socks included. */
static void for_each_row(row_fn fn, void *ctx)
{
	static const struct { const char *path; int family; } files[] = {
		{ "/proc/self/net/tcp", AF_INET }, { "/proc/self/net/tcp6", AF_INET6 },
	};
	char line[512], la[40], ra[40];
	struct sock_row r;
	unsigned int i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		f = fopen(files[i].path, "r");
		if (!f)
			continue;	/* no tcp6 without IPv6 */
		while (fgets(line, sizeof(line), f)) {
			memset(&r, 0, sizeof(r));
			r.family = files[i].family;
			if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*x:%*x %x:%*x"
				   " %*x %*u %*d %lu", la, &r.lport, ra, &r.rport, &r.st, &r.tr,
				   &r.inode) != 7)
				continue;	/* the header */
			if (parse_hex_addr(la, r.family, r.laddr) ||
			    parse_hex_addr(ra, r.family, r.raddr))
				continue;
			fn(&r, ctx);
		}
		fclose(f);
	}
}

struct sock_counts {
	int tw;			/* timewait socks, either substate */
	int tw_time_wait;	/* ... in the TIME_WAIT substate: ss's "time-wait" */
	int tw_fin_wait2;	/* ... in the FIN_WAIT2 substate (an orphan's) */
	int full;		/* every other socket: listeners, request socks too */
	int by_state[16];	/* full sockets by state */
};

static void count_row(const struct sock_row *r, void *ctx)
{
	struct sock_counts *c = ctx;

	/* a timewait sock shows its substate in the st column */
	if (r->tr == TR_TIMEWAIT) {
		c->tw++;
		if (r->st == ST_TIME_WAIT)
			c->tw_time_wait++;
		else if (r->st == ST_FIN_WAIT2)
			c->tw_fin_wait2++;
		return;
	}
	c->full++;
	if (r->st < 16)
		c->by_state[r->st]++;
}

static struct sock_counts count_sockets(void)
{
	struct sock_counts c;

	memset(&c, 0, sizeof(c));
	for_each_row(count_row, &c);
	return c;
}

/*
 * Loopback delivers in softirq, nearly always before the sending call
 * returns; wait out the rest so that every transition the scenario causes
 * has happened when we exit and the test stops tracing.
 */
static void settle(void)
{
	long long deadline = now_ms() + 2000;
	struct sock_counts c;

	while ((c = count_sockets()).full && now_ms() < deadline)
		sleep_ms(10);
	printf("timewait_sockets=%d\nsockets_left=%d\n", c.tw, c.full);
}

/* Waits up to ms for the full sockets in state st to number want; the count. */
static int wait_state_count(unsigned int st, int want, int ms)
{
	long long deadline = now_ms() + ms;
	int n;

	while ((n = count_sockets().by_state[st]) != want && now_ms() < deadline)
		sleep_ms(10);
	return n;
}

/* Writes a per-namespace sysctl, e.g. "net/ipv4/tcp_syncookies", and says so. */
static void set_sysctl(const char *name, const char *value)
{
	char path[128];
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(errno, "open %s", path);
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		die(errno, "write %s to %s", value, path);
	close(fd);
	printf("sysctl.");
	for (i = 0; name[i]; i++)
		putchar(name[i] == '/' ? '.' : name[i]);
	printf("=%s\n", value);
}

static const char *resume_file;

/*
 * A point where the test looks at the namespace while tcptrail runs: stay at
 * least min_ms (for tcptrail's summaries), say so, then wait for the test to
 * create the resume file (--resume-file), which is taken away again.
 */
static void pause_point(const char *name, int min_ms)
{
	sleep_ms(min_ms);
	printf("paused=%s\n", name);
	fflush(stdout);
	if (!resume_file)
		return;
	wait_for_file(resume_file);
	if (unlink(resume_file))
		die(errno, "remove %s", resume_file);
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

/* An address of either family: "127.0.0.2", "::1". */
static socklen_t sockaddr_of(int family, const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	void *a = family == AF_INET6 ? (void *)&sin6->sin6_addr : (void *)&sin->sin_addr;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(family, addr, a) != 1)
		die(0, "bad address %s", addr);
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

static int tcp_listen_at(int family, const char *addr, int port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(family, addr, port, &ss);
	int fd = tcp_socket(family, 0), one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die(errno, "SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&ss, len))
		die(errno, "bind %s port %d", addr, port);
	if (listen(fd, backlog))
		die(errno, "listen on %s port %d", addr, port);
	return fd;
}

/* A blocking connect to dst:port, from src (any port) unless src is NULL. */
static int tcp_connect_from(int family, const char *src, const char *dst, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = tcp_socket(family, 0);

	if (src) {
		len = sockaddr_of(family, src, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len))
			die(errno, "bind to %s", src);
	}
	len = sockaddr_of(family, dst, port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len))
		die(errno, "connect to %s port %d", dst, port);
	return fd;
}

static void set_linger0(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		die(errno, "SO_LINGER");
}

/* Reads to end of stream, or to a reset: whichever the peer sends. */
static void drain_any(int fd)
{
	int err = drain(fd);

	if (err && err != -ECONNRESET && err != -EPIPE)
		die(-err, "read");
}

/* Both ends of one connection, in this process. */
struct pair {
	int c, s;
};

static struct pair pair_open(int family, const char *src, const char *dst, int port, int lfd)
{
	struct pair p;

	p.c = tcp_connect_from(family, src, dst, port);
	p.s = tcp_accept(lfd);
	return p;
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
			/*
			 * Not before the client's connect() has returned: a RST
			 * that lands first makes connect() itself fail with
			 * ECONNRESET (seen under qemu TCG).  The client says so
			 * with one byte.
			 */
			if (recv(fds[i], &(char){ 0 }, 1, 0) != 1)
				die(errno, "server recv before the reset");
			if (setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
				die(errno, "SO_LINGER");
			break;
		}
		close(fds[i]);
	}
	free(fds);
}

/*
 * A server process: 0 in the child, which goes down with ttdrive, its pid
 * in ttdrive, which reaps it (reap) or kills it at exit.
 */
static pid_t fork_server(void)
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
		return 0;
	}
	children[n_children++] = pid;
	return pid;
}

static pid_t start_server(int lfd, int n, enum ending ending)
{
	pid_t pid = fork_server();

	if (pid == 0) {
		serve(lfd, n, ending);
		exit(0);
	}
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
	int variant;		/* which case of a family of scenarios */
	/* runs before tracing starts: before pid= is printed */
	void (*prepare)(const struct scenario *sc, long arg);
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
		send_str(fd, "x");	/* connected: the server may reset now */
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

/* The Internet checksum (RFC 1071) of n bytes, in network byte order at out. */
static void inet_csum(const uint8_t *b, size_t n, uint8_t out[2])
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	out[0] = (uint8_t)(~sum >> 8);
	out[1] = (uint8_t)~sum;
}

/*
 * A TUN device, ttfail0, at 10.9.9.1/24 and up: what the kernel sends to
 * 10.9.9.0/24 is read from the fd returned, and what is written to it
 * arrives as if from that network.
 */
static int tun_up(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), s;

	if (fd < 0)
		die(errno, "open /dev/net/tun");
	snprintf(ifr.ifr_name, IFNAMSIZ, "ttfail0");
	if (ioctl(fd, TUNSETIFF, &ifr))
		die(errno, "TUNSETIFF ttfail0");
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die(errno, "socket");
	memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.9.9.1", &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr))
		die(errno, "SIOCSIFADDR ttfail0");
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	if (ioctl(s, SIOCSIFNETMASK, &ifr))
		die(errno, "SIOCSIFNETMASK ttfail0");
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		die(errno, "SIOCGIFFLAGS ttfail0");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		die(errno, "SIOCSIFFLAGS ttfail0");
	close(s);
	return fd;
}

/* A connect() to dst:80 under way (non-blocking); its local port at *port. */
static int connect_started(const char *dst, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die(errno, "socket");
	inet_pton(AF_INET, dst, &a.sin_addr);
	if (!connect(fd, (struct sockaddr *)&a, sizeof(a)) || errno != EINPROGRESS)
		die(errno, "connect to %s:80: want EINPROGRESS", dst);
	if (getsockname(fd, (struct sockaddr *)&a, &len))
		die(errno, "getsockname");
	*port = ntohs(a.sin_port);
	return fd;
}

/*
 * The SYN from local port sport, read from the TUN device within 3 s (it
 * carries other packets too: IPv6 router solicitations), into syn[40]: its
 * IPv4 header and the TCP header's first 20 bytes.
 */
static void read_syn(int tun, int sport, uint8_t syn[40])
{
	long long end = now_ms() + 3000;
	uint8_t b[2048];

	while (now_ms() < end) {
		struct pollfd p = { .fd = tun, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = read(tun, b, sizeof(b));
		/* IPv4, no options, TCP, this port, SYN without ACK */
		if (n >= 40 && b[0] == 0x45 && b[9] == IPPROTO_TCP &&
		    (b[20] << 8 | b[21]) == sport && (b[33] & 0x12) == 0x02) {
			memcpy(syn, b, 40);
			return;
		}
	}
	die(0, "no SYN from port %d on ttfail0 within 3 s", sport);
}

/*
 * connect-fail: the ends a connection that never connected can have, other
 * than refused.  Through a TUN device the driver is the network: the first
 * connect's SYN goes unanswered and its owner closes it (an application's
 * connect timeout: SYN_SENT > CLOSE, no error, nothing sent); the second's
 * is answered with an ICMP host unreachable (SYN_SENT > CLOSE, EHOSTUNREACH).
 * Then on loopback, with a local port range of two ports, a third connect
 * to the same listener finds none (SYN_SENT > CLOSE before any SYN,
 * EADDRNOTAVAIL).
 */
static void connect_fail(const struct scenario *UNUSED(sc), long UNUSED(arg))
{
	uint8_t syn[40], icmp[20 + 8 + 28] = { 0 };
	int tun = tun_up(), a, b, pa, pb, err = 0;
	socklen_t len = sizeof(err);
	struct pollfd p;

	a = connect_started("10.9.9.2", &pa);
	read_syn(tun, pa, syn);
	sleep_ms(50);
	close(a);

	b = connect_started("10.9.9.3", &pb);
	read_syn(tun, pb, syn);
	/* from a router at 10.9.9.254: host unreachable, quoting the SYN's IP header and 8 bytes */
	icmp[0] = 0x45;
	icmp[3] = sizeof(icmp);
	icmp[8] = 64;
	icmp[9] = IPPROTO_ICMP;
	inet_pton(AF_INET, "10.9.9.254", icmp + 12);
	memcpy(icmp + 16, syn + 12, 4);		/* to the SYN's source */
	inet_csum(icmp, 20, icmp + 10);
	icmp[20] = 3;				/* destination unreachable */
	icmp[21] = 1;				/* host unreachable */
	memcpy(icmp + 28, syn, 28);
	inet_csum(icmp + 20, sizeof(icmp) - 20, icmp + 22);
	if (write(tun, icmp, sizeof(icmp)) != (ssize_t)sizeof(icmp))
		die(errno, "write the ICMP to ttfail0");
	p = (struct pollfd){ .fd = b, .events = POLLOUT };
	if (poll(&p, 1, 3000) != 1)
		die(0, "connect to 10.9.9.3:80: no end within 3 s of the ICMP");
	if (getsockopt(b, SOL_SOCKET, SO_ERROR, &err, &len))
		die(errno, "SO_ERROR");
	if (err != EHOSTUNREACH)
		die(err, "connect to 10.9.9.3:80: want EHOSTUNREACH, got");
	close(b);
	close(tun);

	/* two ports: two connections hold them, a third finds none */
	set_sysctl("net/ipv4/ip_local_port_range", "40000 40001");
	{
		int lfd = tcp_listen(AF_INET, PORT, 4), held[2], third;

		for (int i = 0; i < 2; i++)
			held[i] = tcp_connect(AF_INET, PORT);
		third = try_connect(AF_INET, PORT);
		if (third != -EADDRNOTAVAIL)
			die(third < 0 ? -third : 0, "a third connect with two ports: want EADDRNOTAVAIL, got");
		for (int i = 0; i < 2; i++)
			close(held[i]);
		close(lfd);
	}
	printf("cancelled_port=%d\nerror_port=%d\nerror=EHOSTUNREACH\nno_port=1\nport=%d\n"
	       "client_pid=%d\n", pa, pb, PORT, main_pid);
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
/* The client's connects and closes, in a thread of another name than the process's. */
#define DIAL_THREAD "tt-dialer"

static void *dial_in_a_thread(void *arg)
{
	long k = *(const long *)arg;

	prctl(PR_SET_NAME, DIAL_THREAD);
	for (long i = 0; i < k; i++)
		client_closes_first(AF_INET, PORT);
	return NULL;
}

static void accept_owner(const struct scenario *UNUSED(sc), long k)
{
	char comm[16] = "";
	pthread_t dialer;
	pid_t acceptor;
	int lfd, err;

	raise_nofile(k + 64);
	lfd = tcp_listen(AF_INET, PORT, k);
	acceptor = start_server(lfd, k, CLIENT_CLOSES);
	/* its flows are the process's, named as ps and ss -p name it */
	err = pthread_create(&dialer, NULL, dial_in_a_thread, &k);
	if (err)
		die(err, "pthread_create");
	pthread_join(dialer, NULL);
	reap(acceptor);
	close(lfd);
	prctl(PR_GET_NAME, comm);
	printf("connections=%ld\nport=%d\nlistener_pid=%d\nclient_pid=%d\naccept_pid=%d\n"
	       "client_comm=%s\nclient_thread_comm=%s\n",
	       k, PORT, main_pid, main_pid, acceptor, comm, DIAL_THREAD);
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

/* ---- TIME-WAIT entry ------------------------------------------------------- */

/*
 * Ways to end a connection, each decided by the kernel as TIME-WAIT or not.
 * The kernel's count of TIME-WAIT entries is TW + TWKilled (see counters[]);
 * tcptrail's "end":"time_wait" flows must number exactly that.
 */
enum tw_case {
	TW_CLEAN = 1,		/* shutdown(WR), the peer closes: FIN_WAIT2 > TIME_WAIT */
	TW_PEER_RST,		/* close(), the peer answers with a RST (SO_LINGER 0)
				 * before it acks our FIN: no timewait */
	TW_PEER_RST_LATE,	/* ... after it acked it: the RST kills the timewait sock */
	TW_DATA_AFTER_CLOSE,	/* close(), the peer sends data with its ACK of our FIN */
	TW_SHUTDOWN_RST,	/* shutdown(WR), then the peer's RST in FIN_WAIT2 */
	TW_SIMULTANEOUS,	/* both ends shutdown(WR) at once: CLOSING */
	TW_LINGER2,		/* TCP_LINGER2 -1, close(): no FIN_WAIT2 timewait */
	TW_FW2_ABORT,		/* shutdown(WR), in FIN_WAIT2 close() with SO_LINGER 0 */
	TW_ORPHAN,		/* close(), the peer never closes: FIN_WAIT2 substate */
	TW_BUCKETS,		/* clean closes past tcp_max_tw_buckets */
};

#ifndef TCP_REPAIR
#define TCP_REPAIR		19
#define TCP_REPAIR_QUEUE	20
#endif
#ifndef TCP_SEND_QUEUE
#define TCP_SEND_QUEUE		2
#endif

static void set_repair(int fd, int on)
{
	int q = TCP_SEND_QUEUE;

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		die(errno, "TCP_REPAIR %d", on);
	if (on && setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)))
		die(errno, "TCP_REPAIR_QUEUE");
}

/*
 * A simultaneous close on loopback, every time.  Racing two threads into
 * shutdown() rarely works: the first FIN is delivered, in softirq, before
 * the other end has taken its socket lock.  So both ends shut down in
 * TCP_REPAIR mode with the send queue selected, where tcp_write_xmit()
 * counts the FIN as sent without putting it on the wire: both are then in
 * FIN_WAIT1 with a FIN out that the peer has not seen.  Out of repair mode,
 * the retransmit timer sends each FIN (after one RTO, 200 ms or more), each
 * arrives in FIN_WAIT1 without acking the receiver's own FIN, and both ends
 * go FIN_WAIT1 > CLOSING > TIME_WAIT.
 */
static void simultaneous_close_all(struct pair *p, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		set_repair(p[i].c, 1);
		set_repair(p[i].s, 1);
		if (shutdown(p[i].c, SHUT_WR) || shutdown(p[i].s, SHUT_WR))
			die(errno, "shutdown in repair mode");
		set_repair(p[i].c, 0);
		set_repair(p[i].s, 0);
	}
	for (i = 0; i < n; i++) {
		drain_any(p[i].c);
		drain_any(p[i].s);
		close(p[i].c);
		close(p[i].s);
	}
}

/*
 * Ends one connection the way tc says.  Cases that must wait for the peer's
 * delayed ACK (in CLOSE_WAIT it acks in pingpong mode, up to 40 ms late) do
 * it in two steps, with one wait for all connections in between:
 * tw_close_later() runs once no FIN_WAIT1 socket is left.
 */
static void tw_close(enum tw_case tc, struct pair p)
{
	switch (tc) {
	case TW_CLEAN:
	case TW_BUCKETS:
		send_str(p.c, "hello\n");
		if (shutdown(p.c, SHUT_WR))
			die(errno, "shutdown");
		drain_any(p.s);
		close(p.s);
		/* the peer's FIN reaches a socket still open: TIME_WAIT substate */
		drain_any(p.c);
		close(p.c);
		break;
	case TW_PEER_RST:
		/* the RST overtakes the peer's delayed ACK: the orphan is in FIN_WAIT1 */
		send_str(p.c, "hello\n");
		close(p.c);
		drain_any(p.s);
		set_linger0(p.s);
		close(p.s);
		break;
	case TW_PEER_RST_LATE:
	case TW_ORPHAN:
		send_str(p.c, "hello\n");
		close(p.c);
		break;
	case TW_DATA_AFTER_CLOSE:
		/*
		 * The peer went CLOSE_WAIT in pingpong mode, so its ACK of our
		 * FIN is delayed and leaves with the data: the orphan, in
		 * FIN_WAIT1, gets both at once and tcp_rcv_state_process()
		 * aborts it (TCPAbortOnData), FIN_WAIT2 > CLOSE, no timewait.
		 */
		send_str(p.c, "hello\n");
		close(p.c);
		send_str(p.s, "late\n");
		drain_any(p.s);
		close(p.s);
		break;
	case TW_SHUTDOWN_RST:
	case TW_FW2_ABORT:
		send_str(p.c, "hello\n");
		if (shutdown(p.c, SHUT_WR))
			die(errno, "shutdown");
		break;
	case TW_LINGER2: {
		int off = -1;

		/* an orphan in FIN_WAIT2 is closed at once, with a RST */
		if (setsockopt(p.c, IPPROTO_TCP, TCP_LINGER2, &off, sizeof(off)))
			die(errno, "TCP_LINGER2");
		send_str(p.c, "hello\n");
		close(p.c);
		drain_any(p.s);
		close(p.s);
		break;
	}
	case TW_SIMULTANEOUS:
		break;	/* all pairs at once: simultaneous_close_all() */
	}
}

/* The second step, once every FIN of the first has been acked. */
static void tw_close_later(enum tw_case tc, struct pair p)
{
	switch (tc) {
	case TW_PEER_RST_LATE:
		/* the orphan is a timewait sock (FIN_WAIT2 substate) now: RST it */
		drain_any(p.s);
		set_linger0(p.s);
		close(p.s);
		break;
	case TW_SHUTDOWN_RST:
		/* in FIN_WAIT2, not an orphan: the RST resets it (sk_err) */
		drain_any(p.s);
		set_linger0(p.s);
		close(p.s);
		drain_any(p.c);
		close(p.c);
		break;
	case TW_FW2_ABORT:
		/* tcp_disconnect() from FIN_WAIT2, before sock_orphan() */
		drain_any(p.s);
		set_linger0(p.c);
		close(p.c);
		drain_any(p.s);
		close(p.s);
		break;
	default:
		break;
	}
}

static bool tw_two_step(enum tw_case tc)
{
	return tc == TW_PEER_RST_LATE || tc == TW_SHUTDOWN_RST || tc == TW_FW2_ABORT;
}

struct both_tw {
	int port;
	int n;		/* timewait socks with this local or remote port */
	int local;	/* ... with it as the local port: the server's */
};

static void count_port_tw(const struct sock_row *r, void *ctx)
{
	struct both_tw *b = ctx;

	if (r->tr != TR_TIMEWAIT)
		return;
	if (r->lport == (unsigned int)b->port) {
		b->n++;
		b->local++;
	} else if (r->rport == (unsigned int)b->port) {
		b->n++;
	}
}

/* Waits up to ms for no full socket in a closing state but CLOSE_WAIT. */
static void wait_closing_done(int ms)
{
	long long deadline = now_ms() + ms;
	struct sock_counts c;

	do {
		c = count_sockets();
		if (!c.by_state[ST_FIN_WAIT1] && !c.by_state[ST_CLOSING] &&
		    !c.by_state[ST_LAST_ACK])
			return;
		sleep_ms(10);
	} while (now_ms() < deadline);
}

static void time_wait_case(const struct scenario *sc, long n)
{
	enum tw_case tc = sc->variant;
	struct sock_counts c;
	struct both_tw b = { .port = PORT };
	struct pair *p;
	long long deadline;
	char buf[32];
	int lfd, i;

	p = calloc(n, sizeof(*p));
	if (!p)
		die(ENOMEM, "pairs");
	raise_nofile(2 * n + 64);
	if (tc == TW_ORPHAN) {
		/*
		 * The orphan enters timewait (FIN_WAIT2 substate) as soon as
		 * its FIN is acked, and that timewait sock lives
		 * tcp_fin_timeout: 1 s here, so it is gone before the peer
		 * closes.  A timeout of 4 s or less is counted as TWKilled.
		 */
		set_sysctl("net/ipv4/tcp_fin_timeout", "1");
	}
	if (tc == TW_BUCKETS) {
		snprintf(buf, sizeof(buf), "%ld", n / 4);
		set_sysctl("net/ipv4/tcp_max_tw_buckets", buf);
	}
	lfd = tcp_listen(AF_INET, PORT, n);
	for (i = 0; i < n; i++) {
		p[i] = pair_open(AF_INET, NULL, "127.0.0.1", PORT, lfd);
		tw_close(tc, p[i]);
	}
	if (tc == TW_SIMULTANEOUS)
		simultaneous_close_all(p, n);
	if (tw_two_step(tc)) {
		if (wait_state_count(ST_FIN_WAIT1, 0, 2000))
			die(0, "FINs not acked within 2 s");
		for (i = 0; i < n; i++)
			tw_close_later(tc, p[i]);
	}
	close(lfd);
	/* a delayed ACK may still hold a FIN_WAIT1 orphan back */
	wait_closing_done(2000);
	c = count_sockets();
	for_each_row(count_port_tw, &b);
	printf("case=%s\nconnections=%ld\nport=%d\n", sc->name + 3, n, PORT);
	printf("tw.sockets=%d\ntw.time_wait=%d\ntw.fin_wait2=%d\n", c.tw, c.tw_time_wait,
	       c.tw_fin_wait2);
	/* both ends in timewait: the close was simultaneous */
	printf("tw.server_side=%d\n", b.local);
	if (tc == TW_ORPHAN) {
		/* the peer closes only once the orphans' timewait socks are gone */
		deadline = now_ms() + 5000;
		while (count_sockets().tw && now_ms() < deadline)
			sleep_ms(50);
		printf("tw.sockets_before_peer_close=%d\n", count_sockets().tw);
		for (i = 0; i < n; i++)
			close(p[i].s);
	}
	free(p);
	printf("client_pid=%d\n", main_pid);
}

/* ---- queue overflows ----------------------------------------------------------- */

#define PORT_ACCEPT_Q	(PORT + 1100)	/* + 1..6, one listener per case: 9101.. by default */
#define PORT_SYN_Q	(PORT + 1200)

enum queue { Q_ACCEPT = 1, Q_SYN };

/*
 * A socket that hears nothing: a classic BPF filter that drops every
 * segment.  tcp_v4_rcv() runs it (tcp_filter()) before TCP looks at the
 * segment, so a SYN-ACK is neither answered nor reset: the listener's
 * request waits in its SYN queue.  No raw socket and no netfilter needed,
 * and nothing leaves loopback.
 */
static void drop_all_input(int fd)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		die(errno, "SO_ATTACH_FILTER");
}

/* n non-blocking connects, not waited for. */
static int *connect_nowait(int family, int port, int n, bool deaf)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int *fds, i;

	fds = calloc(n, sizeof(*fds));
	if (!fds)
		die(ENOMEM, "connect_nowait");
	for (i = 0; i < n; i++) {
		fds[i] = tcp_socket(family, SOCK_NONBLOCK);
		if (deaf)
			drop_all_input(fds[i]);
		if (connect(fds[i], (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
			die(errno, "connect %d of %d", i + 1, n);
	}
	return fds;
}

/*
 * n connects at a listener that may turn them away, for a little over 1 s
 * (the initial RTO: each dropped SYN comes once more); then a RST from each
 * established client, while SYN_SENT ones just go.
 */
static void knock(int family, int port, long n, bool deaf)
{
	int *fds = connect_nowait(family, port, n, deaf);

	sleep_ms(1100);
	for (long i = 0; i < n; i++) {
		set_linger0(fds[i]);
		close(fds[i]);
	}
	free(fds);
}

/* A dual-stack listener: IPv6, not IPV6_V6ONLY, on every address, for IPv4 clients. */
static int tcp_listen_dual(int port, int backlog)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = tcp_socket(AF_INET6, 0), one = 1, zero = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
		die(errno, "SO_REUSEADDR, IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		die(errno, "bind [::] port %d", port);
	if (listen(fd, backlog))
		die(errno, "listen on port %d", port);
	return fd;
}

/*
 * For each of net.ipv4.tcp_syncookies 1 and 0, over IPv4, IPv6, and IPv4
 * to a dual-stack IPv6 listener ("ipv6dual"): a
 * listener that never accepts, hit by n connects, for a little over 1 s (so
 * that every SYN the kernel dropped is sent once more).  The accept queue:
 * backlog 1, ordinary clients; the third connection finds it full.  The SYN
 * queue: backlog 2, deaf clients, so requests stay; the fourth SYN finds
 * more than 2 (inet_csk_reqsk_queue_is_full(); kernels before the 2025 fix
 * say full at 2) and is dropped, or answered with a cookie.  Each case
 * prints its port and its own counter deltas under "QUEUE.FAMILY.cookiesN.".
 */
static void overflow(const struct scenario *sc, long n)
{
	static const struct { int family; const char *cookies; bool dual; } cases[] = {
		{ AF_INET, "1", false }, { AF_INET, "0", false }, { AF_INET6, "1", false },
		{ AF_INET6, "0", false }, { AF_INET, "1", true }, { AF_INET, "0", true },
	};
	long long before[N_COUNTERS], after[N_COUNTERS];
	const char *queue = sc->variant == Q_ACCEPT ? "accept" : "syn";
	int backlog = sc->variant == Q_ACCEPT ? 1 : 2;
	char pre[64];
	int k, lfd, port;

	if (PORT_SYN_Q + 6 > 65535)
		die(0, "--port %d: the overflow scenarios listen on --port + 1101..1106 and "
		    "+ 1201..1206; give one below 64329", PORT);
	raise_nofile(n + 64);
	printf("queue=%s\nconnections=%ld\nbacklog=%d\nlistener_pid=%d\n", queue, n, backlog,
	       main_pid);
	for (k = 0; k < (int)(sizeof(cases) / sizeof(cases[0])); k++) {
		port = (sc->variant == Q_ACCEPT ? PORT_ACCEPT_Q : PORT_SYN_Q) + k + 1;
		snprintf(pre, sizeof(pre), "%s.%s.cookies%s.", queue,
			 cases[k].dual ? "ipv6dual" : cases[k].family == AF_INET6 ? "ipv6" : "ipv4",
			 cases[k].cookies);
		/* per namespace, and IPv6 follows the ipv4 sysctl too */
		set_sysctl("net/ipv4/tcp_syncookies", cases[k].cookies);
		memset(before, 0, sizeof(before));
		memset(after, 0, sizeof(after));
		read_counters(before);
		lfd = cases[k].dual ? tcp_listen_dual(port, backlog) :
				      tcp_listen(cases[k].family, port, backlog);
		knock(cases[k].family, port, n, sc->variant == Q_SYN);
		close(lfd);
		read_counters(after);
		printf("%sport=%d\n", pre, port);
		print_deltas(pre, before, after);
	}
}

/*
 * overflow-both: SYNs that find both queues full.  tcp_conn_request() then
 * means to answer with a cookie (TCPReqQFullDoCookies) but tests the accept
 * queue before it sends one, and drops (ListenOverflows): no SyncookiesSent.
 * For each of net.ipv4.tcp_syncookies 1 and 2, over IPv4, IPv6 and IPv4 to a
 * dual-stack listener: a backlog-1 listener that never accepts.  With
 * cookies 1 its SYN queue is filled first, by deaf clients whose requests
 * stay (with 2 there are none: every SYN has a cookie); then two clients
 * connect, one at a time, each from a cookie (the SYN queue is full, or
 * cookies 2), and their children fill the accept queue; then n connects, for
 * a little over 1 s, find both full.  Each case prints its port and its own
 * counter deltas under "both.FAMILY.cookiesN.".
 */
#define PORT_BOTH_Q	(PORT + 1300)
#define BOTH_BACKLOG	1

struct port_state {
	int port;
	unsigned int st;
	int n;		/* full sockets in st, with port at either end */
};

static void count_port_state(const struct sock_row *r, void *ctx)
{
	struct port_state *ps = ctx;

	if (r->tr != TR_TIMEWAIT && r->st == ps->st &&
	    (r->lport == (unsigned int)ps->port || r->rport == (unsigned int)ps->port))
		ps->n++;
}

/*
 * Waits up to ms for want sockets in state st at port (a request sock is
 * SYN_RECV); the count.  Per port: a closed listener's requests linger
 * until their timer next fires.
 */
static int wait_port_state(int port, unsigned int st, int want, int ms)
{
	long long deadline = now_ms() + ms;
	struct port_state ps;

	do {
		ps = (struct port_state){ .port = port, .st = st };
		for_each_row(count_port_state, &ps);
		if (ps.n == want)
			break;
		sleep_ms(10);
	} while (now_ms() < deadline);
	return ps.n;
}

static void overflow_both(const struct scenario *UNUSED(sc), long n)
{
	static const struct { int family; const char *cookies; bool dual; } cases[] = {
		{ AF_INET, "1", false }, { AF_INET, "2", false }, { AF_INET6, "1", false },
		{ AF_INET6, "2", false }, { AF_INET, "1", true }, { AF_INET, "2", true },
	};
	long long before[N_COUNTERS], after[N_COUNTERS];
	int k, i, lfd, port, *deaf, fill[BOTH_BACKLOG + 1], n_deaf, est, reqs;
	char pre[64];

	if (PORT_BOTH_Q + 6 > 65535)
		die(0, "--port %d: overflow-both listens on --port + 1301..1306; give one up to "
		    "64229", PORT);
	raise_nofile(n + 64);
	printf("queue=both\nconnections=%ld\nbacklog=%d\nlistener_pid=%d\n", n, BOTH_BACKLOG,
	       main_pid);
	for (k = 0; k < (int)(sizeof(cases) / sizeof(cases[0])); k++) {
		port = PORT_BOTH_Q + k + 1;
		snprintf(pre, sizeof(pre), "both.%s.cookies%s.",
			 cases[k].dual ? "ipv6dual" : cases[k].family == AF_INET6 ? "ipv6" : "ipv4",
			 cases[k].cookies);
		set_sysctl("net/ipv4/tcp_syncookies", cases[k].cookies);
		memset(before, 0, sizeof(before));
		memset(after, 0, sizeof(after));
		read_counters(before);
		lfd = cases[k].dual ? tcp_listen_dual(port, BOTH_BACKLOG) :
				      tcp_listen(cases[k].family, port, BOTH_BACKLOG);
		/*
		 * backlog + 1 requests overfill the SYN queue (qlen > max); a
		 * kernel without the 2025 fix to inet_csk_reqsk_queue_is_full()
		 * is full at backlog already, and answers the last with a cookie.
		 */
		n_deaf = cases[k].cookies[0] == '1' ? BOTH_BACKLOG + 1 : 0;
		deaf = n_deaf ? connect_nowait(cases[k].family, port, n_deaf, true) : NULL;
		reqs = n_deaf ? wait_port_state(port, ST_SYN_RECV, n_deaf, 1000) : 0;
		if (reqs < n_deaf - 1)
			die(0, "%.*s: %d requests in the SYN queue, want %d", (int)strlen(pre) - 1, pre,
			    reqs, n_deaf);
		for (i = 0; i < BOTH_BACKLOG + 1; i++)
			fill[i] = tcp_connect(cases[k].family, port);
		/* the clients and their children, in the accept queue (ack_backlog > max) */
		est = wait_port_state(port, ST_ESTABLISHED, 2 * (BOTH_BACKLOG + 1), 2000);
		if (est != 2 * (BOTH_BACKLOG + 1))
			die(0, "%.*s: %d sockets established, want %d", (int)strlen(pre) - 1, pre, est,
			    2 * (BOTH_BACKLOG + 1));
		knock(cases[k].family, port, n, false);
		for (i = 0; i < BOTH_BACKLOG + 1; i++) {
			set_linger0(fill[i]);
			close(fill[i]);
		}
		for (i = 0; i < n_deaf; i++)
			close(deaf[i]);
		free(deaf);
		close(lfd);
		read_counters(after);
		printf("%sport=%d\n%srequests=%d\n", pre, port, pre, reqs);
		print_deltas(pre, before, after);
	}
}

/*
 * stuck-listener: a server that stopped calling accept(), found by tcptrail
 * already stuck.  Before tracing, ttdrive listens on PORT with backlog 2;
 * it accepts two connections and closes them, with their clients deaf
 * (drop_all_input), so that its FINs stay unacknowledged: one after its
 * client's FIN (an orphan in LAST_ACK), one with a byte unsent (FIN_WAIT1).
 * Orphans have no file, as an accept queue's sockets have none, at the
 * listener's port too, and no owner.  Then it accepts no more; 3 clients
 * connect (the queue holds backlog + 1) and close, so 3 sockets wait in the
 * accept queue in CLOSE_WAIT, held by no process.  Under tracing, n more
 * clients connect for a little over 1 s: the full queue turns them away
 * (ListenOverflows), at a listener tcptrail knows only from its seed.  Both
 * are ttdrive's: the listener's owner.  The orphans retransmit their FINs
 * for minutes (tcp_orphan_retries): their clients' resets end them.
 */
#define STUCK_QUEUED 3

static int stuck_lfd = -1;
static int stuck_deaf[2] = { -1, -1 };

static void stuck_start(const struct scenario *UNUSED(sc), long UNUSED(n))
{
	char buf[16];
	int i, s;

	stuck_lfd = tcp_listen(AF_INET, PORT, STUCK_QUEUED - 1);
	/* LAST_ACK: the client's FIN read, then ours, which it drops */
	stuck_deaf[0] = tcp_connect(AF_INET, PORT);
	s = tcp_accept(stuck_lfd);
	if (shutdown(stuck_deaf[0], SHUT_WR))
		die(errno, "shutdown");
	if (read(s, buf, sizeof(buf)) != 0)
		die(errno, "read the client's FIN");
	/* deaf once our ACK of its FIN is in (a delayed one may take 40 ms) */
	if (wait_state_count(ST_FIN_WAIT2, 1, 2000) != 1)
		die(0, "want the client in FIN_WAIT2 after its shutdown()");
	drop_all_input(stuck_deaf[0]);
	close(s);
	/* FIN_WAIT1: a byte and the FIN, which it drops */
	stuck_deaf[1] = tcp_connect(AF_INET, PORT);
	s = tcp_accept(stuck_lfd);
	drop_all_input(stuck_deaf[1]);
	send_str(s, "x");
	close(s);
	if (wait_state_count(ST_LAST_ACK, 1, 2000) != 1 ||
	    wait_state_count(ST_FIN_WAIT1, 1, 2000) != 1)
		die(0, "want an orphan in LAST_ACK and one in FIN_WAIT1");
	for (i = 0; i < STUCK_QUEUED; i++)
		client_closes_first(AF_INET, PORT);
	if (wait_state_count(ST_CLOSE_WAIT, STUCK_QUEUED, 2000) != STUCK_QUEUED)
		die(0, "want %d sockets in CLOSE_WAIT in the accept queue", STUCK_QUEUED);
	printf("queued=%d\norphans=2\nport=%d\nlistener_pid=%d\n", STUCK_QUEUED, PORT,
	       main_pid);
	fflush(stdout);
}

static void stuck_listener(const struct scenario *UNUSED(sc), long n)
{
	long long before[N_COUNTERS] = {}, after[N_COUNTERS] = {};

	read_counters(before);
	knock(AF_INET, PORT, n, false);
	read_counters(after);
	print_deltas("stuck.", before, after);
	fflush(stdout);
	/* past --close-wait-age 1 at a summary of -i 1 */
	pause_point("stuck-listener", 2500);
	close(stuck_lfd);
	for (int i = 0; i < 2; i++) {
		set_linger0(stuck_deaf[i]);
		close(stuck_deaf[i]);
	}
	if (wait_state_count(ST_LAST_ACK, 0, 2000) || wait_state_count(ST_FIN_WAIT1, 0, 2000))
		die(0, "the orphans outlived their clients' resets");
}

/*
 * stuck-listener-daemon: the listener of a daemon's start, as nginx's and
 * haproxy's: a process (ttlisten) calls listen() under tracing, forks the
 * daemon (ttdaemon), which keeps the listener and never accepts, and exits.
 * Its queue fills with connections whose clients gave up (a pause), then
 * n more are turned away (a pause).
 */
static void stuck_daemon(const struct scenario *UNUSED(sc), long n)
{
	long long before[N_COUNTERS] = {}, after[N_COUNTERS] = {};
	int ready[2], ctl[2], status, i;
	struct pollfd pfd;
	pid_t starter, daemon_pid;
	char c;

	/* the daemon, orphaned, comes back to us to be reaped */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe2(ready, O_CLOEXEC) ||
	    pipe2(ctl, O_CLOEXEC))
		die(errno, "subreaper, pipe");
	if (n_children == (int)(sizeof(children) / sizeof(children[0])))
		die(0, "too many servers");
	fflush(stdout);
	starter = fork();
	if (starter < 0)
		die(errno, "fork");
	if (starter == 0) {
		int lfd;

		prctl(PR_SET_NAME, "ttlisten");
		close(ready[0]);
		close(ctl[1]);
		lfd = tcp_listen(AF_INET, PORT, STUCK_QUEUED - 1);
		daemon_pid = fork();
		if (daemon_pid == 0) {
			pid_t me = getpid();

			prctl(PR_SET_NAME, "ttdaemon");
			if (write(ready[1], &me, sizeof(me)) != sizeof(me))
				_exit(1);
			close(ready[1]);
			/* until ttdrive closes its end, or dies */
			pfd = (struct pollfd){ .fd = ctl[0], .events = POLLIN };
			if (poll(&pfd, 1, timeout_s * 1000) != 1 || read(ctl[0], &c, 1) != 0)
				_exit(1);
			close(lfd);
			_exit(0);
		}
		_exit(daemon_pid < 0);
	}
	close(ready[1]);
	close(ctl[0]);
	if (waitpid(starter, &status, 0) != starter || !WIFEXITED(status) || WEXITSTATUS(status))
		die(0, "ttlisten did not start its daemon");
	pfd = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	if (poll(&pfd, 1, timeout_s * 1000) != 1 ||
	    read(ready[0], &daemon_pid, sizeof(daemon_pid)) != sizeof(daemon_pid))
		die(0, "ttdaemon did not start");
	close(ready[0]);
	children[n_children++] = daemon_pid;
	for (i = 0; i < STUCK_QUEUED; i++)
		client_closes_first(AF_INET, PORT);
	if (wait_state_count(ST_CLOSE_WAIT, STUCK_QUEUED, 2000) != STUCK_QUEUED)
		die(0, "want %d sockets in CLOSE_WAIT in the accept queue", STUCK_QUEUED);
	printf("queued=%d\nport=%d\nlistener_pid=%d\nlistener_comm=ttdaemon\nlisten_pid=%d\n",
	       STUCK_QUEUED, PORT, daemon_pid, starter);
	fflush(stdout);
	/* past --close-wait-age 1 at a summary of -i 1 */
	pause_point("queued", 2500);
	read_counters(before);
	knock(AF_INET, PORT, n, false);
	read_counters(after);
	print_deltas("stuck.", before, after);
	fflush(stdout);
	pause_point("stuck-listener", 2500);
	close(ctl[1]);
	reap(daemon_pid);
}

/* ---- TIME-WAIT population ------------------------------------------------------ */

#define MAX_EP 8

struct ep_count {
	char key[64];
	int n;
};

struct tw_census {
	unsigned int lo, hi;		/* ip_local_port_range */
	int time_wait;			/* ss -tan state time-wait */
	struct ep_count remote[MAX_EP], local[MAX_EP];
};

static void ep_add(struct ep_count *t, const char *key)
{
	int i;

	for (i = 0; i < MAX_EP && t[i].key[0]; i++)
		if (!strcmp(t[i].key, key))
			break;
	if (i == MAX_EP)
		die(0, "more than %d endpoints", MAX_EP);
	if (!t[i].key[0])
		snprintf(t[i].key, sizeof(t[i].key), "%s", key);
	t[i].n++;
}

/*
 * What tcptrail's time_wait report says it counts: the timewait socks in
 * their TIME_WAIT substate, by remote endpoint (the remote port only where
 * the local one is ephemeral, that is where we connected; 0 otherwise) and
 * by local address.
 */
static void census_row(const struct sock_row *r, void *ctx)
{
	struct tw_census *c = ctx;
	char addr[INET6_ADDRSTRLEN], key[80];
	bool ours = r->lport >= c->lo && r->lport <= c->hi;

	if (r->tr != TR_TIMEWAIT || r->st != ST_TIME_WAIT)
		return;
	c->time_wait++;
	inet_ntop(r->family, r->raddr, addr, sizeof(addr));
	snprintf(key, sizeof(key), "%s:%u", addr, ours ? r->rport : 0);
	ep_add(c->remote, key);
	inet_ntop(r->family, r->laddr, addr, sizeof(addr));
	ep_add(c->local, addr);
}

static void read_port_range(unsigned int *lo, unsigned int *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (!f || fscanf(f, "%u %u", lo, hi) != 2)
		die(errno, "read ip_local_port_range");
	fclose(f);
}

static void tw_census_print(void)
{
	struct tw_census c;
	int i;

	memset(&c, 0, sizeof(c));
	read_port_range(&c.lo, &c.hi);
	for_each_row(census_row, &c);
	printf("ss.time_wait=%d\n", c.time_wait);
	for (i = 0; i < MAX_EP && c.remote[i].key[0]; i++)
		printf("tw.remote.%s=%d\n", c.remote[i].key, c.remote[i].n);
	for (i = 0; i < MAX_EP && c.local[i].key[0]; i++)
		printf("tw.local.%s=%d\n", c.local[i].key, c.local[i].n);
}

/*
 * n connections spread over three destinations and two local addresses,
 * each closed first by the client (variant 0) or by the server (1); then a
 * pause with the TIME-WAIT population stable (60 s per socket).
 */
static void tw_load(const struct scenario *sc, long n)
{
	const struct { const char *src, *dst; int port, share; } dests[] = {
		{ NULL, "127.0.0.1", PORT, 50 },
		{ "127.0.0.3", "127.0.0.2", PORT, 30 },
		{ NULL, "127.0.0.1", PORT + 1, 20 },
	};
	int lfd[3], d, j, cnt, done = 0;
	bool server_closes = sc->variant;
	unsigned int lo, hi;
	struct pair p;

	/* the server's own TIME-WAIT would pass for connections of ours, by the thousand */
	read_port_range(&lo, &hi);
	if ((unsigned int)PORT + 1 >= lo && (unsigned int)PORT <= hi)
		die(0, "--port %d: the TIME-WAIT census tells our connections by their ephemeral "
		    "local port (%u-%u), as tcptrail's report does; give a port outside it",
		    PORT, lo, hi);
	for (d = 0; d < 3; d++)
		lfd[d] = tcp_listen_at(AF_INET, dests[d].dst, dests[d].port, 64);
	for (d = 0; d < 3; d++) {
		cnt = d == 2 ? n - done : n * dests[d].share / 100;
		for (j = 0; j < cnt; j++) {
			p = pair_open(AF_INET, dests[d].src, dests[d].dst, dests[d].port, lfd[d]);
			if (server_closes) {
				close(p.s);
				drain_any(p.c);
				close(p.c);
			} else {
				close(p.c);
				drain_any(p.s);
				close(p.s);
			}
		}
		done += cnt;
	}
	for (d = 0; d < 3; d++)
		close(lfd[d]);
	/* every FIN acked: the timewait socks are all in their TIME_WAIT substate */
	wait_closing_done(3000);
	printf("connections=%ld\ncloser=%s\nclient_pid=%d\n", n, server_closes ? "server" : "client",
	       main_pid);
	tw_census_print();
	pause_point("tw-load", 1500);
}

/* ---- CLOSE-WAIT leak --------------------------------------------------------------- */

static struct {
	pid_t pid;
	int ctl;	/* closing it tells the leaking server to close its sockets */
	int *streams;	/* close-wait-sending: the half-closed clients, reading */
	int hand;	/* close-wait-handoff-twice: a byte hands the rest on */
	int ready;	/* ... and the second worker's pid comes back here */
} leak = { .ctl = -1, .hand = -1, .ready = -1 };

struct owned {
	unsigned long *inodes;
	int n, cap;
	unsigned int st;
	int count;
};

static void owned_row(const struct sock_row *r, void *ctx)
{
	struct owned *o = ctx;
	int k;

	if (r->tr == TR_TIMEWAIT || r->st != o->st)
		return;
	for (k = 0; k < o->n; k++)
		if (o->inodes[k] == r->inode)
			o->count++;
}

/* Full sockets in state st whose inode is among pid's descriptors. */
static int count_owned(pid_t pid, unsigned int st)
{
	struct owned o = { .st = st };
	char dir[64], path[320], link[64];
	struct dirent *de;
	unsigned long ino;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		die(errno, "open %s", dir);
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		if (o.n == o.cap) {
			o.cap = o.cap ? 2 * o.cap : 64;
			o.inodes = realloc(o.inodes, o.cap * sizeof(*o.inodes));
			if (!o.inodes)
				die(ENOMEM, "inodes");
		}
		o.inodes[o.n++] = ino;
	}
	closedir(d);
	for_each_row(owned_row, &o);
	free(o.inodes);
	return o.count;
}

/*
 * A server (its own process, named ttleak) accepts k connections and never
 * closes them; each client sends a line and closes: k sockets leak in
 * CLOSE_WAIT, owned by the server, until leak_end().
 */
/*
 * The leaking server (ttleak) accepts k connections and reads each to its
 * end.  With variant 1 (close-wait-handoff) it then hands them on: a worker
 * it forks (ttworker, uid 65534) keeps them, and it closes its own copies,
 * so that the leak is the worker's, as ss -p says, though ttleak accepted
 * them.  With variant 2 (close-wait-sending) it also accepts k on PORT+1,
 * whose clients half-closed and read, and streams to them.  With variant 3
 * (close-wait-handoff-twice) the first worker takes k/2 of them, and a
 * second (ttworker2) the rest when ttdrive says (leak_hand_on()).
 */
/*
 * close-wait-sending: the server's K sockets on PORT+1, whose clients
 * half-closed, get a byte every 100 ms until ttdrive closes ctl: in
 * CLOSE_WAIT, answering, no leak.
 */
static void stream_until_told(int ctl, const int *fds, long k)
{
	long long deadline = now_ms() + timeout_s * 1000LL;
	struct pollfd pfd = { .fd = ctl, .events = POLLIN };
	long i;

	while (poll(&pfd, 1, 100) == 0) {
		if (now_ms() > deadline)
			die(0, "streaming server: not told to stop within %d s", timeout_s);
		for (i = 0; i < k; i++)
			if (send(fds[i], "x", 1, MSG_NOSIGNAL) != 1)
				die(errno, "send on a half-closed connection");
	}
}

/* The fewest bytes a half-closed client of close-wait-sending read, to the end. */
static long streams_end(long k)
{
	long least = -1, i;

	for (i = 0; i < k; i++) {
		char buf[4096];
		long got = 0;
		ssize_t r;

		while ((r = read(leak.streams[i], buf, sizeof(buf))) > 0)
			got += r;
		if (r < 0)
			die(errno, "read a stream");
		close(leak.streams[i]);
		if (least < 0 || got < least)
			least = got;
	}
	free(leak.streams);
	leak.streams = NULL;
	return least;
}

/*
 * A forked worker of the leaking server becomes another user's, as a
 * service's worker is: its /proc/PID/fd is then 0500 and nobody's, which
 * root reads only with CAP_DAC_READ_SEARCH (dumpable again, or it would be
 * root's).
 */
static void become_worker(const char *name)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534) || prctl(PR_SET_DUMPABLE, 1) ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL))
		_exit(1);
	prctl(PR_SET_NAME, name);
}

static void leak_start(const struct scenario *sc, long k)
{
	int lfd, sfd = -1, ready[2], ctl[2], hand[2] = { -1, -1 }, *fds, i;
	long n_cw = sc->variant == 2 ? 2 * k : k;
	long first = sc->variant == 3 ? k / 2 : k;	/* the first worker's */
	bool handoff = sc->variant == 1 || sc->variant == 3;
	pid_t holder = 0, worker, worker2 = 0;
	struct pollfd pfd;
	char c;

	raise_nofile(2 * k + 64);
	lfd = tcp_listen(AF_INET, PORT, k);
	if (sc->variant == 2)
		sfd = tcp_listen(AF_INET, PORT + 1, k);
	if (pipe2(ready, O_CLOEXEC) || pipe2(ctl, O_CLOEXEC) ||
	    (sc->variant == 3 && pipe2(hand, O_CLOEXEC)))
		die(errno, "pipe");
	if (n_children == (int)(sizeof(children) / sizeof(children[0])))
		die(0, "too many servers");
	fflush(stdout);
	leak.pid = fork();
	if (leak.pid < 0)
		die(errno, "fork");
	if (leak.pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != main_pid)
			_exit(1);
		prctl(PR_SET_NAME, "ttleak");
		close(ready[0]);
		close(ctl[1]);
		fds = calloc(n_cw, sizeof(*fds));
		if (!fds)
			die(ENOMEM, "leak");
		/* the listener stays open, as a leaking service's does */
		for (i = 0; i < k; i++)
			fds[i] = tcp_accept(lfd);
		for (i = k; i < n_cw; i++)
			fds[i] = tcp_accept(sfd);
		/* it reads to end of stream, as a server does, and then forgets */
		for (i = 0; i < n_cw; i++)
			drain_any(fds[i]);
		worker = 0;
		if (handoff) {
			worker = fork();
			if (worker < 0)
				die(errno, "fork the worker");
			if (worker == 0) {
				become_worker("ttworker");
				for (i = first; i < k; i++)
					close(fds[i]);
				if (hand[0] >= 0)
					close(hand[0]);
			} else {
				/* handed on: the worker holds them now */
				for (i = 0; i < first; i++)
					close(fds[i]);
			}
		}
		/* who holds them, once they are handed on: ttleak says */
		holder = worker > 0 ? worker : getpid();
		if ((!handoff || worker > 0) &&
		    write(ready[1], &holder, sizeof(holder)) != sizeof(holder))
			die(errno, "write");
		/* the rest, to a second worker, when told */
		if (sc->variant == 3 && worker > 0) {
			pfd = (struct pollfd){ .fd = hand[0], .events = POLLIN };
			if (poll(&pfd, 1, timeout_s * 1000) != 1 || read(hand[0], &c, 1) != 1)
				die(0, "leaking server: not told to hand on within %d s", timeout_s);
			worker2 = fork();
			if (worker2 < 0)
				die(errno, "fork the second worker");
			if (worker2 == 0) {
				become_worker("ttworker2");
				worker = 0;
			} else {
				for (i = first; i < k; i++)
					close(fds[i]);
				if (write(ready[1], &worker2, sizeof(worker2)) != sizeof(worker2))
					die(errno, "write");
			}
		}
		/* until ttdrive closes its end */
		if (sc->variant == 2)
			stream_until_told(ctl[0], fds + k, k);
		pfd = (struct pollfd){ .fd = ctl[0], .events = POLLIN };
		if (poll(&pfd, 1, timeout_s * 1000) != 1 || read(ctl[0], &c, 1) != 0)
			die(0, "leaking server: not told to stop within %d s", timeout_s);
		if (worker > 0) {
			waitpid(worker, NULL, 0);
			if (worker2 > 0)
				waitpid(worker2, NULL, 0);
		} else {
			for (i = 0; i < n_cw; i++)
				close(fds[i]);
		}
		close(lfd);
		exit(0);
	}
	children[n_children++] = leak.pid;
	close(lfd);
	if (sfd >= 0)
		close(sfd);
	close(ready[1]);
	close(ctl[0]);
	leak.ctl = ctl[1];
	if (sc->variant == 3) {
		close(hand[0]);
		leak.hand = hand[1];
	}
	for (i = 0; i < k; i++)
		client_closes_first(AF_INET, PORT);
	if (sc->variant == 2) {
		leak.streams = calloc(k, sizeof(*leak.streams));
		if (!leak.streams)
			die(ENOMEM, "streams");
		/* an HTTP/1.0-style client: the request, its end, and then it reads */
		for (i = 0; i < k; i++) {
			leak.streams[i] = tcp_connect(AF_INET, PORT + 1);
			send_str(leak.streams[i], "hello\n");
			if (shutdown(leak.streams[i], SHUT_WR))
				die(errno, "shutdown");
		}
	}
	pfd = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	if (poll(&pfd, 1, timeout_s * 1000) != 1 ||
	    read(ready[0], &holder, sizeof(holder)) != sizeof(holder))
		die(0, "leaking server did not accept %ld connections", k);
	if (sc->variant == 3)
		leak.ready = ready[0];
	else
		close(ready[0]);
	if (wait_state_count(ST_CLOSE_WAIT, n_cw, 2000) != n_cw)
		die(0, "want %ld sockets in CLOSE_WAIT", n_cw);
	/* the worker's: ttleak, which accepted them, holds none (variant 3: the rest) */
	if (holder != leak.pid && count_owned(leak.pid, ST_CLOSE_WAIT) != k - first)
		die(0, "ttleak holds %d of the sockets, not %ld", count_owned(leak.pid, ST_CLOSE_WAIT),
		    k - first);
	printf("leaked=%ld\nport=%d\nserver_pid=%d\nserver_comm=%s\naccept_pid=%d\nclient_pid=%d\n",
	       k, PORT, holder, holder == leak.pid ? "ttleak" : "ttworker", leak.pid, main_pid);
	if (sc->variant == 3)
		printf("server.held=%ld\n", first);
	printf("ss.close_wait=%d\nss.close_wait.server=%d\n", count_sockets().by_state[ST_CLOSE_WAIT],
	       count_owned(holder, ST_CLOSE_WAIT));
	if (sc->variant == 2)
		printf("streaming=%ld\nstream_port=%d\n", k, PORT + 1);
	fflush(stdout);
}

/* close-wait-handoff-twice: the second worker takes the rest, ttleak none. */
static void leak_hand_on(long k)
{
	struct pollfd pfd = { .fd = leak.ready, .events = POLLIN };
	long rest = k - k / 2;
	pid_t worker2;

	if (write(leak.hand, "h", 1) != 1)
		die(errno, "write");
	if (poll(&pfd, 1, timeout_s * 1000) != 1 ||
	    read(leak.ready, &worker2, sizeof(worker2)) != sizeof(worker2))
		die(0, "leaking server did not hand on the rest");
	close(leak.ready);
	leak.ready = -1;
	if (count_owned(leak.pid, ST_CLOSE_WAIT))
		die(0, "ttleak still holds %d of the sockets it handed on",
		    count_owned(leak.pid, ST_CLOSE_WAIT));
	printf("server2_pid=%d\nserver2_comm=ttworker2\nserver2.held=%ld\nss.close_wait.server2=%d\n",
	       worker2, rest, count_owned(worker2, ST_CLOSE_WAIT));
	fflush(stdout);
}

static void leak_end(void)
{
	if (leak.hand >= 0)
		close(leak.hand);
	leak.hand = -1;
	close(leak.ctl);
	leak.ctl = -1;
	reap(leak.pid);
}

/* The leak made while tcptrail runs, or (prepare) before it starts. */
static void close_wait(const struct scenario *sc, long k)
{
	if (!sc->prepare)
		leak_start(sc, k);
	if (sc->variant == 3) {
		pause_point("handed-once", 2500);
		leak_hand_on(k);
	}
	/* past --close-wait-age 1 at a summary of -i 1 */
	pause_point("close-wait", 2500);
	leak_end();
	if (leak.streams)
		printf("stream.least_bytes=%ld\n", streams_end(k));
}

/*
 * close-wait-services: a client that never closes, toward N services that
 * do, one connection each: N leak groups of one socket, ttdrive's own.
 */
static void close_wait_services(const struct scenario *sc, long n)
{
	int *fds = calloc(n, sizeof(*fds));
	long i;

	(void)sc;
	if (!fds)
		die(ENOMEM, "fds");
	for (i = 0; i < n; i++) {
		int lfd = tcp_listen(AF_INET, PORT + (int)i, 4), afd;

		fds[i] = tcp_connect(AF_INET, PORT + (int)i);
		afd = accept(lfd, NULL, NULL);
		if (afd < 0)
			die(errno, "accept on port %ld", PORT + i);
		close(afd);
		close(lfd);
	}
	if (wait_state_count(ST_CLOSE_WAIT, (int)n, 2000) != n)
		die(0, "want %ld sockets in CLOSE_WAIT", n);
	printf("leaked=%ld\nport=%d\nclient_pid=%d\nss.close_wait=%d\n", n, PORT, main_pid,
	       count_sockets().by_state[ST_CLOSE_WAIT]);
	fflush(stdout);
	/* past --close-wait-age 1 at a summary of -i 1 */
	pause_point("close-wait", 2500);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/*
 * close-wait-pid: leaks that `-p SERVER` must see, though none of these
 * sockets was the server's from a birth under tracing.  A server
 * (ttpidleak) holds K connections it accepted before tracing started, whose
 * clients close under tracing (sockets the seed found, moved to CLOSE_WAIT
 * by the peer, in softirq); K from a listener of its own made before
 * tracing; and K it accepts once their clients have closed (CLOSE_WAIT in
 * the accept queue) from a listener ttdrive made under tracing and passed
 * it, as systemd passes a socket-activated service its listener.  It reads
 * each to end of stream and keeps it: 3K leak, all the server's, K on each
 * of PORT, PORT+1 and PORT+2.  Its worker, forked with the listener on
 * PORT+1, accepts K more there: those leak too, the worker's.
 */
static struct {
	pid_t pid, peer;	/* the server, and its worker */
	int cmd, peer_cmd;	/* ttdrive -> server: A, B, C (with a listener) or q */
	int ack, peer_ack;	/* server -> ttdrive: r */
	int *early;		/* the clients of the first K, open until the run */
} pl = { .cmd = -1, .ack = -1, .peer_cmd = -1, .peer_ack = -1 };

static void wait_byte(int fd, const char *what)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, timeout_s * 1000) != 1 || read(fd, &c, 1) != 1)
		die(0, "%s: no word within %d s", what, timeout_s);
}

/* One byte, and with C a listener's fd, over the unix socket cmd. */
static void pidleak_ask(int cmd, char what, int lfd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &what, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (lfd >= 0) {
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &lfd, sizeof(int));
	}
	if (sendmsg(cmd, &mh, 0) != 1)
		die(errno, "tell ttpidleak");
}

static char pidleak_order(int cmd, int *lfd)
{
	char ctl[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct pollfd pfd = { .fd = cmd, .events = POLLIN };
	struct cmsghdr *cm;

	if (poll(&pfd, 1, timeout_s * 1000) != 1 || recvmsg(cmd, &mh, MSG_CMSG_CLOEXEC) != 1)
		die(0, "ttpidleak: not told what to do within %d s", timeout_s);
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(lfd, CMSG_DATA(cm), sizeof(int));
	return c;
}

/* Accepts K on the listener each order names, reads each to its end, keeps them all. */
static void __attribute__((noreturn)) pidleak_serve(int l1, int l2, int cmd, int ack, long k)
{
	int l3 = -1, *fds = calloc(3 * k, sizeof(*fds));
	long n = 0, i;
	char c;

	if (!fds)
		die(ENOMEM, "ttpidleak");
	while ((c = pidleak_order(cmd, &l3)) != 'q' && n < 3 * k) {
		int lfd = c == 'A' ? l1 : c == 'B' ? l2 : l3;

		if (lfd < 0)
			die(0, "ttpidleak: no listener for %c", c);
		for (i = 0; i < k; i++)
			fds[n + i] = tcp_accept(lfd);
		/* it reads to end of stream, as a server does, and then forgets */
		for (i = 0; i < k && c != 'A'; i++)
			drain_any(fds[n + i]);
		n += k;
		if (write(ack, "r", 1) != 1)
			die(errno, "write");
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	exit(0);
}

/*
 * The server: its own listener on PORT+1, and a worker (ttpidpeer) forked
 * with it, as a pre-fork server's are, that accepts there too when told.
 */
static void __attribute__((noreturn)) pidleak_server(int l1, int cmd, int ack, int peer_cmd,
						    int peer_ack, long k)
{
	int l2 = tcp_listen(AF_INET, PORT + 1, 2 * (int)k);
	pid_t peer = fork();

	if (peer < 0)
		die(errno, "fork");
	if (peer == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, "ttpidpeer");
		close(cmd);
		close(ack);
		close(l1);
		pidleak_serve(-1, l2, peer_cmd, peer_ack, k);
	}
	close(peer_cmd);
	close(peer_ack);
	/* the worker's pid, then ready */
	if (write(ack, &peer, sizeof(peer)) != sizeof(peer))
		die(errno, "write");
	pidleak_serve(l1, l2, cmd, ack, k);
}

static void pidleak_start(const struct scenario *UNUSED(sc), long k)
{
	int l1, cmd[2], ack[2], pcmd[2], pack[2];
	struct pollfd pfd;

	raise_nofile(8 * k + 64);
	l1 = tcp_listen(AF_INET, PORT, (int)k);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cmd) || pipe2(ack, O_CLOEXEC) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pcmd) || pipe2(pack, O_CLOEXEC))
		die(errno, "socketpair");
	if (n_children == (int)(sizeof(children) / sizeof(children[0])))
		die(0, "too many servers");
	fflush(stdout);
	pl.pid = fork();
	if (pl.pid < 0)
		die(errno, "fork");
	if (pl.pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != main_pid)
			_exit(1);
		prctl(PR_SET_NAME, "ttpidleak");
		close(cmd[0]);
		close(ack[0]);
		close(pcmd[0]);
		close(pack[0]);
		pidleak_server(l1, cmd[1], ack[1], pcmd[1], pack[1], k);
	}
	children[n_children++] = pl.pid;
	close(cmd[1]);
	close(ack[1]);
	close(pcmd[1]);
	close(pack[1]);
	pl.cmd = cmd[0];
	pl.ack = ack[0];
	pl.peer_cmd = pcmd[0];
	pl.peer_ack = pack[0];
	pfd = (struct pollfd){ .fd = pl.ack, .events = POLLIN };
	if (poll(&pfd, 1, timeout_s * 1000) != 1 ||
	    read(pl.ack, &pl.peer, sizeof(pl.peer)) != sizeof(pl.peer))
		die(0, "ttpidleak did not start within %d s", timeout_s);
	/* the first K: accepted now, open until the run */
	pl.early = calloc(k, sizeof(*pl.early));
	if (!pl.early)
		die(ENOMEM, "clients");
	for (long i = 0; i < k; i++)
		pl.early[i] = tcp_connect(AF_INET, PORT);
	pidleak_ask(pl.cmd, 'A', -1);
	wait_byte(pl.ack, "ttpidleak's first accepts");
	close(l1);
	printf("server_pid=%d\nserver_comm=ttpidleak\npeer_pid=%d\nport=%d\nport2=%d\nport3=%d\n",
	       pl.pid, pl.peer, PORT, PORT + 1, PORT + 2);
	fflush(stdout);
}

static void close_wait_pid(const struct scenario *UNUSED(sc), long k)
{
	long long t0, t1, t2;
	int l3;
	long i;

	for (i = 0; i < k; i++)
		close(pl.early[i]);
	free(pl.early);
	/* K on its own listener */
	for (i = 0; i < k; i++)
		client_closes_first(AF_INET, PORT + 1);
	pidleak_ask(pl.cmd, 'B', -1);
	wait_byte(pl.ack, "ttpidleak's accepts on its listener");
	/* and K its worker accepts there: the worker's, not the server's */
	for (i = 0; i < k; i++)
		client_closes_first(AF_INET, PORT + 1);
	pidleak_ask(pl.peer_cmd, 'B', -1);
	wait_byte(pl.peer_ack, "ttpidpeer's accepts");
	/* K whose clients have closed before the server accepts, on a listener of ours */
	l3 = tcp_listen(AF_INET, PORT + 2, (int)k);
	t0 = now_ms();
	for (i = 0; i < k; i++)
		client_closes_first(AF_INET, PORT + 2);
	t1 = now_ms();
	if (wait_state_count(ST_CLOSE_WAIT, 4 * (int)k, 2000) != 4 * k)
		die(0, "want %ld sockets in CLOSE_WAIT before the late accepts", 4 * k);
	/* a second in the queue: their CLOSE_WAIT began then, not at the accept */
	sleep_ms(1000);
	t2 = now_ms();
	pidleak_ask(pl.cmd, 'C', l3);
	close(l3);
	wait_byte(pl.ack, "ttpidleak's late accepts");
	printf("leaked=%ld\nleaked.port=%ld\nleaked.port2=%ld\nleaked.port3=%ld\nleaked.peer=%ld\n"
	       "client_pid=%d\n", 3 * k, k, k, k, k, main_pid);
	/* CLOCK_MONOTONIC ms, as tcptrail's *_ns: the clients closed in [t0, t1], accepts after t2 */
	printf("late.closed_from_ms=%lld\nlate.closed_to_ms=%lld\nlate.accept_ms=%lld\n", t0, t1, t2);
	printf("ss.close_wait=%d\nss.close_wait.server=%d\nss.close_wait.peer=%d\n",
	       count_sockets().by_state[ST_CLOSE_WAIT], count_owned(pl.pid, ST_CLOSE_WAIT),
	       count_owned(pl.peer, ST_CLOSE_WAIT));
	fflush(stdout);
	/* past --close-wait-age 1 at a summary of -i 1 */
	pause_point("close-wait", 2500);
	pidleak_ask(pl.peer_cmd, 'q', -1);
	pidleak_ask(pl.cmd, 'q', -1);
	reap(pl.pid);
}

/* ---- a bit of everything, over a few summaries ------------------------------------- */

static void mix(const struct scenario *UNUSED(sc), long UNUSED(arg))
{
	enum tw_case cases[] = { TW_CLEAN, TW_PEER_RST, TW_LINGER2, TW_DATA_AFTER_CLOSE };
	int lfd, lfd6, fd, i, j;
	struct pair p[2];

	lfd = tcp_listen(AF_INET, PORT, 16);
	lfd6 = tcp_listen(AF_INET6, PORT, 16);
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		for (j = 0; j < 2; j++) {
			p[0] = pair_open(j ? AF_INET6 : AF_INET, NULL, j ? "::1" : "127.0.0.1", PORT,
					 j ? lfd6 : lfd);
			tw_close(cases[i], p[0]);
		}
		sleep_ms(300);
	}
	/* server closes first; the server resets; refused; simultaneous */
	for (i = 0; i < 2; i++) {
		p[i] = pair_open(AF_INET, NULL, "127.0.0.1", PORT, lfd);
		close(p[i].s);
		drain_any(p[i].c);
		close(p[i].c);
		p[i] = pair_open(AF_INET, NULL, "127.0.0.1", PORT, lfd);
		set_linger0(p[i].s);
		close(p[i].s);
		drain_any(p[i].c);
		close(p[i].c);
		fd = try_connect(AF_INET, PORT + 1);
		if (fd >= 0)
			die(0, "connect to port %d succeeded", PORT + 1);
	}
	sleep_ms(300);
	for (i = 0; i < 2; i++)
		p[i] = pair_open(AF_INET, NULL, "127.0.0.1", PORT, lfd);
	simultaneous_close_all(p, 2);
	close(lfd);
	close(lfd6);
	wait_closing_done(2000);
	printf("client_pid=%d\n", main_pid);
}

/* K connections on port 8000, a pause, K more on port 8001: for SIGHUP. */
static void two_phase(const struct scenario *UNUSED(sc), long k)
{
	struct pair p;
	int ph, i, lfd;

	for (ph = 0; ph < 2; ph++) {
		lfd = tcp_listen(AF_INET, PORT + ph, 16);
		for (i = 0; i < k; i++) {
			p = pair_open(AF_INET, NULL, "127.0.0.1", PORT + ph, lfd);
			tw_close(TW_CLEAN, p);
		}
		close(lfd);
		wait_closing_done(2000);
		printf("phase%d_port=%d\n", ph + 1, PORT + ph);
		if (!ph)
			pause_point("two-phase", 300);
	}
	printf("per_phase=%ld\nclient_pid=%d\n", k, main_pid);
}

/* K connections left open at a pause, then closed, the client first. */
static void open_conns(const struct scenario *UNUSED(sc), long k)
{
	struct pair p[16];
	int lfd, i;

	if (k < 1 || k > 16)
		die(0, "open: K is 1 to 16");
	lfd = tcp_listen(AF_INET, PORT, 16);
	for (i = 0; i < k; i++)
		p[i] = pair_open(AF_INET, NULL, "127.0.0.1", PORT, lfd);
	printf("open=%ld\nport=%d\nclient_pid=%d\n", k, PORT, main_pid);
	fflush(stdout);
	pause_point("open", 2500);
	for (i = 0; i < k; i++)
		tw_close(TW_CLEAN, p[i]);
	close(lfd);
	wait_closing_done(2000);
}

/* ---- exactness: Fast Open children, self-transitions, policy cookies ---------------- */

#ifndef TCP_FASTOPEN
#define TCP_FASTOPEN	23
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN	0x20000000
#endif

/*
 * net.ipv4.tcp_fastopen (per namespace): client (1) and server (2) on, the
 * client sends data in its SYN without a cookie (4), the server takes it
 * without one (0x200).  So every SYN of tfo_connect() makes a Fast Open
 * child at once, in SYN_RECV and in the accept queue, before any ACK.
 */
static void fastopen_on(void)
{
	set_sysctl("net/ipv4/tcp_fastopen", "519");
}

static int tfo_listen(int family, int port, int backlog)
{
	int lfd = tcp_listen(family, port, backlog), qlen = 16;

	if (setsockopt(lfd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)))
		die(errno, "TCP_FASTOPEN");
	return lfd;
}

/* A Fast Open connect: sendto() with MSG_FASTOPEN puts the data in the SYN. */
static int tfo_connect(int family, int port, bool deaf)
{
	static const char hello[] = "hello\n";
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = tcp_socket(family, SOCK_NONBLOCK);
	ssize_t n;

	if (deaf)
		drop_all_input(fd);
	n = sendto(fd, hello, sizeof(hello) - 1, MSG_FASTOPEN, (struct sockaddr *)&ss, len);
	if (n != (ssize_t)sizeof(hello) - 1)
		die(n < 0 ? errno : 0, "sendto MSG_FASTOPEN: no data in the SYN (returned %zd)", n);
	return fd;
}

/*
 * Input filter for a listener whose Fast Open children must stay in
 * SYN_RECV: only segments with SYN or RST pass.  A child inherits its
 * listener's filter (sk_clone_lock()), so it never sees the client's ACK.
 * tcp_filter() runs it with the segment starting at its TCP header: byte 13
 * is the flags.
 */
static void syn_rst_only_input(int fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02 | 0x04, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = 4, .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		die(errno, "SO_ATTACH_FILTER");
}

/*
 * n deaf Fast Open clients: n children wait in SYN_RECV, unaccepted; a
 * pause (tfo-waiting) for the test to look; then the listener is closed,
 * and inet_csk_listen_stop() disconnects each child: SYN_RECV > CLOSE with
 * no error set yet (the RST it sends is dropped by the deaf client).
 */
static void tfo_listener_close(const struct scenario *UNUSED(sc), long n)
{
	int lfd, *fds, i, got;

	raise_nofile(n + 64);
	fastopen_on();
	lfd = tfo_listen(AF_INET, PORT, n);
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		die(ENOMEM, "tfo clients");
	for (i = 0; i < n; i++)
		fds[i] = tfo_connect(AF_INET, PORT, true);
	got = wait_state_count(ST_SYN_RECV, n, 2000);
	if (got != n)
		die(0, "want %ld Fast Open children in SYN_RECV, got %d", n, got);
	printf("children=%ld\nport=%d\nlistener_pid=%d\nss.syn_recv=%d\n", n, PORT, main_pid, got);
	/* under the SYN's 1 s RTO: the deaf clients send nothing more meanwhile */
	pause_point("tfo-waiting", 200);
	close(lfd);
	got = wait_state_count(ST_SYN_RECV, 0, 2000);
	if (got)
		die(0, "%d Fast Open children still in SYN_RECV after the listener closed", got);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/*
 * n Fast Open children accepted while still in SYN_RECV (the listener's
 * filter keeps the clients' ACKs from them), then, 100 ms later, each
 * client's close() with SO_LINGER 0 resets its child: tcp_check_req()
 * passes a Fast Open child's RST to tcp_reset(), SYN_RECV > CLOSE.
 */
static void tfo_accept_reset(const struct scenario *UNUSED(sc), long n)
{
	int lfd, *c, *s, i, got;

	raise_nofile(2 * n + 64);
	fastopen_on();
	lfd = tfo_listen(AF_INET, PORT, n);
	syn_rst_only_input(lfd);
	c = calloc(n, sizeof(*c));
	s = calloc(n, sizeof(*s));
	if (!c || !s)
		die(ENOMEM, "tfo pairs");
	for (i = 0; i < n; i++)
		c[i] = tfo_connect(AF_INET, PORT, false);
	got = wait_state_count(ST_SYN_RECV, n, 2000);
	if (got != n)
		die(0, "want %ld Fast Open children in SYN_RECV, got %d", n, got);
	for (i = 0; i < n; i++)
		s[i] = tcp_accept(lfd);
	/* accepted, and still in SYN_RECV */
	got = count_sockets().by_state[ST_SYN_RECV];
	if (got != n)
		die(0, "want %ld accepted children in SYN_RECV, got %d", n, got);
	printf("children=%ld\nport=%d\nserver_pid=%d\nss.syn_recv_accepted=%d\n", n, PORT,
	       main_pid, got);
	sleep_ms(100);
	for (i = 0; i < n; i++) {
		set_linger0(c[i]);
		close(c[i]);
	}
	got = wait_state_count(ST_SYN_RECV, 0, 2000);
	if (got)
		die(0, "%d Fast Open children still in SYN_RECV after the clients' resets", got);
	for (i = 0; i < n; i++)
		close(s[i]);
	close(lfd);
	free(c);
	free(s);
}

static void detach_filter(int fd)
{
	int zero = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)))
		die(errno, "SO_DETACH_FILTER");
}

/*
 * close() after shutdown(SHUT_WR): tcp_close_state() calls tcp_set_state()
 * with the state the socket is already in.  n clients are in FIN_WAIT2 (the
 * server acked their FIN) when they close: FIN_WAIT2 > FIN_WAIT2.  n more
 * send data and shut down while the server's sockets drop all input, so
 * data and FIN are unacknowledged when they close: FIN_WAIT1 > FIN_WAIT1.
 * Then the servers take input again, read to the end and close.
 */
static void self_transitions(const struct scenario *UNUSED(sc), long n)
{
	struct pair *p;
	int lfd, i, got;

	raise_nofile(4 * n + 64);
	p = calloc(2 * n, sizeof(*p));
	if (!p)
		die(ENOMEM, "pairs");
	lfd = tcp_listen(AF_INET, PORT, 2 * n);
	for (i = 0; i < 2 * n; i++)
		p[i] = pair_open(AF_INET, NULL, "127.0.0.1", PORT, lfd);

	for (i = 0; i < n; i++)
		if (shutdown(p[i].c, SHUT_WR))
			die(errno, "shutdown");
	/* the server's ACK of a FIN may wait for its delayed-ACK timer */
	got = wait_state_count(ST_FIN_WAIT2, n, 2000);
	if (got != n)
		die(0, "want %ld clients in FIN_WAIT2 after shutdown(), got %d", n, got);
	printf("ss.fin_wait2_before_close=%d\n", got);
	for (i = 0; i < n; i++)
		close(p[i].c);

	for (i = n; i < 2 * n; i++) {
		drop_all_input(p[i].s);
		send_str(p[i].c, "hello\n");
		if (shutdown(p[i].c, SHUT_WR))
			die(errno, "shutdown");
		close(p[i].c);
	}
	/* the orphans wait in FIN_WAIT1 for an ACK that the filters drop */
	got = count_sockets().by_state[ST_FIN_WAIT1];
	if (got != n)
		die(0, "want %ld orphans in FIN_WAIT1 after close(), got %d", n, got);
	printf("ss.fin_wait1_after_close=%d\n", got);
	for (i = n; i < 2 * n; i++)
		detach_filter(p[i].s);
	/* the clients' retransmits (one RTO, with backoff) bring data and FIN */
	for (i = 0; i < 2 * n; i++) {
		drain_any(p[i].s);
		close(p[i].s);
	}
	close(lfd);
	wait_closing_done(3000);
	printf("self.fin_wait2=%ld\nself.fin_wait1=%ld\nclient_pid=%d\n", n, n, main_pid);
	free(p);
}

/*
 * net.ipv4.tcp_syncookies 2: the listener answers every SYN with a cookie
 * (SyncookiesSent), with its queues nearly empty, and makes the child from
 * the cookie in the third ACK (SyncookiesRecv).  n connections over IPv4,
 * n over IPv6, one at a time; nothing overflows.
 */
static void syncookies_policy(const struct scenario *UNUSED(sc), long n)
{
	int lfd, lfd6, i, f;
	struct pair p;

	set_sysctl("net/ipv4/tcp_syncookies", "2");
	lfd = tcp_listen(AF_INET, PORT, 128);
	lfd6 = tcp_listen(AF_INET6, PORT, 128);
	for (f = 0; f < 2; f++) {
		for (i = 0; i < n; i++) {
			p = pair_open(f ? AF_INET6 : AF_INET, NULL, f ? "::1" : "127.0.0.1", PORT,
				      f ? lfd6 : lfd);
			close(p.c);
			drain_any(p.s);
			close(p.s);
		}
	}
	close(lfd);
	close(lfd6);
	printf("connections=%ld\nport=%d\nlistener_pid=%d\n", 2 * n, PORT, main_pid);
}

/* ---- bytes: exact payload counts each way, for the flows' stats --------------------- */

/*
 * Each case is one connection over 127.0.0.1: the client writes `up` bytes
 * and shuts down its side; the server reads to the end (exactly `up`
 * bytes, or it fails), writes `down` bytes and closes; the client reads
 * them to the end (exactly `down`) and closes.  An orderly close: the
 * client ends in TIME_WAIT, the server in CLOSE.  0/0 carries no payload
 * at all, only SYN and FIN; 1 MiB takes many segments and a window that
 * grows.  Printed as bytes.K.port (the client's port), bytes.K.up and
 * bytes.K.down once both ends have checked their counts.
 */
static const struct { long up, down; } byte_cases[] = {
	{ 100000, 2345 }, { 1, 0 }, { 0, 0 }, { 0, 70000 }, { 1048576, 1 },
};
#define N_BYTE_CASES	(int)(sizeof(byte_cases) / sizeof(byte_cases[0]))

/* Writes len bytes of a pattern to fd, in as many writes as it takes. */
static void write_exactly(int fd, long len, const char *who)
{
	static char buf[65536];
	long done = 0;
	ssize_t n;
	int i;

	memset(buf, 'x', sizeof(buf));
	/* bounded: every write moves at least a byte, or times out (SO_SNDTIMEO) */
	for (i = 0; done < len && i < 1000000; i++) {
		n = write(fd, buf, len - done < (long)sizeof(buf) ? (size_t)(len - done) : sizeof(buf));
		if (n <= 0)
			die(n < 0 && errno != EAGAIN ? errno : ETIMEDOUT, "%s: write %ld of %ld bytes",
			    who, len - done, len);
		done += n;
	}
	if (done != len)
		die(0, "%s: wrote %ld of %ld bytes", who, done, len);
}

/* Reads fd to its end: the count must be exactly want. */
static void read_exactly(int fd, long want, const char *who)
{
	static char buf[65536];
	long got = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 1000000; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0)
			die(errno == EAGAIN ? ETIMEDOUT : errno, "%s: read after %ld bytes", who, got);
		got += n;
		if (got > want)
			die(0, "%s: read %ld bytes, want %ld", who, got, want);
	}
	if (got != want)
		die(0, "%s: read %ld bytes to the end, want %ld", who, got, want);
}

static void bytes_server(int lfd)
{
	int i, fd;

	for (i = 0; i < N_BYTE_CASES; i++) {
		fd = tcp_accept(lfd);
		read_exactly(fd, byte_cases[i].up, "server");
		write_exactly(fd, byte_cases[i].down, "server");
		close(fd);
	}
}

static void bytes(const struct scenario *UNUSED(sc), long UNUSED(arg))
{
	struct sockaddr_in sin;
	socklen_t len;
	pid_t server;
	int lfd, fd, i;

	lfd = tcp_listen(AF_INET, PORT, 8);
	server = fork_server();
	if (server == 0) {
		bytes_server(lfd);
		exit(0);
	}
	close(lfd);
	for (i = 0; i < N_BYTE_CASES; i++) {
		fd = tcp_connect(AF_INET, PORT);
		len = sizeof(sin);
		if (getsockname(fd, (struct sockaddr *)&sin, &len))
			die(errno, "getsockname");
		write_exactly(fd, byte_cases[i].up, "client");
		if (shutdown(fd, SHUT_WR))
			die(errno, "shutdown");
		read_exactly(fd, byte_cases[i].down, "client");
		close(fd);
		printf("bytes.%d.port=%u\nbytes.%d.up=%ld\nbytes.%d.down=%ld\n", i + 1,
		       ntohs(sin.sin_port), i + 1, byte_cases[i].up, i + 1, byte_cases[i].down);
	}
	reap(server);
	/* the servers' last ACKs: LAST_ACK > CLOSE before the counts are read */
	wait_closing_done(2000);
	printf("bytes_cases=%d\nport=%d\nclient_pid=%d\nserver_pid=%d\n", N_BYTE_CASES, PORT,
	       main_pid, server);
}

/*
 * A socket bound to 127.0.0.1:PORT connects to itself: the kernel takes its
 * own SYN for a simultaneous open (SYN_SENT > SYN_RECV > ESTABLISHED), so
 * its SYN is acknowledged by way of SYN_RECV.  n bytes go round, then a
 * shutdown() meets its own FIN (FIN_WAIT1 > CLOSING > TIME_WAIT).
 */
static void self_connect(const struct scenario *UNUSED(sc), long n)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(AF_INET, PORT, &ss);
	int fd = tcp_socket(AF_INET, 0), one = 1;

	if (n > 65536)
		die(0, "self-connect: %ld bytes would fill its own window; 65536 at most", n);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die(errno, "SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&ss, len))
		die(errno, "bind port %d", PORT);
	if (connect(fd, (struct sockaddr *)&ss, len))
		die(errno, "connect to itself on port %d", PORT);
	write_exactly(fd, n, "self-connect");
	if (shutdown(fd, SHUT_WR))
		die(errno, "shutdown");
	read_exactly(fd, n, "self-connect");
	close(fd);
	printf("self.bytes=%ld\nport=%d\nclient_pid=%d\n", n, PORT, main_pid);
}

/*
 * One socket, two connections: connect(AF_UNSPEC) disconnects it (> CLOSE,
 * a reset to the server), and a second connect() takes a new local port.
 * The server accepts both, reads each to its end, and closes.
 */
static void reconnect(const struct scenario *UNUSED(sc), long UNUSED(arg))
{
	struct sockaddr_in sin;
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct sockaddr_storage ss;
	socklen_t len = loopback(AF_INET, PORT, &ss), sl;
	unsigned int port[2];
	pid_t server;
	int lfd, fd, i;

	lfd = tcp_listen(AF_INET, PORT, 8);
	server = fork_server();
	if (server == 0) {
		for (i = 0; i < 2; i++) {
			fd = tcp_accept(lfd);
			drain_any(fd);
			close(fd);
		}
		exit(0);
	}
	close(lfd);
	fd = tcp_socket(AF_INET, 0);
	for (i = 0; i < 2; i++) {
		if (connect(fd, (struct sockaddr *)&ss, len))
			die(errno, "connect %d to port %d", i + 1, PORT);
		sl = sizeof(sin);
		if (getsockname(fd, (struct sockaddr *)&sin, &sl))
			die(errno, "getsockname");
		port[i] = ntohs(sin.sin_port);
		write_exactly(fd, 11 * (i + 1), "client");
		if (i == 0 && connect(fd, &unspec, sizeof(unspec)))
			die(errno, "connect(AF_UNSPEC)");
	}
	if (port[0] == port[1])
		die(0, "the second connect took the first one's port %u", port[0]);
	if (shutdown(fd, SHUT_WR))
		die(errno, "shutdown");
	read_exactly(fd, 0, "client");
	close(fd);
	reap(server);
	wait_closing_done(2000);
	printf("reconnect.1.port=%u\nreconnect.2.port=%u\nport=%d\nclient_pid=%d\nserver_pid=%d\n",
	       port[0], port[1], PORT, main_pid, server);
}

static const struct scenario scenarios[] = {
	{ .name = "active", .run = one_connection, .family = AF_INET, .ending = CLIENT_CLOSES },
	{ .name = "passive", .run = one_connection, .family = AF_INET, .ending = SERVER_CLOSES },
	{ .name = "reset", .run = one_connection, .family = AF_INET, .ending = SERVER_RESETS },
	{ .name = "ipv6", .run = one_connection, .family = AF_INET6, .ending = CLIENT_CLOSES },
	{ .name = "refused", .run = refused },
	{ .name = "connect-fail", .run = connect_fail },
	{ .name = "concurrent", .run = concurrent, .def_arg = 1000 },
	{ .name = "accept-owner", .run = accept_owner, .def_arg = 5 },
	{ .name = "filter", .run = filter, .def_arg = 3 },
	{ .name = "tw-clean", .run = time_wait_case, .def_arg = 50, .variant = TW_CLEAN },
	{ .name = "tw-peer-rst", .run = time_wait_case, .def_arg = 20, .variant = TW_PEER_RST },
	{ .name = "tw-peer-rst-late", .run = time_wait_case, .def_arg = 20,
	  .variant = TW_PEER_RST_LATE },
	{ .name = "tw-data-after-close", .run = time_wait_case, .def_arg = 20,
	  .variant = TW_DATA_AFTER_CLOSE },
	{ .name = "tw-shutdown-rst", .run = time_wait_case, .def_arg = 20,
	  .variant = TW_SHUTDOWN_RST },
	{ .name = "tw-simultaneous", .run = time_wait_case, .def_arg = 20,
	  .variant = TW_SIMULTANEOUS },
	{ .name = "tw-linger2", .run = time_wait_case, .def_arg = 20, .variant = TW_LINGER2 },
	{ .name = "tw-fin-wait2-abort", .run = time_wait_case, .def_arg = 20,
	  .variant = TW_FW2_ABORT },
	{ .name = "tw-orphan", .run = time_wait_case, .def_arg = 20, .variant = TW_ORPHAN },
	{ .name = "tw-buckets", .run = time_wait_case, .def_arg = 20, .variant = TW_BUCKETS },
	{ .name = "overflow-accept", .run = overflow, .def_arg = 10, .variant = Q_ACCEPT },
	{ .name = "overflow-syn", .run = overflow, .def_arg = 10, .variant = Q_SYN },
	{ .name = "overflow-both", .run = overflow_both, .def_arg = 10 },
	{ .name = "tw-load", .run = tw_load, .def_arg = 200, .variant = 0 },
	{ .name = "tw-load-server", .run = tw_load, .def_arg = 200, .variant = 1 },
	{ .name = "close-wait", .run = close_wait, .def_arg = 5 },
	{ .name = "close-wait-handoff", .run = close_wait, .def_arg = 5, .variant = 1 },
	{ .name = "close-wait-handoff-twice", .run = close_wait, .def_arg = 6, .variant = 3 },
	{ .name = "close-wait-sending", .run = close_wait, .def_arg = 5, .variant = 2 },
	{ .name = "close-wait-seeded", .run = close_wait, .def_arg = 5, .prepare = leak_start },
	{ .name = "close-wait-pid", .run = close_wait_pid, .def_arg = 5, .prepare = pidleak_start },
	{ .name = "close-wait-services", .run = close_wait_services, .def_arg = 120 },
	{ .name = "stuck-listener", .run = stuck_listener, .def_arg = 4, .prepare = stuck_start },
	{ .name = "stuck-listener-daemon", .run = stuck_daemon, .def_arg = 4 },
	{ .name = "mix", .run = mix },
	{ .name = "two-phase", .run = two_phase, .def_arg = 5 },
	{ .name = "open", .run = open_conns, .def_arg = 5 },
	{ .name = "tfo-listener-close", .run = tfo_listener_close, .def_arg = 3 },
	{ .name = "tfo-accept-reset", .run = tfo_accept_reset, .def_arg = 3 },
	{ .name = "self-transitions", .run = self_transitions, .def_arg = 5 },
	{ .name = "syncookies-policy", .run = syncookies_policy, .def_arg = 5 },
	{ .name = "bytes", .run = bytes },
	{ .name = "self-connect", .run = self_connect, .def_arg = 3000 },
	{ .name = "reconnect", .run = reconnect },
};

/* ---- tools for the tests ----------------------------------------------------- */

/* A TCP port on 127.0.0.1 that nothing uses now. */
static int print_free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, len) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len))
		die(errno, "bind 127.0.0.1:0");
	printf("%u\n", ntohs(sin.sin_port));
	close(fd);
	return 0;
}

/*
 * GET http://A.B.C.D:PORT/PATH over HTTP/1.0: prints the whole response
 * (status line, headers, body) and exits 0 once the server has closed.
 */
static int do_http_get(const char *url)
{
	char host[64], req[512], buf[4096];
	const char *path, *colon;
	long port;
	ssize_t n;
	size_t hl;
	int fd, i;

	if (!strncmp(url, "http://", 7))
		url += 7;
	colon = strchr(url, ':');
	path = colon ? strchr(colon, '/') : NULL;
	hl = colon ? (size_t)(colon - url) : 0;
	if (!colon || !hl || hl >= sizeof(host))
		die(0, "--http-get: want A.B.C.D:PORT/PATH, got '%s'", url);
	memcpy(host, url, hl);
	host[hl] = '\0';
	snprintf(buf, sizeof(buf), "%.*s", path ? (int)(path - colon - 1) : (int)strlen(colon + 1),
		 colon + 1);
	if (parse_num(buf, 1, 65535, &port))
		die(0, "--http-get: bad port in '%s'", url);
	fd = tcp_connect_from(AF_INET, NULL, host, (int)port);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s:%ld\r\n\r\n", path ? path : "/",
		 host, port);
	send_str(fd, req);
	/* bounded: SO_RCVTIMEO on each read, and a cap on the size */
	for (i = 0; i < 4096; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0)
			die(errno == EAGAIN ? ETIMEDOUT : errno, "read %s", url);
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			die(errno, "write");
	}
	close(fd);
	return i < 4096 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "go-file", required_argument, NULL, 'g' },
		{ "resume-file", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "free-port", no_argument, NULL, 'f' },
		{ "http-get", required_argument, NULL, 'G' },
		{ "no-netns", no_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long before[N_COUNTERS] = { 0 }, after[N_COUNTERS] = { 0 };
	const struct scenario *sc = NULL;
	const char *go_file = NULL, *http_get = NULL;
	bool free_port = false;
	struct stat st;
	long arg, v;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			go_file = optarg;
			break;
		case 'r':
			resume_file = optarg;
			break;
		case 'f':
			free_port = true;
			break;
		case 'G':
			http_get = optarg;
			break;
		case 'n':
			no_netns = true;
			break;
		case 'p':
			/* two-phase and tw-load also use the port after it */
			if (parse_num(optarg, 1, 65534, &v))
				die(0, "--port: want a port in 1..65534, got '%s'", optarg);
			scenario_port = v;
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
	/* tools for the tests, in the caller's namespace */
	if (free_port)
		return print_free_port();
	if (http_get)
		return do_http_get(http_get);
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
	if (sc->prepare)
		sc->prepare(sc, arg);
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
	print_deltas("", before, after);
	return 0;
}
