#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A capture cut short by SIGKILL while a CLOSE-WAIT leak sits idle.  The
# kernel sends nothing after the leak's CLOSE_WAIT entries, but -w flushes a
# COUNTERS frame every second even then (a heartbeat with the capture's
# clock), so the replay of the killed file runs to within a second or so of
# the kill: it reports the leak, aged as it was then, and its final summary
# is dated then, not at the leak's last record.  Before the kill, the same
# replay of the file being written succeeds, and a second -w is refused, as
# is a second --metrics-file on the file the run wrote at its start (-i 0:
# no summary yet).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

IDLE=6
trace_begin close-wait -w "$DIR/cap.ttcap" -i 0 --close-wait-age 1 --metrics-file "$DIR/m.prom"
wait_paused close-wait
sleep "$IDLE"

# Still running: its capture is one in progress, not a cut one.  A replay
# reads what is written out, says so and succeeds; a second -w on the file
# is refused and leaves it whole.
size=$(stat -c %s "$DIR/cap.ttcap")
"$TCPTRAIL" -w "$DIR/cap.ttcap" -d 1 >"$DIR/second.out" 2>"$DIR/second.err"
st=$?
[ "$st" = 2 ] || fail "a second tcptrail -w on the file being written exited $st, want 2"
grep -q 'a running tcptrail is writing it' "$DIR/second.err" ||
	fail "the second -w does not say why: $(last_line "$DIR/second.err")"
grep -q '^tcptrail_flows_opened_total ' "$DIR/m.prom" 2>/dev/null ||
	fail "no metrics file written at the start of a run with -i 0"
"$TCPTRAIL" --metrics-file "$DIR/m.prom" -d 1 >"$DIR/second.out" 2>"$DIR/second.err"
st=$?
[ "$st" = 2 ] && grep -q 'a running tcptrail is writing it' "$DIR/second.err" ||
	fail "a second --metrics-file on the running one's file: exit $st, want 2:" \
		"$(last_line "$DIR/second.err")"
[ "$(stat -c %s "$DIR/cap.ttcap")" -ge "$size" ] ||
	fail "the second -w truncated the capture being written"
"$TCPTRAIL" -r "$DIR/cap.ttcap" --json -i 0 --close-wait-age 1 >"$DIR/live.out" \
	2>"$DIR/live.err"
st=$?
[ "$st" = 0 ] || fail "tcptrail -r of the capture being written exited $st, want 0:" \
	"$(last_line "$DIR/live.err")"
grep -q 'a running tcptrail is still writing it; read up to offset' "$DIR/live.err" ||
	fail "no 'still writing' line: $(last_line "$DIR/live.err")"
cw=$(grep '^{"type":"close_wait",' "$DIR/live.out" | sed -n '$p')
[ -n "$cw" ] || fail "the replay of the capture being written reports no CLOSE-WAIT leak"

kill -KILL "$TRACE_PID"
wait "$TRACE_PID" 2>/dev/null
TRACE_PID=
resume
drive_wait

"$TCPTRAIL" -r "$DIR/cap.ttcap" --json -i 0 --close-wait-age 1 >"$DIR/replay.out" \
	2>"$DIR/replay.err"
st=$?
[ "$st" = 2 ] || fail "tcptrail -r of a killed capture exited $st, want 2 (truncated):" \
	"$(last_line "$DIR/replay.err")"
grep -q 'truncated at offset [0-9]*: no end record' "$DIR/replay.err" ||
	fail "no 'truncated' line: $(last_line "$DIR/replay.err")"

# the leak's last record: the latest transition time among the flows
last_ns=$(grep '^{"type":"transition",' "$DIR/replay.out" | jget t_ns | sort -n | sed -n '$p')
[ -n "$last_ns" ] || last_ns=$(grep '^{"type":"flow",' "$DIR/replay.out" | jget t_ns | sort -n | sed -n '$p')
final=$(grep '^{"type":"summary",.*"final":true' "$DIR/replay.out")
[ -n "$final" ] || fail "no final summary in the replay"
final_ns=$(printf '%s\n' "$final" | jget t_ns)
cw=$(grep '^{"type":"close_wait",' "$DIR/replay.out" | sed -n '$p')
[ -n "$cw" ] || fail "the replay reports no CLOSE-WAIT leak"
expect_eq "leaked sockets in the replay's report" "$(printf '%s\n' "$cw" | jget count)" \
	"$(fact leaked)"
age=$(printf '%s\n' "$cw" | jget oldest_age_ns)
# the kill came IDLE s after the pause; the last heartbeat at most 1 s before it
min_ns=$(( (IDLE - 2) * 1000000000 ))
[ -n "$last_ns" ] || fail "no record time in the replay"
[ $((final_ns - last_ns)) -ge "$min_ns" ] ||
	fail "final summary at $final_ns ns, $(( (final_ns - last_ns) / 1000000 )) ms after" \
		"the last record: the capture's clock stops short of the kill ($IDLE s idle)"
[ "$age" -ge "$min_ns" ] ||
	fail "the leak's oldest socket is $((age / 1000000)) ms old in the replay, want" \
		"at least $((min_ns / 1000000)) ms ($IDLE s idle before the kill)"
echo "capture-kill: replay runs $(( (final_ns - last_ns) / 1000000 )) ms past the last" \
	"record, leak of $(printf '%s\n' "$cw" | jget count) aged $((age / 1000000)) ms"
pass
