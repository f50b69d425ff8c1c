#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Accept-queue overflows, exact: a backlog-1 listener that never accepts, hit
# by 10 connects for 1.1 s (each dropped SYN comes once more), with
# net.ipv4.tcp_syncookies 1 and then 0, over IPv4 and IPv6.  The "accept"
# overflow records equal the kernel's ListenOverflows, case by case, and the
# summaries name the listener.  The run is captured (-w), and a replay of
# the capture prints the same overflow records, byte for byte.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace overflow-accept -w "$DIR/cap.ttcap"
check_overflow_cases accept
"$TCPTRAIL" -r "$DIR/cap.ttcap" --json >"$DIR/replay.out" 2>"$DIR/replay.err" ||
	fail "tcptrail -r exited $?: $(last_line "$DIR/replay.err")"
live=$(grep '^{"type":"overflow",' "$OUT")
[ -n "$live" ] || fail "no overflow records live"
expect_eq "overflow records, replayed" "$(grep '^{"type":"overflow",' "$DIR/replay.out")" "$live"
echo "overflow-accept: $(printf '%s\n' "$live" | count_lines) overflow records, replayed identical"
pass
