// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the live source needs of the system before it attaches (livesys.h):
 * tracefs for the plain tracepoints and the cgroup v2 root for sock_ops and
 * cgroup_skb, mounted in a mount namespace of our own where the host lacks
 * them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "livesys.h"
#include "util.h"

#define TRACEFS_MAGIC_ 0x74726163
#define CGROUP2_MAGIC_ 0x63677270

static bool is_fs(const char *path, long magic)
{
	struct statfs sf;

	return !statfs(path, &sf) && sf.f_type == magic;
}

/*
 * Mounts we need and the host lacks go in a mount namespace of our own, so
 * the host's mount table is left exactly as it was.  Single-threaded here.
 */
int livesys__private_mounts(void)
{
	static int done;

	if (done)
		return done < 0 ? done : 0;
	if (unshare(CLONE_NEWNS)) {
		done = -errno;
		tt_debug("unshare(CLONE_NEWNS) for private mounts: %s", strerror(errno));
		return done;
	}
	/*
	 * Slave, not private: ours never reach the host, but the host's still
	 * reach us, such as the /run/netns bind mount of a namespace made
	 * after the start, which the namespace census must find.
	 */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		done = -errno;
		tt_debug("make our mounts private: %s", strerror(errno));
		return done;
	}
	done = 1;
	return 0;
}

/* Plain tracepoints are attached by id, which libbpf reads from tracefs. */
static int tracefs_mount(void)
{
	int err;

	if (is_fs("/sys/kernel/tracing", TRACEFS_MAGIC_) ||
	    is_fs("/sys/kernel/debug/tracing", TRACEFS_MAGIC_))
		return 0;
	err = livesys__private_mounts();
	if (err)
		return err;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		tt_debug("mount tracefs at /sys/kernel/tracing: %s", strerror(errno));
		return -errno;
	}
	tt_debug("tracefs was not mounted: mounted it privately at /sys/kernel/tracing");
	return 0;
}

/* Tried once: a probe's every failed tracepoint asks again why */
int livesys__tracefs(void)
{
	static bool tried;
	static int err;

	if (!tried) {
		err = tracefs_mount();
		tried = true;
	}
	return err;
}

/* The initial cgroup namespace's inode, fixed (PROC_CGROUP_INIT_INO, include/linux/proc_ns.h) */
#define CGROUP_NS_INIT_INO 0xEFFFFFFBu

bool livesys__own_cgroupns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/cgroup", &st) && st.st_ino != CGROUP_NS_INIT_INO;
}

/*
 * An fd for the root of the cgroup v2 hierarchy: the first cgroup2 mount
 * whose root is "/" in /proc/self/mountinfo, else a private mount of our own.
 * Only a mountinfo read to its end without one says "not mounted": one we
 * could not open or read (out of file descriptors: EMFILE, ENFILE) says
 * nothing of the mounts, and mounting cgroup2 over them then failed for the
 * same reason, with a message that named the mount instead.  No mountinfo
 * at all (ENOENT: no /proc) still leads to the private mount.
 */
int livesys__cgroup2_root(char *why, size_t len)
{
	char line[4096], root[1024], mnt[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int fd, err;

	if (!f && errno != ENOENT) {
		err = -errno;
		snprintf(why, len, "find the cgroup2 mount: read /proc/self/mountinfo: %s",
			 strerror(-err));
		return err;
	}
	while (f && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");

		if (!sep || sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2)
			continue;
		if (strcmp(root, "/"))
			continue;
		fclose(f);
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			snprintf(why, len, "open cgroup2 root %s: %s", mnt, strerror(errno));
		return fd < 0 ? -errno : fd;
	}
	if (f && ferror(f)) {
		err = errno ? -errno : -EIO;
		fclose(f);
		snprintf(why, len, "find the cgroup2 mount: read /proc/self/mountinfo: %s",
			 strerror(-err));
		return err;
	}
	if (f)
		fclose(f);
	err = livesys__private_mounts();
	if (err) {
		snprintf(why, len, "cgroup2 is not mounted, and a private mount failed: %s",
			 strerror(-err));
		return err;
	}
	/* shadows whatever is there, in our namespace only */
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) ||
	    !is_fs("/sys/fs/cgroup", CGROUP2_MAGIC_)) {
		err = -errno;
		snprintf(why, len, "mount cgroup2 privately: %s", strerror(errno));
		return err ? err : -ENOENT;
	}
	tt_debug("cgroup2 was not mounted: mounted it privately at /sys/fs/cgroup");
	fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		snprintf(why, len, "open private cgroup2 mount: %s", strerror(errno));
	return fd < 0 ? -errno : fd;
}
