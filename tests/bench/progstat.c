// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * progstat: the BPF programs a process holds, with the kernel's run
 * statistics, for `make bench-hooks` in the qemu guest (which has no
 * bpftool).  Static, libc only, like the other bench tools.
 *
 *   progstat PID
 *	one line per program PID holds a descriptor of:
 *	"NAME RUN_CNT RUN_TIME_NS RECURSION_MISSES"; run_time_ns counts only
 *	while kernel.bpf_stats_enabled is 1.
 *
 * Exits 1 with a line on stderr if PID holds no program or one cannot be
 * read.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_PROGS 256

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The prog_id of an fdinfo file, 0 if it is no program's. */
static unsigned int fdinfo_prog_id(const char *path)
{
	unsigned int id = 0, link = 0;
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "prog_id: %u", &id);
		sscanf(line, "link_id: %u", &link);
	}
	fclose(f);
	/* a link's fdinfo names its program too: count the program once, by its own fd */
	return link ? 0 : id;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned int ids[MAX_PROGS];
	char dir[64], path[320];
	struct dirent *d;
	size_t n = 0;
	DIR *dp;

	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: progstat PID\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "/proc/%s/fdinfo", argv[1]);
	dp = opendir(dir);
	if (!dp) {
		fprintf(stderr, "progstat: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((d = readdir(dp)) && n < MAX_PROGS) {
		unsigned int id;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		id = fdinfo_prog_id(path);
		if (id)
			ids[n++] = id;
	}
	closedir(dp);
	if (!n) {
		fprintf(stderr, "progstat: process %s holds no BPF program\n", argv[1]);
		return 1;
	}
	qsort(ids, n, sizeof(ids[0]), cmp_uint);
	for (size_t i = 0; i < n; i++) {
		struct bpf_prog_info info;
		union bpf_attr attr;
		int fd;

		if (i && ids[i] == ids[i - 1])
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = ids[i];
		fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (fd < 0) {
			fprintf(stderr, "progstat: program %u: %s\n", ids[i], strerror(errno));
			return 1;
		}
		memset(&info, 0, sizeof(info));
		memset(&attr, 0, sizeof(attr));
		attr.info.bpf_fd = (unsigned int)fd;
		attr.info.info_len = sizeof(info);
		attr.info.info = (unsigned long)&info;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr)) {
			fprintf(stderr, "progstat: program %u's info: %s\n", ids[i], strerror(errno));
			return 1;
		}
		close(fd);
		printf("%s %llu %llu %llu\n", info.name[0] ? info.name : "-",
		       (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns,
		       (unsigned long long)info.recursion_misses);
	}
	return 0;
}
