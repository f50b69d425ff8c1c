#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A ring buffer far too small (4 KiB: 32 records) under a burst of
# connections: the loss is counted, reported at the end with the same total
# the summaries carry, and covers every connection the output shows damaged;
# then a quiet phase is traced completely, so tracing recovers by itself.
# Once a summary interval goes by with no loss, a check asks the kernel
# about every flow: each one whose end record was lost ends "gone", and the
# table is empty (flows_active 0).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

n=3000	# the burst: back to back, far faster than 32 records drain
m=20	# the quiet phase: 20 ms apart, a dozen records each

stress_start burst "$n" "$m"
tt_start --json --netns "$NETNS" --ringbuf-size 4096 -i 1
go
stress_wait 60
# shellcheck disable=SC2317 # called through wait_until
table_empty() {
	[ "$(grep '^{"type":"summary",' "$OUT" | tail -n 1 | jget flows_active)" = 0 ]
}
wait_until 15 table_empty ||
	fail "15 s after the load, the last summary still has" \
		"$(grep '^{"type":"summary",' "$OUT" | tail -n 1 | jget flows_active) flows active" \
		"(gone so far: $(grep '^{"type":"summary",' "$OUT" | tail -n 1 | jget gone))"
tt_stop
[ "$TT_STATUS" = 0 ] || fail "tcptrail exited $TT_STATUS: $(last_line "$DIR/trace.err")"

lost=$(final lost)
note "a burst of $n connections and $m quiet ones; kernel ActiveOpens $(fact kernel.ActiveOpens)," \
	"PassiveOpens $(fact kernel.PassiveOpens); tcptrail: lost=$lost," \
	"flows=$(flows | grep -c .), warnings: $(grep -c warning "$DIR/trace.err")"
[ -n "$lost" ] || fail "no final summary"
[ "$lost" -gt 0 ] || fail "a 4 KiB ring buffer lost nothing under $n back-to-back connections"
# the final total is the sum of what each summary reported for its interval
[ "$(summed lost_interval)" = "$lost" ] ||
	fail "final lost $lost, but the summaries' lost_interval add up to $(summed lost_interval)"
grep -q "^tcptrail: warning: $lost events were lost" "$DIR/trace.err" ||
	fail "no warning naming $lost lost events on stderr: $(last_line "$DIR/trace.err")"
note "stderr: $(grep 'events were lost' "$DIR/trace.err")"
gone=$(final gone)
[ "$(flows | grep -c '"end":"gone"')" = "$gone" ] ||
	fail "the final summary counts $gone flows gone, the output ends" \
		"$(flows | grep -c '"end":"gone"')"
note "$gone flows whose end record was lost ended gone; the table emptied after the load"

# Every connection of the burst either shows complete, from its birth record
# to its end, or lost at least one record of its own: no more damaged
# connections than lost records.
bp=$(fact burst_port)
whole_a=$(flows active | grep "\"dport\":$bp," | grep '"partial":false' |
	grep -c '"states":\[{"state":"SYN_SENT".*"end":"\(time_wait\|close\)"')
whole_p=$(flows passive | grep "\"sport\":$bp," | grep '"partial":false' |
	grep -c '"states":\[{"state":"SYN_RECV".*"end":"close"')
damaged=$((2 * n - whole_a - whole_p))
note "burst: $whole_a of $n client flows and $whole_p of $n server flows complete;" \
	"$damaged damaged or missing, $lost records lost"
[ "$damaged" -le "$lost" ] ||
	fail "$damaged connection ends damaged or missing, but only $lost records lost"

# The quiet phase, after the burst: nothing of it may be missing.
qp=$(fact quiet_port)
[ "$(fact quiet)" = "$m" ] || fail "ttstress made $(fact quiet) quiet connections, not $m"
qa=$(flows active | grep "\"dport\":$qp,")
qs=$(flows passive | grep "\"sport\":$qp,")
[ "$(echo "$qa" | grep -c .)" = "$m" ] ||
	fail "quiet phase: want $m client flows, got $(echo "$qa" | grep -c .)"
[ "$(echo "$qs" | grep -c .)" = "$m" ] ||
	fail "quiet phase: want $m server flows, got $(echo "$qs" | grep -c .)"
echo "$qa" | while read -r f; do
	expect_flow "quiet client flow" "$f" partial=false
	expect_closed_first "quiet client flow" "$f" SYN_SENT,ESTABLISHED
done || exit 1
echo "$qs" | while read -r f; do
	expect_flow "quiet server flow" "$f" partial=false \
		states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
done || exit 1
expect_flow "quiet listener" "$(flows listener | grep "\"sport\":$qp,")" partial=false \
	states=LISTEN,CLOSE
note "quiet phase: all $m connections traced whole, both ends, and their listener"
pass
