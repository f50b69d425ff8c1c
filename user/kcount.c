// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Driver support: the namespace's own TCP counters (/proc/net/snmp,
 * netstat), to tell at exit whether the hooks missed anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kcount.h"
#include "util.h"

#define FILE_MAX	(64 * 1024)	/* netstat is some 5 KB */
#define TOKEN_MAX	64

/* The line after the one at p, or NULL. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The line at p starts with "section:". */
static bool in_section(const char *p, const char *section, size_t len)
{
	return !strncmp(p, section, len) && p[len] == ':';
}

/* The token at *p on this line, advancing *p; its length, 0 at the line's end. */
static size_t token(const char **p)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ')
		s++;
	while (s[n] && s[n] != ' ' && s[n] != '\n')
		n++;
	*p = s + n;
	return n;
}

int kcount__parse(const char *text, const char *section, const char *const names[],
		  uint64_t out[], size_t n)
{
	size_t len = strlen(section), found = 0;
	const char *head = text, *vals;

	while (head && !in_section(head, section, len))
		head = next_line(head);
	if (!head)
		return -ENOENT;
	vals = next_line(head);
	if (!vals || !in_section(vals, section, len))
		return -EINVAL;
	head += len + 1;
	vals += len + 1;
	for (;;) {
		const char *name, *val;
		size_t nl = token(&head), vl = token(&vals);

		if (!nl || !vl) {
			if (nl != vl)
				return -EINVAL;
			break;
		}
		name = head - nl;
		val = vals - vl;
		for (size_t i = 0; i < n; i++) {
			char buf[TOKEN_MAX];
			long long v;

			if (strlen(names[i]) != nl || strncmp(names[i], name, nl))
				continue;
			if (vl >= sizeof(buf))
				return -EINVAL;
			memcpy(buf, val, vl);
			buf[vl] = '\0';
			if (tt_parse_num(buf, 0, LLONG_MAX, &v))
				return -EINVAL;
			out[i] = (uint64_t)v;
			found |= (size_t)1 << i;
		}
	}
	return found == ((size_t)1 << n) - 1 ? 0 : -ENOENT;
}

static int read_text(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len < cap - 1) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return 0;
}

int kcount__read(struct tt_kcounts *k)
{
	static const char *const tcp[] = { "ActiveOpens" };
	static const char *const ext[] = { "TW", "TWKilled" };
	uint64_t v[2];
	char *buf = malloc(FILE_MAX);
	int err;

	if (!buf)
		return -ENOMEM;
	err = read_text("/proc/self/net/snmp", buf, FILE_MAX);
	if (!err)
		err = kcount__parse(buf, "Tcp", tcp, v, 1);
	if (!err) {
		k->active_opens = v[0];
		err = read_text("/proc/self/net/netstat", buf, FILE_MAX);
	}
	if (!err)
		err = kcount__parse(buf, "TcpExt", ext, v, 2);
	if (!err)
		k->time_wait = v[0] + v[1];
	free(buf);
	return err;
}

bool kcount__tw_at_expiry(const char *release)
{
	unsigned int major, minor;

	if (sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major < 5 || (major == 5 && minor < 18);
}
