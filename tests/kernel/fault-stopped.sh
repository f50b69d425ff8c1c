#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tcptrail stopped (SIGSTOP: Ctrl-Z, a debugger) while a burst of
# connections fills its ring buffer.  The loss is counted, and the warning
# at the end says why: the ring buffer was not read while tcptrail was not
# running.  It used to say only "raise --ringbuf-size", which does not help
# against a process that is stopped.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

n=2000	# back to back, while tcptrail is stopped
stress_start burst "$n" 1
tt_start --json --netns "$NETNS" --ringbuf-size 65536 -i 1
kill -STOP "$TRACE_PID"
go
stress_wait 60
sleep 1
kill -CONT "$TRACE_PID"
sleep 1
tt_stop
[ "$TT_STATUS" = 0 ] || fail "tcptrail exited $TT_STATUS: $(last_line "$DIR/trace.err")"
lost=$(final lost)
[ -n "$lost" ] || fail "no final summary"
[ "$lost" -gt 0 ] || fail "a 64 KiB ring buffer lost nothing under $n connections while tcptrail was stopped"
grep -q "^tcptrail: warning: $lost events were lost (ring buffer full), [0-9]* of them while tcptrail did not read it for up to [0-9.]* s at once (it was stopped" "$DIR/trace.err" ||
	fail "the loss's warning does not say tcptrail was not running: $(grep 'events were lost' "$DIR/trace.err")"
note "stderr: $(grep 'events were lost' "$DIR/trace.err")"
pass
