// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel config given to libbpf where it finds none (kconfig.c): HZ
 * from a config's text, and from /proc/timer_list's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "kconfig.h"
#include "tt_test.h"

TEST(kconfig_hz_from_config_text)
{
	CHECK_EQ_INT(kconfig__hz_from_config("CONFIG_HZ_250=y\nCONFIG_HZ=250\n"), 250);
	CHECK_EQ_INT(kconfig__hz_from_config("CONFIG_HZ=1000"), 1000);
	CHECK_EQ_INT(kconfig__hz_from_config("# CONFIG_HZ=300\nCONFIG_HZ=100\n"), 100);
	/* another option that ends in the same letters, a value that is no number */
	CHECK_EQ_INT(kconfig__hz_from_config("CONFIG_NO_HZ=y\n"), 0);
	CHECK_EQ_INT(kconfig__hz_from_config("XCONFIG_HZ=250\n"), 0);
	CHECK_EQ_INT(kconfig__hz_from_config("CONFIG_HZ=25x\n"), 0);
	CHECK_EQ_INT(kconfig__hz_from_config("CONFIG_HZ=\n"), 0);
	CHECK_EQ_INT(kconfig__hz_from_config(""), 0);
}

static unsigned int hz_at(double secs, unsigned int hz)
{
	char text[512];
	unsigned long long jiffies = (1ull << 32) - 300ull * hz + (unsigned long long)(secs * hz);

	snprintf(text, sizeof(text),
		 "Timer List Version: v0.9\nHRTIMER_MAX_CLOCK_BASES: 8\nnow at %llu nsecs\n\n"
		 "cpu: 0\n  .idle_jiffies   : %llu\n  .last_jiffies   : %llu\n"
		 "jiffies: %llu\n", (unsigned long long)(secs * 1e9), jiffies - 100,
		 jiffies - 3, jiffies);
	return kconfig__hz_from_timer_list(text);
}

TEST(kconfig_hz_from_timer_list)
{
	static const unsigned int hz[] = { 100, 250, 300, 1000 };

	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		/* minutes, a day, a year after boot; and soon after boot, before the wrap */
		CHECK_EQ_INT(hz_at(420.5, hz[i]), hz[i]);
		CHECK_EQ_INT(hz_at(86400.25, hz[i]), hz[i]);
		CHECK_EQ_INT(hz_at(31536000, hz[i]), hz[i]);
		CHECK_EQ_INT(hz_at(20, hz[i]), hz[i]);
		/* within a minute of the wrap, the estimate is too coarse */
		CHECK_EQ_INT(hz_at(330, hz[i]), 0);
	}
	/* a rate no kernel has */
	CHECK_EQ_INT(hz_at(5000, 600), 0);
	CHECK_EQ_INT(kconfig__hz_from_timer_list(""), 0);
	CHECK_EQ_INT(kconfig__hz_from_timer_list("now at 5000000000000 nsecs\n"), 0);
	CHECK_EQ_INT(kconfig__hz_from_timer_list("now at x nsecs\njiffies: 4295000000\n"), 0);
	CHECK_EQ_INT(kconfig__hz_from_timer_list("now at 5000000000000 nsecs\njiffies: 12ab\n"), 0);
}

/* This host's own: the HZ /proc/timer_list gives is the config's, where both are readable. */
TEST(kconfig_hz_from_this_hosts_timer_list)
{
	static char config[1 << 20], tl[1 << 18];
	gzFile gz = gzopen("/proc/config.gz", "r");
	FILE *f;
	int n;
	size_t len;

	if (!gz)
		SKIP("no /proc/config.gz here: nothing to check /proc/timer_list against");
	n = gzread(gz, config, sizeof(config) - 1);
	gzclose(gz);
	REQUIRE(n > 0);
	config[n] = '\0';
	f = fopen("/proc/timer_list", "r");
	if (!f)
		SKIP("/proc/timer_list is not readable here (not root?)");
	len = fread(tl, 1, sizeof(tl) - 1, f);
	fclose(f);
	tl[len] = '\0';
	CHECK(kconfig__hz_from_config(config) > 0);
	CHECK_EQ_INT(kconfig__hz_from_timer_list(tl), kconfig__hz_from_config(config));
}
