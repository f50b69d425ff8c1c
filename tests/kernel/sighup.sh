#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# -o FILE and SIGHUP, as logrotate uses them: K connections, then the file
# is moved away and tcptrail gets SIGHUP, then K more connections.  The
# moved file holds the first K and nothing later; the new FILE, which
# tcptrail made again, holds the later K and the final summary; stdout
# stays empty.  A SIGHUP that finds a link at FILE first says so, and where
# the lines go on.  A replay from a pipe reopens -o on SIGHUP too.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

k=5
OUT=$DIR/out.log
TRACE_STDOUT=$DIR/trace.stdout
trace_begin "two-phase $k" -o "$OUT"
wait_paused two-phase
p1=$(fact phase1_port)

# every flow of the first phase: k each way and the listener
# shellcheck disable=SC2317 # called through wait_until
phase1_done() {
	[ "$(grep -c "^{\"type\":\"flow\",.*\"[sd]port\":$p1," "$OUT")" = $((2 * k + 1)) ]
}
wait_until 5 phase1_done || fail "the first $k flows did not reach $OUT within 5 s"
# a reload with no rotation first: the same file, kept, and nothing said
kill -HUP "$TRACE_PID"
sleep 0.5
grep -v '^tcptrail: tracing' "$DIR/trace.err" | grep . &&
	fail "SIGHUP with $OUT not moved: $(last_line "$DIR/trace.err")"
mv "$OUT" "$DIR/out.log.1" || fail "cannot move $OUT"
# a name tcptrail must not reopen (a link planted there): said, with where
# the output goes on; a later SIGHUP, the name free again, makes the file
ln -s /dev/null "$OUT" || fail "cannot make a link at $OUT"
kill -HUP "$TRACE_PID"
said_where() {
	grep -q "^tcptrail: warning: -o $OUT: not reopened; the output goes on in the file it named" \
		"$DIR/trace.err"
}
wait_until 5 said_where || fail "SIGHUP with a link at $OUT: $(last_line "$DIR/trace.err")"
grep -q "^tcptrail: -o $OUT: is a symbolic link; refusing to follow it" "$DIR/trace.err" ||
	fail "SIGHUP with a link at $OUT: not said why: $(grep -v tracing "$DIR/trace.err")"
rm -f "$OUT"
kill -HUP "$TRACE_PID"
wait_until 5 test -e "$OUT" || fail "tcptrail did not make $OUT again within 5 s of SIGHUP"
resume
trace_end
p2=$(fact phase2_port)

expect_eq "stdout with -o" "$(count_lines < "$DIR/trace.stdout")" 0
old=$DIR/out.log.1
expect_eq "active flows to port $p1 in the moved file" \
	"$(grep '^{"type":"flow",' "$old" | grep -c "\"dport\":$p1,.*\"role\":\"active\"")" "$k"
expect_eq "flows on port $p2 in the moved file" "$(grep -c "\"[sd]port\":$p2," "$old")" 0
expect_eq "final summaries in the moved file" "$(grep -c '"final":true' "$old")" 0
expect_eq "active flows to port $p2 in the new file" "$(flows active | grep -c "\"dport\":$p2,")" "$k"
expect_eq "passive flows on port $p2 in the new file" "$(flows passive | grep -c "\"sport\":$p2,")" "$k"
expect_eq "flows on port $p1 in the new file" "$(flows | grep -c "\"[sd]port\":$p1,")" 0

# A replay from a pipe (tcptrail -w - | tcptrail -r - -o FILE) is rotated the
# same way: half a capture, the file moved and SIGHUP, then the rest.  The
# new FILE holds the final summary, the moved one none.  The qemu guest has
# only tests/kernel, not the tree's captures.
if [ "$TT_GUEST" = 1 ]; then
	note "the replay's SIGHUP left out: the qemu guest has no tests/captures"
	pass
fi
zcat tests/captures/close.ttcap > "$DIR/plain.ttcap" || fail "zcat tests/captures/close.ttcap"
n=$(wc -c < "$DIR/plain.ttcap")
head -c $((n / 2)) "$DIR/plain.ttcap" > "$DIR/half1"
tail -c +$((n / 2 + 1)) "$DIR/plain.ttcap" > "$DIR/half2"
mkfifo "$DIR/cap.fifo" || fail "mkfifo"
ROUT=$DIR/replay.log
"$TCPTRAIL" -r - --json -o "$ROUT" < "$DIR/cap.fifo" 2> "$DIR/replay.err" &
rpid=$!
exec 3> "$DIR/cap.fifo"
cat "$DIR/half1" >&3
wait_until 5 test -e "$ROUT" || fail "the replay did not make $ROUT within 5 s"
mv "$ROUT" "$DIR/replay.log.1" || fail "cannot move $ROUT"
kill -HUP "$rpid"
sleep 0.3
cat "$DIR/half2" >&3
exec 3>&-
wait "$rpid"
expect_eq "the replay's exit status" "$?" 0
expect_eq "final summaries in the new replay file" "$(grep -c '"final":true' "$ROUT" 2>/dev/null)" 1
expect_eq "final summaries in the moved replay file" "$(grep -c '"final":true' "$DIR/replay.log.1")" 0
expect_eq "flows in both replay files" "$(cat "$ROUT" "$DIR/replay.log.1" 2>/dev/null | grep -c '^{"type":"flow",')" 10
pass
