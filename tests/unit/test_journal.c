// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --journal against a real receiver: an AF_UNIX datagram socket bound at a
 * temporary path, which TCPTRAIL_JOURNAL_SOCKET hands journal__new() in
 * place of /run/systemd/journal/socket, read as journald reads it (the
 * native protocol, in a datagram or in a memfd passed with it).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "journal.h"
#include "journalout.h"
#include "sockkit.h"
#include "tt_test.h"
#include "util.h"

struct jrecv {
	char dir[64], path[128];
	int fd;
};

static int jrecv_open(struct jrecv *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(r->dir, "/tmp/tt-journal-XXXXXX");
	if (!mkdtemp(r->dir))
		return -errno;
	snprintf(r->path, sizeof(r->path), "%s/socket", r->dir);
	strcpy(sa.sun_path, r->path);
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	return 0;
}

static void jrecv_close(struct jrecv *r)
{
	if (r->fd >= 0)
		close(r->fd);
	unlink(r->path);
	rmdir(r->dir);
}

#define SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL	0x0008U
#endif

/* Linux 6.3+: a memfd can be made not executable (vm.memfd_noexec=2 allows no other) */
static bool noexec_known(void)
{
	int fd = memfd_create("probe", MFD_CLOEXEC | MFD_NOEXEC_SEAL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * The next entry, as journald takes it: the datagram, or the file of a
 * datagram that passes one fd and nothing else (sealed, or journald would
 * not read it; and not executable where the kernel can say so).  malloc'd,
 * *len its length; NULL if none is waiting.
 */
static char *jrecv_entry(struct jrecv *r, size_t *len, bool *by_fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	static char dgram[1 << 20];
	struct iovec iov = { dgram, sizeof(dgram) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(r->fd, &mh, MSG_CMSG_CLOEXEC);
	struct stat st;
	char *out;
	int fd, seals;
	off_t size;

	*by_fd = false;
	if (n < 0)
		return NULL;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS) {
		out = malloc((size_t)n + 1);
		memcpy(out, dgram, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
		return out;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	seals = fcntl(fd, F_GET_SEALS);
	*by_fd = n == 0 && seals >= 0 && (seals & SEALS) == SEALS && !fstat(fd, &st) &&
		 (!noexec_known() || !(st.st_mode & 0111));
	size = lseek(fd, 0, SEEK_END);
	out = malloc((size_t)size + 1);
	*len = size > 0 && pread(fd, out, (size_t)size, 0) == size ? (size_t)size : 0;
	out[*len] = '\0';
	close(fd);
	return out;
}

/* A journal sink sending to r's socket; NULL (r closed) if it cannot be made. */
static struct tt_journal *journal_to(struct jrecv *r)
{
	struct tt_journal *j;

	setenv("TCPTRAIL_JOURNAL_SOCKET", r->path, 1);
	j = journal__new(&(struct tt_sink_opts){ 0 }, 0);
	unsetenv("TCPTRAIL_JOURNAL_SOCKET");
	if (!j)
		jrecv_close(r);
	return j;
}

/* FIELD's value in a native-protocol entry, into v (at most max - 1 bytes); its length or -1. */
static long field_of(const char *e, size_t len, const char *name, char *v, size_t max)
{
	size_t nlen = strlen(name), at = 0;

	while (at < len) {
		const char *line = e + at, *nl = memchr(line, '\n', len - at);
		const char *eq, *name_end;
		size_t vlen;
		uint64_t le;

		if (!nl)
			return -1;
		eq = memchr(line, '=', (size_t)(nl - line));
		name_end = eq ? eq : nl;
		if (eq) {
			vlen = (size_t)(nl - eq - 1);
			at = (size_t)(nl - e) + 1;
		} else {
			memcpy(&le, nl + 1, sizeof(le));
			vlen = (size_t)le64toh(le);
			eq = nl + sizeof(le);
			at = (size_t)(eq + 1 - e) + vlen + 1;
		}
		if ((size_t)(name_end - line) == nlen && !memcmp(line, name, nlen)) {
			size_t k = vlen < max - 1 ? vlen : max - 1;

			memcpy(v, eq + 1, k);
			v[k] = '\0';
			return (long)vlen;
		}
	}
	return -1;
}

/*
 * A host-wide time_wait entry names every namespace that holds TIME-WAIT
 * sockets (netns.N=, in its MESSAGE): 5 KB at 250 of them, a busy
 * Kubernetes node.  The entry was built in 4096 bytes and, past them, not
 * sent at all, with a warning that blamed the socket ("Argument list too
 * long").  It must arrive whole.
 */
TEST(journal_time_wait_entry_of_every_namespace_arrives_whole)
{
	static struct tw_report r = { .t_ns = 1000, .interval_ns = 3000000000ull, .entries = 500,
				      .population = 500, .by_client = 500, .host_wide = true,
				      .namespaces = TW_NETNS_MAX };
	static char msg[64 * 1024];
	struct jrecv rc = { .fd = -1 };
	struct tt_journal *j;
	char v[64], *e;
	size_t len;
	bool by_fd;
	long mlen;

	REQUIRE(jrecv_open(&rc) == 0);
	/* the most namespaces the report names */
	r.n_netns = TW_NETNS_MAX;
	for (size_t i = 0; i < r.n_netns; i++)
		r.by_netns[i] = (struct tw_netns){ .netns = 4026532000u + (uint32_t)i,
						   .population = 2 };
	j = journal_to(&rc);
	REQUIRE(j != NULL);
	journal__time_wait(j, &r);
	e = jrecv_entry(&rc, &len, &by_fd);
	CHECK(e != NULL);
	if (e) {
		CHECK(field_of(e, len, "TCPTRAIL_EVENT", v, sizeof(v)) > 0 &&
		      !strcmp(v, "time_wait"));
		mlen = field_of(e, len, "MESSAGE", msg, sizeof(msg));
		CHECK(mlen > 4096);
		CHECK_EQ_INT(mlen, (long)strlen(msg));
		CHECK(strstr(msg, " netns.4026532000=2 ") != NULL);
		snprintf(v, sizeof(v), " netns.%u=2", 4026532000u + TW_NETNS_MAX - 1);
		CHECK(mlen > 0 && !strcmp(msg + mlen - strlen(v), v));
	}
	free(e);
	journal__free(j);
	jrecv_close(&rc);
}

/*
 * Past what one datagram takes (the socket's send buffer), the entry goes
 * in a sealed memfd, the datagram carrying the fd and nothing else, as
 * sd_journal_sendv() sends it; a value with a newline goes length-prefixed.
 */
TEST(journal_entry_longer_than_a_datagram_goes_in_a_memfd)
{
	struct jrecv rc = { .fd = -1 };
	struct tt_journalout *o;
	size_t big = 16 << 20, len;
	char *msg = malloc(big + 8), *e, *v = malloc(big + 1), two[16];
	struct iovec iov[2];
	bool by_fd;

	REQUIRE(msg && v);
	REQUIRE(jrecv_open(&rc) == 0);
	o = journalout__new(rc.path);
	REQUIRE(o != NULL);
	memcpy(msg, "MESSAGE=", 8);
	memset(msg + 8, 'x', big);
	iov[0] = (struct iovec){ msg, big + 8 };
	iov[1] = (struct iovec){ (void *)"TWO=a\nb", 7 };
	CHECK_EQ_INT(journalout__send(o, iov, 2), 0);
	e = jrecv_entry(&rc, &len, &by_fd);
	CHECK(e != NULL && by_fd);
	CHECK(e && field_of(e, len, "MESSAGE", v, big + 1) == (long)big &&
	      v[0] == 'x' && v[big - 1] == 'x');
	CHECK(e && field_of(e, len, "TWO", two, sizeof(two)) == 3 && !strcmp(two, "a\nb"));
	free(e);

	/* one that fits is a datagram of its own */
	iov[0].iov_len = 8 + 100;
	CHECK_EQ_INT(journalout__send(o, iov, 1), 0);
	e = jrecv_entry(&rc, &len, &by_fd);
	CHECK(e != NULL && !by_fd);
	CHECK(e && field_of(e, len, "MESSAGE", v, big + 1) == 100);
	free(e);
	journalout__free(o);
	jrecv_close(&rc);
	free(msg);
	free(v);
}

struct stall {
	const char *path;
	int entries, sent, last_err;
};

static void send_to_stalled(void *arg)
{
	struct stall *st = arg;
	struct tt_journalout *o = journalout__new(st->path);
	struct iovec iov[2] = { { (void *)"MESSAGE=x", 9 }, { (void *)"PRIORITY=6", 10 } };

	if (!o)
		_exit(1);
	for (int i = 0; i < st->entries; i++) {
		st->last_err = journalout__send(o, iov, 2);
		st->sent += !st->last_err;
	}
	journalout__free(o);
}

/*
 * A journald that stops reading: sd_journal_sendv()'s socket blocks once
 * its queue is full (net.unix.max_dgram_qlen datagrams), which stalled
 * tracing.  Each entry it cannot take now is lost instead, and said.
 */
TEST(journal_that_does_not_read_never_stalls)
{
	struct jrecv rc = { .fd = -1 };
	struct stall *st;
	int qlen = sockkit_dgram_qlen();
	bool returned;

	if (qlen < 0 || qlen > 4096)
		SKIP("net.unix.max_dgram_qlen is %d", qlen);
	REQUIRE(jrecv_open(&rc) == 0);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(st != MAP_FAILED);
	*st = (struct stall){ .path = rc.path, .entries = qlen + 20 };
	returned = sockkit_returns_within(send_to_stalled, st, 5);
	CHECK(returned);
	CHECK_EQ_INT(st->last_err, -EAGAIN);
	CHECK(st->sent > 0 && st->sent < st->entries);
	munmap(st, sizeof(*st));
	jrecv_close(&rc);
}

struct jstall {
	const char *path, *err_path;
	int rfd, entries;
};

/* The sink over a stalled journald, its stderr into err_path: a child's work. */
static void journal_to_stalled(void *arg)
{
	static struct tw_report r = { .t_ns = 1000, .interval_ns = 1000000000ull, .entries = 1 };
	struct jstall *st = arg;
	struct tt_journal *j;
	char buf[4096];
	int fd = open(st->err_path, O_WRONLY | O_TRUNC);

	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(1);
	tt_verbosity = TT_LOG_INFO;
	setenv("TCPTRAIL_JOURNAL_SOCKET", st->path, 1);
	j = journal__new(&(struct tt_sink_opts){ 0 }, 0);
	if (!j)
		_exit(1);
	for (int i = 0; i < st->entries; i++)
		journal__time_wait(j, &r);
	/* journald reads again: the next entry goes, and says how many did not */
	for (int i = 0; i < 100000 && recv(st->rfd, buf, sizeof(buf), MSG_DONTWAIT) >= 0; i++)
		;
	journal__time_wait(j, &r);
	journal__free(j);
	fflush(stderr);
}

/*
 * The sink says what the stall costs: once when entries start to be lost,
 * with the count when journald reads again, and at exit.
 */
TEST(journal_sink_says_what_a_stalled_journald_lost)
{
	char epath[] = "/tmp/tt-journal-err-XXXXXX", err[8192];
	struct jrecv rc = { .fd = -1 };
	int qlen = sockkit_dgram_qlen(), efd;
	struct jstall st;
	ssize_t n;

	if (qlen < 0 || qlen > 4096)
		SKIP("net.unix.max_dgram_qlen is %d", qlen);
	REQUIRE(jrecv_open(&rc) == 0);
	efd = mkstemp(epath);
	REQUIRE(efd >= 0);
	st = (struct jstall){ .path = rc.path, .err_path = epath, .rfd = rc.fd,
			      .entries = qlen + 20 };
	CHECK(sockkit_returns_within(journal_to_stalled, &st, 5));
	n = pread(efd, err, sizeof(err) - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(efd);
	unlink(epath);
	jrecv_close(&rc);
	CHECK(strstr(err, "warning: --journal: ") &&
	      strstr(err, " does not read (its queue is full); entries are lost until it "
			  "accepts them"));
	CHECK(strstr(err, " accepts entries again (") != NULL);
	CHECK(strstr(err, " entries were lost: they did not reach ") != NULL);
	if (*tt_failed_)
		fprintf(stderr, "    stderr was:\n%s", err);
}

/*
 * A leak report past TT_CW_REPORT_MAX groups: an entry per group named,
 * then one close_wait_not_shown entry with the count of the others.
 */
TEST(journal_close_wait_report_counts_the_groups_it_leaves_out)
{
	static struct tt_cw_group g[3];
	struct tt_cw_report r = { .g = g, .n = 3, .t_ns = 1000, .min_age_ns = 10 };
	struct jrecv rc = { .fd = -1 };
	struct tt_journal *j;
	char v[256], *e;
	size_t len;
	bool by_fd;

	for (int i = 0; i < 3; i++)
		g[i] = (struct tt_cw_group){ .pid = 7, .comm = "crawler", .netns = 1,
					     .family = TT_AF_INET, .kind = TT_SVC_REMOTE,
					     .addr = { 10, 1, 0, (uint8_t)i }, .port = 443,
					     .count = 5 - (uint32_t)i };
	tt_cw_report_limit(&r, 1);
	REQUIRE(jrecv_open(&rc) == 0);
	j = journal_to(&rc);
	REQUIRE(j != NULL);
	journal__close_wait(j, &r);
	e = jrecv_entry(&rc, &len, &by_fd);
	CHECK(e && field_of(e, len, "TCPTRAIL_EVENT", v, sizeof(v)) > 0 && !strcmp(v, "close_wait"));
	CHECK(e && field_of(e, len, "COUNT", v, sizeof(v)) > 0 && !strcmp(v, "5"));
	free(e);
	e = jrecv_entry(&rc, &len, &by_fd);
	CHECK(e && field_of(e, len, "TCPTRAIL_EVENT", v, sizeof(v)) > 0 &&
	      !strcmp(v, "close_wait_not_shown"));
	CHECK(e && field_of(e, len, "GROUPS", v, sizeof(v)) > 0 && !strcmp(v, "2"));
	CHECK(e && field_of(e, len, "COUNT", v, sizeof(v)) > 0 && !strcmp(v, "7"));
	CHECK(e && field_of(e, len, "SHOWN", v, sizeof(v)) > 0 && !strcmp(v, "1"));
	CHECK(e && field_of(e, len, "PRIORITY", v, sizeof(v)) > 0 && !strcmp(v, "4"));
	CHECK(e && field_of(e, len, "MESSAGE", v, sizeof(v)) > 0 &&
	      strstr(v, "close_wait_leaks_not_shown groups=2 count=7 shown=1"));
	if (e && *tt_failed_)
		fprintf(stderr, "    MESSAGE=%s\n", field_of(e, len, "MESSAGE", v, sizeof(v)) > 0 ? v : "?");
	free(e);
	journal__free(j);
	jrecv_close(&rc);
}

/*
 * A process names itself with C1 controls (U+009B is CSI: "\xc2\x9b2K"
 * erases a terminal's line): no field and no MESSAGE carries them raw.
 */
TEST(journal_close_wait_report_leaves_out_c1_controls)
{
	static struct tt_cw_group g[1];
	struct tt_cw_report r = { .g = g, .n = 1, .t_ns = 1000, .min_age_ns = 10 };
	struct jrecv rc = { .fd = -1 };
	struct tt_journal *j;
	char v[256], *e;
	size_t len;
	bool by_fd;

	g[0] = (struct tt_cw_group){ .pid = 7, .comm = "a\xc2\x9b" "2Kx", .netns = 1,
				     .family = TT_AF_INET, .kind = TT_SVC_REMOTE,
				     .addr = { 10, 1, 0, 1 }, .port = 443, .count = 5 };
	snprintf(g[0].cmdline, sizeof(g[0].cmdline), "b\xc2\x9b" "1Ginfo all good");
	REQUIRE(jrecv_open(&rc) == 0);
	j = journal_to(&rc);
	REQUIRE(j != NULL);
	journal__close_wait(j, &r);
	e = jrecv_entry(&rc, &len, &by_fd);
	REQUIRE(e);
	CHECK(memmem(e, len, "\xc2\x9b", 2) == NULL);
	CHECK(field_of(e, len, "COMM", v, sizeof(v)) > 0 && !strcmp(v, "a??2Kx"));
	CHECK(field_of(e, len, "CMDLINE", v, sizeof(v)) > 0 && !strcmp(v, "b??1Ginfo all good"));
	CHECK(field_of(e, len, "MESSAGE", v, sizeof(v)) > 0 && strstr(v, "a\\u009b2Kx"));
	if (*tt_failed_)
		fprintf(stderr, "    MESSAGE=%s\n", field_of(e, len, "MESSAGE", v, sizeof(v)) > 0 ? v : "?");
	free(e);
	journal__free(j);
	jrecv_close(&rc);
}
