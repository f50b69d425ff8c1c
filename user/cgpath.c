// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cgroup paths to what they say, with no system call: a cgroup path to its
 * container, pod and unit (the names every sink prints next to a flow), a
 * /proc/PID/cgroup text to its v2 path, a mountinfo text to the v2 mount.
 * ident.c, which maps the kernel's cgroup ids to paths by walking the tree,
 * hands each path it learns to ident__parse_path.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "ident.h"

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* comp (clen bytes) is prefix, 64 hex digits, suffix: copy the digits to out. */
static bool id_between(const char *comp, size_t clen, const char *prefix, const char *suffix,
		       char out[TT_CONTAINER_MAX])
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (clen != p + 64 + s || strncmp(comp, prefix, p) || strncmp(comp + p + 64, suffix, s) ||
	    !all_hex(comp + p, 64))
		return false;
	memcpy(out, comp + p, 64);
	out[64] = '\0';
	return true;
}

/*
 * A pod UID: 8-4-4-4-12 lower-case hex with sep ('-' or '_') between, copied
 * with dashes; or the 32 hex digits the kubelet gives a static pod (an md5
 * of its manifest: kube-apiserver, etcd), copied as they are.
 */
static bool pod_uid(const char *s, size_t n, char sep, char out[TT_POD_MAX])
{
	static const int dash[] = { 8, 13, 18, 23 };

	if (n == 32 && all_hex(s, 32)) {
		memcpy(out, s, 32);
		out[32] = '\0';
		return true;
	}
	if (n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool d = i == 8 || i == 13 || i == 18 || i == 23;

		if (d ? s[i] != sep : !all_hex(s + i, 1))
			return false;
	}
	memcpy(out, s, 36);
	for (int i = 0; i < 4; i++)
		out[dash[i]] = '-';
	out[36] = '\0';
	return true;
}

/* "...-pod<uid_>.slice" (len bytes), with kubepods in its name: the pod's UID to out. */
static bool pod_slice(const char *c, size_t len, char out[TT_POD_MAX])
{
	static const size_t uid_len[] = { 36, 32 };

	if (len < 6 || strncmp(c + len - 6, ".slice", 6) || !memmem(c, len, "kubepods", 8))
		return false;
	for (int i = 0; i < 2; i++) {
		size_t k = uid_len[i];

		if (len >= 6 + k + 4 && !strncmp(c + len - 6 - k - 4, "-pod", 4) &&
		    pod_uid(c + len - 6 - k, k, '_', out))
			return true;
	}
	return false;
}

/*
 * One path component.  Shapes, by runtime and cgroup driver:
 *   docker        /system.slice/docker-<id>.scope, /docker/<id>
 *   containerd    .../cri-containerd-<id>.scope
 *   CRI-O         .../crio-<id>.scope, /kubepods/.../pod<uid>/crio-<id>
 *   podman        .../libpod-<id>.scope, /libpod_parent/libpod-<id>
 *   nerdctl       /system.slice/nerdctl-<id>.scope (a user's under user.slice),
 *                 /<namespace>/<id> (cgroupfs: containerd's own default,
 *                 /default/<id>, which ctr keeps too)
 *   ECS           /ecs/<task>/<id> (v1; on v2 docker-<id>.scope)
 *   kubepods      /kubepods.slice/kubepods-burstable.slice/
 *                 kubepods-burstable-pod<uid_with_underscores>.slice/...
 *                 (under a kubelet cgroup root too: kubelet-kubepods-...),
 *                 /kubepods/besteffort/pod<uid>/<id> (cgroupfs driver: the
 *                 container is a bare id below its pod)
 *   systemd names given to cgroupfs (v1 hierarchies of a systemd-driver
 *   kubelet): /kubepods-burstable-pod<uid_>.slice:cri-containerd:<id>
 * conmon's own scopes (libpod-conmon-<id>.scope) are not the container.  A
 * pod below a container (a kind or k3d node) is the pod's, not the node's.
 */
static void parse_comp(const char *c, size_t len, const char *prev, size_t plen,
		       unsigned int depth, bool ecs, struct tt_cgname *n, bool *named)
{
	static const struct { const char *prefix, *rt; } colon_rt[] = {
		{ "cri-containerd", "containerd" }, { "crio", "crio" }, { "docker", "docker" },
	};
	char id[TT_CONTAINER_MAX];
	const char *rt = NULL, *c1, *c2;

	/* slice:prefix:id, in one component */
	c1 = memchr(c, ':', len);
	c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - c)) : NULL;
	if (c2) {
		size_t plen2 = (size_t)(c2 - c1 - 1);

		parse_comp(c, (size_t)(c1 - c), "", 0, depth, false, n, named);
		for (size_t i = 0; i < sizeof(colon_rt) / sizeof(colon_rt[0]); i++)
			if (strlen(colon_rt[i].prefix) == plen2 &&
			    !strncmp(c1 + 1, colon_rt[i].prefix, plen2) &&
			    id_between(c2 + 1, len - (size_t)(c2 + 1 - c), "", "", id))
				rt = colon_rt[i].rt;
	} else if (id_between(c, len, "docker-", ".scope", id)) {
		rt = "docker";
	} else if (id_between(c, len, "cri-containerd-", ".scope", id)) {
		rt = "containerd";
	} else if (id_between(c, len, "crio-", ".scope", id) || id_between(c, len, "crio-", "", id)) {
		rt = "crio";
	} else if (id_between(c, len, "libpod-", ".scope", id) ||
		   id_between(c, len, "libpod-", "", id)) {
		rt = "podman";
	} else if (id_between(c, len, "nerdctl-", ".scope", id)) {
		rt = "nerdctl";
	} else if (plen == 6 && !strncmp(prev, "docker", 6) && id_between(c, len, "", "", id)) {
		rt = "docker";
	} else if (n->pod[0] && id_between(c, len, "", "", id)) {
		rt = "cri";
	} else if (depth == 1 && id_between(c, len, "", "", id)) {
		rt = "containerd";
	} else if (depth == 2 && ecs && id_between(c, len, "", "", id)) {
		rt = "docker";
	}
	if (rt) {
		memcpy(n->container, id, sizeof(id));
		snprintf(n->runtime, sizeof(n->runtime), "%s", rt);
		*named = true;
		return;
	}
	if (c2)
		return;
	/* cgroupfs: pod<uid>; systemd: [kubelet-]kubepods[-qos]-pod<uid_>.slice */
	if ((len > 3 && !strncmp(c, "pod", 3) && pod_uid(c + 3, len - 3, '-', n->pod)) ||
	    pod_slice(c, len, n->pod)) {
		/* the node's container, when the pod runs in one, is not the pod's */
		n->container[0] = n->runtime[0] = '\0';
		*named = true;
	}
}

bool ident__parse_path(const char *path, struct tt_cgname *n)
{
	const char *p = path, *prev = "";
	size_t plen = 0;
	unsigned int depth = 0;
	bool named = false, ecs = false;

	n->container[0] = n->runtime[0] = n->pod[0] = '\0';
	if (!path)
		return false;
	while (*p) {
		const char *c;
		size_t len;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - c);
		if (!len)
			break;
		if (!depth)
			ecs = len == 3 && !strncmp(c, "ecs", 3);
		parse_comp(c, len, prev, plen, depth++, ecs, n, &named);
		prev = c;
		plen = len;
	}
	return named;
}

int ident__parse_proc_cgroup(const char *text, char *path, size_t len)
{
	const char *line = text, *v2 = NULL, *systemd = NULL, *first = NULL;
	struct tt_cgname n;
	size_t v2n = 0, sdn = 0, firstn = 0;

	if (len)
		path[0] = '\0';
	while (line && *line) {
		const char *end = strchr(line, '\n'), *c1, *c2, *p;
		size_t ln = end ? (size_t)(end - line) : strlen(line), pn;
		char buf[PATH_MAX];

		c1 = memchr(line, ':', ln);
		c2 = c1 ? memchr(c1 + 1, ':', ln - (size_t)(c1 + 1 - line)) : NULL;
		if (c2 && c2[1] == '/') {
			p = c2 + 1;
			pn = ln - (size_t)(p - line);
			if (pn < sizeof(buf)) {
				memcpy(buf, p, pn);
				buf[pn] = '\0';
				if (ident__parse_path(buf, &n) && n.container[0]) {
					if (pn >= len)
						return -ENAMETOOLONG;
					memcpy(path, buf, pn + 1);
					return 0;
				}
			}
			if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1 && pn > 1) {
				v2 = p;
				v2n = pn;
			} else if ((size_t)(c2 - c1 - 1) == 12 && !strncmp(c1 + 1, "name=systemd", 12)) {
				systemd = p;
				sdn = pn;
			}
			if (!first) {
				first = p;
				firstn = pn;
			}
		}
		line = end ? end + 1 : NULL;
	}
	if (!v2) {
		v2 = systemd ? systemd : first;
		v2n = systemd ? sdn : firstn;
	}
	if (!v2)
		return -ENOENT;
	if (v2n >= len)
		return -ENAMETOOLONG;
	memcpy(path, v2, v2n);
	path[v2n] = '\0';
	return 0;
}

int ident__find_mount(const char *mountinfo, char *buf, size_t len)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *dash;
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64];
		size_t ln = end ? (size_t)(end - line) : strlen(line);
		char copy[2 * PATH_MAX];

		if (ln < sizeof(copy)) {
			memcpy(copy, line, ln);
			copy[ln] = '\0';
			dash = strstr(copy, " - ");
			if (dash && sscanf(dash + 3, "%63s", fstype) == 1 && !strcmp(fstype, "cgroup2") &&
			    sscanf(copy, "%*s %*s %*s %4095s %4095s", root, mnt) == 2 &&
			    !strcmp(root, "/") && strlen(mnt) < len) {
				strcpy(buf, mnt);
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

bool ident__path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (n == 1 && prefix[0] == '/')
		return path[0] == '/';
	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

bool ident__valid_container_prefix(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && all_hex(s, n);
}

bool ident__valid_names(const char *container, const char *pod, const char *runtime)
{
	char uid[TT_POD_MAX];
	size_t i;

	if (container[0] && !ident__valid_container_prefix(container))
		return false;
	if (pod[0] && !pod_uid(pod, strlen(pod), '-', uid))
		return false;
	for (i = 0; runtime[i]; i++)
		if (runtime[i] < 'a' || runtime[i] > 'z')
			return false;
	return i < TT_RUNTIME_MAX;
}
