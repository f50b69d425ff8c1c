/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every network namespace on the host, found as `lsns -t net` finds them:
 * the namespace of every process (/proc/PID/ns/net, one per inode) plus
 * those pinned by a bind mount and no process (`ip netns add` puts them in
 * /run/netns, older systems in /var/run/netns; other tools elsewhere, which
 * mountinfo shows: PROC/self/mountinfo is read too).
 *
 * The set holds an O_RDONLY fd per namespace, for setns() or for opening a
 * socket inside it.  A rescan adds the namespaces born since and drops (and
 * closes the fd of) those it no longer finds: our fd alone would otherwise
 * keep a dead container's namespace alive.  An index is valid until the
 * next scan.
 *
 * An fd opened through a bind mount pins that mount: a plain umount of it
 * fails with EBUSY while the set holds it (`ip netns del` detaches lazily
 * and is not hindered).  Keep a set no longer than its work needs.
 *
 * Opening another process's /proc/PID/ns/net takes ptrace read access
 * (CAP_SYS_PTRACE for other users' processes); the ones we may not open are
 * counted in netns_set__denied() and left out.
 */
#ifndef TT_NETNS_H
#define TT_NETNS_H

#include <stddef.h>
#include <stdint.h>

struct netns_set;

/* An empty set over this host's /proc and /run; NULL when out of memory. */
struct netns_set *netns_set__new(void);

/*
 * The same, over another tree (for tests): proc_dir instead of /proc and a
 * NULL-terminated list of bind-mount directories instead of /run/netns and
 * /var/run/netns.
 */
struct netns_set *netns_set__new_at(const char *proc_dir, const char *const *mount_dirs);

void netns_set__free(struct netns_set *s);

/*
 * Look again: namespaces found for the first time are added at the end,
 * those not found any more are closed and removed (the survivors keep their
 * order).  Returns the number of namespaces now, or -errno if proc_dir
 * cannot be read (the set is left as it was).
 */
int netns_set__scan(struct netns_set *s);

size_t netns_set__count(const struct netns_set *s);
uint32_t netns_set__inode(const struct netns_set *s, size_t i);
int netns_set__fd(const struct netns_set *s, size_t i);

/* Where namespace i was first found: "/proc/PID/ns/net" or a bind mount. */
const char *netns_set__path(const struct netns_set *s, size_t i);

/* The index of the namespace with this inode, or -1. */
int netns_set__find(const struct netns_set *s, uint32_t inode);

/*
 * Descriptors a scan leaves free under the soft RLIMIT_NOFILE for the work
 * on what it found: the seed's workers (a netlink socket, a way back to
 * their own namespace and a /proc file each, eight workers at most), the
 * walk's BPF object, the owner scan's directories, and the files the rest
 * of tcptrail opens meanwhile.  Holding one fd per namespace up to the
 * limit, as a scan did, left none: every dump then failed, and the seed
 * read no namespace at all.
 */
#define NETNS_FDS_SPARE	64

/*
 * Namespaces the last scan found (each once) and holds no fd for, for want
 * of one: past the limit less NETNS_FDS_SPARE, or with the system's table
 * full.  Our own is always held.  Such a namespace is not in the set: a
 * caller that reads namespaces another way (the walk) may still read it,
 * and none may take its absence for its end.
 */
size_t netns_set__short(const struct netns_set *s);
uint32_t netns_set__short_inode(const struct netns_set *s, size_t i);

/*
 * Why they are short, and how to have none, for a warning: the limit, and
 * how far to raise it.  "" when none is.  buf.
 */
const char *netns_set__short_why(const struct netns_set *s, char *buf, size_t len);

/* Namespaces added and dropped by the last scan; links we could not read. */
size_t netns_set__added(const struct netns_set *s);
size_t netns_set__dropped(const struct netns_set *s);
size_t netns_set__denied(const struct netns_set *s);
/* The first of those links ("/proc/PID/ns/net"), or NULL if none. */
const char *netns_set__denied_path(const struct netns_set *s);

/*
 * Whether network namespace `inode` is held now by anything but process
 * `self` (tcptrail, which lives in the namespace it traces with -N): a
 * process in it, as proc_dir/PID/ns/net says, or a bind mount of it, as
 * proc_dir/self/mountinfo says (`ip netns add`'s in /run/netns among them).
 * 1 if so, 0 if not, -EACCES if no holder was found but a process whose
 * namespace we may not read might be one, -errno if proc_dir cannot be read.
 *
 * Another user's /proc/PID/ns/net takes CAP_SYS_PTRACE, which tcptrail's
 * main thread has given up; /proc/PID/net, which follows the process's
 * namespace and takes no ptrace access, answers instead where net_stat_ino
 * is the inode of that namespace's /proc/net/stat directory (a proc inode
 * of that namespace alone; 0: unknown).  *hint: the pid found last time
 * (0: none), looked at first, as a process rarely leaves its namespace;
 * set to the one found.
 */
int netns__held(const char *proc_dir, uint32_t inode, uint32_t self, uint64_t net_stat_ino,
		uint32_t *hint);

#endif /* TT_NETNS_H */
