#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --cgroup narrows the TIME-WAIT report to the namespaces its sockets live
# in.  A TIME-WAIT socket has no cgroup (the kernel's timewait socks keep
# none), so the report can only count namespaces: two cgroups of our own, a
# ttdrive tw-load in each with a namespace of its own, 30 entries in a's
# and 50 in b's; tcptrail --cgroup /PARENT/a must report a's 30, and no
# other namespace, in its population, by_netns and pressure.  Before, it
# counted every namespace on the host (80 and more here), while its
# top_containers, from the filtered entries, said otherwise.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

# shellcheck source=tests/kernel/cgroups.inc
. "${0%/*}/cgroups.inc"
cg_make a b

"$TCPTRAIL" $TCPTRAIL_ARGS --json --quiet-flows -i 1 --cgroup "/$CG/a" >"$OUT" 2>"$DIR/trace.err" &
TRACE_PID=$!
wait_until 20 trace_attached
grep -q '^tcptrail: tracing' "$DIR/trace.err" ||
	fail "tcptrail did not start: $(last_line "$DIR/trace.err")"

# start_load NAME N: ttdrive tw-load N in cgroup NAME, paused until NAME.resume
start_load() {
	# shellcheck disable=SC2016 # $$ is the inner shell's
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --resume-file "$3" --timeout 60 tw-load "$4"' \
		sh "$MNT/$CG/$1" "$DRIVE" "$DIR/$1.resume" "$2" >"$DIR/$1.out" 2>"$DIR/$1.err" &
}
paused() {
	grep -q '^paused=' "$DIR/$1.out"
}
start_load a 30
DA=$!
start_load b 50
DB=$!
wait_until 30 paused a || fail "ttdrive in cgroup a did not pause: $(last_line "$DIR/a.err")"
wait_until 30 paused b || fail "ttdrive in cgroup b did not pause: $(last_line "$DIR/b.err")"
NA=$(sed -n 's/^netns=//p' "$DIR/a.out")
NB=$(sed -n 's/^netns=//p' "$DIR/b.out")
[ "$(sed -n 's/^ss.time_wait=//p' "$DIR/a.out")" = 30 ] || fail "ss in a's namespace: not 30 TIME-WAIT"
[ "$(sed -n 's/^ss.time_wait=//p' "$DIR/b.out")" = 50 ] || fail "ss in b's namespace: not 50 TIME-WAIT"

# two summaries after both paused: the second's census has both namespaces
sleep 2.5
trace_stop
: >"$DIR/a.resume"
: >"$DIR/b.resume"
for _p in $DA $DB; do
	wait_until 20 not_alive "$_p" || fail "ttdrive $_p still running"
done
DA= DB=

tw=$(grep '^{"type":"time_wait",' "$OUT" | sed -n '$p')
[ -n "$tw" ] || fail "no time_wait record"
pop=$(echo "$tw" | jget population)
[ "$pop" = 30 ] || fail "--cgroup /$CG/a: TIME-WAIT population $pop, want a's 30: $tw"
echo "$tw" | grep -q "\"netns\":$NA," || fail "by_netns does not name a's namespace $NA: $tw"
echo "$tw" | grep -q "\"netns\":$NB," && fail "the record names b's namespace $NB: $tw"
n=$(echo "$tw" | grep -o '"netns":[0-9]*' | sort -u | wc -l)
[ "$n" = 1 ] || fail "$n namespaces named, want a's alone: $tw"
echo "tw-scope: population $pop of a's namespace $NA (b's $NB left out)"
pass
