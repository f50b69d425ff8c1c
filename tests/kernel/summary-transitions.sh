#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Summaries agree with the flows, exactly, over a run of several summaries
# (-i 1) with every kind of ending (ttdrive mix: clean closes over IPv4 and
# IPv6, resets, refused, aborts, simultaneous closes) and --events.
#
# The definition: every flow here is born during the run and has ended by
# its close (the final summary has flows_active 0, none is partial or
# truncated), so each state in a flow's "states" was entered by exactly one
# transition the summaries counted: the first by its birth (CLOSE>SYN_SENT,
# CLOSE>LISTEN, or LISTEN>SYN_RECV for an accepted flow), each later one by
# the pair (previous state, state).  Hence, key by key, the "transitions"
# objects of all summaries summed equal those pairs counted over the flows,
# but for self-transitions (OLD>OLD), which enter no new state.
# With --events each transition record is one of them too, the entries into
# TIME-WAIT included: the kernel has no such transition (the socket goes
# X>CLOSE and a timewait sock takes its place), and tcptrail prints the
# TIME-WAIT record in its place as a transition with "new":"TIME_WAIT".  So
# the "transition" records are the summaries' counts, key by key.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

trace mix -i 1 --events
n_sum=$(records summary | count_lines)
[ "$n_sum" -ge 2 ] || fail "want summaries from more than one interval, got $n_sum"
expect_eq "final summary's flows_active" "$(records summary | grep '"final":true' | jget flows_active)" 0
_bad=$(flows | grep '"truncated":true' | sed -n 1p)
[ -z "$_bad" ] || fail "truncated flow: $_bad"

# "OLD>NEW COUNT" lines, summed per key and sorted
by_summaries() {
	records summary | sed 's/.*"transitions":{\([^}]*\)}.*/\1/' | tr ',' '\n' |
		sed -n 's/^"\([A-Z_0-9]*>[A-Z_0-9]*\)":\([0-9]*\)$/\1 \2/p' |
		awk '{ n[$1] += $2 } END { for (k in n) print k, n[k] }' | sort
}
by_flows() {
	flows | awk '{
		old = index($0, "\"role\":\"passive\"") ? "LISTEN" : "CLOSE"
		s = $0
		while ((i = index(s, "\"state\":\"")) > 0) {
			s = substr(s, i + 9)
			j = index(s, "\"")
			st = substr(s, 1, j - 1)
			n[old ">" st]++
			old = st
			s = substr(s, j)
		}
	} END { for (k in n) print k, n[k] }' | sort
}
by_events() {
	records transition | sed 's/.*"old":"\([A-Z_0-9]*\)","new":"\([A-Z_0-9]*\)".*/\1>\2/' |
		awk '{ n[$1]++ } END { for (k in n) print k, n[k] }' | sort
}

s=$(by_summaries)
f=$(by_flows)
# a self-transition (CLOSING>CLOSING: close() after a simultaneous close's
# FIN crossed) is counted and printed, but is no new state of the flow
s_states=$(printf '%s\n' "$s" | awk '{ split($1, p, ">"); if (p[1] != p[2]) print }')
[ -n "$s" ] || fail "no transitions in the summaries"
[ "$s_states" = "$f" ] || fail "summaries' transitions and the flows' state pairs differ:
$(printf '%s\n' "$s_states" >"$DIR/s"; printf '%s\n' "$f" >"$DIR/f"; first_diff "$DIR/s" "$DIR/f")"
e=$(by_events)
[ "$e" = "$s" ] || fail "transition records and the summaries differ:
$(printf '%s\n' "$s" >"$DIR/s"; printf '%s\n' "$e" >"$DIR/e"; first_diff "$DIR/s" "$DIR/e")"
total=$(printf '%s\n' "$s" | awk '{ t += $2 } END { print t + 0 }')
tw=$(flows | grep -c '"end":"time_wait"')
expect_eq "transition records vs the summaries' transitions" "$(records transition | count_lines)" "$total"
expect_eq "transition records into TIME_WAIT vs flows ending in TIME-WAIT" \
	"$(records transition | grep -c '"new":"TIME_WAIT"')" "$tw"
echo "summary-transitions: $total transitions in $n_sum summaries = the flows' $(flows | count_lines) timelines = $total transition records, $tw of them into TIME-WAIT"
pass
