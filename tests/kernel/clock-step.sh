#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The time is set while tcptrail runs (NTP stepping the clock after boot, or
# a suspend, which CLOCK_MONOTONIC, the kernel's record clock, does not
# count): the next summary says so, and every time printed after it is the
# wall clock's again.  K connections, the clock set an hour ahead, K more:
# the first K are dated now, the others an hour from now.  An LD_PRELOAD
# shim (tests/tools/clockstep.c) moves tcptrail's CLOCK_REALTIME alone; the
# host's clock is not touched.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

STEP=$DIR/step
preload_tcptrail clockstep "TT_CLOCK_STEP_FILE=$STEP"

# epoch seconds of a record's "time" (2026-12-04T12:00:01.234567Z)
secs_of() {
	date -u -d "$(printf '%s\n' "$1" | jget time | sed 's/\.[0-9]*Z$/Z/')" +%s
}

# expect_near WHAT SECS WANT: within 60 s
expect_near() {
	[ "$2" -ge $(($3 - 60)) ] && [ "$2" -le $(($3 + 60)) ] ||
		fail "$1: $(date -u -d "@$2" +%FT%TZ), want about $(date -u -d "@$3" +%FT%TZ)"
}

k=5
trace_begin "two-phase $k" -i 1
wait_paused two-phase
p1=$(fact phase1_port)
echo 3600 >"$STEP"
said() {
	grep -q '^tcptrail: warning: the wall clock moved +3600\.[0-9]* s against the kernel' \
		"$DIR/trace.err"
}
wait_until 5 said || fail "the clock set an hour ahead: not said within 5 s: $(last_line "$DIR/trace.err")"
resume
trace_end
p2=$(fact phase2_port)
now=$(date -u +%s)

f1=$(flows active | grep "\"dport\":$p1," | sed -n 1p)
f2=$(flows active | grep "\"dport\":$p2," | sed -n 1p)
[ -n "$f1" ] && [ -n "$f2" ] || fail "no active flow to port $p1 or $p2"
expect_near "a flow of the first $k" "$(secs_of "$f1")" "$now"
expect_near "a flow of the $k after the clock was set" "$(secs_of "$f2")" $((now + 3600))
last=$(records summary | sed -n '$p')
expect_near "the final summary" "$(secs_of "$last")" $((now + 3600))
echo "clock-step: said $(grep -o 'moved [^ ]* s' "$DIR/trace.err"); flows dated" \
	"$(printf '%s\n' "$f1" | jget time) then $(printf '%s\n' "$f2" | jget time)"
pass
