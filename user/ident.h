/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Identity: a socket's cgroup v2 id (tt_event.cgroup) to its path under the
 * cgroup v2 mount, and the path to the container and the Kubernetes pod it
 * names.  Resolved once, cached, and never forgotten while tracing, so a
 * flow whose container is gone by the time it ends still prints its name.
 * Where the v2 id says nothing (0, or the root cgroup on a host whose
 * runtime only made v1 cgroups), the owner's /proc/PID/cgroup is read
 * instead.  A replay is told the names the capture kept (ident__learn) and
 * never looks at this host.
 */
#ifndef TT_IDENT_H
#define TT_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TT_CONTAINER_MAX 65	/* 64 hex digits and a NUL */
#define TT_POD_MAX 37		/* a UUID and a NUL */
#define TT_RUNTIME_MAX 16

enum tt_cgsource {
	TT_CGSRC_NONE = 0,
	TT_CGSRC_V2,		/* the socket's own cgroup v2 id */
	TT_CGSRC_PROC,		/* the owner's /proc/PID/cgroup */
	TT_CGSRC_CAPTURE,	/* the names a capture kept */
};

struct tt_cgname {
	uint64_t id;		/* cgroup v2 id; 0 for a name from /proc/PID/cgroup */
	const char *path;	/* "/libpod_parent/libpod-4219...", "/" for the root */
	char container[TT_CONTAINER_MAX];	/* full id, "" if the path names none */
	char runtime[TT_RUNTIME_MAX];		/* "docker", "containerd", "crio", "podman",
						 * "nerdctl", "cri" */
	char pod[TT_POD_MAX];			/* Kubernetes pod UID with dashes, or "" */
	uint8_t source;		/* enum tt_cgsource */
};

struct tt_ident;

/*
 * live: resolve ids on this host (finds the cgroup v2 mount; without one,
 * only the /proc fallback works).  !live: names come from ident__learn only.
 */
struct tt_ident *ident__new(bool live);
void ident__free(struct tt_ident *id);

/* From now on resolve ids on this host, as ident__new(true). */
void ident__go_live(struct tt_ident *id);

/*
 * The name of a record's or flow's cgroup: cgid first; when it says nothing
 * and pid is known, the pid's /proc/PID/cgroup.  NULL when neither names
 * one.  The pointer stays valid until ident__free.
 */
const struct tt_cgname *ident__lookup(struct tt_ident *id, uint64_t cgid, uint32_t pid);

/*
 * The name of cgroup v2 id cgid itself, never an owner's /proc/PID/cgroup
 * (pid, when known, is a quick way to an id not seen before): what --cgroup,
 * which the kernel checks on v2 ids, is matched with.  NULL when unknown.
 */
const struct tt_cgname *ident__lookup_v2(struct tt_ident *id, uint64_t cgid, uint32_t pid);

/* The clock that tells idle names from used ones: call it now and then (every poll). */
void ident__tick(struct tt_ident *id);

/*
 * At most max_names cgroup names and max_pids owners' /proc/PID/cgroup
 * names at once; when full, those not looked up for idle_ns make room,
 * checked at most once per prune_ns (and with none idle, the owners' older
 * half, but none a report may hold: ident__hold()); a pid's file is read
 * again after pid_ttl_ns.  The defaults (65536, 16384, an hour, a minute, 5 s) suit a
 * daemon; tests use small ones.
 */
void ident__set_capacity(struct tt_ident *id, size_t max_names, size_t max_pids,
			 uint64_t idle_ns, uint64_t prune_ns, uint64_t pid_ttl_ns);

/*
 * A caller holds names it looked up for as long as ns (a report's, until
 * the next report compares with them): none is freed idle for less.
 */
void ident__hold(struct tt_ident *id, uint64_t ns);

/*
 * Whether cgid may say less than its owner's /proc/PID/cgroup (the fallback's
 * cases): 0, the root, or, where cgroup v1 is mounted too, a cgroup that
 * names no container (a runtime may have put one in v1 only).
 */
bool ident__vague(const struct tt_ident *id, uint64_t cgid);

/*
 * Whether cgid's name is at hand without any I/O and says all there is (not
 * ident__vague()): one table lookup, for the per-record path.
 */
bool ident__names(const struct tt_ident *id, uint64_t cgid);

/* A name a capture kept for cgid. */
int ident__learn(struct tt_ident *id, uint64_t cgid, const char *path, const char *container,
		 const char *pod, const char *runtime);

/* The cgroup v2 mount this host uses ("/sys/fs/cgroup/unified"), or NULL. */
const char *ident__mount(const struct tt_ident *id);

/* -v: how many names came from /proc/PID/cgroup rather than the socket's id. */
uint64_t ident__proc_fallbacks(const struct tt_ident *id);

/* ---- pure parsers (unit-tested) ---- */

/* cgpath.c: what a path says, with no system call. */

/*
 * Fill n->container, n->runtime and n->pod from a cgroup path of any
 * runtime and either cgroup driver; leaves them "" where the path names
 * none.  Returns true if it named a container or a pod.
 */
bool ident__parse_path(const char *path, struct tt_cgname *n);

/*
 * From the text of /proc/PID/cgroup (v1 "4:memory:/x", v2 "0::/x"), the
 * path that says most: a line naming a container, else the v2 line, else
 * name=systemd's, else the first.  Writes "" and returns -ENOENT if none.
 */
int ident__parse_proc_cgroup(const char *text, char *path, size_t len);

/*
 * The cgroup v2 mount point from the text of /proc/self/mountinfo:
 * /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one.
 */
int ident__find_mount(const char *mountinfo, char *buf, size_t len);

/*
 * --cgroup ARG: the cgroup's id and level (root 0).  ARG is a cgroup path
 * as tcptrail prints it ("/libpod_parent") or a directory under the v2
 * mount ("/sys/fs/cgroup/unified/libpod_parent").  0, or -errno with why
 * filled for a one-line error.
 */
int ident__resolve_path(const char *mount, const char *arg, uint64_t *cgid, uint32_t *level,
			char *canon, size_t canon_len, char *why, size_t why_len);

/* Whether path is prefix itself or below it ("/a" covers "/a" and "/a/b", not "/ab"). */
bool ident__path_under(const char *path, const char *prefix);

/* Whether s is a --container argument: 1..64 hex digits. */
bool ident__valid_container_prefix(const char *s);

/*
 * Names as this tcptrail makes them, for those a capture brings: a
 * container id of hex digits, a pod UID 8-4-4-4-12 with dashes, a runtime
 * of lower-case letters, or each empty.  They are printed unquoted (logfmt,
 * the journal), so nothing else may pass.
 */
bool ident__valid_names(const char *container, const char *pod, const char *runtime);

/*
 * The running containers whose ids start with prefix, as every process's
 * /proc/PID/cgroup names them: how many distinct ones, the first max of
 * them copied to ids.
 */
size_t ident__running_containers(const char *prefix, char (*ids)[TT_CONTAINER_MAX], size_t max);

/*
 * The network namespaces of the processes in the container whose id starts
 * with container (NULL: any) and under cgroup_path ("" or NULL: any), from
 * /proc now, into *out (malloc'd; duplicates in a run left out).  Their
 * number; 0 and NULL if none (or /proc could not be read).
 */
size_t ident__process_namespaces(const char *container, const char *cgroup_path, uint32_t **out);

#endif /* TT_IDENT_H */
