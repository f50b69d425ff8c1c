#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --cgroup names a path, and a container that restarts (podman restart)
# gets a new cgroup under the same path, with a new id.  The kernel filter
# kept the id it was given at start, so it matched nothing from then on,
# without a word.  Here: --cgroup /PARENT/a; a ttdrive in a; a removed
# (said) and made again (said); a ttdrive in the new a: its flows are
# traced too.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# shellcheck source=tests/kernel/cgroups.inc
. "${0%/*}/cgroups.inc"
cg_make a

# drive_in_a GO OUT: ttdrive active, moved into cgroup a first; waits for GO
drive_in_a() {
	: >"$2"
	# shellcheck disable=SC2016 # $$ is the inner shell's
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --go-file "$3" --timeout 30 active' \
		sh "$MNT/$CG/a" "$DRIVE" "$1" >"$2" 2>"$2.err" &
	DA=$!
	_o=$2
	wait_until 10 _started || fail "ttdrive in cgroup a did not start: $(last_line "$2.err")"
	: >"$1"
	wait_until 60 not_alive "$DA" || fail "ttdrive $DA still running after 60 s"
	wait "$DA" || fail "ttdrive $DA failed: $(last_line "$2.err")"
	DA=
}
_started() {
	grep -q '^pid=' "$_o"
}
# flows_of NETNS: finished flows in that namespace named /PARENT/a
flows_of() {
	grep '^{"type":"flow",' "$OUT" | grep "\"netns\":$1," | grep -c "\"cgroup\":\"/$CG/a\","
}

"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 0 --cgroup "/$CG/a" >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail did not start: $(last_line "$DIR/trace.err")"

drive_in_a "$DIR/go1" "$DIR/a1.out"
N1=$(sed -n 's/^netns=//p' "$DIR/a1.out")
_first() {
	[ "$(flows_of "$N1")" -ge 2 ]
}
wait_until 5 _first || fail "the first ttdrive's flows in /$CG/a are missing ($(flows_of "$N1"))"

rmdir "$MNT/$CG/a" || fail "cannot remove /$CG/a"
_removed() {
	grep -q "warning: --cgroup /$CG/a was removed" "$DIR/trace.err"
}
wait_until 10 _removed || fail "no warning that --cgroup /$CG/a was removed: $(last_line "$DIR/trace.err")"
mkdir "$MNT/$CG/a" || fail "cannot make /$CG/a again"
_remade() {
	grep -q "^tcptrail: --cgroup /$CG/a was made again (cgroup id [0-9]*): traced from now on" \
		"$DIR/trace.err"
}
wait_until 10 _remade || fail "tcptrail did not say that /$CG/a was made again: $(last_line "$DIR/trace.err")"

drive_in_a "$DIR/go2" "$DIR/a2.out"
N2=$(sed -n 's/^netns=//p' "$DIR/a2.out")
_second() {
	[ "$(flows_of "$N2")" -ge 2 ]
}
wait_until 5 _second ||
	fail "the ttdrive in /$CG/a made again: $(flows_of "$N2") flows traced, want >= 2 (client and server)"
trace_stop
bad=$(grep '^{"type":"flow",' "$OUT" | grep -v "\"cgroup\":\"/$CG/a\"," | sed -n 1p)
[ -z "$bad" ] || fail "a flow of another cgroup: $bad"
echo "cgroup-remade: $(flows_of "$N1") flows before /$CG/a was made again, $(flows_of "$N2") after"
pass
