#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tcptrail in a cgroup namespace of its own, as in a container (docker's
# default on cgroup v2): the cgroup v2 root it finds is the namespace's, so
# its cgroup hooks hang under its own cgroup and see no other's sockets.
# Said, in one warning that names the way out; in the host's cgroup
# namespace, not said.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/kernel/cgroups.inc
. "${0%/*}/cgroups.inc"
command -v unshare >/dev/null 2>&1 || fail "unshare not found (util-linux; make deps INSTALL=1)"

cg_make inner
# shellcheck disable=SC2016 # $$ and $1.. are the inner shell's
sh -c 'echo $$ >"$1/cgroup.procs" && exec unshare -C -m "$2" -d 0.5 -i 0 --quiet-flows' \
	sh "$MNT/$CG/inner" "$TCPTRAIL" >/dev/null 2>"$DIR/ns.err" ||
	fail "tcptrail in a cgroup namespace of its own: exit $?: $(last_line "$DIR/ns.err")"
grep -q '^tcptrail: tracing' "$DIR/ns.err" || fail "no start-up line: $(cat "$DIR/ns.err")"
if grep -q ' overflow=cgroup_skb\| sock-ops=sockops' "$DIR/ns.err"; then
	expect_eq "warnings of its own cgroup namespace" \
		"$(grep -c '^tcptrail: warning: tcptrail runs in a cgroup namespace of its own' "$DIR/ns.err")" 1
	grep -q 'run it in the host.s cgroup namespace (docker run --cgroupns=host)' "$DIR/ns.err" ||
		fail "the warning names no way out: $(grep 'cgroup namespace' "$DIR/ns.err")"
else
	fail "no cgroup hook attached in a cgroup namespace: $(cat "$DIR/ns.err")"
fi
"$TCPTRAIL" -d 0.3 -i 0 --quiet-flows >/dev/null 2>"$DIR/host.err" ||
	fail "tcptrail: exit $?: $(last_line "$DIR/host.err")"
! grep -q 'cgroup namespace' "$DIR/host.err" ||
	fail "in the host's cgroup namespace: $(grep 'cgroup namespace' "$DIR/host.err")"
pass
