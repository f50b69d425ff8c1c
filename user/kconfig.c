// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel config the BPF objects are opened with (kconfig.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>
#include "kconfig.h"
#include "util.h"

/* the first CPU's part of /proc/timer_list has both lines */
#define TIMER_LIST_MAX	(256 * 1024)

unsigned int kconfig__hz_from_config(const char *text)
{
	const char *p = text;
	char *end;
	unsigned long hz;

	while ((p = strstr(p, "CONFIG_HZ="))) {
		if (p == text || p[-1] == '\n') {
			hz = strtoul(p + 10, &end, 10);
			if (end != p + 10 && (*end == '\n' || !*end) && hz && hz <= 100000)
				return (unsigned int)hz;
			return 0;
		}
		p += 10;
	}
	return 0;
}

unsigned int kconfig__hz_from_timer_list(const char *text)
{
	static const unsigned int offered[] = { 100, 250, 300, 1000 };
	const char *now = strstr(text, "now at "), *j = strstr(text, "\njiffies: ");
	unsigned long long now_ns, jiffies;
	double secs, hz;
	char *end;

	if (!now || !j)
		return 0;
	now_ns = strtoull(now + 7, &end, 10);
	if (end == now + 7 || strncmp(end, " nsecs", 6))
		return 0;
	jiffies = strtoull(j + 10, &end, 10);
	if (end == j + 10 || (*end != '\n' && *end))
		return 0;
	secs = (double)now_ns / 1e9 - 300.0;
	if (secs > -60.0 && secs < 60.0)
		return 0;
	hz = (double)(int64_t)(jiffies - (1ull << 32)) / secs;
	for (size_t i = 0; i < sizeof(offered) / sizeof(offered[0]); i++)
		if (hz > offered[i] * 0.98 && hz < offered[i] * 1.02)
			return offered[i];
	return 0;
}

/* As libbpf looks: /boot/config-RELEASE, then /proc/config.gz; "" if none. */
static const char *system_config(char *buf, size_t len)
{
	struct utsname uts;
	gzFile f;

	if (!uname(&uts)) {
		snprintf(buf, len, "/boot/config-%s", uts.release);
		f = gzopen(buf, "re");
		if (f) {
			gzclose(f);
			return buf;
		}
	}
	f = gzopen("/proc/config.gz", "re");
	if (f) {
		gzclose(f);
		return "/proc/config.gz";
	}
	return "";
}

const char *kconfig__for_libbpf(void)
{
	static char line[64];
	static const char *given;
	static bool done;
	char path[300];
	const char *sys;
	char *tl;
	unsigned int hz;

	if (done)
		return given;
	done = true;
	sys = system_config(path, sizeof(path));
	if (*sys) {
		tt_debug("kernel config: %s (read by libbpf)", sys);
		return given = NULL;
	}
	tl = tt_read_text("/proc/timer_list", TIMER_LIST_MAX);
	hz = tl ? kconfig__hz_from_timer_list(tl) : 0;
	free(tl);
	if (hz) {
		snprintf(line, sizeof(line), "CONFIG_HZ=%u\n", hz);
		tt_debug("no kernel config (%s, /proc/config.gz): CONFIG_HZ %u, from "
			"/proc/timer_list", path, hz);
	} else {
		/* every CONFIG_ extern set, or libbpf still looks for the file */
		snprintf(line, sizeof(line), "CONFIG_HZ=0\n");
		tt_info("no kernel config (%s, /proc/config.gz), and no HZ from /proc/timer_list: "
			"ages the kernel keeps in jiffies are not read", path);
	}
	return given = line;
}
