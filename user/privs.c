// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Start-up: capabilities through the raw capget/capset/prctl syscalls: libcap would be
 * one more library for the static guest build, for four system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include "diag.h"
#include "privs.h"
#include "util.h"

#define BIT(cap)	(1ull << (cap))

struct caps {
	uint64_t eff, perm;
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

bool privs__thread_has(uint64_t caps)
{
	struct caps c;

	return !caps_get(&c) && (c.eff & caps) == caps;
}

/* Inheritable is always emptied: nothing we exec should inherit anything. */
static int caps_set(uint64_t eff, uint64_t perm)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{ .effective = (uint32_t)eff, .permitted = (uint32_t)perm },
		{ .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32) },
	};

	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* ---- what the running daemon may still need; each returns 0 if allowed ---- */

/*
 * Since 5.19 unprivileged_bpf_disabled guards only the commands that make
 * objects; before, it refused every command, a lookup on fd -1 included.
 * So EPERM here means live__lost() would fail, and EBADF means it works.
 */
static int try_bpf(const char *unused)
{
	uint32_t key = 0;
	uint64_t val;

	return bpf_map_lookup_elem(-1, &key, &val) == -EPERM ? -EPERM : 0;
}

/* Writing: access() with the effective ids and capabilities, as open() will. */
static int try_write(const char *path)
{
	return faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) ? -errno : 0;
}

static int try_create_in(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return 0;
	return faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) ? -errno : 0;
}

/*
 * /proc/PID/cmdline is world-readable unless /proc is mounted hidepid=,
 * which hides the processes we may not ptrace: other users', and (with
 * hidepid=ptraceable or a gid= that is not ours) root's too.
 */
static int try_read(const char *path)
{
	char c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, &c, 1);
	close(fd);
	return n < 0 ? -errno : 0;
}

/*
 * Someone else's process to try that on: a child of ours turned nobody.
 * It lives until *hold is closed (or we die), and needs no signal to go:
 * once our capabilities are lowered we may no longer signal it.  -1 if it
 * cannot change its uid (no CAP_SETUID, or no uid 65534 in this user
 * namespace).
 */
static pid_t stranger_new(int *hold)
{
	int ready[2], life[2];
	char ok = 0;
	pid_t pid;

	*hold = -1;
	if (pipe2(ready, O_CLOEXEC))
		return -1;
	if (pipe2(life, O_CLOEXEC)) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(life[1]);
		ok = !setgroups(0, NULL) && !setresgid(65534, 65534, 65534) &&
		     !setresuid(65534, 65534, 65534);
		if (write(ready[1], &ok, 1) == 1)
			while (read(life[0], &ok, 1) < 0 && errno == EINTR)
				;
		_exit(0);
	}
	close(ready[1]);
	close(life[0]);
	if (pid > 0 && (read(ready[0], &ok, 1) != 1 || !ok)) {
		close(life[1]);
		waitpid(pid, NULL, 0);
		pid = -1;
	} else if (pid > 0) {
		*hold = life[1];
	} else {
		close(life[1]);
	}
	close(ready[0]);
	return pid;
}

struct need {
	int cap;
	int (*try)(const char *arg);
	const char *arg;
	const char *why;
};

static const char *cap_name(int cap)
{
	switch (cap) {
	case CAP_BPF: return "cap_bpf";
	case CAP_SYS_ADMIN: return "cap_sys_admin";
	case CAP_DAC_OVERRIDE: return "cap_dac_override";
	case CAP_SYS_PTRACE: return "cap_sys_ptrace";
	default: return "?";
	}
}

/*
 * A capability is needed when the operation fails with the effective set
 * at `keep` and succeeds with the capability added: a failure it does not
 * cure (a missing directory, a read-only file system) is no reason to keep it.
 */
static int needed(const struct caps *c, uint64_t keep, const struct need *n, bool *out)
{
	int err;

	*out = false;
	if (!(c->perm & BIT(n->cap)))
		return 0;
	err = caps_set(keep, c->perm);
	if (err)
		return err;
	if (!n->try(n->arg))
		return 0;
	err = caps_set(keep | BIT(n->cap), c->perm);
	if (err)
		return err;
	*out = !n->try(n->arg);
	return 0;
}

/* See privs.h: one setns() now instead of one per interval. */
static void enter_netns(const struct tt_opts *o)
{
	int fd;

	if (!o->netns || o->netns == diag__self_netns())
		return;
	fd = diag__open_netns(o->netns);
	if (fd < 0)
		return;		/* start_reports() said so: the counts are estimated */
	if (setns(fd, CLONE_NEWNET))
		tt_warn("warning: setns into network namespace %u: %s: TIME-WAIT counts will "
			"fail", o->netns, strerror(errno));
	close(fd);
}

/*
 * The capabilities this host needs for what the daemon still does, into
 * *keep, with a list of them and why for the debug line.
 */
static int decide(const struct tt_opts *o, const struct caps *c, uint64_t *keep,
		  char *kept, size_t kept_len)
{
	struct need needs[6];
	size_t n_needs = 0, len = 0;
	char cmdline[32];
	pid_t stranger;
	int hold, err = 0;

	*keep = 0;
	needs[n_needs++] = (struct need){ c->perm & BIT(CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN,
		try_bpf, NULL, "read the lost-event counters" };
	if (o->output_path) {
		if (!access(o->output_path, F_OK))
			needs[n_needs++] = (struct need){ CAP_DAC_OVERRIDE, try_write,
				o->output_path, "reopen -o on SIGHUP" };
		needs[n_needs++] = (struct need){ CAP_DAC_OVERRIDE, try_create_in,
			o->output_path, "recreate -o on SIGHUP" };
	}
	if (o->metrics_path)
		needs[n_needs++] = (struct need){ CAP_DAC_OVERRIDE, try_create_in,
			o->metrics_path, "write --metrics-file" };
	if (o->write_path && o->rotate_bytes)
		needs[n_needs++] = (struct need){ CAP_DAC_OVERRIDE, try_create_in,
			o->write_path, "rotate -w" };
	stranger = stranger_new(&hold);
	if (stranger > 0) {
		snprintf(cmdline, sizeof(cmdline), "/proc/%d/cmdline", (int)stranger);
		needs[n_needs++] = (struct need){ CAP_SYS_PTRACE, try_read, cmdline,
			"read other users' /proc/PID/cmdline under hidepid" };
	}

	for (size_t i = 0; i < n_needs && !err; i++) {
		bool need;

		if (*keep & BIT(needs[i].cap))
			continue;
		err = needed(c, *keep, &needs[i], &need);
		if (err || !need)
			continue;
		*keep |= BIT(needs[i].cap);
		len += (size_t)snprintf(kept + len, len < kept_len ? kept_len - len : 0,
					"%s%s (to %s)", len ? ", " : "",
					cap_name(needs[i].cap), needs[i].why);
	}
	if (stranger > 0) {
		close(hold);	/* its read() returns 0 and it exits */
		waitpid(stranger, NULL, 0);
	}
	return err;
}

int privs__drop(const struct tt_opts *o)
{
	char kept[256] = "";
	uint64_t keep;
	struct caps c;
	int err;

	err = caps_get(&c);
	if (err) {
		tt_err("drop privileges: capget: %s", strerror(-err));
		return err;
	}
	enter_netns(o);
	err = decide(o, &c, &keep, kept, sizeof(kept));
	if (err) {
		tt_err("drop privileges: capset: %s", strerror(-err));
		return err;
	}

	/* dropping from the bounding set takes CAP_SETPCAP in the effective set */
	err = caps_set(c.perm, c.perm);
	if (err) {
		tt_err("drop privileges: capset: %s", strerror(-err));
		return err;
	}
	if (c.perm & BIT(CAP_SETPCAP)) {
		for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
			if ((keep & BIT(cap)) || !prctl(PR_CAPBSET_READ, cap, 0, 0, 0))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
				err = -errno;
				tt_err("drop privileges: drop capability %d from the bounding set: %s",
				       cap, strerror(-err));
				return err;
			}
		}
	}
	/* EINVAL: a kernel before 4.3 has no ambient set to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		err = -errno;
		tt_err("drop privileges: clear the ambient capabilities: %s", strerror(-err));
		return err;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		tt_err("drop privileges: set no_new_privs: %s", strerror(-err));
		return err;
	}
	err = caps_set(keep, keep);
	if (!err)
		err = caps_get(&c);
	if (!err && (c.eff != keep || c.perm != keep))
		err = -EPERM;
	if (err) {
		tt_err("drop privileges: capset: %s", strerror(-err));
		return err;
	}
	tt_debug("dropped privileges: keeping %s", keep ? kept : "no capability");
	return 0;
}

int privs__limit_thread(uint64_t caps)
{
	struct caps c;
	int err;

	/* capget/capset/prctl through syscall(): this thread only, as glibc leaves them */
	err = caps_get(&c);
	if (err)
		return err;
	/* dropping from the bounding set takes CAP_SETPCAP in the effective set */
	if (c.perm & BIT(CAP_SETPCAP)) {
		err = caps_set(c.perm, c.perm);
		for (int cap = 0; !err && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
			if ((caps & BIT(cap)) || !prctl(PR_CAPBSET_READ, cap, 0, 0, 0))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
				err = -errno;
		}
		if (err)
			return err;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return caps_set(c.perm & caps, c.perm & caps);
}
