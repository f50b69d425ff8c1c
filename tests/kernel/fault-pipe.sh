#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tcptrail --json | head -1, under steady traffic: once head has its line
# and is gone, tcptrail stops promptly, quietly and with status 0, as a
# reader closing the pipe is how `| head` says it has enough.  No busy loop.
# The other outputs end as at any stop: the capture takes what the ring
# buffer held, and the metrics file is written at exit, with the same
# count of flows as the capture's replay.  Then a reader that does not read
# (a paused `| less`): the second SIGINT gives up on it, says so, and
# ends the rest as cleanly.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

mkfifo "$DIR/pipe" || fail "mkfifo failed"
head -n 1 <"$DIR/pipe" >"$DIR/first" &
HEAD_PID=$!
EXTRA_PIDS=$HEAD_PID
stress_start rate 30 1
TT_STDOUT=$DIR/pipe tt_start --json --netns "$NETNS" -i 60 --metrics-file "$DIR/m.prom" \
	-w "$DIR/p.ttcap"
go
wait_until 20 not_alive "$HEAD_PID" || fail "head got no line within 20 s"
t0=$(now_ds)
wait_until 10 not_alive "$TRACE_PID"
t1=$(now_ds)
alive "$TRACE_PID" && fail "tcptrail still running 10 s after its reader went away"
tt_reap
st=$TT_STATUS
stress_stop

note "head took: $(cut -c1-80 "$DIR/first")..."
note "tcptrail exited $((t1 - t0))00 ms after head, status $st; stderr:" \
	"$(grep -v '^tcptrail: tracing' "$DIR/trace.err" | tr '\n' '|')"
grep -q '^{"type":"flow",' "$DIR/first" || fail "head's line is not a flow: $(cat "$DIR/first")"
[ "$st" = 0 ] || fail "tcptrail exited $st when its reader went away: $(last_line "$DIR/trace.err")"
# 2 s; 5 s in the qemu guest, where TCG makes the exit itself (detaching
# every program) take 2-3 s, as in fault-disk
lim=20
[ "$TT_GUEST" = 1 ] && lim=50
[ $((t1 - t0)) -le "$lim" ] || fail "tcptrail took $((t1 - t0))00 ms to notice its reader had gone"
_bad=$(grep -v '^tcptrail: tracing' "$DIR/trace.err" | sed -n 1p)
[ -z "$_bad" ] || fail "tcptrail said more than it had to: $_bad"

# check_ends WHAT METRICS CAPTURE: the metrics file was written at exit, and
# counts as many flows as the capture's replay (exit 0: it ended cleanly)
check_ends() {
	[ -f "$2" ] || fail "$1: no metrics file at exit"
	_m=$(sed -n 's/^tcptrail_flows_opened_total \([0-9]*\)$/\1/p' "$2")
	[ "${_m:-0}" -gt 0 ] || fail "$1: the metrics file counts no flow: $(grep opened "$2")"
	# a summary's flows_opened counts the sockets found open too
	_m=$((_m + $(sed -n 's/^tcptrail_flows_found_total \([0-9]*\)$/\1/p' "$2")))
	"$TCPTRAIL" -r "$3" --json --quiet-flows >"$DIR/replay.out" 2>"$DIR/replay.err" ||
		fail "$1: the capture does not replay cleanly: $(last_line "$DIR/replay.err")"
	grep -q '^{"type":"summary",.*"final":true' "$DIR/replay.out" ||
		fail "$1: the capture's replay has no final summary"
	_r=$(grep '^{"type":"summary",' "$DIR/replay.out" | jget flows_opened |
		awk '{ s += $1 } END { print s + 0 }')
	[ "$_r" = "$_m" ] ||
		fail "$1: the capture's replay opened '$_r' flows, the metrics file $_m"
	note "$1: $_m flows in the metrics file and in the capture"
}
check_ends "reader gone" "$DIR/m.prom" "$DIR/p.ttcap"

# A reader that never reads: tcptrail blocks on the full pipe; SIGINT, then
# SIGINT again, and it exits 1 within 10 s, saying it gave the output up.
mkfifo "$DIR/pipe2" || fail "mkfifo failed"
sleep 60 <"$DIR/pipe2" &
SLEEP_PID=$!
EXTRA_PIDS="$EXTRA_PIDS $SLEEP_PID"
stress_start rate 30 1
TT_STDOUT=$DIR/pipe2 tt_start --json -e --netns "$NETNS" -i 60 --metrics-file "$DIR/m2.prom" \
	-w "$DIR/p2.ttcap"
go
blocked() {
	grep -q pipe "/proc/$TRACE_PID/wchan" 2>/dev/null || not_alive "$TRACE_PID"
}
wait_until 20 blocked || fail "tcptrail never waited on its full pipe (wchan $(cat "/proc/$TRACE_PID/wchan"))"
alive "$TRACE_PID" || fail "tcptrail exited while its reader held the pipe: $(last_line "$DIR/trace.err")"
kill -INT "$TRACE_PID"
sleep 0.5
kill -INT "$TRACE_PID"
wait_until 10 not_alive "$TRACE_PID" || fail "tcptrail still running 10 s after a second SIGINT"
tt_reap
stress_stop
kill -KILL "$SLEEP_PID" 2>/dev/null
[ "$TT_STATUS" = 1 ] || fail "a second SIGINT with the reader not reading: exit $TT_STATUS, want 1"
grep -q '^tcptrail: write output: given up at the second signal' "$DIR/trace.err" ||
	fail "no line saying the output was given up: $(last_line "$DIR/trace.err")"
check_ends "reader not reading" "$DIR/m2.prom" "$DIR/p2.ttcap"

# A reader that stops reading for 5 s, then reads again: while tcptrail
# waits on the full pipe it reads no ring buffer either, and says so at
# the next summary, rather than only blaming --ringbuf-size for the loss.
mkfifo "$DIR/pipe3" || fail "mkfifo failed"
(sleep 5; cat >/dev/null) <"$DIR/pipe3" &
SLOW_PID=$!
EXTRA_PIDS="$EXTRA_PIDS $SLOW_PID"
stress_start rate 12 1
TT_STDOUT=$DIR/pipe3 tt_start --json -e --netns "$NETNS" -i 1 -d 10
go
wait_until 30 not_alive "$TRACE_PID" || fail "tcptrail -d 10 still running after 30 s"
tt_reap
stress_stop
wait "$SLOW_PID" 2>/dev/null
[ "$TT_STATUS" = 0 ] || fail "a reader that paused: exit $TT_STATUS, want 0: $(last_line "$DIR/trace.err")"
grep -q '^tcptrail: warning: stdout took no output for [0-9.]* s of this interval' "$DIR/trace.err" ||
	fail "no warning that stdout held up tracing: $(grep warning "$DIR/trace.err" | sed -n 1p)"
note "$(grep 'stdout took no output' "$DIR/trace.err" | sed -n 1p)"

# No stdout at all (`>&-`): said in one line, 2, before anything is
# attached; it was "write output: Invalid argument" and 1, after attaching,
# the output having gone into a BPF object that took fd 1.  With -o, fine.
# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of words
"$TCPTRAIL" $TCPTRAIL_ARGS -P 9 -d 1 >&- 2>"$DIR/closed.err"
_st=$?
[ "$_st" = 2 ] && [ "$(wc -l <"$DIR/closed.err")" -eq 1 ] &&
	grep -q '^tcptrail: stdout is closed' "$DIR/closed.err" ||
	fail "stdout closed: exit $_st, want 2 and one line: $(cat "$DIR/closed.err")"
# --help and --version too: they exited 0, their text lost
for _what in --help --version; do
	"$TCPTRAIL" $_what >&- 2>"$DIR/closed.err"
	_st=$?
	[ "$_st" = 2 ] && [ "$(wc -l <"$DIR/closed.err")" -eq 1 ] &&
		grep -q '^tcptrail: stdout is closed' "$DIR/closed.err" ||
		fail "$_what, stdout closed: exit $_st, want 2 and one line: $(cat "$DIR/closed.err")"
done
# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of words
"$TCPTRAIL" $TCPTRAIL_ARGS -P 9 -d 1 -o "$DIR/closed.out" >&- 2>"$DIR/closed.err"
_st=$?
[ "$_st" = 0 ] && grep -q ' final_summary ' "$DIR/closed.out" ||
	fail "stdout closed, -o FILE: exit $_st: $(last_line "$DIR/closed.err")"

# --help into a pipe whose reader has gone: quiet, 0 (SIGPIPE killed it, 141)
( sleep 0.3; "$TCPTRAIL" --help 2>"$DIR/help.err"; echo $? >"$DIR/help.st" ) | true
[ "$(cat "$DIR/help.st")" = 0 ] && [ ! -s "$DIR/help.err" ] ||
	fail "--help into a closed pipe: exit $(cat "$DIR/help.st"), want 0 and nothing said:" \
		"$(cat "$DIR/help.err")"

# What prints and exits (--version, --probe) to a full disk: said, and 1;
# it was 0 and nothing, the lines lost
for _what in --version --probe; do
	# shellcheck disable=SC2086 # TCPTRAIL_ARGS is a list of words
	"$TCPTRAIL" $TCPTRAIL_ARGS $_what >/dev/full 2>"$DIR/full.err"
	_st=$?
	[ "$_st" = 1 ] && [ "$(wc -l <"$DIR/full.err")" -eq 1 ] &&
		grep -q '^tcptrail: write output: No space left on device' "$DIR/full.err" ||
		fail "$_what >/dev/full: exit $_st, want 1 and one line: $(cat "$DIR/full.err")"
done
# --snapshot and --top said it twice (a warning about a namespace it may
# not open may come first, on a host whose pid 1 is not root's)
for _what in --snapshot "--top -d 1"; do
	# shellcheck disable=SC2086 # the options are a list of words
	"$TCPTRAIL" $_what >/dev/full 2>"$DIR/full.err"
	_st=$?
	[ "$_st" = 1 ] && [ "$(grep -c 'write output' "$DIR/full.err")" -eq 1 ] &&
		grep -q '^tcptrail: write output: No space left on device' "$DIR/full.err" ||
		fail "$_what >/dev/full: exit $_st, want 1 and the error once: $(cat "$DIR/full.err")"
done
pass
