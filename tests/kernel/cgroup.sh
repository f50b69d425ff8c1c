#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Every flow carries its socket's own cgroup v2 path, and --cgroup filters in
# the kernel.  Two cgroups of our own under the v2 mount (a and b, below a
# parent), a ttdrive in each with a network namespace of its own; then:
#   host-wide:             a's flows say /PARENT/a, b's say /PARENT/b
#   --cgroup /PARENT/a:    a's flows only (the cgroup itself: level equal)
#   --cgroup MOUNT/PARENT: both (an ancestor check one level up)
#   a CLOSE-WAIT leak in a before tcptrail starts: seeded, named /PARENT/a,
#   and still so named when its flows end after cgroup a was removed
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# shellcheck source=tests/kernel/cgroups.inc
. "${0%/*}/cgroups.inc"
cg_make a b

# start_drive NAME: ttdrive active, moved into cgroup NAME before it makes
# its namespace and sockets; it waits for $DIR/go.
start_drive() {
	: >"$DIR/$1.out"
	# shellcheck disable=SC2016 # $$ is the inner shell's
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --go-file "$3" --timeout 30 active' \
		sh "$MNT/$CG/$1" "$DRIVE" "$DIR/go" >"$DIR/$1.out" 2>"$DIR/$1.err" &
}

started() {
	grep -q '^pid=' "$DIR/$1.out"
}

# run TCPTRAIL-OPTIONS...: one ttdrive in a and one in b under tcptrail.
run() {
	rm -f "$DIR/go"
	start_drive a
	DA=$!
	start_drive b
	DB=$!
	wait_until 10 started a || fail "ttdrive in cgroup a did not start: $(last_line "$DIR/a.err")"
	wait_until 10 started b || fail "ttdrive in cgroup b did not start: $(last_line "$DIR/b.err")"
	NA=$(sed -n 's/^netns=//p' "$DIR/a.out")
	NB=$(sed -n 's/^netns=//p' "$DIR/b.out")
	cg_trace "$@"
	for _p in $DA $DB; do
		wait_until 60 not_alive "$_p" || fail "ttdrive $_p still running after 60 s"
		wait "$_p" || fail "ttdrive $_p failed: $(last_line "$DIR/a.err") $(last_line "$DIR/b.err")"
	done
	DA= DB=
	trace_stop
	PA=$(pids a)
	PB=$(pids b)
}

# pids NAME: "client|server" pids of the ttdrive in cgroup NAME
pids() {
	echo "$(sed -n 's/^client_pid=//p' "$DIR/$1.out")|$(sed -n 's/^server_pid=//p' "$DIR/$1.out")"
}

# count_in NETNS PIDS PATTERN: finished flows of that namespace and those
# owners matching PATTERN.  Namespace inodes are reused: another test's
# namespace may have had NETNS's inode by the time tcptrail stopped.
count_in() {
	grep '^{"type":"flow",' "$OUT" | grep "\"netns\":$1," | grep -E "\"pid\":($2)," | grep -c "$3"
}

# --- host-wide: each flow names its own cgroup
run
for side in a b; do
	ns=$NA ps=$PA
	[ "$side" = b ] && ns=$NB ps=$PB
	all=$(count_in "$ns" "$ps" .)
	[ "$all" -ge 2 ] || fail "host-wide: $all flows in cgroup $side's namespace $ns, want >= 2 (client and server)"
	good=$(count_in "$ns" "$ps" "\"cgroup\":\"/$CG/$side\",")
	[ "$good" = "$all" ] || fail "host-wide: $good of $all flows in namespace $ns name cgroup /$CG/$side: $(grep "\"netns\":$ns," "$OUT" | grep -E "\"pid\":($ps)," | grep -v "/$CG/$side\"" | sed -n 1p)"
done
# the passive side too (a softirq child: its listener's cgroup, not the current task's)
[ "$(count_in "$NA" "$PA" '"role":"passive"')" -ge 1 ] ||
	fail "host-wide: no passive flow of cgroup a named /$CG/a"

# --- --cgroup on a itself: b's flows never reach userspace
run --cgroup "/$CG/a"
[ "$(count_in "$NA" "$PA" "\"cgroup\":\"/$CG/a\",")" -ge 2 ] || fail "--cgroup /$CG/a: a's flows are missing"
[ "$(count_in "$NB" "$PB" .)" = 0 ] || fail "--cgroup /$CG/a: b's flows are there: $(grep "\"netns\":$NB," "$OUT" | sed -n 1p)"
bad=$(grep '^{"type":"\(flow\|transition\)",' "$OUT" | grep -v "\"cgroup\":\"/$CG/a\"," | sed -n 1p)
[ -z "$bad" ] || fail "--cgroup /$CG/a: a record of another cgroup: $bad"

# --- --cgroup on the parent, as a path under the mount: both, and nothing else
run --cgroup "$MNT/$CG/"
[ "$(count_in "$NA" "$PA" "\"cgroup\":\"/$CG/a\",")" -ge 2 ] || fail "--cgroup $MNT/$CG: a's flows are missing"
[ "$(count_in "$NB" "$PB" "\"cgroup\":\"/$CG/b\",")" -ge 2 ] || fail "--cgroup $MNT/$CG: b's flows are missing"
bad=$(grep '^{"type":"flow",' "$OUT" | grep -v "\"cgroup\":\"/$CG/[ab]\"," | sed -n 1p)
[ -z "$bad" ] || fail "--cgroup $MNT/$CG: a flow of another cgroup: $bad"

# --- a CLOSE-WAIT leak made in cgroup a before tcptrail starts: the seed
# (sock_diag) names its cgroup too, and --cgroup keeps it (checked on the names)
rm -f "$DIR/resume"
: >"$DIR/a.out"
# shellcheck disable=SC2016 # $$ is the inner shell's
sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --resume-file "$3" --timeout 30 close-wait-seeded' \
	sh "$MNT/$CG/a" "$DRIVE" "$DIR/resume" >"$DIR/a.out" 2>"$DIR/a.err" &
DA=$!
paused() {
	grep -q '^paused=' "$DIR/a.out" || not_alive "$DA"
}
wait_until 30 paused
grep -q '^paused=close-wait$' "$DIR/a.out" || fail "ttdrive close-wait-seeded never paused: $(last_line "$DIR/a.err")"
NA=$(sed -n 's/^netns=//p' "$DIR/a.out")
leaked=$(sed -n 's/^leaked=//p' "$DIR/a.out")
: >"$DIR/trace.err"
# -N: so the seed reads ttdrive's namespace, wherever seeding reaches by default
"$TCPTRAIL" $TCPTRAIL_ARGS --json -i 1 --close-wait-age 0 --cgroup "/$CG" -N "$NA" >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
cw() {
	grep '^{"type":"close_wait",' "$OUT" | grep -q "\"netns\":$NA,\"cgroup\":\"/$CG/a\",.*\"count\":$leaked,\"seeded\":$leaked,"
}
wait_until 20 cw || fail "no close_wait report of $leaked seeded sockets in /$CG/a: $(grep '^{"type":"close_wait",' "$OUT" | sed -n '$p')"
# cgroup a goes away while its sockets live on (they hold the cgroup, not
# its directory): the flows still end named /PARENT/a
for p in $(cat "$MNT/$CG/a/cgroup.procs"); do
	echo "$p" >"$MNT/$CG/cgroup.procs" || fail "cannot move pid $p out of /$CG/a"
done
rmdir "$MNT/$CG/a" || fail "cannot remove /$CG/a with its processes moved out"
: >"$DIR/resume"
wait_until 30 not_alive "$DA" || fail "ttdrive close-wait-seeded still running after 30 s"
wait "$DA" || fail "ttdrive close-wait-seeded failed: $(last_line "$DIR/a.err")"
DA=
trace_stop
bad=$(grep '^{"type":"\(flow\|close_wait\)",' "$OUT" | grep -v "\"cgroup\":\"/$CG/a\"," | sed -n 1p)
[ -z "$bad" ] || fail "--cgroup /$CG with seeds: a record of another cgroup: $bad"
n=$(grep '^{"type":"flow",' "$OUT" | grep "\"netns\":$NA," | grep "\"cgroup\":\"/$CG/a\"," | grep '"seeded":true' | grep -c '"state":"LAST_ACK"')
[ "$n" = "$leaked" ] || fail "after /$CG/a was removed: $n seeded flows went on to LAST_ACK named /$CG/a, want $leaked"
pass
