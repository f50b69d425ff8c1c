#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A rotation that fails mid-run: a directory made at FILE.1 after tracing
# started (one there at the start is refused then, exit 2: the unit tests).
# tcptrail stops at the first rotation, with one line naming the file and
# exit status 1, and nothing it read is missing from its live output: the
# record whose write began the rotation is in the capture's first file, and
# was in the live output only once the failure no longer cut it off (-e:
# one line a record, in the order read).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

stress_start rate 30 1
tt_start --json -e --netns "$NETNS" -w "$DIR/c.ttcap" --rotate-size 4k
mkdir "$DIR/c.ttcap.1" || fail "cannot make a directory at $DIR/c.ttcap.1"
go
wait_until 30 not_alive "$TRACE_PID" ||
	fail "tcptrail still running 30 s into traffic with its next capture file a directory"
tt_reap
stress_stop
[ "$TT_STATUS" = 1 ] || fail "tcptrail exited $TT_STATUS at a failed rotation (1 expected)"
err=$(grep -v -e '^tcptrail: tracing' -e '^tcptrail: seeded' "$DIR/trace.err")
note "stderr: $(printf '%s\n' "$err" | tr '\n' '|')"
printf '%s\n' "$err" | grep -q "c.ttcap.1: Is a directory" ||
	fail "no line names the next file and its fault: $(last_line "$DIR/trace.err")"
[ "$(printf '%s\n' "$err" | grep -c '^tcptrail: ')" = 1 ] ||
	fail "want one line for the failed rotation, got: $(printf '%s\n' "$err" | tr '\n' '|')"

# The first file is whole (END, reason 2); its transitions are the live
# output's first ones, every one of them.
"$TCPTRAIL" -r "$DIR/c.ttcap" --json -e >"$DIR/replay.out" 2>"$DIR/replay.err"
note "replay: status $?, $(tr '\n' '|' <"$DIR/replay.err")"
for side in live replay; do
	f=$OUT
	[ "$side" = live ] || f=$DIR/replay.out
	grep '^{"type":"transition",' "$f" | sed 's/"time":"[^"]*",//' >"$DIR/$side.tr"
done
nl=$(grep -c . "$DIR/live.tr")
nr=$(grep -c . "$DIR/replay.tr")
[ "$nr" -gt 0 ] || fail "the capture's first file replays no transition"
[ "$nl" -ge "$nr" ] ||
	fail "the live output has $nl transitions, the capture $nr: $(tail -n 1 "$DIR/replay.tr")"
head -n "$nr" "$DIR/live.tr" | cmp -s - "$DIR/replay.tr" ||
	fail "the live output's first $nr transitions are not the capture's:" \
		"$(head -n "$nr" "$DIR/live.tr" | diff - "$DIR/replay.tr" | sed -n 2p)"
note "the capture's $nr transitions are the live output's first $nr (of $nl)"
pass
