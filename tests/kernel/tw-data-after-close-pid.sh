#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tw-data-after-close under `-p` the client's process: the reset each
# orphan sends as the peer's data aborts it comes just after its > CLOSE,
# when the socket is no longer in the process's set.  It is what tells the
# abort from a TIME-WAIT entry.  Before, -p left it out and reported every
# one of them as a TIME-WAIT entry (20 of 20, against the kernel's 0).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

TRACE_PID_FACT=pid
check_tw_entries data-after-close
n=$(flows active | grep -c '"end":"abort"')
expect_eq "client flows that end in an abort, under -p $(fact pid)" "$n" "$(fact connections)"
bad=$(flows active | grep '"end":"abort"' | grep -v '"resets_sent":1,' | sed -n 1p)
[ -z "$bad" ] || fail "an aborted flow with no reset sent: $bad"

# a capture of the whole namespace, replayed with -p, tells them the same way
TRACE_PID_FACT=
trace tw-data-after-close -w "$DIR/all.ttcap"
pid=$(fact pid)
"$TCPTRAIL" -r "$DIR/all.ttcap" --json -p "$pid" >"$DIR/replay.json" 2>"$DIR/replay.err" ||
	fail "tcptrail -r -p $pid exited $?: $(last_line "$DIR/replay.err")"
rp=$(grep '"type":"flow"' "$DIR/replay.json" | grep '"role":"active"')
expect_eq "replay -p $pid: client flows" "$(printf '%s\n' "$rp" | grep -c .)" "$(fact connections)"
expect_eq "replay -p $pid: TIME-WAIT entries" "$(printf '%s\n' "$rp" | grep -c '"end":"time_wait"')" 0
expect_eq "replay -p $pid: aborts with a reset sent" \
	"$(printf '%s\n' "$rp" | grep '"end":"abort"' | grep -c '"resets_sent":1,')" "$(fact connections)"
pass
