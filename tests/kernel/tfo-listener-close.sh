#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Fast Open children whose listener is closed before accept(): ttdrive's
# deaf Fast Open clients leave N children in SYN_RECV (data in the SYN, no
# ACK), unaccepted; the listener's close() disconnects each (SYN_RECV >
# CLOSE, no error yet, not accepted), which the clone-race rule must not take
# for the loser of a race.  Each child is a passive flow SYN_RECV,CLOSE; the
# summaries' LISTEN>SYN_RECV equal PassiveOpens and TCPFastOpenPassive; the
# children in SYN_RECV at the pause are ttdrive's count and ss's.  The
# listener's flow names the process that closed it.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# transition_sum KEY: the summaries' "KEY" transitions summed ("LISTEN>SYN_RECV")
transition_sum() {
	records summary | sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" | awk '{ s += $1 } END { print s + 0 }'
}

trace_begin tfo-listener-close
wait_paused tfo-waiting
n=$(fact children)
expect_eq "ttdrive's Fast Open children in SYN_RECV" "$(fact ss.syn_recv)" "$n"
if ss_here; then
	_ss=$(ns_ss -Htan state syn-recv) || fail "ss -Htan state syn-recv in the namespace failed"
	expect_eq "ss -tan state syn-recv in the namespace" "$(printf '%s\n' "$_ss" | count_lines)" "$n"
	note=", ss agrees"
fi
resume
trace_end

expect_eq "kernel TCPFastOpenPassive" "$(fact kernel.TCPFastOpenPassive)" "$n"
expect_eq "summaries' LISTEN>SYN_RECV vs the kernel's PassiveOpens" \
	"$(transition_sum 'LISTEN>SYN_RECV')" "$(fact kernel.PassiveOpens)"
expect_eq "summaries' SYN_RECV>CLOSE" "$(transition_sum 'SYN_RECV>CLOSE')" "$n"
expect_count passive "$n"
flows passive | while read -r f; do
	expect_flow "Fast Open child" "$f" states=SYN_RECV,CLOSE end=abort \
		pid="$(fact listener_pid)"
done || exit 1
expect_count listener 1
expect_flow "listener" "$(flows listener)" states=LISTEN,CLOSE end=close \
	pid="$(fact listener_pid)" closer_pid="$(fact listener_pid)" closer_comm=ttdrive
echo "tfo-listener-close: $n children, PassiveOpens $(fact kernel.PassiveOpens)," \
	"TCPFastOpenPassive $(fact kernel.TCPFastOpenPassive), $n passive flows$note"
pass
