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

# -p: a listener's overflows are its owner's, and no other process's (the
# kernel side tells them whoever owns the listener; the daemon keeps those
# of PID's listeners, live and on replay alike)
owner=$(fact listener_pid)
[ -n "$owner" ] || fail "ttdrive printed no listener_pid"
"$TCPTRAIL" -r "$DIR/cap.ttcap" --json -p "$owner" >"$DIR/mine.out" 2>"$DIR/replay.err" ||
	fail "tcptrail -r -p $owner exited $?: $(last_line "$DIR/replay.err")"
expect_eq "overflow records replayed with -p $owner (the listener's)" \
	"$(grep '^{"type":"overflow",' "$DIR/mine.out")" "$live"
"$TCPTRAIL" -r "$DIR/cap.ttcap" --json -p 1 >"$DIR/other.out" 2>"$DIR/replay.err"
n=$(grep -c '^{"type":"overflow",' "$DIR/other.out")
[ "$n" = 0 ] || fail "-p 1, which owns no listener here: $n overflow records"
_acc=$(grep '^{"type":"summary",.*"final":true' "$DIR/other.out" | jget accept_overflows)
[ "$_acc" = 0 ] || fail "-p 1: the final summary counts accept_overflows=$_acc"

# a capture made with -p holds what the run kept: replayed without -p, it
# shows no overflow of a listener that is not PID's (it held them all)
trace overflow-accept -p 1 -w "$DIR/p1.ttcap"
n_live=$(records overflow | count_lines)
"$TCPTRAIL" -r "$DIR/p1.ttcap" --json >"$DIR/p1.out" 2>"$DIR/replay.err" ||
	fail "tcptrail -r of the -p 1 capture exited $?: $(last_line "$DIR/replay.err")"
expect_eq "overflow records: live -p 1 vs its capture replayed without -p" \
	"$(grep -c '^{"type":"overflow",' "$DIR/p1.out")" "$n_live"
pass
