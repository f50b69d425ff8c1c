// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The namespace set: this host's /proc (our own namespace is always in it),
 * and a made-up /proc and /run/netns of symlinks to real namespaces, where
 * pids come and go: one entry per inode, a stray file is no namespace, and
 * a rescan drops what nothing points to any more.  A second real namespace
 * comes from a child in a new user and network namespace, which needs no
 * root where unprivileged user namespaces are allowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "netns.h"
#include "tt_test.h"

static uint32_t inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

TEST(netns_host_has_ours)
{
	struct netns_set *s = netns_set__new();
	uint32_t self = inode_of("/proc/self/ns/net");
	struct stat st;
	int n, i;

	REQUIRE(s && self);
	n = netns_set__scan(s);
	CHECK(n >= 1);
	CHECK_EQ_INT(netns_set__count(s), n);
	i = netns_set__find(s, self);
	REQUIRE(i >= 0);
	CHECK_EQ_INT(netns_set__inode(s, (size_t)i), self);
	REQUIRE(fstat(netns_set__fd(s, (size_t)i), &st) == 0);
	CHECK_EQ_INT((uint32_t)st.st_ino, self);
	/* nothing changed: nothing added or dropped, the same fd */
	{
		int fd = netns_set__fd(s, (size_t)i);

		CHECK(netns_set__scan(s) >= 1);
		CHECK_EQ_INT(netns_set__fd(s, (size_t)netns_set__find(s, self)), fd);
	}
	CHECK_EQ_INT(netns_set__inode(s, 1u << 20), 0);
	CHECK_EQ_INT(netns_set__fd(s, 1u << 20), -1);
	CHECK(netns_set__path(s, 1u << 20) == NULL);
	netns_set__free(s);
}

/* A child in a network namespace of its own until its pipe closes; 0 if none can be made. */
static pid_t child_in_new_netns(int *hold)
{
	int go[2], ready[2];
	char c = 0;
	pid_t pid;

	if (pipe(go) || pipe(ready))
		return 0;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWNET) && unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		/* until the parent closes its end */
		while (read(go[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(go[1]);
		close(ready[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return 0;
	}
	close(ready[0]);
	*hold = go[1];
	return pid;
}

/*
 * A fake mountinfo: other mounts, a mount namespace's nsfs pin, and (held)
 * a network namespace pinned at ROOT/held by mount.
 */
static void write_mountinfo(const char *root, bool held)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		   "40 22 0:4 mnt:[4026531841] %s/held\\040by\\040mount rw - nsfs nsfs rw\n",
		root);
	if (held)
		fprintf(f, "41 22 0:4 net:[4026532999] %s/held\\040by\\040mount rw "
			   "shared:2 - nsfs nsfs rw\n", root);
	fclose(f);
}

TEST(netns_fake_tree)
{
	char root[] = "/tmp/tt-netns-XXXXXX", path[256], target[64];
	struct netns_set *s;
	uint32_t self = inode_of("/proc/self/ns/net"), other;
	pid_t child;
	int hold = -1, fd;

	REQUIRE(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/proc", root);
	REQUIRE(!mkdir(path, 0700));
	for (int pid = 1; pid <= 3; pid++) {
		snprintf(path, sizeof(path), "%s/proc/%d", root, pid);
		REQUIRE(!mkdir(path, 0700));
		snprintf(path, sizeof(path), "%s/proc/%d/ns", root, pid);
		REQUIRE(!mkdir(path, 0700));
		snprintf(path, sizeof(path), "%s/proc/%d/ns/net", root, pid);
		REQUIRE(!symlink("/proc/self/ns/net", path));
	}
	snprintf(path, sizeof(path), "%s/run", root);
	REQUIRE(!mkdir(path, 0700));
	/* a file that is no namespace, as a half-done `ip netns add` leaves */
	snprintf(path, sizeof(path), "%s/run/stray", root);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	{
		char proc[300], run[300];
		const char *mounts[2] = { run, NULL };

		snprintf(proc, sizeof(proc), "%s/proc", root);
		snprintf(run, sizeof(run), "%s/run", root);
		s = netns_set__new_at(proc, mounts);
		REQUIRE(s);
	}
	/* three pids, one namespace; the stray file is none */
	CHECK_EQ_INT(netns_set__scan(s), 1);
	CHECK_EQ_INT(netns_set__inode(s, 0), self);
	CHECK_EQ_INT(netns_set__added(s), 1);
	CHECK(strstr(netns_set__path(s, 0), "/ns/net") != NULL);

	/* a second namespace, held by a process and then by a bind mount's stand-in */
	child = child_in_new_netns(&hold);
	if (child > 0) {
		snprintf(target, sizeof(target), "/proc/%d/ns/net", (int)child);
		other = inode_of(target);
		CHECK(other && other != self);
		snprintf(path, sizeof(path), "%s/proc/%d", root, (int)child + 100000);
		REQUIRE(!mkdir(path, 0700));
		snprintf(path, sizeof(path), "%s/proc/%d/ns", root, (int)child + 100000);
		REQUIRE(!mkdir(path, 0700));
		snprintf(path, sizeof(path), "%s/proc/%d/ns/net", root, (int)child + 100000);
		REQUIRE(!symlink(target, path));
		CHECK_EQ_INT(netns_set__scan(s), 2);
		CHECK_EQ_INT(netns_set__added(s), 1);
		CHECK_EQ_INT(netns_set__inode(s, 1), other);
		CHECK_EQ_INT(netns_set__find(s, other), 1);
		/*
		 * its pid gone, a bind mount outside /run/netns holds it, as
		 * mountinfo says (a path with a space, escaped as the kernel does)
		 */
		snprintf(path, sizeof(path), "%s/held by mount", root);
		REQUIRE(!symlink(target, path));
		snprintf(path, sizeof(path), "%s/proc/self", root);
		REQUIRE(!mkdir(path, 0700));
		write_mountinfo(root, true);
		snprintf(path, sizeof(path), "%s/proc/%d/ns/net", root, (int)child + 100000);
		CHECK(!unlink(path));
		CHECK_EQ_INT(netns_set__scan(s), 2);
		CHECK_EQ_INT(netns_set__dropped(s), 0);
		CHECK_EQ_INT(netns_set__find(s, other), 1);
		/* unmounted: nothing points to it, so it is dropped */
		write_mountinfo(root, false);
		CHECK_EQ_INT(netns_set__scan(s), 1);
		CHECK_EQ_INT(netns_set__dropped(s), 1);
		CHECK_EQ_INT(netns_set__find(s, other), -1);
		close(hold);
		waitpid(child, NULL, 0);
	}

	/* every pid gone: the set empties and its fds close */
	for (int pid = 1; pid <= 3; pid++) {
		snprintf(path, sizeof(path), "%s/proc/%d/ns/net", root, pid);
		CHECK(!unlink(path));
	}
	CHECK_EQ_INT(netns_set__scan(s), 0);
	CHECK_EQ_INT(netns_set__dropped(s), 1);
	CHECK_EQ_INT(netns_set__count(s), 0);
	netns_set__free(s);

	/* an unreadable /proc: -errno, nothing changed */
	{
		const char *none[] = { NULL };
		struct netns_set *bad = netns_set__new_at("/nonexistent-tt", none);

		REQUIRE(bad);
		CHECK_EQ_INT(netns_set__scan(bad), -ENOENT);
		netns_set__free(bad);
	}
	/* clean up the tree */
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		CHECK(system(cmd) == 0);
	}
	/* the rest ran; what a second namespace checks did not, which is a skip */
	if (child <= 0)
		SKIP("unshare(CLONE_NEWNET) refused (not root?): a second namespace's add and "
		     "drop were not checked");
}

/* mkdir -p ROOT/proc/NAME/ns and ROOT/proc/NAME/ns/net -> target; 0 or -1 */
static int fake_ns_link(const char *root, const char *name, const char *target)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/proc/%s", root, name);
	if (mkdir(path, 0700))
		return -1;
	snprintf(path, sizeof(path), "%s/proc/%s/ns", root, name);
	if (mkdir(path, 0700))
		return -1;
	snprintf(path, sizeof(path), "%s/proc/%s/ns/net", root, name);
	return symlink(target, path);
}

#define SHORT_NS 6

struct short_answer {
	int scanned;
	size_t count, n_short, held_ok, distinct;
	int spare_opened;
	char why[512];
};

/*
 * Out of file descriptors: a scan holds an fd for as many namespaces as
 * leave NETNS_FDS_SPARE free (ours always), counts the others once each as
 * short, and says why with the limit.  Before, it opened one per namespace
 * until open() failed: the work on them had no descriptor left, and the
 * namespaces past the limit were left out with no word.  In a child whose
 * limit is lowered, so that the runner keeps its own.
 */
TEST(netns_short_of_fds_keeps_some_free_and_counts_the_rest)
{
	char root[] = "/tmp/tt-netns-XXXXXX", path[300], target[64], cmd[320];
	pid_t kids[SHORT_NS], scanner;
	int holds[SHORT_NS], p[2], status, made = 0;
	struct short_answer a = { 0 };
	uint32_t inodes[SHORT_NS + 1];
	const char *mounts[2] = { NULL, NULL };

	REQUIRE(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/proc", root);
	REQUIRE(!mkdir(path, 0700));
	REQUIRE(!fake_ns_link(root, "thread-self", "/proc/self/ns/net"));
	inodes[0] = inode_of("/proc/self/ns/net");
	for (int i = 0; i < SHORT_NS; i++) {
		char name[16];

		kids[i] = child_in_new_netns(&holds[i]);
		if (kids[i] <= 0)
			break;
		snprintf(target, sizeof(target), "/proc/%d/ns/net", (int)kids[i]);
		inodes[i + 1] = inode_of(target);
		/* two pids in each: one namespace, counted once */
		snprintf(name, sizeof(name), "%d", 100 + i);
		CHECK(!fake_ns_link(root, name, target));
		snprintf(name, sizeof(name), "%d", 200 + i);
		CHECK(!fake_ns_link(root, name, target));
		made++;
	}
	if (made < SHORT_NS)
		goto out;
	REQUIRE(pipe(p) == 0);
	scanner = fork();
	REQUIRE(scanner >= 0);
	if (scanner == 0) {
		struct netns_set *s;
		struct rlimit rl;
		int lowest = dup(0), fds[NETNS_FDS_SPARE];

		close(p[0]);
		if (lowest >= 0)
			close(lowest);
		/* room for the scan's own directory, ours and one more: the rest is spare */
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = (rlim_t)lowest + 3 + NETNS_FDS_SPARE;
		if (lowest < 0 || setrlimit(RLIMIT_NOFILE, &rl))
			_exit(2);
		snprintf(path, sizeof(path), "%s/proc", root);
		s = netns_set__new_at(path, mounts);
		if (!s)
			_exit(3);
		a.scanned = netns_set__scan(s);
		a.count = netns_set__count(s);
		a.n_short = netns_set__short(s);
		for (size_t i = 0; i < a.count; i++) {
			struct stat st;

			a.held_ok += !fstat(netns_set__fd(s, i), &st) &&
				     (uint32_t)st.st_ino == netns_set__inode(s, i);
		}
		/* every namespace is held or short, none both, none twice */
		for (int k = 0; k <= SHORT_NS; k++) {
			bool held = netns_set__find(s, inodes[k]) >= 0, sh = false;

			for (size_t i = 0; i < a.n_short; i++)
				sh |= netns_set__short_inode(s, i) == inodes[k];
			a.distinct += held != sh;
		}
		netns_set__short_why(s, a.why, sizeof(a.why));
		/* the spare ones are there for the work */
		while (a.spare_opened < NETNS_FDS_SPARE &&
		       (fds[a.spare_opened] = open("/dev/null", O_RDONLY)) >= 0)
			a.spare_opened++;
		_exit(write(p[1], &a, sizeof(a)) == (ssize_t)sizeof(a) ? 0 : 4);
	}
	close(p[1]);
	CHECK_EQ_INT(read(p[0], &a, sizeof(a)), sizeof(a));
	close(p[0]);
	REQUIRE(waitpid(scanner, &status, 0) == scanner);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(a.scanned >= 1);
	CHECK_EQ_INT(a.count, a.scanned);
	CHECK_EQ_INT(a.held_ok, a.count);
	CHECK(a.n_short >= 1);
	CHECK_EQ_INT(a.count + a.n_short, SHORT_NS + 1);
	CHECK_EQ_INT(a.distinct, SHORT_NS + 1);
	CHECK_EQ_INT(a.spare_opened, NETNS_FDS_SPARE);
	CHECK(strstr(a.why, "open file limit is ") != NULL);
	CHECK(strstr(a.why, "LimitNOFILE=") != NULL);
out:
	/* the last first: each later child holds the earlier ones' ends of their pipes */
	for (int i = made - 1; i >= 0; i--) {
		close(holds[i]);
		waitpid(kids[i], NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
	if (made < SHORT_NS)
		SKIP("unshare(CLONE_NEWNET) refused (not root?): no namespaces to run short of fds for");
}

/*
 * -N INODE is gone once nothing but tcptrail holds the namespace: a
 * process in it (tcptrail's own pid aside), or a bind mount mountinfo
 * shows; the holder found is looked at first the next time.
 */
TEST(netns_held_by_a_process_or_a_mount_not_by_us)
{
	char root[] = "/tmp/tt-netns-XXXXXX", path[300], target[64], proc[300], cmd[320];
	uint32_t self = inode_of("/proc/self/ns/net"), other, hint = 0;
	pid_t child;
	int hold = -1;

	REQUIRE(mkdtemp(root));
	snprintf(proc, sizeof(proc), "%s/proc", root);
	REQUIRE(!mkdir(proc, 0700));
	snprintf(path, sizeof(path), "%s/proc/self", root);
	REQUIRE(!mkdir(path, 0700));
	/* pid 7 is "us", in our namespace: the only one there */
	REQUIRE(!fake_ns_link(root, "7", "/proc/self/ns/net"));
	CHECK_EQ_INT(netns__held(proc, self, 7, 0, &hint), 0);
	CHECK_EQ_INT(netns__held(proc, self, 8, 0, &hint), 1);
	CHECK_EQ_INT(hint, 7);

	child = child_in_new_netns(&hold);
	if (child > 0) {
		snprintf(target, sizeof(target), "/proc/%d/ns/net", (int)child);
		other = inode_of(target);
		REQUIRE(!fake_ns_link(root, "500", target));
		hint = 0;
		CHECK_EQ_INT(netns__held(proc, other, 7, 0, &hint), 1);
		CHECK_EQ_INT(hint, 500);
		CHECK_EQ_INT(netns__held(proc, other, 7, 0, &hint), 1);
		/* its process gone, a bind mount holds it */
		snprintf(path, sizeof(path), "%s/proc/500/ns/net", root);
		CHECK(!unlink(path));
		write_mountinfo(root, false);
		CHECK_EQ_INT(netns__held(proc, other, 7, 0, &hint), 0);
		CHECK_EQ_INT(hint, 0);
		{
			FILE *f;

			snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
			f = fopen(path, "a");
			REQUIRE(f);
			/* a longer inode that starts with its digits is another one */
			fprintf(f, "42 22 0:4 net:[%u1] /run/netns/y rw - nsfs nsfs rw\n", other);
			fflush(f);
			CHECK_EQ_INT(netns__held(proc, other, 7, 0, &hint), 0);
			fprintf(f, "41 22 0:4 net:[%u] /run/netns/x rw shared:2 - nsfs nsfs rw\n",
				other);
			fclose(f);
		}
		CHECK_EQ_INT(netns__held(proc, other, 7, 0, &hint), 1);
		write_mountinfo(root, false);
		CHECK_EQ_INT(netns__held(proc, other, 7, 0, &hint), 0);
		close(hold);
		waitpid(child, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
	if (child <= 0)
		SKIP("unshare(CLONE_NEWNET) refused (not root?): a second namespace's holders were "
		     "not checked");
}
