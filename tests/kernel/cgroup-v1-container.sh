#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A container that its runtime put in cgroup v1 only, on a hybrid host:
# its tasks stay in the runtime's own v2 cgroup (docker on some hybrid hosts
# leaves them in containerd.service's), which names no container, and the
# owner's /proc/PID/cgroup v1 lines name it.  A ttdrive in a v2 cgroup of
# our own named as a runtime's (/PARENT/containerd.service) and in a v1 one
# named as docker's cgroupfs driver names a container (/PARENT/docker/ID):
#   host-wide:               its flows name container ID, by the v1 path
#   --container ID-PREFIX:   its flows are kept, and no other
# and in a v2 cgroup that is no runtime's (/PARENT/a, a host service's):
#   host-wide:               its flows name /PARENT/a, and no container
# --top reads an owner's file again once it is 5 s old: moved to another
# container's v1 cgroup, ttdrive's sockets name the new one in later frames
# (the view's clock never ticked: its first name stayed for good).
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# the first cgroup v1 hierarchy's mount: fstype "cgroup" after " - "
V1=$(sed -n 's/^[^ ]* [^ ]* [^ ]* \/ \([^ ]*\) .* - cgroup .*/\1/p' /proc/self/mountinfo | sed -n 1p)
[ -n "$V1" ] || skip "no cgroup v1 hierarchy mounted here (not a hybrid host)"
# shellcheck source=tests/kernel/cgroups.inc
. "${0%/*}/cgroups.inc"
ID=7c0ffee0$(printf '%056d' 0 | tr 0 a)
ID2=7c0ffee1$(printf '%056d' 0 | tr 0 b)
V1CG=$V1/$CG/docker/$ID
V1CG2=$V1/$CG/docker/$ID2

v1_cleanup() {
	for _p in $DA $TP; do
		kill -KILL "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	DA=
	TP=
	rmdirs_gone "$V1/$CG" "$V1CG" "$V1CG2" "$V1/$CG/docker" "$V1/$CG"
	cg_cleanup
}
trap v1_cleanup EXIT
cg_make a containerd.service
mkdir -p "$V1CG" || fail "cannot make $V1CG"

# run V2CGROUP TCPTRAIL-OPTIONS...: ttdrive two-phase in V2CGROUP (under
# the parent) and the v1 one, under
# tcptrail.  Its first connections end while it waits at its pause: their
# owner is alive when tcptrail reads them (a name from /proc/PID/cgroup needs
# a live owner), and the pid's name is kept for the rest.
run() {
	V2=$1
	shift
	rm -f "$DIR/go" "$DIR/resume"
	: >"$DIR/a.out"
	# shellcheck disable=SC2016 # $$ is the inner shell's
	sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" &&
		exec "$3" --go-file "$4" --resume-file "$5" --timeout 30 two-phase 3' \
		sh "$MNT/$CG/$V2" "$V1CG" "$DRIVE" "$DIR/go" "$DIR/resume" >"$DIR/a.out" 2>"$DIR/a.err" &
	DA=$!
	wait_until 10 grep -q '^pid=' "$DIR/a.out" ||
		fail "ttdrive in the cgroups did not start: $(last_line "$DIR/a.err")"
	NA=$(sed -n 's/^netns=//p' "$DIR/a.out")
	cg_trace "$@"
	wait_until 30 grep -q '^paused=' "$DIR/a.out" ||
		fail "ttdrive two-phase never paused: $(last_line "$DIR/a.err")"
	# its first three connections' six flows, read while it waits
	# shellcheck disable=SC2317 # called through wait_until
	first_read() {
		[ "$(grep '^{"type":"flow",' "$OUT" | grep -c "\"netns\":$NA,")" -ge 6 ]
	}
	wait_until 20 first_read || fail "tcptrail $* printed no 6 flows of namespace $NA in 20 s"
	: >"$DIR/resume"
	wait_until 60 not_alive "$DA" || fail "ttdrive $DA still running after 60 s"
	wait "$DA" || fail "ttdrive failed: $(last_line "$DIR/a.err")"
	DA=
	trace_stop
	PA=$(sed -n 's/^client_pid=//p' "$DIR/a.out")
}

# flows PATTERN: the finished flows of ttdrive's namespace and process matching PATTERN
flows() {
	grep '^{"type":"flow",' "$OUT" | grep "\"netns\":$NA," | grep "\"pid\":$PA," | grep -c "$1"
}

run containerd.service
all=$(flows .)
NAMED=$all
[ "$all" -ge 12 ] || fail "host-wide: $all flows in ttdrive's namespace $NA, want >= 12 (6 connections, both ends)"
good=$(flows "\"cgroup\":\"/$CG/docker/$ID\",\"container\":\"$ID\",")
[ "$good" = "$all" ] || fail "host-wide: $good of $all flows name container $ID by its v1 path:" \
	"$(grep '^{"type":"flow",' "$OUT" | grep "\"netns\":$NA," | grep -v "\"container\":\"$ID\"" | sed -n 1p)"

run containerd.service --container "${ID%????????????????????????????????????????????????}"
[ "$(flows "\"container\":\"$ID\",")" -ge 12 ] || fail "--container ${ID%????????????????????????????????????????????????}: its flows are missing"
bad=$(grep '^{"type":"flow",' "$OUT" | grep -v "\"container\":\"$ID\"," | sed -n 1p)
[ -z "$bad" ] || fail "--container: a flow of another container: $bad"
# a host service's cgroup is what it says: its owner's v1 lines are not read
run a
all=$(flows .)
[ "$all" -ge 12 ] || fail "in /$CG/a: $all flows in ttdrive's namespace $NA, want >= 12"
good=$(flows "\"cgroup\":\"/$CG/a\",\"role\"")
[ "$good" = "$all" ] || fail "in /$CG/a: $good of $all flows name /$CG/a and no container:" \
	"$(grep '^{"type":"flow",' "$OUT" | grep "\"netns\":$NA," | grep -v "\"cgroup\":\"/$CG/a\",\"role\"" | sed -n 1p)"

# --top: ttdrive's open sockets, in the first frames in ID, then moved to ID2
mkdir -p "$V1CG2" || fail "cannot make $V1CG2"
rm -f "$DIR/resume"
: >"$DIR/a.out"
# shellcheck disable=SC2016 # $$ is the inner shell's
sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" &&
	exec "$3" --resume-file "$4" --timeout 60 open 2' \
	sh "$MNT/$CG/containerd.service" "$V1CG" "$DRIVE" "$DIR/resume" >"$DIR/a.out" 2>"$DIR/a.err" &
DA=$!
wait_until 20 grep -q '^paused=' "$DIR/a.out" ||
	fail "ttdrive open never paused: $(last_line "$DIR/a.err")"
NA=$(sed -n 's/^netns=//p' "$DIR/a.out")
"$TCPTRAIL" --top --json -i 1 -d 60 -N "$NA" >"$DIR/top.out" 2>"$DIR/top.err" &
TP=$!
# shellcheck disable=SC2317 # called through wait_until
in_frame() {
	grep -q "\"container\":\"$1\",\"pod\":null,\"pid\":$DA," "$DIR/top.out"
}
wait_until 20 in_frame "$ID" || fail "--top: no frame named container $ID in 20 s: $(last_line "$DIR/top.err")"
echo "$DA" >"$V1CG2/cgroup.procs" || fail "cannot move ttdrive $DA to $V1CG2"
# the file is read again once 5 s old: a frame by 15 s names the new one
wait_until 15 in_frame "$ID2" ||
	fail "--top: no frame named container $ID2 for ttdrive $DA in 15 s after the move:" \
		"$(grep '^{"type":"snapshot",' "$DIR/top.out" | tail -n 1)"
kill -INT "$TP"
wait_until 10 not_alive "$TP" || fail "--top still running 10 s after SIGINT"
wait "$TP" || fail "--top exited $?: $(last_line "$DIR/top.err")"
TP=
_last=$(grep '^{"type":"snapshot",' "$DIR/top.out" | tail -n 1)
printf '%s\n' "$_last" | grep -q "\"container\":\"$ID\"" &&
	fail "--top: the last frame names $ID again, after the move: $_last"
: >"$DIR/resume"
wait_until 30 not_alive "$DA" || fail "ttdrive $DA still running after 30 s"
wait "$DA" || fail "ttdrive open failed: $(last_line "$DIR/a.err")"
DA=
note "$NAMED flows named container ${ID%????????????????????????????????????????????????} from their owners' v1 lines"
pass
