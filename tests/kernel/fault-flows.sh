#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A flow table of 5 flows (--max-flows 5) with more flows than that: each
# eviction is printed at once as a flow with "end":"evicted" and counted in
# the summary, stderr warns, and the least recently active flows go first,
# not the oldest: c1 is older than c2 but active since (ttstress lru); but
# not the listener, least recently active of all, which a full table keeps
# (as it keeps a CLOSE_WAIT flow: the unit tests).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

stress_start lru
# -e: the per-transition stream, in which every open connection holds a slot
# (flow records bring a connection to the table only with its first record)
tt_start --json -e --netns "$NETNS" --max-flows 5
go
stress_wait 30
tt_stop
[ "$TT_STATUS" = 0 ] || fail "tcptrail exited $TT_STATUS: $(last_line "$DIR/trace.err")"
[ "$(final lost)" = 0 ] || fail "lost $(final lost) events: only the flow table was to be short"

lp=$(fact listen_port)
c1=$(fact c1_port)
c2=$(fact c2_port)
c3=$(fact c3_port)
ev=$(flows | grep '"end":"evicted"')
n_ev=$(echo "$ev" | grep -c .)
note "--max-flows 5, a listener and 3 connections: $n_ev flows evicted, in this order:" \
	"$(echo "$ev" | awk '{ r = $0; sub(/.*"role":"/, "", r); sub(/".*/, "", r)
		s = $0; sub(/.*"sport":/, "", s); sub(/,.*/, "", s)
		d = $0; sub(/.*"dport":/, "", d); sub(/,.*/, "", d)
		printf "%s%s %s>%s", (NR > 1 ? ", " : ""), r, s, d }')"
[ "$(final evicted)" = "$n_ev" ] ||
	fail "final summary: evicted $(final evicted), but $n_ev flows ended evicted"
[ "$(summed evicted_interval)" = "$n_ev" ] ||
	fail "the summaries' evicted_interval add up to $(summed evicted_interval), not $n_ev"
grep -q "^tcptrail: warning: $n_ev flows were evicted" "$DIR/trace.err" ||
	fail "no warning naming $n_ev evicted flows on stderr: $(last_line "$DIR/trace.err")"
[ "$n_ev" -ge 2 ] || fail "want at least 2 evictions, got $n_ev"

# least recently active first, the listener kept: c2's two ends
expect_flow "first evicted" "$(echo "$ev" | sed -n 1p)" role=active sport="$c2" \
	states=SYN_SENT,ESTABLISHED
expect_flow "second evicted" "$(echo "$ev" | sed -n 2p)" role=passive dport="$c2" \
	states=SYN_RECV,ESTABLISHED
l=$(flows listener | grep "\"sport\":$lp,")
[ "$(echo "$l" | grep -c .)" = 1 ] || fail "want the listener's one flow, got: $(flows listener)"
expect_flow "listener" "$l" partial=false states=LISTEN,CLOSE
# c1, the oldest connection but active since, was never evicted
a1=$(flows active | grep "\"sport\":$c1,")
[ "$(echo "$a1" | grep -c .)" = 1 ] || fail "want one flow of c1's client, got: $a1"
expect_flow "c1 client" "$a1" partial=false
expect_closed_first "c1 client" "$a1" SYN_SENT,ESTABLISHED
expect_flow "c1 server" "$(flows passive | grep "\"dport\":$c1,")" partial=false \
	states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
# c3 came after: it pushed c2 out, whole
expect_flow "c3 client" "$(flows active | grep "\"sport\":$c3,")" partial=false
note "c1 (oldest, active since) kept whole; c2's ends evicted; c3 whole; stderr:" \
	"$(grep 'flows were evicted' "$DIR/trace.err")"
pass
