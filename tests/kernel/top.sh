#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --top -i 1 into a pipe (no terminal): plain frames, no escape codes, a new
# one every second, each showing ttdrive's CLOSE-WAIT leak grouped under its
# owner; SIGINT ends it at once with status 0.  Then --json: one snapshot
# object per frame.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

drive_begin close-wait
drive_paused close-wait
k=$(fact leaked)
server=$(fact server_pid)

frames() {
	grep -c '^STATE ' "$OUT" || true
}
two_frames() {
	[ "$(frames)" -ge 2 ] || not_alive "$TRACE_PID"
}

# run_top ARGS...: tcptrail --top ARGS through a pipe into $OUT until two
# frames are out, then SIGINT; TT_STATUS is its status, SECS how long it ran.
run_top() {
	rm -f "$DIR/pipe"
	mkfifo "$DIR/pipe" || fail "mkfifo"
	cat "$DIR/pipe" >"$OUT" &
	_cat=$!
	_t0=$(date +%s)
	"$TCPTRAIL" --top -i 1 -N "$NETNS" "$@" >"$DIR/pipe" 2>"$DIR/top.err" &
	TRACE_PID=$!
	if [ "$1" = --json ]; then
		wait_until 10 _two_json || true
	else
		wait_until 10 two_frames || true
	fi
	alive "$TRACE_PID" || fail "--top exited by itself: $(last_line "$DIR/top.err")"
	tt_stop
	wait "$_cat"
	SECS=$(($(date +%s) - _t0))
}
_two_json() {
	[ "$(records snapshot | count_lines)" -ge 2 ] || not_alive "$TRACE_PID"
}

run_top --state close-wait
expect_eq "--top exit status after SIGINT" "$TT_STATUS" 0
n=$(frames)
[ "$n" -ge 2 ] || fail "want 2 frames or more, got $n: $(last_line "$DIR/top.err")"
[ "$SECS" -le 8 ] || fail "$n frames took $SECS s at -i 1"
[ "$(tr -d '\n' <"$OUT" | tr -dc '\033' | wc -c)" -eq 0 ] ||
	fail "escape codes in --top output to a pipe"
expect_eq "frames with the leak's group line" \
	"$(awk -v k="$k" -v pid="$server" '$1 == "CLOSE_WAIT" && $2 == k && $4 == pid && $5 == "ttleak"' "$OUT" | count_lines)" "$n"
expect_eq "frame headers" "$(grep -c "  $k TCP sockets in 1 network namespace (sock_diag)" "$OUT")" "$n"
# --top lists groups, never sockets
expect_eq "socket lines in --top" "$(grep -c '^    ' "$OUT")" 0

run_top --json
expect_eq "--top --json exit status after SIGINT" "$TT_STATUS" 0
nj=$(records snapshot | count_lines)
[ "$nj" -ge 2 ] || fail "--top --json: want 2 snapshot records or more, got $nj: $(last_line "$DIR/top.err")"
[ "$SECS" -le 8 ] || fail "--top --json: $nj snapshots took $SECS s at -i 1"
_bad=$(grep -v '^{"type":"snapshot",' "$OUT" | sed -n 1p)
[ -z "$_bad" ] || fail "--top --json line is not a snapshot record: $_bad"
_last=$(records snapshot | sed -n '$p')
_g=$(printf '%s\n' "$_last" | json_array groups | grep '"state":"CLOSE_WAIT"')
expect_flow "last frame's CLOSE_WAIT group" "$_g" count="$k" pid="$server" netns="$NETNS"

resume
drive_wait
echo "top: $n frames, then $nj snapshot records, each with $k CLOSE-WAIT sockets of ttleak ($server)"
pass
