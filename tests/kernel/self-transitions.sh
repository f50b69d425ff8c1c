#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Self-transitions, as tcpstates shows them: close() after shutdown(SHUT_WR)
# calls tcp_set_state() with the state the socket is in.  ttdrive closes N
# clients in FIN_WAIT2 (FIN acked) and N in FIN_WAIT1 (data and FIN dropped
# by the server's filter; ttdrive counts them still in FIN_WAIT1 after
# close()).  With --events there is one FIN_WAIT2>FIN_WAIT2 and one
# FIN_WAIT1>FIN_WAIT1 transition record per client, the summaries count the
# same, and no flow's states repeat a state.  TIME-WAIT entries stay exact.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

transition_sum() {
	records summary | sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" | awk '{ s += $1 } END { print s + 0 }'
}

trace self-transitions --events
n=$(fact self.fin_wait2)
expect_eq "ttdrive's clients in FIN_WAIT2 before close()" "$(fact ss.fin_wait2_before_close)" "$n"
expect_eq "ttdrive's orphans in FIN_WAIT1 after close()" "$(fact ss.fin_wait1_after_close)" \
	"$(fact self.fin_wait1)"
for s in FIN_WAIT2 FIN_WAIT1; do
	want=$(fact "self.$(echo $s | tr 'A-Z' 'a-z')")
	expect_eq "$s>$s transition records" \
		"$(records transition | grep -c "\"old\":\"$s\",\"new\":\"$s\"")" "$want"
	expect_eq "summaries' $s>$s" "$(transition_sum "$s>$s")" "$want"
done
# no other self-transition here
_bad=$(records transition | grep -v -e '"old":"FIN_WAIT[12]","new":"FIN_WAIT[12]"' |
	sed -n 's/.*"old":"\([A-Z_0-9]*\)","new":"\1".*/\1/p' | sed -n 1p)
[ -z "$_bad" ] || fail "unexpected self-transition $_bad>$_bad"
_bad=$(flows | states | awk -F, '{ for (i = 2; i <= NF; i++) if ($i == $(i - 1)) print }' | sed -n 1p)
[ -z "$_bad" ] || fail "a flow's states repeat a state: $_bad"
expect_eq "TIME-WAIT flows vs the kernel's TW+TWKilled" \
	"$(flows | grep -c '"end":"time_wait"')" "$(kfact kernel.TW kernel.TWKilled)"
echo "self-transitions: $n FIN_WAIT2>FIN_WAIT2, $(fact self.fin_wait1) FIN_WAIT1>FIN_WAIT1," \
	"TW $(kfact kernel.TW kernel.TWKilled)"
pass
