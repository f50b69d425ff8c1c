// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * LD_PRELOAD shim for tests/kernel/no-kconfig.sh: a host whose kernel
 * config cannot be read.  gzopen() of /boot/config-* and /proc/config.gz,
 * the two places libbpf (and tcptrail) look, fails with ENOENT; anything
 * else goes to zlib.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

typedef void *gz_file;

static int hidden(const char *path)
{
	return !strncmp(path, "/boot/config-", 13) || !strcmp(path, "/proc/config.gz");
}

static gz_file pass_on(const char *name, const char *path, const char *mode)
{
	gz_file (*real)(const char *, const char *) =
		(gz_file (*)(const char *, const char *))dlsym(RTLD_NEXT, name);

	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	return real(path, mode);
}

gz_file gzopen(const char *path, const char *mode)
{
	if (hidden(path)) {
		errno = ENOENT;
		return NULL;
	}
	return pass_on("gzopen", path, mode);
}

gz_file gzopen64(const char *path, const char *mode)
{
	if (hidden(path)) {
		errno = ENOENT;
		return NULL;
	}
	return pass_on("gzopen64", path, mode);
}
