#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Records that arrive while a child's birth is held back: N Fast Open
# children are accepted while still in SYN_RECV (their listener's filter
# keeps the clients' ACKs away), and 100 ms later each client resets its
# own.  The kernel side tells a child's LISTEN > SYN_RECV only with its next
# transition, here the SYN_RECV > CLOSE of the reset, after the ACCEPT and
# RESET_RECV records.  Each child must still be owned by the process that
# accepted it (owner_known) and show the reset it received.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

transition_sum() {
	records summary | sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" | awk '{ s += $1 } END { print s + 0 }'
}

trace tfo-accept-reset
n=$(fact children)
expect_eq "ttdrive's accepted children still in SYN_RECV" "$(fact ss.syn_recv_accepted)" "$n"
expect_eq "kernel TCPFastOpenPassive" "$(fact kernel.TCPFastOpenPassive)" "$n"
expect_eq "summaries' LISTEN>SYN_RECV vs the kernel's PassiveOpens" \
	"$(transition_sum 'LISTEN>SYN_RECV')" "$(fact kernel.PassiveOpens)"
expect_count passive "$n"
flows passive | while read -r f; do
	expect_flow "accepted Fast Open child" "$f" states=SYN_RECV,CLOSE end=reset \
		owner_known=true pid="$(fact server_pid)" resets_recv=1
done || exit 1
echo "tfo-accept-reset: $n children accepted in SYN_RECV and reset; PassiveOpens" \
	"$(fact kernel.PassiveOpens), TCPFastOpenPassive $(fact kernel.TCPFastOpenPassive)"
pass
