#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The capture file removed while tcptrail writes it (rm, a clean-up job):
# what it held is gone, but what comes after must not be.  tcptrail used to
# go on writing to the file no name reached, and lose all of it at exit,
# without a word.  Now it says so within a flush (a second), and goes on in
# a new file of that name, which replays alone: the flows of the second
# phase, all of them.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

k=5
CAP=$DIR/removed.ttcap
trace_begin "two-phase $k" -i 1 -w "$CAP"
wait_paused two-phase
[ -s "$CAP" ] || fail "no capture at $CAP"
rm "$CAP"
# shellcheck disable=SC2317 # called through wait_until
made_again() { [ -s "$CAP" ]; }
wait_until 5 made_again || fail "the removed capture was not made again within 5 s: $(last_line "$DIR/trace.err")"
grep -q "^tcptrail: warning: capture: $CAP was removed while tcptrail wrote it" "$DIR/trace.err" ||
	fail "the removal was not said: $(last_line "$DIR/trace.err")"
resume
trace_end
p2=$(fact phase2_port)
"$TCPTRAIL" -r "$CAP" --json >"$DIR/replay.out" 2>"$DIR/replay.err" ||
	fail "replay of the new capture failed: $(last_line "$DIR/replay.err")"
got=$(grep '^{"type":"flow",' "$DIR/replay.out" | grep '"role":"active"' | grep -c "\"dport\":$p2,")
expect_eq "the second phase's client flows in the new capture" "$got" "$k"
echo "capture-removed: said, and a new capture replays the $k connections after it"
pass
