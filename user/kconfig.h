/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel config the BPF objects are opened with (kconfig.c).
 *
 * The programs read CONFIG_HZ, a __kconfig extern, to turn jiffies into
 * ms.  libbpf takes any CONFIG_ extern from /boot/config-RELEASE or
 * /proc/config.gz, and where neither opens it fails the whole load, weak
 * extern or not: a container without /boot, a kernel without
 * CONFIG_IKCONFIG_PROC.  There, the objects are given a config of one
 * line instead, with the HZ found from /proc/timer_list, or 0.
 */
#ifndef TT_KCONFIG_H
#define TT_KCONFIG_H

/*
 * NULL where libbpf finds the system's config itself; else the text to
 * give it (bpf_object_open_opts.kconfig): "CONFIG_HZ=N", or "CONFIG_HZ=0"
 * where no HZ is found, so that what needs it is left out.  Said once: at
 * -v, or without it when no HZ is found.
 */
const char *kconfig__for_libbpf(void);

/* CONFIG_HZ in a kernel config's text, or 0. */
unsigned int kconfig__hz_from_config(const char *text);

/*
 * The HZ /proc/timer_list's text implies, or 0: its "now at NS nsecs"
 * (CLOCK_MONOTONIC) against its first "jiffies: N".  The kernel starts
 * jiffies at INITIAL_JIFFIES, 2^32 - 300 * HZ, so that they wrap 5 minutes
 * after boot: N - 2^32 = HZ * (seconds - 300).  0 within a minute of that
 * wrap, or unless the result is within 2% of an HZ Linux offers.
 */
unsigned int kconfig__hz_from_timer_list(const char *text);

#endif /* TT_KCONFIG_H */
