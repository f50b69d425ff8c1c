#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Rotations mid-run that cannot use their next name (one there at the start
# is refused then, exit 2: the unit tests).
#
# A directory made at FILE.1 after tracing started (as a local user could
# plant one in a shared directory): the capture steps past it, says so, and
# goes on in FILE.2; the run ends on SIGINT with status 0.  The replay of the
# set says it stepped past FILE.1 and goes on in FILE.2 (status 0: nothing
# is missing), and has every transition of the live output (-e: one line a
# record, in the order read).
#
# A directory tcptrail may no longer write (its mode changed after the
# start; tcptrail kept no CAP_DAC_OVERRIDE): the rotation fails, with one
# line naming the file, and exit status 1; nothing it read is missing from
# its live output, and the record whose write began the rotation is in the
# capture's first file.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

# transitions FILE: its transition records, without "time" (each run reads
# the wall clock offset separately)
transitions() {
	grep '^{"type":"transition",' "$1" | sed 's/"time":"[^"]*",//'
}

stress_start rate 30 1
tt_start --json -e --netns "$NETNS" -w "$DIR/c.ttcap" --rotate-size 64k
mkdir "$DIR/c.ttcap.1" || fail "cannot make a directory at $DIR/c.ttcap.1"
go
# shellcheck disable=SC2317 # called through wait_until
past_it() {
	[ -s "$DIR/c.ttcap.3" ] || not_alive "$TRACE_PID"
}
wait_until 30 past_it || fail "no $DIR/c.ttcap.3 within 30 s of traffic"
alive "$TRACE_PID" || fail "tcptrail stopped at a name in the way: $(last_line "$DIR/trace.err")"
tt_stop
stress_stop
[ "$TT_STATUS" = 0 ] || fail "tcptrail exited $TT_STATUS after stepping past c.ttcap.1, want 0"
grep -q "^tcptrail: warning: capture: $DIR/c.ttcap.1 is in the way (said above); the set goes on in $DIR/c.ttcap.2" \
	"$DIR/trace.err" || fail "no warning that c.ttcap.1 was stepped past: $(grep -v tracing "$DIR/trace.err")"
[ -d "$DIR/c.ttcap.1" ] || fail "the directory at c.ttcap.1 is gone"
"$TCPTRAIL" -r "$DIR/c.ttcap" --json -e >"$DIR/replay.out" 2>"$DIR/replay.err"
st=$?
[ "$st" = 0 ] || fail "the replay of a set that stepped past c.ttcap.1 exited $st, want 0:" \
	"$(grep -v '^tcptrail: replaying' "$DIR/replay.err")"
grep -q "c.ttcap.1 was stepped past by the capture (something else held the name): the replay goes on in $DIR/c.ttcap.2\$" \
	"$DIR/replay.err" ||
	fail "the replay does not say it stepped past c.ttcap.1:" \
		"$(grep -v '^tcptrail: replaying' "$DIR/replay.err")"
transitions "$OUT" >"$DIR/live.tr"
transitions "$DIR/replay.out" >"$DIR/replay.tr"
nl=$(grep -c . "$DIR/live.tr")
[ "$nl" -gt 0 ] || fail "the live output has no transition"
cmp -s "$DIR/live.tr" "$DIR/replay.tr" ||
	fail "the set's replay is not the live output ($nl transitions, replay" \
		"$(grep -c . "$DIR/replay.tr")): $(diff "$DIR/live.tr" "$DIR/replay.tr" | sed -n 2p)"
note "stepped past c.ttcap.1: the set replays all $nl transitions of the live output"

# Its directory no longer writable: the rotation fails
mkdir "$DIR/ro" || fail "cannot make $DIR/ro"
: >"$OUT"
stress_start rate 30 1
tt_start --json -e --netns "$NETNS" -w "$DIR/ro/c.ttcap" --rotate-size 4k
chmod 0555 "$DIR/ro" || fail "cannot chmod $DIR/ro"
go
wait_until 30 not_alive "$TRACE_PID" ||
	fail "tcptrail still running 30 s into traffic with its capture directory read-only"
tt_reap
stress_stop
[ "$TT_STATUS" = 1 ] || fail "tcptrail exited $TT_STATUS at a failed rotation (1 expected)"
err=$(grep -v -e '^tcptrail: tracing' -e '^tcptrail: seeded' "$DIR/trace.err")
note "stderr: $(printf '%s\n' "$err" | tr '\n' '|')"
printf '%s\n' "$err" | grep -q "ro/c.ttcap.1: Permission denied" ||
	fail "no line names the next file and its fault: $(last_line "$DIR/trace.err")"
[ "$(printf '%s\n' "$err" | grep -c '^tcptrail: ')" = 1 ] ||
	fail "want one line for the failed rotation, got: $(printf '%s\n' "$err" | tr '\n' '|')"

# The first file is whole (END, reason 2); its transitions are the live
# output's first ones, every one of them.
"$TCPTRAIL" -r "$DIR/ro/c.ttcap" --json -e >"$DIR/replay.out" 2>"$DIR/replay.err"
note "replay: status $?, $(tr '\n' '|' <"$DIR/replay.err")"
transitions "$OUT" >"$DIR/live.tr"
transitions "$DIR/replay.out" >"$DIR/replay.tr"
nl=$(grep -c . "$DIR/live.tr")
nr=$(grep -c . "$DIR/replay.tr")
[ "$nr" -gt 0 ] || fail "the capture's first file replays no transition"
[ "$nl" -ge "$nr" ] ||
	fail "the live output has $nl transitions, the capture $nr: $(tail -n 1 "$DIR/replay.tr")"
replay_starts_live "$DIR/live.tr" "$DIR/replay.tr"
note "the capture's $nr transitions are the live output's first $SAME_N (of $nl), then" \
	"$SAME_TW TIME-WAIT the replay settled at its end, which the live run printed later"
chmod 0755 "$DIR/ro"
pass
