#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Ends lost to a ring buffer far too small, with -e: a record a transition,
# so every connection has a flow from its birth, and one whose last records
# were lost stays in FIN_WAIT1, ESTABLISHED, LAST_ACK...  Once a summary
# interval (-i 1) goes by with no loss, a check asks the kernel about every
# flow, in every state, and ends "gone" each one whose socket it no longer
# has.  --close-wait-age is an
# hour, so the CLOSE-WAIT check of the leaks ends none of them: once the
# load is over the table is empty (flows_active 0) within seconds all the
# same.  (Before, such flows stayed until tcptrail exited.)
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

n=3000	# back to back, far faster than 32 records drain

stress_start burst "$n" 5
tt_start --json -e --netns "$NETNS" --ringbuf-size 4096 -i 1 --close-wait-age 3600
go
stress_wait 60
last_summary() {
	grep '^{"type":"summary",' "$OUT" | tail -n 1 | jget "$1"
}
# shellcheck disable=SC2317 # called through wait_until
table_empty() {
	[ "$(last_summary flows_active)" = 0 ]
}
wait_until 10 table_empty ||
	fail "10 s after the load, the last summary still has $(last_summary flows_active)" \
		"flows active ($(last_summary lost) records lost, $(last_summary gone) flows gone)"
tt_stop
[ "$TT_STATUS" = 0 ] || fail "tcptrail exited $TT_STATUS: $(last_line "$DIR/trace.err")"

lost=$(final lost)
gone=$(final gone)
note "a burst of $n connections: $lost records lost, $gone flows ended gone," \
	"$(flows | grep -c .) flows in all"
[ "$lost" -gt 0 ] || fail "a 4 KiB ring buffer lost nothing under $n back-to-back connections"
[ "$gone" -gt 0 ] || fail "$lost records lost, and no flow ended gone: none lost its end?"
[ "$(flows | grep -c '"end":"gone"')" = "$gone" ] ||
	fail "the final summary counts $gone flows gone, the output ends" \
		"$(flows | grep -c '"end":"gone"')"
# their last states (a CLOSE_WAIT one among them was seconds old, no leak
# candidate: the check of every flow ended it too)
flows | grep '"end":"gone"' | sed 's/.*"state":"\([A-Z_0-9]*\)","t_ns":[0-9]*}\],"end".*/\1/' \
	>"$DIR/gone.last"
note "gone flows by last state: $(sort "$DIR/gone.last" | uniq -c | tr -s ' \n' ' ')"
! grep -qv '^[A-Z][A-Z_0-9]*$' "$DIR/gone.last" ||
	fail "a gone flow's last state could not be read: $(grep -v '^[A-Z][A-Z_0-9]*$' \
		"$DIR/gone.last" | head -n 1 | cut -c1-200)"
pass
