#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Accept-queue overflows, exact: a backlog-1 listener that never accepts, hit
# by 10 connects for 1.1 s (each dropped SYN comes once more), with
# net.ipv4.tcp_syncookies 1 and then 0, over IPv4 and IPv6.  The "accept"
# overflow records equal the kernel's ListenOverflows, case by case, and the
# summaries name the listener.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace overflow-accept
check_overflow_cases accept
pass
