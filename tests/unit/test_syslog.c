// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --syslog against a real receiver: an AF_UNIX datagram socket bound at a
 * temporary path, which TCPTRAIL_SYSLOG_SOCKET hands the app in place of
 * /dev/log.  Each interval must arrive as exactly its own lines: a short
 * interval after a long one once sent the long one's tail as extra records.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "app.h"
#include "sockkit.h"
#include "syslogout.h"
#include "ident.h"
#include "tt_test.h"
#include "util.h"
/* every record: 10.0.0.1 > 10.0.0.2:443 (each socket its own local port) */
#define REC_BASE { .family = TT_AF_INET, .netns = REC_INIT_NETNS, .dport = 443, \
		   .saddr = { 10, 0, 0, 1 }, .daddr = { 10, 0, 0, 2 } }
#include "records.h"

#define S(x)	((uint64_t)(x) * 1000000000ull)

struct receiver {
	char dir[64], path[128];
	int fd;
};

static int receiver_open(struct receiver *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(r->dir, "/tmp/tt-syslog-XXXXXX");
	if (!mkdtemp(r->dir))
		return -errno;
	snprintf(r->path, sizeof(r->path), "%s/log", r->dir);
	strcpy(sa.sun_path, r->path);
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	return 0;
}

static void receiver_close(struct receiver *r)
{
	if (r->fd >= 0)
		close(r->fd);
	unlink(r->path);
	rmdir(r->dir);
}

/* Every datagram waiting, each as a string; returns how many (at most max). */
static int receive(struct receiver *r, char msgs[][1024], int max)
{
	int n = 0;
	ssize_t len;

	while (n < max && (len = recv(r->fd, msgs[n], 1023, 0)) >= 0)
		msgs[n++][len] = '\0';
	return n;
}

/*
 * An app with --syslog to a receiver of ours, its stdout (the lines) sent
 * to /dev/null meanwhile; 0, or app__init()'s error with all undone.
 */
struct syslog_app {
	struct app a;
	struct receiver r;
	int saved, devnull;
};

#define SYSLOG_OPTS { .syslog = true, .quiet_flows = true, .interval_ns = S(1), \
		      .max_flows = 64, .close_wait_age_ns = S(10), .tw_warn_pct = 50 }

static int syslog_app_open(struct syslog_app *x, const struct tt_opts *o)
{
	int n;

	x->r.fd = -1;
	if (receiver_open(&x->r))
		return -EIO;
	setenv("TCPTRAIL_SYSLOG_SOCKET", x->r.path, 1);
	fflush(stdout);
	x->saved = dup(1);
	x->devnull = open("/dev/null", O_WRONLY);
	dup2(x->devnull, 1);
	n = app__init(&x->a, o, 0, false);
	unsetenv("TCPTRAIL_SYSLOG_SOCKET");
	if (n) {
		dup2(x->saved, 1);
		close(x->saved);
		close(x->devnull);
		receiver_close(&x->r);
	}
	return n;
}

static void syslog_app_close(struct syslog_app *x)
{
	app__free(&x->a);
	fflush(stdout);
	dup2(x->saved, 1);
	close(x->saved);
	close(x->devnull);
	receiver_close(&x->r);
}

TEST(syslog_each_interval_sends_only_its_own_lines)
{
	struct tt_opts o = SYSLOG_OPTS;
	struct syslog_app x;
	char msgs[16][1024];
	int n;

	REQUIRE(syslog_app_open(&x, &o) == 0);
	app__start(&x.a, S(100));
	/* a busy first interval: a long summary line */
	for (uint64_t sk = 1; sk <= 8; sk++) {
		struct tt_event e = rec_ports(rec_tr(sk, TT_CLOSE, TT_SYN_SENT, S(100) + sk),
				40000 + (uint16_t)(sk & 0xff), 443);

		app__event(&x.a, &e);
		e = rec_ports(rec_tr(sk, TT_SYN_SENT, TT_ESTABLISHED, S(100) + sk + 1000),
				40000 + (uint16_t)(sk & 0xff), 443);
		app__event(&x.a, &e);
		e = rec_ports(rec_tr(sk, TT_ESTABLISHED, TT_FIN_WAIT1, S(100) + sk + 2000),
				40000 + (uint16_t)(sk & 0xff), 443);
		app__event(&x.a, &e);
	}
	app__tick(&x.a, S(101));
	fflush(stdout);
	n = receive(&x.r, msgs, 16);
	CHECK_EQ_INT(n, 1);
	CHECK(n < 1 || strstr(msgs[0], "ESTABLISHED>FIN_WAIT1=8") != NULL);
	CHECK(n < 1 || strncmp(msgs[0], "<30>", 4) == 0);	/* daemon.info */
	CHECK(n < 1 || strstr(msgs[0], " tcptrail[") != NULL);

	/* a quiet second one: its line is shorter, and must come alone */
	app__tick(&x.a, S(102));
	fflush(stdout);
	n = receive(&x.r, msgs, 16);
	CHECK_EQ_INT(n, 1);
	CHECK(n < 1 || strstr(msgs[0], "msg=summary interval=") != NULL);
	CHECK(n < 1 || strstr(msgs[0], "FIN_WAIT1") == NULL);
	CHECK(n < 1 || msgs[0][strlen(msgs[0]) - 1] != '\n');

	/* and the third, as short as the second: still one line */
	app__tick(&x.a, S(103));
	fflush(stdout);
	CHECK_EQ_INT(receive(&x.r, msgs, 16), 1);

	syslog_app_close(&x);
}

/*
 * Live summaries keep to start + k * -i, as a replay of the run makes them:
 * one that came late (the 50 ms tick, the census) does not put off the
 * next, or -i 1 -d 10 printed 9 and the replay 10.
 */
TEST(syslog_summaries_keep_to_the_interval_grid)
{
	struct tt_opts o = SYSLOG_OPTS;
	struct syslog_app x;
	char msgs[16][1024];
	int n;

	REQUIRE(syslog_app_open(&x, &o) == 0);
	app__start(&x.a, S(100));
	app__tick(&x.a, S(101) - 1);
	CHECK_EQ_INT(receive(&x.r, msgs, 16), 0);
	app__tick(&x.a, S(101) + 60000000);		/* 60 ms late */
	n = receive(&x.r, msgs, 16);
	CHECK_EQ_INT(n, 1);
	CHECK(n < 1 || strstr(msgs[0], "msg=summary interval=1.06s ") != NULL);
	app__tick(&x.a, S(102));			/* on time: its interval is shorter */
	n = receive(&x.r, msgs, 16);
	CHECK_EQ_INT(n, 1);
	CHECK(n < 1 || strstr(msgs[0], "msg=summary interval=940ms ") != NULL);
	/* a stall past a whole interval: one summary, then the grid again */
	app__tick(&x.a, S(104) + 500000000);
	CHECK_EQ_INT(receive(&x.r, msgs, 16), 1);
	app__tick(&x.a, S(104) + 900000000);
	CHECK_EQ_INT(receive(&x.r, msgs, 16), 0);
	app__tick(&x.a, S(105));
	CHECK_EQ_INT(receive(&x.r, msgs, 16), 1);
	syslog_app_close(&x);
}

/*
 * pid 42's listener on 8080 (cgroup cgid), n accept-queue overflows, then the
 * interval's summary: the index in msgs of the listener_overflow line, or -1.
 */
static int overflow_line(struct syslog_app *x, uint64_t cgid, int n, char msgs[16][1024])
{
	struct tt_event e;
	int got, over = -1;

	app__start(&x->a, S(100));
	e = rec_ports(rec_tr(0x1000, TT_CLOSE, TT_LISTEN, S(100) + 1), 8080, 0);
	e.flags = TT_F_OWNER;
	e.tgid = 42;
	e.cgroup = cgid;
	app__event(&x->a, &e);
	for (int i = 0; i < n; i++) {
		e = rec_ports(rec(TT_EV_OVERFLOW, 0x1000, 0, 0, S(100) + 10 + (uint64_t)i), 8080, 0);
		e.aux[0] = TT_Q_ACCEPT;
		e.cgroup = cgid;
		app__event(&x->a, &e);
	}
	app__tick(&x->a, S(101));
	fflush(stdout);
	got = receive(&x->r, msgs, 16);
	for (int i = 0; i < got; i++)
		if (strstr(msgs[i], "msg=listener_overflow "))
			over = i;
	return over;
}

/* A listener that turned connections away: a warning line of its own, after the summary. */
TEST(syslog_listener_overflow_is_a_warning_line)
{
	struct tt_opts o = SYSLOG_OPTS;
	struct syslog_app x;
	char msgs[16][1024];
	int over;

	REQUIRE(syslog_app_open(&x, &o) == 0);
	over = overflow_line(&x, 0, 3, msgs);
	CHECK(over > 0);	/* after the summary */
	CHECK(over < 0 || strncmp(msgs[over], "<28>", 4) == 0);	/* daemon.warning */
	CHECK(over < 0 || strstr(msgs[over], " accept_overflows=3 ") != NULL);
	CHECK(over < 0 || strstr(msgs[over], " pid=42 ") != NULL);
	CHECK(over < 0 || strstr(msgs[over], " time=") != NULL);

	syslog_app_close(&x);
}

/* A container's listener: its line names the container, as a close_wait_leak line does. */
TEST(syslog_listener_overflow_names_its_container)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct tt_opts o = SYSLOG_OPTS;
	struct syslog_app x;
	char msgs[16][1024];
	int over;

	REQUIRE(syslog_app_open(&x, &o) == 0);
	REQUIRE(x.a.ident);
	REQUIRE(ident__learn(x.a.ident, 77, "/libpod_parent/libpod-0123456789abcdef0123456789abcdef"
			     "0123456789abcdef0123456789abcdef", id, "", "podman") == 0);
	over = overflow_line(&x, 77, 1, msgs);
	CHECK(over > 0);
	CHECK(over < 0 || strstr(msgs[over], " container=0123456789ab pid=42 ") != NULL);

	syslog_app_close(&x);
}

/*
 * No syslog daemon at start: refused before anything is attached, as
 * --journal without journald.  No file, not a socket, or a socket file a
 * daemon that stopped left behind (nothing listens on it).
 */
TEST(syslog_without_a_daemon_is_refused_at_start)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/tt-stale-XXXXXX", stale[64];
	struct tt_opts o = SYSLOG_OPTS;
	struct app a;
	int n, fd, level = tt_verbosity;
	const char *paths[] = { "/nonexistent/tcptrail-test-log", "/dev/null", stale };

	REQUIRE(mkdtemp(dir));
	snprintf(stale, sizeof(stale), "%s/log", dir);
	strcpy(sa.sun_path, stale);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	REQUIRE(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	CHECK_EQ_INT(tt_unix_listens(stale, false), -ECONNREFUSED);
	for (size_t i = 0; i < 3; i++) {
		setenv("TCPTRAIL_SYSLOG_SOCKET", paths[i], 1);
		tt_verbosity = -1;
		n = app__init(&a, &o, 0, false);
		tt_verbosity = level;
		unsetenv("TCPTRAIL_SYSLOG_SOCKET");
		CHECK_EQ_INT(n, -ENOENT);
		if (!n)
			app__free(&a);
	}
	unlink(stale);
	rmdir(dir);
}

TEST(syslog_send_lines_reads_no_byte_past_len)
{
	struct receiver r = { .fd = -1 };
	char msgs[8][1024];
	struct tt_syslog *s;
	/* "stale" past len, as a rewound memstream leaves it */
	const char buf[] = "time=x level=warn msg=a\n\ntime=y level=info msg=b\nstale tail\n";
	int n;

	REQUIRE(receiver_open(&r) == 0);
	s = syslogout__new(r.path);
	REQUIRE(s != NULL);
	CHECK_EQ_INT(syslogout__send_lines(s, buf, strlen("time=x level=warn msg=a\n\n"
							  "time=y level=info msg=b\n")), 2);
	n = receive(&r, msgs, 8);
	CHECK_EQ_INT(n, 2);
	CHECK(n < 1 || strncmp(msgs[0], "<28>", 4) == 0);	/* daemon.warning */
	CHECK(n < 1 || strstr(msgs[0], ": time=x level=warn msg=a") != NULL);
	CHECK(n < 2 || strstr(msgs[1], ": time=y level=info msg=b") != NULL);
	/* the level is the line's second field, not a command name that says so */
	CHECK_EQ_INT(syslogout__send_lines(s, "time=z level=info msg=x comm=\" level=warn \"\n",
					   44), 1);
	n = receive(&r, msgs, 8);
	CHECK_EQ_INT(n, 1);
	CHECK(n < 1 || strncmp(msgs[0], "<30>", 4) == 0);	/* daemon.info */
	syslogout__free(s);

	/* no receiver: the error, not a silent loss */
	s = syslogout__new("/nonexistent/tt-log");
	REQUIRE(s != NULL);
	CHECK_EQ_INT(syslogout__send_lines(s, "a\n", 2), -ENOENT);
	syslogout__free(s);
	receiver_close(&r);
}

/* A daemon that listens on a stream socket: each message ends in a NUL, as syslog(3)'s. */
TEST(syslog_stream_socket_fallback)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/tt-syslog-XXXXXX", buf[1024];
	struct tt_syslog *s;
	int lfd, cfd;
	ssize_t n = 0, got;

	REQUIRE(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(lfd >= 0);
	REQUIRE(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0);
	s = syslogout__new(sa.sun_path);
	REQUIRE(s);
	CHECK_EQ_INT(syslogout__send_lines(s, "a level=warn b\nc\n", 16), 2);
	cfd = accept(lfd, NULL, NULL);
	REQUIRE(cfd >= 0);
	/* both messages are in the socket by now; read until both NULs are in */
	for (int i = 0; i < 10 && n < (ssize_t)sizeof(buf) - 1; i++) {
		got = recv(cfd, buf + n, sizeof(buf) - 1 - (size_t)n, MSG_DONTWAIT);
		if (got <= 0)
			break;
		n += got;
		if (memchr(buf, '\0', (size_t)n) && memchr(memchr(buf, '\0', (size_t)n) + 1, '\0',
							  (size_t)(buf + n - (char *)memchr(buf,
									'\0', (size_t)n) - 1)))
			break;
	}
	REQUIRE(n > 0);
	CHECK(strncmp(buf, "<28>", 4) == 0);
	CHECK(strstr(buf, ": a level=warn b") != NULL);
	CHECK(buf[n - 1] == '\0');
	CHECK(strstr(buf + strlen(buf) + 1, ": c") != NULL);
	syslogout__free(s);
	close(cfd);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
}

struct stall {
	const char *path;
	int lines, sent, last_err;
	uint64_t lost;
};

static void send_to_stalled(void *arg)
{
	struct stall *st = arg;
	struct tt_syslog *s = syslogout__new(st->path);

	if (!s)
		_exit(1);
	for (int i = 0; i < st->lines; i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "time=x level=info msg=n%d\n", i);

		st->last_err = syslogout__send_lines(s, line, (size_t)n);
		if (st->last_err > 0)
			st->sent += st->last_err;
	}
	st->lost = syslogout__lost(s);
	syslogout__free(s);
}

/*
 * A syslog daemon that stops reading: its queue fills after
 * net.unix.max_dgram_qlen datagrams, and a blocking send then waited for
 * it, stalling tracing (and SIGTERM) as long as it did not read.  Each line
 * it cannot take now is dropped and counted instead, and said: once when
 * lines start to be lost, with the count when it reads again, and at exit.
 */
TEST(syslog_daemon_that_does_not_read_never_stalls)
{
	struct tt_opts o = { .syslog = true, .quiet_flows = true, .interval_ns = S(1),
			     .max_flows = 64, .close_wait_age_ns = S(10), .tw_warn_pct = 50 };
	struct receiver r = { .fd = -1 };
	struct stall *st;
	char msgs[16][1024], epath[] = "/tmp/tt-syslog-err-XXXXXX", err[4096] = "";
	int qlen = sockkit_dgram_qlen(), got = 0, n, so, se, efd, level = tt_verbosity;
	bool returned;
	struct app a;
	ssize_t elen;

	if (qlen < 0 || qlen > 4096)
		SKIP("net.unix.max_dgram_qlen is %d", qlen);
	REQUIRE(receiver_open(&r) == 0);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(st != MAP_FAILED);
	*st = (struct stall){ .path = r.path, .lines = qlen + 20 };
	returned = sockkit_returns_within(send_to_stalled, st, 5);
	CHECK(returned);
	while (receive(&r, msgs, 16) > 0 && got < 100000)
		got += 16;
	if (!returned) {
		munmap(st, sizeof(*st));
		receiver_close(&r);
		REQUIRE(returned);
	}
	CHECK_EQ_INT(st->last_err, -EAGAIN);
	CHECK(st->sent > 0 && st->sent < st->lines);
	CHECK_EQ_INT((long long)st->lost, st->lines - st->sent);
	munmap(st, sizeof(*st));

	/* the sink says so: once at the first loss, again when it reads, and at exit */
	setenv("TCPTRAIL_SYSLOG_SOCKET", r.path, 1);
	fflush(stdout);
	fflush(stderr);
	efd = mkstemp(epath);
	REQUIRE(efd >= 0);
	so = dup(1);
	se = dup(2);
	n = open("/dev/null", O_WRONLY);
	dup2(n, 1);
	close(n);
	dup2(efd, 2);
	tt_verbosity = TT_LOG_INFO;
	n = app__init(&a, &o, 0, false);
	unsetenv("TCPTRAIL_SYSLOG_SOCKET");
	if (!n) {
		app__start(&a, S(100));
		for (int i = 1; i <= qlen + 5; i++)
			app__tick(&a, S(100 + i));
		while (receive(&r, msgs, 16) > 0)
			;
		app__tick(&a, S(100 + qlen + 6));
		app__free(&a);
	}
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	tt_verbosity = level;
	elen = pread(efd, err, sizeof(err) - 1, 0);
	err[elen > 0 ? elen : 0] = '\0';
	close(efd);
	unlink(epath);
	receiver_close(&r);
	REQUIRE(n == 0);
	CHECK(strstr(err, "warning: --syslog: ") && strstr(err, " does not read fast enough (its queue is full); "
							    "lines are lost until it accepts them"));
	CHECK(strstr(err, " accepts lines again (") != NULL);
	CHECK(strstr(err, " lines were lost: ") != NULL || strstr(err, " line was lost: ") != NULL);
	if (*tt_failed_)
		fprintf(stderr, "    stderr was:\n%s", err);
}

/*
 * A summary's batch longer than the daemon's queue (net.unix.max_dgram_qlen,
 * 10 by default without systemd), to a daemon that reads, if a little late:
 * every line arrives.  Each line was sent at once, and the tail of every
 * batch of more than about 10 was lost (the TIME-WAIT lines first).
 */
TEST(syslog_batch_longer_than_the_queue_arrives_whole)
{
	struct receiver r = { .fd = -1 };
	int qlen = sockkit_dgram_qlen(), lines, sent, p[2], got = 0, st;
	struct tt_syslog *s;
	char *buf;
	size_t len = 0;
	pid_t child;

	if (qlen < 0 || qlen > 1000)
		SKIP("net.unix.max_dgram_qlen is %d", qlen);
	lines = qlen * 3;
	REQUIRE(receiver_open(&r) == 0);
	REQUIRE(pipe(p) == 0);
	child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		/* the daemon: it starts reading 20 ms late, then takes each line as it comes */
		char msgs[16][1024];
		int n = 0;

		close(p[0]);
		usleep(20000);
		for (int i = 0; i < 3000 && n < lines; i++) {
			int k = receive(&r, msgs, 16);

			n += k;
			if (!k)
				usleep(1000);
		}
		if (write(p[1], &n, sizeof(n)) != sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	buf = malloc((size_t)lines * 32);
	REQUIRE(buf);
	for (int i = 0; i < lines; i++)
		len += (size_t)sprintf(buf + len, "ts info summary line=%d\n", i);
	s = syslogout__new(r.path);
	REQUIRE(s);
	sent = syslogout__send_lines(s, buf, len);
	CHECK_EQ_INT(sent, lines);
	CHECK_EQ_INT((long long)syslogout__lost(s), 0);
	if (read(p[0], &got, sizeof(got)) != sizeof(got))
		got = -1;
	waitpid(child, &st, 0);
	CHECK_EQ_INT(got, lines);
	close(p[0]);
	syslogout__free(s);
	free(buf);
	receiver_close(&r);
}

/*
 * The longest line the reports make: a host-wide time_wait line names every
 * namespace holding TIME-WAIT sockets (netns.N=), 5 KB at 250 of them.  It
 * goes whole, in one datagram: a socket takes far more (its send buffer),
 * and how much of it to keep is the daemon's to say (rsyslog keeps 8 KB).
 */
TEST(syslog_time_wait_line_of_every_namespace_goes_whole)
{
	static struct tw_report tw = { .t_ns = 1000, .interval_ns = 3000000000ull,
				       .entries = 500, .population = 500, .by_client = 500,
				       .host_wide = true, .namespaces = TW_NETNS_MAX };
	static char dgram[64 * 1024];
	struct receiver r = { .fd = -1 };
	struct tt_sink_ref ref;
	char last[64];
	ssize_t n;

	REQUIRE(receiver_open(&r) == 0);
	tw.n_netns = TW_NETNS_MAX;
	for (size_t i = 0; i < tw.n_netns; i++)
		tw.by_netns[i] = (struct tw_netns){ .netns = 4026532000u + (uint32_t)i,
						    .population = 2 };
	setenv("TCPTRAIL_SYSLOG_SOCKET", r.path, 1);
	n = syslogout__sink(&ref, &(struct tt_sink_opts){ .logfmt = true }, NULL);
	unsetenv("TCPTRAIL_SYSLOG_SOCKET");
	if (n)
		receiver_close(&r);
	REQUIRE(n == 0);
	ref.ops->time_wait(ref.priv, &tw);
	ref.ops->flush(ref.priv, NULL);
	n = recv(r.fd, dgram, sizeof(dgram) - 1, 0);
	CHECK(n > 4096);
	dgram[n > 0 ? n : 0] = '\0';
	CHECK(strstr(dgram, "msg=time_wait ") && strstr(dgram, " netns.4026532000=2 "));
	snprintf(last, sizeof(last), " netns.%u=2", 4026532000u + TW_NETNS_MAX - 1);
	CHECK(n > 0 && (size_t)n > strlen(last) && !strcmp(dgram + n - strlen(last), last));
	/* and nothing else: one line, one datagram */
	CHECK(recv(r.fd, dgram, sizeof(dgram), 0) < 0);
	ref.ops->free(ref.priv);
	receiver_close(&r);
}

/*
 * A stream daemon that does not read: the socket takes part of a message,
 * then nothing.  Lines are dropped then, and the part it did not take is
 * written before the next line, so that every message it reads is whole.
 */
TEST(syslog_stream_daemon_that_does_not_read_gets_whole_messages)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/tt-syslog-XXXXXX", *line;
	/* longer than one skb of the stream takes: the socket can take part of it */
	size_t line_len = 100 * 1000;
	static char got[4 << 20];
	size_t have = 0, whole = 0;
	struct tt_syslog *s;
	int lfd, cfd, err = 0, sent = 0;
	ssize_t n;

	REQUIRE(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(lfd >= 0);
	REQUIRE(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0);
	s = syslogout__new(sa.sun_path);
	REQUIRE(s);
	line = malloc(line_len + 1);
	REQUIRE(line);
	memset(line, 'x', line_len);
	line[line_len] = '\n';
	/* until it takes no more: its buffer is a few hundred KB */
	for (int i = 0; i < 5000 && err != -EAGAIN; i++) {
		err = syslogout__send_lines(s, line, line_len + 1);
		sent += err > 0;
	}
	CHECK_EQ_INT(err, -EAGAIN);
	CHECK(syslogout__lost(s) > 0);
	cfd = accept(lfd, NULL, NULL);
	REQUIRE(cfd >= 0);
	/* it reads now: the rest of the cut message first, then the new one */
	for (int round = 0; round < 2; round++) {
		while (have < sizeof(got) &&
		       (n = recv(cfd, got + have, sizeof(got) - have, MSG_DONTWAIT)) > 0)
			have += (size_t)n;
		if (!round)
			CHECK_EQ_INT(syslogout__send_lines(s, "last\n", 5), 1);
	}
	REQUIRE(have > 0 && got[have - 1] == '\0');
	for (char *m = got; m < got + have; m += strlen(m) + 1) {
		const char *colon = strstr(m, "]: ");
		const char *body = colon ? colon + 3 : "";

		if (strncmp(m, "<30>", 4) || (strlen(body) != line_len &&
					       strcmp(body, "last"))) {
			fprintf(stderr, "    message %zu is not whole: %.60s...\n", whole, m);
			CHECK(false);
			break;
		}
		whole++;
	}
	CHECK_EQ_INT(whole, sent + 1);
	syslogout__free(s);
	free(line);
	close(cfd);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
}
