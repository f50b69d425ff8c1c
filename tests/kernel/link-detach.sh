#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# An admin (or another tool) detaches tcptrail's cgroup links while it runs:
# `bpftool link detach` of its sock_ops and of its overflow hook.  The
# kernel says nothing.  Without sock_ops, the connections it had flagged
# closed cleanly but ended "(abort)", their TIME-WAIT unseen, and the exit
# check blamed the kernel; without the overflow hook, overflows stopped
# with no word.  tcptrail now finds each link gone within a second, says
# so, and leaves every transition of the flagged sockets to the transitions
# hook: the connections open across the detach end as they did.
# Host only: the qemu guest has no bpftool.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

[ "$TT_GUEST" = 1 ] && { echo "skip: host only: the qemu guest has no bpftool"; exit 77; }
command -v bpftool >/dev/null 2>&1 || fail "bpftool not found (Debian package bpftool; make deps INSTALL=1)"

# link_of ATTACH_TYPE: the id of tcptrail's own cgroup link of that attach
# type (0 inet ingress, 3 sock_ops), from its fds
link_of() {
	for _f in /proc/"$TRACE_PID"/fdinfo/*; do
		awk -v want="$1" '/^link_type:/ { cg = $2 == "cgroup" } /^link_id:/ { id = $2 }
			/^attach_type:/ { if (cg && $2 == want) print id }' "$_f" 2>/dev/null
	done | sed -n 1p
}

trace_begin "open 16" -v
wait_paused open
case $(sed -n 's/.* sock-ops=\([^ ]*\).*/\1/p' "$DIR/trace.err" | sed -n 1p) in
sockops) ;;
*) fail "tcptrail runs without sock-ops here: $(grep '^tcptrail: tracing' "$DIR/trace.err")" ;;
esac
sockops=$(link_of 3)
ingress=$(link_of 0)
[ -n "$sockops" ] && [ -n "$ingress" ] ||
	fail "tcptrail's cgroup links not found in /proc/$TRACE_PID/fdinfo (sock_ops '$sockops', ingress '$ingress')"
bpftool link detach id "$sockops" || fail "bpftool link detach id $sockops (sock_ops)"
bpftool link detach id "$ingress" || fail "bpftool link detach id $ingress (cgroup_skb)"
wait_until 5 grep -q "sock_ops program was detached" "$DIR/trace.err" ||
	fail "no warning within 5 s that the sock_ops program was detached"
wait_until 5 grep -q "overflow hook .* was detached" "$DIR/trace.err" ||
	fail "no warning within 5 s that the overflow hook was detached"
resume
trace_end
k=$(fact open)
expect_count active "$k"
expect_count passive "$k"
# closed by the client first, after the detach: as if nothing had happened
expect_all active '"end":"time_wait"' "an active flow that did not end in TIME-WAIT"
expect_all passive '"end":"close"' "a passive flow that did not end with a clean close"
expect_all active '"states":\[{"state":"SYN_SENT".*"FIN_WAIT1".*"FIN_WAIT2".*"TIME_WAIT"' \
	"an active flow without its close"
[ "$(grep -c 'was detached' "$DIR/trace.err")" = 2 ] ||
	fail "want each detach said once: $(grep 'was detached' "$DIR/trace.err" | tr '\n' ' ')"
echo "link-detach: links $sockops (sock_ops) and $ingress (cgroup_skb) detached; $k connections open across it closed cleanly"
pass
