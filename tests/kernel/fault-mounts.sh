#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# No tracefs, no debugfs (whose tracing/ directory would mount tracefs on
# demand) and no cgroup2, in a mount namespace of the test's own: tcptrail
# --attach tracepoint still attaches its plain tracepoints and its cgroup_skb
# program, by mounting what it needs in a namespace of its own, and leaves
# the test's mount table exactly as it was.
if [ -z "$TT_FAULT_MNTNS" ]; then
	case $TCPTRAIL_ARGS in
	"" | "--attach tracepoint") ;;
	*) echo "skip: this test forces --attach tracepoint; it runs in that pass"; exit 77 ;;
	esac
	command -v unshare >/dev/null 2>&1 || { echo "skip: no unshare here"; exit 77; }
	TT_FAULT_MNTNS=1 exec unshare -m sh "$0" "$@"
fi
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/fault.inc
. "${0%/*}/fault.inc"

# mount points of these file system types, deepest first
mounts_of() {
	awk -v want=" $* " '{
		for (i = 7; i < NF; i++)
			if ($i == "-") {
				if (index(want, " " $(i + 1) " ")) print length($5), $5
				break
			}
	}' /proc/self/mountinfo | sort -rn | cut -d' ' -f2
}

mount --make-rprivate / || fail "mount --make-rprivate / in the test's namespace failed"
for m in $(mounts_of tracefs debugfs cgroup2); do
	umount -l "$m" || fail "umount $m failed"
done
[ -z "$(mounts_of tracefs debugfs cgroup2)" ] ||
	fail "still mounted: $(mounts_of tracefs debugfs cgroup2)"
note "in the test's mount namespace: no tracefs, debugfs or cgroup2 mounted"
cp /proc/self/mountinfo "$DIR/mountinfo.before"

TCPTRAIL_ARGS=
EXPECT_HOOKS="transitions=tracepoint time-wait=rule overflow=cgroup_skb owner=tracepoint retransmits=tracepoint"
trace active --attach tracepoint -v
note "$(grep '^tcptrail: tracing' "$DIR/trace.err")"
grep -q 'tracefs was not mounted: mounted it privately' "$DIR/trace.err" ||
	fail "tcptrail did not say it mounted tracefs privately: $(last_line "$DIR/trace.err")"
grep -q 'cgroup2 was not mounted: mounted it privately' "$DIR/trace.err" ||
	fail "tcptrail did not say it mounted cgroup2 privately: $(last_line "$DIR/trace.err")"
note "$(grep 'mounted it privately' "$DIR/trace.err" | tr '\n' ' ')"

cp /proc/self/mountinfo "$DIR/mountinfo.after"
cmp -s "$DIR/mountinfo.before" "$DIR/mountinfo.after" ||
	fail "the test's mount table changed: $(diff "$DIR/mountinfo.before" "$DIR/mountinfo.after" |
		sed -n 2p)"
note "the test's /proc/self/mountinfo is unchanged after tcptrail exited"

expect_count active 1
expect_count passive 1
expect_closed_first "client flow" "$(flows active)" SYN_SENT,ESTABLISHED
expect_flow "server flow" "$(flows passive)" pid="$(fact server_pid)" \
	states=SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSE end=close
pass
