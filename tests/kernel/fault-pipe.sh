#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tcptrail --json | head -1, under steady traffic: once head has its line
# and is gone, tcptrail stops promptly, quietly and with status 0, as a
# reader closing the pipe is how `| head` says it has enough.  No busy loop.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

mkfifo "$DIR/pipe" || fail "mkfifo failed"
head -n 1 <"$DIR/pipe" >"$DIR/first" &
HEAD_PID=$!
EXTRA_PIDS=$HEAD_PID
stress_start rate 30 1
TT_STDOUT=$DIR/pipe tt_start --json --netns "$NETNS"
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
