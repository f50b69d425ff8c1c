#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tcptrail stopped while connections are open: with flow records, an
# active open still connected has sent nothing yet, and the exit check
# against the namespace's counters must not call that a loss ("own
# counters show ... the kernel skipped our hooks").  Here five connections
# are established, both ends, when tcptrail stops.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace_begin "open 5" -i 0 -v
wait_paused open
tt_stop
[ "$TT_STATUS" -eq 0 ] || fail "tcptrail exited $TT_STATUS after SIGINT: $(last_line "$DIR/trace.err")"
resume
drive_wait

_bad=$(grep "own counters show" "$DIR/trace.err" | sed -n 1p)
[ -z "$_bad" ] || fail "$_bad"
# the check ran, and counted what it let pass
_said=$(grep "^tcptrail: namespace $NETNS counted " "$DIR/trace.err" | sed -n 1p)
[ -n "$_said" ] || fail "no exit check of namespace $NETNS: $(last_line "$DIR/trace.err")"
echo "$_said" | grep -q "counted 5 active opens and 0 TIME-WAIT entries; we saw 0 and 0, and 10 connections are still open" ||
	fail "exit check: $_said"
pass
